//! `POST /logout` (behind the authorizer): ends the session the call is made with.
//!
//! Deletes the whitelist item of the caller's session (`sid`, only if it belongs to the caller);
//! from the next request on, the authorizer denies every access token of the session, and its
//! refresh token is refused; a browser's refresh cookie is cleared. Idempotent: 204 whether or
//! not the item was still there. No body is read.
//!
//! - 204; 401 `unauthorized` without an authorizer identity; 503 when the store is unavailable.

use auth::store::DeleteSession;
use auth::{AuthError, clock};
use auth_edge::api;
use auth_edge::caller;
use auth_edge::delivery;
use auth_edge::runner::{Answer, Function};
use auth_sdk::store::DynamoSessions;
use lambda_http::Request;
use lambda_http::http::StatusCode;

/// What logout reads from the environment: `SESSIONS_TABLE` and the DynamoDB settings.
pub type Config = auth::config::SessionsTableConfig;

/// The logout handler over a sessions store.
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

impl<S: DeleteSession + Sync> Function for Handler<S> {
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        Some("Logouts")
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let caller = caller(&req)?;
        tracing::Span::current().record("user_id", caller.user_id.as_str());
        let deleted = self
            .sessions
            .delete_session(&caller.session_id, &caller.user_id, clock::now())
            .await?;
        let outcome = if deleted {
            "logged_out"
        } else {
            "already_gone"
        };
        let response =
            delivery::clearing_refresh_cookie(api::empty_response(StatusCode::NO_CONTENT));
        Ok((response, outcome))
    }
}

impl<S: DeleteSession + Sync> Handler<S> {
    /// A handler over `sessions`.
    pub fn new(sessions: S) -> Self {
        Self { sessions }
    }
}
