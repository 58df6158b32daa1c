//! Revocation checks against a throw-away PKI made with rcgen (see `common`).

mod common;

use common::*;
use der::asn1::{GeneralizedTime, Ia5String};
use der::{Decode, Encode};
use hallmark_revocation::{Status, check_chain};
use hallmark_x509::Certificate;
use rcgen::{
    CertifiedIssuer, CrlDistributionPoint, CrlIssuingDistributionPoint, CrlScope, CustomExtension,
    Issuer, KeyPair, RevocationReason, RevokedCertParams, SerialNumber,
};
use time::Duration;
use x509_cert::crl::CertificateList;
// ---------------------------------------------------------------------------------------------
// Outcomes

#[test]
fn good_leaf_not_in_crl() {
    let pki = Pki::new();
    let crl = crl(&pki.intermediate, vec![revoked(99, None)], window(NOW));
    assert_eq!(check_leaf(&pki, crl, None), Status::Good);
}

#[test]
fn revoked_leaf_reports_date_and_reason() {
    let pki = Pki::new();
    let entry = revoked(SERIAL, Some(RevocationReason::KeyCompromise));
    let crl = crl(&pki.intermediate, vec![entry], window(NOW));
    assert_eq!(
        check_leaf(&pki, crl, None),
        Status::Revoked {
            at: NOW - Duration::days(2),
            reason: Some("keyCompromise".into())
        }
    );
}

#[test]
fn revoked_leaf_without_reason_code() {
    let pki = Pki::new();
    let crl = crl(&pki.intermediate, vec![revoked(SERIAL, None)], window(NOW));
    assert_eq!(
        check_leaf(&pki, crl, None),
        Status::Revoked {
            at: NOW - Duration::days(2),
            reason: None
        }
    );
}

#[test]
fn revoked_intermediate_is_reported_at_its_index() {
    let pki = Pki::new();
    let intermediate_serial = {
        let cert = x509_cert::Certificate::from_der(pki.intermediate.der()).expect("parse");
        SerialNumber::from_slice(cert.tbs_certificate().serial_number().as_bytes())
    };
    let root_crl = crl_params(
        vec![RevokedCertParams {
            serial_number: intermediate_serial,
            revocation_time: NOW - Duration::days(1),
            reason_code: Some(RevocationReason::CaCompromise),
            invalidity_date: None,
        }],
        window(NOW),
    )
    .signed_by(&pki.root)
    .expect("crl")
    .der()
    .to_vec();
    let fetcher = FakeFetcher::new(&[
        (LEAF_CRL, crl(&pki.intermediate, vec![], window(NOW))),
        (ROOT_CRL, root_crl),
    ]);
    let statuses = check_chain(
        &pki.chain(pki.leaf(SERIAL, &[LEAF_CRL], vec![])),
        &fetcher,
        None,
        NOW,
    );
    assert_eq!(statuses[0], Status::Good);
    assert_eq!(
        statuses[1],
        Status::Revoked {
            at: NOW - Duration::days(1),
            reason: Some("cACompromise".into())
        }
    );
}

#[test]
fn certificate_hold_revokes_and_remove_from_crl_releases() {
    let pki = Pki::new();
    let hold = crl(
        &pki.intermediate,
        vec![revoked(SERIAL, Some(RevocationReason::CertificateHold))],
        window(NOW),
    );
    assert!(matches!(
        check_leaf(&pki, hold, None),
        Status::Revoked { reason: Some(ref r), .. } if r == "certificateHold"
    ));

    let released = crl(
        &pki.intermediate,
        vec![revoked(SERIAL, Some(RevocationReason::RemoveFromCrl))],
        window(NOW),
    );
    assert_eq!(check_leaf(&pki, released, None), Status::Good);
}

