//! The auth crate shared by every function of the JWT session service.
//!
//! It holds everything the Lambda binaries have in common, so that each binary is a thin `main`
//! over a handler:
//!
//! - [`config`]: configuration read from the environment once per cold start; a missing or bad
//!   variable fails start-up with an error that names it.
//! - [`domain`]: the values the service works with, parsed at the edge ([`Username`],
//!   [`Password`], [`UserId`], [`SessionId`]).
//! - [`password`]: Argon2id hashing and verification, including the dummy verification that makes
//!   "no such user" cost as much as "wrong password".
//! - [`token`]: issuing and verifying the HS256 access tokens (pinned algorithm, `kid`, `iss`,
//!   `aud`, `exp`, `nbf`, explicit leeway).
//! - [`store`]: narrow store traits (one per operation a handler needs) with a DynamoDB and an
//!   in-memory implementation that pass the same conformance suite.
//! - [`error`]: the one error type of the service and its causes.
//! - [`api`]: the one place where errors become HTTP responses, JSON body parsing and the identity
//!   the authorizer put into the request context.
//! - [`clock`]: the wall clock, in epoch seconds.
//! - [`throttle`]: the brute-force limiter's policy (per-username exponential back-off).
//! - [`telemetry`]: structured logs that follow Lambda's logging controls, and CloudWatch
//!   Embedded Metric Format metrics.

pub mod api;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod password;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod token;

#[cfg(feature = "test-support")]
pub mod testing;

pub use config::{Config, ConfigError};
pub use domain::{Password, SessionId, UserId, Username};
pub use error::{AuthError, StoreError};
