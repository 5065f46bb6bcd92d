//! The authorizer, fed with `events/authorizer-*.json`, on the in-memory store and on DynamoDB.

use auth::clock;
use auth::store::dynamo::DynamoSessions;
use auth::store::memory::MemorySessions;
use auth::store::{DeleteSession, GetSession, PutSession, SessionRecord};
use auth::testing::{TestTables, event, signer, unreachable_client, verifier};
use auth::token::TokenError;
use auth::{SessionId, UserId, Username};
use authorizer::{AuthorizerRequest, Deny, Handler};
use serde_json::{Value, json};

fn authorizer_event(name: &str, authorization: Option<&str>) -> AuthorizerRequest {
    let mut e = event(name);
    if let Some(value) = authorization {
        e["headers"]["authorization"] = value.into();
        e["identitySource"] = json!([value]);
    }
    serde_json::from_value(e).expect("a valid authorizer event")
}

/// A token with its whitelist item in `sessions`.
async fn live_token(sessions: &impl PutSession) -> (String, SessionRecord) {
    let now = clock::now();
    let user_id = UserId::generate();
    let username = Username::parse("alice").unwrap();
    let session_id = SessionId::generate();
    let issued = signer()
        .issue(&user_id, &username, &session_id, now)
        .unwrap();
    let record = SessionRecord {
        session_id,
        user_id,
        username,
        issued_at: now,
        expires_at: issued.claims.exp,
    };
    sessions.put_session(&record).await.unwrap();
    (issued.token, record)
}

async fn decides<S: PutSession + GetSession + DeleteSession + Sync + Clone>(sessions: S) {
    let handler = Handler::new(sessions.clone(), verifier());
    let (token, record) = live_token(&sessions).await;
    let bearer = format!("Bearer {token}");

    let allow = handler
        .handle(authorizer_event("authorizer-valid.json", Some(&bearer)))
        .await;
    assert!(allow.is_authorized);
    assert_eq!(
        allow.context,
        json!({
            "user_id": record.user_id.as_str(),
            "username": "alice",
            "jti": record.session_id.as_str(),
        })
    );
    // The serialised response is the simple format API Gateway expects.
    let wire = serde_json::to_value(&allow).unwrap();
    assert_eq!(wire["isAuthorized"], true);

    // Logged out: the same token is denied at once.
    sessions
        .delete_session(&record.session_id, &record.user_id)
        .await
        .unwrap();
    let req = authorizer_event("authorizer-valid.json", Some(&bearer));
    assert_eq!(handler.decide(&req).await.unwrap_err(), Deny::NoSession);
    let deny = handler.handle(req).await;
    assert!(!deny.is_authorized);
    assert_eq!(deny.context, json!({}));
}

#[tokio::test]
async fn decides_in_memory() {
    decides(MemorySessions::new()).await;
}

#[tokio::test]
async fn decides_on_dynamodb() {
    decides(TestTables::create().await.sessions()).await;
}

#[tokio::test]
async fn sample_events_are_denied() {
    let handler = Handler::new(MemorySessions::new(), verifier());
    let missing = authorizer_event("authorizer-missing-token.json", None);
    assert_eq!(
        handler.decide(&missing).await.unwrap_err(),
        Deny::MissingHeader
    );
    let garbage = authorizer_event("authorizer-garbage-token.json", None);
    assert_eq!(
        handler.decide(&garbage).await.unwrap_err(),
        Deny::Token(TokenError::Malformed)
    );
    // The valid-token sample names a session this empty store does not have.
    let valid = authorizer_event("authorizer-valid.json", None);
    assert!(handler.decide(&valid).await.is_err());
    for e in [missing, garbage, valid] {
        assert!(!handler.handle(e).await.is_authorized);
    }
}

