#!/usr/bin/env python3
"""Independent integrity check of a Notary Project signature envelope.

Written from the Notary Project specification only (signature-envelope-jws.md,
signature-envelope-cose.md, signature-specification.md), with no Hallmark code, so that
Hallmark's signer is checked by a second implementation. Uses only `cryptography` and `cbor2`.

    notary-verify.py ENVELOPE_FILE jws|cose

Checks: the envelope structure (flattened JWS with exactly payload/protected/header/signature,
or COSE_Sign1_Tagged), `crit` (lists the signing scheme, expiry and authentic signing time when
present; every entry present; no critical header this script does not understand), the content
type, the signing scheme's time attribute, `alg` equal to the algorithm the leaf key requires,
and the signature with the leaf certificate from x5c / x5chain (RSASSA-PSS with salt = hash
length, or ECDSA with raw r||s). On success prints the payload's targetArtifact as JSON and
exits 0; on any failure prints the reason to stderr and exits 1 (2 for usage errors).
"""

import base64
import datetime
import json
import sys

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

PAYLOAD_CTY = "application/vnd.cncf.notary.payload.v1+json"
SCHEME = "io.cncf.notary.signingScheme"
SIGNING_TIME = "io.cncf.notary.signingTime"
AUTHENTIC_TIME = "io.cncf.notary.authenticSigningTime"
EXPIRY = "io.cncf.notary.expiry"
PLUGIN = "io.cncf.notary.verificationPlugin"
PLUGIN_MIN = "io.cncf.notary.verificationPluginMinVersion"
UNDERSTOOD = {SCHEME, SIGNING_TIME, AUTHENTIC_TIME, EXPIRY, PLUGIN, PLUGIN_MIN}

# alg name -> (hash, is RSA, COSE id)
ALGORITHMS = {
    "PS256": (hashes.SHA256, True, -37),
    "PS384": (hashes.SHA384, True, -38),
    "PS512": (hashes.SHA512, True, -39),
    "ES256": (hashes.SHA256, False, -7),
    "ES384": (hashes.SHA384, False, -35),
    "ES512": (hashes.SHA512, False, -36),
}
COSE_IDS = {v[2]: k for k, v in ALGORITHMS.items()}


class Invalid(Exception):
    pass


def b64url(text):
    if not isinstance(text, str) or "=" in text:
        raise Invalid("base64url member must be an unpadded string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as e:
        raise Invalid(f"invalid base64url: {e}")


def key_algorithm(cert):
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return {2048: "PS256", 3072: "PS384", 4096: "PS512"}.get(key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}.get(
            key.curve.name
        )
    return None


def verify_signature(cert, alg, message, signature):
    expected = key_algorithm(cert)
    if expected is None:
        raise Invalid("leaf key type or size is not allowed")
    if alg != expected:
        raise Invalid(f"alg {alg} does not match the leaf key, which requires {expected}")
    hash_cls, is_rsa, _ = ALGORITHMS[alg]
    key = cert.public_key()
    try:
        if is_rsa:
            pss = padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size)
            key.verify(signature, message, pss, hash_cls())
        else:
            half = len(signature) // 2
            if len(signature) % 2 or half == 0:
                raise Invalid("ECDSA signature is not r||s")
            r = int.from_bytes(signature[:half], "big")
            s = int.from_bytes(signature[half:], "big")
            key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hash_cls()))
    except InvalidSignature:
        raise Invalid("signature does not verify with the leaf certificate")


def check_crit(headers, crit):
    """headers: names of present protected headers (text); crit: list of names."""
    if not isinstance(crit, list) or not crit:
        raise Invalid("crit is missing or empty")
    for name in crit:
        if name not in headers:
            raise Invalid(f"crit lists absent header {name!r}")
    for name in (SCHEME, EXPIRY, AUTHENTIC_TIME):
        if name in headers and name not in crit:
            raise Invalid(f"{name} must be listed in crit")
    for name in crit:
        if name not in UNDERSTOOD:
            raise Invalid(f"critical header {name!r} is not understood")


def check_scheme(scheme, has_signing_time, has_authentic_time):
    if scheme == "notary.x509":
        if not has_signing_time or has_authentic_time:
            raise Invalid("notary.x509 requires signingTime and forbids authenticSigningTime")
    elif scheme == "notary.x509.signingAuthority":
        if not has_authentic_time or has_signing_time:
            raise Invalid("signingAuthority requires authenticSigningTime, forbids signingTime")
    else:
        raise Invalid(f"unknown signing scheme {scheme!r}")


def parse_rfc3339(text):
    if not isinstance(text, str):
        raise Invalid("time header must be a string")
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"time {text!r} is not RFC 3339")


