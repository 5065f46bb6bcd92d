//! Domain values, parsed once at the edge so that handlers only ever see valid ones.
//!
//! - [`Username`]: 3–32 characters from `a-z 0-9 . _ -`; ASCII upper case is accepted and folded
//!   to lower case, anything outside ASCII is refused (never normalised into someone else's name).
//! - [`Password`]: 8–128 characters for a new password, compared in Unicode normalisation form C
//!   (so `é` typed as one code point or as `e` + accent is the same password); kept secret: no
//!   `Display`, a redacted `Debug`, wiped from memory on drop.
//! - [`UserId`] and [`SessionId`]: 128-bit random identifiers written as 32 lower-case hex digits.

use std::fmt;

use zeroize::Zeroizing;

/// Why a value was refused at the edge. The message is meant for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidValue {
    /// The request field the value came from.
    pub field: &'static str,
    /// What is wrong with it, in words a client can act on.
    pub message: String,
}

impl InvalidValue {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }

    /// A new password equal to the current one, from request field `field`.
    pub fn same_as_current(field: &'static str) -> Self {
        Self::new(field, "must differ from the current password")
    }

    /// The same refusal, of a value that came from request field `field` (e.g. a password
    /// parsed from `new_password`).
    pub fn in_field(self, field: &'static str) -> Self {
        Self { field, ..self }
    }
}

/// A username: 3–32 characters from `a-z 0-9 . _ -`, stored in lower case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    /// Shortest accepted username, in characters.
    pub const MIN_LEN: usize = 3;
    /// Longest accepted username, in characters.
    pub const MAX_LEN: usize = 32;

    /// Parses a username as a client typed it. ASCII letters are folded to lower case, so
    /// `Alice` and `alice` are the same account; any other character outside `a-z 0-9 . _ -` is
    /// refused.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let len = input.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(InvalidValue::new(
                "username",
                format!(
                    "must be {} to {} characters long",
                    Self::MIN_LEN,
                    Self::MAX_LEN
                ),
            ));
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(InvalidValue::new(
                "username",
                "may contain only the letters a-z, digits 0-9, '.', '_' and '-'",
            ));
        }
        Ok(Self(input.to_ascii_lowercase()))
    }

    /// The username in its stored, lower-case form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({})", self.0)
    }
}

/// A password. It cannot be printed (no `Display`; `Debug` shows `Password(<redacted>)`), is
/// never serialised, and its memory is overwritten when it is dropped.
pub struct Password(Zeroizing<String>);

impl Password {
    /// Shortest password accepted for a new account, in characters.
    pub const MIN_LEN: usize = 8;
    /// Longest password accepted, in characters (bounds the hashing work a request can cause).
    pub const MAX_LEN: usize = 128;

