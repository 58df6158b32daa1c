//! `hallmark blob sign|verify|inspect`: detached Notary Project signatures of local files
//! (`FILE.jws.sig` / `FILE.cose.sig`), verified under the blob trust policy, as
//! `notation blob` does.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hallmark_envelope::Envelope;
use hallmark_oci::{Algorithm, Descriptor, Digest};
use hallmark_revocation::CachingFetcher;
use hallmark_signature::crl::HttpCrlFetcher;
use hallmark_signature::sign::Signer;
use hallmark_trust::Level;
use hallmark_verifier::{CheckResult, CrlChecker, Request, Subject, Verifier};
use hallmark_x509::KeySpec;
use serde_json::json;
use time::OffsetDateTime;

use crate::UsageError;
use crate::inspect::{self, envelope_json, envelope_tree};
use crate::notary::{self, ConfigArgs};
use crate::sign::SignFlags;
use crate::target::{Output, print_json};

/// Flags of `blob sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The file to sign.
    file: PathBuf,
    #[command(flatten)]
    flags: SignFlags,
    /// Directory to write `FILE.<format>.sig` into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    signature_directory: PathBuf,
    /// Media type of the file, recorded in the signed descriptor.
    #[arg(long, default_value = "application/octet-stream")]
    media_type: String,
    /// Overwrite an existing signature file.
    #[arg(long)]
    force: bool,
}

