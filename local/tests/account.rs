//! Changing the password (`POST /password`) and deleting the account (`DELETE /me`) over HTTP
//! through the local API Gateway, on the in-memory stores and on DynamoDB (moto, with the
//! authorizer reading through the direct client as deployed): what happens to every token at
//! the edge, the limiter, the refusals, and the races with logins and refreshes. Every answer is
//! checked against `openapi.yaml`.

mod common;

use std::sync::Arc;

use auth_testing::unique_username;
use common::{OpenApi, TestServer, call, dynamo_gateway, memory_gateway, spawn};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a quite different passphrase";

/// A request whose answer must match `openapi.yaml`: (status, headers, body).
async fn api(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let client = reqwest::Client::new();
    let (status, headers, body) =
        call(&client, method.clone(), &server.url(path), token, body).await;
    OpenApi::load().check(method.as_str(), path, status, &body);
    (status, headers, body)
}

struct Tokens {
    access: String,
    refresh: String,
}

async fn register(server: &TestServer) -> String {
    let name = unique_username("acct");
    let (status, _, body) = api(
        server,
        Method::POST,
        "/register",
        None,
        Some(&json!({"username": name, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    name
}

async fn try_login(server: &TestServer, name: &str, password: &str) -> Result<Tokens, u16> {
    let (status, _, body) = api(
        server,
        Method::POST,
        "/login",
        None,
        Some(&json!({"username": name, "password": password})),
    )
    .await;
    if status != 200 {
        return Err(status);
    }
    Ok(Tokens {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
    })
}

async fn login(server: &TestServer, name: &str) -> Tokens {
    try_login(server, name, PASSWORD).await.unwrap()
}

async fn me(server: &TestServer, access: &str) -> u16 {
    api(server, Method::GET, "/me", Some(access), None).await.0
}

async fn refresh(server: &TestServer, refresh_token: &str) -> u16 {
    let body = json!({ "refresh_token": refresh_token });
    api(server, Method::POST, "/refresh", None, Some(&body))
        .await
        .0
}

async fn change(server: &TestServer, access: &str, current: &str, new: &str) -> (u16, Value) {
    let body = json!({"current_password": current, "new_password": new});
    let (status, _, body) = api(server, Method::POST, "/password", Some(access), Some(&body)).await;
    (status, body)
}

async fn delete(
    server: &TestServer,
    access: &str,
    password: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let body = json!({ "password": password });
    api(server, Method::DELETE, "/me", Some(access), Some(&body)).await
}

async fn change_password_ends_the_other_sessions(server: TestServer) {
    let name = register(&server).await;
    let mine = login(&server, &name).await;
    let other = login(&server, &name).await;

    // Refusals change nothing.
    let (status, body) = change(&server, &mine.access, "wrong password", NEW_PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let (status, body) = change(&server, &mine.access, PASSWORD, PASSWORD).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "new_password");
    let (status, body) = change(&server, &mine.access, PASSWORD, "short").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("new_password"))
    );
    let (status, body) = change(&server, &mine.access, PASSWORD, "password").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("new_password"))
    );
    let extra = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "x": 1});
    let (status, _, _) = api(
        &server,
        Method::POST,
        "/password",
        Some(&mine.access),
        Some(&extra),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = api(&server, Method::POST, "/password", None, Some(&extra)).await;
    assert_eq!(status, 401);
    assert_eq!(me(&server, &other.access).await, 200);

    let (status, body) = change(&server, &mine.access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 204, "{body}");
    // The other session is over at the edge and cannot be refreshed; this one goes on, and
    // so does its refresh token.
    assert_eq!(me(&server, &other.access).await, 403);
    assert_eq!(refresh(&server, &other.refresh).await, 401);
    assert_eq!(me(&server, &mine.access).await, 200);
    assert_eq!(refresh(&server, &mine.refresh).await, 200);
    // The old password no longer opens a session; the new one does.
    assert_eq!(try_login(&server, &name, PASSWORD).await.err(), Some(401));
    let after = try_login(&server, &name, NEW_PASSWORD).await.unwrap();
    assert_eq!(me(&server, &after.access).await, 200);
    // Twice in a row: the "current" password is now the new one.
    let (status, _) = change(&server, &mine.access, NEW_PASSWORD, PASSWORD).await;
    assert_eq!(status, 204);
    assert_eq!(me(&server, &after.access).await, 403);
    assert_eq!(me(&server, &mine.access).await, 200);
}

