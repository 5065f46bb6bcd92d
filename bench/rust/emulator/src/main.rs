//! A minimal AWS Lambda Runtime API on 127.0.0.1 that runs one function under test as a real
//! process and measures it.
//!
//! It serves what a runtime client uses, as Lambda serves it (API version 2018-06-01):
//! - `GET  /2018-06-01/runtime/invocation/next` → the event, with the `Lambda-Runtime-*` headers;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` → 202;
//! - `POST /2018-06-01/runtime/invocation/{id}/error` and `/runtime/init/error` → 202 (recorded
//!   as failures).
//!
//! A run is: one discarded cold start (warms the page cache), `--cold` cold starts (a fresh
//! process each, one invocation), then one process that serves `--warmup` + `--warm`
//! invocations back to back. Every response is checked (`--expect`), so a broken function
//! cannot look fast: any wrong answer makes the run fail.
//!
//! Measured, per process: init (spawn until its first `next` request), the first invocation end
//! to end (event handed out until its response arrives; includes the first DynamoDB call), CPU
//! time per invocation (the sum over the process's threads of `/proc/PID/task/*/schedstat`,
//! user and system, in ns, sampled each time the function asks for its next event), wall time per
//! invocation, and peak RSS (`VmHWM`). Results are written as JSON (raw samples; the report
//! computes medians and p99).
//!
//! With `--cgroup DIR`, every process under test runs in that cgroup (created by bench/run.sh
//! with a CPU quota, as Lambda limits a function's CPU by its memory size); the emulator itself
//! stays outside it, and waits two quota periods before each process so that it starts with the
//! full quota, as a new sandbox does.
//!
//! Usage: `emulator --name N --event FILE --expect authorizer|http200|hello --cold N --warmup N
//!         --warm N --out FILE --log FILE [--cgroup DIR] -- COMMAND [ARGS...]`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Authorizer,
    Http200,
    Hello,
}

struct Args {
    name: String,
    event: Vec<u8>,
    expect: Expect,
    cold: usize,
    warmup: usize,
    warm: usize,
    out: String,
    log: String,
    cmd: Vec<String>,
    timeout_s: u64,
    /// A cgroup directory (v1 `cpu` or v2) each process under test is moved into before it
    /// runs its first instruction: how the harness limits a function's CPU as Lambda does.
    cgroup: Option<String>,
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        name: String::new(),
        event: Vec::new(),
        expect: Expect::Hello,
        cold: 10,
        warmup: 200,
        warm: 10_000,
        out: String::new(),
        log: "/dev/null".into(),
        cmd: Vec::new(),
        timeout_s: 900,
        cgroup: None,
    };
    while let Some(arg) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--name" => a.name = val(),
            "--event" => {
                let path = val();
                a.event = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            }
            "--expect" => {
                a.expect = match val().as_str() {
                    "authorizer" => Expect::Authorizer,
                    "http200" => Expect::Http200,
                    "hello" => Expect::Hello,
                    other => panic!("unknown --expect {other}"),
                }
            }
            "--cold" => a.cold = val().parse().expect("--cold"),
            "--warmup" => a.warmup = val().parse().expect("--warmup"),
            "--warm" => a.warm = val().parse().expect("--warm"),
            "--out" => a.out = val(),
            "--log" => a.log = val(),
            "--timeout" => a.timeout_s = val().parse().expect("--timeout"),
            "--cgroup" => a.cgroup = Some(val()),
            "--" => {
                a.cmd = it.by_ref().collect();
                break;
            }
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(!a.cmd.is_empty(), "no command after --");
    assert!(!a.out.is_empty(), "--out is required");
    // Compact the event (one line), as Lambda delivers it.
    let v: Value = serde_json::from_slice(&a.event).expect("event is not JSON");
    a.event = serde_json::to_vec(&v).unwrap();
    a
}

/// One process under test.
#[derive(Default)]
struct Gen {
    id: u64,
    pid: u32,
    spawned: Option<Instant>,
    total: usize,
    sent: usize,
    inflight: Option<(String, Instant)>,
    init_ns: Option<u64>,
    init_cpu_ns: Option<u64>,
    first_response_ns: Option<u64>,
    wall_ns: Vec<u64>,
    cpu_ns: Vec<u64>,
    last_cpu: Option<u64>,
    failures: Vec<String>,
    done: bool,
}

struct Shared {
    state: Mutex<Gen>,
    cv: Condvar,
    event: Vec<u8>,
    expect: Expect,
    name: String,
}

