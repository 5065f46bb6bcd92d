//! Verification: [`TokenVerifier`] and the rules a token must pass (the decision), the reasons
//! a token is refused ([`TokenError`]) and what an accepted one says ([`VerifiedToken`]).

use aws_lc_rs::{hmac, signature};
use jsonwebtoken::Algorithm;

use super::keys::{Ed25519PublicKey, HmacKey, VerifyingKey};
use super::settings::TokenSettings;
use super::wire::{
    B64Param, OneOrMany, WireClaims, WireHeader, decode_segment, is_object, is_three_segments,
};
use crate::domain::{SessionId, TokenId, UserId, Username};
use crate::error::BoxError;

/// Longest token the verifier looks at, in bytes; anything longer is refused unread.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a token was refused. [`TokenError::reason`] is a stable label for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Longer than [`MAX_TOKEN_BYTES`].
    #[error("token too large")]
    TooLarge,
    /// Not three base64url segments, or a header or payload that is not the expected JSON.
    #[error("malformed token")]
    Malformed,
    /// The header names an algorithm other than the pinned one.
    #[error("algorithm not accepted")]
    WrongAlgorithm,
    /// No `kid`, or one not in the key set.
    #[error("unknown key id")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// Past `exp` (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// Before `nbf`, or `iat` in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not ours.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` is not ours.
    #[error("wrong audience")]
    WrongAudience,
    /// A required claim is missing or not well formed.
    #[error("missing or invalid claim")]
    InvalidClaims,
    /// The header has a parameter refused whatever its value: `crit`, `enc`, `zip`, or a `typ`
    /// other than `JWT`.
    #[error("unsupported header parameter")]
    UnsupportedHeader,
    /// `exp - iat` is longer than the configured access-token lifetime plus the leeway: no
    /// signer of ours issues such a token.
    #[error("token lifetime too long")]
    LifetimeTooLong,
}

impl TokenError {
    /// A short stable label for logs and metrics, e.g. `token_expired`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TooLarge => "token_too_large",
            Self::Malformed => "token_malformed",
            Self::WrongAlgorithm => "token_wrong_algorithm",
            Self::UnknownKey => "token_unknown_key",
            Self::BadSignature => "token_bad_signature",
            Self::Expired => "token_expired",
            Self::NotYetValid => "token_not_yet_valid",
            Self::WrongIssuer => "token_wrong_issuer",
            Self::WrongAudience => "token_wrong_audience",
            Self::InvalidClaims => "token_invalid_claims",
            Self::UnsupportedHeader => "token_unsupported_header",
            Self::LifetimeTooLong => "token_lifetime_too_long",
        }
    }
}

