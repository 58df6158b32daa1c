//! cosign payloads, DSSE envelopes, in-toto statements, sigstore bundles and attachment
//! manifests come from registries anyone can write to: any bytes must parse or be refused
//! without a panic.
#![no_main]

use hallmark_cosign::attachment;
use hallmark_cosign::bundle::Bundle;
use hallmark_cosign::dsse::Envelope;
use hallmark_cosign::in_toto::Statement;
use hallmark_cosign::simple_signing::Payload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = Payload::parse(data) {
        let _ = payload.to_bytes();
        let _ = payload.annotation("a");
    }
    if let Ok(envelope) = Envelope::parse(data) {
        let _ = envelope.to_bytes();
    }
    let _ = Statement::parse(data);
    let _ = Bundle::parse(data);
    let _ = attachment::layers(data, "application/vnd.oci.image.manifest.v1+json");
});