#[test]
fn signing_before_invalidity_date_stays_good() {
    // notation-core-go: an entry whose invalidityDate is after the signing time does not count.
    let pki = Pki::new();
    let mut entry = revoked(SERIAL, Some(RevocationReason::KeyCompromise));
    entry.invalidity_date = Some(NOW - Duration::days(3));
    let crl = crl(&pki.intermediate, vec![entry], window(NOW));

    let signed_before = Some(NOW - Duration::days(4));
    assert_eq!(check_leaf(&pki, crl.clone(), signed_before), Status::Good);

    let signed_after = Some(NOW - Duration::days(3) + Duration::seconds(1));
    assert!(matches!(
        check_leaf(&pki, crl.clone(), signed_after),
        Status::Revoked { .. }
    ));

    // Equal times count as revoked (only strictly earlier signing escapes).
    let signed_at = Some(NOW - Duration::days(3));
    assert!(matches!(
        check_leaf(&pki, crl.clone(), signed_at),
        Status::Revoked { .. }
    ));

    // Without a signing time every entry counts.
    assert!(matches!(
        check_leaf(&pki, crl, None),
        Status::Revoked { .. }
    ));
}

#[test]
fn revocation_date_after_signing_time_still_revokes() {
    // The revocation date is never compared with the signing time, only the invalidity date.
    let pki = Pki::new();
    let crl = crl(&pki.intermediate, vec![revoked(SERIAL, None)], window(NOW));
    let signed_long_before = Some(NOW - Duration::days(300));
    assert!(matches!(
        check_leaf(&pki, crl, signed_long_before),
        Status::Revoked { .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// Unusable CRLs fail closed

#[test]
fn crl_signed_by_wrong_key() {
    let pki = Pki::new();
    // Same issuer name and key usages, another key.
    let impostor = Issuer::new(
        ca_params("Test Intermediate", Some(ROOT_CRL)),
        KeyPair::generate().expect("key"),
    );
    let crl = crl(&impostor, vec![], window(NOW));
    let status = check_leaf(&pki, crl, None);
    assert_unknown(&status, "not signed by the issuer certificate");
    assert_unknown(&status, "does not verify");
    assert_unknown(&status, LEAF_CRL);
}

#[test]
fn crl_signed_by_issuer_key_with_other_name() {
    let pki = Pki::new();
    let params = ca_params("Another CA", None);
    let renamed = Issuer::from_params(&params, pki.intermediate.key());
    let crl = crl(&renamed, vec![revoked(99, None)], window(NOW));
    assert_unknown(
        &check_leaf(&pki, crl, None),
        "but the certificate's issuer is",
    );
}

#[test]
fn expired_crl() {
    let pki = Pki::new();
    let crl = crl(
        &pki.intermediate,
        vec![],
        (NOW - Duration::days(8), NOW - Duration::days(1)),
    );
    assert_unknown(&check_leaf(&pki, crl, None), "the CRL expired");
}

#[test]
fn crl_not_yet_valid() {
    let pki = Pki::new();
    let crl = crl(
        &pki.intermediate,
        vec![],
        (NOW + Duration::hours(1), NOW + Duration::days(1)),
    );
    assert_unknown(&check_leaf(&pki, crl, None), "not valid yet");
}

#[test]
fn crl_without_next_update() {
    let pki = Pki::new();
    let base = crl(&pki.intermediate, vec![], window(NOW));
    let crl = resign(&base, pki.intermediate.key(), |list| {
        list.tbs_cert_list.next_update = None
    });
    assert_unknown(&check_leaf(&pki, crl, None), "no nextUpdate");
}

#[test]
fn fetch_failure_is_unknown_with_reason() {
    let pki = Pki::new();
    let fetcher = FakeFetcher::new(&[(ROOT_CRL, pki.root_crl())]);
    let chain = pki.chain(pki.leaf(SERIAL, &[LEAF_CRL], vec![]));
    let statuses = check_chain(&chain, &fetcher, None, NOW);
    assert_unknown(&statuses[0], "could not be downloaded");
    assert_unknown(&statuses[0], "HTTP 404");
    assert_unknown(&statuses[0], LEAF_CRL);
}

#[test]
fn next_distribution_point_is_tried_after_a_failure() {
    let pki = Pki::new();
    let mirror = "http://mirror.test/intermediate.crl";
    let fetcher = FakeFetcher::new(&[
        (mirror, crl(&pki.intermediate, vec![], window(NOW))),
        (ROOT_CRL, pki.root_crl()),
    ]);
    let chain = pki.chain(pki.leaf(SERIAL, &[LEAF_CRL, mirror], vec![]));
    assert_eq!(check_chain(&chain, &fetcher, None, NOW)[0], Status::Good);
    assert_eq!(fetcher.calls_to(LEAF_CRL), 1);
    assert_eq!(fetcher.calls_to(mirror), 1);
}

#[test]
fn all_distribution_points_failing_lists_every_reason() {
    let pki = Pki::new();
    let mirror = "http://mirror.test/intermediate.crl";
    let fetcher = FakeFetcher::new(&[(mirror, b"not a crl".to_vec()), (ROOT_CRL, pki.root_crl())]);
    let chain = pki.chain(pki.leaf(SERIAL, &[LEAF_CRL, mirror], vec![]));
    let status = &check_chain(&chain, &fetcher, None, NOW)[0];
    assert_unknown(status, "HTTP 404");
    assert_unknown(status, "not a DER-encoded X.509 CertificateList");
    assert_unknown(status, mirror);
}

#[test]
fn delta_crl_indicator_is_unsupported() {
    let pki = Pki::new();
    let base = crl(&pki.intermediate, vec![], window(NOW));
    // deltaCRLIndicator (2.5.29.27), critical, BaseCRLNumber 1.
    let delta = resign(&base, pki.intermediate.key(), |list| {
        add_crl_extension(list, extension("2.5.29.27", true, vec![0x02, 0x01, 0x01]));
    });
    assert_unknown(
        &check_leaf(&pki, delta, None),
        "delta CRLs are not supported",
    );
}

#[test]
fn freshest_crl_extension_is_unsupported() {
    let pki = Pki::new();
    let base = crl(&pki.intermediate, vec![], window(NOW));
    let with_freshest = resign(&base, pki.intermediate.key(), |list| {
        add_crl_extension(list, extension("2.5.29.46", false, freshest_crl_value()));
    });
    assert_unknown(
        &check_leaf(&pki, with_freshest, None),
        "delta CRLs are not supported",
    );
}

#[test]
fn certificate_pointing_to_delta_crls_is_unsupported() {
    let pki = Pki::new();
    let freshest = CustomExtension::from_oid_content(&[2, 5, 29, 46], freshest_crl_value());
    let leaf = pki.leaf(SERIAL, &[LEAF_CRL], vec![freshest]);
    let fetcher = FakeFetcher::new(&[
        (LEAF_CRL, crl(&pki.intermediate, vec![], window(NOW))),
        (ROOT_CRL, pki.root_crl()),
    ]);
    let statuses = check_chain(&pki.chain(leaf), &fetcher, None, NOW);
    assert_unknown(&statuses[0], "delta CRLs are not supported");
}

/// `CRLDistributionPoints` with one fullName URI, as a freshestCRL value.
fn freshest_crl_value() -> Vec<u8> {
    use x509_cert::ext::pkix::crl::dp::DistributionPoint;
    use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
    let uri = Ia5String::new("http://crl.test/delta.crl").expect("ia5");
    let point = DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![
            GeneralName::UniformResourceIdentifier(uri),
        ])),
        reasons: None,
        crl_issuer: None,
    };
    vec![point].to_der().expect("encode")
}

#[test]
fn unknown_critical_crl_extension() {
    let pki = Pki::new();
    let base = crl(&pki.intermediate, vec![], window(NOW));
    let crl = resign(&base, pki.intermediate.key(), |list| {
        add_crl_extension(
            list,
            extension("1.3.6.1.4.1.55555.1", true, vec![0x05, 0x00]),
        );
    });
    assert_unknown(
        &check_leaf(&pki, crl, None),
        "critical extension 1.3.6.1.4.1.55555.1",
    );
}

#[test]
fn unknown_noncritical_crl_extension_is_ignored() {
    let pki = Pki::new();
    let base = crl(&pki.intermediate, vec![], window(NOW));
    let crl = resign(&base, pki.intermediate.key(), |list| {
        add_crl_extension(
            list,
            extension("1.3.6.1.4.1.55555.1", false, vec![0x05, 0x00]),
        );
    });
    assert_eq!(check_leaf(&pki, crl, None), Status::Good);
}

#[test]
fn unknown_critical_entry_extension() {
    let pki = Pki::new();
    let base = crl(&pki.intermediate, vec![revoked(SERIAL, None)], window(NOW));
    let crl = resign(&base, pki.intermediate.key(), |list| {
        let entries = list
            .tbs_cert_list
            .revoked_certificates
            .as_mut()
            .expect("entries");
        // certificateIssuer (2.5.29.29): indirect CRL entries are not supported.
        entries[0]
            .crl_entry_extensions
            .get_or_insert_with(Vec::new)
            .push(extension("2.5.29.29", true, vec![0x30, 0x00]));
    });
    assert_unknown(
        &check_leaf(&pki, crl, None),
        "CRL entry for this certificate",
    );
}

#[test]
fn invalidity_date_entry_is_read_from_hand_made_crl() {
    // The same rule through a hand-written invalidityDate extension (GeneralizedTime).
    let pki = Pki::new();
    let base = crl(&pki.intermediate, vec![revoked(SERIAL, None)], window(NOW));
    let invalid = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
        (NOW - Duration::days(1)).unix_timestamp() as u64,
    ))
    .expect("time");
    let crl = resign(&base, pki.intermediate.key(), |list| {
        let entries = list
            .tbs_cert_list
            .revoked_certificates
            .as_mut()
            .expect("entries");
        entries[0]
            .crl_entry_extensions
            .get_or_insert_with(Vec::new)
            .push(extension(
                "2.5.29.24",
                false,
                invalid.to_der().expect("der"),
            ));
    });
    assert_eq!(
        check_leaf(&pki, crl.clone(), Some(NOW - Duration::days(2))),
        Status::Good
    );
    assert!(matches!(
        check_leaf(&pki, crl, Some(NOW)),
        Status::Revoked { .. }
    ));
}

