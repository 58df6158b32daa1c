//! The notation vectors (shared/vectors/notation), each with the outcome its README gives for
//! the integrity step.
#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

mod common;

use std::path::Path;

use hallmark_envelope::{Envelope, EnvelopeError, EnvelopeFormat, Payload};
use hallmark_oci::Descriptor;

use common::vectors;

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn format_of(bytes: &[u8]) -> EnvelopeFormat {
    if bytes.first() == Some(&b'{') {
        EnvelopeFormat::Jws
    } else {
        EnvelopeFormat::Cose
    }
}

fn parse_file(path: &Path) -> Envelope {
    let bytes = read(path);
    Envelope::parse(format_of(&bytes), &bytes)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

fn assert_descriptor(payload: &Payload, media_type: &str, digest: &str, size: u64) {
    let target = &payload.target_artifact;
    assert_eq!(target.media_type, media_type);
    assert_eq!(target.digest.as_str(), digest);
    assert_eq!(target.size, size);
}

/// jws-cose-pair/README.md: both pass; the payload names the layout's manifest.
#[test]
fn jws_cose_pair_passes_integrity_and_names_the_layout_manifest() {
    let Some(dir) = vectors("jws-cose-pair") else {
        return;
    };
    let index: serde_json::Value =
        serde_json::from_slice(&read(&dir.join("oci-layout/index.json"))).unwrap();
    let manifest: Descriptor = serde_json::from_value(index["manifests"][0].clone()).unwrap();

    for (file, format) in [
        ("jws_signature.sig", EnvelopeFormat::Jws),
        ("cose_signature.sig", EnvelopeFormat::Cose),
    ] {
        let envelope = Envelope::parse(format, &read(&dir.join(file))).unwrap();
        envelope.verify_integrity().unwrap();
        let target = envelope.payload().unwrap().target_artifact;
        assert_eq!(
            (&target.media_type, &target.digest, target.size),
            (&manifest.media_type, &manifest.digest, manifest.size),
            "{file}"
        );
        assert_eq!(
            envelope.unsigned.signing_agent.as_deref(),
            Some("Notation/1.0.0")
        );
        assert_eq!(envelope.certificate_chain.len(), 1);
        let alpine = hallmark_x509::Certificate::parse_many(&read(
            &dir.join("truststore/x509/ca/alpine/alpine.pem"),
        ))
        .unwrap();
        assert_eq!(envelope.certificate_chain[0], alpine[0]);
    }

    let jws = parse_file(&dir.join("jws_signature.sig"));
    let signing_time = jws.signed.signing_time.unwrap();
    assert_eq!(signing_time.offset().whole_hours(), 8, "the offset is kept");
    assert_eq!(signing_time.unix_timestamp(), 1_678_781_402);
    let cose = parse_file(&dir.join("cose_signature.sig"));
    assert_eq!(
        cose.signed.signing_time.unwrap().unix_timestamp(),
        1_678_769_122
    );
}

const MOCK_DIGEST: &str = "sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// mock-envelopes/README.md: ca_valid, sa_valid (and the expired ones, whose failure is the
/// later expiry step) pass integrity.
#[test]
fn mock_valid_envelopes_pass_integrity() {
    let Some(dir) = vectors("mock-envelopes") else {
        return;
    };
    for file in [
        "ca_valid_sig_env.json",
        "sa_valid_sig_env.json",
        "ca_expired_sig_env.json",
        "sa_expired_sig_env.json",
    ] {
        let envelope = parse_file(&dir.join(file));
        envelope
            .verify_integrity()
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert_descriptor(
            &envelope.payload().unwrap(),
            DOCKER_MANIFEST,
            MOCK_DIGEST,
            528,
        );
        assert_eq!(envelope.certificate_chain.len(), 2);
        assert_eq!(envelope.algorithm.jws_name(), "PS384");
        // The mock vectors use `io.cncf.notary.SigningAgent`, an unknown key: ignored.
        assert_eq!(envelope.unsigned.signing_agent, None);
    }

    let sa = parse_file(&dir.join("sa_valid_sig_env.json"));
    assert_eq!(
        sa.signed.signing_scheme,
        hallmark_envelope::SigningScheme::X509SigningAuthority
    );
    assert!(sa.signed.signing_time.is_none());
    assert!(sa.signed.authentic_signing_time.is_some());
}

/// mock-envelopes/README.md: the `*_invalid` payloads end with a `=` the signature does not
/// cover: integrity fails.
#[test]
fn mock_invalid_envelopes_fail_signature() {
    let Some(dir) = vectors("mock-envelopes") else {
        return;
    };
    for file in ["ca_invalid_sig_env.json", "sa_invalid_sig_env.json"] {
        let err = parse_file(&dir.join(file)).verify_integrity().unwrap_err();
        assert!(
            matches!(err, EnvelopeError::SignatureInvalid),
            "{file}: {err:?}"
        );
    }
}

/// mock-envelopes/README.md: the plugin envelopes name `plugin-name` and a critical
/// `SomeKey`; without a plugin that processed it, integrity must not ignore it.
#[test]
fn mock_plugin_envelopes_carry_the_plugin_and_fail_closed_without_it() {
    let Some(dir) = vectors("mock-envelopes") else {
        return;
    };
    for file in ["ca_plugin_sig_env.json", "sa_plugin_sig_env.json"] {
        let envelope = parse_file(&dir.join(file));
        assert_eq!(
            envelope.signed.verification_plugin.as_deref(),
            Some("plugin-name")
        );
        let some_key = &envelope.signed.extended[0];
        assert_eq!(
            (some_key.key.as_str(), some_key.critical),
            ("SomeKey", true)
        );
        assert_eq!(some_key.value, serde_json::json!("SomeValue"));

        let err = envelope.verify_integrity().unwrap_err();
        assert!(
            matches!(err, EnvelopeError::UnknownCriticalHeader(ref k) if k == "SomeKey"),
            "{file}: {err:?}"
        );
        envelope
            .verify_integrity_with_processed(&["SomeKey"])
            .unwrap();
    }
}

/// mock-envelopes/README.md: the plugin-version envelopes name the mock plugin and the
/// minimum version from their file name; integrity itself passes.
#[test]
fn mock_plugin_version_envelopes_carry_the_minimum_version() {
    let Some(dir) = vectors("mock-envelopes") else {
        return;
    };
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(version) = name
            .strip_suffix(".json")
            .and_then(|n| n.rsplit_once("_pluginver_sig_env_"))
            .map(|(_, v)| v.to_owned())
        else {
            continue;
        };
        let envelope = parse_file(&path);
        assert_eq!(
            envelope.signed.verification_plugin.as_deref(),
            Some("io.cncf.notary.plugin.unittest.mock")
        );
        assert_eq!(
            envelope.signed.verification_plugin_min_version.as_deref(),
            Some(&*version)
        );
        envelope
            .verify_integrity()
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_descriptor(
            &envelope.payload().unwrap(),
            DOCKER_MANIFEST,
            "sha256:fe7e9333395060c2f5e63cf36a38fba10176f183b4163a5794e081a480abba5f",
            942,
        );
        seen += 1;
    }
    assert_eq!(seen, 8);
}

