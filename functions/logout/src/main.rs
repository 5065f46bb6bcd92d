//! The logout Lambda: the one runner (`auth_edge::runner`) with logout's handler, built once per
//! cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = logout::Config::from_env()?;
        Ok(logout::Handler::from_config(&config).await)
    })
}
