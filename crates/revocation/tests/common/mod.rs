//! Fixtures shared by the integration tests: a throw-away PKI made with rcgen (a root, an
//! intermediate and leaves whose CRL distribution points a fake fetcher serves), CRL builders
//! and the fake fetcher.

#![allow(dead_code)] // each test crate uses a subset

use std::collections::HashMap;
use std::sync::Mutex;

use der::asn1::{BitString, OctetString};
use der::{Decode, Encode};
use hallmark_revocation::{CrlFetcher, FetchError, Status, check_chain};
use hallmark_x509::Certificate;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    CrlDistributionPoint, CustomExtension, DnType, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevocationReason, RevokedCertParams, SerialNumber, SigningKey,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use x509_cert::crl::CertificateList;
use x509_cert::ext::Extension;

pub const NOW: OffsetDateTime = datetime!(2030-06-01 12:00 UTC);
pub const LEAF_CRL: &str = "http://crl.test/intermediate.crl";
pub const ROOT_CRL: &str = "http://crl.test/root.crl";

pub struct Pki {
    pub root: CertifiedIssuer<'static, KeyPair>,
    pub intermediate: CertifiedIssuer<'static, KeyPair>,
}

pub fn ca_params(name: &str, cdp: Option<&str>) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Hallmark Test");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    if let Some(url) = cdp {
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![url.into()],
        }];
    }
    params
}

impl Pki {
    pub fn new() -> Self {
        Self::with_key(KeyPair::generate().expect("key"))
    }

    pub fn with_key(intermediate_key: KeyPair) -> Self {
        let root = CertifiedIssuer::self_signed(
            ca_params("Test Root", None),
            KeyPair::generate().expect("key"),
        )
        .expect("root");
        let intermediate = CertifiedIssuer::signed_by(
            ca_params("Test Intermediate", Some(ROOT_CRL)),
            intermediate_key,
            &root,
        )
        .expect("intermediate");
        Self { root, intermediate }
    }

    pub fn root_cert(&self) -> Certificate {
        Certificate::from_der(self.root.der()).expect("root der")
    }

    pub fn intermediate_cert(&self) -> Certificate {
        Certificate::from_der(self.intermediate.der()).expect("intermediate der")
    }

    /// A leaf with serial `serial`, the given CRL URLs and extra extensions.
    pub fn leaf(&self, serial: u64, cdps: &[&str], extra: Vec<CustomExtension>) -> Certificate {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "Test Leaf");
        params.serial_number = Some(SerialNumber::from(serial));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if !cdps.is_empty() {
            params.crl_distribution_points = vec![CrlDistributionPoint {
                uris: cdps.iter().map(|u| u.to_string()).collect(),
            }];
        }
        params.custom_extensions = extra;
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.intermediate).expect("leaf");
        Certificate::from_der(cert.der()).expect("leaf der")
    }

    pub fn chain(&self, leaf: Certificate) -> Vec<Certificate> {
        vec![leaf, self.intermediate_cert(), self.root_cert()]
    }

    /// An empty, current root CRL so the intermediate checks out as good.
    pub fn root_crl(&self) -> Vec<u8> {
        crl(&self.root, vec![], window(NOW))
    }
}

pub const SERIAL: u64 = 0x1234;

pub fn window(now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    (now - Duration::hours(1), now + Duration::days(1))
}

pub fn revoked(serial: u64, reason: Option<RevocationReason>) -> RevokedCertParams {
    RevokedCertParams {
        serial_number: SerialNumber::from(serial),
        revocation_time: NOW - Duration::days(2),
        reason_code: reason,
        invalidity_date: None,
    }
}

pub fn crl_params(
    revoked: Vec<RevokedCertParams>,
    (this_update, next_update): (OffsetDateTime, OffsetDateTime),
) -> CertificateRevocationListParams {
    CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    }
}

