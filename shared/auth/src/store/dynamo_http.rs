//! The authorizer's session read, spoken to DynamoDB directly: one SigV4-signed `BatchGetItem`
//! over a kept-alive HTTP/1.1 connection, without the AWS SDK's request pipeline.
//!
//! The authorizer runs on every protected request and does exactly one DynamoDB call, so the
//! SDK's per-request machinery (interceptors, endpoint rules, identity resolution, retry
//! partitions) and its start-up (the configuration chain, loading the system trust store) were
//! most of its CPU per invocation and of its cold start (bench/RESULTS.md). This module does the
//! same read with the same guarantees and nothing else:
//!
//! - the request is [`DynamoSessions`](super::dynamo::DynamoSessions)'s `get_session`: a strongly
//!   consistent `BatchGetItem` of the session item and its owner's revocation marker, judged by
//!   the same rule ([`SessionLookup::judge`]) from items parsed by the same code;
//! - signing is AWS's own `aws-sigv4`; credentials and region come from the variables Lambda sets
//!   (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`);
//! - TLS is rustls on aws-lc-rs with the Mozilla root set compiled in (`webpki-roots`), so no
//!   trust store is read from disk at start-up;
//! - the whole call is bounded by `DYNAMODB_TIMEOUT_MS` and one attempt by half of it; transient
//!   failures (connection errors, timeouts, throttling, 5xx — the same codes as the SDK store
//!   treats so) are retried while time is left, after a short jittered back-off, and end as
//!   [`StoreError::Unavailable`]; refusals (validation, access denied, a bad signature) are
//!   [`StoreError::Backend`] at once. Keys DynamoDB leaves unprocessed are asked for again.
//!
//! Every other store operation stays on the SDK ([`super::dynamo`]); this one is tested against
//! the same server (moto, with signature checking switched on for the signing tests) and the
//! same conformance cases.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use serde::{Deserialize, Serialize};

use super::dynamo::{Item, TRANSIENT_CODES, generation, judge, marker_key, timed};
use super::{GetSession, SessionLookup};
use crate::domain::{SessionId, UserId};
use crate::error::{BoxError, StoreError};

/// How many times keys that DynamoDB left unprocessed are asked for (as the SDK store does).
const BATCH_ROUNDS: usize = 4;
/// The first retry waits up to this long (full jitter), doubling per retry.
const BACKOFF_BASE: Duration = Duration::from_millis(20);

/// AWS credentials, as Lambda hands them to a function.
#[derive(Clone)]
pub struct AwsCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
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

/// Where and as whom to call DynamoDB.
#[derive(Debug, Clone)]
pub struct DirectConfig {
    /// The endpoint, e.g. `https://dynamodb.eu-west-1.amazonaws.com` or a local server.
    pub endpoint: String,
    /// The signing region.
    pub region: String,
    /// The signing credentials.
    pub credentials: AwsCredentials,
    /// The whole call, retries included.
    pub timeout: Duration,
}

/// DynamoDB's regional endpoint in `region` (the `aws-cn` partition for `cn-` regions).
pub fn regional_endpoint(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("https://dynamodb.{region}.amazonaws.com.cn")
    } else {
        format!("https://dynamodb.{region}.amazonaws.com")
    }
}

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// The session read on DynamoDB without the SDK: [`GetSession`] only (see the module docs).
#[derive(Clone)]
pub struct DirectSessions {
    inner: Arc<Inner>,
}

struct Inner {
    http: HyperClient<Https, Full<Bytes>>,
    uri: http::Uri,
    host: http::HeaderValue,
    region: String,
    identity: aws_smithy_runtime_api::client::identity::Identity,
    table: String,
    timeout: Duration,
}

impl std::fmt::Debug for DirectSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectSessions")
            .field("endpoint", &self.inner.uri)
            .field("region", &self.inner.region)
            .field("table", &self.inner.table)
            .finish_non_exhaustive()
    }
}

/// Why a [`DirectSessions`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DirectConfigError {
    /// The endpoint is not an absolute http(s) URL.
    #[error("the DynamoDB endpoint {0:?} is not an http(s) URL with a host")]
    Endpoint(String),
    /// rustls refused the protocol versions (never with its own provider).
    #[error("TLS configuration failed")]
    Tls(#[source] rustls::Error),
}

