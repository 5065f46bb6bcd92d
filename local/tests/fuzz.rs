//! Property-based fuzzing of everything that parses untrusted input: tokens, `Authorization`
//! values, request bodies, usernames, passwords, and whole requests through the local gateway.
//! Nothing may panic, and every refusal must be a refusal (never an allow, never a 5xx).
//! `PROPTEST_CASES` sets the number of cases (256 by default; `bash scripts/fuzz` runs many more).

use auth::{Password, Username};
use auth_edge::api;
use auth_testing::{event, request, verifier, with_body};
use base64::Engine as _;
use proptest::prelude::*;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Three base64url segments of arbitrary bytes or of JSON-ish text.
fn token_like() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| b64(&b)),
        "\\{\"alg\":\"(HS256|none|RS256|HS512|EdDSA)\",\"kid\":\"[a-z0-9-]{0,20}\"\\}"
            .prop_map(|s| b64(s.as_bytes())),
        "\\{\"sub\":\"[0-9a-f]{32}\",\"jti\":\"[0-9a-f]{0,40}\",\"exp\":[0-9]{1,12}\\}"
            .prop_map(|s| b64(s.as_bytes())),
        "[A-Za-z0-9_=+/.-]{0,40}",
    ];
    (segment.clone(), segment.clone(), segment).prop_map(|(a, b, c)| format!("{a}.{b}.{c}"))
}

proptest! {
    #[test]
    fn token_verification_never_panics_and_never_accepts_forgeries(token in prop_oneof![token_like(), any::<String>()]) {
        prop_assert!(verifier().verify(&token, auth::clock::now()).is_err());
    }

    #[test]
    fn bearer_parsing_never_panics(value in any::<String>()) {
        if let Some(token) = authorizer::bearer_token(&value) {
            prop_assert!(!token.is_empty());
            prop_assert!(!token.bytes().any(|b| b.is_ascii_whitespace() || b == b','));
        }
    }

    #[test]
    fn usernames_are_valid_or_refused(input in any::<String>()) {
        if let Ok(name) = Username::parse(&input) {
            let s = name.as_str();
            prop_assert!((3..=32).contains(&s.len()));
            prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
        }
    }

    #[test]
    fn passwords_never_panic(input in any::<String>()) {
        let _ = Password::parse_new(input.clone());
        let _ = Password::parse_login(input);
    }

    #[test]
    fn request_bodies_are_parsed_or_refused_with_a_4xx(body in prop_oneof![
        any::<String>(),
        "\\{\"username\":\"[^\"]{0,40}\",\"password\":\"[^\"]{0,40}\"(,\"[a-z]{1,5}\":[0-9]{1,3})?\\}",
        "[\\[\\]{}\":,a-z0-9 ]{0,60}",
    ]) {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Credentials { username: String, password: String }
        let req = request(&with_body(event("login.json"), &body));
        if let Err(e) = api::parse_json::<Credentials>(&req) {
            let (status, _) = api::status_and_code(&e);
            prop_assert!(status.is_client_error(), "{status} for {body:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).map_or(64, |c: u32| (c / 8).max(64)),
        ..ProptestConfig::default()
    })]

    /// Arbitrary requests through the gateway (in process, no listener): never a 5xx, never a
    /// panic, protected routes never allowed without a genuine token.
    #[test]
    fn gateway_requests_are_never_a_5xx(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE")],
        path in prop_oneof![Just("/me".to_owned()), Just("/logout".to_owned()), Just("/login".to_owned()), Just("/register".to_owned()), "/[a-z/%.]{0,20}"],
        authorization in proptest::option::of(prop_oneof![token_like().prop_map(|t| format!("Bearer {t}")), any::<String>()]),
        content_type in proptest::option::of(prop_oneof![Just("application/json".to_owned()), "[a-z/+;=-]{0,30}"]),
        host in proptest::option::of("[a-zA-Z0-9.:\\[\\] -]{0,30}"),
        body in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let gateway = local_api::app::gateway(
                auth::store::memory::MemoryUsers::new(),
                auth::store::memory::MemorySessions::new(),
                auth::store::memory::MemoryAttempts::new(),
                &auth_testing::test_config(),
            )
            .await
            .unwrap();
            let mut req = lambda_http::http::Request::builder().method(method).uri(&path);
            if let Some(a) = &authorization
                && let Ok(v) = lambda_http::http::HeaderValue::from_str(a) {
                req = req.header("authorization", v);
            }
            if let Some(ct) = &content_type
                && let Ok(v) = lambda_http::http::HeaderValue::from_str(ct) {
                req = req.header("content-type", v);
            }
            if let Some(h) = &host
                && let Ok(v) = lambda_http::http::HeaderValue::from_str(h) {
                req = req.header("host", v);
            }
            let Ok(req) = req.body(body.clone()) else { return Ok(()) };
            let resp = gateway.handle(req, "127.0.0.1:40000".parse().unwrap()).await;
            let status = resp.status().as_u16();
            prop_assert!(status < 500, "{method} {path}: {status}");
            if path == "/me" && method == "GET" {
                prop_assert!(status == 401 || status == 403, "{status}");
            }
            Ok(())
        })?;
    }
}