/// What a verified token says, as domain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `sub`.
    pub user_id: UserId,
    /// `username`.
    pub username: Username,
    /// `sid`: the session, key of its whitelist item.
    pub session_id: SessionId,
    /// `jti`: this token's own id.
    pub token_id: TokenId,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`.
    pub expires_at: i64,
}

/// Verifies access tokens against a set of keys, for one pinned algorithm.
#[derive(Clone)]
pub struct TokenVerifier {
    algorithm: Algorithm,
    /// By `kid`, each once. A short list (a key, two while keys rotate) is searched faster than a
    /// map is hashed into.
    keys: Vec<(String, VerifyingKey)>,
    issuer: String,
    audience: String,
    leeway: u64,
    /// The longest `exp - iat` accepted: the access-token lifetime plus the leeway.
    max_lifetime: i128,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field(
                "kids",
                &self.keys.iter().map(|(kid, _)| kid).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// An HS256 verifier that accepts tokens signed by any of `keys`.
    pub fn new<'a>(
        keys: impl IntoIterator<Item = &'a HmacKey>,
        settings: &TokenSettings,
    ) -> Result<Self, BoxError> {
        let keys = keys.into_iter().map(|k| {
            let key = hmac::Key::new(hmac::HMAC_SHA256, &k.secret);
            (k.kid.clone(), VerifyingKey::Hmac(Box::new(key)))
        });
        Ok(Self::with_keys(Algorithm::HS256, keys, settings))
    }

    /// An EdDSA verifier that accepts tokens signed by the private key of any of `keys`.
    pub fn new_ed25519<'a>(
        keys: impl IntoIterator<Item = &'a Ed25519PublicKey>,
        settings: &TokenSettings,
    ) -> Self {
        let keys = keys.into_iter().map(|k| {
            let key = signature::UnparsedPublicKey::new(&signature::ED25519, k.raw.clone());
            (k.kid.clone(), VerifyingKey::Ed25519(key))
        });
        Self::with_keys(Algorithm::EdDSA, keys, settings)
    }

    fn with_keys(
        algorithm: Algorithm,
        entries: impl Iterator<Item = (String, VerifyingKey)>,
        settings: &TokenSettings,
    ) -> Self {
        // As a map would keep them: one key per `kid`, the last given.
        let mut keys: Vec<(String, VerifyingKey)> = Vec::new();
        for (kid, key) in entries {
            match keys.iter_mut().find(|(k, _)| *k == kid) {
                Some(slot) => slot.1 = key,
                None => keys.push((kid, key)),
            }
        }
        Self {
            algorithm,
            keys,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            leeway: settings.leeway_seconds,
            max_lifetime: i128::from(settings.ttl_seconds) + i128::from(settings.leeway_seconds),
        }
    }

    /// The `kid`s of the keys it accepts (not secret: they are in every token's header).
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(kid, _)| kid.as_str())
    }

    /// Verifies `token` as described in the [module docs](super), at `now` (epoch seconds, as
    /// [`clock::now`](crate::clock::now) gives): `exp`, `nbf` and `iat` are all checked against
    /// it, with the configured leeway.
    ///
    /// One pass: each segment is base64url-decoded once, the signature is checked over the
    /// encoded header and payload before the payload is decoded, and the header and the claims
    /// are each parsed once, borrowing from the decoded bytes.
    pub fn verify(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        // A token that is not three non-empty base64url segments is malformed, whatever else is
        // wrong with it. An accepted token has that shape (its three segments were decoded as
        // strict base64url), so the shape is checked only to settle the reason for a refusal.
        self.verify_segments(token, now).map_err(|e| {
            if is_three_segments(token) {
                e
            } else {
                TokenError::Malformed
            }
        })
    }

    /// [`TokenVerifier::verify`] once the size is known to be within bounds.
    fn verify_segments(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        // From the end, so that the long payload is not scanned for the second dot.
        let (signing_input, sig) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or(TokenError::Malformed)?;
        let signing_input = signing_input.as_bytes();

        // One buffer holds each decoded segment in turn: on the stack for a token of ordinary
        // size, else on the heap.
        let need = base64::decoded_len_estimate(header.len().max(payload.len()).max(sig.len()));
        let (mut stack, mut heap) = ([0; 768], Vec::new());
        let buf: &mut [u8] = if need <= stack.len() {
            &mut stack[..need]
        } else {
            heap.resize(need, 0);
            &mut heap
        };

        let key = {
            let n = decode_segment(header, buf)?;
            // `jsonwebtoken::Header` kept the header's unknown fields, so it read every string in
            // it: a header with bytes that are not UTF-8 anywhere is malformed. Checked at once,
            // which also spares the parser checking each string.
            let json = std::str::from_utf8(&buf[..n]).map_err(|_| TokenError::Malformed)?;
            if !is_object(json.as_bytes()) {
                return Err(TokenError::Malformed);
            }
            let header: WireHeader<'_> =
                serde_json::from_str(json).map_err(|_| TokenError::Malformed)?;
            if header.alg != self.algorithm {
                return Err(TokenError::WrongAlgorithm);
            }
            if header.has_unsupported_parameter() {
                return Err(TokenError::UnsupportedHeader);
            }
            let key = header
                .kid
                .and_then(|kid| self.keys.iter().find(|(k, _)| *k == kid.0))
                .map(|(_, key)| key)
                .ok_or(TokenError::UnknownKey)?;
            // RFC 7797's unencoded payload (`b64: false`) is not supported.
            if matches!(header.b64, B64Param::Other) {
                return Err(TokenError::Malformed);
            }
            key
        };

        let n = decode_segment(sig, buf)?;
        if !key.verifies(signing_input, &buf[..n]) {
            return Err(TokenError::BadSignature);
        }

        let n = decode_segment(payload, buf)?;
        let json = &buf[..n];
        if !is_object(json) {
            return Err(TokenError::Malformed);
        }
        // The claims set is UTF-8 in practice: checked at once, the parser need not check each
        // string. Otherwise it is parsed as bytes, as before, where only the strings read are
        // checked (a claim this verifier skips may hold anything).
        let claims: WireClaims<'_> = match std::str::from_utf8(json) {
            Ok(json) => serde_json::from_str(json),
            Err(_) => serde_json::from_slice(json),
        }
        .map_err(|_| TokenError::Malformed)?;
        self.check_claims(claims, now)
    }

    /// The claim checks, in the order (and so with the precedence between refusals) that the
    /// `jsonwebtoken`-based verifier had.
    fn check_claims(&self, c: WireClaims<'_>, now: i64) -> Result<VerifiedToken, TokenError> {
        let exp = c.exp.filter(|&exp| exp >= 0);
        let (Some(exp), Some(nbf), Some(_), Some(iss), Some(aud)) = (
            exp,
            c.nbf.0,
            c.sub.as_ref(),
            c.iss.0.as_ref(),
            c.aud.0.as_ref(),
        ) else {
            return Err(TokenError::InvalidClaims);
        };
        if beyond(now.into(), exp.into(), self.leeway) {
            return Err(TokenError::Expired);
        }
        if beyond(nbf.into(), now.into(), self.leeway) {
            return Err(TokenError::NotYetValid);
        }
        // One issuer, as a string: an array (which `aud` may be) names no issuer of ours.
        if !matches!(iss, OneOrMany::One(one) if one.as_ref() == self.issuer) {
            return Err(TokenError::WrongIssuer);
        }
        if !aud.names(&self.audience) {
            return Err(TokenError::WrongAudience);
        }
        let (Some(sub), Some(username), Some(iat), Some(jti), Some(sid)) =
            (c.sub, c.username, c.iat, c.jti, c.sid)
        else {
            return Err(TokenError::InvalidClaims);
        };
        if beyond(iat.into(), now.into(), self.leeway) {
            return Err(TokenError::NotYetValid);
        }
        if iat < 0 {
            return Err(TokenError::InvalidClaims);
        }
        if i128::from(exp) - i128::from(iat) > self.max_lifetime {
            return Err(TokenError::LifetimeTooLong);
        }
        Ok(VerifiedToken {
            user_id: UserId::parse(&sub.0).map_err(|_| TokenError::InvalidClaims)?,
            username: Username::parse(&username.0).map_err(|_| TokenError::InvalidClaims)?,
            session_id: SessionId::parse(&sid.0).map_err(|_| TokenError::InvalidClaims)?,
            token_id: TokenId::parse(&jti.0).map_err(|_| TokenError::InvalidClaims)?,
            issued_at: iat,
            expires_at: exp,
        })
    }
}

/// `later > earlier + leeway`, without overflow.
fn beyond(later: i128, earlier: i128, leeway: u64) -> bool {
    later > earlier + i128::from(leeway)
}
