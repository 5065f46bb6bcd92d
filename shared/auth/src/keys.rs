//! Loading the signing and verification keys the configuration names: inline keys as they are,
//! keys in Secrets Manager through whichever client the function has (the SDK's in `auth-sdk`,
//! the direct one in `auth-direct`), behind the one trait [`SecretVersions`].
//!
//! A secret's versions: login and refresh sign with `AWSCURRENT`; the authorizer also accepts
//! `AWSPENDING` and `AWSPREVIOUS` where the secret has them, so the key can rotate without
//! logging anyone out (the procedure: `docs/operations.md`, "Rotating the signing key").

use crate::config::{
    KeySource, MfaConfig, SignerConfig, SigningKeySource, VerifierConfig, VerifyingKeys,
};
use crate::error::BoxError;
use crate::mfa::MfaKeys;
use crate::token::{Ed25519PrivateKey, HmacKey, TokenSigner, TokenVerifier};

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

/// The key could not be loaded at start-up.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    /// A key is in Secrets Manager but the function was given no client to reach it.
    #[error("JWT_SECRET_ARN needs the AWS SDK configuration")]
    NoSdk,
    /// Secrets Manager refused or failed.
    #[error("reading the signing key from Secrets Manager failed")]
    SecretsManager(#[source] BoxError),
    /// The secret is not a usable key.
    #[error("the signing key in Secrets Manager is unusable: {0}")]
    Unusable(String),
}

/// The stages the verifier reads, current first: the key that signs now, the one a rotation in
/// progress will sign with, and the one it replaced.
pub const VERIFIER_STAGES: [&str; 3] = ["AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"];

/// Reads the `AWSCURRENT` version of secret `arn` and, with `previous` (the verifier's set), its
/// `AWSPENDING` and `AWSPREVIOUS` versions where it has them.
///
/// The versions are asked for at once, not one after another: a reload (the authorizer's, when
/// a token names a key it lacks) waits for one Secrets Manager round trip, not three. The keys
/// come back current first, whatever answers first.
pub async fn load_from_secrets_manager(
    client: &impl SecretVersions,
    arn: &str,
    previous: bool,
) -> Result<Vec<HmacKey>, KeyLoadError> {
    let answers = if previous {
        let [current, pending, prior] = VERIFIER_STAGES;
        let answers = tokio::join!(
            client.secret_string(arn, current),
            client.secret_string(arn, pending),
            client.secret_string(arn, prior),
        );
        vec![
            (current, answers.0),
            (pending, answers.1),
            (prior, answers.2),
        ]
    } else {
        vec![("AWSCURRENT", client.secret_string(arn, "AWSCURRENT").await)]
    };
    let mut keys = Vec::with_capacity(answers.len());
    for (stage, answer) in answers {
        let secret = match answer? {
            Some(secret) => secret,
            // A secret that was never rotated has no AWSPREVIOUS or AWSPENDING version.
            None if stage != "AWSCURRENT" => continue,
            None => return Err(KeyLoadError::Unusable(format!("{stage} is missing"))),
        };
        let key = HmacKey::new(secret.trim().as_bytes().to_vec())
            .map_err(|problem| KeyLoadError::Unusable(format!("{stage}: {problem}")))?;
        keys.push(key);
    }
    Ok(keys)
}

