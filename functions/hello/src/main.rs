//! The hello Lambda: the one runner (`auth_edge::runner`) with the example's handler. It reads
//! no configuration; a route with a table builds its client here, once per cold start (see
//! `functions/user-info/src/main.rs`).

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async { Ok(hello::Handler) })
}
