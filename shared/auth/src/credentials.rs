//! Checking a username's password, as login does and as the routes that ask for the password
//! again do (change-password, delete-account, turning two-factor sign-in off): counted by the brute-force limiter
//! ([`crate::throttle`]) before the password is checked, forgiven when it is right, and with one
//! answer and one Argon2 verification's cost for every failure (unknown username, impossible
//! username or password, wrong password), so that neither tells whether an account exists.
//!
//! Login splits the check in two ([`Credentials::check_counted`], then
//! [`Credentials::forgive`]): between them it reads the revocation marker, and an account the
//! marker refuses (disabled, deleted, or its password changed meanwhile) keeps the attempt
//! counted, as a wrong password does.

use crate::domain::{Password, Username};
use crate::error::AuthError;
use crate::password::PasswordHasher;
use crate::store::{Attempts, FindUser, LoginAttempts, UserRecord};
use crate::throttle;

/// How many times an attempt re-reads a contended failed-login counter before it is refused.
const COUNT_ROUNDS: usize = 8;

/// An account whose password was just verified, and the attempt as the limiter counted it.
#[derive(Debug)]
pub struct Checked {
    /// The account.
    pub user: UserRecord,
    /// The counter as this attempt left it (`None` if nothing was counted).
    counted: Option<Attempts>,
}

/// The accounts, the failed-login counters and the hasher a password check needs.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a, U, A> {
    /// Where accounts are found.
    pub users: &'a U,
    /// The failed-login counters.
    pub attempts: &'a A,
    /// The Argon2 hasher, at the configured cost.
    pub hasher: &'a PasswordHasher,
}

impl<U: FindUser + Sync, A: LoginAttempts + Sync> Credentials<'_, U, A> {
    /// The account named `username` if `password` is its password. Refused with 429
    /// `too_many_requests` while the username is locked (the password is not checked then),
    /// else with 401 `invalid_credentials` for any failure. `username` is `None` for a name that
    /// breaks the format rules: it cannot have an account, so it is neither looked up nor
    /// counted, but it still costs one verification.
    pub async fn check(
        &self,
        username: Option<&Username>,
        password: String,
        now: i64,
    ) -> Result<UserRecord, AuthError> {
        let checked = self.check_counted(username, password, now).await?;
        self.forgive(&checked).await;
        Ok(checked.user)
    }

    /// [`Credentials::check`] without forgiving the attempt: it stays counted as a failure
    /// until [`Credentials::forgive`].
    pub async fn check_counted(
        &self,
        username: Option<&Username>,
        password: String,
        now: i64,
    ) -> Result<Checked, AuthError> {
        // Every attempt is counted as a failure before its password is checked (and forgiven
        // if it succeeds), so at most FREE_FAILURES checks run per username before the lock,
        // however many attempts arrive at once.
        let counted = match username {
            Some(name) => Some(self.count_attempt(name, now).await?),
            None => None,
        };
        let user = match username {
            Some(name) => self.users.find_user(name).await?,
            None => None,
        };
        let user = self.verify(user, password).await?;
        Ok(Checked { user, counted })
    }

    /// Takes back the attempt's count after a success (unless another attempt counted since;
    /// see [`LoginAttempts::clear_attempts`]). A failure here is logged, not returned: the
    /// check stands, and the counter expires by itself.
    pub async fn forgive(&self, checked: &Checked) {
        if let Some(counted) = checked.counted
            && let Err(e) = self
                .attempts
                .clear_attempts(&checked.user.username, counted)
                .await
        {
            tracing::error!(
                error = %crate::error::chain(&e),
                "could not clear the failed-login counter"
            );
        }
    }

    /// Counts an attempt at a second factor of `user` (whose password a challenge vouches for)
    /// on the same counter, under the same lock, as their passwords: 429 while it is locked.
    /// [`Credentials::forgive`] the result once the factor is passed.
    pub async fn count_second_factor(
        &self,
        user: UserRecord,
        now: i64,
    ) -> Result<Checked, AuthError> {
        let counted = Some(self.count_attempt(&user.username, now).await?);
        Ok(Checked { user, counted })
    }

    /// Counts this attempt on `name`'s counter before its password is checked: refused (429)
    /// while the username is locked; otherwise one conditional write from the counter as read,
    /// so concurrent attempts are counted one at a time and each sees the lock the ones before
    /// it set. Contention re-reads the counter, a few times at most; still contended, the
    /// attempt is refused rather than checked uncounted. Returns the counter as this attempt
    /// left it.
    async fn count_attempt(&self, name: &Username, now: i64) -> Result<Attempts, AuthError> {
        for _ in 0..COUNT_ROUNDS {
            let seen = self.attempts.get_attempts(name, now).await?;
            if let Some(retry_after) = seen.and_then(|a| throttle::retry_after(&a, now)) {
                return Err(AuthError::TooManyRequests { retry_after });
            }
            let expires_at = now + throttle::FORGET_AFTER_SECONDS;
            if let Some(attempts) = self
                .attempts
                .try_count_failure(name, seen, now, expires_at)
                .await?
            {
                if throttle::locked_until(&attempts).is_some() {
                    tracing::warn!(failures = attempts.failures, "username locked");
                }
                return Ok(attempts);
            }
        }
        tracing::warn!("failed-login counter contended; attempt refused uncounted");
        Err(AuthError::TooManyRequests { retry_after: 1 })
    }

    /// Verifies `password` against `user`; runs the dummy verification when there is no user or
    /// the password cannot be valid, so every failure costs the same.
    async fn verify(
        &self,
        user: Option<UserRecord>,
        password: String,
    ) -> Result<UserRecord, AuthError> {
        let (password, user) = match Password::parse_login(password) {
            Ok(password) => (password, user),
            Err(_) => (
                Password::parse_login("x".into()).expect("a one-character password"),
                None,
            ),
        };
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let matches = self
            .hasher
            .verify_blocking(password, hash)
            .await
            .map_err(AuthError::Internal)?;
        user.filter(|_| matches)
            .ok_or(AuthError::InvalidCredentials)
    }
}
