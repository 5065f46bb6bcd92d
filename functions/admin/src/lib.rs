//! The operator routes, under `/admin/users/{username}/`: authorized by IAM (the HTTP API's
//! `AWS_IAM` authorization: a SigV4-signed request from a principal allowed
//! `execute-api:Invoke` on them), never by user tokens — the session authorizer does not run in
//! front of them, and an access token is not a credential here. Locally they are served only on
//! the admin listener (`cargo run -- --admin-port`), bound to 127.0.0.1.
//!
//! - `POST …/logout-all` → 204: every session of the user ends at once (Cognito's
//!   `AdminUserGlobalSignOut`): the revocation generation goes up in one write, then the ended
//!   items are deleted (housekeeping).
//! - `POST …/disable` → 204: in one write the generation goes up (every session ends at once)
//!   and the account is marked disabled; from then on login answers with the body of a wrong
//!   password, after the same verification, and counts the attempt as a failure. Idempotent.
//! - `POST …/enable` → 204: the mark is lifted; logins work again. The sessions the disable
//!   ended stay ended.
//! - `DELETE …/mfa` → 204: two-factor sign-in is reset (off, with its secret, recovery codes and
//!   any pending enrolment or sign-in challenge), for a user who lost both the authenticator
//!   and the recovery codes, or whose factor someone else turned on with a stolen token (end
//!   their sessions with `…/logout-all` too). Idempotent.
//! - `GET …/sessions` → 200 `{"user_id", "username", "created_at", "disabled", "mfa", "sessions":
//!   [{"id", "created_at", "last_used_at", "expires_at", "user_agent", "source_ip", "mfa"}]}`: the
//!   account and its live sessions, newest first.
//!
//! 404 `user_not_found` for a username without an account (operators may know which exist);
//! 400 for a username that breaks the format rules; 503 when the store is unavailable (then
//! nothing was changed).

use auth::store::{
    DisableUser, FindUser, ListSessions, RevokeAllSessions, SecondFactor, UserRecord,
};
use auth::{AuthError, Username, clock};
use auth_edge::api;
use auth_edge::runner::{Answer, Function};
use auth_sdk::store::{DynamoSessions, DynamoUsers};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Request, RequestExt as _};
use serde::Serialize;

/// What the admin function reads from the environment: the users and sessions tables and the
/// DynamoDB settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `USERS_TABLE`.
    pub users_table: String,
    /// `SESSIONS_TABLE` and the DynamoDB settings.
    pub sessions: auth::config::SessionsTableConfig,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, auth::ConfigError> {
        Self::from_lookup(&auth::config::process_env)
    }

    /// Reads `env`.
    pub fn from_lookup(env: auth::config::Lookup<'_>) -> Result<Self, auth::ConfigError> {
        Ok(Self {
            users_table: auth::config::users_table(env)?,
            sessions: auth::config::SessionsTableConfig::from_lookup(env)?,
        })
    }
}

/// One session as an operator sees it.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// The session id.
    pub id: String,
    /// Login time.
    pub created_at: String,
    /// Time of the login or of the last refresh.
    pub last_used_at: String,
    /// When the session ends unless refreshed.
    pub expires_at: String,
    /// `User-Agent` of the login or last refresh.
    pub user_agent: String,
    /// Source IP of the login or last refresh.
    pub source_ip: String,
    /// Whether the login that opened it passed a second factor.
    pub mfa: bool,
}

/// The 200 body of `GET …/sessions`.
#[derive(Debug, Serialize)]
pub struct UserView {
    /// The account's id.
    pub user_id: String,
    /// Its username.
    pub username: String,
    /// When it was created.
    pub created_at: String,
    /// Whether an operator has disabled it.
    pub disabled: bool,
    /// Whether two-factor sign-in is on.
    pub mfa: bool,
    /// Its live sessions, newest first.
    pub sessions: Vec<SessionView>,
}

/// The admin handler over the users and sessions tables.
#[derive(Debug, Clone)]
pub struct Handler<U, S> {
    users: U,
    sessions: S,
}

impl Handler<DynamoUsers, DynamoSessions> {
    /// The handler on DynamoDB, as the Lambda runs it (one client, built once per cold start).
    pub async fn from_config(config: &Config) -> Self {
        use auth_sdk::SdkClients as _;
        let client = config.sessions.store.client().await;
        Self::new(
            DynamoUsers::new(client.clone(), &config.users_table),
            DynamoSessions::new(client, &config.sessions.sessions_table),
        )
    }
}

