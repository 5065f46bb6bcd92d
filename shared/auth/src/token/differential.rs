//! The one-pass verifier against the `jsonwebtoken`-based one it replaced (kept here as
//! `reference`, with the rules added since on top: see [`hardening`]): both must give the same
//! answer, refusal reason included, on every token below.
//! The tokens are signed with the right key, so they reach the claim checks; times are kept far
//! from the leeway boundaries, because `reference` reads the system clock for `exp` and `nbf`.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::wire::is_base64url;
use super::*;
use crate::clock;
use crate::domain::{SessionId, TokenId, UserId, Username};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

#[derive(Deserialize)]
struct IncomingClaims {
    sub: Option<String>,
    username: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
    jti: Option<String>,
    sid: Option<String>,
}

/// `TokenVerifier::verify` as it was, for one key.
fn reference(
    algorithm: Algorithm,
    kid: &str,
    key: &DecodingKey,
    settings: &TokenSettings,
    token: &str,
    now: i64,
) -> Result<VerifiedToken, TokenError> {
    let mut validation = Validation::new(algorithm);
    validation.leeway = settings.leeway_seconds;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    let leeway = settings.leeway_seconds as i64;

    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let segments: Vec<&str> = token.split('.').collect();
    if segments.len() != 3
        || segments
            .iter()
            .any(|s| s.is_empty() || !s.bytes().all(is_base64url))
    {
        return Err(TokenError::Malformed);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.alg != algorithm {
        return Err(TokenError::WrongAlgorithm);
    }
    let raw_header = raw_json(segments[0]);
    if hardening::unsupported_header(&raw_header) {
        return Err(TokenError::UnsupportedHeader);
    }
    if header.kid.as_deref() != Some(kid) {
        return Err(TokenError::UnknownKey);
    }
    let data =
        jsonwebtoken::decode::<IncomingClaims>(token, key, &validation).map_err(|e| {
            match e.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
                ErrorKind::InvalidAudience => TokenError::WrongAudience,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    TokenError::WrongAlgorithm
                }
                ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidSubject => {
                    TokenError::InvalidClaims
                }
                _ => TokenError::Malformed,
            }
        })?;
    let c = data.claims;
    let (Some(sub), Some(username), Some(iat), Some(exp), Some(jti), Some(sid)) =
        (c.sub, c.username, c.iat, c.exp, c.jti, c.sid)
    else {
        return Err(TokenError::InvalidClaims);
    };
    if iat > now + leeway {
        return Err(TokenError::NotYetValid);
    }
    hardening::claims(&raw_json(segments[1]), iat, exp, settings)?;
    Ok(VerifiedToken {
        user_id: UserId::parse(&sub).map_err(|_| TokenError::InvalidClaims)?,
        username: Username::parse(&username).map_err(|_| TokenError::InvalidClaims)?,
        session_id: SessionId::parse(&sid).map_err(|_| TokenError::InvalidClaims)?,
        token_id: TokenId::parse(&jti).map_err(|_| TokenError::InvalidClaims)?,
        issued_at: iat,
        expires_at: exp,
    })
}

/// The members the hardening rules read, each `Some` when present (`null` included); the
/// others are skipped unread, however deep (the reference has already refused what it cannot
/// decode).
#[derive(Deserialize, Default)]
struct Raw {
    #[serde(default, deserialize_with = "some")]
    crit: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "some")]
    typ: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "some")]
    enc: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "some")]
    zip: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "some")]
    iss: Option<serde_json::Value>,
}

fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// A segment's members as [`Raw`] reads them.
fn raw_json(segment: &str) -> Raw {
    let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or_default()
}

/// The rules added to the verifier after the rewrite (the outside review of issue 13), written
/// here plainly on the raw JSON, in the order the verifier applies them.
mod hardening {
    use super::*;

    /// `crit` in any form (`null` too), `enc` or `zip` (JWE parameters), a `typ` other than
    /// `JWT`.
    pub fn unsupported_header(header: &Raw) -> bool {
        header.crit.is_some()
            || header.enc.is_some()
            || header.zip.is_some()
            || header.typ.as_ref().is_some_and(|typ| typ != "JWT")
    }

    /// `iss` only as a string; `iat` not negative; `exp - iat` within the access-token lifetime
    /// plus the leeway.
    pub fn claims(
        claims: &Raw,
        iat: i64,
        exp: i64,
        settings: &TokenSettings,
    ) -> Result<(), TokenError> {
        if !claims
            .iss
            .as_ref()
            .is_some_and(serde_json::Value::is_string)
        {
            return Err(TokenError::WrongIssuer);
        }
        if iat < 0 {
            return Err(TokenError::InvalidClaims);
        }
        let longest = i128::from(settings.ttl_seconds) + i128::from(settings.leeway_seconds);
        if i128::from(exp) - i128::from(iat) > longest {
            return Err(TokenError::LifetimeTooLong);
        }
        Ok(())
    }
}

