# Sourced by the national-scale bench scripts (status_national.sh,
# simulate_national.sh): checks the release binaries are built, makes a
# throwaway directory ($work, removed on exit) and writes the generated
# national configuration into it ($work/national.toml; $units and
# $obligations count what it holds).
bin=${HANBAO_BIN:-target/release/hanbao}
gen=${HANBAO_GEN:-target/release/examples/gen_national}
[ -x "$bin" ] && [ -x "$gen" ] || { echo "build first: cargo build --release --bin hanbao --example gen_national" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$gen" "$work/national.toml" 2>/dev/null
units=$(grep -c '^\[\[unit\]\]' "$work/national.toml")
obligations=$(grep -c '^\[\[obligation\]\]' "$work/national.toml")