/// What a `GetSecretValue` answer for version `stage` means, whichever client asked: the
/// secret's string; `None` when a stage other than `AWSCURRENT` does not exist (error code
/// `code` is `ResourceNotFoundException`); otherwise an error.
pub fn secret_version(
    stage: &str,
    answer: Result<Option<String>, BoxError>,
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

impl KeySource {
    /// Whether loading the key needs a Secrets Manager client.
    pub fn in_secrets_manager(&self) -> bool {
        matches!(self, Self::SecretsManager(_))
    }

    /// The keys: the current one first, then (with `previous`) the pending and previous ones,
    /// if any. Secrets Manager is asked through `secrets` (one call per version, all at once).
    pub async fn load_with(
        &self,
        secrets: &impl SecretVersions,
        previous: bool,
    ) -> Result<Vec<HmacKey>, KeyLoadError> {
        self.load_from(Some(secrets), previous).await
    }

    /// [`KeySource::load_with`], where `secrets` may be absent ([`KeyLoadError::NoSdk`] if the
    /// key is in Secrets Manager).
    pub async fn load_from(
        &self,
        secrets: Option<&impl SecretVersions>,
        previous: bool,
    ) -> Result<Vec<HmacKey>, KeyLoadError> {
        match self {
            Self::Inline(key) => Ok(vec![key.clone()]),
            Self::SecretsManager(arn) => {
                let secrets = secrets.ok_or(KeyLoadError::NoSdk)?;
                load_from_secrets_manager(secrets, arn, previous).await
            }
        }
    }
}

impl MfaConfig {
    /// Whether loading the MFA key needs a Secrets Manager client.
    pub fn needs_secrets_manager(&self) -> bool {
        self.key.in_secrets_manager()
    }

    /// The MFA keys: `MFA_KEY`, or the `AWSCURRENT` version of `MFA_KEY_ARN` read through
    /// `secrets` (one call).
    pub async fn keys_from(
        &self,
        secrets: Option<&impl SecretVersions>,
    ) -> Result<MfaKeys, KeyLoadError> {
        let keys = self
            .key
            .load_from(secrets, false)
            .await
            .map_err(|e| match e {
                KeyLoadError::Unusable(problem) => {
                    KeyLoadError::Unusable(format!("MFA_KEY_ARN: {problem}"))
                }
                other => other,
            })?;
        let current = keys
            .first()
            .ok_or_else(|| KeyLoadError::Unusable("MFA_KEY_ARN: AWSCURRENT is missing".into()))?;
        Ok(MfaKeys::derive(current))
    }
}

impl SignerConfig {
    /// Whether loading the signing key needs a Secrets Manager client.
    pub fn needs_secrets_manager(&self) -> bool {
        match &self.key {
            SigningKeySource::Hmac(source) => source.in_secrets_manager(),
            SigningKeySource::Ed25519(_) => false,
            SigningKeySource::Ed25519SecretsManager(_) => true,
        }
    }

    /// The signer, loading the current key (from Secrets Manager through `secrets` if the
    /// configuration says so).
    pub async fn signer_with(
        &self,
        secrets: Option<&impl SecretVersions>,
    ) -> Result<TokenSigner, KeyLoadError> {
        match &self.key {
            SigningKeySource::Hmac(source) => {
                let keys = source.load_from(secrets, false).await?;
                let current = keys
                    .first()
                    .ok_or_else(|| KeyLoadError::Unusable("no current key".into()))?;
                Ok(self.signer_for(current))
            }
            SigningKeySource::Ed25519(key) => {
                Ok(TokenSigner::new_ed25519(key, self.settings.clone()))
            }
            SigningKeySource::Ed25519SecretsManager(arn) => {
                let secrets = secrets.ok_or(KeyLoadError::NoSdk)?;
                let pem = secrets
                    .secret_string(arn, "AWSCURRENT")
                    .await?
                    .ok_or_else(|| KeyLoadError::Unusable("no current version".into()))?;
                let key = Ed25519PrivateKey::from_pem(&pem).map_err(KeyLoadError::Unusable)?;
                Ok(TokenSigner::new_ed25519(&key, self.settings.clone()))
            }
        }
    }
}

impl VerifierConfig {
    /// Whether loading the verification keys needs a Secrets Manager client.
    pub fn needs_secrets_manager(&self) -> bool {
        matches!(&self.key, VerifyingKeys::Hmac(source) if source.in_secrets_manager())
    }

    /// The verifier, loading the current, pending and previous HS256 keys (from Secrets
    /// Manager through `secrets` if the configuration says so), or with the configured Ed25519
    /// public keys.
    pub async fn verifier_from(
        &self,
        secrets: Option<&impl SecretVersions>,
    ) -> Result<TokenVerifier, KeyLoadError> {
        self.verifier_of(secrets, true).await
    }

    /// [`VerifierConfig::verifier_from`] with a client at hand.
    pub async fn verifier_with(
        &self,
        secrets: &impl SecretVersions,
    ) -> Result<TokenVerifier, KeyLoadError> {
        self.verifier_of(Some(secrets), true).await
    }

    /// A verifier of the current key only: with HS256 keys in Secrets Manager, just the
    /// `AWSCURRENT` version (one call); otherwise the same as [`VerifierConfig::verifier_with`].
    /// For a verifier that reads every version when a token names another key (the
    /// authorizer's cold start).
    pub async fn current_verifier_with(
        &self,
        secrets: &impl SecretVersions,
    ) -> Result<TokenVerifier, KeyLoadError> {
        self.verifier_of(Some(secrets), false).await
    }

    /// The verifier, with the pending and previous HS256 keys if `previous`.
    async fn verifier_of(
        &self,
        secrets: Option<&impl SecretVersions>,
        previous: bool,
    ) -> Result<TokenVerifier, KeyLoadError> {
        match &self.key {
            VerifyingKeys::Hmac(source) => {
                Ok(self.verifier_for(&source.load_from(secrets, previous).await?))
            }
            VerifyingKeys::Ed25519(keys) => Ok(TokenVerifier::new_ed25519(keys, &self.settings)),
        }
    }
}

/// A Secrets Manager client for functions whose keys are all inline: it is never asked.
#[derive(Debug, Clone, Copy)]
pub struct NoSecrets;

impl SecretVersions for NoSecrets {
    async fn secret_string(
        &self,
        _arn: &str,
        _stage: &str,
    ) -> Result<Option<String>, KeyLoadError> {
        Err(KeyLoadError::NoSdk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// A secret whose versions answer only once all three are being asked for (a barrier), in
    /// the order `answer_order` names, so asking one after another never finishes.
    struct Rotated {
        barrier: tokio::sync::Barrier,
        versions: Vec<(&'static str, Option<&'static str>)>,
        asked: Mutex<Vec<String>>,
    }

    impl SecretVersions for Rotated {
        async fn secret_string(
            &self,
            _arn: &str,
            stage: &str,
        ) -> Result<Option<String>, KeyLoadError> {
            self.asked.lock().unwrap().push(stage.to_owned());
            self.barrier.wait().await;
            // The current version answers last.
            if stage == "AWSCURRENT" {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let (_, value) = self.versions.iter().find(|(s, _)| *s == stage).unwrap();
            Ok(value.map(str::to_owned))
        }
    }

    fn rotated(versions: Vec<(&'static str, Option<&'static str>)>) -> Rotated {
        Rotated {
            barrier: tokio::sync::Barrier::new(3),
            versions,
            asked: Mutex::default(),
        }
    }

    const CURRENT: &str = "the-current-key-0123456789abcdef-0123";
    const PREVIOUS: &str = "the-previous-key-0123456789abcdef-012";

    #[tokio::test]
    async fn the_verifiers_versions_are_asked_for_at_once_and_come_back_current_first() {
        let secret = rotated(vec![
            ("AWSCURRENT", Some(CURRENT)),
            ("AWSPENDING", None),
            ("AWSPREVIOUS", Some(PREVIOUS)),
        ]);
        let keys = tokio::time::timeout(
            Duration::from_secs(10),
            load_from_secrets_manager(&secret, "arn", true),
        )
        .await
        .expect("the three versions are asked for together, not one after another")
        .unwrap();
        let kid = |secret: &str| {
            HmacKey::new(secret.as_bytes().to_vec())
                .unwrap()
                .kid()
                .to_owned()
        };
        let kids: Vec<&str> = keys.iter().map(HmacKey::kid).collect();
        assert_eq!(kids, [kid(CURRENT), kid(PREVIOUS)]);
        assert_eq!(secret.asked.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_missing_current_version_is_an_error_whatever_else_answers() {
        let secret = rotated(vec![
            ("AWSCURRENT", None),
            ("AWSPENDING", Some(CURRENT)),
            ("AWSPREVIOUS", Some(PREVIOUS)),
        ]);
        let error = load_from_secrets_manager(&secret, "arn", true)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("AWSCURRENT is missing"),
            "{error}"
        );
    }

    /// The signer asks for the current version only: one call.
    #[tokio::test]
    async fn the_signer_asks_once() {
        let secret = Rotated {
            barrier: tokio::sync::Barrier::new(1),
            ..rotated(vec![("AWSCURRENT", Some(CURRENT))])
        };
        let keys = load_from_secrets_manager(&secret, "arn", false)
            .await
            .unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(*secret.asked.lock().unwrap(), ["AWSCURRENT"]);
    }
}
