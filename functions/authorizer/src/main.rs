//! The authorizer Lambda: the one runner (`auth_edge::runner`) with the authorizer's handler,
//! built once per cold start (keys and the direct client's connections).

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_events(async {
        let config = authorizer::Config::from_env()?;
        Ok(authorizer::Handler::from_config(&config).await?)
    })
}
