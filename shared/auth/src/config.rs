//! Configuration from the environment, read once per cold start.
//!
//! `JWT_SECRET` is the HS256 key itself (at least 32 bytes), for local runs and tests.
//! `JWT_SECRET_ARN` names an AWS Secrets Manager secret holding it, as deployed stacks do
//! (`template.yaml`): the key is read once per cold start; login and refresh sign with the
//! secret's `AWSCURRENT` version and the authorizer also accepts its `AWSPENDING` and
//! `AWSPREVIOUS` versions, so the key can rotate without logging anyone out (the procedure:
//! docs/operations.md, "Rotating the signing key").
//!
//! With `JWT_ALGORITHM=EdDSA`, login and refresh sign with an Ed25519 private key
//! (`JWT_PRIVATE_KEY`, a PKCS#8 PEM, or `JWT_PRIVATE_KEY_ARN`, a Secrets Manager secret holding
//! it) and the authorizer holds only public keys (`JWT_PUBLIC_KEYS`, one or more PEM blocks), so it
//! cannot mint tokens.
//!
//! Each function reads only the variables it needs (its `Config::from_env` composes the pieces
//! below), so that `template.yaml` gives each function exactly those. A missing or bad variable
//! is a [`ConfigError`] naming it, and the function refuses to start. Every variable, with its
//! default and the functions that read it, is in one table: docs/configuration.md.

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

