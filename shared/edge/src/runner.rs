//! The one runner of every function: what a Lambda `main` does around its handler, written
//! once. A function says only what is particular to it — its handler type (a [`Function`] for
//! the HTTP routes, an [`EventFunction`] for the authorizer) and how it starts — and
//! [`run_http`] / [`run_events`] do the rest: the runtime, logging, metrics, one batched write
//! per invocation, the request span, the metric with its outcome, and the one error → response
//! mapping. The local server drives the same handlers through [`handle`].
//!
//! Each invocation has one span, the function's (`request`, or the authorizer's `authorize`),
//! which also carries Lambda's request id and X-Ray trace id ([`api::LambdaIds`]).
//! `lambda_runtime::run` would open a second span around it for those two ids
//! (`Lambda runtime invoke`); the runner starts `lambda_runtime::Runtime` without that layer,
//! which took 3% of the authorizer's instructions per warm invocation (2% net of the two fields
//! the function's span now records; bench/NOTES.md). What that span also covered is left
//! without ids: `lambda_runtime`'s own few lines during an invocation (a handler's panic, a
//! missing request id).
//!
//! An event function's event is taken from `lambda_runtime` as raw JSON and decoded here
//! ([`decode_event`]): `lambda_runtime` decodes through `serde_path_to_error`, which copies every
//! key of the 2 KB event twice (about 60 allocations per invocation) to name the field at fault
//! should decoding fail. Here the path is worked out only when it does.

use std::convert::Infallible;
use std::future::Future;
use std::process::ExitCode;

use auth::error::BoxError;
use auth_telemetry::metrics;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tracing::Instrument as _;

use crate::api;

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

    /// Answers one event, in a span with Lambda's ids from `lambda` ([`api::LambdaIds`];
    /// `None` where no Lambda runs it).
    fn handle(
        &self,
        event: Self::Event,
        lambda: Option<&lambda_runtime::Context>,
    ) -> impl Future<Output = Self::Response> + Send;
}

/// Runs an HTTP function on Lambda: starts it with `start` once per cold start, then serves
/// every invocation through [`handle`]. Returns only if start-up or the runtime fails.
pub fn run_http<F: Function + Sync>(start: impl Future<Output = Result<F, BoxError>>) -> ExitCode {
    runtime(async {
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
    })
}

/// Runs an event function on Lambda, as [`run_http`] does an HTTP one.
pub fn run_events<F: EventFunction + Sync>(
    start: impl Future<Output = Result<F, BoxError>>,
) -> ExitCode {
    runtime(async {
        let function = start.await.map_err(Failure::Start)?;
        let function = &function;
        lambda_runtime::Runtime::new(lambda_runtime::service_fn(
            move |event: lambda_runtime::LambdaEvent<Box<RawValue>>| async move {
                let _batch = auth_telemetry::batch();
                let payload = decode_event(&event.payload).inspect_err(|error| {
                    tracing::error!(
                        lambda_request_id = event.context.request_id,
                        %error,
                        "the event is not the function's event type"
                    );
                })?;
                Ok::<_, EventDecodeError>(function.handle(payload, Some(&event.context)).await)
            },
        ))
        .run()
        .await
        .map_err(Failure::Runtime)
    })
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

impl From<EventDecodeError> for lambda_runtime::Diagnostic {
    fn from(e: EventDecodeError) -> Self {
        Self {
            error_type: "EventDecodeError".into(),
            error_message: e.to_string(),
        }
    }
}

/// Decodes an event function's event from its JSON (which `lambda_runtime` has already found to
/// be JSON); only if that fails, decodes it again to find the path of the field at fault.
pub fn decode_event<T: DeserializeOwned>(json: &RawValue) -> Result<T, EventDecodeError> {
    serde_json::from_str(json.get()).map_err(|error| {
        let mut de = serde_json::Deserializer::from_str(json.get());
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
}

/// Logging and metrics on, then `main` on the current thread (a Lambda runs one invocation at
/// a time); a failure is logged as a sentence with its causes, and the process exits with 1.
fn runtime(main: impl Future<Output = Result<(), Failure>>) -> ExitCode {
    auth_telemetry::init();
    auth_telemetry::metrics::enable_stdout();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "could not start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(main) {
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

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    #[test]
    fn events_decode_directly_and_a_failure_names_the_field() {
        let event: Event =
            decode_event(&raw(r#"{"id":"a","inner":{"count":2},"more":[1]}"#)).unwrap();
        assert_eq!(event.id, "a");
        assert_eq!(event.inner, Inner { count: 2 });

        // The field at fault is named; its value (here standing for a token) is not.
        let error = decode_event::<Event>(&raw(r#"{"id":"a","inner":{"count":"Bearer secret"}}"#))
            .unwrap_err();
        let diagnostic = lambda_runtime::Diagnostic::from(error);
        assert_eq!(diagnostic.error_type, "EventDecodeError");
        assert_eq!(
            diagnostic.error_message,
            "failed to deserialize the incoming data into the function's payload type: a wrong \
             type or value at inner.count (line 1, column 42)"
        );
        let error = decode_event::<Event>(&raw(r#"{"inner":{"count":1}}"#))
            .unwrap_err()
            .to_string();
        assert!(
            error.ends_with("a wrong type or value at . (line 1, column 21)"),
            "{error}"
        );
    }
}
