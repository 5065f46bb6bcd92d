//! AWS Signature Version 4 for the direct client's one kind of request: `POST /` to a JSON
//! service with the headers `content-type`, `host`, `x-amz-date`, `x-amz-target` and, with
//! temporary credentials, `x-amz-security-token`, all signed, with the body's SHA-256.
//!
//! Why not `aws-sigv4`, AWS's own signer, which this client used until 2026-12: it is general
//! (any method, path, query and header set, presigning, S3's rules), builds the canonical request
//! through several owned strings, derives the signing key with four HMACs on every request, and
//! hashes with the RustCrypto `sha2` crate. Measured on the warm authorizer (bench/NOTES.md):
//! `perf` put signing at 7% of its CPU; a cachegrind count put it at 32% of its user-space
//! instructions (valgrind hides the CPU's SHA extensions, so `sha2` ran its portable code there,
//! which inflates that share), and this signer cut the count per invocation by 24%; interleaved
//! runs of the two builds measured about 14% less CPU per invocation. Here
//! the canonical request has one fixed shape, the signing key is derived once per UTC day and
//! service (the scope's date is part of it), and hashing and HMAC are aws-lc-rs's, the library
//! that already verifies the JWTs.
//!
//! The algorithm is the one in AWS's documentation ("Create a signed AWS API request"); the
//! tests hold it to `aws-sigv4`'s output for the same request and time, and the signing test
//! (`shared/testing/tests/direct_signing.rs`) to moto with request authentication on, which
//! recomputes every signature with botocore.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use aws_lc_rs::{digest, hmac};

use crate::client::AwsCredentials;

/// The signing algorithm's name, as it appears in the string to sign and the header.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The signed headers, in canonical (sorted) order, without and with a session token.
const SIGNED_HEADERS: &str = "content-type;host;x-amz-date;x-amz-target";
const SIGNED_HEADERS_WITH_TOKEN: &str =
    "content-type;host;x-amz-date;x-amz-security-token;x-amz-target";

/// Signs requests for one service in one region with one set of credentials.
pub(crate) struct Signer {
    credentials: Arc<AwsCredentials>,
    /// `/<region>/<service>/aws4_request`: the credential scope after its date.
    scope_tail: String,
    region: String,
    service: &'static str,
    /// The signing key of one day (`YYYYMMDD`): it changes only with the date.
    day_key: Mutex<Option<([u8; 8], hmac::Key)>>,
}

/// The headers a signature adds to a request.
pub(crate) struct Signature {
    /// `x-amz-date`, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// `authorization`.
    pub authorization: String,
}

impl Signer {
    pub(crate) fn new(
        credentials: Arc<AwsCredentials>,
        region: &str,
        service: &'static str,
    ) -> Self {
        Self {
            credentials,
            scope_tail: format!("/{region}/{service}/aws4_request"),
            region: region.to_owned(),
            service,
            day_key: Mutex::new(None),
        }
    }

    /// The signature of `POST /` to `host` with `content_type`, `target` and `body`, at `time`.
    /// The caller sends exactly these header values (and the session token, if any, as
    /// `x-amz-security-token`). They are signed as they are: SigV4 trims a value's surrounding
    /// spaces and collapses runs of spaces inside, and none of these has any (constants, a
    /// parsed URI's authority, credentials the configuration checked to be visible ASCII).
    pub(crate) fn sign(
        &self,
        host: &str,
        content_type: &str,
        target: &str,
        body: &[u8],
        time: SystemTime,
    ) -> Signature {
        let amz_date = amz_date(time);
        let day: [u8; 8] = amz_date.as_bytes()[..8]
            .try_into()
            .expect("an x-amz-date starts with its eight-digit day");
        let day_text = &amz_date[..8];
        let token = self.credentials.session_token.as_deref();
        let signed_headers = if token.is_some() {
            SIGNED_HEADERS_WITH_TOKEN
        } else {
            SIGNED_HEADERS
        };

        debug_assert!(
            [host, content_type, target, token.unwrap_or_default()]
                .iter()
                .all(|v| v.trim() == *v && !v.contains("  ")),
            "a header value SigV4 would normalise"
        );
        let mut canonical = String::with_capacity(320 + token.map_or(0, str::len));
        canonical.push_str("POST\n/\n\ncontent-type:");
        canonical.push_str(content_type);
        canonical.push_str("\nhost:");
        canonical.push_str(host);
        canonical.push_str("\nx-amz-date:");
        canonical.push_str(&amz_date);
        if let Some(token) = token {
            canonical.push_str("\nx-amz-security-token:");
            canonical.push_str(token);
        }
        canonical.push_str("\nx-amz-target:");
        canonical.push_str(target);
        canonical.push_str("\n\n");
        canonical.push_str(signed_headers);
        canonical.push('\n');
        push_hex(
            &mut canonical,
            digest::digest(&digest::SHA256, body).as_ref(),
        );

        let mut to_sign = String::with_capacity(160);
        to_sign.push_str(ALGORITHM);
        to_sign.push('\n');
        to_sign.push_str(&amz_date);
        to_sign.push('\n');
        to_sign.push_str(day_text);
        to_sign.push_str(&self.scope_tail);
        to_sign.push('\n');
        push_hex(
            &mut to_sign,
            digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref(),
        );

        let signature = {
            let mut cached = self.day_key.lock().unwrap_or_else(|e| e.into_inner());
            let key = match &*cached {
                Some((cached_day, key)) if *cached_day == day => key,
                _ => &cached.insert((day, self.signing_key(day_text))).1,
            };
            hmac::sign(key, to_sign.as_bytes())
        };

        let mut authorization = String::with_capacity(200 + signed_headers.len());
        authorization.push_str(ALGORITHM);
        authorization.push_str(" Credential=");
        authorization.push_str(&self.credentials.access_key_id);
        authorization.push('/');
        authorization.push_str(day_text);
        authorization.push_str(&self.scope_tail);
        authorization.push_str(", SignedHeaders=");
        authorization.push_str(signed_headers);
        authorization.push_str(", Signature=");
        push_hex(&mut authorization, signature.as_ref());
        Signature {
            amz_date,
            authorization,
        }
    }

