//! The change-password Lambda: the one runner (`auth_edge::runner`) with change-password's
//! handler, built once per cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = change_password::Config::from_env()?;
        Ok(change_password::Handler::from_config(&config).await)
    })
}
