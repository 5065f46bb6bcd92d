//! Opening a connection before the first request needs it: a connector that hands the HTTP
//! client's pool a connection made ahead (TCP, and TLS for `https`) instead of connecting then.
//!
//! hyper's pool only fills by sending a request, so the warm-up used to be an unsigned
//! `GET /` whose answer the cold start then waited for (on the bench's moto, which answers
//! `GET /` as S3's `ListBuckets`, about 4.6 ms of its CPU, queued with the Secrets Manager call
//! init was waiting for). Here init waits for the handshake only; the first request then finds
//! the connection ready, and nothing is sent to the service before it.
//!
//! A connection made ahead is used only within the pool's idle timeout of being opened (the
//! same age past which the pool drops an idle one), so one a service may have closed is not
//! handed out; an older one is dropped and the request connects as usual.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::Uri;
use tower_service::Service;

/// A connection opened ahead, waiting for the first request to its origin.
struct Opened<T> {
    origin: String,
    at: Instant,
    io: T,
}

/// `C`, except that a connection [`Preconnect::open`]ed ahead for an origin is handed out for
/// the next request there (once), if it is younger than `max_idle`.
pub struct Preconnect<C: Service<Uri>> {
    inner: C,
    opened: Arc<Mutex<Vec<Opened<C::Response>>>>,
    max_idle: Duration,
}

impl<C: Service<Uri> + Clone> Clone for Preconnect<C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            opened: self.opened.clone(),
            max_idle: self.max_idle,
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
    /// `inner`, with connections opened ahead kept at most `max_idle`.
    pub fn new(inner: C, max_idle: Duration) -> Self {
        Self {
            inner,
            opened: Arc::default(),
            max_idle,
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
        opened.retain(|o| o.at.elapsed() < self.max_idle);
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
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A listener on 127.0.0.1 that accepts and holds connections, counting them.
    async fn listener() -> (Uri, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri: Uri = format!("http://{}/", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        (uri, accepted)
    }

    async fn connect(c: &mut Preconnect<HttpConnector>, uri: &Uri) {
        std::future::poll_fn(|cx| c.poll_ready(cx)).await.unwrap();
        c.call(uri.clone()).await.unwrap();
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    #[tokio::test]
    async fn the_connection_opened_ahead_serves_the_first_connect_to_its_origin_only() {
        let (uri, accepted) = listener().await;
        let (other, other_accepted) = listener().await;
        let mut c = Preconnect::new(HttpConnector::new(), Duration::from_secs(50));
        c.open(&uri).await.unwrap();
        settle().await;
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        // Another origin connects as usual and leaves it waiting.
        connect(&mut c, &other).await;
        settle().await;
        assert_eq!(other_accepted.load(Ordering::SeqCst), 1);
        // The first connect to its origin takes it; the next one connects.
        connect(&mut c.clone(), &uri).await;
        settle().await;
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "no new connection");
        connect(&mut c, &uri).await;
        settle().await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_connection_older_than_the_idle_timeout_is_not_handed_out() {
        let (uri, accepted) = listener().await;
        let mut c = Preconnect::new(HttpConnector::new(), Duration::from_millis(20));
        c.open(&uri).await.unwrap();
        settle().await;
        connect(&mut c, &uri).await;
        settle().await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "connected afresh");
        assert!(c.opened.lock().unwrap().is_empty(), "the old one dropped");
    }
}
