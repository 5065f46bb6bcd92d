//! The account changes (`auth::store::account`: change password, delete account) and an
//! operator's disable (`DisableUser`), judged by one suite on the in-memory stores and on
//! DynamoDB (moto, and dynalite for the races), as `store_conformance.rs` judges the rest.

use auth::clock;
use auth::store::memory::{MemorySessions, MemoryUsers};
use auth::store::{
    AccountsOver, ChangePassword, CreateUser, DeleteAccount, DeleteSession, DisableUser, FindUser,
    GetSession, Marker, PasswordChange, ReadMarker, RevokeAllSessions, SessionLookup,
    SessionRecord, SessionStore, UserRecord, UserStore,
};
use auth::{SessionId, UserId, Username};
use auth_testing::{TestTables, new_session, put_session, unique_username};

const OLD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$b2xkb2xkb2xk";
const NEW_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$bmV3bmV3bmV3";

trait Stores: Clone + Send + Sync + 'static {
    type Users: UserStore + AccountsOver<Self::Sessions> + Clone + Send + Sync + 'static;
    type Sessions: SessionStore + Clone + Send + Sync + 'static;
    fn users(&self) -> &Self::Users;
    fn sessions(&self) -> &Self::Sessions;
}

impl<U, S> Stores for (U, S)
where
    U: UserStore + AccountsOver<S> + Clone + Send + Sync + 'static,
    S: SessionStore + Clone + Send + Sync + 'static,
{
    type Users = U;
    type Sessions = S;
    fn users(&self) -> &U {
        &self.0
    }
    fn sessions(&self) -> &S {
        &self.1
    }
}

async fn account(stores: &impl Stores, prefix: &str) -> UserRecord {
    let user = UserRecord {
        user_id: UserId::generate(),
        username: Username::parse(&unique_username(prefix)).unwrap(),
        password_hash: OLD_HASH.into(),
        created_at: clock::now(),
    };
    stores.users().create_user(&user).await.unwrap();
    user
}

/// A session of `owner` started as login starts one: under the generation read first.
async fn login(stores: &impl Stores, owner: &UserRecord) -> SessionRecord {
    let mut session = new_session(&owner.user_id, owner.username.as_str(), clock::now() + 3600);
    session.generation = stores
        .sessions()
        .marker(&owner.user_id)
        .await
        .unwrap()
        .generation;
    put_session(stores.sessions(), &session).await;
    session
}

async fn lookup(stores: &impl Stores, owner: &UserRecord, id: &SessionId) -> SessionLookup {
    stores
        .sessions()
        .get_session(id, &owner.user_id, clock::now())
        .await
        .unwrap()
}

fn live(lookup: &SessionLookup) -> bool {
    matches!(lookup, SessionLookup::Live(_))
}

