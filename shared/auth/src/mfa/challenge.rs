//! The `mfa_token`: what the password step of a user with two-factor sign-in answers instead of
//! tokens. A JWT (HS256) signed with the challenge key of [`super::MfaKeys`], with our issuer,
//! its own audience (`<JWT_AUDIENCE>#mfa`), no `sid`, and `cst`, the
//! [`credential_stamp`](crate::store::account::credential_stamp) of the password hash just
//! verified. It lives [`CHALLENGE_TTL_SECONDS`].
//!
//! It is no access token: the authorizer knows only the access-token keys, and even with the
//! right key it would refuse the audience and the missing `sid`. Single use is the store's
//! part: the password step records the token's `jti` on the user's marker, and the code step
//! removes it in the same conditional write that accepts the code (see
//! [`crate::store::SecondFactor`]); a newer password step replaces it.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::MfaKeys;
use crate::domain::{TokenId, UserId, Username};

/// How long an `mfa_token` is accepted, in seconds.
pub const CHALLENGE_TTL_SECONDS: i64 = 300;
/// What is appended to the access tokens' audience to make the challenge's own.
const AUDIENCE_SUFFIX: &str = "#mfa";
/// The `kid` the challenge is signed under (no access-token key has it).
const KID: &str = "mfa-challenge";

/// The claims of an `mfa_token`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChallengeClaims {
    /// The user id.
    pub sub: String,
    /// The username (the account's key).
    pub username: String,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// The challenge's id, recorded on the marker until it is used.
    pub jti: String,
    /// Issuer.
    pub iss: String,
    /// Audience: the access tokens' plus `#mfa`.
    pub aud: String,
    /// Credential stamp of the password hash the password step verified.
    pub cst: String,
}

/// A verified challenge, as domain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Whose.
    pub user_id: UserId,
    /// Their username.
    pub username: Username,
    /// Its id.
    pub id: String,
    /// The password's credential stamp.
    pub credential: String,
}

/// Issues and verifies challenges.
#[derive(Clone)]
pub struct Challenges {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for Challenges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Challenges(..)")
    }
}

impl Challenges {
    /// Challenges signed with `keys`, for issuer `issuer` and access-token audience `audience`.
    pub fn new(keys: &MfaKeys, issuer: &str, audience: &str) -> Self {
        Self {
            encoding: EncodingKey::from_secret(keys.challenge_key()).expect("a 32-byte HMAC key"),
            decoding: DecodingKey::from_secret(keys.challenge_key()).expect("a 32-byte HMAC key"),
            issuer: issuer.to_owned(),
            audience: format!("{audience}{AUDIENCE_SUFFIX}"),
        }
    }

    /// A new challenge for `user_id`/`username` whose password (stamp `credential`) was just
    /// verified at `now`: the token and its id.
    pub fn issue(
        &self,
        user_id: &UserId,
        username: &Username,
        credential: String,
        now: i64,
    ) -> (String, String) {
        let claims = ChallengeClaims {
            sub: user_id.to_string(),
            username: username.to_string(),
            iat: now,
            exp: now + CHALLENGE_TTL_SECONDS,
            jti: TokenId::generate().to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            cst: credential,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("JWT".into());
        header.kid = Some(KID.into());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .expect("HS256 signing of plain claims");
        (token, claims.jti)
    }

    /// The challenge `token` names, if it is one of ours, unexpired at `now` (no leeway) and
    /// well formed.
    pub fn verify(&self, token: &str, now: i64) -> Option<Challenge> {
        if token.len() > crate::token::MAX_TOKEN_BYTES {
            return None;
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "aud", "iss"]);
        // Times are checked below against `now`, not the library's clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        let data =
            jsonwebtoken::decode::<ChallengeClaims>(token, &self.decoding, &validation).ok()?;
        if data.header.kid.as_deref() != Some(KID) {
            return None;
        }
        let c = data.claims;
        if now >= c.exp || c.iat > now || c.exp - c.iat > CHALLENGE_TTL_SECONDS {
            return None;
        }
        Some(Challenge {
            user_id: UserId::parse(&c.sub).ok()?,
            username: Username::parse(&c.username).ok()?,
            id: TokenId::parse(&c.jti).ok()?.to_string(),
            credential: c.cst,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::HmacKey;

    fn challenges(byte: u8) -> Challenges {
        let keys = MfaKeys::derive(&HmacKey::new(vec![byte; 32]).unwrap());
        Challenges::new(&keys, "iss", "aud")
    }

    #[test]
    fn verifies_its_own_unexpired_challenges_only() {
        let user = UserId::generate();
        let name = Username::parse("ada").unwrap();
        let now = 1_800_000_000;
        let (token, id) = challenges(1).issue(&user, &name, "stamp".into(), now);
        let c = challenges(1).verify(&token, now + 10).unwrap();
        assert_eq!(
            (c.user_id, c.username, c.id.clone(), c.credential.as_str()),
            (user, name, id, "stamp")
        );
        assert!(
            challenges(1)
                .verify(&token, now + CHALLENGE_TTL_SECONDS)
                .is_none(),
            "expired"
        );
        assert!(
            challenges(1).verify(&token, now - 1).is_none(),
            "issued in the future"
        );
        assert!(challenges(2).verify(&token, now).is_none(), "another key");
        let other_aud = {
            let keys = MfaKeys::derive(&HmacKey::new(vec![1; 32]).unwrap());
            Challenges::new(&keys, "iss", "other")
        };
        assert!(other_aud.verify(&token, now).is_none(), "another audience");
        assert!(challenges(1).verify("a.b.c", now).is_none());
    }
}
