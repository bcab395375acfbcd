#!/usr/bin/env bash
# What the walkthrough costs a user, each figure beside its reference from the same run:
# bytes downloaded (wasm + js + css, raw and gzipped, after wasm-opt -Oz) with a breakdown of
# the largest items in the wasm; navigation to interactive; the whole flow; the companion's
# proxy overhead; refresh under contention; the Redis session store against the in-memory one;
# one refresh across three replicas. Release builds throughout. The README keeps the
# latest figures. Run from anywhere: bash bench/walkthrough.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
cargo xtask setup --browser >/dev/null
echo "== bytes the browser downloads (cargo xtask build-app: cargo release for wasm32, wasm-opt -Oz, std rebuilt with immediate-abort panics)"
cargo xtask build-app >/dev/null
total_raw=0; total_gz=0; total_br=0; total_gz9=0
for f in dist/app_bg-*.wasm dist/app-*.js dist/walkthrough-*.css; do
  # What the companion sends: the precompressed copies `cargo xtask build-app` wrote (gzip by
  # Zopfli); beside them, gzip -9 of the same file, the reference.
  raw=$(wc -c <"$f"); gz=$(wc -c <"$f.gz"); br=$(wc -c <"$f.br"); gz9=$(gzip -9 -c "$f" | wc -c)
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz)); total_br=$((total_br + br)); total_gz9=$((total_gz9 + gz9))
  printf "  %-28s %9d B raw %9d B gzip (Zopfli) %9d B brotli %9d B gzip -9\n" "$(basename "$f")" "$raw" "$gz" "$br" "$gz9"
done
printf "  %-28s %9d B raw %9d B gzip (Zopfli) %9d B brotli %9d B gzip -9\n" "total" "$total_raw" "$total_gz" "$total_br" "$total_gz9"
printf "  budget <= 150 KB (153,600 B) as downloaded with brotli: %s; gzip ceiling 172,032 B: %s\n" \
  "$([ "$total_br" -le 153600 ] && echo met || echo 'NOT met')" \
  "$([ "$total_gz" -le 172032 ] && echo met || echo 'NOT met')"
echo "  where the wasm's bytes come from (twiggy on a build with symbol names, before wasm-opt):"
if ! command -v twiggy >/dev/null; then cargo install twiggy --locked >/dev/null 2>&1 || true; fi
if command -v twiggy >/dev/null; then
  # The settings of `cargo xtask build-app` (crates/xtask/src/wasm_release.rs), plus symbol names.
  RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS='-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none' \
    cargo build -q --release --target wasm32-unknown-unknown -p app --config 'profile.release.debug=true'
  tmp=$(mktemp -d)
  wasm-bindgen --target web --out-dir "$tmp" target/wasm32-unknown-unknown/release/app.wasm
  twiggy top -f csv "$tmp/app_bg.wasm" >"$tmp/top.csv"
  echo "  by crate:"
  python3 bench/wasm_by_crate.py "$tmp/top.csv" 12
  echo "  largest single items:"
  { twiggy top -n 60 "$tmp/app_bg.wasm" | grep -v "custom section\|function names" | head -14 | cut -c1-140; } || true
  rm -rf "$tmp"
fi
for figure in interactive flow proxy refresh session-store; do
  echo
  echo "== $figure"
  cargo run --release -q -p e2e --bin bench -- "$figure"
done
echo
echo "== replicas-refresh (three release builds of the production companion on one Redis)"
cargo build --release -q -p companion --no-default-features --bin companion
COMPANION_BIN="$PWD/target/release/companion" cargo run --release -q -p e2e --bin bench -- replicas-refresh
echo
echo "== PKCE package"
bash bench/pkce.sh