async fn change_password_keeps_only_the_callers_session(stores: impl Stores) {
    let accounts = stores.users().accounts(stores.sessions());
    let user = account(&stores, "pw").await;
    let mine = login(&stores, &user).await;
    let others = [login(&stores, &user).await, login(&stores, &user).await];
    let now = clock::now();

    let change = accounts
        .change_password(&user, NEW_HASH, &mine.session_id, now)
        .await
        .unwrap();
    let PasswordChange::Changed { generation } = change else {
        panic!("{change:?}")
    };
    assert_eq!(generation, 1);
    let stored = stores.users().find_user(&user.username).await.unwrap();
    assert_eq!(stored.unwrap().password_hash, NEW_HASH);
    // The marker, written in the same step, admits only logins that verified the new hash.
    let marker = stores.sessions().marker(&user.user_id).await.unwrap();
    assert_eq!(
        marker.credential,
        Some(auth::store::account::credential_stamp(NEW_HASH))
    );
    assert!(marker.admits(NEW_HASH) && !marker.admits(OLD_HASH));
    match lookup(&stores, &user, &mine.session_id).await {
        SessionLookup::Live(s) => assert_eq!(s.generation, 1),
        other => panic!("the caller's session: {other:?}"),
    }
    for other in &others {
        assert_eq!(
            lookup(&stores, &user, &other.session_id).await,
            SessionLookup::Revoked
        );
    }
    // A session that read the generation before the change and lands after it is ended too.
    let mut late = others[0].clone();
    late.session_id = SessionId::generate();
    put_session(stores.sessions(), &late).await;
    assert_eq!(
        lookup(&stores, &user, &late.session_id).await,
        SessionLookup::Revoked
    );
    // A login after the change lives.
    let after = login(&stores, &user).await;
    assert!(live(&lookup(&stores, &user, &after.session_id).await));

    // The account as read before the change is stale now: nothing is written.
    assert_eq!(
        accounts
            .change_password(&user, OLD_HASH, &mine.session_id, now)
            .await
            .unwrap(),
        PasswordChange::Stale
    );
    assert!(live(&lookup(&stores, &user, &after.session_id).await));
    let changed = UserRecord {
        password_hash: NEW_HASH.into(),
        ..user.clone()
    };
    // From a session that has ended (deleted): nothing is written.
    assert!(
        stores
            .sessions()
            .delete_session(&mine.session_id, &user.user_id, now)
            .await
            .unwrap()
    );
    assert_eq!(
        accounts
            .change_password(&changed, OLD_HASH, &mine.session_id, now)
            .await
            .unwrap(),
        PasswordChange::SessionEnded
    );
    // ... nor from one that a log-out-everywhere ended, nor from another user's.
    let generation = stores
        .sessions()
        .bump_generation(&user.user_id)
        .await
        .unwrap();
    assert_eq!(
        accounts
            .change_password(&changed, OLD_HASH, &after.session_id, now)
            .await
            .unwrap(),
        PasswordChange::SessionEnded
    );
    let stranger = account(&stores, "pw-other").await;
    let theirs = login(&stores, &stranger).await;
    assert_eq!(
        accounts
            .change_password(&changed, OLD_HASH, &theirs.session_id, now)
            .await
            .unwrap(),
        PasswordChange::SessionEnded
    );
    let stored = stores.users().find_user(&user.username).await.unwrap();
    assert_eq!(stored.unwrap().password_hash, NEW_HASH);
    assert_eq!(
        stores
            .sessions()
            .marker(&user.user_id)
            .await
            .unwrap()
            .generation,
        generation
    );
    assert!(live(&lookup(&stores, &stranger, &theirs.session_id).await));
}

async fn delete_account_ends_every_session(stores: impl Stores) {
    let accounts = stores.users().accounts(stores.sessions());
    let user = account(&stores, "del").await;
    let sessions = [login(&stores, &user).await, login(&stores, &user).await];
    let bystander = account(&stores, "del-other").await;
    let theirs = login(&stores, &bystander).await;
    let expires = clock::now() + 400 * 24 * 3600;

    // Not as read (another hash): nothing is deleted.
    let stale = UserRecord {
        password_hash: NEW_HASH.into(),
        ..user.clone()
    };
    assert_eq!(
        accounts.delete_account(&stale, expires).await.unwrap(),
        None
    );
    assert!(
        stores
            .users()
            .find_user(&user.username)
            .await
            .unwrap()
            .is_some()
    );
    assert!(live(&lookup(&stores, &user, &sessions[0].session_id).await));

    let generation = accounts.delete_account(&user, expires).await.unwrap();
    assert_eq!(generation, Some(1));
    // A login that verified the password just before is refused by the marker.
    let marker = stores.sessions().marker(&user.user_id).await.unwrap();
    assert!(marker.deleted && !marker.admits(OLD_HASH), "{marker:?}");
    // An operator's enable racing the deletion cannot lift that.
    assert!(!stores.sessions().enable(&user.user_id).await.unwrap());
    let marker = stores.sessions().marker(&user.user_id).await.unwrap();
    assert!(marker.deleted && !marker.admits(OLD_HASH), "{marker:?}");
    assert!(
        stores
            .users()
            .find_user(&user.username)
            .await
            .unwrap()
            .is_none()
    );
    for s in &sessions {
        assert_eq!(
            lookup(&stores, &user, &s.session_id).await,
            SessionLookup::Revoked
        );
    }
    // Again: the account is gone, nothing happens.
    assert_eq!(accounts.delete_account(&user, expires).await.unwrap(), None);
    // Others are untouched.
    assert!(live(&lookup(&stores, &bystander, &theirs.session_id).await));

    // The name again is a new account with a new id; the old sessions stay ended, the new
    // account's live.
    let again = UserRecord {
        user_id: UserId::generate(),
        ..user.clone()
    };
    stores.users().create_user(&again).await.unwrap();
    let fresh = login(&stores, &again).await;
    assert!(live(&lookup(&stores, &again, &fresh.session_id).await));
    assert_eq!(
        lookup(&stores, &user, &sessions[0].session_id).await,
        SessionLookup::Revoked
    );
    // An old session asked about as the new account's is not theirs.
    assert_eq!(
        lookup(&stores, &again, &sessions[0].session_id).await,
        SessionLookup::WrongOwner
    );
}

