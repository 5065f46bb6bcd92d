//! The refresh handler, fed with `events/refresh.json`, on the in-memory store and on DynamoDB.

use auth_edge::Function as _;
use std::time::Duration;

use auth::store::memory::MemorySessions;
use auth::store::{
    DeleteSession, GetSession, RefreshTokens, RevokeAllSessions, SessionLookup, SessionRecord,
    StartSession,
};
use auth::{RefreshToken, UserId, clock};
use auth_sdk::store::DynamoSessions;
use auth_testing::{
    TestTables, event, new_session, put_session, request, response_json, signer,
    unreachable_client, verifier, with_body,
};
use refresh::Handler;
use serde_json::{Value, json};

const REFRESH_TTL: i64 = 30 * 24 * 3600;

trait Store: StartSession + GetSession + RefreshTokens + DeleteSession + RevokeAllSessions {}
impl<T: StartSession + GetSession + RefreshTokens + DeleteSession + RevokeAllSessions> Store for T {}

fn handler<S: RefreshTokens + GetSession + DeleteSession + Sync>(
    sessions: S,
    grace_seconds: i64,
) -> Handler<S> {
    Handler::new(sessions, signer(), REFRESH_TTL, grace_seconds)
}

fn refresh_event(token: &str) -> Value {
    let mut e = with_body(
        event("refresh.json"),
        &json!({ "refresh_token": token }).to_string(),
    );
    e["headers"]["user-agent"] = "phone-app/2.1".into();
    e["requestContext"]["http"]["sourceIp"] = "198.51.100.23".into();
    e
}

async fn call<S: RefreshTokens + GetSession + DeleteSession + Sync>(
    handler: &Handler<S>,
    token: &str,
) -> (u16, Value) {
    response_json(&handler.handle(request(&refresh_event(token))).await)
}

async fn lookup(sessions: &impl GetSession, s: &SessionRecord) -> SessionLookup {
    sessions
        .get_session(&s.session_id, &s.user_id, clock::now())
        .await
        .unwrap()
}

/// A live session and its refresh token.
async fn session(sessions: &impl StartSession) -> (SessionRecord, String) {
    let s = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    let token = put_session(sessions, &s).await;
    (s, token.expose_secret().to_owned())
}

