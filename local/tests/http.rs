//! End-to-end over real HTTP on 127.0.0.1 (port 0): the full flow against the in-memory store
//! and against DynamoDB on moto, every gateway behaviour, and every answer checked against
//! `openapi.yaml`.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_testing::unique_username;
use common::{OpenApi, TestServer, call, spawn};
use local_api::gateway::{AuthorizerFunction, Gateway, HttpFunction};
use reqwest::Method;
use serde_json::{Value, json};

/// Calls the server and checks the answer against openapi.yaml.
async fn api(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let (status, headers, json) =
        call(&client, method.clone(), &server.url(path), token, body).await;
    assert!(headers.contains_key("apigw-requestid"));
    OpenApi::load().check(method.as_str(), path, status, &json);
    (status, json)
}

async fn full_flow(server: TestServer) {
    let name = unique_username("Flow");
    let creds = json!({"username": name, "password": "correct horse battery staple"});

    let (status, registered) = api(&server, Method::POST, "/register", None, Some(&creds)).await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(
        api(&server, Method::POST, "/register", None, Some(&creds))
            .await
            .0,
        409
    );

    let (status, login) = api(&server, Method::POST, "/login", None, Some(&creds)).await;
    assert_eq!(status, 200, "{login}");
    let token = login["access_token"].as_str().unwrap().to_owned();

    let (status, me) = api(&server, Method::GET, "/me", Some(&token), None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user_id"], registered["user_id"]);
    assert_eq!(me["username"], name.to_lowercase());

    // The example route of your own: the caller, from the authorizer's context; nobody without
    // a token.
    let (status, hello) = api(&server, Method::GET, "/hello", Some(&token), None).await;
    assert_eq!(status, 200, "{hello}");
    assert_eq!(hello["user_id"], registered["user_id"]);
    assert_eq!(hello["message"], format!("Hello, {}", name.to_lowercase()));
    assert_eq!(
        api(&server, Method::GET, "/hello", None, None).await,
        (401, json!({"message": "Unauthorized"}))
    );

    // A second session, independent of the first.
    let (_, second) = api(&server, Method::POST, "/login", None, Some(&creds)).await;
    let second = second["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second, token);

    assert_eq!(
        api(&server, Method::POST, "/logout", Some(&token), None).await,
        (204, Value::Null)
    );
    let (status, body) = api(&server, Method::GET, "/me", Some(&token), None).await;
    assert_eq!((status, body), (403, json!({"message": "Forbidden"})));
    assert_eq!(
        api(&server, Method::GET, "/hello", Some(&token), None)
            .await
            .0,
        403
    );
    assert_eq!(
        api(&server, Method::POST, "/logout", Some(&token), None)
            .await
            .0,
        403
    );

    // The other session survives the first one's logout.
    assert_eq!(
        api(&server, Method::GET, "/me", Some(&second), None)
            .await
            .0,
        200
    );
    assert_eq!(
        api(&server, Method::POST, "/logout", Some(&second), None)
            .await
            .0,
        204
    );
    assert_eq!(
        api(&server, Method::GET, "/me", Some(&second), None)
            .await
            .0,
        403
    );

    // Unknown user and wrong password: one answer.
    let wrong = api(
        &server,
        Method::POST,
        "/login",
        None,
        Some(&json!({"username": name, "password": "wrong password"})),
    )
    .await;
    let unknown = api(
        &server,
        Method::POST,
        "/login",
        None,
        Some(&json!({"username": unique_username("nobody"), "password": "wrong password"})),
    )
    .await;
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn full_flow_in_memory() {
    full_flow(spawn(common::memory_gateway().await).await).await;
}

#[tokio::test]
async fn full_flow_on_dynamodb() {
    full_flow(spawn(common::dynamo_gateway().await).await).await;
}

#[tokio::test]
async fn gateway_answers_as_api_gateway_does() {
    let server = spawn(common::memory_gateway().await).await;
    let client = reqwest::Client::new();

    // Unknown routes, wrong methods, trailing slashes: 404 from the gateway.
    for (method, path) in [
        (Method::POST, "/"),
        (Method::GET, "/index.html"),
        (Method::GET, "/account.js/"),
        (Method::GET, "/nope"),
        (Method::GET, "/register"),
        (Method::PUT, "/me"),
        (Method::POST, "/register/"),
        (Method::GET, "/ME"),
    ] {
        let (status, _, body) = call(&client, method.clone(), &server.url(path), None, None).await;
        assert_eq!(
            (status, &body),
            (404, &json!({"message": "Not Found"})),
            "{method} {path}"
        );
    }

    // No Authorization header: 401 from the gateway; an empty one likewise.
    for path in ["/me", "/logout"] {
        let method = if path == "/me" {
            Method::GET
        } else {
            Method::POST
        };
        assert_eq!(
            api(&server, method.clone(), path, None, None).await,
            (401, json!({"message": "Unauthorized"}))
        );
        let (status, _, _) = call(&client, method.clone(), &server.url(path), None, None).await;
        assert_eq!(status, 401);
        let resp = client
            .request(method, server.url(path))
            .header("authorization", "")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }

    // A token the authorizer denies: 403.
    for token in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
        assert_eq!(
            api(&server, Method::GET, "/me", Some(token), None).await,
            (403, json!({"message": "Forbidden"}))
        );
    }
    let resp = client
        .get(server.url("/me"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn bodies_reach_the_functions_as_api_gateway_sends_them() {
    let server = spawn(common::memory_gateway().await).await;
    let client = reqwest::Client::new();
    // A binary content type is base64-encoded by the gateway and decoded by lambda_http; the
    // function then refuses the content type.
    let resp = client
        .post(server.url("/register"))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8, 159, 146, 150])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let body: Value = resp.json().await.unwrap();
    OpenApi::load().check("POST", "/register", 415, &body);

    // Over the functions' 8 KiB limit: 413 from the function.
    let big = json!({"username": "someone", "password": "x".repeat(10_000)});
    let (status, body) = api(&server, Method::POST, "/register", None, Some(&big)).await;
    assert_eq!((status, &body["error"]), (413, &json!("payload_too_large")));

    // Malformed JSON: 400 from the function.
    let resp = client
        .post(server.url("/login"))
        .header("content-type", "application/json")
        .body("{\"username\":")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    OpenApi::load().check("POST", "/login", 400, &body);
}

/// A gateway whose authorizer is `authorizer` and whose functions answer 200 `{}`; counts
/// authorizer calls.
fn gateway_with(authorizer: AuthorizerFunction) -> Gateway {
    let ok: HttpFunction = Arc::new(|_req| {
        Box::pin(async {
            auth_edge::api::json_response(lambda_http::http::StatusCode::OK, &json!({}))
        })
    });
    let functions: HashMap<&'static str, HttpFunction> = local_api::routes::ROUTES
        .iter()
        .map(|r| (r.function, ok.clone()))
        .collect();
    Gateway::new(functions, authorizer)
}

#[tokio::test]
async fn authorizer_failures_are_500_and_no_header_skips_it() {
    let client = reqwest::Client::new();

    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let failing: AuthorizerFunction = Arc::new(move |_event| {
        counted.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err("authorizer crashed".into()) })
    });
    let server = spawn(gateway_with(failing)).await;
    let (status, _, body) = call(&client, Method::GET, &server.url("/me"), Some("x"), None).await;
    assert_eq!(
        (status, body),
        (500, json!({"message": "Internal Server Error"}))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Without the header the authorizer is not called at all.
    let (status, _, _) = call(&client, Method::GET, &server.url("/me"), None, None).await;
    assert_eq!(status, 401);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Unprotected routes do not call it either.
    let (status, _, _) = call(
        &client,
        Method::POST,
        &server.url("/login"),
        None,
        Some(&json!({})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let panicking: AuthorizerFunction =
        Arc::new(|_event| Box::pin(async { panic!("authorizer panicked") }));
    let server = spawn(gateway_with(panicking)).await;
    assert_eq!(
        call(&client, Method::GET, &server.url("/me"), Some("x"), None)
            .await
            .0,
        500
    );

    let slow: AuthorizerFunction = Arc::new(|_event| {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Err("unreachable".into())
        })
    });
    let server = spawn(gateway_with(slow).with_timeout(Duration::from_millis(200))).await;
    assert_eq!(
        call(&client, Method::GET, &server.url("/me"), Some("x"), None)
            .await
            .0,
        500
    );
}

#[tokio::test]
async fn the_authorizer_sees_the_event_api_gateway_would_send() {
    let seen = Arc::new(std::sync::Mutex::new(None));
    let sink = seen.clone();
    let recording: AuthorizerFunction = Arc::new(move |event| {
        *sink.lock().unwrap() = Some(event);
        Box::pin(async {
            let mut r = authorizer::AuthorizerResponse::default();
            r.is_authorized = false;
            Ok(r)
        })
    });
    let server = spawn(gateway_with(recording)).await;
    let client = reqwest::Client::new();
    let resp = client
        .get(server.url("/me?a=1&a=2&b=x%20y"))
        .header("authorization", "Bearer tok")
        .header("cookie", "c1=v1; c2=v2")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let event = seen.lock().unwrap().take().unwrap();
    // A valid payload-2.0 authorizer event in `aws_lambda_events`' full type, and in ours.
    let _: aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request =
        serde_json::from_value(event.clone()).unwrap();
    let ours: authorizer::AuthorizerRequest = serde_json::from_value(event.clone()).unwrap();
    assert_eq!(ours.authorization.as_deref(), Some("Bearer tok"));
    assert_eq!(ours.route_key.as_deref(), Some("GET /me"));
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /me");
    assert_eq!(event["identitySource"], json!(["Bearer tok"]));
    assert_eq!(event["headers"]["authorization"], "Bearer tok");
    assert_eq!(event["cookies"], json!(["c1=v1", "c2=v2"]));
    assert_eq!(
        event["queryStringParameters"],
        json!({"a": "1,2", "b": "x y"})
    );
    assert_eq!(event["requestContext"]["http"]["sourceIp"], "127.0.0.1");
    assert!(
        event["routeArn"]
            .as_str()
            .unwrap()
            .ends_with("/$default/GET/me")
    );
}

#[tokio::test]
async fn malformed_host_headers_are_answered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = spawn(common::memory_gateway().await).await;
    for host in ["x:abc", "evil.example:99999", "h:65536", "[::1", "a b", ""] {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let body = r#"{"username":"nobody-here","password":"whatever pw"}"#;
        let request = format!(
            "POST /login HTTP/1.1\r\nHost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            stream.read_to_string(&mut response),
        )
        .await
        .unwrap()
        .unwrap();
        let status: u16 = response
            .split(' ')
            .nth(1)
            .unwrap_or_else(|| panic!("no answer for Host {host:?}"))
            .parse()
            .unwrap();
        assert!(status < 500, "Host {host:?}: {response}");
    }
}

#[tokio::test]
async fn duplicate_keys_are_refused() {
    let server = spawn(common::memory_gateway().await).await;
    let client = reqwest::Client::new();
    for (path, body) in [
        (
            "/register",
            r#"{"username":"dupfirst","username":"duplast","password":"correct horse battery"}"#,
        ),
        (
            "/login",
            r#"{"username":"duplast","password":"wrong","password":"correct horse battery"}"#,
        ),
    ] {
        let resp = client
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{path}");
        let json: Value = resp.json().await.unwrap();
        assert_eq!(json["error"], "invalid_request");
        assert!(
            json["message"].as_str().unwrap().contains("duplicate"),
            "{json}"
        );
    }
}
