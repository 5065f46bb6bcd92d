//! `auth-testing`: test helpers for the workspace (never linked into a Lambda): a DynamoDB client for the DynamoDB-compatible server
//! that `scripts/test` starts (moto), fresh uniquely named tables, secrets on the same server
//! ([`secrets_client`], [`new_secret`]), and a fixed configuration.
//!
//! Tests that need DynamoDB call [`dynamo_client`]; it fails the test with a clear message when
//! `DYNAMODB_TEST_ENDPOINT` is not set, instead of silently skipping it. [`logs`] captures what
//! the functions log.

pub mod logs;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;

use auth::config::{Config, StoreConfig};
use auth::domain::random_hex;
use auth::domain::{RefreshHash, SessionId, UserId};
use auth::error::StoreError;
use auth::store::{
    DeleteSession, GetSession, ListSessions, ReadMarker, RefreshRecord, RefreshTokens,
    RevokeAllSessions, Rotation, SecondFactor, SessionLookup, SessionRecord, SessionUse,
    StartSession,
};
use auth_direct::{AwsHttp, DirectConfig, DirectSessions, DirectUsers};
use auth_sdk::SdkClients as _;
use auth_sdk::store::{DynamoAttempts, DynamoSessions, DynamoUsers, create_tables};

/// The endpoint of the test DynamoDB server, from `DYNAMODB_TEST_ENDPOINT`.
pub fn dynamodb_endpoint() -> String {
    std::env::var("DYNAMODB_TEST_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "DYNAMODB_TEST_ENDPOINT is not set: run the tests with `bash scripts/test`, which \
             starts a DynamoDB-compatible server (moto) and sets it"
        )
    })
}

/// The endpoint of the second DynamoDB-compatible engine (dynalite), from
/// `DYNALITE_TEST_ENDPOINT`: moto's conditional writes are not atomic under concurrency, so the
/// race tests run here too, where a conditional write is decided once per item.
pub fn dynalite_endpoint() -> String {
    std::env::var("DYNALITE_TEST_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "DYNALITE_TEST_ENDPOINT is not set: run the tests with `bash scripts/test`, which \
             starts dynalite (a second DynamoDB-compatible engine) and sets it"
        )
    })
}

/// A client for `endpoint` with a fixed region and test credentials.
pub fn client_for(endpoint: &str) -> Client {
    StoreConfig {
        endpoint_url: None,
        timeout: std::time::Duration::from_secs(15),
    }
    .local_client(endpoint)
}

/// A client for the test DynamoDB server.
pub fn dynamo_client() -> Client {
    client_for(&dynamodb_endpoint())
}

/// Secrets Manager on the test server (moto, the same endpoint as [`dynamo_client`]).
pub fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(
        &StoreConfig::default().local_sdk_config(&dynamodb_endpoint()),
    )
}

/// A new secret on `client`, named after `prefix` and holding `value`: its ARN.
pub async fn new_secret(
    client: &aws_sdk_secretsmanager::Client,
    prefix: &str,
    value: &str,
) -> String {
    client
        .create_secret()
        .name(unique_name(prefix))
        .secret_string(value)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap()
}

/// A unique table name with `prefix`.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", random_hex::<6>())
}

/// Fresh users and sessions tables on the test server.
pub struct TestTables {
    /// The client they were made with.
    pub client: Client,
    /// The server they are on.
    pub endpoint: String,
    /// Users table name.
    pub users_table: String,
    /// Sessions table name.
    pub sessions_table: String,
    /// Login attempts table name.
    pub attempts_table: String,
}

impl TestTables {
    /// Creates the three tables, uniquely named, on the test server (moto).
    pub async fn create() -> Self {
        Self::create_at(&dynamodb_endpoint()).await
    }

    /// [`TestTables::create`] on the second engine (dynalite), for the race tests.
    pub async fn create_on_dynalite() -> Self {
        Self::create_at(&dynalite_endpoint()).await
    }

