//! Two-factor sign-in state, kept on the user's revocation marker (`user#<user id>` in the
//! sessions table): the one item login already reads, with strong consistency, after the
//! password is verified. So login learns whether the account has a second factor without
//! another read, and without a read before the password is right (which would tell an
//! enumerating caller something); the authorizer, which reads the marker for its generation
//! only, does no more work for users without it.
//!
//! Attributes (all absent while two-factor sign-in was never turned on):
//! - `totp_pending` (S, a sealed secret, [`crate::mfa::MfaKeys::seal`]) and `totp_pending_until`
//!   (N): an enrolment started and not yet confirmed;
//! - `totp_secret` (S, sealed): the confirmed secret; its presence is what "on" means;
//! - `totp_step` (N): the last TOTP step accepted, so no code is accepted twice;
//! - `recovery` (S): the SHA-256 hashes of the unused recovery codes, space-separated (one
//!   string, replaced whole under a condition on its old value, so a code is used once);
//! - `mfa_challenge` (S): the `jti` of the one outstanding `mfa_token`, set by the password step
//!   and removed by the code step that accepts a code.
//!
//! Every change is one conditional `UpdateItem` on the marker, conditioned on the state the
//! caller read, so concurrent requests cannot both pass: two uses of one code, of one
//! recovery code or of one challenge, a confirmation racing a second enrolment, a sign-in
//! racing the factor being turned off. Deleting the account removes them with the marker's
//! other changes, in its transaction.

use std::future::Future;

use super::ReadMarker;
use crate::domain::UserId;
use crate::error::StoreError;

/// The two-factor state on a marker.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Totp {
    /// The sealed secret, once confirmed: two-factor sign-in is on.
    pub secret: Option<String>,
    /// An enrolment in progress: the sealed secret and the time (epoch seconds) until which it
    /// may be confirmed.
    pub pending: Option<(String, i64)>,
    /// The last step accepted.
    pub last_step: Option<i64>,
    /// The stored `recovery` string (hashes of the unused codes, space-separated), as read.
    pub recovery: String,
    /// The `jti` of the outstanding challenge.
    pub challenge: Option<String>,
}

impl Totp {
    /// Whether `proof` is still unused on this state: the code's step after the last one used
    /// (and the secret the same), or the recovery codes as they were read.
    pub fn admits(&self, proof: &Proof) -> bool {
        match proof {
            Proof::Code { secret, step } => {
                self.secret.as_deref() == Some(secret.as_str())
                    && self.last_step.is_none_or(|last| *step > last)
            }
            Proof::Recovery { seen, .. } => self.is_on() && self.recovery == *seen,
        }
    }

    /// Whether two-factor sign-in is on.
    pub fn is_on(&self) -> bool {
        self.secret.is_some()
    }

    /// The hashes of the unused recovery codes.
    pub fn recovery_hashes(&self) -> impl Iterator<Item = &str> {
        self.recovery.split(' ').filter(|h| !h.is_empty())
    }

    /// The `recovery` string without `hash`, if it holds it.
    pub fn recovery_without(&self, hash: &str) -> Option<String> {
        let mut found = false;
        let rest: Vec<&str> = self
            .recovery_hashes()
            .filter(|h| {
                let this = !found && *h == hash;
                found |= this;
                !this
            })
            .collect();
        found.then(|| rest.join(" "))
    }
}

/// How a sign-in's second step proves the factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// A TOTP code of step `step`, verified against the sealed secret `secret` as read.
    Code {
        /// The sealed secret the code was checked against.
        secret: String,
        /// The step it matched (must be after the stored `totp_step`).
        step: i64,
    },
    /// A recovery code: the `recovery` string as read and what it becomes without the code.
    Recovery {
        /// As read.
        seen: String,
        /// Without the code used.
        rest: String,
    },
}

/// Enrolling, confirming, turning off and passing a second factor.
pub trait SecondFactor: ReadMarker {
    /// Records an enrolment of `owner` (sealed secret `sealed`, to be confirmed before `until`),
    /// replacing any earlier unconfirmed one. `false` (nothing written) if the factor is already
    /// on or the account was deleted. Creates the marker (generation 0) if there is none.
    fn begin_totp(
        &self,
        owner: &UserId,
        sealed: &str,
        until: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Turns the factor on with the pending secret `pending` (as read), the step of the code that
    /// confirmed it, and the recovery codes' `recovery` string — if the enrolment is still that
    /// one, before its end at `now`, and the factor is not on. Returns whether it was turned on.
    fn confirm_totp(
        &self,
        owner: &UserId,
        pending: &str,
        step: i64,
        recovery: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Turns the factor off with `proof` (a code of its secret after the last step used, or an
    /// unused recovery code, as in [`SecondFactor::pass_challenge`]): removes the secret, the
    /// last step, the recovery codes and any outstanding challenge — if the proof is still
    /// unused, so that a code a sign-in is using at that moment is not used twice. Returns
    /// whether it did.
    fn disable_totp(
        &self,
        owner: &UserId,
        proof: &Proof,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// An operator's reset (the owner lost the authenticator and the recovery codes, or someone
    /// else turned it on): removes every two-factor attribute, pending or on. Returns whether
    /// there was any.
    fn reset_totp(&self, owner: &UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records `challenge` as `owner`'s one outstanding challenge (replacing an older one), if
    /// the factor is still on with `secret`. Returns whether it did.
    fn set_challenge(
        &self,
        owner: &UserId,
        secret: &str,
        challenge: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// In one conditional write: removes the outstanding challenge if it is `challenge`, and
    /// records `proof` (the step as the last accepted, if it is after the stored one; or the
    /// recovery codes without the one used, if they are as read). Returns whether it did:
    /// `false` means the challenge was used or replaced, or the proof was used meanwhile.
    fn pass_challenge(
        &self,
        owner: &UserId,
        challenge: &str,
        proof: &Proof,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_hash_is_taken_out_once() {
        let totp = Totp {
            recovery: "aa bb cc".into(),
            ..Totp::default()
        };
        assert_eq!(totp.recovery_without("bb").as_deref(), Some("aa cc"));
        assert_eq!(totp.recovery_without("dd"), None);
        let last = Totp {
            recovery: "aa".into(),
            ..Totp::default()
        };
        assert_eq!(last.recovery_without("aa").as_deref(), Some(""));
        assert_eq!(Totp::default().recovery_hashes().count(), 0);
    }
}
