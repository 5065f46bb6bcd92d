//! The Lambda authorizer in front of the protected routes (API Gateway HTTP API, payload format
//! 2.0, simple responses).
//!
//! For each request it:
//! 1. reads `Authorization: Bearer <jwt>` (see [`bearer_token`] for how strict);
//! 2. verifies the JWT ([`auth::token::TokenVerifier`]: pinned HS256, known `kid`, `iss`, `aud`,
//!    `exp`, `nbf`, `iat`, required claims); a `kid` it does not know makes it read every
//!    version of the key in Secrets Manager, the first time at once, later at most once a
//!    minute ([`keys`]), so a rotation needs no cold start;
//! 3. reads, in one strongly consistent `BatchGetItem`, the session's whitelist item (by the
//!    token's `sid`) and the revocation marker of the token's `sub` — signed and sent by the
//!    direct client ([`auth_direct::client`], [`auth_direct::store`]), not the AWS SDK,
//!    because this read is the function's whole cost per request (the signing keys, if they are
//!    in Secrets Manager, are read through the same client: the current one at the cold start);
//! 4. allows only if the item exists, has not passed its `expires_at`, belongs to the token's
//!    `sub`, and began in the user's current revocation generation (no `POST /logout-all`
//!    since).
//!
//! An allow carries the context `{"user_id", "username", "jti", "sid"}` ([`AuthorizerContext`],
//! the contract functions read back with `auth_edge::caller`), which API Gateway passes to the
//! protected function in `requestContext.authorizer.lambda`. Every failure — no header, a bad
//! token, no item, a store error or timeout — is a deny (`isAuthorized: false`, 403 at the
//! gateway), never an error (which the gateway would answer with 500) and never an allow. The
//! reason is logged; the token never is.

use auth::clock;
use auth::config::{self, ConfigError, Lookup, VerifierConfig};
use auth::error::chain;
use auth::keys::KeyLoadError;
use auth::store::{GetSession, SessionLookup};
use auth::token::{TokenError, TokenVerifier};
use auth_direct::{AwsHttp, DirectConfig, DirectConfigError, DirectSessions, SecretsClient};
use auth_edge::AuthorizerContext;
use auth_edge::api::LambdaIds;
use auth_edge::runner::EventFunction;
use auth_telemetry::metrics;
use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerSimpleResponse;
use tracing::Instrument as _;

mod event;
pub mod keys;

pub use event::{AuthorizerRequest, RequestContext};
pub use keys::{Keys, RELOAD_COOLDOWN_SECONDS, RELOAD_RETRY_SECONDS};

/// The authorizer over a sessions store.
#[derive(Debug)]
pub struct Handler<S> {
    sessions: S,
    keys: Keys,
}

impl<S: GetSession + Sync> EventFunction for Handler<S> {
    type Event = AuthorizerRequest;
    type Response = AuthorizerResponse;

    async fn handle(&self, event: AuthorizerRequest, lambda: LambdaIds<'_>) -> AuthorizerResponse {
        self.handle_in(event, lambda).await
    }
}

impl<S: GetSession + Sync> Handler<S> {
    /// An authorizer over `sessions` whose keys never change.
    pub fn new(sessions: S, verifier: TokenVerifier) -> Self {
        Self::with_keys(sessions, Keys::fixed(verifier))
    }

    /// An authorizer over `sessions` with `keys` (which may reload).
    pub fn with_keys(sessions: S, keys: Keys) -> Self {
        Self { sessions, keys }
    }

    /// Decides one request. Never fails: every problem is a deny.
    pub async fn handle(&self, req: AuthorizerRequest) -> AuthorizerResponse {
        self.handle_in(req, LambdaIds::default()).await
    }

