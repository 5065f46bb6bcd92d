//! The mfa Lambda: the one runner (`auth_edge::runner`) with the two-factor management
//! handler, built once per cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = mfa::Config::from_env()?;
        Ok(mfa::Handler::from_config(&config).await?)
    })
}
