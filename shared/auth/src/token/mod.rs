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
//! - `iss` and `aud` are the configured ones (each a string, or an array of strings that contains
//!   the configured one); `exp`, `nbf`, `iat`, `sub`, `jti` and `username` are present and well
//!   formed, and so is `sid`; at the `now` passed to [`TokenVerifier::verify`], `exp` and `nbf`
//!   hold with the configured leeway, and `iat` is not in the future beyond it.
//!
//! The header and the claims set must each be a JSON object in which no field the verifier reads
//! appears twice; anything else is [`TokenError::Malformed`].

use std::borrow::Cow;

use aws_lc_rs::{hmac, signature};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::de::{self, Deserializer, Visitor};
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
    /// By `kid`, each once. A short list (a key, two while keys rotate) is searched faster than a
    /// map is hashed into.
    keys: Vec<(String, VerifyingKey)>,
    issuer: String,
    audience: String,
    leeway: u64,
}

/// A key a signature is checked with, in `aws_lc_rs`'s own form (built once, in the constructor).
#[derive(Clone)]
enum VerifyingKey {
    Hmac(Box<hmac::Key>),
    Ed25519(signature::UnparsedPublicKey<Vec<u8>>),
}

impl VerifyingKey {
    /// Whether `signature` is that of `signing_input` under this key (HMAC: compared in constant
    /// time).
    fn verifies(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Hmac(key) => hmac::verify(key, signing_input, signature).is_ok(),
            Self::Ed25519(key) => key.verify(signing_input, signature).is_ok(),
        }
    }
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
        }
    }

    /// Verifies `token` as described in the [module docs](self), at `now` (epoch seconds, as
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
            if header.crit.is_some() {
                return Err(TokenError::Malformed);
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
        if !iss.names(&self.issuer) {
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

/// Whether `token` is exactly three non-empty base64url segments joined by dots.
fn is_three_segments(token: &str) -> bool {
    let mut segments = token.split('.');
    let three = [segments.next(), segments.next(), segments.next()];
    segments.next().is_none()
        && three
            .iter()
            .all(|s| s.is_some_and(|s| !s.is_empty() && s.bytes().all(is_base64url)))
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Decodes one base64url segment (no padding, no stray trailing bits) into `buf`, which
/// [`base64::decoded_len_estimate`] sized.
fn decode_segment(segment: &str, buf: &mut [u8]) -> Result<usize, TokenError> {
    URL_SAFE_NO_PAD
        .decode_slice(segment, buf)
        .map_err(|_| TokenError::Malformed)
}

/// Whether `json` starts as an object. A derived struct would also read a JSON array, by
/// position; a JWT header or claims set is an object, so anything else is refused first.
/// (Duplicate keys among a derived struct's fields are refused by the derived code.)
fn is_object(json: &[u8]) -> bool {
    let first = json
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    first == Some(&b'{')
}

/// A JSON string, borrowed from the decoded segment unless it has escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        deserializer.deserialize_str(V).map(Text)
    }
}

/// A JSON string, checked and not kept.
struct AnyString;

impl<'de> Deserialize<'de> for AnyString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AnyString;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(AnyString)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// The JOSE header. Its fields and their types are those of [`jsonwebtoken::Header`], which the
/// previous verifier parsed the header into, so that the same headers are refused as
/// malformed: a field of the wrong type, an unknown `alg` (`none` included), a `jwk` that is
/// not a JWK. The fields this verifier does not use are checked and dropped.
#[derive(Deserialize)]
#[allow(dead_code)] // most fields are only type-checked
struct WireHeader<'a> {
    alg: Algorithm,
    #[serde(borrow)]
    kid: Option<Text<'a>>,
    crit: Option<Vec<AnyString>>,
    /// RFC 7797: absent or `true` is the ordinary encoding; anything else is refused.
    #[serde(default, deserialize_with = "b64_param")]
    b64: B64Param,
    // The rest of `jsonwebtoken::Header`'s fields, type-checked only.
    typ: Option<AnyString>,
    cty: Option<AnyString>,
    jku: Option<AnyString>,
    /// Checked as an `Option<Jwk>` and dropped (a `Jwk` is large, and moved with the struct).
    #[serde(default, deserialize_with = "jwk")]
    jwk: (),
    x5u: Option<AnyString>,
    x5c: Option<Vec<AnyString>>,
    x5t: Option<AnyString>,
    #[serde(rename = "x5t#S256")]
    x5t_s256: Option<AnyString>,
    enc: Option<AnyString>,
    zip: Option<AnyString>,
    url: Option<AnyString>,
    nonce: Option<AnyString>,
}

