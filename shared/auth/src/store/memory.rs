//! In-memory stores: the embedded default for local runs. Same behaviour as the DynamoDB stores
//! (`auth_sdk::store`), checked by the same conformance suite. Clones share their data.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::{
    AccountsOver, Attempts, ChangePassword, CreateUser, DeleteAccount, DeleteSession, DisableUser,
    FindUser, GetSession, ListSessions, LoginAttempts, Marker, PasswordChange, Proof, ReadMarker,
    RefreshRecord, RefreshTokens, RevokeAllSessions, Rotation, SecondFactor, SessionLookup,
    SessionRecord, SessionUse, StartSession, Totp, UserRecord,
};
use crate::domain::{RefreshHash, SessionId, UserId, Username};
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

/// Sessions, their refresh tokens and the users' revocation generations, in memory (one lock,
/// so every operation is atomic; the DynamoDB store reaches the same outcomes by ordering its
/// single-item writes).
#[derive(Debug, Clone, Default)]
pub struct MemorySessions {
    state: Arc<Mutex<SessionState>>,
}

#[derive(Debug, Default)]
struct SessionState {
    sessions: HashMap<SessionId, SessionRecord>,
    refresh: HashMap<RefreshHash, RefreshRecord>,
    generations: HashMap<UserId, u64>,
    disabled: std::collections::HashSet<UserId>,
    credentials: HashMap<UserId, String>,
    deleted: std::collections::HashSet<UserId>,
    totp: HashMap<UserId, Totp>,
}

impl SessionState {
    fn generation(&self, owner: &UserId) -> u64 {
        self.generations.get(owner).copied().unwrap_or(0)
    }

    fn lookup(&self, id: &SessionId, owner: &UserId, now: i64) -> SessionLookup {
        SessionLookup::judge(
            self.sessions.get(id).cloned(),
            owner,
            self.generation(owner),
            now,
        )
    }

    /// Drops `owner`'s outstanding two-factor challenge (ending every session ends a sign-in
    /// half-way too).
    fn end_challenge(&mut self, owner: &UserId) {
        if let Some(totp) = self.totp.get_mut(owner) {
            totp.challenge = None;
        }
    }

    fn record_use(&mut self, used: &SessionUse) -> bool {
        match self.sessions.get_mut(&used.session_id) {
            Some(s) => {
                s.last_used_at = used.at;
                s.expires_at = used.expires_at;
                s.user_agent.clone_from(&used.user_agent);
                s.source_ip.clone_from(&used.source_ip);
                true
            }
            None => false,
        }
    }
}

impl MemorySessions {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ReadMarker for MemorySessions {
    async fn marker(&self, owner: &UserId) -> Result<Marker, StoreError> {
        let state = self.state();
        Ok(Marker {
            generation: state.generation(owner),
            disabled: state.disabled.contains(owner),
            credential: state.credentials.get(owner).cloned(),
            deleted: state.deleted.contains(owner),
            totp: state.totp.get(owner).cloned().unwrap_or_default(),
        })
    }
}

impl SecondFactor for MemorySessions {
    async fn begin_totp(
        &self,
        owner: &UserId,
        sealed: &str,
        until: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state.deleted.contains(owner) {
            return Ok(false);
        }
        let totp = state.totp.entry(owner.clone()).or_default();
        if totp.is_on() {
            return Ok(false);
        }
        totp.pending = Some((sealed.to_owned(), until));
        Ok(true)
    }

    async fn confirm_totp(
        &self,
        owner: &UserId,
        pending: &str,
        step: i64,
        recovery: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(totp) = state.totp.get_mut(owner) else {
            return Ok(false);
        };
        let still = matches!(&totp.pending, Some((p, until)) if p == pending && now < *until);
        if !still || totp.is_on() {
            return Ok(false);
        }
        *totp = Totp {
            secret: Some(pending.to_owned()),
            pending: None,
            last_step: Some(step),
            recovery: recovery.to_owned(),
            challenge: None,
        };
        Ok(true)
    }

