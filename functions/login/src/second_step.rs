//! `POST /login/mfa`: the second step of a sign-in with two-factor sign-in on.
//!
//! Body `{"mfa_token", "code"}` (the authenticator's 6 digits) or `{"mfa_token",
//! "recovery_code"}`. On success, the same answer as `POST /login` (tokens, or with
//! `Token-Delivery: cookie` the refresh token as a cookie), and the session is marked as opened
//! with a second factor (`GET /sessions` shows `"mfa": true`).
//!
//! In order:
//! 1. The challenge must be ours and unexpired (else 401 `invalid_mfa_token`, nothing counted:
//!    without a valid challenge there is no account to count against).
//! 2. The account must still be the one the challenge names, with the password it verified
//!    (else 401 `invalid_mfa_token`, nothing counted).
//! 3. The attempt is counted on the username's failed-login counter before the code is looked
//!    at: codes share the password's limit and lock (429 + `Retry-After`). The marker must
//!    admit the account (not disabled, not deleted), have TOTP on, and hold this challenge as
//!    the outstanding one (else 401 `invalid_mfa_token`: used, replaced by a newer password
//!    step, ended by a log-out-everywhere or a disable, or the factor was turned off).
//! 4. The code must match a step within ±1 of now and after the last accepted one, or the
//!    recovery code must be among the unused ones (else 401 `invalid_code`; the attempt stays
//!    counted and the challenge stays usable until it expires).
//! 5. One conditional write removes the challenge and records the step (or the recovery codes
//!    without the one used), on the condition that neither changed since step 3: of two
//!    requests with one code, one challenge or one recovery code, one wins; the other gets
//!    `invalid_mfa_token` if the challenge is gone, else `invalid_code`.
//! 6. The counter is forgiven and the session starts with the generation read in step 3 (so a
//!    log-out-everywhere racing it ends it, as for a login).

use auth::store::account::credential_stamp;
use auth::store::{FindUser, LoginAttempts, Proof, SecondFactor, StartSession};
use auth::{AuthError, clock};
use auth_edge::api::{self, parse_json};
use auth_edge::delivery::{self, Delivery};
use auth_edge::runner::Answer;
use lambda_http::Request;
use serde::Deserialize;

use crate::{Handler, Started};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecondStepRequest {
    mfa_token: String,
    code: Option<String>,
    recovery_code: Option<String>,
}

/// What the request offers as the second factor.
enum Offered {
    Code(String),
    Recovery(String),
}

impl SecondStepRequest {
    fn offered(self) -> Result<(String, Offered), AuthError> {
        match (self.code, self.recovery_code) {
            (Some(code), None) => Ok((self.mfa_token, Offered::Code(code))),
            (None, Some(code)) => Ok((self.mfa_token, Offered::Recovery(code))),
            _ => Err(AuthError::InvalidRequest(
                "send exactly one of code and recovery_code".into(),
            )),
        }
    }
}

impl<U, S, A> Handler<U, S, A>
where
    U: FindUser + Sync,
    S: StartSession + SecondFactor + Sync,
    A: LoginAttempts + Sync,
{
    /// `POST /login/mfa`, as the [module docs](self) describe it.
    pub(crate) async fn second_step(&self, req: Request) -> Result<Answer, AuthError> {
        let delivery = Delivery::of(&req)?;
        if delivery == Delivery::Cookie {
            delivery::check_origin(&req, &self.allowed_origins)?;
        }
        let (token, offered) = parse_json::<SecondStepRequest>(&req)?.offered()?;
        let (user_agent, source_ip) = api::client_of(&req);
        let now = clock::now();
        let mfa = self.mfa()?;
        let challenge = mfa
            .challenges
            .verify(&token, now)
            .ok_or(AuthError::InvalidMfaToken)?;
        tracing::Span::current().record("user_id", challenge.user_id.as_str());

        let user = self
            .users
            .find_user(&challenge.username)
            .await?
            .filter(|u| {
                u.user_id == challenge.user_id
                    && credential_stamp(&u.password_hash) == challenge.credential
            })
            .ok_or(AuthError::InvalidMfaToken)?;
        let checked = self.credentials().count_second_factor(user, now).await?;
        let marker = self.sessions.marker(&challenge.user_id).await?;
        let outstanding = marker.totp.challenge.as_deref() == Some(challenge.id.as_str());
        let secret = match &marker.totp.secret {
            Some(secret) if outstanding && marker.admits(&checked.user.password_hash) => secret,
            _ => return Err(AuthError::InvalidMfaToken),
        };

        let proof = match offered {
            Offered::Code(code) => {
                let totp = mfa.keys.open(&challenge.user_id, secret).ok_or_else(|| {
                    AuthError::internal("the TOTP secret does not open with MFA_KEY")
                })?;
                let step = totp
                    .verify(&code, now, marker.totp.last_step)
                    .ok_or(AuthError::InvalidCode)?;
                Proof::Code {
                    secret: secret.clone(),
                    step,
                }
            }
            Offered::Recovery(code) => {
                let rest = auth::mfa::recovery::hash(&code)
                    .and_then(|hash| marker.totp.recovery_without(&hash))
                    .ok_or(AuthError::InvalidCode)?;
                Proof::Recovery {
                    seen: marker.totp.recovery.clone(),
                    rest,
                }
            }
        };
        if !self
            .sessions
            .pass_challenge(&challenge.user_id, &challenge.id, &proof)
            .await?
        {
            // A concurrent request used the challenge or the proof first: which one decides
            // the answer (read again only in this rare case).
            let now_held = self
                .sessions
                .marker(&challenge.user_id)
                .await?
                .totp
                .challenge;
            return Err(if now_held.as_deref() == Some(challenge.id.as_str()) {
                AuthError::InvalidCode
            } else {
                AuthError::InvalidMfaToken
            });
        }
        if matches!(proof, Proof::Recovery { .. }) {
            tracing::info!(
                left = marker.totp.recovery_hashes().count() - 1,
                "recovery code used"
            );
        }
        self.credentials().forgive(&checked).await;
        let started = Started {
            user: checked.user,
            marker,
            mfa: true,
        };
        self.tokens(started, delivery, now, user_agent, source_ip)
            .await
    }
}
