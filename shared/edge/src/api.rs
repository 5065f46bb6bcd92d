//! The HTTP edge shared by the `lambda_http` functions: JSON request bodies in, JSON responses
//! out, the authorizer's identity from the request context, and the one place where an
//! [`AuthError`] becomes a response.
//!
//! Error responses all have the body `{"error": "<code>", "message": "<text>"}` (plus `"field"`
//! when one request field is at fault). Codes are stable and machine-readable:
//!
//! | status | `error` | when |
//! |---|---|---|
//! | 400 | `invalid_request` | malformed JSON, wrong types, missing or unknown fields, a field breaking its rules |
//! | 401 | `invalid_credentials` | unknown username or wrong password (one answer for both) |
//! | 401 | `invalid_refresh_token` | refresh with a token that is unknown, expired, revoked or reused |
//! | 401 | `invalid_mfa_token` | `POST /login/mfa` with a challenge that is not ours, expired, used or replaced |
//! | 401 | `invalid_code` | a TOTP or recovery code that is wrong or already used |
//! | 401 | `unauthorized` | no identity from the authorizer on a protected route |
//! | 403 | `csrf_rejected` | a browser's cookie delivery or cookie refresh from a foreign origin |
//! | 404 | `session_not_found` | `DELETE /sessions/{id}` for an id that is not one of the caller's live sessions |
//! | 404 | `user_not_found` | an operator route (`/admin/users/{username}/…`) for a username without an account |
//! | 404 | `no_public_keys` | `/.well-known/…` of a deployment that signs with HS256 (a shared secret: nothing to publish) |
//! | 409 | `username_taken` | register with a taken username |
//! | 409 | `mfa_state` | two-factor sign-in is not in the state the request needs (already on, off, nothing to confirm) |
//! | 429 | `too_many_requests` | a password or code check (login's two steps, `/password`, `DELETE /me`, `DELETE /mfa/totp`) for a username with too many recent failures (`Retry-After`) |
//! | 413 | `payload_too_large` | body over [`MAX_BODY_BYTES`] |
//! | 415 | `unsupported_media_type` | body not sent as `application/json` |
//! | 500 | `internal_error` | a bug or misconfiguration (details only in the logs) |
//! | 503 | `service_unavailable` | the store timed out, failed or throttled; retry later |

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use auth::error::AuthError;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// Stable machine-readable code.
    pub error: &'a str,
    /// Human-readable explanation; never internal details.
    pub message: String,
    /// The request field at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
}

/// A JSON response with `status`. Responses are never cached (`Cache-Control: no-store`): they
/// carry tokens and account data.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let body = serde_json::to_string(value).expect("response types serialise infallibly");
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An empty response with `status` (e.g. 204).
pub fn empty_response(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The status and code an error maps to.
pub fn status_and_code(err: &AuthError) -> (StatusCode, &'static str) {
    match err {
        AuthError::InvalidRequest(_) | AuthError::InvalidValue(_) | AuthError::WrongType { .. } => {
            (StatusCode::BAD_REQUEST, "invalid_request")
        }
        AuthError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        AuthError::UnsupportedMediaType => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        }
        AuthError::UsernameTaken => (StatusCode::CONFLICT, "username_taken"),
        AuthError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        AuthError::InvalidRefreshToken => (StatusCode::UNAUTHORIZED, "invalid_refresh_token"),
        AuthError::SessionNotFound => (StatusCode::NOT_FOUND, "session_not_found"),
        AuthError::UserNotFound => (StatusCode::NOT_FOUND, "user_not_found"),
        AuthError::NoPublicKeys => (StatusCode::NOT_FOUND, "no_public_keys"),
        AuthError::CsrfRejected => (StatusCode::FORBIDDEN, "csrf_rejected"),
        AuthError::InvalidMfaToken => (StatusCode::UNAUTHORIZED, "invalid_mfa_token"),
        AuthError::InvalidCode => (StatusCode::UNAUTHORIZED, "invalid_code"),
        AuthError::MfaState(_) => (StatusCode::CONFLICT, "mfa_state"),
        AuthError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
        AuthError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
        AuthError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
        AuthError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
    }
}

