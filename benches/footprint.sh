#!/usr/bin/env bash
# Footprint of an idle `hanbao run` on the sample configuration:
# resident memory (VmRSS now, VmHWM peak, from /proc/PID/status) and CPU over
# a window (utime + stime from /proc/PID/stat, in clock ticks), after a
# settling period. Targets: RSS < 30 MB, CPU < 0.1 %.
#
# Usage: benches/footprint.sh [SECONDS]   (default 60; binary built with
#        cargo build --release --bin hanbao)
# The daemon runs with a throwaway state directory (SQLite, .eml files) and
# is stopped with SIGTERM at the end. Linux only (reads /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
window=${1:-60}
bin=${HANBAO_BIN:-target/release/hanbao}
[ -x "$bin" ] || { echo "build first: cargo build --release --bin hanbao" >&2; exit 2; }
state=$(mktemp -d)
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$state"' EXIT
HANBAO_STATE_DIR="$state" HANBAO_LOG=warn "$bin" --config config/quang-ngai-4040.toml run 2>"$state/log" &
pid=$!
sleep 5   # start-up: open the database, catch up, first tick
kill -0 "$pid" || { cat "$state/log"; exit 1; }
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks); s0=$(date +%s.%N)
sleep "$window"
t1=$(ticks); s1=$(date +%s.%N)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
awk -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" -v hz="$hz" -v rss="$rss" -v hwm="$hwm" -v th="$threads" -v w="$window" 'BEGIN {
  cpu = (t1 - t0) / hz; wall = s1 - s0;
  printf "idle hanbao run on config/quang-ngai-4040.toml, %d s window after 5 s start-up\n", w;
  printf "  VmRSS %.1f MB, VmHWM (peak) %.1f MB, %d threads   (target RSS < 30 MB)\n", rss/1024, hwm/1024, th;
  printf "  CPU %.2f s over %.1f s wall = %.3f %%   (target < 0.1 %%; clock tick 1/%d s)\n", cpu, wall, 100*cpu/wall, hz;
}'
