//! Wires the functions' handlers, as the Lambda binaries build them, to one set of stores.
//!
//! On DynamoDB the local server runs what the Lambdas run: the SDK stores for the functions
//! that use the SDK, and the direct client's reads for the authorizer and user-info
//! ([`gateway_with_readers`]), so every request path that runs in AWS runs under `cargo run`.

use std::collections::HashMap;
use std::sync::Arc;

use auth::Config;
use auth::keys::{KeyLoadError, NoSecrets};
use auth::store::{AccountsOver, FindUser, GetSession, LoginAttempts, SessionStore, UserStore};
use auth_edge::runner::{EventFunction, Function};

use crate::cors::Cors;
use crate::gateway::{AuthorizerFunction, Gateway, HttpFunction};

/// A gateway in front of every function, over `users`, `sessions` and `attempts` (the
/// authorizer and user-info read the same stores), configured by `config` (whose keys must be
/// inline: `JWT_SECRET`, or EdDSA keys, and `MFA_KEY`; its allowed origins are the gateway's CORS
/// configuration, as the template makes `CorsAllowedOrigins` both).
pub async fn gateway<U, S>(
    users: U,
    sessions: S,
    attempts: impl LoginAttempts + Clone + Send + Sync + 'static,
    config: &Config,
) -> Result<Gateway, KeyLoadError>
where
    U: UserStore + AccountsOver<S> + Clone + Send + Sync + 'static,
    U::Accounts: Clone + Send + Sync + 'static,
    S: SessionStore + Clone + Send + Sync + 'static,
{
    let readers = (users.clone(), sessions.clone());
    gateway_with_readers(users, sessions, attempts, readers, config).await
}

/// [`gateway`], with user-info reading accounts through `readers.0` and the authorizer reading
/// sessions through `readers.1`, as the deployed functions do with the direct client.
pub async fn gateway_with_readers<U, S, A, UR, SR>(
    users: U,
    sessions: S,
    attempts: A,
    readers: (UR, SR),
    config: &Config,
) -> Result<Gateway, KeyLoadError>
where
    U: UserStore + AccountsOver<S> + Clone + Send + Sync + 'static,
    U::Accounts: Clone + Send + Sync + 'static,
    S: SessionStore + Clone + Send + Sync + 'static,
    A: LoginAttempts + Clone + Send + Sync + 'static,
    UR: FindUser + Send + Sync + 'static,
    SR: GetSession + Send + Sync + 'static,
{
    let (user_reader, session_reader) = readers;
    let hasher = config.password.hasher();
    let signer = config.signer.signer_with(None::<&NoSecrets>).await?;
    let mfa_keys = config.mfa.keys_from(None::<&NoSecrets>).await?;
    let accounts = users.accounts(&sessions);
    let (user_admin, sessions_admin) = (users.clone(), sessions.clone());
    let mut functions: HashMap<&'static str, HttpFunction> = HashMap::new();
    functions.insert(
        "change-password",
        http(change_password::Handler::new(
            users.clone(),
            sessions.clone(),
            attempts.clone(),
            accounts.clone(),
            hasher.clone(),
        )),
    );
    functions.insert(
        "delete-account",
        http(delete_account::Handler::new(
            users.clone(),
            sessions.clone(),
            attempts.clone(),
            accounts,
            hasher.clone(),
        )),
    );
    functions.insert(
        "mfa",
        http(mfa::Handler::new(
            users.clone(),
            sessions.clone(),
            attempts.clone(),
            hasher.clone(),
            mfa_keys.clone(),
            config.totp_issuer.clone(),
        )),
    );
    functions.insert(
        "register",
        http(register::Handler::new(users.clone(), hasher.clone())),
    );
    functions.insert(
        "login",
        http(
            login::Handler::new(
                users,
                sessions.clone(),
                attempts,
                hasher,
                signer.clone(),
                config.refresh_ttl_seconds,
            )
            .with_allowed_origins(config.allowed_origins.clone())
            .with_mfa(login::Mfa::new(
                mfa_keys,
                config.signer.issuer(),
                config.signer.audience(),
            )),
        ),
    );
    functions.insert("user-info", http(user_info::Handler::new(user_reader)));
    functions.insert("logout", http(logout::Handler::new(sessions.clone())));
    functions.insert(
        "refresh",
        http(
            refresh::Handler::new(
                sessions.clone(),
                signer,
                config.refresh_ttl_seconds,
                config.reuse_grace_seconds,
            )
            .with_allowed_origins(config.allowed_origins.clone()),
        ),
    );
    functions.insert("sessions", http(sessions::Handler::new(sessions.clone())));
    functions.insert("logout-all", http(logout_all::Handler::new(sessions)));
    functions.insert("account-page", http(account_page::Handler));
    functions.insert("hello", http(hello::Handler));
    functions.insert(
        "jwks",
        http(jwks::Handler::new(
            config.verifier.key.public_keys().map(<[_]>::to_vec),
            config.signer.issuer().to_owned(),
        )),
    );
    functions.insert(
        "admin",
        http(admin::Handler::new(user_admin, sessions_admin)),
    );
    let authorizer = authorizer::Handler::new(
        session_reader,
        config.verifier.verifier_from(None::<&NoSecrets>).await?,
    );
    Ok(Gateway::new(functions, events(authorizer))
        .with_cors(Cors::new(config.allowed_origins.clone())))
}

/// An HTTP function's handler as the gateway calls it (through the runner's per-request
/// wrapper, as its Lambda does).
fn http<F: Function + Send + Sync + 'static>(function: F) -> HttpFunction {
    let function = Arc::new(function);
    Arc::new(move |req| {
        let function = function.clone();
        Box::pin(async move { function.handle(req).await })
    })
}

/// The authorizer as the gateway calls it: with the event's JSON, decoded as its Lambda does.
fn events<F>(function: F) -> AuthorizerFunction
where
    F: EventFunction<Response = authorizer::AuthorizerResponse> + Send + Sync + 'static,
{
    let function = Arc::new(function);
    Arc::new(move |event| {
        let function = function.clone();
        Box::pin(async move {
            let event: F::Event = serde_json::from_value(event)?;
            Ok(EventFunction::handle(&*function, event, Default::default()).await)
        })
    })
}
