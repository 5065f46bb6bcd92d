//! Configuration: the environment's variables read into settings, once per cold start.
//!
//! This module only reads variables; it builds no client and loads no key. Keys are loaded by
//! [`crate::keys`] (through whichever Secrets Manager client the function has); clients are
//! built by `auth-sdk` (the SDK's) and `auth-direct` (the direct client's) from the settings
//! read here. Every variable, its default and who reads it: `docs/configuration.md` (checked
//! against the code by a test). Each default is a named constant below, written once.
//!
//! Each function reads only the variables it needs (its `Config::from_env` composes the pieces
//! below), so that `template.yaml` gives each function exactly those. A missing or bad variable
//! is a [`ConfigError`] naming it, and the function refuses to start.

use std::str::FromStr;
use std::time::Duration;

use crate::password::{HashCost, PasswordHasher};
use crate::token::{
    Ed25519PrivateKey, Ed25519PublicKey, HmacKey, TokenSettings, TokenSigner, TokenVerifier,
};

/// A variable that is missing or bad. Displays as `NAME: problem`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration variable {name}: {problem}")]
pub struct ConfigError {
    /// The variable's name.
    pub name: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

/// Where variables come from: the process environment, or a map in tests.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `name`'s value, if it is set and not blank.
pub fn optional(env: Lookup<'_>, name: &'static str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// `name`'s value; a [`ConfigError`] if it is unset or blank.
pub fn required(env: Lookup<'_>, name: &'static str) -> Result<String, ConfigError> {
    optional(env, name).ok_or(ConfigError {
        name,
        problem: "is required but not set".into(),
    })
}

/// `name` as a whole number within `range`, or `default` if it is unset.
pub fn number<T>(
    env: Lookup<'_>,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = optional(env, name) else {
        return Ok(default);
    };
    let value: T = raw.trim().parse().map_err(|_| ConfigError {
        name,
        problem: format!("{raw:?} is not a whole number"),
    })?;
    if !range.contains(&value) {
        return Err(ConfigError {
            name,
            problem: format!("{value} is outside {}..={}", range.start(), range.end()),
        });
    }
    Ok(value)
}

/// `USERS_TABLE`.
pub fn users_table(env: Lookup<'_>) -> Result<String, ConfigError> {
    required(env, "USERS_TABLE")
}

/// `SESSIONS_TABLE`.
pub fn sessions_table(env: Lookup<'_>) -> Result<String, ConfigError> {
    required(env, "SESSIONS_TABLE")
}

/// `ATTEMPTS_TABLE`.
pub fn attempts_table(env: Lookup<'_>) -> Result<String, ConfigError> {
    required(env, "ATTEMPTS_TABLE")
}

/// How to reach DynamoDB.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `DYNAMODB_ENDPOINT_URL`: a local DynamoDB-compatible server instead of AWS.
    pub endpoint_url: Option<String>,
    /// `DYNAMODB_TIMEOUT_MS`: the whole time a store call may take, retries included; keep it
    /// below the function's timeout.
    pub timeout: Duration,
}

impl Default for StoreConfig {
    /// AWS's endpoint, 2 s per call.
    fn default() -> Self {
        Self {
            endpoint_url: None,
            timeout: Duration::from_millis(DEFAULT_DYNAMODB_TIMEOUT_MS),
        }
    }
}

impl StoreConfig {
    /// Reads `DYNAMODB_ENDPOINT_URL` and `DYNAMODB_TIMEOUT_MS`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        let endpoint_url = optional(env, "DYNAMODB_ENDPOINT_URL");
        if let Some(url) = &endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError {
                name: "DYNAMODB_ENDPOINT_URL",
                problem: format!("{url:?} is not an http(s) URL"),
            });
        }
        let timeout_ms = number(
            env,
            "DYNAMODB_TIMEOUT_MS",
            DEFAULT_DYNAMODB_TIMEOUT_MS,
            100..=30_000,
        )?;
        Ok(Self {
            endpoint_url,
            timeout: Duration::from_millis(timeout_ms),
        })
    }
}

