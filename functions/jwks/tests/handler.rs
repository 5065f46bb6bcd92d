//! The key set and the discovery document, fed with `events/well-known-jwks.json`: the keys the
//! authorizer accepts, in a form another verifier (here aws-lc-rs, given only the JWK) checks a
//! token of ours with; nothing with HS256.

use auth::keys::NoSecrets;
use auth::token::Ed25519PublicKey;
use auth_edge::Function as _;
use auth_testing::{event, request, test_env};
use base64::Engine as _;
use jwks::{Handler, MAX_AGE_SECONDS};
use serde_json::{Value, json};

async fn get(handler: &Handler, path: &str) -> (u16, Value, String) {
    let mut e = event("well-known-jwks.json");
    e["rawPath"] = path.into();
    e["requestContext"]["http"]["path"] = path.into();
    let response = handler.handle(request(&e)).await;
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let (status, body) = auth_testing::response_json(&response);
    (status, body, cache)
}

#[tokio::test]
async fn publishes_the_public_keys_current_first() {
    let (current_private, current_public) = auth::testing_keys::ed25519_pem_pair();
    let (_, previous_public) = auth::testing_keys::ed25519_pem_pair();
    let keys =
        Ed25519PublicKey::all_from_pem(&format!("{current_public}{previous_public}")).unwrap();
    let kids: Vec<String> = keys.iter().map(|k| k.kid().to_owned()).collect();
    let handler = Handler::new(Some(keys), "jwt-session-service".into());

    let (status, set, cache) = get(&handler, "/.well-known/jwks.json").await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(cache, format!("public, max-age={MAX_AGE_SECONDS}"));
    let published = set["keys"].as_array().unwrap();
    assert_eq!(published.len(), 2);
    for (jwk, kid) in published.iter().zip(&kids) {
        assert_eq!(jwk["kid"], kid.as_str());
        for (field, value) in [
            ("kty", "OKP"),
            ("crv", "Ed25519"),
            ("alg", "EdDSA"),
            ("use", "sig"),
        ] {
            assert_eq!(jwk[field], value, "{jwk}");
        }
        assert_eq!(jwk.as_object().unwrap().len(), 6, "no private part: {jwk}");
    }

    // A verifier holding only the published JWK checks a token login's signer issued.
    let mut env = test_env();
    env.remove("JWT_SECRET");
    env.insert("JWT_ALGORITHM".into(), "EdDSA".into());
    env.insert("JWT_PRIVATE_KEY".into(), current_private);
    env.insert("JWT_PUBLIC_KEYS".into(), current_public);
    let config = auth::Config::from_lookup(&|k| env.get(k).cloned()).unwrap();
    let signer = config.signer.signer_with(None::<&NoSecrets>).await.unwrap();
    let issued = signer
        .issue(
            &auth::UserId::generate(),
            &auth::Username::parse("alice").unwrap(),
            &auth::SessionId::generate(),
            auth::clock::now(),
        )
        .unwrap();
    let token = issued.token.as_str();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    let jwk = published
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the token's kid is published");
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwk["x"].as_str().unwrap())
        .unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap();
    let public = aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, &x);
    assert!(public.verify(signed.as_bytes(), &signature).is_ok());
    assert!(public.verify(b"another message", &signature).is_err());
}

#[tokio::test]
async fn the_discovery_document_names_the_issuer_and_the_key_set() {
    let (_, public) = auth::testing_keys::ed25519_pem_pair();
    let handler = Handler::new(
        Some(Ed25519PublicKey::all_from_pem(&public).unwrap()),
        "https://auth.example.com".into(),
    );
    let (status, doc, cache) = get(&handler, "/.well-known/openid-configuration").await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(cache, format!("public, max-age={MAX_AGE_SECONDS}"));
    assert_eq!(
        doc,
        json!({
            "issuer": "https://auth.example.com",
            "jwks_uri": "https://abc123xyz0.execute-api.us-east-1.amazonaws.com/.well-known/jwks.json",
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "subject_types_supported": ["public"],
        })
    );

    // The scheme does not come from a header a client may send (the answer is cacheable).
    let mut e = event("well-known-jwks.json");
    e["rawPath"] = "/.well-known/openid-configuration".into();
    e["requestContext"]["http"]["path"] = "/.well-known/openid-configuration".into();
    e["headers"]["x-forwarded-proto"] = "http".into();
    let (_, doc) = auth_testing::response_json(&handler.handle(request(&e)).await);
    assert!(
        doc["jwks_uri"].as_str().unwrap().starts_with("https://"),
        "{doc}"
    );
}

#[tokio::test]
async fn hs256_has_nothing_to_publish() {
    let handler = Handler::new(None, "jwt-session-service".into());
    for path in [
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
    ] {
        let (status, body, cache) = get(&handler, path).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("no_public_keys"))
        );
        assert_eq!(cache, "no-store");
    }
}

#[test]
fn the_configuration_reads_the_algorithm_and_the_keys() {
    let (_, public) = auth::testing_keys::ed25519_pem_pair();
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let hs256 = jwks::Config::from_lookup(&env(&[("JWT_ALGORITHM", "HS256")])).unwrap();
    assert!(hs256.keys.is_none());
    assert_eq!(hs256.issuer, "jwt-session-service");
    let public: &'static str = Box::leak(public.into_boxed_str());
    let vars: &'static [(&str, &str)] = Box::leak(Box::new([
        ("JWT_ALGORITHM", "EdDSA"),
        ("JWT_PUBLIC_KEYS", public),
        ("JWT_ISSUER", "me"),
    ]));
    let eddsa = jwks::Config::from_lookup(&env(vars)).unwrap();
    assert_eq!(eddsa.keys.unwrap().len(), 1);
    assert_eq!(eddsa.issuer, "me");
    let missing = jwks::Config::from_lookup(&env(&[("JWT_ALGORITHM", "EdDSA")])).unwrap_err();
    assert_eq!(missing.name, "JWT_PUBLIC_KEYS");
}
