//! Tokens made here by a test TSA (hallmark_x509::testing chains, ECDSA P-256), one broken
//! rule at a time: each verification step must refuse exactly the token that breaks it.

#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use hallmark_timestamp::{TimestampError, TimestampToken};
use hallmark_x509::testing::{EKU_CODE_SIGNING, ExtendedKeyUsageSpec, TestChain, TestChainBuilder};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::SubjectKeyIdentifier;

const DATUM: &[u8] = b"raw signature bytes";

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn oid(dotted: &str) -> Vec<u8> {
    let oid = const_oid::ObjectIdentifier::new(dotted).unwrap();
    tlv(0x06, oid.as_bytes())
}

fn sha256(data: &[u8]) -> Vec<u8> {
    digest(&SHA256, data).as_ref().to_vec()
}

const ID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const ID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const BASELINE_POLICY: &str = "0.4.0.2023.1.1";

#[derive(Clone, Copy, PartialEq)]
enum Ess {
    V2,
    V1,
    Absent,
    WrongHash,
}

/// What the test TSA puts in its token.
#[derive(Clone)]
struct Recipe {
    gen_time: &'static str,
    policy: &'static str,
    /// `Accuracy` content octets, or none.
    accuracy: Option<Vec<u8>>,
    ess: Ess,
    sid_by_key_id: bool,
    wrong_message_digest: bool,
    corrupt_signature: bool,
    include_root: bool,
}

impl Default for Recipe {
    fn default() -> Self {
        Recipe {
            gen_time: "",
            policy: "1.2.3.4",
            accuracy: Some(tlv(0x02, &[0x01])),
            ess: Ess::V2,
            sid_by_key_id: false,
            wrong_message_digest: false,
            corrupt_signature: false,
            include_root: true,
        }
    }
}

fn now_generalized() -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Raw r||s (what SigningKey gives) to the DER ECDSA-Sig-Value CMS uses (RFC 5753 §7.2).
fn ecdsa_der(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    let int = |v: &[u8]| {
        let start = v.iter().position(|&b| b != 0).unwrap_or(v.len() - 1);
        let mut c = Vec::new();
        if v[start] & 0x80 != 0 {
            c.push(0);
        }
        c.extend_from_slice(&v[start..]);
        tlv(0x02, &c)
    };
    tlv(0x30, &[int(r), int(s)].concat())
}

