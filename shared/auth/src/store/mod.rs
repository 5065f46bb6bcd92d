//! Users and sessions, behind narrow traits: each handler asks only for the operations it uses
//! (and each function's IAM policy in `template.yaml` grants only those).
//!
//! | trait | operation | used by |
//! |---|---|---|
//! | [`CreateUser`] | conditional create, never read-then-write | register |
//! | [`FindUser`] | get by username (strongly consistent) | login, user-info, change-password, delete-account, admin, mfa |
//! | [`ReadMarker`] | read the owner's revocation marker (strongly consistent) | login, mfa, admin |
//! | [`StartSession`] | write a session and its first refresh token | login |
//! | [`GetSession`] | one strongly consistent read of a session and its owner's revocation marker | authorizer, refresh |
//! | [`RefreshTokens`] | find a refresh token by hash; rotate it (atomically with the session's last use) | refresh |
//! | [`DeleteSession`] | delete one of the caller's live sessions | logout, sessions, refresh (theft) |
//! | [`ListSessions`] | the caller's live sessions | sessions, admin |
//! | [`RevokeAllSessions`] | bump the caller's revocation generation; clean up the sessions it ended | logout-all, admin |
//! | [`DisableUser`] | bump the generation, mark the account disabled and drop a pending two-factor challenge (one write); lift the mark | admin |
//! | [`LoginAttempts`] | failed-login counters (read, conditional increment, clear, forget) | login, change-password, delete-account, mfa |
//! | [`ChangePassword`] | replace the password hash and end every other session, atomically | change-password |
//! | [`DeleteAccount`] | delete the account and end every session, atomically | delete-account |
//! | [`SecondFactor`] | enrol, confirm and turn off TOTP; record and pass a sign-in challenge; an operator's reset (conditional writes on the marker) | mfa, login, admin |
//!
//! Two implementations: DynamoDB through `aws-sdk-dynamodb` (crate `auth-sdk`) and [`memory`]
//! (the embedded default for local runs). Both pass the same conformance suite
//! (`shared/testing/tests/store_conformance.rs`, `account_conformance.rs` for the account
//! changes and [`DisableUser`], `mfa_conformance.rs` for [`SecondFactor`]). A third, in `auth-direct`, serves only the
//! reads of the per-request Lambdas ([`GetSession`] for the authorizer, [`FindUser`] for
//! user-info) through the SDK-less direct client; the suite runs its cases through it too, on
//! items the SDK store wrote. Both DynamoDB back-ends read items through [`item`].
//!
//! ## How sessions end
//! A session is live while its item exists, its `expires_at` has not passed (DynamoDB deletes
//! expired items up to days late, so every read compares `expires_at` with the clock itself) and
//! its `generation` is not below its owner's **revocation generation**. Logout and
//! `DELETE /sessions/{id}` delete the item; log-out-everywhere increments the owner's generation
//! in one write, which ends every session that began before it at once — including one whose
//! item a concurrent login is writing at that moment: login reads the generation before it
//! writes the session, so a session either carries the old generation (and is ended, even if
//! its item lands after the increment) or was started after the increment. Deleting the ended
//! items afterwards is housekeeping only. (The generation is deliberately not re-checked inside
//! the login's write: a condition on the shared marker item would need a transaction, and
//! concurrent logins of one user would then cancel each other.)
//!
//! Only the two account changes ([`account`]) use a DynamoDB transaction (rare, one user's own
//! request; a plain write that meets one in flight is refused as transient, see
//! [`item::TRANSIENT_CODES`]); every other operation writes single items in an order
//! that is safe if it stops half-way — a new refresh token item is written before anything refers to it or
//! hands it out, so an interrupted operation leaves at most an item naming a token nobody holds
//! (deleted at once when possible, else by TTL).
//!
//! ## Item layout
//! - Users table, partition key `username` (S): `user_id` (S), `password_hash` (S, PHC string),
//!   `created_at` (N, epoch seconds).
//! - Sessions table, partition key `pk` (S), three kinds of item:
//!   - a session (the whitelist item), `pk` = the session id (32 hex digits): `user_id` (S),
//!     `username` (S), `created_at_ms` (N, epoch milliseconds), `last_used_at`, `expires_at` (N,
//!     epoch seconds; `expires_at`
//!     is the table's TTL attribute and the end of the newest refresh token's life),
//!     `generation` (N), `user_agent` (S), `source_ip` (S), `mfa` (N, 1 when the login passed a
//!     second factor; absent otherwise);
//!   - a revocation marker, `pk` = `user#<user id>`: `generation` (N; no marker means 0),
//!     `disabled_at` (N, epoch seconds) while an operator has disabled the account,
//!     `deleted_at` (N, epoch seconds) once it is deleted (no enable lifts it), `credential` (S, the [`account::credential_stamp`] of the password set by
//!     the last password change), and
//!     `expires_at` (N, TTL) once the account is deleted (set past the end of every session it
//!     could have, by `delete_account::MARKER_MARGIN_SECONDS`; until then the marker never
//!     expires); and the two-factor attributes listed in [`mfa`];
//!   - a refresh token, `pk` = `refresh#<SHA-256 of the token, hex>`: `sid` (S), `owner` (S),
//!     `expires_at` (N, TTL), and `rotated_at_ms` (N) once it has been rotated. Rotated tokens
//!     are kept until they expire, so that presenting one again is recognised as reuse.
//!
//!   A global secondary index `by-user` (partition key `user_id`, keys only) lists a user's
//!   session items (markers and refresh tokens carry no `user_id`, so they are not in it). It is
//!   eventually consistent and used only to find candidates for listing and clean-up; what a
//!   listing shows is re-read with strong consistency, and no access decision ever reads it.
//! - Login attempts table, partition key `username` (S, the lower-cased name as typed, whether
//!   or not an account has it): `failures` (N, consecutive), `last_failure` (N),
//!   `expires_at` (N, the TTL attribute; a counter is forgotten a day after its last failure).

