//! The user-info handler, fed with `events/me.json`.

use auth::clock;
use auth::store::memory::MemoryUsers;
use auth::store::{CreateUser, FindUser, UserRecord};
use auth::{SessionId, UserId, Username};
use auth_edge::Function as _;
use auth_sdk::store::DynamoUsers;
use auth_testing::{
    TestTables, event, request, response_json, unique_username, unreachable_client, with_caller,
};
use serde_json::{Value, json};
use user_info::Handler;

async fn call<U: FindUser + Sync>(handler: &Handler<U>, event: Value) -> (u16, Value) {
    response_json(&handler.handle(request(&event)).await)
}

async fn add_user(users: &impl CreateUser) -> UserRecord {
    let user = UserRecord {
        user_id: UserId::generate(),
        username: Username::parse(&unique_username("me")).unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
        created_at: 1_796_022_000,
    };
    users.create_user(&user).await.unwrap();
    user
}

fn me_event(user: &UserRecord) -> Value {
    with_caller(
        event("me.json"),
        user.user_id.as_str(),
        user.username.as_str(),
        SessionId::generate().as_str(),
    )
}

async fn returns_the_caller<U: CreateUser + FindUser + Sync + Clone>(users: U) {
    let user = add_user(&users).await;
    let handler = Handler::new(users.clone());
    let (status, body) = call(&handler, me_event(&user)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "user_id": user.user_id.as_str(),
            "username": user.username.as_str(),
            "created_at": clock::rfc3339(1_796_022_000),
        })
    );
    assert!(!body.to_string().contains("argon2"));

    // An identity whose account is gone, or whose name now belongs to another id.
    let mut ghost = user.clone();
    ghost.user_id = UserId::generate();
    assert_eq!(call(&handler, me_event(&ghost)).await.0, 401);
    ghost.username = Username::parse(&unique_username("ghost")).unwrap();
    assert_eq!(call(&handler, me_event(&ghost)).await.0, 401);
}

#[tokio::test]
async fn returns_the_caller_in_memory() {
    returns_the_caller(MemoryUsers::new()).await;
}

#[tokio::test]
async fn returns_the_caller_on_dynamodb() {
    returns_the_caller(TestTables::create().await.users()).await;
}

/// As the Lambda runs: accounts written by the SDK store, read by the direct client.
#[tokio::test]
async fn returns_the_caller_on_dynamodb_read_directly() {
    returns_the_caller(TestTables::create().await.users_read_directly()).await;
}

/// The handler the Lambda builds from its environment, on the test server.
#[tokio::test]
async fn from_config_reads_the_table() {
    let tables = TestTables::create().await;
    let user = add_user(&tables.users()).await;
    let endpoint = auth_testing::dynamodb_endpoint();
    let env = std::collections::HashMap::from([
        ("USERS_TABLE", tables.users_table.as_str()),
        ("DYNAMODB_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
    ]);
    let config = user_info::Config::from_lookup(&|k| env.get(k).map(|v| v.to_string())).unwrap();
    let handler = Handler::from_config(&config).unwrap();
    let (status, body) = call(&handler, me_event(&user)).await;
    assert_eq!(
        (status, body["username"].as_str()),
        (200, Some(user.username.as_str()))
    );
    // Without credentials in the environment it refuses to start, naming the variable.
    let mut env = env;
    env.remove("AWS_ACCESS_KEY_ID");
    let err = user_info::Config::from_lookup(&|k| env.get(k).map(|v| v.to_string())).unwrap_err();
    assert_eq!(err.name, "AWS_ACCESS_KEY_ID");
}

#[tokio::test]
async fn sample_event_is_answered() {
    // The sample's identity has no account in an empty store.
    let (status, body) = call(&Handler::new(MemoryUsers::new()), event("me.json")).await;
    assert_eq!((status, &body["error"]), (401, &json!("unauthorized")));
}

#[tokio::test]
async fn without_authorizer_context_is_401() {
    let handler = Handler::new(MemoryUsers::new());
    let mut e = event("me.json");
    e["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    assert_eq!(
        call(&handler, e).await,
        (
            401,
            json!({"error": "unauthorized", "message": "authentication required"})
        )
    );
    let malformed = with_caller(event("me.json"), "not-an-id", "alice", "x");
    assert_eq!(call(&handler, malformed).await.0, 401);
}

#[tokio::test]
async fn unavailable_store_is_503() {
    let handler = Handler::new(DynamoUsers::new(unreachable_client(), "users"));
    assert_eq!(call(&handler, event("me.json")).await.0, 503);
    // The same with the direct read the Lambda runs.
    let port = auth_testing::OwnMoto::free_port();
    let mut config = auth_testing::direct_config(&format!("http://127.0.0.1:{port}"));
    config.timeout = std::time::Duration::from_millis(500);
    let http = auth_direct::client::AwsHttp::new(&config).unwrap();
    let users = auth_direct::store::DirectUsers::new(&http, &config, "users").unwrap();
    assert_eq!(call(&Handler::new(users), event("me.json")).await.0, 503);
}
