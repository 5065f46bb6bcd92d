//! `POST /register`: creates an account.
//!
//! Body `{"username", "password"}` (JSON, no other fields). The username is checked and folded
//! to lower case, the password hashed with Argon2id, and the account created with a conditional
//! write, so two registrations of one name never both succeed.
//!
//! - 201 `{"user_id", "username"}`
//! - 400 `invalid_request` (bad JSON, missing/unknown fields, a username or password breaking
//!   the rules), 409 `username_taken`, 413, 415, 503 (see [`auth_edge::api`]).

use auth::config::{self, ConfigError, Lookup, PasswordConfig, StoreConfig};
use auth::password::PasswordHasher;
use auth::store::CreateUser;
use auth::store::UserRecord;
use auth::{AuthError, Password, StoreError, UserId, Username, clock};
use auth_edge::api::{self, parse_json};
use auth_edge::runner::{Answer, Function};
use auth_sdk::SdkClients as _;
use auth_sdk::store::DynamoUsers;
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};

/// What register reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `USERS_TABLE`.
    pub users_table: String,
    /// Argon2 cost.
    pub password: PasswordConfig,
    /// DynamoDB endpoint and timeout.
    pub store: StoreConfig,
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
            password: PasswordConfig::from_lookup(env)?,
            store: StoreConfig::from_lookup(env)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterRequest {
    username: String,
    password: String,
}

/// The 201 body.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Registered {
    /// The new account's id.
    pub user_id: String,
    /// The username as stored (lower case).
    pub username: String,
}

/// The register handler over a users store.
#[derive(Debug, Clone)]
pub struct Handler<U> {
    users: U,
    hasher: PasswordHasher,
}

impl Handler<DynamoUsers> {
    /// The handler on DynamoDB, as the Lambda runs it: builds the SDK client (once per cold
    /// start).
    pub async fn from_config(config: &Config) -> Self {
        let client = config.store.client().await;
        Self::new(
            DynamoUsers::new(client, &config.users_table),
            config.password.hasher(),
        )
    }
}

impl<U: CreateUser + Sync> Function for Handler<U> {
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        Some("Registrations")
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let body: RegisterRequest = parse_json(&req)?;
        let username = Username::parse(&body.username)?;
        let password = Password::parse_new(body.password)?;
        let password_hash = self
            .hasher
            .hash_blocking(password)
            .await
            .map_err(AuthError::Internal)?;
        let user = UserRecord {
            user_id: UserId::generate(),
            username,
            password_hash,
            created_at: clock::now(),
        };
        match self.users.create_user(&user).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists) => return Err(AuthError::UsernameTaken),
            Err(e) => return Err(e.into()),
        }
        tracing::Span::current().record("user_id", user.user_id.as_str());
        Ok((
            api::json_response(
                StatusCode::CREATED,
                &Registered {
                    user_id: user.user_id.to_string(),
                    username: user.username.to_string(),
                },
            ),
            "created",
        ))
    }
}

impl<U: CreateUser + Sync> Handler<U> {
    /// A handler over `users`.
    pub fn new(users: U, hasher: PasswordHasher) -> Self {
        Self { users, hasher }
    }
}
