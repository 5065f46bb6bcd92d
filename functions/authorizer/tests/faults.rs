//! The direct DynamoDB read under faults a real server produces, staged by a proxy in front of
//! moto (throttling, 5xx, refusals, unprocessed keys, a server that never answers, a garbled
//! answer) and by stopping and restarting moto itself: every DynamoDB call ends within
//! `DYNAMODB_TIMEOUT_MS`, transient failures are retried while time is left and end as
//! `Unavailable` (a deny), refusals are not retried, and the authorizer recovers when the store
//! does.

mod support;

use std::time::{Duration, Instant};

use auth::store::dynamo::create_tables;
use auth::store::dynamo_http::DirectSessions;
use auth::store::{GetSession, SessionLookup, SessionRecord};
use auth::testing::{
    OwnMoto, TestTables, client_for, direct_config, dynamodb_endpoint, event, new_session,
    put_session, signer, unique_name, verifier,
};
use auth::{StoreError, UserId, clock};
use authorizer::{AuthorizerRequest, Deny, Handler};
use support::{Proxy, Scripted};

fn reader(endpoint: &str, table: &str, timeout_ms: u64) -> DirectSessions {
    let mut config = direct_config(endpoint);
    config.timeout = Duration::from_millis(timeout_ms);
    auth::testing::direct_sessions(&config, table)
}

/// Tables, a live session in them, and a proxy to moto.
async fn setup() -> (TestTables, SessionRecord, Proxy) {
    let tables = TestTables::create().await;
    let session = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    put_session(&tables.sessions(), &session).await;
    (tables, session, Proxy::start(&dynamodb_endpoint()).await)
}

async fn lookup(reader: &DirectSessions, s: &SessionRecord) -> Result<SessionLookup, StoreError> {
    reader
        .get_session(&s.session_id, &s.user_id, clock::now())
        .await
}

fn is_live(result: &Result<SessionLookup, StoreError>) -> bool {
    matches!(result, Ok(SessionLookup::Live(_)))
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let (tables, session, proxy) = setup().await;
    let reader = reader(&proxy.url, &tables.sessions_table, 2000);
    proxy.script([
        Scripted::throttled(),
        Scripted::error(500, "InternalServerError", "Internal server error"),
        Scripted::error(
            400,
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        ),
    ]);
    let result = lookup(&reader, &session).await;
    assert!(is_live(&result), "{result:?}");
    assert_eq!(proxy.take().len(), 4);
}