use std::future::Future;

use crate::domain::{RefreshHash, RefreshToken, SessionId, UserId, Username};
use crate::error::StoreError;

pub mod account;
pub mod item;
pub mod memory;
pub mod mfa;

pub use account::{AccountsOver, ChangePassword, DeleteAccount, PasswordChange};
pub use mfa::{Proof, SecondFactor, Totp};

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

/// A session: the whitelist item its access tokens are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session id (the `sid` claim of its access tokens).
    pub session_id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Owner's username.
    pub username: Username,
    /// Login time, epoch milliseconds (fine enough to order the sessions of one user).
    pub created_at_ms: i64,
    /// Time of the login or of the last refresh, epoch seconds.
    pub last_used_at: i64,
    /// End of life, epoch seconds (the expiry of its newest refresh token): from then on the
    /// item counts as absent.
    pub expires_at: i64,
    /// The owner's revocation generation when the session began.
    pub generation: u64,
    /// `User-Agent` of the login or last refresh (at most [`MAX_USER_AGENT_BYTES`]; empty if
    /// none was sent).
    pub user_agent: String,
    /// Source IP of the login or last refresh, as API Gateway saw it.
    pub source_ip: String,
    /// Whether the login that opened it passed a second factor.
    pub mfa: bool,
}

/// Longest `User-Agent` kept on a session, in bytes; longer ones are cut at a character
/// boundary.
pub const MAX_USER_AGENT_BYTES: usize = 512;

impl SessionRecord {
    /// Whether the session has not reached its end of life at `now` (revocation by generation
    /// is checked against the owner's marker, see [`GetSession`]).
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at
    }
}

/// What a refresh records on its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUse {
    /// The session used.
    pub session_id: SessionId,
    /// When, epoch seconds.
    pub at: i64,
    /// The new end of life (the expiry of the new refresh token).
    pub expires_at: i64,
    /// `User-Agent` of the refresh.
    pub user_agent: String,
    /// Source IP of the refresh.
    pub source_ip: String,
}

/// A refresh token as stored: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// SHA-256 of the token.
    pub hash: RefreshHash,
    /// The session it belongs to.
    pub session_id: SessionId,
    /// The session's owner.
    pub user_id: UserId,
    /// End of life, epoch seconds.
    pub expires_at: i64,
    /// When it was rotated (epoch milliseconds); `None` while it is the session's current one.
    pub rotated_at_ms: Option<i64>,
}

impl RefreshRecord {
    /// The record of `token`, the current refresh token of session `session_id` of `user_id`,
    /// until `expires_at`.
    pub fn current(
        token: &RefreshToken,
        session_id: &SessionId,
        user_id: &UserId,
        expires_at: i64,
    ) -> Self {
        Self {
            hash: token.hash(),
            session_id: session_id.clone(),
            user_id: user_id.clone(),
            expires_at,
            rotated_at_ms: None,
        }
    }
}

/// What a strongly consistent read of a session found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionLookup {
    /// The session is live and belongs to the owner asked about.
    Live(SessionRecord),
    /// No item, or one past its `expires_at`.
    Absent,
    /// The item belongs to another user.
    WrongOwner,
    /// Ended by log-out-everywhere (its generation is below its owner's).
    Revoked,
}

