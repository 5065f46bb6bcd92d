//! Users and sessions, behind narrow traits: each handler asks only for the operations it uses
//! (and each function's IAM policy in `template.yaml` grants only those).
//!
//! | trait | operation | used by |
//! |---|---|---|
//! | [`CreateUser`] | conditional create, never read-then-write | register |
//! | [`FindUser`] | get by username (strongly consistent) | login, user-info |
//! | [`PutSession`] | write a whitelist item | login |
//! | [`GetSession`] | strongly consistent get; expired items count as absent | authorizer |
//! | [`DeleteSession`] | delete one of the caller's sessions | logout |
//! | [`LoginAttempts`] | failed-login counters (read, conditional increment, clear) | login |
//!
//! Two implementations: [`dynamo`] (DynamoDB through `aws-sdk-dynamodb`) and [`memory`] (the
//! embedded default for local runs). Both pass the same conformance suite
//! (`shared/auth/tests/store_conformance.rs`).
//!
//! ## Item layout
//! - Users table, partition key `username` (S): `user_id` (S), `password_hash` (S, PHC string),
//!   `created_at` (N, epoch seconds).
//! - Sessions table (the whitelist), partition key `jti` (S): `user_id` (S), `username` (S),
//!   `issued_at` (N), `expires_at` (N, epoch seconds; the table's TTL attribute). DynamoDB deletes
//!   expired items up to days late, so every read compares `expires_at` with the clock itself.
//!   The `user_id` attribute is what a per-user index can later be built on without rewriting
//!   items.
//! - Login attempts table, partition key `username` (S, the lower-cased name as typed, whether
//!   or not an account has it): `failures` (N, consecutive), `last_failure` (N),
//!   `expires_at` (N, the TTL attribute; a counter is forgotten a day after its last failure).

use std::future::Future;

use crate::domain::{SessionId, UserId, Username};
use crate::error::StoreError;

pub mod dynamo;
pub mod memory;

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Stable id (the token's `sub`).
    pub user_id: UserId,
    /// Lower-case username, the table's key.
    pub username: Username,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Creation time, epoch seconds.
    pub created_at: i64,
}

/// A whitelist item: one live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session id (the access token's `jti`).
    pub session_id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Owner's username.
    pub username: Username,
    /// Creation time, epoch seconds.
    pub issued_at: i64,
    /// End of life, epoch seconds: from then on the item counts as absent.
    pub expires_at: i64,
}

impl SessionRecord {
    /// Whether the session is still live at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at
    }
}

/// Consecutive failed logins for one username.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Failures since the last success (or since the counter was forgotten).
    pub failures: u32,
    /// Time of the last failure, epoch seconds.
    pub last_failure: i64,
}

/// Failed-login counters, kept per username (existing or not).
pub trait LoginAttempts {
    /// The counter for `username`, if one is live at `now` (one whose `expires_at` has passed
    /// counts as absent), read with strong consistency.
    fn get_attempts(
        &self,
        username: &Username,
        now: i64,
    ) -> impl Future<Output = Result<Option<Attempts>, StoreError>> + Send;

    /// Counts one failure at `now` on top of `seen` (the counter as last read; `None` for no
    /// live counter), keeping the counter until `expires_at` — but only if the counter is still
    /// `seen` (a conditional write). Returns the new counter, or `None` if another attempt changed
    /// it in between: concurrent attempts are counted one at a time, none is lost.
    fn try_count_failure(
        &self,
        username: &Username,
        seen: Option<Attempts>,
        now: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<Option<Attempts>, StoreError>> + Send;

    /// Forgets the counter (after a successful login).
    fn clear_attempts(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Creates an account if its username is free.
pub trait CreateUser {
    /// Creates `user`; [`StoreError::AlreadyExists`] if the username is taken. Atomic: two
    /// concurrent creates of one username never both succeed.
    fn create_user(&self, user: &UserRecord)
    -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Looks an account up by username.
pub trait FindUser {
    /// The account named `username`, read with strong consistency.
    fn find_user(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;
}

/// Writes whitelist items.
pub trait PutSession {
    /// Stores a new session; [`StoreError::AlreadyExists`] if its id is taken.
    fn put_session(
        &self,
        session: &SessionRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Reads whitelist items.
pub trait GetSession {
    /// The session `id` if it exists and is live at `now`, read with strong consistency. An item
    /// whose `expires_at` has passed is `None` even while the store still holds it.
    fn get_session(
        &self,
        id: &SessionId,
        now: i64,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;
}

/// Deletes whitelist items.
pub trait DeleteSession {
    /// Deletes session `id` if it belongs to `owner`. Returns whether an item was deleted;
    /// a missing item or one of another user is `false` and left as it is.
    fn delete_session(
        &self,
        id: &SessionId,
        owner: &UserId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
