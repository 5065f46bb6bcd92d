//! The one runner of every function: what a Lambda `main` does around its handler, written
//! once. A function says only what is particular to it — its handler type (a [`Function`] for
//! the HTTP routes, an [`EventFunction`] for the authorizer) and how it starts — and
//! [`run_http`] / [`run_events`] do the rest: the runtime, logging, metrics, one batched write
//! per invocation, the request span, the metric with its outcome, and the one error → response
//! mapping. The local server drives the same handlers through [`handle`].
//!
//! The two talk to Lambda differently:
//! - HTTP functions run on `lambda_runtime` with `lambda_http`'s API Gateway conversion.
//! - Event functions (the authorizer, on every protected request's path) talk to the Runtime API
//!   through [`crate::runtime_api`], a small blocking client: `lambda_runtime` and its
//!   hyper-util client took about a quarter of the authorizer's user-space instructions per warm
//!   invocation outside the handler, and its answer went through a spawned connection task.
//!   With this client: 335,000 → 240,000 instructions and 15 → 9 system calls per warm
//!   invocation, 16% less CPU in interleaved native rounds (bench/NOTES.md). The event is decoded
//!   here ([`decode_event`]) straight from the body, without `serde_path_to_error` (which
//!   copies every key of the 2 KB event twice to name the field at fault); the path is worked
//!   out only when decoding fails. An event that is not the function's event type, and a
//!   handler's panic, are reported as the invocation's error, and the function goes on. Lambda's
//!   `_X_AMZN_TRACE_ID` variable is not set per invocation as `lambda_runtime` does: nothing in
//!   the authorizer reads it (it has no AWS SDK), and the trace id is in its span.
//!
//! Each invocation has one span, the function's (`request`, or the authorizer's `authorize`),
//! which also carries Lambda's request id and X-Ray trace id ([`api::LambdaIds`]).
//! `lambda_runtime::run` would open a second span around it for those two ids
//! (`Lambda runtime invoke`); the runner starts `lambda_runtime::Runtime` without that layer,
//! which took 3% of the authorizer's instructions per warm invocation (2% net of the two fields
//! the function's span now records; bench/NOTES.md). What that span also covered is left
//! without ids: `lambda_runtime`'s own few lines during an invocation (a handler's panic, a
//! missing request id).

use std::convert::Infallible;
use std::future::Future;
use std::process::ExitCode;

use auth::error::BoxError;
use auth_telemetry::metrics;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::panic::AssertUnwindSafe;
use tracing::Instrument as _;

use crate::api;
use crate::runtime_api::{Invocation, RuntimeApi, RuntimeApiError};

