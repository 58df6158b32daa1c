//! `hallmark v1`: the bridge from Notary v1 (Docker Content Trust).
//!
//! - `v1 list SERVER GUN`: fetches a repository's trust data from a Notary v1 server,
//!   verifies it (trust on first use, a pinned root key or certificate, and the state kept
//!   from earlier runs against rollback) and prints its signed tags and roles.
//! - `v1 inspect TRUSTDIR GUN`: the same from a `notary` or `docker trust` client cache, for
//!   repositories whose server is gone.
//! - `v1 migrate`: signs every verified tag anew (Notary Project or cosign) after checking
//!   that the registry holds exactly the manifest v1 signed, attaches the v1 evidence, and
//!   merges into the trust policy a statement that trusts the new signer for the repository
//!   (or prints the cosign command). The signing key and the policy change are checked before
//!   anything is signed; a root trusted on first use is named in a warning; `--dry-run`
//!   writes nothing (not even the kept state); per-tag progress is drawn on a terminal.
//!
//! Exit codes: 0 success; 1 verification failed, `--tags` matched no signed tag, or some tag
//! was not migrated (each reason is printed, after the report); 2 invalid command line.

use std::path::{Path, PathBuf};

use anyhow::Context;
use hallmark_client::Target;
use hallmark_oci::ImageRef;
use hallmark_trust::{ConfigDir, OciTrustPolicyDocument, PolicyFileError};
use hallmark_tuf::{Gun, KeyId, RoleName, RootPin, TrustDir, Verified};
use hallmark_v1::evidence::RootTrust;
use hallmark_v1::migrate::{self, Format, Outcome, Plan, TagReport};
use hallmark_v1::source::{Source, StateDir, check_verified, load_verified};
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
    /// Check and report only: sign and write nothing (not even the kept v1 state).
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
    let span = tracing::info_span!("v1_list", server = %source.describe(), %gun);
    span.in_scope(|| {
        show(
            &source,
            &gun,
            &args.trust,
            Some(&state),
            args.at,
            args.output,
        )
    })
}

fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let gun = gun(&args.gun)?;
    let source = Source::TrustDir(TrustDir::new(&args.trust_dir));
    let span = tracing::info_span!("v1_inspect", trust_dir = %source.describe(), %gun);
    span.in_scope(|| show(&source, &gun, &args.trust, None, args.at, args.output))
}

/// Whether a verification saves the state it proved (a dry run saves nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Save {
    Yes,
    No,
}

/// Verifies `gun` from `source`; returns the data and how its root was trusted.
fn verify(
    source: &Source,
    gun: &Gun,
    trust: &TrustArgs,
    state: Option<&StateDir>,
    now: OffsetDateTime,
    save: Save,
) -> anyhow::Result<(Verified, RootTrust)> {
    let pin = trust.pin()?;
    let root_trust = match (&pin, state) {
        (RootPin::KeyId(_) | RootPin::Certificate(_), _) => RootTrust::Pinned,
        (RootPin::TrustOnFirstUse, Some(dir)) if dir.load(source, gun)?.root.is_some() => {
            RootTrust::SavedState
        }
        (RootPin::TrustOnFirstUse, _) => RootTrust::FirstUse,
    };
    let rt = small_runtime()?;
    let span = tracing::info_span!("v1_verify", source = %source.describe(), %gun);
    let verified = match save {
        Save::Yes => rt.block_on(load_verified(source, gun, &pin, state, now).instrument(span)),
        Save::No => rt.block_on(check_verified(source, gun, &pin, state, now).instrument(span)),
    }?;
    Ok((verified, root_trust))
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
    let (verified, _) = verify(source, gun, trust, state, now, Save::Yes)?;
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
    let repository = to.name();
    let span = tracing::info_span!("v1_migrate", %gun, to = %repository);
    let _entered = span.enter();

    // Everything that can refuse the new signer is checked before anything is signed.
    let signer = load_format(&args)?;
    if let Some(trust) = NewTrust::of(&args, &signer, &repository)? {
        trust.merged(&trust.read()?)?;
    }
    let started = std::time::Instant::now();
    let now = OffsetDateTime::now_utc();
    let save = if args.dry_run { Save::No } else { Save::Yes };
    let (verified, root_trust) = verify(&source, &gun, &args.trust, state.as_ref(), now, save)?;
    let verify_ms = started.elapsed().as_secs_f64() * 1000.0;
    if root_trust == RootTrust::FirstUse {
        let kept = match (&state, save) {
            (None, _) => "",
            (Some(_), Save::No) => " (a dry run does not save it)",
            (Some(_), Save::Yes) => " (saved: later runs trust it)",
        };
        warn_first_use(&verified, &gun, &source, kept);
    }
    if let Some(pattern) = args.tags.as_deref()
        && migrate::selected_tags(&verified, Some(pattern)).is_empty()
    {
        anyhow::bail!(
            "no signed tag matches {pattern:?}; {}",
            tag_list(&migrate::selected_tags(&verified, None))
        );
    }

    let client = args.client.client(&[to.registry.as_str()])?;
    let target = Target::Remote(client.repository(&to.registry, to.repository.clone()));
    let progress = crate::progress::for_tags();
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
        root_trust,
        progress: progress.as_ref(),
    };
    let rt = small_runtime()?;
    let (reports, timings) = rt.block_on(migrate::migrate(&plan).instrument(span.clone()));
    drop(progress);
    let timings = Timings {
        verify_ms,
        passes: timings,
    };

    let trusted = if args.dry_run || !reports.iter().any(|r| r.outcome.is_success()) {
        Ok(None)
    } else {
        trust_new_signer(&args, &signer, &repository).map(Some)
    };
    let note = trusted.as_ref().ok().and_then(Option::as_deref);
    print_report(&reports, &args, &gun, root_trust, note, &timings)?;
    trusted.context(
        "the tags were signed, but the trust policy does not trust the new signer yet; fix \
         this, then rerun",
    )?;
    let refused = reports.iter().filter(|r| !r.outcome.is_success()).count();
    if refused > 0 {
        anyhow::bail!(
            "{refused} of {} tags were not migrated; the report says why for each",
            reports.len()
        );
    }
    Ok(())
}

