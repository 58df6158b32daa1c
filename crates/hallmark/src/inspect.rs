//! `hallmark list` and `hallmark inspect`: the signatures of a manifest, and what each one
//! says (signing time, expiry, certificate chain, signed attributes, timestamp), as
//! `notation list` and `notation inspect` show them. Nothing here decides trust: inspect
//! parses envelopes without verifying them.

use hallmark_client::Target;
use hallmark_envelope::{Envelope, EnvelopeFormat};
use hallmark_oci::Descriptor;
use hallmark_signature::find::{FoundSignature, load, load_manifest, signature_descriptors};
use hallmark_timestamp::TimestampToken;
use hallmark_x509::Certificate;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::Instrument;

use crate::sign::strip_reference;
use crate::target::{ClientArgs, RefArg, print_json, small_runtime};

/// How `inspect` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An indented tree.
    Tree,
    /// One JSON document.
    Json,
}

/// Flags of `list` and `inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact: `registry/repo:tag|@digest`, or a layout reference with --oci-layout.
    reference: String,
    /// Signatures to show at most.
    #[arg(long, default_value_t = 100)]
    max_signatures: usize,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Tree)]
    output: Format,
    #[command(flatten)]
    client: ClientArgs,
}

/// A line of a tree and the lines under it.
pub struct Node {
    label: String,
    children: Vec<Node>,
}

impl Node {
    fn leaf(label: impl Into<String>) -> Node {
        Node {
            label: label.into(),
            children: Vec::new(),
        }
    }

    fn with(label: impl Into<String>, children: Vec<Node>) -> Node {
        Node {
            label: label.into(),
            children,
        }
    }

    /// Prints the children of `self` under its label.
    pub fn print(&self) {
        println!("{}", self.label);
        print_children(&self.children, "");
    }
}

fn print_children(nodes: &[Node], indent: &str) {
    for (i, n) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        println!("{indent}{} {}", if last { "└──" } else { "├──" }, n.label);
        let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
        print_children(&n.children, &deeper);
    }
}

fn time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn certificate_node(c: &Certificate) -> Node {
    Node::with(
        format!("SHA256 fingerprint: {}", c.sha256_fingerprint()),
        vec![
            Node::leaf(format!("issued to: {}", c.subject())),
            Node::leaf(format!("issued by: {}", c.issuer())),
            Node::leaf(format!("expiry: {}", time(c.not_after()))),
        ],
    )
}

pub fn certificate_json(c: &Certificate) -> Value {
    json!({
        "SHA256Fingerprint": c.sha256_fingerprint(),
        "issuedTo": c.subject().to_string(),
        "issuedBy": c.issuer().to_string(),
        "notBefore": time(c.not_before()),
        "expiry": time(c.not_after()),
    })
}

/// The timestamp's range and chain, or why it cannot be read.
fn timestamp_parts(token: &[u8]) -> Result<(String, Vec<Certificate>), String> {
    let t = TimestampToken::parse(token).map_err(|e| e.to_string())?;
    let accuracy = t.accuracy().unwrap_or(time::Duration::ZERO);
    let range = format!(
        "[{}, {}]",
        time(t.gen_time() - accuracy),
        time(t.gen_time() + accuracy)
    );
    Ok((range, t.certificates().to_vec()))
}

