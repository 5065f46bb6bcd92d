//! The `local-api` binary as a newcomer runs it: it prints its URL and a curl session, that
//! session works as printed, `--dynamodb-endpoint --create-tables` works on an empty DynamoDB,
//! and Ctrl-C (SIGINT) stops it cleanly. Bounded: every wait has a deadline.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use auth_testing::{dynamodb_endpoint, unique_name};

struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    /// Everything the server wrote to stderr (its logs) so far.
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    /// The thread that reads it; it ends when the server does.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_local-api"));
        cmd.args(["--port", "0"])
            .args(args)
            .env_remove("JWT_SECRET")
            .env_remove("DYNAMODB_ENDPOINT_URL")
            .env_remove("PORT")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("starting local-api");
        let stdout = child.stdout.take().unwrap();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = std::io::Read::read_to_end(&mut pipe, &mut text);
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&text));
        });
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    /// Reads output until a line contains `needle`; panics after 20 s.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {needle:?}; output so far: {:#?}", self.seen),
            }
        }
    }

    /// The base URL it printed.
    fn base_url(&mut self) -> String {
        let line = self.wait_for("local API on http://");
        line.rsplit(' ').next().unwrap().to_owned()
    }

    /// The shell commands of the printed curl session.
    fn curl_session(&mut self) -> String {
        self.wait_for("Try it:");
        let mut script = String::new();
        loop {
            let line = self.wait_for("");
            if line.contains("Ctrl-C") {
                return script;
            }
            script.push_str(&line);
            script.push('\n');
        }
    }

    /// Sends SIGINT, as Ctrl-C does, and waits (at most 10 s) for a clean exit.
    fn interrupt(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "did not stop within 10 s of SIGINT"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        assert!(self.seen.iter().any(|l| l == "stopped"), "{:#?}", self.seen);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Runs the printed curl session with bash and returns the HTTP status lines it printed.
fn run_session(script: &str) -> Vec<u16> {
    let out = Command::new("bash")
        .args(["-c", script])
        .output()
        .expect("bash");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("HTTP/"))
        .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
        .collect()
}

/// `script` typed (pasted) into an interactive `shell` with no start-up files, as a newcomer
/// pastes the README's blocks into a terminal: comments and `!` behave as they do there (zsh
/// takes `#` for a command unless told otherwise; bash expands `!` in double quotes). The
/// status of each HTTP answer it printed. Bounded: killed after 120 s.
fn pasted_into(shell: &str, script: &str) -> Vec<u16> {
    let args: &[&str] = match shell {
        "bash" => &["120", "bash", "--norc", "--noprofile", "-i"],
        _ => &["120", "zsh", "-f", "-i"],
    };
    let mut child = Command::new("timeout")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("timeout and the shell");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("command not found") && !stderr.contains("event not found"),
        "{shell}: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("HTTP/"))
        .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
        .collect()
}

/// The README's walk-through, every `sh` block of it in order, pasted into an interactive bash
/// and zsh (scripts/test installs zsh where it can; without it only bash is tried) against the
/// server `cargo run` starts: each answer is the one the README's text announces.
#[test]
fn the_readme_walk_through_works_pasted_into_bash_and_zsh() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split("\n## Walk-through")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Walk-through section");
    let blocks: Vec<&str> = section
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 6, "{blocks:?}");
    let script = blocks.concat();
    let zsh = Command::new("zsh").arg("--version").output().is_ok();
    let shells: &[&str] = if zsh { &["bash", "zsh"] } else { &["bash"] };
    for shell in shells {
        let mut server = Running::start(&[], &[]);
        let base = server.base_url();
        let script = script.replace("http://127.0.0.1:3000", &base);
        assert_eq!(
            pasted_into(shell, &script),
            // register; /me; sessions, end the phone's, its /me; reuse, the laptop's /me;
            // logout, /me; logout-all, /me; password, /me of the other and of the desk;
            // delete, /me.
            vec![
                201, 200, 200, 204, 403, 401, 403, 204, 403, 204, 403, 204, 403, 200, 204, 403
            ],
            "{shell}"
        );
        server.interrupt();
    }
}

