//! The authorizer's cold start as Lambda runs it (`Handler::from_config`): the connection to
//! DynamoDB is opened during init, so the first request reuses it instead of paying the
//! connect (and, on AWS, the TLS handshake); and a DynamoDB that is down at init does not stop
//! the function from starting (its requests are denied until the store is back).
//!
//! Connections are counted by a TCP relay in front of the recording proxy (which keeps
//! connections alive, as DynamoDB does; moto closes each one).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth::{UserId, clock};
use auth_testing::{
    TestTables, access_token, dynamodb_endpoint, new_session, put_session, test_env,
};
use authorizer::{Config, Handler};
use support::{Proxy, authorizer_event};

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

fn config(dynamodb: &str, table: &str, timeout_ms: u64) -> Config {
    let mut env = test_env();
    env.insert("SESSIONS_TABLE".into(), table.into());
    env.insert("DYNAMODB_ENDPOINT_URL".into(), dynamodb.into());
    env.insert("DYNAMODB_TIMEOUT_MS".into(), timeout_ms.to_string());
    for (name, value) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ] {
        env.insert(name.into(), value.into());
    }
    Config::from_lookup(&|name| env.get(name).cloned()).unwrap()
}

#[tokio::test]
async fn the_first_request_finds_the_connection_open() {
    let tables = TestTables::create().await;
    let session = new_session(&UserId::generate(), "alice", clock::now() + 3600);
    put_session(&tables.sessions(), &session).await;
    let proxy = Proxy::start(&dynamodb_endpoint()).await;
    let (relay, accepted) = counting_relay(proxy.url.trim_start_matches("http://").into()).await;

    let handler = Handler::from_config(&config(&relay, &tables.sessions_table, 2000))
        .await
        .unwrap();
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "init opened one connection"
    );
    proxy.take();

    let token = access_token(&session);
    for _ in 0..3 {
        let req = authorizer_event(&token);
        assert!(handler.decide(&req).await.is_ok());
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the requests used the connection init opened"
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
    let handler = Handler::from_config(&config(&closed, "sessions", 1000))
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
