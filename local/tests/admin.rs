//! The operator routes (`/admin/users/{username}/…`) over HTTP: served only by the admin
//! gateway (the local server's 127.0.0.1 admin listener; IAM in AWS), never by the API's; what
//! logout-all, disable and enable do to every token at the edge and to logins; and a disable
//! racing logins. On the in-memory stores and on DynamoDB (moto; the race on dynalite).

mod common;

use std::sync::Arc;

use auth_testing::unique_username;
use common::{OpenApi, TestServer, call, spawn};
use local_api::gateway::Gateway;
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// The API and its admin listener over the same stores.
struct Servers {
    api: TestServer,
    admin: TestServer,
}

async fn servers(gateway: Gateway) -> Servers {
    let admin = spawn(gateway.admin()).await;
    Servers {
        api: spawn(gateway).await,
        admin,
    }
}

async fn request(
    server: &TestServer,
    method: Method,
    path: &str,
    documented: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let (status, _, body) = call(
        &reqwest::Client::new(),
        method.clone(),
        &server.url(path),
        token,
        body,
    )
    .await;
    OpenApi::load().check(method.as_str(), documented, status, &body);
    (status, body)
}

async fn admin(s: &Servers, method: Method, name: &str, action: &str) -> (u16, Value) {
    let path = format!("/admin/users/{name}/{action}");
    let documented = format!("/admin/users/{{username}}/{action}");
    request(&s.admin, method, &path, &documented, None, None).await
}

async fn register(s: &Servers) -> String {
    let name = unique_username("adm");
    let body = json!({"username": name, "password": PASSWORD});
    let (status, _) = request(
        &s.api,
        Method::POST,
        "/register",
        "/register",
        None,
        Some(&body),
    )
    .await;
    assert_eq!(status, 201);
    name
}

/// (status, body) of a login; the tokens on success.
async fn login(s: &Servers, name: &str, password: &str) -> (u16, Value) {
    let body = json!({"username": name, "password": password});
    request(&s.api, Method::POST, "/login", "/login", None, Some(&body)).await
}

