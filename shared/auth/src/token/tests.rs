//! Unit tests of the token module: keys, issuing, and every rule of the verifier.

use base64::Engine as _;
use jsonwebtoken::Algorithm;

use super::wire::is_three_segments;
use super::*;
use crate::clock;
use crate::domain::{SessionId, TokenId, UserId, Username};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

fn settings() -> TokenSettings {
    TokenSettings {
        issuer: "iss-test".into(),
        audience: "aud-test".into(),
        ttl_seconds: 3600,
        leeway_seconds: 5,
    }
}

fn pair() -> (TokenSigner, TokenVerifier, HmacKey) {
    let key = HmacKey::new(SECRET.to_vec()).unwrap();
    (
        TokenSigner::new(&key, settings()).unwrap(),
        TokenVerifier::new([&key], &settings()).unwrap(),
        key,
    )
}

fn ids() -> (UserId, Username, SessionId) {
    (
        UserId::generate(),
        Username::parse("alice").unwrap(),
        SessionId::generate(),
    )
}

fn b64(v: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

/// Signs arbitrary header and claims JSON with HS256 under `secret`.
fn forge(header: &serde_json::Value, claims: &serde_json::Value, secret: &[u8]) -> String {
    let msg = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let sig = aws_lc_rs::hmac::sign(&key, msg.as_bytes());
    format!("{msg}.{}", b64(sig.as_ref()))
}

fn good_claims(now: i64) -> serde_json::Value {
    serde_json::json!({
        "sub": UserId::generate().as_str(), "username": "alice", "iat": now, "nbf": now,
        "exp": now + 60, "jti": TokenId::generate().as_str(), "sid": SessionId::generate().as_str(),
        "iss": "iss-test", "aud": "aud-test"
    })
}

#[test]
fn issued_tokens_verify() {
    let (signer, verifier, key) = pair();
    let (uid, name, sid) = ids();
    let now = clock::now();
    let t = signer.issue(&uid, &name, &sid, now).unwrap();
    let header = jsonwebtoken::decode_header(&t.token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(key.kid()));
    assert_eq!(header.alg, Algorithm::HS256);
    let v = verifier.verify(&t.token, now).unwrap();
    assert_eq!(
        (v.user_id, v.username, v.session_id),
        (uid.clone(), name.clone(), sid.clone())
    );
    assert_eq!(v.expires_at, now + 3600);
    assert_eq!(v.token_id.as_str(), t.claims.jti);
    // Every token of a session has its own id.
    let again = signer.issue(&uid, &name, &sid, now).unwrap();
    assert_ne!(again.claims.jti, t.claims.jti);
    assert_eq!(again.claims.sid, t.claims.sid);
}

#[test]
fn forged_helper_matches_the_library() {
    // The forge helper signs like the library does, so the refusals below are about the
    // claim or header under test and not about a helper that signs wrongly.
    let (_, verifier, key) = pair();
    let now = clock::now();
    let t = forge(
        &serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": key.kid()}),
        &good_claims(now),
        SECRET,
    );
    assert!(verifier.verify(&t, now).is_ok());
}

#[test]
fn refusals() {
    let (_, verifier, key) = pair();
    let now = clock::now();
    let hdr = serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": key.kid()});
    let with = |k: &str, v: serde_json::Value| {
        let mut c = good_claims(now);
        c[k] = v;
        forge(&hdr, &c, SECRET)
    };
    let without = |k: &str| {
        let mut c = good_claims(now);
        c.as_object_mut().unwrap().remove(k);
        forge(&hdr, &c, SECRET)
    };
    let cases: Vec<(&str, String, TokenError)> = vec![
        (
            "expired",
            with("exp", (now - 10).into()),
            TokenError::Expired,
        ),
        (
            "nbf future",
            with("nbf", (now + 60).into()),
            TokenError::NotYetValid,
        ),
        (
            "iat future",
            with("iat", (now + 60).into()),
            TokenError::NotYetValid,
        ),
        (
            "issuer",
            with("iss", "evil".into()),
            TokenError::WrongIssuer,
        ),
        (
            "audience",
            with("aud", "evil".into()),
            TokenError::WrongAudience,
        ),
        ("no sub", without("sub"), TokenError::InvalidClaims),
        ("no exp", without("exp"), TokenError::InvalidClaims),
        ("no jti", without("jti"), TokenError::InvalidClaims),
        ("no sid", without("sid"), TokenError::InvalidClaims),
        ("no iat", without("iat"), TokenError::InvalidClaims),
        (
            "no username",
            without("username"),
            TokenError::InvalidClaims,
        ),
        (
            "claims not an object",
            forge(&hdr, &serde_json::json!([1, 2]), SECRET),
            TokenError::Malformed,
        ),
        (
            "bad jti",
            with("jti", "x".into()),
            TokenError::InvalidClaims,
        ),
        (
            "bad sid",
            with("sid", "../x".into()),
            TokenError::InvalidClaims,
        ),
        (
            "other key",
            forge(
                &hdr,
                &good_claims(now),
                b"another-secret-of-32-bytes-or-more!!",
            ),
            TokenError::BadSignature,
        ),
        (
            "alg none",
            forge(
                &serde_json::json!({"alg": "none", "kid": key.kid()}),
                &good_claims(now),
                SECRET,
            ),
            TokenError::Malformed,
        ),
        (
            "hs512",
            forge(
                &serde_json::json!({"alg": "HS512", "kid": key.kid()}),
                &good_claims(now),
                SECRET,
            ),
            TokenError::WrongAlgorithm,
        ),
        (
            "no kid",
            forge(
                &serde_json::json!({"alg": "HS256"}),
                &good_claims(now),
                SECRET,
            ),
            TokenError::UnknownKey,
        ),
        (
            "unknown kid",
            forge(
                &serde_json::json!({"alg": "HS256", "kid": "../../etc/passwd"}),
                &good_claims(now),
                SECRET,
            ),
            TokenError::UnknownKey,
        ),
        ("two segments", "abc.def".into(), TokenError::Malformed),
        (
            "four segments",
            format!("{}.x", forge(&hdr, &good_claims(now), SECRET)),
            TokenError::Malformed,
        ),
        ("not base64url", "a+b.c/d.e=f".into(), TokenError::Malformed),
        (
            "too large",
            "a".repeat(MAX_TOKEN_BYTES + 1),
            TokenError::TooLarge,
        ),
    ];
    for (name, token, want) in cases {
        assert_eq!(verifier.verify(&token, now).unwrap_err(), want, "{name}");
    }
}

#[test]
fn altered_payload_or_stripped_signature_is_refused() {
    let (signer, verifier, _) = pair();
    let (uid, name, sid) = ids();
    let now = clock::now();
    let t = signer.issue(&uid, &name, &sid, now).unwrap().token;
    let parts: Vec<&str> = t.split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    claims["sub"] = UserId::generate().as_str().into();
    let altered = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        verifier.verify(&altered, now).unwrap_err(),
        TokenError::BadSignature
    );
    let stripped = format!("{}.{}.", parts[0], parts[1]);
    assert_eq!(
        verifier.verify(&stripped, now).unwrap_err(),
        TokenError::Malformed
    );
}

