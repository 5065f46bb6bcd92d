//! The JSON log line (`AWS_LAMBDA_LOG_FORMAT=JSON`), written directly.
//!
//! The line has the keys and values of the one `tracing-subscriber`'s JSON formatter writes
//! with `flatten_event`, `with_current_span` and `with_span_list` and without the target (a
//! span's fields in the order they were recorded, where that formatter sorts them):
//!
//! ```json
//! {"timestamp":"2026-12-03T13:47:48.296762Z","level":"INFO","message":"authorized","outcome":"allow",
//!  "span":{"route":"GET /me","request_id":"…","lambda_request_id":"…","xray_trace_id":"…","user_id":"…","name":"authorize"},
//!  "spans":[{…,"name":"authorize"}]}
//! ```
//!
//! (`spans` lists every span the event is in, outermost first; on Lambda an invocation has one,
//! the function's: `auth_edge::runner`.)
//!
//! Why not that formatter: it keeps each span's fields as a JSON object in a string and parses
//! it back into a map for every line, once for `span` and once more for `spans`, and a field
//! recorded later (the authorizer's `user_id`) is parsed and re-serialised with the others. A
//! cachegrind count of the warm authorizer (bench/NOTES.md) put JSON logging at 17% of its
//! user-space instructions per invocation; with this module the invocation costs 11% fewer.
//! Here a span keeps its fields as a JSON fragment (`"route":"GET /me","request_id":"…"`)
//! that [`JsonFields`] appends to and [`JsonLines`] copies into each line as it is. Strings are
//! escaped as JSON requires (`"`, `\` and control characters, so one event stays one line);
//! 64-bit integers, floats and booleans are written as JSON numbers and booleans (a float that
//! is not finite as `null`), 128-bit integers as strings (as that formatter does), anything else
//! through its `Debug` (`Display` for `%` fields), as a string. A field recorded again on a span
//! replaces its earlier value (the fragment is then rebuilt, the slow path).

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// A span's fields, kept as a JSON fragment: `"name":value` pairs separated by commas.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonFields;

/// One JSON object per event, with the event's fields, the current span and the span list.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLines;

impl<'writer> FormatFields<'writer> for JsonFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut visitor = Pairs::new(&mut writer, true);
        fields.record(&mut visitor);
        visitor.result
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let mut added = String::new();
        let mut visitor = Pairs::new(&mut added, true);
        fields.record(&mut visitor);
        visitor.result?;
        if added.is_empty() {
            return Ok(());
        }
        if current.fields.is_empty() {
            current.fields = added;
        } else if !shares_a_key(&current.fields, fields) {
            current.fields.push(',');
            current.fields.push_str(&added);
        } else {
            current.fields = merged(&current.fields, &added)?;
        }
        Ok(())
    }
}

impl<S> FormatEvent<S, JsonFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        writer.write_str("\",\"level\":\"")?;
        writer.write_str(event.metadata().level().as_str())?;
        writer.write_char('"')?;
        let mut visitor = Pairs::new(&mut writer, false);
        event.record(&mut visitor);
        visitor.result?;

        let current = event
            .parent()
            .and_then(|id| ctx.span(id))
            .or_else(|| ctx.lookup_current());
        if let Some(span) = &current {
            writer.write_str(",\"span\":")?;
            write_span(&mut writer, span)?;
        }
        // As tracing-subscriber does: the list whenever there is a current span, and it is the
        // entered spans (empty for an event whose explicit parent is not entered).
        if current.is_some() {
            writer.write_str(",\"spans\":[")?;
            if let Some(leaf) = ctx.lookup_current() {
                for (i, span) in leaf.scope().from_root().enumerate() {
                    if i > 0 {
                        writer.write_char(',')?;
                    }
                    write_span(&mut writer, &span)?;
                }
            }
            writer.write_char(']')?;
        }
        writer.write_str("}\n")
    }
}

