//! Two-factor sign-in over HTTP through the local API Gateway, on the in-memory stores and on
//! DynamoDB (moto, the authorizer reading through the direct client as deployed): enrolment,
//! the two-step login, what the authorizer does with a challenge, replays, recovery codes, the
//! limiter, the session list, turning it off, races (dynalite), and store faults. Every answer
//! is checked against `openapi.yaml`.

mod common;

use std::sync::Arc;

use auth::mfa::TotpSecret;
use auth::mfa::totp::step_of;
use auth_testing::unique_username;
use common::{OpenApi, TestServer, call, dynamo_gateway, memory_gateway, spawn};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

async fn api(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let (status, _, body) = call(&client, method.clone(), &server.url(path), token, body).await;
    OpenApi::load().check(method.as_str(), path, status, &body);
    (status, body)
}

async fn register(server: &TestServer) -> String {
    let name = unique_username("mfa");
    let body = json!({"username": name, "password": PASSWORD});
    let (status, body) = api(server, Method::POST, "/register", None, Some(&body)).await;
    assert_eq!(status, 201, "{body}");
    name
}

async fn password_step(server: &TestServer, name: &str, password: &str) -> (u16, Value) {
    let body = json!({"username": name, "password": password});
    api(server, Method::POST, "/login", None, Some(&body)).await
}

async fn second_step(server: &TestServer, body: Value) -> (u16, Value) {
    api(server, Method::POST, "/login/mfa", None, Some(&body)).await
}

