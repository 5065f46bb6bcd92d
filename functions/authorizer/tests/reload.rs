//! A warm authorizer whose keys are in Secrets Manager (as deployed) takes up a rotated key
//! without a cold start: its cold start reads only the current version, and a token with a
//! `kid` it does not know makes it read every version, the first time at once, then at most
//! once per cooldown (`authorizer::keys`). Against moto, through the
//! recording proxy, so each Secrets Manager call is counted; time is moved by deciding at a
//! later `now`.

mod support;

use auth::{UserId, clock};
use auth_testing::{
    TEST_SECRET, TestTables, access_token, dynamodb_endpoint, new_session, put_session, test_env,
};
use authorizer::{Config, Deny, Handler, RELOAD_COOLDOWN_SECONDS, RELOAD_RETRY_SECONDS};
use support::{
    Proxy, Scripted, authorizer_config, authorizer_event, secret_holding, secrets_client,
};

const NEXT_KEY: &str = "the next signing key, at least thirty-two bytes long";

/// The authorizer's configuration, its Secrets Manager and DynamoDB calls through `proxy`; the
/// keys in secret `arn`, or inline without it.
fn config(proxy: &Proxy, table: &str, arn: Option<&str>) -> Config {
    let timeout = auth::config::DEFAULT_DYNAMODB_TIMEOUT_MS;
    authorizer_config(&proxy.url, &proxy.url, table, timeout, arn)
}

/// An access token of `session` signed with `secret` (login's signer with that key).
fn token_signed_with(secret: &str, session: &auth::store::SessionRecord) -> String {
    let mut env = test_env();
    env.insert("JWT_SECRET".into(), secret.into());
    let config = auth::Config::from_lookup(&|k| env.get(k).cloned()).unwrap();
    let key = config.signer.key.hmac_inline().unwrap();
    config
        .signer
        .signer_for(key)
        .issue(
            &session.user_id,
            &session.username,
            &session.session_id,
            clock::now(),
        )
        .unwrap()
        .token
}

/// The Secrets Manager calls among the recorded requests.
fn secret_reads(proxy: &Proxy) -> usize {
    proxy
        .take()
        .iter()
        .filter(|(target, _)| target.starts_with("secretsmanager."))
        .count()
}

/// Puts `key` as a new version of secret `arn` with `stage`: `AWSPENDING` stages it (rotation,
/// step 1); `AWSCURRENT` promotes it, and Secrets Manager (moto too) moves `AWSPREVIOUS` to the
/// version it replaces.
async fn put_version(arn: &str, key: &str, stage: &str) {
    secrets_client()
        .put_secret_value()
        .secret_id(arn)
        .secret_string(key)
        .version_stages(stage)
        .send()
        .await
        .unwrap();
}

/// Fresh tables holding a live session of a new user `name`.
async fn live_session(name: &str) -> (TestTables, auth::store::SessionRecord) {
    let tables = TestTables::create().await;
    let session = new_session(&UserId::generate(), name, clock::now() + 3600);
    put_session(&tables.sessions(), &session).await;
    (tables, session)
}