/// Every `sh` block of the README and docs/ pastes into zsh as it does into bash: zsh, by
/// default, does not take `#` for a comment on the command line (it passes it and the words
/// after it to the command), so no block has one; what a command answers goes in the prose.
#[test]
fn no_shell_block_of_the_docs_has_a_comment() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut in_sh = false;
        for (n, line) in text.lines().enumerate() {
            if line.starts_with("```") {
                in_sh = line == "```sh";
                continue;
            }
            let words = line.split([' ', '\t']);
            if in_sh && words.clone().any(|w| w.starts_with('#')) {
                found.push(format!("{}:{}: {line}", file.display(), n + 1));
            }
        }
    }
    assert!(files.len() >= 5, "{files:?}");
    assert!(
        found.is_empty(),
        "comments in shell blocks:\n{}",
        found.join("\n")
    );
}

#[test]
fn in_memory_prints_a_working_curl_session_and_stops_on_ctrl_c() {
    let mut server = Running::start(&[], &[]);
    server.wait_for("generated a random signing key");
    let base = server.base_url();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let script = server.curl_session();
    assert!(script.contains(&base));
    assert_eq!(run_session(&script), vec![201, 200, 204, 403]);
    server.interrupt();
}

#[test]
fn dynamodb_with_create_tables() {
    let users = unique_name("cli-users");
    let sessions = unique_name("cli-sessions");
    let endpoint = dynamodb_endpoint();
    let mut server = Running::start(
        &[
            "--dynamodb-endpoint",
            &endpoint,
            "--create-tables",
            "--users-table",
            &users,
            "--sessions-table",
            &sessions,
        ],
        &[
            ("JWT_SECRET", "a-fixed-secret-for-this-test-0123456789"),
            ("MFA_KEY", "a-fixed-mfa-key-for-this-test-0123456789"),
        ],
    );
    server.wait_for(&format!("DynamoDB at {endpoint}"));
    let script = server.curl_session();
    assert!(!server.seen.iter().any(|l| l.contains("generated a random")));
    assert_eq!(run_session(&script), vec![201, 200, 204, 403]);
    server.interrupt();

    // The tables exist on the server and hold the account.
    let client = auth_testing::dynamo_client();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let count = rt.block_on(async { client.scan().table_name(&users).send().await.unwrap().count });
    assert_eq!(count, 1);
}

/// The error a start-up ends with (stderr), for `args` and `envs`; the start must fail.
fn failed_start(args: &[&str], envs: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_local-api"));
    cmd.args(["--port", "0"])
        .args(args)
        .env_remove("JWT_SECRET")
        .env_remove("DYNAMODB_ENDPOINT_URL")
        .env_remove("TOKEN_TTL_SECONDS");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "it started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Errors a newcomer meets are sentences that name the setting as it was given (a flag, or the
/// environment, easy to forget) and the fix.
#[test]
fn bad_configuration_fails_start_up_naming_the_setting_and_the_fix() {
    let env = failed_start(&[], &[("JWT_SECRET", "short")]);
    assert!(
        env.starts_with("error: JWT_SECRET (set in the environment): must be at least 32 bytes"),
        "{env}"
    );
    assert!(
        env.contains("openssl rand -hex 32") && env.contains("unset JWT_SECRET"),
        "{env}"
    );
    let flag = failed_start(&["--jwt-secret", "short"], &[]);
    assert!(
        flag.starts_with("error: --jwt-secret: must be at least 32 bytes"),
        "{flag}"
    );
    // A value clap refuses, from the environment: said so (clap names only the flag).
    let parse = failed_start(&[], &[("TOKEN_TTL_SECONDS", "abc")]);
    assert!(
        parse.starts_with("error: TOKEN_TTL_SECONDS is set in the environment to 'abc'"),
        "{parse}"
    );
}

#[test]
fn an_unreachable_endpoint_and_a_missing_table_are_said_so_at_start() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = failed_start(
        &["--dynamodb-endpoint", &format!("http://127.0.0.1:{port}")],
        &[],
    );
    assert!(
        down.contains("cannot reach DynamoDB at http://127.0.0.1:"),
        "{down}"
    );
    assert!(down.contains("leave out --dynamodb-endpoint"), "{down}");
    let missing = unique_name("no-such-table");
    let endpoint = dynamodb_endpoint();
    let absent = failed_start(
        &["--dynamodb-endpoint", &endpoint, "--users-table", &missing],
        &[],
    );
    assert!(
        absent.contains(&format!("there is no table `{missing}`")),
        "{absent}"
    );
    assert!(absent.contains("--create-tables"), "{absent}");
}

