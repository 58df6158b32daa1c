//! `hallmark v1`: the bridge from Notary v1 (Docker Content Trust).
//!
//! - `v1 list SERVER GUN`: fetches a repository's trust data from a Notary v1 server,
//!   verifies it (trust on first use, a pinned root key or certificate, and the state kept
//!   from earlier runs against rollback) and prints its signed tags and roles.
//! - `v1 inspect TRUSTDIR GUN`: the same from a `notary` or `docker trust` client cache, for
//!   repositories whose server is gone.
//! - `v1 migrate`: signs every verified tag anew (Notary Project or cosign) after checking
//!   that the registry holds exactly the manifest v1 signed, attaches the v1 evidence, and
//!   writes the trust policy (or prints the cosign command) that trusts the new signer.
//!
//! Exit codes: 0 success; 1 verification failed, or some tag was not migrated (each reason is
//! printed); 2 invalid command line.

use std::path::{Path, PathBuf};

use anyhow::Context;
use hallmark_client::Target;
use hallmark_oci::ImageRef;
use hallmark_trust::ConfigDir;
use hallmark_tuf::{Gun, KeyId, RoleName, RootPin, TrustDir, Verified};
use hallmark_v1::migrate::{self, Format, Outcome, Plan, TagReport};
use hallmark_v1::source::{Source, StateDir, load_verified};
use hallmark_x509::Certificate;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::Instrument;

use crate::UsageError;
use crate::notary::{self, ConfigArgs};
use crate::target::{ClientArgs, Output, print_json, small_runtime};

/// `v1` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify a repository's trust data on a Notary v1 server and list its signed tags.
    List(ListArgs),
    /// Verify a repository's trust data in a local trust directory and list its signed tags.
    Inspect(InspectArgs),
    /// Sign every v1-signed tag anew as a Notary Project or cosign signature.
    Migrate(MigrateArgs),
}

/// How the first root is trusted, and when.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// Trust only a root signed by this key (its key ID or Notary's canonical key ID).
    #[arg(long, value_name = "KEY_ID", conflicts_with = "root_cert")]
    root_key: Option<String>,
    /// Trust only a root whose certificate is this one (PEM or DER).
    #[arg(long, value_name = "FILE")]
    root_cert: Option<PathBuf>,
    /// Where the trusted root and versions of each server are kept between runs
    /// [default: $XDG_DATA_HOME/hallmark/notary-v1].
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| format!("not an RFC 3339 time: {e}"))
}

/// Flags of `v1 list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The Notary v1 server: `https://host[:port]`, `http://host[:port]` or `host[:port]`.
    server: String,
    /// The repository (GUN), e.g. `docker.io/library/alpine`.
    gun: String,
    #[command(flatten)]
    trust: TrustArgs,
    /// Verify as of this time (RFC 3339) instead of now, to audit a past state.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<OffsetDateTime>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// Flags of `v1 inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The trust directory (`~/.docker/trust`, `~/.notary`).
    trust_dir: PathBuf,
    /// The repository (GUN).
    gun: String,
    #[command(flatten)]
    trust: TrustArgs,
    /// Verify as of this time (RFC 3339) instead of now, to audit a past state.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<OffsetDateTime>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
}

/// The signature format `migrate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MigrateFormat {
    /// A Notary Project signature (JWS), as `notation sign` makes.
    Notation,
    /// A cosign signature in the `.sig` tag.
    Cosign,
}

/// Flags of `v1 migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The v1 data: a Notary v1 server URL, or a trust directory.
    #[arg(long)]
    from: String,
    /// The v1 repository (GUN).
    #[arg(long)]
    gun: String,
    /// The registry repository holding the images: `registry/repo`.
    #[arg(long)]
    to: String,
    /// notation: the signing key's name in signingkeys.json (default: its default key);
    /// cosign: the cosign key file.
    #[arg(long)]
    key: Option<String>,
    /// The signature format.
    #[arg(long, value_enum, default_value_t = MigrateFormat::Notation)]
    format: MigrateFormat,
    /// Only tags matching this glob (`*`, `?`).
    #[arg(long, value_name = "PATTERN")]
    tags: Option<String>,
    /// Check and report only: sign and write nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    config: ConfigArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// Runs a `v1` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::List(args) => list(args),
        Command::Inspect(args) => inspect(args),
        Command::Migrate(args) => migrate_tags(args),
    }
}

