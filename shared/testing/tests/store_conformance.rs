//! One conformance suite for the stores, run against the in-memory stores and against DynamoDB
//! (moto, fresh tables per test), so the two cannot drift apart.

use auth::clock;
use auth::store::memory::{MemorySessions, MemoryUsers};
use auth::store::{
    GetSession, RefreshRecord, Rotation, SessionLookup, SessionRecord, SessionStore, SessionUse,
    UserRecord, UserStore,
};
use auth::{RefreshToken, SessionId, StoreError, UserId, Username};
use auth_testing::{TestTables, new_session as testing_session, refresh_for};

trait Users: UserStore + Sync {}
impl<T: UserStore + Sync> Users for T {}
trait Sessions: SessionStore + Sync {}
impl<T: SessionStore + Sync> Sessions for T {}

fn user(name: &str) -> UserRecord {
    UserRecord {
        user_id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
        created_at: 1_700_000_000,
    }
}

fn new_session(owner: &UserRecord, expires_at: i64, generation: u64) -> SessionRecord {
    let mut session = testing_session(&owner.user_id, owner.username.as_str(), expires_at);
    session.generation = generation;
    session
}

/// Starts a session as login does: read the generation, then write.
async fn start(
    sessions: &impl Sessions,
    owner: &UserRecord,
    expires_at: i64,
) -> (SessionRecord, RefreshRecord) {
    let generation = sessions.marker(&owner.user_id).await.unwrap().generation;
    let session = new_session(owner, expires_at, generation);
    let (_, refresh) = refresh_for(&session);
    sessions.start_session(&session, &refresh).await.unwrap();
    (session, refresh)
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
    let (s, _) = start(sessions, &owner, now + 3600).await;
    assert_eq!(
        sessions
            .get_session(&s.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Live(s.clone())
    );
    // Asked for by another user: not theirs.
    assert_eq!(
        sessions
            .get_session(&s.session_id, &UserId::generate(), now)
            .await
            .unwrap(),
        SessionLookup::WrongOwner
    );
    // The same ids again: refused, whichever is taken.
    let (_, refresh) = refresh_for(&s);
    assert!(matches!(
        sessions.start_session(&s, &refresh).await,
        Err(StoreError::AlreadyExists)
    ));
    // Another user cannot delete it.
    assert!(
        !sessions
            .delete_session(&s.session_id, &UserId::generate(), now)
            .await
            .unwrap()
    );
    assert!(matches!(
        sessions
            .get_session(&s.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Live(_)
    ));
    // The owner can, once.
    assert!(
        sessions
            .delete_session(&s.session_id, &owner.user_id, now)
            .await
            .unwrap()
    );
    assert_eq!(
        sessions
            .get_session(&s.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Absent
    );
    assert!(
        !sessions
            .delete_session(&s.session_id, &owner.user_id, now)
            .await
            .unwrap()
    );
}

async fn expired_but_present_is_absent(sessions: &impl Sessions) {
    let now = clock::now();
    let owner = user("erin");
    // Written already expired: the store still holds it (TTL deletion is lazy).
    let (expired, expired_refresh) = start(sessions, &owner, now - 1).await;
    assert_eq!(
        sessions
            .get_session(&expired.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Absent
    );
    assert!(
        sessions
            .find_refresh(&expired_refresh.hash, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !sessions
            .delete_session(&expired.session_id, &owner.user_id, now)
            .await
            .unwrap()
    );
    assert!(
        sessions
            .list_sessions(&owner.user_id, None, now)
            .await
            .unwrap()
            .is_empty()
    );
    // Exactly at expires_at it is no longer live.
    let (edge, edge_refresh) = start(sessions, &owner, now + 10).await;
    let lookup = |at| sessions.get_session(&edge.session_id, &owner.user_id, at);
    assert!(matches!(
        lookup(now + 9).await.unwrap(),
        SessionLookup::Live(_)
    ));
    assert_eq!(lookup(now + 10).await.unwrap(), SessionLookup::Absent);
    assert!(
        sessions
            .find_refresh(&edge_refresh.hash, now + 9)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        sessions
            .find_refresh(&edge_refresh.hash, now + 10)
            .await
            .unwrap()
            .is_none()
    );
}

async fn sessions_are_independent(sessions: &impl Sessions) {
    let now = clock::now();
    let owner = user("frank");
    let (a, _) = start(sessions, &owner, now + 3600).await;
    let (b, _) = start(sessions, &owner, now + 3600).await;
    assert!(
        sessions
            .delete_session(&a.session_id, &owner.user_id, now)
            .await
            .unwrap()
    );
    assert_eq!(
        sessions
            .get_session(&a.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Absent
    );
    assert_eq!(
        sessions
            .get_session(&b.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Live(b)
    );
}

async fn listing_shows_only_the_owners_live_sessions(sessions: &impl Sessions) {
    let now = clock::now();
    let owner = user("hana");
    let other = user("ivan");
    let mut older = new_session(&owner, now + 3600, 0);
    older.created_at_ms -= 100_000;
    older.last_used_at = now - 100;
    sessions
        .start_session(&older, &refresh_for(&older).1)
        .await
        .unwrap();
    let (newer, _) = start(sessions, &owner, now + 3600).await;
    let (gone, _) = start(sessions, &owner, now + 3600).await;
    start(sessions, &owner, now - 1).await;
    let (others, _) = start(sessions, &other, now + 3600).await;
    assert!(
        sessions
            .delete_session(&gone.session_id, &owner.user_id, now)
            .await
            .unwrap()
    );
    assert_eq!(
        sessions
            .list_sessions(&owner.user_id, None, now)
            .await
            .unwrap(),
        vec![newer.clone(), older.clone()]
    );
    // Naming the caller's own session changes nothing when it is listed already; naming
    // another user's, an ended one or an unknown one adds nothing.
    for also in [
        &newer.session_id,
        &others.session_id,
        &gone.session_id,
        &SessionId::generate(),
    ] {
        assert_eq!(
            sessions
                .list_sessions(&owner.user_id, Some(also), now)
                .await
                .unwrap(),
            vec![newer.clone(), older.clone()]
        );
    }
    assert_eq!(
        sessions
            .list_sessions(&other.user_id, None, now)
            .await
            .unwrap(),
        vec![others]
    );
    assert!(
        sessions
            .list_sessions(&UserId::generate(), None, now)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn revoking_all_ends_every_earlier_session(sessions: &impl Sessions) {
    let now = clock::now();
    let owner = user("judy");
    let other = user("kim");
    let (a, a_refresh) = start(sessions, &owner, now + 3600).await;
    let (b, _) = start(sessions, &owner, now + 3600).await;
    let (others, _) = start(sessions, &other, now + 3600).await;
    assert_eq!(sessions.marker(&owner.user_id).await.unwrap().generation, 0);

    assert_eq!(sessions.bump_generation(&owner.user_id).await.unwrap(), 1);
    assert_eq!(sessions.marker(&owner.user_id).await.unwrap().generation, 1);
    for s in [&a, &b] {
        assert_eq!(
            sessions
                .get_session(&s.session_id, &owner.user_id, now)
                .await
                .unwrap(),
            SessionLookup::Revoked
        );
    }
    assert!(
        sessions
            .list_sessions(&owner.user_id, None, now)
            .await
            .unwrap()
            .is_empty()
    );
    // Another user's sessions are untouched.
    assert!(matches!(
        sessions
            .get_session(&others.session_id, &other.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Live(_)
    ));
    // A login that read the old generation and writes afterwards writes an ended session.
    let stale = new_session(&owner, now + 3600, 0);
    sessions
        .start_session(&stale, &refresh_for(&stale).1)
        .await
        .unwrap();
    assert_eq!(
        sessions
            .get_session(&stale.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Revoked
    );
    // One that read the new one can, and it lives.
    let (after, _) = start(sessions, &owner, now + 3600).await;
    assert_eq!(after.generation, 1);
    assert!(matches!(
        sessions
            .get_session(&after.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Live(_)
    ));
    // The refresh token of an ended session is still found (so its use can be refused by the
    // session lookup), and housekeeping deletes exactly the ended items.
    assert!(
        sessions
            .find_refresh(&a_refresh.hash, now)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        sessions
            .delete_sessions_before(&owner.user_id, 1)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        sessions
            .delete_sessions_before(&owner.user_id, 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        sessions
            .list_sessions(&owner.user_id, None, now)
            .await
            .unwrap(),
        vec![after.clone()]
    );
    assert_eq!(sessions.bump_generation(&owner.user_id).await.unwrap(), 2);
    assert_eq!(
        sessions
            .get_session(&after.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Revoked
    );
}

/// A session item that log-out-everywhere already ended (here written with generation 0 after
/// the owner's marker went to 1, as a login racing `POST /logout-all` can leave one) is not live
/// for any operation: the authorizer's read, the listing and the delete all judge it by the
/// same rule, so deleting it finds nothing (404 at the API), and it stays denied.
async fn a_session_ended_by_revoke_all_cannot_be_deleted(sessions: &impl Sessions) {
    let now = clock::now();
    let owner = user("lena");
    let (live_before, _) = start(sessions, &owner, now + 3600).await;
    assert_eq!(sessions.bump_generation(&owner.user_id).await.unwrap(), 1);
    let (live, _) = start(sessions, &owner, now + 3600).await;
    let ended = new_session(&owner, now + 3600, 0);
    let (_, refresh) = refresh_for(&ended);
    sessions.start_session(&ended, &refresh).await.unwrap();

    for s in [&ended, &live_before] {
        assert_eq!(
            sessions
                .get_session(&s.session_id, &owner.user_id, now)
                .await
                .unwrap(),
            SessionLookup::Revoked
        );
        assert!(
            !sessions
                .delete_session(&s.session_id, &owner.user_id, now)
                .await
                .unwrap(),
            "a session ended by log-out-everywhere was deleted as if live"
        );
    }
    let listed: Vec<_> = sessions
        .list_sessions(&owner.user_id, None, now)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(listed, vec![live.session_id.clone()]);
    // The live one is deleted as before.
    assert!(
        sessions
            .delete_session(&live.session_id, &owner.user_id, now)
            .await
            .unwrap()
    );
}

/// Logins racing a log-out-everywhere: every session either began after the increment (and
/// lives) or carries the old generation (and is ended); none that began before survives.
async fn logins_racing_revoke_all(sessions: &(impl Sessions + Clone + Send + 'static)) {
    let now = clock::now();
    let owner = user("liam");
    let (before, _) = start(sessions, &owner, now + 3600).await;
    let logins = (0..6).map(|_| {
        let sessions = sessions.clone();
        let owner = owner.clone();
        tokio::spawn(async move { start(&sessions, &owner, now + 3600).await.0 })
    });
    let bump = {
        let sessions = sessions.clone();
        let owner = owner.user_id.clone();
        tokio::spawn(async move { sessions.bump_generation(&owner).await.unwrap() })
    };
    let mut started = Vec::new();
    for login in logins {
        started.push(login.await.unwrap());
    }
    assert_eq!(bump.await.unwrap(), 1);
    assert_eq!(
        sessions
            .get_session(&before.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Revoked
    );
    for s in started {
        let lookup = sessions
            .get_session(&s.session_id, &owner.user_id, now)
            .await
            .unwrap();
        match s.generation {
            0 => assert_eq!(lookup, SessionLookup::Revoked),
            1 => assert!(matches!(lookup, SessionLookup::Live(_))),
            g => panic!("generation {g}"),
        }
    }
}

async fn refresh_tokens_rotate_once(sessions: &impl Sessions) {
    let now = clock::now();
    let owner = user("mia");
    let (s, first) = start(sessions, &owner, now + 3600).await;
    assert_eq!(
        sessions.find_refresh(&first.hash, now).await.unwrap(),
        Some(first.clone())
    );
    assert!(
        sessions
            .find_refresh(&RefreshToken::generate().hash(), now)
            .await
            .unwrap()
            .is_none()
    );

    let (_, second) = refresh_for(&s);
    let used = SessionUse {
        session_id: s.session_id.clone(),
        at: now + 5,
        expires_at: now + 7200,
        user_agent: "agent/2".into(),
        source_ip: "198.51.100.9".into(),
    };
    assert_eq!(
        sessions
            .rotate_refresh(&first.hash, 1_000, &second, &used)
            .await
            .unwrap(),
        Rotation::Rotated
    );
    let rotated = sessions
        .find_refresh(&first.hash, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.rotated_at_ms, Some(1_000));
    assert_eq!(
        sessions.find_refresh(&second.hash, now).await.unwrap(),
        Some(second.clone())
    );
    let SessionLookup::Live(after) = sessions
        .get_session(&s.session_id, &owner.user_id, now)
        .await
        .unwrap()
    else {
        panic!("session ended by a rotation");
    };
    assert_eq!(
        (
            after.last_used_at,
            after.expires_at,
            after.user_agent.as_str(),
            after.source_ip.as_str()
        ),
        (now + 5, now + 7200, "agent/2", "198.51.100.9")
    );
    assert_eq!(
        (after.created_at_ms, after.generation),
        (s.created_at_ms, s.generation)
    );

    // Rotating the same token again changes nothing.
    let (_, third) = refresh_for(&s);
    assert_eq!(
        sessions
            .rotate_refresh(&first.hash, 2_000, &third, &used)
            .await
            .unwrap(),
        Rotation::AlreadyRotated
    );
    assert!(
        sessions
            .find_refresh(&third.hash, now)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        sessions
            .find_refresh(&first.hash, now)
            .await
            .unwrap()
            .unwrap()
            .rotated_at_ms,
        Some(1_000)
    );
    // A sibling (grace window) can be added while the session exists.
    assert!(sessions.add_refresh(&third, &used).await.unwrap());
    assert_eq!(
        sessions.find_refresh(&third.hash, now).await.unwrap(),
        Some(third)
    );

    // Once the session is gone, nothing rotates or is added.
    assert!(
        sessions
            .delete_session(&s.session_id, &owner.user_id, now)
            .await
            .unwrap()
    );
    let (_, fourth) = refresh_for(&s);
    assert_eq!(
        sessions
            .rotate_refresh(&second.hash, 3_000, &fourth, &used)
            .await
            .unwrap(),
        Rotation::SessionGone
    );
    assert!(!sessions.add_refresh(&fourth, &used).await.unwrap());
    assert!(
        sessions
            .find_refresh(&fourth.hash, now)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        sessions
            .get_session(&s.session_id, &owner.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Absent
    );
}

/// Concurrent rotations of one token: exactly one wins.
async fn concurrent_rotations_one_wins(sessions: &(impl Sessions + Clone + Send + 'static)) {
    let now = clock::now();
    let owner = user("noah");
    let (s, first) = start(sessions, &owner, now + 3600).await;
    let tries = (0..6).map(|i| {
        let sessions = sessions.clone();
        let s = s.clone();
        let old = first.hash.clone();
        tokio::spawn(async move {
            let (_, new) = refresh_for(&s);
            let used = SessionUse {
                session_id: s.session_id.clone(),
                at: now,
                expires_at: now + 3600,
                user_agent: format!("agent/{i}"),
                source_ip: "203.0.113.1".into(),
            };
            let rotation = sessions
                .rotate_refresh(&old, 1_000 + i, &new, &used)
                .await
                .unwrap();
            // A loser leaves nothing behind.
            if rotation != Rotation::Rotated {
                assert!(
                    sessions
                        .find_refresh(&new.hash, now)
                        .await
                        .unwrap()
                        .is_none()
                );
            }
            rotation
        })
    });
    let mut won = 0;
    for t in tries {
        match t.await.unwrap() {
            Rotation::Rotated => won += 1,
            Rotation::AlreadyRotated => {}
            Rotation::SessionGone => panic!("session gone"),
        }
    }
    assert_eq!(won, 1);
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
            #[tokio::test]
            async fn listing_shows_only_the_owners_live_sessions() {
                super::listing_shows_only_the_owners_live_sessions(&$sessions).await;
            }
            #[tokio::test]
            async fn revoking_all_ends_every_earlier_session() {
                super::revoking_all_ends_every_earlier_session(&$sessions).await;
            }
            #[tokio::test]
            async fn a_session_ended_by_revoke_all_cannot_be_deleted() {
                super::a_session_ended_by_revoke_all_cannot_be_deleted(&$sessions).await;
            }
            #[tokio::test]
            async fn refresh_tokens_rotate_once() {
                super::refresh_tokens_rotate_once(&$sessions).await;
            }
        }
    };
}

/// The race cases: concurrent creates, rotations, and logins racing a log-out-everywhere. They
/// run only where a write is atomic per item, as in DynamoDB: the memory store and dynalite.
/// moto applies an update in steps, so a read racing it can see an item half-written (a marker
/// without its generation, seen in CI); there they would pass or fail by chance.
macro_rules! races {
    ($backend:ident, $users:expr, $sessions:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn concurrent_creates_one_wins() {
                super::concurrent_creates_one_wins(&$users).await;
            }
            #[tokio::test]
            async fn logins_racing_revoke_all() {
                super::logins_racing_revoke_all(&$sessions).await;
            }
            #[tokio::test]
            async fn concurrent_rotations_one_wins() {
                super::concurrent_rotations_one_wins(&$sessions).await;
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
// The second engine (dynalite): its conditional writes are atomic per item, as DynamoDB's are.
conformance!(
    dynalite,
    TestTables::create_on_dynalite().await.users(),
    TestTables::create_on_dynalite().await.sessions()
);
// The direct reads (no SDK) of the authorizer and user-info judged by the same cases: every
// `get_session` and `find_user` above goes through them, on items the SDK stores wrote.
conformance!(
    dynamodb_direct_reads,
    TestTables::create().await.users_read_directly(),
    TestTables::create().await.sessions_read_directly()
);
races!(memory_races, MemoryUsers::new(), MemorySessions::new());
races!(
    dynalite_races,
    TestTables::create_on_dynalite().await.users(),
    TestTables::create_on_dynalite().await.sessions()
);
races!(
    dynalite_direct_reads_races,
    TestTables::create_on_dynalite().await.users_read_directly(),
    TestTables::create_on_dynalite()
        .await
        .sessions_read_directly()
);

/// An item that DynamoDB still holds after its `expires_at` is refused even though the raw item
/// is there: checked against the raw table, not only through the store.
#[tokio::test]
async fn dynamodb_expired_item_is_still_in_the_table() {
    let tables = TestTables::create().await;
    expired_item_is_still_in_the_table(&tables, &tables.sessions()).await;
}

/// The same through the authorizer's direct read.
#[tokio::test]
async fn dynamodb_expired_item_is_still_in_the_table_read_directly() {
    let tables = TestTables::create().await;
    expired_item_is_still_in_the_table(&tables, &tables.sessions_read_directly()).await;
}

async fn expired_item_is_still_in_the_table(tables: &TestTables, sessions: &impl Sessions) {
    let now = clock::now();
    let gina = user("gina");
    let (s, _) = start(sessions, &gina, now - 5).await;
    let raw = tables
        .client
        .get_item()
        .table_name(&tables.sessions_table)
        .key(
            "pk",
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
    assert_eq!(
        sessions
            .get_session(&s.session_id, &gina.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Absent
    );
}

/// A malformed item is an error, never a session: through the SDK store and the direct read.
#[tokio::test]
async fn dynamodb_malformed_item_is_an_error() {
    let tables = TestTables::create().await;
    malformed_item_is_an_error(&tables, &tables.sessions()).await;
    malformed_item_is_an_error(&tables, &tables.direct_sessions()).await;
}

async fn malformed_item_is_an_error(tables: &TestTables, sessions: &(impl GetSession + Sync)) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let id = SessionId::generate();
    tables
        .client
        .put_item()
        .table_name(&tables.sessions_table)
        .item("pk", AttributeValue::S(id.to_string()))
        .item("user_id", AttributeValue::S("not-an-id".into()))
        .item(
            "expires_at",
            AttributeValue::N((clock::now() + 60).to_string()),
        )
        .send()
        .await
        .unwrap();
    assert!(matches!(
        sessions
            .get_session(&id, &UserId::generate(), clock::now())
            .await,
        Err(StoreError::Malformed(_))
    ));
    // A marker whose generation is not a number: an error too, never generation 0.
    let owner = UserId::generate();
    let live = auth_testing::new_session(&owner, "mallory", clock::now() + 60);
    auth_testing::put_session(&tables.sessions(), &live).await;
    tables
        .client
        .put_item()
        .table_name(&tables.sessions_table)
        .item("pk", AttributeValue::S(format!("user#{owner}")))
        .item("generation", AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();
    assert!(matches!(
        sessions
            .get_session(&live.session_id, &owner, clock::now())
            .await,
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
    let client = auth_testing::client_for(&format!("http://127.0.0.1:{port}"));
    let sessions = auth_sdk::store::DynamoSessions::new(client, "sessions");
    let err = sessions
        .get_session(&SessionId::generate(), &UserId::generate(), clock::now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