/// Whether `fragment` already holds a key `record` sets. A match of `"name":` is always a key:
/// inside a string value every `"` is escaped.
fn shares_a_key(fragment: &str, record: &tracing::span::Record<'_>) -> bool {
    struct Names<'a>(&'a str, bool);
    impl Visit for Names<'_> {
        fn record_debug(&mut self, field: &Field, _: &dyn fmt::Debug) {
            let mut key = String::with_capacity(field.name().len() + 3);
            let _ = write_string(&mut key, field.name());
            key.push(':');
            self.1 |= self.0.contains(&key);
        }
    }
    let mut names = Names(fragment, false);
    record.record(&mut names);
    names.1
}

/// The pairs of `fragment` with those of `added`, a key in both taking its value from `added`.
fn merged(fragment: &str, added: &str) -> Result<String, fmt::Error> {
    let object = |pairs: &str| {
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&format!("{{{pairs}}}"))
            .map_err(|_| fmt::Error)
    };
    let mut all = object(fragment)?;
    all.extend(object(added)?);
    let text = serde_json::Value::Object(all).to_string();
    Ok(text[1..text.len() - 1].to_owned())
}

/// `{<the span's fields>,"name":"<its name>"}`.
fn write_span<S>(
    out: &mut Writer<'_>,
    span: &tracing_subscriber::registry::SpanRef<'_, S>,
) -> fmt::Result
where
    S: for<'a> LookupSpan<'a>,
{
    out.write_char('{')?;
    if let Some(fields) = span.extensions().get::<FormattedFields<JsonFields>>()
        && !fields.fields.is_empty()
    {
        out.write_str(&fields.fields)?;
        out.write_char(',')?;
    }
    out.write_str("\"name\":")?;
    write_string(out, span.metadata().name())?;
    out.write_char('}')
}

/// Writes fields as `"name":value` pairs, each preceded by a comma unless it is the first of a
/// fragment.
struct Pairs<'a, W: fmt::Write> {
    out: &'a mut W,
    first: bool,
    result: fmt::Result,
}

impl<'a, W: fmt::Write> Pairs<'a, W> {
    fn new(out: &'a mut W, first: bool) -> Self {
        Self {
            out,
            first,
            result: Ok(()),
        }
    }

    /// Writes the separator and `"name":`, then the value with `value`.
    fn pair(&mut self, field: &Field, value: impl FnOnce(&mut W) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            if !std::mem::take(&mut self.first) {
                self.out.write_char(',')?;
            }
            let name = field.name();
            write_string(self.out, name.strip_prefix("r#").unwrap_or(name))?;
            self.out.write_char(':')?;
            value(self.out)
        })();
    }
}

