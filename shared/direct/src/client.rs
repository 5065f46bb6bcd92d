//! Calls to AWS services that speak the JSON protocol (DynamoDB, Secrets Manager), signed with
//! SigV4 and sent over kept-alive HTTP/1.1 connections ([`crate::connect`]), without the AWS
//! SDK: the whole AWS footprint of the two functions that run on every protected request — the
//! authorizer (one `BatchGetItem` per request, and its signing keys at start-up through
//! [`SecretsClient`]) and user-info (one `GetItem`); see [`crate::store`].
//!
//! For them the SDK's per-request machinery (interceptors, endpoint rules, identity resolution,
//! retry partitions) and its start-up (the configuration chain, reading the system trust store)
//! were most of the CPU per invocation, the cold start and the package (bench/RESULTS.md). What
//! is kept, and how:
//!
//! - signing is SigV4 for this client's one request shape, with the day's signing key kept
//!   ([`crate::sign`], which says why it is not `aws-sigv4` and how it is held to it);
//!   credentials and region come from the variables Lambda sets for the function's role,
//!   endpoints from the SDK's variables or the region
//!   ([`crate::config`], which refuses set-ups it would get wrong,
//!   such as FIPS endpoints, rather than call another endpoint than the SDK would);
//! - TLS is rustls on aws-lc-rs with the Mozilla root set compiled in (`webpki-roots`, which
//!   includes the Amazon Trust Services roots AWS endpoints chain to), so nothing is read from
//!   disk at start-up; updating the roots means rebuilding;
//! - every call is bounded by its service's timeout (`DYNAMODB_TIMEOUT_MS`), one attempt by half
//!   of it; transient failures (connection errors, timeouts, throttling, 429, 5xx — the codes in
//!   [`TRANSIENT_CODES`]) are retried after a jittered exponential back-off, at most
//!   [`MAX_ATTEMPTS`] attempts in all (the SDK's standard retry mode) and only while time is
//!   left, and end as [`CallError::Unavailable`]; refusals (validation, access denied, a bad
//!   signature, a missing resource) are [`CallError::Refused`] at once. Answers over
//!   [`MAX_ANSWER_BYTES`] are refused unread.
//!
//! Every other function keeps the SDK; this client is tested against the same server (moto,
//! with signature checking switched on for the signing tests) and the same conformance cases.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use serde::{Deserialize, Serialize};

use auth::error::BoxError;

use crate::connect::{Connections, IDLE_TIMEOUT};
use crate::sign::Signer;

pub use auth::store::item::TRANSIENT_CODES;

/// The first retry waits between half of this and this long, doubling per retry.
pub const BACKOFF_BASE: Duration = Duration::from_millis(20);
/// Attempts per call, the first included (as the SDK's standard retry mode).
pub const MAX_ATTEMPTS: u32 = 3;
/// The largest answer read (DynamoDB's `BatchGetItem` answers at most 16 MB, ours are two small
/// items; a secret is at most 64 KB).
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// AWS credentials, as Lambda hands them to a function. `Debug` shows only the key id.
#[derive(Clone)]
pub struct AwsCredentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl AwsCredentials {
    /// Credentials from their parts.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
        }
    }
}

/// Where and as whom the direct client calls.
#[derive(Debug, Clone)]
pub struct DirectConfig {
    /// The signing region.
    pub region: String,
    /// The signing credentials.
    pub credentials: AwsCredentials,
    /// DynamoDB's endpoint, e.g. `https://dynamodb.eu-west-1.amazonaws.com` or a local server.
    pub dynamodb_endpoint: String,
    /// Secrets Manager's endpoint.
    pub secretsmanager_endpoint: String,
    /// The whole of one call, retries included.
    pub timeout: Duration,
}