    /// [`TestTables::create`] on the server at `endpoint`.
    pub async fn create_at(endpoint: &str) -> Self {
        let client = client_for(endpoint);
        let users_table = unique_name("users");
        let sessions_table = unique_name("sessions");
        let attempts_table = unique_name("attempts");
        create_tables(&client, &users_table, &sessions_table, &attempts_table)
            .await
            .expect("creating test tables");
        Self {
            client,
            endpoint: endpoint.to_owned(),
            users_table,
            sessions_table,
            attempts_table,
        }
    }

    /// The login attempts store on these tables.
    pub fn attempts(&self) -> DynamoAttempts {
        DynamoAttempts::new(self.client.clone(), &self.attempts_table)
    }

    /// The users store on these tables.
    pub fn users(&self) -> DynamoUsers {
        DynamoUsers::new(self.client.clone(), &self.users_table)
    }

    /// The sessions store on these tables.
    pub fn sessions(&self) -> DynamoSessions {
        DynamoSessions::new(self.client.clone(), &self.sessions_table)
    }

    /// The authorizer's direct session read on these tables.
    pub fn direct_sessions(&self) -> DirectSessions {
        direct_sessions_at(&self.endpoint, &self.sessions_table)
    }

    /// User-info's direct account read on these tables.
    pub fn direct_users(&self) -> DirectUsers {
        let config = direct_config(&self.endpoint);
        let http = AwsHttp::new(&config).expect("a TLS configuration");
        DirectUsers::new(&http, &config, &self.users_table).expect("a valid endpoint")
    }

    /// The users store on these tables with every [`auth::store::FindUser`] read made by
    /// user-info's direct client instead of the SDK.
    pub fn users_read_directly(&self) -> DirectUserReads {
        DirectUserReads {
            writes: self.users(),
            reads: self.direct_users(),
        }
    }

    /// The sessions store on these tables with every [`GetSession`] read made by the
    /// authorizer's direct client instead of the SDK.
    pub fn sessions_read_directly(&self) -> DirectReads {
        DirectReads {
            writes: self.sessions(),
            reads: self.direct_sessions(),
        }
    }
}

/// Where the direct client calls in tests: every service at `endpoint`, region `us-east-1`,
/// the placeholder credentials of the SDK test clients, 15 s.
pub fn direct_config(endpoint: &str) -> DirectConfig {
    DirectConfig::local(endpoint, std::time::Duration::from_secs(15))
}

/// The direct session read of `table` as `config` says.
pub fn direct_sessions(config: &DirectConfig, table: &str) -> DirectSessions {
    let http = AwsHttp::new(config).expect("a TLS configuration");
    DirectSessions::new(&http, config, table).expect("a valid test endpoint")
}

/// The direct session read of `table` at `endpoint` ([`direct_config`]).
pub fn direct_sessions_at(endpoint: &str, table: &str) -> DirectSessions {
    direct_sessions(&direct_config(endpoint), table)
}

/// A DynamoDB users store whose [`auth::store::FindUser`] is user-info's direct read, and whose
/// [`auth::store::CreateUser`] is the SDK store's.
#[derive(Debug, Clone)]
pub struct DirectUserReads {
    /// [`auth::store::CreateUser`].
    pub writes: DynamoUsers,
    /// [`auth::store::FindUser`].
    pub reads: DirectUsers,
}

impl auth::store::CreateUser for DirectUserReads {
    async fn create_user(&self, user: &auth::store::UserRecord) -> Result<(), StoreError> {
        self.writes.create_user(user).await
    }
}

impl auth::store::FindUser for DirectUserReads {
    async fn find_user(
        &self,
        username: &auth::domain::Username,
    ) -> Result<Option<auth::store::UserRecord>, StoreError> {
        self.reads.find_user(username).await
    }
}

