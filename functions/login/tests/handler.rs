//! The login handler, fed with `events/login.json`, on the in-memory stores and on DynamoDB.

use auth::clock;
use auth::store::dynamo::{DynamoSessions, DynamoUsers};
use auth::store::memory::{MemorySessions, MemoryUsers};
use auth::store::{CreateUser, FindUser, GetSession, PutSession, UserRecord};
use auth::testing::{
    TestTables, event, hasher, request, response_json, signer, unique_username, unreachable_client,
    verifier, with_body,
};
use auth::{Password, UserId, Username};
use login::Handler;
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

async fn call<U: FindUser + Sync, S: PutSession + Sync>(
    handler: &Handler<U, S>,
    event: Value,
) -> (u16, Value) {
    response_json(&handler.handle(request(&event)).await)
}

async fn logs_in<U, S>(users: U, sessions: S)
where
    U: CreateUser + FindUser + Sync + Clone,
    S: PutSession + GetSession + Sync + Clone,
{
    let name = unique_username("login");
    let user = add_user(&users, &name, "correct horse battery").await;
    let handler = Handler::new(users, sessions.clone(), hasher(), signer());

    let (status, body) = call(
        &handler,
        login_event(&name.to_uppercase(), "correct horse battery"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let now = clock::now();
    let verified = verifier().verify(token, now).expect("a valid token");
    assert_eq!(verified.user_id, user.user_id);
    assert_eq!(verified.username, user.username);
    // The whitelist item was written before the token was returned.
    let session = sessions
        .get_session(&verified.session_id, now)
        .await
        .unwrap()
        .expect("whitelist item");
    assert_eq!(session.user_id, user.user_id);
    assert_eq!(session.expires_at, verified.expires_at);

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
    logs_in(MemoryUsers::new(), MemorySessions::new()).await;
}

#[tokio::test]
async fn logs_in_on_dynamodb() {
    let tables = TestTables::create().await;
    logs_in(tables.users(), tables.sessions()).await;
}

#[tokio::test]
async fn sample_event_logs_in() {
    let users = MemoryUsers::new();
    add_user(&users, "alice", "correct horse battery staple").await;
    let handler = Handler::new(users, MemorySessions::new(), hasher(), signer());
    let (status, body) = call(&handler, event("login.json")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn bad_input_is_400() {
    let handler = Handler::new(
        MemoryUsers::new(),
        MemorySessions::new(),
        hasher(),
        signer(),
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
        DynamoSessions::new(client, "sessions"),
        hasher(),
        signer(),
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
        hasher(),
        signer(),
    );
    let (status, body) = call(&handler, event("login.json")).await;
    assert_eq!(status, 503);
    assert!(body.get("access_token").is_none());
}
