//! `POST /login`: checks a username and password and starts a session.
//!
//! Body `{"username", "password"}`. On success a session starts: its whitelist item and its first
//! refresh token (stored as a SHA-256 hash only) are written (the token's item first), then the tokens
//! are returned: 200 `{"access_token", "token_type": "Bearer", "expires_in", "refresh_token",
//! "refresh_expires_in"}`; with `Token-Delivery: cookie` (browsers) the refresh token is set
//! as an `HttpOnly` cookie instead of in the body, and a foreign `Origin` is refused
//! ([`auth_edge::delivery`]). The access token lives `TOKEN_TTL_SECONDS` (default 15 minutes), the
//! refresh token and the session `REFRESH_TOKEN_TTL_SECONDS` (default 30 days). The session
//! records the login's `User-Agent` and source IP for `GET /sessions`.
//!
//! The session carries the user's revocation generation as read just before it is written, so a
//! login racing `POST /logout-all` either ends up before it (and is ended by it, even if its item
//! lands a moment later) or after it; never a session that escapes it. The same read shows
//! whether an operator disabled the account, whether it was deleted, and whether a password change
//! replaced the hash just verified ([`auth::store::Marker::admits`]): a login racing
//! `POST /password`, `DELETE /me` or a disable is refused or ended, never left open.
//!
//! An unknown username, a username or password that cannot exist (breaks the format rules), a
//! wrong password and an account an operator disabled all get the same 401
//! `invalid_credentials` body, and each runs one Argon2
//! verification at the configured cost (against a dummy hash when there is no account), so that
//! neither the answer nor its time tells whether an account exists.
//!
//! Brute force ([`auth::credentials`]): failures are counted per username, existing or not ([`auth::throttle`]); after 5
//! consecutive ones the username is locked with exponential back-off up to 15 minutes, and login
//! answers 429 `too_many_requests` with `Retry-After` without checking the password. Every
//! attempt is counted *before* its password is checked (one conditional write on the counter as
//! read; concurrent attempts are counted one at a time), so at most 5 passwords are checked per
//! username per lock window, however many attempts arrive at once. A success forgets the counter
//! (a second conditional write) unless another attempt has counted on it since. A normal login
//! thus costs two conditional writes on the attempts table besides its read (bench/login-timing.md).

use auth::config::{self, ConfigError, Lookup, PasswordConfig, SignerConfig, StoreConfig};
use auth::credentials::Credentials;
use auth::keys::KeyLoadError;
use auth::password::PasswordHasher;
use auth::store::{
    FindUser, LoginAttempts, RefreshRecord, SessionRecord, StartSession, UserRecord,
};
use auth::token::TokenSigner;
use auth::{AuthError, RefreshToken, SessionId, Username, clock};
use auth_edge::api::{self, parse_json};
use auth_edge::delivery::{self, Delivery};
use auth_edge::runner::{Answer, Function};
use auth_sdk::SdkClients as _;
use auth_sdk::SdkKeys as _;
use auth_sdk::store::{DynamoAttempts, DynamoSessions, DynamoUsers};
use lambda_http::Request;
use serde::Deserialize;

