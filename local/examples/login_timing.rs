//! Benchmark: does a login for an unknown username take as long as one with a wrong password?
//! (It must: otherwise the time tells which usernames have accounts.)
//!
//! Runs the real login handler in process on the in-memory stores at the default Argon2id cost,
//! alternating the two cases (each attempt on a fresh username, so the brute-force limiter never
//! steps in), and writes the medians and percentiles to the file named by the first argument.
//! `cargo run --release -p local-api --example login_timing -- bench/login-timing.md [rounds]`

use auth_edge::Function as _;
use auth_sdk::SdkKeys as _;
use std::time::Instant;

use auth::store::memory::{MemoryAttempts, MemorySessions, MemoryUsers};
use auth::store::{CreateUser, UserRecord};
use auth::{Password, UserId, Username, clock};
use auth_testing::{event, request, with_body};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .unwrap_or_else(|| "bench/login-timing.md".into());
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(200);
    let config = auth_testing::test_config();
    let hasher = config.password.hasher();
    let users = MemoryUsers::new();
    let mut names = Vec::new();
    for i in 0..rounds {
        let name = format!("timing-user-{i}");
        users
            .create_user(&UserRecord {
                user_id: UserId::generate(),
                username: Username::parse(&name).unwrap(),
                password_hash: hasher
                    .hash(&Password::parse_new("correct horse battery staple".into()).unwrap())
                    .unwrap(),
                created_at: clock::now(),
            })
            .await
            .unwrap();
        names.push(name);
    }
    let handler = login::Handler::new(
        users,
        MemorySessions::new(),
        MemoryAttempts::new(),
        hasher,
        config.signer.load_sdk(None).await.unwrap(),
        config.refresh_ttl_seconds,
    );
    let login = |name: String| {
        let body =
            serde_json::json!({"username": name, "password": "not the password"}).to_string();
        request(&with_body(event("login.json"), &body))
    };
    // Warm up both paths.
    for i in 0..5 {
        handler.handle(login(format!("warmup-unknown-{i}"))).await;
    }
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for (i, name) in names.iter().enumerate() {
        let req = login(format!("nobody-{i}"));
        let t = Instant::now();
        let r = handler.handle(req).await;
        unknown.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.status(), 401);
        let req = login(name.clone());
        let t = Instant::now();
        let r = handler.handle(req).await;
        wrong.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.status(), 401);
    }
    unknown.sort_by(f64::total_cmp);
    wrong.sort_by(f64::total_cmp);
    let (mu, mw) = (percentile(&unknown, 0.5), percentile(&wrong, 0.5));
    let diff = (mu - mw).abs() / mw * 100.0;
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let report = format!(
        "# Login timing: unknown username vs wrong password\n\n\
         Measured by `cargo run --release -p local-api --example login_timing` \
         ({rounds} rounds of each, alternating; in-memory stores, so the time is the handler's own; \
         Argon2id m=19456 KiB, t=2, p=1; {cpus} CPUs, x86_64).\n\n\
         | case | median (ms) | p10 (ms) | p90 (ms) | p99 (ms) |\n|---|---|---|---|---|\n\
         | unknown username | {:.2} | {:.2} | {:.2} | {:.2} |\n\
         | wrong password | {:.2} | {:.2} | {:.2} | {:.2} |\n\n\
         Difference of the medians: **{diff:.1}%** (target: within 10%). Both answers are the same \
         401 body; the unknown username is verified against a dummy hash at the same cost.\n",
        mu,
        percentile(&unknown, 0.1),
        percentile(&unknown, 0.9),
        percentile(&unknown, 0.99),
        mw,
        percentile(&wrong, 0.1),
        percentile(&wrong, 0.9),
        percentile(&wrong, 0.99),
    );
    std::fs::write(&out, &report).unwrap();
    print!("{report}");
    assert!(diff <= 10.0, "medians differ by {diff:.1}%");
}
