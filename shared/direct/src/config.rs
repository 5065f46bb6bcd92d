//! Where and as whom the direct client calls, read from the variables Lambda and the SDK use:
//! the settings of [`DirectConfig`], refused at start-up where the direct client would get them
//! wrong.

use auth::config::{ConfigError, Lookup, StoreConfig, optional, process_env, required};

use crate::client::{AwsCredentials, DirectConfig, regional_endpoint};

impl DirectConfig {
    /// For a local DynamoDB-compatible server (the local server and tests): every service at
    /// `endpoint`, region `us-east-1`, the placeholder credentials the SDK's local clients use
    /// (`local`), calls bounded by `timeout`.
    pub fn local(endpoint: &str, timeout: std::time::Duration) -> Self {
        Self {
            region: "us-east-1".into(),
            credentials: AwsCredentials::new("local", "local", None),
            dynamodb_endpoint: endpoint.to_owned(),
            secretsmanager_endpoint: endpoint.to_owned(),
            timeout,
        }
    }

    /// [`DirectConfig::from_lookup`] on the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    /// Reads the DynamoDB settings (`DYNAMODB_ENDPOINT_URL`, `DYNAMODB_TIMEOUT_MS`) and then
    /// [`DirectConfig::from_store`].
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        Self::from_store(&StoreConfig::from_lookup(env)?, env)
    }

    /// Where and as whom the direct client of the authorizer and user-info
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
    pub fn from_store(store: &StoreConfig, env: Lookup<'_>) -> Result<Self, ConfigError> {
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
        let dynamodb_endpoint = match &store.endpoint_url {
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
            timeout: store.timeout,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::Duration;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const AWS: &[(&str, &str)] = &[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
    ];

    fn direct(pairs: &[(&str, &str)]) -> Result<DirectConfig, ConfigError> {
        let all: Vec<(&str, &str)> = AWS.iter().chain(pairs).copied().collect();
        let lookup = env(&all);
        DirectConfig::from_lookup(&lookup)
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
        let c = DirectConfig::from_store(&StoreConfig::default(), &lookup).unwrap();
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
}
