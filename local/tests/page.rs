//! The account page through the local server, as a browser fetches it: the three files from
//! the routes `template.yaml` gives them, each with its content type and the page's security
//! headers (the browser tests in `tests/browser/` then run it in Chromium).

mod common;

use common::spawn;

#[tokio::test]
async fn the_page_and_its_files_are_served_with_their_headers() {
    let server = spawn(common::memory_gateway().await).await;
    let client = reqwest::Client::new();
    let openapi = common::yaml_file("openapi.yaml");
    for (path, content_type, needle) in [
        (
            "/",
            "text/html; charset=utf-8",
            "<script type=\"module\" src=\"/account.js\">",
        ),
        (
            "/account.js",
            "text/javascript; charset=utf-8",
            "Token-Delivery",
        ),
        ("/account.css", "text/css; charset=utf-8", ":focus-visible"),
        ("/favicon.svg", "image/svg+xml; charset=utf-8", "<svg"),
    ] {
        let resp = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let headers = resp.headers().clone();
        let header = |name: &str| {
            headers
                .get(name)
                .unwrap_or_else(|| panic!("{path}: no {name}"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(header("content-type"), content_type, "{path}");
        assert_eq!(
            header("content-security-policy"),
            account_page::headers::CONTENT_SECURITY_POLICY
        );
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("cache-control"), "no-cache");
        assert!(headers.contains_key("apigw-requestid"));
        // As openapi.yaml documents it: the content type and every header it names.
        let documented = &openapi["paths"][path]["get"]["responses"]["200"];
        let mime = content_type.split(';').next().unwrap();
        assert!(
            documented["content"].get(mime).is_some(),
            "{path}: openapi.yaml does not document {mime}"
        );
        for (name, spec) in documented["headers"].as_object().unwrap() {
            let pointer = spec["$ref"].as_str().unwrap().trim_start_matches('#');
            let spec = openapi.pointer(pointer).unwrap();
            assert_eq!(
                header(&name.to_lowercase()),
                spec["schema"]["const"].as_str().unwrap(),
                "{path}: {name}"
            );
        }
        let body = resp.text().await.unwrap();
        assert!(body.contains(needle), "{path}: {needle} missing");
    }
}

#[tokio::test]
async fn the_page_needs_no_token() {
    let server = spawn(common::memory_gateway().await).await;
    // A stale or forged Authorization header does not matter: the page is public.
    let resp = reqwest::Client::new()
        .get(server.url("/"))
        .header("authorization", "Bearer not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
