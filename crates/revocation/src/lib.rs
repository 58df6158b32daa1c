//! Certificate revocation: CRL parsing and checking, behind a fetcher the caller supplies.
