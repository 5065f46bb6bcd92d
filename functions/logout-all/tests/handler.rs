//! The logout-all handler, fed with `events/logout-all.json`, on the in-memory store and on
//! DynamoDB.

use auth::store::memory::MemorySessions;
use auth::store::{GetSession, ListSessions, RevokeAllSessions, SessionLookup, StartSession};
use auth::{UserId, clock};
use auth_edge::Function as _;
use auth_sdk::store::DynamoSessions;
use auth_testing::{
    TestTables, event, new_session, put_session, request, response_json, unreachable_client,
    with_caller,
};
use logout_all::Handler;
use serde_json::Value;

async fn ends_every_session<S>(sessions: S)
where
    S: StartSession + GetSession + ListSessions + RevokeAllSessions + Sync + Clone,
{
    let h = Handler::new(sessions.clone());
    let me = UserId::generate();
    let now = clock::now();
    let mine: Vec<_> = (0..3)
        .map(|_| new_session(&me, "alice", now + 3600))
        .collect();
    let theirs = new_session(&UserId::generate(), "bob", now + 3600);
    for s in mine.iter().chain([&theirs]) {
        put_session(&sessions, s).await;
    }
    let e = with_caller(
        event("logout-all.json"),
        me.as_str(),
        "alice",
        mine[0].session_id.as_str(),
    );
    assert_eq!(
        response_json(&h.handle(request(&e)).await),
        (204, Value::Null)
    );
    for s in &mine {
        let lookup = sessions.get_session(&s.session_id, &me, now).await.unwrap();
        assert!(
            matches!(lookup, SessionLookup::Absent | SessionLookup::Revoked),
            "{lookup:?}"
        );
    }
    assert!(
        sessions
            .list_sessions(&me, None, now)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        sessions
            .get_session(&theirs.session_id, &theirs.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Live(_)
    ));
    // A login after it (which reads the new generation) lives.
    let mut after = new_session(&me, "alice", now + 3600);
    after.generation = sessions.bump_generation(&me).await.unwrap();
    put_session(&sessions, &after).await;
    assert!(matches!(
        sessions
            .get_session(&after.session_id, &me, now)
            .await
            .unwrap(),
        SessionLookup::Live(_)
    ));
    // Idempotent: again ends the sessions begun since.
    assert_eq!(response_json(&h.handle(request(&e)).await).0, 204);
    assert_eq!(
        sessions
            .get_session(&after.session_id, &me, now)
            .await
            .unwrap(),
        SessionLookup::Absent
    );
}

#[tokio::test]
async fn ends_every_session_in_memory() {
    ends_every_session(MemorySessions::new()).await;
}

#[tokio::test]
async fn ends_every_session_on_dynamodb() {
    ends_every_session(TestTables::create().await.sessions()).await;
}

#[tokio::test]
async fn without_authorizer_context_is_401() {
    let mut e = event("logout-all.json");
    e["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let h = Handler::new(MemorySessions::new());
    assert_eq!(response_json(&h.handle(request(&e)).await).0, 401);
}

#[tokio::test]
async fn unavailable_store_is_503() {
    let h = Handler::new(DynamoSessions::new(unreachable_client(), "sessions"));
    assert_eq!(
        response_json(&h.handle(request(&event("logout-all.json"))).await).0,
        503
    );
}