impl DirectSessions {
    /// A reader of `table` as `config` says: builds the TLS configuration and the connection pool
    /// (no connection is opened until the first call).
    pub fn new(config: &DirectConfig, table: impl Into<String>) -> Result<Self, DirectConfigError> {
        let uri: http::Uri = config
            .endpoint
            .parse()
            .map_err(|_| DirectConfigError::Endpoint(config.endpoint.clone()))?;
        let authority = match (uri.scheme_str(), uri.authority()) {
            (Some("http" | "https"), Some(authority)) => authority.clone(),
            _ => return Err(DirectConfigError::Endpoint(config.endpoint.clone())),
        };
        let host = http::HeaderValue::from_str(authority.as_str())
            .map_err(|_| DirectConfigError::Endpoint(config.endpoint.clone()))?;
        let uri = http::Uri::builder()
            .scheme(uri.scheme_str().unwrap_or("https"))
            .authority(authority)
            .path_and_query("/")
            .build()
            .map_err(|_| DirectConfigError::Endpoint(config.endpoint.clone()))?;
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
        let http = HyperClient::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(50))
            .build(connector);
        let credentials = &config.credentials;
        let identity = aws_credential_types::Credentials::new(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            credentials.session_token.clone(),
            None,
            "environment",
        )
        .into();
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                uri,
                host,
                region: config.region.clone(),
                identity,
                table: table.into(),
                timeout: config.timeout,
            }),
        })
    }

    /// Strongly consistent reads of `pks` (at most 100), within the configured timeout.
    async fn batch_get(&self, pks: &[&str]) -> Result<Vec<Item>, StoreError> {
        let deadline = Instant::now() + self.inner.timeout;
        let mut pending: Vec<String> = pks.iter().map(|pk| (*pk).to_owned()).collect();
        let mut items = Vec::new();
        for _ in 0..BATCH_ROUNDS {
            let body = self.batch_body(&pending)?;
            let answer = timed(
                "BatchGetItem",
                self.call("DynamoDB_20120810.BatchGetItem", body, deadline),
            )
            .await?;
            let answer: BatchGetOutput = serde_json::from_slice(&answer).map_err(|e| {
                StoreError::Malformed(format!("BatchGetItem answer is not the expected JSON: {e}"))
            })?;
            let mut responses = answer.responses;
            items.extend(
                responses
                    .remove(&self.inner.table)
                    .unwrap_or_default()
                    .into_iter()
                    .map(Wire::into_item),
            );
            let mut unprocessed = answer.unprocessed_keys;
            match unprocessed.remove(&self.inner.table) {
                Some(rest) if !rest.keys.is_empty() => {
                    pending = rest
                        .keys
                        .into_iter()
                        .map(|key| match key.get("pk") {
                            Some(WireValue { s: Some(pk), .. }) => Ok(pk.clone()),
                            _ => Err(StoreError::Malformed(
                                "an unprocessed key without a string pk".into(),
                            )),
                        })
                        .collect::<Result<_, _>>()?;
                }
                _ => return Ok(items),
            }
        }
        Err(StoreError::Unavailable(
            "DynamoDB left keys of a batch read unprocessed".into(),
        ))
    }

    fn batch_body(&self, pks: &[String]) -> Result<Bytes, StoreError> {
        let keys = pks
            .iter()
            .map(|pk| KeyOut {
                pk: StringValue { s: pk },
            })
            .collect();
        let request = BatchGetInput {
            request_items: HashMap::from([(
                self.inner.table.as_str(),
                KeysOut {
                    keys,
                    consistent_read: true,
                },
            )]),
        };
        serde_json::to_vec(&request)
            .map(Bytes::from)
            .map_err(|e| StoreError::Backend(Box::new(e)))
    }

    /// One operation: attempts until an answer, a refusal, or the deadline.
    async fn call(
        &self,
        target: &'static str,
        body: Bytes,
        deadline: Instant,
    ) -> Result<Bytes, StoreError> {
        let attempt_limit = self.inner.timeout / 2;
        let mut retry = 0u32;
        loop {
            let now = Instant::now();
            let left = deadline.saturating_duration_since(now);
            let error = match tokio::time::timeout(
                left.min(attempt_limit),
                self.attempt(target, body.clone()),
            )
            .await
            {
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err(Failure::Refused(e))) => return Err(StoreError::Backend(e)),
                Ok(Err(Failure::Transient(e))) => e,
                Err(_) => "DynamoDB did not answer in time".into(),
            };
            let backoff = jittered(BACKOFF_BASE * 2u32.saturating_pow(retry));
            retry += 1;
            if Instant::now() + backoff >= deadline {
                return Err(StoreError::Unavailable(error));
            }
            tracing::debug!(error = %error, retry, "retrying a DynamoDB call");
            tokio::time::sleep(backoff).await;
        }
    }

    async fn attempt(&self, target: &'static str, body: Bytes) -> Result<Bytes, Failure> {
        let request = self
            .signed_request(target, body)
            .map_err(|e| Failure::Refused(e.into()))?;
        let response = self
            .inner
            .http
            .request(request)
            .await
            .map_err(|e| Failure::Transient(Box::new(e)))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| Failure::Transient(Box::new(e)))?
            .to_bytes();
        if status.is_success() {
            return Ok(body);
        }
        let error = ServiceError::from_answer(status, &body);
        if status.is_server_error() || TRANSIENT_CODES.contains(&error.code.as_str()) {
            Err(Failure::Transient(Box::new(error)))
        } else {
            Err(Failure::Refused(Box::new(error)))
        }
    }

    fn signed_request(
        &self,
        target: &'static str,
        body: Bytes,
    ) -> Result<http::Request<Full<Bytes>>, aws_sigv4::http_request::SigningError> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let inner = &*self.inner;
        let host = inner.host.to_str().unwrap_or_default();
        let headers = [
            ("host", host),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", target),
        ];
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&inner.identity)
            .region(&inner.region)
            .name("dynamodb")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("every signing parameter is set")
            .into();
        let uri = inner.uri.to_string();
        let signable = SignableRequest::new(
            "POST",
            &uri,
            headers.iter().copied(),
            SignableBody::Bytes(&body),
        )?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        let mut request = http::Request::post(inner.uri.clone())
            .header(http::header::HOST, inner.host.clone())
            .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .header("x-amz-target", target)
            .body(Full::new(body))
            .expect("a request built from valid parts");
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

