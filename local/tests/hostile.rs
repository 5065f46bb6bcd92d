//! Hostile tokens and a failing database, end to end on DynamoDB (moto): every bad token is a 403
//! at the gateway (never a 5xx); with the store down, slow or throttling the authorizer denies
//! and the functions answer 503, nothing panics, and the service recovers; 100 sessions logging
//! in and out at once keep the whitelist exact.

mod common;

use auth_sdk::SdkClients as _;
use std::net::TcpListener as StdListener;
use std::time::{Duration, Instant};

use auth_sdk::store::{DynamoAttempts, DynamoSessions, DynamoUsers, create_tables};
use auth_testing::{OwnMoto, TEST_SECRET, test_config, unique_name, unique_username};
use base64::Engine as _;
use common::{call, spawn};
use reqwest::Method;
use serde_json::{Value, json};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn kid() -> String {
    auth::token::HmacKey::new(TEST_SECRET.as_bytes().to_vec())
        .unwrap()
        .kid()
        .to_owned()
}

/// A token with this header and these claims, signed with `alg` (HS256/384/512) and `secret`.
fn sign(alg: jsonwebtoken::Algorithm, kid: Option<&str>, claims: &Value, secret: &[u8]) -> String {
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret).unwrap(),
    )
    .unwrap()
}