fn issuer_audience(env: Lookup<'_>) -> (String, String) {
    (
        issuer(env),
        optional(env, "JWT_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.into()),
    )
}

/// Where the HS256 key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// `JWT_SECRET`: the key itself.
    Inline(HmacKey),
    /// `JWT_SECRET_ARN`: an AWS Secrets Manager secret whose string is the key.
    SecretsManager(String),
}

impl KeySource {
    /// Reads `JWT_SECRET` or `JWT_SECRET_ARN` (exactly one of them).
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        Self::from_names(env, "JWT_SECRET", "JWT_SECRET_ARN")
    }

    /// Reads a secret of at least 32 bytes given inline as variable `inline` or as the ARN of a
    /// Secrets Manager secret in variable `arn` (exactly one of them).
    pub fn from_names(
        env: Lookup<'_>,
        inline: &'static str,
        arn: &'static str,
    ) -> Result<Self, ConfigError> {
        match (optional(env, inline), optional(env, arn)) {
            (Some(_), Some(_)) => Err(ConfigError {
                name: inline,
                problem: format!("set either {inline} or {arn}, not both"),
            }),
            (Some(secret), None) => {
                HmacKey::new(secret.into_bytes())
                    .map(Self::Inline)
                    .map_err(|problem| ConfigError {
                        name: inline,
                        problem,
                    })
            }
            (None, Some(value)) if value.starts_with("arn:") => Ok(Self::SecretsManager(value)),
            (None, Some(_)) => Err(ConfigError {
                name: arn,
                problem: "must be an ARN (starting with arn:)".into(),
            }),
            (None, None) => Err(ConfigError {
                name: inline,
                problem: format!("is required but not set (or set {arn})"),
            }),
        }
    }

    /// The key itself, if it is inline.
    pub fn inline(&self) -> Option<&HmacKey> {
        match self {
            Self::Inline(key) => Some(key),
            Self::SecretsManager(_) => None,
        }
    }
}

/// `JWT_ALGORITHM`: `HS256` (default) or `EdDSA`.
fn algorithm(env: Lookup<'_>) -> Result<jsonwebtoken::Algorithm, ConfigError> {
    match optional(env, "JWT_ALGORITHM").as_deref().map(str::trim) {
        None | Some("HS256") => Ok(jsonwebtoken::Algorithm::HS256),
        Some("EdDSA") => Ok(jsonwebtoken::Algorithm::EdDSA),
        Some(other) => Err(ConfigError {
            name: "JWT_ALGORITHM",
            problem: format!("{other:?} is not HS256 or EdDSA"),
        }),
    }
}

/// The public keys a verifier elsewhere can fetch (`GET /.well-known/jwks.json`): with EdDSA,
/// those of `JWT_PUBLIC_KEYS` (current first); with HS256 none (`None`), as the key is a shared
/// secret.
pub fn published_keys(env: Lookup<'_>) -> Result<Option<Vec<Ed25519PublicKey>>, ConfigError> {
    match algorithm(env)? {
        jsonwebtoken::Algorithm::EdDSA => {
            let pem = required(env, "JWT_PUBLIC_KEYS")?;
            Ed25519PublicKey::all_from_pem(&pem)
                .map(Some)
                .map_err(|problem| ConfigError {
                    name: "JWT_PUBLIC_KEYS",
                    problem,
                })
        }
        _ => Ok(None),
    }
}