#[test]
fn issuing_distribution_point_scope() {
    let pki = Pki::new();
    let idp = |uris: Vec<String>, scope| {
        let mut params = crl_params(vec![], window(NOW));
        params.issuing_distribution_point = Some(CrlIssuingDistributionPoint {
            distribution_point: CrlDistributionPoint { uris },
            scope,
        });
        params
            .signed_by(&pki.intermediate)
            .expect("crl")
            .der()
            .to_vec()
    };

    let matching = idp(vec![LEAF_CRL.into()], Some(CrlScope::UserCertsOnly));
    assert_eq!(check_leaf(&pki, matching, None), Status::Good);

    let ca_only = idp(vec![LEAF_CRL.into()], Some(CrlScope::CaCertsOnly));
    assert_unknown(
        &check_leaf(&pki, ca_only, None),
        "lists only CA certificates",
    );

    // A validly signed CRL of another partition cannot stand in for this one.
    let other_partition = idp(vec!["http://crl.test/partition-2.crl".into()], None);
    assert_unknown(
        &check_leaf(&pki, other_partition, None),
        "names none of the certificate",
    );
}

#[test]
fn rsa_issuer_crl_verifies() {
    let rsa = hallmark_x509::SigningKey::generate(hallmark_x509::KeySpec::Rsa2048).expect("rsa");
    let pem = rsa.to_pkcs8_pem().expect("pem");
    let key = KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).expect("rcgen key");
    let pki = Pki::with_key(key);
    let entry = revoked(SERIAL, Some(RevocationReason::Superseded));
    let crl = crl(&pki.intermediate, vec![entry], window(NOW));
    assert!(matches!(
        check_leaf(&pki, crl, None),
        Status::Revoked { reason: Some(ref r), .. } if r == "superseded"
    ));
}

