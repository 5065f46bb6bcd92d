//! The authorizer's cold start as Lambda runs it (`Handler::from_config`): with the keys in
//! Secrets Manager (as deployed), the connection to DynamoDB is opened (no request sent) while
//! init waits for them, so the first request reuses it instead of paying the connect (and, on
//! AWS, the TLS handshake); with inline keys none is opened ahead; and a DynamoDB that is down
//! at init does not stop the function from starting (its requests are denied until the store is
//! back).
//!
//! Connections are counted by a TCP relay in front of the recording proxy (which keeps
//! connections alive, as DynamoDB does; moto closes each one).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth::{UserId, clock};
use auth_testing::{
    TEST_SECRET, TestTables, access_token, dynamodb_endpoint, new_session, put_session,
};
use authorizer::{Config, Handler};
use support::{Proxy, authorizer_config, authorizer_event, secret_holding};

/// Accepts on 127.0.0.1, counts each connection, and relays it to `upstream` (`host:port`).
async fn counting_relay(upstream: String) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    (url, accepted)
}

/// The authorizer's configuration: DynamoDB at `dynamodb`, and the keys inline or, with
/// `secret_arn`, in Secrets Manager on moto.
fn config(dynamodb: &str, table: &str, timeout_ms: u64, secret_arn: Option<&str>) -> Config {
    authorizer_config(
        dynamodb,
        &dynamodb_endpoint(),
        table,
        timeout_ms,
        secret_arn,
    )
}

/// With the keys in Secrets Manager, init opens one connection to DynamoDB and the requests
/// use it; with inline keys, none is opened before the first request.
#[tokio::test]
async fn the_first_request_finds_the_connection_open() {
    let arn = secret_holding(TEST_SECRET).await;
    connections_at_init(Some(&arn), 1).await;
}

#[tokio::test]
async fn with_inline_keys_no_connection_is_opened_ahead() {
    connections_at_init(None, 0).await;
}

async fn connections_at_init(secret_arn: Option<&str>, opened_by_init: usize) {
    let tables = TestTables::create().await;
    let session = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    put_session(&tables.sessions(), &session).await;
    let proxy = Proxy::start(&dynamodb_endpoint()).await;
    let (relay, accepted) = counting_relay(proxy.url.trim_start_matches("http://").into()).await;

    let handler = Handler::from_config(&config(&relay, &tables.sessions_table, 2000, secret_arn))
        .await
        .unwrap();
    assert_eq!(accepted.load(Ordering::SeqCst), opened_by_init);
    assert_eq!(
        proxy.take(),
        [],
        "init opens the connection without sending DynamoDB anything"
    );

    let token = access_token(&session);
    for _ in 0..3 {
        let req = authorizer_event(&token);
        assert!(handler.decide(&req).await.is_ok());
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the requests share one kept-alive connection, the one init opened if it did"
    );
    let sent = proxy.take();
    assert_eq!(sent.len(), 3, "one BatchGetItem per request: {sent:?}");
    assert!(
        sent.iter()
            .all(|(target, _)| target.ends_with("BatchGetItem"))
    );
}

#[tokio::test]
async fn a_store_down_at_init_does_not_stop_the_start() {
    // A port nothing listens on: bound, then closed.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let started = Instant::now();
    let arn = secret_holding(TEST_SECRET).await;
    let handler = Handler::from_config(&config(&closed, "sessions", 1000, Some(&arn)))
        .await
        .expect("init does not need DynamoDB to answer");
    assert!(started.elapsed() < Duration::from_secs(5));
    let session = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    let req = authorizer_event(&access_token(&session));
    assert_eq!(
        handler.decide(&req).await.unwrap_err(),
        authorizer::Deny::StoreError
    );
}
