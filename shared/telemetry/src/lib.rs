//! `auth-telemetry`: logs and metrics of every function and of the local server.
//!
//! ## Logs
//! [`init`] installs a `tracing` subscriber that follows Lambda's advanced logging controls:
//! `AWS_LAMBDA_LOG_FORMAT=JSON` gives one JSON object per line (with the current spans, so every
//! line carries the request id and route), anything else plain text; `AWS_LAMBDA_LOG_LEVEL` (or
//! `RUST_LOG`) sets the level of this service's crates. Other crates are capped at `INFO` whatever
//! the level: at `TRACE`, `lambda_runtime` logs each raw event (passwords, `Authorization`
//! headers) and the AWS SDK may log response bodies (the signing key), which must never reach the
//! logs.
//! The JSON line is written by [`json`]: the layout of `tracing-subscriber`'s JSON formatter,
//! without its per-line re-parsing of span fields (that module says why and what it saved).
//!
//! ## Metrics
//! [`metrics`] writes CloudWatch Embedded Metric Format (EMF) lines to stdout: CloudWatch turns
//! them into metrics in the namespace [`metrics::NAMESPACE`] with no API call from the function.
//! They are off until a Lambda `main` calls [`metrics::enable_stdout`], so local runs and tests
//! stay quiet unless they install a sink of their own.
//!
//! ## One write per invocation
//! Logs and metrics written to stdout through [`Stdout`] while a [`batch`] is open are collected
//! and written together when it ends: a Lambda `main` opens one around each invocation, so the
//! invocation's log line and metric lines cost one `write` instead of one each, and they are out
//! before the response is (Lambda may freeze the process once it has the response).
//! - The batch is process-wide: while one is open, every line written through [`Stdout`], from
//!   any task, is held. That fits a Lambda function, which runs one invocation at a time; the
//!   local server does not batch.
//! - `WARN` and `ERROR` lines are not held: each goes out at once, with the lines held before it,
//!   so a process that Lambda kills mid-invocation (a time-out, out of memory) has already
//!   written why it failed. Only that invocation's `INFO` lines and metrics can be lost then.
//! - Lines written outside a batch (start-up, the runtime's own errors) go out at once.

pub mod json;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The crates of this service, whose level `AWS_LAMBDA_LOG_LEVEL` sets.
pub const OUR_CRATES: &[&str] = &[
    "auth",
    "auth_telemetry",
    "auth_sdk",
    "auth_direct",
    "auth_edge",
    "auth_testing",
    "register",
    "login",
    "user_info",
    "logout",
    "authorizer",
    "refresh",
    "sessions",
    "logout_all",
    "account_page",
    "change_password",
    "delete_account",
    "admin",
    "mfa",
    "hello",
    "jwks",
    "local_api",
];

/// The log filter for `level`: this service's crates at `level`, every other crate at `level`
/// but never below `INFO`. A [`Targets`] filter (a level per target prefix) rather than an
/// `EnvFilter`: the rule needs nothing more, and `EnvFilter` brings `regex` into every function
/// (about 180 KB of code) for directive syntax this service never reads.
pub fn filter(level: LevelFilter) -> Targets {
    Targets::new()
        .with_default(level.min(LevelFilter::INFO))
        .with_targets(OUR_CRATES.iter().map(|krate| (*krate, level)))
}

/// The level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG` (a plain level name), else `INFO`.
pub fn level_from_env() -> LevelFilter {
    std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|v| v.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO)
}

/// Whether `AWS_LAMBDA_LOG_FORMAT` asks for JSON.
pub fn json_from_env() -> bool {
    std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"))
}

/// Installs the subscriber for a Lambda function, writing to [`Stdout`] (see the module docs).
pub fn init() {
    init_with(json_from_env(), level_from_env(), Stdout::default());
}

/// Output held back by open [`batch`]es, and how many are open.
#[derive(Debug, Default)]
struct Held {
    open: usize,
    lines: Vec<u8>,
}

impl Held {
    const fn new() -> Self {
        Self {
            open: 0,
            lines: Vec::new(),
        }
    }

