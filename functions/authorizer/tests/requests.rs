//! The authorizer makes at most one DynamoDB request per call, strongly consistent: counted at the
//! HTTP layer (an SDK interceptor sees every request sent, retries included) against moto.

use std::sync::{Arc, Mutex};

use auth::store::dynamo::DynamoSessions;
use auth::store::{DeleteSession, RevokeAllSessions};
use auth::testing::{TestTables, event, new_session, put_session, signer, verifier};
use auth::{UserId, clock};
use authorizer::{AuthorizerRequest, Deny, Handler};
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};

/// Every request the client sends: its `X-Amz-Target` and body.
#[derive(Debug, Clone, Default)]
struct Sent(Arc<Mutex<Vec<(String, String)>>>);

impl Intercept for Sent {
    fn name(&self) -> &'static str {
        "Sent"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let request = context.request();
        let target = request
            .headers()
            .get("x-amz-target")
            .unwrap_or("")
            .to_owned();
        let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned();
        self.0.lock().unwrap().push((target, body));
        Ok(())
    }
}

impl Sent {
    fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

fn authorizer_event(token: &str) -> AuthorizerRequest {
    let mut e = event("authorizer-valid.json");
    let header = format!("Bearer {token}");
    e["headers"]["authorization"] = header.clone().into();
    e["identitySource"] = serde_json::json!([header]);
    serde_json::from_value(e).unwrap()
}

#[tokio::test]
async fn one_consistent_request_per_call() {
    let tables = TestTables::create().await;
    let sent = Sent::default();
    let config = tables
        .client
        .config()
        .to_builder()
        .interceptor(sent.clone())
        .build();
    let sessions = DynamoSessions::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        &tables.sessions_table,
    );
    let handler = Handler::new(sessions.clone(), verifier());
    let session = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    put_session(&sessions, &session).await;
    let token = |s: &auth::store::SessionRecord| {
        signer()
            .issue(&s.user_id, &s.username, &s.session_id, clock::now())
            .unwrap()
            .token
    };
    sent.take();

    // Allowed: one request, a consistent BatchGetItem of the session and the owner's marker.
    assert!(
        handler
            .decide(&authorizer_event(&token(&session)))
            .await
            .is_ok()
    );
    let requests = sent.take();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let (target, body) = &requests[0];
    assert_eq!(target, "DynamoDB_20120810.BatchGetItem");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    let wanted = &body["RequestItems"][&tables.sessions_table];
    assert_eq!(wanted["ConsistentRead"], true);
    let mut keys: Vec<&str> = wanted["Keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["pk"]["S"].as_str().unwrap())
        .collect();
    keys.sort();
    let marker = format!("user#{}", session.user_id);
    assert_eq!(keys, vec![session.session_id.as_str(), marker.as_str()]);

    // Denied after logout-all, and after logout: still one request each.
    let second = new_session(&session.user_id, "alice", clock::now() + 3600);
    put_session(&sessions, &second).await;
    sessions.bump_generation(&session.user_id).await.unwrap();
    sent.take();
    assert_eq!(
        handler.decide(&authorizer_event(&token(&second))).await,
        Err(Deny::Revoked)
    );
    assert_eq!(sent.take().len(), 1);
    sessions
        .delete_session(&second.session_id, &second.user_id, clock::now())
        .await
        .unwrap();
    sent.take();
    assert_eq!(
        handler.decide(&authorizer_event(&token(&second))).await,
        Err(Deny::NoSession)
    );
    assert_eq!(sent.take().len(), 1);

    // A token that fails verification costs no request at all.
    assert!(handler.decide(&authorizer_event("a.b.c")).await.is_err());
    assert!(sent.take().is_empty());
}
