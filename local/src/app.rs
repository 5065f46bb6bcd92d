//! Wires the functions' handlers, as the Lambda binaries build them, to one pair of stores.

use std::collections::HashMap;
use std::sync::Arc;

use auth::Config;
use auth::config::KeyLoadError;
use auth::store::{
    CreateUser, DeleteSession, FindUser, GetSession, ListSessions, LoginAttempts, RefreshTokens,
    RevokeAllSessions, StartSession,
};

use crate::gateway::{AuthorizerFunction, Gateway, HttpFunction};

/// A gateway in front of every function, over `users`, `sessions` and `attempts`, configured by
/// `config` (whose key must be inline: `JWT_SECRET`).
pub async fn gateway<U, S, A>(
    users: U,
    sessions: S,
    attempts: A,
    config: &Config,
) -> Result<Gateway, KeyLoadError>
where
    U: CreateUser + FindUser + Clone + Send + Sync + 'static,
    S: StartSession
        + GetSession
        + RefreshTokens
        + DeleteSession
        + ListSessions
        + RevokeAllSessions
        + Clone
        + Send
        + Sync
        + 'static,
    A: LoginAttempts + Send + Sync + 'static,
{
    let hasher = config.password.hasher();
    let register = Arc::new(register::Handler::new(users.clone(), hasher.clone()));
    let login = Arc::new(login::Handler::new(
        users.clone(),
        sessions.clone(),
        attempts,
        hasher,
        config.signer.signer(None).await?,
        config.refresh_ttl_seconds,
    ));
    let user_info = Arc::new(user_info::Handler::new(users));
    let logout = Arc::new(logout::Handler::new(sessions.clone()));
    let refresh = Arc::new(refresh::Handler::new(
        sessions.clone(),
        config.signer.signer(None).await?,
        config.refresh_ttl_seconds,
        config.reuse_grace_seconds,
    ));
    let sessions_fn = Arc::new(sessions::Handler::new(sessions.clone()));
    let logout_all = Arc::new(logout_all::Handler::new(sessions.clone()));
    let authorizer = Arc::new(authorizer::Handler::new(
        sessions,
        config.verifier.verifier(None).await?,
    ));

    let mut functions: HashMap<&'static str, HttpFunction> = HashMap::new();
    functions.insert(
        "register",
        Arc::new(move |req| {
            let h = register.clone();
            Box::pin(async move { h.handle(req).await })
        }),
    );
    functions.insert(
        "login",
        Arc::new(move |req| {
            let h = login.clone();
            Box::pin(async move { h.handle(req).await })
        }),
    );
    functions.insert(
        "user-info",
        Arc::new(move |req| {
            let h = user_info.clone();
            Box::pin(async move { h.handle(req).await })
        }),
    );
    functions.insert(
        "logout",
        Arc::new(move |req| {
            let h = logout.clone();
            Box::pin(async move { h.handle(req).await })
        }),
    );
    functions.insert(
        "refresh",
        Arc::new(move |req| {
            let h = refresh.clone();
            Box::pin(async move { h.handle(req).await })
        }),
    );
    functions.insert(
        "sessions",
        Arc::new(move |req| {
            let h = sessions_fn.clone();
            Box::pin(async move { h.handle(req).await })
        }),
    );
    functions.insert(
        "logout-all",
        Arc::new(move |req| {
            let h = logout_all.clone();
            Box::pin(async move { h.handle(req).await })
        }),
    );
    let authorize: AuthorizerFunction = Arc::new(move |event| {
        let h = authorizer.clone();
        Box::pin(async move {
            let event: authorizer::AuthorizerRequest = serde_json::from_value(event)?;
            Ok(h.handle(event).await)
        })
    });
    Ok(Gateway::new(functions, authorize))
}