#[tokio::test]
async fn change_password_ends_the_other_sessions_in_memory() {
    change_password_ends_the_other_sessions(spawn(memory_gateway().await).await).await;
}

#[tokio::test]
async fn change_password_ends_the_other_sessions_on_dynamodb() {
    change_password_ends_the_other_sessions(spawn(dynamo_gateway().await).await).await;
}

/// Wrong passwords on `POST /password` and `DELETE /me` count with failed logins: after five,
/// all three are locked (429 with `Retry-After`), the right password included.
async fn wrong_passwords_count_in_the_limiter(server: TestServer) {
    let name = register(&server).await;
    let tokens = login(&server, &name).await;
    for i in 0..5 {
        let status = if i % 2 == 0 {
            change(&server, &tokens.access, "wrong password", NEW_PASSWORD)
                .await
                .0
        } else {
            delete(&server, &tokens.access, "wrong password").await.0
        };
        assert_eq!(status, 401);
    }
    let (status, body) = change(&server, &tokens.access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_requests"))
    );
    let (status, headers, _) = delete(&server, &tokens.access, PASSWORD).await;
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
    assert_eq!(try_login(&server, &name, PASSWORD).await.err(), Some(429));
    // Nothing changed meanwhile.
    assert_eq!(me(&server, &tokens.access).await, 200);
}

#[tokio::test]
async fn wrong_passwords_count_in_the_limiter_in_memory() {
    wrong_passwords_count_in_the_limiter(spawn(memory_gateway().await).await).await;
}

#[tokio::test]
async fn wrong_passwords_count_in_the_limiter_on_dynamodb() {
    wrong_passwords_count_in_the_limiter(spawn(dynamo_gateway().await).await).await;
}

async fn delete_account_ends_everything(server: TestServer) {
    let name = register(&server).await;
    let mine = login(&server, &name).await;
    let other = login(&server, &name).await;
    let (_, _, before) = api(&server, Method::GET, "/me", Some(&mine.access), None).await;

    let (status, _, body) = delete(&server, &mine.access, "wrong password").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let (status, _, _) = api(
        &server,
        Method::DELETE,
        "/me",
        Some(&mine.access),
        Some(&json!({})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(me(&server, &other.access).await, 200);

    let (status, headers, body) = delete(&server, &mine.access, PASSWORD).await;
    assert_eq!(status, 204, "{body}");
    let cleared = headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    for tokens in [&mine, &other] {
        assert_eq!(me(&server, &tokens.access).await, 403);
        assert_eq!(refresh(&server, &tokens.refresh).await, 401);
        let (status, _, _) = api(
            &server,
            Method::GET,
            "/sessions",
            Some(&tokens.access),
            None,
        )
        .await;
        assert_eq!(status, 403);
    }
    assert_eq!(try_login(&server, &name, PASSWORD).await.err(), Some(401));
    // Deleting again with the ended session's token: denied at the edge.
    assert_eq!(delete(&server, &mine.access, PASSWORD).await.0, 403);

    // The name is free again, for a new account that no old token reaches.
    let (status, _, again) = api(
        &server,
        Method::POST,
        "/register",
        None,
        Some(&json!({"username": name, "password": NEW_PASSWORD})),
    )
    .await;
    assert_eq!(status, 201);
    assert_ne!(again["user_id"], before["user_id"]);
    let fresh = try_login(&server, &name, NEW_PASSWORD).await.unwrap();
    assert_eq!(me(&server, &fresh.access).await, 200);
    assert_eq!(me(&server, &mine.access).await, 403);
    assert_eq!(refresh(&server, &other.refresh).await, 401);
}

#[tokio::test]
async fn delete_account_ends_everything_in_memory() {
    delete_account_ends_everything(spawn(memory_gateway().await).await).await;
}

#[tokio::test]
async fn delete_account_ends_everything_on_dynamodb() {
    delete_account_ends_everything(spawn(dynamo_gateway().await).await).await;
}

/// Logins with the old password and refreshes of other sessions racing a password change:
/// afterwards only the caller's session and logins with the new password work. Every racer
/// either was refused or holds tokens the edge denies.
async fn password_change_racing_logins_and_refreshes(server: TestServer) {
    let name = register(&server).await;
    let mine = login(&server, &name).await;
    let others: Vec<Tokens> = one_after_another(4, |_| login(&server, &name)).await;
    let server = Arc::new(server);
    let racers: Vec<_> = (0..6)
        .map(|i| {
            let server = server.clone();
            let name = name.clone();
            let refresh_token = others[i % others.len()].refresh.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    try_login(&server, &name, PASSWORD)
                        .await
                        .ok()
                        .map(|t| t.access)
                } else {
                    let body = json!({ "refresh_token": refresh_token });
                    let (status, _, body) =
                        api(&server, Method::POST, "/refresh", None, Some(&body)).await;
                    (status == 200).then(|| body["access_token"].as_str().unwrap().to_owned())
                }
            })
        })
        .collect();
    let (status, body) = change(&server, &mine.access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 204, "{body}");
    for racer in racers {
        if let Some(access) = racer.await.unwrap() {
            assert_eq!(
                me(&server, &access).await,
                403,
                "a racer's session survived"
            );
        }
    }
    for other in &others {
        assert_eq!(me(&server, &other.access).await, 403);
    }
    assert_eq!(me(&server, &mine.access).await, 200);
}

