//! Access tokens: JWTs issued at login and verified by the authorizer, signed with one pinned
//! algorithm: HS256 (a shared secret, [`HmacKey`]) by default, or EdDSA with Ed25519
//! ([`Ed25519PrivateKey`] for login, [`Ed25519PublicKey`]s for the authorizer, which then cannot
//! mint tokens at all).
//!
//! Issued tokens carry `sub` (user id), `username`, `iat`, `nbf`, `exp`, `jti` (the token's own
//! id, 128-bit random, fresh for every token), `sid` (the session id: the key of the session's
//! whitelist item, shared by every token refreshed within the session), `iss` and `aud`, and a
//! `kid` header naming the key that signed them.
//!
//! [`TokenVerifier::verify`] accepts a token only if all of these hold:
//! - it is at most [`MAX_TOKEN_BYTES`] long and has exactly three non-empty base64url segments;
//! - its header names the configured algorithm (pinned: `none`, `HS512`, `RS256`, the other of
//!   HS256/EdDSA, … are refused) and a `kid` from the verifier's key set, and carries no `crit`
//!   extensions;
//! - the signature verifies under that key;
//! - `iss` and `aud` are the configured ones; `exp`, `nbf`, `iat`, `sub`, `jti` and `username`
//!   are present and well formed, and so is `sid`; `exp` and `nbf` hold with the configured leeway, and `iat` is
//!   not in the future beyond it.

use std::collections::HashMap;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::{SessionId, TokenId, UserId, Username, hex};
use crate::error::BoxError;

/// The default algorithm.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

/// Longest token the verifier looks at, in bytes; anything longer is refused unread.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

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

/// Claims as read from a token under verification: the ones this service requires beyond the
/// registered claims that `jsonwebtoken` checks are optional here, so that a missing one is
/// reported as [`TokenError::InvalidClaims`] rather than as a malformed token.
#[derive(Deserialize)]
struct IncomingClaims {
    sub: Option<String>,
    username: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
    jti: Option<String>,
    sid: Option<String>,
}

/// An HMAC key with its id.
#[derive(Clone)]
pub struct HmacKey {
    kid: String,
    secret: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl HmacKey {
    /// Shortest accepted secret, in bytes (HS256 wants at least its output size).
    pub const MIN_LEN: usize = 32;

    /// A key from a secret of at least [`HmacKey::MIN_LEN`] bytes. Its `kid` is derived from the
    /// secret (`hs256-` and 12 hex digits of its SHA-256), so every function that holds the same
    /// secret agrees on it and the id reveals nothing usable about the secret.
    pub fn new(secret: Vec<u8>) -> Result<Self, String> {
        if secret.len() < Self::MIN_LEN {
            return Err(format!(
                "must be at least {} bytes long (got {})",
                Self::MIN_LEN,
                secret.len()
            ));
        }
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &secret);
        let kid = format!("hs256-{}", hex(&digest.as_ref()[..6]));
        Ok(Self {
            kid,
            secret: zeroize::Zeroizing::new(secret),
        })
    }

    /// The key id written into the `kid` header.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// An Ed25519 private key (login's), with the `kid` of its public key.
#[derive(Clone)]
pub struct Ed25519PrivateKey {
    kid: String,
    pkcs8: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Ed25519PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519PrivateKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// `ed25519-` and 12 hex digits of the SHA-256 of the raw public key.
fn ed25519_kid(raw_public: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, raw_public);
    format!("ed25519-{}", hex(&digest.as_ref()[..6]))
}

impl Ed25519PrivateKey {
    /// A key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as `openssl genpkey -algorithm
    /// ed25519` writes it).
    pub fn from_pem(pem_text: &str) -> Result<Self, String> {
        let block = pem::parse(pem_text.trim()).map_err(|e| format!("not a PEM key: {e}"))?;
        if block.tag() != "PRIVATE KEY" {
            return Err(format!(
                "expected a PRIVATE KEY PEM block, got {}",
                block.tag()
            ));
        }
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(block.contents())
            .map_err(|_| "not an Ed25519 PKCS#8 private key".to_owned())?;
        use aws_lc_rs::signature::KeyPair as _;
        Ok(Self {
            kid: ed25519_kid(pair.public_key().as_ref()),
            pkcs8: zeroize::Zeroizing::new(block.contents().to_vec()),
        })
    }

