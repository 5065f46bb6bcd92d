//! The floor on tokio's multi-thread runtime (`#[tokio::main]`'s default), for reference: the
//! runtime our functions ran on before they moved to the current-thread runtime.
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({"message": "hello"}))
    }))
    .await
}
