//! `POST /login`: checks a username and password and starts a session; `POST /login/mfa`
//! ([`second_step`]) completes the sign-in of a user with two-factor sign-in on.
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
//! Two-factor sign-in: the same read shows whether the account has TOTP on. If it has, and
//! only once the password is right, login starts no session: it answers 200
//! `{"mfa_required": true, "mfa_token", "expires_in"}` (a challenge, `auth::mfa::challenge`,
//! whose id it records on the marker) and leaves the attempt counted, so that the code step
//! is limited with the password ([`second_step`]). Until the password is right every answer
//! is what it is for an account without a second factor, so neither the existence of the
//! account nor its factor shows.
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

pub mod second_step;

use auth::config::{
    self, ConfigError, Lookup, MfaConfig, PasswordConfig, SignerConfig, StoreConfig,
};
use auth::credentials::Credentials;
use auth::keys::KeyLoadError;
use auth::mfa::{Challenges, MfaKeys};
use auth::password::PasswordHasher;
use auth::store::{
    FindUser, LoginAttempts, Marker, RefreshRecord, SecondFactor, SessionRecord, StartSession,
    UserRecord,
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
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};

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
    /// `MFA_KEY` or `MFA_KEY_ARN`: two-factor sign-in.
    pub mfa: MfaConfig,
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
            mfa: MfaConfig::from_lookup(env)?,
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

/// The 200 body of the password step for a user with two-factor sign-in on. No `Debug`: it
/// holds the challenge.
#[derive(Serialize, Deserialize)]
pub struct MfaRequired {
    /// Always `true`.
    pub mfa_required: bool,
    /// The challenge to send to `POST /login/mfa` with a code.
    pub mfa_token: String,
    /// Seconds the challenge is accepted.
    pub expires_in: i64,
}

/// What login needs for two-factor sign-in: the keys (to open TOTP secrets) and the
/// challenges they sign.
#[derive(Debug, Clone)]
pub struct Mfa {
    keys: MfaKeys,
    challenges: Challenges,
}

impl Mfa {
    /// From the MFA keys and the access tokens' issuer and audience.
    pub fn new(keys: MfaKeys, issuer: &str, audience: &str) -> Self {
        let challenges = Challenges::new(&keys, issuer, audience);
        Self { keys, challenges }
    }
}

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
    mfa: Option<Mfa>,
}

impl Handler<DynamoUsers, DynamoSessions, DynamoAttempts> {
    /// The handler on DynamoDB, as the Lambda runs it: builds the SDK client and loads the
    /// signing key (once per cold start).
    pub async fn from_config(config: &Config) -> Result<Self, KeyLoadError> {
        let sdk = config.store.sdk_config().await;
        let client = config.store.dynamo_client(&sdk);
        // Both keys at once: one Secrets Manager round trip of waiting, not two.
        let (signer, mfa_keys) = tokio::join!(
            config.signer.load_sdk(Some(&sdk)),
            config.mfa.load_sdk(Some(&sdk))
        );
        Ok(Self::new(
            DynamoUsers::new(client.clone(), &config.users_table),
            DynamoSessions::new(client.clone(), &config.sessions_table),
            DynamoAttempts::new(client, &config.attempts_table),
            config.password.hasher(),
            signer?,
            config.refresh_ttl_seconds,
        )
        .with_allowed_origins(config.allowed_origins.clone())
        .with_mfa(Mfa::new(
            mfa_keys?,
            config.signer.issuer(),
            config.signer.audience(),
        )))
    }
}

/// Whether `req` is the second step, `POST /login/mfa`.
fn is_second_step(req: &Request) -> bool {
    req.uri().path().ends_with("/login/mfa")
}

impl<U, S, A> Function for Handler<U, S, A>
where
    U: FindUser + Sync,
    S: StartSession + SecondFactor + Sync,
    A: LoginAttempts + Sync,
{
    fn metric(&self, req: &Request) -> Option<&'static str> {
        Some(if is_second_step(req) {
            "MfaLogins"
        } else {
            "Logins"
        })
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        if is_second_step(&req) {
            return self.second_step(req).await;
        }
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
        tracing::Span::current().record("user_id", checked.user.user_id.as_str());
        if let Some(secret) = &marker.totp.secret {
            // The attempt stays counted: the code step is forgiven, not this one.
            return self.challenge(&checked.user, secret, now).await;
        }
        self.credentials().forgive(&checked).await;
        let started = Started {
            user: checked.user,
            marker,
            mfa: false,
        };
        self.tokens(started, delivery, now, user_agent, source_ip)
            .await
    }
}

/// A sign-in that passed every check: whose, under which marker, with a second factor or not.
struct Started {
    user: UserRecord,
    marker: Marker,
    mfa: bool,
}

impl<U, S, A> Handler<U, S, A>
where
    U: FindUser + Sync,
    S: StartSession + SecondFactor + Sync,
    A: LoginAttempts + Sync,
{
    /// The password step's answer for a user with TOTP on (sealed secret `secret` as read): a
    /// new challenge, recorded on the marker.
    async fn challenge(
        &self,
        user: &UserRecord,
        secret: &str,
        now: i64,
    ) -> Result<Answer, AuthError> {
        let mfa = self.mfa()?;
        let stamp = auth::store::account::credential_stamp(&user.password_hash);
        let (token, id) = mfa
            .challenges
            .issue(&user.user_id, &user.username, stamp, now);
        if !self
            .sessions
            .set_challenge(&user.user_id, secret, &id)
            .await?
        {
            return Err(AuthError::MfaState(
                "two-factor sign-in changed during the sign-in; sign in again",
            ));
        }
        let body = MfaRequired {
            mfa_required: true,
            mfa_token: token,
            expires_in: auth::mfa::challenge::CHALLENGE_TTL_SECONDS,
        };
        Ok((api::json_response(StatusCode::OK, &body), "mfa_required"))
    }

    /// Starts the session of a sign-in that passed, and answers with its tokens.
    async fn tokens(
        &self,
        started: Started,
        delivery: Delivery,
        now: i64,
        user_agent: String,
        source_ip: String,
    ) -> Result<Answer, AuthError> {
        let Started { user, marker, mfa } = started;
        let (session_id, refresh) = self
            .start_session(&user, marker.generation, mfa, now, user_agent, source_ip)
            .await?;
        let issued = self
            .signer
            .issue(&user.user_id, &user.username, &session_id, now)
            .map_err(AuthError::Internal)?;
        let response = delivery::tokens_response(
            delivery,
            issued.token,
            self.signer.ttl_seconds(),
            &refresh,
            self.refresh_ttl_seconds,
        );
        Ok((response, "success"))
    }

    /// The two-factor keys; a configuration without them cannot sign in a user who has a
    /// second factor (an internal error, never a sign-in without it).
    fn mfa(&self) -> Result<&Mfa, AuthError> {
        self.mfa
            .as_ref()
            .ok_or_else(|| AuthError::internal("two-factor sign-in needs MFA_KEY or MFA_KEY_ARN"))
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
            mfa: None,
        }
    }

    /// The same handler, able to sign in users with two-factor sign-in on.
    pub fn with_mfa(mut self, mfa: Mfa) -> Self {
        self.mfa = Some(mfa);
        self
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
    /// before; `mfa` if the sign-in passed a second factor.
    async fn start_session(
        &self,
        user: &UserRecord,
        generation: u64,
        mfa: bool,
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
            mfa,
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