    async fn disable_totp(&self, owner: &UserId, proof: &Proof) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.totp.get(owner) {
            Some(totp) if totp.admits(proof) => {
                state.totp.remove(owner);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn reset_totp(&self, owner: &UserId) -> Result<bool, StoreError> {
        let mut state = self.state();
        Ok(state
            .totp
            .remove(owner)
            .is_some_and(|t| t.is_on() || t.pending.is_some()))
    }

    async fn set_challenge(
        &self,
        owner: &UserId,
        secret: &str,
        challenge: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.totp.get_mut(owner) {
            Some(totp) if totp.secret.as_deref() == Some(secret) => {
                totp.challenge = Some(challenge.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn pass_challenge(
        &self,
        owner: &UserId,
        challenge: &str,
        proof: &Proof,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(totp) = state.totp.get_mut(owner) else {
            return Ok(false);
        };
        if totp.challenge.as_deref() != Some(challenge) || !totp.admits(proof) {
            return Ok(false);
        }
        match proof {
            Proof::Code { step, .. } => totp.last_step = Some(*step),
            Proof::Recovery { rest, .. } => totp.recovery.clone_from(rest),
        }
        totp.challenge = None;
        Ok(true)
    }
}

impl StartSession for MemorySessions {
    async fn start_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.sessions.contains_key(&session.session_id)
            || state.refresh.contains_key(&refresh.hash)
        {
            return Err(StoreError::AlreadyExists);
        }
        state
            .sessions
            .insert(session.session_id.clone(), session.clone());
        state.refresh.insert(refresh.hash.clone(), refresh.clone());
        Ok(())
    }
}

impl GetSession for MemorySessions {
    async fn get_session(
        &self,
        id: &SessionId,
        owner: &UserId,
        now: i64,
    ) -> Result<SessionLookup, StoreError> {
        Ok(self.state().lookup(id, owner, now))
    }
}

impl RefreshTokens for MemorySessions {
    async fn find_refresh(
        &self,
        hash: &RefreshHash,
        now: i64,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        Ok(self
            .state()
            .refresh
            .get(hash)
            .filter(|r| now < r.expires_at)
            .cloned())
    }

    async fn rotate_refresh(
        &self,
        old: &RefreshHash,
        rotated_at_ms: i64,
        new: &RefreshRecord,
        used: &SessionUse,
    ) -> Result<Rotation, StoreError> {
        let mut state = self.state();
        if !state.sessions.contains_key(&used.session_id) {
            return Ok(Rotation::SessionGone);
        }
        match state.refresh.get(old) {
            Some(r) if r.rotated_at_ms.is_none() => {}
            _ => return Ok(Rotation::AlreadyRotated),
        }
        if state.refresh.contains_key(&new.hash) {
            return Err(StoreError::AlreadyExists);
        }
        if let Some(r) = state.refresh.get_mut(old) {
            r.rotated_at_ms = Some(rotated_at_ms);
        }
        state.refresh.insert(new.hash.clone(), new.clone());
        state.record_use(used);
        Ok(Rotation::Rotated)
    }

    async fn add_refresh(
        &self,
        new: &RefreshRecord,
        used: &SessionUse,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        if !state.sessions.contains_key(&used.session_id) {
            return Ok(false);
        }
        if state.refresh.contains_key(&new.hash) {
            return Err(StoreError::AlreadyExists);
        }
        state.refresh.insert(new.hash.clone(), new.clone());
        state.record_use(used);
        Ok(true)
    }
}

impl DeleteSession for MemorySessions {
    async fn delete_session(
        &self,
        id: &SessionId,
        owner: &UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.lookup(id, owner, now) {
            SessionLookup::Live(_) => {
                state.sessions.remove(id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

impl ListSessions for MemorySessions {
    async fn list_sessions(
        &self,
        owner: &UserId,
        _also: Option<&SessionId>,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let state = self.state();
        let mut live: Vec<SessionRecord> = state
            .sessions
            .values()
            .filter(|s| &s.user_id == owner)
            .filter_map(|s| match state.lookup(&s.session_id, owner, now) {
                SessionLookup::Live(s) => Some(s),
                _ => None,
            })
            .collect();
        super::sort_newest_first(&mut live);
        Ok(live)
    }
}

impl DisableUser for MemorySessions {
    async fn disable(&self, owner: &UserId) -> Result<u64, StoreError> {
        let mut state = self.state();
        let generation = state.generation(owner) + 1;
        state.generations.insert(owner.clone(), generation);
        state.disabled.insert(owner.clone());
        state.end_challenge(owner);
        Ok(generation)
    }

    async fn enable(&self, owner: &UserId) -> Result<bool, StoreError> {
        Ok(self.state().disabled.remove(owner))
    }

    async fn is_disabled(&self, owner: &UserId) -> Result<bool, StoreError> {
        Ok(self.state().disabled.contains(owner))
    }
}

impl RevokeAllSessions for MemorySessions {
    async fn bump_generation(&self, owner: &UserId) -> Result<u64, StoreError> {
        let mut state = self.state();
        let generation = state.generation(owner) + 1;
        state.generations.insert(owner.clone(), generation);
        state.end_challenge(owner);
        Ok(generation)
    }

    async fn delete_sessions_before(
        &self,
        owner: &UserId,
        generation: u64,
    ) -> Result<usize, StoreError> {
        let mut state = self.state();
        let before = state.sessions.len();
        state
            .sessions
            .retain(|_, s| &s.user_id != owner || s.generation >= generation);
        Ok(before - state.sessions.len())
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

    async fn clear_attempts(
        &self,
        username: &Username,
        counted: Attempts,
    ) -> Result<(), StoreError> {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        match counters.get_mut(username) {
            Some((a, _)) if *a == counted => {
                counters.remove(username);
            }
            Some((a, _)) => a.failures = a.failures.saturating_sub(1),
            None => {}
        }
        Ok(())
    }

    async fn forget_attempts(&self, username: &Username) -> Result<(), StoreError> {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        counters.remove(username);
        Ok(())
    }
}

/// The account changes that touch users and sessions at once, over the two in-memory stores
/// (clones of the ones the other handlers use: they share the data). Each change holds both
/// locks (users first, then sessions, the one order), so it is atomic as the DynamoDB
/// transaction is.
#[derive(Debug, Clone)]
pub struct MemoryAccounts {
    users: MemoryUsers,
    sessions: MemorySessions,
}

impl MemoryAccounts {
    /// The account changes over `users` and `sessions`.
    pub fn new(users: &MemoryUsers, sessions: &MemorySessions) -> Self {
        Self {
            users: users.clone(),
            sessions: sessions.clone(),
        }
    }
}

impl AccountsOver<MemorySessions> for MemoryUsers {
    type Accounts = MemoryAccounts;

    fn accounts(&self, sessions: &MemorySessions) -> MemoryAccounts {
        MemoryAccounts::new(self, sessions)
    }
}

/// Whether the account stored under `user.username` is still `user` as read (same id, same
/// password hash).
fn unchanged(users: &HashMap<Username, UserRecord>, user: &UserRecord) -> bool {
    users.get(&user.username).is_some_and(|stored| {
        stored.user_id == user.user_id && stored.password_hash == user.password_hash
    })
}

impl ChangePassword for MemoryAccounts {
    async fn change_password(
        &self,
        user: &UserRecord,
        new_hash: &str,
        keep: &SessionId,
        now: i64,
    ) -> Result<PasswordChange, StoreError> {
        let mut users = self
            .users
            .users
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut state = self.sessions.state();
        if !unchanged(&users, user) {
            return Ok(PasswordChange::Stale);
        }
        if !matches!(
            state.lookup(keep, &user.user_id, now),
            SessionLookup::Live(_)
        ) {
            return Ok(PasswordChange::SessionEnded);
        }
        let generation = state.generation(&user.user_id) + 1;
        state.generations.insert(user.user_id.clone(), generation);
        if let Some(session) = state.sessions.get_mut(keep) {
            session.generation = generation;
        }
        if let Some(stored) = users.get_mut(&user.username) {
            new_hash.clone_into(&mut stored.password_hash);
        }
        state.credentials.insert(
            user.user_id.clone(),
            super::account::credential_stamp(new_hash),
        );
        Ok(PasswordChange::Changed { generation })
    }
}

impl DeleteAccount for MemoryAccounts {
    async fn delete_account(
        &self,
        user: &UserRecord,
        _marker_expires_at: i64,
    ) -> Result<Option<u64>, StoreError> {
        let mut users = self
            .users
            .users
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut state = self.sessions.state();
        if !unchanged(&users, user) {
            return Ok(None);
        }
        users.remove(&user.username);
        let generation = state.generation(&user.user_id) + 1;
        state.generations.insert(user.user_id.clone(), generation);
        state.deleted.insert(user.user_id.clone());
        state.totp.remove(&user.user_id);
        // The refresh tokens of its sessions go too (the DynamoDB store leaves them to their
        // TTL: they are unusable once their sessions have ended).
        state.refresh.retain(|_, r| r.user_id != user.user_id);
        Ok(Some(generation))
    }
}
