//! RFC 3161 time-stamp tokens: requests, parsing and verification against a TSA trust store.
