//! The sessions handler (`GET /sessions`, `DELETE /sessions/{id}`), fed with `events/sessions.json`
//! and `events/session-delete.json`, on the in-memory store and on DynamoDB.

use auth::store::memory::MemorySessions;
use auth::store::{
    DeleteSession, GetSession, ListSessions, SessionLookup, SessionRecord, StartSession,
};
use auth::{UserId, clock};
use auth_edge::Function as _;
use auth_sdk::store::DynamoSessions;
use auth_testing::{
    TestTables, event, new_session, put_session, request, response_json, unreachable_client,
    with_caller,
};
use serde_json::{Value, json};
use sessions::Handler;

async fn call<S: ListSessions + DeleteSession + Sync>(h: &Handler<S>, e: Value) -> (u16, Value) {
    response_json(&h.handle(request(&e)).await)
}

/// `GET /sessions` made with `current`.
fn list_event(current: &SessionRecord) -> Value {
    with_caller(
        event("sessions.json"),
        current.user_id.as_str(),
        current.username.as_str(),
        current.session_id.as_str(),
    )
}

/// `DELETE /sessions/{id}` made with `current`.
fn delete_event(current: &SessionRecord, id: &str) -> Value {
    let mut e = with_caller(
        event("session-delete.json"),
        current.user_id.as_str(),
        current.username.as_str(),
        current.session_id.as_str(),
    );
    e["pathParameters"]["id"] = id.into();
    e["rawPath"] = format!("/sessions/{id}").into();
    e["requestContext"]["http"]["path"] = format!("/sessions/{id}").into();
    e
}

async fn lookup(sessions: &impl GetSession, s: &SessionRecord) -> SessionLookup {
    sessions
        .get_session(&s.session_id, &s.user_id, clock::now())
        .await
        .unwrap()
}

async fn lists_and_revokes<S>(sessions: S)
where
    S: StartSession + GetSession + ListSessions + DeleteSession + Sync + Clone,
{
    let h = Handler::new(sessions.clone());
    let me = UserId::generate();
    let now = clock::now();
    let mut phone = new_session(&me, "alice", now + 3600);
    phone.created_at_ms -= 60_000;
    phone.user_agent = "phone-app/2.1".into();
    let laptop = new_session(&me, "alice", now + 7200);
    let theirs = new_session(&UserId::generate(), "bob", now + 3600);
    for s in [&phone, &laptop, &theirs] {
        put_session(&sessions, s).await;
    }

    let (status, body) = call(&h, list_event(&laptop)).await;
    assert_eq!(status, 200, "{body}");
    let listed = body["sessions"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{body}");
    // Newest first, the caller's marked, exactly these fields (no token material).
    assert_eq!(
        listed[0],
        json!({
            "id": laptop.session_id.as_str(),
            "created_at": clock::rfc3339(laptop.created_at_ms / 1000),
            "last_used_at": clock::rfc3339(laptop.last_used_at),
            "expires_at": clock::rfc3339(laptop.expires_at),
            "user_agent": "test-agent/1.0",
            "source_ip": "192.0.2.10",
            "mfa": false,
            "current": true,
        })
    );
    assert_eq!(listed[1]["id"], phone.session_id.as_str());
    assert_eq!(listed[1]["user_agent"], "phone-app/2.1");
    assert_eq!(listed[1]["current"], false);

    // Another user's session: 404, and it lives on. An id that cannot be one: 404.
    for id in [theirs.session_id.as_str(), "nope", "../x", ""] {
        let (status, body) = call(&h, delete_event(&laptop, id)).await;
        assert_eq!(
            (status, &body["error"]),
            (404, &json!("session_not_found")),
            "{id}"
        );
    }
    assert!(matches!(
        lookup(&sessions, &theirs).await,
        SessionLookup::Live(_)
    ));

    // One of mine: 204, it ends at once; a second time it is gone.
    assert_eq!(
        call(&h, delete_event(&laptop, phone.session_id.as_str())).await,
        (204, Value::Null)
    );
    assert_eq!(lookup(&sessions, &phone).await, SessionLookup::Absent);
    assert_eq!(
        call(&h, delete_event(&laptop, phone.session_id.as_str()))
            .await
            .0,
        404
    );
    let (_, body) = call(&h, list_event(&laptop)).await;
    assert_eq!(body["sessions"].as_array().unwrap().len(), 1);
    // The current one too.
    assert_eq!(
        call(&h, delete_event(&laptop, laptop.session_id.as_str()))
            .await
            .0,
        204
    );
    assert_eq!(lookup(&sessions, &laptop).await, SessionLookup::Absent);
}

#[tokio::test]
async fn lists_and_revokes_in_memory() {
    lists_and_revokes(MemorySessions::new()).await;
}

#[tokio::test]
async fn lists_and_revokes_on_dynamodb() {
    lists_and_revokes(TestTables::create().await.sessions()).await;
}

#[tokio::test]
async fn sample_events_are_answered() {
    let h = Handler::new(MemorySessions::new());
    let (status, body) = call(&h, event("sessions.json")).await;
    assert_eq!((status, body), (200, json!({"sessions": []})));
    assert_eq!(call(&h, event("session-delete.json")).await.0, 404);
}

#[tokio::test]
async fn without_authorizer_context_is_401() {
    let h = Handler::new(MemorySessions::new());
    for name in ["sessions.json", "session-delete.json"] {
        let mut e = event(name);
        e["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("authorizer");
        assert_eq!(call(&h, e).await.0, 401, "{name}");
    }
}

#[tokio::test]
async fn unavailable_store_is_503() {
    let h = Handler::new(DynamoSessions::new(unreachable_client(), "sessions"));
    for name in ["sessions.json", "session-delete.json"] {
        assert_eq!(call(&h, event(name)).await.0, 503, "{name}");
    }
}
