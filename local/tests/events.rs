//! Every file in `events/` runs through the function it is for, with the sample signing key and
//! the sample identity's account and session in the store, and gets the answer it is there to
//! show. A new sample file must be added to the table below.

use auth::Password;
use auth::store::memory::{MemoryAttempts, MemorySessions, MemoryUsers};
use auth::store::{AccountsOver, CreateUser, StartSession, UserRecord};
use auth::{UserId, Username};
use auth_edge::Function as _;
use auth_sdk::SdkKeys as _;
use auth_testing::{
    SAMPLE_EVENTS_SECRET, SAMPLE_USER_ID, SAMPLE_USERNAME, event, events_dir, hasher, request,
    sample_refresh, sample_session, sample_verifier, test_env,
};

/// What each sample shows: an HTTP status, or an authorizer decision.
enum Expect {
    Status(u16),
    Authorized(bool),
}

fn expected(file: &str) -> Expect {
    match file {
        "register.json" | "register-base64.json" => Expect::Status(201),
        "login.json" => Expect::Status(200),
        "me.json" | "hello.json" => Expect::Status(200),
        // With an EdDSA key pair (HS256 has no public keys: 404).
        "well-known-jwks.json" => Expect::Status(200),
        "logout.json" => Expect::Status(204),
        "refresh.json" | "refresh-cookie.json" => Expect::Status(200),
        "sessions.json" => Expect::Status(200),
        "session-delete.json" => Expect::Status(204),
        "logout-all.json" => Expect::Status(204),
        "change-password.json" | "delete-account.json" => Expect::Status(204),
        "admin-disable.json" => Expect::Status(204),
        "admin-sessions.json" => Expect::Status(200),
        "account-page.json" => Expect::Status(200),
        // With a TOTP enrolment (or TOTP on) seeded, and a current code put into the body.
        "mfa-enrol.json" | "mfa-confirm.json" | "login-mfa.json" => Expect::Status(200),
        "mfa-disable.json" => Expect::Status(204),
        "authorizer-valid.json" => Expect::Authorized(true),
        "authorizer-missing-token.json" | "authorizer-garbage-token.json" => {
            Expect::Authorized(false)
        }
        other => panic!("events/{other} is not covered: add it to this test"),
    }
}

async fn seeded() -> (MemoryUsers, MemorySessions) {
    let users = MemoryUsers::new();
    let sessions = MemorySessions::new();
    users
        .create_user(&UserRecord {
            user_id: UserId::parse(SAMPLE_USER_ID).unwrap(),
            username: Username::parse(SAMPLE_USERNAME).unwrap(),
            password_hash: hasher()
                .hash(&Password::parse_new("sample-user password".into()).unwrap())
                .unwrap(),
            created_at: 1_764_374_400,
        })
        .await
        .unwrap();
    sessions
        .start_session(&sample_session(), &sample_refresh())
        .await
        .unwrap();
    (users, sessions)
}

/// The sample secret of the two-factor events.
const SAMPLE_TOTP: &[u8] = b"sample totp secret!!";

/// For the two-factor samples: the sample user's TOTP state as the route needs it (pending for
/// the confirmation, on for the rest), and the event's `code` replaced by a current one (the
/// next step's: the confirmation used this one).
async fn with_totp(
    e: &serde_json::Value,
    sessions: &MemorySessions,
    route: &str,
) -> serde_json::Value {
    use auth::store::SecondFactor as _;
    let secret = auth::mfa::TotpSecret::from_bytes(SAMPLE_TOTP.to_vec());
    let owner = UserId::parse(SAMPLE_USER_ID).unwrap();
    let sealed = auth_testing::mfa_keys().seal(&owner, &secret);
    let now = auth::clock::now();
    if route == "POST /mfa/totp" {
        return e.clone();
    }
    assert!(
        sessions
            .begin_totp(&owner, &sealed, now + 600)
            .await
            .unwrap()
    );
    let step = auth::mfa::totp::step_of(now);
    if route != "POST /mfa/totp/confirm" {
        assert!(
            sessions
                .confirm_totp(&owner, &sealed, step - 1, "", now)
                .await
                .unwrap()
        );
    }
    let mut body: serde_json::Value = serde_json::from_str(e["body"].as_str().unwrap()).unwrap();
    body["code"] = secret.code_at_step(step).to_string().into();
    auth_testing::with_body(e.clone(), &body.to_string())
}

