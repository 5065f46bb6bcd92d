//! The direct client's connections to one origin: kept-alive HTTP/1.1 connections made with
//! hyper's connection API, idle between calls, and one opened before the first call needs it.
//!
//! hyper-util's pooled client did this before. On every call it hashed the pool key, cloned the
//! connector into a connect future kept ready in case no connection was idle, and wrapped the
//! request in several more futures: 2.5% of the warm authorizer's instructions per invocation
//! (bench/NOTES.md). The functions that use this client call one or two origins, mostly one
//! call at a time, which a list of idle connections serves as well:
//!
//! - a call takes the connection put back last, if its connection task still runs (the task
//!   ends when the server closes the connection) and it has been idle less than the idle
//!   timeout ([`IDLE_TIMEOUT`] in the client); otherwise it opens one (TCP, and TLS for
//!   `https`);
//! - a connection goes back once its answer has been read to the end; one whose answer was not
//!   (an error, a timeout) is dropped, which closes it; at most [`MAX_IDLE`] wait;
//! - [`Connections::open_ahead`] opens one before the first call (init's warm-up) without
//!   sending anything, so the first request of a cold start finds TCP and TLS done. It waits like
//!   any idle connection, its task watching for the server closing it.
//!
//! A server may still close a kept connection before its task notices. A request that never
//! left on such a connection is sent again at once on the next one (as hyper-util's client did);
//! one that left and got no answer fails as a connection error, which the client retries after
//! its back-off while attempts and time are left ([`crate::client`]).

use std::future::poll_fn;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Uri;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use tower_service::Service;

use auth::error::BoxError;

/// How long a connection may wait idle before it is closed rather than used.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(50);
/// The most idle connections kept per origin.
pub const MAX_IDLE: usize = 8;

/// The sending half of one connection; its connection task runs on the runtime.
pub type Sender = SendRequest<Full<Bytes>>;

/// An idle connection and since when it has been.
struct Idle {
    sender: Sender,
    since: Instant,
}

/// Kept-alive connections to one origin, opened through `C` (the HTTPS connector in the client).
pub struct Connections<C> {
    connector: C,
    /// `scheme://authority/`, what `C` connects to.
    origin: Uri,
    idle_timeout: Duration,
    idle: Mutex<Vec<Idle>>,
}

