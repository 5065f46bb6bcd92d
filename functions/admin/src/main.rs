//! The admin Lambda: the one runner (`auth_edge::runner`) with the operator routes' handler,
//! built once per cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = admin::Config::from_env()?;
        Ok(admin::Handler::from_config(&config).await)
    })
}
