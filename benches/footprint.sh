#!/usr/bin/env bash
# Footprint of an idle `hanbao run`: resident memory (VmRSS now, VmHWM peak,
# from /proc/PID/status) and CPU over a window (utime + stime from
# /proc/PID/stat, in clock ticks), after a settling period.
#
# Usage: benches/footprint.sh [SECONDS]
#   The sample configuration (config/quang-ngai-4040.toml), 5 s start-up,
#   then the window (default 60). Targets: RSS < 30 MB, CPU < 0.1 %.
#   Build first: cargo build --release --bin hanbao
#
# Usage: benches/footprint.sh --national [SECONDS]
#   The national-scale configuration (examples/gen_national.rs: 4,000 units,
#   22 obligations) on a fresh SQLite database seeded with 1,000,000 history
#   rows (examples/seed_national.rs). Waits until the daemon says it runs
#   (its first planning round done: "hanbao đang chạy" in its log), reports
#   the memory then, idles for the window (default 120), and reports it
#   again with /proc/PID/smaps_rollup's anonymous and file-backed parts.
#   Sending hours are set to one hour twelve hours away, so the catch-up is
#   planned but never sent. Target: RSS < 100 MB.
#   Build first: cargo build --release --bin hanbao --example gen_national
#                --example seed_national
#
# The daemon runs with a throwaway state directory (SQLite, .eml files) and
# its HTTP interface on 127.0.0.1 (a free port), and is stopped with SIGTERM
# at the end. Linux only (reads /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
national=
if [ "${1:-}" = --national ]; then
  national=1
  shift
fi
window=${1:-$([ -n "$national" ] && echo 120 || echo 60)}
bin=${HANBAO_BIN:-target/release/hanbao}
gen=${HANBAO_GEN:-target/release/examples/gen_national}
seed=${HANBAO_SEED:-target/release/examples/seed_national}
[ -x "$bin" ] || { echo "build first: cargo build --release --bin hanbao" >&2; exit 2; }
if [ -n "$national" ]; then
  [ -x "$gen" ] && [ -x "$seed" ] || {
    echo "build first: cargo build --release --bin hanbao --example gen_national --example seed_national" >&2
    exit 2
  }
fi
state=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$state"' EXIT
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
kb() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$pid/status"; }
mem() {
  printf '  %s: VmRSS %.1f MB, VmHWM (peak) %.1f MB, %d threads\n' "$1" \
    "$(kb VmRSS | awk '{print $1/1024}')" "$(kb VmHWM | awk '{print $1/1024}')" "$(kb Threads)"
}

if [ -z "$national" ]; then
  config=config/quang-ngai-4040.toml
  settle=5
  HANBAO_STATE_DIR="$state" HANBAO_LOG=warn "$bin" --config "$config" run 2>"$state/log" &
  pid=$!
  sleep "$settle"   # start-up: open the database, catch up, first tick
  kill -0 "$pid" || { cat "$state/log"; exit 1; }
else
  config="$state/national.toml"
  vn_hour=$(TZ=Asia/Ho_Chi_Minh date +%-H)
  away=$(printf '%02d' $(( (vn_hour + 12) % 24 )))
  "$gen" "$state/generated.toml" 2>/dev/null
  {
    printf '[daemon]\nhttp_listen = "127.0.0.1:0"\nsending_hours = "%s:00-%s:59"\n\n' "$away" "$away"
    cat "$state/generated.toml"
  } >"$config"
  units=$(grep -c '^\[\[unit\]\]' "$config")
  obligations=$(grep -c '^\[\[obligation\]\]' "$config")
  mkdir -p "$state/state"
  t0=$(date +%s.%N)
  "$seed" "sqlite://$state/state/hanbao.db" 1000000 2>"$state/seed.log"
  t1=$(date +%s.%N)
  db_mb=$(du -m "$state/state/hanbao.db" | cut -f1)
  printf 'national configuration: %d units, %d obligations; sending hours %s:00-%s:59 (local), so nothing is sent\n' \
    "$units" "$obligations" "$away" "$away"
  printf 'seeded 1,000,000 history rows in %.1f s (database %d MB)\n' "$(echo "$t1 - $t0" | bc)" "$db_mb"
  started=$(date +%s.%N)
  HANBAO_STATE_DIR="$state/state" HANBAO_LOG=info "$bin" --config "$config" run 2>"$state/log" &
  pid=$!
  until grep -qs 'hanbao đang chạy' "$state/log"; do
    kill -0 "$pid" 2>/dev/null || { cat "$state/log"; exit 1; }
    sleep 1
  done
  ready=$(date +%s.%N)
  printf 'started and planned its first round in %.1f s; its log said:\n' "$(echo "$ready - $started" | bc)"
  grep -E 'thư đang chờ|không có thư' "$state/log" | sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^/    /' | tail -n 3
  mem "after start-up"
fi

t0=$(ticks); s0=$(date +%s.%N)
sleep "$window"
t1=$(ticks); s1=$(date +%s.%N)
cpu() {
  awk -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" -v hz="$hz" 'BEGIN {
    cpu = (t1 - t0) / hz; wall = s1 - s0;
    printf "  CPU %.2f s over %.1f s wall = %.3f %%   (clock tick 1/%d s)\n", cpu, wall, 100*cpu/wall, hz;
  }'
}
if [ -z "$national" ]; then
  rss=$(kb VmRSS); hwm=$(kb VmHWM); threads=$(kb Threads)
  awk -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" -v hz="$hz" -v rss="$rss" -v hwm="$hwm" -v th="$threads" -v w="$window" 'BEGIN {
    cpu = (t1 - t0) / hz; wall = s1 - s0;
    printf "idle hanbao run on config/quang-ngai-4040.toml, %d s window after 5 s start-up\n", w;
    printf "  VmRSS %.1f MB, VmHWM (peak) %.1f MB, %d threads   (target RSS < 30 MB)\n", rss/1024, hwm/1024, th;
    printf "  CPU %.2f s over %.1f s wall = %.3f %%   (target < 0.1 %%; clock tick 1/%d s)\n", cpu, wall, 100*cpu/wall, hz;
  }'
else
  mem "after a ${window} s idle window"
  awk '/^(Rss|Anonymous|Pss_Anon|Pss_File):/ {printf "    smaps_rollup %s %.1f MB\n", $1, $2/1024}' "/proc/$pid/smaps_rollup"
  cpu
  rss=$(kb VmRSS)
  awk -v rss="$rss" 'BEGIN { printf "  target: idle RSS < 100 MB: %s\n", (rss/1024 < 100) ? "met" : "MISSED" }'
fi