/// `JWT_ISSUER` (default [`DEFAULT_ISSUER`]): the `iss` of every access token.
pub fn issuer(env: Lookup<'_>) -> String {
    optional(env, "JWT_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.into())
}

/// Where login's signing key comes from.
#[derive(Debug, Clone)]
pub enum SigningKeySource {
    /// HS256 with a shared secret.
    Hmac(KeySource),
    /// EdDSA with `JWT_PRIVATE_KEY`.
    Ed25519(Ed25519PrivateKey),
    /// EdDSA with the private key PEM in a Secrets Manager secret (`JWT_PRIVATE_KEY_ARN`).
    Ed25519SecretsManager(String),
}

impl SigningKeySource {
    /// The HS256 key itself, if it is inline.
    pub fn hmac_inline(&self) -> Option<&HmacKey> {
        match self {
            Self::Hmac(source) => source.inline(),
            _ => None,
        }
    }
}

/// What a function that only touches the sessions table reads (logout, sessions, logout-all):
/// `SESSIONS_TABLE` and the DynamoDB settings.
#[derive(Debug, Clone)]
pub struct SessionsTableConfig {
    /// `SESSIONS_TABLE`.
    pub sessions_table: String,
    /// DynamoDB endpoint and timeout.
    pub store: StoreConfig,
}

impl SessionsTableConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    /// Reads `env`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            sessions_table: sessions_table(env)?,
            store: StoreConfig::from_lookup(env)?,
        })
    }
}

/// What the functions that change an account read (change-password, delete-account, and mfa
/// with its key besides): the
/// users, sessions and login-attempts tables, the Argon2 cost, and the DynamoDB settings.
#[derive(Debug, Clone)]
pub struct AccountConfig {
    /// `USERS_TABLE`.
    pub users_table: String,
    /// `SESSIONS_TABLE`.
    pub sessions_table: String,
    /// `ATTEMPTS_TABLE`.
    pub attempts_table: String,
    /// Argon2 cost (new hashes, and the dummy verification).
    pub password: PasswordConfig,
    /// DynamoDB endpoint and timeout.
    pub store: StoreConfig,
}

impl AccountConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    /// Reads `env`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            users_table: users_table(env)?,
            sessions_table: sessions_table(env)?,
            attempts_table: attempts_table(env)?,
            password: PasswordConfig::from_lookup(env)?,
            store: StoreConfig::from_lookup(env)?,
        })
    }
}

/// Default lifetime of an access token: 15 minutes.
pub const DEFAULT_ACCESS_TTL_SECONDS: i64 = 15 * 60;
/// Default lifetime of a refresh token: 30 days.
pub const DEFAULT_REFRESH_TTL_SECONDS: i64 = 30 * 24 * 3600;
/// Longest lifetime `REFRESH_TOKEN_TTL_SECONDS` accepts: a year. No session lives longer, which
/// is what a deleted account's revocation marker relies on (it outlives every session).
pub const MAX_REFRESH_TTL_SECONDS: i64 = 365 * 24 * 3600;
/// Default grace window for a concurrent refresh with a just-rotated token: 5 seconds.
pub const DEFAULT_REUSE_GRACE_SECONDS: i64 = 5;
/// Default clock leeway of the token verifier: 5 seconds.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 5;
/// Default `iss` of the tokens.
pub const DEFAULT_ISSUER: &str = "jwt-session-service";
/// Default `aud` of the tokens.
pub const DEFAULT_AUDIENCE: &str = "jwt-session-service";
/// Default bound on one store call, retries included: 2 seconds.
pub const DEFAULT_DYNAMODB_TIMEOUT_MS: u64 = 2000;

/// `TOKEN_TTL_SECONDS`: the lifetime of an access token, which login and refresh give the tokens
/// they issue and the authorizer takes as the longest `exp - iat` it accepts.
pub fn access_ttl_seconds(env: Lookup<'_>) -> Result<i64, ConfigError> {
    number(
        env,
        "TOKEN_TTL_SECONDS",
        DEFAULT_ACCESS_TTL_SECONDS,
        60..=86_400,
    )
}

