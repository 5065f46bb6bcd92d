//! A local stand-in for API Gateway (HTTP API, payload format 2.0, Lambda authorizer with simple
//! responses).
//!
//! For each request [`Gateway::handle`]:
//! 1. matches the route ([`crate::routes`], with its path parameters); none → 404
//!    `{"message":"Not Found"}` (the operator routes exist only on the admin gateway,
//!    [`Gateway::admin`], and only they do);
//! 2. for a protected route: no (or an empty) `Authorization` header → 401
//!    `{"message":"Unauthorized"}` without calling the authorizer; otherwise builds the
//!    authorizer's v2 `REQUEST` event and calls it. `isAuthorized: false` → 403
//!    `{"message":"Forbidden"}`; an error, a panic or a time-out → 500
//!    `{"message":"Internal Server Error"}`; an allow puts its `context` into
//!    `requestContext.authorizer.lambda`;
//! 3. builds the payload-2.0 event (lower-case headers with repeated ones joined by commas,
//!    cookies apart, query and path parameters, `requestContext.http`, `sourceIp`, a request id, the body
//!    base64-encoded unless it is text) and hands it to the function through
//!    `lambda_http::request::from_str`, the parser the Lambda runtime uses;
//! 4. turns the function's response into HTTP, with API Gateway's `apigw-requestid` header; a
//!    failing function → 500 `{"message":"Internal Server Error"}`.
//!
//! With a CORS configuration ([`crate::cors`]) preflights are answered before step 1, and
//! responses to allowed origins get the CORS headers after step 4.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use authorizer::AuthorizerResponse;
use base64::Engine as _;
use lambda_http::http::{self, HeaderMap, HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::cors::Cors;
use crate::routes::{self, Route};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
/// A boxed error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
/// An HTTP function: what a `lambda_http` Lambda runs for one event.
pub type HttpFunction = Arc<dyn Fn(Request) -> BoxFuture<Response<Body>> + Send + Sync>;
/// The authorizer: what the `lambda_runtime` authorizer Lambda runs for one event, given the
/// event's JSON as API Gateway sends it (the function decodes it as its Lambda would; an event it
/// cannot decode is an error, 500 at the gateway).
pub type AuthorizerFunction =
    Arc<dyn Fn(Value) -> BoxFuture<Result<AuthorizerResponse, BoxError>> + Send + Sync>;

/// How long the gateway waits for the authorizer and for a function, as API Gateway's
/// integration timeout does.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(29);

/// The local API Gateway.
#[derive(Clone)]
pub struct Gateway {
    functions: HashMap<&'static str, HttpFunction>,
    authorizer: AuthorizerFunction,
    timeout: Duration,
    cors: Cors,
    admin: bool,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway with `authorizer` in front of the protected routes and `functions` (by package
    /// name, as in [`routes::ROUTES`]) behind the routes. Panics if a route's function is missing.
    pub fn new(
        functions: HashMap<&'static str, HttpFunction>,
        authorizer: AuthorizerFunction,
    ) -> Self {
        for route in routes::ROUTES {
            assert!(
                functions.contains_key(route.function),
                "no function for route {}",
                route.key()
            );
        }
        Self {
            functions,
            authorizer,
            timeout: DEFAULT_TIMEOUT,
            cors: Cors::default(),
            admin: false,
        }
    }

    /// The gateway of the admin listener: the same functions, serving only the operator routes
    /// ([`routes::Auth::Iam`]), with no authorization of its own — in AWS, IAM authorizes them;
    /// locally, the listener is bound to 127.0.0.1, so only this machine reaches it. No CORS,
    /// and browsers are kept out: a request with an `Origin` (any web page's fetch or form),
    /// or with a `Host` other than a loopback name (a DNS-rebinding page), gets 403.
    pub fn admin(&self) -> Self {
        Self {
            admin: true,
            cors: Cors::default(),
            ..self.clone()
        }
    }

    /// The same gateway with another time limit for the authorizer and the functions.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same gateway with a CORS configuration ([`crate::cors`]).
    pub fn with_cors(mut self, cors: Cors) -> Self {
        self.cors = cors;
        self
    }

    /// Answers one HTTP request from `peer`, as API Gateway would.
    pub async fn handle(
        &self,
        req: http::Request<Vec<u8>>,
        peer: SocketAddr,
    ) -> http::Response<Vec<u8>> {
        let request_id = auth::SessionId::generate().to_string()[..16].to_owned();
        let origin = req.headers().get(header::ORIGIN).cloned();
        let mut response = match self.cors.preflight(&req) {
            Some(answer) => answer,
            None => {
                let mut response = self.dispatch(req, peer, &request_id).await;
                self.cors.decorate(origin.as_ref(), &mut response);
                response
            }
        };
        response.headers_mut().insert(
            "apigw-requestid",
            HeaderValue::from_str(&request_id).expect("hex is a valid header value"),
        );
        response
    }

    async fn dispatch(
        &self,
        req: http::Request<Vec<u8>>,
        peer: SocketAddr,
        request_id: &str,
    ) -> http::Response<Vec<u8>> {
        if self.admin && !from_this_machine(&req) {
            return gateway_error(StatusCode::FORBIDDEN, "Forbidden");
        }
        let Some((route, params)) =
            routes::find(req.method().as_str(), req.uri().path(), self.admin)
        else {
            return gateway_error(StatusCode::NOT_FOUND, "Not Found");
        };
        let mut event = http_event(&req, peer, route, request_id);
        if !params.is_empty() {
            event["pathParameters"] = params
                .into_iter()
                .map(|(name, value)| (name.to_owned(), Value::String(value)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }

        if route.protected() {
            let has_credentials = req
                .headers()
                .get(header::AUTHORIZATION)
                .is_some_and(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace));
            if !has_credentials {
                return gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized");
            }
            let authorizer_event = authorizer_event(&event, route);
            let authorizer = self.authorizer.clone();
            match self.run(authorizer(authorizer_event)).await {
                Some(Ok(decision)) if decision.is_authorized => {
                    event["requestContext"]["authorizer"] = json!({ "lambda": decision.context });
                }
                Some(Ok(_)) => return gateway_error(StatusCode::FORBIDDEN, "Forbidden"),
                Some(Err(e)) => {
                    tracing::error!(error = %e, "authorizer failed");
                    return gateway_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal Server Error",
                    );
                }
                None => {
                    return gateway_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal Server Error",
                    );
                }
            }
        }

        // lambda_http's parser panics on some inputs API Gateway never sends; a panic here must
        // still be a 500, as a failing Lambda would be.
        let text = event.to_string();
        let request = match std::panic::catch_unwind(|| lambda_http::request::from_str(&text)) {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "could not build the function event");
                return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
            }
            Err(_) => {
                tracing::error!("the function event could not be parsed");
                return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
            }
        };
        let function = self.functions[route.function].clone();
        match self.run(function(request)).await {
            Some(response) => into_http(response),
            None => gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        }
    }

    /// Runs an invocation on its own task, as a separate Lambda would: `None` if it panicked
    /// or ran past the time limit.
    async fn run<T: Send + 'static>(&self, invocation: BoxFuture<T>) -> Option<T> {
        match tokio::time::timeout(self.timeout, tokio::spawn(invocation)).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(join_error)) => {
                tracing::error!(error = %join_error, "invocation failed");
                None
            }
            Err(_) => {
                tracing::error!(timeout = ?self.timeout, "invocation timed out");
                None
            }
        }
    }
}

