//! `POST /refresh`: trades a refresh token for a new access token and a new refresh token
//! (rotation). Not behind the authorizer: the access token may have expired already.
//!
//! Body `{"refresh_token"}`. 200 `{"access_token", "token_type": "Bearer", "expires_in",
//! "refresh_token", "refresh_expires_in"}`, as login answers; the session keeps its id, so every
//! access token it ever issued stops working together when it ends. The new refresh token lives
//! `REFRESH_TOKEN_TTL_SECONDS` from now, and so does the session (a sliding lifetime); the
//! session records the time, `User-Agent` and source IP of the refresh.
//!
//! 401 `invalid_refresh_token` for a token that is unknown, expired, or whose session has ended
//! (logout, `DELETE /sessions/{id}`, `POST /logout-all`). Theft detection: a token is good for
//! one refresh. Presenting it again more than `REFRESH_REUSE_GRACE_SECONDS` (default 5) after it
//! was rotated means two parties hold it, so the whole session is revoked at once — its access
//! tokens and every refresh token it issued — and the answer is 401. Within the grace window
//! (the same client refreshing twice concurrently, e.g. from two tabs) the refresh succeeds with
//! its own new pair, and the session lives on.
//!
//! Browsers (`Token-Delivery: cookie`): the new refresh token is set as the `HttpOnly` refresh
//! cookie instead of in the body, and the body may be empty: the token is then read from the
//! cookie. A cookie alone is taken only with that header and from an allowed `Origin` (else 403
//! `csrf_rejected`, nothing rotated); a refused cookie (401), and in cookie mode two cookies or a
//! cookie that differs from the body's token (400), are cleared ([`auth_edge::delivery`]).
//!
//! - 400 `invalid_request` for a body without a string `refresh_token` (and no cookie), for two
//!   refresh cookies, a cookie and a body token that differ, or an unknown `Token-Delivery`; 503
//!   when the store is unavailable.

use auth::config::{self, ConfigError, Lookup, SignerConfig, StoreConfig};
use auth::keys::KeyLoadError;
use auth::store::{
    DeleteSession, GetSession, RefreshRecord, RefreshTokens, Rotation, SessionLookup,
    SessionRecord, SessionUse,
};
use auth::token::TokenSigner;
use auth::{AuthError, RefreshToken, clock};
use auth_edge::api::{self, parse_json};
use auth_edge::delivery::{self, Delivery};
use auth_edge::runner::{Answer, Function};
use auth_sdk::SdkClients as _;
use auth_sdk::SdkKeys as _;
use auth_sdk::store::DynamoSessions;
use lambda_http::Request;
use serde::Deserialize;

/// What refresh reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `SESSIONS_TABLE`.
    pub sessions_table: String,
    /// Token key, issuer, audience, access token lifetime.
    pub signer: SignerConfig,
    /// `REFRESH_TOKEN_TTL_SECONDS`.
    pub refresh_ttl_seconds: i64,
    /// `REFRESH_REUSE_GRACE_SECONDS`.
    pub reuse_grace_seconds: i64,
    /// DynamoDB endpoint and timeout.
    pub store: StoreConfig,
    /// `CORS_ALLOWED_ORIGINS`: origins besides the API's own that may refresh with the cookie.
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
            sessions_table: config::sessions_table(env)?,
            refresh_ttl_seconds: config::refresh_ttl_seconds(env, signer.ttl_seconds())?,
            reuse_grace_seconds: config::reuse_grace_seconds(env)?,
            signer,
            store: StoreConfig::from_lookup(env)?,
            allowed_origins: config::allowed_origins(env)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {
    refresh_token: String,
}

/// How a refresh ended, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The token was current and is now rotated.
    Rotated,
    /// A concurrent refresh rotated it within the grace window; a sibling pair was issued.
    Concurrent,
}

impl Outcome {
    /// The outcome's label in logs and metrics.
    fn label(self) -> &'static str {
        match self {
            Self::Rotated => "rotated",
            Self::Concurrent => "concurrent",
        }
    }
}

/// The refresh handler over the sessions table.
#[derive(Debug, Clone)]
pub struct Handler<S> {
    sessions: S,
    signer: TokenSigner,
    refresh_ttl_seconds: i64,
    reuse_grace_ms: i64,
    allowed_origins: Vec<String>,
}

