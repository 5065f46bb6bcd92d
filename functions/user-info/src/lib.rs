//! `GET /me` (behind the authorizer): the caller's account.
//!
//! The caller is the identity the authorizer put in `requestContext.authorizer.lambda`
//! (`user_id`, `username`, `jti`). The account is read from the users table; the password hash
//! never leaves it.
//!
//! - 200 `{"user_id", "username", "created_at"}` (`created_at` in RFC 3339, UTC)
//! - 401 `unauthorized` without an authorizer identity, or when the account no longer exists
//!   (or its name now belongs to another account); 503 when the store is unavailable.
//!
//! Like the authorizer, it reads DynamoDB through the auth crate's direct client
//! ([`auth_direct::store::DirectUsers`], one signed `GetItem`) rather than the AWS SDK:
//! its whole work per request is that one read, and the SDK's start-up and request pipeline
//! were most of its cold start and CPU (bench/RESULTS.md).

use auth::config::{self, ConfigError, Lookup};
use auth::store::FindUser;
use auth::{AuthError, clock};
use auth_direct::client::{AwsHttp, DirectConfig, DirectConfigError};
use auth_direct::store::DirectUsers;
use auth_edge::api;
use auth_edge::caller;
use auth_edge::runner::{Answer, Function};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};

/// What user-info reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `USERS_TABLE`.
    pub users_table: String,
    /// Region, credentials, DynamoDB endpoint and timeout of the direct client.
    pub direct: DirectConfig,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&config::process_env)
    }

    /// Reads `env`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            users_table: config::users_table(env)?,
            direct: DirectConfig::from_lookup(env)?,
        })
    }
}

/// The 200 body.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Me {
    /// Account id.
    pub user_id: String,
    /// Username (lower case).
    pub username: String,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
}

/// The user-info handler over a users store.
#[derive(Debug, Clone)]
pub struct Handler<U> {
    users: U,
}

impl Handler<DirectUsers> {
    /// The handler on DynamoDB, as the Lambda runs it: builds the HTTP client once per cold
    /// start.
    pub fn from_config(config: &Config) -> Result<Self, DirectConfigError> {
        let http = AwsHttp::new(&config.direct)?;
        Ok(Self::new(DirectUsers::new(
            &http,
            &config.direct,
            &config.users_table,
        )?))
    }
}

impl<U: FindUser + Sync> Function for Handler<U> {
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        None
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let caller = caller(&req)?;
        tracing::Span::current().record("user_id", caller.user_id.as_str());
        let user = self
            .users
            .find_user(&caller.username)
            .await?
            .filter(|u| u.user_id == caller.user_id)
            .ok_or(AuthError::Unauthorized("account no longer exists"))?;
        Ok((
            api::json_response(
                StatusCode::OK,
                &Me {
                    user_id: user.user_id.to_string(),
                    username: user.username.to_string(),
                    created_at: clock::rfc3339(user.created_at),
                },
            ),
            "success",
        ))
    }
}

impl<U: FindUser + Sync> Handler<U> {
    /// A handler over `users`.
    pub fn new(users: U) -> Self {
        Self { users }
    }
}
