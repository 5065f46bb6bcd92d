//! Helpers of the authorizer's integration tests: the sample event with a token, and a
//! recording, scriptable HTTP proxy in front of the test DynamoDB server (moto): it records
//! every request the authorizer's client sends (its `X-Amz-Target` and body) and answers the
//! next requests from a script — an error DynamoDB would send, an answer with unprocessed keys,
//! or no answer at all — before forwarding the rest to moto unchanged.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// `events/authorizer-valid.json` carrying `Bearer <token>`.
pub fn authorizer_event(token: &str) -> authorizer::AuthorizerRequest {
    let mut e = auth_testing::event("authorizer-valid.json");
    let header = format!("Bearer {token}");
    e["headers"]["authorization"] = header.clone().into();
    e["identitySource"] = serde_json::json!([header]);
    serde_json::from_value(e).unwrap()
}

/// What the proxy does with one request instead of forwarding it.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// Answer with this status and JSON body (as DynamoDB would).
    Answer(u16, String),
    /// Never answer.
    Hang,
}

impl Scripted {
    /// DynamoDB's answer to a request it throttles.
    pub fn throttled() -> Self {
        Self::error(
            400,
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.",
        )
    }

    /// DynamoDB's error answer with `code`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::Answer(
            status,
            serde_json::json!({
                "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
                "message": message,
            })
            .to_string(),
        )
    }
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    sent: Arc<Mutex<Vec<(String, String)>>>,
    script: Arc<Mutex<VecDeque<Scripted>>>,
    http: reqwest::Client,
}

/// The proxy, listening on 127.0.0.1 until dropped.
pub struct Proxy {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy to `upstream`.
    pub async fn start(upstream: &str) -> Self {
        let shared = Shared {
            upstream: upstream.to_owned(),
            sent: Arc::default(),
            script: Arc::default(),
            http: reqwest::Client::new(),
        };
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, shared, task }
    }

    /// Answers the next requests, one entry each, before forwarding again.
    pub fn script(&self, entries: impl IntoIterator<Item = Scripted>) {
        self.shared.script.lock().unwrap().extend(entries);
    }

    /// The requests recorded since the last call: `(X-Amz-Target, body)`.
    pub fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut self.shared.sent.lock().unwrap())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    shared
        .sent
        .lock()
        .unwrap()
        .push((target, String::from_utf8_lossy(&body).into_owned()));
    let scripted = shared.script.lock().unwrap().pop_front();
    match scripted {
        Some(Scripted::Answer(status, body)) => (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/x-amz-json-1.0")],
            body,
        )
            .into_response(),
        Some(Scripted::Hang) => std::future::pending().await,
        None => {
            let mut request = shared.http.post(&shared.upstream).body(body);
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    request = request.header(name.as_str(), value.as_bytes());
                }
            }
            let answer = request.send().await.unwrap();
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            (status, answer.bytes().await.unwrap()).into_response()
        }
    }
}

/// A Secrets Manager secret on the test server (moto) whose string is `value`: its ARN.
pub async fn secret_holding(value: &str) -> String {
    auth_testing::new_secret(&secrets_client(), "authorizer-key", value).await
}

pub use auth_testing::secrets_client;

/// The authorizer's configuration as its Lambda reads it: DynamoDB at `dynamodb` (sessions table
/// `table`, each call bounded by `timeout_ms`), Secrets Manager at `secrets`, and the keys in the
/// secret `secret_arn` or, without it, inline (the test key).
pub fn authorizer_config(
    dynamodb: &str,
    secrets: &str,
    table: &str,
    timeout_ms: u64,
    secret_arn: Option<&str>,
) -> authorizer::Config {
    let mut env = auth_testing::test_env();
    if let Some(arn) = secret_arn {
        env.remove("JWT_SECRET");
        env.insert("JWT_SECRET_ARN".into(), arn.into());
    }
    env.insert("AWS_ENDPOINT_URL_SECRETS_MANAGER".into(), secrets.into());
    env.insert("SESSIONS_TABLE".into(), table.into());
    env.insert("DYNAMODB_ENDPOINT_URL".into(), dynamodb.into());
    env.insert("DYNAMODB_TIMEOUT_MS".into(), timeout_ms.to_string());
    for (name, value) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ] {
        env.insert(name.into(), value.into());
    }
    authorizer::Config::from_lookup(&|name| env.get(name).cloned()).unwrap()
}
