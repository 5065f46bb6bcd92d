//! The delete-account Lambda: the one runner (`auth_edge::runner`) with delete-account's
//! handler, built once per cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = delete_account::Config::from_env()?;
        Ok(delete_account::Handler::from_config(&config).await)
    })
}
