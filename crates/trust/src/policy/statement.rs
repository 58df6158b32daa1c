//! A trust policy statement: the part OCI and blob policies share (name, signature
//! verification, trust stores, trusted identities), and its validation, which follows
//! notation-go's `validatePolicyCore` rule by rule and in the same order, so the first error
//! reported is the one notation would report.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::SUPPORTED_VERSION;
use super::error::{PolicyError, PolicyKind, SignatureVerificationError, StatementError};
use super::identity::{IdentityError, TrustedIdentity};
use super::level::{Actions, Level, VerifyTimestamp, apply_overrides};
use crate::trust_store::{StoreType, is_valid_store_name};

/// A validated trust policy statement, as the verifier uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    /// Statement name, unique in its document.
    pub name: String,
    /// The level as written.
    pub level: Level,
    /// The action of each check, after `override`.
    pub actions: Actions,
    /// When the timestamp countersignature is checked.
    pub verify_timestamp: VerifyTimestamp,
    /// Trust stores, in document order (duplicates kept, as notation keeps them).
    pub trust_stores: Vec<(StoreType, String)>,
    /// Trusted identities, in document order.
    pub trusted_identities: Vec<TrustedIdentity>,
}

impl TrustPolicy {
    /// Whether the statement skips verification altogether.
    pub fn is_skip(&self) -> bool {
        self.level == Level::Skip
    }

    /// Names of the listed stores of one type.
    pub fn stores_of_type(&self, ty: StoreType) -> impl Iterator<Item = &str> {
        self.trust_stores
            .iter()
            .filter(move |(t, _)| *t == ty)
            .map(|(_, n)| n.as_str())
    }
}

/// `signatureVerification` as written in the document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RawSignatureVerification {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub level: String,
    #[serde(
        rename = "override",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub overrides: BTreeMap<String, String>,
    #[serde(
        rename = "verifyTimestamp",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub verify_timestamp: String,
}

/// Go decodes JSON `null` into a zero value; serde would refuse it for a `String` or `Vec`.
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The shared statement members as written, borrowed from an OCI or blob statement.
pub(crate) struct RawCore<'a> {
    pub name: &'a str,
    pub signature_verification: &'a RawSignatureVerification,
    pub trust_stores: &'a [String],
    pub trusted_identities: &'a [String],
}

/// Validates the shared members and builds the statement the verifier uses.
pub(crate) fn validate_core(raw: RawCore<'_>) -> Result<TrustPolicy, StatementError> {
    if raw.name.is_empty() {
        return Err(StatementError::MissingName);
    }
    let name = raw.name.to_owned();
    let sv_error = |rule| StatementError::SignatureVerification {
        name: name.clone(),
        rule,
    };

    let (level, actions) = signature_verification(raw.signature_verification).map_err(sv_error)?;
    let verify_timestamp = match raw.signature_verification.verify_timestamp.as_str() {
        "" | "always" => VerifyTimestamp::Always,
        "afterCertExpiry" => VerifyTimestamp::AfterCertExpiry,
        other => {
            let value = other.to_owned();
            return Err(sv_error(
                SignatureVerificationError::UnsupportedVerifyTimestamp { value },
            ));
        }
    };

    // Skip needs nothing to trust; every other level needs both stores and identities.
    let has_stores = !raw.trust_stores.is_empty();
    let has_identities = !raw.trusted_identities.is_empty();
    if level == Level::Skip {
        if has_stores || has_identities {
            return Err(StatementError::SkipWithStoresOrIdentities { name });
        }
    } else if !has_stores || !has_identities {
        return Err(StatementError::MissingStoresOrIdentities { name });
    }

    let trust_stores = trust_stores(&name, raw.trust_stores)?;
    let trusted_identities = trusted_identities(&name, raw.trusted_identities)?;
    Ok(TrustPolicy {
        name,
        level,
        actions,
        verify_timestamp,
        trust_stores,
        trusted_identities,
    })
}

fn signature_verification(
    raw: &RawSignatureVerification,
) -> Result<(Level, Actions), SignatureVerificationError> {
    if raw.level.is_empty() {
        return Err(SignatureVerificationError::EmptyLevel);
    }
    let level: Level = raw.level.parse()?;
    let overrides = raw.overrides.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    Ok((level, apply_overrides(level, overrides)?))
}

fn trust_stores(name: &str, values: &[String]) -> Result<Vec<(StoreType, String)>, StatementError> {
    values
        .iter()
        .map(|value| {
            let Some((ty, store)) = value.split_once(':') else {
                return Err(StatementError::MalformedTrustStore {
                    name: name.to_owned(),
                    value: value.clone(),
                });
            };
            let Ok(ty) = ty.parse::<StoreType>() else {
                return Err(StatementError::UnsupportedTrustStoreType {
                    name: name.to_owned(),
                    store_type: ty.to_owned(),
                    value: value.clone(),
                });
            };
            if !is_valid_store_name(store) {
                return Err(StatementError::InvalidTrustStoreName {
                    name: name.to_owned(),
                    store: store.to_owned(),
                    value: value.clone(),
                });
            }
            Ok((ty, store.to_owned()))
        })
        .collect()
}

fn trusted_identities(
    name: &str,
    values: &[String],
) -> Result<Vec<TrustedIdentity>, StatementError> {
    let name = name.to_owned();
    if values.len() > 1 && values.iter().any(|v| v == "*") {
        return Err(StatementError::WildcardIdentityWithOthers { name });
    }

    let mut identities = Vec::with_capacity(values.len());
    for value in values {
        if value.is_empty() {
            return Err(StatementError::EmptyIdentity { name });
        }
        let identity = value.clone();
        let parsed = TrustedIdentity::parse(value).map_err(|e| match e {
            IdentityError::MissingSeparator => StatementError::IdentityMissingSeparator {
                name: name.clone(),
                identity,
            },
            IdentityError::WithoutValue => StatementError::IdentityWithoutValue {
                name: name.clone(),
                identity,
            },
            IdentityError::Dn(rule) => StatementError::InvalidIdentityValue {
                name: name.clone(),
                identity,
                rule,
            },
        })?;
        identities.push(parsed);
    }

    check_overlaps(&name, values, &identities)?;
    Ok(identities)
}

/// One x509 identity contained in another makes the statement ambiguous (notation-go's
/// `validateOverlappingDNs`); identical identities overlap too.
fn check_overlaps(
    name: &str,
    values: &[String],
    identities: &[TrustedIdentity],
) -> Result<(), StatementError> {
    let maps: Vec<_> = identities
        .iter()
        .map(TrustedIdentity::attribute_map)
        .collect();
    for (i, first) in maps.iter().enumerate() {
        for (j, second) in maps.iter().enumerate() {
            let (Some(first), Some(second)) = (first, second) else {
                continue;
            };
            if i != j && first.iter().all(|(k, v)| second.get(k) == Some(v)) {
                return Err(StatementError::OverlappingIdentities {
                    name: name.to_owned(),
                    first: values[i].clone(),
                    second: values[j].clone(),
                });
            }
        }
    }
    Ok(())
}

/// The document rules both policy kinds share: a version, the one notation knows, and at
/// least one statement.
pub(crate) fn check_document(
    kind: PolicyKind,
    version: &str,
    statements: usize,
) -> Result<(), PolicyError> {
    if version.is_empty() {
        return Err(PolicyError::EmptyVersion { kind });
    }
    if version != SUPPORTED_VERSION {
        return Err(PolicyError::UnsupportedVersion {
            kind,
            version: version.to_owned(),
        });
    }
    if statements == 0 {
        return Err(PolicyError::NoStatements { kind });
    }
    Ok(())
}
