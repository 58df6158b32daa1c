//! Notary v1 metadata comes from trust servers and client caches: any bytes must parse or be
//! refused without a panic as every role, and what parses must answer the verifier's
//! questions (signature tally, canonical bytes) without one.
#![no_main]

use hallmark_tuf::{Root, Signed, Snapshot, Targets, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = Signed::<Root>::parse(data) {
        let role = &root.signed.roles.root;
        let _ = root.tally(role.threshold, |id| role.lookup(&root.signed.keys, id));
        for key in root.signed.keys.values() {
            let _ = key.canonical_id();
        }
    }
    if let Ok(targets) = Signed::<Targets>::parse(data) {
        for role in &targets.signed.delegations.roles {
            let _ = targets.tally(role.keys.threshold, |id| {
                role.keys.lookup(&targets.signed.delegations.keys, id)
            });
        }
    }
    let _ = Signed::<Snapshot>::parse(data);
    let _ = Signed::<Timestamp>::parse(data);
});
