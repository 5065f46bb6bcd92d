//! What the signer and the verifier share: the default algorithm and the token settings
//! (issuer, audience, lifetime, leeway).

use jsonwebtoken::Algorithm;

/// The default algorithm.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

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