/// `REFRESH_TOKEN_TTL_SECONDS`: the lifetime of a refresh token, and so of a session nobody
/// refreshes; at least `access_ttl_seconds` (an access token never outlives its session).
pub fn refresh_ttl_seconds(env: Lookup<'_>, access_ttl_seconds: i64) -> Result<i64, ConfigError> {
    let ttl = number(
        env,
        "REFRESH_TOKEN_TTL_SECONDS",
        DEFAULT_REFRESH_TTL_SECONDS,
        3600..=MAX_REFRESH_TTL_SECONDS,
    )?;
    if ttl < access_ttl_seconds {
        return Err(ConfigError {
            name: "REFRESH_TOKEN_TTL_SECONDS",
            problem: format!("{ttl} is shorter than TOKEN_TTL_SECONDS ({access_ttl_seconds})"),
        });
    }
    Ok(ttl)
}

/// `REFRESH_REUSE_GRACE_SECONDS`: how long after a refresh token was rotated presenting it again
/// counts as a concurrent refresh from the same client rather than as reuse (theft).
pub fn reuse_grace_seconds(env: Lookup<'_>) -> Result<i64, ConfigError> {
    number(
        env,
        "REFRESH_REUSE_GRACE_SECONDS",
        DEFAULT_REUSE_GRACE_SECONDS,
        0..=60,
    )
}

/// `CORS_ALLOWED_ORIGINS`: the web origins besides the API's own that may use the browser
/// (cookie) token delivery, comma-separated (`https://app.example.com,http://localhost:5173`);
/// none by default (the API's own origin only). Each is a scheme, a host and an optional port,
/// compared exactly as browsers send `Origin` (lower case, no default port, no path); `*` is
/// refused, since credentials are never shared with every origin.
pub fn allowed_origins(env: Lookup<'_>) -> Result<Vec<String>, ConfigError> {
    const NAME: &str = "CORS_ALLOWED_ORIGINS";
    let Some(raw) = optional(env, NAME) else {
        return Ok(Vec::new());
    };
    let mut origins = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let origin = parse_origin(item).map_err(|problem| ConfigError {
            name: NAME,
            problem: format!("{item:?} {problem}"),
        })?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

/// `item` as a browser writes it in `Origin`: `scheme://host[:port]`, lower case, without the
/// scheme's default port or a trailing slash; an error says what is wrong with it.
pub fn parse_origin(item: &str) -> Result<String, &'static str> {
    if item.contains('*') {
        return Err("is a wildcard; list each origin (credentials are never shared with `*`)");
    }
    let lower = item.trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = lower
        .split_once("://")
        .ok_or("is not an origin like https://app.example.com")?;
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return Err("is not an http:// or https:// origin"),
    };
    // host[:port], the host a name, an IPv4 address or a bracketed IPv6 address.
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => {
            let (addr, after) = v6.split_once(']').ok_or("has an unclosed IPv6 bracket")?;
            if addr.is_empty()
                || !addr
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
            {
                return Err("has an invalid IPv6 address");
            }
            match after {
                "" => (&rest[..addr.len() + 2], None),
                p => (
                    &rest[..addr.len() + 2],
                    Some(p.strip_prefix(':').ok_or("has text after its host")?),
                ),
            }
        }
        None => match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        },
    };
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    if host.is_empty() || !(host.starts_with('[') || host.chars().all(name_char)) {
        return Err("is not an origin like https://app.example.com (no path, query or user)");
    }
    let rest = match port {
        None => host.to_owned(),
        Some(p) => {
            let number: u16 = p.parse().map_err(|_| "has a port that is not a number")?;
            if format!(":{number}") == default_port {
                host.to_owned()
            } else {
                format!("{host}:{number}")
            }
        }
    };
    Ok(format!("{scheme}://{rest}"))
}

/// What login and refresh need to issue tokens.
#[derive(Debug, Clone)]
pub struct SignerConfig {
    /// Where the key comes from.
    pub key: SigningKeySource,
    pub(crate) settings: TokenSettings,
}

impl SignerConfig {
    /// `TOKEN_TTL_SECONDS`: the lifetime of an access token.
    pub fn ttl_seconds(&self) -> i64 {
        self.settings.ttl_seconds
    }

