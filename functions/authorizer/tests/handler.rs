//! The authorizer, fed with `events/authorizer-*.json`, on the in-memory store and on DynamoDB.

use auth::UserId;
use auth::clock;
use auth::store::memory::MemorySessions;
use auth::store::{DeleteSession, GetSession, RevokeAllSessions, SessionRecord, StartSession};
use auth::token::TokenError;
use auth_sdk::store::DynamoSessions;
use auth_testing::{
    TestTables, access_token, event, new_session, put_session, signer, unreachable_client, verifier,
};
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

/// A token with its session in `sessions`.
async fn live_token(sessions: &impl StartSession) -> (String, SessionRecord) {
    let record = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    put_session(sessions, &record).await;
    (access_token(&record), record)
}

async fn decides<S>(sessions: S)
where
    S: StartSession + GetSession + DeleteSession + RevokeAllSessions + Sync + Clone,
{
    let handler = Handler::new(sessions.clone(), verifier());
    let (token, record) = live_token(&sessions).await;
    let bearer = format!("Bearer {token}");

    let allow = handler
        .handle(authorizer_event("authorizer-valid.json", Some(&bearer)))
        .await;
    assert!(allow.is_authorized);
    let jti = verifier().verify(&token, clock::now()).unwrap().token_id;
    assert_eq!(
        allow.context,
        json!({
            "user_id": record.user_id.as_str(),
            "username": "alice",
            "jti": jti.as_str(),
            "sid": record.session_id.as_str(),
        })
    );
    // Another access token of the same session (as a refresh issues) is allowed too.
    let sibling = format!("Bearer {}", access_token(&record));
    let req = authorizer_event("authorizer-valid.json", Some(&sibling));
    assert!(handler.decide(&req).await.is_ok());
    // The serialised response is the simple format API Gateway expects.
    let wire = serde_json::to_value(&allow).unwrap();
    assert_eq!(wire["isAuthorized"], true);

    // Logged out: the same token, and every other token of the session, is denied at once.
    sessions
        .delete_session(&record.session_id, &record.user_id, clock::now())
        .await
        .unwrap();
    for bearer in [&bearer, &sibling] {
        let req = authorizer_event("authorizer-valid.json", Some(bearer));
        assert_eq!(handler.decide(&req).await.unwrap_err(), Deny::NoSession);
        let deny = handler.handle(req).await;
        assert!(!deny.is_authorized);
        assert_eq!(deny.context, json!({}));
    }

    // Log-out-everywhere: every earlier session of that user is denied, others are not.
    let (mine, _) = live_token(&sessions).await;
    let (theirs, _) = live_token(&sessions).await;
    let owner = verifier().verify(&mine, clock::now()).unwrap().user_id;
    let mut second = new_session(&owner, "alice", clock::now() + 3600);
    put_session(&sessions, &second).await;
    sessions.bump_generation(&owner).await.unwrap();
    for token in [mine, access_token(&second)] {
        let req = authorizer_event("authorizer-valid.json", Some(&format!("Bearer {token}")));
        assert_eq!(handler.decide(&req).await.unwrap_err(), Deny::Revoked);
    }
    let req = authorizer_event("authorizer-valid.json", Some(&format!("Bearer {theirs}")));
    assert!(handler.decide(&req).await.is_ok());
    // A session that began after it is allowed.
    second = new_session(&owner, "alice", clock::now() + 3600);
    second.generation = 1;
    put_session(&sessions, &second).await;
    let req = authorizer_event(
        "authorizer-valid.json",
        Some(&format!("Bearer {}", access_token(&second))),
    );
    assert!(handler.decide(&req).await.is_ok());
}

#[tokio::test]
async fn decides_in_memory() {
    decides(MemorySessions::new()).await;
}

#[tokio::test]
async fn decides_on_dynamodb() {
    decides(TestTables::create().await.sessions()).await;
}

/// As the Lambda runs: sessions written by the SDK store, read by the direct client.
#[tokio::test]
async fn decides_on_dynamodb_read_directly() {
    decides(TestTables::create().await.sessions_read_directly()).await;
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
    let handler = Handler::new(sessions.clone(), auth_testing::sample_verifier());
    let req = || authorizer_event("authorizer-valid.json", None);
    assert_eq!(handler.decide(&req()).await.unwrap_err(), Deny::NoSession);
    let session = auth_testing::sample_session();
    put_session(&sessions, &session).await;
    let allow = handler.handle(req()).await;
    assert!(allow.is_authorized);
    assert_eq!(allow.context["user_id"], auth_testing::SAMPLE_USER_ID);
    assert_eq!(allow.context["jti"], auth_testing::SAMPLE_JTI);
    assert_eq!(allow.context["sid"], auth_testing::SAMPLE_SID);
    // The downstream samples carry exactly the context this allow produces.
    for downstream in [
        "me.json",
        "logout.json",
        "sessions.json",
        "session-delete.json",
        "logout-all.json",
    ] {
        assert_eq!(
            event(downstream)["requestContext"]["authorizer"]["lambda"],
            allow.context,
            "{downstream}"
        );
    }
    sessions
        .delete_session(&session.session_id, &session.user_id, clock::now())
        .await
        .unwrap();
    assert!(!handler.handle(req()).await.is_authorized);
}

