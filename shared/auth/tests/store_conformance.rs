//! One conformance suite for the stores, run against the in-memory stores and against DynamoDB
//! (moto, fresh tables per test), so the two cannot drift apart.

use auth::clock;
use auth::store::memory::{MemorySessions, MemoryUsers};
use auth::store::{
    CreateUser, DeleteSession, FindUser, GetSession, PutSession, SessionRecord, UserRecord,
};
use auth::testing::TestTables;
use auth::{SessionId, StoreError, UserId, Username};

trait Users: CreateUser + FindUser + Sync {}
impl<T: CreateUser + FindUser + Sync> Users for T {}
trait Sessions: PutSession + GetSession + DeleteSession + Sync {}
impl<T: PutSession + GetSession + DeleteSession + Sync> Sessions for T {}

fn user(name: &str) -> UserRecord {
    UserRecord {
        user_id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
        created_at: 1_700_000_000,
    }
}

fn session(owner: &UserRecord, expires_at: i64) -> SessionRecord {
    SessionRecord {
        session_id: SessionId::generate(),
        user_id: owner.user_id.clone(),
        username: owner.username.clone(),
        issued_at: clock::now(),
        expires_at,
    }
}

async fn create_then_find(users: &impl Users) {
    let alice = user("alice");
    assert!(users.find_user(&alice.username).await.unwrap().is_none());
    users.create_user(&alice).await.unwrap();
    assert_eq!(users.find_user(&alice.username).await.unwrap(), Some(alice));
}

async fn duplicate_refused(users: &impl Users) {
    let first = user("bob");
    users.create_user(&first).await.unwrap();
    let second = user("bob");
    assert!(matches!(
        users.create_user(&second).await,
        Err(StoreError::AlreadyExists)
    ));
    // The first account is untouched.
    assert_eq!(users.find_user(&first.username).await.unwrap(), Some(first));
}

async fn concurrent_creates_one_wins(users: &(impl Users + Clone + Send + 'static)) {
    let attempts = (0..8).map(|_| {
        let users = users.clone();
        tokio::spawn(async move { users.create_user(&user("carol")).await })
    });
    let mut ok = 0;
    for a in attempts {
        match a.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::AlreadyExists) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(ok, 1);
}

async fn session_lifecycle(sessions: &impl Sessions) {
    let now = clock::now();
    let owner = user("dave");
    let s = session(&owner, now + 3600);
    assert!(
        sessions
            .get_session(&s.session_id, now)
            .await
            .unwrap()
            .is_none()
    );
    sessions.put_session(&s).await.unwrap();
    assert_eq!(
        sessions.get_session(&s.session_id, now).await.unwrap(),
        Some(s.clone())
    );
    assert!(matches!(
        sessions.put_session(&s).await,
        Err(StoreError::AlreadyExists)
    ));
    // Another user cannot delete it.
    assert!(
        !sessions
            .delete_session(&s.session_id, &UserId::generate())
            .await
            .unwrap()
    );
    assert!(
        sessions
            .get_session(&s.session_id, now)
            .await
            .unwrap()
            .is_some()
    );
    // The owner can, once.
    assert!(
        sessions
            .delete_session(&s.session_id, &owner.user_id)
            .await
            .unwrap()
    );
    assert!(
        sessions
            .get_session(&s.session_id, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !sessions
            .delete_session(&s.session_id, &owner.user_id)
            .await
            .unwrap()
    );
}

async fn expired_but_present_is_absent(sessions: &impl Sessions) {
    let now = clock::now();
    let owner = user("erin");
    // Written already expired: the store still holds it (TTL deletion is lazy).
    let expired = session(&owner, now - 1);
    sessions.put_session(&expired).await.unwrap();
    assert!(
        sessions
            .get_session(&expired.session_id, now)
            .await
            .unwrap()
            .is_none()
    );
    // Exactly at expires_at it is no longer live.
    let edge = session(&owner, now + 10);
    sessions.put_session(&edge).await.unwrap();
    assert!(
        sessions
            .get_session(&edge.session_id, now + 9)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        sessions
            .get_session(&edge.session_id, now + 10)
            .await
            .unwrap()
            .is_none()
    );
}

async fn sessions_are_independent(sessions: &impl Sessions) {
    let now = clock::now();
    let owner = user("frank");
    let a = session(&owner, now + 3600);
    let b = session(&owner, now + 3600);
    sessions.put_session(&a).await.unwrap();
    sessions.put_session(&b).await.unwrap();
    assert!(
        sessions
            .delete_session(&a.session_id, &owner.user_id)
            .await
            .unwrap()
    );
    assert!(
        sessions
            .get_session(&a.session_id, now)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        sessions.get_session(&b.session_id, now).await.unwrap(),
        Some(b)
    );
}

macro_rules! conformance {
    ($backend:ident, $users:expr, $sessions:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn create_then_find() {
                super::create_then_find(&$users).await;
            }
            #[tokio::test]
            async fn duplicate_refused() {
                super::duplicate_refused(&$users).await;
            }
            #[tokio::test]
            async fn concurrent_creates_one_wins() {
                super::concurrent_creates_one_wins(&$users).await;
            }
            #[tokio::test]
            async fn session_lifecycle() {
                super::session_lifecycle(&$sessions).await;
            }
            #[tokio::test]
            async fn expired_but_present_is_absent() {
                super::expired_but_present_is_absent(&$sessions).await;
            }
            #[tokio::test]
            async fn sessions_are_independent() {
                super::sessions_are_independent(&$sessions).await;
            }
        }
    };
}

conformance!(memory, MemoryUsers::new(), MemorySessions::new());
conformance!(
    dynamodb,
    TestTables::create().await.users(),
    TestTables::create().await.sessions()
);

/// An item that DynamoDB still holds after its `expires_at` is refused even though the raw item
/// is there: checked against the raw table, not only through the store.
#[tokio::test]
async fn dynamodb_expired_item_is_still_in_the_table() {
    let tables = TestTables::create().await;
    let sessions = tables.sessions();
    let now = clock::now();
    let s = session(&user("gina"), now - 5);
    sessions.put_session(&s).await.unwrap();
    let raw = tables
        .client
        .get_item()
        .table_name(&tables.sessions_table)
        .key(
            "jti",
            aws_sdk_dynamodb::types::AttributeValue::S(s.session_id.to_string()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(
        raw.item.is_some(),
        "moto keeps expired items, like DynamoDB"
    );
    assert!(
        sessions
            .get_session(&s.session_id, now)
            .await
            .unwrap()
            .is_none()
    );
}

/// A malformed item is an error, never a session.
#[tokio::test]
async fn dynamodb_malformed_item_is_an_error() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let tables = TestTables::create().await;
    let id = SessionId::generate();
    tables
        .client
        .put_item()
        .table_name(&tables.sessions_table)
        .item("jti", AttributeValue::S(id.to_string()))
        .item("user_id", AttributeValue::S("not-an-id".into()))
        .item(
            "expires_at",
            AttributeValue::N((clock::now() + 60).to_string()),
        )
        .send()
        .await
        .unwrap();
    assert!(matches!(
        tables.sessions().get_session(&id, clock::now()).await,
        Err(StoreError::Malformed(_))
    ));
}

/// A store that cannot be reached is `Unavailable` (a 503 / a deny), not a panic.
#[tokio::test]
async fn dynamodb_unreachable_is_unavailable() {
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = auth::testing::client_for(&format!("http://127.0.0.1:{port}"));
    let sessions = auth::store::dynamo::DynamoSessions::new(client, "sessions");
    let err = sessions
        .get_session(&SessionId::generate(), clock::now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