    /// The key id written into the `kid` header (that of the public key).
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// An Ed25519 public key (the authorizer's), with its `kid`.
#[derive(Clone)]
pub struct Ed25519PublicKey {
    kid: String,
    raw: Vec<u8>,
}

impl std::fmt::Debug for Ed25519PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519PublicKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl Ed25519PublicKey {
    /// Every `PUBLIC KEY` PEM block in `pem_text` (SubjectPublicKeyInfo, as `openssl pkey
    /// -pubout` writes it); at least one.
    pub fn all_from_pem(pem_text: &str) -> Result<Vec<Self>, String> {
        let blocks = pem::parse_many(pem_text).map_err(|e| format!("not PEM: {e}"))?;
        if blocks.is_empty() {
            return Err("no PEM block".into());
        }
        blocks
            .iter()
            .map(|block| {
                // SPKI for Ed25519: a fixed 12-byte prefix, then the 32-byte key.
                const PREFIX: [u8; 12] = [
                    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
                ];
                let der = block.contents();
                if block.tag() != "PUBLIC KEY" || der.len() != 44 || der[..12] != PREFIX {
                    return Err("expected Ed25519 PUBLIC KEY PEM blocks".to_owned());
                }
                let raw = der[12..].to_vec();
                Ok(Self {
                    kid: ed25519_kid(&raw),
                    raw,
                })
            })
            .collect()
    }

    /// The key id tokens signed by the matching private key carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// Token settings shared by the signer and the verifier.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `iss` written and required.
    pub issuer: String,
    /// `aud` written and required.
    pub audience: String,
    /// Lifetime of an access token, in seconds.
    pub ttl_seconds: i64,
    /// Clock leeway for `exp`, `nbf` and `iat`, in seconds.
    pub leeway_seconds: u64,
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
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
    leeway: i64,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// An HS256 verifier that accepts tokens signed by any of `keys`.
    pub fn new<'a>(
        keys: impl IntoIterator<Item = &'a HmacKey>,
        settings: &TokenSettings,
    ) -> Result<Self, BoxError> {
        let keys = keys
            .into_iter()
            .map(|k| Ok((k.kid.clone(), DecodingKey::from_secret(&k.secret)?)))
            .collect::<Result<HashMap<_, _>, jsonwebtoken::errors::Error>>()?;
        Ok(Self::with_keys(Algorithm::HS256, keys, settings))
    }

    /// An EdDSA verifier that accepts tokens signed by the private key of any of `keys`.
    pub fn new_ed25519<'a>(
        keys: impl IntoIterator<Item = &'a Ed25519PublicKey>,
        settings: &TokenSettings,
    ) -> Self {
        let keys = keys
            .into_iter()
            .map(|k| (k.kid.clone(), DecodingKey::from_ed_der(&k.raw)))
            .collect();
        Self::with_keys(Algorithm::EdDSA, keys, settings)
    }