def verify_jws(data):
    try:
        envelope = json.loads(data)
    except ValueError as e:
        raise Invalid(f"not JSON: {e}")
    if not isinstance(envelope, dict) or set(envelope) != {
        "payload",
        "protected",
        "header",
        "signature",
    }:
        raise Invalid("not a flattened JWS with exactly payload/protected/header/signature")
    protected = json.loads(b64url(envelope["protected"]))
    payload = b64url(envelope["payload"])
    signature = b64url(envelope["signature"])

    check_crit(set(protected), protected.get("crit"))
    if protected.get("cty") != PAYLOAD_CTY:
        raise Invalid("cty is not the Notary Project payload type")
    check_scheme(protected.get(SCHEME), SIGNING_TIME in protected, AUTHENTIC_TIME in protected)
    signed_at = parse_rfc3339(protected.get(SIGNING_TIME) or protected.get(AUTHENTIC_TIME))
    if EXPIRY in protected and parse_rfc3339(protected[EXPIRY]) <= signed_at:
        raise Invalid("expiry is not after the signing time")

    x5c = envelope["header"].get("x5c") if isinstance(envelope["header"], dict) else None
    if not x5c:
        raise Invalid("x5c is missing")
    leaf = x509.load_der_x509_certificate(base64.b64decode(x5c[0], validate=True))
    alg = protected.get("alg")
    if alg not in ALGORITHMS:
        raise Invalid(f"unsupported alg {alg!r}")
    message = (envelope["protected"] + "." + envelope["payload"]).encode("ascii")
    verify_signature(leaf, alg, message, signature)
    return payload


def verify_cose(data):
    try:
        message = cbor2.loads(data)
    except Exception as e:  # cbor2 raises several types on bad input
        raise Invalid(f"not CBOR: {e}")
    if not isinstance(message, cbor2.CBORTag) or message.tag != 18:
        raise Invalid("not COSE_Sign1_Tagged (tag 18)")
    if not isinstance(message.value, (list, tuple)) or len(message.value) != 4:
        raise Invalid("COSE_Sign1 is not a 4-element array")
    protected_bytes, unprotected, payload, signature = message.value
    protected = cbor2.loads(protected_bytes)
    if not hasattr(protected, "get") or not isinstance(payload, bytes):
        raise Invalid("malformed COSE_Sign1")

    crit = protected.get(2)
    text_headers = {k for k in protected if isinstance(k, str)}
    check_crit(text_headers, crit)
    if protected.get(3) != PAYLOAD_CTY:
        raise Invalid("content type is not the Notary Project payload type")
    for name in (SIGNING_TIME, AUTHENTIC_TIME, EXPIRY):
        # cbor2 turns tag 1 into a datetime; an untagged integer stays an int.
        if name in protected and not isinstance(protected[name], datetime.datetime):
            raise Invalid(f"{name} is not a tag-1 time")
    check_scheme(protected.get(SCHEME), SIGNING_TIME in protected, AUTHENTIC_TIME in protected)
    signed_at = protected.get(SIGNING_TIME) or protected.get(AUTHENTIC_TIME)
    if EXPIRY in protected and protected[EXPIRY] <= signed_at:
        raise Invalid("expiry is not after the signing time")

    if not hasattr(unprotected, "get"):  # a dict, or cbor2's frozendict inside a tag
        raise Invalid("unprotected header is not a map")
    chain = protected.get(33, unprotected.get(33))
    if isinstance(chain, bytes):
        chain = [chain]
    if not chain:
        raise Invalid("x5chain is missing")
    if not isinstance(chain, (list, tuple)) or not isinstance(chain[0], bytes):
        raise Invalid("x5chain is not a list of DER certificates")
    leaf = x509.load_der_x509_certificate(chain[0])
    alg = COSE_IDS.get(protected.get(1))
    if alg is None:
        raise Invalid(f"unsupported alg {protected.get(1)!r}")
    to_be_signed = cbor2.dumps(["Signature1", protected_bytes, b"", payload])
    verify_signature(leaf, alg, to_be_signed, signature)
    return payload


def main(argv):
    if len(argv) != 3 or argv[2] not in ("jws", "cose"):
        print("usage: notary-verify.py ENVELOPE_FILE jws|cose", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        data = f.read()
    try:
        payload = verify_jws(data) if argv[2] == "jws" else verify_cose(data)
        target = json.loads(payload)["targetArtifact"]
        for field in ("mediaType", "digest", "size"):
            if field not in target:
                raise Invalid(f"targetArtifact lacks {field}")
    except (Invalid, ValueError, KeyError, TypeError) as e:
        print(f"invalid: {e}", file=sys.stderr)
        return 1
    print(json.dumps(target, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
