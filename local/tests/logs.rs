//! Logs and metrics, captured while whole flows run through the gateway on DynamoDB at TRACE
//! level in JSON: passwords, tokens, `Authorization` headers and the signing key never reach the
//! logs; every request logs its route, request id and outcome; the EMF metrics are written.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use auth_testing::logs::Capture;
use auth_testing::{TEST_SECRET, unique_username};
use lambda_http::http;
use serde_json::{Value, json};
use tracing::level_filters::LevelFilter;

async fn send(
    gateway: &local_api::gateway::Gateway,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<String>,
) -> (u16, Value) {
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:3000");
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(body.unwrap_or_default().into_bytes()).unwrap();
    let peer: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    let resp = gateway.handle(req, peer).await;
    let json = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    (resp.status().as_u16(), json)
}

/// A browser's request: `headers` besides the host; (status, the refresh cookie set, if any).
async fn browser(
    gateway: &local_api::gateway::Gateway,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (u16, Option<String>) {
    let mut req = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("host", "127.0.0.1:3000");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(body.unwrap_or_default().into_bytes()).unwrap();
    let resp = gateway
        .handle(req, "127.0.0.1:50001".parse().unwrap())
        .await;
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("__Secure-refresh_token="))
        .and_then(|v| v.split(';').next())
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    (resp.status().as_u16(), cookie)
}