/// Logins with the old password racing a change: each login does what login does after it has
/// verified the password (read the marker, go on only if it admits the verified hash, then write
/// the session under the marker's generation). Afterwards no session but the caller's is live:
/// every login either was refused or started a session the change ended.
async fn logins_racing_a_password_change(stores: impl Stores) {
    let accounts = stores.users().accounts(stores.sessions());
    let user = account(&stores, "race").await;
    let mine = login(&stores, &user).await;
    let logins: Vec<_> = (0..32)
        .map(|_| {
            let stores = stores.clone();
            let user = user.clone();
            tokio::spawn(async move {
                let marker = stores.sessions().marker(&user.user_id).await.unwrap();
                if !marker.admits(&user.password_hash) {
                    return None;
                }
                tokio::task::yield_now().await;
                let mut session =
                    new_session(&user.user_id, user.username.as_str(), clock::now() + 3600);
                session.generation = marker.generation;
                put_session(stores.sessions(), &session).await;
                Some(session)
            })
        })
        .collect();
    let change = accounts
        .change_password(&user, NEW_HASH, &mine.session_id, clock::now())
        .await
        .unwrap();
    assert!(
        matches!(change, PasswordChange::Changed { .. }),
        "{change:?}"
    );
    for login in logins {
        if let Some(session) = login.await.unwrap() {
            assert_eq!(
                lookup(&stores, &user, &session.session_id).await,
                SessionLookup::Revoked,
                "a login with the old password survived the change"
            );
        }
    }
    assert!(live(&lookup(&stores, &user, &mine.session_id).await));
}

/// Log-out-everywhere racing a password change: the caller's session survives only if the change
/// came last; the marker ends up above every other session.
async fn logout_all_racing_a_password_change(stores: impl Stores) {
    let accounts = stores.users().accounts(stores.sessions());
    let user = account(&stores, "race2").await;
    let mine = login(&stores, &user).await;
    let other = login(&stores, &user).await;
    let bump = {
        let stores = stores.clone();
        let owner = user.user_id.clone();
        tokio::spawn(async move { stores.sessions().bump_generation(&owner).await.unwrap() })
    };
    let change = accounts
        .change_password(&user, NEW_HASH, &mine.session_id, clock::now())
        .await
        .unwrap();
    let bumped = bump.await.unwrap();
    assert_eq!(
        lookup(&stores, &user, &other.session_id).await,
        SessionLookup::Revoked
    );
    let mine_now = lookup(&stores, &user, &mine.session_id).await;
    match change {
        // The change first (generation 1), then the log-out-everywhere (2): all ended.
        PasswordChange::Changed { generation: 1 } => {
            assert_eq!(bumped, 2);
            assert_eq!(mine_now, SessionLookup::Revoked);
        }
        // The log-out-everywhere first: the caller's session had ended, so nothing changed (it
        // must never be lifted back above the log-out-everywhere).
        PasswordChange::SessionEnded => {
            assert_eq!(bumped, 1);
            assert_eq!(mine_now, SessionLookup::Revoked);
            let stored = stores.users().find_user(&user.username).await.unwrap();
            assert_eq!(stored.unwrap().password_hash, OLD_HASH);
        }
        other => panic!("{other:?}"),
    }
}

