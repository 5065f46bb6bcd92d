//! `POST /password` (behind the authorizer): changes the caller's password and ends every other
//! session of theirs at once.
//!
//! Body `{"current_password", "new_password"}`. The new password follows the registration rules
//! and must differ from the current one (400 `invalid_request` with `field: "new_password"`).
//! The current one is checked as login checks a password ([`auth::credentials`]): counted by
//! the brute-force limiter, so a wrong one is 401 `invalid_credentials` and counts towards the
//! username's lock, and a locked username gets 429 `too_many_requests` with `Retry-After`
//! without a check.
//!
//! Then one atomic write ([`auth::store::ChangePassword`]) stores the new hash, raises the
//! caller's revocation generation, and lifts the caller's own session to the new generation:
//! from the next request on, the authorizer denies the access tokens of every *other* session
//! and refresh refuses their refresh tokens; the caller's session, its access token and its
//! refresh token go on working. 204. The ended sessions' items are deleted afterwards
//! (housekeeping: if that fails they stay ended, and the answer is still 204).
//!
//! - 401 `unauthorized` if the caller's session ended meanwhile, and 401 `invalid_credentials`
//!   if the password was changed by a concurrent request: nothing changed in either case.
//! - 503 `service_unavailable` when the store is unavailable: nothing changed (the write is one
//!   transaction), retry. When the write's outcome is unknown (a time-out after DynamoDB may have
//!   applied it), the account is read again: the new hash there means it was applied, and the
//!   answer is 204 (else 503, and a transaction DynamoDB was still applying may yet take effect;
//!   a retry then answers 401).

use auth::config::AccountConfig;
use auth::credentials::Credentials;
use auth::password::PasswordHasher;
use auth::store::{ChangePassword, FindUser, LoginAttempts, PasswordChange, RevokeAllSessions};
use auth::{AuthError, Password, clock};
use auth_edge::api::{self, parse_json};
use auth_edge::caller;
use auth_edge::runner::{Answer, Function};
use auth_sdk::accounts::DynamoAccounts;
use auth_sdk::store::{DynamoAttempts, DynamoSessions, DynamoUsers};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Deserialize;

/// What change-password reads from the environment.
pub type Config = AccountConfig;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeRequest {
    current_password: String,
    new_password: String,
}

/// The change-password handler over the users, sessions and attempts stores and the change
/// that writes both tables.
#[derive(Debug, Clone)]
pub struct Handler<U, S, A, C> {
    users: U,
    sessions: S,
    attempts: A,
    accounts: C,
    hasher: PasswordHasher,
}

impl Handler<DynamoUsers, DynamoSessions, DynamoAttempts, DynamoAccounts> {
    /// The handler on DynamoDB, as the Lambda runs it (clients built once per cold start).
    pub async fn from_config(config: &Config) -> Self {
        let stores = auth_sdk::clients::account_stores(config).await;
        Self::new(
            stores.users,
            stores.sessions,
            stores.attempts,
            stores.accounts,
            config.password.hasher(),
        )
    }
}

impl<U, S, A, C> Function for Handler<U, S, A, C>
where
    U: FindUser + Sync,
    S: RevokeAllSessions + Sync,
    A: LoginAttempts + Sync,
    C: ChangePassword + Sync,
{
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        Some("PasswordChanges")
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let caller = caller(&req)?;
        tracing::Span::current().record("user_id", caller.user_id.as_str());
        let body: ChangeRequest = parse_json(&req)?;
        let new_password =
            Password::parse_new(body.new_password).map_err(|e| e.in_field("new_password"))?;
        if Password::parse_login(body.current_password.clone())
            .is_ok_and(|current| current.expose_secret() == new_password.expose_secret())
        {
            return Err(AuthError::InvalidValue(
                auth::domain::InvalidValue::same_as_current("new_password"),
            ));
        }
        let now = clock::now();
        let user = Credentials {
            users: &self.users,
            attempts: &self.attempts,
            hasher: &self.hasher,
        }
        .check(Some(&caller.username), body.current_password, now)
        .await?;
        if user.user_id != caller.user_id {
            // The name now belongs to another account (this one was deleted).
            return Err(AuthError::Unauthorized("the account no longer exists"));
        }
        let new_hash = self
            .hasher
            .hash_blocking(new_password)
            .await
            .map_err(AuthError::Internal)?;
        let change = match self
            .accounts
            .change_password(&user, &new_hash, &caller.session_id, now)
            .await
        {
            Ok(change) => change,
            Err(e) => return self.settle(&user, &new_hash, e).await,
        };
        let generation = match change {
            PasswordChange::Changed { generation } => generation,
            PasswordChange::Stale => return Err(AuthError::InvalidCredentials),
            PasswordChange::SessionEnded => {
                return Err(AuthError::Unauthorized("the session has ended"));
            }
        };
        auth::store::clean_up_ended_sessions(&self.sessions, &caller.user_id, generation).await;
        Ok((api::empty_response(StatusCode::NO_CONTENT), "success"))
    }
}

impl<U: FindUser + Sync, S, A, C> Handler<U, S, A, C> {
    /// After the change's write failed: a failure whose outcome is unknown (a time-out after
    /// DynamoDB may have applied the transaction) is settled by reading the account again. The
    /// new hash there means the change happened (every other session ended with it): 204, the
    /// clean-up left to the TTL. Anything else: the error, 503 for a store that is down.
    async fn settle(
        &self,
        user: &auth::store::UserRecord,
        new_hash: &str,
        failure: auth::StoreError,
    ) -> Result<Answer, AuthError> {
        let applied = self.users.find_user(&user.username).await.is_ok_and(|now| {
            now.is_some_and(|now| now.user_id == user.user_id && now.password_hash == new_hash)
        });
        if !applied {
            return Err(failure.into());
        }
        tracing::warn!(
            error = %api::chain(&failure),
            "the change was written although its store call failed"
        );
        Ok((api::empty_response(StatusCode::NO_CONTENT), "success"))
    }
}

impl<U, S, A, C> Handler<U, S, A, C> {
    /// A handler over the given stores, hashing with `hasher`.
    pub fn new(users: U, sessions: S, attempts: A, accounts: C, hasher: PasswordHasher) -> Self {
        Self {
            users,
            sessions,
            attempts,
            accounts,
            hasher,
        }
    }
}