fn settings() -> TokenSettings {
    TokenSettings {
        issuer: "iss-test".into(),
        audience: "aud-test".into(),
        ttl_seconds: 3600,
        leeway_seconds: 5,
    }
}

fn b64(v: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(v)
}

/// A token from raw header and claims JSON text (so duplicate keys can be written), signed
/// with HS256 under [`SECRET`].
fn hs256(header: &str, claims: &str) -> String {
    let msg = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    format!("{msg}.{}", b64(hmac::sign(&key, msg.as_bytes()).as_ref()))
}

/// [`hs256`] for JSON that need not be UTF-8.
fn hs256_bytes(header: &[u8], claims: &[u8]) -> String {
    let msg = format!("{}.{}", b64(header), b64(claims));
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    format!("{msg}.{}", b64(hmac::sign(&key, msg.as_bytes()).as_ref()))
}

/// The claims JSON of a good token, with `name` given the raw JSON `value` (`None`: left
/// out), and `extra` raw JSON members appended.
fn claims(now: i64, name: &str, value: Option<&str>, extra: &str) -> String {
    let good = [
        ("sub", format!("\"{}\"", UserId::generate().as_str())),
        ("username", "\"alice\"".into()),
        ("iat", now.to_string()),
        ("nbf", now.to_string()),
        ("exp", (now + 600).to_string()),
        ("jti", format!("\"{}\"", TokenId::generate().as_str())),
        ("sid", format!("\"{}\"", SessionId::generate().as_str())),
        ("iss", "\"iss-test\"".into()),
        ("aud", "\"aud-test\"".into()),
    ];
    let mut members: Vec<String> = good
        .iter()
        .filter(|(k, _)| *k != name)
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect();
    if let Some(value) = value {
        members.push(format!("\"{name}\":{value}"));
    }
    if !extra.is_empty() {
        members.push(extra.to_owned());
    }
    format!("{{{}}}", members.join(","))
}