/// A token whose header is `header` verbatim and whose signature is `signature`.
fn raw(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// A genuinely signed, unexpired token whose session was never on the whitelist.
fn unlisted_token() -> String {
    let now = auth::clock::now();
    sign(
        jsonwebtoken::Algorithm::HS256,
        Some(&kid()),
        &json!({"sub": auth::UserId::generate().as_str(), "username": "someone", "iat": now,
                "nbf": now, "exp": now + 60, "jti": auth::TokenId::generate().as_str(),
                "sid": auth::SessionId::generate().as_str(),
                "iss": "https://auth.test", "aud": "test-api"}),
        TEST_SECRET.as_bytes(),
    )
}

async fn login(server: &common::TestServer, name: &str) -> (String, Value) {
    let client = reqwest::Client::new();
    let creds = json!({"username": name, "password": "correct horse battery staple"});
    let (status, _, _) = call(
        &client,
        Method::POST,
        &server.url("/register"),
        None,
        Some(&creds),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, body) = call(
        &client,
        Method::POST,
        &server.url("/login"),
        None,
        Some(&creds),
    )
    .await;
    assert_eq!(status, 200);
    let token = body["access_token"].as_str().unwrap().to_owned();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    (token, claims)
}

#[tokio::test]
async fn every_bad_token_is_a_403() {
    use jsonwebtoken::Algorithm::{HS256, HS384, HS512};
    let gateway = common::dynamo_gateway().await;
    let server = spawn(gateway).await;
    let (token, claims) = login(&server, &unique_username("victim")).await;
    let (other_token, other_claims) = login(&server, &unique_username("other")).await;
    let kid = kid();
    let secret = TEST_SECRET.as_bytes();
    let now = auth::clock::now();

    // The genuine token works, and so does a re-signed copy of its claims (so every refusal
    // below is about the one thing each case changes).
    let client = reqwest::Client::new();
    let me = |t: String| {
        let client = client.clone();
        let url = server.url("/me");
        async move {
            let resp = client
                .get(url)
                .header("authorization", t)
                .send()
                .await
                .unwrap();
            resp.status().as_u16()
        }
    };
    assert_eq!(me(format!("Bearer {token}")).await, 200);
    assert_eq!(
        me(format!(
            "Bearer {}",
            sign(HS256, Some(&kid), &claims, secret)
        ))
        .await,
        200
    );

    let with = |k: &str, v: Value| {
        let mut c = claims.clone();
        c[k] = v;
        sign(HS256, Some(&kid), &c, secret)
    };
    let without = |k: &str| {
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove(k);
        sign(HS256, Some(&kid), &c, secret)
    };
    let parts: Vec<&str> = token.split('.').collect();
    let mut altered_payload = claims.clone();
    altered_payload["username"] = "admin".into();
    let mut flipped = parts[2].to_owned();
    let last = flipped.pop().unwrap();
    flipped.push(if last == 'A' { 'B' } else { 'A' });

    let mut cases: Vec<(&str, String)> = vec![
        (
            "HS512 with our secret",
            sign(HS512, Some(&kid), &claims, secret),
        ),
        (
            "HS384 with our secret",
            sign(HS384, Some(&kid), &claims, secret),
        ),
        (
            "RS256 header",
            raw(
                &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
                &claims,
                &b64(&[7u8; 256]),
            ),
        ),
        (
            "EdDSA header",
            raw(
                &json!({"alg": "EdDSA", "kid": kid}),
                &claims,
                &b64(&[7u8; 64]),
            ),
        ),
        (
            "another key",
            sign(
                HS256,
                Some(&kid),
                &claims,
                b"another-secret-0123456789abcdef-xyz",
            ),
        ),
        (
            "payload altered",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(altered_payload.to_string().as_bytes()),
                parts[2]
            ),
        ),
        (
            "signature altered",
            format!("{}.{}.{flipped}", parts[0], parts[1]),
        ),
        ("signature stripped", format!("{}.{}.", parts[0], parts[1])),
        ("expired, item still there", with("exp", (now - 60).into())),
        ("nbf in the future", with("nbf", (now + 3600).into())),
        ("iat in the future", with("iat", (now + 3600).into())),
        ("wrong iss", with("iss", "https://evil.example".into())),
        ("wrong aud", with("aud", "someone-else".into())),
        (
            "aud array without ours",
            with("aud", json!(["someone-else"])),
        ),
        ("missing sub", without("sub")),
        ("missing jti", without("jti")),
        ("missing sid", without("sid")),
        ("missing exp", without("exp")),
        (
            "sid not on the whitelist",
            with("sid", auth::SessionId::generate().as_str().into()),
        ),
        (
            "sid of another user",
            with("sid", other_claims["sid"].clone()),
        ),
        ("sid not an id", with("sid", "../other".into())),
        (
            "sub of another user",
            with("sub", other_claims["sub"].clone()),
        ),
        ("no kid", sign(HS256, None, &claims, secret)),
        (
            "unknown kid",
            sign(HS256, Some("hs256-000000000000"), &claims, secret),
        ),
        (
            "injected kid",
            sign(HS256, Some("../../../../dev/null"), &claims, secret),
        ),
        (
            "huge kid",
            sign(HS256, Some(&"k".repeat(5000)), &claims, secret),
        ),
        ("over 8 KiB", with("pad", "x".repeat(9000).into())),
        (
            "not base64url",
            format!("{}.{}+/.{}", parts[0], parts[1], parts[2]),
        ),
        (
            "padding",
            format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        ),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        ("four segments", format!("{token}.{}", parts[2])),
        (
            "payload not an object",
            raw(
                &json!({"alg": "HS256", "kid": kid}),
                &json!([1, 2, 3]),
                parts[2],
            ),
        ),
        (
            "payload a string",
            raw(
                &json!({"alg": "HS256", "kid": kid}),
                &json!("claims"),
                parts[2],
            ),
        ),
        ("garbage", "not a token at all".into()),
    ];
    for spelling in ["none", "None", "NONE", "nOnE"] {
        for signature in ["", parts[2]] {
            cases.push((
                "alg none",
                raw(
                    &json!({"alg": spelling, "typ": "JWT", "kid": kid}),
                    &claims,
                    signature,
                ),
            ));
        }
    }
    for (name, t) in &cases {
        assert_eq!(me(format!("Bearer {t}")).await, 403, "{name}");
        let resp = client
            .post(server.url("/logout"))
            .header("authorization", format!("Bearer {t}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{name} on /logout");
    }

    // Authorization values that are not exactly `Bearer <token>`.
    for value in [
        token.clone(),
        format!("Basic {token}"),
        format!("Bearer  {token}"),
        format!("Bearer\t{token}"),
        format!("Bearer {token} extra"),
        format!("Bearer {token},Bearer {other_token}"),
        format!("Bearer \"{token}\""),
        format!("Token {token}"),
    ] {
        assert_eq!(me(value.clone()).await, 403, "{value:.20}…");
    }
    // The lower-case scheme is accepted, and the genuine tokens still work after all that.
    assert_eq!(me(format!("bearer {token}")).await, 200);
    assert_eq!(me(format!("Bearer {other_token}")).await, 200);
}

#[tokio::test]
async fn store_down_then_back() {
    let port = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut moto = OwnMoto::start(port);
    let store = auth::config::StoreConfig {
        endpoint_url: None,
        timeout: Duration::from_secs(5),
    };
    let client = store.local_client(&moto.url());
    let (users, sessions, attempts) = (unique_name("u"), unique_name("s"), unique_name("a"));
    create_tables(&client, &users, &sessions, &attempts)
        .await
        .unwrap();
    let gateway = local_api::app::gateway(
        DynamoUsers::new(client.clone(), &users),
        DynamoSessions::new(client.clone(), &sessions),
        DynamoAttempts::new(client.clone(), &attempts),
        &test_config(),
    )
    .await
    .unwrap();
    let server = spawn(gateway).await;
    let http = reqwest::Client::new();
    let (token, _) = login(&server, "down-and-up").await;
    let bearer = |t: &str| Some(t.to_owned());

    moto.stop();
    let creds = json!({"username": "down-and-up", "password": "correct horse battery staple"});
    let started = Instant::now();
    let (status, headers, body) = call(
        &http,
        Method::POST,
        &server.url("/login"),
        None,
        Some(&creds),
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (503, &json!("service_unavailable")),
        "{body}"
    );
    assert!(headers.contains_key("retry-after"));
    let (status, _, body) = call(
        &http,
        Method::POST,
        &server.url("/register"),
        None,
        Some(&json!({"username": "newcomer", "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (503, &json!("service_unavailable"))
    );
    let (status, _, body) = call(
        &http,
        Method::GET,
        &server.url("/me"),
        bearer(&token).as_deref(),
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (403, json!({"message": "Forbidden"})),
        "the authorizer denies"
    );
    let (status, _, _) = call(
        &http,
        Method::POST,
        &server.url("/logout"),
        bearer(&token).as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "every call gave up within its timeout"
    );

    // Back (moto keeps nothing across a restart): the service works again.
    let _moto = OwnMoto::start(port);
    create_tables(&client, &users, &sessions, &attempts)
        .await
        .unwrap();
    let (token, _) = login(&server, "down-and-up").await;
    let (status, _, _) = call(&http, Method::GET, &server.url("/me"), Some(&token), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn slow_store_times_out_into_503_and_deny() {
    // A "DynamoDB" that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let store = auth::config::StoreConfig {
        endpoint_url: None,
        timeout: Duration::from_millis(400),
    };
    let client = store.local_client(&format!("http://{addr}"));
    let gateway = local_api::app::gateway(
        DynamoUsers::new(client.clone(), "users"),
        DynamoSessions::new(client.clone(), "sessions"),
        DynamoAttempts::new(client, "attempts"),
        &test_config(),
    )
    .await
    .unwrap();
    let server = spawn(gateway).await;
    let http = reqwest::Client::new();
    let creds = json!({"username": "someone", "password": "correct horse battery"});
    let started = Instant::now();
    let (status, _, _) = call(
        &http,
        Method::POST,
        &server.url("/login"),
        None,
        Some(&creds),
    )
    .await;
    assert_eq!(status, 503);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let token = unlisted_token();
    let (status, _, _) = call(&http, Method::GET, &server.url("/me"), Some(&token), None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn throttling_is_503_and_deny() {
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    // DynamoDB's own throttling answer, parsed by the SDK as from the real service.
    let body = || {
        Some(
            json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": "The level of configured provisioned throughput for the table was exceeded."
            })
            .to_string(),
        )
    };
    let get = mock!(aws_sdk_dynamodb::Client::get_item)
        .sequence()
        .http_status(400, body())
        .repeatedly()
        .build();
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .sequence()
        .http_status(400, body())
        .repeatedly()
        .build();
    let batch = mock!(aws_sdk_dynamodb::Client::batch_get_item)
        .sequence()
        .http_status(400, body())
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get, &put, &batch]);

    let gateway = local_api::app::gateway(
        DynamoUsers::new(client.clone(), "users"),
        DynamoSessions::new(client.clone(), "sessions"),
        DynamoAttempts::new(client, "attempts"),
        &test_config(),
    )
    .await
    .unwrap();
    let server = spawn(gateway).await;
    let http = reqwest::Client::new();
    let creds = json!({"username": "someone", "password": "correct horse battery"});
    for path in ["/register", "/login"] {
        let (status, headers, body) =
            call(&http, Method::POST, &server.url(path), None, Some(&creds)).await;
        assert_eq!(
            (status, &body["error"]),
            (503, &json!("service_unavailable")),
            "{path}: {body}"
        );
        assert_eq!(headers["retry-after"], "1");
    }
    let refresh = json!({"refresh_token": auth::RefreshToken::generate().expose_secret()});
    let (status, headers, body) = call(
        &http,
        Method::POST,
        &server.url("/refresh"),
        None,
        Some(&refresh),
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (503, &json!("service_unavailable")),
        "{body}"
    );
    assert_eq!(headers["retry-after"], "1");
    let token = unlisted_token();
    let (status, _, _) = call(&http, Method::GET, &server.url("/me"), Some(&token), None).await;
    assert_eq!(status, 403, "a throttled whitelist read is a deny");
    assert!(get.num_calls() >= 2);
    assert!(batch.num_calls() >= 1);
}

/// 100 sessions (20 users × 5) log in at once; each token works until its own logout and is
/// refused after; no whitelist item is lost or left behind. (Five at once per user: the login
/// limiter checks at most five passwords per username at a time, however many arrive.)
///
/// On dynalite, not moto: five logins of one user race on the limiter's counter, and moto applies
/// a conditional update in steps (a count can be lost); it also serves the other tests of this
/// file at the same time, which on a slow machine pushed logins past the gateway's 29 s limit.
#[tokio::test]
async fn a_hundred_sessions_in_and_out_at_once() {
    let (gateway, tables) = common::dynalite_gateway_and_tables().await;
    let server = std::sync::Arc::new(spawn(gateway).await);
    let http = reqwest::Client::new();
    let names: Vec<String> = (0..20).map(|_| unique_username("crowd")).collect();
    for name in &names {
        let creds = json!({"username": name, "password": "correct horse battery staple"});
        assert_eq!(
            call(
                &http,
                Method::POST,
                &server.url("/register"),
                None,
                Some(&creds)
            )
            .await
            .0,
            201
        );
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let name = names[i % names.len()].clone();
        let server = server.clone();
        let http = http.clone();
        tasks.spawn(async move {
            let creds = json!({"username": name, "password": "correct horse battery staple"});
            let (status, _, body) = call(
                &http,
                Method::POST,
                &server.url("/login"),
                None,
                Some(&creds),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let token = body["access_token"].as_str().unwrap().to_owned();
            assert_eq!(
                call(&http, Method::GET, &server.url("/me"), Some(&token), None)
                    .await
                    .0,
                200
            );
            assert_eq!(
                call(
                    &http,
                    Method::POST,
                    &server.url("/logout"),
                    Some(&token),
                    None
                )
                .await
                .0,
                204
            );
            assert_eq!(
                call(&http, Method::GET, &server.url("/me"), Some(&token), None)
                    .await
                    .0,
                403
            );
            token
        });
    }
    let mut tokens = Vec::new();
    while let Some(result) = tokio::time::timeout(Duration::from_secs(240), tasks.join_next())
        .await
        .expect("bounded: 100 sessions within 4 minutes")
    {
        tokens.push(result.unwrap());
    }
    assert_eq!(tokens.len(), 100);
    let distinct: std::collections::HashSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), 100);
    // No session left behind in the whitelist (the rotated-out refresh token items stay until
    // their TTL; without a session they are refused).
    let left = tables
        .client
        .scan()
        .table_name(&tables.sessions_table)
        .filter_expression("attribute_exists(user_id)")
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .count;
    assert_eq!(left, 0);
    eprintln!("100 sessions in and out in {:?}", started.elapsed());
}
