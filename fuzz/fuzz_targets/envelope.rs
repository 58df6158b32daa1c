//! Signature envelopes come from registries and files: parsing any bytes as JWS or COSE must
//! not panic, nor may checking the integrity of whatever parses.
#![no_main]

use hallmark_envelope::{Envelope, EnvelopeFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        if let Ok(envelope) = Envelope::parse(format, data) {
            let _ = envelope.verify_integrity();
            let _ = envelope.payload();
        }
    }
});