#[tokio::test]
async fn a_rotated_key_is_taken_up_warm_and_unknown_kids_cost_one_read_per_cooldown() {
    let (tables, session) = live_session("alice").await;
    let arn = secret_holding(TEST_SECRET).await;
    let proxy = Proxy::start(&dynamodb_endpoint()).await;
    let handler = Handler::from_config(&config(&proxy, &tables.sessions_table, Some(&arn)))
        .await
        .unwrap();
    let init = proxy.take();
    assert_eq!(
        init.iter()
            .map(|(target, _)| target.as_str())
            .collect::<Vec<_>>(),
        ["secretsmanager.GetSecretValue"],
        "init reads one version and sends DynamoDB nothing"
    );
    assert!(init[0].1.contains("AWSCURRENT"), "{init:?}");
    let t0 = clock::now();
    let decide = |token: &str, now: i64| {
        let req = authorizer_event(token);
        let handler = &handler;
        async move { handler.decide_at(&req, now).await }
    };
    let current = access_token(&session);
    assert!(decide(&current, t0).await.is_ok());
    assert_eq!(secret_reads(&proxy), 0);

    // Rotation, step 1: the next key is staged as AWSPENDING. The first token signed with it
    // makes the authorizer read every version at once (its cold start read only the current
    // one), and is allowed; the current key still is.
    put_version(&arn, NEXT_KEY, "AWSPENDING").await;
    let next = token_signed_with(NEXT_KEY, &session);
    assert!(decide(&next, t0 + 1).await.is_ok());
    assert_eq!(secret_reads(&proxy), 3, "one round trip of three calls");
    assert!(decide(&next, t0 + 2).await.is_ok());
    assert!(decide(&current, t0 + 2).await.is_ok());
    assert_eq!(secret_reads(&proxy), 0);

    // A key staged within the cooldown of that read is denied without asking Secrets Manager,
    // then taken up once the cooldown is over.
    const LATER_KEY: &str = "a later signing key, also at least thirty-two bytes";
    put_version(&arn, LATER_KEY, "AWSPENDING").await;
    let later = token_signed_with(LATER_KEY, &session);
    let unknown = Err(Deny::Token(auth::token::TokenError::UnknownKey));
    assert_eq!(decide(&later, t0 + 3).await.map(|_| ()), unknown);
    assert_eq!(secret_reads(&proxy), 0);
    let t1 = t0 + 1 + RELOAD_COOLDOWN_SECONDS;
    assert!(decide(&later, t1).await.is_ok());
    assert_eq!(secret_reads(&proxy), 3);

    // A flood of tokens with made-up keys: all denied, none reads the secret until the
    // cooldown is over, then one reads it once.
    for i in 0..50 {
        let forged = token_signed_with(
            &format!("{}{i}", "an attacker's key of 32+ bytes "),
            &session,
        );
        assert_eq!(decide(&forged, t1 + 1 + i).await.map(|_| ()), unknown);
    }
    assert_eq!(secret_reads(&proxy), 0, "no reload within the cooldown");
    let t2 = t1 + RELOAD_COOLDOWN_SECONDS;
    let forged = token_signed_with("yet another attacker's key, 32+ bytes", &session);
    for i in 0..10 {
        assert_eq!(decide(&forged, t2 + i).await.map(|_| ()), unknown);
    }
    assert_eq!(secret_reads(&proxy), 3, "one reload for the whole cooldown");

    // A reload that fails (Secrets Manager refuses: not retried) keeps the keys it had: the
    // known keys are still accepted, the unknown one denied (never allowed).
    let t3 = t2 + RELOAD_COOLDOWN_SECONDS;
    proxy.script((0..3).map(|_| {
        Scripted::Answer(
            400,
            r#"{"__type":"AccessDeniedException","message":"not allowed"}"#.into(),
        )
    }));
    assert_eq!(decide(&forged, t3).await.map(|_| ()), unknown);
    assert_eq!(secret_reads(&proxy), 3, "one failed reload, not retried");
    assert!(decide(&later, t3 + 1).await.is_ok());
    assert!(decide(&current, t3 + 1).await.is_ok());
    assert_eq!(decide(&forged, t3 + 2).await.map(|_| ()), unknown);
    assert_eq!(
        secret_reads(&proxy),
        0,
        "no reload within the retry wait after a failed one"
    );
    // After the retry wait (shorter than the cooldown), the next unknown kid reads again.
    let t4 = t3 + RELOAD_RETRY_SECONDS;
    assert_eq!(decide(&forged, t4).await.map(|_| ()), unknown);
    assert_eq!(secret_reads(&proxy), 3);
    assert_eq!(decide(&forged, t4 + 1).await.map(|_| ()), unknown);
    assert_eq!(secret_reads(&proxy), 0, "and then waits the cooldown");
}

/// After a rotation (the old key is now `AWSPREVIOUS`), an authorizer that starts afresh reads
/// only the new current key; the first token signed with the old one, still valid, makes it
/// read every version at once, and is allowed: nobody is logged out by a cold start.
#[tokio::test]
async fn a_cold_start_after_a_rotation_takes_up_the_previous_key_on_its_first_token() {
    let (tables, session) = live_session("carol").await;
    let arn = secret_holding(TEST_SECRET).await;
    put_version(&arn, NEXT_KEY, "AWSCURRENT").await;
    let proxy = Proxy::start(&dynamodb_endpoint()).await;
    let handler = Handler::from_config(&config(&proxy, &tables.sessions_table, Some(&arn)))
        .await
        .unwrap();
    assert_eq!(secret_reads(&proxy), 1, "init reads AWSCURRENT only");
    let now = clock::now();
    let old = access_token(&session);
    let new = token_signed_with(NEXT_KEY, &session);
    assert!(
        handler
            .decide_at(&authorizer_event(&new), now)
            .await
            .is_ok()
    );
    assert_eq!(secret_reads(&proxy), 0);
    assert!(
        handler
            .decide_at(&authorizer_event(&old), now)
            .await
            .is_ok()
    );
    assert_eq!(secret_reads(&proxy), 3, "one read of every version");
    assert!(
        handler
            .decide_at(&authorizer_event(&old), now + 1)
            .await
            .is_ok()
    );
    assert!(
        handler
            .decide_at(&authorizer_event(&new), now + 1)
            .await
            .is_ok()
    );
    assert_eq!(secret_reads(&proxy), 0);
}

/// With inline keys (`JWT_SECRET`) nothing can change them: an unknown `kid` is denied without
/// any call.
#[tokio::test]
async fn inline_keys_are_never_reloaded() {
    let (tables, session) = live_session("bob").await;
    let proxy = Proxy::start(&dynamodb_endpoint()).await;
    let handler = Handler::from_config(&config(&proxy, &tables.sessions_table, None))
        .await
        .unwrap();
    let forged = token_signed_with(NEXT_KEY, &session);
    let req = authorizer_event(&forged);
    assert!(
        handler
            .decide_at(&req, clock::now() + 3 * RELOAD_COOLDOWN_SECONDS)
            .await
            .is_err()
    );
    assert_eq!(secret_reads(&proxy), 0);
}
