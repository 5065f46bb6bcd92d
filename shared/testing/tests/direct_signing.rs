//! The authorizer's direct DynamoDB read signs its requests as AWS checks them: against a moto
//! server of this test's own with request authentication on (`INITIAL_NO_AUTH_ACTION_COUNT`),
//! which recomputes every SigV4 signature (with botocore) and checks the caller's IAM policy.
//! Long-term keys of an IAM user and temporary credentials with a session token (from
//! `sts:AssumeRole`, what Lambda hands a function) are accepted; a wrong secret is refused,
//! and that refusal is a `Backend` error, not retried and never a session. The signing key is
//! read from Secrets Manager through the same client with the same credentials.

use std::time::Duration;

use auth::config::KeySource;
use auth::keys::KeyLoadError;
use auth::store::{GetSession, SessionLookup};
use auth::{StoreError, UserId, clock};
use auth_direct::store::DirectSessions;
use auth_direct::{AwsCredentials, AwsHttp, DirectConfig, SecretsClient};
use auth_sdk::store::{DynamoSessions, create_tables};
use auth_testing::{OwnMoto, new_session, put_session, unique_name};
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

/// Keys: (access key id, secret, session token).
type Keys = (String, String, Option<String>);

/// A form-encoded AWS Query API call (IAM, STS) to `url`, signed with `keys` for `service`.
async fn query_api(url: &str, service: &str, keys: &Keys, form: &[(&str, &str)]) -> String {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let host = url.trim_start_matches("http://");
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let identity = Credentials::new(&keys.0, &keys.1, keys.2.clone(), None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = [("host", host), ("content-type", content_type)];
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body);
    for (name, value) in instructions.headers() {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{service} {form:?}: {status} {text}");
    text
}

/// The text of the first `<tag>` in `xml`.
fn element(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>")).unwrap();
    xml[start..end].to_owned()
}

fn sdk_client(url: &str, keys: &Keys) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            &keys.0,
            &keys.1,
            keys.2.clone(),
            None,
            "test",
        ))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn direct(url: &str, keys: &Keys, table: &str) -> DirectSessions {
    let config = DirectConfig {
        region: "us-east-1".into(),
        credentials: AwsCredentials::new(&keys.0, &keys.1, keys.2.clone()),
        dynamodb_endpoint: url.to_owned(),
        secretsmanager_endpoint: url.to_owned(),
        timeout: Duration::from_secs(10),
    };
    auth_testing::direct_sessions(&config, table)
}