/// mock-envelopes/README.md: the user-metadata envelope passes integrity and carries its
/// annotations.
#[test]
fn mock_metadata_envelope_carries_annotations() {
    let Some(dir) = vectors("mock-envelopes") else {
        return;
    };
    let envelope = parse_file(&dir.join("sig_env_with_metadata.json"));
    envelope.verify_integrity().unwrap();
    let target = envelope.payload().unwrap().target_artifact;
    let annotations = target.annotations.unwrap();
    assert_eq!(annotations["io.wabbit-networks.buildId"], "123");
    assert_eq!(annotations["io.wabbit-networks.buildTime"], "1672944615");
}

/// timestamp/README.md: every envelope parses and passes integrity (timestamps and cert
/// validity are later steps); all but `withoutTimestamp` carry a token.
#[test]
fn timestamped_envelopes_parse_and_pass_integrity() {
    let Some(dir) = vectors("timestamp/sigEnv") else {
        return;
    };
    let files = [
        ("jwsWithTimestamp.sig", EnvelopeFormat::Jws, true),
        ("coseWithTimestamp.sig", EnvelopeFormat::Cose, true),
        ("jwsExpiredWithTimestamp.sig", EnvelopeFormat::Jws, true),
        ("coseExpiredWithTimestamp.sig", EnvelopeFormat::Cose, true),
        ("timestampAfterNotAfter.sig", EnvelopeFormat::Cose, true),
        ("timestampBeforeNotBefore.sig", EnvelopeFormat::Jws, true),
        ("withoutTimestamp.sig", EnvelopeFormat::Jws, false),
    ];
    for (file, format, has_token) in files {
        let envelope = Envelope::parse(format, &read(&dir.join(file)))
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert_eq!(
            envelope.unsigned.timestamp_signature.is_some(),
            has_token,
            "{file}"
        );
        if let Some(token) = &envelope.unsigned.timestamp_signature {
            assert_eq!(token[0], 0x30, "{file}: the token is a DER SEQUENCE");
        }
        envelope
            .verify_integrity()
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert_descriptor(
            &envelope.payload().unwrap(),
            DOCKER_MANIFEST,
            "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda",
            528,
        );
    }
}

