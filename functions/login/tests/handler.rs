//! The login handler, fed with `events/login.json`, on the in-memory stores and on DynamoDB.

use auth::clock;
use auth::store::memory::{MemoryAttempts, MemorySessions, MemoryUsers};
use auth::store::{
    CreateUser, FindUser, GetSession, LoginAttempts, RefreshTokens, SecondFactor, SessionLookup,
    StartSession, UserRecord,
};
use auth::{Password, UserId, Username};
use auth_edge::Function as _;
use auth_sdk::store::{DynamoAttempts, DynamoSessions, DynamoUsers};
use auth_testing::{
    TestTables, event, hasher, request, response_json, signer, unique_username, unreachable_client,
    verifier, with_body,
};
use login::Handler;

const REFRESH_TTL: i64 = 30 * 24 * 3600;
use serde_json::{Value, json};

async fn add_user(users: &impl CreateUser, name: &str, password: &str) -> UserRecord {
    let user = UserRecord {
        user_id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        password_hash: hasher()
            .hash(&Password::parse_new(password.into()).unwrap())
            .unwrap(),
        created_at: clock::now(),
    };
    users.create_user(&user).await.unwrap();
    user
}

fn login_event(username: &str, password: &str) -> Value {
    with_body(
        event("login.json"),
        &json!({"username": username, "password": password}).to_string(),
    )
}

async fn call<
    U: FindUser + Sync,
    S: StartSession + SecondFactor + Sync,
    A: LoginAttempts + Sync,
>(
    handler: &Handler<U, S, A>,
    event: Value,
) -> (u16, Value) {
    response_json(&handler.handle(request(&event)).await)
}

