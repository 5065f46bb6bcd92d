//! The sessions Lambda: configuration and the DynamoDB client once per cold start, then the
//! handler from the library for every request.

use lambda_http::{Error, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    auth::telemetry::init();
    auth::telemetry::metrics::enable_stdout();
    let config = sessions::Config::from_env()?;
    let handler = sessions::Handler::from_config(&config).await;
    let handler = &handler;
    lambda_http::run(service_fn(move |req| async move {
        // The invocation's logs and metrics go out in one write, before the response.
        let _batch = auth::telemetry::batch();
        Ok::<_, std::convert::Infallible>(handler.handle(req).await)
    }))
    .await
}