fn make_token(chain: &TestChain, recipe: &Recipe) -> Vec<u8> {
    let leaf = chain.leaf();
    let gen_time = if recipe.gen_time.is_empty() {
        now_generalized()
    } else {
        recipe.gen_time.to_string()
    };

    let algorithm = tlv(0x30, &oid(ID_SHA256));
    let imprint = tlv(
        0x30,
        &[algorithm.clone(), tlv(0x04, &sha256(DATUM))].concat(),
    );
    let mut tst = [
        tlv(0x02, &[0x01]),
        oid(recipe.policy),
        imprint,
        tlv(0x02, &[0x2a]),
        tlv(0x18, gen_time.as_bytes()),
    ]
    .concat();
    if let Some(accuracy) = &recipe.accuracy {
        tst.extend(tlv(0x30, accuracy));
    }
    let tst = tlv(0x30, &tst);

    let mut digest_value = sha256(&tst);
    if recipe.wrong_message_digest {
        digest_value[0] ^= 1;
    }
    let mut attributes = vec![
        tlv(
            0x30,
            &[oid("1.2.840.113549.1.9.3"), tlv(0x31, &oid(ID_TST_INFO))].concat(),
        ),
        tlv(
            0x30,
            &[
                oid("1.2.840.113549.1.9.4"),
                tlv(0x31, &tlv(0x04, &digest_value)),
            ]
            .concat(),
        ),
    ];
    let issuer_serial = tlv(
        0x30,
        &[
            tlv(0x30, &tlv(0xa4, leaf.issuer_der())),
            tlv(0x02, leaf.serial_bytes()),
        ]
        .concat(),
    );
    match recipe.ess {
        Ess::V2 | Ess::WrongHash => {
            let mut hash = sha256(leaf.der());
            if recipe.ess == Ess::WrongHash {
                hash[0] ^= 1;
            }
            let id = tlv(0x30, &[tlv(0x04, &hash), issuer_serial].concat());
            let value = tlv(0x30, &tlv(0x30, &id));
            attributes.push(tlv(
                0x30,
                &[oid("1.2.840.113549.1.9.16.2.47"), tlv(0x31, &value)].concat(),
            ));
        }
        Ess::V1 => {
            let hash = digest(&SHA1_FOR_LEGACY_USE_ONLY, leaf.der())
                .as_ref()
                .to_vec();
            let id = tlv(0x30, &tlv(0x04, &hash));
            let value = tlv(0x30, &tlv(0x30, &id));
            attributes.push(tlv(
                0x30,
                &[oid("1.2.840.113549.1.9.16.2.12"), tlv(0x31, &value)].concat(),
            ));
        }
        Ess::Absent => {}
    }
    let attributes = attributes.concat();

    let key = &chain.keys()[0];
    let raw_signature = key.sign(&tlv(0x31, &attributes)).unwrap();
    let (mut signature, signature_algorithm) = if key.spec().is_rsa() {
        // RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 4056 §3).
        let sha256_null = tlv(0x30, &[oid(ID_SHA256), vec![0x05, 0x00]].concat());
        let mgf1 = tlv(
            0x30,
            &[oid("1.2.840.113549.1.1.8"), sha256_null.clone()].concat(),
        );
        let params = tlv(
            0x30,
            &[
                tlv(0xa0, &sha256_null),
                tlv(0xa1, &mgf1),
                tlv(0xa2, &tlv(0x02, &[32])),
            ]
            .concat(),
        );
        (
            raw_signature,
            tlv(0x30, &[oid("1.2.840.113549.1.1.10"), params].concat()),
        )
    } else {
        (
            ecdsa_der(&raw_signature),
            tlv(0x30, &oid("1.2.840.10045.4.3.2")),
        )
    };
    if recipe.corrupt_signature {
        let last = signature.len() - 1;
        signature[last] ^= 1;
    }

    let (version, sid) = if recipe.sid_by_key_id {
        let (_, ski) = leaf
            .x509()
            .tbs_certificate()
            .get_extension::<SubjectKeyIdentifier>()
            .unwrap()
            .unwrap();
        (3, tlv(0x80, ski.0.as_bytes()))
    } else {
        let issuer_and_serial =
            [leaf.issuer_der().to_vec(), tlv(0x02, leaf.serial_bytes())].concat();
        (1, tlv(0x30, &issuer_and_serial))
    };
    let signer_info = tlv(
        0x30,
        &[
            tlv(0x02, &[version]),
            sid,
            algorithm.clone(),
            tlv(0xa0, &attributes),
            signature_algorithm,
            tlv(0x04, &signature),
        ]
        .concat(),
    );

    let certificates: Vec<u8> = chain
        .certificates()
        .iter()
        .take(if recipe.include_root {
            usize::MAX
        } else {
            chain.certificates().len() - 1
        })
        .flat_map(|c| c.der().to_vec())
        .collect();
    let signed_data = tlv(
        0x30,
        &[
            tlv(0x02, &[0x03]),
            tlv(0x31, &algorithm),
            tlv(
                0x30,
                &[oid(ID_TST_INFO), tlv(0xa0, &tlv(0x04, &tst))].concat(),
            ),
            tlv(0xa0, &certificates),
            tlv(0x31, &signer_info),
        ]
        .concat(),
    );
    tlv(
        0x30,
        &[oid("1.2.840.113549.1.7.2"), tlv(0xa0, &signed_data)].concat(),
    )
}

fn tsa_chain() -> TestChain {
    TestChainBuilder::timestamping()
        .with_intermediates(1)
        .build()
        .unwrap()
}

fn root(chain: &TestChain) -> Vec<hallmark_x509::Certificate> {
    vec![chain.certificates().last().unwrap().clone()]
}

fn verify(
    chain: &TestChain,
    recipe: &Recipe,
) -> Result<hallmark_timestamp::TimestampRange, TimestampError> {
    TimestampToken::parse(&make_token(chain, recipe))
        .unwrap()
        .verify(DATUM, &root(chain))
}

#[test]
fn well_formed_ecdsa_token_verifies_with_either_signer_identifier() {
    let chain = tsa_chain();
    for sid_by_key_id in [false, true] {
        let recipe = Recipe {
            sid_by_key_id,
            ..Recipe::default()
        };
        let range = verify(&chain, &recipe).unwrap();
        assert_eq!(range.latest - range.earliest, Duration::seconds(2));
        assert_eq!(range.tsa_chain.len(), 3);
    }
}

#[test]
fn rsa_pss_token_verifies() {
    let chain = TestChainBuilder::timestamping()
        .key_spec(hallmark_x509::KeySpec::Rsa2048)
        .build()
        .unwrap();
    assert!(chain.keys()[0].spec().is_rsa());
    verify(&chain, &Recipe::default()).unwrap();
    let forged = Recipe {
        corrupt_signature: true,
        ..Recipe::default()
    };
    let err = verify(&chain, &forged).unwrap_err();
    assert!(matches!(err, TimestampError::InvalidSignature), "{err:?}");
}

