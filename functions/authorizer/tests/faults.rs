//! The direct DynamoDB reads (the authorizer's sessions, user-info's accounts) under faults a
//! real server produces, staged by a proxy in front of moto (throttling, 429, 5xx, refusals,
//! unprocessed keys, a server that never answers, a garbled answer) and by stopping and
//! restarting moto itself: every DynamoDB call ends within `DYNAMODB_TIMEOUT_MS` (checked with a
//! 300 ms allowance for scheduling), transient failures are retried, three attempts in all, and
//! end as `Unavailable` (a deny), refusals are not retried, and the authorizer recovers when the
//! store does.

mod support;

use std::time::{Duration, Instant};

use auth::store::{
    CreateUser, FindUser, GetSession, RevokeAllSessions, SessionLookup, SessionRecord, UserRecord,
};
use auth::{StoreError, UserId, Username, clock};
use auth_direct::store::DirectSessions;
use auth_direct::store::DirectUsers;
use auth_sdk::store::create_tables;
use auth_testing::{
    OwnMoto, TestTables, access_token, client_for, direct_config, dynamodb_endpoint, new_session,
    put_session, unique_name, verifier,
};
use authorizer::{Deny, Handler};
use support::{Proxy, Scripted, authorizer_event};

fn reader(endpoint: &str, table: &str, timeout_ms: u64) -> DirectSessions {
    let mut config = direct_config(endpoint);
    config.timeout = Duration::from_millis(timeout_ms);
    auth_testing::direct_sessions(&config, table)
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

/// The allowance over a call's timeout for the test's own scheduling on a loaded machine.
const SLACK: Duration = Duration::from_millis(300);

#[tokio::test]
async fn throttling_and_server_errors_are_retried_three_attempts_in_all() {
    let (tables, session, proxy) = setup().await;
    let reader = reader(&proxy.url, &tables.sessions_table, 2000);
    proxy.script([
        Scripted::throttled(),
        Scripted::error(500, "InternalServerError", "Internal server error"),
    ]);
    let result = lookup(&reader, &session).await;
    assert!(is_live(&result), "{result:?}");
    assert_eq!(proxy.take().len(), 3);

    proxy.script([
        Scripted::error(
            400,
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        ),
        Scripted::Answer(429, "Too Many Requests".into()),
        Scripted::error(503, "ServiceUnavailable", "Service unavailable"),
    ]);
    let result = lookup(&reader, &session).await;
    assert!(
        matches!(&result, Err(StoreError::Unavailable(cause)) if cause.to_string().contains("503")),
        "{result:?}"
    );
    assert_eq!(proxy.take().len(), 3);
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
    assert_eq!(proxy.take().len(), 3);
    assert!(took < Duration::from_millis(400) + SLACK, "{took:?}");
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

/// The case where losing an item between rounds would turn a revoked session into an allow: the
/// first round answers the session item and leaves the owner's marker unprocessed; the second
/// (from moto) answers the marker, whose generation ends the session.
#[tokio::test]
async fn a_marker_left_unprocessed_is_still_read() {
    let (tables, session, proxy) = setup().await;
    tables
        .sessions()
        .bump_generation(&session.user_id)
        .await
        .unwrap();
    let reader = reader(&proxy.url, &tables.sessions_table, 2000);
    let n = |v: i64| serde_json::json!({"N": v.to_string()});
    let s = |v: &str| serde_json::json!({"S": v});
    let item = serde_json::json!({
        "pk": s(session.session_id.as_str()),
        "user_id": s(session.user_id.as_str()),
        "username": s(session.username.as_str()),
        "created_at_ms": n(session.created_at_ms),
        "last_used_at": n(session.last_used_at),
        "expires_at": n(session.expires_at),
        "generation": n(session.generation as i64),
        "user_agent": s(&session.user_agent),
        "source_ip": s(&session.source_ip),
    });
    let marker = format!("user#{}", session.user_id);
    let answer = serde_json::json!({
        "Responses": {&tables.sessions_table: [item]},
        "UnprocessedKeys": {&tables.sessions_table: {
            "Keys": [{"pk": {"S": &marker}}],
            "ConsistentRead": true,
        }},
    });
    proxy.script([Scripted::Answer(200, answer.to_string())]);
    assert_eq!(
        lookup(&reader, &session).await.unwrap(),
        SessionLookup::Revoked
    );
    let sent = proxy.take();
    assert_eq!(sent.len(), 2);
    let again: serde_json::Value = serde_json::from_str(&sent[1].1).unwrap();
    assert_eq!(
        again["RequestItems"][&tables.sessions_table]["Keys"],
        serde_json::json!([{"pk": {"S": marker}}])
    );
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
    assert!(took < Duration::from_millis(300) + SLACK, "{took:?}");
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
    let sessions = auth_sdk::store::DynamoSessions::new(client.clone(), &table);
    let session = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    put_session(&sessions, &session).await;
    let handler = Handler::new(reader(&moto.url(), &table, 1000), verifier());
    let token = access_token(&session);
    let req = authorizer_event(&token);
    assert!(handler.decide(&req).await.is_ok());

    moto.stop();
    let started = Instant::now();
    assert_eq!(handler.decide(&req).await, Err(Deny::StoreError));
    assert!(started.elapsed() < Duration::from_millis(1000) + SLACK);

    let _moto = OwnMoto::start(port);
    create().await.unwrap();
    put_session(&sessions, &session).await;
    assert!(handler.decide(&req).await.is_ok());
}

/// user-info's account read through the same faults.
#[tokio::test]
async fn account_reads_retry_refuse_and_report_garbage() {
    let tables = TestTables::create().await;
    let user = UserRecord {
        user_id: UserId::generate(),
        username: Username::parse("faulty").unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        created_at: clock::now(),
    };
    tables.users().create_user(&user).await.unwrap();
    let proxy = Proxy::start(&dynamodb_endpoint()).await;
    let config = direct_config(&proxy.url);
    let http = auth_direct::client::AwsHttp::new(&config).unwrap();
    let users = DirectUsers::new(&http, &config, &tables.users_table).unwrap();

    proxy.script([
        Scripted::throttled(),
        Scripted::error(500, "InternalServerError", ""),
    ]);
    assert_eq!(
        users.find_user(&user.username).await.unwrap(),
        Some(user.clone())
    );
    let sent = proxy.take();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].0, "DynamoDB_20120810.GetItem");
    let body: serde_json::Value = serde_json::from_str(&sent[2].1).unwrap();
    assert_eq!(body["ConsistentRead"], true);

    proxy.script([Scripted::error(400, "AccessDeniedException", "no")]);
    assert!(matches!(
        users.find_user(&user.username).await,
        Err(StoreError::Backend(_))
    ));
    assert_eq!(proxy.take().len(), 1);

    for garbage in [
        "<html>",
        r#"{"Item": {"username": {"S": "faulty"}, "user_id": {"N": "1"}}}"#,
    ] {
        proxy.script([Scripted::Answer(200, garbage.into())]);
        assert!(
            matches!(
                users.find_user(&user.username).await,
                Err(StoreError::Malformed(_))
            ),
            "{garbage}"
        );
    }
    // No such account: no item.
    let nobody = Username::parse("nobody").unwrap();
    assert_eq!(users.find_user(&nobody).await.unwrap(), None);
}
