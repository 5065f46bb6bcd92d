//! `POST /logout` (behind the authorizer): ends the session the call is made with.
//!
//! Deletes the whitelist item of the caller's session (`sid`, only if it belongs to the caller);
//! from the next request on, the authorizer denies every access token of the session, and its
//! refresh token is refused. Idempotent: 204 whether or not the item was still there. No body is
//! read.
//!
//! - 204; 401 `unauthorized` without an authorizer identity; 503 when the store is unavailable.

use auth::api::{self, caller};
use auth::store::DeleteSession;
use auth::store::dynamo::DynamoSessions;
use auth::telemetry::metrics;
use auth::{AuthError, clock};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::Instrument as _;

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
        Self::new(config.sessions().await)
    }
}

impl<S: DeleteSession + Sync> Handler<S> {
    /// A handler over `sessions`.
    pub fn new(sessions: S) -> Self {
        Self { sessions }
    }

    /// Handles one request; errors become responses here.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let span = api::request_span(&req);
        async move {
            let result = self.logout(req).await;
            let outcome = match &result {
                Ok((_, true)) => "logged_out",
                Ok((_, false)) => "already_gone",
                Err(e) => api::status_and_code(e).1,
            };
            metrics::count("Logouts", &[("Outcome", outcome)]);
            api::respond(result.map(|(response, _)| response))
        }
        .instrument(span)
        .await
    }

    /// The response, and whether a session was ended.
    async fn logout(&self, req: Request) -> Result<(Response<Body>, bool), AuthError> {
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
        tracing::info!(outcome, "logout");
        Ok((api::empty_response(StatusCode::NO_CONTENT), deleted))
    }
}
