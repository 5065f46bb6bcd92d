//! DynamoDB stores through `aws-sdk-dynamodb`. Item layout: see [the module docs](super).
//!
//! Every read that decides access is strongly consistent (`ConsistentRead`), every create is a
//! conditional write, and every error is classified: transient failures (timeouts, connection
//! errors, throttling, 5xx) become [`StoreError::Unavailable`], refusals that a retry will not
//! fix become [`StoreError::Backend`].

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};

use super::{
    Attempts, CreateUser, DeleteSession, FindUser, GetSession, LoginAttempts, PutSession,
    SessionRecord, UserRecord,
};
use crate::domain::{SessionId, UserId, Username};
use crate::error::StoreError;

type Item = HashMap<String, AttributeValue>;

/// Awaits one DynamoDB call and records its latency (`DynamoDbLatency`, by `Operation`).
async fn timed<T>(operation: &'static str, call: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let result = call.await;
    crate::telemetry::metrics::emit(
        "DynamoDbLatency",
        started.elapsed().as_secs_f64() * 1000.0,
        "Milliseconds",
        &[("Operation", operation)],
    );
    result
}

/// The item with `key` = `value` in `table`, read with strong consistency.
async fn get_consistent(
    client: &Client,
    table: &str,
    key: &str,
    value: &str,
) -> Result<Option<Item>, StoreError> {
    let out = timed(
        "GetItem",
        client
            .get_item()
            .table_name(table)
            .key(key, AttributeValue::S(value.to_owned()))
            .consistent_read(true)
            .send(),
    )
    .await
    .map_err(classify)?;
    Ok(out.item)
}

/// Writes `item` into `table` unless an item with its `key` exists
/// ([`StoreError::AlreadyExists`]): a conditional write, never read-then-write.
async fn put_new(client: &Client, table: &str, key: &str, item: Item) -> Result<(), StoreError> {
    let result = timed(
        "PutItem",
        client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(format!("attribute_not_exists({key})"))
            .send(),
    )
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_conditional_check_failed(&e) => Err(StoreError::AlreadyExists),
        Err(e) => Err(classify(e)),
    }
}

/// Error codes DynamoDB answers when it is overloaded or throttling: worth a retry later.
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

/// Maps an SDK error to a [`StoreError`], keeping it as the cause.
fn classify<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            err.code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
                || service.raw().status().is_server_error()
        }
        _ => false,
    };
    if transient {
        StoreError::Unavailable(Box::new(err))
    } else {
        StoreError::Backend(Box::new(err))
    }
}

fn is_conditional_check_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

fn s(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::Malformed(format!(
            "attribute {name} missing or not a string"
        ))),
    }
}

fn n(item: &Item, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| StoreError::Malformed(format!("attribute {name} is not an integer"))),
        _ => Err(StoreError::Malformed(format!(
            "attribute {name} missing or not a number"
        ))),
    }
}

fn malformed(name: &str) -> impl Fn(crate::domain::InvalidValue) -> StoreError + '_ {
    move |e| StoreError::Malformed(format!("attribute {name}: {}", e.message))
}

/// The users table.
#[derive(Debug, Clone)]
pub struct DynamoUsers {
    client: Client,
    table: String,
}

impl DynamoUsers {
    /// The users table `table`, through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl CreateUser for DynamoUsers {
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let item = HashMap::from([
            (
                "username".to_owned(),
                AttributeValue::S(user.username.to_string()),
            ),
            (
                "user_id".to_owned(),
                AttributeValue::S(user.user_id.to_string()),
            ),
            (
                "password_hash".to_owned(),
                AttributeValue::S(user.password_hash.clone()),
            ),
            (
                "created_at".to_owned(),
                AttributeValue::N(user.created_at.to_string()),
            ),
        ]);
        put_new(&self.client, &self.table, "username", item).await
    }
}

impl FindUser for DynamoUsers {
    async fn find_user(&self, username: &Username) -> Result<Option<UserRecord>, StoreError> {
        let Some(item) =
            get_consistent(&self.client, &self.table, "username", username.as_str()).await?
        else {
            return Ok(None);
        };
        Ok(Some(UserRecord {
            user_id: UserId::parse(&s(&item, "user_id")?).map_err(malformed("user_id"))?,
            username: Username::parse(&s(&item, "username")?).map_err(malformed("username"))?,
            password_hash: s(&item, "password_hash")?,
            created_at: n(&item, "created_at")?,
        }))
    }
}

/// The sessions table (the whitelist).
#[derive(Debug, Clone)]
pub struct DynamoSessions {
    client: Client,
    table: String,
}

impl DynamoSessions {
    /// The sessions table `table`, through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl PutSession for DynamoSessions {
    async fn put_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let item = HashMap::from([
            (
                "jti".to_owned(),
                AttributeValue::S(session.session_id.to_string()),
            ),
            (
                "user_id".to_owned(),
                AttributeValue::S(session.user_id.to_string()),
            ),
            (
                "username".to_owned(),
                AttributeValue::S(session.username.to_string()),
            ),
            (
                "issued_at".to_owned(),
                AttributeValue::N(session.issued_at.to_string()),
            ),
            (
                "expires_at".to_owned(),
                AttributeValue::N(session.expires_at.to_string()),
            ),
        ]);
        put_new(&self.client, &self.table, "jti", item).await
    }
}