    /// Parses a password chosen for a new account: 8–128 characters (after normalisation to
    /// NFC), no control characters, not only white space.
    pub fn parse_new(input: String) -> Result<Self, InvalidValue> {
        let input = normalize(input);
        let len = input.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(InvalidValue::new(
                "password",
                format!(
                    "must be {} to {} characters long",
                    Self::MIN_LEN,
                    Self::MAX_LEN
                ),
            ));
        }
        if input.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "password",
                "must not contain control characters",
            ));
        }
        if input.chars().all(char::is_whitespace) {
            return Err(InvalidValue::new(
                "password",
                "must not be only white space",
            ));
        }
        if is_common_password(&input) {
            return Err(InvalidValue::new(
                "password",
                "is one of the most common passwords; choose another",
            ));
        }
        Ok(Self(input))
    }

    /// Parses a password presented at login: 1–128 characters. The lower bound of
    /// [`Password::parse_new`] is not applied, so that a stricter policy later does not lock out
    /// accounts created under an older one.
    pub fn parse_login(input: String) -> Result<Self, InvalidValue> {
        let input = normalize(input);
        let len = input.chars().count();
        if !(1..=Self::MAX_LEN).contains(&len) {
            return Err(InvalidValue::new(
                "password",
                format!("must be 1 to {} characters long", Self::MAX_LEN),
            ));
        }
        Ok(Self(input))
    }

    /// The secret bytes, for the password hasher only.
    pub fn expose_secret(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The 10,000 most common passwords of 8 characters or more, lower case (see `data/README.md`).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Whether `password`, lower-cased, is on [`COMMON_PASSWORDS`].
pub fn is_common_password(password: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let set = SET.get_or_init(|| COMMON_PASSWORDS.lines().collect());
    set.contains(password.to_lowercase().as_str())
}

/// `input` in Unicode normalisation form C, the original wiped.
fn normalize(input: String) -> Zeroizing<String> {
    let input = Zeroizing::new(input);
    if unicode_normalization::is_nfc_quick(input.chars())
        == unicode_normalization::IsNormalized::Yes
    {
        return input;
    }
    use unicode_normalization::UnicodeNormalization as _;
    Zeroizing::new(input.nfc().collect())
}

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// A new identifier from 128 bits of the operating system's random generator.
            pub fn generate() -> Self {
                Self(random_hex::<16>())
            }

            /// Parses an identifier: exactly 32 lower-case hex digits.
            pub fn parse(input: &str) -> Result<Self, InvalidValue> {
                if input.len() == 32 && input.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    Ok(Self(input.to_owned()))
                } else {
                    Err(InvalidValue::new($field, "must be 32 lower-case hex digits"))
                }
            }

            /// The identifier as 32 lower-case hex digits.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }
    };
}

random_id!(
    /// The stable identifier of an account (the token's `sub`).
    UserId,
    "user_id"
);
random_id!(
    /// The identifier of a session (the `sid` claim of its access tokens, the key of its
    /// whitelist item). One session lives from login until logout, revocation or the end of its
    /// refresh token's lifetime; every access token refreshed within it carries the same `sid`.
    SessionId,
    "session_id"
);
random_id!(
    /// The identifier of one access token (its `jti`), fresh for every token issued.
    TokenId,
    "jti"
);

/// A refresh token: 256 bits from the operating system's random generator, written as 43
/// base64url characters (no padding). Opaque to clients; a secret like a password (no
/// `Display`, a redacted `Debug`, zeroed on drop). The store keeps only its SHA-256
/// ([`RefreshToken::hash`]), so a read of the table yields nothing that can be presented.
pub struct RefreshToken(Zeroizing<String>);

impl RefreshToken {
    /// Length of a refresh token, in characters.
    pub const LEN: usize = 43;

    /// A new token.
    pub fn generate() -> Self {
        use base64::Engine as _;
        let mut bytes = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(bytes.as_mut())
            .expect("the operating system's random generator failed");
        Self(Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()),
        ))
    }

    /// Parses a token as a client presents it: exactly [`RefreshToken::LEN`] base64url
    /// characters that encode 32 bytes (canonically). Anything else cannot have been issued.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        use base64::Engine as _;
        let canonical = input.len() == Self::LEN
            && base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(input)
                .is_ok_and(|bytes| bytes.len() == 32);
        if canonical {
            Ok(Self(Zeroizing::new(input.to_owned())))
        } else {
            Err(InvalidValue::new(
                "refresh_token",
                "not a refresh token this service issued",
            ))
        }
    }

    /// The token itself, for the response that hands it to the client.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// What the store keeps: the token's SHA-256.
    pub fn hash(&self) -> RefreshHash {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.0.as_bytes());
        RefreshHash(hex(digest.as_ref()))
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// The SHA-256 of a [`RefreshToken`], as 64 lower-case hex digits: the key of its item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefreshHash(String);

impl RefreshHash {
    /// Parses 64 lower-case hex digits (as the store holds them).
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        if input.len() == 64
            && input
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            Ok(Self(input.to_owned()))
        } else {
            Err(InvalidValue::new(
                "refresh_hash",
                "must be 64 lower-case hex digits",
            ))
        }
    }

    /// The hash as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `N` random bytes from the operating system, as lower-case hex.
