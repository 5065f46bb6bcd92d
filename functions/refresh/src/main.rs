//! The refresh Lambda: the one runner (`auth_edge::runner`) with refresh's handler, built once per
//! cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = refresh::Config::from_env()?;
        Ok(refresh::Handler::from_config(&config).await?)
    })
}
