//! X.509 certificates, keys and the Notary Project certificate chain rules.
