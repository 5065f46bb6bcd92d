//! How login and refresh hand out the refresh token: in the JSON body (the default), or, for a
//! browser that asks with `Token-Delivery: cookie`, in an `HttpOnly` cookie that page scripts
//! cannot read and that travels only to `POST /refresh`.
//!
//! The cookie is [`REFRESH_COOKIE`] with `Path=/refresh; Max-Age=<the token's life>; HttpOnly;
//! Secure; SameSite=Strict`. A refresh that presents only the cookie is a cross-site request
//! forgery target, so it is accepted only with the `Token-Delivery: cookie` header (a header a
//! cross-site form cannot send, and a cross-origin `fetch` can send only after a CORS preflight
//! the API refuses unless the origin is allowed) and, when the request has an `Origin`, only
//! from the API's own origin or one in `CORS_ALLOWED_ORIGINS` ([`check_origin`]); otherwise 403
//! `csrf_rejected`, before anything is read or rotated. Logout, log-out-everywhere, ending the
//! current session and a refused refresh clear the cookie ([`clear_refresh_cookie`]).

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};

use auth::{AuthError, RefreshToken};

use crate::api::{self, TokenResponse};

/// The refresh cookie's name. The `__Secure-` prefix makes browsers accept it only with
/// `Secure` from a secure origin (HTTPS, or loopback during development).
pub const REFRESH_COOKIE: &str = "__Secure-refresh_token";

/// The only path the refresh cookie is sent to: the refresh route.
pub const REFRESH_COOKIE_PATH: &str = "/refresh";

/// The request header that selects the delivery: `cookie`, or `json` (the default).
pub const TOKEN_DELIVERY: &str = "token-delivery";

/// Where the refresh token goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// In the JSON body (no `Token-Delivery` header, or `Token-Delivery: json`).
    Json,
    /// In the refresh cookie (`Token-Delivery: cookie`).
    Cookie,
}

impl Delivery {
    /// The delivery `req` asks for. One `Token-Delivery` header at most, `cookie` or `json`
    /// (any case); anything else is a 400.
    pub fn of(req: &Request) -> Result<Self, AuthError> {
        let mut values = req.headers().get_all(TOKEN_DELIVERY).iter();
        let Some(value) = values.next() else {
            return Ok(Self::Json);
        };
        let value = value.to_str().unwrap_or("").trim();
        if values.next().is_none() {
            if value.eq_ignore_ascii_case("cookie") {
                return Ok(Self::Cookie);
            }
            if value.eq_ignore_ascii_case("json") {
                return Ok(Self::Json);
            }
        }
        Err(AuthError::InvalidRequest(
            "the Token-Delivery header must be `cookie` or `json`, once".into(),
        ))
    }
}

/// The refresh cookie's value, if the request has one. Two refresh cookies are a 400: which
/// one the client meant cannot be known.
pub fn refresh_cookie(req: &Request) -> Result<Option<String>, AuthError> {
    let mut found = None;
    for value in req.headers().get_all(header::COOKIE) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for pair in text.split(';') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if name.trim() != REFRESH_COOKIE {
                continue;
            }
            if found.is_some() {
                return Err(AuthError::InvalidRequest(
                    "more than one refresh cookie was sent".into(),
                ));
            }
            found = Some(value.trim().to_owned());
        }
    }
    Ok(found)
}

/// Refuses (403 `csrf_rejected`) a cookie delivery from a foreign origin: with an `Origin`
/// header, it must be the API's own origin (the `Host` it was called on, with the scheme in
/// `X-Forwarded-Proto`, as API Gateway sets them) or one of `allowed`. Without `Origin` (not a
/// browser, or a browser that sends none for a same-origin request) the header rule alone
/// applies.
pub fn check_origin(req: &Request, allowed: &[String]) -> Result<(), AuthError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| AuthError::CsrfRejected)?.trim();
    let own = own_origin(req);
    if own.as_deref() == Some(origin) || allowed.iter().any(|a| a == origin) {
        Ok(())
    } else {
        Err(AuthError::CsrfRejected)
    }
}

/// The origin the API was called on, as a browser would write it.
fn own_origin(req: &Request) -> Option<String> {
    let host = req.headers().get(header::HOST)?.to_str().ok()?.trim();
    let scheme = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| v == "http" || v == "https")
        .unwrap_or_else(|| "https".to_owned());
    auth::config::parse_origin(&format!("{scheme}://{host}")).ok()
}

/// Login's and refresh's 200: the access token in the body, and the refresh token in the body
/// or, with [`Delivery::Cookie`], in the refresh cookie (`Max-Age` = `refresh_expires_in`).
pub fn tokens_response(
    delivery: Delivery,
    access_token: String,
    expires_in: i64,
    refresh: &RefreshToken,
    refresh_expires_in: i64,
) -> Response<Body> {
    let in_body = match delivery {
        Delivery::Json => Some(refresh.expose_secret().to_owned()),
        Delivery::Cookie => None,
    };
    let mut response = api::json_response(
        StatusCode::OK,
        &TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in,
            refresh_token: in_body,
            refresh_expires_in,
        },
    );
    if delivery == Delivery::Cookie {
        set_cookie(
            &mut response,
            refresh.expose_secret(),
            refresh_expires_in.max(0),
        );
    }
    response
}

/// Adds the `Set-Cookie` that removes the refresh cookie (same name and path, `Max-Age=0`).
pub fn clear_refresh_cookie(response: &mut Response<Body>) {
    set_cookie(response, "", 0);
}

