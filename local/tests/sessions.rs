//! Sessions over HTTP through the local API Gateway, on the in-memory stores and on DynamoDB
//! (moto): refresh with rotation and theft detection, listing, revoking one session, logging
//! out everywhere — and the races: two concurrent refreshes of one token, logins concurrent with
//! a log-out-everywhere. Every answer is checked against `openapi.yaml`.

mod common;

use std::time::Duration;

use auth::store::memory::{MemoryAttempts, MemorySessions, MemoryUsers};
use auth_testing::{TestTables, test_env, unique_username};
use common::{OpenApi, TestServer, call, spawn};
use local_api::gateway::Gateway;
use reqwest::Method;
use serde_json::{Value, json};

/// The configuration of these tests: a one-second grace window, so that reuse after it can be
/// shown without a long wait.
fn config() -> auth::Config {
    let mut env = test_env();
    env.insert("REFRESH_REUSE_GRACE_SECONDS".into(), "1".into());
    auth::Config::from_lookup(&|k| env.get(k).cloned()).unwrap()
}

async fn memory_server() -> TestServer {
    let gateway = local_api::app::gateway(
        MemoryUsers::new(),
        MemorySessions::new(),
        MemoryAttempts::new(),
        &config(),
    )
    .await
    .unwrap();
    spawn(gateway).await
}

async fn dynamo_server() -> TestServer {
    server_on(TestTables::create().await).await
}

/// For the races: on dynalite, whose conditional writes are atomic per item as DynamoDB's are
/// (moto applies an update in steps, so a racing read can see half of it).
async fn dynalite_server() -> TestServer {
    server_on(TestTables::create_on_dynalite().await).await
}

async fn server_on(t: TestTables) -> TestServer {
    let gateway: Gateway =
        local_api::app::gateway(t.users(), t.sessions(), t.attempts(), &config())
            .await
            .unwrap();
    spawn(gateway).await
}

/// A request whose answer must match `openapi.yaml` (`documented` is the path as documented).
async fn api(
    server: &TestServer,
    method: Method,
    path: &str,
    documented: &str,
    token: Option<&str>,
    body: Option<&Value>,
    user_agent: &str,
) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .user_agent(user_agent)
        .build()
        .unwrap();
    let (status, _, body) = call(&client, method.clone(), &server.url(path), token, body).await;
    OpenApi::load().check(method.as_str(), documented, status, &body);
    (status, body)
}

struct Tokens {
    access: String,
    refresh: String,
}

