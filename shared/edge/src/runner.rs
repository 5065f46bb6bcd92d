//! The one runner of every function: what a Lambda `main` does around its handler, written
//! once. A function says only what is particular to it — its handler type (a [`Function`] for
//! the HTTP routes, an [`EventFunction`] for the authorizer) and how it starts — and
//! [`run_http`] / [`run_events`] do the rest: the runtime, logging, metrics, one batched write
//! per invocation, the request span, the metric with its outcome, and the one error → response
//! mapping. The local server drives the same handlers through [`handle`].
//!
//! Each invocation has one span, the function's (`request`, or the authorizer's `authorize`),
//! which also carries Lambda's request id and X-Ray trace id ([`api::lambda_ids`]).
//! `lambda_runtime::run` would open a second span around it for those two ids
//! (`Lambda runtime invoke`); the runner starts `lambda_runtime::Runtime` without that layer,
//! which took 3% of the authorizer's instructions per warm invocation (bench/NOTES.md).

use std::convert::Infallible;
use std::future::Future;
use std::process::ExitCode;

use auth::error::BoxError;
use auth_telemetry::metrics;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
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

    /// Answers one event, in a span with Lambda's ids from `lambda` ([`api::lambda_ids`];
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
            move |event: lambda_runtime::LambdaEvent<F::Event>| async move {
                let _batch = auth_telemetry::batch();
                Ok::<_, Infallible>(function.handle(event.payload, Some(&event.context)).await)
            },
        ))
        .run()
        .await
        .map_err(Failure::Runtime)
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