/// A deletion racing logins and refreshes: afterwards no token of the account opens anything.
async fn delete_racing_logins_and_refreshes(server: TestServer) {
    let name = register(&server).await;
    let mine = login(&server, &name).await;
    let others: Vec<Tokens> = one_after_another(3, |_| login(&server, &name)).await;
    let server = Arc::new(server);
    let racers: Vec<_> = (0..6)
        .map(|i| {
            let server = server.clone();
            let name = name.clone();
            let refresh_token = others[i % others.len()].refresh.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    try_login(&server, &name, PASSWORD)
                        .await
                        .ok()
                        .map(|t| (t.access, t.refresh))
                } else {
                    let body = json!({ "refresh_token": refresh_token });
                    let (status, _, body) =
                        api(&server, Method::POST, "/refresh", None, Some(&body)).await;
                    (status == 200).then(|| {
                        (
                            body["access_token"].as_str().unwrap().to_owned(),
                            body["refresh_token"].as_str().unwrap().to_owned(),
                        )
                    })
                }
            })
        })
        .collect();
    let (status, _, body) = delete(&server, &mine.access, PASSWORD).await;
    assert_eq!(status, 204, "{body}");
    for racer in racers {
        if let Some((access, refresh_token)) = racer.await.unwrap() {
            assert_eq!(
                me(&server, &access).await,
                403,
                "a racer's session survived"
            );
            assert_eq!(refresh(&server, &refresh_token).await, 401);
        }
    }
    for tokens in others.iter().chain([&mine]) {
        assert_eq!(me(&server, &tokens.access).await, 403);
    }
}

/// `n` calls of `f`, one after another.
async fn one_after_another<T, F: std::future::Future<Output = T>>(
    n: usize,
    f: impl Fn(usize) -> F,
) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(f(i).await);
    }
    out
}

// In memory only: dynalite (the race tests' engine with atomic writes) has no transactions, and
// moto's writes are not atomic under concurrency (docs/operations.md, Tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_change_racing_logins_and_refreshes_in_memory() {
    password_change_racing_logins_and_refreshes(spawn(memory_gateway().await).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delete_racing_logins_and_refreshes_in_memory() {
    delete_racing_logins_and_refreshes(spawn(memory_gateway().await).await).await;
}

/// A DynamoDB client whose `TransactWriteItems` calls fail with `status` and `body` (see
/// [`common::failing_proxy`]); with `applied`, moto applies them first.
async fn failing_transactions(
    tables: &auth_testing::TestTables,
    status: u16,
    body: serde_json::Value,
    applied: bool,
) -> aws_sdk_dynamodb::Client {
    let is_transaction = |target: &str, _: &[u8]| target.ends_with(".TransactWriteItems");
    common::failing_proxy(tables, is_transaction, status, body, applied).await
}

/// The two ways a transaction fails that a retry may fix: a 5xx, and DynamoDB's throttling as
/// it reports it inside a transaction (a cancellation whose reason is `ThrottlingError`).
fn transaction_faults() -> [(u16, Value); 2] {
    [
        (
            500,
            json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                   "message": "Internal server error"}),
        ),
        (
            400,
            json!({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                   "message": "Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError, None, None]",
                   "CancellationReasons": [
                       {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity for one or more global secondary indexes."},
                       {"Code": "None"}, {"Code": "None"}]}),
        ),
    ]
}