    /// The day's signing key: HMAC chained over the day, region, service and `aws4_request`,
    /// starting from `AWS4` + the secret key.
    fn signing_key(&self, day: &str) -> hmac::Key {
        let secret = format!("AWS4{}", self.credentials.secret_access_key);
        let mut key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        for part in [day, &self.region, self.service, "aws4_request"] {
            let tag = hmac::sign(&key, part.as_bytes());
            key = hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref());
        }
        key
    }
}

/// `time` as `x-amz-date` wants it: `YYYYMMDDTHHMMSSZ`, UTC.
fn amz_date(time: SystemTime) -> String {
    let t = time::OffsetDateTime::from(time);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Appends `bytes` in lower-case hexadecimal.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// What `aws-sigv4` (AWS's general signer) answers for the same request.
    fn reference(
        credentials: &AwsCredentials,
        (region, service): (&str, &str),
        host: &str,
        content_type: &str,
        target: &str,
        body: &[u8],
        time: SystemTime,
    ) -> (String, String, Option<String>) {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let identity = aws_credential_types::Credentials::new(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            credentials.session_token.clone(),
            None,
            "test",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let url = format!("https://{host}/");
        let headers = [
            ("host", host),
            ("content-type", content_type),
            ("x-amz-target", target),
        ];
        let signable = SignableRequest::new(
            "POST",
            &url,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let header = |name: &str| {
            instructions
                .headers()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_owned())
        };
        (
            header("x-amz-date").unwrap(),
            header("authorization").unwrap(),
            header("x-amz-security-token"),
        )
    }

    #[test]
    fn signatures_match_aws_sigv4() {
        let times = [
            UNIX_EPOCH + Duration::from_secs(1_440_938_160), // 2015-08-30T12:36:00Z
            UNIX_EPOCH + Duration::from_secs(1_796_256_000), // 2026-12-03T00:00:00Z
            UNIX_EPOCH + Duration::from_secs(1_796_342_399), // the same day: its key, kept
            UNIX_EPOCH + Duration::from_secs(1_796_342_400), // midnight: a new day's key
            UNIX_EPOCH + Duration::from_secs(951_782_400),   // 2000-02-29
        ];
        let cases = [
            (None, "eu-west-1", "dynamodb", "dynamodb.eu-west-1.amazonaws.com",
             "application/x-amz-json-1.0", "DynamoDB_20120810.BatchGetItem",
             &br#"{"RequestItems":{"t":{"Keys":[{"pk":{"S":"x"}}],"ConsistentRead":true}}}"#[..]),
            (Some("FwoGZXIvYXdzEXAMPLE/+token=="), "us-east-1", "secretsmanager",
             "127.0.0.1:4566", "application/x-amz-json-1.1", "secretsmanager.GetSecretValue",
             &br#"{"SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:k","VersionStage":"AWSCURRENT"}"#[..]),
            (Some("t"), "cn-north-1", "dynamodb", "localhost", "application/x-amz-json-1.0",
             "DynamoDB_20120810.GetItem", &b""[..]),
        ];
        for (token, region, service, host, content_type, target, body) in cases {
            let credentials = Arc::new(AwsCredentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                token.map(str::to_owned),
            ));
            // One signer across the times, so the day's key is reused and replaced.
            let signer = Signer::new(credentials.clone(), region, service);
            for time in times {
                let ours = signer.sign(host, content_type, target, body, time);
                let (date, authorization, sent_token) = reference(
                    &credentials,
                    (region, service),
                    host,
                    content_type,
                    target,
                    body,
                    time,
                );
                assert_eq!(ours.amz_date, date);
                assert_eq!(ours.authorization, authorization, "{service} at {date}");
                assert_eq!(sent_token.as_deref(), token);
            }
        }
    }

    #[test]
    fn the_day_key_changes_with_the_date() {
        let signer = Signer::new(
            Arc::new(AwsCredentials::new("AKID", "secret", None)),
            "eu-west-1",
            "dynamodb",
        );
        let day = UNIX_EPOCH + Duration::from_secs(1_796_342_399);
        let next = day + Duration::from_secs(1);
        let a = signer.sign("h", "c", "t", b"{}", day).authorization;
        let b = signer.sign("h", "c", "t", b"{}", next).authorization;
        assert!(
            a.contains("/20261203/eu-west-1/dynamodb/aws4_request"),
            "{a}"
        );
        assert!(
            b.contains("/20261204/eu-west-1/dynamodb/aws4_request"),
            "{b}"
        );
        // Back on the first day (a clock stepped back): that day's key again, not the cached one.
        assert_eq!(signer.sign("h", "c", "t", b"{}", day).authorization, a);
    }

    #[test]
    fn hex_is_lower_case() {
        let mut out = String::new();
        push_hex(&mut out, &[0x00, 0x0f, 0xa0, 0xff]);
        assert_eq!(out, "000fa0ff");
    }
}