/// Flags of `blob verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The file whose signature is checked.
    file: PathBuf,
    /// The detached signature, `*.jws.sig` or `*.cose.sig`.
    #[arg(short = 's', long)]
    signature: PathBuf,
    /// Blob trust policy statement to use (default: the global one).
    #[arg(long)]
    policy_name: Option<String>,
    /// Media type the signed descriptor must have.
    #[arg(long)]
    media_type: Option<String>,
    /// Metadata the signature must carry, KEY=VALUE; repeatable.
    #[arg(short = 'm', long = "user-metadata", value_name = "KEY=VALUE")]
    user_metadata: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Flags of `blob inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The detached signature, `*.jws.sig` or `*.cose.sig`.
    signature: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = inspect::Format::Tree)]
    output: inspect::Format,
}

/// The digest algorithm of a blob payload: it follows the key (signature-specification.md,
/// "Blob signing").
fn digest_algorithm(spec: KeySpec) -> Algorithm {
    match spec {
        KeySpec::Rsa2048 | KeySpec::EcP256 => Algorithm::Sha256,
        KeySpec::Rsa3072 | KeySpec::EcP384 => Algorithm::Sha384,
        KeySpec::Rsa4096 | KeySpec::EcP521 => Algorithm::Sha512,
    }
}

/// Size and digests of a file in every algorithm, in one pass.
fn hash_file(path: &Path) -> anyhow::Result<(u64, Vec<Digest>)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut digesters =
        [Algorithm::Sha256, Algorithm::Sha384, Algorithm::Sha512].map(Algorithm::digester);
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        for d in &mut digesters {
            d.update(&buf[..n]);
        }
    }
    Ok((size, digesters.into_iter().map(|d| d.finish()).collect()))
}

/// Runs `blob sign`.
pub fn sign(args: SignArgs) -> anyhow::Result<()> {
    let span = tracing::info_span!("blob_sign", file = %args.file.display());
    let _entered = span.enter();
    let user_metadata = notary::metadata(&args.flags.user_metadata)?;
    let dir = args.flags.config.dir()?;
    let (key_name, key, chain) = notary::signing_key(&dir, args.flags.key.as_deref())?;
    hallmark_x509::chain::validate_code_signing_chain(&chain)
        .with_context(|| format!("the certificate chain of signing key {key_name:?} is invalid"))?;
    let format = args.flags.signature_format.into();
    let name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| UsageError(format!("{} has no file name", args.file.display())))?;
    let out = args.signature_directory.join(format!(
        "{name}.{}.sig",
        hallmark_envelope::EnvelopeFormat::extension(format)
    ));
    if out.exists() && !args.force {
        return Err(UsageError(format!(
            "{} exists; pass --force to overwrite it",
            out.display()
        ))
        .into());
    }

    let (size, digests) = hash_file(&args.file)?;
    let wanted = digest_algorithm(key.spec());
    let digest = digests
        .into_iter()
        .find(|d| d.algorithm() == wanted)
        .context("no digest computed")?;
    let tsa = args.flags.tsa()?;
    let signer = Signer {
        key: &key,
        chain: &chain,
        format,
        expiry: args.flags.expiry,
        user_metadata: &user_metadata,
        tsa: tsa.as_ref(),
    };
    let payload = signer.payload(&Descriptor::new(&args.media_type, digest, size));
    let envelope = signer.envelope(&payload, OffsetDateTime::now_utc())?;

    std::fs::create_dir_all(&args.signature_directory)
        .with_context(|| format!("cannot create {}", args.signature_directory.display()))?;
    // Written whole under a temporary name, then put in place: replaced with --force,
    // otherwise linked, which fails rather than overwrite a signature made meanwhile.
    let tmp = out.with_extension("sig.tmp");
    std::fs::write(&tmp, &envelope).with_context(|| format!("cannot write {}", tmp.display()))?;
    let placed = if args.force {
        std::fs::rename(&tmp, &out)
    } else {
        let linked = std::fs::hard_link(&tmp, &out);
        let _ = std::fs::remove_file(&tmp);
        linked
    };
    placed.with_context(|| format!("cannot write {}", out.display()))?;
    println!("Successfully signed {}", args.file.display());
    println!("Signature file written to {}", out.display());
    Ok(())
}

fn read_signature(path: &Path) -> anyhow::Result<(hallmark_envelope::EnvelopeFormat, Vec<u8>)> {
    let format = inspect::format_of_file(path).ok_or_else(|| {
        UsageError(format!(
            "cannot tell the envelope format of {}: a detached signature is named *.jws.sig or \
             *.cose.sig",
            path.display()
        ))
    })?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((format, bytes))
}

/// Runs `blob verify`.
pub fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let span = tracing::info_span!("blob_verify", file = %args.file.display());
    let _entered = span.enter();
    let user_metadata = notary::metadata(&args.user_metadata)?;
    let dir = args.config.dir()?;
    let document = notary::blob_policy(&dir)?;
    let policy = document.select(args.policy_name.as_deref())?;
    if policy.level == Level::Skip {
        println!(
            "Trust policy {:?} is configured to skip signature verification for {}",
            policy.name,
            args.file.display()
        );
        return Ok(());
    }
    let (format, envelope) = read_signature(&args.signature)?;
    let (size, digests) = hash_file(&args.file)?;
    let subject = Subject::Blob {
        size,
        digests,
        media_type: args.media_type.clone(),
    };

    let store = dir.trust_store();
    let fetcher = CachingFetcher::new(HttpCrlFetcher::new(), crate::verify::crl_cache_dir());
    let checker = CrlChecker(&fetcher);
    let verifier = Verifier::new(policy, &store, &checker);
    let outcome = verifier.verify(&Request {
        format,
        envelope: &envelope,
        subject: &subject,
        user_metadata: &user_metadata,
        now: OffsetDateTime::now_utc(),
    });

    if args.output == Output::Json {
        print_json(&json!({
            "file": args.file,
            "signature": args.signature,
            "policy": {"name": policy.name, "level": policy.level.as_str()},
            "verified": outcome.passed(),
            "error": outcome.verdict.as_ref().err().map(ToString::to_string),
        }))?;
    }
    match &outcome.verdict {
        Ok(()) => {
            if args.output == Output::Text {
                println!(
                    "Successfully verified signature {}",
                    args.signature.display()
                );
                println!(
                    "  trust policy: {:?} (level {})",
                    policy.name,
                    policy.level.as_str()
                );
                for c in &outcome.checks {
                    if let CheckResult::Logged(f) = &c.result {
                        println!("  {}: FAILED, only logged: {f}", c.check.as_str());
                    }
                }
            }
            Ok(())
        }
        Err(f) => Err(anyhow::anyhow!(
            "signature verification failed for {} (trust policy {:?}, level {}): {f}",
            args.signature.display(),
            policy.name,
            policy.level.as_str()
        )),
    }
}

/// Runs `blob inspect`.
pub fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let (format, bytes) = read_signature(&args.signature)?;
    let envelope = Envelope::parse(format, &bytes)
        .with_context(|| format!("{} is not a valid envelope", args.signature.display()))?;
    match args.output {
        inspect::Format::Json => print_json(&envelope_json(&envelope)),
        inspect::Format::Tree => {
            envelope_tree(args.signature.display().to_string(), &envelope).print();
            Ok(())
        }
    }
}
