//! What the Notary Project commands share: the configuration directory flag, the signing key
//! named in `signingkeys.json`, the trust policy with the help its absence deserves, and the
//! `-m KEY=VALUE` and duration flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hallmark_trust::{
    BlobTrustPolicyDocument, ConfigDir, OciTrustPolicyDocument, PolicyFileError, SigningKeys,
};
use hallmark_x509::{Certificate, SigningKey};

use crate::UsageError;

/// `--config-dir`: where the trust store, trust policies and signing keys live.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Configuration directory in notation's layout (default: $HALLMARK_CONFIG_DIR, else
    /// ~/.config/hallmark). An existing notation directory works unchanged.
    #[arg(long, value_name = "DIR", global = true)]
    pub config_dir: Option<PathBuf>,
}

impl ConfigArgs {
    /// The directory.
    pub fn dir(&self) -> anyhow::Result<ConfigDir> {
        Ok(ConfigDir::locate(self.config_dir.clone())?)
    }
}

/// Parses `KEY=VALUE` flags into a map; a key given twice is an error.
pub fn metadata(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| UsageError(format!("metadata {pair:?} is not KEY=VALUE")))?;
        if k.starts_with("io.cncf.notary") {
            return Err(UsageError(format!(
                "metadata key {k:?} uses the reserved prefix io.cncf.notary"
            ))
            .into());
        }
        if out.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err(UsageError(format!("metadata key {k:?} is given twice")).into());
        }
    }
    Ok(out)
}

/// Parses a duration such as `24h`, `90m`, `1h30m`, `7d` or `3600s`.
pub fn duration(text: &str) -> Result<time::Duration, String> {
    let bad = || format!("{text:?} is not a duration such as 24h, 90m, 1h30m or 7d");
    let mut total = time::Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "s" => time::Duration::seconds(n),
            "m" => time::Duration::minutes(n),
            "h" => time::Duration::hours(n),
            "d" => time::Duration::days(n),
            _ => return Err(bad()),
        };
        total += unit;
        rest = &rest[unit_len..];
    }
    if total <= time::Duration::ZERO {
        return Err(bad());
    }
    Ok(total)
}

/// The signing key `name` (or the default) from `signingkeys.json`, with its certificate
/// chain; checks that the key and the leaf certificate belong together.
pub fn signing_key(
    dir: &ConfigDir,
    name: Option<&str>,
) -> anyhow::Result<(String, SigningKey, Vec<Certificate>)> {
    let keys = SigningKeys::load(&dir.signing_keys_path())?;
    let entry = keys.resolve(name).map_err(|e| {
        anyhow::anyhow!(
            "{e}; create one with `hallmark cert generate-test NAME --default` or register an \
             existing key with `hallmark key add NAME --key-file KEY --cert-file CERT`"
        )
    })?;
    let (Some(key_path), Some(cert_path)) = (&entry.key_path, &entry.cert_path) else {
        anyhow::bail!(
            "signing key {:?} is a plugin key; Hallmark does not run notation plugins",
            entry.name
        );
    };
    let (key, chain) = key_pair(Path::new(key_path), Path::new(cert_path))?;
    Ok((entry.name.clone(), key, chain))
}

/// Reads a PEM private key and its PEM certificate chain (leaf first) and checks that the key
/// is the leaf's.
pub fn key_pair(
    key_path: &Path,
    cert_path: &Path,
) -> anyhow::Result<(SigningKey, Vec<Certificate>)> {
    let pem = std::fs::read(key_path)
        .with_context(|| format!("cannot read the private key {}", key_path.display()))?;
    let key = SigningKey::from_pem(&pem)
        .with_context(|| format!("the private key {} cannot be used", key_path.display()))?;
    let certs = std::fs::read(cert_path)
        .with_context(|| format!("cannot read the certificate {}", cert_path.display()))?;
    let chain = Certificate::parse_many(&certs)
        .with_context(|| format!("the certificate file {} is invalid", cert_path.display()))?;
    let leaf = chain
        .first()
        .with_context(|| format!("{} holds no certificate", cert_path.display()))?;
    if leaf.public_key()?.spki_der() != key.public_key()?.spki_der() {
        anyhow::bail!(
            "the private key {} does not belong to the certificate {} (subject {})",
            key_path.display(),
            cert_path.display(),
            leaf.subject()
        );
    }
    Ok((key, chain))
}

/// The OCI trust policy document, or an error that says how to make one.
pub fn oci_policy(dir: &ConfigDir) -> anyhow::Result<OciTrustPolicyDocument> {
    match dir.load_oci_policy() {
        Ok(doc) => Ok(doc),
        Err(PolicyFileError::NotPresent { .. }) => Err(anyhow::anyhow!(
            "no trust policy found: neither {} nor {} exists; create one with `hallmark policy \
             init --name NAME --scope REGISTRY/REPO --trust-store ca:STORE --trusted-identity \
             '*'` or import one with `hallmark policy import FILE`",
            dir.root.join("trustpolicy.oci.json").display(),
            dir.root.join("trustpolicy.json").display()
        )),
        Err(e) => Err(e.into()),
    }
}

/// The blob trust policy document, or an error that says how to make one.
pub fn blob_policy(dir: &ConfigDir) -> anyhow::Result<BlobTrustPolicyDocument> {
    match dir.load_blob_policy() {
        Ok(doc) => Ok(doc),
        Err(PolicyFileError::NotPresent { path }) => Err(anyhow::anyhow!(
            "no blob trust policy found at {}; create one with `hallmark blob policy init --name \
             NAME --trust-store ca:STORE --trusted-identity '*' --global` or import one with \
             `hallmark blob policy import FILE`",
            path.display()
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("24h"), Ok(time::Duration::hours(24)));
        assert_eq!(duration("1h30m"), Ok(time::Duration::minutes(90)));
        assert_eq!(duration("7d"), Ok(time::Duration::days(7)));
        for bad in ["", "h", "10", "5y", "-1h", "0s"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn metadata_pairs() {
        let m = metadata(&["a=1".into(), "b=x=y".into()]).expect("valid");
        assert_eq!(m["b"], "x=y");
        assert!(metadata(&["noequals".into()]).is_err());
        assert!(metadata(&["a=1".into(), "a=2".into()]).is_err());
        assert!(metadata(&["io.cncf.notary.x=1".into()]).is_err());
    }
}