    /// Reads `JWT_ALGORITHM`; then `JWT_SECRET` or `JWT_SECRET_ARN` (HS256), or
    /// `JWT_PRIVATE_KEY` or `JWT_PRIVATE_KEY_ARN` (EdDSA); `JWT_ISSUER`, `JWT_AUDIENCE`,
    /// `TOKEN_TTL_SECONDS`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        let key = match algorithm(env)? {
            jsonwebtoken::Algorithm::EdDSA => {
                match (
                    optional(env, "JWT_PRIVATE_KEY"),
                    optional(env, "JWT_PRIVATE_KEY_ARN"),
                ) {
                    (Some(pem), None) => Ed25519PrivateKey::from_pem(&pem)
                        .map(SigningKeySource::Ed25519)
                        .map_err(|problem| ConfigError {
                            name: "JWT_PRIVATE_KEY",
                            problem,
                        })?,
                    (None, Some(arn)) if arn.starts_with("arn:") => {
                        SigningKeySource::Ed25519SecretsManager(arn)
                    }
                    (None, Some(_)) => {
                        return Err(ConfigError {
                            name: "JWT_PRIVATE_KEY_ARN",
                            problem: "must be an ARN (starting with arn:)".into(),
                        });
                    }
                    _ => {
                        return Err(ConfigError {
                            name: "JWT_PRIVATE_KEY",
                            problem: "EdDSA needs exactly one of JWT_PRIVATE_KEY and \
                                      JWT_PRIVATE_KEY_ARN"
                                .into(),
                        });
                    }
                }
            }
            _ => SigningKeySource::Hmac(KeySource::from_lookup(env)?),
        };
        let (issuer, audience) = issuer_audience(env);
        let ttl_seconds = access_ttl_seconds(env)?;
        Ok(Self {
            key,
            settings: TokenSettings {
                issuer,
                audience,
                ttl_seconds,
                leeway_seconds: 0,
            },
        })
    }

    /// `JWT_ISSUER`.
    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// `JWT_AUDIENCE`.
    pub fn audience(&self) -> &str {
        &self.settings.audience
    }

    /// An HS256 signer with `key` and these settings.
    pub fn signer_for(&self, key: &HmacKey) -> TokenSigner {
        TokenSigner::new(key, self.settings.clone())
            .expect("an HMAC key of at least 32 bytes is always a valid encoding key")
    }
}

/// The authorizer's verification keys.
#[derive(Debug, Clone)]
pub enum VerifyingKeys {
    /// HS256 with a shared secret (current and previous).
    Hmac(KeySource),
    /// EdDSA public keys (`JWT_PUBLIC_KEYS`).
    Ed25519(Vec<Ed25519PublicKey>),
}

impl VerifyingKeys {
    /// The EdDSA public keys, current first, which the key set publishes; none with HS256.
    pub fn public_keys(&self) -> Option<&[Ed25519PublicKey]> {
        match self {
            Self::Ed25519(keys) => Some(keys),
            Self::Hmac(_) => None,
        }
    }

    /// The HS256 key itself, if it is inline.
    pub fn hmac_inline(&self) -> Option<&HmacKey> {
        match self {
            Self::Hmac(source) => source.inline(),
            Self::Ed25519(_) => None,
        }
    }
}

/// What the authorizer needs to verify tokens.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Where the keys come from.
    pub key: VerifyingKeys,
    pub(crate) settings: TokenSettings,
}

