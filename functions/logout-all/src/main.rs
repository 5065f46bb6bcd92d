//! The logout-all Lambda: the one runner (`auth_edge::runner`) with logout-all's handler, built once per
//! cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = logout_all::Config::from_env()?;
        Ok(logout_all::Handler::from_config(&config).await)
    })
}
