//! The server starts, answers the version check and stops.

mod common;

#[test]
fn serves_the_version_check() {
    let server = common::Server::start();
    let resp = reqwest::blocking::get(server.url("/v2/")).expect("GET /v2/");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("docker-distribution-api-version")
            .map(|v| v.to_str().ok()),
        Some(Some("registry/2.0"))
    );
}
