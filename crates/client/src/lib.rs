//! A client for OCI registries and OCI image layouts.
//!
//! It speaks the OCI distribution spec v1.1
//! (<https://github.com/opencontainers/distribution-spec/blob/main/spec.md>) to any registry:
//! Hallmark's own, distribution 2.x, Docker Hub, GHCR, Harbor, zot. Modules follow the spec's
//! concepts: [`auth`] (token and basic authentication) and [`credentials`] (Docker and
//! containers credential files), [`client`] (transport and TLS), [`registry`] (a repository),
//! [`manifest`], [`blob`], [`referrers`] (API and tag schema), [`layout`] (OCI image layout
//! on disk), [`target`] (either of the two) and [`copy`] (graphs between targets).
//!
//! Every byte read from a registry or layout is checked against its digest before the client
//! writes it anywhere.

pub mod auth;
pub mod blob;
pub mod client;
pub mod copy;
pub mod credentials;
pub mod error;
mod http;
pub mod layout;
pub mod manifest;
pub mod referrers;
pub mod registry;
pub mod target;

pub use blob::{NoProgress, Outcome, Progress};
pub use client::{Client, ClientConfig};
pub use credentials::{Credential, CredentialStore};
pub use error::{Error, Result};

pub use layout::Layout;
pub use referrers::{ReferrersMode, ReferrersSource};
pub use registry::Repository;
pub use target::Target;