/// CPU time of every live thread of `pid`, in ns (schedstat: time on CPU, user + system).
fn cpu_ns(pid: u32) -> u64 {
    let mut total = 0u64;
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for entry in dir.flatten() {
            if let Ok(s) = std::fs::read_to_string(entry.path().join("schedstat")) {
                total += s
                    .split_whitespace()
                    .next()
                    .and_then(|x| x.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    total
}

/// The CFS period of a cgroup's CPU quota: cgroup v2 `cpu.max` ("QUOTA PERIOD", µs) or v1
/// `cpu.cfs_period_us`; the kernel's default, 100 ms, if neither can be read.
fn quota_period(dir: &str) -> Duration {
    let v2 = std::fs::read_to_string(format!("{dir}/cpu.max"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse().ok()));
    let v1 = || {
        std::fs::read_to_string(format!("{dir}/cpu.cfs_period_us"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    };
    Duration::from_micros(v2.or_else(v1).unwrap_or(100_000))
}

/// utime + stime of the whole process (dead threads included), in clock ticks.
fn stat_ticks(pid: u32) -> u64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &s[s.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime 15.
    let utime: u64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0);
    let stime: u64 = f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0);
    utime + stime
}

fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|x| x.parse().ok()))
        })
        .unwrap_or(0)
}

fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    close: bool,
}

fn read_request(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let http10 = parts.next() == Some("HTTP/1.0");
    let mut content_length = 0usize;
    let mut chunked = false;
    let mut close = http10;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => content_length = v.parse().unwrap_or(0),
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                _ => {}
            }
            headers.push((k, v.to_owned()));
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    if r.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..])?;
            line.clear();
            r.read_line(&mut line)?;
        }
    } else if content_length > 0 {
        body.resize(content_length, 0);
        r.read_exact(&mut body)?;
    }
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
        close,
    }))
}

fn respond(
    w: &mut TcpStream,
    status: &str,
    extra: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(256 + body.len());
    write!(
        out,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    )?;
    for (k, v) in extra {
        write!(out, "{k}: {v}\r\n")?;
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    w.write_all(&out)?;
    w.flush()
}

fn check(expect: Expect, body: &[u8]) -> Result<(), String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("response is not JSON: {e}"))?;
    let ok = match expect {
        // The allow context of functions/authorizer, exactly: the session's owner and
        // username, the token's own id (`jti`) and its session id (`sid`).
        Expect::Authorizer => {
            v["isAuthorized"] == Value::Bool(true)
                && v["context"]
                    == serde_json::json!({
                        "user_id": "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5",
                        "username": "sample-user",
                        "jti": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
                        "sid": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                    })
        }
        Expect::Http200 => {
            v["statusCode"] == 200
                && v["body"]
                    .as_str()
                    .and_then(|b| serde_json::from_str::<Value>(b).ok())
                    .is_some_and(|b| {
                        b["username"] == "sample-user"
                            && b["user_id"] == "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5"
                    })
        }
        Expect::Hello => v["message"] == "hello",
    };
    if ok {
        Ok(())
    } else {
        let text = String::from_utf8_lossy(body);
        Err(format!(
            "unexpected response: {}",
            &text[..text.len().min(300)]
        ))
    }
}

