//! Content digests, as defined by the OCI image spec's "Digests" section.
//!
//! A digest is `algorithm ":" encoded`. Hallmark accepts the two registered algorithms,
//! `sha256` and `sha512`, and `sha384`, which the Notary Project uses for blob signatures
//! made with RSA-3072 and P-384 keys. The encoded part is lowercase hex of a fixed length. Any
//! other algorithm is rejected at parse time, so a `Digest` always names content we can verify.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;
use thiserror::Error;

/// A registered digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, the default for OCI content.
    Sha256,
    /// SHA-384 (not registered by OCI; Notary Project blob payloads use it).
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used in digest strings.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length in hex characters of the encoded part.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }

    /// Starts an incremental hash with this algorithm.
    pub fn digester(self) -> Digester {
        match self {
            Algorithm::Sha256 => Digester::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Digester::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => Digester::Sha512(sha2::Sha512::new()),
        }
    }

    /// Digest of a whole byte slice.
    pub fn digest(self, data: &[u8]) -> Digest {
        let mut d = self.digester();
        d.update(data);
        d.finish()
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sha256" => Ok(Algorithm::Sha256),
            "sha384" => Ok(Algorithm::Sha384),
            "sha512" => Ok(Algorithm::Sha512),
            other => Err(DigestError::UnsupportedAlgorithm(other.to_owned())),
        }
    }
}

/// Why a string is not a usable digest.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DigestError {
    /// No `:` between algorithm and encoded part.
    #[error("digest has no ':' separating algorithm and hex")]
    MissingSeparator,
    /// The algorithm is not sha256, sha384 or sha512.
    #[error("unsupported digest algorithm '{0}' (supported: sha256, sha384, sha512)")]
    UnsupportedAlgorithm(String),
    /// The encoded part has the wrong length for its algorithm.
    #[error("{algorithm} digest must have {expected} hex characters, found {found}")]
    BadLength {
        /// The algorithm named by the digest.
        algorithm: Algorithm,
        /// Required length.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// The encoded part is not lowercase hex.
    #[error("digest hex must be lowercase 0-9a-f")]
    NotHex,
}

/// A verified-form content digest such as `sha256:e3b0…`.
///
/// The string form is kept whole so that formatting, hashing and comparison are cheap.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    text: Box<str>,
}

impl Digest {
    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part, after the `:`.
    pub fn hex(&self) -> &str {
        &self.text[self.algorithm.as_str().len() + 1..]
    }

    /// The whole digest string.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The referrers tag schema's tag for this digest: `<alg>-<ref>`, where `<ref>` is the
    /// hex part limited to 64 characters (distribution spec, "Referrers Tag Schema").
    pub fn fallback_tag(&self) -> String {
        let hex = self.hex();
        format!("{}-{}", self.algorithm, &hex[..hex.len().min(64)])
    }

    fn from_hash(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        let mut text = String::with_capacity(algorithm.as_str().len() + 1 + bytes.len() * 2);
        text.push_str(algorithm.as_str());
        text.push(':');
        for b in bytes {
            text.push(char::from(HEX[usize::from(b >> 4)]));
            text.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        Digest {
            algorithm,
            text: text.into(),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (alg, hex) = s.split_once(':').ok_or(DigestError::MissingSeparator)?;
        let algorithm: Algorithm = alg.parse()?;
        if hex.len() != algorithm.hex_len() {
            return Err(DigestError::BadLength {
                algorithm,
                expected: algorithm.hex_len(),
                found: hex.len(),
            });
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DigestError::NotHex);
        }
        Ok(Digest {
            algorithm,
            text: s.into(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental hash that yields a [`Digest`].
#[derive(Clone)]
pub enum Digester {
    /// SHA-256 state.
    Sha256(sha2::Sha256),
    /// SHA-384 state.
    Sha384(sha2::Sha384),
    /// SHA-512 state.
    Sha512(sha2::Sha512),
}

impl Digester {
    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Digester::Sha256(h) => h.update(data),
            Digester::Sha384(h) => h.update(data),
            Digester::Sha512(h) => h.update(data),
        }
    }

    /// The algorithm in use.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Digester::Sha256(_) => Algorithm::Sha256,
            Digester::Sha384(_) => Algorithm::Sha384,
            Digester::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// Completes the hash.
    pub fn finish(self) -> Digest {
        match self {
            Digester::Sha256(h) => Digest::from_hash(Algorithm::Sha256, &h.finalize()),
            Digester::Sha384(h) => Digest::from_hash(Algorithm::Sha384, &h.finalize()),
            Digester::Sha512(h) => Digest::from_hash(Algorithm::Sha512, &h.finalize()),
        }
    }
}

impl fmt::Debug for Digester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digester({})", self.algorithm())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn hashes_empty_input() {
        assert_eq!(Algorithm::Sha256.digest(b"").as_str(), EMPTY);
        let d512 = Algorithm::Sha512.digest(b"");
        assert!(d512.as_str().starts_with("sha512:cf83e1357eefb8bd"));
        assert_eq!(d512.hex().len(), 128);
    }

    #[test]
    fn parses_and_rejects() {
        let cases: &[(&str, Option<DigestError>)] = &[
            (EMPTY, None),
            ("sha256", Some(DigestError::MissingSeparator)),
            (
                "md5:abcd",
                Some(DigestError::UnsupportedAlgorithm("md5".into())),
            ),
            (
                "sha256:abcd",
                Some(DigestError::BadLength {
                    algorithm: Algorithm::Sha256,
                    expected: 64,
                    found: 4,
                }),
            ),
            (
                "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                Some(DigestError::NotHex),
            ),
            (
                "sha256:../0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Some(DigestError::NotHex),
            ),
        ];
        for (input, want) in cases {
            let got = input.parse::<Digest>();
            match want {
                None => assert_eq!(got.expect("valid digest").as_str(), *input),
                Some(e) => assert_eq!(got.expect_err("invalid digest"), *e, "{input}"),
            }
        }
    }

    #[test]
    fn fallback_tag_replaces_colon() {
        let d: Digest = EMPTY.parse().expect("valid");
        assert_eq!(d.fallback_tag(), EMPTY.replace(':', "-"));
        let long = Algorithm::Sha512.digest(b"x");
        assert_eq!(long.fallback_tag(), format!("sha512-{}", &long.hex()[..64]));
    }
}