/// A DynamoDB sessions store whose [`GetSession`] is the authorizer's direct read, every other
/// operation the SDK store's: so that the conformance suite and handler tests judge the direct
/// read by the same cases.
#[derive(Debug, Clone)]
pub struct DirectReads {
    /// Everything but [`GetSession`].
    pub writes: DynamoSessions,
    /// [`GetSession`].
    pub reads: DirectSessions,
}

impl GetSession for DirectReads {
    async fn get_session(
        &self,
        id: &SessionId,
        owner: &UserId,
        now: i64,
    ) -> Result<SessionLookup, StoreError> {
        self.reads.get_session(id, owner, now).await
    }
}

impl ReadMarker for DirectReads {
    async fn marker(&self, owner: &UserId) -> Result<auth::store::Marker, StoreError> {
        self.writes.marker(owner).await
    }
}

impl SecondFactor for DirectReads {
    async fn begin_totp(
        &self,
        owner: &UserId,
        sealed: &str,
        until: i64,
    ) -> Result<bool, StoreError> {
        self.writes.begin_totp(owner, sealed, until).await
    }

    async fn confirm_totp(
        &self,
        owner: &UserId,
        pending: &str,
        step: i64,
        recovery: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.writes
            .confirm_totp(owner, pending, step, recovery, now)
            .await
    }

    async fn disable_totp(
        &self,
        owner: &UserId,
        proof: &auth::store::Proof,
    ) -> Result<bool, StoreError> {
        self.writes.disable_totp(owner, proof).await
    }

    async fn reset_totp(&self, owner: &UserId) -> Result<bool, StoreError> {
        self.writes.reset_totp(owner).await
    }

    async fn set_challenge(
        &self,
        owner: &UserId,
        secret: &str,
        challenge: &str,
    ) -> Result<bool, StoreError> {
        self.writes.set_challenge(owner, secret, challenge).await
    }

    async fn pass_challenge(
        &self,
        owner: &UserId,
        challenge: &str,
        proof: &auth::store::Proof,
    ) -> Result<bool, StoreError> {
        self.writes.pass_challenge(owner, challenge, proof).await
    }
}

impl StartSession for DirectReads {
    async fn start_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
    ) -> Result<(), StoreError> {
        self.writes.start_session(session, refresh).await
    }
}

impl RefreshTokens for DirectReads {
    async fn find_refresh(
        &self,
        hash: &RefreshHash,
        now: i64,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        self.writes.find_refresh(hash, now).await
    }

    async fn rotate_refresh(
        &self,
        old: &RefreshHash,
        rotated_at_ms: i64,
        new: &RefreshRecord,
        used: &SessionUse,
    ) -> Result<Rotation, StoreError> {
        self.writes
            .rotate_refresh(old, rotated_at_ms, new, used)
            .await
    }

    async fn add_refresh(
        &self,
        new: &RefreshRecord,
        used: &SessionUse,
    ) -> Result<bool, StoreError> {
        self.writes.add_refresh(new, used).await
    }
}

impl DeleteSession for DirectReads {
    async fn delete_session(
        &self,
        id: &SessionId,
        owner: &UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.writes.delete_session(id, owner, now).await
    }
}

impl ListSessions for DirectReads {
    async fn list_sessions(
        &self,
        owner: &UserId,
        also: Option<&SessionId>,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.writes.list_sessions(owner, also, now).await
    }
}

impl RevokeAllSessions for DirectReads {
    async fn bump_generation(&self, owner: &UserId) -> Result<u64, StoreError> {
        self.writes.bump_generation(owner).await
    }

    async fn delete_sessions_before(
        &self,
        owner: &UserId,
        generation: u64,
    ) -> Result<usize, StoreError> {
        self.writes.delete_sessions_before(owner, generation).await
    }
}

impl auth::store::DisableUser for DirectReads {
    async fn disable(&self, owner: &UserId) -> Result<u64, StoreError> {
        self.writes.disable(owner).await
    }

