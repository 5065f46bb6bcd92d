//! The user-info Lambda: the one runner (`auth_edge::runner`) with user-info's handler, built once per
//! cold start.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = user_info::Config::from_env()?;
        Ok(user_info::Handler::from_config(&config)?)
    })
}