#[test]
fn ed25519_tokens_verify_only_with_the_public_key_and_pinned_algorithm() {
    let (private_pem, public_pem) = crate::testing_keys::ed25519_pem_pair();
    let private = Ed25519PrivateKey::from_pem(&private_pem).unwrap();
    let public = Ed25519PublicKey::all_from_pem(&public_pem).unwrap();
    assert_eq!(private.kid(), public[0].kid());
    assert!(private.kid().starts_with("ed25519-"));
    let signer = TokenSigner::new_ed25519(&private, settings());
    let verifier = TokenVerifier::new_ed25519(&public, &settings());
    let (uid, name, sid) = ids();
    let now = clock::now();
    let t = signer.issue(&uid, &name, &sid, now).unwrap().token;
    assert_eq!(
        jsonwebtoken::decode_header(&t).unwrap().alg,
        Algorithm::EdDSA
    );
    assert_eq!(verifier.verify(&t, now).unwrap().user_id, uid);

    // An HS256 token (even one keyed with the public key's bytes, the classic confusion
    // attack) is refused by the EdDSA verifier, and the other way round.
    let (hs_signer, hs_verifier, _) = pair();
    let hs = hs_signer.issue(&uid, &name, &sid, now).unwrap().token;
    assert_eq!(
        verifier.verify(&hs, now).unwrap_err(),
        TokenError::WrongAlgorithm
    );
    assert_eq!(
        hs_verifier.verify(&t, now).unwrap_err(),
        TokenError::WrongAlgorithm
    );
    let confused = forge(
        &serde_json::json!({"alg": "HS256", "kid": public[0].kid()}),
        &good_claims(now),
        public_pem.as_bytes(),
    );
    assert_eq!(
        verifier.verify(&confused, now).unwrap_err(),
        TokenError::WrongAlgorithm
    );

    // Another key pair: unknown kid; the same kid with a forged signature: bad signature.
    let (other_private, _) = crate::testing_keys::ed25519_pem_pair();
    let other = TokenSigner::new_ed25519(
        &Ed25519PrivateKey::from_pem(&other_private).unwrap(),
        settings(),
    );
    let t2 = other.issue(&uid, &name, &sid, now).unwrap().token;
    assert_eq!(
        verifier.verify(&t2, now).unwrap_err(),
        TokenError::UnknownKey
    );
    let parts: Vec<&str> = t.split('.').collect();
    let t2_sig = t2.split('.').nth(2).unwrap();
    let spliced = format!("{}.{}.{t2_sig}", parts[0], parts[1]);
    assert_eq!(
        verifier.verify(&spliced, now).unwrap_err(),
        TokenError::BadSignature
    );

    // Rotation: a verifier with both public keys accepts both.
    let both = format!(
        "{public_pem}\n{}",
        crate::testing_keys::public_pem_of(&other_private)
    );
    let both = Ed25519PublicKey::all_from_pem(&both).unwrap();
    let rotating = TokenVerifier::new_ed25519(&both, &settings());
    assert!(rotating.verify(&t, now).is_ok());
    assert!(rotating.verify(&t2, now).is_ok());

    assert!(Ed25519PrivateKey::from_pem(&public_pem).is_err());
    assert!(Ed25519PublicKey::all_from_pem(&private_pem).is_err());
    assert!(Ed25519PublicKey::all_from_pem("not pem").is_err());
}

