//! In-memory stores: the embedded default for local runs. Same behaviour as [`super::dynamo`],
//! checked by the same conformance suite. Clones share their data.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::{
    Attempts, CreateUser, DeleteSession, FindUser, GetSession, LoginAttempts, PutSession,
    SessionRecord, UserRecord,
};
use crate::domain::{SessionId, UserId, Username};
use crate::error::StoreError;

/// Users, in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryUsers {
    users: Arc<Mutex<HashMap<Username, UserRecord>>>,
}

impl MemoryUsers {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CreateUser for MemoryUsers {
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        if users.contains_key(&user.username) {
            return Err(StoreError::AlreadyExists);
        }
        users.insert(user.username.clone(), user.clone());
        Ok(())
    }
}

impl FindUser for MemoryUsers {
    async fn find_user(&self, username: &Username) -> Result<Option<UserRecord>, StoreError> {
        let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(users.get(username).cloned())
    }
}

/// Sessions (the whitelist), in memory.
#[derive(Debug, Clone, Default)]
pub struct MemorySessions {
    sessions: Arc<Mutex<HashMap<SessionId, SessionRecord>>>,
}

impl MemorySessions {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl PutSession for MemorySessions {
    async fn put_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if sessions.contains_key(&session.session_id) {
            return Err(StoreError::AlreadyExists);
        }
        sessions.insert(session.session_id.clone(), session.clone());
        Ok(())
    }
}

impl GetSession for MemorySessions {
    async fn get_session(
        &self,
        id: &SessionId,
        now: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(sessions.get(id).filter(|s| s.is_live(now)).cloned())
    }
}

impl DeleteSession for MemorySessions {
    async fn delete_session(&self, id: &SessionId, owner: &UserId) -> Result<bool, StoreError> {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        match sessions.get(id) {
            Some(s) if &s.user_id == owner => {
                sessions.remove(id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// Failed-login counters, in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryAttempts {
    counters: Arc<Mutex<HashMap<Username, (Attempts, i64)>>>,
}

impl MemoryAttempts {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl LoginAttempts for MemoryAttempts {
    async fn get_attempts(
        &self,
        username: &Username,
        now: i64,
    ) -> Result<Option<Attempts>, StoreError> {
        let counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(counters
            .get(username)
            .filter(|(_, expires_at)| now < *expires_at)
            .map(|(a, _)| *a))
    }

    async fn try_count_failure(
        &self,
        username: &Username,
        seen: Option<Attempts>,
        now: i64,
        expires_at: i64,
    ) -> Result<Option<Attempts>, StoreError> {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let current = counters
            .get(username)
            .filter(|(_, live_until)| now < *live_until)
            .map(|(a, _)| *a);
        if current != seen {
            return Ok(None);
        }
        let attempts = Attempts {
            failures: seen.map_or(1, |a| a.failures + 1),
            last_failure: now,
        };
        counters.insert(username.clone(), (attempts, expires_at));
        Ok(Some(attempts))
    }

    async fn clear_attempts(&self, username: &Username) -> Result<(), StoreError> {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        counters.remove(username);
        Ok(())
    }
}