#[tokio::test]
async fn requests_are_signed_as_aws_checks_them() {
    // The first six calls (an IAM user with a policy and a key, a role with a policy, assuming
    // it) are free; from then on moto checks every request's signature and permissions.
    let moto = OwnMoto::start_with(
        OwnMoto::free_port(),
        &[("INITIAL_NO_AUTH_ACTION_COUNT", "6")],
    );
    let url = moto.url();
    let bootstrap: Keys = ("AKIAIOSFODNN7EXAMPLE".into(), "bootstrap".into(), None);
    let user = unique_name("authorizer");
    let allow_all =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let iam = |action| {
        [
            ("Action", action),
            ("Version", "2010-05-08"),
            ("UserName", &user),
        ]
    };
    query_api(&url, "iam", &bootstrap, &iam("CreateUser")).await;
    let mut put_policy = iam("PutUserPolicy").to_vec();
    put_policy.extend([("PolicyName", "all"), ("PolicyDocument", allow_all)]);
    query_api(&url, "iam", &bootstrap, &put_policy).await;
    let key = query_api(&url, "iam", &bootstrap, &iam("CreateAccessKey")).await;
    let keys: Keys = (
        element(&key, "AccessKeyId"),
        element(&key, "SecretAccessKey"),
        None,
    );

    // A role to assume for temporary credentials with a session token, as Lambda gives them.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    let role = unique_name("authorizer-role");
    let created = query_api(
        &url,
        "iam",
        &bootstrap,
        &[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", &role),
            ("AssumeRolePolicyDocument", trust),
        ],
    )
    .await;
    query_api(
        &url,
        "iam",
        &bootstrap,
        &[
            ("Action", "PutRolePolicy"),
            ("Version", "2010-05-08"),
            ("RoleName", &role),
            ("PolicyName", "all"),
            ("PolicyDocument", allow_all),
        ],
    )
    .await;
    let assumed = query_api(
        &url,
        "sts",
        &bootstrap,
        &[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", &element(&created, "Arn")),
            ("RoleSessionName", "authorizer"),
        ],
    )
    .await;
    // Tables and a session, written by the SDK with the user's keys (signature-checked too).
    let client = sdk_client(&url, &keys);
    let table = unique_name("sessions");
    create_tables(&client, &unique_name("u"), &table, &unique_name("a"))
        .await
        .unwrap();
    let session = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    put_session(&DynamoSessions::new(client, &table), &session).await;
    let read = |reader: DirectSessions| {
        let session = session.clone();
        async move {
            reader
                .get_session(&session.session_id, &session.user_id, clock::now())
                .await
        }
    };

    // Long-term keys.
    let result = read(direct(&url, &keys, &table)).await;
    assert!(matches!(result, Ok(SessionLookup::Live(_))), "{result:?}");

    // A wrong secret: refused (403), a Backend error.
    let wrong: Keys = (keys.0.clone(), "not-the-secret".into(), None);
    match read(direct(&url, &wrong, &table)).await {
        Err(StoreError::Backend(cause)) => assert!(cause.to_string().contains("403"), "{cause}"),
        other => panic!("{other:?}"),
    }

    // Temporary credentials with a session token.
    let temporary: Keys = (
        element(&assumed, "AccessKeyId"),
        element(&assumed, "SecretAccessKey"),
        Some(element(&assumed, "SessionToken")),
    );
    assert!(temporary.0.starts_with("ASIA"), "{}", temporary.0);
    let result = read(direct(&url, &temporary, &table)).await;
    assert!(matches!(result, Ok(SessionLookup::Live(_))), "{result:?}");
    let wrong: Keys = (
        temporary.0.clone(),
        "not-the-secret".into(),
        temporary.2.clone(),
    );
    assert!(matches!(
        read(direct(&url, &wrong, &table)).await,
        Err(StoreError::Backend(_))
    ));

    // The signing key from Secrets Manager, as the authorizer loads it at start-up.
    let secrets_sdk = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&url)
            .credentials_provider(Credentials::new(&keys.0, &keys.1, None, None, "test"))
            .build(),
    );
    let arn = auth_testing::new_secret(
        &secrets_sdk,
        "signing-key",
        "signing-key-0123456789abcdef0123456789abcdef",
    )
    .await;
    let config = DirectConfig {
        region: "us-east-1".into(),
        credentials: AwsCredentials::new(&temporary.0, &temporary.1, temporary.2.clone()),
        dynamodb_endpoint: url.clone(),
        secretsmanager_endpoint: url.clone(),
        timeout: Duration::from_secs(10),
    };
    let secrets = SecretsClient::new(&AwsHttp::new(&config).unwrap(), &config).unwrap();
    let loaded = KeySource::SecretsManager(arn.clone())
        .load_with(&secrets, true)
        .await
        .unwrap();
    assert_eq!(loaded.len(), 1);
    let wrong_config = DirectConfig {
        credentials: AwsCredentials::new(&temporary.0, "not-the-secret", temporary.2.clone()),
        ..config
    };
    let wrong = SecretsClient::new(&AwsHttp::new(&wrong_config).unwrap(), &wrong_config).unwrap();
    assert!(matches!(
        KeySource::SecretsManager(arn).load_with(&wrong, true).await,
        Err(KeyLoadError::SecretsManager(_))
    ));
}
