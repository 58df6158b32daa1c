//! notation's published vectors (../shared/vectors/notation), each giving the outcome its
//! folder's README states. Tests that need a fixed clock say which time they use and why.
//!
//! Revocation: no signing certificate in these folders has CRL or OCSP URLs, so the real CRL
//! checker (with a fetcher that has no network) answers "non-revokable" for them. The GlobalSign
//! and Microsoft TSA chains do have URLs; as the timestamp README says, offline tests stub that
//! check, here with [`AllGood`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hallmark_envelope::EnvelopeFormat;
use hallmark_oci::Descriptor;
use hallmark_revocation::{CrlFetcher, FetchError, Status};
use hallmark_trust::{BlobTrustPolicyDocument, ConfigDir, OciTrustPolicyDocument};
use hallmark_verifier::{
    CheckResult, CrlChecker, Failure, Outcome, Request, RevocationChecker, Subject, Verifier,
};
use hallmark_x509::Certificate;
use time::OffsetDateTime;
use time::macros::datetime;

fn vectors() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/notation"
    ));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the interop vectors must be present under CI"
        );
        println!("skipped: {} is absent (CI always has it)", dir.display());
        None
    }
}

/// A fetcher with no network: every CRL download fails.
struct Offline;

impl CrlFetcher for Offline {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        Err(FetchError::Offline {
            url: url.to_owned(),
        })
    }
}

/// Every certificate counts as not revoked: the offline stub for TSA chains.
struct AllGood;

impl RevocationChecker for AllGood {
    fn check(
        &self,
        chain: &[Certificate],
        _: Option<OffsetDateTime>,
        _: OffsetDateTime,
    ) -> Vec<Status> {
        chain.iter().map(|_| Status::Good).collect()
    }
}

/// One verification: a config dir (trust store root), a policy document, an envelope.
struct Case<'a> {
    config: &'a Path,
    policy: String,
    scope: &'a str,
    envelope: PathBuf,
    format: EnvelopeFormat,
    subject: Subject,
    metadata: BTreeMap<String, String>,
    now: OffsetDateTime,
    stub_revocation: bool,
}

impl Case<'_> {
    fn run(&self) -> Outcome {
        let document =
            OciTrustPolicyDocument::parse(self.policy.as_bytes()).expect("policy is valid");
        let policy = document.select(self.scope).expect("a policy applies");
        let store = ConfigDir::new(self.config).trust_store();
        let offline = CrlChecker(&Offline);
        let checker: &dyn RevocationChecker = if self.stub_revocation {
            &AllGood
        } else {
            &offline
        };
        let envelope = std::fs::read(&self.envelope).expect("envelope");
        Verifier::new(policy, &store, checker).verify(&Request {
            format: self.format,
            envelope: &envelope,
            subject: &self.subject,
            user_metadata: &self.metadata,
            now: self.now,
        })
    }
}

