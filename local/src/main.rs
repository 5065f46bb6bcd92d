//! `cargo run`: the whole API on http://127.0.0.1:3000 with the embedded in-memory store, or on
//! DynamoDB with `--dynamodb-endpoint`. `cargo run -- --help` lists the options; each also reads
//! the environment variable named there.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use auth::Config;
use auth::config;
use auth::password::HashCost;
use auth::store::memory::{MemoryAttempts, MemorySessions, MemoryUsers};
use auth_direct::{AwsHttp, DirectConfig, DirectSessions, DirectUsers};
use auth_sdk::SdkClients as _;
use auth_sdk::store::{DynamoAttempts, DynamoSessions, DynamoUsers, create_tables};
use clap::{CommandFactory, FromArgMatches, Parser};
use local_api::startup::{self, Source};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The JWT session service's API on localhost, behind a local API Gateway that behaves as the
/// deployed one (routes, Lambda authorizer, 401/403/404/500 answers).
#[derive(Debug, Parser)]
#[command(name = "local-api", version)]
struct Args {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Also serve the operator routes (`/admin/users/{username}/…`, IAM-authorized when
    /// deployed) on this port, on 127.0.0.1 only whatever --host says: anyone who can connect
    /// to it is an operator. Without it they are not served at all.
    #[arg(long, env = "ADMIN_PORT", value_name = "PORT")]
    admin_port: Option<u16>,
    /// Use the DynamoDB(-compatible) server at this URL instead of the embedded in-memory store.
    #[arg(long, env = "DYNAMODB_ENDPOINT_URL", value_name = "URL")]
    dynamodb_endpoint: Option<String>,
    /// Create the tables on the DynamoDB endpoint if they are missing.
    #[arg(long, env = "CREATE_TABLES")]
    create_tables: bool,
    /// Users table name (DynamoDB only).
    #[arg(long, env = "USERS_TABLE", default_value = "users")]
    users_table: String,
    /// Sessions (whitelist) table name (DynamoDB only).
    #[arg(long, env = "SESSIONS_TABLE", default_value = "sessions")]
    sessions_table: String,
    /// Login attempts table name (DynamoDB only).
    #[arg(long, env = "ATTEMPTS_TABLE", default_value = "login-attempts")]
    attempts_table: String,
    /// HS256 signing key, at least 32 bytes. Prefer the environment variable; without either, a
    /// random key is generated at start (tokens then do not survive a restart).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// The key (at least 32 bytes) that seals TOTP secrets and signs two-factor challenges.
    /// Without it a random key is generated at start (enrolments then do not survive a restart).
    #[arg(long, env = "MFA_KEY", hide_env_values = true)]
    mfa_key: Option<String>,
    /// The name authenticator apps show beside the account.
    #[arg(long, env = "TOTP_ISSUER")]
    totp_issuer: Option<String>,
    /// Signing algorithm: HS256 (shared secret) or EdDSA (Ed25519 key pair).
    #[arg(long, env = "JWT_ALGORITHM", default_value = "HS256")]
    jwt_algorithm: String,
    /// EdDSA: login's private key (PKCS#8 PEM). Without it a key pair is generated at start.
    #[arg(long, env = "JWT_PRIVATE_KEY", hide_env_values = true)]
    jwt_private_key: Option<String>,
    /// EdDSA: the authorizer's public keys (PEM blocks, current first).
    #[arg(long, env = "JWT_PUBLIC_KEYS")]
    jwt_public_keys: Option<String>,
    /// Token issuer (`iss`).
    #[arg(long, env = "JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// Token audience (`aud`).
    #[arg(long, env = "JWT_AUDIENCE")]
    jwt_audience: Option<String>,
    /// Access token lifetime in seconds.
    #[arg(long, env = "TOKEN_TTL_SECONDS", default_value_t = config::DEFAULT_ACCESS_TTL_SECONDS)]
    token_ttl_seconds: i64,
    /// Refresh token (and idle session) lifetime in seconds.
    #[arg(long, env = "REFRESH_TOKEN_TTL_SECONDS", default_value_t = config::DEFAULT_REFRESH_TTL_SECONDS)]
    refresh_token_ttl_seconds: i64,
    /// Grace window in seconds for a concurrent refresh with a just-rotated token.
    #[arg(long, env = "REFRESH_REUSE_GRACE_SECONDS", default_value_t = config::DEFAULT_REUSE_GRACE_SECONDS)]
    refresh_reuse_grace_seconds: i64,
    /// Clock leeway for token times in seconds.
    #[arg(long, env = "JWT_LEEWAY_SECONDS", default_value_t = config::DEFAULT_LEEWAY_SECONDS)]
    jwt_leeway_seconds: u64,
    /// Argon2id memory in KiB.
    #[arg(long, env = "ARGON2_MEMORY_KIB", default_value_t = HashCost::OWASP_MINIMUM.memory_kib)]
    argon2_memory_kib: u32,
    /// Argon2id iterations.
    #[arg(long, env = "ARGON2_ITERATIONS", default_value_t = HashCost::OWASP_MINIMUM.iterations)]
    argon2_iterations: u32,
    /// Argon2id parallelism.
    #[arg(long, env = "ARGON2_PARALLELISM", default_value_t = HashCost::OWASP_MINIMUM.parallelism)]
    argon2_parallelism: u32,
    /// A web origin (e.g. `http://localhost:5173`) allowed to call the API from the browser
    /// with credentials (CORS) and to use the cookie token delivery; repeat for several. None
    /// by default: only the API's own origin (the account page).
    #[arg(
        long = "cors-origin",
        value_name = "ORIGIN",
        env = "CORS_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// Time limit of one DynamoDB call in milliseconds, retries included.
    #[arg(long, env = "DYNAMODB_TIMEOUT_MS", default_value_t = config::DEFAULT_DYNAMODB_TIMEOUT_MS)]
    dynamodb_timeout_ms: u64,
}

impl Args {
    /// The auth crate's variables, as the flags (or their environment variables) set them.
    fn variables(&self) -> HashMap<&'static str, String> {
        let mut vars = HashMap::new();
        vars.insert("USERS_TABLE", self.users_table.clone());
        for (name, value) in [
            ("TOKEN_TTL_SECONDS", self.token_ttl_seconds.to_string()),
            (
                "REFRESH_TOKEN_TTL_SECONDS",
                self.refresh_token_ttl_seconds.to_string(),
            ),
            (
                "REFRESH_REUSE_GRACE_SECONDS",
                self.refresh_reuse_grace_seconds.to_string(),
            ),
            ("JWT_LEEWAY_SECONDS", self.jwt_leeway_seconds.to_string()),
            ("ARGON2_MEMORY_KIB", self.argon2_memory_kib.to_string()),
            ("ARGON2_ITERATIONS", self.argon2_iterations.to_string()),
            ("ARGON2_PARALLELISM", self.argon2_parallelism.to_string()),
            ("DYNAMODB_TIMEOUT_MS", self.dynamodb_timeout_ms.to_string()),
        ] {
            vars.insert(name, value);
        }
        vars.insert("SESSIONS_TABLE", self.sessions_table.clone());
        vars.insert("ATTEMPTS_TABLE", self.attempts_table.clone());
        vars.insert("JWT_ALGORITHM", self.jwt_algorithm.clone());
        vars.insert("CORS_ALLOWED_ORIGINS", self.cors_origins.join(","));
        let optional = [
            ("JWT_SECRET", &self.jwt_secret),
            ("JWT_PRIVATE_KEY", &self.jwt_private_key),
            ("JWT_PUBLIC_KEYS", &self.jwt_public_keys),
            ("JWT_ISSUER", &self.jwt_issuer),
            ("JWT_AUDIENCE", &self.jwt_audience),
            ("MFA_KEY", &self.mfa_key),
            ("TOTP_ISSUER", &self.totp_issuer),
            ("DYNAMODB_ENDPOINT_URL", &self.dynamodb_endpoint),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                vars.insert(name, v.clone());
            }
        }
        vars
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // A sentence with its causes, not a Debug dump: each error names what to change.
            eprintln!("error: {}", auth::error::chain(e.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The Lambdas' rule (auth_telemetry::filter): RUST_LOG (a level) sets this service's
    // crates; every other crate stays at INFO or above, so that the SDK's TRACE lines (whole
    // items, password hashes included) never reach the logs.
    tracing_subscriber::fmt()
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .finish()
        .with(auth_telemetry::filter(auth_telemetry::level_from_env()))
        .init();
    let command = Args::command();
    let matches = match command.clone().try_get_matches() {
        Ok(matches) => matches,
        Err(e) => match startup::refused_from_environment(&e, &command) {
            Some(sentence) => return Err(sentence.into()),
            None => e.exit(),
        },
    };
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let mut vars = args.variables();
    if args.jwt_algorithm == "EdDSA" {
        if !vars.contains_key("JWT_PRIVATE_KEY") {
            let (private, public) = auth::testing_keys::ed25519_pem_pair();
            vars.insert("JWT_PRIVATE_KEY", private);
            vars.insert("JWT_PUBLIC_KEYS", public);
            println!(
                "JWT_PRIVATE_KEY is not set: generated an Ed25519 key pair for this run \
                 (tokens will not survive a restart)"
            );
        } else if !vars.contains_key("JWT_PUBLIC_KEYS") {
            let private = vars["JWT_PRIVATE_KEY"].clone();
            vars.insert(
                "JWT_PUBLIC_KEYS",
                auth::testing_keys::public_pem_of(&private),
            );
        }
    } else if !vars.contains_key("JWT_SECRET") {
        vars.insert("JWT_SECRET", auth::domain::random_hex::<32>());
        println!(
            "JWT_SECRET is not set: generated a random signing key for this run \
             (tokens will not survive a restart)"
        );
    }
    if !vars.contains_key("MFA_KEY") {
        vars.insert("MFA_KEY", auth::domain::random_hex::<32>());
        if args.dynamodb_endpoint.is_some() {
            println!(
                "MFA_KEY is not set: generated a random key for this run (two-factor \
                 enrolments stored now will not open after a restart; set --mfa-key to keep them)"
            );
        }
    }
    let config = Config::from_lookup(&|name| vars.get(name).cloned())
        .map_err(|e| startup::config_error(&e, &source_of(&command, &matches, e.name)))?;

    let (gateway, store) = match &args.dynamodb_endpoint {
        None => {
            if args.create_tables {
                println!("--create-tables has no effect on the in-memory store");
            }
            (
                local_api::app::gateway(
                    MemoryUsers::new(),
                    MemorySessions::new(),
                    MemoryAttempts::new(),
                    &config,
                )
                .await?,
                "in-memory (data is lost when the server stops)".to_owned(),
            )
        }
        Some(endpoint) => {
            // With AWS credentials in the environment, both clients use them as the Lambdas
            // do; else the placeholder credentials a local server accepts.
            let on_aws = std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
            let (client, direct) = if on_aws {
                let direct = DirectConfig::from_store(&config.store, &auth::config::process_env)?;
                (config.store.client().await, direct)
            } else {
                let direct = DirectConfig::local(endpoint, config.store.timeout);
                (config.store.local_client(endpoint), direct)
            };
            // The authorizer and user-info read through the direct client, as deployed.
            let http = AwsHttp::new(&direct)?;
            let readers = (
                DirectUsers::new(&http, &direct, &config.users_table)?,
                DirectSessions::new(&http, &direct, &config.sessions_table)?,
            );
            startup::check_endpoint(&client, endpoint).await?;
            if args.create_tables {
                create_tables(
                    &client,
                    &config.users_table,
                    &config.sessions_table,
                    &config.attempts_table,
                )
                .await?;
            }
            let tables = [
                config.users_table.as_str(),
                config.sessions_table.as_str(),
                config.attempts_table.as_str(),
            ];
            startup::check_tables(&client, endpoint, &tables).await?;
            (
                local_api::app::gateway_with_readers(
                    DynamoUsers::new(client.clone(), &config.users_table),
                    DynamoSessions::new(client.clone(), &config.sessions_table),
                    DynamoAttempts::new(client, &config.attempts_table),
                    readers,
                    &config,
                )
                .await?,
                format!(
                    "DynamoDB at {endpoint} (tables {}, {}, {})",
                    config.users_table, config.sessions_table, config.attempts_table
                ),
            )
        }
    };

    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e} (choose another with --port)"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let admin = match args.admin_port {
        Some(port) => {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                format!("cannot listen on {addr}: {e} (choose another with --admin-port)")
            })?;
            Some((listener, gateway.admin()))
        }
        None => None,
    };
    // The signal handlers are installed before the banner: a test (or a person) that sends
    // Ctrl-C as soon as the banner shows gets a clean stop, not the default kill.
    let shutdown = shutdown_signal()?;
    print_banner(
        &base,
        &store,
        admin.as_ref().map(|(l, _)| l.local_addr()).transpose()?,
    );
    // Ctrl-C stops both listeners.
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let stopped = |stop: &tokio::sync::broadcast::Sender<()>| {
        let mut rx = stop.subscribe();
        async move {
            let _ = rx.recv().await;
        }
    };
    let api = local_api::server::serve(listener, Arc::new(gateway), stopped(&stop));
    let admin = async {
        match admin {
            Some((listener, gateway)) => {
                local_api::server::serve(listener, Arc::new(gateway), stopped(&stop)).await
            }
            None => Ok(()),
        }
    };
    let signal = async {
        shutdown.await;
        let _ = stop.send(());
    };
    let (api, admin, ()) = tokio::join!(api, admin, signal);
    api?;
    admin?;
    println!("stopped");
    Ok(())
}