    async fn enable(&self, owner: &UserId) -> Result<bool, StoreError> {
        self.writes.enable(owner).await
    }

    async fn is_disabled(&self, owner: &UserId) -> Result<bool, StoreError> {
        self.writes.is_disabled(owner).await
    }
}

/// The secret of [`test_env`].
pub const TEST_SECRET: &str = "test-secret-0123456789abcdef-0123456789";

/// The MFA key of [`test_env`].
pub const TEST_MFA_KEY: &str = "test-mfa-key-0123456789abcdef-01234567";

/// The [`auth::mfa::MfaKeys`] of [`TEST_MFA_KEY`].
pub fn mfa_keys() -> auth::mfa::MfaKeys {
    auth::mfa::MfaKeys::derive(
        &auth::token::HmacKey::new(TEST_MFA_KEY.as_bytes().to_vec()).expect("a 38-byte key"),
    )
}

/// Environment variables for tests: tables `users`/`sessions`, [`TEST_SECRET`], [`TEST_MFA_KEY`], defaults
/// otherwise. Add or override entries before passing it to a `from_lookup`.
pub fn test_env() -> HashMap<String, String> {
    [
        ("USERS_TABLE", "users"),
        ("SESSIONS_TABLE", "sessions"),
        ("ATTEMPTS_TABLE", "attempts"),
        ("JWT_SECRET", TEST_SECRET),
        ("JWT_ISSUER", "https://auth.test"),
        ("JWT_AUDIENCE", "test-api"),
        ("MFA_KEY", TEST_MFA_KEY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// [`Config`] from [`test_env`].
pub fn test_config() -> Config {
    let env = test_env();
    Config::from_lookup(&|k| env.get(k).cloned()).expect("test configuration is valid")
}

/// The repository's `events/` folder.
pub fn events_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

/// The sample event `events/<name>` as JSON, its access tokens signed afresh (as
/// `scripts/fresh-events` does): the copies in `events/` live 15 minutes, as every access token
/// does, and have long expired.
pub fn event(name: &str) -> serde_json::Value {
    let path = events_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut event: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    refresh_sample_tokens(&mut event, auth::clock::now());
    event
}

/// Re-signs every sample access token in `value` (a string holding a three-segment JWT, bare or
/// after `Bearer `) with the sample key, its claims kept but for `iat = nbf = now` and
/// `exp = now + 900`.
fn refresh_sample_tokens(value: &mut serde_json::Value, now: i64) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    match value {
        serde_json::Value::String(text) => {
            let (prefix, token) = match text.strip_prefix("Bearer ") {
                Some(token) => ("Bearer ", token),
                None => ("", text.as_str()),
            };
            let segments: Vec<&str> = token.split('.').collect();
            let [header, payload, _] = segments[..] else {
                return;
            };
            let Some(mut claims) = URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
                .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
                .filter(|claims| claims.get("exp").is_some())
            else {
                return;
            };
            claims["iat"] = now.into();
            claims["nbf"] = now.into();
            claims["exp"] = (now + auth::config::DEFAULT_ACCESS_TTL_SECONDS).into();
            let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
            let input = format!("{header}.{payload}");
            let key = aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA256,
                SAMPLE_EVENTS_SECRET.as_bytes(),
            );
            let signature = URL_SAFE_NO_PAD.encode(aws_lc_rs::hmac::sign(&key, input.as_bytes()));
            *text = format!("{prefix}{input}.{signature}");
        }
        serde_json::Value::Array(items) => {
            for item in items {
                refresh_sample_tokens(item, now);
            }
        }
        serde_json::Value::Object(members) => {
            for item in members.values_mut() {
                refresh_sample_tokens(item, now);
            }
        }
        _ => {}
    }
}

/// An HTTP API event as the `lambda_http` request a handler receives, through the same parser the
/// Lambda runtime uses.
pub fn request(event: &serde_json::Value) -> lambda_http::Request {
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
}

/// `event` with `body` as its (plain-text) body and a matching `content-length`.
pub fn with_body(mut event: serde_json::Value, body: &str) -> serde_json::Value {
    event["body"] = body.into();
    event["isBase64Encoded"] = false.into();
    event["headers"]["content-length"] = body.len().to_string().into();
    event
}

/// `event` with the authorizer context of an allow for the given identity.
pub fn with_caller(
    mut event: serde_json::Value,
    user_id: &str,
    username: &str,
    sid: &str,
) -> serde_json::Value {
    event["requestContext"]["authorizer"] = serde_json::json!({
        "lambda": {"user_id": user_id, "username": username,
                   "jti": auth::TokenId::generate().as_str(), "sid": sid}
    });
    event
}

/// A response's status and JSON body (`Null` for an empty body).
pub fn response_json(
    response: &lambda_http::Response<lambda_http::Body>,
) -> (u16, serde_json::Value) {
    let bytes: &[u8] = response.body().as_ref();
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(bytes).expect("a JSON response body")
    };
    (response.status().as_u16(), json)
}

