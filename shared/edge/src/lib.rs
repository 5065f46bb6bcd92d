//! `auth-edge`: where HTTP and Lambda meet the core — shared by every function and the local
//! server.
//!
//! - [`api`]: JSON request bodies in, JSON responses out, and the one place where an
//!   `auth::AuthError` becomes a response (with its stable error codes).
//! - [`delivery`]: the refresh token in the body or, for browsers, in an `HttpOnly` cookie,
//!   with the cross-site checks a cookie needs.
//! - [`context`]: the authorizer → function contract, one typed value both sides use.
//! - [`runner`]: the one runner every function's `main.rs` calls, and the per-request wrapper
//!   (span, metric, error mapping) the local server uses too.
//! - [`runtime_api`]: the Lambda Runtime API client the event functions' runner talks through.

pub mod api;
pub mod context;
pub mod delivery;
pub mod runner;
pub mod runtime_api;

pub use context::{AuthorizerContext, Caller, caller};
pub use runner::{EventFunction, Function};
