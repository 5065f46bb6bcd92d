//! Another stack's HTTP API can put our authorizer in front of its routes: `template.yaml`
//! exports the authorizer's ARN, `examples/other-stack/template.yaml` imports it with the wiring
//! our own API uses (and the permission to invoke it), and its Python and Node functions read
//! the caller at the JSON path our authorizer's context arrives at: they run here on the example
//! route's sample event (`events/hello.json`) carrying the context our authorizer answered for a
//! live session.

mod common;

use std::process::Command;

use auth::store::StartSession as _;
use auth::store::memory::MemorySessions;
use auth_testing::{
    SAMPLE_SID, SAMPLE_USER_ID, SAMPLE_USERNAME, event, sample_refresh, sample_session,
    sample_verifier,
};
use serde_json::{Value, json};

const EXPORT: &str = "${AWS::StackName}-AuthorizerFunctionArn";
const IMPORT: &str = "${SessionStackName}-AuthorizerFunctionArn";

fn example() -> Value {
    common::yaml_file("examples/other-stack/template.yaml")
}

#[test]
fn the_template_exports_the_authorizer() {
    let output = &common::yaml_file("template.yaml")["Outputs"]["AuthorizerFunctionArn"];
    assert_eq!(output["Value"], "AuthorizerFunction.Arn");
    assert_eq!(output["Export"]["Name"], EXPORT);
}

#[test]
fn the_other_stack_wires_it_as_our_api_does() {
    let ours = &common::yaml_file("template.yaml")["Resources"]["HttpApi"]["Properties"]["Auth"]["Authorizers"]
        ["SessionAuthorizer"];
    let doc = example();
    assert_eq!(
        doc["Parameters"]["SessionStackName"]["Default"],
        "jwt-session-service"
    );
    let resources = doc["Resources"].as_object().unwrap();
    let auth = &resources["Api"]["Properties"]["Auth"];
    assert_eq!(auth["DefaultAuthorizer"], "SessionAuthorizer");
    let theirs = &auth["Authorizers"]["SessionAuthorizer"];
    assert_eq!(theirs["FunctionArn"], json!({ "Fn::ImportValue": IMPORT }));
    for field in [
        "AuthorizerPayloadFormatVersion",
        "EnableSimpleResponses",
        "Identity",
    ] {
        assert_eq!(theirs[field], ours[field], "{field}");
    }
    assert_eq!(theirs["Identity"]["ReauthorizeEvery"], 0);

    let permission = &resources["AuthorizerPermission"];
    assert_eq!(permission["Type"], "AWS::Lambda::Permission");
    let p = &permission["Properties"];
    assert_eq!(p["Action"], "lambda:InvokeFunction");
    assert_eq!(p["Principal"], "apigateway.amazonaws.com");
    assert_eq!(p["FunctionName"], json!({ "Fn::ImportValue": IMPORT }));
    assert!(
        p["SourceArn"]
            .as_str()
            .unwrap()
            .ends_with(":${Api}/authorizers/*"),
        "only this API's authorizers may invoke it"
    );

    // Every route is on that API and none opts out of the authorizer.
    let mut routes = 0;
    for (name, r) in resources {
        if r["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        for event in r["Properties"]["Events"].as_object().unwrap().values() {
            assert_eq!(event["Type"], "HttpApi", "{name}");
            assert_eq!(event["Properties"]["ApiId"], "Api", "{name}");
            assert!(event["Properties"]["Auth"].is_null(), "{name}");
            routes += 1;
        }
    }
    assert_eq!(routes, 2);
}

/// Runs `program args…` with `event` on stdin; the handler's result as JSON.
fn run(program: &str, args: &[&str], event: &Value) -> Value {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/other-stack");
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} (needed by this test): {e}"));
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), event.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{program} failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The Python and Node functions, each as its runtime calls it: (status, body).
fn answers(event: &Value) -> Vec<(&'static str, u16, Value)> {
    let python = run(
        "python3",
        &[
            "-c",
            "import json, sys; sys.path.insert(0, 'python'); import app; \
             print(json.dumps(app.handler(json.load(sys.stdin), None)))",
        ],
        event,
    );
    let node = run(
        "node",
        &[
            "--input-type=module",
            "-e",
            "import { handler } from './node/index.mjs'; \
             let text = ''; for await (const chunk of process.stdin) text += chunk; \
             console.log(JSON.stringify(await handler(JSON.parse(text))));",
        ],
        event,
    );
    [("python", python), ("node", node)]
        .into_iter()
        .map(|(name, r)| {
            assert_eq!(r["headers"]["content-type"], "application/json", "{name}");
            let body = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            (name, r["statusCode"].as_u64().unwrap() as u16, body)
        })
        .collect()
}

/// `events/hello.json` with the context our authorizer allows the sample session's token with,
/// where API Gateway puts it (`requestContext.authorizer.lambda`).
async fn with_our_authorizers_context() -> Value {
    let sessions = MemorySessions::new();
    sessions
        .start_session(&sample_session(), &sample_refresh())
        .await
        .unwrap();
    let request = serde_json::from_value(event("authorizer-valid.json")).unwrap();
    let answer = authorizer::Handler::new(sessions, sample_verifier())
        .handle(request)
        .await;
    assert!(answer.is_authorized);
    let mut hello = event("hello.json");
    hello["requestContext"]["authorizer"] = json!({ "lambda": answer.context });
    hello
}

#[tokio::test]
async fn python_and_node_functions_read_the_caller_from_the_context() {
    let allowed = with_our_authorizers_context().await;
    assert_eq!(
        allowed["requestContext"]["authorizer"]["lambda"]["user_id"],
        SAMPLE_USER_ID
    );
    for (name, status, body) in answers(&allowed) {
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(
            body,
            json!({
                "message": format!("Hello, {SAMPLE_USERNAME}"),
                "user_id": SAMPLE_USER_ID,
                "username": SAMPLE_USERNAME,
                "session_id": SAMPLE_SID,
            }),
            "{name}: the same answer as functions/hello"
        );
    }
    let mut without = event("hello.json");
    without["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    for (name, status, body) in answers(&without) {
        assert_eq!(
            (status, &body["error"]),
            (401, &json!("unauthorized")),
            "{name}"
        );
    }
}
