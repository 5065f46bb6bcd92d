//! Wire-level decoding for the verifier: the token's base64url segments, and its JOSE header and
//! claims set parsed from JSON with the types `jsonwebtoken` read them as.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::verifier::TokenError;

/// Whether `token` is exactly three non-empty base64url segments joined by dots.
pub(super) fn is_three_segments(token: &str) -> bool {
    let mut segments = token.split('.');
    let three = [segments.next(), segments.next(), segments.next()];
    segments.next().is_none()
        && three
            .iter()
            .all(|s| s.is_some_and(|s| !s.is_empty() && s.bytes().all(is_base64url)))
}

pub(super) fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Decodes one base64url segment (no padding, no stray trailing bits) into `buf`, which
/// [`base64::decoded_len_estimate`] sized.
pub(super) fn decode_segment(segment: &str, buf: &mut [u8]) -> Result<usize, TokenError> {
    URL_SAFE_NO_PAD
        .decode_slice(segment, buf)
        .map_err(|_| TokenError::Malformed)
}

/// Whether `json` starts as an object. A derived struct would also read a JSON array, by
/// position; a JWT header or claims set is an object, so anything else is refused first.
/// (Duplicate keys among a derived struct's fields are refused by the derived code.)
pub(super) fn is_object(json: &[u8]) -> bool {
    let first = json
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    first == Some(&b'{')
}

/// A JSON string, borrowed from the decoded segment unless it has escapes.
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        deserializer.deserialize_str(V).map(Text)
    }
}

/// A JSON string, checked and not kept.
pub(super) struct AnyString;

impl<'de> Deserialize<'de> for AnyString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AnyString;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(AnyString)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// The JOSE header. Its fields and their types are those of [`jsonwebtoken::Header`], which the
/// previous verifier parsed the header into, so that the same headers are refused as
/// malformed: a field of the wrong type, an unknown `alg` (`none` included), a `jwk` that is
/// not a JWK. The fields this verifier does not use are checked and dropped.
#[derive(Deserialize)]
#[allow(dead_code)] // most fields are only type-checked
pub(super) struct WireHeader<'a> {
    pub(super) alg: Algorithm,
    #[serde(borrow)]
    pub(super) kid: Option<Text<'a>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) crit: Option<Option<Vec<AnyString>>>,
    /// RFC 7797: absent or `true` is the ordinary encoding; anything else is refused.
    #[serde(default, deserialize_with = "b64_param")]
    pub(super) b64: B64Param,
    #[serde(borrow, default, deserialize_with = "present")]
    pub(super) typ: Option<Option<Text<'a>>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) enc: Option<Option<AnyString>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) zip: Option<Option<AnyString>>,
    // The rest of `jsonwebtoken::Header`'s fields, type-checked only.
    cty: Option<AnyString>,
    jku: Option<AnyString>,
    /// Checked as an `Option<Jwk>` and dropped (a `Jwk` is large, and moved with the struct).
    #[serde(default, deserialize_with = "jwk")]
    jwk: (),
    x5u: Option<AnyString>,
    x5c: Option<Vec<AnyString>>,
    x5t: Option<AnyString>,
    #[serde(rename = "x5t#S256")]
    x5t_s256: Option<AnyString>,
    url: Option<AnyString>,
    nonce: Option<AnyString>,
}

impl WireHeader<'_> {
    /// Whether the header carries a parameter this verifier refuses whatever its value: `crit`
    /// (no extension is understood, so none may be critical), the JWE parameters `enc` and
    /// `zip` (this is a JWS), or a `typ` other than `JWT`. Present as `null` counts as present.
    pub(super) fn has_unsupported_parameter(&self) -> bool {
        self.crit.is_some()
            || self.enc.is_some()
            || self.zip.is_some()
            || match &self.typ {
                None => false,
                Some(Some(Text(typ))) => typ != "JWT",
                Some(None) => true,
            }
    }
}

/// A parameter that is present (`Some`), `null` included (`Some(None)`), type-checked as `T`
/// otherwise; with `#[serde(default)]`, an absent one is `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

