//! Trust policy files are imported from wherever users get them: any bytes must parse or be
//! refused without a panic, and a document that parses selects without one.
#![no_main]

use hallmark_trust::{BlobTrustPolicyDocument, OciTrustPolicyDocument};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = OciTrustPolicyDocument::parse(data) {
        let _ = doc.select("localhost:5000/app");
    }
    if let Ok(doc) = BlobTrustPolicyDocument::parse(data) {
        let _ = doc.select(None);
    }
});