    fn with_keys(
        algorithm: Algorithm,
        keys: HashMap<String, DecodingKey>,
        settings: &TokenSettings,
    ) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.leeway = settings.leeway_seconds;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        Self {
            algorithm,
            keys,
            validation,
            leeway: settings.leeway_seconds as i64,
        }
    }

    /// Verifies `token` as described in the [module docs](self). `now` (epoch seconds) is what
    /// `iat` is checked against; `exp` and `nbf` are checked by `jsonwebtoken` against the
    /// system clock, with the same leeway.
    pub fn verify(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        let segments: Vec<&str> = token.split('.').collect();
        if segments.len() != 3
            || segments
                .iter()
                .any(|s| s.is_empty() || !s.bytes().all(is_base64url))
        {
            return Err(TokenError::Malformed);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != self.algorithm {
            return Err(TokenError::WrongAlgorithm);
        }
        if header.crit.is_some() {
            return Err(TokenError::Malformed);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or(TokenError::UnknownKey)?;
        let data =
            jsonwebtoken::decode::<IncomingClaims>(token, key, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::InvalidSignature => TokenError::BadSignature,
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                    ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
                    ErrorKind::InvalidAudience => TokenError::WrongAudience,
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        TokenError::WrongAlgorithm
                    }
                    ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidSubject => {
                        TokenError::InvalidClaims
                    }
                    _ => TokenError::Malformed,
                }
            })?;
        let c = data.claims;
        let (Some(sub), Some(username), Some(iat), Some(exp), Some(jti), Some(sid)) =
            (c.sub, c.username, c.iat, c.exp, c.jti, c.sid)
        else {
            return Err(TokenError::InvalidClaims);
        };
        if iat > now + self.leeway {
            return Err(TokenError::NotYetValid);
        }
        Ok(VerifiedToken {
            user_id: UserId::parse(&sub).map_err(|_| TokenError::InvalidClaims)?,
            username: Username::parse(&username).map_err(|_| TokenError::InvalidClaims)?,
            session_id: SessionId::parse(&sid).map_err(|_| TokenError::InvalidClaims)?,
            token_id: TokenId::parse(&jti).map_err(|_| TokenError::InvalidClaims)?,
            issued_at: iat,
            expires_at: exp,
        })
    }
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock;
    use base64::Engine as _;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn settings() -> TokenSettings {
        TokenSettings {
            issuer: "iss-test".into(),
            audience: "aud-test".into(),
            ttl_seconds: 3600,
            leeway_seconds: 5,
        }
    }

    fn pair() -> (TokenSigner, TokenVerifier, HmacKey) {
        let key = HmacKey::new(SECRET.to_vec()).unwrap();
        (
            TokenSigner::new(&key, settings()).unwrap(),
            TokenVerifier::new([&key], &settings()).unwrap(),
            key,
        )
    }

    fn ids() -> (UserId, Username, SessionId) {
        (
            UserId::generate(),
            Username::parse("alice").unwrap(),
            SessionId::generate(),
        )
    }

    fn b64(v: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
    }

    /// Signs arbitrary header and claims JSON with HS256 under `secret`.
    fn forge(header: &serde_json::Value, claims: &serde_json::Value, secret: &[u8]) -> String {
        let msg = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        let sig = aws_lc_rs::hmac::sign(&key, msg.as_bytes());
        format!("{msg}.{}", b64(sig.as_ref()))
    }

    fn good_claims(now: i64) -> serde_json::Value {
        serde_json::json!({
            "sub": UserId::generate().as_str(), "username": "alice", "iat": now, "nbf": now,
            "exp": now + 60, "jti": TokenId::generate().as_str(), "sid": SessionId::generate().as_str(),
            "iss": "iss-test", "aud": "aud-test"
        })
    }

    #[test]
    fn issued_tokens_verify() {
        let (signer, verifier, key) = pair();
        let (uid, name, sid) = ids();
        let now = clock::now();
        let t = signer.issue(&uid, &name, &sid, now).unwrap();
        let header = jsonwebtoken::decode_header(&t.token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        assert_eq!(header.alg, Algorithm::HS256);
        let v = verifier.verify(&t.token, now).unwrap();
        assert_eq!(
            (v.user_id, v.username, v.session_id),
            (uid.clone(), name.clone(), sid.clone())
        );
        assert_eq!(v.expires_at, now + 3600);
        assert_eq!(v.token_id.as_str(), t.claims.jti);
        // Every token of a session has its own id.
        let again = signer.issue(&uid, &name, &sid, now).unwrap();
        assert_ne!(again.claims.jti, t.claims.jti);
        assert_eq!(again.claims.sid, t.claims.sid);
    }

    #[test]
    fn forged_helper_matches_the_library() {
        // The forge helper signs like the library does, so the refusals below are about the
        // claim or header under test and not about a helper that signs wrongly.
        let (_, verifier, key) = pair();
        let now = clock::now();
        let t = forge(
            &serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": key.kid()}),
            &good_claims(now),
            SECRET,
        );
        assert!(verifier.verify(&t, now).is_ok());
    }

    #[test]
    fn refusals() {
        let (_, verifier, key) = pair();
        let now = clock::now();
        let hdr = serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": key.kid()});
        let with = |k: &str, v: serde_json::Value| {
            let mut c = good_claims(now);
            c[k] = v;
            forge(&hdr, &c, SECRET)
        };
        let without = |k: &str| {
            let mut c = good_claims(now);
            c.as_object_mut().unwrap().remove(k);
            forge(&hdr, &c, SECRET)
        };
        let cases: Vec<(&str, String, TokenError)> = vec![
            (
                "expired",
                with("exp", (now - 10).into()),
                TokenError::Expired,
            ),
            (
                "nbf future",
                with("nbf", (now + 60).into()),
                TokenError::NotYetValid,
            ),
            (
                "iat future",
                with("iat", (now + 60).into()),
                TokenError::NotYetValid,
            ),
            (
                "issuer",
                with("iss", "evil".into()),
                TokenError::WrongIssuer,
            ),
            (
                "audience",
                with("aud", "evil".into()),
                TokenError::WrongAudience,
            ),
            ("no sub", without("sub"), TokenError::InvalidClaims),
            ("no exp", without("exp"), TokenError::InvalidClaims),
            ("no jti", without("jti"), TokenError::InvalidClaims),
            ("no sid", without("sid"), TokenError::InvalidClaims),
            ("no iat", without("iat"), TokenError::InvalidClaims),
            (
                "no username",
                without("username"),
                TokenError::InvalidClaims,
            ),
            (
                "claims not an object",
                forge(&hdr, &serde_json::json!([1, 2]), SECRET),
                TokenError::Malformed,
            ),
            (
                "bad jti",
                with("jti", "x".into()),
                TokenError::InvalidClaims,
            ),
            (
                "bad sid",
                with("sid", "../x".into()),
                TokenError::InvalidClaims,
            ),
            (
                "other key",
                forge(
                    &hdr,
                    &good_claims(now),
                    b"another-secret-of-32-bytes-or-more!!",
                ),
                TokenError::BadSignature,
            ),
            (
                "alg none",
                forge(
                    &serde_json::json!({"alg": "none", "kid": key.kid()}),
                    &good_claims(now),
                    SECRET,
                ),
                TokenError::Malformed,
            ),
            (
                "hs512",
                forge(
                    &serde_json::json!({"alg": "HS512", "kid": key.kid()}),
                    &good_claims(now),
                    SECRET,
                ),
                TokenError::WrongAlgorithm,
            ),
            (
                "no kid",
                forge(
                    &serde_json::json!({"alg": "HS256"}),
                    &good_claims(now),
                    SECRET,
                ),
                TokenError::UnknownKey,
            ),
            (
                "unknown kid",
                forge(
                    &serde_json::json!({"alg": "HS256", "kid": "../../etc/passwd"}),
                    &good_claims(now),
                    SECRET,
                ),
                TokenError::UnknownKey,
            ),
            ("two segments", "abc.def".into(), TokenError::Malformed),
            (
                "four segments",
                format!("{}.x", forge(&hdr, &good_claims(now), SECRET)),
                TokenError::Malformed,
            ),
            ("not base64url", "a+b.c/d.e=f".into(), TokenError::Malformed),
            (
                "too large",
                "a".repeat(MAX_TOKEN_BYTES + 1),
                TokenError::TooLarge,
            ),
        ];
        for (name, token, want) in cases {
            assert_eq!(verifier.verify(&token, now).unwrap_err(), want, "{name}");
        }
    }

    #[test]
    fn altered_payload_or_stripped_signature_is_refused() {
        let (signer, verifier, _) = pair();
        let (uid, name, sid) = ids();
        let now = clock::now();
        let t = signer.issue(&uid, &name, &sid, now).unwrap().token;
        let parts: Vec<&str> = t.split('.').collect();
        let mut claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[1])
                .unwrap(),
        )
        .unwrap();
        claims["sub"] = UserId::generate().as_str().into();
        let altered = format!(
            "{}.{}.{}",
            parts[0],
            b64(claims.to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(
            verifier.verify(&altered, now).unwrap_err(),
            TokenError::BadSignature
        );
        let stripped = format!("{}.{}.", parts[0], parts[1]);
        assert_eq!(
            verifier.verify(&stripped, now).unwrap_err(),
            TokenError::Malformed
        );
    }

    #[test]
    fn ed25519_tokens_verify_only_with_the_public_key_and_pinned_algorithm() {
        let (private_pem, public_pem) = crate::testing_keys::ed25519_pem_pair();
        let private = Ed25519PrivateKey::from_pem(&private_pem).unwrap();
        let public = Ed25519PublicKey::all_from_pem(&public_pem).unwrap();
        assert_eq!(private.kid(), public[0].kid());
        assert!(private.kid().starts_with("ed25519-"));
        let signer = TokenSigner::new_ed25519(&private, settings());
        let verifier = TokenVerifier::new_ed25519(&public, &settings());
        let (uid, name, sid) = ids();
        let now = clock::now();
        let t = signer.issue(&uid, &name, &sid, now).unwrap().token;
        assert_eq!(
            jsonwebtoken::decode_header(&t).unwrap().alg,
            Algorithm::EdDSA
        );
        assert_eq!(verifier.verify(&t, now).unwrap().user_id, uid);

        // An HS256 token (even one keyed with the public key's bytes, the classic confusion
        // attack) is refused by the EdDSA verifier, and the other way round.
        let (hs_signer, hs_verifier, _) = pair();
        let hs = hs_signer.issue(&uid, &name, &sid, now).unwrap().token;
        assert_eq!(
            verifier.verify(&hs, now).unwrap_err(),
            TokenError::WrongAlgorithm
        );
        assert_eq!(
            hs_verifier.verify(&t, now).unwrap_err(),
            TokenError::WrongAlgorithm
        );
        let confused = forge(
            &serde_json::json!({"alg": "HS256", "kid": public[0].kid()}),
            &good_claims(now),
            public_pem.as_bytes(),
        );
        assert_eq!(
            verifier.verify(&confused, now).unwrap_err(),
            TokenError::WrongAlgorithm
        );

        // Another key pair: unknown kid; the same kid with a forged signature: bad signature.
        let (other_private, _) = crate::testing_keys::ed25519_pem_pair();
        let other = TokenSigner::new_ed25519(
            &Ed25519PrivateKey::from_pem(&other_private).unwrap(),
            settings(),
        );
        let t2 = other.issue(&uid, &name, &sid, now).unwrap().token;
        assert_eq!(
            verifier.verify(&t2, now).unwrap_err(),
            TokenError::UnknownKey
        );
        let parts: Vec<&str> = t.split('.').collect();
        let t2_sig = t2.split('.').nth(2).unwrap();
        let spliced = format!("{}.{}.{t2_sig}", parts[0], parts[1]);
        assert_eq!(
            verifier.verify(&spliced, now).unwrap_err(),
            TokenError::BadSignature
        );

        // Rotation: a verifier with both public keys accepts both.
        let both = format!(
            "{public_pem}\n{}",
            crate::testing_keys::public_pem_of(&other_private)
        );
        let both = Ed25519PublicKey::all_from_pem(&both).unwrap();
        let rotating = TokenVerifier::new_ed25519(&both, &settings());
        assert!(rotating.verify(&t, now).is_ok());
        assert!(rotating.verify(&t2, now).is_ok());

        assert!(Ed25519PrivateKey::from_pem(&public_pem).is_err());
        assert!(Ed25519PublicKey::all_from_pem(&private_pem).is_err());
        assert!(Ed25519PublicKey::all_from_pem("not pem").is_err());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(HmacKey::new(vec![7; 31]).is_err());
        assert!(HmacKey::new(vec![7; 32]).is_ok());
    }
}