fn gun(text: &str) -> anyhow::Result<Gun> {
    text.parse()
        .map_err(|e| UsageError(format!("invalid repository (GUN) {text:?}: {e}")).into())
}

impl TrustArgs {
    fn pin(&self) -> anyhow::Result<RootPin> {
        if let Some(id) = &self.root_key {
            let id: KeyId = id
                .parse()
                .map_err(|e| UsageError(format!("--root-key {id:?}: {e}")))?;
            return Ok(RootPin::KeyId(id));
        }
        if let Some(path) = &self.root_cert {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read --root-cert {}", path.display()))?;
            let mut certs = Certificate::parse_many(&bytes)
                .with_context(|| format!("--root-cert {} is not a certificate", path.display()))?;
            return Ok(RootPin::Certificate(certs.remove(0)));
        }
        Ok(RootPin::TrustOnFirstUse)
    }

    fn state(&self) -> StateDir {
        match &self.state_dir {
            Some(dir) => StateDir::new(dir),
            None => default_state_dir(),
        }
    }
}

/// `$XDG_DATA_HOME/hallmark/notary-v1` (default `~/.local/share/...`).
pub fn default_state_dir() -> StateDir {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    StateDir::new(base.join("hallmark/notary-v1"))
}

/// A server argument: its host, and whether it asked for plain HTTP.
pub fn server(text: &str) -> anyhow::Result<(String, bool)> {
    let (host, plain) = if let Some(h) = text.strip_prefix("http://") {
        (h, true)
    } else {
        (text.strip_prefix("https://").unwrap_or(text), false)
    };
    let host = host.trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        return Err(UsageError(format!(
            "server {text:?} is not scheme://host[:port] or host[:port]"
        ))
        .into());
    }
    Ok((host.to_owned(), plain))
}

fn server_source(text: &str, client: &ClientArgs, extra: &[&str]) -> anyhow::Result<Source> {
    let (host, plain) = server(text)?;
    let mut args = client.clone();
    args.plain_http |= plain;
    let mut registries = vec![host.as_str()];
    registries.extend_from_slice(extra);
    Ok(Source::Server {
        client: args.client(&registries)?,
        host,
    })
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let gun = gun(&args.gun)?;
    let source = server_source(&args.server, &args.client, &[])?;
    let state = args.trust.state();
    show(
        &source,
        &gun,
        &args.trust,
        Some(&state),
        args.at,
        args.output,
    )
}

fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let gun = gun(&args.gun)?;
    let source = Source::TrustDir(TrustDir::new(&args.trust_dir));
    show(&source, &gun, &args.trust, None, args.at, args.output)
}

fn verify(
    source: &Source,
    gun: &Gun,
    trust: &TrustArgs,
    state: Option<&StateDir>,
    now: OffsetDateTime,
) -> anyhow::Result<Verified> {
    let pin = trust.pin()?;
    let rt = small_runtime()?;
    let span = tracing::info_span!("v1_verify", source = %source.describe(), %gun);
    Ok(rt.block_on(load_verified(source, gun, &pin, state, now).instrument(span))?)
}

