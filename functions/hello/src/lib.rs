//! `GET /hello` (behind the authorizer): the example of a route of your own. Copy this crate to
//! add one; docs/adding-a-route.md lists every step (template, local server, events, tests).
//!
//! The pattern it shows:
//! - The authorizer has already verified the access token and checked its session, with one
//!   strongly consistent read, before this function runs. The function does not see the token
//!   and does not verify anything again: it reads who is calling from the authorizer's context
//!   through [`auth_edge::caller`], a typed [`auth_edge::Caller`] (`user_id`, `username`,
//!   `session_id`, each parsed).
//! - Without that context (a route deployed without `Auth: Authorizer: SessionAuthorizer`) it
//!   answers 401 `unauthorized` rather than serve an anonymous caller.
//! - It answers JSON through [`auth_edge::api::json_response`]; errors become the service's
//!   stable error body in one place (`auth_edge::api::error_response`).
//! - Its IAM role has no policy of its own: it calls no AWS service (`template.yaml`).
//!
//! - 200 `{"message": "Hello, alice", "user_id", "username", "session_id"}`

use auth::AuthError;
use auth_edge::api;
use auth_edge::caller;
use auth_edge::runner::{Answer, Function};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Serialize;

/// The 200 body.
#[derive(Debug, Serialize)]
pub struct Hello<'a> {
    /// A greeting with the caller's name.
    pub message: String,
    /// The caller's account id (the token's `sub`).
    pub user_id: &'a str,
    /// The caller's username.
    pub username: &'a str,
    /// The session the call is made with (the token's `sid`; `GET /sessions` lists it as `id`).
    pub session_id: &'a str,
}

/// The handler. It holds nothing: a route with data of its own holds its store client here,
/// built once per cold start (`functions/user-info` does so).
#[derive(Debug, Clone, Copy, Default)]
pub struct Handler;

impl Function for Handler {
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        None
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let caller = caller(&req)?;
        // Every log line of this request then carries the caller's id (never a token).
        tracing::Span::current().record("user_id", caller.user_id.as_str());
        let body = Hello {
            message: format!("Hello, {}", caller.username.as_str()),
            user_id: caller.user_id.as_str(),
            username: caller.username.as_str(),
            session_id: caller.session_id.as_str(),
        };
        Ok((api::json_response(StatusCode::OK, &body), "success"))
    }
}
