//! The CRL file cache in front of a fake fetcher that counts downloads.

mod common;

use common::*;
use hallmark_revocation::{CachingFetcher, CrlFetcher, FetchError, Status, check_chain};
use rcgen::{Issuer, KeyPair};
use time::{Duration, OffsetDateTime};
// ---------------------------------------------------------------------------------------------
// The file cache

fn later() -> OffsetDateTime {
    NOW + Duration::days(2)
}

fn now() -> OffsetDateTime {
    NOW
}

#[test]
fn cache_serves_second_check_without_fetching() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeFetcher::new(&[
        (LEAF_CRL, crl(&pki.intermediate, vec![], window(NOW))),
        (ROOT_CRL, pki.root_crl()),
    ]);
    let cache = CachingFetcher::new(&fake, dir.path()).with_clock(now);
    let chain = pki.chain(pki.leaf(SERIAL, &[LEAF_CRL], vec![]));

    assert_eq!(check_chain(&chain, &cache, None, NOW)[0], Status::Good);
    assert_eq!(fake.calls(), 2);
    assert_eq!(check_chain(&chain, &cache, None, NOW)[0], Status::Good);
    assert_eq!(fake.calls(), 2, "second check is answered from the cache");

    // A new fetcher over the same directory (another process) uses the files too.
    let again = CachingFetcher::new(&fake, dir.path()).with_clock(now);
    assert_eq!(check_chain(&chain, &again, None, NOW)[0], Status::Good);
    assert_eq!(fake.calls(), 2);
}

#[test]
fn cache_refetches_after_next_update() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeFetcher::new(&[(LEAF_CRL, crl(&pki.intermediate, vec![], window(NOW)))]);
    let early = CachingFetcher::new(&fake, dir.path()).with_clock(now);
    early.fetch(LEAF_CRL).expect("first fetch");
    early.fetch(LEAF_CRL).expect("cached");
    assert_eq!(fake.calls(), 1);

    // Past nextUpdate the cached CRL is stale; the new one replaces it.
    let fresh = crl(
        &pki.intermediate,
        vec![revoked(SERIAL, None)],
        window(later()),
    );
    fake.set(LEAF_CRL, fresh.clone());
    let late = CachingFetcher::new(&fake, dir.path()).with_clock(later);
    assert_eq!(late.fetch(LEAF_CRL).expect("refetch"), fresh);
    assert_eq!(fake.calls(), 2);
    assert_eq!(late.fetch(LEAF_CRL).expect("cached again"), fresh);
    assert_eq!(fake.calls(), 2);
}

#[test]
fn cache_does_not_keep_an_expired_crl() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let stale = crl(
        &pki.intermediate,
        vec![],
        (NOW - Duration::days(8), NOW - Duration::days(1)),
    );
    let fake = FakeFetcher::new(&[(LEAF_CRL, stale)]);
    let cache = CachingFetcher::new(&fake, dir.path()).with_clock(now);
    cache.fetch(LEAF_CRL).expect("fetch");
    cache.fetch(LEAF_CRL).expect("fetch");
    assert_eq!(
        fake.calls(),
        2,
        "an expired CRL is never served from the cache"
    );
}

#[test]
fn cache_ignores_corrupt_files() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let good = crl(&pki.intermediate, vec![], window(NOW));
    let fake = FakeFetcher::new(&[(LEAF_CRL, good.clone())]);
    let cache = CachingFetcher::new(&fake, dir.path()).with_clock(now);
    cache.fetch(LEAF_CRL).expect("fill");
    assert_eq!(fake.calls(), 1);

    let files = |suffix: &str| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == suffix))
            .collect()
    };
    assert_eq!(files("crl").len(), 1);
    assert_eq!(files("meta").len(), 1);

    // Corrupt CRL bytes: digest mismatch, refetched and rewritten.
    std::fs::write(&files("crl")[0], b"garbage").expect("corrupt");
    assert_eq!(cache.fetch(LEAF_CRL).expect("refetch"), good);
    assert_eq!(fake.calls(), 2);
    assert_eq!(cache.fetch(LEAF_CRL).expect("cached"), good);
    assert_eq!(fake.calls(), 2);

    // Corrupt sidecar: refetched.
    std::fs::write(&files("meta")[0], b"\xff\xfe nonsense").expect("corrupt");
    assert_eq!(cache.fetch(LEAF_CRL).expect("refetch"), good);
    assert_eq!(fake.calls(), 3);
    assert_eq!(cache.fetch(LEAF_CRL).expect("cached"), good);
    assert_eq!(fake.calls(), 3);
}

#[test]
fn cache_passes_fetch_errors_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeFetcher::default();
    let cache = CachingFetcher::new(&fake, dir.path()).with_clock(now);
    assert!(matches!(
        cache.fetch(LEAF_CRL),
        Err(FetchError::Status { status: 404, .. })
    ));
    assert_eq!(
        std::fs::read_dir(dir.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}

#[test]
fn cached_crl_failing_the_check_is_evicted_and_refetched() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let impostor = Issuer::new(
        ca_params("Test Intermediate", Some(ROOT_CRL)),
        KeyPair::generate().expect("key"),
    );
    let fake = FakeFetcher::new(&[
        (LEAF_CRL, crl(&impostor, vec![], window(NOW))),
        (ROOT_CRL, pki.root_crl()),
    ]);
    let cache = CachingFetcher::new(&fake, dir.path()).with_clock(now);
    let chain = pki.chain(pki.leaf(SERIAL, &[LEAF_CRL], vec![]));

    // Freshly downloaded and bad: no second download (another copy would not differ).
    assert_unknown(&check_chain(&chain, &cache, None, NOW)[0], "not signed by");
    assert_eq!(fake.calls_to(LEAF_CRL), 1);

    // The bad CRL sits in the cache; meanwhile the server publishes a good one.
    cache.fetch(LEAF_CRL).expect("fill the cache");
    assert_eq!(fake.calls_to(LEAF_CRL), 2);
    fake.set(LEAF_CRL, crl(&pki.intermediate, vec![], window(NOW)));

    // The cached copy fails the check, is evicted and downloaded again.
    assert_eq!(check_chain(&chain, &cache, None, NOW)[0], Status::Good);
    assert_eq!(fake.calls_to(LEAF_CRL), 3);
    assert_eq!(check_chain(&chain, &cache, None, NOW)[0], Status::Good);
    assert_eq!(fake.calls_to(LEAF_CRL), 3);
}
