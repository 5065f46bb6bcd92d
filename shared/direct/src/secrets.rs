//! Secrets Manager's `GetSecretValue` through the direct client: how the authorizer reads its
//! signing keys at start-up without the SDK.

use std::time::Instant;

use auth::error::BoxError;
use auth::keys::{KeyLoadError, SecretVersions, secret_version};
use serde::{Deserialize, Serialize};

use crate::client::{AwsHttp, CallError, DirectConfig, DirectConfigError, JsonService};

/// Secrets Manager's `GetSecretValue` through the direct client, for loading signing keys
/// (`auth::keys`).
#[derive(Debug, Clone)]
pub struct SecretsClient {
    service: JsonService,
}

impl SecretsClient {
    /// Secrets Manager at `config`'s endpoint over `http`.
    pub fn new(http: &AwsHttp, config: &DirectConfig) -> Result<Self, DirectConfigError> {
        Ok(Self {
            service: JsonService::new(
                http,
                &config.secretsmanager_endpoint,
                "secretsmanager",
                "application/x-amz-json-1.1",
            )?,
        })
    }
}

impl SecretVersions for SecretsClient {
    async fn secret_string(&self, arn: &str, stage: &str) -> Result<Option<String>, KeyLoadError> {
        #[derive(Serialize)]
        struct Input<'a> {
            #[serde(rename = "SecretId")]
            secret_id: &'a str,
            #[serde(rename = "VersionStage")]
            version_stage: &'a str,
        }
        #[derive(Deserialize)]
        struct Output {
            #[serde(rename = "SecretString")]
            secret_string: Option<String>,
        }
        let input = Input {
            secret_id: arn,
            version_stage: stage,
        };
        let deadline = Instant::now() + self.service.timeout();
        let result: Result<Output, CallError> = self
            .service
            .call_json("secretsmanager.GetSecretValue", &input, deadline)
            .await;
        let code = result
            .as_ref()
            .err()
            .and_then(CallError::code)
            .map(str::to_owned);
        secret_version(
            stage,
            result
                .map(|out| out.secret_string)
                .map_err(|e| Box::new(e) as BoxError),
            code.as_deref(),
        )
    }
}