/// What a successful call answers, and its outcome label for logs and metrics (e.g.
/// `success`, `created`, `logged_out`).
pub type Answer = (Response<Body>, &'static str);

/// One HTTP function: its metric and its business call.
pub trait Function {
    /// The metric this request counts under (CloudWatch, with an `Outcome` dimension), e.g.
    /// `Logins`; `None` for a function that counts none.
    fn metric(&self, req: &Request) -> Option<&'static str>;

    /// The business call: the response and its outcome, or an error (mapped by
    /// [`api::error_response`], its code becoming the outcome).
    fn call(&self, req: Request) -> impl Future<Output = Result<Answer, auth::AuthError>> + Send;

    /// Serves one request through [`handle`]: what the Lambda and the local server call.
    fn handle(&self, req: Request) -> impl Future<Output = Response<Body>> + Send
    where
        Self: Sized + Sync,
    {
        handle(self, req)
    }
}

/// Serves one request with `function`: in the request's span, maps an error to its response,
/// counts the metric with the outcome and logs the request's one outcome line.
pub async fn handle<F: Function + Sync>(function: &F, req: Request) -> Response<Body> {
    let span = api::request_span(&req);
    async move {
        let metric = function.metric(&req);
        let result = function.call(req).await;
        let outcome = match &result {
            Ok((_, outcome)) => *outcome,
            Err(e) => api::status_and_code(e).1,
        };
        if let Some(metric) = metric {
            metrics::count(metric, &[("Outcome", outcome)]);
        }
        let response = api::respond(result.map(|(response, _)| response));
        // The request's one outcome line, in the vocabulary of its metric.
        tracing::info!(outcome, status = response.status().as_u16(), "handled");
        response
    }
    .instrument(span)
    .await
}

/// One function invoked with a JSON event rather than an HTTP request (the authorizer).
pub trait EventFunction {
    /// The event, as Lambda delivers it.
    type Event: DeserializeOwned + Send;
    /// The answer. Never an error: every problem is decided inside.
    type Response: Serialize;

    /// Answers one event, in a span with Lambda's ids `lambda` (all `None` where no Lambda runs
    /// it).
    fn handle(
        &self,
        event: Self::Event,
        lambda: api::LambdaIds<'_>,
    ) -> impl Future<Output = Self::Response> + Send;
}

/// Runs an HTTP function on Lambda: starts it with `start` once per cold start, then serves
/// every invocation through [`handle`]. Returns only if start-up or the runtime fails.
pub fn run_http<F: Function + Sync>(start: impl Future<Output = Result<F, BoxError>>) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    exit(runtime.block_on(async {
        let function = start.await.map_err(Failure::Start)?;
        let function = &function;
        lambda_runtime::Runtime::new(lambda_http::Adapter::from(lambda_http::service_fn(
            move |req| async move {
                // The invocation's logs and metrics go out in one write, before the response.
                let _batch = auth_telemetry::batch();
                Ok::<_, Infallible>(handle(function, req).await)
            },
        )))
        .run()
        .await
        .map_err(Failure::Runtime)
    }))
}

/// Runs an event function on Lambda: starts it with `start` once per cold start, then answers
/// every invocation the Runtime API hands over ([`runtime_api`]), each in one
/// `block_on` of the async runtime while the Runtime API is waited on outside it. An event
/// that is not the function's event type is reported as the invocation's error
/// (`EventDecodeError`), and so is a handler's panic (`Panic`); the function goes on (as
/// `lambda_runtime` does). Returns only if start-up fails, or the Runtime API cannot be talked
/// to, refuses to give the next invocation or answers with a `5xx` (see [`runtime_api`]).
pub fn run_events<F: EventFunction + Sync>(
    start: impl Future<Output = Result<F, BoxError>>,
) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let function = match runtime.block_on(start) {
        Ok(function) => function,
        Err(e) => return exit(Err(Failure::Start(e))),
    };
    let served =
        RuntimeApi::from_env().and_then(|mut api| serve_events(&runtime, &function, &mut api));
    exit(
        served
            .map(|never| match never {})
            .map_err(Failure::RuntimeApi),
    )
}

/// Answers the invocations `api` hands over with `function`, one at a time, until talking to
/// the Runtime API fails.
fn serve_events<F: EventFunction + Sync>(
    runtime: &tokio::runtime::Runtime,
    function: &F,
    api: &mut RuntimeApi,
) -> Result<Infallible, RuntimeApiError> {
    loop {
        let invocation = api.next_invocation()?;
        let answer = std::panic::catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(answer(function, &invocation))
        }));
        let status = match answer {
            Ok(Ok(response)) => api.respond(&invocation, &response),
            Ok(Err(error)) => api.fail(&invocation, "EventDecodeError", &error.to_string()),
            Err(_) => {
                // The panic's own message went to stderr (Rust's panic hook); this line carries
                // the invocation's id. The function goes on, as `lambda_runtime` does.
                tracing::error!(
                    lambda_request_id = invocation.request_id,
                    "the function panicked; the invocation is reported as failed (Panic)"
                );
                api.fail(&invocation, "Panic", "the function panicked")
            }
        }?;
        if !(200..300).contains(&status) {
            // 403: the invocation is no longer open (it timed out); 413: the answer is too large.
            tracing::error!(
                lambda_request_id = invocation.request_id,
                status,
                "the Lambda Runtime API refused the invocation's answer"
            );
        }
    }
}

