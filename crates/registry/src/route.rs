//! Parsing request paths into the endpoints of the distribution spec ("Endpoints" table).
//!
//! A repository name may contain `/` and even components such as `manifests` or `blobs`, so a
//! path is matched from its end, where the endpoint's fixed words sit, and whatever precedes
//! them is the name. The name is parsed here, at the edge; references and digests are parsed
//! by the handlers, which know which error code a bad one deserves.

use hallmark_oci::RepositoryName;

use crate::error::{ErrorCode, RegistryError};

/// An endpoint with its path parameters.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// `/v2/`: API version check.
    Base,
    /// `/v2/_catalog`.
    Catalog,
    /// `/v2/<name>/manifests/<reference>`.
    Manifest(RepositoryName, String),
    /// `/v2/<name>/blobs/<digest>`.
    Blob(RepositoryName, String),
    /// `/v2/<name>/blobs/uploads/`: start an upload.
    UploadStart(RepositoryName),
    /// `/v2/<name>/blobs/uploads/<id>`: an upload session.
    Upload(RepositoryName, String),
    /// `/v2/<name>/tags/list`.
    Tags(RepositoryName),
    /// `/v2/<name>/referrers/<digest>`.
    Referrers(RepositoryName, String),
}

impl Route {
    /// The methods the endpoint answers, as an `Allow` header lists them.
    pub fn methods(&self) -> &'static str {
        match self {
            Route::Base => "GET, HEAD",
            Route::Catalog | Route::Tags(_) | Route::Referrers(..) => "GET",
            Route::Manifest(..) => "GET, HEAD, PUT, DELETE",
            Route::Blob(..) => "GET, HEAD, DELETE",
            Route::UploadStart(_) => "POST",
            Route::Upload(..) => "GET, PATCH, PUT, DELETE",
        }
    }
}

/// Matches a request path. `Ok(None)` means no endpoint has that shape.
pub fn parse(path: &str) -> Result<Option<Route>, RegistryError> {
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Ok((path == "/v2").then_some(Route::Base));
    };
    if rest.is_empty() {
        return Ok(Some(Route::Base));
    }
    if rest == "_catalog" {
        return Ok(Some(Route::Catalog));
    }
    let segments: Vec<String> = match rest.split('/').map(hallmark_oci::percent_decode).collect() {
        Some(s) => s,
        None => return Ok(None),
    };
    let n = segments.len();
    let seg = |i: usize| segments.get(i).map(String::as_str);
    let name = |end: usize| -> Result<RepositoryName, RegistryError> {
        let joined = segments[..end].join("/");
        joined.parse().map_err(|e: hallmark_oci::NameError| {
            RegistryError::new(ErrorCode::NameInvalid, e.to_string())
        })
    };
    if n < 3 {
        return Ok(None);
    }
    let last = segments[n - 1].clone();
    let route = match (seg(n - 3), seg(n - 2)) {
        (_, Some("tags")) if last == "list" => Route::Tags(name(n - 2)?),
        (Some("blobs"), Some("uploads")) if n >= 4 => {
            if last.is_empty() {
                Route::UploadStart(name(n - 3)?)
            } else {
                Route::Upload(name(n - 3)?, last)
            }
        }
        (_, Some("blobs")) if last == "uploads" => Route::UploadStart(name(n - 2)?),
        (_, Some("manifests")) => Route::Manifest(name(n - 2)?, last),
        (_, Some("blobs")) => Route::Blob(name(n - 2)?, last),
        (_, Some("referrers")) => Route::Referrers(name(n - 2)?, last),
        _ => return Ok(None),
    };
    Ok(Some(route))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> RepositoryName {
        s.parse().expect("valid name")
    }

    #[test]
    fn matches_endpoints_from_the_end() {
        let cases = [
            ("/v2/", Some(Route::Base)),
            ("/v2", Some(Route::Base)),
            ("/v2/_catalog", Some(Route::Catalog)),
            (
                "/v2/a/b/manifests/latest",
                Some(Route::Manifest(name("a/b"), "latest".into())),
            ),
            (
                "/v2/x/manifests/manifests/v1",
                Some(Route::Manifest(name("x/manifests"), "v1".into())),
            ),
            (
                "/v2/a/blobs/sha256:1",
                Some(Route::Blob(name("a"), "sha256:1".into())),
            ),
            (
                "/v2/a/blobs/sha256%3A1",
                Some(Route::Blob(name("a"), "sha256:1".into())),
            ),
            ("/v2/a/blobs/uploads/", Some(Route::UploadStart(name("a")))),
            ("/v2/a/blobs/uploads", Some(Route::UploadStart(name("a")))),
            (
                "/v2/a/blobs/uploads/abc",
                Some(Route::Upload(name("a"), "abc".into())),
            ),
            ("/v2/a/b/tags/list", Some(Route::Tags(name("a/b")))),
            (
                "/v2/a/referrers/sha256:1",
                Some(Route::Referrers(name("a"), "sha256:1".into())),
            ),
            ("/v2/a/other/x", None),
            ("/v2/a", None),
            ("/other", None),
        ];
        for (path, want) in cases {
            assert_eq!(parse(path).expect(path), want, "{path}");
        }
    }

    #[test]
    fn rejects_bad_names() {
        for path in [
            "/v2/../manifests/x",
            "/v2/A/manifests/x",
            "/v2/a//b/tags/list",
        ] {
            let err = parse(path).expect_err(path);
            assert_eq!(err.code(), ErrorCode::NameInvalid, "{path}");
        }
    }
}
