//! Notary Project trust store and trust policy (OCI and blob) in the notation file formats.