/// A transaction that fails (5xx, throttled) is a 503 and changes nothing: the password stays,
/// every session stays, the account stays; the service then works on a healthy client.
#[tokio::test]
async fn a_failed_transaction_is_a_503_and_changes_nothing() {
    for (status, body) in transaction_faults() {
        let tables = auth_testing::TestTables::create().await;
        let client = failing_transactions(&tables, status, body, false).await;
        let gateway = local_api::app::gateway_with_readers(
            auth_sdk::store::DynamoUsers::new(client.clone(), &tables.users_table),
            auth_sdk::store::DynamoSessions::new(client.clone(), &tables.sessions_table),
            auth_sdk::store::DynamoAttempts::new(client, &tables.attempts_table),
            (tables.direct_users(), tables.direct_sessions()),
            &auth_testing::test_config(),
        )
        .await
        .unwrap();
        let server = spawn(gateway).await;
        let name = register(&server).await;
        let mine = login(&server, &name).await;
        let other = login(&server, &name).await;

        let (status, body) = change(&server, &mine.access, PASSWORD, NEW_PASSWORD).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("service_unavailable")),
            "{body}"
        );
        let (status, headers, body) = delete(&server, &mine.access, PASSWORD).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("service_unavailable")),
            "{body}"
        );
        assert!(headers.contains_key("retry-after"));

        for tokens in [&mine, &other] {
            assert_eq!(me(&server, &tokens.access).await, 200);
        }
        assert_eq!(refresh(&server, &other.refresh).await, 200);
        assert!(try_login(&server, &name, PASSWORD).await.is_ok());
        assert_eq!(
            try_login(&server, &name, NEW_PASSWORD).await.err(),
            Some(401)
        );
    }
}

/// The store down after the authorizer let the call in (handlers called directly, as the
/// Lambda would be): a 503, never a change.
#[tokio::test]
async fn an_unreachable_store_is_a_503() {
    use auth_edge::Function as _;
    use auth_testing::{event, request, response_json, unreachable_client, with_caller};
    let client = unreachable_client();
    let users = auth_sdk::store::DynamoUsers::new(client.clone(), "users");
    let sessions = auth_sdk::store::DynamoSessions::new(client.clone(), "sessions");
    let attempts = auth_sdk::store::DynamoAttempts::new(client, "attempts");
    let accounts = auth::store::AccountsOver::accounts(&users, &sessions);
    let caller = |file: &str| {
        with_caller(
            event(file),
            auth::UserId::generate().as_str(),
            "sample-user",
            auth::SessionId::generate().as_str(),
        )
    };
    let change = change_password::Handler::new(
        users.clone(),
        sessions.clone(),
        attempts.clone(),
        accounts.clone(),
        auth_testing::hasher(),
    );
    let (status, body) = response_json(
        &change
            .handle(request(&caller("change-password.json")))
            .await,
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("service_unavailable"))
    );
    let delete =
        delete_account::Handler::new(users, sessions, attempts, accounts, auth_testing::hasher());
    let (status, body) =
        response_json(&delete.handle(request(&caller("delete-account.json"))).await);
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("service_unavailable"))
    );
}

/// A transaction that DynamoDB applied although the call failed (a time-out after the write):
/// the handlers read the account again and answer 204, and the change holds.
#[tokio::test]
async fn an_applied_transaction_whose_call_failed_is_settled_by_reading_the_account() {
    let (status, body) = transaction_faults()[0].clone();
    let tables = auth_testing::TestTables::create().await;
    let client = failing_transactions(&tables, status, body, true).await;
    let gateway = local_api::app::gateway_with_readers(
        auth_sdk::store::DynamoUsers::new(client.clone(), &tables.users_table),
        auth_sdk::store::DynamoSessions::new(client.clone(), &tables.sessions_table),
        auth_sdk::store::DynamoAttempts::new(client, &tables.attempts_table),
        (tables.direct_users(), tables.direct_sessions()),
        &auth_testing::test_config(),
    )
    .await
    .unwrap();
    let server = spawn(gateway).await;
    let name = register(&server).await;
    let mine = login(&server, &name).await;
    let other = login(&server, &name).await;

    let (status, body) = change(&server, &mine.access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(me(&server, &mine.access).await, 200);
    assert_eq!(me(&server, &other.access).await, 403);
    assert_eq!(try_login(&server, &name, PASSWORD).await.err(), Some(401));

    let (status, _, body) = delete(&server, &mine.access, NEW_PASSWORD).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(me(&server, &mine.access).await, 403);
    assert_eq!(
        try_login(&server, &name, NEW_PASSWORD).await.err(),
        Some(401)
    );
}