/// Whether an admin request comes from a program on this machine rather than through a web
/// page: no `Origin`, and a `Host` naming the loopback interface.
fn from_this_machine(req: &http::Request<Vec<u8>>) -> bool {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    !req.headers().contains_key(header::ORIGIN)
        && matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// One of API Gateway's own answers: `{"message": "..."}`.
fn gateway_error(status: StatusCode, message: &str) -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(json!({ "message": message }).to_string().into_bytes());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Content types API Gateway passes as text; anything else is base64-encoded.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return true;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/")
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
        || matches!(
            mime.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
                | ""
        )
}

/// The payload-2.0 event for `req` on `route`.
pub fn http_event(
    req: &http::Request<Vec<u8>>,
    peer: SocketAddr,
    route: &Route,
    request_id: &str,
) -> Value {
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (name, value) in req.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    // API Gateway only ever sees its own domain name here; a Host that is not a valid authority
    // (bad port, stray characters) is replaced rather than passed on.
    let host = headers
        .get("host")
        .and_then(Value::as_str)
        .filter(|h| valid_authority(h))
        .unwrap_or("localhost")
        .to_owned();
    headers.insert("host".into(), host.clone().into());
    let port = url::Url::parse(&format!("http://{host}/"))
        .ok()
        .and_then(|u| u.port())
        .unwrap_or(80);
    let source_ip = peer.ip().to_string();
    let forwarded_for = match headers.get("x-forwarded-for").and_then(Value::as_str) {
        Some(chain) => format!("{chain}, {source_ip}"),
        None => source_ip.clone(),
    };
    headers.insert("x-forwarded-for".into(), forwarded_for.into());
    headers.insert("x-forwarded-proto".into(), "http".into());
    headers.insert("x-forwarded-port".into(), port.to_string().into());
    let user_agent = headers
        .get("user-agent")
        .cloned()
        .unwrap_or_else(|| Value::String(String::new()));

    let raw_query = req.uri().query().unwrap_or("").to_owned();
    let mut query = serde_json::Map::new();
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        match query.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }

    let now = time::OffsetDateTime::now_utc();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let body = req.body();
    let (body, is_base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) if is_text(content_type) => (Value::String(text.to_owned()), false),
        _ => (
            Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    };

    let mut event = json!({
        "version": "2.0",
        "routeKey": route.key(),
        "rawPath": req.uri().path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or("local"),
            "http": {
                "method": req.method().as_str(),
                "path": req.uri().path(),
                "protocol": format!("{:?}", req.version()),
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": route.key(),
            "stage": "$default",
            "time": now
                .format(time::macros::format_description!(
                    "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
                ))
                .unwrap_or_default(),
            "timeEpoch": (now.unix_timestamp_nanos() / 1_000_000) as i64,
        },
        "isBase64Encoded": is_base64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

/// Whether `host` is a `host[:port]` that makes a valid URL authority (as lambda_http needs it).
fn valid_authority(host: &str) -> bool {
    !host.is_empty()
        && !host.contains(['/', '?', '#', '@'])
        && url::Url::parse(&format!("http://{host}/")).is_ok()
}

/// The authorizer's v2 `REQUEST` event for a request whose payload-2.0 event is `http_event`,
/// with identity source `$request.header.Authorization`.
pub fn authorizer_event(http_event: &Value, route: &Route) -> Value {
    let mut event = json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": format!(
            "arn:aws:execute-api:us-east-1:000000000000:local/$default/{}{}",
            route.method,
            http_event["rawPath"].as_str().unwrap_or(route.path)
        ),
        "identitySource": [http_event["headers"]["authorization"].clone()],
        "routeKey": http_event["routeKey"],
        "rawPath": http_event["rawPath"],
        "rawQueryString": http_event["rawQueryString"],
        "headers": http_event["headers"],
        "requestContext": http_event["requestContext"],
    });
    for optional in ["cookies", "queryStringParameters", "pathParameters"] {
        if let Some(v) = http_event.get(optional) {
            event[optional] = v.clone();
        }
    }
    event
}

/// A function's response as API Gateway returns it.
fn into_http(response: Response<Body>) -> http::Response<Vec<u8>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Text(t) => t.into_bytes(),
        Body::Binary(b) => b,
        _ => Vec::new(),
    };
    let mut out = http::Response::new(bytes);
    *out.status_mut() = parts.status;
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        headers.append(name, value.clone());
    }
    *out.headers_mut() = headers;
    out
}