#[test]
fn root_found_only_in_the_trust_store_is_enough() {
    let chain = tsa_chain();
    let recipe = Recipe {
        include_root: false,
        ..Recipe::default()
    };
    let range = verify(&chain, &recipe).unwrap();
    assert_eq!(range.tsa_chain.last().unwrap().der(), root(&chain)[0].der());
}

#[test]
fn legacy_signing_certificate_attribute_is_accepted() {
    let chain = tsa_chain();
    let recipe = Recipe {
        ess: Ess::V1,
        ..Recipe::default()
    };
    verify(&chain, &recipe).unwrap();
}

#[test]
fn fractional_gen_time_and_millisecond_accuracy() {
    let chain = tsa_chain();
    let gen_time = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::minutes(1);
    let text: &'static str = Box::leak(
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}.25Z",
            gen_time.year(),
            u8::from(gen_time.month()),
            gen_time.day(),
            gen_time.hour(),
            gen_time.minute(),
            gen_time.second()
        )
        .into_boxed_str(),
    );
    let recipe = Recipe {
        gen_time: text,
        accuracy: Some(tlv(0x80, &[0x01, 0xf4])), // millis 500
        ..Recipe::default()
    };
    let range = verify(&chain, &recipe).unwrap();
    let exact = gen_time + Duration::milliseconds(250);
    assert_eq!(range.earliest, exact - Duration::milliseconds(500));
    assert_eq!(range.latest, exact + Duration::milliseconds(500));
}

#[test]
fn missing_accuracy_is_one_second_only_under_the_baseline_policy() {
    let chain = tsa_chain();
    let baseline = Recipe {
        policy: BASELINE_POLICY,
        accuracy: None,
        ..Recipe::default()
    };
    let range = verify(&chain, &baseline).unwrap();
    assert_eq!(range.latest - range.earliest, Duration::seconds(2));

    let other = Recipe {
        accuracy: None,
        ..Recipe::default()
    };
    let range = verify(&chain, &other).unwrap();
    assert_eq!(range.earliest, range.latest);
}

#[test]
fn each_broken_rule_gives_its_own_error() {
    let chain = tsa_chain();
    type Case = (&'static str, Recipe, fn(&TimestampError) -> bool);
    let cases: Vec<Case> = vec![
        (
            "no signing-certificate attribute",
            Recipe {
                ess: Ess::Absent,
                ..Recipe::default()
            },
            |e| matches!(e, TimestampError::MissingSigningCertificateAttribute),
        ),
        (
            "certificate swapped under the ESS hash",
            Recipe {
                ess: Ess::WrongHash,
                ..Recipe::default()
            },
            |e| matches!(e, TimestampError::SigningCertificateHashMismatch),
        ),
        (
            "TSTInfo not the signed one",
            Recipe {
                wrong_message_digest: true,
                ..Recipe::default()
            },
            |e| matches!(e, TimestampError::MessageDigestMismatch),
        ),
        (
            "forged signature",
            Recipe {
                corrupt_signature: true,
                ..Recipe::default()
            },
            |e| matches!(e, TimestampError::InvalidSignature),
        ),
        (
            "genTime outside the TSA certificates' validity",
            Recipe {
                gen_time: "20010101000000Z",
                ..Recipe::default()
            },
            |e| matches!(e, TimestampError::CertificateNotValidAtGenTime { .. }),
        ),
    ];
    for (name, recipe, expected) in cases {
        let err = verify(&chain, &recipe).unwrap_err();
        assert!(expected(&err), "{name}: {err:?}");
    }
}

#[test]
fn leaf_without_the_timestamping_usage_breaks_the_tsa_rules() {
    let chain = TestChainBuilder::timestamping()
        .leaf(|leaf| {
            leaf.extended_key_usage = Some(ExtendedKeyUsageSpec::new(&[EKU_CODE_SIGNING], true))
        })
        .build()
        .unwrap();
    let err = verify(&chain, &Recipe::default()).unwrap_err();
    assert!(matches!(err, TimestampError::TsaChainRules(_)), "{err:?}");
}

#[test]
fn token_from_another_tsa_is_untrusted() {
    let chain = tsa_chain();
    let other = tsa_chain();
    let token = TimestampToken::parse(&make_token(&chain, &Recipe::default())).unwrap();
    let err = token.verify(DATUM, &root(&other)).unwrap_err();
    assert!(
        matches!(err, TimestampError::UntrustedTsa { .. }),
        "{err:?}"
    );
}

#[test]
fn gen_time_is_read_exactly() {
    let chain = tsa_chain();
    let recipe = Recipe {
        gen_time: "20240618062937Z",
        ..Recipe::default()
    };
    let token = TimestampToken::parse(&make_token(&chain, &recipe)).unwrap();
    assert_eq!(token.gen_time(), datetime!(2024-06-18 06:29:37 UTC));
}
