//! The account page, served by the API itself (same origin, so the refresh cookie needs no
//! CORS): `GET /` (the HTML), `GET /account.js`, `GET /account.css`, `GET /favicon.svg`.
//!
//! Layout:
//! - `static/`: the page, plain HTML, CSS and JavaScript, and its icon (no framework, no build
//!   step, nothing from a CDN). The script registers, signs in with `Token-Delivery: cookie`, keeps the access
//!   token in memory only, refreshes it through the cookie, lists and ends sessions, changes
//!   the password and deletes the account.
//! - [`assets`]: the files, embedded at build time, with their content types.
//! - [`headers`]: the Content-Security-Policy and the other security headers of every answer.
//!
//! Needs no configuration, store or AWS access.
//!
//! - 200 with the file; 404 `not_found` for another path; 405 `method_not_allowed` (with
//!   `Allow: GET`) for another method. Errors have the usual JSON body.

pub mod assets;
pub mod headers;

use auth::AuthError;
use auth_edge::api::{self, ErrorBody};
use auth_edge::runner::{Answer, Function};
use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Request, Response};

/// The account page's handler. It has no state: the files are in the binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Handler;

impl Function for Handler {
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        None
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        Ok(answer(req.method(), req.uri().path()))
    }
}

/// The answer to `method` on `path`, with the security headers.
pub fn answer(method: &Method, path: &str) -> Answer {
    let (mut response, outcome) = match assets::find(path) {
        Some(asset) if method == Method::GET => {
            let mut response = Response::new(Body::Text(asset.body.to_owned()));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(asset.cache_control),
            );
            (response, "served")
        }
        Some(_) => {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "only GET is served here",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET"));
            (response, "method_not_allowed")
        }
        None => (
            error(StatusCode::NOT_FOUND, "not_found", "no such page"),
            "not_found",
        ),
    };
    headers::add_security_headers(response.headers_mut());
    (response, outcome)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    api::json_response(
        status,
        &ErrorBody {
            error: code,
            message: message.to_owned(),
            field: None,
        },
    )
}