/// A username no other test uses.
pub fn unique_username(prefix: &str) -> String {
    format!("{prefix}-{}", random_hex::<5>())
}

/// A signer from [`test_config`].
pub fn signer() -> auth::token::TokenSigner {
    let config = test_config();
    config
        .signer
        .signer_for(config.signer.key.hmac_inline().expect("inline test key"))
}

/// A verifier from [`test_config`].
pub fn verifier() -> auth::token::TokenVerifier {
    let config = test_config();
    let key = config
        .verifier
        .key
        .hmac_inline()
        .expect("inline test key")
        .clone();
    config.verifier.verifier_for(&[key])
}

/// A hasher at the default (production) cost.
pub fn hasher() -> auth::password::PasswordHasher {
    test_config().password.hasher()
}

/// A client for a loopback port nothing listens on: every call fails like an unreachable
/// DynamoDB.
pub fn unreachable_client() -> Client {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding a free port")
        .port();
    client_for(&format!("http://127.0.0.1:{port}"))
}

/// The signing key of the sample tokens in `events/` (for local invocations only; deployed
/// stacks generate their key in Secrets Manager).
pub const SAMPLE_EVENTS_SECRET: &str = "local-sample-secret-for-events-only-0123456789";
/// The user id of the sample identity in `events/`.
pub const SAMPLE_USER_ID: &str = "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5";
/// The username of the sample identity in `events/`.
pub const SAMPLE_USERNAME: &str = "sample-user";
/// The session id (`sid`) of the sample token in `events/`.
pub const SAMPLE_SID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
/// The token id (`jti`) of the sample token in `events/`.
pub const SAMPLE_JTI: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// The refresh token in `events/refresh.json` (the sample session's current one).
pub const SAMPLE_REFRESH_TOKEN: &str = "c2FtcGxlLXJlZnJlc2gtdG9rZW4tZm9yLWV2ZW50cyE";

/// The stored record of [`SAMPLE_REFRESH_TOKEN`].
pub fn sample_refresh() -> auth::store::RefreshRecord {
    let session = sample_session();
    auth::store::RefreshRecord::current(
        &auth::RefreshToken::parse(SAMPLE_REFRESH_TOKEN).expect("sample refresh token"),
        &session.session_id,
        &session.user_id,
        session.expires_at,
    )
}

/// A verifier for the sample tokens in `events/`.
pub fn sample_verifier() -> auth::token::TokenVerifier {
    let mut env = test_env();
    env.insert("JWT_SECRET".into(), SAMPLE_EVENTS_SECRET.into());
    env.remove("JWT_ISSUER");
    env.remove("JWT_AUDIENCE");
    let config = Config::from_lookup(&|k| env.get(k).cloned()).expect("sample configuration");
    let key = config
        .verifier
        .key
        .hmac_inline()
        .expect("inline key")
        .clone();
    config.verifier.verifier_for(&[key])
}