fn serve(shared: Arc<Shared>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    // The process this connection belongs to: the one current when it first spoke.
    let mut my_gen: Option<u64> = None;
    while let Ok(Some(req)) = read_request(&mut reader) {
        let now = Instant::now();
        let mut g = shared.state.lock().unwrap();
        let gen_id = *my_gen.get_or_insert(g.id);
        if gen_id != g.id {
            return; // a connection from a process that has been replaced
        }
        let p = req.path.as_str();
        if req.method == "GET" && p == "/2018-06-01/runtime/invocation/next" {
            let cpu = cpu_ns(g.pid);
            if g.init_ns.is_none() {
                g.init_ns = Some(now.duration_since(g.spawned.unwrap()).as_nanos() as u64);
                g.init_cpu_ns = Some(cpu);
            }
            if let Some(prev) = g.last_cpu {
                g.cpu_ns.push(cpu.saturating_sub(prev));
            }
            g.last_cpu = Some(cpu);
            if g.cpu_ns.len() >= g.total || !g.failures.is_empty() {
                g.done = true;
                shared.cv.notify_all();
            }
            if g.sent >= g.total || !g.failures.is_empty() {
                // No more events for this process: hold the request until it is replaced.
                while g.id == gen_id {
                    g = shared.cv.wait(g).unwrap();
                }
                return;
            }
            let request_id = format!("{:08x}-0000-4000-8000-{:012x}", g.id, g.sent);
            g.sent += 1;
            let deadline_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 30_000;
            let headers = [
                ("lambda-runtime-aws-request-id", request_id.clone()),
                ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    format!(
                        "arn:aws:lambda:us-east-1:123456789012:function:{}",
                        shared.name
                    ),
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-6748e2f0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0"
                        .to_owned(),
                ),
            ];
            g.inflight = Some((request_id, Instant::now()));
            drop(g);
            if respond(&mut writer, "200 OK", &headers, &shared.event).is_err() {
                return;
            }
            // The send time is taken once the event is written.
            let mut g = shared.state.lock().unwrap();
            if let Some((_, t)) = g.inflight.as_mut() {
                *t = Instant::now();
            }
        } else if req.method == "POST" && p.starts_with("/2018-06-01/runtime/invocation/") {
            let rest = &p["/2018-06-01/runtime/invocation/".len()..];
            let (id, kind) = rest.split_once('/').unwrap_or((rest, ""));
            match (kind, g.inflight.take()) {
                ("response", Some((expected, sent_at))) if expected == id => {
                    let wall = now.duration_since(sent_at).as_nanos() as u64;
                    if g.wall_ns.is_empty() {
                        g.first_response_ns =
                            Some(now.duration_since(g.spawned.unwrap()).as_nanos() as u64);
                    }
                    g.wall_ns.push(wall);
                    if let Err(e) = check(shared.expect, &req.body) {
                        g.failures.push(e);
                    }
                }
                (kind, _) => {
                    let text = String::from_utf8_lossy(&req.body).into_owned();
                    g.failures.push(format!("{kind} for {id}: {text}"));
                }
            }
            if !g.failures.is_empty() {
                g.done = true;
                shared.cv.notify_all();
            }
            drop(g);
            if respond(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#).is_err() {
                return;
            }
        } else if req.method == "POST" && p == "/2018-06-01/runtime/init/error" {
            g.failures.push(format!(
                "init error: {}",
                String::from_utf8_lossy(&req.body)
            ));
            g.done = true;
            shared.cv.notify_all();
            drop(g);
            let _ = respond(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#);
        } else {
            drop(g);
            let _ = respond(
                &mut writer,
                "404 Not Found",
                &[],
                br#"{"errorType":"NotFound"}"#,
            );
        }
        if req.close {
            return;
        }
    }
}

struct Outcome {
    init_ns: u64,
    init_cpu_ns: u64,
    first_e2e_ns: u64,
    first_response_ns: u64,
    wall_ns: Vec<u64>,
    cpu_ns: Vec<u64>,
    rss_kb: u64,
    threads: usize,
    stat_ticks: u64,
    failures: Vec<String>,
}

/// Starts a fresh process, lets it serve `total` invocations, and kills it.
fn run_process(
    shared: &Arc<Shared>,
    args: &Args,
    port: u16,
    total: usize,
    timeout: Duration,
) -> Outcome {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.log)
        .expect("log file");
    let mut g = shared.state.lock().unwrap();
    let next_id = g.id + 1;
    *g = Gen {
        id: next_id,
        total,
        ..Gen::default()
    };
    shared.cv.notify_all(); // releases requests held by the previous process
    let mut cmd = Command::new(&args.cmd[0]);
    cmd.args(&args.cmd[1..])
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    if let Some(dir) = &args.cgroup {
        // Each process starts with the cgroup's full quota, as a new Lambda sandbox does: the
        // previous process (killed just now) may have used up, or overrun, the current period's
        // share, which would throttle this one's init or first invocation for the harness's
        // sake. Two periods refill it.
        std::thread::sleep(2 * quota_period(dir));
        // Opened here, written in the child between fork and exec ("0" moves the writer): a
        // plain write(2) on an open file, which is safe there; the process then starts limited.
        let procs = std::fs::OpenOptions::new()
            .write(true)
            .open(format!("{dir}/cgroup.procs"))
            .unwrap_or_else(|e| panic!("{dir}/cgroup.procs: {e}"));
        use std::os::unix::process::CommandExt as _;
        // SAFETY: the closure only calls write(2) on a file opened before the fork; it does not
        // allocate or take locks.
        unsafe {
            cmd.pre_exec(move || (&procs).write_all(b"0").map(|_| ()));
        }
    }
    g.spawned = Some(Instant::now());
    let mut child: Child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", args.cmd[0]));
    g.pid = child.id();
    let deadline = Instant::now() + timeout;
    while !g.done {
        if let Ok(Some(status)) = child.try_wait() {
            g.failures.push(format!("process exited early: {status}"));
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let answered = g.wall_ns.len();
            g.failures.push(format!(
                "timed out after {timeout:?} ({answered} of {total} invocations answered)"
            ));
            break;
        }
        g = shared
            .cv
            .wait_timeout(g, left.min(Duration::from_millis(200)))
            .unwrap()
            .0;
    }
    let pid = g.pid;
    let out = Outcome {
        init_ns: g.init_ns.unwrap_or(0),
        init_cpu_ns: g.init_cpu_ns.unwrap_or(0),
        first_e2e_ns: g.wall_ns.first().copied().unwrap_or(0),
        first_response_ns: g.first_response_ns.unwrap_or(0),
        wall_ns: g.wall_ns.clone(),
        cpu_ns: g.cpu_ns.clone(),
        rss_kb: status_kb(pid, "VmHWM:"),
        threads: threads(pid),
        stat_ticks: stat_ticks(pid),
        failures: g.failures.clone(),
    };
    drop(g);
    let _ = child.kill();
    let _ = child.wait();
    out
}