/// What one envelope says, as a tree under `label`.
pub fn envelope_tree(label: String, envelope: &Envelope) -> Node {
    let s = &envelope.signed;
    let mut signed = vec![
        Node::leaf(format!("content type: {}", s.content_type)),
        Node::leaf(format!("signing scheme: {}", s.signing_scheme.as_str())),
    ];
    if let Some(t) = s.signing_time {
        signed.push(Node::leaf(format!("signing time: {}", time(t))));
    }
    if let Some(t) = s.authentic_signing_time {
        signed.push(Node::leaf(format!("authentic signing time: {}", time(t))));
    }
    signed.push(Node::leaf(format!(
        "expiry: {}",
        s.expiry.map_or("no expiry".to_owned(), time)
    )));
    for a in &s.extended {
        signed.push(Node::leaf(format!(
            "{}{}: {}",
            a.key,
            if a.critical { " (critical)" } else { "" },
            a.value
        )));
    }

    let mut unsigned = Vec::new();
    if let Some(agent) = &envelope.unsigned.signing_agent {
        unsigned.push(Node::leaf(format!("signing agent: {agent}")));
    }
    if let Some(token) = &envelope.unsigned.timestamp_signature {
        let children = match timestamp_parts(token) {
            Ok((range, certs)) => vec![
                Node::leaf(format!("timestamp: {range}")),
                Node::with("certificates", certs.iter().map(certificate_node).collect()),
            ],
            Err(e) => vec![Node::leaf(format!("error: {e}"))],
        };
        unsigned.push(Node::with("timestamp signature", children));
    }

    let mut children = vec![
        Node::leaf(format!(
            "signature algorithm: {}",
            envelope.algorithm.jws_name()
        )),
        Node::leaf(format!(
            "signature envelope type: {}",
            envelope.format.media_type()
        )),
        Node::with("signed attributes", signed),
    ];
    match envelope.payload() {
        Ok(p) => {
            let user: Vec<Node> = p
                .target_artifact
                .annotations
                .iter()
                .flatten()
                .map(|(k, v)| Node::leaf(format!("{k}: {v}")))
                .collect();
            children.push(Node::with("user defined attributes", user));
            children.push(Node::with("unsigned attributes", unsigned));
            children.push(Node::with(
                "certificates",
                envelope
                    .certificate_chain
                    .iter()
                    .map(certificate_node)
                    .collect(),
            ));
            let t = &p.target_artifact;
            children.push(Node::with(
                "signed artifact",
                vec![
                    Node::leaf(format!("media type: {}", t.media_type)),
                    Node::leaf(format!("digest: {}", t.digest)),
                    Node::leaf(format!("size: {}", t.size)),
                ],
            ));
        }
        Err(e) => children.push(Node::leaf(format!("payload error: {e}"))),
    }
    Node::with(label, children)
}

/// What one envelope says, as JSON.
pub fn envelope_json(envelope: &Envelope) -> Value {
    let s = &envelope.signed;
    let mut signed = json!({
        "contentType": s.content_type,
        "signingScheme": s.signing_scheme.as_str(),
        "signingTime": s.signing_time.map(time),
        "authenticSigningTime": s.authentic_signing_time.map(time),
        "expiry": s.expiry.map(time),
    });
    for a in &s.extended {
        signed[&a.key] = a.value.clone();
    }
    let timestamp =
        envelope
            .unsigned
            .timestamp_signature
            .as_ref()
            .map(|token| match timestamp_parts(token) {
                Ok((range, certs)) => json!({
                    "timestamp": range,
                    "certificates": certs.iter().map(certificate_json).collect::<Vec<_>>(),
                }),
                Err(e) => json!({"error": e}),
            });
    let payload = envelope.payload().ok();
    let annotations = payload
        .as_ref()
        .and_then(|p| p.target_artifact.annotations.clone());
    json!({
        "signatureAlgorithm": envelope.algorithm.jws_name(),
        "signatureEnvelopeType": envelope.format.media_type(),
        "signedAttributes": signed,
        "userDefinedAttributes": annotations,
        "unsignedAttributes": {
            "signingAgent": envelope.unsigned.signing_agent,
            "timestampSignature": timestamp,
        },
        "certificates": envelope.certificate_chain.iter().map(certificate_json).collect::<Vec<_>>(),
        "signedArtifact": payload.map(|p| p.target_artifact),
    })
}

/// Parses a found signature's envelope, or says why it cannot be read.
fn parse(sig: &FoundSignature) -> Result<Envelope, String> {
    let signature = sig.signature.as_ref().map_err(Clone::clone)?;
    let bytes = sig.envelope.as_ref().map_err(Clone::clone)?;
    Envelope::parse(signature.format, bytes).map_err(|e| e.to_string())
}