/// Names on stderr the root keys trusted on first use, and how to pin them.
fn warn_first_use(verified: &Verified, gun: &Gun, source: &Source, kept: &str) {
    let root = &verified.root.signed;
    let ids: Vec<String> = root
        .roles
        .root
        .key_ids
        .iter()
        .map(|id| match root.keys.get(id).map(|k| k.canonical_id()) {
            Some(canonical) if canonical.to_string() != *id => {
                format!("{id} (canonical {canonical})")
            }
            _ => id.clone(),
        })
        .collect();
    eprintln!(
        "Warning: the Notary v1 root of {gun} was trusted on first use, as {} gave it: \
         nothing pinned it and no earlier run saved one{kept}. Root key IDs: {}. Check them \
         with the repository's owner, and pin the root with --root-key KEY_ID or --root-cert \
         FILE.",
        source.describe(),
        ids.join(", ")
    );
}

/// `the signed tags are a, b, …` (at most 20 named), or that there are none.
fn tag_list(tags: &[&str]) -> String {
    const SHOWN: usize = 20;
    match tags.len() {
        0 => "the repository has no signed tags".to_owned(),
        n if n <= SHOWN => format!("the signed tags are {}", tags.join(", ")),
        n => format!(
            "the signed tags are {}, and {} more",
            tags[..SHOWN].join(", "),
            n - SHOWN
        ),
    }
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

/// notation: adds the chain's root to the `ca:<key name>` store and merges a statement that
/// trusts the leaf's subject for the repository into the trust policy ([`NewTrust`]);
/// cosign: the verification command.
fn trust_new_signer(
    args: &MigrateArgs,
    signer: &LoadedSigner,
    repository: &str,
) -> anyhow::Result<String> {
    let Some(trust) = NewTrust::of(args, signer, repository)? else {
        let public = Path::new(&signer.name).with_extension("pub");
        return Ok(format!(
            "verify with: hallmark cosign verify --key {} {repository}@<digest>",
            public.display()
        ));
    };
    let store = trust
        .dir
        .trust_store()
        .store_dir(hallmark_trust::StoreType::Ca, &signer.name);
    std::fs::create_dir_all(&store)
        .with_context(|| format!("cannot create the trust store {}", store.display()))?;
    let mut present = false;
    for entry in std::fs::read_dir(&store)
        .with_context(|| format!("cannot read the trust store {}", store.display()))?
    {
        let path = entry
            .with_context(|| format!("cannot read the trust store {}", store.display()))?
            .path();
        // A file that is no certificate is not ours to judge here; verification names it.
        let certs = std::fs::read(&path)
            .ok()
            .and_then(|b| Certificate::parse_many(&b).ok());
        present |= certs.is_some_and(|c| c.iter().any(|c| c.der() == trust.root.der()));
    }
    if !present {
        let file = store.join(format!("{}-root.pem", signer.name));
        std::fs::write(&file, trust.root.to_pem())
            .with_context(|| format!("cannot write {}", file.display()))?;
    }

    let existing = trust.read()?;
    let (document, name) = trust.merged(&existing)?;
    let path = match &existing {
        Some((path, before)) if *before == document => path.clone(),
        _ => {
            let bytes = serde_json::to_vec_pretty(&document)?;
            trust
                .dir
                .import_oci_policy(&bytes, true)
                .context("cannot write the trust policy")?
        }
    };
    Ok(format!(
        "trust policy statement {name:?} in {} trusts {} for {repository}",
        path.display(),
        trust.identity
    ))
}

/// What the trust policy must say for notation to verify the new signatures.
struct NewTrust<'a> {
    dir: &'a ConfigDir,
    repository: &'a str,
    /// The name of a statement written anew.
    name: String,
    /// `ca:<key name>`.
    store: String,
    /// `x509.subject: <leaf subject>`.
    identity: String,
    root: &'a Certificate,
}