#[test]
fn segments_are_three_non_empty_runs_of_the_base64url_alphabet() {
    assert!(is_three_segments("aZ.09.-_"));
    for bad in [
        "", "..", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "a=.b.c", "a.b+.c", "a.b.c\n",
    ] {
        assert!(!is_three_segments(bad), "{bad:?}");
    }
}

#[test]
fn large_tokens_within_the_cap_verify() {
    // Past the verifier's stack buffer (its segments are then decoded on the heap).
    let (_, verifier, key) = pair();
    let now = clock::now();
    let hdr = serde_json::json!({"alg": "HS256", "kid": key.kid()});
    let mut c = good_claims(now);
    c["pad"] = "x".repeat(5000).into();
    let t = forge(&hdr, &c, SECRET);
    assert!(t.len() > 6000 && t.len() <= MAX_TOKEN_BYTES);
    assert!(verifier.verify(&t, now).is_ok());
}

#[test]
fn short_secrets_are_refused() {
    assert!(HmacKey::new(vec![7; 31]).is_err());
    assert!(HmacKey::new(vec![7; 32]).is_ok());
}

#[test]
fn times_are_checked_against_now_with_the_leeway_inclusive() {
    let (_, verifier, key) = pair();
    let now = 1_000_000;
    let hdr = serde_json::json!({"alg": "HS256", "kid": key.kid()});
    let with = |k: &str, v: i64| {
        let mut c = good_claims(now);
        c[k] = v.into();
        forge(&hdr, &c, SECRET)
    };
    // The leeway is 5 s: `exp` may be 5 s past, `nbf` and `iat` 5 s ahead.
    assert!(verifier.verify(&with("exp", now - 5), now).is_ok());
    assert_eq!(
        verifier.verify(&with("exp", now - 6), now).unwrap_err(),
        TokenError::Expired
    );
    for claim in ["nbf", "iat"] {
        assert!(
            verifier.verify(&with(claim, now + 5), now).is_ok(),
            "{claim}"
        );
        assert_eq!(
            verifier.verify(&with(claim, now + 6), now).unwrap_err(),
            TokenError::NotYetValid,
            "{claim}"
        );
    }
    // `now` is the argument, not the system clock: a token issued now is expired in a year.
    let (signer, verifier, _) = pair();
    let (uid, name, sid) = ids();
    let t = signer.issue(&uid, &name, &sid, clock::now()).unwrap().token;
    assert_eq!(
        verifier
            .verify(&t, clock::now() + 365 * 86_400)
            .unwrap_err(),
        TokenError::Expired
    );
    assert_eq!(
        verifier.verify(&t, clock::now() - 60).unwrap_err(),
        TokenError::NotYetValid
    );
    // Extreme values do not overflow.
    assert_eq!(
        verifier.verify(&with("exp", 0), i64::MAX).unwrap_err(),
        TokenError::Expired
    );
}

