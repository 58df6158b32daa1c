//! Notary Project signature envelopes: JWS and COSE_Sign1, signing and integrity.
