//! The floor: the smallest useful `lambda_runtime` function. It answers every event with a
//! constant JSON object, so its init time, CPU and size are the runtime's own.
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({"message": "hello"}))
    }))
    .await
}