#[test]
fn audience_may_be_an_array_that_contains_ours() {
    let (_, verifier, key) = pair();
    let now = clock::now();
    let hdr = serde_json::json!({"alg": "HS256", "kid": key.kid()});
    let aud = |v: serde_json::Value| {
        let mut c = good_claims(now);
        c["aud"] = v;
        verifier.verify(&forge(&hdr, &c, SECRET), now)
    };
    assert!(aud(serde_json::json!(["aud-test"])).is_ok());
    assert!(aud(serde_json::json!(["other", "aud-test"])).is_ok());
    assert_eq!(
        aud(serde_json::json!(["other"])).unwrap_err(),
        TokenError::WrongAudience
    );
    assert_eq!(
        aud(serde_json::json!([])).unwrap_err(),
        TokenError::WrongAudience
    );
    assert_eq!(
        aud(serde_json::json!(["aud-test", 1])).unwrap_err(),
        TokenError::InvalidClaims
    );
    assert_eq!(
        aud(serde_json::json!(7)).unwrap_err(),
        TokenError::InvalidClaims
    );
}

#[test]
fn padding_duplicate_keys_and_non_objects_are_malformed() {
    let (signer, verifier, key) = pair();
    let (uid, name, sid) = ids();
    let now = clock::now();
    let t = signer.issue(&uid, &name, &sid, now).unwrap().token;
    let parts: Vec<&str> = t.split('.').collect();
    for i in 0..3 {
        let mut padded: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        padded[i].push('=');
        assert_eq!(
            verifier.verify(&padded.join("."), now).unwrap_err(),
            TokenError::Malformed,
            "segment {i}"
        );
    }

    // Raw JSON text, so that a key can be written twice.
    let sign = |header: &str, claims: &str| {
        let msg = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
        let sig = aws_lc_rs::hmac::sign(&k, msg.as_bytes());
        format!("{msg}.{}", b64(sig.as_ref()))
    };
    let kid = key.kid();
    let hdr = format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#);
    let claims = good_claims(now).to_string();
    assert!(verifier.verify(&sign(&hdr, &claims), now).is_ok());
    let twice =
        |json: &str, k: &str, v: &str| format!("{},\"{k}\":{v}}}", json.trim_end_matches('}'));
    let cases = [
        ("alg twice", sign(&twice(&hdr, "alg", "\"HS256\""), &claims)),
        (
            "kid twice",
            sign(&twice(&hdr, "kid", &format!("\"{kid}\"")), &claims),
        ),
        (
            "exp twice",
            sign(&hdr, &twice(&claims, "exp", &(now + 60).to_string())),
        ),
        (
            "iss twice",
            sign(&hdr, &twice(&claims, "iss", "\"iss-test\"")),
        ),
        ("sid twice", sign(&hdr, &twice(&claims, "sid", "\"x\""))),
        (
            "header array",
            sign(&format!(r#"["HS256","{kid}"]"#), &claims),
        ),
        (
            "header b64 false",
            sign(&twice(&hdr, "b64", "false"), &claims),
        ),
        ("header not json", sign("{", &claims)),
        ("claims not json", sign(&hdr, "{")),
        ("claims string", sign(&hdr, "\"x\"")),
        (
            "username a number",
            sign(
                &hdr,
                &twice(&claims.replace("\"username\"", "\"u\""), "username", "5"),
            ),
        ),
    ];
    for (what, token) in cases {
        assert_eq!(
            verifier.verify(&token, now).unwrap_err(),
            TokenError::Malformed,
            "{what}"
        );
    }
    // A signature of the wrong length is a bad signature, however long.
    let long = format!("{}.{}.{}", parts[0], parts[1], "A".repeat(4000));
    assert_eq!(
        verifier.verify(&long, now).unwrap_err(),
        TokenError::BadSignature
    );
}

/// The outside review's findings (issue 13): each of these needs the key, so none was an
/// exploit, but each widened what a leaked or misused signer could do. Each is refused now, with
/// its own reason.
#[test]
fn refuses_what_no_signer_of_ours_issues() {
    let (_, verifier, key) = pair();
    let now = clock::now();
    let sign = |header: &str, claims: &str| {
        let msg = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
        let sig = aws_lc_rs::hmac::sign(&k, msg.as_bytes());
        format!("{msg}.{}", b64(sig.as_ref()))
    };
    let kid = key.kid();
    let header = |extra: &str| format!(r#"{{"alg":"HS256","kid":"{kid}"{extra}}}"#);
    let good = good_claims(now);
    let claims = |name: &str, value: serde_json::Value| {
        let mut c = good.clone();
        c[name] = value;
        c.to_string()
    };
    // What we issue, and what stays accepted.
    for accepted in ["", r#","typ":"JWT""#] {
        assert!(
            verifier
                .verify(&sign(&header(accepted), &good.to_string()), now)
                .is_ok(),
            "{accepted}"
        );
    }
    let cases = [
        (r#","crit":["exp"]"#, TokenError::UnsupportedHeader),
        (r#","crit":[]"#, TokenError::UnsupportedHeader),
        (r#","crit":null"#, TokenError::UnsupportedHeader),
        (r#","typ":"JWE""#, TokenError::UnsupportedHeader),
        (r#","typ":"""#, TokenError::UnsupportedHeader),
        (r#","typ":"jwt""#, TokenError::UnsupportedHeader),
        (r#","typ":null"#, TokenError::UnsupportedHeader),
        (r#","enc":"A128GCM""#, TokenError::UnsupportedHeader),
        (r#","enc":null"#, TokenError::UnsupportedHeader),
        (r#","zip":"DEF""#, TokenError::UnsupportedHeader),
    ];
    for (extra, refusal) in cases {
        assert_eq!(
            verifier
                .verify(&sign(&header(extra), &good.to_string()), now)
                .unwrap_err(),
            refusal,
            "{extra}"
        );
    }
    let ttl = settings().ttl_seconds;
    let leeway = settings().leeway_seconds as i64;
    let claim_cases = [
        (
            claims("iss", serde_json::json!(["iss-test"])),
            TokenError::WrongIssuer,
        ),
        (
            claims("iat", serde_json::json!(-1)),
            TokenError::InvalidClaims,
        ),
        (
            claims("exp", serde_json::json!(i64::MAX)),
            TokenError::LifetimeTooLong,
        ),
        (
            claims(
                "exp",
                serde_json::json!(good["iat"].as_i64().unwrap() + ttl + leeway + 1),
            ),
            TokenError::LifetimeTooLong,
        ),
    ];
    for (c, refusal) in claim_cases {
        assert_eq!(
            verifier.verify(&sign(&header(""), &c), now).unwrap_err(),
            refusal,
            "{c}"
        );
    }
    // The longest lifetime accepted: the configured one plus the leeway.
    let longest = claims(
        "exp",
        serde_json::json!(good["iat"].as_i64().unwrap() + ttl + leeway),
    );
    assert!(verifier.verify(&sign(&header(""), &longest), now).is_ok());
    for refusal in [TokenError::UnsupportedHeader, TokenError::LifetimeTooLong] {
        assert!(refusal.reason().starts_with("token_"));
    }
}

/// A template parameter holds one line: PEM blocks whose line breaks became spaces (as
/// `tr '\n' ' ' < public.pem` writes them) are the same keys.
#[test]
fn ed25519_public_keys_may_come_on_one_line() {
    let (_, first) = crate::testing_keys::ed25519_pem_pair();
    let (_, second) = crate::testing_keys::ed25519_pem_pair();
    let both = format!("{first}{second}");
    let kids = |pem: &str| -> Vec<String> {
        Ed25519PublicKey::all_from_pem(pem)
            .unwrap()
            .iter()
            .map(|k| k.kid().to_owned())
            .collect()
    };
    assert_eq!(kids(&both.replace('\n', " ")), kids(&both));
    assert_eq!(kids(&both).len(), 2);
}
