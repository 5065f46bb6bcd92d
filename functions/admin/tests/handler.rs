//! The admin handler, fed with `events/admin-*.json`, on the in-memory stores and on DynamoDB
//! (moto).

use admin::Handler;
use auth::store::memory::{MemorySessions, MemoryUsers};
use auth::store::{SessionLookup, SessionStore, UserRecord, UserStore};
use auth::{UserId, Username, clock};
use auth_edge::Function as _;
use auth_testing::{TestTables, event, new_session, put_session, request, response_json};

async fn operates<U, S>(users: U, sessions: S)
where
    U: UserStore + Clone + Sync,
    S: SessionStore + Clone + Sync,
{
    let user = UserRecord {
        user_id: UserId::generate(),
        username: Username::parse("sample-user").unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
        created_at: 1_764_374_400,
    };
    users.create_user(&user).await.unwrap();
    let now = clock::now();
    let session = new_session(&user.user_id, "sample-user", now + 3600);
    put_session(&sessions, &session).await;
    let h = Handler::new(users, sessions.clone());

    let (status, view) = response_json(&h.handle(request(&event("admin-sessions.json"))).await);
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["user_id"], user.user_id.as_str());
    assert_eq!(view["disabled"], false);
    assert_eq!(view["sessions"][0]["id"], session.session_id.as_str());
    assert!(view["sessions"][0].get("current").is_none());

    let (status, _) = response_json(&h.handle(request(&event("admin-disable.json"))).await);
    assert_eq!(status, 204);
    assert_eq!(
        sessions
            .get_session(&session.session_id, &user.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Absent,
        "ended, and its item deleted"
    );
    let (_, view) = response_json(&h.handle(request(&event("admin-sessions.json"))).await);
    assert_eq!(
        (
            view["disabled"].as_bool(),
            view["sessions"].as_array().map(Vec::len)
        ),
        (Some(true), Some(0))
    );

    // Another username: not found.
    let mut unknown = event("admin-sessions.json");
    unknown["pathParameters"]["username"] = "nobody-here".into();
    unknown["rawPath"] = "/admin/users/nobody-here/sessions".into();
    let (status, body) = response_json(&h.handle(request(&unknown)).await);
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("user_not_found"))
    );
}

#[tokio::test]
async fn operates_in_memory() {
    operates(MemoryUsers::new(), MemorySessions::new()).await;
}

#[tokio::test]
async fn operates_on_dynamodb() {
    let t = TestTables::create().await;
    operates(t.users(), t.sessions()).await;
}
