//! Manifest bodies are untrusted: parsing any bytes must not panic, and whatever parses must
//! give a consistent view of its references.
#![no_main]

use hallmark_oci::Manifest;
use hallmark_oci::media_type::{self, ManifestKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for content_type in [None, Some(media_type::OCI_MANIFEST), Some(media_type::OCI_INDEX)] {
        if let Ok(m) = Manifest::parse(data, content_type) {
            assert!(media_type::manifest_kind(&m.media_type) == Some(m.kind));
            if m.kind == ManifestKind::Image {
                assert!(m.config.is_some());
            }
            let _ = m.required_blobs().count();
            let _ = m.effective_artifact_type();
        }
    }
});