/// One invocation of an event function: its event decoded, answered, and the answer as JSON;
/// its logs and metrics in one write.
async fn answer<F: EventFunction>(
    function: &F,
    invocation: &Invocation,
) -> Result<Vec<u8>, EventDecodeError> {
    let _batch = auth_telemetry::batch();
    let lambda = api::LambdaIds {
        request_id: Some(&invocation.request_id),
        xray_trace_id: invocation.xray_trace_id.as_deref(),
        tenant_id: invocation.tenant_id.as_deref(),
    };
    let event = decode_event(&invocation.event).inspect_err(|error| {
        tracing::error!(
            lambda_request_id = invocation.request_id,
            %error,
            "the event is not the function's event type"
        );
    })?;
    let response = function.handle(event, lambda).await;
    Ok(serde_json::to_vec(&response).expect("an answer serialises to JSON"))
}

/// Why an event could not be decoded: what Lambda records as the invocation's error and the
/// function logs. It names where and what kind of fault, never the value at fault: serde's own
/// messages quote it, and an event's values include the caller's token.
#[derive(Debug, thiserror::Error)]
pub enum EventDecodeError {
    /// The event is not the function's event type.
    #[error(
        "failed to deserialize the incoming data into the function's payload type: {fault} at \
         {path} (line {line}, column {column})"
    )]
    NotTheEventType {
        /// The path of the field at fault (`.` for the event itself), e.g. `identitySource`.
        path: String,
        /// `not JSON`, `a wrong type or value`, or `cut short`.
        fault: &'static str,
        /// Where in the event's JSON.
        line: usize,
        /// Where in that line.
        column: usize,
    },
}

/// Decodes an event function's event from its JSON; only if that fails, decodes it again to
/// find the path of the field at fault.
pub fn decode_event<T: DeserializeOwned>(json: &[u8]) -> Result<T, EventDecodeError> {
    serde_json::from_slice(json).map_err(|error| {
        let mut de = serde_json::Deserializer::from_slice(json);
        let path = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(e) => e.path().to_string(),
            Ok(_) => ".".to_owned(),
        };
        let fault = match error.classify() {
            serde_json::error::Category::Data => "a wrong type or value",
            serde_json::error::Category::Eof => "cut short",
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => "not JSON",
        };
        EventDecodeError::NotTheEventType {
            path,
            fault,
            line: error.line(),
            column: error.column(),
        }
    })
}

enum Failure {
    Start(BoxError),
    Runtime(lambda_runtime::Error),
    RuntimeApi(RuntimeApiError),
}

/// Logging and metrics on, then the async runtime for the current thread (a Lambda runs one
/// invocation at a time); `None`, logged, if it cannot start.
fn runtime() -> Option<tokio::runtime::Runtime> {
    auth_telemetry::init();
    auth_telemetry::metrics::enable_stdout();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .inspect_err(|e| tracing::error!(error = %e, "could not start the async runtime"))
        .ok()
}