/// `service`'s regional endpoint in `region` (the `aws-cn` partition for `cn-` regions).
pub fn regional_endpoint(service: &str, region: &str) -> String {
    if region.starts_with("cn-") {
        format!("https://{service}.{region}.amazonaws.com.cn")
    } else {
        format!("https://{service}.{region}.amazonaws.com")
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DirectConfigError {
    /// An endpoint is not an absolute http(s) URL.
    #[error("the endpoint {0:?} is not an http(s) URL with a host")]
    Endpoint(String),
    /// The session token cannot be an HTTP header value (the configuration checks it first).
    #[error("the session token is not a valid HTTP header value")]
    SessionToken,
    /// A service's content type cannot be an HTTP header value.
    #[error("the content type {0:?} is not a valid HTTP header value")]
    ContentType(&'static str),
    /// rustls refused the protocol versions (never with its own provider).
    #[error("TLS configuration failed")]
    Tls(#[source] rustls::Error),
}

/// How one call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Transient (connection, timeout, throttling, 5xx) and out of time to retry.
    #[error("the service is unavailable")]
    Unavailable(#[source] BoxError),
    /// Refused for a reason another attempt will not fix.
    #[error("the service refused the request")]
    Refused(#[source] BoxError),
}

impl CallError {
    /// The service's error code, if the service answered with one.
    pub fn code(&self) -> Option<&str> {
        let (Self::Unavailable(e) | Self::Refused(e)) = self;
        e.downcast_ref::<ServiceError>().map(|e| e.code.as_str())
    }
}

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// The connector, credentials and region that every [`JsonService`] of a process shares (one
/// TLS configuration, and one set of kept-alive connections per origin).
#[derive(Clone)]
pub struct AwsHttp {
    inner: Arc<HttpInner>,
}

struct HttpInner {
    connector: Https,
    /// The connections to each origin a service of this client calls.
    origins: Mutex<Vec<Arc<Connections<Https>>>>,
    region: String,
    credentials: Arc<AwsCredentials>,
    /// The session token as the `x-amz-security-token` value, marked sensitive (never shown
    /// when a request or its headers are printed).
    session_token: Option<http::HeaderValue>,
    timeout: Duration,
}

impl std::fmt::Debug for AwsHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsHttp")
            .field("region", &self.inner.region)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl AwsHttp {
    /// Builds the TLS configuration and the connector (no connection is opened until the first
    /// call or [`JsonService::warm_up`]).
    pub fn new(config: &DirectConfig) -> Result<Self, DirectConfigError> {
        let session_token = match &config.credentials.session_token {
            Some(token) => {
                let mut value = http::HeaderValue::from_str(token)
                    .map_err(|_| DirectConfigError::SessionToken)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(DirectConfigError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(config.timeout / 2));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Ok(Self {
            inner: Arc::new(HttpInner {
                connector,
                origins: Mutex::default(),
                region: config.region.clone(),
                credentials: Arc::new(config.credentials.clone()),
                session_token,
                timeout: config.timeout,
            }),
        })
    }

    /// The configured timeout of one call.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The connections to `origin` (`scheme://authority/`), shared by the services there.
    fn connections(&self, origin: &http::Uri) -> Arc<Connections<Https>> {
        let mut origins = self
            .inner
            .origins
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = origins.iter().find(|c| c.origin() == origin) {
            return known.clone();
        }
        let connections = Arc::new(Connections::new(
            self.inner.connector.clone(),
            origin.clone(),
            IDLE_TIMEOUT,
        ));
        origins.push(connections.clone());
        connections
    }
}

/// One JSON-protocol service at one endpoint.
#[derive(Clone)]
pub struct JsonService {
    http: AwsHttp,
    connections: Arc<Connections<Https>>,
    host: http::HeaderValue,
    signing_name: &'static str,
    content_type: &'static str,
    /// `content_type` as the header's value, checked once.
    content_type_value: http::HeaderValue,
    signer: Arc<Signer>,
}

impl std::fmt::Debug for JsonService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonService")
            .field("endpoint", self.connections.origin())
            .field("service", &self.signing_name)
            .finish_non_exhaustive()
    }
}

impl JsonService {
    /// `signing_name` (e.g. `dynamodb`) at `endpoint`, speaking `content_type`
    /// (`application/x-amz-json-1.0` or `-1.1`).
    pub fn new(
        http: &AwsHttp,
        endpoint: &str,
        signing_name: &'static str,
        content_type: &'static str,
    ) -> Result<Self, DirectConfigError> {
        let bad = || DirectConfigError::Endpoint(endpoint.to_owned());
        let uri: http::Uri = endpoint.parse().map_err(|_| bad())?;
        let (scheme, authority) = match (uri.scheme_str(), uri.authority()) {
            (Some(scheme @ ("http" | "https")), Some(authority)) => (scheme, authority.clone()),
            _ => return Err(bad()),
        };
        let host = http::HeaderValue::from_str(authority.as_str()).map_err(|_| bad())?;
        let uri = http::Uri::builder()
            .scheme(scheme)
            .authority(authority)
            .path_and_query("/")
            .build()
            .map_err(|_| bad())?;
        let signer = Signer::new(
            http.inner.credentials.clone(),
            &http.inner.region,
            signing_name,
        );
        Ok(Self {
            http: http.clone(),
            connections: http.connections(&uri),
            host,
            signing_name,
            content_type,
            content_type_value: http::HeaderValue::from_str(content_type)
                .map_err(|_| DirectConfigError::ContentType(content_type))?,
            signer: Arc::new(signer),
        })
    }

    /// The shared client's timeout of one call.
    pub fn timeout(&self) -> Duration {
        self.http.timeout()
    }

    /// Operation `target` (e.g. `DynamoDB_20120810.BatchGetItem`) with JSON `body`: attempts
    /// until an answer, a refusal, [`MAX_ATTEMPTS`] or `deadline`. Returns the answer's body.
    pub async fn call(
        &self,
        target: &'static str,
        body: Bytes,
        deadline: Instant,
    ) -> Result<Bytes, CallError> {
        let attempt_limit = self.timeout() / 2;
        let mut retry = 0u32;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let error = match tokio::time::timeout(
                left.min(attempt_limit),
                self.attempt(target, body.clone()),
            )
            .await
            {
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err(CallError::Refused(e))) => return Err(CallError::Refused(e)),
                Ok(Err(CallError::Unavailable(e))) => e,
                Err(_) => format!("{} did not answer in time", self.signing_name).into(),
            };
            let backoff = backoff(retry);
            retry += 1;
            if retry >= MAX_ATTEMPTS || Instant::now() + backoff >= deadline {
                return Err(CallError::Unavailable(error));
            }
            tracing::debug!(error = %error, retry, "retrying an AWS call");
            tokio::time::sleep(backoff).await;
        }
    }

    /// Opens a connection to the endpoint ahead of the first call (TCP, and TLS for `https`),
    /// so that the first request of a cold start costs what a warm one does; nothing is sent
    /// ([`crate::connect`]). Bounded by one attempt's time (half the call timeout); a failure is
    /// only logged (at debug): the first call then connects as it would have.
    pub async fn warm_up(&self) {
        let opened = tokio::time::timeout(self.timeout() / 2, self.connections.open_ahead()).await;
        match opened {
            Ok(Ok(())) => tracing::debug!(service = self.signing_name, "connection opened"),
            Ok(Err(error)) => {
                tracing::debug!(%error, service = self.signing_name, "opening a connection failed")
            }
            Err(_) => tracing::debug!(
                service = self.signing_name,
                "opening a connection timed out"
            ),
        }
    }

    /// [`JsonService::call`] with `input` serialised and the answer parsed.
    pub async fn call_json<I: Serialize, O: for<'de> Deserialize<'de>>(
        &self,
        target: &'static str,
        input: &I,
        deadline: Instant,
    ) -> Result<O, CallError> {
        let body = serde_json::to_vec(input).map_err(|e| CallError::Refused(Box::new(e)))?;
        let answer = self.call(target, Bytes::from(body), deadline).await?;
        serde_json::from_slice(&answer).map_err(|e| {
            CallError::Refused(format!("{target}: the answer is not the expected JSON: {e}").into())
        })
    }

    /// One attempt: a transient failure is [`CallError::Unavailable`].
    async fn attempt(&self, target: &'static str, body: Bytes) -> Result<Bytes, CallError> {
        let request = self.signed_request(target, body)?;
        let (response, connection) = self
            .connections
            .send(request)
            .await
            .map_err(CallError::Unavailable)?;
        let status = response.status();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    CallError::Refused(
                        format!("the answer is over {MAX_ANSWER_BYTES} bytes").into(),
                    )
                } else {
                    CallError::Unavailable(e)
                }
            })?
            .to_bytes();
        // Read to the end: the connection can carry the next call.
        self.connections.put_back(connection);
        if status.is_success() {
            return Ok(body);
        }
        let error = ServiceError::from_answer(status, error_type.as_deref(), &body);
        if status.is_server_error()
            || status == http::StatusCode::TOO_MANY_REQUESTS
            || TRANSIENT_CODES.contains(&error.code.as_str())
        {
            Err(CallError::Unavailable(Box::new(error)))
        } else {
            Err(CallError::Refused(Box::new(error)))
        }
    }

    fn signed_request(
        &self,
        target: &'static str,
        body: Bytes,
    ) -> Result<http::Request<Full<Bytes>>, CallError> {
        use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
        const X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");
        const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
        const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
        let target_value = HeaderValue::from_maybe_shared(Bytes::from_static(target.as_bytes()))
            .map_err(|_| {
                CallError::Refused(format!("{target:?} is not a valid x-amz-target").into())
            })?;
        let host = self.host.to_str().unwrap_or_default();
        let signature = self
            .signer
            .sign(host, self.content_type, target, &body, SystemTime::now());
        // The signer's strings become the header values without a copy.
        let date = HeaderValue::from_maybe_shared(Bytes::from(signature.amz_date))
            .expect("a date is visible ASCII");
        let mut authorization =
            HeaderValue::from_maybe_shared(Bytes::from(signature.authorization))
                .expect("a signature header is visible ASCII");
        authorization.set_sensitive(true);
        let mut request = http::Request::new(Full::new(body));
        *request.method_mut() = http::Method::POST;
        // The request line carries the path; the origin is the connection's.
        *request.uri_mut() = http::Uri::from_static("/");
        let headers = request.headers_mut();
        headers.reserve(6);
        headers.insert(HOST, self.host.clone());
        headers.insert(CONTENT_TYPE, self.content_type_value.clone());
        headers.insert(X_AMZ_TARGET, target_value);
        headers.insert(X_AMZ_DATE, date);
        headers.insert(AUTHORIZATION, authorization);
        if let Some(token) = &self.http.inner.session_token {
            headers.insert(X_AMZ_SECURITY_TOKEN, token.clone());
        }
        Ok(request)
    }
}