async fn rotates_and_detects_reuse<S: Store + Sync + Clone>(sessions: S) {
    let h = handler(sessions.clone(), 0);
    let (s, first) = session(&sessions).await;

    let (status, body) = call(&h, &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["refresh_expires_in"], REFRESH_TTL);
    let access = verifier()
        .verify(body["access_token"].as_str().unwrap(), clock::now())
        .unwrap();
    assert_eq!(
        (&access.user_id, &access.username, &access.session_id),
        (&s.user_id, &s.username, &s.session_id)
    );
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    RefreshToken::parse(&second).expect("a well-formed refresh token");
    // The session recorded the refresh and lives 30 days from now.
    let SessionLookup::Live(after) = lookup(&sessions, &s).await else {
        panic!("session ended by a refresh");
    };
    assert_eq!(after.user_agent, "phone-app/2.1");
    assert_eq!(after.source_ip, "198.51.100.23");
    assert!(after.expires_at >= clock::now() + REFRESH_TTL - 5);
    assert!(after.last_used_at >= s.last_used_at);

    // The new refresh token works once more.
    let (status, body) = call(&h, &second).await;
    assert_eq!(status, 200, "{body}");
    let third = body["refresh_token"].as_str().unwrap().to_owned();

    // Presenting an already rotated token again (no grace window here) is reuse: 401, and the
    // whole session ends — its access tokens and its newest refresh token too.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (status, body) = call(&h, &first).await;
    assert_eq!(
        (status, &body["error"]),
        (401, &json!("invalid_refresh_token"))
    );
    assert_eq!(lookup(&sessions, &s).await, SessionLookup::Absent);
    let (status, _) = call(&h, &third).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn rotates_and_detects_reuse_in_memory() {
    rotates_and_detects_reuse(MemorySessions::new()).await;
}

#[tokio::test]
async fn rotates_and_detects_reuse_on_dynamodb() {
    rotates_and_detects_reuse(TestTables::create().await.sessions()).await;
}

/// Two refreshes of one token at the same time (the same client, e.g. two tabs): both get a
/// working pair and the session lives on; the token cannot be used a third time after the
/// grace window.
async fn concurrent_refreshes_of_one_token<S: Store + Sync + Send + Clone + 'static>(sessions: S) {
    let h = std::sync::Arc::new(handler(sessions.clone(), 1));
    let (s, first) = session(&sessions).await;
    let tries: Vec<_> = (0..2)
        .map(|_| {
            let h = h.clone();
            let first = first.clone();
            tokio::spawn(async move { call(&h, &first).await })
        })
        .collect();
    let mut pairs = Vec::new();
    for t in tries {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        pairs.push(body);
    }
    assert_ne!(pairs[0]["refresh_token"], pairs[1]["refresh_token"]);
    assert!(matches!(
        lookup(&sessions, &s).await,
        SessionLookup::Live(_)
    ));
    for pair in &pairs {
        let (status, body) = call(&h, pair["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{body}");
    }
    // Past the grace window the first token is reuse again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(call(&h, &first).await.0, 401);
    assert_eq!(lookup(&sessions, &s).await, SessionLookup::Absent);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_in_memory() {
    concurrent_refreshes_of_one_token(MemorySessions::new()).await;
}

/// On dynalite: its conditional writes are atomic per item, as DynamoDB's are (moto's are not,
/// so there two rotations of one token could both win by chance).
#[tokio::test]
async fn concurrent_refreshes_of_one_token_on_dynalite() {
    concurrent_refreshes_of_one_token(TestTables::create_on_dynalite().await.sessions()).await;
}

async fn ended_sessions_refuse_their_tokens<S: Store + Sync + Clone>(sessions: S) {
    let h = handler(sessions.clone(), 5);
    // Logged out.
    let (s, token) = session(&sessions).await;
    sessions
        .delete_session(&s.session_id, &s.user_id, clock::now())
        .await
        .unwrap();
    assert_eq!(call(&h, &token).await.0, 401);
    // Logged out everywhere.
    let (s, token) = session(&sessions).await;
    sessions.bump_generation(&s.user_id).await.unwrap();
    assert_eq!(call(&h, &token).await.0, 401);
    // Expired.
    let expired = new_session(&UserId::generate(), "bob", clock::now() - 1);
    let token = put_session(&sessions, &expired).await;
    assert_eq!(call(&h, token.expose_secret()).await.0, 401);
    // Never issued, and not even shaped like a token: one answer.
    let (status, unknown) = call(&h, RefreshToken::generate().expose_secret()).await;
    let (_, malformed) = call(&h, "not-a-token").await;
    assert_eq!(status, 401);
    assert_eq!(unknown, malformed);
    assert_eq!(unknown["error"], "invalid_refresh_token");
}

#[tokio::test]
async fn ended_sessions_refuse_their_tokens_in_memory() {
    ended_sessions_refuse_their_tokens(MemorySessions::new()).await;
}

#[tokio::test]
async fn ended_sessions_refuse_their_tokens_on_dynamodb() {
    ended_sessions_refuse_their_tokens(TestTables::create().await.sessions()).await;
}

#[tokio::test]
async fn bad_bodies_are_400() {
    let h = handler(MemorySessions::new(), 5);
    for body in [
        "",
        "[]",
        "{}",
        r#"{"refresh_token": 5}"#,
        r#"{"refresh_token": "x", "extra": 1}"#,
    ] {
        let e = with_body(event("refresh.json"), body);
        let (status, json) = response_json(&h.handle(request(&e)).await);
        assert_eq!(
            (status, &json["error"]),
            (400, &json!("invalid_request")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_wrong_type_names_the_field() {
    let h = handler(MemorySessions::new(), 5);
    for value in ["null", "5", "[]", "{}", "true"] {
        let body = format!(r#"{{"refresh_token": {value}}}"#);
        let e = with_body(event("refresh.json"), &body);
        let (status, json) = response_json(&h.handle(request(&e)).await);
        assert_eq!(status, 400, "{body}");
        assert_eq!(json["error"], "invalid_request");
        assert_eq!(json["field"], "refresh_token", "{json}");
        assert_eq!(
            json["message"],
            "field `refresh_token` has the wrong type: expected a string"
        );
    }
}

#[tokio::test]
async fn unavailable_store_is_503() {
    let h = handler(DynamoSessions::new(unreachable_client(), "sessions"), 5);
    let (status, body) = call(&h, RefreshToken::generate().expose_secret()).await;
    assert_eq!(
        (status, &body["error"]),
        (503, &json!("service_unavailable"))
    );
}
