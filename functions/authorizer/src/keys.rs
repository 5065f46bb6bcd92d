//! The verification keys of a warm authorizer, reloaded when a token names a key it lacks.
//!
//! Keys in Secrets Manager (`JWT_SECRET_ARN`, as deployed) are read in two steps:
//!
//! - **The cold start reads only `AWSCURRENT`**, the key login and refresh sign with: one
//!   `GetSecretValue`, so init waits for one Secrets Manager round trip and makes one call, not
//!   three (issue #17; the three at once cost what three in a row do on a server that answers in
//!   turn, and three calls per cold start on AWS).
//! - **A token whose `kid` is not in the set makes the authorizer read every version**
//!   (`AWSCURRENT`, `AWSPENDING`, `AWSPREVIOUS`, asked for at once): the first such token after
//!   a cold start at once, later ones **at most once per [`RELOAD_COOLDOWN_SECONDS`]** after the
//!   last full read. So a token signed with the previous key (after a rotation) or the pending
//!   one costs its instance one round trip once, a rotation need not wait for (or force) cold
//!   starts, and a flood of made-up `kid`s costs one Secrets Manager round trip per cooldown per
//!   instance, not one per request. The rotation procedure's "wait a minute" after staging a key
//!   (docs/operations.md) is this cooldown: by then every instance either has read the staged
//!   key or may read again.
//!
//! While a reload is under way, other requests with an unknown `kid` wait for it rather than
//! start their own. A reload that fails keeps the keys the authorizer had (the token is denied,
//! fail closed); the next may start [`RELOAD_RETRY_SECONDS`] later, so that a throttled or
//! timed-out read during a rotation denies the new (or old) key's tokens for seconds, not a
//! minute. The bound on calls per instance: one at the cold start, then at most three (one
//! reload) per cooldown while reloads succeed, or per retry wait while Secrets Manager fails.
//! An instance that is new to an attacker costs one reload at once: scaling out by a flood costs
//! four calls per new instance instead of one.
//!
//! The read of the current set takes a read lock and no allocation: the request path stays as
//! it was. Inline keys are never reloaded (nothing could have changed them).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};

use auth::error::chain;
use auth::keys::KeyLoadError;
use auth::token::TokenVerifier;
use auth_telemetry::metrics;

/// The least time between two reads of every version of the keys, in seconds.
pub const RELOAD_COOLDOWN_SECONDS: i64 = 60;
/// The least time after a reload that failed before the next one, in seconds.
pub const RELOAD_RETRY_SECONDS: i64 = 10;

/// Reads the keys afresh (in the Lambda: the secret's versions through the direct client).
type Load = Box<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<TokenVerifier, KeyLoadError>> + Send>>
        + Send
        + Sync,
>;

/// The current verifier, and how to reload it if it can be.
pub struct Keys {
    current: RwLock<Arc<TokenVerifier>>,
    reload: Option<Reload>,
}

struct Reload {
    load: Load,
    /// The earliest time (epoch seconds) the next reload may start, `None` for at once (only
    /// the cold start's current key has been read); held across a reload, so that concurrent
    /// requests wait for it instead of starting their own.
    next: tokio::sync::Mutex<Option<i64>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("reloads", &self.reload.is_some())
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// Keys that never change (inline keys, tests).
    pub fn fixed(verifier: TokenVerifier) -> Self {
        Self {
            current: RwLock::new(Arc::new(verifier)),
            reload: None,
        }
    }