#[test]
fn rsa_pss_crl_verifies() {
    // RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 4055 §3.1).
    const PSS_SHA256_PARAMS: [u8; 54] = [
        0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
        0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
        0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
        0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20,
    ];
    let rsa = hallmark_x509::SigningKey::generate(hallmark_x509::KeySpec::Rsa2048).expect("rsa");
    let pem = rsa.to_pkcs8_pem().expect("pem");
    let key = KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).expect("rcgen key");
    let pki = Pki::with_key(key);
    let base = crl(&pki.intermediate, vec![revoked(SERIAL, None)], window(NOW));

    let pss = x509_cert::spki::AlgorithmIdentifierOwned {
        oid: const_oid::db::rfc5912::ID_RSASSA_PSS,
        parameters: Some(der::Any::from_der(&PSS_SHA256_PARAMS).expect("params")),
    };
    let set_pss = |list: &mut CertificateList| {
        list.tbs_cert_list.signature = pss.clone();
        list.signature_algorithm = pss.clone();
    };
    let signed = resign_with(&base, |tbs| rsa.sign(tbs).expect("ps256"), set_pss);
    assert!(matches!(
        check_leaf(&pki, signed, None),
        Status::Revoked { .. }
    ));

    // The same bytes with the PKCS #1 v1.5 identifier do not verify.
    let mislabeled = resign_with(&base, |tbs| rsa.sign(tbs).expect("ps256"), |_| {});
    assert_unknown(&check_leaf(&pki, mislabeled, None), "does not verify");
}