#[test]
fn hs256_tokens() {
    let key = HmacKey::new(SECRET.to_vec()).unwrap();
    let kid = key.kid().to_owned();
    let verifier = TokenVerifier::new([&key], &settings()).unwrap();
    let decoding = DecodingKey::from_secret(SECRET).unwrap();
    let now = clock::now();
    let good_header = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#);
    let good = claims(now, "", None, "");

    let mut tokens: Vec<(String, String)> = Vec::new();
    let mut add = |name: String, token: String| tokens.push((name, token));

    // Headers.
    let headers = [
        r#"{"alg":"HS256","kid":"KID"}"#.to_owned(),
        r#" {"alg":"HS256","kid":"KID"} "#.into(),
        r#"{"alg":"HS256","kid":"KID"} x"#.into(),
        r#"{"alg":"HS256","kid":"KID""#.into(),
        r#"["HS256","KID"]"#.into(),
        r#"[null,"HS256"]"#.into(),
        r#""HS256""#.into(),
        "null".into(),
        "{}".into(),
        r#"{"kid":"KID"}"#.into(),
        r#"{"alg":null,"kid":"KID"}"#.into(),
        r#"{"alg":"none","kid":"KID"}"#.into(),
        r#"{"alg":"None","kid":"KID"}"#.into(),
        r#"{"alg":"hs256","kid":"KID"}"#.into(),
        r#"{"alg":"HS512","kid":"KID"}"#.into(),
        r#"{"alg":"RS256","kid":"KID"}"#.into(),
        r#"{"alg":"EdDSA","kid":"KID"}"#.into(),
        r#"{"alg":"HS256","alg":"HS256","kid":"KID"}"#.into(),
        r#"{"alg":"HS256","kid":"KID","kid":"KID"}"#.into(),
        r#"{"alg":"HS256","kid":"KID","typ":"JWT","typ":"JWT"}"#.into(),
        r#"{"alg":"HS256","kid":"KID","foo":1,"foo":2}"#.into(),
        r#"{"alg":"HS256"}"#.into(),
        r#"{"alg":"HS256","kid":null}"#.into(),
        r#"{"alg":"HS256","kid":5}"#.into(),
        r#"{"alg":"HS256","kid":"other"}"#.into(),
        r#"{"alg":"HS256","kid":"KID","typ":5}"#.into(),
        r#"{"alg":"HS256","kid":"KID","typ":null}"#.into(),
        r#"{"alg":"HS256","kid":"KID","typ":"anything"}"#.into(),
        r#"{"alg":"HS256","kid":"KID","cty":[]}"#.into(),
        r#"{"alg":"HS256","kid":"KID","crit":null}"#.into(),
        r#"{"alg":"HS256","kid":"KID","crit":[]}"#.into(),
        r#"{"alg":"HS256","kid":"KID","crit":["b64"],"b64":true}"#.into(),
        r#"{"alg":"HS256","kid":"KID","crit":"b64"}"#.into(),
        r#"{"alg":"HS256","kid":"KID","crit":[5]}"#.into(),
        r#"{"alg":"HS512","kid":"KID","crit":[5]}"#.into(),
        r#"{"alg":"HS256","kid":"KID","b64":true}"#.into(),
        r#"{"alg":"HS256","kid":"KID","b64":false}"#.into(),
        r#"{"alg":"HS256","kid":"KID","b64":null}"#.into(),
        r#"{"alg":"HS256","kid":"KID","b64":"true"}"#.into(),
        r#"{"alg":"HS256","kid":"other","b64":false}"#.into(),
        r#"{"alg":"HS256","kid":"KID","jwk":{}}"#.into(),
        r#"{"alg":"HS256","kid":"KID","jwk":5}"#.into(),
        r#"{"alg":"HS256","kid":"KID","jwk":{"kty":"oct","k":"AAAA"}}"#.into(),
        r#"{"alg":"HS256","kid":"KID","x5c":["a"]}"#.into(),
        r#"{"alg":"HS256","kid":"KID","x5c":"a"}"#.into(),
        r#"{"alg":"HS256","kid":"KID","x5c":[1]}"#.into(),
        r#"{"alg":"HS256","kid":"KID","x5t#S256":5}"#.into(),
        r#"{"alg":"HS256","kid":"KID","enc":"A128GCM","zip":"DEF"}"#.into(),
        r#"{"alg":"HS256","kid":"KID","enc":1}"#.into(),
        r#"{"alg":"HS256","kid":"KID","zip":{}}"#.into(),
        r#"{"alg":"HS256","kid":"KID","url":"u","nonce":"n","jku":"j","x5u":"x","x5t":"t"}"#.into(),
        r#"{"alg":"HS256","kid":"KID","nonce":false}"#.into(),
        r#"{"alg":"HS256","kid":"KID","custom":{"a":[1,{"b":null}]}}"#.into(),
        r#"{"\u0061lg":"HS256","kid":"KID"}"#.into(),
    ];
    for h in headers {
        let h = h.replace("KID", &kid);
        add(format!("header {h}"), hs256(&h, &good));
    }
    // A kid spelled with an escape still names the key.
    let escaped_kid = kid.replacen('-', "\\u002d", 1);
    add(
        "escaped kid".into(),
        hs256(
            &format!(r#"{{"alg":"HS256","kid":"{escaped_kid}"}}"#),
            &good,
        ),
    );

    // Claims: each claim left out, null, and of every JSON type.
    let values = [
        None,
        Some("null"),
        Some("true"),
        Some("0"),
        Some("-1"),
        Some("-0"),
        Some("1.5"),
        Some("1e300"),
        Some("18446744073709551615"),
        Some("9223372036854775808"),
        Some("\"x\""),
        Some("\"\""),
        Some("[]"),
        Some("[1]"),
        Some("[\"iss-test\"]"),
        Some("[\"aud-test\"]"),
        Some("[\"evil\",\"iss-test\",\"aud-test\"]"),
        Some("[\"iss-test\",5]"),
        Some("[\"aud-test\",null]"),
        Some("[[\"aud-test\"]]"),
        Some("[\"aud-test\",[\"x\"]]"),
        Some("[\"iss-test\",{\"a\":[1,\"b\",null]}]"),
        Some("[\"iss-test\",\"aud-test\",\"aud-test\"]"),
        Some("{}"),
        Some("{\"a\":1}"),
        Some("\"alice\""),
        Some("\"al\\u0069ce\""),
        Some("\"aud-test\""),
        Some("\"iss-test\""),
        Some("\"aud\\u002dtest\""),
    ];
    let names = [
        "sub", "username", "iat", "nbf", "exp", "jti", "sid", "iss", "aud",
    ];
    for name in names {
        for value in values {
            let c = claims(now, name, value, "");
            add(format!("{name}: {value:?}"), hs256(&good_header, &c));
        }
        // The same claim twice, with the same value.
        let good_map: serde_json::Value = serde_json::from_str(&good).unwrap();
        let c = format!(
            "{},\"{name}\":{}}}",
            good.trim_end_matches('}'),
            good_map[name]
        );
        add(format!("{name} twice"), hs256(&good_header, &c));
    }
    // Nesting past the parser's depth limit, in a claim read and in one skipped.
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    for name in ["aud", "iss", "nbf", "custom"] {
        let c = claims(now, name, Some(&deep), "");
        add(format!("{name} deep"), hs256(&good_header, &c));
    }
    let t = now.to_string();
    let times = [
        ("iat", (now + 1000).to_string()),
        ("iat", (now - 100_000).to_string()),
        ("iat", "-100".into()),
        ("nbf", (now + 1000).to_string()),
        ("nbf", format!("{t}.4")),
        ("nbf", format!("{}.0", now + 1000)),
        ("nbf", "1e3".into()),
        ("nbf", "-1.0".into()),
        ("exp", (now - 1000).to_string()),
        ("exp", format!("{}.0", now + 600)),
        ("exp", "9223372036854775807".into()),
    ];
    for (name, value) in times {
        let c = claims(now, name, Some(&value), "");
        add(format!("{name}: {value}"), hs256(&good_header, &c));
    }
    // Several defects at once: precedence between refusals.
    let multi = [
        r#""exp":1,"iss":"evil""#,
        r#""iss":"evil","aud":"evil""#,
        r#""exp":1,"nbf":99999999999"#,
        r#""username":5,"exp":1"#,
        r#""jti":"x","iat":99999999999"#,
        r#""iss":5,"exp":1"#,
        r#""nbf":[1],"aud":"evil""#,
    ];
    for m in multi {
        // Later duplicates would be refused, so drop the good ones first.
        let mut c: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&good).unwrap();
        for k in names {
            if m.contains(&format!("\"{k}\"")) {
                c.remove(k);
            }
        }
        let base = serde_json::Value::Object(c).to_string();
        let c = format!("{},{m}}}", base.trim_end_matches('}'));
        add(format!("claims with {m}"), hs256(&good_header, &c));
    }
    let whole = [
        "[]",
        "[1,2,3,4,5]",
        "null",
        "\"x\"",
        "5",
        "{}",
        "{",
        " {} ",
        "{} {}",
        "not json",
    ];
    for c in whole {
        add(format!("claims {c}"), hs256(&good_header, c));
    }
    // Deeply nested unknown claim.
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    add(
        "deep".into(),
        hs256(
            &good_header,
            &claims(now, "", None, &format!("\"x\":{deep}")),
        ),
    );

    // Bytes that are not UTF-8, in strings the verifiers read and in ones they skip.
    let not_utf8: [(&str, &str); 13] = [
        ("header", r#""kid":"KID","typ":"#),
        ("header", r#""kid":"KID","custom":"#),
        ("header", r#""kid":"KID","custom":["#),
        ("header", r#""kid":"KID","jwk":{"kty":"oct","k":"AA","x":"#),
        ("header", r#""kid":"#),
        ("claims", r#""custom":"#),
        ("claims", r#""custom":["#),
        ("claims", r#""username":"#),
        ("claims", r#""aud":"#),
        ("claims", r#""aud":["aud-test","#),
        ("claims", r#""iss":["iss-test",{"a":"#),
        ("claims", r#""aud":[["#),
        ("claims", r#""nbf":"#),
    ];
    for (part, member) in not_utf8 {
        let member = member.replace("KID", &kid);
        // Close what the member opened (its strings hold no brackets).
        let mut open = Vec::new();
        for c in member.chars() {
            match c {
                '[' | '{' => open.push(c),
                ']' | '}' => drop(open.pop()),
                _ => {}
            }
        }
        let close: String = open
            .iter()
            .rev()
            .map(|&c| if c == '[' { ']' } else { '}' })
            .collect();
        let mut value = format!("{member}\"").into_bytes();
        value.extend_from_slice(b"\xff\xfe");
        value.extend_from_slice(format!("\"{close}").as_bytes());
        let token = if part == "header" {
            let mut h = br#"{"alg":"HS256","#.to_vec();
            h.extend_from_slice(&value);
            h.push(b'}');
            hs256_bytes(&h, good.as_bytes())
        } else {
            // Replacing the good claim of that name, if any (a repeated one is malformed).
            let name = member.split('"').nth(1).unwrap();
            let mut m: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&good).unwrap();
            m.remove(name);
            let base = serde_json::Value::Object(m).to_string();
            let mut c = base.trim_end_matches('}').as_bytes().to_vec();
            c.push(b',');
            c.extend_from_slice(&value);
            c.push(b'}');
            hs256_bytes(good_header.as_bytes(), &c)
        };
        add(format!("not UTF-8 in {part} {member}"), token);
    }

    // Segments.
    let valid = hs256(&good_header, &good);
    let parts: Vec<&str> = valid.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let segment_cases = [
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}."),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}.{s}="),
        format!("{h}A.{p}.{s}"),
        format!("{h}AA.{p}.{s}"),
        format!("{h}.{p}A.{s}"),
        format!("{h}.{p}.{s}A"),
        format!("{h}.{p}.{}", &s[..s.len() - 1]),
        format!("{h}.{p}.AAAA"),
        format!("{h}.{p}.{}", "A".repeat(4000)),
        format!("{h}.{p}.{}", "A".repeat(4001)),
        format!("{h}.{p}.{}", "A".repeat(4002)),
        format!("{h}+.{p}.{s}"),
        format!("{h}.{p}.{s} "),
        format!("{h}.{p}.{}", s.replace(|_: char| true, "_")),
    ];
    for (i, t) in segment_cases.into_iter().enumerate() {
        add(format!("segments #{i}"), t);
    }
    // Non-canonical base64 (stray trailing bits) in each segment.
    let bump = |seg: &str| {
        let mut b = seg.as_bytes().to_vec();
        let last = b.last_mut().unwrap();
        *last = if *last == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    add("header bits".into(), format!("{}.{p}.{s}", bump(h)));
    add("payload bits".into(), format!("{h}.{}.{s}", bump(p)));
    add("signature bits".into(), format!("{h}.{p}.{}", bump(s)));
    // A payload that is not base64url of JSON, signed.
    for payload in ["A", "AB", "ABC", "____", "e30"] {
        let msg = format!("{}.{payload}", b64(good_header.as_bytes()));
        let hk = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
        let sig = b64(hmac::sign(&hk, msg.as_bytes()).as_ref());
        add(format!("payload {payload}"), format!("{msg}.{sig}"));
    }
    // Size.
    let pad = "x".repeat(MAX_TOKEN_BYTES);
    for n in [5500, 5800, 6000, 6200] {
        let c = claims(now, "", None, &format!("\"pad\":\"{}\"", &pad[..n]));
        add(format!("padded {n}"), hs256(&good_header, &c));
    }

    let mut accepted = 0;
    for (name, token) in &tokens {
        let ours = verifier.verify(token, now);
        let theirs = reference(Algorithm::HS256, &kid, &decoding, &settings(), token, now);
        assert_eq!(ours, theirs, "{name}: {token}");
        accepted += usize::from(ours.is_ok());
    }
    // The corpus reaches every stage, accepting as well as refusing.
    assert!(accepted >= 10, "{accepted} accepted");
    assert!(tokens.len() > 300, "{} tokens", tokens.len());
}

#[test]
fn ed25519_tokens() {
    let (private_pem, public_pem) = crate::testing_keys::ed25519_pem_pair();
    let private = Ed25519PrivateKey::from_pem(&private_pem).unwrap();
    let public = Ed25519PublicKey::all_from_pem(&public_pem).unwrap();
    let verifier = TokenVerifier::new_ed25519(&public, &settings());
    let decoding = DecodingKey::from_ed_der(&public[0].raw);
    let signer = TokenSigner::new_ed25519(&private, settings());
    let now = clock::now();
    let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&private.pkcs8).unwrap();
    let sign = |header: &str, claims: &str| {
        let msg = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        format!("{msg}.{}", b64(pair.sign(msg.as_bytes()).as_ref()))
    };
    let kid = private.kid().to_owned();
    let good = claims(now, "", None, "");
    let issued = signer
        .issue(
            &UserId::generate(),
            &Username::parse("alice").unwrap(),
            &SessionId::generate(),
            now,
        )
        .unwrap()
        .token;
    let parts: Vec<&str> = issued.split('.').collect();
    let tokens = [
        issued.clone(),
        sign(&format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#), &good),
        sign(&format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#), &good),
        sign(r#"{"alg":"EdDSA","kid":"x"}"#, &good),
        sign(
            &format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#),
            &claims(now, "exp", Some(&(now - 1000).to_string()), ""),
        ),
        hs256(&format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#), &good),
        format!("{}.{}.{}", parts[0], parts[1], &parts[2][..40]),
        format!("{}.{}.AAAA", parts[0], parts[1]),
        format!("{}.{}.{}", parts[0], b64(good.as_bytes()), parts[2]),
    ];
    for token in &tokens {
        let ours = verifier.verify(token, now);
        let theirs = reference(Algorithm::EdDSA, &kid, &decoding, &settings(), token, now);
        assert_eq!(ours, theirs, "{token}");
    }
}