impl GetSession for DirectSessions {
    async fn get_session(
        &self,
        id: &SessionId,
        owner: &UserId,
        now: i64,
    ) -> Result<SessionLookup, StoreError> {
        let marker_pk = marker_key(owner);
        let items = self.batch_get(&[id.as_str(), &marker_pk]).await?;
        let find = |pk: &str| {
            items
                .iter()
                .find(|item| matches!(item.get("pk"), Some(AttributeValue::S(v)) if v == pk))
        };
        let marker = find(&marker_pk).map(generation).transpose()?.unwrap_or(0);
        judge(find(id.as_str()), owner, marker, now)
    }
}

/// An attempt's failure: worth another attempt or not.
enum Failure {
    Transient(BoxError),
    Refused(BoxError),
}

/// `base` scaled by a random factor in [0.5, 1).
fn jittered(base: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let random = aws_lc_rs::rand::fill(&mut byte).map_or(128, |()| byte[0]);
    base / 2 + base.mul_f64(f64::from(random) / 512.0)
}

/// DynamoDB's error answer: `{"__type": "com.amazonaws.dynamodb.v20120810#Code", "message": …}`.
#[derive(Debug)]
pub struct ServiceError {
    status: http::StatusCode,
    /// The error code, e.g. `ProvisionedThroughputExceededException`.
    pub code: String,
    message: String,
}

impl ServiceError {
    fn from_answer(status: http::StatusCode, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(rename = "__type", default)]
            kind: String,
            #[serde(alias = "Message", default)]
            message: String,
        }
        let answer = serde_json::from_slice::<Answer>(body).unwrap_or(Answer {
            kind: String::new(),
            message: String::new(),
        });
        let code = answer
            .kind
            .rsplit_once('#')
            .map_or(answer.kind.as_str(), |(_, code)| code)
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
        write!(
            f,
            "DynamoDB answered {} {}: {}",
            self.status.as_u16(),
            if self.code.is_empty() {
                "(no code)"
            } else {
                &self.code
            },
            self.message
        )
    }
}

impl std::error::Error for ServiceError {}

#[derive(Serialize)]
struct BatchGetInput<'a> {
    #[serde(rename = "RequestItems")]
    request_items: HashMap<&'a str, KeysOut<'a>>,
}

#[derive(Serialize)]
struct KeysOut<'a> {
    #[serde(rename = "Keys")]
    keys: Vec<KeyOut<'a>>,
    #[serde(rename = "ConsistentRead")]
    consistent_read: bool,
}