/// What login reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `USERS_TABLE`.
    pub users_table: String,
    /// `SESSIONS_TABLE`.
    pub sessions_table: String,
    /// `ATTEMPTS_TABLE`.
    pub attempts_table: String,
    /// Token key, issuer, audience, lifetime.
    pub signer: SignerConfig,
    /// `REFRESH_TOKEN_TTL_SECONDS`.
    pub refresh_ttl_seconds: i64,
    /// Argon2 cost.
    pub password: PasswordConfig,
    /// DynamoDB endpoint and timeout.
    pub store: StoreConfig,
    /// `CORS_ALLOWED_ORIGINS`: origins besides the API's own that may ask for cookie delivery.
    pub allowed_origins: Vec<String>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&config::process_env)
    }

    /// Reads `env`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        let signer = SignerConfig::from_lookup(env)?;
        Ok(Self {
            users_table: config::users_table(env)?,
            sessions_table: config::sessions_table(env)?,
            attempts_table: config::attempts_table(env)?,
            refresh_ttl_seconds: config::refresh_ttl_seconds(env, signer.ttl_seconds())?,
            signer,
            password: PasswordConfig::from_lookup(env)?,
            store: StoreConfig::from_lookup(env)?,
            allowed_origins: config::allowed_origins(env)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    password: String,
}

/// The 200 body.
pub type LoggedIn = api::TokenResponse;

/// The login handler over a users store, a sessions store and the failed-login counters.
#[derive(Debug, Clone)]
pub struct Handler<U, S, A> {
    users: U,
    sessions: S,
    attempts: A,
    hasher: PasswordHasher,
    signer: TokenSigner,
    refresh_ttl_seconds: i64,
    allowed_origins: Vec<String>,
}

impl Handler<DynamoUsers, DynamoSessions, DynamoAttempts> {
    /// The handler on DynamoDB, as the Lambda runs it: builds the SDK client and loads the
    /// signing key (once per cold start).
    pub async fn from_config(config: &Config) -> Result<Self, KeyLoadError> {
        let sdk = config.store.sdk_config().await;
        let client = config.store.dynamo_client(&sdk);
        Ok(Self::new(
            DynamoUsers::new(client.clone(), &config.users_table),
            DynamoSessions::new(client.clone(), &config.sessions_table),
            DynamoAttempts::new(client, &config.attempts_table),
            config.password.hasher(),
            config.signer.load_sdk(Some(&sdk)).await?,
            config.refresh_ttl_seconds,
        )
        .with_allowed_origins(config.allowed_origins.clone()))
    }
}

impl<U, S, A> Function for Handler<U, S, A>
where
    U: FindUser + Sync,
    S: StartSession + Sync,
    A: LoginAttempts + Sync,
{
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        Some("Logins")
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let delivery = Delivery::of(&req)?;
        if delivery == Delivery::Cookie {
            delivery::check_origin(&req, &self.allowed_origins)?;
        }
        let body: LoginRequest = parse_json(&req)?;
        let (user_agent, source_ip) = api::client_of(&req);
        let now = clock::now();
        // A name that breaks the format rules cannot have an account (the rules are public).
        let username = Username::parse(&body.username).ok();
        let checked = self
            .credentials()
            .check_counted(username.as_ref(), body.password, now)
            .await?;
        // The marker after the password: a disabled or deleted account, or a password that a
        // concurrent change replaced, gets the answer of a wrong password, and the attempt
        // stays counted as one (auth::store::account explains the order).
        let marker = self.sessions.marker(&checked.user.user_id).await?;
        if !marker.admits(&checked.user.password_hash) {
            return Err(AuthError::InvalidCredentials);
        }
        self.credentials().forgive(&checked).await;
        let user = checked.user;

        let (session_id, refresh) = self
            .start_session(&user, marker.generation, now, user_agent, source_ip)
            .await?;
        let issued = self
            .signer
            .issue(&user.user_id, &user.username, &session_id, now)
            .map_err(AuthError::Internal)?;
        tracing::Span::current().record("user_id", user.user_id.as_str());
        let response = delivery::tokens_response(
            delivery,
            issued.token,
            self.signer.ttl_seconds(),
            &refresh,
            self.refresh_ttl_seconds,
        );
        Ok((response, "success"))
    }
}

impl<U: FindUser + Sync, S: StartSession + Sync, A: LoginAttempts + Sync> Handler<U, S, A> {
    /// A handler over the given stores; refresh tokens live `refresh_ttl_seconds`.
    pub fn new(
        users: U,
        sessions: S,
        attempts: A,
        hasher: PasswordHasher,
        signer: TokenSigner,
        refresh_ttl_seconds: i64,
    ) -> Self {
        Self {
            users,
            sessions,
            attempts,
            hasher,
            signer,
            refresh_ttl_seconds,
            allowed_origins: Vec::new(),
        }
    }

    /// The same handler, also giving cookie delivery to pages on `origins` (besides the API's
    /// own origin): `CORS_ALLOWED_ORIGINS`.
    pub fn with_allowed_origins(mut self, origins: Vec<String>) -> Self {
        self.allowed_origins = origins;
        self
    }

    fn credentials(&self) -> Credentials<'_, U, A> {
        Credentials {
            users: &self.users,
            attempts: &self.attempts,
            hasher: &self.hasher,
        }
    }

    /// Writes a new session and its first refresh token, under the revocation `generation` read
    /// before.
    async fn start_session(
        &self,
        user: &UserRecord,
        generation: u64,
        now: i64,
        user_agent: String,
        source_ip: String,
    ) -> Result<(SessionId, RefreshToken), AuthError> {
        let session = SessionRecord {
            session_id: SessionId::generate(),
            user_id: user.user_id.clone(),
            username: user.username.clone(),
            created_at_ms: clock::now_ms(),
            last_used_at: now,
            expires_at: now + self.refresh_ttl_seconds,
            generation,
            user_agent,
            source_ip,
        };
        let token = RefreshToken::generate();
        let refresh = RefreshRecord::current(
            &token,
            &session.session_id,
            &user.user_id,
            session.expires_at,
        );
        self.sessions.start_session(&session, &refresh).await?;
        Ok((session.session_id, token))
    }
}
