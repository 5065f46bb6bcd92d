//! The account-page Lambda: the one runner (`auth_edge::runner`) with the page's handler. It
//! reads no configuration and opens no connection: the files are in the binary.

fn main() -> std::process::ExitCode {
    auth_edge::runner::run_http(async { Ok(account_page::Handler) })
}