    /// Keeps `buf` if a batch is open (`true`); else it is to be written at once (`false`).
    fn keep(&mut self, buf: &[u8]) -> bool {
        if self.open == 0 {
            return false;
        }
        self.lines.extend_from_slice(buf);
        true
    }

    /// Writes everything held so far, then `buf`, to `out` in one `write_all` (an urgent line:
    /// it must not wait for the batch's end, nor overtake the lines before it).
    fn write_through(&mut self, buf: &[u8], out: &mut impl std::io::Write) -> std::io::Result<()> {
        if self.lines.is_empty() {
            return out.write_all(buf);
        }
        self.lines.extend_from_slice(buf);
        let result = out.write_all(&self.lines);
        self.lines.clear();
        result
    }

    /// Ends one batch, writing everything held so far to `out` in one `write_all`.
    fn end(&mut self, out: &mut impl std::io::Write) {
        self.open = self.open.saturating_sub(1);
        if !self.lines.is_empty() {
            let _ = out.write_all(&self.lines);
            self.lines.clear();
        }
    }
}

static HELD: std::sync::Mutex<Held> = std::sync::Mutex::new(Held::new());

fn held() -> std::sync::MutexGuard<'static, Held> {
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Process stdout, held back while a [`batch`] is open (see the module docs). A `MakeWriter` for
/// [`init_with`] (it sends `WARN` and `ERROR` lines through at once) and the writer of
/// [`metrics::enable_stdout`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout {
    urgent: bool,
}

impl std::io::Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut held = held();
        if self.urgent {
            held.write_through(buf, &mut std::io::stdout().lock())?;
            return Ok(buf.len());
        }
        if held.keep(buf) {
            return Ok(buf.len());
        }
        drop(held);
        std::io::stdout().lock().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().lock().flush()
    }
}

impl<'a> MakeWriter<'a> for Stdout {
    type Writer = Stdout;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        Stdout {
            urgent: *meta.level() <= tracing::Level::WARN,
        }
    }
}

/// An open batch of [`Stdout`] output; ending it (dropping it, also when a panic unwinds or the
/// invocation's future is dropped) writes what it holds in one `write`. Batches may overlap:
/// each end writes what is held so far, so nothing waits longer than the batch that wrote it.
#[derive(Debug)]
#[must_use = "the batch ends, and its output is written, when this is dropped"]
pub struct Batch(());

/// Opens a batch (see [`Batch`]). A Lambda `main` wraps each invocation in one.
pub fn batch() -> Batch {
    held().open += 1;
    Batch(())
}

impl Drop for Batch {
    fn drop(&mut self) {
        held().end(&mut std::io::stdout().lock());
    }
}

/// Installs the subscriber with explicit settings and writer (tests capture logs this way).
/// Does nothing if a subscriber is already installed.
pub fn init_with<W>(json: bool, level: LevelFilter, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .with_ansi(false)
        .with_writer(writer);
    let _ = if json {
        builder
            .fmt_fields(json::JsonFields)
            .event_format(json::JsonLines)
            .finish()
            .with(filter(level))
            .try_init()
    } else {
        builder
            .without_time()
            .finish()
            .with(filter(level))
            .try_init()
    };
}