fn manifest(media_type: &str, digest: &str, size: u64) -> Subject {
    Subject::Manifest(Descriptor::new(
        media_type,
        digest.parse().expect("digest"),
        size,
    ))
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn assert_pass(outcome: &Outcome, what: &str) {
    assert!(
        outcome.passed(),
        "{what} should pass: {:?}",
        outcome.verdict
    );
}

fn failure(outcome: Outcome, what: &str) -> Failure {
    match outcome.verdict {
        Ok(()) => panic!("{what} should fail"),
        Err(f) => f,
    }
}

fn logged(outcome: &Outcome) -> Vec<String> {
    outcome
        .checks
        .iter()
        .filter_map(|c| match &c.result {
            CheckResult::Logged(f) => Some(f.to_string()),
            _ => None,
        })
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A temporary config dir whose `truststore/x509/<ty>/<name>/` holds `certs`.
fn store_with(stores: &[(&str, &str, &[&Path])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (ty, name, certs) in stores {
        let d = dir.path().join("truststore/x509").join(ty).join(name);
        std::fs::create_dir_all(&d).expect("store dir");
        for c in *certs {
            let file = c.file_name().expect("file name");
            std::fs::copy(c, d.join(file)).expect("copy cert");
        }
    }
    dir
}

// --- jws-cose-pair ---------------------------------------------------------------------

fn pair_case(root: &Path, config: &Path, file: &str, format: EnvelopeFormat) -> Outcome {
    Case {
        config,
        policy: read(&root.join("jws-cose-pair/trustpolicy.json")),
        scope: "localhost:5000/test",
        envelope: root.join("jws-cose-pair").join(file),
        format,
        subject: pair_subject(),
        metadata: BTreeMap::new(),
        now: now(),
        stub_revocation: false,
    }
    .run()
}

fn pair_subject() -> Subject {
    manifest(
        "application/vnd.oci.image.manifest.v1+json",
        "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
        481,
    )
}

#[test]
fn jws_cose_pair_passes_at_strict() {
    let Some(root) = vectors() else { return };
    let config = root.join("jws-cose-pair");
    for (file, format) in [
        ("jws_signature.sig", EnvelopeFormat::Jws),
        ("cose_signature.sig", EnvelopeFormat::Cose),
    ] {
        assert_pass(&pair_case(&root, &config, file, format), file);
    }
}

#[test]
fn jws_cose_pair_other_scope_has_no_policy() {
    let Some(root) = vectors() else { return };
    let policy = read(&root.join("jws-cose-pair/trustpolicy.json"));
    let document = OciTrustPolicyDocument::parse(policy.as_bytes()).expect("valid");
    let err = document
        .select("localhost:5000/other")
        .expect_err("no statement for localhost:5000/other");
    assert!(err.to_string().contains("localhost:5000/other"), "{err}");
}

#[test]
fn jws_cose_pair_wrong_descriptor_fails() {
    let Some(root) = vectors() else { return };
    let d = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";
    let other = "sha256:29dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";
    let oci = "application/vnd.oci.image.manifest.v1+json";
    for (subject, field) in [
        (manifest(oci, other, 481), "digest"),
        (manifest(oci, d, 482), "size"),
        (
            manifest(
                "application/vnd.docker.distribution.manifest.v2+json",
                d,
                481,
            ),
            "mediaType",
        ),
    ] {
        for (file, format) in [
            ("jws_signature.sig", EnvelopeFormat::Jws),
            ("cose_signature.sig", EnvelopeFormat::Cose),
        ] {
            let outcome = Case {
                config: &root.join("jws-cose-pair"),
                policy: read(&root.join("jws-cose-pair/trustpolicy.json")),
                scope: "localhost:5000/test",
                envelope: root.join("jws-cose-pair").join(file),
                format,
                subject: subject.clone(),
                metadata: BTreeMap::new(),
                now: now(),
                stub_revocation: false,
            }
            .run();
            match failure(outcome, file) {
                Failure::SubjectMismatch { field: f, .. } => assert_eq!(f, field, "{file}"),
                other => panic!("{file}: expected a {field} mismatch, got {other}"),
            }
        }
    }
}

#[test]
fn jws_cose_pair_empty_store_fails_authenticity() {
    let Some(root) = vectors() else { return };
    let empty = store_with(&[("ca", "alpine", &[])]);
    for (file, format) in [
        ("jws_signature.sig", EnvelopeFormat::Jws),
        ("cose_signature.sig", EnvelopeFormat::Cose),
    ] {
        let f = failure(pair_case(&root, empty.path(), file, format), file);
        assert!(
            matches!(f, Failure::UntrustedChain { .. } | Failure::TrustStore(_)),
            "{file}: {f}"
        );
    }
}

// --- mock-envelopes --------------------------------------------------------------------

const ACME: &str = "registry.acme-rockets.io/software/net-monitor";

fn acme_subject() -> Subject {
    manifest(
        "application/vnd.docker.distribution.manifest.v2+json",
        "sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e",
        528,
    )
}

fn mock_case(
    root: &Path,
    file: &str,
    level: &str,
    policy_edit: &dyn Fn(String) -> String,
) -> Outcome {
    let dir = root.join("mock-envelopes");
    let policy =
        read(&dir.join("trustpolicy.json")).replacen("\"strict\"", &format!("\"{level}\""), 1);
    Case {
        config: &dir,
        policy: policy_edit(policy),
        scope: ACME,
        envelope: dir.join(file),
        format: EnvelopeFormat::Jws,
        subject: acme_subject(),
        metadata: BTreeMap::new(),
        now: now(),
        stub_revocation: false,
    }
    .run()
}

fn same(p: String) -> String {
    p
}

#[test]
fn mock_valid_envelopes_pass_at_every_level() {
    let Some(root) = vectors() else { return };
    for file in ["ca_valid_sig_env.json", "sa_valid_sig_env.json"] {
        for level in ["strict", "permissive", "audit"] {
            assert_pass(
                &mock_case(&root, file, level, &same),
                &format!("{file} {level}"),
            );
        }
    }
}

#[test]
fn mock_wrong_trust_anchor_fails_authenticity_unless_audit() {
    let Some(root) = vectors() else { return };
    let swap = |p: String| p.replace("valid-trust-store\"", "valid-trust-store-2\"");
    for file in ["ca_valid_sig_env.json", "sa_valid_sig_env.json"] {
        for level in ["strict", "permissive"] {
            let f = failure(mock_case(&root, file, level, &swap), file);
            assert!(
                f.to_string()
                    .contains("does not contain any trusted certificate"),
                "{file} {level}: {f}"
            );
        }
        let audit = mock_case(&root, file, "audit", &swap);
        assert_pass(&audit, &format!("{file} audit"));
        assert!(
            logged(&audit)
                .iter()
                .any(|l| l.contains("does not contain any trusted certificate")),
            "{file}: audit logs the authenticity failure"
        );
    }
}

#[test]
fn mock_identity_mismatch_fails_authenticity() {
    let Some(root) = vectors() else { return };
    let other = |p: String| {
        p.replacen(
            "CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US",
            "CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN",
            1,
        )
    };
    let f = failure(
        mock_case(&root, "ca_valid_sig_env.json", "strict", &other),
        "identity",
    );
    assert!(matches!(f, Failure::IdentityMismatch { .. }), "{f}");
}

#[test]
fn mock_invalid_envelopes_fail_integrity_at_every_level() {
    let Some(root) = vectors() else { return };
    for file in ["ca_invalid_sig_env.json", "sa_invalid_sig_env.json"] {
        for level in ["strict", "permissive", "audit"] {
            let f = failure(mock_case(&root, file, level, &same), file);
            assert!(matches!(f, Failure::Integrity(_)), "{file} {level}: {f}");
        }
    }
}

#[test]
fn mock_expired_envelopes_fail_at_strict_and_pass_logged_otherwise() {
    let Some(root) = vectors() else { return };
    for file in ["ca_expired_sig_env.json", "sa_expired_sig_env.json"] {
        let f = failure(mock_case(&root, file, "strict", &same), file);
        assert_eq!(
            f.to_string(),
            "expiry: digital signature has expired on \"Fri, 29 Jul 2022 23:59:00 +0000\"",
            "{file}"
        );
        for level in ["permissive", "audit"] {
            let o = mock_case(&root, file, level, &same);
            assert_pass(&o, &format!("{file} {level}"));
            assert!(logged(&o).iter().any(|l| l.contains("expired")), "{file}");
        }
    }
}

#[test]
fn mock_plugin_envelopes_fail_without_the_plugin() {
    let Some(root) = vectors() else { return };
    for file in ["ca_plugin_sig_env.json", "sa_plugin_sig_env.json"] {
        for level in ["strict", "permissive", "audit"] {
            let o = mock_case(&root, file, level, &same);
            assert!(
                !o.passed(),
                "{file} {level} must not pass without its plugin"
            );
        }
    }
    let dir = root.join("mock-envelopes");
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !name.contains("pluginver") {
            continue;
        }
        let outcome = Case {
            config: &dir,
            policy: read(&dir.join("trustpolicy.json")),
            scope: "localhost:5000/net-monitor",
            envelope: path.clone(),
            format: EnvelopeFormat::Jws,
            subject: manifest(
                "application/vnd.docker.distribution.manifest.v2+json",
                "sha256:fe7e9333395060c2f5e63cf36a38fba10176f183b4163a5794e081a480abba5f",
                942,
            ),
            metadata: BTreeMap::new(),
            now: now(),
            stub_revocation: false,
        }
        .run();
        assert!(!outcome.passed(), "{name} needs a plugin we do not run");
    }
}

#[test]
fn mock_user_metadata_must_be_signed() {
    let Some(root) = vectors() else { return };
    let dir = root.join("mock-envelopes");
    let run = |pairs: &[(&str, &str)]| {
        Case {
            config: &dir,
            policy: read(&dir.join("trustpolicy.audit.json")),
            scope: ACME,
            envelope: dir.join("sig_env_with_metadata.json"),
            format: EnvelopeFormat::Jws,
            subject: manifest(
                "application/vnd.docker.distribution.manifest.v2+json",
                "sha256:5a07385af4e6b6af81b0ebfd435aedccdfa3507f0609c658209e1aba57159b2b",
                942,
            ),
            metadata: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            now: now(),
            stub_revocation: false,
        }
        .run()
    };
    let id = "io.wabbit-networks.buildId";
    let time = "io.wabbit-networks.buildTime";
    assert_pass(&run(&[]), "no metadata");
    assert_pass(&run(&[(id, "123")]), "buildId=123");
    assert_pass(&run(&[(id, "123"), (time, "1672944615")]), "both");
    for bad in [vec![(id, "321")], vec![(id, "123"), (time, "1")]] {
        let f = failure(run(&bad), "wrong metadata");
        assert!(matches!(f, Failure::UserMetadataMismatch { .. }), "{f}");
    }
}

// --- timestamp -------------------------------------------------------------------------

fn ts_subject() -> Subject {
    manifest(
        "application/vnd.docker.distribution.manifest.v2+json",
        "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda",
        528,
    )
}

fn ts_case(root: &Path, config: &Path, policy: String, file: &str) -> Outcome {
    let format = if file.starts_with("cose") || file == "timestampAfterNotAfter.sig" {
        EnvelopeFormat::Cose
    } else {
        EnvelopeFormat::Jws
    };
    Case {
        config,
        policy,
        scope: "localhost:5000/test",
        envelope: root.join("timestamp/sigEnv").join(file),
        format,
        subject: ts_subject(),
        metadata: BTreeMap::new(),
        now: now(),
        stub_revocation: true,
    }
    .run()
}

/// The timestamp folder's store plus the extracted signer certificates in `ca:valid-trust-store`.
fn ts_store(root: &Path, extra: &[&str]) -> tempfile::TempDir {
    let t = root.join("timestamp");
    let ca = t.join("truststore/x509/ca/valid-trust-store");
    let mut cas: Vec<PathBuf> = vec![
        ca.join("TestTimestamp.crt"),
        ca.join("TestTimestampNotYetValid.crt"),
    ];
    cas.extend(extra.iter().map(|e| t.join("extracted").join(e)));
    let ca_refs: Vec<&Path> = cas.iter().map(PathBuf::as_path).collect();
    let tsa = t.join("truststore/x509/tsa/test-timestamp/globalsignRoot.cer");
    let mismatch = t.join("truststore/x509/tsa/test-mismatch/DigiCertTSARootSHA384.cer");
    store_with(&[
        ("ca", "valid-trust-store", &ca_refs),
        ("tsa", "test-timestamp", &[&tsa]),
        ("tsa", "test-mismatch", &[&mismatch]),
    ])
}

#[test]
fn timestamped_envelopes_pass() {
    let Some(root) = vectors() else { return };
    let policy = read(&root.join("timestamp/trustpolicy.json"));
    let config = ts_store(&root, &["testTSA-2024-06-18-expired.pem"]);
    for file in [
        "jwsWithTimestamp.sig",
        "coseWithTimestamp.sig",
        "jwsExpiredWithTimestamp.sig",
        "coseExpiredWithTimestamp.sig",
    ] {
        assert_pass(&ts_case(&root, config.path(), policy.clone(), file), file);
    }
}

#[test]
fn expired_signer_without_tsa_store_fails_authentic_timestamp() {
    let Some(root) = vectors() else { return };
    let policy =
        read(&root.join("timestamp/trustpolicy.json")).replace(", \"tsa:test-timestamp\"", "");
    assert!(
        !policy.contains("tsa:"),
        "the policy edit removed the tsa store"
    );
    let config = ts_store(&root, &["testTSA-2024-06-18-expired.pem"]);
    let f = failure(
        ts_case(&root, config.path(), policy, "coseExpiredWithTimestamp.sig"),
        "expired signer, no tsa",
    );
    assert_eq!(
        f.to_string(),
        "authenticTimestamp: verification time is after certificate \
         \"CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US\" validity period, it was expired at \
         \"Tue, 18 Jun 2024 07:30:31 +0000\"; renew the signing certificate and sign again, or \
         use a timestamp so that signatures outlive their certificates"
    );
}

#[test]
fn timestamp_outside_signer_validity_fails() {
    let Some(root) = vectors() else { return };
    let policy = read(&root.join("timestamp/trustpolicy.json"));
    let config = ts_store(&root, &["testTSA-2000-2001.pem"]);
    let f = failure(
        ts_case(
            &root,
            config.path(),
            policy.clone(),
            "timestampAfterNotAfter.sig",
        ),
        "after",
    );
    assert!(matches!(f, Failure::TimestampAfterValidity { .. }), "{f}");
    assert!(
        f.to_string().contains("Tue, 18 Sep 2001 11:54:34 +0000"),
        "{f}"
    );
    let f = failure(
        ts_case(&root, config.path(), policy, "timestampBeforeNotBefore.sig"),
        "before",
    );
    assert!(matches!(f, Failure::TimestampBeforeValidity { .. }), "{f}");
    assert!(
        f.to_string().contains("Fri, 18 Sep 2099 11:54:34 +0000"),
        "{f}"
    );
}

#[test]
fn missing_timestamp_fails_only_when_the_policy_wants_one() {
    let Some(root) = vectors() else { return };
    let policy = read(&root.join("timestamp/trustpolicy.json"));
    let config = ts_store(&root, &[]);
    let f = failure(
        ts_case(&root, config.path(), policy.clone(), "withoutTimestamp.sig"),
        "no token",
    );
    assert!(matches!(f, Failure::NoTimestamp), "{f}");
    let no_tsa = policy.replace(", \"tsa:test-timestamp\"", "");
    assert_pass(
        &ts_case(&root, config.path(), no_tsa, "withoutTimestamp.sig"),
        "no tsa store",
    );
    let after_expiry = policy.replace("\"always\"", "\"afterCertExpiry\"");
    assert_pass(
        &ts_case(&root, config.path(), after_expiry, "withoutTimestamp.sig"),
        "afterCertExpiry while the cert is valid",
    );
}

#[test]
fn timestamp_from_an_untrusted_tsa_fails() {
    let Some(root) = vectors() else { return };
    let policy = read(&root.join("timestamp/trustpolicy.json"))
        .replace("tsa:test-timestamp", "tsa:test-mismatch");
    let config = ts_store(&root, &[]);
    let f = failure(
        ts_case(&root, config.path(), policy, "jwsWithTimestamp.sig"),
        "wrong tsa root",
    );
    assert!(matches!(f, Failure::Timestamp(_)), "{f}");
}

// --- blob --------------------------------------------------------------------------------

fn blob_outcome(root: &Path, sig: &str, file: &str, level: &str, now: OffsetDateTime) -> Outcome {
    let dir = root.join("blob");
    let policy =
        read(&dir.join("trustpolicy.blob.json")).replacen("\"strict\"", &format!("\"{level}\""), 1);
    let document = BlobTrustPolicyDocument::parse(policy.as_bytes()).expect("valid blob policy");
    let policy = document.select(None).expect("global statement");
    let store = ConfigDir::new(&dir).trust_store();
    let bytes = std::fs::read(dir.join(file)).expect("blob");
    let subject = Subject::Blob {
        size: bytes.len() as u64,
        digests: [
            hallmark_oci::Algorithm::Sha256,
            hallmark_oci::Algorithm::Sha384,
            hallmark_oci::Algorithm::Sha512,
        ]
        .map(|a| a.digest(&bytes))
        .to_vec(),
        media_type: None,
    };
    let format = if sig.contains(".cose.") {
        EnvelopeFormat::Cose
    } else {
        EnvelopeFormat::Jws
    };
    let envelope = std::fs::read(dir.join(sig)).expect("signature");
    Verifier::new(policy, &store, &CrlChecker(&Offline)).verify(&Request {
        format,
        envelope: &envelope,
        subject: &subject,
        user_metadata: &BTreeMap::new(),
        now,
    })
}

#[test]
fn blob_signatures_pass_inside_their_signers_validity() {
    let Some(root) = vectors() else { return };
    let jws = blob_outcome(
        &root,
        "blob.jws.sig",
        "notation-LICENSE",
        "strict",
        datetime!(2024-12-31 12:00 UTC),
    );
    assert_pass(&jws, "blob.jws.sig at 2024-12-31T12:00Z");
    let cose = blob_outcome(
        &root,
        "blob.cose.sig",
        "notation-LICENSE",
        "strict",
        datetime!(2025-01-07 12:00 UTC),
    );
    assert_pass(&cose, "blob.cose.sig at 2025-01-07T12:00Z");
}

#[test]
fn blob_signature_now_fails_strict_and_passes_permissive() {
    let Some(root) = vectors() else { return };
    let f = failure(
        blob_outcome(&root, "blob.jws.sig", "notation-LICENSE", "strict", now()),
        "expired signer",
    );
    assert!(
        f.to_string()
            .contains("it was expired at \"Wed, 01 Jan 2025 08:04:39 +0000\""),
        "{f}"
    );
    for level in ["permissive", "audit"] {
        assert_pass(
            &blob_outcome(&root, "blob.jws.sig", "notation-LICENSE", level, now()),
            level,
        );
    }
}

#[test]
fn blob_signature_over_another_file_fails() {
    let Some(root) = vectors() else { return };
    let f = failure(
        blob_outcome(
            &root,
            "blob.jws.sig",
            "README.md",
            "strict",
            datetime!(2024-12-31 12:00 UTC),
        ),
        "other file",
    );
    assert!(matches!(f, Failure::SubjectMismatch { .. }), "{f}");
}

#[test]
fn malformed_blob_signature_fails_integrity() {
    let Some(root) = vectors() else { return };
    let f = failure(
        blob_outcome(
            &root,
            "malformed.jws.sig",
            "notation-LICENSE",
            "strict",
            now(),
        ),
        "malformed",
    );
    assert!(matches!(f, Failure::Integrity(_)), "{f}");
}