impl Handler<DynamoSessions> {
    /// The handler on DynamoDB, as the Lambda runs it: builds the SDK client and loads the
    /// signing key (once per cold start).
    pub async fn from_config(config: &Config) -> Result<Self, KeyLoadError> {
        let sdk = config.store.sdk_config().await;
        let client = config.store.dynamo_client(&sdk);
        Ok(Self::new(
            DynamoSessions::new(client, &config.sessions_table),
            config.signer.load_sdk(Some(&sdk)).await?,
            config.refresh_ttl_seconds,
            config.reuse_grace_seconds,
        )
        .with_allowed_origins(config.allowed_origins.clone()))
    }
}

impl<S: RefreshTokens + GetSession + DeleteSession + Sync> Function for Handler<S> {
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        Some("Refreshes")
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let delivery = Delivery::of(&req)?;
        if delivery == Delivery::Cookie {
            delivery::check_origin(&req, &self.allowed_origins)?;
        }
        let (presented, from_cookie) = match presented_token(&req, delivery) {
            Ok(presented) => presented,
            // Two refresh cookies, or one that differs from the body's token: which one is
            // meant cannot be known. A browser is told to drop its (host-only) cookie, so that
            // its next sign-in starts clean rather than failing the same way until it expires.
            Err(e @ AuthError::InvalidRequest(_)) if delivery == Delivery::Cookie => {
                return Ok(refused_clearing_cookie(&e));
            }
            Err(e) => return Err(e),
        };
        let result = match presented {
            // A string that is not shaped like an issued token cannot be one: the same 401.
            Some(text) => match RefreshToken::parse(&text) {
                Ok(token) => self.rotate(&req, token, delivery).await,
                Err(_) => Err(AuthError::InvalidRefreshToken),
            },
            None => Err(AuthError::InvalidRefreshToken),
        };
        match result {
            // A browser whose cookie is refused has nothing left to refresh with: remove it.
            Err(e @ AuthError::InvalidRefreshToken)
                if from_cookie || delivery == Delivery::Cookie =>
            {
                Ok(refused_clearing_cookie(&e))
            }
            other => other,
        }
    }
}

/// `err`'s answer, with the refresh cookie cleared, and its outcome label.
fn refused_clearing_cookie(err: &AuthError) -> Answer {
    let response = delivery::clearing_refresh_cookie(api::error_response(err));
    (response, api::status_and_code(err).1)
}

/// The refresh token the request presents, and whether it came from the cookie: the body's
/// `refresh_token` (which must match the cookie if both are sent), else the cookie, which is
/// taken only with `Token-Delivery: cookie` (403 otherwise, nothing read or rotated). `None`
/// for a cookie delivery with neither: a browser that has been signed out.
fn presented_token(req: &Request, delivery: Delivery) -> Result<(Option<String>, bool), AuthError> {
    let cookie = delivery::refresh_cookie(req)?;
    let body_is_empty = api::body_bytes(req).is_empty();
    match cookie {
        Some(cookie) if body_is_empty => {
            if delivery != Delivery::Cookie {
                return Err(AuthError::CsrfRejected);
            }
            Ok((Some(cookie), true))
        }
        None if body_is_empty && delivery == Delivery::Cookie => Ok((None, false)),
        cookie => {
            let body: RefreshRequest = parse_json(req)?;
            if cookie.is_some_and(|c| c != body.refresh_token) {
                return Err(AuthError::InvalidRequest(
                    "the refresh cookie and the body's refresh_token differ".into(),
                ));
            }
            Ok((Some(body.refresh_token), false))
        }
    }
}

impl<S: RefreshTokens + GetSession + DeleteSession + Sync> Handler<S> {
    /// A handler over `sessions`: new refresh tokens live `refresh_ttl_seconds`; a rotated one
    /// presented again within `reuse_grace_seconds` counts as a concurrent refresh.
    pub fn new(
        sessions: S,
        signer: TokenSigner,
        refresh_ttl_seconds: i64,
        reuse_grace_seconds: i64,
    ) -> Self {
        Self {
            sessions,
            signer,
            refresh_ttl_seconds,
            reuse_grace_ms: reuse_grace_seconds * 1000,
            allowed_origins: Vec::new(),
        }
    }