/// With `--dynamodb-endpoint`, the local server runs every request path the deployed stack
/// runs: the authorizer's session read and user-info's account read go through the direct
/// client (no SDK `User-Agent`), the other functions through the SDK. Checked on a moto of its
/// own, which records every request with its headers.
#[test]
fn dynamodb_reads_of_the_authorizer_and_user_info_use_the_direct_client() {
    // moto writes its recording to a file: one of this test's own.
    let recording_file = std::env::temp_dir().join(unique_name("moto-recording"));
    let moto = auth_testing::OwnMoto::start_with(
        auth_testing::OwnMoto::free_port(),
        &[("MOTO_RECORDER_FILEPATH", recording_file.to_str().unwrap())],
    );
    let endpoint = moto.url();
    let post = |path: &str| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            reqwest::Client::new()
                .post(format!("{endpoint}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    };
    post("/moto-api/recorder/reset-recording");
    post("/moto-api/recorder/start-recording");
    let mut server = Running::start(
        &["--dynamodb-endpoint", &endpoint, "--create-tables"],
        &[("JWT_SECRET", "a-fixed-secret-for-this-test-0123456789")],
    );
    server.wait_for(&format!("DynamoDB at {endpoint}"));
    let script = server.curl_session();
    assert_eq!(run_session(&script), vec![201, 200, 204, 403]);
    server.interrupt();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let recording = rt.block_on(async {
        reqwest::get(format!("{endpoint}/moto-api/recorder/download-recording"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    // (operation, sent by the SDK) for every DynamoDB request.
    let calls: Vec<(String, bool)> = recording
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|request| {
            let headers = request["headers"].as_object()?.clone();
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| v.as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            let operation = header("X-Amz-Target")
                .strip_prefix("DynamoDB_20120810.")?
                .to_owned();
            Some((operation, header("User-Agent").contains("aws-sdk-rust")))
        })
        .collect();
    let count = |operation: &str, sdk: bool| {
        calls
            .iter()
            .filter(|(op, by_sdk)| op == operation && *by_sdk == sdk)
            .count()
    };
    // Three protected calls (/me before and after logout; /logout itself): the authorizer's
    // reads. Logout's own liveness read of the session it ends is the SDK's.
    assert_eq!(count("BatchGetItem", false), 3, "{calls:?}");
    assert_eq!(count("BatchGetItem", true), 1, "{calls:?}");
    // User-info's read (one /me allowed) is direct; login's account read is the SDK's.
    assert_eq!(count("GetItem", false), 1, "{calls:?}");
    assert!(count("GetItem", true) >= 1, "{calls:?}");
    assert!(count("PutItem", true) >= 1, "{calls:?}");
    assert_eq!(count("PutItem", false), 0, "{calls:?}");
    let _ = std::fs::remove_file(&recording_file);
}

/// At `RUST_LOG=trace` on DynamoDB the local server follows the Lambdas' rule: this service's
/// crates log at TRACE, every other crate at INFO at most, so the AWS SDK's trace lines (which
/// print whole `GetItem` answers) never put a password hash, a password or a token in its logs.
#[test]
fn local_server_logs_at_trace_hold_no_secrets() {
    let users = unique_name("trace-users");
    let sessions = unique_name("trace-sessions");
    let endpoint = dynamodb_endpoint();
    let mut server = Running::start(
        &[
            "--dynamodb-endpoint",
            &endpoint,
            "--create-tables",
            "--users-table",
            &users,
            "--sessions-table",
            &sessions,
        ],
        &[
            ("JWT_SECRET", "a-fixed-secret-for-this-test-0123456789"),
            ("RUST_LOG", "trace"),
        ],
    );
    server.wait_for(&format!("DynamoDB at {endpoint}"));
    let script = server.curl_session();
    assert_eq!(run_session(&script), vec![201, 200, 204, 403]);
    let stderr = server.stderr.clone();
    let reader = server.stderr_reader.take().unwrap();
    server.interrupt();
    reader.join().unwrap();

    let client = auth_testing::dynamo_client();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let items = rt.block_on(async { client.scan().table_name(&users).send().await.unwrap() });
    let hash = items.items()[0]["password_hash"].as_s().unwrap().clone();
    let logs = stderr.lock().unwrap().clone();
    // The logs are there, at TRACE for this service's crates (the request lines).
    assert!(logs.contains("handled"), "{logs}");
    let digest = hash.rsplit('$').next().unwrap();
    for secret in [
        hash.as_str(),
        digest,
        "correct horse battery staple",
        "a-fixed-secret-for-this-test-0123456789",
        "eyJ",
    ] {
        assert!(!logs.contains(secret), "the logs contain {secret:?}");
    }
}

/// The CORS preflight of a cookie refresh from `origin`: the `access-control-allow-origin` the
/// server answered, if any.
fn preflight_allows(base: &str, origin: &str) -> Option<String> {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-D", "-", "-X", "OPTIONS"])
        .args(["-H", &format!("origin: {origin}")])
        .args(["-H", "access-control-request-method: POST"])
        .args(["-H", "access-control-request-headers: token-delivery"])
        .arg(format!("{base}/refresh"))
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("access-control-allow-origin:")
            .map(|v| v.trim().to_owned())
    })
}

#[test]
fn cors_origins_come_from_the_repeatable_flag_or_the_environment() {
    let mut server = Running::start(
        &[
            "--cors-origin",
            "https://App.example.test/",
            "--cors-origin",
            "http://localhost:5173",
        ],
        &[],
    );
    let base = server.base_url();
    for origin in ["https://app.example.test", "http://localhost:5173"] {
        assert_eq!(preflight_allows(&base, origin).as_deref(), Some(origin));
    }
    assert_eq!(preflight_allows(&base, "https://other.example.test"), None);
    server.interrupt();

    let mut server = Running::start(&[], &[("CORS_ALLOWED_ORIGINS", "http://localhost:5173")]);
    let base = server.base_url();
    assert_eq!(
        preflight_allows(&base, "http://localhost:5173").as_deref(),
        Some("http://localhost:5173")
    );
    server.interrupt();

    // `*` would share credentials with every site: refused at start, with the reason, naming
    // the flag it was given with.
    let out = Command::new(env!("CARGO_BIN_EXE_local-api"))
        .args(["--port", "0", "--cors-origin", "*"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: --cors-origin: ") && err.contains("wildcard"),
        "{err}"
    );
}

/// The status curl gets for `method` `url`.
fn status_of(method: &str, url: &str) -> String {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            method,
            url,
        ])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn operator_routes_only_on_the_admin_listener() {
    let mut server = Running::start(&["--admin-port", "0"], &[]);
    let base = server.base_url();
    let line = server.wait_for("Operator routes");
    let admin = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .and_then(|url| url.split("/admin/").next())
        .unwrap()
        .to_owned();
    assert!(admin.starts_with("http://127.0.0.1:"), "{admin}");
    assert_ne!(admin, base);
    // An unknown user on the admin listener: the function answered (404 user_not_found); the
    // API's listener has no such route (404 from the gateway); the admin listener no API route.
    let out = Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            &format!("{admin}/admin/users/nobody-here/logout-all"),
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("user_not_found"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let on_api = status_of(
        "POST",
        &format!("{base}/admin/users/nobody-here/logout-all"),
    );
    assert_eq!(on_api, "404");
    assert_eq!(status_of("GET", &format!("{admin}/")), "404");
    // Ctrl-C stops both.
    server.interrupt();

    // Without the flag, nothing mentions them.
    let mut server = Running::start(&[], &[]);
    server.base_url();
    let session = server.curl_session();
    assert!(!session.contains("admin"), "{session}");
    server.interrupt();
}
