#!/usr/bin/env bash
# The test command (README.md, "Try it"): installs what the tests need when
# it is missing on a Debian or Ubuntu machine, then runs `cargo test`.
#
# Needed: PostgreSQL's server binaries (the store and fault tests start a
# throwaway cluster), runuser (util-linux), Chromium and ChromeDriver (the
# dashboard's end-to-end tests), python3 (the fault suite locks SQLite from
# it) with the PyPI package icalendar (tests/ics_check.py). Packages come
# from apt (as root, or through sudo), icalendar from pip. Nothing is
# installed when everything is already there; arguments go to `cargo test`.
# Fails when the run created /etc/hanbao or /var/lib/hanbao.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else echo "tests/run.sh: cần quyền root để cài: $* (hoặc cài sẵn rồi chạy lại)" >&2; exit 1; fi
}

need_apt=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v runuser >/dev/null 2>&1 || need_apt+=(util-linux)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
[ -x /usr/sbin/dovecot ] || need_apt+=(dovecot-imapd)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! python3 -c 'import icalendar' >/dev/null 2>&1; then
  echo "tests/run.sh: installing the Python package icalendar"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    as_root apt-get update -qq
    as_root apt-get install -y -qq python3-pip >/dev/null
  fi
  python3 -m pip install --quiet --user icalendar 2>/dev/null \
    || python3 -m pip install --quiet icalendar 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages icalendar
fi

# The tests keep everything they write in temporary directories: the
# paths an installed hanbao owns must not appear because of a test run (on
# CI, as root, .ci/package then refuses the machine as not clean).
untouched=()
for p in /etc/hanbao /var/lib/hanbao; do
  [ -e "$p" ] || untouched+=("$p")
done
cargo test "$@"
for p in "${untouched[@]}"; do
  if [ -e "$p" ]; then
    echo "tests/run.sh: LỖI: các bài thử đã tạo $p; bài thử phải ghi vào thư mục tạm (daemon.state_dir)" >&2
    exit 1
  fi
done
