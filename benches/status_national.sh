#!/usr/bin/env bash
# `hanbao status` on the national-scale configuration (4,000 units, 22
# obligations including a daily and a weekly report for every unit): wall
# time and peak memory (GNU time) of the command as an administrator runs it,
# on a fresh SQLite database holding one submission (so every other row is
# unsettled, the worst case for the 366-day look-back).
#
# Usage: benches/status_national.sh [AT]   (default 2026-12-04)
# Needs: cargo build --release --bin hanbao --example gen_national; /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
at=${1:-2026-12-04}
# shellcheck source=benches/national_common.sh
. benches/national_common.sh
export HANBAO_LOG=warn
db="$work/hanbao.db"
"$bin" --config "$work/national.toml" --database "$db" submit bc-ngay 2026-12-01 so-t00-000 --on 2026-12-01 --by bench >/dev/null
echo "hanbao status of the national-scale config ($units units, $obligations obligations) at $at, SQLite, 1 submission"
run() {
  local label=$1
  shift
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin" --config "$work/national.toml" --database "$db" status --at "$at" "$@" >"$work/out"
  read -r wall maxkb <"$work/time"
  printf '  %-44s wall %6.2f s, peak memory %6.1f MB, output %6d lines\n' "$label" "$wall" "$(echo "$maxkb / 1024" | bc -l)" "$(wc -l <"$work/out")"
}
run "summary (all obligations, 366-day look-back)"
run "--json (every row)" --json
run "--obligation bc-ngay (daily only)" --obligation bc-ngay
run "--obligation bc-ngay --period ${at}" --obligation bc-ngay --period "$at"
run "--obligation bc-tuan (weekly only)" --obligation bc-tuan
run "--obligation bc-00 --period 2026-12" --obligation bc-00 --period 2026-12