/// `emulator --proxy HOST:PORT`: a keep-alive HTTP/1.1 front for moto, which closes the
/// connection after every response (`Connection: close`). DynamoDB keeps connections alive, so
/// without this every warm GetItem would pay a TCP connect that a deployed function does not.
/// Prints the port it listens on (127.0.0.1), then serves until killed.
fn proxy_main(upstream: String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    println!("{}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().unwrap();
    for stream in listener.incoming().flatten() {
        let upstream = upstream.clone();
        std::thread::spawn(move || {
            let _ = proxy_conn(stream, &upstream);
        });
    }
}

fn proxy_conn(stream: TcpStream, upstream: &str) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader)? {
        let mut up = TcpStream::connect(upstream)?;
        up.set_nodelay(true)?;
        let mut out = Vec::with_capacity(1024 + req.body.len());
        write!(out, "{} {} HTTP/1.1\r\n", req.method, req.path)?;
        for (k, v) in &req.headers {
            if !matches!(
                k.as_str(),
                "connection" | "content-length" | "transfer-encoding"
            ) {
                write!(out, "{k}: {v}\r\n")?;
            }
        }
        write!(
            out,
            "content-length: {}\r\nconnection: close\r\n\r\n",
            req.body.len()
        )?;
        out.extend_from_slice(&req.body);
        up.write_all(&out)?;
        let mut ur = BufReader::new(up);
        let mut status = String::new();
        ur.read_line(&mut status)?;
        let mut head = Vec::new();
        let mut length: Option<usize> = None;
        let mut line = String::new();
        loop {
            line.clear();
            if ur.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                break;
            }
            let l = line.trim_end();
            let name = l
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            match name.as_str() {
                "content-length" => {
                    length = l.split_once(':').and_then(|(_, v)| v.trim().parse().ok())
                }
                "connection" | "transfer-encoding" | "keep-alive" => {}
                _ => head.push(l.to_owned()),
            }
        }
        let mut body = Vec::new();
        match length {
            Some(n) => {
                body.resize(n, 0);
                ur.read_exact(&mut body)?;
            }
            None => {
                ur.read_to_end(&mut body)?;
            }
        }
        let mut resp = Vec::with_capacity(512 + body.len());
        resp.extend_from_slice(status.trim_end().as_bytes());
        resp.extend_from_slice(b"\r\n");
        for h in head {
            resp.extend_from_slice(h.as_bytes());
            resp.extend_from_slice(b"\r\n");
        }
        write!(
            resp,
            "content-length: {}\r\nconnection: keep-alive\r\n\r\n",
            body.len()
        )?;
        resp.extend_from_slice(&body);
        writer.write_all(&resp)?;
        if req.close {
            break;
        }
    }
    Ok(())
}

/// `emulator --roundtrip HOST:PORT SECRET_ARN N K`: N times, K `GetSecretValue` calls at once
/// (stages AWSCURRENT, AWSPENDING, AWSPREVIOUS in turn), each on a new connection as a cold
/// start makes them; prints the wall time of each round of K in ms, one per line. K = 1 is one
/// Secrets Manager round trip, the allowance of the deployed init target; K = 3 is what the
/// authorizer's reload (a token naming a key it lacks) asks for, and shows how the server copes
/// with them at once.
fn roundtrip_main(mut argv: impl Iterator<Item = String>) {
    let usage = "--roundtrip HOST:PORT SECRET_ARN N K";
    let addr = argv.next().expect(usage);
    let arn = argv.next().expect(usage);
    let n: usize = argv.next().and_then(|v| v.parse().ok()).expect(usage);
    let k: usize = argv.next().and_then(|v| v.parse().ok()).expect(usage);
    let call = |stage: &str| {
        let body = json!({"SecretId": arn, "VersionStage": stage}).to_string();
        let request = format!(
            "POST / HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-amz-json-1.1\r\n\
             x-amz-target: secretsmanager.GetSecretValue\r\nauthorization: AWS4-HMAC-SHA256 \
             Credential=test/20260101/us-east-1/secretsmanager/aws4_request, \
             SignedHeaders=host, Signature=0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = TcpStream::connect(&addr).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 "), "no HTTP answer");
    };
    let stages = ["AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"];
    for _ in 0..n {
        let started = Instant::now();
        std::thread::scope(|s| {
            for i in 0..k {
                let call = &call;
                s.spawn(move || call(stages[i % stages.len()]));
            }
        });
        println!("{:.3}", started.elapsed().as_secs_f64() * 1e3);
    }
}

