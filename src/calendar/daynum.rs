//! Day numbers: civil dates as Julian Day Numbers (`i32`), so that the
//! calendar can index its tables and do day arithmetic without going
//! through `jiff` spans on hot paths.
//!
//! Proleptic Gregorian throughout. Pure arithmetic: no IO, no clock.

use jiff::civil::Date;

/// Julian Day Number of 1970-01-01.
const UNIX_EPOCH_JDN: i32 = 2_440_588;

/// The Julian Day Number of a civil date (JDN 2451545 = 2000-01-01).
pub fn jdn(d: Date) -> i32 {
    jdn_ymd(
        i32::from(d.year()),
        i32::from(d.month()),
        i32::from(d.day()),
    )
}

/// The Julian Day Number of year/month/day (no validation: day 0 or 32
/// simply counts on from the month's start).
pub fn jdn_ymd(y: i32, m: i32, day: i32) -> i32 {
    // Count from 1 March of year 0 so that the leap day ends the year.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468 + UNIX_EPOCH_JDN
}

/// The civil date of a Julian Day Number, or `None` outside jiff's range.
pub fn date_of(jdn: i32) -> Option<Date> {
    // jiff covers years -9999..=9999 (JDN about -1.93e6 to 5.37e6); outside a
    // safe margin there is no date, and the arithmetic below cannot overflow.
    if !(-3_000_000..=7_000_000).contains(&jdn) {
        return None;
    }
    let z = jdn - UNIX_EPOCH_JDN + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    let y = i16::try_from(y).ok()?;
    Date::new(y, m as i8, d as i8).ok()
}

/// Day of the week: 0 = Sunday … 6 = Saturday.
pub fn weekday0(jdn: i32) -> u8 {
    (jdn + 1).rem_euclid(7) as u8
}

/// Whether the day is a Saturday or a Sunday.
pub fn is_weekend(jdn: i32) -> bool {
    matches!(weekday0(jdn), 0 | 6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{Weekday, date};

    #[test]
    fn known_day_numbers() {
        // JDN 2451545 is 1 January 2000 (Meeus ch. 7); 2440588 is 1 January 1970.
        assert_eq!(jdn(date(2000, 1, 1)), 2_451_545);
        assert_eq!(jdn(date(1970, 1, 1)), 2_440_588);
        assert_eq!(jdn(date(1900, 3, 1)) - jdn(date(1900, 2, 28)), 1); // 1900 not leap
        assert_eq!(jdn(date(2000, 3, 1)) - jdn(date(2000, 2, 28)), 2); // 2000 leap
    }

    #[test]
    fn extremes_do_not_overflow() {
        assert_eq!(date_of(i32::MIN), None);
        assert_eq!(date_of(i32::MAX), None);
        assert_eq!(date_of(jdn(Date::MAX)), Some(Date::MAX));
        assert_eq!(date_of(jdn(Date::MIN)), Some(Date::MIN));
    }

    #[test]
    fn round_trip_and_weekday_agree_with_jiff() {
        let mut d = date(1899, 12, 1);
        let end = date(2101, 2, 1);
        while d <= end {
            let n = jdn(d);
            assert_eq!(date_of(n), Some(d));
            let w = match d.weekday() {
                Weekday::Sunday => 0,
                other => other.to_monday_one_offset() as u8,
            };
            assert_eq!(weekday0(n), w, "{d}");
            d = d.tomorrow().unwrap();
        }
    }
}