/// Verifies (now, or at `at` for an audit, which neither uses nor updates the kept state) and
/// prints.
fn show(
    source: &Source,
    gun: &Gun,
    trust: &TrustArgs,
    state: Option<&StateDir>,
    at: Option<OffsetDateTime>,
    output: Output,
) -> anyhow::Result<()> {
    let (state, now) = match at {
        Some(at) => (None, at),
        None => (state, OffsetDateTime::now_utc()),
    };
    let verified = verify(source, gun, trust, state, now)?;
    let roles = roles(&verified);
    let docker = verified.docker_targets();
    let tags: Vec<Value> = verified
        .signed_targets
        .iter()
        .map(|t| {
            json!({
                "tag": t.name,
                "digest": t.digest(),
                "size": t.meta.length,
                "role": t.role.as_str(),
                "docker": docker.get(t.name.as_str()).is_some_and(|d| d.role == t.role),
            })
        })
        .collect();
    let root_keys: Vec<Value> = verified
        .root
        .signed
        .roles
        .root
        .key_ids
        .iter()
        .filter_map(|id| verified.root.signed.keys.get(id).map(|k| (id, k)))
        .map(|(id, key)| {
            json!({
                "keyId": id,
                "certificate": key.certificate().map(Certificate::to_pem),
                "subject": key.certificate().map(|c| c.subject().to_string()),
            })
        })
        .collect();
    if output == Output::Json {
        return print_json(&json!({
            "gun": gun.as_str(),
            "source": source.describe(),
            "verified": true,
            "roles": roles,
            "rootKeys": root_keys,
            "tags": tags,
        }));
    }
    println!(
        "Notary v1 trust data for {gun} from {}: verified",
        source.describe()
    );
    for r in &roles {
        println!(
            "  {:<20} version {:<4} expires {}  signed by {}",
            r["role"].as_str().unwrap_or_default(),
            r["version"],
            r["expires"].as_str().unwrap_or_default(),
            r["signedBy"].as_str().unwrap_or_default()
        );
    }
    println!("\n{:<24} {:<72} {:>8}  ROLE", "TAG", "DIGEST", "SIZE");
    for t in &verified.signed_targets {
        let shadowed = docker.get(t.name.as_str()).is_none_or(|d| d.role != t.role);
        let note = if shadowed {
            " (not what docker pulls)"
        } else {
            ""
        };
        println!(
            "{:<24} {:<72} {:>8}  {}{note}",
            t.name,
            t.digest().unwrap_or_default(),
            t.meta.length,
            t.role.as_str()
        );
    }
    Ok(())
}

/// Every verified role: name, version, expiry and the key IDs whose signatures verified and
/// counted toward its threshold (not every signature the file carries).
fn roles(v: &Verified) -> Vec<Value> {
    let expires = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let ids = |role: &RoleName| {
        v.signed_by(role)
            .iter()
            .map(|id| id.get(..12).unwrap_or(id).to_owned())
            .collect::<Vec<_>>()
            .join(",")
    };
    let role = |name: RoleName, version: u64, expiry: OffsetDateTime| {
        json!({"role": name.as_str(), "version": version, "expires": expires(expiry),
            "signedBy": ids(&name)})
    };
    let mut out = vec![
        role(
            RoleName::root(),
            v.root.signed.version,
            v.root.signed.expires,
        ),
        role(
            RoleName::targets(),
            v.targets.signed.version,
            v.targets.signed.expires,
        ),
        role(
            RoleName::snapshot(),
            v.snapshot.signed.version,
            v.snapshot.signed.expires,
        ),
        role(
            RoleName::timestamp(),
            v.timestamp.signed.version,
            v.timestamp.signed.expires,
        ),
    ];
    for (name, file) in &v.delegations {
        out.push(role(name.clone(), file.signed.version, file.signed.expires));
    }
    out
}

