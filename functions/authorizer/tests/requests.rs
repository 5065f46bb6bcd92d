//! The authorizer makes at most one DynamoDB request per call, strongly consistent: counted at
//! the HTTP layer by a recording proxy in front of moto, retries included — for the direct read
//! the Lambda runs and for the SDK store's read (which `POST /refresh` uses).

mod support;

use auth::store::{DeleteSession, GetSession, RevokeAllSessions};
use auth::{UserId, clock};
use auth_sdk::store::DynamoSessions;
use auth_testing::{
    TestTables, access_token, client_for, direct_sessions_at, dynamodb_endpoint, new_session,
    put_session, verifier,
};
use authorizer::{Deny, Handler};
use support::{Proxy, authorizer_event};

#[tokio::test]
async fn one_consistent_request_per_call_direct() {
    let tables = TestTables::create().await;
    let sent = Proxy::start(&dynamodb_endpoint()).await;
    let reader = direct_sessions_at(&sent.url, &tables.sessions_table);
    one_consistent_request_per_call(&tables, reader, &sent).await;
}

#[tokio::test]
async fn one_consistent_request_per_call_sdk() {
    let tables = TestTables::create().await;
    let sent = Proxy::start(&dynamodb_endpoint()).await;
    let reader = DynamoSessions::new(client_for(&sent.url), &tables.sessions_table);
    one_consistent_request_per_call(&tables, reader, &sent).await;
}

async fn one_consistent_request_per_call(
    tables: &TestTables,
    reader: impl GetSession + Sync,
    sent: &Proxy,
) {
    let sessions = tables.sessions();
    let handler = Handler::new(reader, verifier());
    let session = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    put_session(&sessions, &session).await;
    sent.take();

    // Allowed: one request, a consistent BatchGetItem of the session and the owner's marker.
    assert!(
        handler
            .decide(&authorizer_event(&access_token(&session)))
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
        handler
            .decide(&authorizer_event(&access_token(&second)))
            .await,
        Err(Deny::Revoked)
    );
    assert_eq!(sent.take().len(), 1);
    // A login after the log-out-everywhere, then its logout.
    let mut third = new_session(&session.user_id, "alice", clock::now() + 3600);
    third.generation = 1;
    put_session(&sessions, &third).await;
    assert!(
        sessions
            .delete_session(&third.session_id, &third.user_id, clock::now())
            .await
            .unwrap()
    );
    sent.take();
    assert_eq!(
        handler
            .decide(&authorizer_event(&access_token(&third)))
            .await,
        Err(Deny::NoSession)
    );
    assert_eq!(sent.take().len(), 1);

    // A token that fails verification costs no request at all.
    assert!(handler.decide(&authorizer_event("a.b.c")).await.is_err());
    assert!(sent.take().is_empty());
}