pub fn crl(
    issuer: &Issuer<'_, impl SigningKey>,
    revoked: Vec<RevokedCertParams>,
    window: (OffsetDateTime, OffsetDateTime),
) -> Vec<u8> {
    crl_params(revoked, window)
        .signed_by(issuer)
        .expect("crl")
        .der()
        .to_vec()
}

/// Rewrites a CRL with `edit` and signs it again with `key` (rcgen cannot add arbitrary CRL
/// extensions).
pub fn resign(crl: &[u8], key: &KeyPair, edit: impl FnOnce(&mut CertificateList)) -> Vec<u8> {
    resign_with(crl, |tbs| key.sign(tbs).expect("sign"), edit)
}

pub fn resign_with(
    crl: &[u8],
    sign: impl Fn(&[u8]) -> Vec<u8>,
    edit: impl FnOnce(&mut CertificateList),
) -> Vec<u8> {
    let mut list = CertificateList::from_der(crl).expect("crl parses");
    edit(&mut list);
    let tbs = list.tbs_cert_list.to_der().expect("tbs encodes");
    let signature = sign(&tbs);
    list.signature = BitString::from_bytes(&signature).expect("bit string");
    list.to_der().expect("crl encodes")
}

pub fn extension(oid: &str, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid.parse().expect("oid"),
        critical,
        extn_value: OctetString::new(value).expect("octets"),
    }
}

pub fn add_crl_extension(list: &mut CertificateList, ext: Extension) {
    list.tbs_cert_list
        .crl_extensions
        .get_or_insert_with(Vec::new)
        .push(ext);
}

/// A fetcher serving fixed bytes per URL (404 otherwise) and recording every call.
#[derive(Default)]
pub struct FakeFetcher {
    pub crls: Mutex<HashMap<String, Vec<u8>>>,
    pub calls: Mutex<Vec<String>>,
}

impl FakeFetcher {
    pub fn new(entries: &[(&str, Vec<u8>)]) -> Self {
        let fake = Self::default();
        for (url, bytes) in entries {
            fake.set(url, bytes.clone());
        }
        fake
    }

    pub fn set(&self, url: &str, bytes: Vec<u8>) {
        self.crls
            .lock()
            .expect("lock")
            .insert(url.to_owned(), bytes);
    }

    pub fn calls(&self) -> usize {
        self.calls.lock().expect("lock").len()
    }

    pub fn calls_to(&self, url: &str) -> usize {
        self.calls
            .lock()
            .expect("lock")
            .iter()
            .filter(|u| *u == url)
            .count()
    }
}

impl CrlFetcher for FakeFetcher {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.calls.lock().expect("lock").push(url.to_owned());
        self.crls
            .lock()
            .expect("lock")
            .get(url)
            .cloned()
            .ok_or_else(|| FetchError::Status {
                url: url.to_owned(),
                status: 404,
            })
    }
}

/// Checks the chain of a leaf with serial [`SERIAL`] and one CRL URL, serving `leaf_crl`.
pub fn check_leaf(pki: &Pki, leaf_crl: Vec<u8>, signing_time: Option<OffsetDateTime>) -> Status {
    let fetcher = FakeFetcher::new(&[(LEAF_CRL, leaf_crl), (ROOT_CRL, pki.root_crl())]);
    let chain = pki.chain(pki.leaf(SERIAL, &[LEAF_CRL], vec![]));
    let statuses = check_chain(&chain, &fetcher, signing_time, NOW);
    assert_eq!(statuses.len(), 3);
    assert_eq!(statuses[1], Status::Good, "intermediate");
    assert_eq!(statuses[2], Status::NonRevokable, "root");
    statuses[0].clone()
}

#[track_caller]
pub fn assert_unknown(status: &Status, needle: &str) {
    match status {
        Status::Unknown(text) => assert!(text.contains(needle), "{needle:?} not in {text:?}"),
        other => panic!("expected unknown containing {needle:?}, got {other:?}"),
    }
}