fn migrate_tags(args: MigrateArgs) -> anyhow::Result<()> {
    let gun = gun(&args.gun)?;
    let to: ImageRef = args
        .to
        .parse()
        .map_err(|e| UsageError(format!("--to {:?}: {e}", args.to)))?;
    if to.tag.is_some() || to.digest.is_some() {
        return Err(UsageError("--to names a repository, without a tag or digest".into()).into());
    }
    let (source, state) = if args.from.contains("://") || !Path::new(&args.from).is_dir() {
        let source = server_source(&args.from, &args.client, &[to.registry.as_str()])?;
        (source, Some(args.trust.state()))
    } else {
        (Source::TrustDir(TrustDir::new(&args.from)), None)
    };
    let signer = load_format(&args)?;
    let started = std::time::Instant::now();
    let now = OffsetDateTime::now_utc();
    let verified = verify(&source, &gun, &args.trust, state.as_ref(), now)?;
    let verify_ms = started.elapsed().as_secs_f64() * 1000.0;

    let client = args.client.client(&[to.registry.as_str()])?;
    let target = Target::Remote(client.repository(&to.registry, to.repository.clone()));
    let repository = to.name();
    let plan = Plan {
        verified: &verified,
        gun: &gun,
        target: &target,
        repository: &repository,
        format: &signer.format,
        tags: args.tags.as_deref(),
        dry_run: args.dry_run,
        concurrency: args.client.concurrency.max(1) * 2,
        now,
    };
    let rt = small_runtime()?;
    let span = tracing::info_span!("v1_migrate", %gun, to = %repository);
    let (reports, timings) = rt.block_on(migrate::migrate(&plan).instrument(span));
    let timings = Timings {
        verify_ms,
        passes: timings,
    };

    let trust_note = if args.dry_run || !reports.iter().any(|r| r.outcome.is_success()) {
        None
    } else {
        Some(trust_new_signer(&args, &signer, &repository)?)
    };
    print_report(&reports, &args, &gun, trust_note.as_deref(), &timings)?;
    let refused = reports.iter().filter(|r| !r.outcome.is_success()).count();
    if refused > 0 {
        anyhow::bail!(
            "{refused} of {} tags were not migrated; the report says why for each",
            reports.len()
        );
    }
    Ok(())
}

/// The key, its format, and what a verifier needs to trust it.
struct LoadedSigner {
    format: Format,
    /// notation: the key's name and chain; cosign: the public key file.
    name: String,
    chain: Vec<Certificate>,
    dir: Option<ConfigDir>,
}

fn load_format(args: &MigrateArgs) -> anyhow::Result<LoadedSigner> {
    match args.format {
        MigrateFormat::Notation => {
            let dir = args.config.dir()?;
            let (name, key, chain) = notary::signing_key(&dir, args.key.as_deref())?;
            hallmark_x509::chain::validate_code_signing_chain(&chain)
                .with_context(|| format!("the certificate chain of signing key {name:?}"))?;
            Ok(LoadedSigner {
                format: Format::Notation {
                    key,
                    chain: chain.clone(),
                },
                name,
                chain,
                dir: Some(dir),
            })
        }
        MigrateFormat::Cosign => {
            let path = args.key.as_deref().ok_or_else(|| {
                UsageError("--format cosign needs --key with a cosign key file".into())
            })?;
            let key = crate::cosign::load_key(Path::new(path))?;
            let public = key.public_key()?;
            Ok(LoadedSigner {
                format: Format::Cosign { key, public },
                name: path.to_owned(),
                chain: Vec::new(),
                dir: None,
            })
        }
    }
}

