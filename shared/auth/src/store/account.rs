//! Changes to an account that end its other sessions in the same atomic write: changing the
//! password and deleting the account. They touch both tables (the account in the users table,
//! the revocation marker and a session in the sessions table), so each is one DynamoDB
//! transaction (`TransactWriteItems`) in `auth-sdk` and one critical section over both stores in
//! [`super::memory`]: a crash or a timeout leaves either all of it or none of it.
//!
//! Why that is enough against a concurrent login: the same write also records, on the owner's
//! revocation marker, what a login must check — the [`credential_stamp`] of the new password,
//! or the deletion (the marker's deleted mark). Login reads the marker (one strongly consistent
//! read of one item, which sees a transaction all or nothing) after it has verified the password
//! and before it writes the session ([`super::Marker::admits`]). A login whose read comes before
//! the change starts a session below the new generation, which the change has already ended; one
//! whose read comes after it sees the new stamp (or the mark) and is refused. No second item has
//! to be read, so nothing depends on two items of a transaction becoming visible together.

use std::future::Future;

/// A short fingerprint of a password hash (the PHC string, salt included, so every password
/// set has its own): the first 12 bytes of its SHA-256, in hex. A password change writes it on
/// the revocation marker, where login compares it with the hash it verified; it reveals nothing
/// about the password (the hash it comes from is itself a salted Argon2id hash, never shown).
pub fn credential_stamp(password_hash: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, password_hash.as_bytes());
    crate::domain::hex(&digest.as_ref()[..12])
}

use crate::domain::SessionId;
use crate::error::StoreError;

use super::UserRecord;

/// The outcome of [`ChangePassword::change_password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange {
    /// The new hash is stored, and every other session of the owner has ended: the owner's
    /// revocation generation is now `generation`, which the kept session carries.
    Changed {
        /// The owner's new revocation generation.
        generation: u64,
    },
    /// The account no longer has the hash that was checked (its password changed or it was
    /// deleted in the meantime): nothing was written.
    Stale,
    /// The session to keep is no longer live (it was ended in the meantime): nothing was
    /// written.
    SessionEnded,
}

/// Changes a password, ending every other session of its owner.
pub trait ChangePassword {
    /// In one atomic write: replaces `user`'s password hash with `new_hash` if the account still
    /// has `user.user_id` and `user.password_hash`, raises the owner's revocation generation by
    /// one (ending every session that began before) and stamps the marker with
    /// [`credential_stamp`]`(new_hash)`, and lifts session `keep` to the new generation (so the
    /// caller's session stays). A concurrent write to the marker or to
    /// `keep` is retried from a fresh read a few times, then reported as
    /// [`StoreError::Unavailable`].
    fn change_password(
        &self,
        user: &UserRecord,
        new_hash: &str,
        keep: &SessionId,
        now: i64,
    ) -> impl Future<Output = Result<PasswordChange, StoreError>> + Send;
}

/// Deletes accounts.
pub trait DeleteAccount {
    /// In one atomic write: deletes `user`'s account if it still has `user.user_id` and
    /// `user.password_hash`, and raises the owner's revocation generation by one and marks the
    /// marker deleted, which ends every session of the account at once and refuses a login
    /// that verified the password just before. The marker is kept until `marker_expires_at` (set
    /// past the end of life of every session the account could have), so that a session item
    /// left behind stays ended for as long as it could otherwise count as live. Returns the new
    /// generation, or `None` if the account was not as read (nothing written).
    fn delete_account(
        &self,
        user: &UserRecord,
        marker_expires_at: i64,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;
}

/// A users store that, with a sessions store `S` beside it, makes the account changes (which
/// write both at once): how the local server and the tests get them from the stores they hold.
pub trait AccountsOver<S> {
    /// The account changes over both stores.
    type Accounts: ChangePassword + DeleteAccount;

    /// The account changes over this users store and `sessions`.
    fn accounts(&self, sessions: &S) -> Self::Accounts;
}