/// The artifact's digest reference and the descriptors of its signatures, at most
/// `--max-signatures`; `load` then fetches each (manifest only, or with its envelope).
fn find<T>(
    args: &Args,
    what: &str,
    load: impl AsyncFn(&Target, &Descriptor) -> Result<T, hallmark_signature::Error>,
) -> anyhow::Result<(String, Vec<T>)> {
    let reference = RefArg::parse(&args.reference, args.oci_layout)?;
    let wanted = reference.require_reference(what)?;
    let client = args.client.client(reference.registry().as_slice())?;
    let target = reference.target(&client, false)?;
    let span = tracing::info_span!("signatures", command = what, reference = %reference);
    small_runtime()?.block_on(
        async {
            let subject = target.resolve(&wanted).await?;
            let descriptors =
                signature_descriptors(&target, &subject.digest, args.max_signatures).await?;
            let mut found = Vec::with_capacity(descriptors.len());
            for descriptor in &descriptors {
                found.push(load(&target, descriptor).await?);
            }
            let resolved = format!("{}@{}", strip_reference(&reference), subject.digest);
            anyhow::Ok((resolved, found))
        }
        .instrument(span),
    )
}

/// Prints the tree of `resolved` and its signatures, or that it has none.
fn print_signatures(resolved: String, signatures: Vec<Node>) {
    if signatures.is_empty() {
        println!("{resolved} has no associated signature");
        return;
    }
    Node::with(
        resolved,
        vec![Node::with(
            hallmark_signature::SIGNATURE_ARTIFACT_TYPE,
            signatures,
        )],
    )
    .print();
}

/// Runs `list`: the signature manifests only, no envelope is downloaded.
pub fn list(args: Args) -> anyhow::Result<()> {
    let (resolved, found) = find(&args, "list", load_manifest)?;
    if args.output == Format::Json {
        let list: Vec<Value> = found
            .iter()
            .map(|s| {
                json!({
                    "digest": s.manifest.digest,
                    "mediaType": s.manifest.media_type,
                    "size": s.manifest.size,
                    "envelopeMediaType":
                        s.signature.as_ref().map_or("-", |m| m.format.media_type()),
                })
            })
            .collect();
        return print_json(&json!({"reference": resolved, "signatures": list}));
    }
    let sigs = found
        .iter()
        .map(|s| Node::leaf(s.manifest.digest.to_string()))
        .collect();
    print_signatures(resolved, sigs);
    Ok(())
}

/// Runs `inspect`.
pub fn inspect(args: Args) -> anyhow::Result<()> {
    let (resolved, found) = find(&args, "inspect", load)?;
    if args.output == Format::Json {
        let list: Vec<Value> = found
            .iter()
            .map(|s| {
                let mut v = match parse(s) {
                    Ok(e) => envelope_json(&e),
                    Err(e) => json!({"error": e}),
                };
                v["digest"] = json!(s.manifest.digest);
                v["mediaType"] = json!(crate::verify::media_type(s));
                v
            })
            .collect();
        return print_json(&json!({"reference": resolved, "signatures": list}));
    }
    let sigs = found
        .iter()
        .map(|s| match parse(s) {
            Ok(e) => envelope_tree(s.manifest.digest.to_string(), &e),
            Err(e) => Node::with(
                s.manifest.digest.to_string(),
                vec![Node::leaf(format!("error: {e}"))],
            ),
        })
        .collect();
    print_signatures(resolved, sigs);
    Ok(())
}

/// The format named by a detached signature's file name (`*.jws.sig`, `*.cose.sig`).
pub fn format_of_file(path: &std::path::Path) -> Option<EnvelopeFormat> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".jws.sig") {
        Some(EnvelopeFormat::Jws)
    } else if name.ends_with(".cose.sig") {
        Some(EnvelopeFormat::Cose)
    } else {
        None
    }
}
