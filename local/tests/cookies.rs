//! Browser token delivery over HTTP through the local API Gateway, on the in-memory stores and on
//! DynamoDB (moto): the refresh token in an `HttpOnly` cookie (`Token-Delivery: cookie`), the
//! cross-site checks on a cookie refresh, the cookie cleared when a session ends, bad cookies
//! and headers, and the gateway's CORS answers (`--cors-origin`). Every JSON answer is checked
//! against `openapi.yaml`.

mod common;

use auth_testing::{TestTables, test_env, unique_username};
use common::{OpenApi, TestServer, spawn};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// The one origin besides the API's own that these servers allow.
const APP: &str = "https://app.example.test";
const REFRESH_TTL: i64 = 30 * 24 * 3600;
const COOKIE: &str = "__Secure-refresh_token";

/// Test configuration with [`APP`] allowed and no reuse grace (a rotated token presented again
/// is reuse at once).
fn config(origins: &str) -> auth::Config {
    let mut env = test_env();
    env.insert("CORS_ALLOWED_ORIGINS".into(), origins.into());
    env.insert("REFRESH_REUSE_GRACE_SECONDS".into(), "0".into());
    auth::Config::from_lookup(&|k| env.get(k).cloned()).unwrap()
}

async fn memory_server(origins: &str) -> TestServer {
    memory_server_with(config(origins)).await
}

async fn memory_server_with(config: auth::Config) -> TestServer {
    spawn(common::memory_gateway_with(&config).await).await
}

async fn dynamo_server(origins: &str) -> TestServer {
    let t = TestTables::create().await;
    let gateway = local_api::app::gateway(t.users(), t.sessions(), t.attempts(), &config(origins))
        .await
        .unwrap();
    spawn(gateway).await
}

/// One answer: status, headers, JSON body (or Null).
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    /// The `Set-Cookie` headers for the refresh cookie.
    fn refresh_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .filter(|c| c.starts_with(&format!("{COOKIE}=")))
            .collect()
    }

    /// The new refresh cookie's value, checking its attributes.
    fn new_cookie(&self) -> String {
        let cookies = self.refresh_cookies();
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        let (value, attributes) = cookies[0]
            .strip_prefix(&format!("{COOKIE}="))
            .unwrap()
            .split_once(';')
            .unwrap();
        assert_eq!(
            attributes.trim(),
            format!("Path=/refresh; Max-Age={REFRESH_TTL}; HttpOnly; Secure; SameSite=Strict")
        );
        assert_eq!(value.len(), 43, "a refresh token");
        value.to_owned()
    }

    /// Panics unless the answer clears the refresh cookie.
    fn clears_cookie(&self) {
        assert_eq!(
            self.refresh_cookies(),
            [format!(
                "{COOKIE}=; Path=/refresh; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
            )],
            "status {} {}",
            self.status,
            self.body
        );
    }

    /// The access token of a cookie-mode 200, checking that the body holds no refresh token.
    fn access_token(&self) -> String {
        assert_eq!(self.status, 200, "{}", self.body);
        assert!(self.body.get("refresh_token").is_none(), "{}", self.body);
        assert_eq!(self.body["refresh_expires_in"], REFRESH_TTL);
        self.body["access_token"].as_str().unwrap().to_owned()
    }
}

/// A request with `headers` (and a JSON body), checked against `openapi.yaml` as `documented`.
async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    documented: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut req = reqwest::Client::new().request(method.clone(), server.url(path));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let (status, headers, body) = common::answer(req).await;
    if method != Method::OPTIONS {
        OpenApi::load().check(method.as_str(), documented, status, &body);
    }
    Answer {
        status,
        headers,
        body,
    }
}

async fn register(server: &TestServer) -> Value {
    let name = unique_username("cookie");
    let creds = json!({"username": name, "password": "correct horse battery staple"});
    let a = send(
        server,
        Method::POST,
        "/register",
        "/register",
        &[],
        Some(&creds),
    )
    .await;
    assert_eq!(a.status, 201);
    creds
}

async fn cookie_login(server: &TestServer, creds: &Value) -> (String, String) {
    let a = send(
        server,
        Method::POST,
        "/login",
        "/login",
        &[("token-delivery", "cookie")],
        Some(creds),
    )
    .await;
    (a.access_token(), a.new_cookie())
}

/// `POST /refresh` with the cookie and no body; `extra` headers besides the cookie.
async fn cookie_refresh(server: &TestServer, cookie: &str, extra: &[(&str, &str)]) -> Answer {
    let cookie = format!("theme=dark; {COOKIE}={cookie}");
    let mut headers = vec![("cookie", cookie.as_str())];
    headers.extend_from_slice(extra);
    send(server, Method::POST, "/refresh", "/refresh", &headers, None).await
}