    /// The same handler, also refreshing with the cookie for pages on `origins` (besides the
    /// API's own origin): `CORS_ALLOWED_ORIGINS`.
    pub fn with_allowed_origins(mut self, origins: Vec<String>) -> Self {
        self.allowed_origins = origins;
        self
    }

    /// Rotates `presented`: the new pair, delivered as `delivery` asks.
    async fn rotate(
        &self,
        req: &Request,
        presented: RefreshToken,
        delivery: Delivery,
    ) -> Result<Answer, AuthError> {
        let (user_agent, source_ip) = api::client_of(req);
        let now = clock::now();
        let old = presented.hash();

        let mut done = None;
        // Two rounds at most: the second only when a concurrent refresh rotated the token
        // between this one's read and write; read again, it is then a rotated token.
        for _ in 0..2 {
            let next = RefreshToken::generate();
            let record = self
                .sessions
                .find_refresh(&old, now)
                .await?
                .ok_or(AuthError::InvalidRefreshToken)?;
            let live = self.live_session(&record, now).await?;
            let new = RefreshRecord::current(
                &next,
                &record.session_id,
                &record.user_id,
                now + self.refresh_ttl_seconds,
            );
            let used = SessionUse {
                session_id: record.session_id.clone(),
                at: now,
                expires_at: new.expires_at,
                user_agent: user_agent.clone(),
                source_ip: source_ip.clone(),
            };
            tracing::Span::current().record("user_id", record.user_id.as_str());
            match record.rotated_at_ms {
                None => match self
                    .sessions
                    .rotate_refresh(&old, clock::now_ms(), &new, &used)
                    .await?
                {
                    Rotation::Rotated => done = Some((Outcome::Rotated, live, next)),
                    Rotation::SessionGone => return Err(AuthError::InvalidRefreshToken),
                    // Someone rotated it between the read and the write: read it again.
                    Rotation::AlreadyRotated => continue,
                },
                Some(rotated_at_ms) if clock::now_ms() - rotated_at_ms <= self.reuse_grace_ms => {
                    if !self.sessions.add_refresh(&new, &used).await? {
                        return Err(AuthError::InvalidRefreshToken);
                    }
                    done = Some((Outcome::Concurrent, live, next));
                }
                Some(_) => {
                    self.revoke_family(&record, now).await?;
                    return Err(AuthError::InvalidRefreshToken);
                }
            }
            break;
        }
        // Two rotations of one token cannot both win, so the second round always decides.
        let (outcome, session, next) = done.ok_or_else(|| {
            AuthError::internal("a refresh token was rotated twice without a decision")
        })?;

        let issued = self
            .signer
            .issue(
                &session.user_id,
                &session.username,
                &session.session_id,
                now,
            )
            .map_err(AuthError::Internal)?;
        let response = delivery::tokens_response(
            delivery,
            issued.token,
            self.signer.ttl_seconds(),
            &next,
            self.refresh_ttl_seconds,
        );
        Ok((response, outcome.label()))
    }

    /// The token's session, if it is still live (one strongly consistent read, as the
    /// authorizer makes); anything else is the refresh token's 401.
    async fn live_session(
        &self,
        record: &RefreshRecord,
        now: i64,
    ) -> Result<SessionRecord, AuthError> {
        match self
            .sessions
            .get_session(&record.session_id, &record.user_id, now)
            .await?
        {
            SessionLookup::Live(session) => Ok(session),
            SessionLookup::Absent | SessionLookup::Revoked | SessionLookup::WrongOwner => {
                Err(AuthError::InvalidRefreshToken)
            }
        }
    }

    /// A rotated token presented after the grace window: it has leaked (or the client is
    /// broken), so the session ends — every access and refresh token it issued.
    async fn revoke_family(&self, record: &RefreshRecord, now: i64) -> Result<(), AuthError> {
        let revoked = self
            .sessions
            .delete_session(&record.session_id, &record.user_id, now)
            .await?;
        tracing::warn!(
            alert = "reuse_detected",
            session_revoked = revoked,
            "a rotated refresh token was presented again; session revoked"
        );
        auth_telemetry::metrics::count("RefreshTokenReuse", &[("Action", "session_revoked")]);
        Ok(())
    }
}
