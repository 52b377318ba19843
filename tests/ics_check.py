#!/usr/bin/env python3
"""Parses hanbao's .ics feeds with a parser that is not ours: `icalendar`
from PyPI (python3 -m pip install icalendar), for tests/it/ics.rs.

Usage: ics_check.py FILE...

For each file, checks what RFC 5545 and calendar clients need:
- one VCALENDAR with VERSION:2.0 and a PRODID;
- every VEVENT has a UID (unique in the file), a DTSTAMP, DTSTART as a DATE
  (all-day, not a date-time) and DTEND as a DATE exactly one day later
  (exclusive end);
- every VALARM has an ACTION and a relative TRIGGER in whole minutes, at
  most one day after the start (an alarm on the due day itself, at the
  start of the sending hours, is a few hours after 00:00).
Exits 1 with the reason on the first violation. Otherwise prints one JSON
line per file: counts, and per event its UID, DTSTART, SUMMARY and the
alarm triggers in minutes before the start (negative: after), for the Rust
test to compare.
"""

import datetime
import json
import sys

try:
    import icalendar
except ImportError:
    sys.stderr.write(
        "ics_check.py: the Python package 'icalendar' is missing; "
        "install it with: python3 -m pip install icalendar\n"
    )
    sys.exit(3)


def fail(path, why):
    sys.stderr.write(f"{path}: {why}\n")
    sys.exit(1)


def check(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as e:  # any parse error is a failure of the feed
        fail(path, f"icalendar cannot parse it: {e!r}")
    if cal.name != "VCALENDAR":
        fail(path, f"top component is {cal.name}")
    if str(cal.get("VERSION")) != "2.0":
        fail(path, f"VERSION is {cal.get('VERSION')!r}")
    prodid = str(cal.get("PRODID") or "")
    if not prodid:
        fail(path, "no PRODID")
    events = []
    uids = set()
    alarms = 0
    for ev in cal.walk("VEVENT"):
        uid = str(ev.get("UID") or "")
        if not uid:
            fail(path, "a VEVENT without UID")
        if uid in uids:
            fail(path, f"duplicate UID {uid}")
        uids.add(uid)
        if ev.get("DTSTAMP") is None:
            fail(path, f"{uid}: no DTSTAMP")
        start = ev.decoded("DTSTART")
        end = ev.decoded("DTEND")
        # datetime is a subclass of date: an all-day event is a plain date.
        if isinstance(start, datetime.datetime) or not isinstance(start, datetime.date):
            fail(path, f"{uid}: DTSTART is not a DATE: {start!r}")
        if isinstance(end, datetime.datetime) or not isinstance(end, datetime.date):
            fail(path, f"{uid}: DTEND is not a DATE: {end!r}")
        if end - start != datetime.timedelta(days=1):
            fail(path, f"{uid}: DTEND {end} is not DTSTART {start} + 1 day")
        triggers = []
        for al in ev.walk("VALARM"):
            alarms += 1
            if not str(al.get("ACTION") or ""):
                fail(path, f"{uid}: VALARM without ACTION")
            trig = al.decoded("TRIGGER")
            if not isinstance(trig, datetime.timedelta):
                fail(path, f"{uid}: TRIGGER is not relative: {trig!r}")
            if trig > datetime.timedelta(days=1) or trig % datetime.timedelta(minutes=1):
                fail(path, f"{uid}: TRIGGER {trig} is not whole minutes within the due day")
            triggers.append(-int(trig.total_seconds() // 60))
        events.append(
            {
                "uid": uid,
                "start": start.isoformat(),
                "summary": str(ev.get("SUMMARY") or ""),
                "description": str(ev.get("DESCRIPTION") or ""),
                "triggers": sorted(triggers),
            }
        )
    print(
        json.dumps(
            {
                "file": path,
                "version": str(cal.get("VERSION")),
                "prodid": prodid,
                "events": len(events),
                "alarms": alarms,
                "unique_uids": len(uids),
                "detail": events,
            },
            ensure_ascii=False,
        )
    )


def main():
    if len(sys.argv) < 2:
        fail("ics_check.py", "usage: ics_check.py FILE...")
    for path in sys.argv[1:]:
        check(path)


main()
