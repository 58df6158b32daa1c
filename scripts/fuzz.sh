#!/usr/bin/env bash
# Runs every fuzz target briefly (default 20 s each; FUZZ_SECONDS overrides). Needs the nightly
# toolchain, which the machine image carries, and cargo-fuzz, installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SECONDS:-20}"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: the nightly toolchain is missing; install it with 'rustup toolchain install nightly'" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in $(cargo +nightly fuzz list); do
  echo "fuzz: $target for ${seconds}s" >&2
  if ! cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
      >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $target failed; the input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E "^Done" "$log" >&2 || true
done
