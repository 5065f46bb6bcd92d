//! The hello handler, fed with `events/hello.json`: the caller comes from the authorizer's
//! context, and without a well-formed context there is no caller (401).

use auth_edge::Function as _;
use auth_testing::{
    SAMPLE_SID, SAMPLE_USER_ID, SAMPLE_USERNAME, event, request, response_json, with_caller,
};
use hello::Handler;
use serde_json::{Value, json};

async fn call(event: Value) -> (u16, Value) {
    response_json(&Handler.handle(request(&event)).await)
}

#[tokio::test]
async fn greets_the_caller_the_authorizer_let_through() {
    let (status, body) = call(event("hello.json")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "message": format!("Hello, {SAMPLE_USERNAME}"),
            "user_id": SAMPLE_USER_ID,
            "username": SAMPLE_USERNAME,
            "session_id": SAMPLE_SID,
        })
    );

    let (status, body) = call(with_caller(
        event("hello.json"),
        "00112233445566778899aabbccddeeff",
        "bob",
        "ffeeddccbbaa99887766554433221100",
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Hello, bob");
    assert_eq!(body["session_id"], "ffeeddccbbaa99887766554433221100");
}

/// A route deployed without the authorizer has no context: 401 with the error body, not an
/// anonymous greeting.
#[tokio::test]
async fn no_authorizer_context_is_unauthorized() {
    let mut without = event("hello.json");
    without["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let (status, body) = call(without).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized", "{body}");
}

/// Each field is parsed: an incomplete or malformed context is refused, never half-trusted.
#[tokio::test]
async fn a_malformed_context_is_unauthorized() {
    let mut incomplete = event("hello.json");
    incomplete["requestContext"]["authorizer"]["lambda"]
        .as_object_mut()
        .unwrap()
        .remove("sid");
    assert_eq!(call(incomplete).await.0, 401);
    for (user_id, username, sid) in [
        ("not-hex", "alice", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
        (
            "00112233445566778899aabbccddeeff",
            "",
            "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        ),
        ("00112233445566778899aabbccddeeff", "alice", "short"),
    ] {
        let (status, _) = call(with_caller(event("hello.json"), user_id, username, sid)).await;
        assert_eq!(status, 401, "{user_id} {username} {sid}");
    }
}