/// The process's exit: a failure is logged as a sentence with its causes, and exits with 1.
fn exit(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Start(e)) => {
            tracing::error!(
                error = %api::chain(e.as_ref()),
                "the function could not start: fix the configuration named above and redeploy"
            );
            ExitCode::FAILURE
        }
        Err(Failure::Runtime(e)) => {
            tracing::error!(error = %api::chain(e.as_ref()), "the Lambda runtime failed");
            ExitCode::FAILURE
        }
        Err(Failure::RuntimeApi(e)) => {
            tracing::error!(error = %api::chain(&e), "the Lambda runtime failed");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Event {
        id: String,
        #[serde(default)]
        inner: Inner,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Inner {
        count: u32,
    }

    /// Answers `{"n": N}` with N and Lambda's ids; panics on 13.
    struct Numbers;

    #[derive(Deserialize)]
    struct Numbered {
        n: u32,
    }

    impl EventFunction for Numbers {
        type Event = Numbered;
        type Response = serde_json::Value;

        async fn handle(&self, event: Numbered, lambda: api::LambdaIds<'_>) -> serde_json::Value {
            assert_ne!(event.n, 13, "unlucky");
            tokio::task::yield_now().await;
            serde_json::json!({"n": event.n, "request_id": lambda.request_id,
                "trace": lambda.xray_trace_id})
        }
    }

    #[test]
    fn an_event_function_answers_each_invocation_and_reports_what_fails() {
        use crate::runtime_api::fake::{Answer, runtime_api};
        let (host, server) = runtime_api(vec![
            Answer::invocation("id-1", r#"{"n":1}"#),
            Answer::accepted(),
            Answer::invocation("id-2", r#"{"n":"Bearer secret"}"#),
            Answer::accepted(),
            Answer::invocation("id-3", r#"{"n":13}"#),
            Answer::accepted(),
            // An answer the Runtime API does not take is logged, and the function goes on.
            Answer::invocation("id-4", r#"{"n":4}"#),
            Answer::raw("HTTP/1.1 410 Gone\r\ncontent-length: 0\r\n\r\n"),
            Answer::raw("HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n"),
        ]);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let logs = auth_testing::logs::Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish();
        let error = tracing::subscriber::with_default(subscriber, || {
            serve_events(&runtime, &Numbers, &mut RuntimeApi::new(&host).unwrap())
        })
        .unwrap_err();
        assert!(
            matches!(error, RuntimeApiError::Status { status: 500, .. }),
            "{error:?}"
        );

        let seen = server.join().unwrap();
        let lines: Vec<&str> = seen.iter().map(|s| s.line.as_str()).collect();
        let next = "GET /2018-06-01/runtime/invocation/next";
        assert_eq!(
            lines,
            [
                next,
                "POST /2018-06-01/runtime/invocation/id-1/response",
                next,
                "POST /2018-06-01/runtime/invocation/id-2/error",
                next,
                "POST /2018-06-01/runtime/invocation/id-3/error",
                next,
                "POST /2018-06-01/runtime/invocation/id-4/response",
                next,
            ]
        );
        let body = |i: usize| serde_json::from_slice::<serde_json::Value>(&seen[i].body).unwrap();
        assert_eq!(
            body(1),
            serde_json::json!({"n": 1, "request_id": "id-1", "trace": null})
        );
        let error_type = |i: usize| seen[i].header("lambda-runtime-function-error-type");
        assert_eq!(error_type(3), Some("EventDecodeError"));
        // Where and what kind, never the value.
        assert_eq!(
            body(3)["errorMessage"],
            "failed to deserialize the incoming data into the function's payload type: a wrong \
             type or value at n (line 1, column 20)"
        );
        assert_eq!(error_type(5), Some("Panic"));
        assert_eq!(body(5)["errorType"], "Panic");
        // One connection throughout.
        assert!(seen.iter().all(|s| s.connection == 0));
        // Each failure is logged with its invocation's id; the event's value never is.
        let logs = logs.text();
        for (id, what) in [
            ("id-2", "is not the function's event type"),
            ("id-3", "the function panicked"),
            ("id-4", "refused the invocation's answer"),
        ] {
            assert!(
                logs.lines()
                    .any(|l| l.contains(what) && l.contains(&format!("lambda_request_id=\"{id}\""))),
                "{what}: {logs}"
            );
        }
        assert!(!logs.contains("Bearer secret"), "{logs}");
    }

    #[test]
    fn events_decode_directly_and_a_failure_names_the_field() {
        let event: Event = decode_event(br#"{"id":"a","inner":{"count":2},"more":[1]}"#).unwrap();
        assert_eq!(event.id, "a");
        assert_eq!(event.inner, Inner { count: 2 });

        // The field at fault is named; its value (here standing for a token) is not.
        let error =
            decode_event::<Event>(br#"{"id":"a","inner":{"count":"Bearer secret"}}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "failed to deserialize the incoming data into the function's payload type: a wrong \
             type or value at inner.count (line 1, column 42)"
        );
        let error = decode_event::<Event>(br#"{"inner":{"count":1}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            error.ends_with("a wrong type or value at . (line 1, column 21)"),
            "{error}"
        );
    }
}
