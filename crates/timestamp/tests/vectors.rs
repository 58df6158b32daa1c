//! notation-go's timestamp vectors (shared/vectors/notation/timestamp, see its README): the
//! GlobalSign tokens embedded in JWS and COSE envelopes and the bare countersignature cases.

#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use coset::{CborSerializable, Label, TaggedCborSerializable};
use hallmark_timestamp::{TimestampError, TimestampToken};
use hallmark_x509::Certificate;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const TIMESTAMP_HEADER: &str = "io.cncf.notary.timestampSignature";

fn vectors() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/notation/timestamp"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the interop vectors must be present under CI"
        );
        println!("skipped: {} is absent", dir.display());
        None
    }
}

fn read(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn roots(dir: &std::path::Path, store: &str) -> Vec<Certificate> {
    let store = dir.join("truststore/x509/tsa").join(store);
    std::fs::read_dir(&store)
        .unwrap()
        .flat_map(|entry| Certificate::parse_many(&std::fs::read(entry.unwrap().path()).unwrap()))
        .flatten()
        .collect()
}

/// The envelope's raw signature bytes and its timestamp token.
fn envelope_token(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    if bytes.first() == Some(&b'{') {
        // JWS flattened JSON: token in the unprotected header, standard base64.
        let jws: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let signature = URL_SAFE_NO_PAD
            .decode(jws["signature"].as_str().unwrap())
            .unwrap();
        let token = STANDARD
            .decode(jws["header"][TIMESTAMP_HEADER].as_str().unwrap())
            .unwrap();
        (signature, token)
    } else {
        // COSE_Sign1_Tagged: token as a bstr under a text label in the unprotected header.
        let sign1 = coset::CoseSign1::from_tagged_slice(bytes)
            .or_else(|_| coset::CoseSign1::from_slice(bytes))
            .unwrap();
        let token = sign1
            .unprotected
            .rest
            .iter()
            .find(|(label, _)| *label == Label::Text(TIMESTAMP_HEADER.into()))
            .and_then(|(_, value)| value.as_bytes().cloned())
            .unwrap();
        (sign1.signature, token)
    }
}

/// (envelope, genTime from the README); every token states an accuracy of 1 s.
const ENVELOPES: [(&str, OffsetDateTime); 6] = [
    ("jwsWithTimestamp.sig", datetime!(2024-06-18 06:29:37 UTC)),
    ("coseWithTimestamp.sig", datetime!(2024-06-18 06:27:16 UTC)),
    (
        "jwsExpiredWithTimestamp.sig",
        datetime!(2024-06-18 07:21:42 UTC),
    ),
    (
        "coseExpiredWithTimestamp.sig",
        datetime!(2024-06-18 07:21:12 UTC),
    ),
    (
        "timestampAfterNotAfter.sig",
        datetime!(2024-06-19 09:35:58 UTC),
    ),
    (
        "timestampBeforeNotBefore.sig",
        datetime!(2024-06-19 09:30:14 UTC),
    ),
];

#[test]
fn envelope_tokens_verify_to_the_globalsign_root_with_their_gen_time() {
    let Some(dir) = vectors() else { return };
    let roots = roots(&dir, "test-timestamp");
    assert_eq!(roots.len(), 1);

    for (name, gen_time) in ENVELOPES {
        let (signature, token) = envelope_token(&read(&dir, &format!("sigEnv/{name}")));
        let token = TimestampToken::parse(&token).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(token.gen_time(), gen_time, "{name}");
        assert_eq!(token.accuracy(), Some(Duration::SECOND), "{name}");

        let range = token
            .verify(&signature, &roots)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(range.earliest, gen_time - Duration::SECOND, "{name}");
        assert_eq!(range.latest, gen_time + Duration::SECOND, "{name}");
        assert_eq!(range.tsa_chain.len(), 3, "{name}");
        assert_eq!(range.tsa_chain[2].der(), roots[0].der(), "{name}");
        assert!(
            range.tsa_chain[0]
                .subject()
                .to_string()
                .contains("Globalsign TSA for Advanced - G4 - 202311"),
            "{name}: {}",
            range.tsa_chain[0].subject()
        );
    }
}

#[test]
fn envelope_tokens_fail_against_an_unrelated_tsa_root() {
    let Some(dir) = vectors() else { return };
    let roots = roots(&dir, "test-mismatch");
    for (name, _) in ENVELOPES {
        let (signature, token) = envelope_token(&read(&dir, &format!("sigEnv/{name}")));
        let err = TimestampToken::parse(&token)
            .unwrap()
            .verify(&signature, &roots)
            .unwrap_err();
        assert!(
            matches!(err, TimestampError::UntrustedTsa { .. }),
            "{name}: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("certificate signed by unknown authority"),
            "{message}"
        );
        assert!(message.contains("hallmark cert add -t tsa"), "{message}");
    }
}

#[test]
fn envelope_token_does_not_timestamp_another_signature() {
    let Some(dir) = vectors() else { return };
    let roots = roots(&dir, "test-timestamp");
    let (mut signature, token) = envelope_token(&read(&dir, "sigEnv/coseWithTimestamp.sig"));
    signature[0] ^= 1;
    let err = TimestampToken::parse(&token)
        .unwrap()
        .verify(&signature, &roots)
        .unwrap_err();
    assert!(matches!(err, TimestampError::MismatchedImprint), "{err:?}");
}

#[test]
fn envelope_token_without_trust_store_roots_is_untrusted() {
    let Some(dir) = vectors() else { return };
    let (signature, token) = envelope_token(&read(&dir, "sigEnv/jwsWithTimestamp.sig"));
    let err = TimestampToken::parse(&token)
        .unwrap()
        .verify(&signature, &[])
        .unwrap_err();
    assert!(
        matches!(err, TimestampError::UntrustedTsa { .. }),
        "{err:?}"
    );
}

#[test]
fn ber_encoded_token_is_accepted() {
    let Some(dir) = vectors() else { return };
    let roots = roots(&dir, "test-timestamp");
    let (signature, der) = envelope_token(&read(&dir, "sigEnv/jwsWithTimestamp.sig"));

    // Re-send the outer ContentInfo with an indefinite length, as BER allows.
    assert_eq!(&der[..2], &[0x30, 0x82]);
    let ber = [&[0x30, 0x80][..], &der[4..], &[0x00, 0x00]].concat();
    let token = TimestampToken::parse(&ber).unwrap();
    assert_eq!(token.der(), der.as_slice());
    token.verify(&signature, &roots).unwrap();
}

#[test]
fn bare_token_matches_its_datum_and_nothing_else() {
    let Some(dir) = vectors() else { return };
    let roots = roots(&dir, "test-timestamp");
    let token = TimestampToken::parse(&read(&dir, "countersignature/TimeStampToken.p7s")).unwrap();
    assert_eq!(token.gen_time(), datetime!(2021-09-17 14:09:10 UTC));

    let range = token.verify(b"notation", &roots).unwrap();
    assert_eq!(range.earliest, datetime!(2021-09-17 14:09:09 UTC));
    assert_eq!(range.latest, datetime!(2021-09-17 14:09:11 UTC));

    let err = token.verify(b"mismatch", &roots).unwrap_err();
    assert!(matches!(err, TimestampError::MismatchedImprint), "{err:?}");
    assert_eq!(err.to_string(), "invalid TSTInfo: mismatched message");
}

#[test]
fn token_with_data_content_type_is_rejected() {
    let Some(dir) = vectors() else { return };
    let bytes = read(
        &dir,
        "countersignature/TimeStampTokenWithInvalideContentType.p7s",
    );
    let err = TimestampToken::parse(&bytes).unwrap_err();
    assert!(
        matches!(&err, TimestampError::UnexpectedContentType(oid) if oid == "1.2.840.113549.1.7.1"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "unexpected content type: 1.2.840.113549.1.7.1. \
         Expected to be id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)"
    );
}

#[test]
fn token_with_malformed_tst_info_is_rejected() {
    let Some(dir) = vectors() else { return };
    let bytes = read(
        &dir,
        "countersignature/TimeStampTokenWithInvalidTSTInfo.p7s",
    );
    let err = TimestampToken::parse(&bytes).unwrap_err();
    assert!(matches!(err, TimestampError::InvalidTstInfo(_)), "{err:?}");
    assert!(err.to_string().starts_with("invalid TSTInfo"), "{err}");
}

#[test]
fn token_without_certificates_has_no_signing_certificate() {
    let Some(dir) = vectors() else { return };
    let roots = roots(&dir, "test-timestamp");
    let bytes = read(
        &dir,
        "countersignature/TimeStampTokenWithoutCertificate.p7s",
    );
    let token = TimestampToken::parse(&bytes).unwrap();
    assert!(token.certificates().is_empty());
    let err = token.verify(b"notation", &roots).unwrap_err();
    assert!(
        matches!(err, TimestampError::SigningCertificateNotFound),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("signing certificate not found in the timestamp token"),
        "{err}"
    );
}

#[test]
fn tampered_tokens_fail_closed() {
    let Some(dir) = vectors() else { return };
    let roots = roots(&dir, "test-timestamp");
    let (signature, der) = envelope_token(&read(&dir, "sigEnv/jwsWithTimestamp.sig"));

    // Flip bytes across the token: nothing may panic, and a flip inside the TSTInfo (eContent
    // at offsets 63..295 of this token) or the signature (its last bytes) must be refused.
    let must_fail = |i: usize| (63..295).contains(&i) || i >= der.len() - 200;
    for index in (0..der.len()).step_by(3) {
        let mut tampered = der.clone();
        tampered[index] ^= 0x01;
        let verified = TimestampToken::parse(&tampered)
            .map(|token| token.verify(&signature, &roots).is_ok())
            .unwrap_or(false);
        if must_fail(index) {
            assert!(
                !verified,
                "byte {index} flipped and the token still verified"
            );
        }
    }
    for len in [0, 1, 2, 10, der.len() / 2, der.len() - 1] {
        assert!(TimestampToken::parse(&der[..len]).is_err(), "{len}");
    }
}
