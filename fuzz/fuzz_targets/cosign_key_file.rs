//! cosign key files are handed to us by users and pipelines: any bytes must be refused or
//! opened without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hallmark_cosign::key_file::decrypt(data, b"password");
});
