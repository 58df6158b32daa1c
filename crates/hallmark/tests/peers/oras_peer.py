"""Drives the oras-py SDK (PyPI `oras`) against a running `hallmark serve`.

Called by crates/hallmark/tests/peers.rs with the venv's Python, in one of two modes:

`oras_peer.py push HOST WORKDIR`, with WORKDIR holding the files the test wants pushed
(payload.bin, notes.txt):
1. pushes them as an artifact, `HOST/peers/artifact:v1`, with chunked blob uploads and
   manifest annotations;
2. pulls the artifact back into WORKDIR/pulled;
3. pushes referrer A with the SDK's `push(subject=...)`, tagged `sbom` (oras-py cannot set
   `artifactType`, so its config media type is what the referrers API reports);
4. pushes referrer B with the SDK's lower-level `upload_blob` and `upload_manifest`, by
   digest, with an explicit `artifactType` and `subject`;
5. lists the tags.

`oras_peer.py untag HOST TAG`: deletes the manifest TAG points at with the SDK's `delete_tag`
(HEAD for the digest, then DELETE by digest), and lists the tags left.

Each mode prints one JSON object on stdout describing what it did; the Rust test checks it
against the registry. Any failure raises, which exits non-zero with a traceback on stderr.
"""

import hashlib
import json
import os
import sys
from dataclasses import asdict

import oras.defaults
import oras.oci
import oras.provider

REPO = "peers/artifact"
SBOM_CONFIG_TYPE = "application/vnd.hallmark.test.sbom.config.v1+json"
SIGNATURE_TYPE = "application/vnd.hallmark.test.signature.v1"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def manifest_bytes(client, target):
    """The stored manifest of `target` as bytes, with the digest the registry reports."""
    container = client.get_container(target)
    url = f"{client.prefix}://{container.manifest_url()}"
    accept = ", ".join(oras.defaults.default_manifest_accepted_media_types)
    resp = client.do_request(url, "GET", headers={"Accept": accept})
    check(resp.status_code == 200, f"GET {url}: {resp.status_code} {resp.text}")
    digest = resp.headers.get("Docker-Content-Digest")
    computed = "sha256:" + hashlib.sha256(resp.content).hexdigest()
    check(digest == computed, f"Docker-Content-Digest {digest} but the body hashes to {computed}")
    return resp.content, digest, resp.headers.get("Content-Type")


def push_artifact(client, host):
    target = f"{host}/{REPO}:v1"
    resp = client.push(
        target=target,
        files=["payload.bin:application/vnd.hallmark.test.payload", "notes.txt"],
        manifest_annotations={"org.opencontainers.image.description": "peer test artifact"},
        # Small chunks: several PATCH requests per blob, the path oras-py takes for big files.
        do_chunked=True,
        chunk_size=64 * 1024,
        quiet=True,
    )
    check(resp.status_code == 201, f"push {target}: {resp.status_code} {resp.text}")
    body, digest, media_type = manifest_bytes(client, target)
    check(resp.headers.get("Docker-Content-Digest") == digest, "push and pull digests differ")
    return {"digest": digest, "size": len(body), "mediaType": media_type}


def push_sbom_referrer(client, host, subject):
    with open("sbom.json", "w") as f:
        json.dump({"spdxVersion": "SPDX-2.3", "name": "peer test"}, f)
    with open("sbom-config.json", "w") as f:
        json.dump({"generator": "oras-py"}, f)
    target = f"{host}/{REPO}:sbom"
    resp = client.push(
        target=target,
        files=["sbom.json:application/spdx+json"],
        manifest_config=f"sbom-config.json:{SBOM_CONFIG_TYPE}",
        manifest_annotations={"org.example.kind": "sbom"},
        subject=subject,
        quiet=True,
    )
    check(resp.status_code == 201, f"push {target}: {resp.status_code} {resp.text}")
    check(
        resp.headers.get("OCI-Subject") == subject.digest,
        f"OCI-Subject header is {resp.headers.get('OCI-Subject')!r}",
    )
    _, digest, _ = manifest_bytes(client, target)
    return {"digest": digest, "artifactType": SBOM_CONFIG_TYPE}


def push_signature_referrer(client, host, subject):
    with open("signature.bin", "wb") as f:
        f.write(b"not really a signature\n")
    with open("empty.json", "w") as f:
        f.write("{}")
    container = client.get_container(f"{host}/{REPO}")

    layer = oras.oci.NewLayer("signature.bin", media_type="application/vnd.hallmark.test.sig")
    config = oras.oci.NewLayer("empty.json", media_type=EMPTY_CONFIG_TYPE)
    for path, descriptor in (("signature.bin", layer), ("empty.json", config)):
        resp = client.upload_blob(path, container, descriptor)
        check(resp.status_code in (200, 201), f"upload {path}: {resp.status_code} {resp.text}")

    manifest = oras.oci.NewManifest()
    manifest["artifactType"] = SIGNATURE_TYPE
    manifest["config"] = config
    manifest["layers"] = [layer]
    manifest["subject"] = asdict(subject)
    manifest["annotations"] = {"org.example.kind": "signature"}
    # upload_manifest sends `requests`' json= encoding, which is json.dumps with defaults; the
    # digest of those bytes names the manifest, as a referrer is pushed without a tag.
    body = json.dumps(manifest, allow_nan=False).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    by_digest = client.get_container(f"{host}/{REPO}@{digest}")
    resp = client.upload_manifest(manifest, by_digest)
    check(resp.status_code == 201, f"push {by_digest}: {resp.status_code} {resp.text}")
    check(resp.headers.get("Docker-Content-Digest") == digest, "registry digest differs")
    return {"digest": digest, "size": len(body), "artifactType": SIGNATURE_TYPE}


def push(client, host, workdir):
    os.chdir(workdir)
    artifact = push_artifact(client, host)
    pulled = client.pull(target=f"{host}/{REPO}:v1", outdir=os.path.join(workdir, "pulled"))

    subject = oras.oci.Subject(artifact["mediaType"], artifact["digest"], artifact["size"])
    sbom = push_sbom_referrer(client, host, subject)
    signature = push_signature_referrer(client, host, subject)
    return {
        "artifact": artifact,
        "pulled": sorted(os.path.relpath(p, workdir) for p in pulled),
        "referrers": [sbom, signature],
        "tags": client.get_tags(f"{host}/{REPO}"),
    }


def untag(client, host, tag):
    deleted = client.delete_tag(f"{host}/{REPO}", tag)
    return {"deleted": deleted, "tags": client.get_tags(f"{host}/{REPO}")}


def main():
    mode, host, arg = sys.argv[1:4]
    # The SDK retries failed requests for minutes; against a local server a failure is a bug to
    # report at once, not to paper over.
    oras.provider.Registry.do_request = oras.provider.Registry.do_request.__wrapped__
    client = oras.provider.Registry(hostname=host, insecure=True)
    modes = {"push": push, "untag": untag}
    print(json.dumps(modes[mode](client, host, arg)))


if __name__ == "__main__":
    main()