impl<C> std::fmt::Debug for Connections<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl<C> Connections<C>
where
    C: Service<Uri> + Clone,
    C::Response: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    C::Error: Into<BoxError>,
{
    /// Connections to `origin` through `connector`, idle at most `idle_timeout`.
    pub fn new(connector: C, origin: Uri, idle_timeout: Duration) -> Self {
        Self {
            connector,
            origin,
            idle_timeout,
            idle: Mutex::default(),
        }
    }

    /// The origin these connections go to.
    pub fn origin(&self) -> &Uri {
        &self.origin
    }

    /// Opens a connection now and keeps it for the next call; nothing is sent.
    pub async fn open_ahead(&self) -> Result<(), BoxError> {
        let sender = self.open().await?;
        self.put_back(sender);
        Ok(())
    }

    /// Sends `request` (its URI the path, with its own `host` header) on an idle connection
    /// or a new one. Returns the answer and the connection, to [`put_back`](Self::put_back)
    /// once the answer's body is read to the end.
    pub async fn send(
        &self,
        mut request: http::Request<Full<Bytes>>,
    ) -> Result<(http::Response<Incoming>, Sender), BoxError> {
        loop {
            let (mut sender, kept) = match self.take() {
                Some(sender) => (sender, true),
                None => (self.open().await?, false),
            };
            // A kept connection is ready at once, unless it has closed since it was put back.
            if let Err(error) = sender.ready().await {
                if kept {
                    continue;
                }
                return Err(error.into());
            }
            match sender.try_send_request(request).await {
                Ok(response) => return Ok((response, sender)),
                // Not sent: the kept connection closed first. The next one gets it.
                Err(mut error) => match error.take_message() {
                    Some(unsent) if kept => request = unsent,
                    _ => return Err(error.into_error().into()),
                },
            }
        }
    }

    /// Keeps `sender` for the next call, if its connection is still open; drops the connections
    /// that closed or waited too long, and the oldest beyond [`MAX_IDLE`].
    pub fn put_back(&self, sender: Sender) {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain(|c| !c.sender.is_closed() && now - c.since < self.idle_timeout);
        if !sender.is_closed() {
            if idle.len() >= MAX_IDLE {
                idle.remove(0);
            }
            idle.push(Idle { sender, since: now });
        }
    }

    /// The connection put back last that is still open and young enough.
    fn take(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        while let Some(c) = idle.pop() {
            if !c.sender.is_closed() && now - c.since < self.idle_timeout {
                return Some(c.sender);
            }
        }
        None
    }

    /// Opens a connection (TCP, and TLS for `https`) and starts its task.
    async fn open(&self) -> Result<Sender, BoxError> {
        let mut connector = self.connector.clone();
        poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(Into::into)?;
        let io = connector
            .call(self.origin.clone())
            .await
            .map_err(Into::into)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a connection to AWS ended with an error");
            }
        });
        Ok(sender)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;
    use hyper_util::client::legacy::connect::HttpConnector;
    use std::net::SocketAddr;
    use std::sync::Arc;
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

    /// How a test server ends a connection after an answer.
    #[derive(Clone, Copy, PartialEq)]
    enum Close {
        /// Keeps it open.
        No,
        /// Says so in the answer (`connection: close`), then closes it.
        Announced,
        /// Closes it without saying so, as a server whose idle timeout has passed does.
        Silently,
    }

    /// A server on 127.0.0.1 that answers every request `200 ok`. Returns its origin, the
    /// client address of each request in order, and the count of connections it accepted.
    async fn server(close: Close) -> (Uri, Arc<Mutex<Vec<SocketAddr>>>, Arc<Mutex<usize>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}/", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(Mutex::new(0));
        let (log, count) = (seen.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                *count.lock().unwrap() += 1;
                let log = log.clone();
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    loop {
                        let mut length = 0;
                        let mut line = String::new();
                        loop {
                            line.clear();
                            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            if let Some(v) =
                                line.to_ascii_lowercase().strip_prefix("content-length:")
                            {
                                length = v.trim().parse().unwrap();
                            }
                        }
                        let mut body = vec![0; length];
                        stream.read_exact(&mut body).await.unwrap();
                        log.lock().unwrap().push(peer);
                        let answer = if close == Close::Announced {
                            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                        } else {
                            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                        };
                        stream.get_mut().write_all(answer.as_bytes()).await.unwrap();
                        if close != Close::No {
                            return;
                        }
                    }
                });
            }
        });
        (origin.parse().unwrap(), seen, accepted)
    }

    fn connections(origin: &Uri, idle_timeout: Duration) -> Connections<HttpConnector> {
        Connections::new(HttpConnector::new(), origin.clone(), idle_timeout)
    }

    /// One call as the client makes it: the answer read to the end, the connection put back.
    async fn call(c: &Connections<HttpConnector>) {
        let request = http::Request::post("/")
            .header(http::header::HOST, c.origin().authority().unwrap().as_str())
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        let (response, sender) = c.send(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "ok");
        c.put_back(sender);
    }

    fn distinct(seen: &Mutex<Vec<SocketAddr>>) -> usize {
        let seen = seen.lock().unwrap();
        seen.iter().collect::<std::collections::HashSet<_>>().len()
    }

    #[tokio::test]
    async fn the_connection_opened_ahead_serves_the_first_call_and_stays_open_for_the_next() {
        let (origin, seen, accepted) = server(Close::No).await;
        let c = connections(&origin, IDLE_TIMEOUT);
        c.open_ahead().await.unwrap();
        assert!(seen.lock().unwrap().is_empty(), "nothing sent ahead");
        for _ in 0..3 {
            call(&c).await;
        }
        assert_eq!(seen.lock().unwrap().len(), 3);
        assert_eq!(
            *accepted.lock().unwrap(),
            1,
            "one connection for all: {seen:?}"
        );
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_is_not_used_again() {
        let (origin, _, accepted) = server(Close::Announced).await;
        let c = connections(&origin, IDLE_TIMEOUT);
        for _ in 0..3 {
            call(&c).await;
        }
        assert_eq!(*accepted.lock().unwrap(), 3, "a new connection each time");

        // Closed without a word, as a server does once its idle timeout passes: the
        // connection's task notices, and the next call opens another.
        let (origin, _, accepted) = server(Close::Silently).await;
        let c = connections(&origin, IDLE_TIMEOUT);
        call(&c).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        call(&c).await;
        assert_eq!(*accepted.lock().unwrap(), 2);
    }

    #[tokio::test]
    async fn a_connection_idle_longer_than_the_timeout_is_not_used() {
        let (origin, seen, accepted) = server(Close::No).await;
        let idle_timeout = Duration::from_millis(20);
        let c = connections(&origin, idle_timeout);
        call(&c).await;
        tokio::time::sleep(idle_timeout * 2).await;
        call(&c).await;
        assert_eq!(*accepted.lock().unwrap(), 2, "{seen:?}");
        assert_eq!(c.idle.lock().unwrap().len(), 1, "the old one dropped");
    }

    #[tokio::test]
    async fn concurrent_calls_open_their_own_connections_and_at_most_max_idle_wait() {
        let (origin, seen, accepted) = server(Close::No).await;
        let c = Arc::new(connections(&origin, IDLE_TIMEOUT));
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..MAX_IDLE + 2 {
            let c = c.clone();
            let host = origin.authority().unwrap().to_string();
            calls.spawn(async move {
                let request = http::Request::post("/")
                    .header(http::header::HOST, host)
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                c.send(request).await.unwrap()
            });
        }
        let mut answers = Vec::new();
        while let Some(answer) = calls.join_next().await {
            answers.push(answer.unwrap());
        }
        for (response, sender) in answers {
            response.into_body().collect().await.unwrap();
            c.put_back(sender);
        }
        assert_eq!(distinct(&seen), MAX_IDLE + 2);
        assert_eq!(*accepted.lock().unwrap(), MAX_IDLE + 2);
        assert_eq!(c.idle.lock().unwrap().len(), MAX_IDLE);
    }
}
