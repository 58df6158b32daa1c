//! Names, tags, references and digests arrive in URLs: parsing must not panic, and what parses
//! must print back as the same string.
#![no_main]

use hallmark_oci::{Digest, Reference, RepositoryName, Tag};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(n) = s.parse::<RepositoryName>() {
        assert_eq!(n.as_str(), s);
        assert!(n.components().all(|c| !c.is_empty() && c != ".." && !c.starts_with('_')));
    }
    if let Ok(t) = s.parse::<Tag>() {
        assert_eq!(t.as_str(), s);
        assert!(!t.as_str().contains('/'));
    }
    if let Ok(d) = s.parse::<Digest>() {
        assert_eq!(d.as_str(), s);
        assert_eq!(d.hex().len(), d.algorithm().hex_len());
    }
    if let Ok(r) = s.parse::<Reference>() {
        assert_eq!(r.to_string(), s);
    }
});
