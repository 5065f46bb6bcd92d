//! Micro-benchmarks on the auth crate, single-threaded, release profile:
//! - Argon2id hash (and verify) time at the configured cost (`HashCost::default()`, the
//!   functions' default: m = 19456 KiB, t = 2, p = 1);
//! - JWT verification (`auth::token::TokenVerifier::verify`, the library's own verifier, what
//!   the authorizer runs) against raw HMAC-SHA256 (aws-lc-rs) of the same bytes, the token's
//!   signing input `base64(header).base64(payload)`, in the same run; `jwt_verify_vs_hmac` is
//!   the ratio of their medians (issue 7's target: at most 3). Also a lean verifier (one pass,
//!   fewer checks): the prototype the library's one-pass verifier was modelled on, kept for
//!   comparison.
//!
//! Prints one JSON object. `BENCH_QUICK=1` runs fewer rounds.

use std::hint::black_box;
use std::time::Instant;

use auth::password::{HashCost, PasswordHasher};
use auth::token::{HmacKey, TokenSettings, TokenVerifier};
use aws_lc_rs::hmac;
use base64::Engine as _;
use serde_json::json;

const SECRET: &str = "local-sample-secret-for-events-only-0123456789";
const ISSUER: &str = "jwt-session-service";
/// The `iat` of the sample token in events/.
const SAMPLE_ISSUED_AT: i64 = 1_764_374_400;

fn sample_token() -> String {
    let event = include_str!("../../../../events/authorizer-valid.json");
    let v: serde_json::Value = serde_json::from_str(event).unwrap();
    let h = v["headers"]["authorization"].as_str().unwrap();
    h.strip_prefix("Bearer ").unwrap().to_owned()
}

fn stats(mut per_op_ns: Vec<f64>) -> serde_json::Value {
    per_op_ns.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let q = |p: f64| per_op_ns[((per_op_ns.len() - 1) as f64 * p).round() as usize];
    json!({"median_ns": q(0.5), "p99_ns": q(0.99), "min_ns": per_op_ns[0], "samples": per_op_ns.len()})
}

/// Per-operation time, one sample per batch of `batch` calls.
fn bench(batches: usize, batch: usize, mut f: impl FnMut()) -> serde_json::Value {
    for _ in 0..batch * 10 {
        f(); // warm-up
    }
    let mut samples = Vec::with_capacity(batches);
    for _ in 0..batches {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        samples.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    stats(samples)
}

#[derive(serde::Deserialize)]
struct LeanHeader<'a> {
    alg: &'a str,
    kid: Option<&'a str>,
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct LeanClaims<'a> {
    sub: &'a str,
    username: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: &'a str,
    iss: &'a str,
    aud: &'a str,
}

/// The same checks as `TokenVerifier::verify` (size, three base64url segments, alg pinned, known
/// kid, no crit, signature, iss, aud, exp/nbf/iat with leeway, required claims), in one pass:
/// each segment decoded once, the MAC checked before the payload is parsed.
fn lean_verify(token: &str, kid: &str, key: &hmac::Key, now: i64, leeway: i64) -> Option<(String, String, String)> {
    if token.len() > 8192 {
        return None;
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (signing_input, sig) = token.rsplit_once('.')?;
    let (h, p) = signing_input.split_once('.')?;
    if h.is_empty() || p.is_empty() || sig.is_empty() {
        return None;
    }
    let mut buf = [0u8; 6144];
    let n = b64.decode_slice(h, &mut buf).ok()?;
    let header: LeanHeader = serde_json::from_slice(&buf[..n]).ok()?;
    if header.alg != "HS256" || header.crit.is_some() || header.kid != Some(kid) {
        return None;
    }
    let mut tag = [0u8; 64];
    let tn = b64.decode_slice(sig, &mut tag).ok()?;
    hmac::verify(key, signing_input.as_bytes(), &tag[..tn]).ok()?;
    let n = b64.decode_slice(p, &mut buf).ok()?;
    let c: LeanClaims = serde_json::from_slice(&buf[..n]).ok()?;
    if c.iss != ISSUER || c.aud != ISSUER || c.exp + leeway < now || c.nbf - leeway > now || c.iat - leeway > now {
        return None;
    }
    Some((c.sub.to_owned(), c.username.to_owned(), c.jti.to_owned()))
}

fn main() {
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    let token = sample_token();
    let settings = TokenSettings {
        issuer: ISSUER.into(),
        audience: ISSUER.into(),
        ttl_seconds: 3600,
        leeway_seconds: 5,
    };
    let key = HmacKey::new(SECRET.as_bytes().to_vec()).unwrap();
    let verifier = TokenVerifier::new([&key], &settings).unwrap();
    // The sample token lives 15 minutes from its `iat` (as every access token does), so it is
    // verified as of a minute after it was issued (scripts/fresh-events wrote it with --at).
    let now = SAMPLE_ISSUED_AT + 60;
    let verified = verifier.verify(&token, now).expect("the sample token verifies");
    assert_eq!(verified.username.as_str(), "sample-user");

    let (batches, batch) = if quick { (50, 200) } else { (300, 1000) };
    let signing_input = token.rsplit_once('.').unwrap().0.to_owned();
    let hkey = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
    let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.rsplit_once('.').unwrap().1)
        .unwrap();
    assert!(hmac::verify(&hkey, signing_input.as_bytes(), &tag).is_ok());
    assert!(lean_verify(&token, key.kid(), &hkey, now, 5).is_some());

    let jwt_verify = bench(batches, batch, || {
        black_box(verifier.verify(black_box(&token), now).is_ok());
    });
    let hmac_sign = bench(batches, batch, || {
        black_box(hmac::sign(&hkey, black_box(signing_input.as_bytes())));
    });
    let hmac_verify = bench(batches, batch, || {
        black_box(hmac::verify(&hkey, black_box(signing_input.as_bytes()), &tag).is_ok());
    });
    let lean = bench(batches, batch, || {
        black_box(lean_verify(black_box(&token), key.kid(), &hkey, now, 5));
    });

    let cost = HashCost::default();
    let hasher = PasswordHasher::new(cost).unwrap();
    let password = auth::Password::parse_login("correct horse battery staple".into()).unwrap();
    let rounds = if quick { 5 } else { 30 };
    let phc = hasher.hash(&password).unwrap();
    let mut hash_ms = Vec::new();
    let mut verify_ms = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(hasher.hash(&password).unwrap());
        hash_ms.push(t.elapsed().as_nanos() as f64);
        let t = Instant::now();
        assert!(hasher.verify(&password, &phc).unwrap());
        verify_ms.push(t.elapsed().as_nanos() as f64);
    }

    let out = json!({
        "token_bytes": token.len(),
        "signing_input_bytes": signing_input.len(),
        "jwt_verify": jwt_verify,
        "hmac_sha256_sign": hmac_sign,
        "hmac_sha256_verify": hmac_verify,
        "lean_verify": lean,
        "jwt_verify_vs_hmac": jwt_verify["median_ns"].as_f64().unwrap()
            / hmac_sign["median_ns"].as_f64().unwrap(),
        "argon2": {
            "memory_kib": cost.memory_kib,
            "iterations": cost.iterations,
            "parallelism": cost.parallelism,
            "hash": stats(hash_ms),
            "verify": stats(verify_ms),
        },
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