/// The one mapping from errors to responses. Server-side errors are logged with their whole
/// cause chain; the client gets only the code and a fixed message.
pub fn error_response(err: &AuthError) -> Response<Body> {
    let (status, code) = status_and_code(err);
    let (message, field) = match err {
        AuthError::InvalidValue(v) => (v.to_string(), Some(v.field)),
        AuthError::WrongType { field, .. } => (err.to_string(), Some(field.as_str())),
        AuthError::Unavailable(_) => {
            tracing::error!(error = %chain(err), "store unavailable");
            (
                "the service is temporarily unavailable; retry later".to_owned(),
                None,
            )
        }
        AuthError::Internal(_) => {
            tracing::error!(error = %chain(err), "internal error");
            ("internal error".to_owned(), None)
        }
        AuthError::Unauthorized(why) => {
            tracing::warn!(reason = why, "unauthorized");
            ("authentication required".to_owned(), None)
        }
        other => (other.to_string(), None),
    };
    let mut response = json_response(
        status,
        &ErrorBody {
            error: code,
            message,
            field,
        },
    );
    let retry_after = match err {
        AuthError::Unavailable(_) => Some(1),
        AuthError::TooManyRequests { retry_after } => Some(*retry_after),
        _ => None,
    };
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&seconds.to_string()).expect("digits are a valid header value"),
        );
    }
    response
}

/// The 200 body of login and refresh: a new access token and a new refresh token.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct TokenResponse {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The refresh token (opaque; send it to `POST /refresh`); absent when it was delivered as
    /// a cookie ([`crate::delivery`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

/// Who is calling, as far as a session records it: the `User-Agent` header (decoded as UTF-8,
/// invalid bytes replaced; cut to [`auth::store::MAX_USER_AGENT_BYTES`] at a character
/// boundary; empty if absent) and the source IP API Gateway saw (empty if unknown).
pub fn client_of(req: &Request) -> (String, String) {
    let mut agent = req
        .headers()
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    if agent.len() > auth::store::MAX_USER_AGENT_BYTES {
        let mut end = auth::store::MAX_USER_AGENT_BYTES;
        while !agent.is_char_boundary(end) {
            end -= 1;
        }
        agent.truncate(end);
    }
    let ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    (agent, ip.unwrap_or_default())
}

/// The span of one API request, with API Gateway's route key and request id, and Lambda's ids
/// where a Lambda runs it ([`LambdaIds`]); handlers record
/// `user_id` in it once they know the caller.
pub fn request_span(req: &Request) -> tracing::Span {
    let (route, request_id) = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            (ctx.route_key.as_deref(), ctx.request_id.as_deref())
        }
        _ => (None, None),
    };
    let lambda = LambdaIds::of(req.lambda_context_ref());
    tracing::info_span!(
        "request",
        route = route.unwrap_or("-"),
        request_id = request_id.unwrap_or("-"),
        user_id = tracing::field::Empty,
        lambda_request_id = lambda.request_id,
        xray_trace_id = lambda.xray_trace_id,
        tenant_id = lambda.tenant_id,
    )
}

/// Lambda's ids of an invocation, for its span: what `lambda_runtime`'s own span carried, which
/// the runner leaves out so that each invocation has one span rather than two
/// ([`crate::runner`]). All `None` where no Lambda runs the handler (the local server, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct LambdaIds<'a> {
    /// The invocation's request id (the `RequestId` of its `START` and `REPORT` lines).
    pub request_id: Option<&'a str>,
    /// The X-Ray trace id, when Lambda passes one.
    pub xray_trace_id: Option<&'a str>,
    /// The tenant id, for a function with tenant isolation.
    pub tenant_id: Option<&'a str>,
}

impl<'a> LambdaIds<'a> {
    /// The ids of the invocation `context`, if a Lambda runs it.
    pub fn of(context: Option<&'a lambda_http::Context>) -> Self {
        match context {
            Some(context) => Self {
                request_id: Some(context.request_id.as_str()),
                xray_trace_id: context.xray_trace_id.as_deref(),
                tenant_id: context.tenant_id.as_deref(),
            },
            None => Self::default(),
        }
    }
}

/// The outcome label of a handler's result for logs and metrics: `success` on success, else the
/// error's code (e.g. `invalid_credentials`).
pub fn outcome<'a>(result: &Result<Response<Body>, AuthError>, success: &'a str) -> &'a str {
    match result {
        Ok(_) => success,
        Err(e) => status_and_code(e).1,
    }
}

