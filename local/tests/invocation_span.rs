//! On Lambda each invocation logs in one span, the function's own, which carries Lambda's
//! request id and X-Ray trace id beside API Gateway's route and request id (the runner leaves
//! out `lambda_runtime`'s span that used to carry them, and the authorizer does not run on
//! `lambda_runtime` at all): the authorizer's `authorize` and an HTTP function's `request`.
//! Where no Lambda runs the handler (the local server) the two fields are absent. These tests
//! call the handlers as the runner does; the runner's own loops are checked on the real
//! runtime by `scripts/cargo-lambda-smoke`.

use auth::UserId;
use auth::clock;
use auth::store::memory::MemorySessions;
use auth_edge::runner::{self, EventFunction};
use auth_testing::logs::Capture;
use auth_testing::{access_token, event, new_session, put_session, request, verifier};
use lambda_http::RequestExt as _;
use serde_json::Value;
use tracing::level_filters::LevelFilter;

const LAMBDA_REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
const TRACE_ID: &str = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";

fn lambda_context() -> lambda_http::Context {
    let mut context = lambda_http::Context::default();
    context.request_id = LAMBDA_REQUEST_ID.to_owned();
    context.xray_trace_id = Some(TRACE_ID.to_owned());
    context.tenant_id = Some("tenant-a".to_owned());
    context
}

/// The one line with `message`, checked to have been logged in exactly one span; that span.
fn span_of(logs: &Capture, message: &str) -> Value {
    let lines: Vec<Value> = logs
        .json_lines()
        .into_iter()
        .filter(|l| l["message"] == message)
        .collect();
    assert_eq!(lines.len(), 1, "one {message:?} line in {}", logs.text());
    let line = &lines[0];
    assert_eq!(
        line["spans"].as_array().map(Vec::len),
        Some(1),
        "one span: {line}"
    );
    line["span"].clone()
}

#[tokio::test]
async fn each_invocation_logs_in_one_span_with_lambdas_ids() {
    let logs = Capture::default();
    auth_telemetry::init_with(true, LevelFilter::INFO, logs.clone());

    // The authorizer, as the runner calls it on Lambda, and as the local server does.
    let sessions = MemorySessions::default();
    let record = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    put_session(&sessions, &record).await;
    let mut authorizer_event = event("authorizer-valid.json");
    let bearer = format!("Bearer {}", access_token(&record));
    authorizer_event["headers"]["authorization"] = bearer.clone().into();
    authorizer_event["identitySource"] = serde_json::json!([bearer]);
    let authorizer_event: authorizer::AuthorizerRequest =
        serde_json::from_value(authorizer_event).unwrap();
    let authorizer = authorizer::Handler::new(sessions, verifier());
    let context = lambda_context();
    let ids = auth_edge::api::LambdaIds::of(Some(&context));
    let answer = EventFunction::handle(&authorizer, authorizer_event.clone(), ids).await;
    assert!(answer.is_authorized);
    let span = span_of(&logs, "authorized");
    assert_eq!(span["name"], "authorize");
    assert_eq!(span["lambda_request_id"], LAMBDA_REQUEST_ID);
    assert_eq!(span["xray_trace_id"], TRACE_ID);
    assert_eq!(span["tenant_id"], "tenant-a");
    assert_eq!(span["route"], "GET /me");
    assert_eq!(span["user_id"], record.user_id.as_str());
    assert!(span["request_id"].is_string(), "{span}");

    // An HTTP function, as the runner calls it on Lambda.
    let req = request(&event("hello.json")).with_lambda_context(lambda_context());
    let response = runner::handle(&hello::Handler, req).await;
    assert_eq!(response.status(), 200);
    let span = span_of(&logs, "handled");
    assert_eq!(span["name"], "request");
    assert_eq!(span["lambda_request_id"], LAMBDA_REQUEST_ID);
    assert_eq!(span["xray_trace_id"], TRACE_ID);
    assert_eq!(span["route"], "GET /hello");

    // Without a Lambda (the local server) neither id is there, and nothing else changes.
    let logs_before = logs.json_lines().len();
    let answer = EventFunction::handle(&authorizer, authorizer_event, Default::default()).await;
    assert!(answer.is_authorized);
    let line = logs.json_lines().split_off(logs_before);
    let line = line.iter().find(|l| l["message"] == "authorized").unwrap();
    assert_eq!(line["spans"].as_array().map(Vec::len), Some(1));
    assert!(line["span"].get("lambda_request_id").is_none(), "{line}");
    assert!(line["span"].get("xray_trace_id").is_none(), "{line}");
    assert_eq!(line["span"]["route"], "GET /me");
}
