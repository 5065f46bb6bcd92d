//! `DELETE /me` (behind the authorizer): deletes the caller's account and ends every session of
//! it at once.
//!
//! Body `{"password"}`: the account's password again, checked as login checks it
//! ([`auth::credentials`]): counted by the brute-force limiter, so a wrong one is 401
//! `invalid_credentials` and counts towards the username's lock, and a locked username gets 429
//! `too_many_requests` with `Retry-After` without a check.
//!
//! Then one atomic write ([`auth::store::DeleteAccount`]) deletes the account and raises its
//! revocation generation: from the next request on, the authorizer denies every access token of
//! the account and refresh refuses every refresh token. 204, clearing the refresh cookie of a
//! browser. A later registration of the same username is a new account, with a new user id,
//! which no token of the old one reaches (tokens name the user id, and the old id's marker ends
//! every session it had).
//!
//! Afterwards, as housekeeping, the account's session items and its failed-login counter are
//! deleted. Its refresh-token items are left to their TTL: they can only be used through their
//! sessions, which have ended. The marker itself expires [`MARKER_MARGIN_SECONDS`] after the
//! longest session `auth::config::MAX_REFRESH_TTL_SECONDS` allows, after every session it ends.
//!
//! A failure half-way: before the write, nothing has changed (503, retry). After it, the
//! account is gone and every session ended whatever else happens; session items or a counter
//! left behind are denied by the marker, or expire by TTL (a counter after a day), so nothing
//! left behind opens anything.
//!
//! - 401 `unauthorized` if the account no longer exists (a concurrent deletion), and 401
//!   `invalid_credentials` if its password changed meanwhile: nothing deleted.
//! - 503 `service_unavailable` when the store is unavailable: nothing was deleted. When the
//!   write's outcome is unknown (a time-out after DynamoDB may have applied it), the account is
//!   read again: gone means deleted, and the answer is 204 (still there: 503, and a transaction
//!   DynamoDB was still applying may yet take effect; a retry then answers 401).

use auth::config::{AccountConfig, MAX_REFRESH_TTL_SECONDS};
use auth::credentials::Credentials;
use auth::password::PasswordHasher;
use auth::store::{DeleteAccount, FindUser, LoginAttempts, RevokeAllSessions};
use auth::{AuthError, clock};
use auth_edge::api::{self, parse_json};
use auth_edge::caller;
use auth_edge::delivery;
use auth_edge::runner::{Answer, Function};
use auth_sdk::accounts::DynamoAccounts;
use auth_sdk::store::{DynamoAttempts, DynamoSessions, DynamoUsers};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Deserialize;

/// What delete-account reads from the environment.
pub type Config = AccountConfig;

/// How long a deleted account's revocation marker outlives the longest session it could have
/// had: a day, for refreshes that were under way at the deletion.
pub const MARKER_MARGIN_SECONDS: i64 = 24 * 3600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteRequest {
    password: String,
}

/// The delete-account handler over the users, sessions and attempts stores and the change that
/// writes both tables.
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
    C: DeleteAccount + Sync,
{
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        Some("AccountDeletions")
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let caller = caller(&req)?;
        tracing::Span::current().record("user_id", caller.user_id.as_str());
        let body: DeleteRequest = parse_json(&req)?;
        let now = clock::now();
        let user = Credentials {
            users: &self.users,
            attempts: &self.attempts,
            hasher: &self.hasher,
        }
        .check(Some(&caller.username), body.password, now)
        .await?;
        if user.user_id != caller.user_id {
            // The name now belongs to another account (this one was deleted).
            return Err(AuthError::Unauthorized("the account no longer exists"));
        }
        let marker_expires_at = now + MAX_REFRESH_TTL_SECONDS + MARKER_MARGIN_SECONDS;
        let generation = match self.accounts.delete_account(&user, marker_expires_at).await {
            Ok(Some(generation)) => generation,
            Ok(None) => return Err(AuthError::InvalidCredentials),
            // The outcome is unknown (a time-out after DynamoDB may have applied the
            // transaction): the account tells. Gone means deleted, every session with it; the
            // clean-up below then takes every session item of the account.
            Err(failure) => match self.users.find_user(&user.username).await {
                Ok(None) => {
                    tracing::warn!(
                        error = %api::chain(&failure),
                        "the deletion was written although its store call failed"
                    );
                    u64::MAX
                }
                _ => return Err(failure.into()),
            },
        };
        tracing::info!("account deleted; every session ended");
        auth::store::clean_up_ended_sessions(&self.sessions, &caller.user_id, generation).await;
        if let Err(e) = self.attempts.forget_attempts(&user.username).await {
            tracing::warn!(
                error = %api::chain(&e),
                "could not delete the failed-login counter (it expires within a day)"
            );
        }
        let response =
            delivery::clearing_refresh_cookie(api::empty_response(StatusCode::NO_CONTENT));
        Ok((response, "success"))
    }
}

impl<U, S, A, C> Handler<U, S, A, C> {
    /// A handler over the given stores, checking passwords with `hasher`.
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
