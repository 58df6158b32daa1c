//! Building the TSA certificate chain from the token's certificates to a trusted root
//! (RFC 5652 §5.6 "the signer's certificate ... to a trusted root", RFC 5280 §6).
//!
//! The token brings the TSA leaf and usually its intermediates and root; trust comes only
//! from the `tsa` trust store. A path is found by issuer name and then signature, from the
//! signer upwards through the token's certificates, and ends at a certificate byte-equal to a
//! trust-store root or at a root that signed the last certificate. The search is a bounded
//! depth-first search, so a token carrying decoy certificates with the same names cannot
//! hide a valid path.

use hallmark_x509::Certificate;

use crate::cert_id::CertIdentity;

/// Longest chain tried, leaf and root included; real TSA chains have three certificates.
const MAX_CHAIN_LEN: usize = 8;

/// A certificate with the raw names used for path building.
pub(crate) struct Candidate<'a> {
    pub cert: &'a Certificate,
    pub identity: Option<CertIdentity>,
}

impl<'a> Candidate<'a> {
    pub fn new(cert: &'a Certificate) -> Self {
        Self {
            cert,
            identity: CertIdentity::from_der(cert.der()).ok(),
        }
    }

    /// Whether `self` names `issuer` as its issuer and `issuer`'s key signed it.
    fn issued_by(&self, issuer: &Candidate<'_>) -> bool {
        let names_match = match (&self.identity, &issuer.identity) {
            (Some(child), Some(parent)) => child.issuer == parent.subject,
            _ => false,
        };
        names_match && self.cert.verify_signed_by(issuer.cert).is_ok()
    }
}

/// Finds a chain `signer, intermediates..., root` with the root taken from `roots`.
pub(crate) fn build(
    signer: &Certificate,
    pool: &[Certificate],
    roots: &[Certificate],
) -> Option<Vec<Certificate>> {
    let pool: Vec<Candidate<'_>> = pool.iter().map(Candidate::new).collect();
    let roots: Vec<Candidate<'_>> = roots.iter().map(Candidate::new).collect();
    let mut path = vec![Candidate::new(signer)];
    if extend(&mut path, &pool, &roots) {
        Some(path.iter().map(|c| c.cert.clone()).collect())
    } else {
        None
    }
}

fn extend<'a>(
    path: &mut Vec<Candidate<'a>>,
    pool: &[Candidate<'a>],
    roots: &[Candidate<'a>],
) -> bool {
    let Some(current) = path.last() else {
        return false;
    };

    // The path ends at a trust-store certificate itself...
    if roots.iter().any(|r| r.cert.der() == current.cert.der()) {
        return true;
    }
    // ...or at a trust-store certificate that issued the last one.
    if let Some(root) = roots.iter().find(|r| current.issued_by(r)) {
        path.push(Candidate {
            cert: root.cert,
            identity: root.identity.clone(),
        });
        return true;
    }
    if path.len() >= MAX_CHAIN_LEN {
        return false;
    }

    for candidate in pool {
        let already = path.iter().any(|p| p.cert.der() == candidate.cert.der());
        let Some(current) = path.last() else {
            return false;
        };
        if already || !current.issued_by(candidate) {
            continue;
        }
        path.push(Candidate {
            cert: candidate.cert,
            identity: candidate.identity.clone(),
        });
        if extend(path, pool, roots) {
            return true;
        }
        path.pop();
    }
    false
}
