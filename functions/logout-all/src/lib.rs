//! `POST /logout-all` (behind the authorizer): ends every session of the caller at once,
//! including the one the call is made with and one a concurrent login is starting.
//!
//! One write increments the caller's revocation generation; from the next request on the
//! authorizer denies every access token of a session that began before, and refresh refuses
//! their refresh tokens (both read the generation with the session, strongly consistent). Then
//! the ended session items are deleted — housekeeping only: if it fails the sessions are ended
//! all the same, and the answer is still 204 (which clears the caller's refresh cookie, for a
//! browser). No body is read.
//!
//! - 204; 401 `unauthorized` without an authorizer identity; 503 when the store is unavailable
//!   (nothing was ended then; retry).

use auth::AuthError;
use auth::store::RevokeAllSessions;
use auth_edge::api;
use auth_edge::caller;
use auth_edge::delivery;
use auth_edge::runner::{Answer, Function};
use auth_sdk::store::DynamoSessions;
use lambda_http::Request;
use lambda_http::http::StatusCode;

/// What logout-all reads from the environment: `SESSIONS_TABLE` and the DynamoDB settings.
pub type Config = auth::config::SessionsTableConfig;

/// The logout-all handler over the sessions table.
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

impl<S: RevokeAllSessions + Sync> Function for Handler<S> {
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        Some("LogoutAlls")
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let caller = caller(&req)?;
        tracing::Span::current().record("user_id", caller.user_id.as_str());
        let generation = self.sessions.bump_generation(&caller.user_id).await?;
        auth::store::clean_up_ended_sessions(&self.sessions, &caller.user_id, generation).await;
        let response =
            delivery::clearing_refresh_cookie(api::empty_response(StatusCode::NO_CONTENT));
        Ok((response, "success"))
    }
}

impl<S: RevokeAllSessions + Sync> Handler<S> {
    /// A handler over `sessions`.
    pub fn new(sessions: S) -> Self {
        Self { sessions }
    }
}
