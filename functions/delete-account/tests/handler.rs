//! The delete-account handler, fed with `events/delete-account.json`, on the in-memory stores
//! and on DynamoDB (moto).

use auth::store::memory::{MemoryAttempts, MemorySessions, MemoryUsers};
use auth::store::{
    AccountsOver, LoginAttempts, SessionLookup, SessionStore, UserRecord, UserStore,
};
use auth::{Password, UserId, Username, clock};
use auth_edge::Function as _;
use auth_testing::{
    TestTables, event, hasher, new_session, put_session, request, response_json, unique_username,
    with_caller,
};
use delete_account::Handler;

async fn deletes_the_account<U, S, A>(users: U, sessions: S, attempts: A)
where
    U: UserStore + AccountsOver<S> + Clone + Sync,
    U::Accounts: Sync,
    S: SessionStore + Clone + Sync,
    A: LoginAttempts + Clone + Sync,
{
    let user = UserRecord {
        user_id: UserId::generate(),
        username: Username::parse(&unique_username("del")).unwrap(),
        password_hash: hasher()
            .hash(&Password::parse_new("sample-user password".into()).unwrap())
            .unwrap(),
        created_at: clock::now(),
    };
    users.create_user(&user).await.unwrap();
    let now = clock::now();
    let mine = new_session(&user.user_id, user.username.as_str(), now + 3600);
    let other = new_session(&user.user_id, user.username.as_str(), now + 3600);
    put_session(&sessions, &mine).await;
    put_session(&sessions, &other).await;
    // A failure counted before: forgotten with the account.
    let seen = attempts.get_attempts(&user.username, now).await.unwrap();
    attempts
        .try_count_failure(&user.username, seen, now, now + 60)
        .await
        .unwrap();
    let accounts = users.accounts(&sessions);
    let h = Handler::new(
        users.clone(),
        sessions.clone(),
        attempts.clone(),
        accounts,
        hasher(),
    );
    let e = with_caller(
        event("delete-account.json"),
        user.user_id.as_str(),
        user.username.as_str(),
        mine.session_id.as_str(),
    );
    let response = h.handle(request(&e)).await;
    assert_eq!(response_json(&response).0, 204);
    let cleared = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("__Secure-refresh_token=;"), "{cleared}");
    assert!(users.find_user(&user.username).await.unwrap().is_none());
    for s in [&mine, &other] {
        let lookup = sessions
            .get_session(&s.session_id, &user.user_id, now)
            .await
            .unwrap();
        assert!(
            matches!(lookup, SessionLookup::Absent | SessionLookup::Revoked),
            "{lookup:?}"
        );
    }
    assert_eq!(
        attempts.get_attempts(&user.username, now).await.unwrap(),
        None
    );
    // Again: the account is gone, so the password check fails as for an unknown name.
    let (status, body) = response_json(&h.handle(request(&e)).await);
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );
}

#[tokio::test]
async fn deletes_the_account_in_memory() {
    deletes_the_account(
        MemoryUsers::new(),
        MemorySessions::new(),
        MemoryAttempts::new(),
    )
    .await;
}

#[tokio::test]
async fn deletes_the_account_on_dynamodb() {
    let t = TestTables::create().await;
    deletes_the_account(t.users(), t.sessions(), t.attempts()).await;
}
