//! Issuing: [`TokenSigner`] signs the [`Claims`] of a new access token with the current key.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::keys::{Ed25519PrivateKey, HmacKey};
use super::settings::TokenSettings;
use crate::domain::{SessionId, TokenId, UserId, Username};
use crate::error::BoxError;

/// The claims of an access token, as serialised.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The username, for display and for the authorizer's context.
    pub username: String,
    /// Issued at (epoch seconds).
    pub iat: i64,
    /// Not before (epoch seconds).
    pub nbf: i64,
    /// Expires at (epoch seconds).
    pub exp: i64,
    /// The token's own id, fresh for every token.
    pub jti: String,
    /// The session id, key of the whitelist item.
    pub sid: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// Issues access tokens with the current key.
#[derive(Clone)]
pub struct TokenSigner {
    kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
    settings: TokenSettings,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A token just issued, with the claims it carries.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its claims.
    pub claims: Claims,
}

impl TokenSigner {
    /// An HS256 signer for `key`.
    pub fn new(key: &HmacKey, settings: TokenSettings) -> Result<Self, BoxError> {
        Ok(Self {
            kid: key.kid.clone(),
            algorithm: Algorithm::HS256,
            key: EncodingKey::from_secret(&key.secret)?,
            settings,
        })
    }

    /// An EdDSA signer for `key`.
    pub fn new_ed25519(key: &Ed25519PrivateKey, settings: TokenSettings) -> Self {
        Self {
            kid: key.kid.clone(),
            algorithm: Algorithm::EdDSA,
            key: EncodingKey::from_ed_der(&key.pkcs8),
            settings,
        }
    }

    /// The configured lifetime of a token, in seconds.
    pub fn ttl_seconds(&self) -> i64 {
        self.settings.ttl_seconds
    }

    /// Issues a token for a session, valid from `now` for the configured lifetime.
    pub fn issue(
        &self,
        user_id: &UserId,
        username: &Username,
        session_id: &SessionId,
        now: i64,
    ) -> Result<IssuedToken, BoxError> {
        let claims = Claims {
            sub: user_id.to_string(),
            username: username.to_string(),
            iat: now,
            nbf: now,
            exp: now + self.settings.ttl_seconds,
            jti: TokenId::generate().to_string(),
            sid: session_id.to_string(),
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
        };
        let mut header = Header::new(self.algorithm);
        header.typ = Some("JWT".into());
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.key)?;
        Ok(IssuedToken { token, claims })
    }
}