/// notation: adds the chain's root to the `ca:<key name>` store and a trust policy statement
/// for the repository trusting the leaf's subject; cosign: the verification command.
fn trust_new_signer(
    args: &MigrateArgs,
    signer: &LoadedSigner,
    repository: &str,
) -> anyhow::Result<String> {
    let Some(dir) = &signer.dir else {
        let public = Path::new(&signer.name).with_extension("pub");
        return Ok(format!(
            "verify with: hallmark cosign verify --key {} {repository}@<digest>",
            public.display()
        ));
    };
    let (Some(leaf), Some(root)) = (signer.chain.first(), signer.chain.last()) else {
        anyhow::bail!("signing key {:?} has no certificate chain", signer.name);
    };
    let store = dir
        .trust_store()
        .store_dir(hallmark_trust::StoreType::Ca, &signer.name);
    std::fs::create_dir_all(&store)
        .with_context(|| format!("cannot create the trust store {}", store.display()))?;
    let present = std::fs::read_dir(&store)?
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| Certificate::parse_many(&b).ok())
        .any(|certs| certs.iter().any(|c| c.der() == root.der()));
    if !present {
        let file = store.join(format!("{}-root.pem", signer.name));
        std::fs::write(&file, root.to_pem())
            .with_context(|| format!("cannot write {}", file.display()))?;
    }

    let name = format!("notary-v1-{}", args.gun.replace(['/', ':', '.'], "-"));
    let statement = json!({
        "name": name,
        "registryScopes": [repository],
        "signatureVerification": { "level": "strict" },
        "trustStores": [format!("ca:{}", signer.name)],
        "trustedIdentities": [format!("x509.subject: {}", leaf.subject())],
    });
    let mut document = match dir.read_oci_policy() {
        Ok((_, bytes)) => serde_json::from_slice::<Value>(&bytes)
            .context("the existing trust policy is not JSON")?,
        Err(_) => json!({ "version": "1.0", "trustPolicies": [] }),
    };
    let policies = document["trustPolicies"]
        .as_array_mut()
        .context("the existing trust policy has no trustPolicies list")?;
    policies.retain(|p| p["name"] != name.as_str() && !scopes_include(p, repository));
    policies.push(statement);
    let bytes = serde_json::to_vec_pretty(&document)?;
    let path = dir
        .import_oci_policy(&bytes, true)
        .context("cannot write the trust policy")?;
    Ok(format!(
        "trust policy statement {name:?} in {} trusts {} for {repository}",
        path.display(),
        leaf.subject()
    ))
}

fn scopes_include(statement: &Value, repository: &str) -> bool {
    statement["registryScopes"]
        .as_array()
        .is_some_and(|s| s.iter().any(|v| v == repository))
}

/// Where a migration's time went: fetching and verifying the v1 data, then the passes.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Timings {
    verify_ms: f64,
    #[serde(flatten)]
    passes: migrate::Timings,
}

fn print_report(
    reports: &[TagReport],
    args: &MigrateArgs,
    gun: &Gun,
    trust_note: Option<&str>,
    timings: &Timings,
) -> anyhow::Result<()> {
    let count = |o: Outcome| reports.iter().filter(|r| r.outcome == o).count();
    if args.output == Output::Json {
        return print_json(&json!({
            "gun": gun.as_str(),
            "to": args.to,
            "format": match args.format { MigrateFormat::Notation => "notation",
                MigrateFormat::Cosign => "cosign" },
            "dryRun": args.dry_run,
            "tags": reports,
            "trust": trust_note,
            "timings": timings,
        }));
    }
    for r in reports {
        let outcome = serde_json::to_value(r.outcome)?;
        let mut line = format!(
            "{:<24} {:<72} {:<17}",
            r.tag,
            r.digest,
            outcome.as_str().unwrap_or_default()
        );
        if let Some(d) = &r.registry_digest {
            line.push_str(&format!(" registry has {d}"));
        }
        if let Some(d) = &r.detail {
            line.push_str(&format!(" {d}"));
        }
        println!("{line}");
    }
    println!(
        "\n{} signed, {} already migrated, {} would be signed, {} missing from the registry, \
         {} with another digest or size, {} failed",
        count(Outcome::Signed),
        count(Outcome::AlreadyMigrated),
        count(Outcome::WouldSign),
        count(Outcome::Missing),
        count(Outcome::DigestMismatch) + count(Outcome::SizeMismatch),
        count(Outcome::Failed),
    );
    let p = &timings.passes;
    println!(
        "took {:.0} ms: fetch and verify v1 data {:.0}, check tags {:.0}, sign {:.0}, \
         evidence {:.0}",
        timings.verify_ms + p.check_ms + p.sign_ms + p.evidence_ms,
        timings.verify_ms,
        p.check_ms,
        p.sign_ms,
        p.evidence_ms
    );
    if let Some(note) = trust_note {
        println!("{note}");
    }
    Ok(())
}
