//! How the DynamoDB items are read, written once for both DynamoDB back-ends: the SDK stores
//! (`auth-sdk`) and the direct reads (`auth-direct`) each give their own item type a view
//! ([`ItemView`]) and decode it here, so the attribute names, the key shapes and the session
//! rule are not repeated. The layout itself is described in the [module docs](super).

use crate::domain::{InvalidValue, SessionId, UserId, Username};
use crate::error::StoreError;

use super::{SessionLookup, SessionRecord, UserRecord};

/// Error codes DynamoDB (and the other AWS JSON services) answer when overloaded or throttling:
/// worth a retry later. Both AWS back-ends classify errors with it.
pub const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalServiceError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    // A single-item write to an item that a transaction (a password change, an account
    // deletion) is writing at that moment: refused, and worth a retry a moment later.
    "TransactionConflictException",
];

/// The name of the sessions table's per-user index.
pub const BY_USER_INDEX: &str = "by-user";

/// One attribute as the stores read it: a string, a number (as DynamoDB sends it, in text), or
/// anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr<'a> {
    /// `S`.
    S(&'a str),
    /// `N`.
    N(&'a str),
    /// Any other type.
    Other,
}

/// Read access to one item's attributes, whatever type holds it.
pub trait ItemView {
    /// The attribute `name`, if the item has it.
    fn attr(&self, name: &str) -> Option<Attr<'_>>;
}

/// The key of `owner`'s revocation marker in the sessions table.
pub fn marker_key(owner: &UserId) -> String {
    format!("user#{owner}")
}

/// String attribute `name`.
pub fn string(item: &impl ItemView, name: &str) -> Result<String, StoreError> {
    match item.attr(name) {
        Some(Attr::S(v)) => Ok(v.to_owned()),
        _ => Err(StoreError::Malformed(format!(
            "attribute {name} missing or not a string"
        ))),
    }
}

/// Whole-number attribute `name`.
pub fn number(item: &impl ItemView, name: &str) -> Result<i64, StoreError> {
    match item.attr(name) {
        Some(Attr::N(v)) => v
            .parse()
            .map_err(|_| StoreError::Malformed(format!("attribute {name} is not an integer"))),
        _ => Err(StoreError::Malformed(format!(
            "attribute {name} missing or not a number"
        ))),
    }
}

/// A [`StoreError::Malformed`] for attribute `name` holding a value its type refuses.
pub fn malformed(name: &str) -> impl Fn(InvalidValue) -> StoreError + '_ {
    move |e| StoreError::Malformed(format!("attribute {name}: {}", e.message))
}

/// A users-table item as an account.
pub fn user_record(item: &impl ItemView) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        user_id: UserId::parse(&string(item, "user_id")?).map_err(malformed("user_id"))?,
        username: Username::parse(&string(item, "username")?).map_err(malformed("username"))?,
        password_hash: string(item, "password_hash")?,
        created_at: number(item, "created_at")?,
    })
}

/// A session item as a session.
pub fn session_record(item: &impl ItemView) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        session_id: SessionId::parse(&string(item, "pk")?).map_err(malformed("pk"))?,
        user_id: UserId::parse(&string(item, "user_id")?).map_err(malformed("user_id"))?,
        username: Username::parse(&string(item, "username")?).map_err(malformed("username"))?,
        created_at_ms: number(item, "created_at_ms")?,
        last_used_at: number(item, "last_used_at")?,
        expires_at: number(item, "expires_at")?,
        generation: generation(item)?,
        user_agent: string(item, "user_agent")?,
        source_ip: string(item, "source_ip")?,
        mfa: matches!(item.attr("mfa"), Some(Attr::N(v)) if v != "0"),
    })
}

/// The `generation` of a session item or a revocation marker.
pub fn generation(item: &impl ItemView) -> Result<u64, StoreError> {
    u64::try_from(number(item, "generation")?)
        .map_err(|_| StoreError::Malformed("attribute generation out of range".into()))
}

/// A revocation marker item as a [`Marker`](super::Marker).
pub fn marker(item: &impl ItemView) -> Result<super::Marker, StoreError> {
    Ok(super::Marker {
        generation: generation(item)?,
        disabled: item.attr("disabled_at").is_some(),
        deleted: item.attr("deleted_at").is_some(),
        credential: strict_string(item, "credential")?,
        totp: totp(item)?,
    })
}

/// String attribute `name` if the item has it; an attribute of another type is malformed (so
/// that a damaged credential stamp or two-factor attribute is an error, never read as absent).
fn strict_string(item: &impl ItemView, name: &str) -> Result<Option<String>, StoreError> {
    match item.attr(name) {
        None => Ok(None),
        Some(_) => string(item, name).map(Some),
    }
}

/// The two-factor attributes of a marker ([`super::mfa`]).
fn totp(item: &impl ItemView) -> Result<super::Totp, StoreError> {
    let pending = match strict_string(item, "totp_pending")? {
        Some(sealed) => Some((sealed, number(item, "totp_pending_until")?)),
        None => None,
    };
    let last_step = match item.attr("totp_step") {
        Some(_) => Some(number(item, "totp_step")?),
        None => None,
    };
    Ok(super::Totp {
        secret: strict_string(item, "totp_secret")?,
        pending,
        last_step,
        recovery: strict_string(item, "recovery")?.unwrap_or_default(),
        challenge: strict_string(item, "mfa_challenge")?,
    })
}

/// Judges a session item against its owner's marker generation.
pub fn judge(
    item: Option<&impl ItemView>,
    owner: &UserId,
    marker: u64,
    now: i64,
) -> Result<SessionLookup, StoreError> {
    let record = item.map(session_record).transpose()?;
    Ok(SessionLookup::judge(record, owner, marker, now))
}

/// Judges session `id` of `owner` from the items of one batch read of the session item and
/// the owner's marker (no marker means generation 0).
pub fn judge_batch(
    items: &[impl ItemView],
    id: &SessionId,
    owner: &UserId,
    now: i64,
) -> Result<SessionLookup, StoreError> {
    let find = |pk: &str| {
        items
            .iter()
            .find(|item| item.attr("pk") == Some(Attr::S(pk)))
    };
    let marker = find(&marker_key(owner))
        .map(generation)
        .transpose()?
        .unwrap_or(0);
    judge(find(id.as_str()), owner, marker, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Item(Vec<(&'static str, Attr<'static>)>);

    impl ItemView for Item {
        fn attr(&self, name: &str) -> Option<Attr<'_>> {
            self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        }
    }

    #[test]
    fn a_damaged_stamp_or_two_factor_attribute_is_an_error_not_absent() {
        let base = || vec![("pk", Attr::S("user#x")), ("generation", Attr::N("3"))];
        assert!(marker(&Item(base())).is_ok());
        for name in [
            "credential",
            "totp_secret",
            "totp_pending",
            "recovery",
            "mfa_challenge",
        ] {
            let mut attrs = base();
            attrs.push((name, Attr::N("1")));
            assert!(marker(&Item(attrs)).is_err(), "{name} as a number");
            let mut attrs = base();
            attrs.push((name, Attr::Other));
            assert!(marker(&Item(attrs)).is_err(), "{name} as another type");
        }
        let mut on = base();
        on.push(("totp_secret", Attr::S("v1.x")));
        on.push(("totp_step", Attr::S("7")));
        assert!(marker(&Item(on)).is_err(), "a step that is not a number");
    }
}