    /// [`Handler::handle`] for the invocation `lambda` (its ids go into the span).
    async fn handle_in(&self, req: AuthorizerRequest, lambda: LambdaIds<'_>) -> AuthorizerResponse {
        let span = tracing::info_span!(
            "authorize",
            route = req.route_key.as_deref().unwrap_or("-"),
            request_id = req.request_context.request_id.as_deref().unwrap_or("-"),
            user_id = tracing::field::Empty,
            lambda_request_id = lambda.request_id,
            xray_trace_id = lambda.xray_trace_id,
            tenant_id = lambda.tenant_id,
        );
        async move {
            let mut response = AuthorizerResponse::default();
            match self.decide(&req).await {
                Ok(allow) => {
                    tracing::Span::current().record("user_id", allow.user_id.as_str());
                    tracing::info!(outcome = "allow", "authorized");
                    metrics::count("Authorizations", &[("Decision", "allow"), ("Reason", "ok")]);
                    response.is_authorized = true;
                    response.context =
                        serde_json::to_value(allow).expect("the context serialises infallibly");
                }
                Err(deny) => {
                    tracing::info!(outcome = "deny", reason = deny.reason(), "denied");
                    metrics::count(
                        "Authorizations",
                        &[("Decision", "deny"), ("Reason", deny.reason())],
                    );
                    response.is_authorized = false;
                    response.context = serde_json::Value::Object(Default::default());
                }
            }
            response
        }
        .instrument(span)
        .await
    }

    /// The decision, with the reason for a deny.
    pub async fn decide(&self, req: &AuthorizerRequest) -> Result<AuthorizerContext, Deny> {
        self.decide_at(req, clock::now()).await
    }

    /// [`Handler::decide`] at `now` (epoch seconds).
    pub async fn decide_at(
        &self,
        req: &AuthorizerRequest,
        now: i64,
    ) -> Result<AuthorizerContext, Deny> {
        let header = req
            .authorization
            .as_deref()
            .or_else(|| req.identity_source.as_ref()?.first().map(String::as_str))
            .ok_or(Deny::MissingHeader)?;
        let token = bearer_token(header).ok_or(Deny::BadScheme)?;
        // Verified under the keys' read lock; only a token with an unknown `kid` takes a
        // reference to the verifier, to ask for newer keys.
        let first = self.keys.with_current(|v| match v.verify(token, now) {
            Err(TokenError::UnknownKey) => Err(v.clone()),
            result => Ok(result),
        });
        let verified = match first {
            Ok(result) => result,
            Err(used) => match self.keys.newer_than(&used, now).await {
                Some(newer) => newer.verify(token, now),
                None => Err(TokenError::UnknownKey),
            },
        }
        .map_err(Deny::Token)?;
        let lookup = self
            .sessions
            .get_session(&verified.session_id, &verified.user_id, now)
            .await
            .map_err(|e| {
                tracing::error!(error = %chain(&e), "session lookup failed");
                Deny::StoreError
            })?;
        let session = match lookup {
            SessionLookup::Live(session) => session,
            SessionLookup::Absent => return Err(Deny::NoSession),
            SessionLookup::WrongOwner => return Err(Deny::WrongOwner),
            SessionLookup::Revoked => return Err(Deny::Revoked),
        };
        Ok(AuthorizerContext {
            user_id: session.user_id.to_string(),
            username: session.username.to_string(),
            jti: verified.token_id.to_string(),
            sid: session.session_id.to_string(),
        })
    }
}

/// Why a request was denied; [`Deny::reason`] is a stable label for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deny {
    /// No `Authorization` header.
    MissingHeader,
    /// The header is not `Bearer <token>`.
    BadScheme,
    /// The token failed verification.
    Token(auth::token::TokenError),
    /// No live whitelist item for the `sid` (logged out, revoked, expired or never issued).
    NoSession,
    /// The item belongs to another user than the token's `sub`.
    WrongOwner,
    /// The session began before the user's last log-out-everywhere.
    Revoked,
    /// The store failed or timed out.
    StoreError,
}