/// The signature envelopes of an OCI layout: each notary signature manifest's single layer,
/// with its media type and bytes.
fn layout_signatures(layout: &Path) -> Vec<(String, Vec<u8>)> {
    let blobs = layout.join("blobs/sha256");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&blobs).unwrap() {
        let bytes = read(&entry.unwrap().path());
        let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        let is_signature = manifest["config"]["mediaType"]
            == "application/vnd.cncf.notary.signature"
            || manifest["artifactType"] == "application/vnd.cncf.notary.signature";
        if !is_signature {
            continue;
        }
        let layer = &manifest["layers"][0];
        let digest = layer["digest"].as_str().unwrap();
        let hex = digest.strip_prefix("sha256:").unwrap();
        let media_type = layer["mediaType"].as_str().unwrap().to_owned();
        found.push((media_type, read(&blobs.join(hex))));
    }
    found
}

/// e2e-layouts/README.md: every JWS layer passes integrity (expiry, expired certs and
/// timestamps are later steps).
#[test]
fn e2e_layout_signatures_pass_integrity() {
    let Some(dir) = vectors("e2e-layouts") else {
        return;
    };
    let layouts = [
        ("e2e-valid-signature", 1),
        ("e2e-valid-multiple-signatures", 2),
        ("e2e-expired-signature", 1),
        ("e2e-with-expired-cert", 1),
        ("e2e-with-timestamped-signature", 1),
        ("e2e-with-invalid-timestamped-signature", 1),
    ];
    for (layout, count) in layouts {
        let signatures = layout_signatures(&dir.join(layout));
        assert_eq!(signatures.len(), count, "{layout}");
        for (media_type, bytes) in signatures {
            let format = EnvelopeFormat::from_media_type(&media_type).unwrap();
            assert_eq!(format, EnvelopeFormat::Jws);
            let envelope =
                Envelope::parse(format, &bytes).unwrap_or_else(|e| panic!("{layout}: {e:?}"));
            envelope
                .verify_integrity()
                .unwrap_or_else(|e| panic!("{layout}: {e:?}"));
        }
    }

    let expired = &layout_signatures(&dir.join("e2e-expired-signature"))[0].1;
    let expired = Envelope::parse(EnvelopeFormat::Jws, expired).unwrap();
    assert!(expired.signed.expiry.is_some());
    let bogus = &layout_signatures(&dir.join("e2e-with-invalid-timestamped-signature"))[0].1;
    let bogus = Envelope::parse(EnvelopeFormat::Jws, bogus).unwrap();
    assert_eq!(
        bogus.unsigned.timestamp_signature.as_deref(),
        Some(&b"invalid\n"[..])
    );
}

/// e2e-layouts/README.md: e2e-invalid-signature fails integrity, because its layer's media
/// type is not an envelope type (and its bytes are no envelope either).
#[test]
fn e2e_invalid_signature_fails_integrity() {
    let Some(dir) = vectors("e2e-layouts/e2e-invalid-signature") else {
        return;
    };
    let signatures = layout_signatures(&dir);
    assert_eq!(signatures.len(), 1);
    let (media_type, bytes) = &signatures[0];
    assert_eq!(media_type, "application/vnd.oci.image.layer.v1.tar");
    assert_eq!(EnvelopeFormat::from_media_type(media_type), None);
    assert!(matches!(
        Envelope::parse(EnvelopeFormat::Jws, bytes),
        Err(EnvelopeError::MalformedJson(_))
    ));
    assert!(matches!(
        Envelope::parse(EnvelopeFormat::Cose, bytes),
        Err(EnvelopeError::MalformedCose(_) | EnvelopeError::UntaggedCose)
    ));
}

/// blob/README.md: both blob signatures pass integrity and describe notation's LICENSE.
#[test]
fn blob_signatures_pass_integrity() {
    let Some(dir) = vectors("blob") else { return };
    for (file, format, agent) in [
        (
            "blob.jws.sig",
            EnvelopeFormat::Jws,
            Some("notation-go/1.3.0+unreleased"),
        ),
        ("blob.cose.sig", EnvelopeFormat::Cose, None),
    ] {
        let envelope = Envelope::parse(format, &read(&dir.join(file)))
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        envelope
            .verify_integrity()
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert_descriptor(
            &envelope.payload().unwrap(),
            "application/octet-stream",
            "sha256:c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4",
            11357,
        );
        assert!(envelope.unsigned.timestamp_signature.is_some(), "{file}");
        if agent.is_some() {
            assert_eq!(envelope.unsigned.signing_agent.as_deref(), agent);
        }
    }
}

/// blob/README.md: `malformed.jws.sig` is not JSON.
#[test]
fn malformed_blob_signature_fails_to_parse() {
    let Some(dir) = vectors("blob") else { return };
    let err =
        Envelope::parse(EnvelopeFormat::Jws, &read(&dir.join("malformed.jws.sig"))).unwrap_err();
    assert!(matches!(err, EnvelopeError::MalformedJson(_)), "{err:?}");
}