impl<'a> NewTrust<'a> {
    /// For notation; `None` for cosign, which has no policy.
    fn of(
        args: &MigrateArgs,
        signer: &'a LoadedSigner,
        repository: &'a str,
    ) -> anyhow::Result<Option<NewTrust<'a>>> {
        let Some(dir) = &signer.dir else {
            return Ok(None);
        };
        let (Some(leaf), Some(root)) = (signer.chain.first(), signer.chain.last()) else {
            anyhow::bail!(
                "signing key {:?} has no certificate chain; register one with `hallmark key \
                 add`",
                signer.name
            );
        };
        Ok(Some(NewTrust {
            dir,
            repository,
            name: format!("notary-v1-{}", args.gun.replace(['/', ':', '.'], "-")),
            store: format!("ca:{}", signer.name),
            identity: format!("x509.subject: {}", leaf.subject()),
            root,
        }))
    }

    /// The policy file and its JSON, or `None` when there is none. Anything else that stops
    /// reading it (a symlink, a directory, no permission, not JSON) is an error.
    fn read(&self) -> anyhow::Result<Option<(PathBuf, Value)>> {
        let (path, bytes) = match self.dir.read_oci_policy() {
            Ok(read) => read,
            Err(PolicyFileError::NotPresent { .. }) => return Ok(None),
            Err(e) => {
                return Err(anyhow::Error::new(e).context(
                    "cannot read the trust policy to add the new signer to; fix or move it, \
                     then rerun",
                ));
            }
        };
        OciTrustPolicyDocument::parse(&bytes).with_context(|| {
            format!(
                "the trust policy {} is invalid; fix it (`hallmark policy show`), then rerun",
                path.display()
            )
        })?;
        let document = serde_json::from_slice(&bytes)
            .with_context(|| format!("the trust policy {} is not JSON", path.display()))?;
        Ok(Some((path, document)))
    }

    /// `existing` (or an empty policy) trusting the new signer for the repository, and the
    /// name of the statement that does. Other statements are left as they are, but for
    /// notation's rule that a scope is in one statement only:
    ///
    /// - a statement for exactly this repository gets the trust store and identity (each
    ///   once: a rerun changes nothing);
    /// - else one listing it beside other repositories keeps those, and the repository moves
    ///   to a statement of its own that trusts what that one did and the new signer;
    /// - else a new strict statement trusts only the new signer (a `*` statement, if any,
    ///   keeps applying to every other repository).
    ///
    /// A statement skipping verification for the repository is the user's explicit choice:
    /// refused, rather than overridden. The result is checked as a policy.
    fn merged(&self, existing: &Option<(PathBuf, Value)>) -> anyhow::Result<(Value, String)> {
        let mut document = match existing {
            Some((_, document)) => document.clone(),
            None => json!({ "version": "1.0", "trustPolicies": [] }),
        };
        let place = existing.as_ref().map_or_else(
            || "the new trust policy".to_owned(),
            |(path, _)| format!("the trust policy {}", path.display()),
        );
        let policies = document
            .get_mut("trustPolicies")
            .and_then(Value::as_array_mut)
            .with_context(|| format!("{place} has no trustPolicies list"))?;
        let repository = self.repository;
        let refuse_skip = |p: &Value| {
            if p["signatureVerification"]["level"] == "skip" {
                anyhow::bail!(
                    "statement {} of {place} skips verification for {repository}; remove \
                     {repository} from it or raise its level, then rerun",
                    p["name"]
                );
            }
            Ok(())
        };
        let name = if let Some(own) = policies.iter_mut().find(|p| {
            p["registryScopes"]
                .as_array()
                .is_some_and(|s| s.len() == 1 && s[0] == repository)
        }) {
            refuse_skip(own)?;
            self.add_signer(own);
            own["name"].as_str().unwrap_or_default().to_owned()
        } else {
            let shared = policies.iter().position(|p| scopes_include(p, repository));
            let mut statement = match shared.and_then(|i| policies.get_mut(i).map(|p| (i, p))) {
                Some((i, shared)) => {
                    refuse_skip(shared)?;
                    let copy = shared.clone();
                    if let Some(scopes) = shared["registryScopes"].as_array_mut() {
                        scopes.retain(|s| s != repository);
                        // Only a statement left with no scope at all goes.
                        if scopes.is_empty() {
                            policies.remove(i);
                        }
                    }
                    copy
                }
                None => json!({
                    "signatureVerification": { "level": "strict" },
                    "trustStores": [],
                    "trustedIdentities": [],
                }),
            };
            let taken = |n: &str| policies.iter().any(|p| p["name"] == n);
            let name = (1..)
                .map(|n| match n {
                    1 => self.name.clone(),
                    n => format!("{}-{n}", self.name),
                })
                .find(|n| !taken(n))
                .unwrap_or_else(|| self.name.clone());
            statement["name"] = json!(name);
            statement["registryScopes"] = json!([repository]);
            self.add_signer(&mut statement);
            policies.push(statement);
            name
        };
        let bytes = serde_json::to_vec(&document)?;
        OciTrustPolicyDocument::parse(&bytes).with_context(|| {
            format!("{place} would be invalid with a statement trusting the new signer")
        })?;
        Ok((document, name))
    }

    /// Adds the trust store and identity to `statement`, each unless it is there (or, for
    /// the identity, `*` trusts every one).
    fn add_signer(&self, statement: &mut Value) {
        let mut add = |field: &str, value: &str| {
            if !statement[field].is_array() {
                statement[field] = json!([]);
            }
            if let Some(list) = statement[field].as_array_mut()
                && !list
                    .iter()
                    .any(|v| v == value || (field == IDENTITIES && v == "*"))
            {
                list.push(json!(value));
            }
        };
        add("trustStores", &self.store);
        add(IDENTITIES, &self.identity);
    }
}

