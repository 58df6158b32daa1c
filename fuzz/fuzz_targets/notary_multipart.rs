//! The Notary v1 publish endpoint reads a multipart body from any client: any bytes, under
//! any boundary taken from a Content-Type, must parse or be refused without a panic.
#![no_main]

use hallmark_notary_server::multipart;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let (head, body) = data.split_at(split);
    if let Ok(boundary) = multipart::boundary(&String::from_utf8_lossy(head)) {
        let _ = multipart::parse(body, &boundary);
    }
    let _ = multipart::parse(data, "b");
});
