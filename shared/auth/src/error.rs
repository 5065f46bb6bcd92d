//! The service's error type. Every variant keeps its cause (`#[source]`) for the logs;
//! `auth_edge::api::error_response` is the one place that turns them into HTTP responses, and
//! only the variant's public code and message reach the client.

use std::error::Error as StdError;

use crate::domain::InvalidValue;

/// A boxed error cause.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The request body or a field in it is not acceptable.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A field of the body has the wrong JSON type.
    #[error("field `{field}` has the wrong type: expected {expected}")]
    WrongType {
        /// The field, as a path into the body (e.g. `refresh_token`).
        field: String,
        /// What was expected, e.g. `a string`.
        expected: String,
    },
    /// A field value broke the rules for its type.
    #[error(transparent)]
    InvalidValue(#[from] InvalidValue),
    /// The request body is larger than the documented limit.
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The request body is not `application/json`.
    #[error("unsupported content type")]
    UnsupportedMediaType,
    /// Registration for a username that is already taken.
    #[error("username already taken")]
    UsernameTaken,
    /// Unknown username or wrong password: deliberately one error for both.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Too many failed logins for this username: try again after `retry_after` seconds.
    #[error("too many failed attempts; retry after {retry_after} seconds")]
    TooManyRequests {
        /// Seconds until the next attempt is accepted.
        retry_after: u64,
    },
    /// A refresh token that is unknown, expired, revoked or already used.
    #[error("the refresh token is invalid, expired or revoked")]
    InvalidRefreshToken,
    /// A browser (cookie) token delivery refused as possibly cross-site: the request lacks the
    /// `Token-Delivery: cookie` header, or comes from an origin that is neither the API's own nor
    /// allowed.
    #[error(
        "a refresh with the cookie needs the Token-Delivery: cookie header and an allowed Origin"
    )]
    CsrfRejected,
    /// No session with this id among the caller's live sessions.
    #[error("no such session")]
    SessionNotFound,
    /// An operator route named a username that has no account.
    #[error("no such user")]
    UserNotFound,
    /// The key set was asked for, but tokens are signed with a shared secret (HS256): there
    /// is no public key to publish.
    #[error(
        "this service signs its tokens with a shared secret (HS256): it has no public keys to publish"
    )]
    NoPublicKeys,
    /// A two-factor sign-in challenge (`mfa_token`) that is not ours, has expired, was already
    /// used, or was replaced by a newer password step: the sign-in starts again.
    #[error("the sign-in challenge is invalid, expired or already used; sign in again")]
    InvalidMfaToken,
    /// A TOTP or recovery code that is wrong, outside the accepted steps, or already used.
    #[error("the code is wrong or was already used")]
    InvalidCode,
    /// The two-factor setting is not in the state the request needs (e.g. confirming with no
    /// enrolment started, enrolling when it is already on, turning off what is off).
    #[error("{0}")]
    MfaState(&'static str),
    /// No valid identity for a route that needs one.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The store could not be reached in time, or throttled us; worth retrying.
    #[error("store unavailable")]
    Unavailable(#[source] StoreError),
    /// Anything else: a bug or a misconfiguration. Logged, never described to the client.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl AuthError {
    /// An internal error from any cause.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self::Internal(cause.into())
    }
}

impl From<StoreError> for AuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => Self::Unavailable(err),
            other => Self::Internal(Box::new(other)),
        }
    }
}

/// Errors of the session and user stores.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional create found the key taken.
    #[error("an item with this key already exists")]
    AlreadyExists,
    /// Transient: timeout, connection failure, throttling, a 5xx from the service.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// The service refused the request for a reason that retrying will not fix (a missing table,
    /// a validation error, missing permissions).
    #[error("store request failed")]
    Backend(#[source] BoxError),
    /// An item in the store does not have the shape this code writes.
    #[error("malformed item: {0}")]
    Malformed(String),
}

/// An error and all its causes, `outer: inner: innermost`.
pub fn chain(err: &dyn StdError) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