pub mod metrics {
    //! CloudWatch Embedded Metric Format lines.
    //!
    //! | metric | unit | dimensions | written by |
    //! |---|---|---|---|
    //! | `Registrations` | Count | `Outcome` (`created`, `username_taken`, `invalid_request`, …) | register |
    //! | `Logins` | Count | `Outcome` (`success`, `mfa_required`, `invalid_credentials`, …) | login |
    //! | `MfaLogins` | Count | `Outcome` (`success`, `invalid_code`, `invalid_mfa_token`, …) | login (`POST /login/mfa`) |
    //! | `MfaChanges` | Count | `Outcome` (`enrolment_started`, `enabled`, `disabled`, `mfa_state`, …) | mfa |
    //! | `Logouts` | Count | `Outcome` (`logged_out`, `already_gone`, …) | logout |
    //! | `Refreshes` | Count | `Outcome` (`rotated`, `concurrent`, `invalid_refresh_token`, …) | refresh |
    //! | `RefreshTokenReuse` | Count | `Action` (`session_revoked`) | refresh |
    //! | `SessionListings`, `SessionRevocations` | Count | `Outcome` (`success`, `session_not_found`, …) | sessions |
    //! | `LogoutAlls` | Count | `Outcome` (`success`, …) | logout-all |
    //! | `PasswordChanges` | Count | `Outcome` (`success`, `invalid_credentials`, …) | change-password |
    //! | `AccountDeletions` | Count | `Outcome` (`success`, `invalid_credentials`, …) | delete-account |
    //! | `AdminActions` | Count | `Outcome` (`success`, `user_not_found`, …) | admin |
    //! | `Authorizations` | Count | `Decision` (`allow`, `deny`), `Reason` | authorizer |
    //! | `KeyReloads` | Count | `Outcome` (`reloaded`, `failed`) | authorizer (a token with an unknown `kid`: the first after a cold start at once, then at most once a minute, or 10 s after a failure) |
    //! | `DynamoDbLatency` | Milliseconds | `Operation` (`GetItem`, `BatchGetItem`, `PutItem`, `UpdateItem`, `DeleteItem`, `Query`, `TransactWriteItems`) | every function on DynamoDB |

    use std::sync::{Arc, RwLock};

    /// The CloudWatch namespace of every metric.
    pub const NAMESPACE: &str = "JwtSessionService";

    type Sink = Arc<dyn Fn(&str) + Send + Sync>;

    static SINK: RwLock<Option<Sink>> = RwLock::new(None);

    /// Writes metrics to stdout (through [`super::Stdout`], so in the invocation's batch), as
    /// Lambda functions do.
    pub fn enable_stdout() {
        set_sink(Some(Arc::new(|line: &str| {
            use std::io::Write as _;
            let mut out = super::Stdout::default();
            let mut text = Vec::with_capacity(line.len() + 1);
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
            let _ = out.write_all(&text);
        })));
    }

    /// Sends metric lines to `sink` (or nowhere with `None`).
    pub fn set_sink(sink: Option<Sink>) {
        *SINK.write().unwrap_or_else(|e| e.into_inner()) = sink;
    }

    /// Awaits one DynamoDB call and records its latency (`DynamoDbLatency`, by `Operation`):
    /// both DynamoDB back-ends time their calls through it.
    pub async fn timed<T>(
        operation: &'static str,
        call: impl std::future::Future<Output = T>,
    ) -> T {
        let started = std::time::Instant::now();
        let result = call.await;
        emit(
            "DynamoDbLatency",
            started.elapsed().as_secs_f64() * 1000.0,
            "Milliseconds",
            &[("Operation", operation)],
        );
        result
    }

    /// Counts one `name` event with the given dimensions.
    pub fn count(name: &str, dimensions: &[(&str, &str)]) {
        emit(name, 1.0, "Count", dimensions);
    }

    /// Records one `name` value of `unit` with the given dimensions. A value that is not a
    /// finite number is not recorded (CloudWatch would drop the whole line).
    pub fn emit(name: &str, value: f64, unit: &str, dimensions: &[(&str, &str)]) {
        debug_assert!(value.is_finite(), "{name}: {value} is not a metric value");
        if !value.is_finite() {
            return;
        }
        let sink = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(sink) = sink {
            sink(&line(name, value, unit, dimensions, now_millis()));
        }
    }

