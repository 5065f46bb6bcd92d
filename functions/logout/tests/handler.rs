//! The logout handler, fed with `events/logout.json`.

use auth::UserId;
use auth::clock;
use auth::store::memory::MemorySessions;
use auth::store::{DeleteSession, GetSession, SessionLookup, SessionRecord, StartSession};
use auth_edge::Function as _;
use auth_sdk::store::DynamoSessions;
use auth_testing::{
    TestTables, event, new_session, put_session, request, response_json, unreachable_client,
    with_caller,
};
use logout::Handler;
use serde_json::Value;

async fn call<S: DeleteSession + Sync>(handler: &Handler<S>, event: Value) -> (u16, Value) {
    response_json(&handler.handle(request(&event)).await)
}

fn session() -> SessionRecord {
    new_session(&UserId::generate(), "alice", clock::now() + 3600)
}

fn logout_event(s: &SessionRecord, user_id: &UserId) -> Value {
    with_caller(
        event("logout.json"),
        user_id.as_str(),
        s.username.as_str(),
        s.session_id.as_str(),
    )
}

async fn lookup(sessions: &impl GetSession, s: &SessionRecord) -> SessionLookup {
    sessions
        .get_session(&s.session_id, &s.user_id, clock::now())
        .await
        .unwrap()
}

async fn ends_the_session<S: StartSession + GetSession + DeleteSession + Sync + Clone>(
    sessions: S,
) {
    let handler = Handler::new(sessions.clone());
    let mine = session();
    let other = session();
    put_session(&sessions, &mine).await;
    put_session(&sessions, &other).await;

    // Naming someone else's session with my identity changes nothing.
    assert_eq!(
        call(&handler, logout_event(&other, &mine.user_id)).await.0,
        204
    );
    assert!(matches!(
        lookup(&sessions, &other).await,
        SessionLookup::Live(_)
    ));

    assert_eq!(
        call(&handler, logout_event(&mine, &mine.user_id)).await,
        (204, Value::Null)
    );
    assert_eq!(lookup(&sessions, &mine).await, SessionLookup::Absent);
    // Idempotent.
    assert_eq!(
        call(&handler, logout_event(&mine, &mine.user_id)).await.0,
        204
    );
}

#[tokio::test]
async fn ends_the_session_in_memory() {
    ends_the_session(MemorySessions::new()).await;
}

#[tokio::test]
async fn ends_the_session_on_dynamodb() {
    ends_the_session(TestTables::create().await.sessions()).await;
}

#[tokio::test]
async fn sample_event_is_answered() {
    assert_eq!(
        call(&Handler::new(MemorySessions::new()), event("logout.json"))
            .await
            .0,
        204
    );
}

#[tokio::test]
async fn without_authorizer_context_is_401() {
    let mut e = event("logout.json");
    e["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    assert_eq!(call(&Handler::new(MemorySessions::new()), e).await.0, 401);
}

#[tokio::test]
async fn unavailable_store_is_503() {
    let handler = Handler::new(DynamoSessions::new(unreachable_client(), "sessions"));
    assert_eq!(call(&handler, event("logout.json")).await.0, 503);
}
