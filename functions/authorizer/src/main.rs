//! The authorizer Lambda: configuration, keys and the HTTP client once per cold start, then the
//! handler from the library for every request.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    auth::telemetry::init();
    auth::telemetry::metrics::enable_stdout();
    let config = authorizer::Config::from_env()?;
    let handler = authorizer::Handler::from_config(&config).await?;
    let handler = &handler;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<authorizer::AuthorizerRequest>| async move {
            // The invocation's logs and metrics go out in one write, before the response.
            let _batch = auth::telemetry::batch();
            Ok::<_, std::convert::Infallible>(handler.handle(event.payload).await)
        },
    ))
    .await
}
