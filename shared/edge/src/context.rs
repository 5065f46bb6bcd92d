//! The contract between the authorizer and the functions behind it, as one typed value both
//! sides use: the authorizer answers an allow with an [`AuthorizerContext`], API Gateway hands
//! it to the protected function in `requestContext.authorizer.lambda`, and the function reads
//! it back with [`caller`] as a [`Caller`] of parsed domain values.
//!
//! Functions in other languages read the same four strings at the same JSON path.

use auth::domain::{SessionId, UserId, Username};
use auth::error::AuthError;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};

/// What an allow carries to the protected function: `{"user_id", "username", "jti", "sid"}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthorizerContext {
    /// The token's `sub`.
    pub user_id: String,
    /// The account's username.
    pub username: String,
    /// The token's `jti` (its own id). Not read by the functions; absent reads as empty.
    #[serde(default)]
    pub jti: String,
    /// The token's `sid` (the session id).
    pub sid: String,
}

/// The caller's identity, as the authorizer put it in the request context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `user_id` from the context.
    pub user_id: UserId,
    /// `username` from the context.
    pub username: Username,
    /// `sid` from the context: the session the call is made with.
    pub session_id: SessionId,
}

/// The caller's identity from the authorizer's context; [`AuthError::Unauthorized`] if it is
/// missing or malformed (a route deployed without the authorizer).
pub fn caller(req: &Request) -> Result<Caller, AuthError> {
    let fields = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.authorizer.as_ref().map(|a| &a.fields),
        _ => None,
    }
    .ok_or(AuthError::Unauthorized("no authorizer context"))?;
    let context = AuthorizerContext::deserialize(serde::de::value::MapDeserializer::new(
        fields.iter().map(|(k, v)| (k.as_str(), v)),
    ))
    .map_err(|_: serde_json::Error| AuthError::Unauthorized("incomplete authorizer context"))?;
    let bad = |_| AuthError::Unauthorized("malformed authorizer context");
    Ok(Caller {
        user_id: UserId::parse(&context.user_id).map_err(bad)?,
        username: Username::parse(&context.username).map_err(bad)?,
        session_id: SessionId::parse(&context.sid).map_err(bad)?,
    })
}