pub fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).expect("the operating system's random generator failed");
    hex(&bytes)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_round_trip_and_refuse_look_alikes() {
        let token = RefreshToken::generate();
        assert_eq!(token.expose_secret().len(), RefreshToken::LEN);
        let again = RefreshToken::parse(token.expose_secret()).unwrap();
        assert_eq!(again.hash(), token.hash());
        assert_eq!(token.hash().as_str().len(), 64);
        assert_ne!(RefreshToken::generate().hash(), token.hash());
        assert_eq!(format!("{token:?}"), "RefreshToken(<redacted>)");
        let secret = token.expose_secret();
        for bad in [
            String::new(),
            secret[..42].to_owned(),
            format!("{secret}="),
            format!("{secret}A"),
            secret.replace(|c: char| c.is_ascii_alphabetic(), "+"),
            // 43 characters whose last one carries non-zero unused bits: not canonical.
            format!("{}B", &"A".repeat(42)),
            "é".repeat(21),
        ] {
            assert!(RefreshToken::parse(&bad).is_err(), "{bad:?}");
        }
        assert!(RefreshToken::parse(&"A".repeat(43)).is_ok());
    }

    #[test]
    fn usernames_fold_ascii_case() {
        assert_eq!(
            Username::parse("Alice.B_1-x").unwrap().as_str(),
            "alice.b_1-x"
        );
    }

    #[test]
    fn usernames_outside_the_rules_are_refused() {
        for bad in [
            "ab",
            &"a".repeat(33),
            "has space",
            "al!ce",
            "ålice",
            "аlice", // Cyrillic а
            "alice\u{0}",
            "ａｌｉｃｅ", // full-width
            "",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse("abc").is_ok());
    }

    #[test]
    fn password_lengths_count_characters() {
        assert!(Password::parse_new("k7!zq2W".into()).is_err());
        assert!(Password::parse_new("k7!zq2Wp".into()).is_ok());
        assert!(Password::parse_new("é".repeat(128)).is_ok());
        assert!(Password::parse_new("é".repeat(129)).is_err());
        assert!(Password::parse_login("x".into()).is_ok());
        assert!(Password::parse_login(String::new()).is_err());
    }

    #[test]
    fn passwords_are_compared_in_nfc_and_refuse_control_characters() {
        let composed = Password::parse_new("\u{e9}".repeat(8)).unwrap();
        let decomposed = Password::parse_login("e\u{301}".repeat(8)).unwrap();
        assert_eq!(composed.expose_secret(), decomposed.expose_secret());
        // Eight visible characters written as sixteen code points count as eight.
        assert!(Password::parse_new("e\u{301}".repeat(8)).is_ok());
        assert!(Password::parse_new("e\u{301}".repeat(7)).is_err());
        assert!(Password::parse_new("\0".repeat(8)).is_err());
        assert!(Password::parse_new("abcdefg\n".into()).is_err());
        assert!(Password::parse_new(" ".repeat(8)).is_err());
        assert!(Password::parse_new("correct horse".into()).is_ok());
    }

    #[test]
    fn common_passwords_are_refused() {
        assert_eq!(super::COMMON_PASSWORDS.lines().count(), 10_000);
        for common in [
            "password",
            "PassWord",
            "12345678",
            "baseball",
            "iloveyou",
            "qwertyuiop",
        ] {
            assert!(Password::parse_new(common.into()).is_err(), "{common}");
        }
        // At login the list does not apply: old accounts keep working.
        assert!(Password::parse_login("password".into()).is_ok());
        assert!(Password::parse_new("correct horse battery".into()).is_ok());
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::parse_new("correct horse battery".into()).unwrap();
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
    }

    #[test]
    fn ids_are_random_hex() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_ne!(a, b);
        assert_eq!(SessionId::parse(a.as_str()).unwrap(), a);
        assert!(UserId::parse("ABCDEF0123456789abcdef0123456789").is_err());
        assert!(UserId::parse("abc").is_err());
    }
}
