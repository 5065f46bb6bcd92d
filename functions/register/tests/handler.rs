//! The register handler, fed with `events/register*.json`, on the in-memory store and on
//! DynamoDB (moto).

use auth::store::FindUser;
use auth::store::memory::MemoryUsers;
use auth::{Username, store::CreateUser};
use auth_edge::Function as _;
use auth_sdk::store::DynamoUsers;
use auth_testing::{
    TestTables, event, hasher, request, response_json, unique_username, unreachable_client,
    with_body,
};
use register::Handler;
use serde_json::{Value, json};

fn register_event(body: &Value) -> Value {
    with_body(event("register.json"), &body.to_string())
}

async fn call<U: CreateUser + Sync>(handler: &Handler<U>, event: Value) -> (u16, Value) {
    response_json(&handler.handle(request(&event)).await)
}

async fn creates_accounts<U: CreateUser + FindUser + Sync + Clone>(users: U) {
    let handler = Handler::new(users.clone(), hasher());
    let name = unique_username("Reg");
    let (status, body) = call(
        &handler,
        register_event(&json!({"username": name, "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["username"], name.to_lowercase());
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "only user_id and username: {body}"
    );
    let stored = users
        .find_user(&Username::parse(&name).unwrap())
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.user_id.as_str(), body["user_id"]);
    assert!(
        stored
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    assert!(!stored.password_hash.contains("correct horse"));

    // The same name in another letter case is the same account.
    let (status, body) = call(
        &handler,
        register_event(&json!({"username": name.to_uppercase(), "password": "another password"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "username_taken");
}

#[tokio::test]
async fn creates_accounts_in_memory() {
    creates_accounts(MemoryUsers::new()).await;
}

#[tokio::test]
async fn creates_accounts_on_dynamodb() {
    creates_accounts(TestTables::create().await.users()).await;
}

#[tokio::test]
async fn sample_events_register() {
    let handler = Handler::new(MemoryUsers::new(), hasher());
    let (status, body) = call(&handler, event("register.json")).await;
    assert_eq!(
        (status, &body["username"]),
        (201, &json!("alice")),
        "{body}"
    );
    // The base64 sample carries the same body, encoded as API Gateway sends binary bodies.
    let (status, body) = call(&handler, event("register-base64.json")).await;
    assert_eq!(
        (status, &body["error"]),
        (409, &json!("username_taken")),
        "{body}"
    );
    let fresh = Handler::new(MemoryUsers::new(), hasher());
    let (status, _) = call(&fresh, event("register-base64.json")).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx() {
    let handler = Handler::new(MemoryUsers::new(), hasher());
    let ok_name = unique_username("bad");
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("not json", "{\"username\":".into(), 400, "invalid_request"),
        ("array", "[1,2]".into(), 400, "invalid_request"),
        ("string", "\"hello\"".into(), 400, "invalid_request"),
        ("empty", "".into(), 400, "invalid_request"),
        (
            "missing password",
            json!({"username": ok_name}).to_string(),
            400,
            "invalid_request",
        ),
        (
            "unknown field",
            json!({"username": ok_name, "password": "long enough pw", "admin": true}).to_string(),
            400,
            "invalid_request",
        ),
        (
            "wrong type",
            json!({"username": 5, "password": "long enough pw"}).to_string(),
            400,
            "invalid_request",
        ),
        (
            "short password",
            json!({"username": ok_name, "password": "1234567"}).to_string(),
            400,
            "invalid_request",
        ),
        (
            "long password",
            json!({"username": ok_name, "password": "p".repeat(129)}).to_string(),
            400,
            "invalid_request",
        ),
        (
            "short username",
            json!({"username": "ab", "password": "long enough pw"}).to_string(),
            400,
            "invalid_request",
        ),
        (
            "bad characters",
            json!({"username": "a b/c", "password": "long enough pw"}).to_string(),
            400,
            "invalid_request",
        ),
        (
            "look-alike",
            json!({"username": "\u{0430}lice", "password": "long enough pw"}).to_string(),
            400,
            "invalid_request",
        ),
        (
            "too large",
            json!({"username": ok_name, "password": "p".repeat(9000)}).to_string(),
            413,
            "payload_too_large",
        ),
    ];
    for (name, body, want_status, want_code) in cases {
        let (status, json) = call(&handler, with_body(event("register.json"), &body)).await;
        assert_eq!(status, want_status, "{name}: {json}");
        assert_eq!(json["error"], want_code, "{name}: {json}");
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}: {json}"
        );
        assert!(
            !json.to_string().contains("long enough pw"),
            "{name} echoed the password"
        );
    }
    // A password given as a number is not echoed back either.
    let (_, json) = call(
        &handler,
        with_body(
            event("register.json"),
            r#"{"username":"someone","password":987654321}"#,
        ),
    )
    .await;
    assert!(!json.to_string().contains("987654321"), "{json}");

    // Wrong or missing content type.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut e = register_event(&json!({"username": ok_name, "password": "long enough pw"}));
        match content_type {
            Some(ct) => e["headers"]["content-type"] = ct.into(),
            None => {
                e["headers"].as_object_mut().unwrap().remove("content-type");
            }
        }
        let (status, json) = call(&handler, e).await;
        assert_eq!(
            (status, &json["error"]),
            (415, &json!("unsupported_media_type"))
        );
    }
    // application/json with a charset is fine.
    let mut e = register_event(&json!({"username": ok_name, "password": "long enough pw"}));
    e["headers"]["content-type"] = "application/json; charset=utf-8".into();
    assert_eq!(call(&handler, e).await.0, 201);
}

#[tokio::test]
async fn unavailable_store_is_503() {
    let handler = Handler::new(DynamoUsers::new(unreachable_client(), "users"), hasher());
    let (status, body) = call(
        &handler,
        register_event(&json!({"username": "someone", "password": "long enough pw"})),
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "service_unavailable");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no internal detail: {body}"
    );
}
