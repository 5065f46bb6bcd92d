//! The register Lambda: the one runner (`auth_edge::runner`) with register's handler, built once per
//! cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = register::Config::from_env()?;
        Ok(register::Handler::from_config(&config).await)
    })
}