/// The wait before retry number `retry` + 1 (0-based): [`BACKOFF_BASE`] doubled `retry` times,
/// jittered.
pub fn backoff(retry: u32) -> Duration {
    jittered(BACKOFF_BASE * 2u32.saturating_pow(retry.min(10)))
}

/// `base` scaled by a random factor in [0.5, 1).
fn jittered(base: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let random = aws_lc_rs::rand::fill(&mut byte).map_or(128, |()| byte[0]);
    base / 2 + base.mul_f64(f64::from(random) / 512.0)
}

/// A JSON service's error answer: the code from the `x-amzn-ErrorType` header or else the body's
/// `__type` (`{"__type": "…#Code", "message": …}`), as the SDK reads them.
#[derive(Debug)]
pub struct ServiceError {
    status: http::StatusCode,
    /// The error code, e.g. `ProvisionedThroughputExceededException`; empty if the answer had
    /// none (e.g. an HTML page from a proxy).
    pub code: String,
    message: String,
}

impl ServiceError {
    fn from_answer(status: http::StatusCode, error_type: Option<&str>, body: &[u8]) -> Self {
        #[derive(Deserialize, Default)]
        struct Answer {
            #[serde(rename = "__type", default)]
            kind: String,
            #[serde(alias = "Message", default)]
            message: String,
        }
        let answer = serde_json::from_slice::<Answer>(body).unwrap_or_default();
        // The header may carry `Code:http://…` after the code; the body's type a namespace.
        let kind = error_type
            .map(|t| t.split(':').next().unwrap_or_default())
            .filter(|t| !t.is_empty())
            .unwrap_or(answer.kind.as_str());
        let code = kind
            .rsplit_once('#')
            .map_or(kind, |(_, code)| code)
            .to_owned();
        Self {
            status,
            code,
            message: answer.message,
        }
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = if self.code.is_empty() {
            "(no code)"
        } else {
            &self.code
        };
        write!(
            f,
            "the service answered {} {code}: {}",
            self.status.as_u16(),
            self.message
        )
    }
}