    /// One EMF document. It carries no `level`: Lambda counts such lines as INFO, so a function
    /// whose application log level is above INFO writes no metrics. A dimension may not be named
    /// `_aws` or like the metric (the document would hold the key twice).
    pub fn line(
        name: &str,
        value: f64,
        unit: &str,
        dimensions: &[(&str, &str)],
        timestamp_ms: u128,
    ) -> String {
        debug_assert!(
            dimensions.iter().all(|(k, _)| *k != name && *k != "_aws"),
            "{name}: a dimension clashes with a key of the document"
        );
        // Written out rather than built as a `serde_json::Value`: this runs on every request.
        fn string(out: &mut Vec<u8>, s: &str) {
            serde_json::to_writer(&mut *out, s).expect("a string serialises infallibly");
        }
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(br#"{"_aws":{"Timestamp":"#);
        out.extend_from_slice((timestamp_ms as u64).to_string().as_bytes());
        out.extend_from_slice(br#","CloudWatchMetrics":[{"Namespace":"#);
        string(&mut out, NAMESPACE);
        out.extend_from_slice(br#","Dimensions":[["#);
        for (i, (k, _)) in dimensions.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(&mut out, k);
        }
        out.extend_from_slice(br#"]],"Metrics":[{"Name":"#);
        string(&mut out, name);
        out.extend_from_slice(br#","Unit":"#);
        string(&mut out, unit);
        out.extend_from_slice(b"}]}]}");
        for (k, v) in dimensions {
            out.push(b',');
            string(&mut out, k);
            out.push(b':');
            string(&mut out, v);
        }
        out.push(b',');
        string(&mut out, name);
        out.push(b':');
        serde_json::to_writer(&mut out, &value).expect("a number serialises infallibly");
        out.push(b'}');
        String::from_utf8(out).expect("JSON text is UTF-8")
    }

    fn now_millis() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn emf_escapes_and_several_dimensions() {
            let line = super::line(
                "Authorizations",
                1.0,
                "Count",
                &[("Decision", "deny"), ("Reason", "a \"quoted\"\nvalue")],
                u128::from(u64::MAX),
            );
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(
                v,
                serde_json::json!({
                    "_aws": {"Timestamp": u64::MAX, "CloudWatchMetrics": [{
                        "Namespace": "JwtSessionService",
                        "Dimensions": [["Decision", "Reason"]],
                        "Metrics": [{"Name": "Authorizations", "Unit": "Count"}]
                    }]},
                    "Decision": "deny",
                    "Reason": "a \"quoted\"\nvalue",
                    "Authorizations": 1.0
                })
            );
            assert!(!line.contains('\n'), "one line");
            let none = super::line("DynamoDbLatency", 2.5, "Milliseconds", &[], 7);
            let v: serde_json::Value = serde_json::from_str(&none).unwrap();
            assert_eq!(
                v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
                serde_json::json!([[]])
            );
            assert_eq!(v["DynamoDbLatency"], 2.5);
        }

        #[test]
        fn emf_document() {
            let line = super::line("Logins", 1.0, "Count", &[("Outcome", "success")], 1234);
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(
                v,
                serde_json::json!({
                    "_aws": {"Timestamp": 1234, "CloudWatchMetrics": [{
                        "Namespace": "JwtSessionService",
                        "Dimensions": [["Outcome"]],
                        "Metrics": [{"Name": "Logins", "Unit": "Count"}]
                    }]},
                    "Outcome": "success",
                    "Logins": 1.0
                })
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the `write` calls that reach it.
    #[derive(Default)]
    struct Out {
        text: Vec<u8>,
        writes: usize,
    }

    impl std::io::Write for Out {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.text.extend_from_slice(buf);
            self.writes += 1;
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_batch_holds_its_lines_for_one_write() {
        let mut held = Held::new();
        assert!(!held.keep(b"start-up\n"), "no batch open: written at once");
        held.open += 1;
        assert!(held.keep(b"log\n"));
        assert!(held.keep(b"metric 1\n"));
        assert!(held.keep(b"metric 2\n"));
        let mut out = Out::default();
        held.end(&mut out);
        assert_eq!(out.text, b"log\nmetric 1\nmetric 2\n");
        assert_eq!(out.writes, 1);
        assert!(!held.keep(b"after\n"), "the batch has ended");

        // Overlapping batches: each end writes what is held so far; nothing is lost or repeated.
        held.open += 2;
        assert!(held.keep(b"a\n"));
        held.end(&mut out);
        assert!(held.keep(b"b\n"));
        held.end(&mut out);
        assert_eq!(out.text, b"log\nmetric 1\nmetric 2\na\nb\n");
        assert_eq!(out.writes, 3);
        assert_eq!(held.open, 0);
        // An empty batch writes nothing.
        held.open += 1;
        held.end(&mut out);
        assert_eq!(out.writes, 3);

        // An urgent line (WARN, ERROR) goes out at once, after what was held, in one write.
        held.open += 1;
        assert!(held.keep(b"info\n"));
        held.write_through(b"error\n", &mut out).unwrap();
        assert_eq!(out.writes, 4);
        assert!(out.text.ends_with(b"b\ninfo\nerror\n"));
        assert!(held.keep(b"metric\n"), "the batch is still open");
        held.end(&mut out);
        assert!(out.text.ends_with(b"info\nerror\nmetric\n"));
        assert_eq!(out.writes, 5);
        // With nothing held, an urgent line is written as it is.
        held.write_through(b"warn\n", &mut out).unwrap();
        assert!(out.text.ends_with(b"metric\nwarn\n"));
    }

    /// Through a real subscriber: while a batch is open `INFO` lines are held, a `WARN` or
    /// `ERROR` line takes them out with it at once, and the batch's end writes the rest. (The
    /// lines do reach this process's stdout.)
    #[test]
    fn the_writer_holds_only_routine_lines() {
        let holds = |text: &str| String::from_utf8_lossy(&held().lines).contains(text);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(Stdout::default())
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let open = batch();
            tracing::info!("telemetry test: a routine line");
            assert!(holds("a routine line"));
            tracing::error!("telemetry test: an urgent line");
            assert!(
                held().lines.is_empty(),
                "the urgent line took the held one out"
            );
            tracing::info!("telemetry test: another routine line");
            assert!(holds("another routine line"));
            drop(open);
            assert!(held().lines.is_empty());
            assert_eq!(held().open, 0);
            tracing::info!("telemetry test: outside a batch");
            assert!(held().lines.is_empty(), "no batch: written at once");
        });
    }

    #[test]
    fn third_party_crates_never_go_below_info() {
        use tracing::Level;
        let trace = filter(LevelFilter::TRACE);
        assert!(trace.would_enable("authorizer", &Level::TRACE));
        assert!(trace.would_enable("auth_direct::client", &Level::TRACE));
        assert!(trace.would_enable("hyper::proto", &Level::INFO));
        assert!(!trace.would_enable("hyper::proto", &Level::DEBUG));
        assert!(!trace.would_enable("lambda_runtime", &Level::TRACE));
        let warn = filter(LevelFilter::WARN);
        assert!(warn.would_enable("login", &Level::WARN));
        assert!(!warn.would_enable("login", &Level::INFO));
        assert!(!warn.would_enable("rustls", &Level::INFO));
        let info = filter(LevelFilter::INFO);
        assert!(info.would_enable("auth_edge::runner", &Level::INFO));
        assert!(!info.would_enable("auth_edge::runner", &Level::DEBUG));
    }

    /// Every package of the workspace is one of [`OUR_CRATES`], so the log level reaches it
    /// (a function left out would stay capped at `INFO` whatever `AWS_LAMBDA_LOG_LEVEL` says).
    #[test]
    fn every_workspace_crate_is_ours() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let workspace = std::fs::read_to_string(format!("{root}/Cargo.toml")).unwrap();
        let members = workspace
            .split_once("members = [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .expect("the workspace lists its members")
            .0;
        let mut seen = 0;
        for member in members.split('"').skip(1).step_by(2) {
            let manifest = std::fs::read_to_string(format!("{root}/{member}/Cargo.toml")).unwrap();
            let name = manifest
                .lines()
                .find_map(|l| l.strip_prefix("name = \""))
                .and_then(|l| l.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{member} names its package"));
            let krate = name.replace('-', "_");
            assert!(
                OUR_CRATES.contains(&krate.as_str()),
                "{krate} is not in OUR_CRATES"
            );
            seen += 1;
        }
        assert_eq!(
            seen,
            OUR_CRATES.len(),
            "OUR_CRATES names a crate the workspace lacks"
        );
    }
}