/// An operator's disable ends every session at once and keeps the mark until enabled; the
/// marker read by login says so; enabling keeps the ended sessions ended.
async fn disable_and_enable(stores: impl Stores) {
    let user = account(&stores, "dis").await;
    let before = login(&stores, &user).await;
    let sessions = stores.sessions();
    assert!(!sessions.is_disabled(&user.user_id).await.unwrap());
    // Enabling an account that was never disabled changes nothing (and creates no marker).
    assert!(!sessions.enable(&user.user_id).await.unwrap());
    assert_eq!(
        sessions.marker(&user.user_id).await.unwrap(),
        Marker::default()
    );

    assert_eq!(sessions.disable(&user.user_id).await.unwrap(), 1);
    assert_eq!(
        lookup(&stores, &user, &before.session_id).await,
        SessionLookup::Revoked
    );
    assert_eq!(
        sessions.marker(&user.user_id).await.unwrap(),
        Marker {
            generation: 1,
            disabled: true,
            credential: None,
            deleted: false,
            totp: Default::default(),
        }
    );
    assert!(sessions.is_disabled(&user.user_id).await.unwrap());
    // Twice: still disabled, and any session started meanwhile ended too.
    assert_eq!(sessions.disable(&user.user_id).await.unwrap(), 2);

    assert!(sessions.enable(&user.user_id).await.unwrap());
    assert_eq!(
        sessions.marker(&user.user_id).await.unwrap(),
        Marker {
            generation: 2,
            disabled: false,
            credential: None,
            deleted: false,
            totp: Default::default(),
        }
    );
    assert_eq!(
        lookup(&stores, &user, &before.session_id).await,
        SessionLookup::Revoked
    );
    let after = login(&stores, &user).await;
    assert!(live(&lookup(&stores, &user, &after.session_id).await));
}

/// Logins racing a disable, each as login does it (read the marker; refuse if disabled; else
/// start the session under its generation): none survives.
async fn logins_racing_a_disable(stores: impl Stores) {
    let user = account(&stores, "dis-race").await;
    let logins: Vec<_> = (0..16)
        .map(|_| {
            let stores = stores.clone();
            let user = user.clone();
            tokio::spawn(async move {
                let marker = stores.sessions().marker(&user.user_id).await.unwrap();
                if marker.disabled {
                    return None;
                }
                tokio::task::yield_now().await;
                let mut session =
                    new_session(&user.user_id, user.username.as_str(), clock::now() + 3600);
                session.generation = marker.generation;
                put_session(stores.sessions(), &session).await;
                Some(session)
            })
        })
        .collect();
    stores.sessions().disable(&user.user_id).await.unwrap();
    for login in logins {
        if let Some(session) = login.await.unwrap() {
            assert_eq!(
                lookup(&stores, &user, &session.session_id).await,
                SessionLookup::Revoked,
                "a login survived the disable"
            );
        }
    }
}

macro_rules! accounts {
    ($backend:ident, $stores:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn change_password_keeps_only_the_callers_session() {
                super::change_password_keeps_only_the_callers_session($stores).await;
            }
            #[tokio::test]
            async fn delete_account_ends_every_session() {
                super::delete_account_ends_every_session($stores).await;
            }
            #[tokio::test]
            async fn disable_and_enable() {
                super::disable_and_enable($stores).await;
            }
        }
    };
}

macro_rules! races {
    ($backend:ident, $stores:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn logins_racing_a_password_change() {
                super::logins_racing_a_password_change($stores).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn logout_all_racing_a_password_change() {
                super::logout_all_racing_a_password_change($stores).await;
            }
        }
    };
}

fn memory() -> (MemoryUsers, MemorySessions) {
    (MemoryUsers::new(), MemorySessions::new())
}

accounts!(memory_accounts, memory());
accounts!(dynamodb_accounts, {
    let t = TestTables::create().await;
    (t.users(), t.sessions())
});
// Only in memory: dynalite (the race tests' engine with atomic writes) has no transactions, and
// moto applies writes in steps under concurrency (see `store_conformance.rs`). The HTTP race
// tests (local/tests/account.rs) run the whole handlers in memory too.
races!(memory_races, memory());

/// The disable is one write on one item, so its race also runs on dynalite (atomic per item,
/// as DynamoDB is).
macro_rules! disable_races {
    ($backend:ident, $stores:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn logins_racing_a_disable() {
                super::logins_racing_a_disable($stores).await;
            }
        }
    };
}

disable_races!(memory_disable_races, memory());
disable_races!(dynalite_disable_races, {
    let t = TestTables::create_on_dynalite().await;
    (t.users(), t.sessions())
});