fn main() {
    let mut argv = std::env::args().skip(1);
    match argv.next().as_deref() {
        Some("--proxy") => return proxy_main(argv.next().expect("--proxy HOST:PORT")),
        Some("--roundtrip") => return roundtrip_main(argv),
        _ => {}
    }
    let args = parse_args();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().unwrap().port();
    let shared = Arc::new(Shared {
        state: Mutex::new(Gen::default()),
        cv: Condvar::new(),
        event: args.event.clone(),
        expect: args.expect,
        name: args.name.clone(),
    });
    {
        let shared = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(shared, stream));
            }
        });
    }
    let ticks_per_s = 100u64; // USER_HZ on Linux
    let mut failures: Vec<String> = Vec::new();
    let mut cold = Vec::new();
    // One discarded cold start first: it warms the page cache (binary, interpreter, modules).
    for i in 0..=args.cold {
        let o = run_process(&shared, &args, port, 1, Duration::from_secs(60));
        failures.extend(o.failures.iter().map(|f| format!("cold run {i}: {f}")));
        if !o.failures.is_empty() {
            break;
        }
        if i > 0 {
            cold.push(json!({
                "init_ns": o.init_ns,
                "init_cpu_ns": o.init_cpu_ns,
                "first_invocation_ns": o.first_e2e_ns,
                "first_invocation_cpu_ns": o.cpu_ns.first().copied().unwrap_or(0),
                "cold_total_ns": o.first_response_ns,
                "rss_kb": o.rss_kb,
            }));
        }
        eprintln!(
            "  {} cold {i}: init {:.2} ms, first invocation {:.2} ms, rss {} KiB",
            args.name,
            o.init_ns as f64 / 1e6,
            o.first_e2e_ns as f64 / 1e6,
            o.rss_kb
        );
    }
    let mut warm = json!(null);
    if failures.is_empty() && args.warm > 0 {
        let total = args.warmup + args.warm;
        let started = Instant::now();
        let o = run_process(
            &shared,
            &args,
            port,
            total,
            Duration::from_secs(args.timeout_s),
        );
        let elapsed = started.elapsed();
        failures.extend(o.failures.iter().map(|f| format!("warm run: {f}")));
        let skip = args.warmup.min(o.wall_ns.len());
        let wall: Vec<u64> = o.wall_ns[skip..].to_vec();
        let cpu: Vec<u64> = o.cpu_ns[args.warmup.min(o.cpu_ns.len())..].to_vec();
        eprintln!(
            "  {} warm: {} invocations in {:.1} s, cpu mean {:.1} µs, rss {} KiB",
            args.name,
            wall.len(),
            elapsed.as_secs_f64(),
            cpu.iter().sum::<u64>() as f64 / cpu.len().max(1) as f64 / 1e3,
            o.rss_kb
        );
        warm = json!({
            "invocations": wall.len(),
            "warmup": args.warmup,
            "wall_ns": wall,
            "cpu_ns": cpu,
            "rss_kb": o.rss_kb,
            "threads": o.threads,
            "process_cpu_s_total": o.stat_ticks as f64 / ticks_per_s as f64,
            "init_cpu_ns": o.init_cpu_ns,
            "elapsed_s": elapsed.as_secs_f64(),
        });
    }
    let result = json!({
        "name": args.name,
        "command": args.cmd,
        "ok": failures.is_empty(),
        "failures": failures.iter().take(5).collect::<Vec<_>>(),
        "cold": cold,
        "warm": warm,
    });
    std::fs::write(&args.out, serde_json::to_vec(&result).unwrap()).expect("write --out");
    if !failures.is_empty() {
        eprintln!("  {} FAILED: {}", args.name, failures[0]);
        std::process::exit(1);
    }
}
