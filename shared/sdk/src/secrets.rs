//! Secrets Manager through the SDK: the [`SecretVersions`] of login and refresh (and of the
//! local server's tests), and the key loading of `auth::keys` on an SDK configuration.

use auth::config::{KeySource, MfaConfig, SignerConfig, VerifierConfig};
use auth::keys::{KeyLoadError, SecretVersions, secret_version};
use auth::mfa::MfaKeys;
use auth::token::{HmacKey, TokenSigner, TokenVerifier};

impl SecretVersions for SdkSecrets {
    async fn secret_string(&self, arn: &str, stage: &str) -> Result<Option<String>, KeyLoadError> {
        use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
        let result = self
            .0
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
                .map_err(|e| Box::new(e) as auth::error::BoxError),
            code.as_deref(),
        )
    }
}

/// The SDK's Secrets Manager client, as a [`SecretVersions`].
#[derive(Debug, Clone)]
pub struct SdkSecrets(pub aws_sdk_secretsmanager::Client);

impl SdkSecrets {
    /// A client on `sdk`.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self(aws_sdk_secretsmanager::Client::new(sdk))
    }

    /// A client on `sdk` if there is one and `needed`: a function whose keys are inline builds
    /// no Secrets Manager client.
    fn when(sdk: Option<&aws_config::SdkConfig>, needed: bool) -> Option<Self> {
        sdk.filter(|_| needed).map(Self::new)
    }
}

/// Loading keys with Secrets Manager reached through an SDK configuration (`None`: no AWS, so
/// only inline keys load).
pub trait SdkKeys {
    /// What is loaded.
    type Loaded;
    /// Loads it.
    fn load_sdk(
        &self,
        sdk: Option<&aws_config::SdkConfig>,
    ) -> impl std::future::Future<Output = Result<Self::Loaded, KeyLoadError>> + Send;
}

impl SdkKeys for SignerConfig {
    type Loaded = TokenSigner;
    async fn load_sdk(
        &self,
        sdk: Option<&aws_config::SdkConfig>,
    ) -> Result<TokenSigner, KeyLoadError> {
        let secrets = SdkSecrets::when(sdk, self.needs_secrets_manager());
        self.signer_with(secrets.as_ref()).await
    }
}

impl SdkKeys for MfaConfig {
    type Loaded = MfaKeys;
    async fn load_sdk(&self, sdk: Option<&aws_config::SdkConfig>) -> Result<MfaKeys, KeyLoadError> {
        let secrets = SdkSecrets::when(sdk, self.needs_secrets_manager());
        self.keys_from(secrets.as_ref()).await
    }
}

impl SdkKeys for VerifierConfig {
    type Loaded = TokenVerifier;
    async fn load_sdk(
        &self,
        sdk: Option<&aws_config::SdkConfig>,
    ) -> Result<TokenVerifier, KeyLoadError> {
        let secrets = SdkSecrets::when(sdk, self.needs_secrets_manager());
        self.verifier_from(secrets.as_ref()).await
    }
}

/// The current key and, with `previous`, the pending and previous ones, from `source` with
/// Secrets Manager reached through `sdk`.
pub async fn load_keys(
    source: &KeySource,
    sdk: Option<&aws_config::SdkConfig>,
    previous: bool,
) -> Result<Vec<HmacKey>, KeyLoadError> {
    let secrets = SdkSecrets::when(sdk, source.in_secrets_manager());
    source.load_from(secrets.as_ref(), previous).await
}
