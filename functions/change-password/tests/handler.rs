//! The change-password handler, fed with `events/change-password.json`, on the in-memory stores
//! and on DynamoDB (moto).

use auth::store::memory::{MemoryAttempts, MemorySessions, MemoryUsers};
use auth::store::{
    AccountsOver, CreateUser, LoginAttempts, SessionLookup, SessionStore, UserRecord, UserStore,
};
use auth::{Password, UserId, Username, clock};
use auth_edge::Function as _;
use auth_testing::{
    TestTables, event, hasher, new_session, put_session, request, response_json, unique_username,
    with_caller,
};
use change_password::Handler;

const PASSWORD: &str = "sample-user password";

async fn account<U: CreateUser>(users: &U) -> UserRecord {
    let user = UserRecord {
        user_id: UserId::generate(),
        username: Username::parse(&unique_username("chpw")).unwrap(),
        password_hash: hasher()
            .hash(&Password::parse_new(PASSWORD.into()).unwrap())
            .unwrap(),
        created_at: clock::now(),
    };
    users.create_user(&user).await.unwrap();
    user
}

async fn changes_the_password<U, S, A>(users: U, sessions: S, attempts: A)
where
    U: UserStore + AccountsOver<S> + Clone + Sync,
    U::Accounts: Sync,
    S: SessionStore + Clone + Sync,
    A: LoginAttempts + Sync,
{
    let user = account(&users).await;
    let now = clock::now();
    let mine = new_session(&user.user_id, user.username.as_str(), now + 3600);
    let other = new_session(&user.user_id, user.username.as_str(), now + 3600);
    put_session(&sessions, &mine).await;
    put_session(&sessions, &other).await;
    let accounts = users.accounts(&sessions);
    let h = Handler::new(
        users.clone(),
        sessions.clone(),
        attempts,
        accounts,
        hasher(),
    );
    let e = with_caller(
        event("change-password.json"),
        user.user_id.as_str(),
        user.username.as_str(),
        mine.session_id.as_str(),
    );
    assert_eq!(response_json(&h.handle(request(&e)).await).0, 204);
    let stored = users.find_user(&user.username).await.unwrap().unwrap();
    assert!(
        hasher()
            .verify(
                &Password::parse_login("a new sample passphrase".into()).unwrap(),
                &stored.password_hash
            )
            .unwrap()
    );
    assert!(matches!(
        sessions
            .get_session(&mine.session_id, &user.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Live(_)
    ));
    // The other session ended, and its item is gone (the clean-up).
    assert_eq!(
        sessions
            .get_session(&other.session_id, &user.user_id, now)
            .await
            .unwrap(),
        SessionLookup::Absent
    );
    // The same request again: its current password is wrong now.
    let (status, body) = response_json(&h.handle(request(&e)).await);
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );
    // A token of an account deleted and registered again under its name: refused.
    sessions.bump_generation(&user.user_id).await.unwrap();
    let e = with_caller(
        event("change-password.json"),
        UserId::generate().as_str(),
        user.username.as_str(),
        mine.session_id.as_str(),
    );
    let body = serde_json::json!({"current_password": "a new sample passphrase", "new_password": "yet another passphrase"});
    let e = auth_testing::with_body(e, &body.to_string());
    let (status, body) = response_json(&h.handle(request(&e)).await);
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
}

#[tokio::test]
async fn changes_the_password_in_memory() {
    changes_the_password(
        MemoryUsers::new(),
        MemorySessions::new(),
        MemoryAttempts::new(),
    )
    .await;
}

#[tokio::test]
async fn changes_the_password_on_dynamodb() {
    let t = TestTables::create().await;
    changes_the_password(t.users(), t.sessions(), t.attempts()).await;
}