fn optional(env: Lookup<'_>, name: &'static str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

fn required(env: Lookup<'_>, name: &'static str) -> Result<String, ConfigError> {
    optional(env, name).ok_or(ConfigError {
        name,
        problem: "is required but not set".into(),
    })
}

fn number<T>(
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
            timeout: Duration::from_secs(2),
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
        let timeout_ms = number(env, "DYNAMODB_TIMEOUT_MS", 2000u64, 100..=30_000)?;
        Ok(Self {
            endpoint_url,
            timeout: Duration::from_millis(timeout_ms),
        })
    }

    /// Loads the AWS SDK configuration (region, credentials, the timeouts below): once per cold
    /// start. Region and credentials come from the usual AWS chain (in Lambda, the function's
    /// environment).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(self.timeouts())
            .stalled_stream_protection(Self::stalled_stream_protection())
            .load()
            .await
    }

    /// Off: every call is already bounded by [`StoreConfig::timeouts`], and DynamoDB's answers
    /// are small, so the SDK's throughput monitor (timers polled on every request and response
    /// body) costs CPU on each invocation and protects nothing here.
    fn stalled_stream_protection()
    -> aws_config::stalled_stream_protection::StalledStreamProtectionConfig {
        aws_config::stalled_stream_protection::StalledStreamProtectionConfig::disabled()
    }

    /// The DynamoDB client on `sdk`, at the configured endpoint if there is one.
    pub fn dynamo_client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
        let mut builder = aws_sdk_dynamodb::config::Builder::from(sdk);
        if let Some(url) = &self.endpoint_url {
            builder = builder.endpoint_url(url);
        }
        aws_sdk_dynamodb::Client::from_conf(builder.build())
    }

    /// [`StoreConfig::sdk_config`] and [`StoreConfig::dynamo_client`] in one.
    pub async fn client(&self) -> aws_sdk_dynamodb::Client {
        self.dynamo_client(&self.sdk_config().await)
    }

    /// Where and as whom the direct client ([`crate::aws`]) of the authorizer and user-info
    /// calls: the region from `AWS_REGION` (or `AWS_DEFAULT_REGION`), credentials from
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, if set, `AWS_SESSION_TOKEN` — the
    /// variables Lambda sets for the function's role. Endpoints: DynamoDB's from
    /// `DYNAMODB_ENDPOINT_URL`, else `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`;
    /// Secrets Manager's from `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else `AWS_ENDPOINT_URL` (the
    /// SDK's variables, in its order); else the region's standard endpoint, which is known for
    /// the `aws` (commercial and GovCloud) and `aws-cn` partitions only. Refused at start-up,
    /// rather than silently calling another endpoint than the SDK would: `AWS_USE_FIPS_ENDPOINT`
    /// or `AWS_USE_DUALSTACK_ENDPOINT` set to true, and regions of other partitions, unless both
    /// endpoints are configured explicitly; endpoints with user info, a path or a query; and
    /// credentials with characters an HTTP header cannot carry.
    pub fn direct_config(&self, env: Lookup<'_>) -> Result<crate::aws::DirectConfig, ConfigError> {
        use crate::aws::{AwsCredentials, DirectConfig, regional_endpoint};
        let region = match optional(env, "AWS_REGION") {
            Some(region) => region,
            None => required(env, "AWS_DEFAULT_REGION").map_err(|_| ConfigError {
                name: "AWS_REGION",
                problem: "is required but not set (nor AWS_DEFAULT_REGION)".into(),
            })?,
        };
        if !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(ConfigError {
                name: "AWS_REGION",
                problem: format!("{region:?} is not a region name"),
            });
        }
        let header_safe = |name: &'static str, value: String| {
            if value.bytes().all(|b| b.is_ascii_graphic()) {
                Ok(value)
            } else {
                Err(ConfigError {
                    name,
                    problem: "contains white space or characters outside visible ASCII".into(),
                })
            }
        };
        let credentials = AwsCredentials::new(
            header_safe("AWS_ACCESS_KEY_ID", required(env, "AWS_ACCESS_KEY_ID")?)?,
            header_safe(
                "AWS_SECRET_ACCESS_KEY",
                required(env, "AWS_SECRET_ACCESS_KEY")?,
            )?,
            optional(env, "AWS_SESSION_TOKEN")
                .map(|t| header_safe("AWS_SESSION_TOKEN", t))
                .transpose()?,
        );
        // Why the region's standard endpoint cannot be used, if it cannot.
        let unsupported = ["AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"]
            .into_iter()
            .find(|name| optional(env, name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true")))
            .map(|name| (name, format!("{name} is set")))
            .or_else(|| {
                let commercial = [
                    "af-", "ap-", "ca-", "eu-", "il-", "me-", "mx-", "sa-", "us-",
                ];
                let known = region.starts_with("cn-")
                    || (commercial.iter().any(|p| region.starts_with(p))
                        && !region.starts_with("us-iso"));
                (!known).then(|| {
                    (
                        "AWS_REGION",
                        format!("{region:?} is not in a partition whose endpoints are known"),
                    )
                })
            });
        let endpoint = |names: &[&'static str], service: &str| -> Result<String, ConfigError> {
            for name in names {
                if let Some(url) = optional(env, name) {
                    return checked_endpoint(name, url);
                }
            }
            match &unsupported {
                None => Ok(regional_endpoint(service, &region)),
                Some((name, why)) => Err(ConfigError {
                    name,
                    problem: format!(
                        "{why}: the direct client of the authorizer and user-info builds only \
                         standard endpoints; set {} to the {service} endpoint to use",
                        names[0]
                    ),
                }),
            }
        };
        let dynamodb_endpoint = match &self.endpoint_url {
            Some(url) => checked_endpoint("DYNAMODB_ENDPOINT_URL", url.clone())?,
            None => endpoint(
                &["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"],
                "dynamodb",
            )?,
        };
        let secretsmanager_endpoint = endpoint(
            &["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"],
            "secretsmanager",
        )?;
        Ok(DirectConfig {
            region,
            credentials,
            dynamodb_endpoint,
            secretsmanager_endpoint,
            timeout: self.timeout,
        })
    }

    /// A client for a local DynamoDB-compatible server at the configured endpoint (or `endpoint`
    /// if none is configured), with a fixed region and static placeholder credentials, so that
    /// no AWS account or profile is needed. For local servers and tests only.
    pub fn local_client(&self, endpoint: &str) -> aws_sdk_dynamodb::Client {
        self.dynamo_client(&self.local_sdk_config(endpoint))
    }

    /// SDK configuration for local servers: every service at `endpoint`, region `us-east-1`,
    /// static placeholder credentials.
    pub fn local_sdk_config(&self, endpoint: &str) -> aws_config::SdkConfig {
        use aws_sdk_dynamodb::config::{
            BehaviorVersion, Credentials, Region, SharedCredentialsProvider,
        };
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "local", "local", None, None, "local",
            )))
            .endpoint_url(endpoint)
            .timeout_config(self.timeouts())
            .stalled_stream_protection(Self::stalled_stream_protection())
            .build()
    }

    /// The SDK timeouts: the whole operation within `timeout`, one attempt within half of it,
    /// so that one retry fits.
    pub fn timeouts(&self) -> aws_config::timeout::TimeoutConfig {
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(self.timeout / 2)
            .operation_attempt_timeout(self.timeout / 2)
            .operation_timeout(self.timeout)
            .build()
    }
}

