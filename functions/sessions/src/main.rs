//! The sessions Lambda: the one runner (`auth_edge::runner`) with sessions's handler, built once per
//! cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = sessions::Config::from_env()?;
        Ok(sessions::Handler::from_config(&config).await)
    })
}