async fn logs_in<U, S, A>(users: U, sessions: S, attempts: A)
where
    U: CreateUser + FindUser + Sync + Clone,
    S: StartSession + SecondFactor + GetSession + RefreshTokens + Sync + Clone,
    A: LoginAttempts + Sync,
{
    let name = unique_username("login");
    let user = add_user(&users, &name, "correct horse battery").await;
    let handler = Handler::new(
        users,
        sessions.clone(),
        attempts,
        hasher(),
        signer(),
        REFRESH_TTL,
    );

    let before = clock::now();
    let (status, body) = call(
        &handler,
        login_event(&name.to_uppercase(), "correct horse battery"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["refresh_expires_in"], REFRESH_TTL);
    let refresh = body["refresh_token"].as_str().unwrap();
    let refresh_hash = auth::RefreshToken::parse(refresh)
        .expect("a refresh token")
        .hash();
    let token = body["access_token"].as_str().unwrap();
    let now = clock::now();
    let verified = verifier().verify(token, now).expect("a valid token");
    assert_eq!(verified.user_id, user.user_id);
    assert_eq!(verified.username, user.username);
    // The whitelist item and the refresh token's hash were written before the tokens were
    // returned; the session lives as long as its refresh token, and records the client.
    let SessionLookup::Live(session) = sessions
        .get_session(&verified.session_id, &user.user_id, now)
        .await
        .unwrap()
    else {
        panic!("no whitelist item");
    };
    assert_eq!(session.user_id, user.user_id);
    // Between the clock before the call and after it (a loaded machine may cross seconds).
    assert!(session.expires_at >= before + REFRESH_TTL && session.expires_at <= now + REFRESH_TTL);
    // The token is issued as of the login's start; the session item is written a moment later.
    assert_eq!(verified.expires_at, verified.issued_at + 900);
    assert!(verified.issued_at <= session.created_at_ms / 1000);
    assert!(verified.issued_at >= before);
    assert_eq!(
        (session.user_agent.as_str(), session.source_ip.as_str()),
        ("curl/8.5.0", "203.0.113.7")
    );
    let stored = sessions
        .find_refresh(&refresh_hash, now)
        .await
        .unwrap()
        .expect("refresh item");
    assert_eq!(stored.session_id, session.session_id);
    assert_eq!(stored.rotated_at_ms, None);

    // A second login is a second, independent session.
    let (_, again) = call(&handler, login_event(&name, "correct horse battery")).await;
    let second = verifier()
        .verify(again["access_token"].as_str().unwrap(), now)
        .unwrap();
    assert_ne!(second.session_id, verified.session_id);

    // Unknown user, wrong password, and a username that cannot exist: one answer.
    let (s1, wrong_password) = call(&handler, login_event(&name, "not the password")).await;
    let (s2, unknown_user) = call(
        &handler,
        login_event(&unique_username("nobody"), "correct horse battery"),
    )
    .await;
    let (s3, impossible_name) = call(&handler, login_event("x", "correct horse battery")).await;
    let (s4, overlong_password) = call(&handler, login_event(&name, &"p".repeat(200))).await;
    assert_eq!((s1, s2, s3, s4), (401, 401, 401, 401));
    assert_eq!(wrong_password, unknown_user);
    assert_eq!(wrong_password, impossible_name);
    assert_eq!(wrong_password, overlong_password);
    assert_eq!(wrong_password["error"], "invalid_credentials");
}

#[tokio::test]
async fn logs_in_in_memory() {
    logs_in(
        MemoryUsers::new(),
        MemorySessions::new(),
        MemoryAttempts::new(),
    )
    .await;
}

#[tokio::test]
async fn logs_in_on_dynamodb() {
    let tables = TestTables::create().await;
    logs_in(tables.users(), tables.sessions(), tables.attempts()).await;
}

#[tokio::test]
async fn sample_event_logs_in() {
    let users = MemoryUsers::new();
    add_user(&users, "alice", "correct horse battery staple").await;
    let handler = Handler::new(
        users,
        MemorySessions::new(),
        MemoryAttempts::new(),
        hasher(),
        signer(),
        REFRESH_TTL,
    );
    let (status, body) = call(&handler, event("login.json")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn bad_input_is_400() {
    let handler = Handler::new(
        MemoryUsers::new(),
        MemorySessions::new(),
        MemoryAttempts::new(),
        hasher(),
        signer(),
        REFRESH_TTL,
    );
    for body in [
        "",
        "[]",
        "{",
        r#"{"username":"alice"}"#,
        r#"{"username":"alice","password":"x","x":1}"#,
    ] {
        let (status, json) = call(&handler, with_body(event("login.json"), body)).await;
        assert_eq!(
            (status, &json["error"]),
            (400, &json!("invalid_request")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn unavailable_store_is_503() {
    let client = unreachable_client();
    let handler = Handler::new(
        DynamoUsers::new(client.clone(), "users"),
        DynamoSessions::new(client.clone(), "sessions"),
        DynamoAttempts::new(client, "attempts"),
        hasher(),
        signer(),
        REFRESH_TTL,
    );
    let (status, body) = call(&handler, event("login.json")).await;
    assert_eq!(
        (status, &body["error"]),
        (503, &json!("service_unavailable"))
    );
}

#[tokio::test]
async fn session_store_down_after_password_check_is_503_and_no_token() {
    let users = MemoryUsers::new();
    add_user(&users, "alice", "correct horse battery staple").await;
    let handler = Handler::new(
        users,
        DynamoSessions::new(unreachable_client(), "sessions"),
        MemoryAttempts::new(),
        hasher(),
        signer(),
        REFRESH_TTL,
    );
    let (status, body) = call(&handler, event("login.json")).await;
    assert_eq!(status, 503);
    assert!(body.get("access_token").is_none());
}

/// Status, `Retry-After` and body of a login.
async fn attempt<
    U: FindUser + Sync,
    S: StartSession + SecondFactor + Sync,
    A: LoginAttempts + Sync,
>(
    handler: &Handler<U, S, A>,
    username: &str,
    password: &str,
) -> (u16, Option<u64>, Value) {
    let response = handler
        .handle(request(&login_event(username, password)))
        .await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let (status, body) = response_json(&response);
    (status, retry_after, body)
}

async fn brute_force_is_throttled<U, A>(users: U, attempts: A)
where
    U: CreateUser + FindUser + Sync + Clone,
    A: LoginAttempts + Sync + Clone,
{
    let known = unique_username("victim");
    add_user(&users, &known, "correct horse battery").await;
    let unknown = unique_username("ghost");
    let handler = Handler::new(
        users,
        MemorySessions::new(),
        attempts.clone(),
        hasher(),
        signer(),
        REFRESH_TTL,
    );

    // Known and unknown usernames are limited alike, so the limiter reveals nothing.
    let mut answers = Vec::new();
    for name in [&known, &unknown] {
        for _ in 0..5 {
            let (status, retry, _) = attempt(&handler, name, "wrong password").await;
            assert_eq!((status, retry), (401, None));
        }
        // Locked: even the right password gets 429 now, and nothing is verified.
        let (status, retry, body) = attempt(&handler, name, "correct horse battery").await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["error"], "too_many_requests");
        let retry = retry.expect("Retry-After");
        assert!((14..=15).contains(&retry), "{retry}");
        answers.push((status, body["error"].clone()));
    }
    assert_eq!(answers[0], answers[1]);

    // Letter case does not get around it.
    assert_eq!(attempt(&handler, &known.to_uppercase(), "x").await.0, 429);
}

#[tokio::test]
async fn brute_force_is_throttled_in_memory() {
    brute_force_is_throttled(MemoryUsers::new(), MemoryAttempts::new()).await;
}

#[tokio::test]
async fn brute_force_is_throttled_on_dynamodb() {
    let tables = TestTables::create().await;
    brute_force_is_throttled(tables.users(), tables.attempts()).await;
}

/// The back-off doubles and a success resets the counter (driven through the store's clock).
async fn back_off_and_reset<A: LoginAttempts + Sync + Clone>(attempts: A) {
    let users = MemoryUsers::new();
    let name = unique_username("reset");
    add_user(&users, &name, "correct horse battery").await;
    let username = Username::parse(&name).unwrap();
    let handler = Handler::new(
        users,
        MemorySessions::new(),
        attempts.clone(),
        hasher(),
        signer(),
        REFRESH_TTL,
    );
    let long_ago = clock::now() - 10_000;
    // Six failures an hour apart, long ago: the last one locked the name for 30 s, long over.
    for i in 0..6 {
        count(&attempts, &username, long_ago + i, clock::now() + 3600).await;
    }
    let a = attempts
        .get_attempts(&username, clock::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(auth::throttle::locked_until(&a), Some(long_ago + 5 + 30));
    // One more failure now locks it for 60 s.
    let (status, _, _) = attempt(&handler, &name, "wrong password").await;
    assert_eq!(status, 401);
    let (status, retry, _) = attempt(&handler, &name, "correct horse battery").await;
    assert_eq!(status, 429);
    assert!((59..=60).contains(&retry.unwrap()));

    // Once a lock is over, a success resets the counter.
    let other = unique_username("reset2");
    let users = MemoryUsers::new();
    add_user(&users, &other, "correct horse battery").await;
    let handler = Handler::new(
        users,
        MemorySessions::new(),
        attempts.clone(),
        hasher(),
        signer(),
        REFRESH_TTL,
    );
    let other_name = Username::parse(&other).unwrap();
    for i in 0..4 {
        count(&attempts, &other_name, long_ago + i, clock::now() + 3600).await;
    }
    assert_eq!(
        attempt(&handler, &other, "correct horse battery").await.0,
        200
    );
    assert!(
        attempts
            .get_attempts(&other_name, clock::now())
            .await
            .unwrap()
            .is_none()
    );
    // An expired counter is forgotten even while the store still holds it.
    count(&attempts, &other_name, long_ago, long_ago + 1).await;
    assert!(
        attempts
            .get_attempts(&other_name, clock::now())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        count(&attempts, &other_name, clock::now(), clock::now() + 60)
            .await
            .failures,
        1
    );
}

#[tokio::test]
async fn back_off_and_reset_in_memory() {
    back_off_and_reset(MemoryAttempts::new()).await;
}

#[tokio::test]
async fn back_off_and_reset_on_dynamodb() {
    back_off_and_reset(TestTables::create().await.attempts()).await;
}

/// Counts one failure at `at` on top of the counter as it stands then.
async fn count<A: LoginAttempts>(
    attempts: &A,
    name: &Username,
    at: i64,
    expires_at: i64,
) -> auth::store::Attempts {
    let seen = attempts.get_attempts(name, at).await.unwrap();
    attempts
        .try_count_failure(name, seen, at, expires_at)
        .await
        .unwrap()
        .expect("no concurrent attempt")
}

/// Parallel guesses are counted one by one: a burst of 20 gets at most 5 password checks.
async fn parallel_guesses_are_counted<A: LoginAttempts + Sync + Send + Clone + 'static>(
    attempts: A,
) {
    let users = MemoryUsers::new();
    let name = unique_username("burst");
    add_user(&users, &name, "correct horse battery").await;
    let handler = std::sync::Arc::new(Handler::new(
        users,
        MemorySessions::new(),
        attempts,
        hasher(),
        signer(),
        REFRESH_TTL,
    ));
    assert_eq!(attempt(&handler, &name, "first wrong guess").await.0, 401);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let handler = handler.clone();
        let name = name.clone();
        tasks.spawn(async move { attempt(&handler, &name, "wrong guess").await.0 });
    }
    let mut statuses = Vec::new();
    while let Some(s) = tasks.join_next().await {
        statuses.push(s.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(checked <= 4, "{checked} password checks: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    // Once five failures are counted the name is locked, right password or not.
    if checked == 4 {
        assert_eq!(
            attempt(&handler, &name, "correct horse battery").await.0,
            429
        );
    }
}

#[tokio::test]
async fn parallel_guesses_are_counted_in_memory() {
    parallel_guesses_are_counted(MemoryAttempts::new()).await;
}

#[tokio::test]
async fn parallel_guesses_are_counted_on_dynalite() {
    parallel_guesses_are_counted(TestTables::create_on_dynalite().await.attempts()).await;
}

/// The first burst is bounded too (the outside review's finding): 30 parallel wrong passwords
/// for a username with no recorded failure get at most 5 password checks (401); the rest are
/// refused unchecked (429). Every attempt is counted before its check.
async fn first_burst_is_bounded<A: LoginAttempts + Sync + Send + Clone + 'static>(
    attempts: A,
    engine_slack: usize,
) {
    let users = MemoryUsers::new();
    let name = unique_username("burst0");
    add_user(&users, &name, "correct horse battery").await;
    let handler = std::sync::Arc::new(Handler::new(
        users,
        MemorySessions::new(),
        attempts.clone(),
        hasher(),
        signer(),
        REFRESH_TTL,
    ));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let handler = handler.clone();
        let name = name.clone();
        tasks.spawn(async move { attempt(&handler, &name, "wrong guess").await.0 });
    }
    let mut statuses = Vec::new();
    while let Some(s) = tasks.join_next().await {
        statuses.push(s.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        (1..=auth::throttle::FREE_FAILURES as usize + engine_slack).contains(&checked),
        "{checked} password checks: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    // Each check was counted: the counter holds exactly the checked attempts.
    let username = Username::parse(&name).unwrap();
    let counter = attempts
        .get_attempts(&username, clock::now())
        .await
        .unwrap()
        .unwrap();
    if engine_slack == 0 {
        assert_eq!(counter.failures as usize, checked);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_burst_is_bounded_in_memory() {
    first_burst_is_bounded(MemoryAttempts::new(), 0).await;
}

/// On dynalite, whose conditional writes are decided once per item as DynamoDB's are. (moto's
/// are not atomic: two conditional puts from one read can both succeed there, so on moto this
/// bound would hold or fail by chance; `first_burst_is_bounded_on_moto` checks a looser one.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_burst_is_bounded_on_dynamodb() {
    first_burst_is_bounded(TestTables::create_on_dynalite().await.attempts(), 0).await;
}

/// On moto: the burst stays bounded (not 30 checks), within a slack of two for moto's
/// non-atomic conditional writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_burst_is_bounded_on_moto() {
    first_burst_is_bounded(TestTables::create().await.attempts(), 2).await;
}

/// A success forgives only its own count when other attempts counted beside it, and the whole
/// counter when none did; concurrent successes do not add up to a lock.
async fn successes_forgive_their_own_count<A: LoginAttempts + Sync + Send + Clone + 'static>(
    attempts: A,
) {
    let users = MemoryUsers::new();
    let name = unique_username("forgive");
    add_user(&users, &name, "correct horse battery").await;
    let username = Username::parse(&name).unwrap();
    let handler = std::sync::Arc::new(Handler::new(
        users,
        MemorySessions::new(),
        attempts.clone(),
        hasher(),
        signer(),
        REFRESH_TTL,
    ));
    // Four devices at once, all with the right password.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let handler = handler.clone();
        let name = name.clone();
        tasks.spawn(async move { attempt(&handler, &name, "correct horse battery").await.0 });
    }
    while let Some(s) = tasks.join_next().await {
        assert_eq!(s.unwrap(), 200);
    }
    let left = attempts
        .get_attempts(&username, clock::now())
        .await
        .unwrap();
    assert!(left.is_none_or(|a| a.failures == 0), "{left:?}");
    // Two failures, then a success: the success resets the counter (nothing counted beside it).
    for _ in 0..2 {
        assert_eq!(attempt(&handler, &name, "wrong guess").await.0, 401);
    }
    assert_eq!(
        attempt(&handler, &name, "correct horse battery").await.0,
        200
    );
    assert!(
        attempts
            .get_attempts(&username, clock::now())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successes_forgive_their_own_count_in_memory() {
    successes_forgive_their_own_count(MemoryAttempts::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successes_forgive_their_own_count_on_dynamodb() {
    successes_forgive_their_own_count(TestTables::create().await.attempts()).await;
}