const BROWSER: &[(&str, &str)] = &[("token-delivery", "cookie")];

/// A call of a protected route (`documented` as in `openapi.yaml`) with `access`.
async fn with_token(
    server: &TestServer,
    method: Method,
    path: &str,
    documented: &str,
    access: &str,
) -> Answer {
    let auth = format!("Bearer {access}");
    send(
        server,
        method,
        path,
        documented,
        &[("authorization", &auth)],
        None,
    )
    .await
}

async fn me(server: &TestServer, access: &str) -> u16 {
    with_token(server, Method::GET, "/me", "/me", access)
        .await
        .status
}

async fn the_cookie_flow(server: TestServer) {
    let creds = register(&server).await;
    let (access, first) = cookie_login(&server, &creds).await;
    assert_eq!(me(&server, &access).await, 200);

    // Refresh with the cookie alone: rotated, the new one in the cookie again.
    let a = cookie_refresh(&server, &first, BROWSER).await;
    let access = a.access_token();
    let second = a.new_cookie();
    assert_ne!(second, first);
    assert_eq!(me(&server, &access).await, 200);

    // From the API's own origin, as the account page sends it.
    let own = server.base.clone();
    let a = cookie_refresh(&server, &second, &[BROWSER[0], ("origin", &own)]).await;
    let third = a.new_cookie();
    let access = a.access_token();

    // Reuse of a rotated cookie (no grace here): 401, the cookie cleared, the session ended.
    let a = cookie_refresh(&server, &first, BROWSER).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.body["error"], "invalid_refresh_token");
    a.clears_cookie();
    assert_eq!(cookie_refresh(&server, &third, BROWSER).await.status, 401);
    assert_eq!(me(&server, &access).await, 403);

    // Without the header, today's JSON behaviour: the refresh token in the body.
    let a = send(&server, Method::POST, "/login", "/login", &[], Some(&creds)).await;
    assert_eq!(a.status, 200);
    assert!(a.refresh_cookies().is_empty());
    let token = a.body["refresh_token"].as_str().unwrap().to_owned();
    let body = json!({ "refresh_token": token });
    let a = send(
        &server,
        Method::POST,
        "/refresh",
        "/refresh",
        &[],
        Some(&body),
    )
    .await;
    assert_eq!(a.status, 200);
    assert!(a.refresh_cookies().is_empty() && a.body["refresh_token"].is_string());
    // A JSON client may switch to the cookie with its body token.
    let body = json!({ "refresh_token": a.body["refresh_token"] });
    let a = send(
        &server,
        Method::POST,
        "/refresh",
        "/refresh",
        BROWSER,
        Some(&body),
    )
    .await;
    a.access_token();
    a.new_cookie();
}

#[tokio::test]
async fn the_refresh_token_travels_in_a_cookie_on_memory() {
    the_cookie_flow(memory_server(APP).await).await;
}

#[tokio::test]
async fn the_refresh_token_travels_in_a_cookie_on_dynamodb() {
    the_cookie_flow(dynamo_server(APP).await).await;
}

/// Two tabs of one browser refreshing with the same cookie at about the same time: within the
/// grace window the second gets its own new cookie and the session lives on, as with body tokens.
#[tokio::test]
async fn the_grace_window_holds_for_cookies_too() {
    let mut env = test_env();
    env.insert("REFRESH_REUSE_GRACE_SECONDS".into(), "30".into());
    let server =
        memory_server_with(auth::Config::from_lookup(&|k| env.get(k).cloned()).unwrap()).await;
    let creds = register(&server).await;
    let (_, cookie) = cookie_login(&server, &creds).await;
    let first = cookie_refresh(&server, &cookie, BROWSER).await;
    let second = cookie_refresh(&server, &cookie, BROWSER).await;
    let (a, b) = (first.new_cookie(), second.new_cookie());
    assert_ne!(a, b);
    for (answer, next) in [(&first, &a), (&second, &b)] {
        assert_eq!(me(&server, &answer.access_token()).await, 200);
        cookie_refresh(&server, next, BROWSER).await.access_token();
    }
}

