//! Certificates arrive in envelopes, trust stores and timestamp tokens: PEM or DER input must
//! not panic, and what parses must answer every accessor the verifier uses.
#![no_main]

use hallmark_x509::Certificate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(certs) = Certificate::parse_many(data) {
        for c in &certs {
            let _ = c.subject().to_string();
            let _ = c.is_ca();
            let _ = c.public_key();
            let _ = c.key_usage();
            let _ = c.extended_key_usage();
            let _ = c.basic_constraints();
            let _ = c.crl_distribution_points();
            let _ = c.is_self_signed();
        }
    }
    let _ = Certificate::from_der(data);
});