#[tokio::test]
async fn throttling_throughout_is_unavailable_within_the_timeout() {
    let (tables, session, proxy) = setup().await;
    let reader = reader(&proxy.url, &tables.sessions_table, 400);
    proxy.script(vec![Scripted::throttled(); 1000]);
    let started = Instant::now();
    let result = lookup(&reader, &session).await;
    let took = started.elapsed();
    match &result {
        Err(StoreError::Unavailable(cause)) => assert!(
            cause
                .to_string()
                .contains("ProvisionedThroughputExceededException"),
            "{cause}"
        ),
        other => panic!("{other:?}"),
    }
    let attempts = proxy.take().len();
    assert!((2..=10).contains(&attempts), "{attempts} attempts");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn refusals_are_not_retried() {
    let (tables, session, proxy) = setup().await;
    let reader = reader(&proxy.url, &tables.sessions_table, 2000);
    for (status, code) in [
        (400, "ValidationException"),
        (400, "AccessDeniedException"),
        (400, "UnrecognizedClientException"),
        (400, "ResourceNotFoundException"),
        (403, "InvalidSignatureException"),
    ] {
        proxy.script([Scripted::error(status, code, "refused")]);
        match lookup(&reader, &session).await {
            Err(StoreError::Backend(cause)) => {
                assert!(cause.to_string().contains(code), "{cause}")
            }
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(proxy.take().len(), 1, "{code}");
    }
    // And the next call works.
    assert!(is_live(&lookup(&reader, &session).await));
}

#[tokio::test]
async fn unprocessed_keys_are_asked_for_again() {
    let (tables, session, proxy) = setup().await;
    let reader = reader(&proxy.url, &tables.sessions_table, 2000);
    let keys = serde_json::json!([
        {"pk": {"S": session.session_id.as_str()}},
        {"pk": {"S": format!("user#{}", session.user_id)}},
    ]);
    let answer = serde_json::json!({
        "Responses": {&tables.sessions_table: []},
        "UnprocessedKeys": {&tables.sessions_table: {"Keys": keys, "ConsistentRead": true}},
    });
    proxy.script([Scripted::Answer(200, answer.to_string())]);
    let result = lookup(&reader, &session).await;
    assert!(is_live(&result), "{result:?}");
    let sent = proxy.take();
    assert_eq!(sent.len(), 2);
    let again: serde_json::Value = serde_json::from_str(&sent[1].1).unwrap();
    let again = &again["RequestItems"][&tables.sessions_table];
    assert_eq!(again["ConsistentRead"], true);
    assert_eq!(again["Keys"].as_array().unwrap().len(), 2);

    // Left unprocessed every time: unavailable, after a bounded number of rounds.
    proxy.script(vec![Scripted::Answer(200, answer.to_string()); 10]);
    assert!(matches!(
        lookup(&reader, &session).await,
        Err(StoreError::Unavailable(_))
    ));
    assert_eq!(proxy.take().len(), 4);
}

#[tokio::test]
async fn a_server_that_never_answers_is_unavailable_within_the_timeout() {
    let (tables, session, proxy) = setup().await;
    let reader = reader(&proxy.url, &tables.sessions_table, 300);
    proxy.script(vec![Scripted::Hang; 10]);
    let started = Instant::now();
    let result = lookup(&reader, &session).await;
    let took = started.elapsed();
    assert!(
        matches!(&result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    // Each attempt waits at most half the timeout: two attempts fit.
    assert_eq!(proxy.take().len(), 2);
}

#[tokio::test]
async fn a_garbled_answer_is_an_error_not_a_session() {
    let (tables, session, proxy) = setup().await;
    let reader = reader(&proxy.url, &tables.sessions_table, 2000);
    for body in ["<html>bad gateway</html>", r#"{"Responses": 7}"#] {
        proxy.script([Scripted::Answer(200, body.into())]);
        let result = lookup(&reader, &session).await;
        assert!(
            matches!(result, Err(StoreError::Malformed(_))),
            "{result:?}"
        );
    }
}

fn authorizer_event(token: &str) -> AuthorizerRequest {
    let mut e = event("authorizer-valid.json");
    let header = format!("Bearer {token}");
    e["headers"]["authorization"] = header.clone().into();
    e["identitySource"] = serde_json::json!([header]);
    serde_json::from_value(e).unwrap()
}

/// moto stopped under a running authorizer: denies within the timeout; started again (empty, as
/// a fresh server), the same authorizer reaches it again over a new connection.
#[tokio::test]
async fn store_down_then_back() {
    let port = OwnMoto::free_port();
    let mut moto = OwnMoto::start(port);
    let client = client_for(&moto.url());
    let table = unique_name("sessions");
    let (users, attempts) = (unique_name("u"), unique_name("a"));
    let create = || create_tables(&client, &users, &table, &attempts);
    create().await.unwrap();
    let sessions = auth::store::dynamo::DynamoSessions::new(client.clone(), &table);
    let session = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    put_session(&sessions, &session).await;
    let handler = Handler::new(reader(&moto.url(), &table, 1000), verifier());
    let token = signer()
        .issue(
            &session.user_id,
            &session.username,
            &session.session_id,
            clock::now(),
        )
        .unwrap()
        .token;
    let req = authorizer_event(&token);
    assert!(handler.decide(&req).await.is_ok());

    moto.stop();
    let started = Instant::now();
    assert_eq!(handler.decide(&req).await, Err(Deny::StoreError));
    assert!(started.elapsed() < Duration::from_secs(3));

    let _moto = OwnMoto::start(port);
    create().await.unwrap();
    put_session(&sessions, &session).await;
    assert!(handler.decide(&req).await.is_ok());
}
