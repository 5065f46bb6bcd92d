//! Loading the signing key from AWS Secrets Manager (moto), and rotating it: login signs with
//! `AWSCURRENT`, the authorizer accepts `AWSCURRENT` and `AWSPREVIOUS`.

use auth::config::{Config, KeySource, StoreConfig};
use auth::keys::KeyLoadError;
use auth::{SessionId, UserId, Username, clock};
use auth_sdk::SdkClients as _;
use auth_sdk::SdkKeys as _;
use auth_sdk::secrets::load_keys;
use auth_testing::{dynamodb_endpoint, new_secret, test_env};

fn sdk() -> aws_config::SdkConfig {
    StoreConfig::default().local_sdk_config(&dynamodb_endpoint())
}

/// A token for a new user and session, signed by `signer` at `now`.
fn token_by(signer: &auth::token::TokenSigner, now: i64) -> String {
    signer
        .issue(
            &UserId::generate(),
            &Username::parse("alice").unwrap(),
            &SessionId::generate(),
            now,
        )
        .unwrap()
        .token
}

fn config_with_arn(arn: &str) -> Config {
    let mut env = test_env();
    env.remove("JWT_SECRET");
    env.insert("JWT_SECRET_ARN".into(), arn.into());
    Config::from_lookup(&|k| env.get(k).cloned()).unwrap()
}

#[tokio::test]
async fn keys_come_from_secrets_manager_and_rotate() {
    let sdk = sdk();
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let first = "first-key-0123456789abcdef0123456789abcdef";
    let second = "second-key-0123456789abcdef0123456789abcdef";
    let arn = new_secret(&client, "signing-key", first).await;
    let config = config_with_arn(&arn);
    assert!(matches!(
        config.signer.key,
        auth::config::SigningKeySource::Hmac(KeySource::SecretsManager(_))
    ));

    let user = UserId::generate();
    let name = Username::parse("alice").unwrap();
    let now = clock::now();
    let old_signer = config.signer.load_sdk(Some(&sdk)).await.unwrap();
    let old_token = old_signer
        .issue(&user, &name, &SessionId::generate(), now)
        .unwrap()
        .token;
    // Never rotated: only the current key.
    let auth::config::VerifyingKeys::Hmac(source) = &config.verifier.key else {
        panic!("HS256 expected")
    };
    assert_eq!(load_keys(source, Some(&sdk), true).await.unwrap().len(), 1);

    // Rotate: the new value becomes AWSCURRENT, the old one AWSPREVIOUS.
    client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(second)
        .send()
        .await
        .unwrap();
    let new_signer = config.signer.load_sdk(Some(&sdk)).await.unwrap();
    let new_token = new_signer
        .issue(&user, &name, &SessionId::generate(), now)
        .unwrap()
        .token;
    let verifier = config.verifier.load_sdk(Some(&sdk)).await.unwrap();
    assert!(verifier.verify(&new_token, now).is_ok(), "current key");
    assert!(
        verifier.verify(&old_token, now).is_ok(),
        "previous key still accepted"
    );
    // The two tokens name different keys.
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    assert_ne!(kid(&old_token), kid(&new_token));
}

/// Rotation without a gap: a key staged as AWSPENDING is accepted by verifiers loaded from then
/// on, before any signer uses it.
#[tokio::test]
async fn a_pending_key_is_accepted_before_it_signs() {
    let sdk = sdk();
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let arn = new_secret(
        &client,
        "staged-key",
        "current-key-0123456789abcdef0123456789abcdef",
    )
    .await;
    client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string("pending-key-0123456789abcdef0123456789abcdef")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let config = config_with_arn(&arn);
    let verifier = config.verifier.load_sdk(Some(&sdk)).await.unwrap();
    let pending =
        auth::token::HmacKey::new(b"pending-key-0123456789abcdef0123456789abcdef".to_vec())
            .unwrap();
    let now = clock::now();
    let token = token_by(&config.signer.signer_for(&pending), now);
    assert!(verifier.verify(&token, now).is_ok(), "pending key accepted");
    // Signers still use the current key until it is promoted.
    let current = config.signer.load_sdk(Some(&sdk)).await.unwrap();
    let t = token_by(&current, now);
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    assert_ne!(kid(&t), pending.kid());
    assert!(verifier.verify(&t, now).is_ok());
}

