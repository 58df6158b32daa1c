#!/usr/bin/env bash
# The whole test suite: installs the peers it needs, then format, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-peers.sh
export HALLMARK_PEERS="$PWD/.peers"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
test_log="$(mktemp)"
trap 'rm -f "$test_log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$test_log"

# Every parser of untrusted bytes, fuzzed briefly.
FUZZ_SECONDS="${FUZZ_SECONDS:-15}" scripts/fuzz.sh

# One closing line for the whole suite: cargo's last line is the (empty) doc-test run.
awk '/^test result:/ { p += $4; f += $6 } END { printf "summary: %d passed, %d failed\n", p, f }' \
  "$test_log"