impl GetSession for DynamoSessions {
    async fn get_session(
        &self,
        id: &SessionId,
        now: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let Some(item) = get_consistent(&self.client, &self.table, "jti", id.as_str()).await?
        else {
            return Ok(None);
        };
        let record = SessionRecord {
            session_id: SessionId::parse(&s(&item, "jti")?).map_err(malformed("jti"))?,
            user_id: UserId::parse(&s(&item, "user_id")?).map_err(malformed("user_id"))?,
            username: Username::parse(&s(&item, "username")?).map_err(malformed("username"))?,
            issued_at: n(&item, "issued_at")?,
            expires_at: n(&item, "expires_at")?,
        };
        Ok(record.is_live(now).then_some(record))
    }
}

impl DeleteSession for DynamoSessions {
    async fn delete_session(&self, id: &SessionId, owner: &UserId) -> Result<bool, StoreError> {
        let result = timed(
            "DeleteItem",
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("jti", AttributeValue::S(id.to_string()))
                .condition_expression("user_id = :owner")
                .expression_attribute_values(":owner", AttributeValue::S(owner.to_string()))
                .send(),
        )
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failed(&e) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }
}

/// The login attempts table.
#[derive(Debug, Clone)]
pub struct DynamoAttempts {
    client: Client,
    table: String,
}

impl DynamoAttempts {
    /// The login attempts table `table`, through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl LoginAttempts for DynamoAttempts {
    async fn get_attempts(
        &self,
        username: &Username,
        now: i64,
    ) -> Result<Option<Attempts>, StoreError> {
        let Some(item) =
            get_consistent(&self.client, &self.table, "username", username.as_str()).await?
        else {
            return Ok(None);
        };
        if n(&item, "expires_at")? <= now {
            return Ok(None);
        }
        Ok(Some(attempts(&item)?))
    }

    async fn try_count_failure(
        &self,
        username: &Username,
        seen: Option<Attempts>,
        now: i64,
        expires_at: i64,
    ) -> Result<Option<Attempts>, StoreError> {
        let next = Attempts {
            failures: seen.map_or(1, |a| a.failures + 1),
            last_failure: now,
        };
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("username", AttributeValue::S(username.to_string()))
            .item("failures", AttributeValue::N(next.failures.to_string()))
            .item("last_failure", AttributeValue::N(now.to_string()))
            .item("expires_at", AttributeValue::N(expires_at.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()));
        put = match seen {
            // No live counter: none at all, or one past its expiry (TTL deletes late).
            None => {
                put.condition_expression("attribute_not_exists(username) OR expires_at <= :now")
            }
            // Exactly the counter that was read, still live.
            Some(a) => {
                put.condition_expression(
                    "failures = :failures AND last_failure = :last AND expires_at > :now",
                )
                .expression_attribute_values(":failures", AttributeValue::N(a.failures.to_string()))
                .expression_attribute_values(":last", AttributeValue::N(a.last_failure.to_string()))
            }
        };
        match timed("PutItem", put.send()).await {
            Ok(_) => Ok(Some(next)),
            Err(e) if is_conditional_check_failed(&e) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    async fn clear_attempts(&self, username: &Username) -> Result<(), StoreError> {
        timed(
            "DeleteItem",
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("username", AttributeValue::S(username.to_string()))
                .send(),
        )
        .await
        .map_err(classify)?;
        Ok(())
    }
}

fn attempts(item: &Item) -> Result<Attempts, StoreError> {
    Ok(Attempts {
        failures: u32::try_from(n(item, "failures")?)
            .map_err(|_| StoreError::Malformed("attribute failures out of range".into()))?,
        last_failure: n(item, "last_failure")?,
    })
}

/// Creates the users, sessions and login attempts tables if they do not exist (on-demand
/// billing, TTL on `expires_at` where items expire), for local servers and tests. Deployed
/// stacks get their tables from `template.yaml`.
pub async fn create_tables(
    client: &Client,
    users_table: &str,
    sessions_table: &str,
    attempts_table: &str,
) -> Result<(), StoreError> {
    create_table(client, users_table, "username").await?;
    create_table(client, sessions_table, "jti").await?;
    create_table(client, attempts_table, "username").await?;
    enable_ttl(client, sessions_table).await?;
    enable_ttl(client, attempts_table).await
}

async fn enable_ttl(client: &Client, table: &str) -> Result<(), StoreError> {
    let ttl = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires_at")
                .build()
                .map_err(|e| StoreError::Backend(Box::new(e)))?,
        )
        .send()
        .await;
    match ttl {
        Ok(_) => Ok(()),
        // Asking again for the TTL a table already has is refused; that is fine.
        Err(e)
            if e.code() == Some("ValidationException")
                && e.message().is_some_and(|m| m.contains("already enabled")) =>
        {
            Ok(())
        }
        Err(e) => Err(classify(e)),
    }
}

async fn create_table(client: &Client, table: &str, key: &str) -> Result<(), StoreError> {
    let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Backend(Box::new(e));
    let result = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build)?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .map_err(build)?,
        )
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ResourceInUseException") => Ok(()),
        Err(e) => Err(classify(e)),
    }
}