/// Logs in without a second factor: the access token.
async fn login(server: &TestServer, name: &str) -> String {
    let (status, body) = password_step(server, name, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("tokens").to_owned()
}

/// The password step of a user with TOTP on: the challenge.
async fn challenge(server: &TestServer, name: &str) -> String {
    let (status, body) = password_step(server, name, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mfa_required"], true, "{body}");
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());
    body["mfa_token"].as_str().unwrap().to_owned()
}

/// A code of `secret` for the step `offset` steps from now.
fn code(secret: &TotpSecret, offset: i64) -> String {
    secret
        .code_at_step(step_of(auth::clock::now()) + offset)
        .to_string()
}

/// Turns TOTP on for the holder of `access`: the secret and the recovery codes.
async fn enable(server: &TestServer, access: &str, name: &str) -> (TotpSecret, Vec<String>) {
    let (status, body) = api(server, Method::POST, "/mfa/totp", Some(access), None).await;
    assert_eq!(status, 200, "{body}");
    let secret = TotpSecret::from_base32(body["secret"].as_str().unwrap()).unwrap();
    let uri = body["otpauth_uri"].as_str().unwrap();
    assert!(uri.contains(&format!("secret={}", body["secret"].as_str().unwrap())));
    assert!(uri.contains(&format!(":{name}?")), "{uri}");
    assert!(uri.contains("algorithm=SHA1&digits=6&period=30"), "{uri}");

    let wrong = json!({"code": "000000"});
    let wrong = if secret.verify("000000", auth::clock::now(), None).is_some() {
        json!({"code": "999999"})
    } else {
        wrong
    };
    let (status, body) = api(
        server,
        Method::POST,
        "/mfa/totp/confirm",
        Some(access),
        Some(&wrong),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_code"))
    );
    let right = json!({"code": code(&secret, 0)});
    let (status, body) = api(
        server,
        Method::POST,
        "/mfa/totp/confirm",
        Some(access),
        Some(&right),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn sessions(server: &TestServer, access: &str) -> Vec<Value> {
    let (status, body) = api(server, Method::GET, "/sessions", Some(access), None).await;
    assert_eq!(status, 200, "{body}");
    body["sessions"].as_array().unwrap().clone()
}

async fn totp_end_to_end(server: TestServer) {
    let name = register(&server).await;
    let first = login(&server, &name).await;
    let (secret, recovery) = enable(&server, &first, &name).await;
    let (status, body) = api(&server, Method::POST, "/mfa/totp", Some(&first), None).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("mfa_state")));

    // A wrong password answers as for any account: nothing shows the second factor.
    let (status, body) = password_step(&server, &name, "wrong password").await;
    let (_, unknown) = password_step(&server, &unique_username("nobody"), "wrong password").await;
    assert_eq!((status, &body), (401, &unknown));

    // The challenge opens nothing at the edge.
    let token = challenge(&server, &name).await;
    for path in ["/me", "/sessions"] {
        let (status, _) = api(&server, Method::GET, path, Some(&token), None).await;
        assert_eq!(
            status, 403,
            "{path} with a challenge: the authorizer denies it"
        );
    }
    // Bad challenges, bad codes.
    let (status, body) = second_step(
        &server,
        json!({"mfa_token": "a.b.c", "code": code(&secret, 0)}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_mfa_token"))
    );
    let (status, body) = second_step(
        &server,
        json!({"mfa_token": first, "code": code(&secret, 0)}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_mfa_token")),
        "an access token is no challenge"
    );
    let (status, _) = second_step(
        &server,
        json!({"mfa_token": token, "code": code(&secret, 0), "recovery_code": recovery[0]}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = second_step(
        &server,
        json!({"mfa_token": token, "code": code(&secret, 5)}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_code")),
        "a far step"
    );

    // The right code (the next step: the confirmation used this one).
    let used = code(&secret, 1);
    let (status, body) = second_step(&server, json!({"mfa_token": token, "code": used})).await;
    assert_eq!(status, 200, "{body}");
    let second = body["access_token"].as_str().unwrap().to_owned();
    assert!(body["refresh_token"].is_string());
    assert_eq!(
        api(&server, Method::GET, "/me", Some(&second), None)
            .await
            .0,
        200
    );
    // Used: the challenge, and the code with a new challenge.
    let (status, body) = second_step(
        &server,
        json!({"mfa_token": token, "code": code(&secret, 0)}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_mfa_token"))
    );
    let token = challenge(&server, &name).await;
    let (status, body) = second_step(&server, json!({"mfa_token": token, "code": used})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_code")),
        "a replayed code"
    );

    // A recovery code, typed loosely; once only.
    let typed = recovery[3].to_uppercase().replace('-', " ");
    let (status, body) =
        second_step(&server, json!({"mfa_token": token, "recovery_code": typed})).await;
    assert_eq!(status, 200, "{body}");
    let third = body["access_token"].as_str().unwrap().to_owned();
    let token = challenge(&server, &name).await;
    let (status, body) = second_step(
        &server,
        json!({"mfa_token": token, "recovery_code": recovery[3]}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_code"))
    );

    // A newer password step replaces the older challenge.
    let newer = challenge(&server, &name).await;
    let (status, body) = second_step(
        &server,
        json!({"mfa_token": token, "recovery_code": recovery[4]}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_mfa_token"))
    );
    // The newer one works; its success forgives the failures counted so far.
    let (status, body) = second_step(
        &server,
        json!({"mfa_token": newer, "recovery_code": recovery[7]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The list tells which sessions passed a second factor.
    let listed = sessions(&server, &third).await;
    let mfa: Vec<bool> = listed.iter().map(|s| s["mfa"].as_bool().unwrap()).collect();
    assert_eq!(mfa, [true, true, true, false], "newest first");

    // Off: the password and a code; then logins are one step again.
    let off = |password: &str, code: &str| json!({"password": password, "code": code});
    let (status, body) = api(
        &server,
        Method::DELETE,
        "/mfa/totp",
        Some(&second),
        Some(&off("wrong password", &recovery[5])),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let (status, body) = api(
        &server,
        Method::DELETE,
        "/mfa/totp",
        Some(&second),
        Some(&off(PASSWORD, &recovery[3])),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_code")),
        "a used recovery code"
    );
    let (status, body) = api(
        &server,
        Method::DELETE,
        "/mfa/totp",
        Some(&second),
        Some(&off(PASSWORD, &recovery[5])),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = api(
        &server,
        Method::DELETE,
        "/mfa/totp",
        Some(&second),
        Some(&off(PASSWORD, &recovery[6])),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (409, Some("mfa_state")));
    let fourth = login(&server, &name).await;
    assert_eq!(
        api(&server, Method::GET, "/me", Some(&fourth), None)
            .await
            .0,
        200
    );
    // The sessions opened with the factor stay.
    assert_eq!(
        api(&server, Method::GET, "/me", Some(&second), None)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn totp_end_to_end_in_memory() {
    totp_end_to_end(spawn(memory_gateway().await).await).await;
}

#[tokio::test]
async fn totp_end_to_end_on_dynamodb() {
    totp_end_to_end(spawn(dynamo_gateway().await).await).await;
}

/// Wrong codes count with the password step on the username's counter, and lock it.
async fn codes_count_in_the_limiter(server: TestServer) {
    let name = register(&server).await;
    let access = login(&server, &name).await;
    let (secret, _) = enable(&server, &access, &name).await;
    let token = challenge(&server, &name).await;
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| secret.verify(c, auth::clock::now(), None).is_none())
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (status, _) = second_step(&server, json!({"mfa_token": token, "code": wrong})).await;
        statuses.push(status);
    }
    // The password step counted once, four wrong codes make five: locked.
    assert_eq!(statuses, [401, 401, 401, 401, 429]);
    let (status, _) = second_step(
        &server,
        json!({"mfa_token": token, "code": code(&secret, 1)}),
    )
    .await;
    assert_eq!(status, 429, "the right code waits for the lock too");
    let (status, _) = password_step(&server, &name, PASSWORD).await;
    assert_eq!(status, 429, "and so does the password");
}

#[tokio::test]
async fn codes_count_in_the_limiter_in_memory() {
    codes_count_in_the_limiter(spawn(memory_gateway().await).await).await;
}

#[tokio::test]
async fn codes_count_in_the_limiter_on_dynamodb() {
    codes_count_in_the_limiter(spawn(dynamo_gateway().await).await).await;
}

/// Browsers: the second step delivers the refresh token as a cookie, as login does.
#[tokio::test]
async fn the_second_step_delivers_a_cookie() {
    let server = spawn(memory_gateway().await).await;
    let name = register(&server).await;
    let access = login(&server, &name).await;
    let (secret, _) = enable(&server, &access, &name).await;
    let token = challenge(&server, &name).await;
    let client = reqwest::Client::new();
    let (status, headers, body) = common::answer(
        client
            .post(server.url("/login/mfa"))
            .header("token-delivery", "cookie")
            .json(&json!({"mfa_token": token, "code": code(&secret, 1)})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none());
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Secure-refresh_token=") && cookie.contains("HttpOnly"));
}

/// Four second steps with one challenge and one code at once (a TOTP code, then a recovery
/// code): one session, three refusals. Four, so that with the password step they stay within
/// the limiter's five attempts: each racer is counted before its code is looked at.
async fn one_code_one_session(server: TestServer) {
    let server = Arc::new(server);
    for round in 0..2 {
        let name = register(&server).await;
        let access = login(&server, &name).await;
        let (secret, recovery) = enable(&server, &access, &name).await;
        let token = challenge(&server, &name).await;
        let mut body = if round == 0 {
            json!({"code": code(&secret, 1)})
        } else {
            json!({"recovery_code": recovery[0]})
        };
        body["mfa_token"] = json!(token);
        let mut racers = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let (server, body) = (server.clone(), body.clone());
            racers.spawn(async move { second_step(&server, body).await.0 });
        }
        let mut statuses = racers.join_all().await;
        statuses.sort();
        assert_eq!(statuses, [200, 401, 401, 401], "round {round}");
        // Two sessions: the first login's and the winner's.
        assert_eq!(sessions(&server, &access).await.len(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_code_one_session_in_memory() {
    one_code_one_session(spawn(memory_gateway().await).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_code_one_session_on_dynalite() {
    let (gateway, _tables) = common::dynalite_gateway_and_tables().await;
    one_code_one_session(spawn(gateway).await).await;
}

/// The write that accepts a code failing (a 5xx, throttling): 503, no session, and the
/// challenge and the code still work once the store is back.
#[tokio::test]
async fn a_failed_acceptance_is_a_503_and_opens_nothing() {
    let tables = auth_testing::TestTables::create().await;
    let is_acceptance = |target: &str, body: &[u8]| {
        target.ends_with(".UpdateItem")
            && String::from_utf8_lossy(body).contains("REMOVE mfa_challenge")
    };
    let faults = [
        (
            500,
            json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "Internal server error"}),
        ),
        (
            400,
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "Rate exceeded"}),
        ),
    ];
    for (status, fault) in faults {
        let failing = common::failing_proxy(&tables, is_acceptance, status, fault, false).await;
        let broken = spawn(
            local_api::app::gateway_with_readers(
                auth_sdk::store::DynamoUsers::new(failing.clone(), &tables.users_table),
                auth_sdk::store::DynamoSessions::new(failing.clone(), &tables.sessions_table),
                auth_sdk::store::DynamoAttempts::new(failing, &tables.attempts_table),
                (tables.direct_users(), tables.direct_sessions()),
                &auth_testing::test_config(),
            )
            .await
            .unwrap(),
        )
        .await;
        let name = register(&broken).await;
        let access = login(&broken, &name).await;
        let (secret, _) = enable(&broken, &access, &name).await;
        let token = challenge(&broken, &name).await;
        let body = json!({"mfa_token": token, "code": code(&secret, 1)});
        let (status, answer) = second_step(&broken, body.clone()).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (503, Some("service_unavailable")),
            "{answer}"
        );
        assert_eq!(
            sessions(&broken, &access).await.len(),
            1,
            "no session opened"
        );

        // The same tables through a healthy client: the challenge and code were not used.
        let healthy = spawn(common::gateway_for(&tables).await).await;
        let (status, answer) = second_step(&healthy, body).await;
        assert_eq!(status, 200, "{answer}");
    }
}

/// The mfa handler with the store down (called directly, as the Lambda would be): 503.
#[tokio::test]
async fn an_unreachable_store_is_a_503() {
    use auth_edge::Function as _;
    use auth_testing::{event, request, response_json, unreachable_client, with_caller};
    let client = unreachable_client();
    let handler = mfa::Handler::new(
        auth_sdk::store::DynamoUsers::new(client.clone(), "users"),
        auth_sdk::store::DynamoSessions::new(client.clone(), "sessions"),
        auth_sdk::store::DynamoAttempts::new(client, "attempts"),
        auth_testing::hasher(),
        auth_testing::mfa_keys(),
        "Test".into(),
    );
    for file in ["mfa-enrol.json", "mfa-confirm.json", "mfa-disable.json"] {
        let req = with_caller(
            event(file),
            auth::UserId::generate().as_str(),
            "sample-user",
            auth::SessionId::generate().as_str(),
        );
        let (status, body) = response_json(&handler.handle(request(&req)).await);
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("service_unavailable")),
            "{file}"
        );
    }
}

/// The operator's reset, and what an operator's disable does to a sign-in half-way.
async fn operator_reset(gateway: local_api::gateway::Gateway) {
    let admin = spawn(gateway.admin()).await;
    let server = spawn(gateway).await;
    let operator = |method: Method, name: &str, action: &str| {
        let (path, documented) = (
            format!("/admin/users/{name}/{action}"),
            format!("/admin/users/{{username}}/{action}"),
        );
        let url = admin.url(&path);
        async move {
            let (status, _, body) =
                call(&reqwest::Client::new(), method.clone(), &url, None, None).await;
            OpenApi::load().check(method.as_str(), &documented, status, &body);
            (status, body)
        }
    };
    let name = register(&server).await;
    let access = login(&server, &name).await;
    let (secret, _) = enable(&server, &access, &name).await;
    let (status, view) = operator(Method::GET, &name, "sessions").await;
    assert_eq!((status, &view["mfa"]), (200, &json!(true)));

    // A disable, then an enable, with a sign-in half-way: its challenge is gone.
    let token = challenge(&server, &name).await;
    assert_eq!(operator(Method::POST, &name, "disable").await.0, 204);
    assert_eq!(operator(Method::POST, &name, "enable").await.0, 204);
    let (status, body) = second_step(
        &server,
        json!({"mfa_token": token, "code": code(&secret, 1)}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_mfa_token"))
    );

    // The reset: off, the outstanding challenge gone; the password alone signs in again.
    let token = challenge(&server, &name).await;
    assert_eq!(operator(Method::DELETE, &name, "mfa").await.0, 204);
    let (status, view) = operator(Method::GET, &name, "sessions").await;
    assert_eq!((status, &view["mfa"]), (200, &json!(false)));
    let (status, body) = second_step(
        &server,
        json!({"mfa_token": token, "code": code(&secret, 1)}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_mfa_token"))
    );
    login(&server, &name).await;
    assert_eq!(
        operator(Method::DELETE, &name, "mfa").await.0,
        204,
        "idempotent"
    );
    let (status, body) = operator(Method::DELETE, "nobody-at-all", "mfa").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("user_not_found"))
    );
}

#[tokio::test]
async fn operator_reset_in_memory() {
    operator_reset(memory_gateway().await).await;
}

#[tokio::test]
async fn operator_reset_on_dynamodb() {
    operator_reset(dynamo_gateway().await).await;
}
