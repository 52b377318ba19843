#!/usr/bin/env bash
# `hanbao simulate` of the national-scale configuration for a year: wall
# time, messages and peak memory (GNU time's maximum resident set).
#
# Usage: benches/simulate_national.sh [FROM] [TO]   (default 2026-01-01 2026-12-31)
# Needs: cargo build --release --bin hanbao --example gen_national; /usr/bin/time.
# By default only index.tsv is written (`--index-only`: every message is
# still rendered, no .eml bodies); HANBAO_SIM_EML=1 writes the .eml files too
# (a year is 15-20 GB). Everything goes into a throwaway directory.
set -euo pipefail
cd "$(dirname "$0")/.."
from=${1:-2026-01-01}
to=${2:-2026-12-31}
# shellcheck source=benches/national_common.sh
. benches/national_common.sh
mode=--index-only
[ "${HANBAO_SIM_EML:-0}" = 1 ] && mode=
HANBAO_LOG=warn /usr/bin/time -f '%e %M %U %S' -o "$work/time" \
  "$bin" --config "$work/national.toml" simulate --from "$from" --to "$to" --out "$work/out" $mode >"$work/summary"
read -r wall maxkb user sys <"$work/time"
messages=$(($(wc -l <"$work/out/index.tsv") - 1))
files=$(find "$work/out" -name '*.eml' | wc -l)
bytes=$(du -sk "$work/out" | cut -f1)
echo "simulate ${mode:-(with .eml files)} of the national-scale config ($units units, $obligations obligations), $from to $to"
echo "  $messages messages ($files .eml files, $((bytes / 1024)) MB), wall ${wall} s (user ${user} s, sys ${sys} s)"
awk -v m="$messages" -v w="$wall" -v kb="$maxkb" 'BEGIN { printf "  %.0f messages/s, peak memory (max RSS) %.1f MB\n", (w > 0 ? m / w : 0), kb / 1024 }'
echo "  per kind:"
grep '^  ' "$work/summary" | sed 's/^/  /'
