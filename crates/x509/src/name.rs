//! Distinguished names (RFC 5280 §4.1.2.4) as the Notary Project compares them.
//!
//! Trusted identities in a trust policy (`x509.subject: C=US, ST=WA, O=...`) are matched
//! attribute by attribute against the leaf certificate's subject. notation gets the leaf's
//! attributes from Go's `pkix.Name`, so the short type names here are Go's: `C`, `ST`, `L`,
//! `O`, `OU`, `CN`, `SERIALNUMBER`, `STREET`, `POSTALCODE`, plus `DC` (RFC 4514). Any other
//! type, including `emailAddress` (which Go does not name), is kept as its dotted OID.

use std::fmt;

use const_oid::ObjectIdentifier;
use der::{Tag, TagNumber, Tagged};
use x509_cert::name::Name;

/// Attribute types with a short name, as Go's `pkix` names them (and `DC` from RFC 4514).
const SHORT_NAMES: &[(ObjectIdentifier, &str)] = &[
    (ObjectIdentifier::new_unwrap("2.5.4.6"), "C"),
    (ObjectIdentifier::new_unwrap("2.5.4.8"), "ST"),
    (ObjectIdentifier::new_unwrap("2.5.4.7"), "L"),
    (ObjectIdentifier::new_unwrap("2.5.4.10"), "O"),
    (ObjectIdentifier::new_unwrap("2.5.4.11"), "OU"),
    (ObjectIdentifier::new_unwrap("2.5.4.3"), "CN"),
    (ObjectIdentifier::new_unwrap("2.5.4.5"), "SERIALNUMBER"),
    (ObjectIdentifier::new_unwrap("2.5.4.9"), "STREET"),
    (ObjectIdentifier::new_unwrap("2.5.4.17"), "POSTALCODE"),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.25"),
        "DC",
    ),
];

/// A distinguished name: its attributes in certificate order (most significant first, so
/// usually `C` first), each as (short type name, value).
///
/// Types without a short name are kept as dotted OIDs (for example
/// `1.2.840.113549.1.9.1` for emailAddress). Values are the decoded strings
/// (PrintableString, UTF8String, IA5String, BMPString, ...); a value of any other ASN.1 type
/// is given as `#` followed by the hex of its DER encoding, as RFC 4514 §2.4 does (in
/// `Display` that leading `#` is escaped like any other, since the pair cannot tell the two
/// apart).
///
/// `Display` gives the RFC 4514 string the way Go's `pkix.Name.String()` (and therefore
/// notation) prints it: attributes in reverse order, separated by `,` without spaces, values
/// escaped: `CN=e2e,O=Notary,L=Seattle,ST=WA,C=US`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DistinguishedName(pub Vec<(String, String)>);

impl DistinguishedName {
    /// The name's attributes from a parsed X.509 name, multi-valued RDNs flattened.
    pub fn from_x509(name: &Name) -> Self {
        let attributes = name
            .iter_rdn()
            .flat_map(|rdn| rdn.iter())
            .map(|atv| (type_name(&atv.oid), value_string(&atv.value)))
            .collect();
        DistinguishedName(attributes)
    }

    /// The first value of an attribute type (short name or dotted OID), if present.
    pub fn get(&self, attribute_type: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(t, _)| t == attribute_type)
            .map(|(_, v)| v.as_str())
    }

    /// The common name, if present.
    pub fn common_name(&self) -> Option<&str> {
        self.get("CN")
    }
}

impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (attribute_type, value)) in self.0.iter().rev().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{attribute_type}=")?;
            f.write_str(&escape(value))?;
        }
        Ok(())
    }
}

fn type_name(oid: &ObjectIdentifier) -> String {
    SHORT_NAMES
        .iter()
        .find(|(known, _)| known == oid)
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| oid.to_string())
}

/// Decodes the string types a name may use; anything else becomes `#<hex of DER>`.
fn value_string(value: &der::Any) -> String {
    let bytes = value.value();
    match value.tag() {
        Tag::PrintableString
        | Tag::Utf8String
        | Tag::Ia5String
        | Tag::VisibleString
        | Tag::TeletexString => String::from_utf8_lossy(bytes).into_owned(),
        Tag::BmpString => {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        tag if tag.is_universal() && tag.number() == TagNumber(28) => bytes
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        _ => {
            let der = der::Encode::to_der(value).unwrap_or_default();
            format!("#{}", hex(&der))
        }
    }
}

/// RFC 4514 §2.4 escaping, as Go's `pkix` does it.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == ' ' || c == '#'))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
            out.push(c);
        } else if c == '\0' {
            out.push_str("\\00");
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(pairs: &[(&str, &str)]) -> DistinguishedName {
        DistinguishedName(
            pairs
                .iter()
                .map(|(t, v)| (t.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn display_is_reverse_rfc4514_like_go() {
        let name = dn(&[
            ("C", "US"),
            ("ST", "WA"),
            ("L", "Seattle"),
            ("O", "Notary"),
            ("CN", "e2e"),
        ]);
        assert_eq!(name.to_string(), "CN=e2e,O=Notary,L=Seattle,ST=WA,C=US");
    }

    #[test]
    fn display_escapes_specials() {
        let name = dn(&[("O", "Acme, Inc."), ("OU", "#1"), ("CN", " lead+trail ")]);
        assert_eq!(name.to_string(), r"CN=\ lead\+trail\ ,OU=\#1,O=Acme\, Inc.");
    }
}
