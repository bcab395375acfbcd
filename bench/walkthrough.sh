#!/usr/bin/env bash
# What the walkthrough costs a user, each figure beside its reference from the same run:
# bytes downloaded (wasm + js + css, raw and gzipped, after wasm-opt -Oz) with a breakdown of
# the largest items in the wasm; navigation to interactive; the whole flow; the companion's
# proxy overhead; refresh under contention. Release builds throughout. The README keeps the
# latest figures. Run from anywhere: bash bench/walkthrough.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
cargo xtask setup --browser >/dev/null
echo "== bytes the browser downloads (trunk build --release, wasm-opt -Oz)"
trunk build --offline --release >/dev/null 2>&1
total_raw=0; total_gz=0
for f in dist/*.wasm dist/app.js dist/*.css; do
  raw=$(wc -c <"$f"); gz=$(gzip -9 -c "$f" | wc -c)
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
  printf "  %-28s %9d B raw %9d B gzipped\n" "$(basename "$f")" "$raw" "$gz"
done
printf "  %-28s %9d B raw %9d B gzipped (target <= 150 KB gzipped: %s)\n" "total" "$total_raw" "$total_gz" \
  "$([ "$total_gz" -le 153600 ] && echo met || echo 'NOT met')"
echo "  largest items in the wasm (twiggy, on the shipped file; names survive only in the debug build):"
if ! command -v twiggy >/dev/null; then cargo install twiggy --locked >/dev/null 2>&1 || true; fi
if command -v twiggy >/dev/null; then
  cargo build -q --release --target wasm32-unknown-unknown -p app --config 'profile.release.debug=true' --config 'profile.release.strip=false'
  twiggy top -n 15 target/wasm32-unknown-unknown/release/app.wasm | cut -c1-140
fi
echo
echo "== navigation to interactive"
cargo run --release -q -p e2e --bin bench -- interactive
echo
echo "== the whole flow"
cargo run --release -q -p e2e --bin bench -- flow
echo
echo "== companion overhead"
cargo run --release -q -p e2e --bin bench -- proxy
echo
echo "== refresh under contention"
cargo run --release -q -p e2e --bin bench -- refresh
echo
echo "== PKCE package"
bash bench/pkce.sh