/// A handler's result as a response: `Ok` as it is, `Err` through [`error_response`].
pub fn respond(result: Result<Response<Body>, AuthError>) -> Response<Body> {
    result.unwrap_or_else(|e| error_response(&e))
}

pub use auth::error::chain;

/// Parses the request body as JSON into `T`. The body must be sent as `application/json`
/// (charset parameters allowed), be at most [`MAX_BODY_BYTES`] long and be a JSON object
/// without duplicated keys;
/// bodies API Gateway base64-encoded have been decoded by `lambda_http` already.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, AuthError> {
    let bytes = body_bytes(req);
    if bytes.len() > MAX_BODY_BYTES {
        return Err(AuthError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(AuthError::UnsupportedMediaType);
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AuthError::InvalidRequest(
            "request body must be a JSON object".into(),
        ));
    }
    // Straight into `T`: a duplicated key is refused rather than silently resolved. The path
    // of the field at fault is tracked, so that a wrong type can name it.
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let e = e.into_inner();
        match e.classify() {
            serde_json::error::Category::Data => match wrong_type(&e) {
                Some(expected) if field != "." => AuthError::WrongType { field, expected },
                _ => AuthError::InvalidRequest(describe_data_error(&e)),
            },
            _ => AuthError::InvalidRequest("request body is not valid JSON".into()),
        }
    })?;
    de.end()
        .map_err(|_| AuthError::InvalidRequest("request body is not valid JSON".into()))?;
    Ok(value)
}

/// The request body's bytes (empty for no body).
pub fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    }
}

/// What was expected, for an "invalid type" error (without the value the client sent).
fn wrong_type(err: &serde_json::Error) -> Option<String> {
    let text = err.to_string();
    let expected = text
        .strip_prefix("invalid type")?
        .split(", expected ")
        .nth(1)?;
    Some(
        expected
            .split(" at line ")
            .next()
            .unwrap_or(expected)
            .to_owned(),
    )
}

/// serde's message for a data error, without echoing values the client sent (they could be a
/// password).
fn describe_data_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    if text.starts_with("missing field")
        || text.starts_with("unknown field")
        || text.starts_with("duplicate field")
    {
        // e.g. "missing field `password`", "unknown field `x`, expected `username` or …"
        return text.split(" at line ").next().unwrap_or(&text).to_owned();
    }
    if text.starts_with("invalid type") {
        // "invalid type: integer `5`, expected a string": keep only what was expected.
        if let Some(expected) = text.split(", expected ").nth(1) {
            let expected = expected.split(" at line ").next().unwrap_or(expected);
            return format!("a field has the wrong type: expected {expected}");
        }
    }
    "request body does not have the expected fields".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_agent(agent: Option<&[u8]>) -> Request {
        let mut req = lambda_http::http::Request::builder();
        if let Some(a) = agent {
            req = req.header(header::USER_AGENT, HeaderValue::from_bytes(a).unwrap());
        }
        req.body(Body::Empty).unwrap()
    }

    #[test]
    fn user_agents_are_kept_as_text_and_cut_at_a_character() {
        assert_eq!(client_of(&with_agent(None)).0, "");
        assert_eq!(client_of(&with_agent(Some(b"curl/8.5.0"))).0, "curl/8.5.0");
        assert_eq!(
            client_of(&with_agent(Some("a\u{20ac}b".as_bytes()))).0,
            "a\u{20ac}b"
        );
        // Not UTF-8 (Latin-1 "café"): kept, with the byte replaced.
        assert_eq!(client_of(&with_agent(Some(b"caf\xe9"))).0, "caf\u{fffd}");
        let long = "\u{e9}".repeat(400);
        let cut = client_of(&with_agent(Some(long.as_bytes()))).0;
        assert_eq!(cut.len(), auth::store::MAX_USER_AGENT_BYTES);
        assert!(cut.chars().all(|c| c == '\u{e9}'));
        let odd = format!("x{long}");
        let cut = client_of(&with_agent(Some(odd.as_bytes()))).0;
        assert_eq!(cut.len(), auth::store::MAX_USER_AGENT_BYTES - 1);
    }
}
