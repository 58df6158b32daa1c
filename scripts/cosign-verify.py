#!/usr/bin/env python3
"""An independent check of Hallmark's cosign signatures, written from cosign's formats and
sharing no code with Hallmark: opens a cosign key file (scrypt + NaCl secretbox over PKCS#8),
fetches the image's `sha256-<hex>.sig` manifest from a plain-HTTP registry, and verifies every
simple-signing layer with the key's public half (ECDSA over SHA-256 of the exact payload
bytes, ASN.1 signature; RSA PKCS#1 v1.5 with SHA-256), checking that each payload names the
image digest.

usage: cosign-verify.py KEYFILE PASSWORD REGISTRY REPOSITORY DIGEST
Prints the number of layers verified; exits 1 on any failure.
"""
import base64
import hashlib
import json
import sys
import urllib.request

import nacl.secret
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE = "dev.cosignproject.cosign/signature"


def open_key_file(path, password):
    text = open(path).read()
    lines = text.splitlines()
    if lines[0] not in ("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----",
                        "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----"):
        raise SystemExit(f"unexpected PEM label: {lines[0]}")
    body = "".join(l for l in lines if l and not l.startswith("-----"))
    doc = json.loads(base64.b64decode(body))
    assert doc["kdf"]["name"] == "scrypt" and doc["cipher"]["name"] == "nacl/secretbox"
    p = doc["kdf"]["params"]
    key = hashlib.scrypt(password.encode(), salt=base64.b64decode(doc["kdf"]["salt"]),
                         n=p["N"], r=p["r"], p=p["p"], maxmem=256 * 1024 * 1024, dklen=32)
    der = nacl.secret.SecretBox(key).decrypt(base64.b64decode(doc["ciphertext"]),
                                             base64.b64decode(doc["cipher"]["nonce"]))
    return ser.load_der_private_key(der, password=None).public_key()


def get(url, accept=None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request) as response:
        return response.read()


def main():
    keyfile, password, registry, repository, digest = sys.argv[1:6]
    public = open_key_file(keyfile, password)
    algorithm, hex_digest = digest.split(":", 1)
    base = f"http://{registry}/v2/{repository}"
    manifest = json.loads(get(f"{base}/manifests/{algorithm}-{hex_digest}.sig",
                              "application/vnd.oci.image.manifest.v1+json"))
    verified = 0
    for layer in manifest["layers"]:
        if layer["mediaType"] != SIMPLE_SIGNING:
            raise SystemExit(f"layer media type {layer['mediaType']}")
        payload = get(f"{base}/blobs/{layer['digest']}")
        if "sha256:" + hashlib.sha256(payload).hexdigest() != layer["digest"]:
            raise SystemExit("layer digest mismatch")
        signature = base64.b64decode(layer["annotations"][SIGNATURE])
        if isinstance(public, ec.EllipticCurvePublicKey):
            size = public.curve.key_size
            hash_alg = hashes.SHA256() if size == 256 else hashes.SHA384() if size == 384 \
                else hashes.SHA512()
            public.verify(signature, payload, ec.ECDSA(hash_alg))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise SystemExit(f"unsupported key {type(public)}")
        claims = json.loads(payload)
        critical = claims["critical"]
        if critical["type"] != "cosign container image signature":
            raise SystemExit(f"payload type {critical['type']}")
        if critical["image"]["docker-manifest-digest"] != digest:
            raise SystemExit(f"payload names {critical['image']['docker-manifest-digest']}")
        verified += 1
    print(verified)


if __name__ == "__main__":
    main()
