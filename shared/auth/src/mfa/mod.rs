//! Two-factor sign-in: TOTP codes ([`totp`]), recovery codes ([`recovery`]), the signed
//! challenge between the password step and the code step ([`challenge`]), and the key that
//! keeps TOTP secrets encrypted at rest ([`MfaKeys`]).
//!
//! What is stored, and where, is the revocation marker's business
//! ([`crate::store::SecondFactor`]); the routes are `functions/mfa` (enrol, confirm, turn off)
//! and `functions/login` (`POST /login` answers `mfa_required`, `POST /login/mfa` completes it).
//!
//! ## The key
//! One secret, `MFA_KEY` inline (local runs, tests) or the Secrets Manager secret
//! `MFA_KEY_ARN` (deployed; the template generates it), of at least 32 bytes. Two keys are
//! derived from it with HKDF-SHA-256, one per use, so neither use can stand in for the other:
//! - an AES-256-GCM key that seals each TOTP secret, with a fresh random 96-bit nonce per
//!   sealing and the owner's user id as associated data (a sealed secret copied onto another
//!   user's marker does not open);
//! - an HMAC-SHA-256 key that signs `mfa_token`s. They are signed with neither access-token key,
//!   so the authorizer, which knows only those, can never accept one.
//!
//! The key does not rotate: the sealed secrets would have to be re-sealed with the new one
//! (docs/operations.md says what replacing it means: every user re-enrols).

pub mod challenge;
pub mod recovery;
pub mod totp;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;

use crate::domain::UserId;
use crate::token::HmacKey;
pub use challenge::{Challenge, ChallengeClaims, Challenges};
pub use totp::TotpSecret;

/// Salt of the HKDF extraction (fixed: the input is already a uniformly random secret).
const HKDF_SALT: &[u8] = b"auth-sessions mfa key v1";
/// Prefix of a sealed secret's stored form: the format's version.
const SEALED_PREFIX: &str = "v1.";

/// The keys derived from the MFA secret.
#[derive(Clone)]
pub struct MfaKeys {
    seal: std::sync::Arc<LessSafeKey>,
    challenge: Vec<u8>,
}

impl std::fmt::Debug for MfaKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaKeys(..)")
    }
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl MfaKeys {
    /// Derives the keys from `secret` (`MFA_KEY`, or the string of `MFA_KEY_ARN`).
    pub fn derive(secret: &HmacKey) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(&secret.secret);
        let expand = |info: &'static [u8]| {
            let info = [info];
            let mut out = vec![0u8; 32];
            prk.expand(&info, Len(32))
                .and_then(|okm| okm.fill(&mut out))
                .expect("32 bytes is a valid HKDF-SHA-256 output length");
            out
        };
        let seal_key = zeroize::Zeroizing::new(expand(b"totp secret sealing"));
        let seal = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &seal_key).expect("a 32-byte AES-256 key"),
        );
        Self {
            seal: std::sync::Arc::new(seal),
            challenge: expand(b"mfa challenge signing"),
        }
    }

    /// Seals `secret` for `owner`: `v1.` then base64 of nonce, ciphertext and tag.
    pub fn seal(&self, owner: &UserId, secret: &TotpSecret) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system random source");
        let mut data = secret.as_bytes().to_vec();
        self.seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner.as_str().as_bytes()),
                &mut data,
            )
            .expect("AES-GCM sealing of a short secret");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        format!("{SEALED_PREFIX}{}", B64.encode(out))
    }

    /// Opens a sealed secret of `owner`; `None` if it is not one this key sealed for them.
    pub fn open(&self, owner: &UserId, sealed: &str) -> Option<TotpSecret> {
        let bytes = B64.decode(sealed.strip_prefix(SEALED_PREFIX)?).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let mut data = rest.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self
            .seal
            .open_in_place(nonce, Aad::from(owner.as_str().as_bytes()), &mut data)
            .ok()?;
        Some(TotpSecret::from_bytes(plain.to_vec()))
    }

    /// The key that signs `mfa_token`s.
    pub(crate) fn challenge_key(&self) -> &[u8] {
        &self.challenge
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(byte: u8) -> MfaKeys {
        MfaKeys::derive(&HmacKey::new(vec![byte; 32]).unwrap())
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_for_its_owner() {
        let ada = UserId::generate();
        let bob = UserId::generate();
        let secret = TotpSecret::generate();
        let sealed = keys(1).seal(&ada, &secret);
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains(secret.base32().as_str()));
        assert_eq!(
            keys(1).open(&ada, &sealed).unwrap().as_bytes(),
            secret.as_bytes()
        );
        assert!(keys(2).open(&ada, &sealed).is_none(), "another key");
        assert!(keys(1).open(&bob, &sealed).is_none(), "another owner");
        // Fresh nonce each time.
        assert_ne!(keys(1).seal(&ada, &secret), sealed);
        // Tampering is refused.
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            keys(1)
                .open(&ada, &String::from_utf8(tampered).unwrap())
                .is_none()
        );
        assert!(keys(1).open(&ada, "v1.").is_none());
        assert!(keys(1).open(&ada, "garbage").is_none());
    }

    #[test]
    fn the_two_derived_keys_differ_from_the_secret_and_each_other() {
        let k = keys(7);
        assert_ne!(k.challenge_key(), &[7u8; 32][..]);
        assert_eq!(format!("{k:?}"), "MfaKeys(..)");
    }
}