impl<W: fmt::Write> Visit for Pairs<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.pair(field, |out| write_string(out, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.pair(field, |out| {
            out.write_str(if value { "true" } else { "false" })
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.pair(field, |out| write!(out, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.pair(field, |out| write!(out, "{value}"));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.pair(field, |out| write!(out, "\"{value}\""));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.pair(field, |out| write!(out, "\"{value}\""));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity; `null`, as serde_json writes them.
        self.pair(field, |out| {
            if value.is_finite() {
                write!(out, "{value:?}")
            } else {
                out.write_str("null")
            }
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.pair(field, |out| {
            out.write_char('"')?;
            write!(Escaped(&mut *out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

/// `s` as a JSON string, quotes included.
fn write_string(out: &mut (impl fmt::Write + ?Sized), s: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(&mut *out).write_str(s)?;
    out.write_char('"')
}

/// Escapes what it is given as the inside of a JSON string: `"`, `\` and the control
/// characters U+0000 to U+001F (RFC 8259, section 7); everything else passes as it is.
struct Escaped<'a, W: fmt::Write + ?Sized>(&'a mut W);

impl<W: fmt::Write + ?Sized> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut start = 0;
        for (i, byte) in s.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x00..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&s[start..i])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            start = i + 1;
        }
        self.0.write_str(&s[start..])
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use proptest::prelude::*;
    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// The lines `emit` logs, each parsed as JSON, with this formatter (`ours`) or with
    /// tracing-subscriber's JSON formatter as the crate used it (`theirs`).
    fn lines(ours: bool, emit: impl FnOnce()) -> Vec<serde_json::Value> {
        let out = Captured::default();
        let builder = tracing_subscriber::fmt()
            .with_writer(out.clone())
            .with_target(false)
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE);
        if ours {
            let subscriber = builder
                .fmt_fields(JsonFields)
                .event_format(JsonLines)
                .finish();
            tracing::subscriber::with_default(subscriber, emit);
        } else {
            let subscriber = builder
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .flatten_event(true)
                .finish();
            tracing::subscriber::with_default(subscriber, emit);
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"))
            })
            .collect()
    }

    /// Both formatters' lines, timestamps left out (they differ by the microseconds between).
    fn both(emit: impl Fn()) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
        let strip = |mut lines: Vec<serde_json::Value>| {
            for line in &mut lines {
                let timestamp = line.as_object_mut().unwrap().remove("timestamp").unwrap();
                let timestamp = timestamp.as_str().unwrap();
                assert!(
                    timestamp.len() == 27 && timestamp.ends_with('Z'),
                    "{timestamp}"
                );
            }
            lines
        };
        (strip(lines(true, &emit)), strip(lines(false, &emit)))
    }

    #[test]
    fn lines_are_what_tracing_subscribers_json_formatter_writes() {
        let (ours, theirs) = both(|| {
            tracing::info!("outside any span");
            let outer = tracing::info_span!("invocation", invocationId = "req-1");
            let _outer = outer.enter();
            let span = tracing::info_span!(
                "authorize",
                route = "GET /me",
                request_id = "gw-1",
                user_id = tracing::field::Empty,
            );
            let _span = span.enter();
            tracing::info!(outcome = "deny", reason = "no_session", "denied");
            span.record("user_id", "u-1");
            tracing::warn!(
                count = 3_u64,
                delta = -2_i64,
                ratio = 0.5_f64,
                nan = f64::NAN,
                ok = true,
                big = 1_u128 << 100,
                small = -(1_i128 << 100),
                r#type = "raw",
                error = %"a \"quoted\"\nline\twith\\ and \u{1} and é",
                debug = ?Some("x"),
                "it said {}", "hello"
            );
        });
        assert_eq!(ours, theirs);
        assert_eq!(ours.len(), 3);
        assert_eq!(ours[2]["span"]["user_id"], "u-1");
        assert_eq!(ours[2]["spans"][0]["invocationId"], "req-1");
        assert_eq!(
            ours[2]["error"],
            "a \"quoted\"\nline\twith\\ and \u{1} and é"
        );
    }

    #[test]
    fn a_span_with_no_fields_and_an_event_with_an_explicit_parent() {
        let (ours, theirs) = both(|| {
            let parent = tracing::info_span!("bare");
            tracing::info!(parent: &parent, "with a parent it did not enter");
            let _in = parent.enter();
            tracing::error!(code = 7, "inside");
        });
        assert_eq!(ours, theirs);
    }

    #[test]
    fn a_field_recorded_again_replaces_its_value() {
        let emit = || {
            let span = tracing::info_span!(
                "request",
                route = "GET /me",
                user_id = tracing::field::Empty,
                n = tracing::field::Empty,
            );
            let _in = span.enter();
            span.record("user_id", "first");
            span.record("n", 1);
            span.record("user_id", "second \"user_id\":");
            tracing::info!("handled");
        };
        let (ours, theirs) = both(emit);
        assert_eq!(ours, theirs);
        assert_eq!(ours[0]["span"]["user_id"], "second \"user_id\":");
        // The key is in the line once per span object (the parsed comparison cannot tell).
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(out.clone())
            .fmt_fields(JsonFields)
            .event_format(JsonLines)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches("\"user_id\":").count(), 2, "{text}");
    }

    proptest! {
        #[test]
        fn any_string_round_trips(s in prop_oneof![any::<String>(), "(?s)[\\x00-\\x7f\"\\\\é€😀]{0,40}"]) {
            let mut out = String::new();
            write_string(&mut out, &s).unwrap();
            let back: String = serde_json::from_str(&out).unwrap();
            prop_assert_eq!(back, s);
        }
    }
}