#[tokio::test]
async fn the_valid_token_sample_is_allowed_while_its_session_lives() {
    let sessions = MemorySessions::new();
    let handler = Handler::new(sessions.clone(), auth::testing::sample_verifier());
    let req = || authorizer_event("authorizer-valid.json", None);
    assert_eq!(handler.decide(&req()).await.unwrap_err(), Deny::NoSession);
    let session = auth::testing::sample_session();
    sessions.put_session(&session).await.unwrap();
    let allow = handler.handle(req()).await;
    assert!(allow.is_authorized);
    assert_eq!(allow.context["user_id"], auth::testing::SAMPLE_USER_ID);
    assert_eq!(allow.context["jti"], auth::testing::SAMPLE_JTI);
    // The downstream samples carry exactly the context this allow produces.
    for downstream in ["me.json", "logout.json"] {
        assert_eq!(
            event(downstream)["requestContext"]["authorizer"]["lambda"],
            allow.context,
            "{downstream}"
        );
    }
    sessions
        .delete_session(&session.session_id, &session.user_id)
        .await
        .unwrap();
    assert!(!handler.handle(req()).await.is_authorized);
}

#[tokio::test]
async fn expired_item_still_in_the_table_is_denied() {
    let tables = TestTables::create().await;
    let sessions = tables.sessions();
    let handler = Handler::new(sessions.clone(), verifier());
    let now = clock::now();
    let user_id = UserId::generate();
    let username = Username::parse("alice").unwrap();
    let session_id = SessionId::generate();
    // The token is valid for an hour, but its whitelist item already ended.
    let issued = signer()
        .issue(&user_id, &username, &session_id, now)
        .unwrap();
    sessions
        .put_session(&SessionRecord {
            session_id,
            user_id,
            username,
            issued_at: now - 100,
            expires_at: now - 1,
        })
        .await
        .unwrap();
    let req = authorizer_event(
        "authorizer-valid.json",
        Some(&format!("Bearer {}", issued.token)),
    );
    assert_eq!(handler.decide(&req).await.unwrap_err(), Deny::NoSession);
}

#[tokio::test]
async fn item_of_another_user_is_denied() {
    let sessions = MemorySessions::new();
    let handler = Handler::new(sessions.clone(), verifier());
    let (_, record) = live_token(&sessions).await;
    // A validly signed token naming that jti but another sub.
    let forged = signer()
        .issue(
            &UserId::generate(),
            &record.username,
            &record.session_id,
            clock::now(),
        )
        .unwrap();
    let req = authorizer_event(
        "authorizer-valid.json",
        Some(&format!("Bearer {}", forged.token)),
    );
    assert_eq!(handler.decide(&req).await.unwrap_err(), Deny::WrongOwner);
}

#[tokio::test]
async fn bad_headers_are_denied() {
    let sessions = MemorySessions::new();
    let handler = Handler::new(sessions.clone(), verifier());
    let (token, _) = live_token(&sessions).await;
    for value in [
        token.clone(),
        format!("Basic {token}"),
        format!("Bearer  {token}"),
        format!("Bearer {token} extra"),
        format!("Bearer {token}x"),
        "Bearer".into(),
    ] {
        let req = authorizer_event("authorizer-valid.json", Some(&value));
        assert!(handler.decide(&req).await.is_err(), "{value}");
        assert!(!handler.handle(req).await.is_authorized);
    }
    // The lower-case scheme is accepted.
    let req = authorizer_event("authorizer-valid.json", Some(&format!("bearer {token}")));
    assert!(handler.decide(&req).await.is_ok());
}

#[tokio::test]
async fn store_failure_is_a_deny() {
    let sessions = MemorySessions::new();
    let (token, _) = live_token(&sessions).await;
    let handler = Handler::new(
        DynamoSessions::new(unreachable_client(), "sessions"),
        verifier(),
    );
    let req = authorizer_event("authorizer-valid.json", Some(&format!("Bearer {token}")));
    assert_eq!(handler.decide(&req).await.unwrap_err(), Deny::StoreError);
    let response = handler.handle(req).await;
    assert!(!response.is_authorized);
    let _: Value = serde_json::to_value(response).unwrap();
}
