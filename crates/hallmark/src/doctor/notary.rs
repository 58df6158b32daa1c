//! The Notary v1 probes: `GET /_notary_server/health` and `GET /v2/<gun>/_trust/tuf/root.json`
//! (the Notary v1 server API, notary `server/server.go`). A Notary v1 server answers the
//! first with 200 and a JSON object (`{}` when healthy), the second with TUF metadata or its
//! own `METADATA_NOT_FOUND`; a registry answers both with 404 (or 415), which is what a
//! `docker trust` or `notary` client then meets. A 200 alone proves nothing: servers with a
//! web UI answer 200 with a page for any path.

use hallmark_client::error::RegistryErrors;
use reqwest::StatusCode;

use super::report::{Finding, Status};
use super::transport::{Answer, Connection, get};

/// What the Notary v1 endpoints answered.
pub struct Notary {
    /// `scheme://host[:port]` of the server.
    server: String,
    gun: String,
    /// The GUN is made up: the user named no repository.
    made_up: bool,
    /// `GET /_notary_server/health`.
    health: Option<Answer>,
    /// `GET /v2/<gun>/_trust/tuf/root.json`.
    root: Option<Answer>,
}

impl Notary {
    /// Sends both probes through `conn`, for `gun`.
    pub async fn probe(conn: &Connection, gun: &str, made_up: bool) -> Notary {
        let health = get(&conn.http, &conn.base, "_notary_server/health", "notary-v1").await;
        let root_path = format!("v2/{gun}/_trust/tuf/root.json");
        let root = get(&conn.http, &conn.base, &root_path, "notary-v1").await;
        Notary {
            server: conn.base.as_str().trim_end_matches('/').to_owned(),
            gun: gun.to_owned(),
            made_up,
            health: health.ok(),
            root: root.ok(),
        }
    }

    /// Whether the answers are a Notary v1 server's: its health endpoint answering 200 with
    /// a JSON object, its own error code for missing metadata, or TUF metadata itself.
    pub fn is_server(&self) -> bool {
        self.healthy() || matches!(self.root_state(), RootState::Missing | RootState::Present)
    }

    /// `/_notary_server/health` answered 200 with a JSON object, as notary-server does.
    fn healthy(&self) -> bool {
        self.health
            .as_ref()
            .is_some_and(|h| h.status == StatusCode::OK && is_json_object(&h.body))
    }

    /// What the `root.json` probe says about the GUN's trust data.
    fn root_state(&self) -> RootState {
        let Some(root) = &self.root else {
            return RootState::NoAnswer;
        };
        match root.status.as_u16() {
            200 if looks_like_tuf(&root.body) => RootState::Present,
            404 if RegistryErrors::parse(&root.body).has("METADATA_NOT_FOUND") => {
                RootState::Missing
            }
            401 => RootState::Unauthorized,
            other => RootState::Other(other),
        }
    }

    /// The `notary-v1` finding.
    pub fn finding(&self) -> Finding {
        let status_of = |a: &Option<Answer>| {
            a.as_ref()
                .map_or_else(|| "no answer".to_owned(), |a| a.status.as_u16().to_string())
        };
        let health = match &self.health {
            Some(h) if h.status == StatusCode::OK && !self.healthy() => {
                "200, but not with the JSON a Notary server sends".to_owned()
            }
            other => status_of(other),
        };
        let gun = &self.gun;
        if self.is_server() {
            let data = match self.root_state() {
                RootState::Present => "present (root.json answered 200)".to_owned(),
                RootState::Missing => "none yet (404 METADATA_NOT_FOUND)".to_owned(),
                RootState::Unauthorized => "needs a token (401)".to_owned(),
                RootState::Other(s) => format!("root.json answered {s}"),
                RootState::NoAnswer => "root.json: no answer".to_owned(),
            };
            let detail = format!(
                "a Notary v1 trust server (/_notary_server/health answered {health}); trust \
                 data for {gun}{}: {data}",
                if self.made_up {
                    " (made up: pass REPO)"
                } else {
                    ""
                }
            );
            let server = &self.server;
            return Finding::new("notary-v1", Status::Ok, detail).hint(format!(
                "docker trust and notary clients use it; to sign its tags anew as Notary \
                 Project or cosign signatures in the registry: `hallmark v1 migrate --from \
                 {server} --gun {gun} --to REGISTRY/REPO`"
            ));
        }
        let detail = format!(
            "this server does not speak Notary v1 (/_notary_server/health answered {health}, \
             /v2/{gun}/_trust/tuf/root.json answered {})",
            status_of(&self.root)
        );
        Finding::new("notary-v1", Status::Info, detail).hint(
            "Notary v1 clients (docker trust, notary) get 404 or 415 here: migrate their \
             signatures with `hallmark v1 migrate --from NOTARY-SERVER --gun GUN --to \
             REGISTRY/REPO`",
        )
    }
}

enum RootState {
    Present,
    Missing,
    Unauthorized,
    Other(u16),
    NoAnswer,
}

/// Whether `body` is a TUF metadata file: `{"signed": {...}, "signatures": [...]}`.
fn looks_like_tuf(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Metadata {
        #[allow(dead_code)]
        signed: serde_json::Map<String, serde_json::Value>,
        #[allow(dead_code)]
        signatures: Vec<serde_json::Value>,
    }
    serde_json::from_slice::<Metadata>(body).is_ok()
}

/// Whether `body` is a JSON object.
fn is_json_object(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuf_metadata_is_recognised() {
        assert!(looks_like_tuf(
            br#"{"signed":{"_type":"Root"},"signatures":[]}"#
        ));
        assert!(!looks_like_tuf(br#"{"schemaVersion":2,"manifests":[]}"#));
        assert!(!looks_like_tuf(b"404 page not found"));
    }

    #[test]
    fn a_web_page_is_no_health_answer() {
        assert!(is_json_object(b"{}"));
        assert!(!is_json_object(b"<!doctype html><html></html>"));
        assert!(!is_json_object(b"[]"));
    }
}