#[tokio::test]
async fn secrets_never_reach_the_logs_and_metrics_are_written() {
    let logs = Capture::default();
    auth_telemetry::init_with(true, LevelFilter::TRACE, logs.clone());
    let metrics = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = metrics.clone();
    auth_telemetry::metrics::set_sink(Some(Arc::new(move |line: &str| {
        sink.lock().unwrap().push(line.to_owned())
    })));

    let gateway = common::dynamo_gateway().await;
    let name = unique_username("logs");
    let password = "Sup3r-Secret-Passw0rd!";
    let wrong = "Wr0ng-Secret-Passw0rd?";
    let creds = json!({"username": name, "password": password}).to_string();

    assert_eq!(
        send(&gateway, "POST", "/register", None, Some(creds.clone()))
            .await
            .0,
        201
    );
    let bad = json!({"username": name, "password": wrong}).to_string();
    assert_eq!(
        send(&gateway, "POST", "/login", None, Some(bad)).await.0,
        401
    );
    let malformed = format!("{{\"username\":\"{name}\",\"password\":\"{password}\"");
    assert_eq!(
        send(&gateway, "POST", "/login", None, Some(malformed))
            .await
            .0,
        400
    );
    let (status, login) = send(&gateway, "POST", "/login", None, Some(creds.clone())).await;
    assert_eq!(status, 200);
    let token = login["access_token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    let first_refresh = login["refresh_token"].as_str().unwrap().to_owned();
    let body = json!({ "refresh_token": first_refresh }).to_string();
    let (status, refreshed) = send(&gateway, "POST", "/refresh", None, Some(body)).await;
    assert_eq!(status, 200, "{refreshed}");
    let second_refresh = refreshed["refresh_token"].as_str().unwrap().to_owned();
    let refreshed_token = refreshed["access_token"].as_str().unwrap().to_owned();
    let unknown = json!({ "refresh_token": auth::RefreshToken::generate().expose_secret() });
    let unknown_refresh = unknown["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        send(
            &gateway,
            "POST",
            "/refresh",
            None,
            Some(unknown.to_string())
        )
        .await
        .0,
        401
    );
    assert_eq!(
        send(&gateway, "GET", "/sessions", Some(&bearer), None)
            .await
            .0,
        200
    );
    assert_eq!(
        send(&gateway, "GET", "/me", Some(&bearer), None).await.0,
        200
    );
    assert_eq!(
        send(&gateway, "POST", "/logout", Some(&bearer), None)
            .await
            .0,
        204
    );
    assert_eq!(
        send(&gateway, "GET", "/me", Some(&bearer), None).await.0,
        403
    );
    let refreshed_bearer = format!("Bearer {refreshed_token}");
    assert_eq!(
        send(
            &gateway,
            "POST",
            "/logout-all",
            Some(&refreshed_bearer),
            None
        )
        .await
        .0,
        403,
        "logout ended the session of both tokens"
    );
    let (_, again) = send(&gateway, "POST", "/login", None, Some(creds.clone())).await;
    let again = format!("Bearer {}", again["access_token"].as_str().unwrap());
    assert_eq!(
        send(&gateway, "POST", "/logout-all", Some(&again), None)
            .await
            .0,
        204
    );
    let tampered = format!("Bearer {token}x");
    assert_eq!(
        send(&gateway, "GET", "/me", Some(&tampered), None).await.0,
        403
    );
    assert_eq!(
        send(&gateway, "GET", "/me", Some("Basic dXNlcjpzZWNyZXQ="), None)
            .await
            .0,
        403
    );

    // A browser: the refresh token in the cookie, refreshed, refused cross-site, reused.
    let cookie_mode = [("token-delivery", "cookie")];
    let (status, first_cookie) =
        browser(&gateway, "/login", &cookie_mode, Some(creds.clone())).await;
    assert_eq!(status, 200);
    let first_cookie = first_cookie.expect("a refresh cookie");
    let sent = format!("__Secure-refresh_token={first_cookie}");
    let (status, second_cookie) = browser(
        &gateway,
        "/refresh",
        &[cookie_mode[0], ("cookie", &sent)],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let second_cookie = second_cookie.expect("a new refresh cookie");
    let forged = format!("__Secure-refresh_token={second_cookie}");
    assert_eq!(
        browser(&gateway, "/refresh", &[("cookie", &forged)], None)
            .await
            .0,
        403
    );
    let two = format!("{forged}; {forged}");
    assert_eq!(
        browser(
            &gateway,
            "/refresh",
            &[cookie_mode[0], ("cookie", &two)],
            None
        )
        .await
        .0,
        400
    );

    // Two-factor sign-in: enrol, confirm, a sign-in with a wrong code then a right one, one
    // with a recovery code, and off again.
    let (_, mfa_login) = send(&gateway, "POST", "/login", None, Some(creds.clone())).await;
    let mfa_bearer = format!("Bearer {}", mfa_login["access_token"].as_str().unwrap());
    let (status, enrolment) = send(&gateway, "POST", "/mfa/totp", Some(&mfa_bearer), None).await;
    assert_eq!(status, 200, "{enrolment}");
    let totp_base32 = enrolment["secret"].as_str().unwrap().to_owned();
    let totp = auth::mfa::TotpSecret::from_base32(&totp_base32).unwrap();
    let step = auth::mfa::totp::step_of(auth::clock::now());
    let code_at = |offset: i64| totp.code_at_step(step + offset).to_string();
    let confirm = json!({ "code": code_at(0) }).to_string();
    let (status, confirmed) = send(
        &gateway,
        "POST",
        "/mfa/totp/confirm",
        Some(&mfa_bearer),
        Some(confirm),
    )
    .await;
    assert_eq!(status, 200, "{confirmed}");
    let recovery: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let mut challenges = Vec::new();
    for proof in [
        json!({"code": code_at(1)}),
        json!({"recovery_code": recovery[0]}),
    ] {
        let (status, first) = send(&gateway, "POST", "/login", None, Some(creds.clone())).await;
        assert_eq!((status, &first["mfa_required"]), (200, &json!(true)));
        let challenge = first["mfa_token"].as_str().unwrap().to_owned();
        let wrong_code = if code_at(-1) == "000000" {
            "111111"
        } else {
            "000000"
        };
        let mut body = json!({"mfa_token": challenge, "code": wrong_code});
        assert_eq!(
            send(&gateway, "POST", "/login/mfa", None, Some(body.to_string()))
                .await
                .0,
            401
        );
        body = proof;
        body["mfa_token"] = json!(challenge);
        let (status, done) =
            send(&gateway, "POST", "/login/mfa", None, Some(body.to_string())).await;
        assert_eq!(status, 200, "{done}");
        challenges.push(challenge);
    }
    let off = json!({"password": password, "code": recovery[1]}).to_string();
    assert_eq!(
        send(
            &gateway,
            "DELETE",
            "/mfa/totp",
            Some(&mfa_bearer),
            Some(off)
        )
        .await
        .0,
        204
    );

    // The account changes: wrong and right passwords, and a malformed body holding them.
    let new_password = "N3w-Secret-Passw0rd#";
    let (_, fresh) = send(&gateway, "POST", "/login", None, Some(creds.clone())).await;
    let fresh = format!("Bearer {}", fresh["access_token"].as_str().unwrap());
    let change = |current: &str| {
        json!({"current_password": current, "new_password": new_password}).to_string()
    };
    for (body, want) in [
        (change(wrong), 401),
        (format!("{{\"current_password\":\"{password}\""), 400),
        (change(password), 204),
    ] {
        assert_eq!(
            send(&gateway, "POST", "/password", Some(&fresh), Some(body))
                .await
                .0,
            want
        );
    }
    for (given, want) in [(password, 401), (new_password, 204)] {
        let body = json!({ "password": given }).to_string();
        assert_eq!(
            send(&gateway, "DELETE", "/me", Some(&fresh), Some(body))
                .await
                .0,
            want
        );
    }

    let text = logs.text();
    let parts: Vec<&str> = token.split('.').collect();
    for secret in [
        password,
        wrong,
        new_password,
        "$argon2",
        &fresh,
        &token,
        parts[1],
        parts[2],
        &refreshed_token,
        &first_refresh,
        &second_refresh,
        &unknown_refresh,
        &first_cookie,
        &second_cookie,
        TEST_SECRET,
        auth_testing::TEST_MFA_KEY,
        &totp_base32,
        &totp_base32.to_lowercase(),
        &challenges[0],
        &challenges[1],
        &recovery[0],
        &recovery[1],
        &recovery[0].replace('-', "").to_uppercase(),
        "v1.",
        "dXNlcjpzZWNyZXQ=",
        "Bearer",
    ] {
        assert!(
            !text.contains(secret),
            "the logs contain {secret:?}:\n{text}"
        );
    }
    assert!(!text.to_lowercase().contains("authorization"), "{text}");

    // Every line is JSON; requests log their route, request id and outcome.
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let outcome = |o: &str| {
        lines
            .iter()
            .find(|l| l["outcome"] == o)
            .unwrap_or_else(|| panic!("no {o} line in {text}"))
    };
    let login_line = outcome("success");
    assert_eq!(login_line["span"]["route"], "POST /login");
    assert!(
        login_line["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 16)
    );
    assert!(
        login_line["span"]["user_id"]
            .as_str()
            .is_some_and(|id| id.len() == 32)
    );
    assert_eq!(
        outcome("invalid_credentials")["span"]["route"],
        "POST /login"
    );
    assert_eq!(outcome("deny")["reason"], "no_session");
    assert_eq!(outcome("logged_out")["span"]["route"], "POST /logout");
    // One vocabulary: refresh logs what its metric counts.
    assert_eq!(outcome("rotated")["span"]["route"], "POST /refresh");
    // Exactly one outcome line per request and per span that handled it (the authorizer's
    // `authorize`, the function's `request`), every route included.
    let mut outcomes = std::collections::BTreeMap::<(String, String), usize>::new();
    let mut routes = std::collections::BTreeSet::new();
    for line in &lines {
        let span = &line["span"];
        let (Some(name), Some(id)) = (span["name"].as_str(), span["request_id"].as_str()) else {
            continue;
        };
        let count = outcomes
            .entry((name.to_owned(), id.to_owned()))
            .or_default();
        if line.get("outcome").is_some() {
            *count += 1;
            if name == "request" {
                routes.insert(span["route"].as_str().unwrap_or("-").to_owned());
            }
        }
    }
    for ((span, id), count) in &outcomes {
        assert_eq!(*count, 1, "{span} {id}: {count} outcome lines in {text}");
    }
    for route in [
        "POST /register",
        "POST /login",
        "POST /refresh",
        "GET /sessions",
        "GET /me",
        "POST /logout",
        "POST /logout-all",
        "POST /password",
        "DELETE /me",
        "POST /mfa/totp",
        "POST /mfa/totp/confirm",
        "POST /login/mfa",
        "DELETE /mfa/totp",
    ] {
        assert!(routes.contains(route), "no outcome line for {route}");
    }

    let metrics: Vec<Value> = metrics
        .lock()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let has = |name: &str, dim: &str, value: &str| {
        metrics
            .iter()
            .any(|m| m.get(name).is_some() && m[dim] == value)
    };
    assert!(has("Registrations", "Outcome", "created"));
    assert!(has("Logins", "Outcome", "success"));
    assert!(has("Logins", "Outcome", "invalid_credentials"));
    assert!(has("Logins", "Outcome", "invalid_request"));
    assert!(has("Logins", "Outcome", "mfa_required"));
    assert!(has("MfaLogins", "Outcome", "success"));
    assert!(has("MfaLogins", "Outcome", "invalid_code"));
    assert!(has("MfaChanges", "Outcome", "enabled"));
    assert!(has("MfaChanges", "Outcome", "disabled"));
    assert!(has("Logouts", "Outcome", "logged_out"));
    assert!(has("Authorizations", "Decision", "allow"));
    assert!(has("Authorizations", "Reason", "no_session"));
    assert!(has("Authorizations", "Reason", "token_bad_signature"));
    assert!(has("Authorizations", "Reason", "bad_scheme"));
    assert!(has("DynamoDbLatency", "Operation", "GetItem"));
    assert!(has("DynamoDbLatency", "Operation", "PutItem"));
    assert!(has("DynamoDbLatency", "Operation", "DeleteItem"));
    for m in &metrics {
        assert_eq!(
            m["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "JwtSessionService"
        );
    }
}