fn jwk<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    Option::<jsonwebtoken::jwk::Jwk>::deserialize(deserializer).map(drop)
}

#[derive(Default)]
enum B64Param {
    #[default]
    Absent,
    True,
    Other,
}

fn b64_param<'de, D: Deserializer<'de>>(deserializer: D) -> Result<B64Param, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Bool(true) => B64Param::True,
        _ => B64Param::Other,
    })
}

/// The claims set of a token under verification. The types are those the previous
/// (`jsonwebtoken`-based) verifier read, so the same claims sets are refused for the same
/// reason: a claim of the wrong type among `sub`, `username`, `iat`, `exp`, `jti` and `sid`
/// makes the token malformed; a missing or `null` one is an invalid claim.
#[derive(Deserialize)]
struct WireClaims<'a> {
    #[serde(borrow)]
    sub: Option<Text<'a>>,
    #[serde(borrow)]
    username: Option<Text<'a>>,
    iat: Option<i64>,
    exp: Option<i64>,
    #[serde(borrow)]
    jti: Option<Text<'a>>,
    #[serde(borrow)]
    sid: Option<Text<'a>>,
    #[serde(default)]
    nbf: NumericDate,
    #[serde(borrow, default)]
    iss: Names<'a>,
    #[serde(borrow, default)]
    aud: Names<'a>,
}

/// `nbf` as `jsonwebtoken` reads it: a non-negative integer, or a non-negative float (rounded);
/// anything else counts as absent.
#[derive(Default)]
struct NumericDate(Option<u64>);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = u64;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a NumericDate")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
                Ok(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
                if v.is_finite() && v >= 0.0 && v < u64::MAX as f64 {
                    Ok(v.round() as u64)
                } else {
                    Err(E::custom("not a NumericDate"))
                }
            }
        }
        Ok(Self(deserializer.deserialize_any(V).ok()))
    }
}

/// `iss` or `aud` as `jsonwebtoken` reads them: a string, or an array of strings; anything else
/// counts as absent. `jsonwebtoken` buffered the value and then tried each form; the same is
/// done here in one pass: the whole value is read (every string in it checked as UTF-8), and an
/// error while reading it makes the claim absent rather than the claims set malformed.
#[derive(Default)]
struct Names<'a>(Option<OneOrMany<'a>>);

enum OneOrMany<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl OneOrMany<'_> {
    /// The string is `name`, or the array contains it.
    fn names(&self, name: &str) -> bool {
        match self {
            Self::One(one) => one == name,
            Self::Many(many) => many.iter().any(|n| n == name),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Names<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(
            match deserializer.deserialize_any(AnyValue { top: true }) {
                Ok(Value::Str(one)) => Some(OneOrMany::One(one)),
                Ok(Value::Strs(many)) => Some(OneOrMany::Many(many)),
                _ => None,
            },
        ))
    }
}

/// Reads any JSON value through, keeping it if it is a string or (at the top) an array of
/// strings.
#[derive(Clone, Copy)]
struct AnyValue {
    top: bool,
}

