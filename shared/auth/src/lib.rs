//! `auth`: the core of the JWT session service — what a session *is*, with no AWS and no HTTP.
//!
//! Every function links it; the crates around it add one seam each: `auth-sdk` (DynamoDB and
//! Secrets Manager through the AWS SDK), `auth-direct` (the SDK-less SigV4 client of the
//! authorizer and user-info), `auth-edge` (HTTP requests and responses, the authorizer context,
//! the one runner of every function) and `auth-telemetry` (logs and metrics).
//!
//! Layout:
//!
//! - [`config`]: the environment's variables read into settings (each default a named
//!   constant); a missing or bad variable fails start-up with an error that names it.
//! - [`keys`]: loading the signing and verification keys those settings name.
//! - [`domain`]: the values the service works with, parsed at the edge ([`Username`],
//!   [`Password`], [`UserId`], [`SessionId`]).
//! - [`credentials`]: checking a username's password under the brute-force limiter, with one
//!   answer and one cost for every failure (login and the routes that ask for the password again).
//! - [`mfa`]: two-factor sign-in — TOTP codes, recovery codes, the signed challenge between the
//!   password step and the code step, and the key that seals TOTP secrets at rest.
//! - [`password`]: Argon2id hashing and verification, including the dummy verification that makes
//!   "no such user" cost as much as "wrong password".
//! - [`token`]: issuing and verifying the access tokens (pinned algorithm, `kid`, `iss`, `aud`,
//!   `exp`, `nbf`, explicit leeway).
//! - [`store`]: narrow store traits (one per operation a handler needs), the in-memory store, and
//!   how DynamoDB items are read ([`store::item`]), shared by both DynamoDB back-ends.
//! - [`error`]: the one error type of the service and its causes.
//! - [`clock`]: the wall clock, in epoch seconds.
//! - [`throttle`]: the brute-force limiter's policy (per-username exponential back-off).

pub mod clock;
pub mod config;
pub mod credentials;
pub mod domain;
pub mod error;
pub mod keys;
pub mod mfa;
pub mod password;
pub mod store;
pub mod throttle;
pub mod token;

pub use config::{Config, ConfigError};
pub use domain::{Password, RefreshHash, RefreshToken, SessionId, TokenId, UserId, Username};
pub use error::{AuthError, StoreError};

/// Ed25519 key pairs as PEM, for tests and the local server.
pub mod testing_keys {
    use aws_lc_rs::signature::KeyPair as _;

    /// A new Ed25519 key pair: (PKCS#8 private key PEM, SubjectPublicKeyInfo public key PEM).
    pub fn ed25519_pem_pair() -> (String, String) {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .expect("generating an Ed25519 key");
        let private = encode(pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()));
        let public = public_pem_of(&private);
        (private, public)
    }

    /// The public key PEM of a PKCS#8 Ed25519 private key PEM.
    pub fn public_pem_of(private_pem: &str) -> String {
        let block = pem::parse(private_pem).expect("a PEM private key");
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(block.contents())
            .expect("an Ed25519 PKCS#8 key");
        let mut spki = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        spki.extend_from_slice(pair.public_key().as_ref());
        encode(pem::Pem::new("PUBLIC KEY", spki))
    }

    fn encode(block: pem::Pem) -> String {
        pem::encode_config(
            &block,
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        )
    }
}
