//! `hallmark sign`: signs a manifest with a key from `signingkeys.json` and stores the
//! signature next to it, as `notation sign` does. A tag is resolved to its digest once, with
//! a warning, and the digest is what gets signed.

use std::path::PathBuf;

use anyhow::Context;
use hallmark_client::ReferrersMode;
use hallmark_envelope::EnvelopeFormat;
use hallmark_oci::Reference;
use hallmark_signature::sign::{Signer, store};
use hallmark_signature::tsa::Tsa;
use hallmark_x509::Certificate;
use serde_json::json;
use time::OffsetDateTime;
use tracing::Instrument;

use crate::UsageError;
use crate::notary::{self, ConfigArgs};
use crate::target::{ClientArgs, Output, RefArg, print_json, small_runtime};

/// The envelope format flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JWS JSON serialization (`application/jose+json`).
    Jws,
    /// COSE_Sign1 (`application/cose`).
    Cose,
}

impl From<Format> for EnvelopeFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Jws => EnvelopeFormat::Jws,
            Format::Cose => EnvelopeFormat::Cose,
        }
    }
}

/// Flags shared by `sign` and `blob sign`.
#[derive(Debug, clap::Args)]
pub struct SignFlags {
    /// Signing key name from signingkeys.json (default: its default key).
    #[arg(short = 'k', long)]
    pub key: Option<String>,
    /// Envelope format.
    #[arg(long, value_enum, default_value_t = Format::Jws)]
    pub signature_format: Format,
    /// How long the signature stays valid, e.g. 24h, 7d (default: no expiry).
    #[arg(short = 'e', long, value_parser = notary::duration)]
    pub expiry: Option<time::Duration>,
    /// Metadata to sign, KEY=VALUE; repeatable.
    #[arg(short = 'm', long = "user-metadata", value_name = "KEY=VALUE")]
    pub user_metadata: Vec<String>,
    /// RFC 3161 timestamping authority to countersign with.
    #[arg(long, value_name = "URL", requires = "timestamp_root_cert")]
    pub timestamp_url: Option<String>,
    /// Root certificate (PEM or DER) the TSA's tokens must chain to.
    #[arg(long, value_name = "FILE", requires = "timestamp_url")]
    pub timestamp_root_cert: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl SignFlags {
    /// The TSA named by the flags, if any.
    pub fn tsa(&self) -> anyhow::Result<Option<Tsa>> {
        let (Some(url), Some(root)) = (&self.timestamp_url, &self.timestamp_root_cert) else {
            return Ok(None);
        };
        let bytes = std::fs::read(root)
            .with_context(|| format!("cannot read --timestamp-root-cert {}", root.display()))?;
        let roots = Certificate::parse_many(&bytes)
            .with_context(|| format!("--timestamp-root-cert {} is invalid", root.display()))?;
        Ok(Some(Tsa {
            url: url.clone(),
            roots,
        }))
    }
}

/// Flags of `sign`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact: `registry/repo:tag|@digest`, or a layout reference with --oci-layout.
    reference: String,
    #[command(flatten)]
    flags: SignFlags,
    /// Record the signature in the referrers tag schema (`sha256-<hex>` index) instead of
    /// relying on the registry's referrers API.
    #[arg(long)]
    force_referrers_tag: bool,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// Runs `sign`.
pub fn run(mut args: Args) -> anyhow::Result<()> {
    let reference = RefArg::parse(&args.reference, args.oci_layout)?;
    let wanted = reference.require_reference("sign")?;
    if args.force_referrers_tag {
        args.client.referrers_mode = ReferrersMode::Tag;
    }
    let user_metadata = notary::metadata(&args.flags.user_metadata)?;
    let dir = args.flags.config.dir()?;
    let (key_name, key, chain) = notary::signing_key(&dir, args.flags.key.as_deref())?;
    hallmark_x509::chain::validate_code_signing_chain(&chain)
        .with_context(|| format!("the certificate chain of signing key {key_name:?} is invalid"))?;
    let now = OffsetDateTime::now_utc();
    if let Some(expired) = chain.iter().find(|c| c.not_after() < now) {
        return Err(UsageError(format!(
            "certificate \"{}\" of signing key {key_name:?} expired at {}; renew it (for a test \
             key: `hallmark cert generate-test NAME`) and sign again",
            expired.subject(),
            expired.not_after()
        ))
        .into());
    }
    let tsa = args.flags.tsa()?;

    let registries: Vec<&str> = reference.registry().into_iter().collect();
    let client = args.client.client(&registries)?;
    let target = reference.target(&client, false)?;
    let rt = small_runtime()?;
    let span = tracing::info_span!("sign", reference = %reference, key = %key_name);
    let subject = rt.block_on(target.resolve(&wanted).instrument(span.clone()))?;
    if let Reference::Tag(tag) = &wanted {
        eprintln!(
            "Warning: Always sign the artifact using digest(@{}) rather than a tag(:{tag}) \
             because tags are mutable and a tag reference can point to a different artifact \
             than the one signed.",
            subject.digest
        );
    }

    let signer = Signer {
        key: &key,
        chain: &chain,
        format: args.flags.signature_format.into(),
        expiry: args.flags.expiry,
        user_metadata: &user_metadata,
        tsa: tsa.as_ref(),
    };
    let payload = signer.payload(&subject);
    // Signing may call the TSA, a blocking request: it runs off the async runtime.
    let envelope = span.in_scope(|| signer.envelope(&payload, now))?;
    let format = signer.format;
    let signature =
        rt.block_on(store(&target, &subject, format, envelope, &chain, now).instrument(span))?;

    let signed = format!("{}@{}", strip_reference(&reference), subject.digest);
    match args.output {
        Output::Json => print_json(&json!({
            "reference": signed,
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
            "signature": {
                "mediaType": signature.media_type,
                "digest": signature.digest,
                "size": signature.size,
                "envelopeMediaType": format.media_type(),
            },
        })),
        Output::Text => {
            println!("Successfully signed {signed}");
            println!("Signature: {} ({})", signature.digest, format.media_type());
            Ok(())
        }
    }
}

/// `registry/repo` or the layout path, without tag or digest.
pub fn strip_reference(reference: &RefArg) -> String {
    match reference {
        RefArg::Remote(r) => format!("{}/{}", r.registry, r.repository),
        RefArg::Layout(path, _) => path.display().to_string(),
    }
}