/// What an operator route does, from its method and its last path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    LogoutAll,
    Disable,
    Enable,
    ResetMfa,
    Sessions,
}

impl Action {
    fn of(req: &Request) -> Option<Self> {
        let last = req.uri().path().rsplit('/').next()?;
        match (req.method(), last) {
            (&Method::POST, "logout-all") => Some(Self::LogoutAll),
            (&Method::POST, "disable") => Some(Self::Disable),
            (&Method::POST, "enable") => Some(Self::Enable),
            (&Method::GET, "sessions") => Some(Self::Sessions),
            (&Method::DELETE, "mfa") => Some(Self::ResetMfa),
            _ => None,
        }
    }
}

impl<U, S> Function for Handler<U, S>
where
    U: FindUser + Sync,
    S: RevokeAllSessions + DisableUser + ListSessions + SecondFactor + Sync,
{
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        Some("AdminActions")
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let action = Action::of(&req)
            .ok_or_else(|| AuthError::InvalidRequest("no such operator route".into()))?;
        let username = req
            .path_parameters_ref()
            .and_then(|p| p.first("username"))
            .ok_or_else(|| AuthError::InvalidRequest("the path names no username".into()))?;
        let username = Username::parse(username)?;
        let user = self
            .users
            .find_user(&username)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        tracing::Span::current().record("user_id", user.user_id.as_str());
        let response = match action {
            Action::LogoutAll => {
                let generation = self.sessions.bump_generation(&user.user_id).await?;
                tracing::info!(action = "logout-all", "every session of the user ended");
                auth::store::clean_up_ended_sessions(&self.sessions, &user.user_id, generation)
                    .await;
                api::empty_response(StatusCode::NO_CONTENT)
            }
            Action::Disable => {
                let generation = self.sessions.disable(&user.user_id).await?;
                tracing::info!(action = "disable", "user disabled; every session ended");
                auth::store::clean_up_ended_sessions(&self.sessions, &user.user_id, generation)
                    .await;
                api::empty_response(StatusCode::NO_CONTENT)
            }
            Action::Enable => {
                let was = self.sessions.enable(&user.user_id).await?;
                tracing::info!(action = "enable", was_disabled = was, "user enabled");
                api::empty_response(StatusCode::NO_CONTENT)
            }
            Action::ResetMfa => {
                let was = self.sessions.reset_totp(&user.user_id).await?;
                tracing::info!(
                    action = "reset-mfa",
                    was_set = was,
                    "two-factor sign-in reset"
                );
                api::empty_response(StatusCode::NO_CONTENT)
            }
            Action::Sessions => api::json_response(StatusCode::OK, &self.view(user).await?),
        };
        Ok((response, "success"))
    }
}

impl<U, S> Handler<U, S>
where
    U: FindUser + Sync,
    S: RevokeAllSessions + DisableUser + ListSessions + SecondFactor + Sync,
{
    /// A handler over `users` and `sessions`.
    pub fn new(users: U, sessions: S) -> Self {
        Self { users, sessions }
    }

    async fn view(&self, user: UserRecord) -> Result<UserView, AuthError> {
        let now = clock::now();
        let (sessions, marker) = (
            self.sessions
                .list_sessions(&user.user_id, None, now)
                .await?,
            self.sessions.marker(&user.user_id).await?,
        );
        let (disabled, mfa) = (marker.disabled, marker.totp.is_on());
        Ok(UserView {
            user_id: user.user_id.to_string(),
            username: user.username.to_string(),
            created_at: clock::rfc3339(user.created_at),
            disabled,
            mfa,
            sessions: sessions
                .into_iter()
                .map(|s| SessionView {
                    id: s.session_id.to_string(),
                    created_at: clock::rfc3339(s.created_at_ms.div_euclid(1000)),
                    last_used_at: clock::rfc3339(s.last_used_at),
                    expires_at: clock::rfc3339(s.expires_at),
                    user_agent: s.user_agent,
                    source_ip: s.source_ip,
                    mfa: s.mfa,
                })
                .collect(),
        })
    }
}