/// The session of the sample token in `events/`.
pub fn sample_session() -> auth::store::SessionRecord {
    auth::store::SessionRecord {
        session_id: auth::SessionId::parse(SAMPLE_SID).expect("sample sid"),
        user_id: auth::UserId::parse(SAMPLE_USER_ID).expect("sample user id"),
        username: auth::Username::parse(SAMPLE_USERNAME).expect("sample username"),
        created_at_ms: 1_764_374_400_000,
        last_used_at: 1_764_374_400,
        expires_at: 4_102_444_800,
        generation: 0,
        user_agent: "curl/8.5.0".into(),
        source_ip: "203.0.113.7".into(),
        mfa: false,
    }
}

/// A refresh token record for `session` (its current one), with the token.
pub fn refresh_for(
    session: &auth::store::SessionRecord,
) -> (auth::RefreshToken, auth::store::RefreshRecord) {
    let token = auth::RefreshToken::generate();
    let record = auth::store::RefreshRecord::current(
        &token,
        &session.session_id,
        &session.user_id,
        session.expires_at,
    );
    (token, record)
}

/// Stores `session` with a fresh refresh token, as login would (test set-up); returns the token.
pub async fn put_session(
    sessions: &impl auth::store::StartSession,
    session: &auth::store::SessionRecord,
) -> auth::RefreshToken {
    let (token, record) = refresh_for(session);
    sessions
        .start_session(session, &record)
        .await
        .expect("storing a test session");
    token
}

/// An access token of `session`, issued now by [`signer`] (test set-up).
pub fn access_token(session: &auth::store::SessionRecord) -> String {
    signer()
        .issue(
            &session.user_id,
            &session.username,
            &session.session_id,
            auth::clock::now(),
        )
        .expect("issuing a test token")
        .token
}

/// A live session of `user_id` / `username` that began now and ends at `expires_at`, in
/// revocation generation 0 (test set-up).
pub fn new_session(
    user_id: &auth::UserId,
    username: &str,
    expires_at: i64,
) -> auth::store::SessionRecord {
    let now = auth::clock::now();
    auth::store::SessionRecord {
        session_id: auth::SessionId::generate(),
        user_id: user_id.clone(),
        username: auth::Username::parse(username).expect("a valid test username"),
        created_at_ms: auth::clock::now_ms(),
        last_used_at: now,
        expires_at,
        generation: 0,
        user_agent: "test-agent/1.0".into(),
        source_ip: "192.0.2.10".into(),
        mfa: false,
    }
}

/// A moto server of a test's own (the `moto_server` named by `MOTO_SERVER`, else the repository's
/// `.venv`), on 127.0.0.1, to stop and start again; stopped when dropped.
pub struct OwnMoto {
    child: Option<std::process::Child>,
    port: u16,
}

impl OwnMoto {
    fn binary() -> std::path::PathBuf {
        std::env::var_os("MOTO_SERVER")
            .map(Into::into)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server")
            })
    }

    /// Starts moto on `port` and waits (at most 30 s) until it accepts connections.
    pub fn start(port: u16) -> Self {
        Self::start_with(port, &[])
    }

    /// [`OwnMoto::start`] with extra environment variables for the server, e.g.
    /// `INITIAL_NO_AUTH_ACTION_COUNT` to make it check request signatures.
    pub fn start_with(port: u16, env: &[(&str, &str)]) -> Self {
        use std::time::{Duration, Instant};
        let child = std::process::Command::new(Self::binary())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server (run the tests with bash scripts/test)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child: Some(child),
            port,
        }
    }

    /// A free loopback port to start one on.
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("binding a free port")
            .port()
    }

    /// Kills the server (its data is lost, as with a restart of DynamoDB Local without a file).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        self.stop();
    }
}
