//! Opening a connection before the first request needs it: a connector that hands the HTTP
//! client's pool a connection made ahead (TCP, and TLS for `https`) instead of connecting then.
//!
//! hyper's pool only fills by sending a request, so the warm-up used to be an unsigned
//! `GET /` whose answer the cold start then waited for (on the bench's moto, which answers
//! `GET /` as S3's `ListBuckets`, about 4.6 ms of its CPU, queued with the Secrets Manager call
//! init was waiting for). Here init waits for the handshake only; the first request then finds
//! the connection ready, and nothing is sent to the service before it.
//!
//! A connection made ahead is used only within [`PRECONNECT_MAX_AGE`] of being opened: unlike an
//! idle connection in the pool, it has no task watching it, so one the service has closed would
//! not be noticed, and servers may close a connection that never carried a request sooner than
//! an idle kept-alive one. On Lambda the first invocation follows init at once (unless the
//! function is initialised ahead, e.g. provisioned concurrency); an older connection is dropped
//! and the request connects as usual. Should a closed one be handed out anyway, the request's
//! attempt fails as a connection error and the client's retry connects afresh.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::Uri;
use tower_service::Service;

/// How long a connection opened ahead may wait for its first request.
pub const PRECONNECT_MAX_AGE: Duration = Duration::from_secs(10);

/// A connection opened ahead, waiting for the first request to its origin.
struct Opened<T> {
    origin: String,
    at: Instant,
    io: T,
}

/// `C`, except that a connection [`Preconnect::open`]ed ahead for an origin is handed out for
/// the next request there (once), if it is younger than `max_age`.
pub struct Preconnect<C: Service<Uri>> {
    inner: C,
    opened: Arc<Mutex<Vec<Opened<C::Response>>>>,
    max_age: Duration,
}

impl<C: Service<Uri> + Clone> Clone for Preconnect<C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            opened: self.opened.clone(),
            max_age: self.max_age,
        }
    }
}

/// `scheme://authority` of `uri`: what the pool keys its connections by.
fn origin(uri: &Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or_default(),
        uri.authority().map(|a| a.as_str()).unwrap_or_default()
    )
}

impl<C> Preconnect<C>
where
    C: Service<Uri> + Clone,
{
    /// `inner`, with connections opened ahead kept at most `max_age` ([`PRECONNECT_MAX_AGE`] in
    /// the client).
    pub fn new(inner: C, max_age: Duration) -> Self {
        Self {
            inner,
            opened: Arc::default(),
            max_age,
        }
    }

    /// Opens a connection to `uri`'s origin and keeps it for the next request there.
    pub async fn open(&self, uri: &Uri) -> Result<(), C::Error> {
        let mut inner = self.inner.clone();
        std::future::poll_fn(|cx| inner.poll_ready(cx)).await?;
        let io = inner.call(uri.clone()).await?;
        self.opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Opened {
                origin: origin(uri),
                at: Instant::now(),
                io,
            });
        Ok(())
    }

    /// The connection opened ahead for `uri`'s origin, if one is young enough; drops those that
    /// are not.
    fn take(&self, uri: &Uri) -> Option<C::Response> {
        let mut opened = self.opened.lock().unwrap_or_else(PoisonError::into_inner);
        if opened.is_empty() {
            return None;
        }
        opened.retain(|o| o.at.elapsed() < self.max_age);
        let origin = origin(uri);
        let index = opened.iter().position(|o| o.origin == origin)?;
        Some(opened.swap_remove(index).io)
    }
}

impl<C> Service<Uri> for Preconnect<C>
where
    C: Service<Uri> + Clone,
    C::Future: Send + 'static,
    C::Response: Send + 'static,
    C::Error: Send + 'static,
{
    type Response = C::Response;
    type Error = C::Error;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, C::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        match self.take(&uri) {
            Some(io) => Box::pin(std::future::ready(Ok(io))),
            None => Box::pin(self.inner.call(uri)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::client::legacy::connect::HttpConnector;
    use std::net::SocketAddr;

    /// A listener on 127.0.0.1 (its backlog completes connections; nothing needs to accept).
    async fn listener() -> (Uri, tokio::net::TcpListener) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}/", listener.local_addr().unwrap());
        (uri.parse().unwrap(), listener)
    }

    /// Connects to `uri` through `c`; the local address of the connection it got.
    async fn connect(c: &mut Preconnect<HttpConnector>, uri: &Uri) -> SocketAddr {
        std::future::poll_fn(|cx| c.poll_ready(cx)).await.unwrap();
        let io = c.call(uri.clone()).await.unwrap();
        io.inner().local_addr().unwrap()
    }

    /// The local address of the connection opened ahead for `uri`.
    fn opened_ahead(c: &Preconnect<HttpConnector>, uri: &Uri) -> SocketAddr {
        let opened = c.opened.lock().unwrap();
        let o = opened.iter().find(|o| o.origin == origin(uri)).unwrap();
        o.io.inner().local_addr().unwrap()
    }

    #[tokio::test]
    async fn the_connection_opened_ahead_serves_the_first_connect_to_its_origin_only() {
        let (uri, _held) = listener().await;
        let (other, _other_held) = listener().await;
        let mut c = Preconnect::new(HttpConnector::new(), PRECONNECT_MAX_AGE);
        c.open(&uri).await.unwrap();
        let ahead = opened_ahead(&c, &uri);
        // Another origin connects as usual and leaves it waiting.
        assert_ne!(connect(&mut c, &other).await, ahead);
        assert_eq!(opened_ahead(&c, &uri), ahead);
        // The first connect to its origin (through any clone) takes it; the next one connects.
        assert_eq!(connect(&mut c.clone(), &uri).await, ahead);
        assert!(c.opened.lock().unwrap().is_empty());
        assert_ne!(connect(&mut c, &uri).await, ahead);
    }

    #[tokio::test]
    async fn a_connection_older_than_the_maximum_age_is_not_handed_out() {
        let (uri, _held) = listener().await;
        let max_age = Duration::from_millis(20);
        let mut c = Preconnect::new(HttpConnector::new(), max_age);
        c.open(&uri).await.unwrap();
        let ahead = opened_ahead(&c, &uri);
        tokio::time::sleep(max_age * 2).await;
        assert_ne!(connect(&mut c, &uri).await, ahead, "connected afresh");
        assert!(c.opened.lock().unwrap().is_empty(), "the old one dropped");
    }
}