async fn cross_site_refreshes_are_refused(server: TestServer) {
    let creds = register(&server).await;
    let (_, cookie) = cookie_login(&server, &creds).await;

    // The cookie without the header (what a cross-site form or a simple request sends), or
    // from an origin that is neither the API's nor allowed: 403, nothing rotated or cleared.
    for headers in [
        vec![],
        vec![("token-delivery", "json")],
        vec![("origin", "https://evil.example.test")],
        vec![BROWSER[0], ("origin", "https://evil.example.test")],
        vec![BROWSER[0], ("origin", "null")],
        vec![BROWSER[0], ("origin", "http://127.0.0.1:1")],
    ] {
        let a = cookie_refresh(&server, &cookie, &headers).await;
        assert_eq!(a.status, 403, "{headers:?}: {}", a.body);
        assert_eq!(a.body["error"], "csrf_rejected");
        assert!(a.refresh_cookies().is_empty(), "{headers:?}");
    }
    // Login in cookie mode is held to the same origins.
    let a = send(
        &server,
        Method::POST,
        "/login",
        "/login",
        &[BROWSER[0], ("origin", "https://evil.example.test")],
        Some(&creds),
    )
    .await;
    assert_eq!((a.status, &a.body["error"]), (403, &json!("csrf_rejected")));

    // The cookie is still good: from the allowed origin.
    let a = cookie_refresh(&server, &cookie, &[BROWSER[0], ("origin", APP)]).await;
    a.access_token();
    a.new_cookie();
}

#[tokio::test]
async fn cross_site_refreshes_are_refused_on_memory() {
    cross_site_refreshes_are_refused(memory_server(APP).await).await;
}

#[tokio::test]
async fn cross_site_refreshes_are_refused_on_dynamodb() {
    cross_site_refreshes_are_refused(dynamo_server(APP).await).await;
}

