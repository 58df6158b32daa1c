#!/usr/bin/env bash
# The whole test suite: installs the peers it needs, then format, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-peers.sh
export HALLMARK_PEERS="$PWD/.peers"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
cargo test --workspace --locked

# Every parser of untrusted bytes, fuzzed briefly.
FUZZ_SECONDS="${FUZZ_SECONDS:-15}" scripts/fuzz.sh
