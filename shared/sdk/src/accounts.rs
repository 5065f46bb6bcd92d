//! The account changes of `auth::store::account` on DynamoDB: each is one `TransactWriteItems`
//! over the users table (the account) and the sessions table (the owner's revocation marker,
//! and for a password change the caller's session), so that a failure at any point leaves all
//! of it or none of it.
//!
//! Transactions cannot return the values they wrote, so each reads the marker first (strongly
//! consistent) and writes the next generation on the condition that the marker is still as read;
//! a concurrent log-out-everywhere (or a conflicting transaction) makes it read again and retry,
//! [`ROUNDS`] times at most.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};

use auth::domain::{SessionId, UserId};
use auth::error::StoreError;
use auth::store::item::marker_key;
use auth::store::{
    AccountsOver, ChangePassword, DeleteAccount, PasswordChange, SessionLookup, UserRecord,
};
use auth_telemetry::metrics::timed;

use crate::store::{
    DynamoSessions, DynamoUsers, build_error, classify, generation, judge_batch, num,
};

/// How many times a change re-reads and retries after a concurrent write to the marker or the
/// kept session.
const ROUNDS: usize = 4;

/// The users table and the sessions table, for the changes that write both at once.
#[derive(Debug, Clone)]
pub struct DynamoAccounts {
    client: Client,
    users_table: String,
    sessions: DynamoSessions,
    sessions_table: String,
}

impl DynamoAccounts {
    /// The account changes on `users_table` and `sessions_table`, through `client`.
    pub fn new(
        client: Client,
        users_table: impl Into<String>,
        sessions_table: impl Into<String>,
    ) -> Self {
        let sessions_table = sessions_table.into();
        Self {
            sessions: DynamoSessions::new(client.clone(), sessions_table.clone()),
            client,
            users_table: users_table.into(),
            sessions_table,
        }
    }

    /// The owner's marker generation and the judgement of session `keep` (if any), from one
    /// strongly consistent batch read.
    async fn read_marker(
        &self,
        owner: &UserId,
        keep: Option<&SessionId>,
        now: i64,
    ) -> Result<(u64, Option<SessionLookup>), StoreError> {
        let marker = marker_key(owner);
        let mut pks = vec![marker.clone()];
        pks.extend(keep.map(SessionId::to_string));
        let items = self.sessions.batch_get(pks).await?;
        let generation = items
            .iter()
            .find(|item| matches!(item.get("pk"), Some(AttributeValue::S(pk)) if *pk == marker))
            .map(generation)
            .transpose()?
            .unwrap_or(0);
        let lookup = keep
            .map(|id| judge_batch(&items, id, owner, now))
            .transpose()?;
        Ok((generation, lookup))
    }

    /// The marker's write: the next generation (and `also`, an update expression's further
    /// assignments), on the condition that it is still `seen`.
    fn next_marker(&self, owner: &UserId, seen: u64, also: &str) -> UpdateBuilder {
        Update::builder()
            .table_name(&self.sessions_table)
            .key("pk", AttributeValue::S(marker_key(owner)))
            .update_expression(format!("SET generation = :next{also}"))
            .condition_expression("attribute_not_exists(pk) OR generation = :seen")
            .expression_attribute_values(":next", num(seen + 1))
            .expression_attribute_values(":seen", num(seen))
    }

    /// Sends `items` as one transaction.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), Cancelled> {
        timed(
            "TransactWriteItems",
            self.client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send(),
        )
        .await
        .map(|_| ())
        .map_err(cancelled)
    }
}

impl AccountsOver<DynamoSessions> for DynamoUsers {
    type Accounts = DynamoAccounts;

    fn accounts(&self, sessions: &DynamoSessions) -> DynamoAccounts {
        DynamoAccounts::new(self.client.clone(), &self.table, &sessions.table)
    }
}

/// The cancellation reasons of a throttled transaction.
const THROTTLED_REASONS: &[&str] = &[
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
];

/// Why a transaction did not happen.
enum Cancelled {
    /// The condition on the item at this index (in the order sent) failed.
    Condition(usize),
    /// Another write to one of its items was in progress: retry.
    Conflict,
    /// Anything else, classified.
    Store(StoreError),
}

