//! A black-box conformance suite for `hallmark serve`, written from the OCI distribution
//! spec v1.1 (and the parts of its main branch Hallmark implements). Every test starts the
//! real binary on loopback and speaks HTTP to it; nothing here calls the server's code.
//!
//! One module per family of endpoints: `pull` (version check, manifests and blobs, ranges),
//! `push` (manifest push and validation), `uploads` (blob uploads, mounts, sha512),
//! `referrers`, `listing` (tags and catalog), `delete`, `errors` (error bodies, names, tags,
//! methods) and `restart` (what survives a restart of the server).
//!
//! Spec: <https://github.com/opencontainers/distribution-spec/blob/main/spec.md>

#[path = "../common/mod.rs"]
mod common;
mod support;

mod delete;
mod errors;
mod listing;
mod pull;
mod push;
mod referrers;
mod restart;
mod uploads;
