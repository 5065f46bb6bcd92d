//! The mfa handler, fed with `events/mfa-*.json`, on the in-memory stores and on DynamoDB
//! (moto): the states each route needs, and what it answers outside them.

use auth::mfa::TotpSecret;
use auth::mfa::totp::step_of;
use auth::store::memory::{MemoryAttempts, MemorySessions, MemoryUsers};
use auth::store::{CreateUser, LoginAttempts, SessionStore, UserRecord, UserStore};
use auth::{Password, SessionId, UserId, Username, clock};
use auth_edge::Function as _;
use auth_testing::{
    TestTables, event, hasher, mfa_keys, request, response_json, unique_username, with_body,
    with_caller,
};
use mfa::Handler;
use serde_json::{Value, json};

const PASSWORD: &str = "sample-user password";

async fn account<U: CreateUser>(users: &U) -> UserRecord {
    let user = UserRecord {
        user_id: UserId::generate(),
        username: Username::parse(&unique_username("mfa")).unwrap(),
        password_hash: hasher()
            .hash(&Password::parse_new(PASSWORD.into()).unwrap())
            .unwrap(),
        created_at: clock::now(),
    };
    users.create_user(&user).await.unwrap();
    user
}

fn as_caller(file: &str, user: &UserRecord, body: Option<Value>) -> Value {
    let e = with_caller(
        event(file),
        user.user_id.as_str(),
        user.username.as_str(),
        SessionId::generate().as_str(),
    );
    match body {
        Some(body) => with_body(e, &body.to_string()),
        None => e,
    }
}

async fn states<U, S, A>(users: U, sessions: S, attempts: A)
where
    U: UserStore + Clone + Sync,
    S: SessionStore + Clone + Sync,
    A: LoginAttempts + Sync,
{
    let user = account(&users).await;
    let handler = Handler::new(
        users,
        sessions.clone(),
        attempts,
        hasher(),
        mfa_keys(),
        "Test Issuer".into(),
    );
    let call = |file: &str, body: Option<Value>| {
        let req = request(&as_caller(file, &user, body));
        let handler = &handler;
        async move { response_json(&handler.handle(req).await) }
    };

    // Nothing pending, nothing on.
    let (status, body) = call("mfa-confirm.json", Some(json!({"code": "123456"}))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("mfa_state")),
        "{body}"
    );
    let off = json!({"password": PASSWORD, "code": "123456"});
    let (status, body) = call("mfa-disable.json", Some(off)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("mfa_state")),
        "{body}"
    );

    // Enrol twice: the second secret replaces the first.
    let (status, first) = call("mfa-enrol.json", None).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["expires_in"], mfa::ENROL_SECONDS);
    let (_, second) = call("mfa-enrol.json", None).await;
    assert_ne!(first["secret"], second["secret"]);
    let uri = second["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Test%20Issuer:"), "{uri}");
    let old = TotpSecret::from_base32(first["secret"].as_str().unwrap()).unwrap();
    let new = TotpSecret::from_base32(second["secret"].as_str().unwrap()).unwrap();
    let step = step_of(clock::now());
    let code = |secret: &TotpSecret, offset: i64| secret.code_at_step(step + offset).to_string();
    if (-1..=1).all(|o| code(&old, 0) != code(&new, o)) {
        let (status, _) = call("mfa-confirm.json", Some(json!({"code": code(&old, 0)}))).await;
        assert_eq!(status, 401, "the replaced secret's code");
    }
    // The sealed secret is stored, not the secret.
    let marker = sessions.marker(&user.user_id).await.unwrap();
    let (sealed, _) = marker.totp.pending.unwrap();
    assert!(!sealed.contains(second["secret"].as_str().unwrap()));

    let (status, body) = call("mfa-confirm.json", Some(json!({"code": code(&new, 0)}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recovery_codes"].as_array().unwrap().len(), 10);
    let (status, body) = call("mfa-enrol.json", None).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("mfa_state")));

    // Off: the confirming code's step is used; the next one works.
    let off = |code: String| Some(json!({"password": PASSWORD, "code": code}));
    let (status, body) = call("mfa-disable.json", off(code(&new, 0))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_code")),
        "replayed"
    );
    let (status, body) = call("mfa-disable.json", off(code(&new, 1))).await;
    assert_eq!(status, 204, "{body}");
    assert!(!sessions.marker(&user.user_id).await.unwrap().totp.is_on());
}

#[tokio::test]
async fn states_in_memory() {
    states(
        MemoryUsers::new(),
        MemorySessions::new(),
        MemoryAttempts::new(),
    )
    .await;
}

#[tokio::test]
async fn states_on_dynamodb() {
    let t = TestTables::create().await;
    states(t.users(), t.sessions(), t.attempts()).await;
}

/// A route the function does not serve (a template wired wrongly), and a call without the
/// authorizer's context.
#[tokio::test]
async fn refuses_what_it_does_not_serve() {
    let user = account(&MemoryUsers::new()).await;
    let handler = Handler::new(
        MemoryUsers::new(),
        MemorySessions::new(),
        MemoryAttempts::new(),
        hasher(),
        mfa_keys(),
        "Test".into(),
    );
    let mut wrong = as_caller("mfa-enrol.json", &user, None);
    wrong["requestContext"]["http"]["method"] = json!("GET");
    let (status, _) = response_json(&handler.handle(request(&wrong)).await);
    assert_eq!(status, 400);
    let mut anonymous = event("mfa-enrol.json");
    anonymous["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let (status, _) = response_json(&handler.handle(request(&anonymous)).await);
    assert_eq!(status, 401);
}
