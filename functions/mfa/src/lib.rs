//! Two-factor sign-in management for the caller (access token, behind the authorizer): one
//! function for three routes that share everything but a few lines (each Lambda adds to
//! `sam build`).
//!
//! - `POST /mfa/totp` starts an enrolment: a new secret, sealed with the MFA key and kept on
//!   the caller's marker as pending for [`ENROL_SECONDS`]. 200 `{"secret", "otpauth_uri",
//!   "qr_image", "expires_in"}`: the base32 secret (SHA-1, 6 digits, 30 s), the `otpauth://`
//!   URI that authenticator apps read, and that URI as a QR code (an SVG `data:` URI, ready for
//!   an `<img>`; drawn by the `qrcode` crate). A second call replaces an unconfirmed enrolment.
//!   409 `mfa_state` if two-factor sign-in is already on. The body is ignored.
//! - `POST /mfa/totp/confirm` with `{"code"}` turns it on, once a code of the pending secret
//!   is right (401 `invalid_code` if not; 409 `mfa_state` if there is no pending enrolment or
//!   it expired). 200 `{"recovery_codes": [...]}`: ten one-time codes, shown this once and
//!   stored only as hashes (`auth::mfa::recovery`). The confirming code's step counts as used.
//! - `DELETE /mfa/totp` with `{"password", "code"}` turns it off. The password is checked as
//!   login checks it, on the same counter; the attempt is forgiven only when the code is right
//!   too, so the code cannot be guessed more often than a password (429 + `Retry-After` once
//!   locked). `code` is a current TOTP code, or an unused recovery code (for a lost
//!   authenticator), used once: a sign-in using the same code at the same moment and this
//!   request do not both succeed (401 `invalid_code` for the loser). 204. Turning it off
//!   removes the secret, the recovery codes and any outstanding sign-in challenge; the sessions
//!   stay.
//!
//! Each change is one conditional write on the marker (`auth::store::SecondFactor`), on the
//! state just read: concurrent requests cannot both win. A store failure is a 503 and changes
//! nothing that opens access (a pending enrolment opens nothing).

use auth::config::{AccountConfig, ConfigError, Lookup, MfaConfig};
use auth::credentials::Credentials;
use auth::keys::KeyLoadError;
use auth::mfa::{MfaKeys, TotpSecret, recovery};
use auth::password::PasswordHasher;
use auth::store::{FindUser, LoginAttempts, Marker, Proof, SecondFactor};
use auth::{AuthError, UserId, clock};
use auth_edge::api::{self, parse_json};
use auth_edge::caller;
use auth_edge::runner::{Answer, Function};
use auth_sdk::SdkClients as _;
use auth_sdk::SdkKeys as _;
use auth_sdk::store::{DynamoAttempts, DynamoSessions, DynamoUsers};
use lambda_http::Request;
use lambda_http::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

/// How long an enrolment may be confirmed after it started, in seconds.
pub const ENROL_SECONDS: i64 = 10 * 60;

/// What mfa reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The tables, Argon2 cost and DynamoDB settings.
    pub account: AccountConfig,
    /// `MFA_KEY` or `MFA_KEY_ARN`.
    pub mfa: MfaConfig,
    /// `TOTP_ISSUER`.
    pub totp_issuer: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&auth::config::process_env)
    }

    /// Reads `env`.
    pub fn from_lookup(env: Lookup<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            account: AccountConfig::from_lookup(env)?,
            mfa: MfaConfig::from_lookup(env)?,
            totp_issuer: auth::config::totp_issuer(env)?,
        })
    }
}

/// The 200 body of `POST /mfa/totp`. No `Debug`: it holds the secret.
#[derive(Serialize, Deserialize)]
pub struct Enrolment {
    /// The secret, base32 without padding.
    pub secret: String,
    /// The `otpauth://totp/…` URI.
    pub otpauth_uri: String,
    /// The URI as a QR code: `data:image/svg+xml;base64,…`.
    pub qr_image: String,
    /// Seconds left to confirm it.
    pub expires_in: i64,
}

