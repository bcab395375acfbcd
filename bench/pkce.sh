#!/usr/bin/env bash
# The PKCE package: its size after wasm-opt (raw and gzipped), and PKCE pairs per second against
# a WebCrypto implementation (crypto.getRandomValues + crypto.subtle.digest), both measured in the
# same headless Chromium page. Prints the figures; the README keeps the latest.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo xtask pkce-package | tail -n 1
cargo run --release -q -p e2e --bin bench -- pkce
echo "size breakdown of the largest items (twiggy, on the wasm-bindgen output before wasm-opt):"
if command -v twiggy >/dev/null; then
  tmp=$(mktemp -d)
  wasm-bindgen --target web --out-dir "$tmp" --out-name pkce target/wasm32-unknown-unknown/release/pkce_js.wasm
  twiggy top -n 12 "$tmp/pkce_bg.wasm" | cut -c1-120
  rm -rf "$tmp"
else
  echo "  (install twiggy with: cargo install twiggy --locked)"
fi
