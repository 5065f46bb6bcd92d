//! The HTTP server in front of the [`Gateway`]. It takes a bound listener, so tests bind port 0
//! and the binary binds the configured port.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, State};
use axum::response::IntoResponse;
use lambda_http::http::{self, StatusCode};
use tokio::net::TcpListener;

use crate::gateway::Gateway;

/// API Gateway's limit on a request payload: 10 MB.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

/// Serves `gateway` on `listener` until `shutdown` completes; requests under way then finish.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new().fallback(handle).with_state(gateway);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn handle(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    let bytes = match axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await {
        Ok(b) => b.to_vec(),
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                [(http::header::CONTENT_TYPE, "application/json")],
                r#"{"message":"Request Entity Too Large"}"#,
            )
                .into_response();
        }
    };
    let response = gateway
        .handle(http::Request::from_parts(parts, bytes), peer)
        .await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response.map(axum::body::Body::from)
}
