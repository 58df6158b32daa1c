//! The Notary Project verification algorithm: policy, integrity, authenticity, expiry, timestamp, revocation.
