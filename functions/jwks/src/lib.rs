//! The public keys, for verifiers other than the authorizer (public routes):
//!
//! - `GET /.well-known/jwks.json`: the JWK Set (RFC 7517) of the EdDSA public keys the authorizer
//!   accepts, current first, each `{"kty": "OKP", "crv": "Ed25519", "x", "kid", "alg": "EdDSA",
//!   "use": "sig"}` (RFC 8037). Cached for [`MAX_AGE_SECONDS`]: a rotation publishes the new key
//!   at least that long before login signs with it (docs/operations.md).
//! - `GET /.well-known/openid-configuration`: an OpenID-style discovery document naming the
//!   issuer (`JWT_ISSUER`, the tokens' `iss`) and `jwks_uri`, for libraries that start from it.
//!   This service is not an OpenID provider: the document holds only what a verifier needs.
//!
//! A verifier with only these keys checks signatures and claims, not revocation: a logged-out
//! session's token verifies until it expires. What refuses it at once is the authorizer's
//! session read (docs/adding-a-route.md puts it in front of another API).
//!
//! With HS256 (the key is a shared secret) both answer 404 `no_public_keys`.

use auth::AuthError;
use auth::config::{self, ConfigError, Lookup};
use auth::token::Ed25519PublicKey;
use auth_edge::api;
use auth_edge::runner::{Answer, Function};
use base64::Engine as _;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::Serialize;

/// How long clients may cache either document, in seconds.
pub const MAX_AGE_SECONDS: u32 = 300;

/// What the function reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `JWT_PUBLIC_KEYS` with `JWT_ALGORITHM=EdDSA`; `None` with HS256.
    pub keys: Option<Vec<Ed25519PublicKey>>,
    /// `JWT_ISSUER`.
    pub issuer: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&config::process_env)
    }

    /// Reads `env`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            keys: config::published_keys(env)?,
            issuer: config::issuer(env),
        })
    }
}

/// One key of the set (RFC 8037's OKP key type).
#[derive(Debug, Serialize)]
pub struct Jwk {
    /// `OKP`.
    pub kty: &'static str,
    /// `Ed25519`.
    pub crv: &'static str,
    /// The raw public key, base64url without padding.
    pub x: String,
    /// The `kid` tokens signed with it carry.
    pub kid: String,
    /// `EdDSA`.
    pub alg: &'static str,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
}

impl From<&Ed25519PublicKey> for Jwk {
    fn from(key: &Ed25519PublicKey) -> Self {
        Self {
            kty: "OKP",
            crv: "Ed25519",
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.raw()),
            kid: key.kid().to_owned(),
            alg: "EdDSA",
            use_: "sig",
        }
    }
}

/// The key set.
#[derive(Debug, Serialize)]
pub struct JwkSet {
    /// Current first.
    pub keys: Vec<Jwk>,
}

/// The discovery document.
#[derive(Debug, Serialize)]
pub struct Discovery {
    /// The tokens' `iss`.
    pub issuer: String,
    /// Where the key set is.
    pub jwks_uri: String,
    /// `["EdDSA"]`: the algorithm of the access tokens (the field OpenID names for its ID
    /// tokens, which libraries read).
    pub id_token_signing_alg_values_supported: [&'static str; 1],
    /// `["public"]`: `sub` is the account's id, the same for every client.
    pub subject_types_supported: [&'static str; 1],
}

/// The handler: the key set is built once, at start.
#[derive(Debug)]
pub struct Handler {
    keys: Option<JwkSet>,
    issuer: String,
}

impl Handler {
    /// A handler publishing `keys` (none with HS256) for tokens issued by `issuer`.
    pub fn new(keys: Option<Vec<Ed25519PublicKey>>, issuer: String) -> Self {
        let keys = keys.map(|keys| JwkSet {
            keys: keys.iter().map(Jwk::from).collect(),
        });
        Self { keys, issuer }
    }
}

impl Function for Handler {
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        None
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let keys = self.keys.as_ref().ok_or(AuthError::NoPublicKeys)?;
        let mut response = if req.uri().path().ends_with("/openid-configuration") {
            api::json_response(
                StatusCode::OK,
                &Discovery {
                    issuer: self.issuer.clone(),
                    jwks_uri: format!("{}/.well-known/jwks.json", base_url(&req)),
                    id_token_signing_alg_values_supported: ["EdDSA"],
                    subject_types_supported: ["public"],
                },
            )
        } else {
            api::json_response(StatusCode::OK, keys)
        };
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECONDS}"))
                .expect("a valid header value"),
        );
        Ok((response, "success"))
    }
}

/// The API's base URL as the client reached it: API Gateway's `domainName` (the execute-api or
/// custom domain it matched, not a header the client chose) and the stage unless it is
/// `$default`; always `https`, as API Gateway serves nothing else, except on a loopback host
/// (the local server, on plain HTTP). A custom domain's API mapping path is not known here:
/// map the API at the domain's root, or verifiers find the key set by its own URL.
fn base_url(req: &Request) -> String {
    let (domain, stage) = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => (
            ctx.domain_name.clone(),
            ctx.stage.clone().unwrap_or_default(),
        ),
        _ => (None, String::new()),
    };
    let domain = domain.unwrap_or_else(|| "localhost".to_owned());
    let scheme = if is_loopback(&domain) {
        "http"
    } else {
        "https"
    };
    if stage.is_empty() || stage == "$default" {
        format!("{scheme}://{domain}")
    } else {
        format!("{scheme}://{domain}/{stage}")
    }
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback(domain: &str) -> bool {
    let host = match domain.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => domain.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_hosts_only() {
        for local in [
            "localhost",
            "localhost:3000",
            "127.0.0.1:3000",
            "127.1.2.3",
            "[::1]:3000",
        ] {
            assert!(super::is_loopback(local), "{local}");
        }
        for remote in [
            "abc123.execute-api.eu-west-1.amazonaws.com",
            "auth.example.com",
            "localhost.example.com",
            "10.0.0.1",
            "[2001:db8::1]",
        ] {
            assert!(!super::is_loopback(remote), "{remote}");
        }
    }
}
