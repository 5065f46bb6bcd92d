//! EdDSA (Ed25519) end to end: login signs with the private key, the authorizer holds only
//! public keys (it cannot mint tokens), HS256 tokens are refused, keys rotate with two public
//! keys, and the private key can come from Secrets Manager.

mod common;

use auth::testing_keys::ed25519_pem_pair;
use auth_sdk::SdkClients as _;
use auth_sdk::SdkKeys as _;
use auth_testing::{test_env, unique_username};
use common::{call, spawn};
use reqwest::Method;
use serde_json::json;

fn eddsa_config(private: &str, public: &str) -> auth::Config {
    let mut env = test_env();
    env.remove("JWT_SECRET");
    env.insert("JWT_ALGORITHM".into(), "EdDSA".into());
    env.insert("JWT_PRIVATE_KEY".into(), private.into());
    env.insert("JWT_PUBLIC_KEYS".into(), public.into());
    auth::Config::from_lookup(&|k| env.get(k).cloned()).unwrap()
}

#[tokio::test]
async fn eddsa_login_and_authorize() {
    let (private, public) = ed25519_pem_pair();
    let config = eddsa_config(&private, &public);
    let server = spawn(common::memory_gateway_with(&config).await).await;
    let http = reqwest::Client::new();
    let creds =
        json!({"username": unique_username("ed"), "password": "correct horse battery staple"});
    assert_eq!(
        call(
            &http,
            Method::POST,
            &server.url("/register"),
            None,
            Some(&creds)
        )
        .await
        .0,
        201
    );
    let (status, _, body) = call(
        &http,
        Method::POST,
        &server.url("/login"),
        None,
        Some(&creds),
    )
    .await;
    assert_eq!(status, 200);
    let token = body["access_token"].as_str().unwrap().to_owned();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert!(header.kid.unwrap().starts_with("ed25519-"));
    assert_eq!(
        call(&http, Method::GET, &server.url("/me"), Some(&token), None)
            .await
            .0,
        200
    );

    // Another verifier (jsonwebtoken, given only the published key set) checks the token, and
    // finds the key set through the discovery document.
    let (status, _, discovery) = call(
        &http,
        Method::GET,
        &server.url("/.well-known/openid-configuration"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{discovery}");
    let (issuer, audience) = (config.signer.issuer(), config.signer.audience());
    assert_eq!(discovery["issuer"], issuer);
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap().to_owned();
    assert_eq!(jwks_uri, server.url("/.well-known/jwks.json"));
    let (status, _, set) = call(&http, Method::GET, &jwks_uri, None, None).await;
    assert_eq!(status, 200, "{set}");
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(set).unwrap();
    let verify_elsewhere = |token: &str| {
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let jwk = set.find(&kid).expect("the token's kid is published");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        jsonwebtoken::decode::<serde_json::Value>(
            token,
            &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
            &validation,
        )
        .map(|data| data.claims)
    };
    let claims = verify_elsewhere(&token).expect("verifies with the published key");
    assert_eq!(
        claims["username"],
        creds["username"].as_str().unwrap().to_lowercase()
    );

    // An HS256 token signed with the public key's text (algorithm confusion) is refused.
    let claims: serde_json::Value = {
        use base64::Engine as _;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = jsonwebtoken::decode_header(&token).unwrap().kid;
    let confused = jsonwebtoken::encode(
        &hs,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(public.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        call(
            &http,
            Method::GET,
            &server.url("/me"),
            Some(&confused),
            None
        )
        .await
        .0,
        403
    );

    assert_eq!(
        call(
            &http,
            Method::POST,
            &server.url("/logout"),
            Some(&token),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        call(&http, Method::GET, &server.url("/me"), Some(&token), None)
            .await
            .0,
        403
    );
    // What the key set alone cannot do: the logged-out session's token still verifies there
    // until it expires. Only the authorizer's session read refuses it (docs/design.md).
    assert!(verify_elsewhere(&token).is_ok());
}

/// With HS256 there is no public key: both documents answer 404 `no_public_keys`.
#[tokio::test]
async fn hs256_publishes_no_keys() {
    let server = spawn(common::memory_gateway().await).await;
    let http = reqwest::Client::new();
    for path in [
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
    ] {
        let (status, _, body) = call(&http, Method::GET, &server.url(path), None, None).await;
        assert_eq!((status, &body["error"]), (404, &json!("no_public_keys")));
    }
}

#[test]
fn the_authorizer_needs_only_public_keys() {
    let (_, public) = ed25519_pem_pair();
    let env: std::collections::HashMap<&str, String> = [
        ("SESSIONS_TABLE", "sessions".to_owned()),
        ("JWT_ALGORITHM", "EdDSA".to_owned()),
        ("JWT_PUBLIC_KEYS", public.clone()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "example-secret".to_owned()),
    ]
    .into();
    let config = authorizer::Config::from_lookup(&|k| env.get(k).cloned()).unwrap();
    assert!(
        matches!(config.verifier.key, auth::config::VerifyingKeys::Ed25519(ref keys) if keys.len() == 1)
    );
    // A private key given to the authorizer is not even read.
    let login_env: std::collections::HashMap<&str, String> = [
        ("USERS_TABLE", "users".to_owned()),
        ("SESSIONS_TABLE", "sessions".to_owned()),
        ("ATTEMPTS_TABLE", "attempts".to_owned()),
        ("JWT_ALGORITHM", "EdDSA".to_owned()),
        ("JWT_PRIVATE_KEY", public),
    ]
    .into();
    let err = login::Config::from_lookup(&|k| login_env.get(k).cloned()).unwrap_err();
    assert_eq!(
        err.name, "JWT_PRIVATE_KEY",
        "a public key is no private key"
    );
}

#[tokio::test]
async fn rotation_with_two_public_keys() {
    let (old_private, old_public) = ed25519_pem_pair();
    let (new_private, new_public) = ed25519_pem_pair();
    let both = format!("{new_public}{old_public}");
    let old = eddsa_config(&old_private, &both);
    let new = eddsa_config(&new_private, &both);
    let verifier = new.verifier.load_sdk(None).await.unwrap();
    let (uid, name, now) = (
        auth::UserId::generate(),
        auth::Username::parse("alice").unwrap(),
        auth::clock::now(),
    );
    for config in [&old, &new] {
        let signer = config.signer.load_sdk(None).await.unwrap();
        let t = signer
            .issue(&uid, &name, &auth::SessionId::generate(), now)
            .unwrap();
        assert!(verifier.verify(&t.token, now).is_ok());
    }
    let only_new = eddsa_config(&new_private, &new_public)
        .verifier
        .load_sdk(None)
        .await
        .unwrap();
    let t = old
        .signer
        .load_sdk(None)
        .await
        .unwrap()
        .issue(&uid, &name, &auth::SessionId::generate(), now)
        .unwrap();
    assert!(
        only_new.verify(&t.token, now).is_err(),
        "a retired key is refused"
    );
}

#[tokio::test]
async fn private_key_from_secrets_manager() {
    let (private, public) = ed25519_pem_pair();
    let sdk =
        auth::config::StoreConfig::default().local_sdk_config(&auth_testing::dynamodb_endpoint());
    let client = auth_testing::secrets_client();
    let arn = auth_testing::new_secret(&client, "ed25519", &private).await;
    let mut env = test_env();
    env.remove("JWT_SECRET");
    env.insert("JWT_ALGORITHM".into(), "EdDSA".into());
    env.insert("JWT_PRIVATE_KEY_ARN".into(), arn);
    env.insert("JWT_PUBLIC_KEYS".into(), public);
    let config = auth::Config::from_lookup(&|k| env.get(k).cloned()).unwrap();
    let signer = config.signer.load_sdk(Some(&sdk)).await.unwrap();
    let verifier = config.verifier.load_sdk(None).await.unwrap();
    let now = auth::clock::now();
    let t = signer
        .issue(
            &auth::UserId::generate(),
            &auth::Username::parse("alice").unwrap(),
            &auth::SessionId::generate(),
            now,
        )
        .unwrap();
    assert!(verifier.verify(&t.token, now).is_ok());
}

/// Keys as `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` write them (a key
/// made for this test only).
#[test]
fn openssl_keys_are_accepted() {
    let private = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEICbynBGx0Cu0oYq4heLTIE5459VOlqlB8j6NawiuOTpf\n-----END PRIVATE KEY-----\n";
    let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAbK6QpQXnPfCHIYu5ZNHpMqB+xUHL1Tcs3W8q/cCK0TU=\n-----END PUBLIC KEY-----\n";
    let key = auth::token::Ed25519PrivateKey::from_pem(private).unwrap();
    let publics = auth::token::Ed25519PublicKey::all_from_pem(public).unwrap();
    assert_eq!(key.kid(), publics[0].kid());
    assert_eq!(
        auth::testing_keys::public_pem_of(private).trim(),
        public.trim()
    );
}

/// The EdDSA rotation of docs/operations.md ("Rotating the signing key"), step by step, with
/// the keys as the template passes them: the private key in a Secrets Manager secret (moto),
/// the public keys one line long (the SigningPublicKeys parameter). Each "deploy" or "start
/// afresh" is a new configuration read from that environment, as a new Lambda instance reads it.
#[tokio::test]
async fn eddsa_rotation_as_documented() {
    use auth_edge::Function as _;
    let sdk =
        auth::config::StoreConfig::default().local_sdk_config(&auth_testing::dynamodb_endpoint());
    let secrets = auth_testing::secrets_client();
    let (old_private, old_public) = ed25519_pem_pair();
    let (next_private, next_public) = ed25519_pem_pair();
    let arn = auth_testing::new_secret(&secrets, "ed25519-rotation", &old_private).await;
    // The functions as deployed with SigningPublicKeys = `public`: login's signer (from the
    // secret's AWSCURRENT), the authorizer's verifier and the key set's kids.
    let deployed = |public: String| {
        let (sdk, arn) = (sdk.clone(), arn.clone());
        async move {
            let mut env = test_env();
            env.remove("JWT_SECRET");
            env.insert("JWT_ALGORITHM".into(), "EdDSA".into());
            env.insert("JWT_PRIVATE_KEY_ARN".into(), arn);
            env.insert("JWT_PUBLIC_KEYS".into(), public.replace('\n', " "));
            let config = auth::Config::from_lookup(&|k| env.get(k).cloned()).unwrap();
            let signer = config.signer.load_sdk(Some(&sdk)).await.unwrap();
            let verifier = config.verifier.load_sdk(None).await.unwrap();
            let keys = config.verifier.key.public_keys().map(<[_]>::to_vec);
            let published = jwks::Handler::new(keys, "iss".into());
            let mut e = auth_testing::event("well-known-jwks.json");
            e["headers"]["host"] = "127.0.0.1".into();
            let set = published.handle(auth_testing::request(&e)).await;
            let (_, set) = auth_testing::response_json(&set);
            let kids: Vec<String> = set["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect();
            (signer, verifier, kids)
        }
    };
    let kid_of = |public: &str| {
        auth::token::Ed25519PublicKey::all_from_pem(public).unwrap()[0]
            .kid()
            .to_owned()
    };
    let (old_kid, next_kid) = (kid_of(&old_public), kid_of(&next_public));
    let (uid, name, now) = (
        auth::UserId::generate(),
        auth::Username::parse("alice").unwrap(),
        auth::clock::now(),
    );
    let issue = |signer: &auth::token::TokenSigner| {
        signer
            .issue(&uid, &name, &auth::SessionId::generate(), now)
            .unwrap()
            .token
    };

    // Before: the old key signs and is published.
    let (signer, _, kids) = deployed(old_public.clone()).await;
    let old_token = issue(&signer);
    assert_eq!(kids, std::slice::from_ref(&old_kid));

    // (1) Deploy with the current public key and the next one: both accepted, both published.
    let (signer, verifier, kids) = deployed(format!("{old_public}{next_public}")).await;
    assert_eq!(kids, [old_kid.clone(), next_kid.clone()]);
    assert!(verifier.verify(&old_token, now).is_ok());
    assert!(
        verifier.verify(&issue(&signer), now).is_ok(),
        "still signs with the old key"
    );

    // (3) The next private key as the secret's new AWSCURRENT; login and refresh start afresh
    // and sign with it; the authorizer of step 1 accepts both.
    secrets
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(&next_private)
        .send()
        .await
        .unwrap();
    let (signer, _, _) = deployed(format!("{old_public}{next_public}")).await;
    let next_token = issue(&signer);
    assert_eq!(
        jsonwebtoken::decode_header(&next_token).unwrap().kid,
        Some(next_kid.clone())
    );
    assert!(verifier.verify(&next_token, now).is_ok());
    assert!(
        verifier.verify(&old_token, now).is_ok(),
        "nobody is logged out"
    );

    // (4) Once the old tokens have expired: the next key alone.
    let (_, verifier, kids) = deployed(next_public.clone()).await;
    assert_eq!(kids, [next_kid]);
    assert!(verifier.verify(&next_token, now).is_ok());
    assert!(
        verifier.verify(&old_token, now).is_err(),
        "a retired key is refused"
    );
}
