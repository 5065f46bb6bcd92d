//! The account page's handler, fed with `events/account-page.json` and variants of it: each
//! file with its content type and the security headers, the policy strict enough to mean
//! something, and the page's files free of what that policy would refuse.

use account_page::Handler;
use account_page::assets::ASSETS;
use account_page::headers::CONTENT_SECURITY_POLICY;
use auth_edge::Function as _;
use auth_testing::{event, request};
use lambda_http::{Body, Response};
use serde_json::Value;

async fn get(method: &str, path: &str) -> Response<Body> {
    let mut e = event("account-page.json");
    e["rawPath"] = path.into();
    e["requestContext"]["http"]["path"] = path.into();
    e["requestContext"]["http"]["method"] = method.into();
    Handler.handle(request(&e)).await
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

fn text(response: &Response<Body>) -> String {
    String::from_utf8(response.body().as_ref().to_vec()).unwrap()
}

fn assert_security_headers(response: &Response<Body>) {
    assert_eq!(
        header(response, "content-security-policy"),
        CONTENT_SECURITY_POLICY
    );
    assert_eq!(header(response, "x-frame-options"), "DENY");
    assert_eq!(header(response, "referrer-policy"), "no-referrer");
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
}

fn static_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("static")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn serves_each_file_with_its_type_and_the_security_headers() {
    for (path, file, content_type) in [
        ("/", "index.html", "text/html; charset=utf-8"),
        (
            "/account.js",
            "account.js",
            "text/javascript; charset=utf-8",
        ),
        ("/account.css", "account.css", "text/css; charset=utf-8"),
        (
            "/favicon.svg",
            "favicon.svg",
            "image/svg+xml; charset=utf-8",
        ),
    ] {
        let response = get("GET", path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-type"), content_type, "{path}");
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        assert_security_headers(&response);
        assert_eq!(text(&response), static_file(file), "{path}");
    }
    assert_eq!(ASSETS.len(), 4);
}

#[tokio::test]
async fn the_sample_event_gets_the_page() {
    let response = Handler.handle(request(&event("account-page.json"))).await;
    assert_eq!(response.status(), 200);
    assert!(text(&response).starts_with("<!doctype html>"));
}

#[tokio::test]
async fn an_unknown_path_is_a_404_with_the_usual_error_body() {
    for path in ["/nope", "/account.js/", "/static/account.js", "/index.html"] {
        let response = get("GET", path).await;
        assert_eq!(response.status(), 404, "{path:?}");
        assert_eq!(
            header(&response, "content-type"),
            "application/json",
            "{path:?}"
        );
        assert_security_headers(&response);
        let body: Value = serde_json::from_str(&text(&response)).unwrap();
        assert_eq!(body["error"], "not_found", "{path:?}");
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn another_method_is_a_405_that_names_get() {
    for method in ["POST", "DELETE", "PUT"] {
        let response = get(method, "/").await;
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(header(&response, "allow"), "GET");
        assert_security_headers(&response);
        let body: Value = serde_json::from_str(&text(&response)).unwrap();
        assert_eq!(body["error"], "method_not_allowed");
    }
}

/// The policy's directives, by name.
fn directives() -> Vec<(String, Vec<String>)> {
    CONTENT_SECURITY_POLICY
        .split(';')
        .map(|d| {
            let mut words = d.split_whitespace().map(str::to_owned);
            (words.next().unwrap(), words.collect())
        })
        .collect()
}

#[test]
fn the_policy_allows_only_the_pages_own_origin_and_nothing_inline() {
    let directives = directives();
    let get = |name: &str| {
        directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(get("default-src"), ["'none'"]);
    for name in ["script-src", "style-src", "connect-src", "form-action"] {
        assert_eq!(get(name), ["'self'"], "{name}");
    }
    // Images may also be `data:` URIs (the two-factor QR code): images run no script.
    assert_eq!(get("img-src"), ["'self'", "data:"]);
    assert_eq!(get("frame-ancestors"), ["'none'"]);
    assert_eq!(get("base-uri"), ["'none'"]);
    for (name, sources) in &directives {
        for source in sources {
            assert!(
                !source.contains("unsafe")
                    && !source.contains('*')
                    && (!source.contains(':') || *source == "data:" && name == "img-src"),
                "{name} allows {source}"
            );
        }
    }
}

#[test]
fn the_html_has_no_inline_script_or_style() {
    let html = static_file("index.html").to_lowercase();
    // Every <script> loads a file; no <style> element, no style or on* attribute.
    for (at, _) in html.match_indices("<script") {
        let tag = &html[at..at + html[at..].find('>').unwrap()];
        assert!(tag.contains(" src=\"/"), "inline script: {tag}");
        assert!(
            html[at + tag.len()..].starts_with("></script>"),
            "script with content: {tag}"
        );
    }
    assert!(!html.contains("<style"));
    assert!(!html.contains(" style="));
    let attribute_names = html
        .split(|c: char| c.is_whitespace() || c == '<')
        .filter_map(|word| word.split_once('=').map(|(name, _)| name));
    for name in attribute_names {
        assert!(!name.starts_with("on"), "event handler attribute {name}");
    }
    assert!(!html.contains("javascript:"));
}

#[test]
fn the_script_keeps_tokens_out_of_storage_and_evaluates_no_strings() {
    let js = static_file("account.js");
    let code: String = js
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !(line.starts_with("//") || line.starts_with("/*") || line.starts_with('*'))
        })
        .collect::<Vec<_>>()
        .join("\n");
    for forbidden in [
        "localStorage",
        "sessionStorage",
        "document.cookie",
        "indexedDB",
        "eval(",
        "new Function",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "refresh_token",
    ] {
        assert!(!code.contains(forbidden), "account.js uses {forbidden}");
    }
    // Sign-in and refresh ask for the cookie; requests stay same-origin.
    assert!(code.contains("'Token-Delivery'"));
    assert!(code.contains("credentials: 'same-origin'"));
}
