//! Helpers for the local API's tests: servers on 127.0.0.1 port 0, over the in-memory stores or
//! fresh DynamoDB tables on moto, and YAML documents as JSON.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use auth::store::memory::{MemoryAttempts, MemorySessions, MemoryUsers};
use auth_testing::{TestTables, test_config};
use local_api::gateway::Gateway;
use serde_json::Value;
use tokio::sync::oneshot;

/// A running local API; stops when dropped.
pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Serves `gateway` on 127.0.0.1, port 0.
pub async fn spawn(gateway: Gateway) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(local_api::server::serve(
        listener,
        Arc::new(gateway),
        async {
            let _ = stopped.await;
        },
    ));
    TestServer {
        base: format!("http://{addr}"),
        addr,
        stop: Some(stop),
    }
}

/// The gateway over the in-memory stores.
pub async fn memory_gateway() -> Gateway {
    memory_gateway_with(&test_config()).await
}

/// The gateway over fresh in-memory stores, configured by `config`.
pub async fn memory_gateway_with(config: &auth::Config) -> Gateway {
    local_api::app::gateway(
        MemoryUsers::new(),
        MemorySessions::new(),
        MemoryAttempts::new(),
        config,
    )
    .await
    .unwrap()
}

/// The gateway over fresh DynamoDB tables.
pub async fn dynamo_gateway() -> Gateway {
    dynamo_gateway_and_tables().await.0
}

/// The gateway over fresh DynamoDB tables, and the tables: as `cargo run --dynamodb-endpoint`
/// runs it, with the authorizer and user-info reading through the direct client.
pub async fn dynamo_gateway_and_tables() -> (Gateway, TestTables) {
    gateway_on(TestTables::create().await).await
}

/// [`dynamo_gateway_and_tables`] on the second engine (dynalite), whose conditional writes are
/// atomic per item as DynamoDB's are: for the tests where many requests race on one item.
pub async fn dynalite_gateway_and_tables() -> (Gateway, TestTables) {
    gateway_on(TestTables::create_on_dynalite().await).await
}

async fn gateway_on(tables: TestTables) -> (Gateway, TestTables) {
    (gateway_for(&tables).await, tables)
}

/// The gateway over `tables`, as `cargo run --dynamodb-endpoint` runs it (the authorizer and
/// user-info reading through the direct client).
pub async fn gateway_for(tables: &TestTables) -> Gateway {
    local_api::app::gateway_with_readers(
        tables.users(),
        tables.sessions(),
        tables.attempts(),
        (tables.direct_users(), tables.direct_sessions()),
        &test_config(),
    )
    .await
    .unwrap()
}

/// A YAML file of the repository, as JSON (tags such as `!Ref` dropped, their values kept).
pub fn yaml_file(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    yaml_to_json(&docs[0])
}

fn yaml_to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(r) => r.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::from(s.clone()),
        Yaml::Boolean(b) => Value::from(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        other => format!("{other:?}"),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// A JSON request to the server: (status, headers, JSON body or Null).
pub async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client.request(method, url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    answer(req).await
}

/// Sends `req`: (status, headers, JSON body or Null).
pub async fn answer(req: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("non-JSON body: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, headers, json)
}

/// `openapi.yaml`, to check responses against.
pub struct OpenApi {
    doc: Value,
}

impl OpenApi {
    pub fn load() -> Self {
        Self {
            doc: yaml_file("openapi.yaml"),
        }
    }

    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.trim_start_matches('#');
                self.doc
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling {r}"))
            }
            None => v,
        }
    }

    /// A validator for `schema` (e.g. `{"$ref": "#/components/schemas/Token"}`), its `$ref`s
    /// resolved against openapi.yaml's components.
    pub fn validator(&self, schema: &Value) -> jsonschema::Validator {
        let mut root = schema.as_object().unwrap().clone();
        root.insert("components".into(), self.doc["components"].clone());
        jsonschema::draft202012::new(&Value::Object(root)).unwrap()
    }

    /// Panics unless `openapi.yaml` documents `status` for `method path` and `body` matches
    /// its schema (an undocumented path must be API Gateway's 404).
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) {
        let operation = self.doc["paths"]
            .get(path)
            .and_then(|item| item.get(method.to_lowercase()));
        let schema = match operation {
            None => {
                assert_eq!(status, 404, "{method} {path} is not in openapi.yaml");
                serde_json::json!({"$ref": "#/components/schemas/GatewayError"})
            }
            Some(op) => {
                let response = op["responses"]
                    .get(status.to_string())
                    .unwrap_or_else(|| panic!("{method} {path}: {status} is not documented"));
                let response = self.resolve(response);
                match response.pointer("/content/application~1json/schema") {
                    Some(schema) => schema.clone(),
                    None => {
                        assert!(
                            body.is_null(),
                            "{method} {path} {status}: expected no body, got {body}"
                        );
                        return;
                    }
                }
            }
        };
        let validator = self.validator(&schema);
        let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: {body} does not match openapi.yaml: {errors:?}"
        );
    }
}

/// A DynamoDB client through a proxy on 127.0.0.1 that answers the calls `fails` picks (by
/// `X-Amz-Target` and request body) with `status` and `body`, and forwards every other call to
/// `tables`' server. With `applied`, the proxy first forwards the failing call too, as a time-out
/// after DynamoDB applied a write would look.
pub async fn failing_proxy(
    tables: &TestTables,
    fails: impl Fn(&str, &[u8]) -> bool + Clone + Send + Sync + 'static,
    status: u16,
    body: Value,
    applied: bool,
) -> aws_sdk_dynamodb::Client {
    use axum::http::{HeaderMap, StatusCode};
    let upstream = tables.endpoint.clone();
    let forward = reqwest::Client::new();
    let canned = (StatusCode::from_u16(status).unwrap(), body.to_string());
    let app =
        axum::Router::new().fallback(move |headers: HeaderMap, request: axum::body::Bytes| {
            let (upstream, forward, canned, fails) = (
                upstream.clone(),
                forward.clone(),
                canned.clone(),
                fails.clone(),
            );
            async move {
                let target = headers
                    .get("x-amz-target")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let json = [("content-type", "application/x-amz-json-1.0")];
                let failing = fails(target, &request);
                if failing && !applied {
                    return (canned.0, json, canned.1);
                }
                let mut req = forward.post(&upstream).body(request);
                for (name, value) in &headers {
                    if name != "host" && name != "content-length" {
                        req = req.header(name, value);
                    }
                }
                let resp = req.send().await.unwrap();
                let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
                let text = resp.text().await.unwrap();
                if failing {
                    return (canned.0, json, canned.1);
                }
                (status, json, text)
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    auth_testing::client_for(&format!("http://{addr}"))
}
