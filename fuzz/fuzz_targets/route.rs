//! Request paths are untrusted: routing any path must not panic, and a routed name never
//! escapes the storage root.
#![no_main]

use hallmark_registry::route::{self, Route};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    if let Ok(Some(r)) = route::parse(path) {
        let name = match &r {
            Route::Base | Route::Catalog => return,
            Route::Manifest(n, _)
            | Route::Blob(n, _)
            | Route::UploadStart(n)
            | Route::Upload(n, _)
            | Route::Tags(n)
            | Route::Referrers(n, _) => n,
        };
        assert!(name.components().all(|c| c != ".." && c != "." && !c.is_empty()));
    }
});
