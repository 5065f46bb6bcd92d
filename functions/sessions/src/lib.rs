//! The caller's sessions (behind the authorizer):
//!
//! - `GET /sessions` → 200 `{"sessions": [{"id", "created_at", "last_used_at", "expires_at",
//!   "user_agent", "source_ip", "mfa", "current"}]}`: the caller's live sessions, newest first. Times
//!   are RFC 3339 (UTC); `last_used_at` is the login or the last refresh (the authorizer does not
//!   write on every call); `current` is `true` on the session the call is made with. No token
//!   material is ever listed.
//! - `DELETE /sessions/{id}` → 204: ends one of the caller's sessions at once — its access
//!   tokens are denied from the next request on and its refresh tokens are refused (ending the
//!   caller's own session also clears its browser's refresh cookie). 404
//!   `session_not_found` for an id that is not one of the caller's live sessions (another
//!   user's, an ended one, or one that cannot be an id), so ids of other users cannot be probed.
//!
//! 401 `unauthorized` without an authorizer identity; 503 when the store is unavailable.

use auth::store::{DeleteSession, ListSessions, SessionRecord};
use auth::{AuthError, SessionId, clock};
use auth_edge::api;
use auth_edge::delivery;
use auth_edge::runner::{Answer, Function};
use auth_edge::{Caller, caller};
use auth_sdk::store::DynamoSessions;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt as _, Response};
use serde::{Deserialize, Serialize};

/// What the sessions function reads from the environment: `SESSIONS_TABLE` and the DynamoDB settings.
pub type Config = auth::config::SessionsTableConfig;

/// One session as listed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionView {
    /// The session id (what `DELETE /sessions/{id}` takes).
    pub id: String,
    /// Login time.
    pub created_at: String,
    /// Time of the login or of the last refresh.
    pub last_used_at: String,
    /// When the session ends unless refreshed.
    pub expires_at: String,
    /// `User-Agent` of the login or last refresh.
    pub user_agent: String,
    /// Source IP of the login or last refresh.
    pub source_ip: String,
    /// Whether the login that opened it passed a second factor.
    pub mfa: bool,
    /// Whether this is the session the call is made with.
    pub current: bool,
}

impl SessionView {
    fn new(session: SessionRecord, caller: &Caller) -> Self {
        Self {
            current: session.session_id == caller.session_id,
            id: session.session_id.to_string(),
            created_at: clock::rfc3339(session.created_at_ms.div_euclid(1000)),
            last_used_at: clock::rfc3339(session.last_used_at),
            expires_at: clock::rfc3339(session.expires_at),
            user_agent: session.user_agent,
            source_ip: session.source_ip,
            mfa: session.mfa,
        }
    }
}

/// The 200 body of `GET /sessions`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionList {
    /// Live sessions, newest first.
    pub sessions: Vec<SessionView>,
}

/// The sessions handler over the sessions table.
#[derive(Debug, Clone)]
pub struct Handler<S> {
    sessions: S,
}

impl Handler<DynamoSessions> {
    /// The handler on DynamoDB, as the Lambda runs it.
    pub async fn from_config(config: &Config) -> Self {
        Self::new(auth_sdk::clients::sessions_table(config).await)
    }
}

impl<S: ListSessions + DeleteSession + Sync> Function for Handler<S> {
    fn metric(&self, req: &Request) -> Option<&'static str> {
        Some(if req.method() == Method::DELETE {
            "SessionRevocations"
        } else {
            "SessionListings"
        })
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let response = if req.method() == Method::DELETE {
            self.revoke(&req).await?
        } else {
            self.list(&req).await?
        };
        Ok((response, "success"))
    }
}

impl<S: ListSessions + DeleteSession + Sync> Handler<S> {
    /// A handler over `sessions`.
    pub fn new(sessions: S) -> Self {
        Self { sessions }
    }

    async fn list(&self, req: &Request) -> Result<Response<Body>, AuthError> {
        let caller = caller(req)?;
        tracing::Span::current().record("user_id", caller.user_id.as_str());
        let sessions = self
            .sessions
            .list_sessions(&caller.user_id, Some(&caller.session_id), clock::now())
            .await?;
        let body = SessionList {
            sessions: sessions
                .into_iter()
                .map(|s| SessionView::new(s, &caller))
                .collect(),
        };
        Ok(api::json_response(StatusCode::OK, &body))
    }

    async fn revoke(&self, req: &Request) -> Result<Response<Body>, AuthError> {
        let caller = caller(req)?;
        tracing::Span::current().record("user_id", caller.user_id.as_str());
        let params = req.path_parameters();
        let id = params
            .first("id")
            .and_then(|id| SessionId::parse(id).ok())
            .ok_or(AuthError::SessionNotFound)?;
        if !self
            .sessions
            .delete_session(&id, &caller.user_id, clock::now())
            .await?
        {
            return Err(AuthError::SessionNotFound);
        }
        let current = id == caller.session_id;
        tracing::info!(current, "session revoked");
        let response = api::empty_response(StatusCode::NO_CONTENT);
        // Ending the session this browser is signed in with also removes its refresh cookie.
        Ok(if current {
            delivery::clearing_refresh_cookie(response)
        } else {
            response
        })
    }
}