enum Value<'a> {
    Str(Cow<'a, str>),
    Strs(Vec<Cow<'a, str>>),
    Other,
}

impl<'de> de::DeserializeSeed<'de> for AnyValue {
    type Value = Value<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AnyValue {
    type Value = Value<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let (mut strs, mut all_strs) = (Vec::new(), self.top);
        while let Some(item) = seq.next_element_seed(AnyValue { top: false })? {
            match item {
                Value::Str(s) if all_strs => strs.push(s),
                _ => all_strs = false,
            }
        }
        Ok(if all_strs {
            Value::Strs(strs)
        } else {
            Value::Other
        })
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let inner = AnyValue { top: false };
        while map.next_entry_seed(inner, inner)?.is_some() {}
        Ok(Value::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value<'de>, E> {
        Ok(Value::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value<'de>, E> {
        Ok(Value::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value<'de>, E> {
        Ok(Value::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value<'de>, E> {
        Ok(Value::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock;

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
    fn segments_are_three_non_empty_runs_of_the_base64url_alphabet() {
        assert!(is_three_segments("aZ.09.-_"));
        for bad in [
            "", "..", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "a=.b.c", "a.b+.c", "a.b.c\n",
        ] {
            assert!(!is_three_segments(bad), "{bad:?}");
        }
    }

    #[test]
    fn large_tokens_within_the_cap_verify() {
        // Past the verifier's stack buffer (its segments are then decoded on the heap).
        let (_, verifier, key) = pair();
        let now = clock::now();
        let hdr = serde_json::json!({"alg": "HS256", "kid": key.kid()});
        let mut c = good_claims(now);
        c["pad"] = "x".repeat(5000).into();
        let t = forge(&hdr, &c, SECRET);
        assert!(t.len() > 6000 && t.len() <= MAX_TOKEN_BYTES);
        assert!(verifier.verify(&t, now).is_ok());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(HmacKey::new(vec![7; 31]).is_err());
        assert!(HmacKey::new(vec![7; 32]).is_ok());
    }

    #[test]
    fn times_are_checked_against_now_with_the_leeway_inclusive() {
        let (_, verifier, key) = pair();
        let now = 1_000_000;
        let hdr = serde_json::json!({"alg": "HS256", "kid": key.kid()});
        let with = |k: &str, v: i64| {
            let mut c = good_claims(now);
            c[k] = v.into();
            forge(&hdr, &c, SECRET)
        };
        // The leeway is 5 s: `exp` may be 5 s past, `nbf` and `iat` 5 s ahead.
        assert!(verifier.verify(&with("exp", now - 5), now).is_ok());
        assert_eq!(
            verifier.verify(&with("exp", now - 6), now).unwrap_err(),
            TokenError::Expired
        );
        for claim in ["nbf", "iat"] {
            assert!(
                verifier.verify(&with(claim, now + 5), now).is_ok(),
                "{claim}"
            );
            assert_eq!(
                verifier.verify(&with(claim, now + 6), now).unwrap_err(),
                TokenError::NotYetValid,
                "{claim}"
            );
        }
        // `now` is the argument, not the system clock: a token issued now is expired in a year.
        let (signer, verifier, _) = pair();
        let (uid, name, sid) = ids();
        let t = signer.issue(&uid, &name, &sid, clock::now()).unwrap().token;
        assert_eq!(
            verifier
                .verify(&t, clock::now() + 365 * 86_400)
                .unwrap_err(),
            TokenError::Expired
        );
        assert_eq!(
            verifier.verify(&t, clock::now() - 60).unwrap_err(),
            TokenError::NotYetValid
        );
        // Extreme values do not overflow.
        assert_eq!(
            verifier.verify(&with("exp", 0), i64::MAX).unwrap_err(),
            TokenError::Expired
        );
    }

    #[test]
    fn audience_may_be_an_array_that_contains_ours() {
        let (_, verifier, key) = pair();
        let now = clock::now();
        let hdr = serde_json::json!({"alg": "HS256", "kid": key.kid()});
        let aud = |v: serde_json::Value| {
            let mut c = good_claims(now);
            c["aud"] = v;
            verifier.verify(&forge(&hdr, &c, SECRET), now)
        };
        assert!(aud(serde_json::json!(["aud-test"])).is_ok());
        assert!(aud(serde_json::json!(["other", "aud-test"])).is_ok());
        assert_eq!(
            aud(serde_json::json!(["other"])).unwrap_err(),
            TokenError::WrongAudience
        );
        assert_eq!(
            aud(serde_json::json!([])).unwrap_err(),
            TokenError::WrongAudience
        );
        assert_eq!(
            aud(serde_json::json!(["aud-test", 1])).unwrap_err(),
            TokenError::InvalidClaims
        );
        assert_eq!(
            aud(serde_json::json!(7)).unwrap_err(),
            TokenError::InvalidClaims
        );
    }

    #[test]
    fn padding_duplicate_keys_and_non_objects_are_malformed() {
        let (signer, verifier, key) = pair();
        let (uid, name, sid) = ids();
        let now = clock::now();
        let t = signer.issue(&uid, &name, &sid, now).unwrap().token;
        let parts: Vec<&str> = t.split('.').collect();
        for i in 0..3 {
            let mut padded: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
            padded[i].push('=');
            assert_eq!(
                verifier.verify(&padded.join("."), now).unwrap_err(),
                TokenError::Malformed,
                "segment {i}"
            );
        }

        // Raw JSON text, so that a key can be written twice.
        let sign = |header: &str, claims: &str| {
            let msg = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
            let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
            let sig = aws_lc_rs::hmac::sign(&k, msg.as_bytes());
            format!("{msg}.{}", b64(sig.as_ref()))
        };
        let kid = key.kid();
        let hdr = format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#);
        let claims = good_claims(now).to_string();
        assert!(verifier.verify(&sign(&hdr, &claims), now).is_ok());
        let twice =
            |json: &str, k: &str, v: &str| format!("{},\"{k}\":{v}}}", json.trim_end_matches('}'));
        let cases = [
            ("alg twice", sign(&twice(&hdr, "alg", "\"HS256\""), &claims)),
            (
                "kid twice",
                sign(&twice(&hdr, "kid", &format!("\"{kid}\"")), &claims),
            ),
            (
                "exp twice",
                sign(&hdr, &twice(&claims, "exp", &(now + 60).to_string())),
            ),
            (
                "iss twice",
                sign(&hdr, &twice(&claims, "iss", "\"iss-test\"")),
            ),
            ("sid twice", sign(&hdr, &twice(&claims, "sid", "\"x\""))),
            (
                "header array",
                sign(&format!(r#"["HS256","{kid}"]"#), &claims),
            ),
            (
                "header crit",
                sign(&twice(&hdr, "crit", "[\"exp\"]"), &claims),
            ),
            (
                "header b64 false",
                sign(&twice(&hdr, "b64", "false"), &claims),
            ),
            ("header not json", sign("{", &claims)),
            ("claims not json", sign(&hdr, "{")),
            ("claims string", sign(&hdr, "\"x\"")),
            (
                "username a number",
                sign(
                    &hdr,
                    &twice(&claims.replace("\"username\"", "\"u\""), "username", "5"),
                ),
            ),
        ];
        for (what, token) in cases {
            assert_eq!(
                verifier.verify(&token, now).unwrap_err(),
                TokenError::Malformed,
                "{what}"
            );
        }
        // A signature of the wrong length is a bad signature, however long.
        let long = format!("{}.{}.{}", parts[0], parts[1], "A".repeat(4000));
        assert_eq!(
            verifier.verify(&long, now).unwrap_err(),
            TokenError::BadSignature
        );
    }
}

/// The one-pass verifier against the `jsonwebtoken`-based one it replaced (kept here as
/// `reference`): both must give the same answer, refusal reason included, on every token below.
/// The tokens are signed with the right key, so they reach the claim checks; times are kept far
/// from the leeway boundaries, because `reference` reads the system clock for `exp` and `nbf`.
#[cfg(test)]
mod same_answers_as_jsonwebtoken {
    use super::*;
    use crate::clock;
    use jsonwebtoken::errors::ErrorKind;
    use jsonwebtoken::{DecodingKey, Validation};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    #[derive(Deserialize)]
    struct IncomingClaims {
        sub: Option<String>,
        username: Option<String>,
        iat: Option<i64>,
        exp: Option<i64>,
        jti: Option<String>,
        sid: Option<String>,
    }

    /// `TokenVerifier::verify` as it was, for one key.
    fn reference(
        algorithm: Algorithm,
        kid: &str,
        key: &DecodingKey,
        settings: &TokenSettings,
        token: &str,
        now: i64,
    ) -> Result<VerifiedToken, TokenError> {
        let mut validation = Validation::new(algorithm);
        validation.leeway = settings.leeway_seconds;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let leeway = settings.leeway_seconds as i64;

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
        if header.alg != algorithm {
            return Err(TokenError::WrongAlgorithm);
        }
        if header.crit.is_some() {
            return Err(TokenError::Malformed);
        }
        if header.kid.as_deref() != Some(kid) {
            return Err(TokenError::UnknownKey);
        }
        let data =
            jsonwebtoken::decode::<IncomingClaims>(token, key, &validation).map_err(|e| match e
                .kind()
            {
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
            })?;
        let c = data.claims;
        let (Some(sub), Some(username), Some(iat), Some(exp), Some(jti), Some(sid)) =
            (c.sub, c.username, c.iat, c.exp, c.jti, c.sid)
        else {
            return Err(TokenError::InvalidClaims);
        };
        if iat > now + leeway {
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

    fn settings() -> TokenSettings {
        TokenSettings {
            issuer: "iss-test".into(),
            audience: "aud-test".into(),
            ttl_seconds: 3600,
            leeway_seconds: 5,
        }
    }

    fn b64(v: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    /// A token from raw header and claims JSON text (so duplicate keys can be written), signed
    /// with HS256 under [`SECRET`].
    fn hs256(header: &str, claims: &str) -> String {
        let msg = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
        format!("{msg}.{}", b64(hmac::sign(&key, msg.as_bytes()).as_ref()))
    }

    /// [`hs256`] for JSON that need not be UTF-8.
    fn hs256_bytes(header: &[u8], claims: &[u8]) -> String {
        let msg = format!("{}.{}", b64(header), b64(claims));
        let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
        format!("{msg}.{}", b64(hmac::sign(&key, msg.as_bytes()).as_ref()))
    }

    /// The claims JSON of a good token, with `name` given the raw JSON `value` (`None`: left
    /// out), and `extra` raw JSON members appended.
    fn claims(now: i64, name: &str, value: Option<&str>, extra: &str) -> String {
        let good = [
            ("sub", format!("\"{}\"", UserId::generate().as_str())),
            ("username", "\"alice\"".into()),
            ("iat", now.to_string()),
            ("nbf", now.to_string()),
            ("exp", (now + 600).to_string()),
            ("jti", format!("\"{}\"", TokenId::generate().as_str())),
            ("sid", format!("\"{}\"", SessionId::generate().as_str())),
            ("iss", "\"iss-test\"".into()),
            ("aud", "\"aud-test\"".into()),
        ];
        let mut members: Vec<String> = good
            .iter()
            .filter(|(k, _)| *k != name)
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        if let Some(value) = value {
            members.push(format!("\"{name}\":{value}"));
        }
        if !extra.is_empty() {
            members.push(extra.to_owned());
        }
        format!("{{{}}}", members.join(","))
    }

    #[test]
    fn hs256_tokens() {
        let key = HmacKey::new(SECRET.to_vec()).unwrap();
        let kid = key.kid().to_owned();
        let verifier = TokenVerifier::new([&key], &settings()).unwrap();
        let decoding = DecodingKey::from_secret(SECRET).unwrap();
        let now = clock::now();
        let good_header = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#);
        let good = claims(now, "", None, "");

        let mut tokens: Vec<(String, String)> = Vec::new();
        let mut add = |name: String, token: String| tokens.push((name, token));

        // Headers.
        let headers = [
            r#"{"alg":"HS256","kid":"KID"}"#.to_owned(),
            r#" {"alg":"HS256","kid":"KID"} "#.into(),
            r#"{"alg":"HS256","kid":"KID"} x"#.into(),
            r#"{"alg":"HS256","kid":"KID""#.into(),
            r#"["HS256","KID"]"#.into(),
            r#"[null,"HS256"]"#.into(),
            r#""HS256""#.into(),
            "null".into(),
            "{}".into(),
            r#"{"kid":"KID"}"#.into(),
            r#"{"alg":null,"kid":"KID"}"#.into(),
            r#"{"alg":"none","kid":"KID"}"#.into(),
            r#"{"alg":"None","kid":"KID"}"#.into(),
            r#"{"alg":"hs256","kid":"KID"}"#.into(),
            r#"{"alg":"HS512","kid":"KID"}"#.into(),
            r#"{"alg":"RS256","kid":"KID"}"#.into(),
            r#"{"alg":"EdDSA","kid":"KID"}"#.into(),
            r#"{"alg":"HS256","alg":"HS256","kid":"KID"}"#.into(),
            r#"{"alg":"HS256","kid":"KID","kid":"KID"}"#.into(),
            r#"{"alg":"HS256","kid":"KID","typ":"JWT","typ":"JWT"}"#.into(),
            r#"{"alg":"HS256","kid":"KID","foo":1,"foo":2}"#.into(),
            r#"{"alg":"HS256"}"#.into(),
            r#"{"alg":"HS256","kid":null}"#.into(),
            r#"{"alg":"HS256","kid":5}"#.into(),
            r#"{"alg":"HS256","kid":"other"}"#.into(),
            r#"{"alg":"HS256","kid":"KID","typ":5}"#.into(),
            r#"{"alg":"HS256","kid":"KID","typ":null}"#.into(),
            r#"{"alg":"HS256","kid":"KID","typ":"anything"}"#.into(),
            r#"{"alg":"HS256","kid":"KID","cty":[]}"#.into(),
            r#"{"alg":"HS256","kid":"KID","crit":null}"#.into(),
            r#"{"alg":"HS256","kid":"KID","crit":[]}"#.into(),
            r#"{"alg":"HS256","kid":"KID","crit":["b64"],"b64":true}"#.into(),
            r#"{"alg":"HS256","kid":"KID","crit":"b64"}"#.into(),
            r#"{"alg":"HS256","kid":"KID","crit":[5]}"#.into(),
            r#"{"alg":"HS512","kid":"KID","crit":[5]}"#.into(),
            r#"{"alg":"HS256","kid":"KID","b64":true}"#.into(),
            r#"{"alg":"HS256","kid":"KID","b64":false}"#.into(),
            r#"{"alg":"HS256","kid":"KID","b64":null}"#.into(),
            r#"{"alg":"HS256","kid":"KID","b64":"true"}"#.into(),
            r#"{"alg":"HS256","kid":"other","b64":false}"#.into(),
            r#"{"alg":"HS256","kid":"KID","jwk":{}}"#.into(),
            r#"{"alg":"HS256","kid":"KID","jwk":5}"#.into(),
            r#"{"alg":"HS256","kid":"KID","jwk":{"kty":"oct","k":"AAAA"}}"#.into(),
            r#"{"alg":"HS256","kid":"KID","x5c":["a"]}"#.into(),
            r#"{"alg":"HS256","kid":"KID","x5c":"a"}"#.into(),
            r#"{"alg":"HS256","kid":"KID","x5c":[1]}"#.into(),
            r#"{"alg":"HS256","kid":"KID","x5t#S256":5}"#.into(),
            r#"{"alg":"HS256","kid":"KID","enc":"A128GCM","zip":"DEF"}"#.into(),
            r#"{"alg":"HS256","kid":"KID","enc":1}"#.into(),
            r#"{"alg":"HS256","kid":"KID","zip":{}}"#.into(),
            r#"{"alg":"HS256","kid":"KID","url":"u","nonce":"n","jku":"j","x5u":"x","x5t":"t"}"#
                .into(),
            r#"{"alg":"HS256","kid":"KID","nonce":false}"#.into(),
            r#"{"alg":"HS256","kid":"KID","custom":{"a":[1,{"b":null}]}}"#.into(),
            r#"{"\u0061lg":"HS256","kid":"KID"}"#.into(),
        ];
        for h in headers {
            let h = h.replace("KID", &kid);
            add(format!("header {h}"), hs256(&h, &good));
        }
        // A kid spelled with an escape still names the key.
        let escaped_kid = kid.replacen('-', "\\u002d", 1);
        add(
            "escaped kid".into(),
            hs256(
                &format!(r#"{{"alg":"HS256","kid":"{escaped_kid}"}}"#),
                &good,
            ),
        );

        // Claims: each claim left out, null, and of every JSON type.
        let values = [
            None,
            Some("null"),
            Some("true"),
            Some("0"),
            Some("-1"),
            Some("-0"),
            Some("1.5"),
            Some("1e300"),
            Some("18446744073709551615"),
            Some("9223372036854775808"),
            Some("\"x\""),
            Some("\"\""),
            Some("[]"),
            Some("[1]"),
            Some("[\"iss-test\"]"),
            Some("[\"aud-test\"]"),
            Some("[\"evil\",\"iss-test\",\"aud-test\"]"),
            Some("[\"iss-test\",5]"),
            Some("[\"aud-test\",null]"),
            Some("[[\"aud-test\"]]"),
            Some("[\"aud-test\",[\"x\"]]"),
            Some("[\"iss-test\",{\"a\":[1,\"b\",null]}]"),
            Some("[\"iss-test\",\"aud-test\",\"aud-test\"]"),
            Some("{}"),
            Some("{\"a\":1}"),
            Some("\"alice\""),
            Some("\"al\\u0069ce\""),
            Some("\"aud-test\""),
            Some("\"iss-test\""),
            Some("\"aud\\u002dtest\""),
        ];
        let names = [
            "sub", "username", "iat", "nbf", "exp", "jti", "sid", "iss", "aud",
        ];
        for name in names {
            for value in values {
                let c = claims(now, name, value, "");
                add(format!("{name}: {value:?}"), hs256(&good_header, &c));
            }
            // The same claim twice, with the same value.
            let good_map: serde_json::Value = serde_json::from_str(&good).unwrap();
            let c = format!(
                "{},\"{name}\":{}}}",
                good.trim_end_matches('}'),
                good_map[name]
            );
            add(format!("{name} twice"), hs256(&good_header, &c));
        }
        // Nesting past the parser's depth limit, in a claim read and in one skipped.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for name in ["aud", "iss", "nbf", "custom"] {
            let c = claims(now, name, Some(&deep), "");
            add(format!("{name} deep"), hs256(&good_header, &c));
        }
        let t = now.to_string();
        let times = [
            ("iat", (now + 1000).to_string()),
            ("iat", (now - 100_000).to_string()),
            ("iat", "-100".into()),
            ("nbf", (now + 1000).to_string()),
            ("nbf", format!("{t}.4")),
            ("nbf", format!("{}.0", now + 1000)),
            ("nbf", "1e3".into()),
            ("nbf", "-1.0".into()),
            ("exp", (now - 1000).to_string()),
            ("exp", format!("{}.0", now + 600)),
            ("exp", "9223372036854775807".into()),
        ];
        for (name, value) in times {
            let c = claims(now, name, Some(&value), "");
            add(format!("{name}: {value}"), hs256(&good_header, &c));
        }
        // Several defects at once: precedence between refusals.
        let multi = [
            r#""exp":1,"iss":"evil""#,
            r#""iss":"evil","aud":"evil""#,
            r#""exp":1,"nbf":99999999999"#,
            r#""username":5,"exp":1"#,
            r#""jti":"x","iat":99999999999"#,
            r#""iss":5,"exp":1"#,
            r#""nbf":[1],"aud":"evil""#,
        ];
        for m in multi {
            // Later duplicates would be refused, so drop the good ones first.
            let mut c: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&good).unwrap();
            for k in names {
                if m.contains(&format!("\"{k}\"")) {
                    c.remove(k);
                }
            }
            let base = serde_json::Value::Object(c).to_string();
            let c = format!("{},{m}}}", base.trim_end_matches('}'));
            add(format!("claims with {m}"), hs256(&good_header, &c));
        }
        let whole = [
            "[]",
            "[1,2,3,4,5]",
            "null",
            "\"x\"",
            "5",
            "{}",
            "{",
            " {} ",
            "{} {}",
            "not json",
        ];
        for c in whole {
            add(format!("claims {c}"), hs256(&good_header, c));
        }
        // Deeply nested unknown claim.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        add(
            "deep".into(),
            hs256(
                &good_header,
                &claims(now, "", None, &format!("\"x\":{deep}")),
            ),
        );

        // Bytes that are not UTF-8, in strings the verifiers read and in ones they skip.
        let not_utf8: [(&str, &str); 13] = [
            ("header", r#""kid":"KID","typ":"#),
            ("header", r#""kid":"KID","custom":"#),
            ("header", r#""kid":"KID","custom":["#),
            ("header", r#""kid":"KID","jwk":{"kty":"oct","k":"AA","x":"#),
            ("header", r#""kid":"#),
            ("claims", r#""custom":"#),
            ("claims", r#""custom":["#),
            ("claims", r#""username":"#),
            ("claims", r#""aud":"#),
            ("claims", r#""aud":["aud-test","#),
            ("claims", r#""iss":["iss-test",{"a":"#),
            ("claims", r#""aud":[["#),
            ("claims", r#""nbf":"#),
        ];
        for (part, member) in not_utf8 {
            let member = member.replace("KID", &kid);
            // Close what the member opened (its strings hold no brackets).
            let mut open = Vec::new();
            for c in member.chars() {
                match c {
                    '[' | '{' => open.push(c),
                    ']' | '}' => drop(open.pop()),
                    _ => {}
                }
            }
            let close: String = open
                .iter()
                .rev()
                .map(|&c| if c == '[' { ']' } else { '}' })
                .collect();
            let mut value = format!("{member}\"").into_bytes();
            value.extend_from_slice(b"\xff\xfe");
            value.extend_from_slice(format!("\"{close}").as_bytes());
            let token = if part == "header" {
                let mut h = br#"{"alg":"HS256","#.to_vec();
                h.extend_from_slice(&value);
                h.push(b'}');
                hs256_bytes(&h, good.as_bytes())
            } else {
                // Replacing the good claim of that name, if any (a repeated one is malformed).
                let name = member.split('"').nth(1).unwrap();
                let mut m: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&good).unwrap();
                m.remove(name);
                let base = serde_json::Value::Object(m).to_string();
                let mut c = base.trim_end_matches('}').as_bytes().to_vec();
                c.push(b',');
                c.extend_from_slice(&value);
                c.push(b'}');
                hs256_bytes(good_header.as_bytes(), &c)
            };
            add(format!("not UTF-8 in {part} {member}"), token);
        }

        // Segments.
        let valid = hs256(&good_header, &good);
        let parts: Vec<&str> = valid.split('.').collect();
        let (h, p, s) = (parts[0], parts[1], parts[2]);
        let segment_cases = [
            format!("{h}.{p}"),
            format!("{h}.{p}.{s}.{s}"),
            format!("{h}.{p}."),
            format!(".{p}.{s}"),
            format!("{h}..{s}"),
            format!("{h}=.{p}.{s}"),
            format!("{h}.{p}.{s}="),
            format!("{h}A.{p}.{s}"),
            format!("{h}AA.{p}.{s}"),
            format!("{h}.{p}A.{s}"),
            format!("{h}.{p}.{s}A"),
            format!("{h}.{p}.{}", &s[..s.len() - 1]),
            format!("{h}.{p}.AAAA"),
            format!("{h}.{p}.{}", "A".repeat(4000)),
            format!("{h}.{p}.{}", "A".repeat(4001)),
            format!("{h}.{p}.{}", "A".repeat(4002)),
            format!("{h}+.{p}.{s}"),
            format!("{h}.{p}.{s} "),
            format!("{h}.{p}.{}", s.replace(|_: char| true, "_")),
        ];
        for (i, t) in segment_cases.into_iter().enumerate() {
            add(format!("segments #{i}"), t);
        }
        // Non-canonical base64 (stray trailing bits) in each segment.
        let bump = |seg: &str| {
            let mut b = seg.as_bytes().to_vec();
            let last = b.last_mut().unwrap();
            *last = if *last == b'A' { b'B' } else { b'A' };
            String::from_utf8(b).unwrap()
        };
        add("header bits".into(), format!("{}.{p}.{s}", bump(h)));
        add("payload bits".into(), format!("{h}.{}.{s}", bump(p)));
        add("signature bits".into(), format!("{h}.{p}.{}", bump(s)));
        // A payload that is not base64url of JSON, signed.
        for payload in ["A", "AB", "ABC", "____", "e30"] {
            let msg = format!("{}.{payload}", b64(good_header.as_bytes()));
            let hk = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
            let sig = b64(hmac::sign(&hk, msg.as_bytes()).as_ref());
            add(format!("payload {payload}"), format!("{msg}.{sig}"));
        }
        // Size.
        let pad = "x".repeat(MAX_TOKEN_BYTES);
        for n in [5500, 5800, 6000, 6200] {
            let c = claims(now, "", None, &format!("\"pad\":\"{}\"", &pad[..n]));
            add(format!("padded {n}"), hs256(&good_header, &c));
        }

        let mut accepted = 0;
        for (name, token) in &tokens {
            let ours = verifier.verify(token, now);
            let theirs = reference(Algorithm::HS256, &kid, &decoding, &settings(), token, now);
            assert_eq!(ours, theirs, "{name}: {token}");
            accepted += usize::from(ours.is_ok());
        }
        // The corpus reaches every stage, accepting as well as refusing.
        assert!(accepted >= 10, "{accepted} accepted");
        assert!(tokens.len() > 300, "{} tokens", tokens.len());
    }

    #[test]
    fn ed25519_tokens() {
        let (private_pem, public_pem) = crate::testing_keys::ed25519_pem_pair();
        let private = Ed25519PrivateKey::from_pem(&private_pem).unwrap();
        let public = Ed25519PublicKey::all_from_pem(&public_pem).unwrap();
        let verifier = TokenVerifier::new_ed25519(&public, &settings());
        let decoding = DecodingKey::from_ed_der(&public[0].raw);
        let signer = TokenSigner::new_ed25519(&private, settings());
        let now = clock::now();
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&private.pkcs8).unwrap();
        let sign = |header: &str, claims: &str| {
            let msg = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
            format!("{msg}.{}", b64(pair.sign(msg.as_bytes()).as_ref()))
        };
        let kid = private.kid().to_owned();
        let good = claims(now, "", None, "");
        let issued = signer
            .issue(
                &UserId::generate(),
                &Username::parse("alice").unwrap(),
                &SessionId::generate(),
                now,
            )
            .unwrap()
            .token;
        let parts: Vec<&str> = issued.split('.').collect();
        let tokens = [
            issued.clone(),
            sign(&format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#), &good),
            sign(&format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#), &good),
            sign(r#"{"alg":"EdDSA","kid":"x"}"#, &good),
            sign(
                &format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#),
                &claims(now, "exp", Some(&(now - 1000).to_string()), ""),
            ),
            hs256(&format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#), &good),
            format!("{}.{}.{}", parts[0], parts[1], &parts[2][..40]),
            format!("{}.{}.AAAA", parts[0], parts[1]),
            format!("{}.{}.{}", parts[0], b64(good.as_bytes()), parts[2]),
        ];
        for token in &tokens {
            let ours = verifier.verify(token, now);
            let theirs = reference(Algorithm::EdDSA, &kid, &decoding, &settings(), token, now);
            assert_eq!(ours, theirs, "{token}");
        }
    }
}