fn cancelled(
    err: SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Cancelled {
    if let Some(TransactWriteItemsError::TransactionCanceledException(e)) = err.as_service_error() {
        let reasons = e.cancellation_reasons();
        let any = |code: &str| reasons.iter().any(|r| r.code() == Some(code));
        if let Some(i) = reasons
            .iter()
            .position(|r| r.code() == Some("ConditionalCheckFailed"))
        {
            return Cancelled::Condition(i);
        }
        if any("TransactionConflict") {
            return Cancelled::Conflict;
        }
        // Throttled, as DynamoDB reports it inside a transaction: worth a retry later.
        if THROTTLED_REASONS.iter().any(|code| any(code)) {
            return Cancelled::Store(StoreError::Unavailable(Box::new(err)));
        }
    }
    Cancelled::Store(classify(err))
}

/// The condition on the account's item: still the account that was read and checked (same
/// id, same password hash).
const ACCOUNT_UNCHANGED: &str = "user_id = :uid AND password_hash = :hash";

fn contended() -> StoreError {
    StoreError::Unavailable("the account's revocation marker kept changing; retry".into())
}

impl ChangePassword for DynamoAccounts {
    async fn change_password(
        &self,
        user: &UserRecord,
        new_hash: &str,
        keep: &SessionId,
        now: i64,
    ) -> Result<PasswordChange, StoreError> {
        for _ in 0..ROUNDS {
            let (seen, lookup) = self.read_marker(&user.user_id, Some(keep), now).await?;
            let Some(SessionLookup::Live(session)) = lookup else {
                return Ok(PasswordChange::SessionEnded);
            };
            let account = Update::builder()
                .table_name(&self.users_table)
                .key("username", AttributeValue::S(user.username.to_string()))
                .update_expression("SET password_hash = :new")
                .condition_expression(ACCOUNT_UNCHANGED)
                .expression_attribute_values(":uid", AttributeValue::S(user.user_id.to_string()))
                .expression_attribute_values(":hash", AttributeValue::S(user.password_hash.clone()))
                .expression_attribute_values(":new", AttributeValue::S(new_hash.to_owned()));
            let kept = Update::builder()
                .table_name(&self.sessions_table)
                .key("pk", AttributeValue::S(keep.to_string()))
                .update_expression("SET generation = :next")
                .condition_expression("user_id = :uid AND generation = :was")
                .expression_attribute_values(":next", num(seen + 1))
                .expression_attribute_values(":uid", AttributeValue::S(user.user_id.to_string()))
                .expression_attribute_values(":was", num(session.generation));
            let marker = self
                .next_marker(&user.user_id, seen, ", credential = :stamp")
                .expression_attribute_values(
                    ":stamp",
                    AttributeValue::S(auth::store::account::credential_stamp(new_hash)),
                );
            let items = [account, kept, marker]
                .into_iter()
                .map(|update| {
                    Ok(TransactWriteItem::builder()
                        .update(update.build().map_err(build_error)?)
                        .build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            match self.transact(items).await {
                Ok(()) => {
                    return Ok(PasswordChange::Changed {
                        generation: seen + 1,
                    });
                }
                Err(Cancelled::Condition(0)) => return Ok(PasswordChange::Stale),
                Err(Cancelled::Condition(_) | Cancelled::Conflict) => continue,
                Err(Cancelled::Store(e)) => return Err(e),
            }
        }
        Err(contended())
    }
}

impl DeleteAccount for DynamoAccounts {
    async fn delete_account(
        &self,
        user: &UserRecord,
        marker_expires_at: i64,
    ) -> Result<Option<u64>, StoreError> {
        for _ in 0..ROUNDS {
            let (seen, _) = self.read_marker(&user.user_id, None, 0).await?;
            let account = Delete::builder()
                .table_name(&self.users_table)
                .key("username", AttributeValue::S(user.username.to_string()))
                .condition_expression(ACCOUNT_UNCHANGED)
                .expression_attribute_values(":uid", AttributeValue::S(user.user_id.to_string()))
                .expression_attribute_values(
                    ":hash",
                    AttributeValue::S(user.password_hash.clone()),
                );
            let marker = self
                .next_marker(
                    &user.user_id,
                    seen,
                    &format!(
                        ", expires_at = :exp, deleted_at = :now REMOVE {}",
                        crate::mfa::TOTP_ATTRIBUTES
                    ),
                )
                .expression_attribute_values(":exp", num(marker_expires_at))
                .expression_attribute_values(":now", num(auth::clock::now()));
            let items = vec![
                TransactWriteItem::builder()
                    .delete(account.build().map_err(build_error)?)
                    .build(),
                TransactWriteItem::builder()
                    .update(marker.build().map_err(build_error)?)
                    .build(),
            ];
            match self.transact(items).await {
                Ok(()) => return Ok(Some(seen + 1)),
                Err(Cancelled::Condition(0)) => return Ok(None),
                Err(Cancelled::Condition(_) | Cancelled::Conflict) => continue,
                Err(Cancelled::Store(e)) => return Err(e),
            }
        }
        Err(contended())
    }
}