/// The 200 body of `POST /mfa/totp/confirm`. No `Debug`: it holds the codes.
#[derive(Serialize, Deserialize)]
pub struct RecoveryCodes {
    /// Ten one-time codes.
    pub recovery_codes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmRequest {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisableRequest {
    password: String,
    code: String,
}

/// The handler over the users store (the password check), the sessions store (the marker) and
/// the failed-login counters.
#[derive(Debug, Clone)]
pub struct Handler<U, S, A> {
    users: U,
    sessions: S,
    attempts: A,
    hasher: PasswordHasher,
    keys: MfaKeys,
    issuer: String,
}

impl Handler<DynamoUsers, DynamoSessions, DynamoAttempts> {
    /// The handler on DynamoDB, as the Lambda runs it: the client and the MFA key, once per
    /// cold start (the key's read overlaps nothing else worth waiting for).
    pub async fn from_config(config: &Config) -> Result<Self, KeyLoadError> {
        let sdk = config.account.store.sdk_config().await;
        let client = config.account.store.dynamo_client(&sdk);
        let keys = config.mfa.load_sdk(Some(&sdk)).await?;
        Ok(Self::new(
            DynamoUsers::new(client.clone(), &config.account.users_table),
            DynamoSessions::new(client.clone(), &config.account.sessions_table),
            DynamoAttempts::new(client, &config.account.attempts_table),
            config.account.password.hasher(),
            keys,
            config.totp_issuer.clone(),
        ))
    }
}

impl<U, S, A> Handler<U, S, A> {
    /// A handler over the given stores, sealing secrets with `keys` and naming `issuer` in the
    /// `otpauth://` URI.
    pub fn new(
        users: U,
        sessions: S,
        attempts: A,
        hasher: PasswordHasher,
        keys: MfaKeys,
        issuer: String,
    ) -> Self {
        Self {
            users,
            sessions,
            attempts,
            hasher,
            keys,
            issuer,
        }
    }
}

/// The three routes.
enum Route {
    Enrol,
    Confirm,
    Disable,
}

impl Route {
    fn of(req: &Request) -> Option<Self> {
        let path = req.uri().path();
        match *req.method() {
            Method::POST if path.ends_with("/mfa/totp/confirm") => Some(Self::Confirm),
            Method::POST if path.ends_with("/mfa/totp") => Some(Self::Enrol),
            Method::DELETE if path.ends_with("/mfa/totp") => Some(Self::Disable),
            _ => None,
        }
    }
}

impl<U, S, A> Function for Handler<U, S, A>
where
    U: FindUser + Sync,
    S: SecondFactor + Sync,
    A: LoginAttempts + Sync,
{
    fn metric(&self, _req: &Request) -> Option<&'static str> {
        Some("MfaChanges")
    }

    async fn call(&self, req: Request) -> Result<Answer, AuthError> {
        let caller = caller(&req)?;
        tracing::Span::current().record("user_id", caller.user_id.as_str());
        let route = Route::of(&req)
            .ok_or_else(|| AuthError::InvalidRequest("no such two-factor route".into()))?;
        let marker = self.sessions.marker(&caller.user_id).await?;
        if marker.deleted {
            return Err(AuthError::Unauthorized("the account no longer exists"));
        }
        let now = clock::now();
        match route {
            Route::Enrol => self.enrol(&caller, &marker, now).await,
            Route::Confirm => {
                let body: ConfirmRequest = parse_json(&req)?;
                self.confirm(&caller.user_id, &marker, &body.code, now)
                    .await
            }
            Route::Disable => {
                let body: DisableRequest = parse_json(&req)?;
                self.disable(&caller, marker, body, now).await
            }
        }
    }
}

impl<U, S, A> Handler<U, S, A>
where
    U: FindUser + Sync,
    S: SecondFactor + Sync,
    A: LoginAttempts + Sync,
{
    async fn enrol(
        &self,
        caller: &auth_edge::context::Caller,
        marker: &Marker,
        now: i64,
    ) -> Result<Answer, AuthError> {
        if marker.totp.is_on() {
            return Err(already_on());
        }
        let secret = TotpSecret::generate();
        let sealed = self.keys.seal(&caller.user_id, &secret);
        if !self
            .sessions
            .begin_totp(&caller.user_id, &sealed, now + ENROL_SECONDS)
            .await?
        {
            return Err(already_on());
        }
        let uri = secret.otpauth_uri(&self.issuer, caller.username.as_str());
        let body = Enrolment {
            secret: secret.base32().to_string(),
            qr_image: qr_image(&uri)?,
            otpauth_uri: uri.to_string(),
            expires_in: ENROL_SECONDS,
        };
        Ok((
            api::json_response(StatusCode::OK, &body),
            "enrolment_started",
        ))
    }

    async fn confirm(
        &self,
        owner: &UserId,
        marker: &Marker,
        code: &str,
        now: i64,
    ) -> Result<Answer, AuthError> {
        if marker.totp.is_on() {
            return Err(already_on());
        }
        let Some((pending, _)) = marker
            .totp
            .pending
            .as_ref()
            .filter(|(_, until)| now < *until)
        else {
            return Err(AuthError::MfaState(
                "no enrolment to confirm (or it expired): start one with POST /mfa/totp",
            ));
        };
        let secret = self.keys.open(owner, pending).ok_or_else(|| {
            AuthError::internal("the pending TOTP secret does not open with MFA_KEY")
        })?;
        let step = secret
            .verify(code, now, None)
            .ok_or(AuthError::InvalidCode)?;
        let (codes, hashes) = recovery::generate();
        if !self
            .sessions
            .confirm_totp(owner, pending, step, &hashes.join(" "), now)
            .await?
        {
            return Err(AuthError::MfaState(
                "the enrolment changed meanwhile: start again with POST /mfa/totp",
            ));
        }
        tracing::info!("two-factor sign-in turned on");
        let body = RecoveryCodes {
            recovery_codes: codes,
        };
        Ok((api::json_response(StatusCode::OK, &body), "enabled"))
    }

    async fn disable(
        &self,
        caller: &auth_edge::context::Caller,
        marker: Marker,
        body: DisableRequest,
        now: i64,
    ) -> Result<Answer, AuthError> {
        let credentials = Credentials {
            users: &self.users,
            attempts: &self.attempts,
            hasher: &self.hasher,
        };
        let checked = credentials
            .check_counted(Some(&caller.username), body.password, now)
            .await?;
        if checked.user.user_id != caller.user_id {
            return Err(AuthError::Unauthorized("the account no longer exists"));
        }
        let Some(sealed) = marker.totp.secret.as_deref() else {
            credentials.forgive(&checked).await;
            return Err(AuthError::MfaState("two-factor sign-in is not on"));
        };
        let Some(proof) = self.proof(&caller.user_id, &marker, sealed, &body.code, now)? else {
            // The attempt stays counted: codes are limited as passwords are.
            return Err(AuthError::InvalidCode);
        };
        if !self.sessions.disable_totp(&caller.user_id, &proof).await? {
            // A sign-in used the code meanwhile, or the factor changed.
            return Err(AuthError::InvalidCode);
        }
        credentials.forgive(&checked).await;
        tracing::info!("two-factor sign-in turned off");
        Ok((api::empty_response(StatusCode::NO_CONTENT), "disabled"))
    }

    /// What `code` proves: a TOTP code of the secret `sealed` after the last step used, or an
    /// unused recovery code; `None` if neither. The write that turns the factor off is
    /// conditioned on it, so it is used once, as a sign-in uses it.
    fn proof(
        &self,
        owner: &UserId,
        marker: &Marker,
        sealed: &str,
        code: &str,
        now: i64,
    ) -> Result<Option<Proof>, AuthError> {
        if let Some(hash) = recovery::hash(code) {
            return Ok(marker
                .totp
                .recovery_without(&hash)
                .map(|rest| Proof::Recovery {
                    seen: marker.totp.recovery.clone(),
                    rest,
                }));
        }
        let secret = self
            .keys
            .open(owner, sealed)
            .ok_or_else(|| AuthError::internal("the TOTP secret does not open with MFA_KEY"))?;
        Ok(secret
            .verify(code, now, marker.totp.last_step)
            .map(|step| Proof::Code {
                secret: sealed.to_owned(),
                step,
            }))
    }
}

/// `uri` as a QR code: an SVG image in a `data:` URI. Error correction M (what authenticator
/// apps' own examples use); black on white with the standard quiet zone, 4 px a module at least.
fn qr_image(uri: &str) -> Result<String, AuthError> {
    use base64::Engine as _;
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AuthError::internal(format!("the otpauth URI does not fit a QR code: {e}")))?;
    let image = code
        .render::<svg::Color<'_>>()
        .module_dimensions(4, 4)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    let encoded = base64::engine::general_purpose::STANDARD.encode(image);
    Ok(format!("data:image/svg+xml;base64,{encoded}"))
}

fn already_on() -> AuthError {
    AuthError::MfaState("two-factor sign-in is already on; turn it off first")
}