#[derive(Serialize)]
struct KeyOut<'a> {
    pk: StringValue<'a>,
}

#[derive(Serialize)]
struct StringValue<'a> {
    #[serde(rename = "S")]
    s: &'a str,
}

#[derive(Deserialize)]
struct BatchGetOutput {
    #[serde(rename = "Responses", default)]
    responses: HashMap<String, Vec<Wire>>,
    #[serde(rename = "UnprocessedKeys", default)]
    unprocessed_keys: HashMap<String, KeysIn>,
}

#[derive(Deserialize)]
struct KeysIn {
    #[serde(rename = "Keys", default)]
    keys: Vec<HashMap<String, WireValue>>,
}

/// An item in DynamoDB's JSON: attribute name → typed value.
#[derive(Deserialize)]
#[serde(transparent)]
struct Wire(HashMap<String, WireValue>);

/// One attribute value; only strings and numbers are read (the session items hold nothing else),
/// any other type is left out, so that code reading it reports the attribute as malformed.
#[derive(Deserialize)]
struct WireValue {
    #[serde(rename = "S")]
    s: Option<String>,
    #[serde(rename = "N")]
    n: Option<String>,
}

impl Wire {
    fn into_item(self) -> Item {
        self.0
            .into_iter()
            .filter_map(|(name, value)| match value {
                WireValue { s: Some(s), .. } => Some((name, AttributeValue::S(s))),
                WireValue { n: Some(n), .. } => Some((name, AttributeValue::N(n))),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_by_partition() {
        assert_eq!(
            regional_endpoint("eu-west-1"),
            "https://dynamodb.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            regional_endpoint("cn-north-1"),
            "https://dynamodb.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn error_codes_are_read_from_the_type() {
        let error = ServiceError::from_answer(
            http::StatusCode::BAD_REQUEST,
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}"#,
        );
        assert_eq!(error.code, "ProvisionedThroughputExceededException");
        assert!(
            error
                .to_string()
                .contains("400 ProvisionedThroughputExceededException: slow down")
        );
        let error = ServiceError::from_answer(http::StatusCode::BAD_GATEWAY, b"<html>");
        assert_eq!(error.code, "");
        assert!(error.to_string().contains("502 (no code)"));
    }

    #[test]
    fn items_keep_strings_and_numbers_only() {
        let wire: Wire = serde_json::from_str(
            r#"{"pk":{"S":"a"},"generation":{"N":"3"},"flag":{"BOOL":true},"tags":{"SS":["x"]}}"#,
        )
        .unwrap();
        let item = wire.into_item();
        assert_eq!(item.len(), 2);
        assert_eq!(item["pk"], AttributeValue::S("a".into()));
        assert_eq!(item["generation"], AttributeValue::N("3".into()));
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
        let config = DirectConfig {
            endpoint: "https://dynamodb.eu-west-1.amazonaws.com".into(),
            region: "eu-west-1".into(),
            credentials: AwsCredentials::new("ASIAEXAMPLE", "secret", Some("the-token".into())),
            timeout: Duration::from_secs(1),
        };
        let reader = DirectSessions::new(&config, "sessions").unwrap();
        let request = reader
            .signed_request("DynamoDB_20120810.BatchGetItem", Bytes::from_static(b"{}"))
            .unwrap();
        let header = |name: &str| request.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(request.uri(), "https://dynamodb.eu-west-1.amazonaws.com/");
        assert_eq!(header("host"), "dynamodb.eu-west-1.amazonaws.com");
        assert_eq!(header("x-amz-security-token"), "the-token");
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
        let mut config = DirectConfig {
            endpoint: String::new(),
            region: "us-east-1".into(),
            credentials: AwsCredentials::new("a", "b", None),
            timeout: Duration::from_secs(1),
        };
        for bad in ["", "dynamodb.example.com", "ftp://host/", "http://"] {
            config.endpoint = bad.into();
            assert!(DirectSessions::new(&config, "t").is_err(), "{bad:?}");
        }
        config.endpoint = "http://127.0.0.1:8000".into();
        assert!(DirectSessions::new(&config, "t").is_ok());
    }

    #[test]
    fn jitter_stays_within_half_and_whole() {
        for _ in 0..100 {
            let d = jittered(Duration::from_millis(100));
            assert!(d >= Duration::from_millis(50) && d < Duration::from_millis(100));
        }
    }
}