#[tokio::test]
async fn every_sample_event_gets_its_answer() {
    let mut env = test_env();
    env.insert("JWT_SECRET".into(), SAMPLE_EVENTS_SECRET.into());
    let config = auth::Config::from_lookup(&|k| env.get(k).cloned()).unwrap();
    let signer = config.signer.load_sdk(None).await.unwrap();

    let mut files: Vec<String> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert!(files.len() >= 12, "{files:?}");

    for file in files {
        let (users, sessions) = seeded().await;
        let e = event(&file);
        match expected(&file) {
            Expect::Authorized(want) => {
                let req: authorizer::AuthorizerRequest = serde_json::from_value(e).unwrap();
                let handler = authorizer::Handler::new(sessions, sample_verifier());
                let response = handler.handle(req).await;
                assert_eq!(response.is_authorized, want, "{file}");
            }
            Expect::Status(want) => {
                let route = e["routeKey"].as_str().unwrap().to_owned();
                let req = request(&e);
                let response = match route.as_str() {
                    "POST /register" => register::Handler::new(users, hasher()).handle(req).await,
                    "POST /login" => {
                        let creds: serde_json::Value =
                            serde_json::from_str(e["body"].as_str().unwrap()).unwrap();
                        users
                            .create_user(&UserRecord {
                                user_id: UserId::generate(),
                                username: Username::parse(creds["username"].as_str().unwrap())
                                    .unwrap(),
                                password_hash: hasher()
                                    .hash(
                                        &Password::parse_new(
                                            creds["password"].as_str().unwrap().into(),
                                        )
                                        .unwrap(),
                                    )
                                    .unwrap(),
                                created_at: 1_764_374_400,
                            })
                            .await
                            .unwrap();
                        login::Handler::new(
                            users,
                            sessions,
                            MemoryAttempts::new(),
                            hasher(),
                            signer.clone(),
                            config.refresh_ttl_seconds,
                        )
                        .handle(req)
                        .await
                    }
                    "GET /me" => user_info::Handler::new(users).handle(req).await,
                    "GET /hello" => hello::Handler.handle(req).await,
                    "GET /.well-known/jwks.json" => {
                        let (_, public) = auth::testing_keys::ed25519_pem_pair();
                        let keys = auth::token::Ed25519PublicKey::all_from_pem(&public).unwrap();
                        jwks::Handler::new(Some(keys), "jwt-session-service".into())
                            .handle(req)
                            .await
                    }
                    "POST /logout" => logout::Handler::new(sessions).handle(req).await,
                    "POST /refresh" => {
                        refresh::Handler::new(
                            sessions,
                            signer.clone(),
                            config.refresh_ttl_seconds,
                            config.reuse_grace_seconds,
                        )
                        .handle(req)
                        .await
                    }
                    "GET /sessions" | "DELETE /sessions/{id}" => {
                        sessions::Handler::new(sessions).handle(req).await
                    }
                    "POST /logout-all" => logout_all::Handler::new(sessions).handle(req).await,
                    "POST /admin/users/{username}/disable"
                    | "GET /admin/users/{username}/sessions" => {
                        admin::Handler::new(users, sessions).handle(req).await
                    }
                    "POST /password" => {
                        let accounts = users.accounts(&sessions);
                        change_password::Handler::new(
                            users,
                            sessions,
                            MemoryAttempts::new(),
                            accounts,
                            hasher(),
                        )
                        .handle(req)
                        .await
                    }
                    "DELETE /me" => {
                        let accounts = users.accounts(&sessions);
                        delete_account::Handler::new(
                            users,
                            sessions,
                            MemoryAttempts::new(),
                            accounts,
                            hasher(),
                        )
                        .handle(req)
                        .await
                    }
                    "POST /mfa/totp" | "POST /mfa/totp/confirm" | "DELETE /mfa/totp" => {
                        let req = request(&with_totp(&e, &sessions, &route).await);
                        mfa::Handler::new(
                            users,
                            sessions,
                            MemoryAttempts::new(),
                            hasher(),
                            auth_testing::mfa_keys(),
                            "Sample".into(),
                        )
                        .handle(req)
                        .await
                    }
                    "POST /login/mfa" => {
                        let handler = login::Handler::new(
                            users,
                            sessions.clone(),
                            MemoryAttempts::new(),
                            hasher(),
                            signer.clone(),
                            config.refresh_ttl_seconds,
                        )
                        .with_mfa(login::Mfa::new(
                            auth_testing::mfa_keys(),
                            config.signer.issuer(),
                            config.signer.audience(),
                        ));
                        let e = with_totp(&e, &sessions, &route).await;
                        let mut body: serde_json::Value =
                            serde_json::from_str(e["body"].as_str().unwrap()).unwrap();
                        let password_step = auth_testing::with_body(
                            event("login.json"),
                            &serde_json::json!({"username": SAMPLE_USERNAME, "password": "sample-user password"}).to_string(),
                        );
                        let first = handler.handle(request(&password_step)).await;
                        let first: serde_json::Value =
                            serde_json::from_slice(first.body().as_ref()).unwrap();
                        body["mfa_token"] = first["mfa_token"].clone();
                        handler
                            .handle(request(&auth_testing::with_body(e, &body.to_string())))
                            .await
                    }
                    "GET /" => account_page::Handler.handle(req).await,
                    other => panic!("{file}: unknown route {other}"),
                };
                let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
                assert_eq!(response.status().as_u16(), want, "{file}: {body}");
            }
        }
    }
}