impl VerifierConfig {
    /// Reads `JWT_ALGORITHM`; then `JWT_SECRET` or `JWT_SECRET_ARN` (HS256), or
    /// `JWT_PUBLIC_KEYS` (EdDSA); `JWT_ISSUER`, `JWT_AUDIENCE`, `JWT_LEEWAY_SECONDS`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        let key = match algorithm(env)? {
            jsonwebtoken::Algorithm::EdDSA => {
                let pem = required(env, "JWT_PUBLIC_KEYS")?;
                VerifyingKeys::Ed25519(Ed25519PublicKey::all_from_pem(&pem).map_err(|problem| {
                    ConfigError {
                        name: "JWT_PUBLIC_KEYS",
                        problem,
                    }
                })?)
            }
            _ => VerifyingKeys::Hmac(KeySource::from_lookup(env)?),
        };
        let (issuer, audience) = issuer_audience(env);
        let ttl_seconds = access_ttl_seconds(env)?;
        let leeway_seconds = number(env, "JWT_LEEWAY_SECONDS", DEFAULT_LEEWAY_SECONDS, 0..=300)?;
        Ok(Self {
            key,
            settings: TokenSettings {
                issuer,
                audience,
                ttl_seconds,
                leeway_seconds,
            },
        })
    }

    /// An HS256 verifier accepting `keys`, with these settings.
    pub fn verifier_for(&self, keys: &[HmacKey]) -> TokenVerifier {
        TokenVerifier::new(keys, &self.settings)
            .expect("an HMAC key of at least 32 bytes is always a valid decoding key")
    }
}

/// What register and login need to hash and verify passwords.
#[derive(Debug, Clone, Copy)]
pub struct PasswordConfig {
    /// The Argon2id cost.
    pub cost: HashCost,
}

impl PasswordConfig {
    /// Reads `ARGON2_MEMORY_KIB`, `ARGON2_ITERATIONS`, `ARGON2_PARALLELISM` and checks the cost
    /// against OWASP's minimum.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        let d = HashCost::OWASP_MINIMUM;
        let cost = HashCost {
            memory_kib: number(env, "ARGON2_MEMORY_KIB", d.memory_kib, 1..=4 * 1024 * 1024)?,
            iterations: number(env, "ARGON2_ITERATIONS", d.iterations, 1..=100)?,
            parallelism: number(env, "ARGON2_PARALLELISM", d.parallelism, 1..=16)?,
        };
        cost.validate().map_err(|problem| ConfigError {
            name: "ARGON2_MEMORY_KIB",
            problem,
        })?;
        Ok(Self { cost })
    }

    /// The hasher.
    pub fn hasher(&self) -> PasswordHasher {
        PasswordHasher::new(self.cost).expect("cost validated when read")
    }
}

/// Default of `TOTP_ISSUER`: the name authenticator apps show beside the account.
pub const DEFAULT_TOTP_ISSUER: &str = "JWT Session Service";

/// Two-factor sign-in's key, which seals TOTP secrets and signs `mfa_token`s: `MFA_KEY`, or
/// `MFA_KEY_ARN` for a Secrets Manager secret. Read by login and mfa.
#[derive(Debug, Clone)]
pub struct MfaConfig {
    /// Where the key comes from (at least 32 bytes; see `auth::mfa`).
    pub key: KeySource,
}

impl MfaConfig {
    /// Reads `MFA_KEY` or `MFA_KEY_ARN`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            key: KeySource::from_names(env, "MFA_KEY", "MFA_KEY_ARN")?,
        })
    }
}

/// `TOTP_ISSUER`: the name authenticator apps show beside the account (read by mfa).
pub fn totp_issuer(env: Lookup<'_>) -> Result<String, ConfigError> {
    let issuer = optional(env, "TOTP_ISSUER").unwrap_or_else(|| DEFAULT_TOTP_ISSUER.into());
    if issuer.trim().is_empty() || issuer.contains(':') {
        return Err(ConfigError {
            name: "TOTP_ISSUER",
            problem: "must be a non-empty name without ':' (authenticator apps split on it)".into(),
        });
    }
    Ok(issuer)
}

