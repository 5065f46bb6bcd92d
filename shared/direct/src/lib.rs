//! `auth-direct`: the AWS footprint of the two functions that run on every protected request,
//! the authorizer and user-info, without the AWS SDK (the build enforces it: this crate does not
//! depend on any `aws-sdk-*` crate, and neither do those two functions).
//!
//! - [`client`]: SigV4-signed calls to AWS JSON services over kept-alive HTTP/1.1 connections,
//!   with timeouts, retries and error classification (why it exists, with the numbers: its
//!   module doc).
//! - `sign`: SigV4 for the client's one request shape, with the day's signing key kept.
//! - [`connect`]: the kept-alive connections to each origin, one of them opened before the
//!   first request (init's warm-up).
//! - [`config`]: where and as whom it calls, read from the variables Lambda and the SDK use.
//! - [`store`]: the direct DynamoDB reads — the authorizer's session read and user-info's
//!   account read — with this crate's own item type.
//! - [`secrets`]: Secrets Manager reads, for the authorizer's keys at start-up.

pub mod client;
pub mod config;
pub mod connect;
pub mod secrets;
mod sign;
pub mod store;

pub use client::{AwsCredentials, AwsHttp, DirectConfig, DirectConfigError};
pub use secrets::SecretsClient;
pub use store::{DirectSessions, DirectUsers};
