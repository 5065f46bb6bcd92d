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

mod keys;
mod settings;
mod signer;
mod verifier;
mod wire;

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;

pub use keys::{Ed25519PrivateKey, Ed25519PublicKey, HmacKey};
pub use settings::{ALGORITHM, TokenSettings};
pub use signer::{Claims, IssuedToken, TokenSigner};
pub use verifier::{MAX_TOKEN_BYTES, TokenError, TokenVerifier, VerifiedToken};
