//! Argon2id password hashing with PHC strings.
//!
//! The cost is configurable ([`HashCost`]) and never below OWASP's minimum for Argon2id
//! (m = 19 MiB with t = 2, or an equivalent memory × time product). Verifying against an
//! unknown user runs [`PasswordHasher::verify_dummy`]: a full verification at the configured
//! cost against a hash that matches nothing, so that "no such user" and "wrong password" take
//! the same time.

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

use crate::domain::Password;
use crate::error::BoxError;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    /// Memory in KiB (`m`).
    pub memory_kib: u32,
    /// Passes over memory (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

impl HashCost {
    /// OWASP's recommended minimum for Argon2id: m = 19 MiB, t = 2, p = 1.
    pub const OWASP_MINIMUM: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Checks the cost against OWASP's minimum: at least 7 MiB of memory, and memory × passes
    /// no lower than 19 MiB × 2 (OWASP lists m=47104/t=1 … m=7168/t=5 as equivalent).
    pub fn validate(&self) -> Result<(), String> {
        let floor = u64::from(Self::OWASP_MINIMUM.memory_kib) * 2;
        if self.memory_kib < 7 * 1024 {
            return Err("memory below 7168 KiB (OWASP minimum for Argon2id)".into());
        }
        if u64::from(self.memory_kib) * u64::from(self.iterations) < floor {
            return Err(format!(
                "memory × iterations below {floor} KiB (OWASP minimum: m=19456, t=2)"
            ));
        }
        if self.parallelism == 0 || self.parallelism > 16 {
            return Err("parallelism must be 1 to 16".into());
        }
        self.params().map(|_| ()).map_err(|e| e.to_string())
    }

    fn params(&self) -> Result<Params, argon2::Error> {
        Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(Params::DEFAULT_OUTPUT_LEN),
        )
    }
}

impl Default for HashCost {
    fn default() -> Self {
        Self::OWASP_MINIMUM
    }
}

/// Hashes and verifies passwords at one configured cost. Cheap to clone; clones share one limit
/// on how many hashes run at once (the number of CPUs), so a burst of logins on a long-running
/// server queues instead of allocating `m` KiB per request all at once.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    dummy_hash: String,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher for `cost`. Builds the dummy hash without hashing anything (a PHC string with the
    /// configured parameters, a random salt and a random digest), so it adds nothing measurable
    /// to the cold start.
    pub fn new(cost: HashCost) -> Result<Self, String> {
        cost.validate()?;
        let params = cost.params().map_err(|e| e.to_string())?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            cost.memory_kib,
            cost.iterations,
            cost.parallelism,
            b64(&random_bytes::<16>()),
            b64(&random_bytes::<32>()),
        );
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self {
            argon2,
            dummy_hash,
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(cpus)),
        })
    }

    /// [`PasswordHasher::hash`] on a blocking thread, within the limit on concurrent hashes.
    pub async fn hash_blocking(&self, password: Password) -> Result<String, BoxError> {
        let hasher = self.clone();
        self.limited(move || hasher.hash(&password)).await?
    }

    /// Verifies `password` against `phc`, or runs [`PasswordHasher::verify_dummy`] when there is
    /// no hash, on a blocking thread within the limit on concurrent hashes. `Ok(false)` for a
    /// mismatch and always without a hash.
    pub async fn verify_blocking(
        &self,
        password: Password,
        phc: Option<String>,
    ) -> Result<bool, BoxError> {
        let hasher = self.clone();
        self.limited(move || match phc {
            Some(phc) => hasher.verify(&password, &phc),
            None => {
                hasher.verify_dummy(&password);
                Ok(false)
            }
        })
        .await?
    }

    async fn limited<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, BoxError> {
        let _permit = self.permits.acquire().await?;
        Ok(tokio::task::spawn_blocking(work).await?)
    }

    /// Hashes `password` with a fresh 128-bit salt; returns a PHC string
    /// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). CPU-bound: call it off the async runtime.
    pub fn hash(&self, password: &Password) -> Result<String, BoxError> {
        let salt = random_bytes::<16>();
        let hash = self
            .argon2
            .hash_password_with_salt(password.expose_secret(), &salt)
            .map_err(|e| format!("argon2 hashing failed: {e}"))?;
        Ok(hash.to_string())
    }

    /// Whether `password` matches the PHC string `phc`, at the parameters stored in it.
    /// A malformed stored hash is an error, not a mismatch. CPU-bound.
    pub fn verify(&self, password: &Password, phc: &str) -> Result<bool, BoxError> {
        match self.argon2.verify_password(password.expose_secret(), phc) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(format!("stored password hash unusable: {e}").into()),
        }
    }

    /// Runs a verification that always fails, at the configured cost: for an unknown user.
    pub fn verify_dummy(&self, password: &Password) {
        let _ = self.verify(password, &self.dummy_hash);
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).expect("the operating system's random generator failed");
    bytes
}

/// Unpadded standard base64, as PHC strings use it.
fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse_login(s.to_owned()).unwrap()
    }

    #[test]
    fn hash_and_verify_round_trip() {
        let h = PasswordHasher::new(HashCost::default()).unwrap();
        let phc = h.hash(&pw("correct horse")).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify(&pw("correct horse"), &phc).unwrap());
        assert!(!h.verify(&pw("correct horsE"), &phc).unwrap());
        // Two hashes of one password differ (fresh salt).
        assert_ne!(phc, h.hash(&pw("correct horse")).unwrap());
    }

    #[test]
    fn dummy_hash_is_a_valid_phc_string_that_matches_nothing() {
        let h = PasswordHasher::new(HashCost::default()).unwrap();
        assert!(!h.verify(&pw("anything"), &h.dummy_hash).unwrap());
    }

    #[test]
    fn malformed_stored_hash_is_an_error() {
        let h = PasswordHasher::new(HashCost::default()).unwrap();
        assert!(h.verify(&pw("x"), "not a phc string").is_err());
    }

    #[test]
    fn cost_below_owasp_is_refused() {
        for cost in [
            HashCost {
                memory_kib: 19456,
                iterations: 1,
                parallelism: 1,
            },
            HashCost {
                memory_kib: 4096,
                iterations: 10,
                parallelism: 1,
            },
            HashCost {
                memory_kib: 19456,
                iterations: 2,
                parallelism: 0,
            },
        ] {
            assert!(PasswordHasher::new(cost).is_err(), "{cost:?}");
        }
        assert!(
            PasswordHasher::new(HashCost {
                memory_kib: 47104,
                iterations: 1,
                parallelism: 1
            })
            .is_ok()
        );
    }
}
