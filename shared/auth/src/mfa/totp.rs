//! TOTP (RFC 6238) as authenticator apps expect it: a 160-bit secret shown in base32, HMAC-SHA-1,
//! 6 digits, 30-second steps.
//!
//! Written here rather than taken from a crate: the algorithm is one HMAC and the dynamic
//! truncation of RFC 4226 §5.3 (a few lines, checked against the RFC's Appendix B vectors
//! below), the HMAC is `aws-lc-rs`'s (already linked by every function), and the TOTP crates
//! bring a second SHA-1/HMAC implementation and their own secret handling. Base32 is
//! `data-encoding`'s.

use aws_lc_rs::{constant_time, hmac};
use data_encoding::BASE32_NOPAD;
use zeroize::Zeroizing;

/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;
/// Length of a step, in seconds.
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Steps accepted on either side of the current one (clock drift, a code typed as it changed).
pub const SKEW_STEPS: i64 = 1;

/// A TOTP secret (the raw bytes; shown to the user once, in base32). Zeroed when dropped and
/// never printed by `Debug`.
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system random source");
        Self(Zeroizing::new(bytes))
    }

    /// The secret from its raw bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The secret from its base32 form (as shown to the user; case and padding ignored).
    pub fn from_base32(text: &str) -> Option<Self> {
        let upper = text.trim_end_matches('=').to_ascii_uppercase();
        BASE32_NOPAD
            .decode(upper.as_bytes())
            .ok()
            .map(Self::from_bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret in base32 without padding, as authenticator apps take it typed in.
    pub fn base32(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE32_NOPAD.encode(&self.0))
    }

    /// The `otpauth://totp/` URI that authenticator apps read from a QR code: label
    /// `issuer:account`, and the secret, issuer, algorithm, digits and period spelt out.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Zeroizing<String> {
        use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
        // Everything but RFC 3986's unreserved characters.
        const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        let issuer = utf8_percent_encode(issuer, ENCODED).to_string();
        let account = utf8_percent_encode(account, ENCODED).to_string();
        Zeroizing::new(format!(
            "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            self.base32().as_str()
        ))
    }

    /// The code for step `step` (RFC 4226's HOTP with the step as the counter).
    pub fn code_at_step(&self, step: i64) -> Zeroizing<String> {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let mac = hmac::sign(&key, &step.to_be_bytes());
        let mac = mac.as_ref();
        // Dynamic truncation (RFC 4226 §5.3).
        let offset = usize::from(mac[mac.len() - 1] & 0x0f);
        let value = u32::from_be_bytes([
            mac[offset],
            mac[offset + 1],
            mac[offset + 2],
            mac[offset + 3],
        ]) & 0x7fff_ffff;
        Zeroizing::new(format!(
            "{:0width$}",
            value % 10u32.pow(DIGITS as u32),
            width = DIGITS
        ))
    }

    /// The code at time `now` (epoch seconds).
    pub fn code_at(&self, now: i64) -> Zeroizing<String> {
        self.code_at_step(step_of(now))
    }

    /// The step whose code `code` is, among the steps within [`SKEW_STEPS`] of `now` and after
    /// `after` (the last step accepted for this secret, so that no code is accepted twice).
    /// Every candidate is compared in constant time; white space in `code` is ignored.
    pub fn verify(&self, code: &str, now: i64, after: Option<i64>) -> Option<i64> {
        // As apps show it ("123 456") or typed without the space.
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let current = step_of(now);
        let mut found = None;
        for step in current - SKEW_STEPS..=current + SKEW_STEPS {
            let matches = constant_time::verify_slices_are_equal(
                self.code_at_step(step).as_bytes(),
                code.as_bytes(),
            )
            .is_ok();
            if matches && after.is_none_or(|last| step > last) && found.is_none() {
                found = Some(step);
            }
        }
        found
    }
}

/// The step that time `now` (epoch seconds) falls in.
pub fn step_of(now: i64) -> i64 {
    now.div_euclid(STEP_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (8 digits there; the last 6 are the 6-digit code).
    #[test]
    fn rfc_6238_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(secret.code_at(time).as_str(), &eight[2..], "at {time}");
        }
    }

    #[test]
    fn accepts_one_step_either_side_and_never_a_step_twice() {
        let secret = TotpSecret::generate();
        let now = 1_800_000_015;
        let step = step_of(now);
        for offset in -1..=1 {
            let code = secret.code_at_step(step + offset);
            assert_eq!(secret.verify(&code, now, None), Some(step + offset));
            assert_eq!(
                secret.verify(&code, now, Some(step + offset)),
                None,
                "replay"
            );
        }
        for offset in [-3, -2, 2, 3] {
            let code = secret.code_at_step(step + offset);
            // A code of a far step may collide with a near one by chance (1 in 10^6).
            if (-1..=1).all(|o| secret.code_at_step(step + o) != code) {
                assert_eq!(secret.verify(&code, now, None), None);
            }
        }
        let spaced = format!(
            "{} {}",
            &secret.code_at_step(step)[..3],
            &secret.code_at_step(step)[3..]
        );
        assert_eq!(
            secret.verify(&spaced, now, None),
            Some(step),
            "as apps show it"
        );
        assert_eq!(secret.verify("12345", now, None), None);
        assert_eq!(secret.verify("abcdef", now, None), None);
        assert_eq!(secret.verify("", now, None), None);
    }

    #[test]
    fn base32_and_uri_are_what_apps_read() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        assert_eq!(secret.base32().as_str(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let back = TotpSecret::from_base32("gezdgnbvgy3tqojqgezdgnbvgy3tqojq").unwrap();
        assert_eq!(back.as_bytes(), secret.as_bytes());
        assert_eq!(
            secret.otpauth_uri("My Service & Co", "ada.l-o_v").as_str(),
            "otpauth://totp/My%20Service%20%26%20Co:ada.l-o_v?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=My%20Service%20%26%20Co&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(format!("{secret:?}"), "TotpSecret(..)");
    }
}