const IDENTITIES: &str = "trustedIdentities";

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
    root_trust: RootTrust,
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
            "rootTrust": root_trust,
            "tags": reports,
            "trust": trust_note,
            "timings": timings,
        }));
    }
    for r in reports {
        let outcome = serde_json::to_value(r.outcome)?;
        let mut line = format!(
            "{:<24} {:<72} {:<22}",
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
        println!("{}", line.trim_end());
    }
    println!(
        "\n{} signed, {} already migrated, {} would be signed, {} missing from the registry, \
         {} with another digest or size, {} not resolved by docker, {} failed",
        count(Outcome::Signed),
        count(Outcome::AlreadyMigrated),
        count(Outcome::WouldSign),
        count(Outcome::Missing),
        count(Outcome::DigestMismatch) + count(Outcome::SizeMismatch),
        count(Outcome::NotResolvedByDocker),
        count(Outcome::Failed),
    );
    println!("v1 root trusted: {}", root_trust.as_str());
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail loudly

    use hallmark_x509::{KeySpec, generate_test_certificate};

    use super::*;

    const REPO: &str = "registry.test/app";
    const ME: &str = "x509.subject: C=US, ST=WA, O=me, CN=me";
    const YOU: &str = "x509.subject: C=US, ST=WA, O=you, CN=you";

    fn statement(name: &str, scopes: &[&str], level: &str, identities: &[&str]) -> Value {
        let mut s = json!({
            "name": name,
            "registryScopes": scopes,
            "signatureVerification": { "level": level },
        });
        if level != "skip" {
            s["trustStores"] = json!(["ca:theirs"]);
            s["trustedIdentities"] = json!(identities);
        }
        s
    }

    fn policy(statements: &[Value]) -> Option<(PathBuf, Value)> {
        let document = json!({ "version": "1.0", "trustPolicies": statements });
        Some((PathBuf::from("trustpolicy.oci.json"), document))
    }

    /// Merges with a new signer `ME` in `ca:mine`; checks that merging again changes nothing.
    fn merge(existing: Option<(PathBuf, Value)>) -> anyhow::Result<(Value, String)> {
        let dir = tempfile::tempdir().unwrap();
        let config = ConfigDir::new(dir.path());
        let (_, root) = generate_test_certificate("me", KeySpec::EcP256).unwrap();
        let trust = NewTrust {
            dir: &config,
            repository: REPO,
            name: "notary-v1-app".to_owned(),
            store: "ca:mine".to_owned(),
            identity: ME.to_owned(),
            root: &root,
        };
        let (merged, name) = trust.merged(&existing)?;
        let again = trust.merged(&Some((PathBuf::from("p"), merged.clone())))?;
        assert_eq!(
            again,
            (merged.clone(), name.clone()),
            "a rerun changed the policy"
        );
        Ok((merged, name))
    }

    fn named<'a>(document: &'a Value, name: &str) -> &'a Value {
        let all = document["trustPolicies"].as_array().unwrap();
        all.iter().find(|p| p["name"] == name).unwrap()
    }

    #[test]
    fn without_a_policy_one_strict_statement_trusts_the_signer() {
        let (document, name) = merge(None).unwrap();
        assert_eq!(name, "notary-v1-app");
        let expected = json!({
            "name": "notary-v1-app",
            "registryScopes": [REPO],
            "signatureVerification": { "level": "strict" },
            "trustStores": ["ca:mine"],
            "trustedIdentities": [ME],
        });
        assert_eq!(document["trustPolicies"], json!([expected]));
    }

    #[test]
    fn a_statement_for_the_repository_alone_gains_the_signer() {
        let own = statement("mine", &[REPO], "audit", &[YOU]);
        let other = statement("other", &["registry.test/other"], "strict", &[YOU]);
        let (document, name) = merge(policy(&[own, other.clone()])).unwrap();
        assert_eq!(name, "mine");
        let own = named(&document, "mine");
        assert_eq!(own["signatureVerification"]["level"], "audit");
        assert_eq!(own["trustStores"], json!(["ca:theirs", "ca:mine"]));
        assert_eq!(own["trustedIdentities"], json!([YOU, ME]));
        assert_eq!(named(&document, "other"), &other);
        // `*` trusts every identity already.
        let (document, _) = merge(policy(&[statement("all", &[REPO], "strict", &["*"])])).unwrap();
        assert_eq!(named(&document, "all")["trustedIdentities"], json!(["*"]));
    }

    #[test]
    fn a_shared_statement_keeps_its_other_repositories() {
        let shared = statement("shared", &[REPO, "registry.test/b"], "strict", &[YOU]);
        let wildcard = statement("default", &["*"], "skip", &[]);
        let taken = statement("notary-v1-app", &["registry.test/c"], "strict", &[YOU]);
        let (document, name) = merge(policy(&[shared, wildcard.clone(), taken.clone()])).unwrap();
        assert_eq!(name, "notary-v1-app-2");
        assert_eq!(
            named(&document, "shared")["registryScopes"],
            json!(["registry.test/b"])
        );
        assert_eq!(named(&document, "default"), &wildcard);
        assert_eq!(named(&document, "notary-v1-app"), &taken);
        let ours = named(&document, "notary-v1-app-2");
        assert_eq!(ours["registryScopes"], json!([REPO]));
        assert_eq!(ours["trustStores"], json!(["ca:theirs", "ca:mine"]));
        assert_eq!(ours["trustedIdentities"], json!([YOU, ME]));
    }

    #[test]
    fn a_statement_skipping_the_repository_is_refused() {
        for scopes in [&[REPO][..], &[REPO, "registry.test/b"]] {
            let skip = statement("skip", scopes, "skip", &[]);
            let e = merge(policy(&[skip])).unwrap_err();
            assert!(format!("{e:#}").contains("skips verification for"), "{e:#}");
        }
    }

    #[test]
    fn only_a_missing_policy_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let config = ConfigDir::new(dir.path());
        let (_, root) = generate_test_certificate("me", KeySpec::EcP256).unwrap();
        let trust = NewTrust {
            dir: &config,
            repository: REPO,
            name: "n".to_owned(),
            store: "ca:mine".to_owned(),
            identity: ME.to_owned(),
            root: &root,
        };
        assert!(trust.read().unwrap().is_none());
        let path = dir.path().join("trustpolicy.oci.json");
        std::fs::create_dir(&path).unwrap();
        let e = trust.read().unwrap_err();
        assert!(format!("{e:#}").contains("not a regular file"), "{e:#}");
        std::fs::remove_dir(&path).unwrap();
        std::fs::write(&path, b"{\"version\": \"1.0\"").unwrap();
        assert!(trust.read().is_err());
    }
}