fn jwk<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    Option::<jsonwebtoken::jwk::Jwk>::deserialize(deserializer).map(drop)
}

#[derive(Default)]
pub(super) enum B64Param {
    #[default]
    Absent,
    True,
    Other,
}

fn b64_param<'de, D: Deserializer<'de>>(deserializer: D) -> Result<B64Param, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Bool(true) => B64Param::True,
        _ => B64Param::Other,
    })
}

/// The claims set of a token under verification. The types are those the previous
/// (`jsonwebtoken`-based) verifier read, so the same claims sets are refused for the same
/// reason: a claim of the wrong type among `sub`, `username`, `iat`, `exp`, `jti` and `sid`
/// makes the token malformed; a missing or `null` one is an invalid claim.
#[derive(Deserialize)]
pub(super) struct WireClaims<'a> {
    #[serde(borrow)]
    pub(super) sub: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) username: Option<Text<'a>>,
    pub(super) iat: Option<i64>,
    pub(super) exp: Option<i64>,
    #[serde(borrow)]
    pub(super) jti: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) sid: Option<Text<'a>>,
    #[serde(default)]
    pub(super) nbf: NumericDate,
    #[serde(borrow, default)]
    pub(super) iss: Names<'a>,
    #[serde(borrow, default)]
    pub(super) aud: Names<'a>,
}

/// `nbf` as `jsonwebtoken` reads it: a non-negative integer, or a non-negative float (rounded);
/// anything else counts as absent.
#[derive(Default)]
pub(super) struct NumericDate(pub(super) Option<u64>);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = u64;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a NumericDate")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
                Ok(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
                if v.is_finite() && v >= 0.0 && v < u64::MAX as f64 {
                    Ok(v.round() as u64)
                } else {
                    Err(E::custom("not a NumericDate"))
                }
            }
        }
        Ok(Self(deserializer.deserialize_any(V).ok()))
    }
}

/// `iss` or `aud` as `jsonwebtoken` reads them: a string, or an array of strings; anything else
/// counts as absent. `jsonwebtoken` buffered the value and then tried each form; the same is
/// done here in one pass: the whole value is read (every string in it checked as UTF-8), and an
/// error while reading it makes the claim absent rather than the claims set malformed.
#[derive(Default)]
pub(super) struct Names<'a>(pub(super) Option<OneOrMany<'a>>);

pub(super) enum OneOrMany<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl OneOrMany<'_> {
    /// The string is `name`, or the array contains it.
    pub(super) fn names(&self, name: &str) -> bool {
        match self {
            Self::One(one) => one == name,
            Self::Many(many) => many.iter().any(|n| n == name),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Names<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(
            match deserializer.deserialize_any(AnyValue { top: true }) {
                Ok(Value::Str(one)) => Some(OneOrMany::One(one)),
                Ok(Value::Strs(many)) => Some(OneOrMany::Many(many)),
                _ => None,
            },
        ))
    }
}

/// Reads any JSON value through, keeping it if it is a string or (at the top) an array of
/// strings.
#[derive(Clone, Copy)]
struct AnyValue {
    top: bool,
}

enum Value<'a> {
    Str(Cow<'a, str>),
    Strs(Vec<Cow<'a, str>>),
    Other,
}

impl<'de> de::DeserializeSeed<'de> for AnyValue {
    type Value = Value<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AnyValue {
    type Value = Value<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let (mut strs, mut all_strs) = (Vec::new(), self.top);
        while let Some(item) = seq.next_element_seed(AnyValue { top: false })? {
            match item {
                Value::Str(s) if all_strs => strs.push(s),
                _ => all_strs = false,
            }
        }
        Ok(if all_strs {
            Value::Strs(strs)
        } else {
            Value::Other
        })
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let inner = AnyValue { top: false };
        while map.next_entry_seed(inner, inner)?.is_some() {}
        Ok(Value::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value<'de>, E> {
        Ok(Value::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value<'de>, E> {
        Ok(Value::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value<'de>, E> {
        Ok(Value::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value<'de>, E> {
        Ok(Value::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Other)
    }
}