#[tokio::test]
async fn expired_item_still_in_the_table_is_denied() {
    let tables = TestTables::create().await;
    let sessions = tables.sessions();
    let handler = Handler::new(sessions.clone(), verifier());
    // The token is valid for an hour, but its whitelist item already ended.
    let ended = new_session(&UserId::generate(), "alice", clock::now() - 1);
    put_session(&sessions, &ended).await;
    let req = authorizer_event(
        "authorizer-valid.json",
        Some(&format!("Bearer {}", access_token(&ended))),
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

/// A header the authorizer cannot read (not visible ASCII, not a string, `null` headers) is
/// decided on the identity source API Gateway extracted, whose token is checked as fully as the
/// header's; without a usable identity source it is a deny. Never an invocation error.
#[tokio::test]
async fn unreadable_header_falls_back_to_the_identity_source() {
    let sessions = MemorySessions::new();
    let handler = Handler::new(sessions.clone(), verifier());
    let (token, _) = live_token(&sessions).await;
    let bearer = format!("Bearer {token}");
    let with = |headers: Value, identity: Value| -> AuthorizerRequest {
        let mut e = event("authorizer-valid.json");
        e["headers"] = headers;
        e["identitySource"] = identity;
        serde_json::from_value(e).expect("the event decodes")
    };
    for headers in [
        json!({"authorization": "Bearer caf\u{e9}"}),
        json!({"authorization": "Bearer a\u{1}b"}),
        json!({"authorization": 7}),
        Value::Null,
        json!({}),
    ] {
        let req = with(headers.clone(), json!([bearer]));
        assert!(handler.decide(&req).await.is_ok(), "{headers}");
        for (identity, deny) in [
            (Value::Null, Deny::MissingHeader),
            (json!([]), Deny::MissingHeader),
            (
                json!(["Bearer not-a-token"]),
                Deny::Token(TokenError::Malformed),
            ),
            (json!(["Basic abc"]), Deny::BadScheme),
        ] {
            let req = with(headers.clone(), identity.clone());
            assert_eq!(
                handler.decide(&req).await.unwrap_err(),
                deny,
                "{headers} {identity}"
            );
            assert!(!handler.handle(req).await.is_authorized);
        }
    }
    // A readable header is used even when the identity source says otherwise.
    let req = with(json!({"authorization": "Basic abc"}), json!([bearer]));
    assert_eq!(handler.decide(&req).await.unwrap_err(), Deny::BadScheme);
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
    let response = handler.handle(req.clone()).await;
    assert!(!response.is_authorized);
    let _: Value = serde_json::to_value(response).unwrap();

    // The same with the direct read the Lambda runs.
    let port = auth_testing::OwnMoto::free_port();
    let mut config = auth_testing::direct_config(&format!("http://127.0.0.1:{port}"));
    config.timeout = std::time::Duration::from_millis(500);
    let handler = Handler::new(
        auth_testing::direct_sessions(&config, "sessions"),
        verifier(),
    );
    assert_eq!(handler.decide(&req).await.unwrap_err(), Deny::StoreError);
    assert!(!handler.handle(req).await.is_authorized);
}

/// The handler the Lambda builds from its environment (keys inline), on the test server; and
/// the variables it cannot start without.
#[tokio::test]
async fn from_config_reads_the_table() {
    let tables = TestTables::create().await;
    let (token, _) = live_token(&tables.sessions()).await;
    let endpoint = auth_testing::dynamodb_endpoint();
    let mut env = auth_testing::test_env();
    for (k, v) in [
        ("SESSIONS_TABLE", tables.sessions_table.as_str()),
        ("DYNAMODB_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
    ] {
        env.insert(k.into(), v.into());
    }
    let config = authorizer::Config::from_lookup(&|k| env.get(k).cloned()).unwrap();
    let handler = Handler::from_config(&config).await.unwrap();
    let req = authorizer_event("authorizer-valid.json", Some(&format!("Bearer {token}")));
    assert!(handler.decide(&req).await.is_ok());
    for name in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        let mut env = env.clone();
        env.remove(name);
        let err = authorizer::Config::from_lookup(&|k| env.get(k).cloned()).unwrap_err();
        assert_eq!(err.name, name);
    }
    // The key from Secrets Manager (moto), read through the direct client at start-up.
    let secrets = auth_testing::secrets_client();
    let arn = auth_testing::new_secret(&secrets, "authorizer-key", auth_testing::TEST_SECRET).await;
    let mut from_secret = env.clone();
    from_secret.remove("JWT_SECRET");
    from_secret.insert("JWT_SECRET_ARN".into(), arn);
    from_secret.insert("AWS_ENDPOINT_URL_SECRETS_MANAGER".into(), endpoint.clone());
    let config = authorizer::Config::from_lookup(&|k| from_secret.get(k).cloned()).unwrap();
    let handler = Handler::from_config(&config).await.unwrap();
    assert!(handler.decide(&req).await.is_ok());
    // A secret that does not exist: the authorizer does not start.
    from_secret.insert(
        "JWT_SECRET_ARN".into(),
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf".into(),
    );
    let config = authorizer::Config::from_lookup(&|k| from_secret.get(k).cloned()).unwrap();
    assert!(Handler::from_config(&config).await.is_err());

    env.insert("AWS_REGION".into(), "Not A Region".into());
    let err = authorizer::Config::from_lookup(&|k| env.get(k).cloned()).unwrap_err();
    assert_eq!(err.name, "AWS_REGION");
}
