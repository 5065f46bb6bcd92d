//! CORS as the deployed HTTP API answers it (`CorsConfiguration` in `template.yaml`, from the
//! `CorsAllowedOrigins` parameter; here `--cors-origin`, repeatable).
//!
//! With no origins (the default) there is no CORS configuration: no response carries CORS
//! headers and an `OPTIONS` request is routed like any other (404, there is no such route), so
//! a page on another origin can neither read an answer nor send a preflighted request — only
//! the API's own origin (the account page) works. With origins, as API Gateway does:
//! - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered by
//!   the gateway itself, 204, with the CORS headers only when the origin is listed exactly and
//!   the method and headers asked for are allowed (a browser refuses the request otherwise);
//! - every other response to a listed origin gets `Access-Control-Allow-Origin: <that origin>`
//!   and `Access-Control-Allow-Credentials: true` (never `*`: cookies are involved).

use lambda_http::http::{self, HeaderValue, Method, StatusCode, header};

/// The request headers a page may send: the token, the JSON body's type, the cookie delivery.
pub const ALLOW_HEADERS: &[&str] = &["authorization", "content-type", "token-delivery"];
/// The methods the API's routes use.
pub const ALLOW_METHODS: &[&str] = &["GET", "POST", "DELETE"];
/// Response headers a page may read besides the simple ones: how long to wait after a 429.
pub const EXPOSE_HEADERS: &[&str] = &["retry-after"];
/// How long a browser may cache a preflight's answer, in seconds.
pub const MAX_AGE_SECONDS: u32 = 600;

/// The allowed origins; empty: no CORS configuration.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    origins: Vec<String>,
}

impl Cors {
    /// CORS for exactly `origins` (as `auth::config::allowed_origins` normalises them).
    pub fn new(origins: Vec<String>) -> Self {
        Self { origins }
    }

    /// The gateway's own answer to a preflight, when CORS is configured; `None` lets the
    /// request be routed.
    pub fn preflight<B>(&self, req: &http::Request<B>) -> Option<http::Response<Vec<u8>>> {
        if self.origins.is_empty() || req.method() != Method::OPTIONS {
            return None;
        }
        let headers = req.headers();
        let origin = headers.get(header::ORIGIN)?;
        let method = headers.get(header::ACCESS_CONTROL_REQUEST_METHOD)?;
        let mut response = http::Response::new(Vec::new());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let method_ok = method.to_str().is_ok_and(|m| {
            ALLOW_METHODS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(m.trim()))
        });
        let headers_ok = headers
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .all(|list| {
                list.to_str().is_ok_and(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|h| !h.is_empty())
                        .all(|h| ALLOW_HEADERS.iter().any(|a| a.eq_ignore_ascii_case(h)))
                })
            });
        if self.allows(origin) && method_ok && headers_ok {
            let out = response.headers_mut();
            allow(out, origin);
            out.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_str(&ALLOW_METHODS.join(",")).expect("method names"),
            );
            out.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_str(&ALLOW_HEADERS.join(",")).expect("header names"),
            );
            out.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from(MAX_AGE_SECONDS),
            );
        }
        Some(response)
    }

    /// Adds the CORS headers to `response` when the request came from a listed origin.
    pub fn decorate(&self, origin: Option<&HeaderValue>, response: &mut http::Response<Vec<u8>>) {
        let Some(origin) = origin.filter(|o| self.allows(o)) else {
            return;
        };
        let out = response.headers_mut();
        allow(out, origin);
        out.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_str(&EXPOSE_HEADERS.join(",")).expect("header names"),
        );
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        origin
            .to_str()
            .is_ok_and(|o| self.origins.iter().any(|a| a == o))
    }
}

fn allow(out: &mut http::HeaderMap, origin: &HeaderValue) {
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    out.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    out.append(header::VARY, HeaderValue::from_static("origin"));
}
