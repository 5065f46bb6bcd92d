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
//!   HS256/EdDSA, … are refused) and a `kid` from the verifier's key set; it carries no `crit`
//!   (in any form, `null` included), no JWE parameter (`enc`, `zip`), and a `typ`, if any, of
//!   exactly `JWT` (else [`TokenError::UnsupportedHeader`]);
//! - the signature verifies under that key;
//! - `iss` is the configured issuer, as a string; `aud` is the configured audience (a string, or
//!   an array of strings that contains it); `exp`, `nbf`, `iat`, `sub`, `jti` and `username` are
//!   present and well formed (`exp` and `iat` not negative), and so is `sid`; at the `now` passed
//!   to [`TokenVerifier::verify`], `exp` and `nbf` hold with the configured leeway, and `iat` is
//!   not in the future beyond it;
//! - `exp - iat` is at most the configured access-token lifetime plus the leeway
//!   ([`TokenError::LifetimeTooLong`]): no signer of ours issues a longer-lived token, so one is
//!   either forged with a leaked key or minted by a misconfigured signer.
//!
//! The header and the claims set must each be a JSON object in which no field the verifier reads
//! appears twice; anything else is [`TokenError::Malformed`].
//!
//! # Why the verifier is hand-written
//!
//! To meet its per-token target: verification at most 3× a raw HMAC-SHA256 of the same bytes
//! (bench/RESULTS.md, "Targets"). `jsonwebtoken`'s `decode_header` + `decode` decode the header
//! twice and parse the claims twice. Head to head on the 459-byte sample token, that path took
//! 2749 ns, this one-pass verifier 978 ns and raw HMAC-SHA256 of the signing input 338 ns: 8.1×
//! against 2.9× the HMAC, i.e. 2.8× faster (`bench/rust/microbench`, medians of 5 interleaved
//! runs on 2026-11-29 10:23 UTC, the `jsonwebtoken` path on a build of the commit before the
//! rewrite; recorded in bench/RESULTS.md as of commit a88613d). The latest full run
//! (bench/RESULTS.md, 2026-11-29 15:18 UTC) has no `jsonwebtoken` row, as the microbench times
//! only this verifier, raw HMAC and a lean prototype: 1014 ns against 343 ns for the HMAC,
//! 2.95×, within the target by a thin margin.
//!
//! For the authorizer's cost the gain is small: verification is about 3% of the CPU samples of
//! a warm invocation (bench/NOTES.md, `perf`), which costs 104 µs in all (docs/performance.md;
//! at 128 MB, 100 µs of CPU is about 1.4 ms billed), so the ~1.8 µs saved is under 2% of it.
//! The price is a verifier of our own: `wire.rs` reads the header and claims with the types
//! `jsonwebtoken` reads them as, and `differential.rs` holds the verifier to the answers of the
//! `jsonwebtoken`-based one, refusal reasons included, on hundreds of crafted tokens.

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