/// `response` with the refresh cookie removed.
pub fn clearing_refresh_cookie(mut response: Response<Body>) -> Response<Body> {
    clear_refresh_cookie(&mut response);
    response
}

fn set_cookie(response: &mut Response<Body>, value: &str, max_age: i64) {
    let cookie = format!(
        "{REFRESH_COOKIE}={value}; Path={REFRESH_COOKIE_PATH}; Max-Age={max_age}; HttpOnly; \
         Secure; SameSite=Strict"
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("a token is base64url, a valid header value"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut req = lambda_http::http::Request::builder();
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.body(Body::Empty).unwrap()
    }

    #[test]
    fn the_delivery_header_is_cookie_or_json_once() {
        assert_eq!(Delivery::of(&request(&[])).unwrap(), Delivery::Json);
        for cookie in ["cookie", "Cookie", " COOKIE "] {
            let req = request(&[("token-delivery", cookie)]);
            assert_eq!(Delivery::of(&req).unwrap(), Delivery::Cookie);
        }
        let req = request(&[("token-delivery", "json")]);
        assert_eq!(Delivery::of(&req).unwrap(), Delivery::Json);
        for bad in ["", "cookies", "cookie, cookie", "body", "json;cookie"] {
            let req = request(&[("token-delivery", bad)]);
            assert!(
                matches!(Delivery::of(&req), Err(AuthError::InvalidRequest(_))),
                "{bad:?}"
            );
        }
        let twice = request(&[("token-delivery", "cookie"), ("token-delivery", "cookie")]);
        assert!(Delivery::of(&twice).is_err());
    }

    #[test]
    fn the_refresh_cookie_is_found_among_others_and_only_once() {
        assert_eq!(refresh_cookie(&request(&[])).unwrap(), None);
        let req = request(&[("cookie", "a=1; __Secure-refresh_token=abc ; b")]);
        assert_eq!(refresh_cookie(&req).unwrap().as_deref(), Some("abc"));
        // Another name that only contains it, and a pair without `=`, are not it.
        let req = request(&[(
            "cookie",
            "x__Secure-refresh_token=1; __Secure-refresh_token",
        )]);
        assert_eq!(refresh_cookie(&req).unwrap(), None);
        for twice in [
            vec![(
                "cookie",
                "__Secure-refresh_token=a; __Secure-refresh_token=b",
            )],
            vec![
                ("cookie", "__Secure-refresh_token=a"),
                ("cookie", "__Secure-refresh_token=a"),
            ],
        ] {
            assert!(matches!(
                refresh_cookie(&request(&twice)),
                Err(AuthError::InvalidRequest(_))
            ));
        }
    }

    #[test]
    fn a_cookie_delivery_comes_from_the_api_s_origin_or_an_allowed_one() {
        let allowed = vec!["https://app.example.com".to_owned()];
        let on = |origin: &str, host: &str, proto: Option<&str>| {
            let mut headers = vec![("origin", origin), ("host", host)];
            if let Some(p) = proto {
                headers.push(("x-forwarded-proto", p));
            }
            check_origin(&request(&headers), &allowed).is_ok()
        };
        assert!(on(
            "https://api.example.com",
            "api.example.com",
            Some("https")
        ));
        assert!(on("https://api.example.com", "API.example.com:443", None));
        assert!(on("http://127.0.0.1:3000", "127.0.0.1:3000", Some("http")));
        assert!(on(
            "https://app.example.com",
            "api.example.com",
            Some("https")
        ));
        assert!(!on(
            "https://evil.example",
            "api.example.com",
            Some("https")
        ));
        assert!(!on(
            "http://api.example.com",
            "api.example.com",
            Some("https")
        ));
        assert!(!on("http://127.0.0.1:3001", "127.0.0.1:3000", Some("http")));
        assert!(!on("null", "api.example.com", Some("https")));
        // No Origin: not a browser's cross-origin request; the header rule decides.
        assert!(check_origin(&request(&[("host", "api.example.com")]), &[]).is_ok());
    }

    #[test]
    fn cookie_delivery_keeps_the_refresh_token_out_of_the_body() {
        let token = RefreshToken::generate();
        let json = tokens_response(Delivery::Json, "a".into(), 900, &token, 3600);
        assert!(json.headers().get(header::SET_COOKIE).is_none());
        let body: TokenResponse = serde_json::from_slice(json.body().as_ref()).unwrap();
        assert_eq!(body.refresh_token.as_deref(), Some(token.expose_secret()));

        let cookie = tokens_response(Delivery::Cookie, "a".into(), 900, &token, 3600);
        let text = std::str::from_utf8(cookie.body().as_ref()).unwrap();
        assert!(!text.contains(token.expose_secret()) && !text.contains("refresh_token\""));
        let set = cookie.headers()[header::SET_COOKIE].to_str().unwrap();
        assert_eq!(
            set,
            format!(
                "__Secure-refresh_token={}; Path=/refresh; Max-Age=3600; HttpOnly; Secure; \
                 SameSite=Strict",
                token.expose_secret()
            )
        );
        let cleared = clearing_refresh_cookie(api::empty_response(StatusCode::NO_CONTENT));
        assert_eq!(
            cleared.headers()[header::SET_COOKIE],
            "__Secure-refresh_token=; Path=/refresh; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
        );
    }
}