#[tokio::test]
async fn missing_or_short_secret_fails_start_up() {
    let sdk = sdk();
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let missing =
        config_with_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf");
    assert!(matches!(
        missing.signer.load_sdk(Some(&sdk)).await,
        Err(KeyLoadError::SecretsManager(_))
    ));
    let arn = new_secret(&client, "short-key", "too-short").await;
    assert!(matches!(
        config_with_arn(&arn).verifier.load_sdk(Some(&sdk)).await,
        Err(KeyLoadError::Unusable(_))
    ));
    // Without SDK configuration the ARN cannot be reached.
    assert!(matches!(
        config_with_arn(&arn).signer.load_sdk(None).await,
        Err(KeyLoadError::NoSdk)
    ));
}

/// The authorizer's direct client (no SDK) reads the same versions the SDK does: the current,
/// pending and previous keys of a rotated secret; one key of a never-rotated one; a missing
/// secret and an unusable one fail start-up the same way.
#[tokio::test]
async fn the_direct_client_loads_what_the_sdk_loads() {
    use auth_direct::{AwsHttp, SecretsClient};
    let sdk = sdk();
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let direct_config = auth_testing::direct_config(&dynamodb_endpoint());
    let http = AwsHttp::new(&direct_config).unwrap();
    let direct = SecretsClient::new(&http, &direct_config).unwrap();
    let kids = |keys: Vec<auth::token::HmacKey>| {
        keys.iter().map(|k| k.kid().to_owned()).collect::<Vec<_>>()
    };

    let arn = new_secret(
        &client,
        "direct-key",
        "first-key-0123456789abcdef0123456789abcdef",
    )
    .await;
    let source = KeySource::SecretsManager(arn.clone());
    let once = kids(source.load_with(&direct, true).await.unwrap());
    assert_eq!(once.len(), 1);
    assert_eq!(
        once,
        kids(load_keys(&source, Some(&sdk), true).await.unwrap())
    );

    client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string("second-key-0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap();
    client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string("third-key-0123456789abcdef0123456789abcdef")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let all = kids(source.load_with(&direct, true).await.unwrap());
    assert_eq!(all.len(), 3, "current, pending, previous");
    assert_eq!(
        all,
        kids(load_keys(&source, Some(&sdk), true).await.unwrap())
    );
    assert_eq!(
        kids(source.load_with(&direct, false).await.unwrap()),
        all[..1]
    );

    // The verifier built through it accepts a token of each.
    let config = config_with_arn(&arn);
    let verifier = config.verifier.verifier_with(&direct).await.unwrap();
    let now = clock::now();
    for secret in [
        "second-key-0123456789abcdef0123456789abcdef",
        "third-key-0123456789abcdef0123456789abcdef",
        "first-key-0123456789abcdef0123456789abcdef",
    ] {
        let key = auth::token::HmacKey::new(secret.as_bytes().to_vec()).unwrap();
        let token = token_by(&config.signer.signer_for(&key), now);
        assert!(verifier.verify(&token, now).is_ok(), "{secret}");
    }

    let missing = KeySource::SecretsManager(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf".into(),
    );
    assert!(matches!(
        missing.load_with(&direct, true).await,
        Err(KeyLoadError::SecretsManager(_))
    ));
    let short = new_secret(&client, "short-key", "too-short").await;
    assert!(matches!(
        KeySource::SecretsManager(short)
            .load_with(&direct, true)
            .await,
        Err(KeyLoadError::Unusable(_))
    ));
}