// ---------------------------------------------------------------------------------------------
// Which certificates are checked

#[test]
fn no_distribution_point_is_non_revokable() {
    let pki = Pki::new();
    let fetcher = FakeFetcher::new(&[(ROOT_CRL, pki.root_crl())]);
    let statuses = check_chain(
        &pki.chain(pki.leaf(SERIAL, &[], vec![])),
        &fetcher,
        None,
        NOW,
    );
    assert_eq!(
        statuses,
        vec![Status::NonRevokable, Status::Good, Status::NonRevokable]
    );
    assert_eq!(fetcher.calls(), 1, "only the intermediate's CRL is fetched");
}

#[test]
fn ldap_only_distribution_point_is_unknown() {
    let pki = Pki::new();
    let fetcher = FakeFetcher::new(&[(ROOT_CRL, pki.root_crl())]);
    let leaf = pki.leaf(SERIAL, &["ldap://ldap.test/cn=Test%20Intermediate"], vec![]);
    let statuses = check_chain(&pki.chain(leaf), &fetcher, None, NOW);
    assert_unknown(&statuses[0], "no http or https URL");
    assert_eq!(fetcher.calls(), 1, "nothing is fetched for the leaf");
}

#[test]
fn ocsp_only_is_unknown_unsupported() {
    use x509_cert::ext::pkix::AccessDescription;
    use x509_cert::ext::pkix::name::GeneralName;
    let pki = Pki::new();
    let aia = vec![AccessDescription {
        access_method: const_oid::db::rfc5280::ID_AD_OCSP,
        access_location: GeneralName::UniformResourceIdentifier(
            Ia5String::new("http://ocsp.test").expect("ia5"),
        ),
    }];
    let aia = CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 5, 5, 7, 1, 1],
        aia.to_der().expect("encode"),
    );
    let fetcher = FakeFetcher::new(&[(ROOT_CRL, pki.root_crl())]);
    let statuses = check_chain(
        &pki.chain(pki.leaf(SERIAL, &[], vec![aia])),
        &fetcher,
        None,
        NOW,
    );
    assert_unknown(&statuses[0], "OCSP is not supported by Hallmark yet");
    assert_unknown(&statuses[0], "http://ocsp.test");
}

#[test]
fn root_is_excluded_even_with_a_distribution_point() {
    let root_own_crl = "http://crl.test/root-self.crl";
    let root = CertifiedIssuer::self_signed(
        ca_params("Root With CDP", Some(root_own_crl)),
        KeyPair::generate().expect("key"),
    )
    .expect("root");
    let root_cert = Certificate::from_der(root.der()).expect("der");
    let fetcher = FakeFetcher::default();

    assert_eq!(
        check_chain(std::slice::from_ref(&root_cert), &fetcher, None, NOW),
        vec![Status::NonRevokable]
    );
    assert!(check_chain(&[], &fetcher, None, NOW).is_empty());
    assert_eq!(fetcher.calls(), 0);
}

#[test]
fn statuses_follow_chain_order() {
    let pki = Pki::new();
    let crl = crl(&pki.intermediate, vec![revoked(SERIAL, None)], window(NOW));
    let fetcher = FakeFetcher::new(&[(LEAF_CRL, crl), (ROOT_CRL, pki.root_crl())]);
    let statuses = check_chain(
        &pki.chain(pki.leaf(SERIAL, &[LEAF_CRL], vec![])),
        &fetcher,
        None,
        NOW,
    );
    assert!(matches!(statuses[0], Status::Revoked { .. }));
    assert_eq!(statuses[1..], [Status::Good, Status::NonRevokable]);
}
