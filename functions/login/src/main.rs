//! The login Lambda: the one runner (`auth_edge::runner`) with login's handler, built once per
//! cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = login::Config::from_env()?;
        Ok(login::Handler::from_config(&config).await?)
    })
}
