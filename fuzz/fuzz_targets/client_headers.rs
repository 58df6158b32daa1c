//! Registry answers reach the client as headers and as references users paste: the
//! `WWW-Authenticate` challenge, the `Link` of a paged list, an upload session's `Range`, and
//! image references must parse without panicking, and a parsed reference must print back to
//! something that parses to the same reference.
#![no_main]

use hallmark_client::auth::Challenge;
use hallmark_client::blob::range_held;
use hallmark_client::client::link_next;
use hallmark_oci::ImageRef;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Some(Challenge::Bearer { realm, .. }) = Challenge::parse(s) {
        assert!(!realm.is_empty() || s.contains("realm"));
    }
    if let Some(target) = link_next(s) {
        assert!(s.contains(target));
    }
    if let Some(n) = range_held(s) {
        assert!(n == 0 || s.contains('-'));
    }
    if let Ok(r) = s.parse::<ImageRef>() {
        let again: ImageRef = r.to_string().parse().expect("a printed reference parses");
        assert_eq!(again, r);
    }
});
