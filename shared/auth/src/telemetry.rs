//! Logs and metrics.
//!
//! ## Logs
//! [`init`] installs a `tracing` subscriber that follows Lambda's advanced logging controls:
//! `AWS_LAMBDA_LOG_FORMAT=JSON` gives one JSON object per line (with the current spans, so every
//! line carries the request id and route), anything else plain text; `AWS_LAMBDA_LOG_LEVEL` (or
//! `RUST_LOG`) sets the level of this service's crates. Other crates are capped at `INFO` whatever
//! the level: at `TRACE`, `lambda_runtime` logs each raw event (passwords, `Authorization`
//! headers) and the AWS SDK may log response bodies (the signing key), which must never reach the
//! logs.
//!
//! ## Metrics
//! [`metrics`] writes CloudWatch Embedded Metric Format (EMF) lines to stdout: CloudWatch turns
//! them into metrics in the namespace [`metrics::NAMESPACE`] with no API call from the function.
//! They are off until a Lambda `main` calls [`metrics::enable_stdout`], so local runs and tests
//! stay quiet unless they install a sink of their own.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The crates of this service, whose level `AWS_LAMBDA_LOG_LEVEL` sets.
pub const OUR_CRATES: &[&str] = &[
    "auth",
    "register",
    "login",
    "user_info",
    "logout",
    "authorizer",
    "refresh",
    "sessions",
    "logout_all",
    "local_api",
];

/// The log filter for `level`: this service's crates at `level`, every other crate at `level`
/// but never below `INFO`.
pub fn filter(level: LevelFilter) -> EnvFilter {
    let others = level.min(LevelFilter::INFO);
    let mut directives = others.to_string().to_lowercase();
    for krate in OUR_CRATES {
        directives.push_str(&format!(",{krate}={}", level.to_string().to_lowercase()));
    }
    EnvFilter::new(directives)
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

/// Installs the subscriber for a Lambda function, writing to stdout (see the module docs).
pub fn init() {
    init_with(json_from_env(), level_from_env(), std::io::stdout);
}

/// Installs the subscriber with explicit settings and writer (tests capture logs this way).
/// Does nothing if a subscriber is already installed.
pub fn init_with<W>(json: bool, level: LevelFilter, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_target(false)
        .with_ansi(false)
        .with_writer(writer);
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .flatten_event(true)
            .try_init()
    } else {
        builder.without_time().try_init()
    };
}

pub mod metrics {
    //! CloudWatch Embedded Metric Format lines.
    //!
    //! | metric | unit | dimensions | written by |
    //! |---|---|---|---|
    //! | `Registrations` | Count | `Outcome` (`created`, `username_taken`, `invalid_request`, …) | register |
    //! | `Logins` | Count | `Outcome` (`success`, `invalid_credentials`, …) | login |
    //! | `Logouts` | Count | `Outcome` (`logged_out`, `already_gone`, …) | logout |
    //! | `Authorizations` | Count | `Decision` (`allow`, `deny`), `Reason` | authorizer |
    //! | `DynamoDbLatency` | Milliseconds | `Operation` (`GetItem`, `PutItem`, `DeleteItem`) | every function |

    use std::sync::{Arc, RwLock};

    /// The CloudWatch namespace of every metric.
    pub const NAMESPACE: &str = "JwtSessionService";

    type Sink = Arc<dyn Fn(&str) + Send + Sync>;

    static SINK: RwLock<Option<Sink>> = RwLock::new(None);

    /// Writes metrics to stdout, as Lambda functions do.
    pub fn enable_stdout() {
        set_sink(Some(Arc::new(|line: &str| {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
        })));
    }

    /// Sends metric lines to `sink` (or nowhere with `None`).
    pub fn set_sink(sink: Option<Sink>) {
        *SINK.write().unwrap_or_else(|e| e.into_inner()) = sink;
    }

    /// Counts one `name` event with the given dimensions.
    pub fn count(name: &str, dimensions: &[(&str, &str)]) {
        emit(name, 1.0, "Count", dimensions);
    }

    /// Records one `name` value of `unit` with the given dimensions.
    pub fn emit(name: &str, value: f64, unit: &str, dimensions: &[(&str, &str)]) {
        let sink = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(sink) = sink {
            sink(&line(name, value, unit, dimensions, now_millis()));
        }
    }

    /// One EMF document. It carries no `level`: Lambda counts such lines as INFO, so a function
    /// whose application log level is above INFO writes no metrics.
    pub fn line(
        name: &str,
        value: f64,
        unit: &str,
        dimensions: &[(&str, &str)],
        timestamp_ms: u128,
    ) -> String {
        let mut doc = serde_json::Map::new();
        let names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
        doc.insert(
            "_aws".into(),
            serde_json::json!({
                "Timestamp": timestamp_ms as u64,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [names],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }],
            }),
        );
        for (k, v) in dimensions {
            doc.insert((*k).into(), (*v).into());
        }
        doc.insert(name.into(), value.into());
        serde_json::Value::Object(doc).to_string()
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

    #[test]
    fn third_party_crates_never_go_below_info() {
        let directives = |level| -> Vec<String> {
            filter(level)
                .to_string()
                .split(',')
                .map(str::to_owned)
                .collect()
        };
        let trace = directives(LevelFilter::TRACE);
        assert!(trace.contains(&"info".to_owned()), "{trace:?}");
        assert!(trace.contains(&"authorizer=trace".to_owned()), "{trace:?}");
        assert!(!trace.contains(&"trace".to_owned()), "{trace:?}");
        let warn = directives(LevelFilter::WARN);
        assert!(warn.contains(&"warn".to_owned()), "{warn:?}");
        assert!(warn.contains(&"login=warn".to_owned()), "{warn:?}");
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