/// `url` if it is an absolute http(s) URL of a host (and port), with nothing else: the direct
/// client signs and sends every request to its root.
fn checked_endpoint(name: &'static str, url: String) -> Result<String, ConfigError> {
    let bad = |problem: &str| ConfigError {
        name,
        problem: format!("{url:?} {problem}"),
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("is not an http(s) URL"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() {
        return Err(bad("has no host"));
    }
    if authority.contains('@') {
        return Err(bad(
            "carries user info; credentials come from the AWS_* variables",
        ));
    }
    if authority.contains(['/', '?', '#']) {
        return Err(bad(
            "has a path or query; only scheme, host and port are supported",
        ));
    }
    Ok(url)
}

fn issuer_audience(env: Lookup<'_>) -> (String, String) {
    (
        optional(env, "JWT_ISSUER").unwrap_or_else(|| "jwt-session-service".into()),
        optional(env, "JWT_AUDIENCE").unwrap_or_else(|| "jwt-session-service".into()),
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
        match (optional(env, "JWT_SECRET"), optional(env, "JWT_SECRET_ARN")) {
            (Some(_), Some(_)) => Err(ConfigError {
                name: "JWT_SECRET",
                problem: "set either JWT_SECRET or JWT_SECRET_ARN, not both".into(),
            }),
            (Some(secret), None) => {
                HmacKey::new(secret.into_bytes())
                    .map(Self::Inline)
                    .map_err(|problem| ConfigError {
                        name: "JWT_SECRET",
                        problem,
                    })
            }
            (None, Some(arn)) if arn.starts_with("arn:") => Ok(Self::SecretsManager(arn)),
            (None, Some(_)) => Err(ConfigError {
                name: "JWT_SECRET_ARN",
                problem: "must be an ARN (starting with arn:)".into(),
            }),
            (None, None) => Err(ConfigError {
                name: "JWT_SECRET",
                problem: "is required but not set (or set JWT_SECRET_ARN)".into(),
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

    /// The keys: the current one first, then (with `previous`) the one before it, if any.
    /// Secrets Manager is asked through `sdk` (one call per version).
    pub async fn load(
        &self,
        sdk: Option<&aws_config::SdkConfig>,
        previous: bool,
    ) -> Result<Vec<HmacKey>, KeyLoadError> {
        match self {
            Self::Inline(key) => Ok(vec![key.clone()]),
            Self::SecretsManager(arn) => {
                let sdk = sdk.ok_or(KeyLoadError::NoSdk)?;
                let client = aws_sdk_secretsmanager::Client::new(sdk);
                load_from_secrets_manager(&client, arn, previous).await
            }
        }
    }

    /// [`KeySource::load`] with Secrets Manager asked through `secrets` (the authorizer's
    /// direct client, [`crate::aws::SecretsClient`]).
    pub async fn load_with(
        &self,
        secrets: &impl SecretVersions,
        previous: bool,
    ) -> Result<Vec<HmacKey>, KeyLoadError> {
        match self {
            Self::Inline(key) => Ok(vec![key.clone()]),
            Self::SecretsManager(arn) => load_from_secrets_manager(secrets, arn, previous).await,
        }
    }
}

/// Reads versions of Secrets Manager secrets: the SDK's client, or the authorizer's direct one.
pub trait SecretVersions: Sync {
    /// The string of version `stage` of secret `arn`; `None` if a stage other than
    /// `AWSCURRENT` does not exist (a secret that was never rotated has no `AWSPREVIOUS`).
    fn secret_string(
        &self,
        arn: &str,
        stage: &str,
    ) -> impl std::future::Future<Output = Result<Option<String>, KeyLoadError>> + Send;
}

impl SecretVersions for aws_sdk_secretsmanager::Client {
    async fn secret_string(&self, arn: &str, stage: &str) -> Result<Option<String>, KeyLoadError> {
        secret_string(self, arn, stage).await
    }
}

/// The key could not be loaded at start-up.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    /// `JWT_SECRET_ARN` is set but no AWS configuration was given to reach it.
    #[error("JWT_SECRET_ARN needs the AWS SDK configuration")]
    NoSdk,
    /// Secrets Manager refused or failed.
    #[error("reading the signing key from Secrets Manager failed")]
    SecretsManager(#[source] crate::error::BoxError),
    /// The secret is not a usable key.
    #[error("the signing key in Secrets Manager is unusable: {0}")]
    Unusable(String),
}

/// Reads the `AWSCURRENT` version of secret `arn` and, with `previous` (the verifier's set), its
/// `AWSPENDING` and `AWSPREVIOUS` versions where it has them.
pub async fn load_from_secrets_manager(
    client: &impl SecretVersions,
    arn: &str,
    previous: bool,
) -> Result<Vec<HmacKey>, KeyLoadError> {
    let stages: &[&str] = if previous {
        &["AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"]
    } else {
        &["AWSCURRENT"]
    };
    let mut keys = Vec::new();
    for stage in stages {
        let secret = match client.secret_string(arn, stage).await? {
            Some(secret) => secret,
            // A secret that was never rotated has no AWSPREVIOUS or AWSPENDING version.
            None if *stage != "AWSCURRENT" => continue,
            None => return Err(KeyLoadError::Unusable(format!("{stage} is missing"))),
        };
        let key = HmacKey::new(secret.trim().as_bytes().to_vec())
            .map_err(|problem| KeyLoadError::Unusable(format!("{stage}: {problem}")))?;
        keys.push(key);
    }
    Ok(keys)
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

/// The string of version `stage` of secret `arn`; `None` if there is no such version.
async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    stage: &str,
) -> Result<Option<String>, KeyLoadError> {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
    let result = client
        .get_secret_value()
        .secret_id(arn)
        .version_stage(stage)
        .send()
        .await;
    let code = result
        .as_ref()
        .err()
        .and_then(|e| e.code())
        .map(str::to_owned);
    secret_version(
        stage,
        result
            .map(|out| out.secret_string)
            .map_err(|e| Box::new(e) as crate::error::BoxError),
        code.as_deref(),
    )
}

/// What a `GetSecretValue` answer for version `stage` means, whichever client asked: the
/// secret's string; `None` when a stage other than `AWSCURRENT` does not exist (error code
/// `code` is `ResourceNotFoundException`); otherwise an error.
pub(crate) fn secret_version(
    stage: &str,
    answer: Result<Option<String>, crate::error::BoxError>,
    code: Option<&str>,
) -> Result<Option<String>, KeyLoadError> {
    match answer {
        Ok(string) => string
            .map(Some)
            .ok_or_else(|| KeyLoadError::Unusable(format!("{stage} has no string value"))),
        Err(_) if stage != "AWSCURRENT" && code == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(KeyLoadError::SecretsManager(e)),
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

    /// The sessions table on DynamoDB, with its client built once (per cold start).
    pub async fn sessions(&self) -> crate::store::dynamo::DynamoSessions {
        crate::store::dynamo::DynamoSessions::new(self.store.client().await, &self.sessions_table)
    }
}

/// Default lifetime of an access token: 15 minutes.
pub const DEFAULT_ACCESS_TTL_SECONDS: i64 = 15 * 60;
/// Default lifetime of a refresh token: 30 days.
pub const DEFAULT_REFRESH_TTL_SECONDS: i64 = 30 * 24 * 3600;
/// Default grace window for a concurrent refresh with a just-rotated token: 5 seconds.
pub const DEFAULT_REUSE_GRACE_SECONDS: i64 = 5;

/// `REFRESH_TOKEN_TTL_SECONDS`: the lifetime of a refresh token, and so of a session nobody
/// refreshes; at least `access_ttl_seconds` (an access token never outlives its session).
pub fn refresh_ttl_seconds(env: Lookup<'_>, access_ttl_seconds: i64) -> Result<i64, ConfigError> {
    let ttl = number(
        env,
        "REFRESH_TOKEN_TTL_SECONDS",
        DEFAULT_REFRESH_TTL_SECONDS,
        3600..=365 * 24 * 3600,
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

/// What login and refresh need to issue tokens.
#[derive(Debug, Clone)]
pub struct SignerConfig {
    /// Where the key comes from.
    pub key: SigningKeySource,
    settings: TokenSettings,
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
        let ttl_seconds = number(
            env,
            "TOKEN_TTL_SECONDS",
            DEFAULT_ACCESS_TTL_SECONDS,
            60..=86_400,
        )?;
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

    /// The signer, loading the current key (from Secrets Manager through `sdk` if configured so).
    pub async fn signer(
        &self,
        sdk: Option<&aws_config::SdkConfig>,
    ) -> Result<TokenSigner, KeyLoadError> {
        match &self.key {
            SigningKeySource::Hmac(source) => {
                let keys = source.load(sdk, false).await?;
                let current = keys
                    .first()
                    .ok_or_else(|| KeyLoadError::Unusable("no current key".into()))?;
                Ok(self.signer_for(current))
            }
            SigningKeySource::Ed25519(key) => {
                Ok(TokenSigner::new_ed25519(key, self.settings.clone()))
            }
            SigningKeySource::Ed25519SecretsManager(arn) => {
                let sdk = sdk.ok_or(KeyLoadError::NoSdk)?;
                let client = aws_sdk_secretsmanager::Client::new(sdk);
                let pem = secret_string(&client, arn, "AWSCURRENT")
                    .await?
                    .ok_or_else(|| KeyLoadError::Unusable("no current version".into()))?;
                let key = Ed25519PrivateKey::from_pem(&pem).map_err(KeyLoadError::Unusable)?;
                Ok(TokenSigner::new_ed25519(&key, self.settings.clone()))
            }
        }
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
    settings: TokenSettings,
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
        let leeway_seconds = number(env, "JWT_LEEWAY_SECONDS", 5u64, 0..=300)?;
        Ok(Self {
            key,
            settings: TokenSettings {
                issuer,
                audience,
                ttl_seconds: 0,
                leeway_seconds,
            },
        })
    }

    /// The verifier, loading the current and previous HS256 keys (from Secrets Manager through
    /// `sdk` if configured so), or with the configured Ed25519 public keys.
    pub async fn verifier(
        &self,
        sdk: Option<&aws_config::SdkConfig>,
    ) -> Result<TokenVerifier, KeyLoadError> {
        match &self.key {
            VerifyingKeys::Hmac(source) => Ok(self.verifier_for(&source.load(sdk, true).await?)),
            VerifyingKeys::Ed25519(keys) => Ok(TokenVerifier::new_ed25519(keys, &self.settings)),
        }
    }

    /// [`VerifierConfig::verifier`] with Secrets Manager asked through `secrets` (the
    /// authorizer's direct client), so that the SDK is not needed.
    pub async fn verifier_with(
        &self,
        secrets: &impl SecretVersions,
    ) -> Result<TokenVerifier, KeyLoadError> {
        match &self.key {
            VerifyingKeys::Hmac(source) => {
                Ok(self.verifier_for(&source.load_with(secrets, true).await?))
            }
            VerifyingKeys::Ed25519(keys) => Ok(TokenVerifier::new_ed25519(keys, &self.settings)),
        }
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
}

impl Config {
    /// Reads the variables of every piece below (docs/configuration.md lists them) from the
    /// process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    /// Reads the variables of every piece below (docs/configuration.md lists them) from `env`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        let signer = SignerConfig::from_lookup(env)?;
        Ok(Self {
            users_table: users_table(env)?,
            sessions_table: sessions_table(env)?,
            attempts_table: attempts_table(env)?,
            refresh_ttl_seconds: refresh_ttl_seconds(env, signer.ttl_seconds())?,
            reuse_grace_seconds: reuse_grace_seconds(env)?,
            signer,
            verifier: VerifierConfig::from_lookup(env)?,
            password: PasswordConfig::from_lookup(env)?,
            store: StoreConfig::from_lookup(env)?,
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
    ];

    const AWS: &[(&str, &str)] = &[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
    ];

    fn direct(pairs: &[(&str, &str)]) -> Result<crate::aws::DirectConfig, ConfigError> {
        let all: Vec<(&str, &str)> = AWS.iter().chain(pairs).copied().collect();
        let lookup = env(&all);
        StoreConfig::from_lookup(&lookup)?.direct_config(&lookup)
    }

    #[test]
    fn direct_client_defaults_to_the_regions_endpoints() {
        let c = direct(&[]).unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(
            c.dynamodb_endpoint,
            "https://dynamodb.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            c.secretsmanager_endpoint,
            "https://secretsmanager.eu-west-1.amazonaws.com"
        );
        assert_eq!(c.timeout, Duration::from_secs(2));
        let shown = format!("{:?}", c.credentials);
        assert!(shown.contains("ASIAEXAMPLE") && shown.contains("session_token: Some"));
        for (region, host) in [
            ("cn-north-1", "https://dynamodb.cn-north-1.amazonaws.com.cn"),
            (
                "us-gov-west-1",
                "https://dynamodb.us-gov-west-1.amazonaws.com",
            ),
        ] {
            assert_eq!(
                direct(&[("AWS_REGION", region)]).unwrap().dynamodb_endpoint,
                host
            );
        }
        // AWS_DEFAULT_REGION when AWS_REGION is not set.
        let lookup = env(&[
            ("AWS_DEFAULT_REGION", "ap-south-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]);
        let c = StoreConfig::default().direct_config(&lookup).unwrap();
        assert_eq!(c.region, "ap-south-1");
        assert!(format!("{:?}", c.credentials).contains("session_token: None"));
    }

    #[test]
    fn direct_client_endpoints_follow_the_sdks_variables() {
        let c = direct(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")]).unwrap();
        assert_eq!(c.dynamodb_endpoint, "http://127.0.0.1:4566");
        assert_eq!(c.secretsmanager_endpoint, "http://127.0.0.1:4566");
        let c = direct(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9000"),
        ])
        .unwrap();
        assert_eq!(c.dynamodb_endpoint, "http://127.0.0.1:8000");
        assert_eq!(c.secretsmanager_endpoint, "http://127.0.0.1:9000");
        let c = direct(&[
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
            ("DYNAMODB_ENDPOINT_URL", "http://127.0.0.1:7000/"),
        ])
        .unwrap();
        assert_eq!(c.dynamodb_endpoint, "http://127.0.0.1:7000/");
        assert_eq!(
            c.secretsmanager_endpoint,
            "https://secretsmanager.eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn direct_client_refuses_what_it_would_get_wrong() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("AWS_USE_FIPS_ENDPOINT", "true")],
                "AWS_USE_FIPS_ENDPOINT",
            ),
            (
                &[("AWS_USE_DUALSTACK_ENDPOINT", "TRUE")],
                "AWS_USE_DUALSTACK_ENDPOINT",
            ),
            (&[("AWS_REGION", "us-iso-east-1")], "AWS_REGION"),
            (&[("AWS_REGION", "eusc-de-east-1")], "AWS_REGION"),
            (&[("AWS_REGION", "EU-WEST-1")], "AWS_REGION"),
            (&[("AWS_ACCESS_KEY_ID", "AKID\n")], "AWS_ACCESS_KEY_ID"),
            (
                &[("AWS_SECRET_ACCESS_KEY", "sec ret")],
                "AWS_SECRET_ACCESS_KEY",
            ),
            (&[("AWS_SESSION_TOKEN", "tok\u{e9}n")], "AWS_SESSION_TOKEN"),
            (
                &[("AWS_ENDPOINT_URL", "https://user:pw@example.com")],
                "AWS_ENDPOINT_URL",
            ),
            (
                &[("AWS_ENDPOINT_URL_DYNAMODB", "https://example.com/prefix")],
                "AWS_ENDPOINT_URL_DYNAMODB",
            ),
            (
                &[("DYNAMODB_ENDPOINT_URL", "http://127.0.0.1:8000/?x=1")],
                "DYNAMODB_ENDPOINT_URL",
            ),
            (
                &[("AWS_ENDPOINT_URL", "ftp://example.com")],
                "AWS_ENDPOINT_URL",
            ),
            (&[("AWS_ENDPOINT_URL", "https://")], "AWS_ENDPOINT_URL"),
        ];
        for (pairs, name) in cases {
            let err = direct(pairs).unwrap_err();
            assert_eq!(err.name, *name, "{pairs:?}: {err}");
        }
        // With both endpoints explicit, FIPS and other partitions are the operator's choice.
        let explicit = [
            ("AWS_USE_FIPS_ENDPOINT", "true"),
            ("AWS_REGION", "us-iso-east-1"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "https://dynamodb.example"),
            (
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                "https://secrets.example",
            ),
        ];
        assert!(direct(&explicit).is_ok());
        assert!(direct(&[("AWS_USE_FIPS_ENDPOINT", "false")]).is_ok());
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
}
