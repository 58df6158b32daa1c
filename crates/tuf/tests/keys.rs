//! Each key type with each signature method Notary uses: the right pairs verify, the wrong
//! pairs are refused by name, and ECDSA signatures verify in both raw and ASN.1 form.
#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use hallmark_tuf::{KeyType, PublicKey, Rejection, SignatureMethod};
use hallmark_x509::testing::CertTemplate;
use hallmark_x509::{KeySpec, SigningKey};

const MESSAGE: &[u8] = b"{\"_type\":\"Targets\"}";

fn rsa() -> (SigningKey, PublicKey) {
    let key = SigningKey::generate(KeySpec::Rsa2048).unwrap();
    let public = PublicKey::new(KeyType::Rsa, key.public_key().unwrap().spki_der().to_vec());
    (key, public.unwrap())
}

#[test]
fn rsa_keys_verify_rsapss_and_rsapkcs1v15() {
    let (key, public) = rsa();
    // SigningKey signs RSA-2048 with PSS, SHA-256, salt 32: Notary's `rsapss`.
    let pss = key.sign(MESSAGE).unwrap();
    public
        .verify(&SignatureMethod::RsaPss, MESSAGE, &pss)
        .unwrap();
    let wrong = public.verify(&SignatureMethod::RsaPkcs1v15, MESSAGE, &pss);
    assert_eq!(wrong, Err(Rejection::BadSignature));

    let pair = RsaKeyPair::from_pkcs8(&key.to_pkcs8_der().unwrap()).unwrap();
    let mut pkcs1 = vec![0; pair.public_modulus_len()];
    pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), MESSAGE, &mut pkcs1)
        .unwrap();
    public
        .verify(&SignatureMethod::RsaPkcs1v15, MESSAGE, &pkcs1)
        .unwrap();
}

#[test]
fn rsa_x509_keys_verify_with_the_certificate_key() {
    let mut template = CertTemplate::code_signing_leaf("example.com/demo");
    template.key_spec = KeySpec::Rsa2048;
    let (key, cert) = template.self_signed().unwrap();
    let public = PublicKey::new(KeyType::RsaX509, cert.to_pem().into_bytes()).unwrap();
    assert_eq!(public.certificate(), Some(&cert));
    public
        .verify(
            &SignatureMethod::RsaPss,
            MESSAGE,
            &key.sign(MESSAGE).unwrap(),
        )
        .unwrap();
    // The canonical ID is the certificate key's ID as a plain `rsa` key.
    let plain = PublicKey::new(KeyType::Rsa, key.public_key().unwrap().spki_der().to_vec());
    assert_eq!(&public.canonical_id(), plain.unwrap().id());
}

#[test]
fn ecdsa_accepts_raw_and_asn1_signatures() {
    let key = SigningKey::generate(KeySpec::EcP256).unwrap();
    let public = PublicKey::new(
        KeyType::Ecdsa,
        key.public_key().unwrap().spki_der().to_vec(),
    );
    let public = public.unwrap();
    let raw = key.sign(MESSAGE).unwrap();
    assert_eq!(raw.len(), 64);
    public
        .verify(&SignatureMethod::Ecdsa, MESSAGE, &raw)
        .unwrap();

    let pkcs8 = key.to_pkcs8_der().unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8).unwrap();
    let der = pair.sign(&SystemRandom::new(), MESSAGE).unwrap();
    public
        .verify(&SignatureMethod::Ecdsa, MESSAGE, der.as_ref())
        .unwrap();
    let tampered = public.verify(&SignatureMethod::Ecdsa, b"other", &raw);
    assert_eq!(tampered, Err(Rejection::BadSignature));
}

#[test]
fn methods_that_do_not_fit_the_key_type_are_refused() {
    let (key, rsa) = rsa();
    let signature = key.sign(MESSAGE).unwrap();
    for method in [SignatureMethod::Ecdsa, SignatureMethod::Eddsa] {
        let expected = Rejection::MethodKeyMismatch {
            method: method.as_str().to_string(),
            key_type: KeyType::Rsa,
        };
        assert_eq!(rsa.verify(&method, MESSAGE, &signature), Err(expected));
    }
    let pycrypto = SignatureMethod::parse("pycrypto-pkcs#1 pss");
    let refused = rsa.verify(&pycrypto, MESSAGE, &signature);
    assert_eq!(
        refused,
        Err(Rejection::UnsupportedMethod("pycrypto-pkcs#1 pss".into()))
    );
    assert_eq!(SignatureMethod::parse("ECDSA"), SignatureMethod::Ecdsa);
}

#[test]
fn key_objects_are_refused_by_rule() {
    use hallmark_tuf::KeyError;
    use serde_json::json;
    let object = |keytype: &str, public: &str, private: serde_json::Value| {
        let keyval = json!({"public": public, "private": private});
        json!({"keytype": keytype, "keyval": keyval})
    };
    let cases = [
        (object("dsa", "AAAA", json!(null)), "unsupported key type"),
        (object("ed25519", "AAAA", json!(null)), "ed25519 length"),
        (object("ed25519", "%%%", json!(null)), "not base64"),
        (object("ecdsa", "AAAA", json!(null)), "malformed public key"),
        (
            object("ecdsa", "AAAA", json!("c2VjcmV0")),
            "private key present",
        ),
    ];
    for (value, rule) in cases {
        let error = PublicKey::from_json(&value).unwrap_err();
        let matched = match rule {
            "unsupported key type" => matches!(error, KeyError::UnsupportedKeyType(_)),
            "ed25519 length" => matches!(error, KeyError::Ed25519Length(3)),
            "not base64" => matches!(error, KeyError::PublicNotBase64),
            "malformed public key" => matches!(error, KeyError::MalformedPublicKey(_)),
            _ => matches!(error, KeyError::PrivateKeyInMetadata),
        };
        assert!(matched, "{rule}: {error}");
    }
}

#[test]
fn one_key_has_one_material_id_however_it_is_wrapped() {
    let (key, cert) = CertTemplate::code_signing_leaf("example.com/demo")
        .self_signed()
        .unwrap();
    let spki = key.public_key().unwrap().spki_der().to_vec();
    let plain = PublicKey::new(KeyType::Ecdsa, spki.clone()).unwrap();
    let x509 = PublicKey::new(KeyType::EcdsaX509, cert.to_pem().into_bytes()).unwrap();
    assert_ne!(plain.id(), x509.id());
    assert_eq!(plain.material_id(), x509.material_id());

    // The same point compressed: 02/03 by the parity of y, then x.
    let (header, point) = spki.split_at(spki.len() - 65);
    assert_eq!(point[0], 0x04);
    let (x, y) = point[1..].split_at(32);
    let mut compressed = header.to_vec();
    // SEQUENCE and BIT STRING lengths shrink by the 32 bytes of y.
    compressed[1] -= 32;
    let bit_string_length = compressed.len() - 2;
    compressed[bit_string_length] -= 32;
    compressed.push(0x02 | (y[31] & 1));
    compressed.extend_from_slice(x);
    let compressed = PublicKey::new(KeyType::Ecdsa, compressed).unwrap();
    assert_ne!(compressed.id(), plain.id());
    assert_eq!(compressed.material_id(), plain.material_id());

    let (_, other) = rsa();
    assert_ne!(other.material_id(), plain.material_id());
}