impl std::error::Error for ServiceError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(endpoint: &str, token: Option<&str>) -> DirectConfig {
        DirectConfig {
            region: "eu-west-1".into(),
            credentials: AwsCredentials::new("ASIAEXAMPLE", "secret", token.map(Into::into)),
            dynamodb_endpoint: endpoint.into(),
            secretsmanager_endpoint: endpoint.into(),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn endpoints_by_partition() {
        assert_eq!(
            regional_endpoint("dynamodb", "eu-west-1"),
            "https://dynamodb.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            regional_endpoint("secretsmanager", "cn-north-1"),
            "https://secretsmanager.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn error_codes_are_read_from_the_type() {
        let error = ServiceError::from_answer(
            http::StatusCode::BAD_REQUEST,
            None,
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}"#,
        );
        assert_eq!(error.code, "ProvisionedThroughputExceededException");
        assert!(
            error
                .to_string()
                .contains("400 ProvisionedThroughputExceededException: slow down")
        );
        let error = ServiceError::from_answer(
            http::StatusCode::BAD_REQUEST,
            None,
            br#"{"__type":"ResourceNotFoundException","Message":"no such version"}"#,
        );
        assert_eq!(error.code, "ResourceNotFoundException");
        assert!(error.to_string().contains("no such version"));
        let error = ServiceError::from_answer(http::StatusCode::BAD_GATEWAY, None, b"<html>");
        assert_eq!(error.code, "");
        assert!(error.to_string().contains("502 (no code)"));
        // The header comes first, with or without a trailing URI.
        let error = ServiceError::from_answer(
            http::StatusCode::BAD_REQUEST,
            Some(
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/",
            ),
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException"}"#,
        );
        assert_eq!(error.code, "ThrottlingException");
    }

    #[test]
    fn credentials_are_redacted_in_debug() {
        let shown = format!(
            "{:?}",
            AwsCredentials::new("AKIDEXAMPLE", "very-secret", Some("token-value".into()))
        );
        assert!(shown.contains("AKIDEXAMPLE"));
        assert!(!shown.contains("very-secret") && !shown.contains("token-value"));
    }

    #[test]
    fn requests_carry_the_session_token_under_the_signature() {
        let config = config(
            "https://dynamodb.eu-west-1.amazonaws.com",
            Some("the-token"),
        );
        let http = AwsHttp::new(&config).unwrap();
        let service = JsonService::new(
            &http,
            &config.dynamodb_endpoint,
            "dynamodb",
            "application/x-amz-json-1.0",
        )
        .unwrap();
        let request = service
            .signed_request("DynamoDB_20120810.BatchGetItem", Bytes::from_static(b"{}"))
            .unwrap();
        let header = |name: &str| request.headers()[name].to_str().unwrap().to_owned();
        // The request line's path; the connection is to the endpoint's origin.
        assert_eq!(request.uri(), "/");
        assert_eq!(
            service.connections.origin(),
            "https://dynamodb.eu-west-1.amazonaws.com/"
        );
        assert_eq!(header("host"), "dynamodb.eu-west-1.amazonaws.com");
        assert_eq!(header("x-amz-security-token"), "the-token");
        // Neither secret shows when the request is printed.
        assert!(request.headers()["x-amz-security-token"].is_sensitive());
        assert!(request.headers()["authorization"].is_sensitive());
        let printed = format!("{request:?}");
        assert!(!printed.contains("the-token"), "{printed}");
        assert_eq!(header("content-type"), "application/x-amz-json-1.0");
        let authorization = header("authorization");
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/"),
            "{authorization}"
        );
        assert!(authorization.contains("/eu-west-1/dynamodb/aws4_request"));
        let signed = authorization
            .split("SignedHeaders=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap();
        for name in [
            "content-type",
            "host",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-target",
        ] {
            assert!(
                signed.split(';').any(|h| h == name),
                "{name} not in {signed}"
            );
        }
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        let http = AwsHttp::new(&config("http://127.0.0.1:1", None)).unwrap();
        for bad in ["", "dynamodb.example.com", "ftp://host/", "http://"] {
            assert!(
                JsonService::new(&http, bad, "dynamodb", "application/x-amz-json-1.0").is_err(),
                "{bad:?}"
            );
        }
        assert!(
            JsonService::new(
                &http,
                "http://127.0.0.1:8000",
                "dynamodb",
                "application/x-amz-json-1.0"
            )
            .is_ok()
        );
    }

    #[test]
    fn backoff_doubles_and_stays_bounded() {
        for retry in 0..3 {
            let base = BACKOFF_BASE * 2u32.pow(retry);
            let d = backoff(retry);
            assert!(d >= base / 2 && d < base, "{retry}: {d:?}");
        }
        assert!(backoff(u32::MAX) < BACKOFF_BASE * 1024);
    }

    #[test]
    fn jitter_stays_within_half_and_whole() {
        for _ in 0..100 {
            let d = jittered(Duration::from_millis(100));
            assert!(d >= Duration::from_millis(50) && d < Duration::from_millis(100));
        }
    }
}