impl Deny {
    /// A short stable label, e.g. `no_session`, `token_expired`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::BadScheme => "bad_scheme",
            Self::Token(e) => e.reason(),
            Self::NoSession => "no_session",
            Self::WrongOwner => "wrong_owner",
            Self::Revoked => "session_revoked",
            Self::StoreError => "store_error",
        }
    }
}

/// Extracts the token from an `Authorization` value.
///
/// Accepted: the scheme `Bearer` in any letter case, exactly one space, then the token, with
/// optional surrounding white space (HTTP allows it around a header value). Refused: any other
/// scheme, no token, more than one space, white space or anything else after the token, a
/// comma-separated list of credentials.
pub fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim_matches([' ', '\t']);
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return None;
    }
    if token
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b == b',' || !b.is_ascii_graphic())
    {
        return None;
    }
    Some(token)
}

/// The authorizer's response.
pub type AuthorizerResponse = ApiGatewayV2CustomAuthorizerSimpleResponse<serde_json::Value>;

/// What the authorizer reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `SESSIONS_TABLE`.
    pub sessions_table: String,
    /// Token keys, issuer, audience, leeway.
    pub verifier: VerifierConfig,
    /// Region, credentials, endpoints and timeout of the direct client.
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
            sessions_table: config::sessions_table(env)?,
            verifier: VerifierConfig::from_lookup(env)?,
            direct: DirectConfig::from_lookup(env)?,
        })
    }
}

/// Why the authorizer could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The verification keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] KeyLoadError),
    /// An endpoint or the TLS set-up is unusable.
    #[error(transparent)]
    Store(#[from] DirectConfigError),
}

impl Handler<DirectSessions> {
    /// The handler on DynamoDB, as the Lambda runs it, once per cold start: builds the HTTP
    /// client and loads the keys. With the keys in Secrets Manager (as deployed), init waits for
    /// one call: the secret's `AWSCURRENT` version, and meanwhile the connection to DynamoDB is
    /// opened (TCP and TLS, no request), so that the first request finds it ready. The other
    /// versions are read when a token names a key the authorizer lacks ([`keys`]). With inline
    /// keys there is nothing to wait for, and no connection is opened ahead: that would only
    /// move the handshake from the first request into init.
    pub async fn from_config(config: &Config) -> Result<Self, StartError> {
        let http = AwsHttp::new(&config.direct)?;
        let secrets = SecretsClient::new(&http, &config.direct)?;
        let sessions = DirectSessions::new(&http, &config.direct, &config.sessions_table)?;
        if !config.verifier.needs_secrets_manager() {
            let verifier = config.verifier.verifier_with(&secrets).await?;
            return Ok(Self::new(sessions, verifier));
        }
        // Where Secrets Manager and DynamoDB are one origin (a local stand-in for both, as the
        // bench's), the key read leaves a kept-alive connection the first request takes, and one
        // opened ahead would only sit unused.
        let warm_up = async {
            if config.direct.dynamodb_endpoint != config.direct.secretsmanager_endpoint {
                sessions.warm_up().await
            }
        };
        let (verifier, ()) = tokio::join!(config.verifier.current_verifier_with(&secrets), warm_up);
        let verifier_config = config.verifier.clone();
        let keys = Keys::reloading(verifier?, None, move || {
            let (config, secrets) = (verifier_config.clone(), secrets.clone());
            async move { config.verifier_with(&secrets).await }
        });
        Ok(Self::with_keys(sessions, keys))
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token("Bearer abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER abc"), Some("abc"));
        assert_eq!(bearer_token("  Bearer abc  "), Some("abc"));
        for bad in [
            "",
            "Bearer",
            "Bearer ",
            "Bearer  abc",
            "Basic abc",
            "Bearerabc",
            "Bearer abc def",
            "Bearer abc,Bearer def",
            "Bearer\tabc",
            "Token abc",
            "abc.def.ghi",
        ] {
            assert_eq!(bearer_token(bad), None, "{bad:?}");
        }
    }
}
