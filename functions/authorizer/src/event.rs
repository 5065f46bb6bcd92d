//! Decoding the authorizer's request event: [`AuthorizerRequest`], the four fields it reads, and
//! the reading of the `Authorization` header as `aws_lambda_events`' header map read it.

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// The authorizer's request event (API Gateway HTTP API, payload format 2.0), reduced to what the
/// authorizer reads; every other field of the event is skipped unread.
///
/// Decoding it is part of every protected request's cost: `aws_lambda_events`' full
/// `ApiGatewayV2CustomAuthorizerV2Request` builds a header map, the whole request context and
/// every string of the 2 KB event, and measured about 7% of the authorizer's CPU per invocation
/// (bench/NOTES.md). This type keeps the same meaning for the fields it reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerRequest {
    /// The route, e.g. `GET /me` (logged).
    #[serde(default)]
    pub route_key: Option<String>,
    /// The `Authorization` header, read as `aws_lambda_events`' header map read it: whatever
    /// the letter case of the name; a string value (or a one-element array) replaces what earlier
    /// keys of the same name gave, a longer array adds its values, an empty one nothing; the
    /// first value is taken if it is visible ASCII (or tabs), as `http::HeaderValue::to_str`
    /// gives it. Else `None`, and [`Handler::decide`](crate::Handler::decide) falls back to
    /// [`Self::identity_source`], as it did for a header `to_str` refused. Where the header map
    /// refused the whole event (a control character, a value that is not a string, `null`
    /// headers), the header is `None` too: the event is decided on its identity source rather
    /// than failing the invocation. (API Gateway sends one lower-case `authorization` key,
    /// repeated headers joined by commas, and puts the same value in the identity source.)
    #[serde(default, rename = "headers", deserialize_with = "authorization_header")]
    pub authorization: Option<String>,
    /// The identity source values API Gateway extracted (`$request.header.Authorization`).
    #[serde(default)]
    pub identity_source: Option<Vec<String>>,
    /// The request context, for its id.
    #[serde(default)]
    pub request_context: RequestContext,
}

/// The part of the request context the authorizer reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    /// API Gateway's id of the request (logged).
    #[serde(default)]
    pub request_id: Option<String>,
}

/// Reads the `Authorization` value out of the event's `headers` object (or `null`), skipping the
/// other headers without copying them (see [`AuthorizerRequest::authorization`]).
fn authorization_header<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Headers;
    impl<'de> Visitor<'de> for Headers {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of header names to values, or null")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            // The first value the header map would hold for the name (only that one is read):
            // `Some(None)` is a value it could not read.
            let mut first: Option<Option<String>> = None;
            while let Some(is_authorization) = map.next_key_seed(IsAuthorization)? {
                if !is_authorization {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                match map.next_value::<HeaderValues>()? {
                    HeaderValues::One(value) => first = Some(value),
                    HeaderValues::Many(more) if more.len() == 1 || first.is_none() => {
                        first = more.into_iter().next().or(first);
                    }
                    HeaderValues::Many(_) => {}
                }
            }
            Ok(first
                .flatten()
                .filter(|v| v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))))
        }
    }
    d.deserialize_option(Headers)
}

/// A header name, answered with whether it is `Authorization` in any letter case.
struct IsAuthorization;