impl Tokens {
    fn from(body: &Value) -> Self {
        Self {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }
}

async fn register(server: &TestServer) -> Value {
    let name = unique_username("sess");
    let creds = json!({"username": name, "password": "correct horse battery staple"});
    let (status, _) = api(
        server,
        Method::POST,
        "/register",
        "/register",
        None,
        Some(&creds),
        "t",
    )
    .await;
    assert_eq!(status, 201);
    creds
}

async fn login(server: &TestServer, creds: &Value, device: &str) -> Tokens {
    let (status, body) = api(
        server,
        Method::POST,
        "/login",
        "/login",
        None,
        Some(creds),
        device,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    Tokens::from(&body)
}

async fn refresh(server: &TestServer, refresh_token: &str, device: &str) -> (u16, Value) {
    let body = json!({ "refresh_token": refresh_token });
    api(
        server,
        Method::POST,
        "/refresh",
        "/refresh",
        None,
        Some(&body),
        device,
    )
    .await
}

async fn me(server: &TestServer, access: &str) -> u16 {
    api(server, Method::GET, "/me", "/me", Some(access), None, "t")
        .await
        .0
}

async fn list(server: &TestServer, access: &str) -> Vec<Value> {
    let (status, body) = api(
        server,
        Method::GET,
        "/sessions",
        "/sessions",
        Some(access),
        None,
        "t",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["sessions"].as_array().unwrap().clone()
}

async fn sessions_end_to_end(server: TestServer) {
    let creds = register(&server).await;
    let phone = login(&server, &creds, "phone-app/2.1").await;
    let laptop = login(&server, &creds, "laptop-browser/130").await;

    // Refresh: a new pair; the old access token of the session keeps working until it
    // expires, the new one works, and the session is the same.
    let (status, body) = refresh(&server, &phone.refresh, "phone-app/2.2").await;
    assert_eq!(status, 200, "{body}");
    let phone2 = Tokens::from(&body);
    assert_ne!(phone2.refresh, phone.refresh);
    assert_eq!(me(&server, &phone2.access).await, 200);
    assert_eq!(me(&server, &phone.access).await, 200);

    // Listing from the laptop: both sessions, newest first is not guaranteed within one
    // second, so find them by agent; the laptop's is current; no token material anywhere.
    let sessions = list(&server, &laptop.access).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let text = serde_json::to_string(&sessions).unwrap();
    for secret in [
        &phone.access,
        &phone.refresh,
        &laptop.access,
        &laptop.refresh,
        &phone2.refresh,
    ] {
        assert!(!text.contains(secret.as_str()));
    }
    let by_agent = |agent: &str| {
        sessions
            .iter()
            .find(|s| s["user_agent"] == agent)
            .unwrap_or_else(|| panic!("no session of {agent}: {sessions:?}"))
            .clone()
    };
    let phone_session = by_agent("phone-app/2.2");
    let laptop_session = by_agent("laptop-browser/130");
    assert_eq!(phone_session["current"], false);
    assert_eq!(laptop_session["current"], true);
    assert_eq!(laptop_session["source_ip"], "127.0.0.1");

    // Revoke the phone from the laptop: its access tokens and refresh token stop at once.
    let phone_id = phone_session["id"].as_str().unwrap();
    let path = format!("/sessions/{phone_id}");
    let (status, _) = api(
        &server,
        Method::DELETE,
        &path,
        "/sessions/{id}",
        Some(&laptop.access),
        None,
        "t",
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(me(&server, &phone2.access).await, 403);
    assert_eq!(me(&server, &phone.access).await, 403);
    assert_eq!(refresh(&server, &phone2.refresh, "x").await.0, 401);
    let (status, body) = api(
        &server,
        Method::DELETE,
        &path,
        "/sessions/{id}",
        Some(&laptop.access),
        None,
        "t",
    )
    .await;
    assert_eq!((status, &body["error"]), (404, &json!("session_not_found")));
    assert_eq!(list(&server, &laptop.access).await.len(), 1);

    // Another user cannot see or end the laptop's session.
    let other_creds = register(&server).await;
    let other = login(&server, &other_creds, "other").await;
    assert_eq!(list(&server, &other.access).await.len(), 1);
    let laptop_path = format!("/sessions/{}", laptop_session["id"].as_str().unwrap());
    let (status, _) = api(
        &server,
        Method::DELETE,
        &laptop_path,
        "/sessions/{id}",
        Some(&other.access),
        None,
        "t",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(me(&server, &laptop.access).await, 200);

    // Log out everywhere: every session of the user ends, including the caller's; the other
    // user's does not; a new login works.
    let tablet = login(&server, &creds, "tablet").await;
    let (status, body) = api(
        &server,
        Method::POST,
        "/logout-all",
        "/logout-all",
        Some(&laptop.access),
        None,
        "t",
    )
    .await;
    assert_eq!((status, body), (204, Value::Null));
    for t in [&laptop, &tablet] {
        assert_eq!(me(&server, &t.access).await, 403);
        assert_eq!(refresh(&server, &t.refresh, "x").await.0, 401);
    }
    assert_eq!(me(&server, &other.access).await, 200);
    let fresh = login(&server, &creds, "fresh").await;
    assert_eq!(me(&server, &fresh.access).await, 200);
    let sessions = list(&server, &fresh.access).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["current"], true);
}

#[tokio::test]
async fn sessions_end_to_end_in_memory() {
    sessions_end_to_end(memory_server().await).await;
}

#[tokio::test]
async fn sessions_end_to_end_on_dynamodb() {
    sessions_end_to_end(dynamo_server().await).await;
}

/// A stolen refresh token: whoever uses it second, after the grace window, ends the session
/// for both — the thief's new tokens and the owner's.
async fn reuse_revokes_the_family(server: TestServer) {
    let creds = register(&server).await;
    let victim = login(&server, &creds, "victim").await;
    let (status, body) = refresh(&server, &victim.refresh, "thief").await;
    assert_eq!(status, 200);
    let thief = Tokens::from(&body);
    assert_eq!(me(&server, &thief.access).await, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = refresh(&server, &victim.refresh, "victim").await;
    assert_eq!(
        (status, &body["error"]),
        (401, &json!("invalid_refresh_token"))
    );
    assert_eq!(me(&server, &thief.access).await, 403);
    assert_eq!(me(&server, &victim.access).await, 403);
    assert_eq!(refresh(&server, &thief.refresh, "thief").await.0, 401);
}

#[tokio::test]
async fn reuse_revokes_the_family_in_memory() {
    reuse_revokes_the_family(memory_server().await).await;
}

#[tokio::test]
async fn reuse_revokes_the_family_on_dynamodb() {
    reuse_revokes_the_family(dynamo_server().await).await;
}

/// Two refreshes of one token at once: both succeed with working pairs, the session lives on.
async fn two_concurrent_refreshes(server: TestServer) {
    let creds = register(&server).await;
    let tokens = login(&server, &creds, "tabs").await;
    let server = std::sync::Arc::new(server);
    let tries: Vec<_> = (0..2)
        .map(|i| {
            let server = server.clone();
            let token = tokens.refresh.clone();
            tokio::spawn(async move { refresh(&server, &token, &format!("tab-{i}")).await })
        })
        .collect();
    let mut pairs = Vec::new();
    for t in tries {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        pairs.push(Tokens::from(&body));
    }
    for pair in &pairs {
        assert_eq!(me(&server, &pair.access).await, 200);
    }
    assert_eq!(me(&server, &tokens.access).await, 200);
    assert_eq!(list(&server, &tokens.access).await.len(), 1);
    for pair in &pairs {
        assert_eq!(refresh(&server, &pair.refresh, "tab").await.0, 200);
    }
}

#[tokio::test]
async fn two_concurrent_refreshes_in_memory() {
    two_concurrent_refreshes(memory_server().await).await;
}

#[tokio::test]
async fn two_concurrent_refreshes_on_dynalite() {
    two_concurrent_refreshes(dynalite_server().await).await;
}

/// Logins racing a log-out-everywhere: the sessions that existed before it end; each racing
/// login either ended with it or began after it — what the authorizer allows and what the
/// listing shows agree; a login after it works.
async fn logout_all_concurrent_with_logins(server: TestServer) {
    let creds = register(&server).await;
    let before = login(&server, &creds, "before").await;
    let server = std::sync::Arc::new(server);
    let logins: Vec<_> = (0..4)
        .map(|i| {
            let server = server.clone();
            let creds = creds.clone();
            tokio::spawn(async move { login(&server, &creds, &format!("racer-{i}")).await })
        })
        .collect();
    let (status, _) = api(
        &server,
        Method::POST,
        "/logout-all",
        "/logout-all",
        Some(&before.access),
        None,
        "t",
    )
    .await;
    assert_eq!(status, 204);
    let mut racers = Vec::new();
    for l in logins {
        racers.push(l.await.unwrap());
    }
    assert_eq!(me(&server, &before.access).await, 403);
    assert_eq!(refresh(&server, &before.refresh, "x").await.0, 401);

    let after = login(&server, &creds, "after").await;
    assert_eq!(me(&server, &after.access).await, 200);
    let listed: Vec<String> = list(&server, &after.access)
        .await
        .iter()
        .map(|s| s["user_agent"].as_str().unwrap().to_owned())
        .collect();
    for (i, racer) in racers.iter().enumerate() {
        let alive = me(&server, &racer.access).await == 200;
        assert_eq!(
            alive,
            listed.contains(&format!("racer-{i}")),
            "racer-{i}: the authorizer and the listing disagree ({listed:?})"
        );
        let refreshed = refresh(&server, &racer.refresh, &format!("racer-{i}"))
            .await
            .0;
        assert_eq!(refreshed == 200, alive, "racer-{i}");
    }
    assert!(listed.contains(&"after".to_owned()));
    assert!(!listed.contains(&"before".to_owned()));
}

#[tokio::test]
async fn logout_all_concurrent_with_logins_in_memory() {
    logout_all_concurrent_with_logins(memory_server().await).await;
}

#[tokio::test]
async fn logout_all_concurrent_with_logins_on_dynalite() {
    logout_all_concurrent_with_logins(dynalite_server().await).await;
}

/// The outside review's reproduction: log in, log out everywhere, write a session item for the
/// user with generation 0 and a future expiry straight into the store (what a login racing
/// `POST /logout-all` can leave), then delete it by id with a live token: 404, as for any
/// ended session, and it stays out of the listing.
async fn deleting_a_session_that_logout_all_ended(
    server: TestServer,
    sessions: impl auth::store::StartSession,
) {
    let creds = register(&server).await;
    let first = login(&server, &creds, "laptop").await;
    let (status, _) = api(
        &server,
        Method::POST,
        "/logout-all",
        "/logout-all",
        Some(&first.access),
        None,
        "t",
    )
    .await;
    assert_eq!(status, 204);
    let live = login(&server, &creds, "phone").await;
    let (status, account) = api(
        &server,
        Method::GET,
        "/me",
        "/me",
        Some(&live.access),
        None,
        "t",
    )
    .await;
    assert_eq!(status, 200);
    let user_id = auth::UserId::parse(account["user_id"].as_str().unwrap()).unwrap();
    let ended = auth_testing::new_session(
        &user_id,
        account["username"].as_str().unwrap(),
        auth::clock::now() + 3600,
    );
    assert_eq!(ended.generation, 0);
    let (_, refresh) = auth_testing::refresh_for(&ended);
    sessions.start_session(&ended, &refresh).await.unwrap();

    let path = format!("/sessions/{}", ended.session_id);
    let (status, body) = api(
        &server,
        Method::DELETE,
        &path,
        "/sessions/{id}",
        Some(&live.access),
        None,
        "t",
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "session_not_found");
    assert_eq!(list(&server, &live.access).await.len(), 1);
}

#[tokio::test]
async fn deleting_a_session_that_logout_all_ended_in_memory() {
    let sessions = MemorySessions::new();
    let gateway = local_api::app::gateway(
        MemoryUsers::new(),
        sessions.clone(),
        MemoryAttempts::new(),
        &config(),
    )
    .await
    .unwrap();
    deleting_a_session_that_logout_all_ended(spawn(gateway).await, sessions).await;
}

#[tokio::test]
async fn deleting_a_session_that_logout_all_ended_on_dynamodb() {
    let t = TestTables::create().await;
    let gateway: Gateway =
        local_api::app::gateway(t.users(), t.sessions(), t.attempts(), &config())
            .await
            .unwrap();
    deleting_a_session_that_logout_all_ended(spawn(gateway).await, t.sessions()).await;
}