async fn ending_a_session_clears_the_cookie(server: TestServer) {
    let creds = register(&server).await;

    let (access, cookie) = cookie_login(&server, &creds).await;
    let a = with_token(&server, Method::POST, "/logout", "/logout", &access).await;
    assert_eq!(a.status, 204);
    a.clears_cookie();
    assert_eq!(cookie_refresh(&server, &cookie, BROWSER).await.status, 401);

    let (access, _) = cookie_login(&server, &creds).await;
    let a = with_token(&server, Method::POST, "/logout-all", "/logout-all", &access).await;
    assert_eq!(a.status, 204);
    a.clears_cookie();

    // Ending another session leaves this browser's cookie alone; ending its own clears it.
    let (access, cookie) = cookie_login(&server, &creds).await;
    let (_, other_cookie) = cookie_login(&server, &creds).await;
    let list = with_token(&server, Method::GET, "/sessions", "/sessions", &access).await;
    let sessions = list.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let id = |current: bool| {
        sessions.iter().find(|s| s["current"] == current).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (mine, other) = (id(true), id(false));
    let a = with_token(
        &server,
        Method::DELETE,
        &format!("/sessions/{other}"),
        "/sessions/{id}",
        &access,
    )
    .await;
    assert_eq!(a.status, 204);
    assert!(a.refresh_cookies().is_empty());
    assert_eq!(
        cookie_refresh(&server, &other_cookie, BROWSER).await.status,
        401
    );
    let a = with_token(
        &server,
        Method::DELETE,
        &format!("/sessions/{mine}"),
        "/sessions/{id}",
        &access,
    )
    .await;
    assert_eq!(a.status, 204);
    a.clears_cookie();
    assert_eq!(cookie_refresh(&server, &cookie, BROWSER).await.status, 401);
}

#[tokio::test]
async fn ending_a_session_clears_the_cookie_on_memory() {
    ending_a_session_clears_the_cookie(memory_server("").await).await;
}

#[tokio::test]
async fn ending_a_session_clears_the_cookie_on_dynamodb() {
    ending_a_session_clears_the_cookie(dynamo_server("").await).await;
}

async fn bad_cookies_and_headers(server: TestServer) {
    let creds = register(&server).await;
    let (_, cookie) = cookie_login(&server, &creds).await;

    // Two refresh cookies: 400, nothing rotated, the browser's cookie cleared.
    let two = format!("{COOKIE}={cookie}; {COOKIE}={cookie}");
    let a = send(
        &server,
        Method::POST,
        "/refresh",
        "/refresh",
        &[BROWSER[0], ("cookie", &two)],
        None,
    )
    .await;
    assert_eq!(
        (a.status, &a.body["error"]),
        (400, &json!("invalid_request"))
    );
    a.clears_cookie();
    // A cookie and a body token that disagree: 400.
    let other = auth::RefreshToken::generate();
    let body = json!({ "refresh_token": other.expose_secret() });
    let header = format!("{COOKIE}={cookie}");
    let a = send(
        &server,
        Method::POST,
        "/refresh",
        "/refresh",
        &[BROWSER[0], ("cookie", &header)],
        Some(&body),
    )
    .await;
    assert_eq!(
        (a.status, &a.body["error"]),
        (400, &json!("invalid_request"))
    );
    a.clears_cookie();
    // Without the header (a JSON client whose browser holds the cookie too): the same 400,
    // and its cookie is left alone.
    let a = send(
        &server,
        Method::POST,
        "/refresh",
        "/refresh",
        &[("cookie", &header)],
        Some(&body),
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(a.refresh_cookies().is_empty());
    // Unknown deliveries: 400 on login and refresh.
    for value in ["cookies", "Cookie; json", "body"] {
        let a = cookie_refresh(&server, &cookie, &[("token-delivery", value)]).await;
        assert_eq!(a.status, 400, "{value}: {}", a.body);
        let a = send(
            &server,
            Method::POST,
            "/login",
            "/login",
            &[("token-delivery", value)],
            Some(&creds),
        )
        .await;
        assert_eq!(a.status, 400, "{value}: {}", a.body);
    }
    // The refresh cookie is no credential on other routes.
    for (method, path) in [
        (Method::GET, "/me"),
        (Method::POST, "/logout"),
        (Method::GET, "/sessions"),
    ] {
        let a = send(&server, method, path, path, &[("cookie", &header)], None).await;
        assert_eq!(a.status, 401, "{path}");
    }
    // After all of that the cookie was never rotated: it still refreshes.
    let a = cookie_refresh(&server, &cookie, BROWSER).await;
    a.access_token();

    // Malformed or oversized: not a token this service issued; 401, and the cookie cleared.
    let huge = "A".repeat(4000);
    for value in ["", "not-a-token", "%00%ff", huge.as_str(), "\"quoted\""] {
        let a = cookie_refresh(&server, value, BROWSER).await;
        assert_eq!(a.status, 401, "{}", a.body);
        a.clears_cookie();
    }
    // A browser with no cookie at all (signed out): 401, cleared.
    let a = send(&server, Method::POST, "/refresh", "/refresh", BROWSER, None).await;
    assert_eq!(a.status, 401);
    a.clears_cookie();
}

#[tokio::test]
async fn bad_cookies_and_headers_are_4xx_on_memory() {
    bad_cookies_and_headers(memory_server(APP).await).await;
}

#[tokio::test]
async fn bad_cookies_and_headers_are_4xx_on_dynamodb() {
    bad_cookies_and_headers(dynamo_server(APP).await).await;
}

async fn preflight(server: &TestServer, origin: &str, headers: &str) -> Answer {
    send(
        server,
        Method::OPTIONS,
        "/refresh",
        "/refresh",
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", headers),
        ],
        None,
    )
    .await
}

#[tokio::test]
async fn cors_allows_exactly_the_listed_origins_with_credentials() {
    let server = memory_server(APP).await;
    let a = preflight(&server, APP, "token-delivery,content-type").await;
    assert_eq!(a.status, 204);
    let h = &a.headers;
    assert_eq!(h["access-control-allow-origin"], APP);
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(
        h["access-control-allow-headers"],
        "authorization,content-type,token-delivery"
    );
    assert_eq!(h["access-control-allow-methods"], "GET,POST,DELETE");
    // Another origin, or a header not allowed: no CORS headers, so the browser refuses.
    for (origin, headers) in [
        ("https://evil.example.test", "token-delivery"),
        ("https://app.example.test.evil.test", "token-delivery"),
        ("null", "token-delivery"),
        (APP, "x-other"),
    ] {
        let a = preflight(&server, origin, headers).await;
        assert_eq!(a.status, 204);
        assert!(
            a.headers.get("access-control-allow-origin").is_none(),
            "{origin} {headers}"
        );
    }
    // Actual answers carry the headers for the listed origin only.
    let a = send(
        &server,
        Method::POST,
        "/refresh",
        "/refresh",
        &[("origin", APP), BROWSER[0]],
        None,
    )
    .await;
    assert_eq!(a.status, 401);
    assert_eq!(a.headers["access-control-allow-origin"], APP);
    assert_eq!(a.headers["access-control-expose-headers"], "retry-after");
    let a = send(
        &server,
        Method::GET,
        "/me",
        "/me",
        &[("origin", "https://evil.example.test")],
        None,
    )
    .await;
    assert_eq!(a.status, 401);
    assert!(a.headers.get("access-control-allow-origin").is_none());

    // No origins (the default): no CORS at all; OPTIONS is routed, and there is no such route.
    let server = memory_server("").await;
    let a = preflight(&server, APP, "token-delivery").await;
    assert_eq!(a.status, 404);
    assert!(a.headers.get("access-control-allow-origin").is_none());
}
