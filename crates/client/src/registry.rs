//! A repository in a remote registry: the distribution spec's endpoints under
//! `/v2/<name>/`, with the authentication scope each needs. Manifest, blob and referrers
//! operations live in their own modules (`manifest`, `blob`, `referrers`); this one holds
//! the handle and tag listing ("Content discovery: listing tags").

use hallmark_oci::{RepositoryName, Tag};
use reqwest::{Method, Url};

use crate::client::{Client, Req, bad_url, expect_status, next_page, read_json};
use crate::error::Result;

/// A repository in a registry, reached through a [`Client`].
#[derive(Debug, Clone)]
pub struct Repository {
    pub(crate) client: Client,
    pub(crate) registry: String,
    pub(crate) name: RepositoryName,
}

impl Repository {
    pub(crate) fn new(client: Client, registry: String, name: RepositoryName) -> Repository {
        Repository {
            client,
            registry,
            name,
        }
    }

    /// The registry host.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository name.
    pub fn name(&self) -> &RepositoryName {
        &self.name
    }

    /// The client this repository uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `registry/name`, for messages.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.registry, self.name)
    }

    pub(crate) fn pull_scope(&self) -> Vec<String> {
        vec![format!("repository:{}:pull", self.name)]
    }

    pub(crate) fn push_scope(&self) -> Vec<String> {
        vec![format!("repository:{}:pull,push", self.name)]
    }

    pub(crate) fn delete_scope(&self) -> Vec<String> {
        vec![format!("repository:{}:delete", self.name)]
    }

    /// `<base>/v2/<name>/<path>`.
    pub(crate) async fn url(&self, path: &str) -> Result<Url> {
        let base = self.client.base(&self.registry).await?;
        base.join(&format!("v2/{}/{path}", self.name))
            .map_err(|_| bad_url(path))
    }

    /// Sends a request with this repository's registry and `scopes`.
    pub(crate) async fn send(&self, scopes: &[String], req: Req) -> Result<reqwest::Response> {
        self.client.send(&self.registry, scopes, req).await
    }

    /// All tags (`GET /v2/<name>/tags/list`), following `Link` pages; `page_size` sets `n`.
    pub async fn tags(&self, page_size: Option<u32>) -> Result<Vec<Tag>> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut first = self.url("tags/list").await?;
        if let Some(n) = page_size {
            first.query_pairs_mut().append_pair("n", &n.to_string());
        }
        let mut out = Vec::new();
        let (mut next, mut pages) = (Some(first), 0);
        while let Some(url) = next.take() {
            let req = Req::new(Method::GET, url.clone());
            let response = self.send(&self.pull_scope(), req).await?;
            let response = expect_status(response, Method::GET, &url, &[200]).await?;
            next = next_page(&url, response.headers(), &mut pages)?;
            let page: Page = read_json(response, &url).await?;
            for t in page.tags.unwrap_or_default() {
                // A registry may hold tags outside the grammar; skip them instead of failing.
                match t.parse::<Tag>() {
                    Ok(tag) => out.push(tag),
                    Err(e) => tracing::debug!(tag = %t, error = %e, "skipping invalid tag"),
                }
            }
        }
        Ok(out)
    }
}
