//! The security headers every answer of the page carries, its files and its errors alike.

use lambda_http::http::{HeaderMap, HeaderValue};

/// The page's Content-Security-Policy: scripts, styles, images and API calls from its own
/// origin only (images also as `data:` URIs: the two-factor QR code the API draws), no inline
/// script or style, no plug-ins, no framing, forms posting nowhere else, no `<base>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The headers, by name.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    // For browsers older than `frame-ancestors`.
    ("x-frame-options", "DENY"),
    // The page's URL never leaves with a request.
    ("referrer-policy", "no-referrer"),
    // A script or style is run only with the type it is served as.
    ("x-content-type-options", "nosniff"),
];

/// Adds [`SECURITY_HEADERS`] to `headers`.
pub fn add_security_headers(headers: &mut HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        headers.insert(*name, HeaderValue::from_static(value));
    }
}