/// Everything, for a process that runs every function (the local server).
#[derive(Debug, Clone)]
pub struct Config {
    /// `USERS_TABLE`.
    pub users_table: String,
    /// `SESSIONS_TABLE`.
    pub sessions_table: String,
    /// `ATTEMPTS_TABLE`.
    pub attempts_table: String,
    /// Token issuing.
    pub signer: SignerConfig,
    /// Token verification.
    pub verifier: VerifierConfig,
    /// Password hashing.
    pub password: PasswordConfig,
    /// DynamoDB.
    pub store: StoreConfig,
    /// `REFRESH_TOKEN_TTL_SECONDS`.
    pub refresh_ttl_seconds: i64,
    /// `REFRESH_REUSE_GRACE_SECONDS`.
    pub reuse_grace_seconds: i64,
    /// `CORS_ALLOWED_ORIGINS`.
    pub allowed_origins: Vec<String>,
    /// Two-factor sign-in's key.
    pub mfa: MfaConfig,
    /// `TOTP_ISSUER`.
    pub totp_issuer: String,
}

impl Config {
    /// Reads every variable in the [module table](self) from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    /// Reads every variable in the [module table](self) from `env`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        let signer = SignerConfig::from_lookup(env)?;
        Ok(Self {
            users_table: users_table(env)?,
            sessions_table: sessions_table(env)?,
            attempts_table: attempts_table(env)?,
            refresh_ttl_seconds: refresh_ttl_seconds(env, signer.ttl_seconds())?,
            reuse_grace_seconds: reuse_grace_seconds(env)?,
            allowed_origins: allowed_origins(env)?,
            signer,
            verifier: VerifierConfig::from_lookup(env)?,
            password: PasswordConfig::from_lookup(env)?,
            store: StoreConfig::from_lookup(env)?,
            mfa: MfaConfig::from_lookup(env)?,
            totp_issuer: totp_issuer(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        ("USERS_TABLE", "users"),
        ("SESSIONS_TABLE", "sessions"),
        ("ATTEMPTS_TABLE", "attempts"),
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ("MFA_KEY", "mfa-0123456789abcdef0123456789abcdef"),
    ];

    #[test]
    fn mfa_key_and_issuer() {
        let c = Config::from_lookup(&env(BASE)).unwrap();
        assert_eq!(c.totp_issuer, DEFAULT_TOTP_ISSUER);
        assert!(c.mfa.key.inline().is_some());
        let mut without = BASE.to_vec();
        without.retain(|(k, _)| *k != "MFA_KEY");
        let e = Config::from_lookup(&env(&without)).unwrap_err();
        assert_eq!(e.name, "MFA_KEY");
        assert!(e.problem.contains("MFA_KEY_ARN"), "{e}");
        let mut short = without.clone();
        short.push(("MFA_KEY", "short"));
        assert_eq!(
            Config::from_lookup(&env(&short)).unwrap_err().name,
            "MFA_KEY"
        );
        let mut arn = without.clone();
        arn.push(("MFA_KEY_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:m"));
        assert!(
            Config::from_lookup(&env(&arn))
                .unwrap()
                .mfa
                .key
                .in_secrets_manager()
        );
        let mut colon = BASE.to_vec();
        colon.push(("TOTP_ISSUER", "a:b"));
        assert_eq!(
            Config::from_lookup(&env(&colon)).unwrap_err().name,
            "TOTP_ISSUER"
        );
    }

    #[test]
    fn defaults() {
        let c = Config::from_lookup(&env(BASE)).unwrap();
        assert_eq!(c.signer.settings.ttl_seconds, 900);
        assert_eq!(c.refresh_ttl_seconds, 30 * 24 * 3600);
        assert_eq!(c.reuse_grace_seconds, 5);
        assert!(c.signer.key.hmac_inline().is_some());
        assert_eq!(c.verifier.settings.leeway_seconds, 5);
        assert_eq!(c.password.cost, HashCost::OWASP_MINIMUM);
        assert_eq!(c.store.timeout, Duration::from_secs(2));
        assert!(c.store.endpoint_url.is_none());
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: &[(&str, &str, &str)] = &[
            ("JWT_SECRET", "short", "JWT_SECRET"),
            ("TOKEN_TTL_SECONDS", "soon", "TOKEN_TTL_SECONDS"),
            ("TOKEN_TTL_SECONDS", "10", "TOKEN_TTL_SECONDS"),
            ("JWT_LEEWAY_SECONDS", "-1", "JWT_LEEWAY_SECONDS"),
            (
                "REFRESH_TOKEN_TTL_SECONDS",
                "60",
                "REFRESH_TOKEN_TTL_SECONDS",
            ),
            (
                "REFRESH_REUSE_GRACE_SECONDS",
                "61",
                "REFRESH_REUSE_GRACE_SECONDS",
            ),
            ("ARGON2_ITERATIONS", "1", "ARGON2_MEMORY_KIB"),
            (
                "DYNAMODB_ENDPOINT_URL",
                "localhost:8000",
                "DYNAMODB_ENDPOINT_URL",
            ),
            ("DYNAMODB_TIMEOUT_MS", "99999999", "DYNAMODB_TIMEOUT_MS"),
        ];
        for (name, value, named) in cases {
            let mut pairs = BASE.to_vec();
            pairs.retain(|(k, _)| k != name);
            pairs.push((name, value));
            let err = Config::from_lookup(&env(&pairs)).unwrap_err();
            assert_eq!(err.name, *named, "{name}={value}: {err}");
            assert!(err.to_string().contains(named));
        }
        // A refresh token that would die before the access tokens it mints.
        let mut short = BASE.to_vec();
        short.push(("TOKEN_TTL_SECONDS", "86400"));
        short.push(("REFRESH_TOKEN_TTL_SECONDS", "3600"));
        assert_eq!(
            Config::from_lookup(&env(&short)).unwrap_err().name,
            "REFRESH_TOKEN_TTL_SECONDS"
        );
        let mut both = BASE.to_vec();
        both.push((
            "JWT_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:1:secret:k",
        ));
        assert_eq!(
            Config::from_lookup(&env(&both)).unwrap_err().name,
            "JWT_SECRET"
        );
        let mut arn_only = BASE.to_vec();
        arn_only.retain(|(k, _)| *k != "JWT_SECRET");
        arn_only.push((
            "JWT_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:1:secret:k",
        ));
        let c = Config::from_lookup(&env(&arn_only)).unwrap();
        assert!(matches!(
            c.verifier.key,
            VerifyingKeys::Hmac(KeySource::SecretsManager(_))
        ));
        arn_only.pop();
        arn_only.push(("JWT_SECRET_ARN", "my-secret"));
        assert_eq!(
            Config::from_lookup(&env(&arn_only)).unwrap_err().name,
            "JWT_SECRET_ARN"
        );
        for missing in [
            "USERS_TABLE",
            "SESSIONS_TABLE",
            "ATTEMPTS_TABLE",
            "JWT_SECRET",
        ] {
            let mut pairs = BASE.to_vec();
            pairs.retain(|(k, _)| k != &missing);
            let err = Config::from_lookup(&env(&pairs)).unwrap_err();
            assert_eq!(err.name, missing);
        }
    }

    #[test]
    fn allowed_origins_are_written_as_browsers_send_them() {
        assert!(allowed_origins(&env(&[])).unwrap().is_empty());
        let origins = allowed_origins(&env(&[(
            "CORS_ALLOWED_ORIGINS",
            " HTTPS://App.Example.com/ , http://localhost:5173,https://app.example.com:443,http://[::1]:8080,http://127.0.0.1:80",
        )]))
        .unwrap();
        assert_eq!(
            origins,
            [
                "https://app.example.com",
                "http://localhost:5173",
                "http://[::1]:8080",
                "http://127.0.0.1"
            ]
        );
        for bad in [
            "*",
            "https://*.example.com",
            "app.example.com",
            "ftp://example.com",
            "https://example.com/path",
            "https://user@example.com",
            "https://example.com:99999",
            "https://example.com:",
            "https://",
            "https://[::1",
        ] {
            let err = allowed_origins(&env(&[("CORS_ALLOWED_ORIGINS", bad)])).unwrap_err();
            assert_eq!(err.name, "CORS_ALLOWED_ORIGINS", "{bad}");
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}