async fn tokens(s: &Servers, name: &str) -> (String, String) {
    let (status, body) = login(s, name, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn me(s: &Servers, access: &str) -> u16 {
    request(&s.api, Method::GET, "/me", "/me", Some(access), None)
        .await
        .0
}

async fn refresh(s: &Servers, token: &str) -> u16 {
    let body = json!({ "refresh_token": token });
    request(
        &s.api,
        Method::POST,
        "/refresh",
        "/refresh",
        None,
        Some(&body),
    )
    .await
    .0
}

async fn operator_routes(s: Servers) {
    let name = register(&s).await;
    let (access, refresh_token) = tokens(&s, &name).await;
    let (other_access, _) = tokens(&s, &name).await;

    // Not on the API's listener, with or without a user's token; the API's routes are not on
    // the admin listener.
    for token in [None, Some(access.as_str())] {
        let path = format!("/admin/users/{name}/disable");
        let (status, _, body) = call(
            &reqwest::Client::new(),
            Method::POST,
            &s.api.url(&path),
            token,
            None,
        )
        .await;
        assert_eq!((status, body), (404, json!({"message": "Not Found"})));
    }
    let (status, _, _) = call(
        &reqwest::Client::new(),
        Method::GET,
        &s.admin.url("/me"),
        Some(&access),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Browsers are kept out of the admin listener: any web page's request carries an Origin,
    // and a DNS-rebinding page a Host that is not a loopback name.
    let disable = s.admin.url(&format!("/admin/users/{name}/disable"));
    let http = reqwest::Client::new();
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("host", "evil.example:3001"),
    ] {
        let (status, _, body) = common::answer(http.post(&disable).header(header, value)).await;
        assert_eq!(
            (status, body),
            (403, json!({"message": "Forbidden"})),
            "{header}"
        );
    }
    assert_eq!(me(&s, &access).await, 200);

    // The account and its two sessions.
    let (status, view) = admin(&s, Method::GET, &name, "sessions").await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["username"].as_str(), view["disabled"].as_bool()),
        (Some(name.as_str()), Some(false))
    );
    assert_eq!(view["sessions"].as_array().unwrap().len(), 2);

    // Disable: every token is denied at once, refresh refused, and login answers exactly as
    // for a wrong password.
    assert_eq!(admin(&s, Method::POST, &name, "disable").await.0, 204);
    assert_eq!(me(&s, &access).await, 403);
    assert_eq!(me(&s, &other_access).await, 403);
    assert_eq!(refresh(&s, &refresh_token).await, 401);
    let (status, refused) = login(&s, &name, PASSWORD).await;
    let (_, wrong) = login(&s, &name, "not the password").await;
    assert_eq!(status, 401);
    assert_eq!(refused, wrong);
    let (_, view) = admin(&s, Method::GET, &name, "sessions").await;
    assert_eq!(
        (
            view["disabled"].as_bool(),
            view["sessions"].as_array().map(Vec::len)
        ),
        (Some(true), Some(0))
    );
    assert_eq!(admin(&s, Method::POST, &name, "disable").await.0, 204);

    // Enable: logins work again; the ended sessions stay ended.
    assert_eq!(admin(&s, Method::POST, &name, "enable").await.0, 204);
    assert_eq!(admin(&s, Method::POST, &name, "enable").await.0, 204);
    let (fresh, _) = tokens(&s, &name).await;
    assert_eq!(me(&s, &fresh).await, 200);
    assert_eq!(me(&s, &access).await, 403);

    // Sign out everywhere, as an operator.
    let (second, _) = tokens(&s, &name).await;
    assert_eq!(admin(&s, Method::POST, &name, "logout-all").await.0, 204);
    assert_eq!(me(&s, &fresh).await, 403);
    assert_eq!(me(&s, &second).await, 403);
    let (after, _) = tokens(&s, &name).await;
    assert_eq!(me(&s, &after).await, 200);

    // A disabled account's logins count as failures, right password or not: the lock comes
    // after five, as for wrong passwords.
    let locked = register(&s).await;
    assert_eq!(admin(&s, Method::POST, &locked, "disable").await.0, 204);
    for _ in 0..5 {
        assert_eq!(login(&s, &locked, PASSWORD).await.0, 401);
    }
    let (status, body) = login(&s, &locked, PASSWORD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_requests"))
    );

    // Unknown and impossible usernames.
    let (status, body) = admin(&s, Method::POST, "nobody-at-all", "disable").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("user_not_found"))
    );
    let (status, body) = admin(&s, Method::GET, "no", "sessions").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn operator_routes_in_memory() {
    operator_routes(servers(common::memory_gateway().await).await).await;
}

#[tokio::test]
async fn operator_routes_on_dynamodb() {
    operator_routes(servers(common::dynamo_gateway().await).await).await;
}

/// Logins racing a disable over HTTP: afterwards no racer's token opens anything.
async fn disable_racing_logins(s: Servers) {
    let name = register(&s).await;
    let s = Arc::new(s);
    let racers: Vec<_> = (0..5)
        .map(|_| {
            let s = s.clone();
            let name = name.clone();
            tokio::spawn(async move {
                let (status, body) = login(&s, &name, PASSWORD).await;
                (status == 200).then(|| body["access_token"].as_str().unwrap().to_owned())
            })
        })
        .collect();
    assert_eq!(admin(&s, Method::POST, &name, "disable").await.0, 204);
    for racer in racers {
        if let Some(access) = racer.await.unwrap() {
            assert_eq!(me(&s, &access).await, 403, "a login survived the disable");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disable_racing_logins_in_memory() {
    disable_racing_logins(servers(common::memory_gateway().await).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disable_racing_logins_on_dynalite() {
    disable_racing_logins(servers(common::dynalite_gateway_and_tables().await.0).await).await;
}