impl SessionLookup {
    /// How a read of session item `record` (if any) is judged for a call made for `owner` at
    /// `now`, given the owner's revocation generation: the one rule both stores apply.
    pub fn judge(record: Option<SessionRecord>, owner: &UserId, generation: u64, now: i64) -> Self {
        match record {
            None => Self::Absent,
            Some(s) if !s.is_live(now) => Self::Absent,
            Some(s) if &s.user_id != owner => Self::WrongOwner,
            Some(s) if s.generation < generation => Self::Revoked,
            Some(s) => Self::Live(s),
        }
    }
}

/// Newest login first; ties by id, so the order is stable.
pub fn sort_newest_first(sessions: &mut [SessionRecord]) {
    sessions.sort_by(|a, b| {
        b.created_at_ms
            .cmp(&a.created_at_ms)
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
}

/// The result of [`RefreshTokens::rotate_refresh`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is now rotated, the new one stored and the session's use recorded.
    Rotated,
    /// The old token had already been rotated (by a concurrent refresh); nothing was written.
    AlreadyRotated,
    /// The session's item is gone (logged out or revoked); nothing was written.
    SessionGone,
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

    /// After a successful login: forgets the counter if it is still `counted` (the counter as
    /// that login's attempt left it; a conditional delete). If another attempt has counted on
    /// it since, only this attempt's own count is taken back (one less failure, a conditional
    /// update): a success does not wipe the attempts made beside it, and concurrent successes
    /// do not add up to a lock.
    fn clear_attempts(
        &self,
        username: &Username,
        counted: Attempts,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the counter for `username`, whatever it holds: after the account was deleted, so
    /// that whoever registers the name next does not inherit its failures.
    fn forget_attempts(
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

/// A user's revocation marker as read: what decides whether sessions may start and which have
/// ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Marker {
    /// The revocation generation: sessions that began below it have ended (0 without a marker).
    pub generation: u64,
    /// Disabled by an operator: no session may start (login answers as for a wrong password)
    /// until an operator enables the account again.
    pub disabled: bool,
    /// The account was deleted: no session may start, ever (an operator's enable does not lift
    /// this; a new account under the name has another user id, so another marker).
    pub deleted: bool,
    /// The [`account::credential_stamp`] of the password set by the last password change, if
    /// there was one: a login that verified another password hash must not start a session.
    pub credential: Option<String>,
    /// Two-factor sign-in ([`mfa`]).
    pub totp: Totp,
}

impl Marker {
    /// Whether a login that verified `password_hash` may start a session under this marker: the
    /// account is neither disabled nor deleted, and no password change since replaced that hash.
    pub fn admits(&self, password_hash: &str) -> bool {
        !self.disabled
            && !self.deleted
            && self
                .credential
                .as_deref()
                .is_none_or(|stamp| stamp == account::credential_stamp(password_hash))
    }
}

/// Reads a user's revocation marker.
pub trait ReadMarker {
    /// The owner's revocation marker (generation 0 and enabled without one), read with strong
    /// consistency.
    fn marker(&self, owner: &UserId) -> impl Future<Output = Result<Marker, StoreError>> + Send;
}

/// Starts sessions (login).
pub trait StartSession: ReadMarker {
    /// Writes `session` and its first refresh token (the token's item first, the session's
    /// last; on a failure in between the token's item is deleted again);
    /// [`StoreError::AlreadyExists`] if an id is taken. `session.generation` is the owner's
    /// revocation generation as read before: if log-out-everywhere incremented it since, the
    /// session is written all the same and is ended from the start.
    fn start_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Reads sessions to decide access.
pub trait GetSession {
    /// Session `id` as seen by a call made for `owner` at `now`: one strongly consistent read
    /// of the session item and the owner's revocation marker. Only a session that exists, is
    /// before its `expires_at`, belongs to `owner` and is not below the owner's revocation
    /// generation is [`SessionLookup::Live`].
    fn get_session(
        &self,
        id: &SessionId,
        owner: &UserId,
        now: i64,
    ) -> impl Future<Output = Result<SessionLookup, StoreError>> + Send;
}

/// Refresh tokens (stored as hashes).
pub trait RefreshTokens {
    /// The refresh token with `hash`, if one is stored and before its `expires_at` at `now`,
    /// read with strong consistency — rotated ones included (their reuse must be recognised).
    fn find_refresh(
        &self,
        hash: &RefreshHash,
        now: i64,
    ) -> impl Future<Output = Result<Option<RefreshRecord>, StoreError>> + Send;

    /// Stores `new` (current), marks `old` rotated at `rotated_at_ms` if it is still current —
    /// the conditional write that decides which of concurrent refreshes wins — and records
    /// `used` on the session if its item still exists. See [`Rotation`] for the other outcomes,
    /// after which `new` is not stored.
    fn rotate_refresh(
        &self,
        old: &RefreshHash,
        rotated_at_ms: i64,
        new: &RefreshRecord,
        used: &SessionUse,
    ) -> impl Future<Output = Result<Rotation, StoreError>> + Send;

    /// Stores `new` beside the session's current token and records `used` on the session, if
    /// the session item still exists (returns whether it did; if not, `new` is not stored). For
    /// a refresh within the grace window after a concurrent one rotated the same token.
    fn add_refresh(
        &self,
        new: &RefreshRecord,
        used: &SessionUse,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Deletes sessions one at a time.
pub trait DeleteSession {
    /// Deletes session `id` if it is live for `owner` at `now` by the one rule of
    /// [`SessionLookup::judge`] (it belongs to `owner`, is before its `expires_at`, and began in
    /// the owner's current revocation generation). Returns whether an item was deleted; any
    /// other item is `false` and left as it is (one that log-out-everywhere ended is already
    /// denied everywhere). Its access and refresh tokens stop working at once.
    fn delete_session(
        &self,
        id: &SessionId,
        owner: &UserId,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Lists a user's sessions.
pub trait ListSessions {
    /// `owner`'s live sessions at `now` (as [`GetSession`] would judge each), newest first.
    /// Candidates come from the per-user index, which is eventually consistent and may lag a
    /// login by a moment, plus `also` (the caller's own session, so that it is never missing);
    /// each is re-read with strong consistency.
    fn list_sessions(
        &self,
        owner: &UserId,
        also: Option<&SessionId>,
        now: i64,
    ) -> impl Future<Output = Result<Vec<SessionRecord>, StoreError>> + Send;
}

/// An operator's hold on an account: disabling ends every session at once and keeps new ones
/// from starting; enabling lets logins in again (the ended sessions stay ended).
pub trait DisableUser {
    /// In one write: increments `owner`'s revocation generation, marks the account disabled and
    /// drops an outstanding two-factor challenge. Returns the new generation.
    fn disable(&self, owner: &UserId) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Lifts the mark; returns whether the account was disabled.
    fn enable(&self, owner: &UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Whether the account is disabled, read with strong consistency.
    fn is_disabled(&self, owner: &UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Ends all of a user's sessions.
pub trait RevokeAllSessions {
    /// Increments `owner`'s revocation generation in one write and returns the new value:
    /// from then on every session that began before is denied and cannot be refreshed. The
    /// same write drops an outstanding two-factor challenge (a sign-in half-way ends too).
    fn bump_generation(
        &self,
        owner: &UserId,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes `owner`'s session items whose generation is below `generation` (housekeeping
    /// after [`RevokeAllSessions::bump_generation`]; they are already denied). Returns how many
    /// were deleted.
    fn delete_sessions_before(
        &self,
        owner: &UserId,
        generation: u64,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// After [`RevokeAllSessions::bump_generation`] (or a change that raised the generation to
/// `generation`): deletes `owner`'s session items below it. Housekeeping only — they are already
/// denied — so a failure is logged, not returned; the caller answers as if it had worked.
pub async fn clean_up_ended_sessions<S: RevokeAllSessions + Sync>(
    sessions: &S,
    owner: &UserId,
    generation: u64,
) {
    match sessions.delete_sessions_before(owner, generation).await {
        Ok(deleted) => tracing::info!(deleted, "ended sessions' items deleted"),
        Err(e) => tracing::warn!(
            error = %crate::error::chain(&e),
            "sessions ended; deleting their items failed (they stay denied)"
        ),
    }
}

/// A store with every operation on users: what the local server and the conformance suite
/// hand out (each function asks only for the narrow traits it uses).
pub trait UserStore: CreateUser + FindUser {}

impl<T: CreateUser + FindUser> UserStore for T {}

/// A store with every operation on sessions, markers and refresh tokens: what the local
/// server and the conformance suite hand out (each function asks only for the narrow traits it
/// uses).
pub trait SessionStore:
    StartSession
    + GetSession
    + RefreshTokens
    + DeleteSession
    + ListSessions
    + RevokeAllSessions
    + DisableUser
    + SecondFactor
{
}

impl<T> SessionStore for T where
    T: StartSession
        + GetSession
        + RefreshTokens
        + DeleteSession
        + ListSessions
        + RevokeAllSessions
        + DisableUser
        + SecondFactor
{
}
