//! The jwks Lambda: the one runner (`auth_edge::runner`) with the key set's handler. The public
//! keys come from the environment (`JWT_PUBLIC_KEYS`), so it opens no connection.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async {
        let config = jwks::Config::from_env()?;
        Ok(jwks::Handler::new(config.keys, config.issuer))
    })
}
