//! The floor: the smallest useful `lambda_runtime` function. It answers every event with a
//! constant JSON object, so its init time, CPU and size are the runtime's own. It runs on tokio's
//! current-thread runtime, as our functions do (`functions/*/src/main.rs`); `hello-mt`
//! (src/bin/hello-mt.rs) is the same function on the multi-thread runtime, for reference.
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({"message": "hello"}))
    }))
    .await
}
