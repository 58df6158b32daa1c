#!/usr/bin/env bash
# Installs the third-party programs the tests and benchmarks run against, if missing:
#   Debian: skopeo, docker-registry (distribution 2.8.2), wrk, nginx-light (sendfile server),
#           apache2-utils (htpasswd, for registries with basic auth), openssl (test CAs),
#           notary (Notary v1's notary client and notary-server, for the v1 bridge)
#   PyPI:   oras (Python client), cryptography, cbor2 and pynacl (independent checks of our
#           envelopes and cosign key files) in a local venv at .peers/venv
#   Cargo:  .peers/bin/sigstore-peer, built from interop/sigstore-peer (the sigstore crate as an
#           independent cosign signer and verifier; its own workspace and Cargo.lock)
# Idempotent; safe to run on every test run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in skopeo docker-registry wrk nginx-light apache2-utils openssl notary; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
  # The packages start system services; the tests start their own instances on loopback.
  for svc in docker-registry nginx notary-server; do
    $SUDO systemctl stop "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

if [ ! -x .peers/venv/bin/peers-v3-check ] ; then
  python3 -m venv .peers/venv
  .peers/venv/bin/pip install -q --disable-pip-version-check oras==0.2.43 cryptography cbor2 pynacl
  # Marker that the venv is complete.
  printf '#!/bin/sh\nexit 0\n' > .peers/venv/bin/peers-v3-check && chmod +x .peers/venv/bin/peers-v3-check
fi

# Rebuilt only when a source, the manifest or the lock file is newer than the binary.
peer_src=interop/sigstore-peer
peer_bin=.peers/bin/sigstore-peer
if [ ! -x "$peer_bin" ] || [ -n "$(find "$peer_src/Cargo.toml" "$peer_src/Cargo.lock" "$peer_src/src" \
    -newer "$peer_bin" -print -quit)" ]; then
  echo "building sigstore-peer (release)" >&2
  cargo build --release --locked --quiet --manifest-path "$peer_src/Cargo.toml" \
    --target-dir .peers/sigstore-peer-target
  mkdir -p .peers/bin
  # A copy, not a symlink: its mtime is the build's, which the check above relies on.
  cp -f .peers/sigstore-peer-target/release/sigstore-peer "$peer_bin.tmp"
  mv -f "$peer_bin.tmp" "$peer_bin"
fi
