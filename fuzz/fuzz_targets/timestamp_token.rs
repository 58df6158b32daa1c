//! RFC 3161 tokens are unsigned attributes of an envelope, so anyone can put bytes there:
//! BER or DER of any shape must not panic.
#![no_main]

use hallmark_timestamp::TimestampToken;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = TimestampToken::parse(data) {
        let _ = token.gen_time();
        let _ = token.accuracy();
        let _ = token.verify(b"signature", &[]);
    }
});
