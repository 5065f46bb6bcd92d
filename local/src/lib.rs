//! The whole API on localhost, behaving as API Gateway does.
//!
//! `cargo run` starts [`server::serve`] with a [`gateway::Gateway`] in front of the same handler
//! code the Lambda binaries run, in process:
//!
//! - [`routes`]: the route table (method, path, function, protected or not). A test keeps it
//!   equal to the routes in `template.yaml`.
//! - [`gateway`]: turns an HTTP request into the event API Gateway (HTTP API, payload format 2.0)
//!   would send, runs the Lambda authorizer in front of protected routes, calls the function and
//!   turns its response back into HTTP — with API Gateway's own answers where it answers itself:
//!   404 for an unknown route, 401 without an `Authorization` header (the authorizer is not
//!   called), 403 when the authorizer denies, 500 when it or the function fails.
//! - [`cors`]: the HTTP API's CORS configuration (`--cors-origin`), answered as API Gateway
//!   answers it.
//! - [`app`]: wires the functions' handlers to a pair of stores (in-memory or DynamoDB).
//! - [`server`]: the HTTP server, on a listener the caller binds (tests bind port 0).
//! - [`startup`]: what the binary says when it cannot start — which setting, set where, and the
//!   fix — and the check that a DynamoDB endpoint answers and has the tables.

pub mod app;
pub mod cors;
pub mod gateway;
pub mod routes;
pub mod server;
pub mod startup;