    /// Keys that `load` reads afresh (every version) when a token names an unknown key: at once
    /// the first time if `all_read_at` is `None` (the cold start read only the current key),
    /// then at most once per [`RELOAD_COOLDOWN_SECONDS`] after the last full read
    /// (`all_read_at`, epoch seconds, if `verifier` already holds every version).
    pub fn reloading<F, Fut>(verifier: TokenVerifier, all_read_at: Option<i64>, load: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<TokenVerifier, KeyLoadError>> + Send + 'static,
    {
        Self {
            current: RwLock::new(Arc::new(verifier)),
            reload: Some(Reload {
                load: Box::new(move || Box::pin(load())),
                next: tokio::sync::Mutex::new(all_read_at.map(|t| t + RELOAD_COOLDOWN_SECONDS)),
            }),
        }
    }

    /// Runs `f` with the current verifier (under a read lock, without cloning it).
    pub fn with_current<T>(&self, f: impl FnOnce(&Arc<TokenVerifier>) -> T) -> T {
        f(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// After `used` did not know a token's `kid`: a newer verifier to try, if another request
    /// has reloaded the keys meanwhile or if a reload is allowed now (the first since the cold
    /// start, or the cooldown or retry wait is over) and succeeds; `None` otherwise (the token
    /// is then denied).
    pub async fn newer_than(
        &self,
        used: &Arc<TokenVerifier>,
        now: i64,
    ) -> Option<Arc<TokenVerifier>> {
        let reload = self.reload.as_ref()?;
        let mut next = reload.next.lock().await;
        let current = self.with_current(Arc::clone);
        if !Arc::ptr_eq(&current, used) {
            return Some(current);
        }
        if next.is_some_and(|next| now < next) {
            tracing::debug!("unknown key id; the keys may not be read again yet");
            return None;
        }
        let loaded = (reload.load)().await;
        *next = Some(
            now + if loaded.is_ok() {
                RELOAD_COOLDOWN_SECONDS
            } else {
                RELOAD_RETRY_SECONDS
            },
        );
        match loaded {
            Ok(verifier) => {
                let verifier = Arc::new(verifier);
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = verifier.clone();
                let kids = verifier.kids().collect::<Vec<_>>().join(",");
                tracing::info!(kids, "verification keys reloaded");
                metrics::count("KeyReloads", &[("Outcome", "reloaded")]);
                Some(verifier)
            }
            Err(e) => {
                tracing::error!(error = %chain(&e), "reloading the verification keys failed");
                metrics::count("KeyReloads", &[("Outcome", "failed")]);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A verifier of one inline key.
    fn verifier() -> TokenVerifier {
        let env = |name: &str| {
            (name == "JWT_SECRET").then(|| "a test key of at least thirty-two bytes!".to_owned())
        };
        let config = auth::config::VerifierConfig::from_lookup(&env).unwrap();
        let key = auth::token::HmacKey::new(b"a test key of at least thirty-two bytes!".to_vec());
        config.verifier_for(&[key.unwrap()])
    }

    /// Keys whose every version was read at `all_read_at`, counting the reloads.
    fn counting_from(loads: &Arc<AtomicUsize>, fail: bool, all_read_at: Option<i64>) -> Keys {
        let loads = loads.clone();
        Keys::reloading(verifier(), all_read_at, move || {
            let loads = loads.clone();
            async move {
                loads.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                if fail {
                    Err(KeyLoadError::Unusable("test".into()))
                } else {
                    Ok(verifier())
                }
            }
        })
    }

    /// When [`counting`]'s keys were read (epoch seconds).
    const READ_AT: i64 = 1000;

    /// Keys whose every version was read at [`READ_AT`], counting the reloads.
    fn counting(loads: &Arc<AtomicUsize>, fail: bool) -> Keys {
        counting_from(loads, fail, Some(READ_AT))
    }

    #[tokio::test]
    async fn after_a_cold_start_that_read_only_the_current_key_the_first_unknown_kid_reloads_at_once()
     {
        let loads = Arc::new(AtomicUsize::new(0));
        let keys = counting_from(&loads, false, None);
        let first = keys.with_current(Arc::clone);
        // However soon after the cold start.
        let second = keys.newer_than(&first, 5).await.expect("reloaded at once");
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        // Then the cooldown runs from that read.
        for t in 6..65 {
            assert!(keys.newer_than(&second, t).await.is_none());
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(keys.newer_than(&second, 65).await.is_some());
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn after_a_cold_start_a_failed_first_reload_is_retried_after_the_retry_wait() {
        let loads = Arc::new(AtomicUsize::new(0));
        let keys = counting_from(&loads, true, None);
        let used = keys.with_current(Arc::clone);
        assert!(keys.newer_than(&used, 5).await.is_none());
        assert!(
            keys.newer_than(&used, 5 + RELOAD_RETRY_SECONDS - 1)
                .await
                .is_none()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(
            keys.newer_than(&used, 5 + RELOAD_RETRY_SECONDS)
                .await
                .is_none()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn reloads_at_most_once_per_cooldown_after_a_full_read() {
        let loads = Arc::new(AtomicUsize::new(0));
        let keys = counting(&loads, false);
        let first = keys.with_current(Arc::clone);
        // Within the cooldown of the full read: no reload.
        assert!(keys.newer_than(&first, READ_AT + 59).await.is_none());
        assert_eq!(loads.load(Ordering::SeqCst), 0);
        // Then one; the next unknown kid within the cooldown finds nothing newer to try.
        let second = keys
            .newer_than(&first, READ_AT + 60)
            .await
            .expect("reloaded");
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(keys.newer_than(&second, READ_AT + 61).await.is_none());
        for t in READ_AT + 61..READ_AT + 120 {
            assert!(keys.newer_than(&second, t).await.is_none());
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        // A request that used the old verifier gets the new one without a reload.
        let again = keys
            .newer_than(&first, READ_AT + 100)
            .await
            .expect("the newer one");
        assert!(Arc::ptr_eq(&again, &second));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(keys.newer_than(&second, READ_AT + 120).await.is_some());
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_unknown_kids_share_one_reload() {
        let loads = Arc::new(AtomicUsize::new(0));
        let keys = Arc::new(counting(&loads, false));
        let used = keys.with_current(Arc::clone);
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (keys, used) = (keys.clone(), used.clone());
                let at = READ_AT + RELOAD_COOLDOWN_SECONDS;
                tokio::spawn(async move { keys.newer_than(&used, at).await.is_some() })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap(), "every request gets the reloaded keys");
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_reload_keeps_the_keys_and_waits_the_retry_time_not_the_cooldown() {
        let loads = Arc::new(AtomicUsize::new(0));
        let keys = counting(&loads, true);
        let used = keys.with_current(Arc::clone);
        let failed_at = READ_AT + RELOAD_COOLDOWN_SECONDS;
        assert!(keys.newer_than(&used, failed_at).await.is_none());
        assert!(Arc::ptr_eq(&keys.with_current(Arc::clone), &used));
        let retry_at = failed_at + RELOAD_RETRY_SECONDS;
        assert!(keys.newer_than(&used, retry_at - 1).await.is_none());
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(keys.newer_than(&used, retry_at).await.is_none());
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn fixed_keys_never_reload() {
        let keys = Keys::fixed(verifier());
        let used = keys.with_current(Arc::clone);
        assert!(keys.newer_than(&used, i64::MAX / 2).await.is_none());
    }
}