impl<'de> de::DeserializeSeed<'de> for IsAuthorization {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for IsAuthorization {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a header name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<bool, E> {
        Ok(name.eq_ignore_ascii_case("authorization"))
    }
}

/// A header's value in the event: a string, or an array of them (`None` for anything API
/// Gateway would never send, which reads as an unreadable header rather than a failed event).
enum HeaderValues {
    One(Option<String>),
    Many(Vec<Option<String>>),
}

impl<'de> Deserialize<'de> for HeaderValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Value;
        impl<'de> Visitor<'de> for Value {
            type Value = HeaderValues;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header value")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<HeaderValues, E> {
                Ok(HeaderValues::One(Some(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<HeaderValues, E> {
                Ok(HeaderValues::One(Some(v)))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<HeaderValues, E> {
                Ok(HeaderValues::One(None))
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<HeaderValues, E> {
                Ok(HeaderValues::One(None))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<HeaderValues, E> {
                Ok(HeaderValues::One(None))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<HeaderValues, E> {
                Ok(HeaderValues::One(None))
            }

            fn visit_unit<E: de::Error>(self) -> Result<HeaderValues, E> {
                Ok(HeaderValues::One(None))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<HeaderValues, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element::<HeaderValues>()? {
                    values.push(match value {
                        HeaderValues::One(v) => v,
                        HeaderValues::Many(_) => None,
                    });
                }
                Ok(HeaderValues::Many(values))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderValues, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(HeaderValues::One(None))
            }
        }
        d.deserialize_any(Value)
    }
}

#[cfg(test)]
mod tests {
    use super::AuthorizerRequest;
    use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request as FullRequest;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn sample() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/authorizer-valid.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// What the authorizer read from `aws_lambda_events`' full request before this type: the
    /// first value its header map held for `authorization`, if `HeaderValue::to_str` accepted
    /// it. `None` where the full request does not decode at all.
    fn full_header(event: &Value) -> Option<Option<String>> {
        let full: FullRequest = serde_json::from_value(event.clone()).ok()?;
        Some(
            full.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        )
    }

    fn lean(event: Value) -> AuthorizerRequest {
        serde_json::from_value(event).expect("the event decodes")
    }

    #[test]
    fn sample_event() {
        let event = sample();
        let req = lean(event.clone());
        let header = event["headers"]["authorization"].as_str().unwrap();
        assert_eq!(req.authorization.as_deref(), Some(header));
        assert_eq!(req.identity_source, Some(vec![header.to_owned()]));
        assert_eq!(req.route_key.as_deref(), Some("GET /me"));
        assert_eq!(
            req.request_context.request_id.as_deref(),
            Some("Pqr1fXyzIAMEVbw=")
        );
        assert_eq!(full_header(&event), Some(req.authorization));
    }

    #[test]
    fn header_cases() {
        let with_headers = |headers: Value| {
            let mut e = sample();
            e["headers"] = headers;
            e
        };
        for (headers, expected) in [
            (json!({"Authorization": "Bearer a"}), Some("Bearer a")),
            (
                json!({"AUTHORIZATION": "Bearer a", "x": "y"}),
                Some("Bearer a"),
            ),
            // Not visible ASCII: unreadable, so the identity source is used instead.
            (json!({"authorization": "Bearer caf\u{e9}"}), None),
            (json!({"authorization": "Bearer\ta"}), Some("Bearer\ta")),
            (json!({"authorization-x": "Bearer a"}), None),
            // Arrays, as the header map read them: one element is the value; more add values.
            (json!({"authorization": ["Bearer a"]}), Some("Bearer a")),
            (
                json!({"authorization": ["Bearer a", "Bearer b"]}),
                Some("Bearer a"),
            ),
            (json!({"authorization": []}), None),
            (json!({"accept": "*/*"}), None),
            (json!({}), None),
        ] {
            let event = with_headers(headers.clone());
            assert_eq!(
                lean(event.clone()).authorization.as_deref(),
                expected,
                "{headers}"
            );
            assert_eq!(
                full_header(&event),
                Some(expected.map(str::to_owned)),
                "{headers}"
            );
        }
        // Two spellings of the name (API Gateway sends one, lower case): the last wins, as in
        // the full request's header map. From the text, since a `Value` may reorder its keys.
        let text = format!(
            r#"{{"headers": {{"authorization": "Bearer a", "Authorization": "Bearer b"}},
                "requestContext": {}}}"#,
            sample()["requestContext"]
        );
        let req: AuthorizerRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(req.authorization.as_deref(), Some("Bearer b"));
        let full: FullRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(full.headers["authorization"], "Bearer b");
        // Later keys of the name: a string or one-element array replaces, an empty array
        // keeps, a longer one adds after.
        for (headers, expected) in [
            (
                r#"{"authorization": "Bearer a", "Authorization": []}"#,
                "Bearer a",
            ),
            (
                r#"{"authorization": "Bearer a", "Authorization": ["Bearer b"]}"#,
                "Bearer b",
            ),
            (
                r#"{"authorization": "Bearer a", "AUTHORIZATION": ["Bearer b", "c"]}"#,
                "Bearer a",
            ),
            (
                r#"{"authorization": [], "Authorization": ["Bearer b", "c"]}"#,
                "Bearer b",
            ),
            // An escaped name is the name.
            (r#"{"authoriz\u0061tion": "Bearer a"}"#, "Bearer a"),
        ] {
            let text = format!(
                r#"{{"headers": {headers}, "requestContext": {}}}"#,
                sample()["requestContext"]
            );
            let req: AuthorizerRequest = serde_json::from_str(&text).unwrap();
            assert_eq!(req.authorization.as_deref(), Some(expected), "{headers}");
            let full: FullRequest = serde_json::from_str(&text).unwrap();
            assert_eq!(full.headers["authorization"], expected, "{headers}");
        }
        // A control character, or `"headers": null`: the full request did not decode at all (an
        // invocation error, 500 at the gateway); here there is no readable header: a deny.
        for headers in [json!({"authorization": "Bearer a\u{7f}"}), Value::Null] {
            let event = with_headers(headers);
            assert_eq!(full_header(&event), None);
            assert_eq!(lean(event).authorization, None);
        }
        // No `headers` at all, and values API Gateway never sends: the event still decodes.
        let mut e = sample();
        e.as_object_mut().unwrap().remove("headers");
        assert_eq!(lean(e).authorization, None);
        for odd in [
            json!(1),
            json!(true),
            json!([1]),
            json!([["Bearer a"]]),
            json!({"a": 1}),
            Value::Null,
        ] {
            let req = lean(with_headers(json!({"authorization": odd, "accept": "*/*"})));
            assert_eq!(req.authorization, None, "{odd}");
        }
        // An event with none of the fields read.
        assert_eq!(lean(json!({})), AuthorizerRequest::default());
    }

    /// A header value as an event might carry it: a string (printable, any Unicode, or ASCII
    /// with control characters) or an array of strings.
    fn header_value() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            "Bearer [ -~]{0,40}",
            "[\\t -~]{0,20}",
            "[\\x00-\\x7f]{0,12}",
            any::<String>(),
        ];
        prop_oneof![
            4 => text.clone().prop_map(Value::from),
            1 => proptest::collection::vec(text, 0..3).prop_map(Value::from),
        ]
    }

    proptest! {
        /// On any header object the full request decodes, both read the same `Authorization`,
        /// decoded from the event's text as Lambda hands it over (repeated keys included).
        #[test]
        fn same_header_as_the_full_request(
            headers in proptest::collection::vec(
                (
                    prop_oneof![
                        Just("authorization".to_owned()),
                        Just("Authorization".to_owned()),
                        Just("AUTHORIZATION".to_owned()),
                        "[a-zA-Z-]{1,15}",
                    ],
                    header_value(),
                ),
                0..6,
            )
        ) {
            let entries: Vec<String> = headers
                .iter()
                .map(|(name, value)| format!("{}: {value}", Value::from(name.as_str())))
                .collect();
            let text = format!(
                r#"{{"headers": {{{}}}, "requestContext": {}}}"#,
                entries.join(", "),
                sample()["requestContext"]
            );
            let ours: AuthorizerRequest = serde_json::from_str(&text).unwrap();
            if let Ok(full) = serde_json::from_str::<FullRequest>(&text) {
                let full = full
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                prop_assert_eq!(ours.authorization, full);
            } else {
                // The header map refused a value (a control character, say): ours still
                // decodes the event, and any header it holds is readable.
                let readable = ours
                    .authorization
                    .as_deref()
                    .is_none_or(|v| v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)));
                prop_assert!(readable);
            }
        }
    }
}
