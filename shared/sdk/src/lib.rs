//! `auth-sdk`: the functions' AWS side through the AWS SDK — everything except the per-request
//! reads of the authorizer and user-info, which `auth-direct` makes without the SDK.
//!
//! - [`accounts`]: the account changes that touch both tables (change password, delete
//!   account), one DynamoDB transaction each.
//! - [`clients`]: the SDK configuration and DynamoDB client built from `auth::config`'s
//!   settings, once per cold start.
//! - [`mfa`]: two-factor sign-in state on the revocation marker (`auth::store::SecondFactor`).
//! - [`secrets`]: Secrets Manager through the SDK, for the key loading of `auth::keys`.
//! - [`store`]: the DynamoDB stores (users, sessions, login attempts) behind `auth::store`'s
//!   traits, and table creation for local servers and tests.

pub mod accounts;
pub mod clients;
pub mod mfa;
pub mod secrets;
pub mod store;

pub use clients::SdkClients;
pub use secrets::{SdkKeys, SdkSecrets};
