//! The brute-force limiter's policy: per username, whether or not an account has it, so that the
//! limiter reveals nothing about which accounts exist.
//!
//! The first [`FREE_FAILURES`] consecutive failures cost nothing more than a 401. From then on
//! the username is locked for [`BASE_LOCK_SECONDS`] after the last failure, doubling with each
//! further failure up to [`MAX_LOCK_SECONDS`] (15 s, 30 s, 1 min, 2 min, 4 min, 8 min, 15 min).
//! While locked, login answers 429 with `Retry-After` and does not check the password at all.
//! Login counts each attempt before checking its password, so the first burst is bounded too:
//! at most [`FREE_FAILURES`] checks per username per lock window, however many run at once. A
//! success resets the counter (unless another attempt counted on it meanwhile); a counter is
//! forgotten [`FORGET_AFTER_SECONDS`] after its last failure.

use crate::store::Attempts;

/// Failures allowed before the first lock.
pub const FREE_FAILURES: u32 = 5;
/// The first lock, in seconds.
pub const BASE_LOCK_SECONDS: i64 = 15;
/// The longest lock, in seconds (15 minutes).
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// How long a counter lives after its last failure.
pub const FORGET_AFTER_SECONDS: i64 = 24 * 3600;

/// Until when (epoch seconds) a username with `attempts` is locked, if it is.
pub fn locked_until(attempts: &Attempts) -> Option<i64> {
    if attempts.failures < FREE_FAILURES {
        return None;
    }
    let doublings = (attempts.failures - FREE_FAILURES).min(16);
    let lock = (BASE_LOCK_SECONDS << doublings).min(MAX_LOCK_SECONDS);
    Some(attempts.last_failure + lock)
}

/// Seconds to wait at `now` before the next attempt, if locked.
pub fn retry_after(attempts: &Attempts, now: i64) -> Option<u64> {
    locked_until(attempts)
        .filter(|until| *until > now)
        .map(|until| (until - now) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(failures: u32) -> Option<i64> {
        locked_until(&Attempts {
            failures,
            last_failure: 1000,
        })
        .map(|t| t - 1000)
    }

    #[test]
    fn backs_off_exponentially_to_fifteen_minutes() {
        assert_eq!(after(4), None);
        assert_eq!(after(5), Some(15));
        assert_eq!(after(6), Some(30));
        assert_eq!(after(7), Some(60));
        assert_eq!(after(10), Some(480));
        assert_eq!(after(11), Some(900));
        assert_eq!(after(1000), Some(900));
        let a = Attempts {
            failures: 5,
            last_failure: 1000,
        };
        assert_eq!(retry_after(&a, 1000), Some(15));
        assert_eq!(retry_after(&a, 1014), Some(1));
        assert_eq!(retry_after(&a, 1015), None);
    }
}