/// Where the setting behind variable `name` came from: its flag, the environment, or neither.
fn source_of(command: &clap::Command, matches: &clap::ArgMatches, name: &str) -> Source {
    let Some(arg) = command
        .get_arguments()
        .find(|a| a.get_env().is_some_and(|env| env == name))
    else {
        return Source::Default;
    };
    match matches.value_source(arg.get_id().as_str()) {
        Some(clap::parser::ValueSource::CommandLine) => {
            Source::Flag(format!("--{}", arg.get_long().unwrap_or_default()))
        }
        Some(clap::parser::ValueSource::EnvVariable) => Source::Environment,
        _ => Source::Default,
    }
}

fn print_banner(base: &str, store: &str, admin: Option<SocketAddr>) {
    println!(
        r#"
JWT session service: local API on {base}
store: {store}
routes: {routes}
account page: {base}/ (tested in Chromium, which keeps its Secure cookie on http://127.0.0.1)

Try it:
  curl -i -w '\n' -X POST {base}/register -H 'content-type: application/json' \
       -d '{{"username":"alice","password":"correct horse battery staple"}}'
  TOKEN=$(curl -s -X POST {base}/login -H 'content-type: application/json' \
       -d '{{"username":"alice","password":"correct horse battery staple"}}' \
       | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  curl -i -w '\n' {base}/me -H "authorization: Bearer $TOKEN"
  curl -i -w '\n' -X POST {base}/logout -H "authorization: Bearer $TOKEN"
  curl -i -w '\n' {base}/me -H "authorization: Bearer $TOKEN"   # 403: logged out

Sessions (refresh, list, revoke one, log out everywhere): see the README's walk-through.
{admin}Ctrl-C stops the server.
"#,
        admin = match admin {
            Some(addr) => format!(
                "Operator routes (no authorization: 127.0.0.1 only): http://{addr}/admin/users/{{username}}/{{logout-all,disable,enable,sessions}}\n"
            ),
            None => String::new(),
        },
        routes = local_api::routes::ROUTES
            .iter()
            .filter(|r| r.auth != local_api::routes::Auth::Iam)
            .map(|r| if r.protected() {
                format!("{} (authorizer)", r.key())
            } else {
                r.key()
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Installs the Ctrl-C and SIGTERM handlers now; the future completes on either.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
            println!("shutting down");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            println!("shutting down");
        })
    }
}
