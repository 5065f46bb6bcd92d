//! DynamoDB stores through `aws-sdk-dynamodb`. Item layout: see `auth::store`'s docs; items are
//! decoded by [`auth::store::item`], as the direct reads decode theirs.
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
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, ReturnValue, ScalarAttributeType,
    TimeToLiveSpecification,
};

use auth::domain::{RefreshHash, SessionId, UserId, Username};
use auth::error::StoreError;
use auth::store::item::{self, Attr, ItemView, TRANSIENT_CODES, marker_key};
use auth::store::{
    Attempts, CreateUser, DeleteSession, DisableUser, FindUser, GetSession, ListSessions,
    LoginAttempts, Marker, ReadMarker, RefreshRecord, RefreshTokens, RevokeAllSessions, Rotation,
    SessionLookup, SessionRecord, SessionUse, StartSession, UserRecord,
};
use auth_telemetry::metrics::timed;

pub use auth::store::item::BY_USER_INDEX;

type Item = HashMap<String, AttributeValue>;

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

/// Maps an SDK error to a [`StoreError`], keeping it as the cause.
pub(crate) fn classify<E>(err: SdkError<E, HttpResponse>) -> StoreError
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

pub(crate) fn is_conditional_check_failed<E: ProvideErrorMetadata, R>(
    err: &SdkError<E, R>,
) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

/// An SDK item seen through [`ItemView`], so that [`auth::store::item`] decodes it.
struct View<'a>(&'a Item);

impl ItemView for View<'_> {
    fn attr(&self, name: &str) -> Option<Attr<'_>> {
        Some(match self.0.get(name)? {
            AttributeValue::S(v) => Attr::S(v),
            AttributeValue::N(v) => Attr::N(v),
            _ => Attr::Other,
        })
    }
}

fn s(item: &Item, name: &str) -> Result<String, StoreError> {
    item::string(&View(item), name)
}

fn n(item: &Item, name: &str) -> Result<i64, StoreError> {
    item::number(&View(item), name)
}

fn malformed(name: &str) -> impl Fn(auth::domain::InvalidValue) -> StoreError + '_ {
    item::malformed(name)
}

fn user_record(item: &Item) -> Result<UserRecord, StoreError> {
    item::user_record(&View(item))
}

pub(crate) fn generation(item: &Item) -> Result<u64, StoreError> {
    item::generation(&View(item))
}

fn judge(
    found: Option<&Item>,
    owner: &UserId,
    marker: u64,
    now: i64,
) -> Result<SessionLookup, StoreError> {
    item::judge(found.map(View).as_ref(), owner, marker, now)
}

pub(crate) fn judge_batch(
    items: &[Item],
    id: &SessionId,
    owner: &UserId,
    now: i64,
) -> Result<SessionLookup, StoreError> {
    let views: Vec<View<'_>> = items.iter().map(View).collect();
    item::judge_batch(&views, id, owner, now)
}

/// The users table.
#[derive(Debug, Clone)]
pub struct DynamoUsers {
    pub(crate) client: Client,
    pub(crate) table: String,
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
        user_record(&item).map(Some)
    }
}

/// The sessions table: sessions (the whitelist), revocation markers and refresh tokens.
#[derive(Debug, Clone)]
pub struct DynamoSessions {
    pub(crate) client: Client,
    pub(crate) table: String,
}

fn refresh_key(hash: &RefreshHash) -> String {
    format!("refresh#{}", hash.as_str())
}

fn key(pk: String) -> Item {
    HashMap::from([("pk".to_owned(), AttributeValue::S(pk))])
}

pub(crate) fn num(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn session_item(session: &SessionRecord) -> Item {
    let mut item = HashMap::from([
        (
            "pk".to_owned(),
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
        ("created_at_ms".to_owned(), num(session.created_at_ms)),
        ("last_used_at".to_owned(), num(session.last_used_at)),
        ("expires_at".to_owned(), num(session.expires_at)),
        ("generation".to_owned(), num(session.generation)),
        (
            "user_agent".to_owned(),
            AttributeValue::S(session.user_agent.clone()),
        ),
        (
            "source_ip".to_owned(),
            AttributeValue::S(session.source_ip.clone()),
        ),
    ]);
    if session.mfa {
        item.insert("mfa".to_owned(), num(1));
    }
    item
}

fn refresh_item(refresh: &RefreshRecord) -> Item {
    let mut item = HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S(refresh_key(&refresh.hash)),
        ),
        (
            "sid".to_owned(),
            AttributeValue::S(refresh.session_id.to_string()),
        ),
        (
            "owner".to_owned(),
            AttributeValue::S(refresh.user_id.to_string()),
        ),
        ("expires_at".to_owned(), num(refresh.expires_at)),
    ]);
    if let Some(ms) = refresh.rotated_at_ms {
        item.insert("rotated_at_ms".to_owned(), num(ms));
    }
    item
}

pub(crate) fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Backend(Box::new(e))
}

impl DynamoSessions {
    /// The sessions table `table`, through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Records a refresh on its session, only if the session item exists (never recreates
    /// one). Returns whether it did.
    async fn record_use(&self, used: &SessionUse) -> Result<bool, StoreError> {
        let result = timed(
            "UpdateItem",
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(used.session_id.to_string()))
                .condition_expression("attribute_exists(pk)")
                .update_expression(
                    "SET last_used_at = :at, expires_at = :exp, user_agent = :ua, source_ip = :ip",
                )
                .expression_attribute_values(":at", num(used.at))
                .expression_attribute_values(":exp", num(used.expires_at))
                .expression_attribute_values(":ua", AttributeValue::S(used.user_agent.clone()))
                .expression_attribute_values(":ip", AttributeValue::S(used.source_ip.clone()))
                .send(),
        )
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failed(&e) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    /// Deletes a refresh token item that was written for a step that then did not happen. Best
    /// effort: an item left behind names a token nobody holds, and expires.
    async fn forget_refresh(&self, hash: &RefreshHash) {
        let result = timed(
            "DeleteItem",
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(refresh_key(hash)))
                .send(),
        )
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %auth::error::chain(&classify(e)), "could not delete an unused refresh token item");
        }
    }

    /// Strongly consistent reads of up to 100 items by `pk`, retrying keys DynamoDB leaves
    /// unprocessed (under throttling) a few times.
    pub(crate) async fn batch_get(&self, pks: Vec<String>) -> Result<Vec<Item>, StoreError> {
        let mut pending = KeysAndAttributes::builder()
            .set_keys(Some(pks.into_iter().map(key).collect()))
            .consistent_read(true)
            .build()
            .map_err(build_error)?;
        let mut items = Vec::new();
        for _ in 0..4 {
            let out = timed(
                "BatchGetItem",
                self.client
                    .batch_get_item()
                    .request_items(&self.table, pending)
                    .send(),
            )
            .await
            .map_err(classify)?;
            if let Some(mut responses) = out.responses {
                items.extend(responses.remove(&self.table).unwrap_or_default());
            }
            match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                Some(rest) if !rest.keys().is_empty() => pending = rest,
                _ => return Ok(items),
            }
        }
        Err(StoreError::Unavailable(
            "DynamoDB left keys of a batch read unprocessed".into(),
        ))
    }

    /// The ids of `owner`'s session items, from the per-user index (eventually consistent).
    async fn session_ids(&self, owner: &UserId) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = timed(
                "Query",
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(BY_USER_INDEX)
                    .key_condition_expression("user_id = :owner")
                    .expression_attribute_values(":owner", AttributeValue::S(owner.to_string()))
                    .set_exclusive_start_key(start.take())
                    .send(),
            )
            .await
            .map_err(classify)?;
            for item in out.items() {
                ids.push(s(item, "pk")?);
            }
            match out.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(ids),
            }
        }
    }
}

impl ReadMarker for DynamoSessions {
    async fn marker(&self, owner: &UserId) -> Result<Marker, StoreError> {
        match get_consistent(&self.client, &self.table, "pk", &marker_key(owner)).await? {
            Some(item) => item::marker(&View(&item)),
            None => Ok(Marker::default()),
        }
    }
}

impl StartSession for DynamoSessions {
    async fn start_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
    ) -> Result<(), StoreError> {
        // The refresh token first: until the session item exists it opens nothing, so a
        // failure in between leaves nothing usable behind.
        put_new(&self.client, &self.table, "pk", refresh_item(refresh)).await?;
        if let Err(e) = put_new(&self.client, &self.table, "pk", session_item(session)).await {
            self.forget_refresh(&refresh.hash).await;
            return Err(e);
        }
        Ok(())
    }
}

impl GetSession for DynamoSessions {
    async fn get_session(
        &self,
        id: &SessionId,
        owner: &UserId,
        now: i64,
    ) -> Result<SessionLookup, StoreError> {
        let marker_pk = marker_key(owner);
        let items = self.batch_get(vec![id.to_string(), marker_pk]).await?;
        judge_batch(&items, id, owner, now)
    }
}

impl RefreshTokens for DynamoSessions {
    async fn find_refresh(
        &self,
        hash: &RefreshHash,
        now: i64,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        let Some(item) =
            get_consistent(&self.client, &self.table, "pk", &refresh_key(hash)).await?
        else {
            return Ok(None);
        };
        let record = RefreshRecord {
            hash: hash.clone(),
            session_id: SessionId::parse(&s(&item, "sid")?).map_err(malformed("sid"))?,
            user_id: UserId::parse(&s(&item, "owner")?).map_err(malformed("owner"))?,
            expires_at: n(&item, "expires_at")?,
            rotated_at_ms: item
                .contains_key("rotated_at_ms")
                .then(|| n(&item, "rotated_at_ms"))
                .transpose()?,
        };
        Ok((now < record.expires_at).then_some(record))
    }

    async fn rotate_refresh(
        &self,
        old: &RefreshHash,
        rotated_at_ms: i64,
        new: &RefreshRecord,
        used: &SessionUse,
    ) -> Result<Rotation, StoreError> {
        // Three single-item writes, no transaction (DynamoDB transactions on the session item
        // would make concurrent refreshes cancel each other). The new token first: it opens
        // nothing until it is handed out. Then the old one is retired by a conditional update —
        // the one step that decides which of concurrent refreshes wins. Then the session's use
        // is recorded, only if the session still exists.
        put_new(&self.client, &self.table, "pk", refresh_item(new)).await?;
        let retire = timed(
            "UpdateItem",
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(refresh_key(old)))
                .condition_expression(
                    "attribute_exists(pk) AND attribute_not_exists(rotated_at_ms)",
                )
                .update_expression("SET rotated_at_ms = :ms")
                .expression_attribute_values(":ms", num(rotated_at_ms))
                .send(),
        )
        .await;
        match retire {
            Ok(_) => {}
            Err(e) if is_conditional_check_failed(&e) => {
                self.forget_refresh(&new.hash).await;
                return Ok(Rotation::AlreadyRotated);
            }
            Err(e) => {
                self.forget_refresh(&new.hash).await;
                return Err(classify(e));
            }
        }
        // The old token is retired now: a transient failure here (such as a password change's
        // transaction on the session item at this moment) is retried briefly rather than
        // leaving the client with a retired token and no new one.
        let mut recorded = self.record_use(used).await;
        for pause_ms in [20, 100] {
            if !matches!(recorded, Err(StoreError::Unavailable(_))) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
            recorded = self.record_use(used).await;
        }
        if !recorded? {
            self.forget_refresh(&new.hash).await;
            return Ok(Rotation::SessionGone);
        }
        Ok(Rotation::Rotated)
    }

    async fn add_refresh(
        &self,
        new: &RefreshRecord,
        used: &SessionUse,
    ) -> Result<bool, StoreError> {
        put_new(&self.client, &self.table, "pk", refresh_item(new)).await?;
        if !self.record_use(used).await? {
            self.forget_refresh(&new.hash).await;
            return Ok(false);
        }
        Ok(true)
    }
}

impl DeleteSession for DynamoSessions {
    async fn delete_session(
        &self,
        id: &SessionId,
        owner: &UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        // Live by the one rule (SessionLookup::judge: owner, expiry and the owner's revocation
        // generation), read with the session's marker in one consistent batch; then deleted
        // only if the item is still the one judged.
        let SessionLookup::Live(session) = self.get_session(id, owner, now).await? else {
            return Ok(false);
        };
        let result = timed(
            "DeleteItem",
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(id.to_string()))
                .condition_expression(
                    "user_id = :owner AND expires_at > :now AND generation = :generation",
                )
                .expression_attribute_values(":owner", AttributeValue::S(owner.to_string()))
                .expression_attribute_values(":now", num(now))
                .expression_attribute_values(":generation", num(session.generation))
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

impl ListSessions for DynamoSessions {
    async fn list_sessions(
        &self,
        owner: &UserId,
        also: Option<&SessionId>,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let mut ids = self.session_ids(owner).await?;
        if let Some(id) = also.filter(|id| !ids.iter().any(|i| i == id.as_str())) {
            ids.push(id.to_string());
        }
        let marker = ReadMarker::marker(self, owner).await?.generation;
        let mut live = Vec::new();
        for chunk in ids.chunks(100) {
            for item in self.batch_get(chunk.to_vec()).await? {
                if let SessionLookup::Live(record) = judge(Some(&item), owner, marker, now)? {
                    live.push(record);
                }
            }
        }
        auth::store::sort_newest_first(&mut live);
        Ok(live)
    }
}

impl DisableUser for DynamoSessions {
    async fn disable(&self, owner: &UserId) -> Result<u64, StoreError> {
        let out = timed(
            "UpdateItem",
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(marker_key(owner)))
                .update_expression(
                    "ADD generation :one SET disabled_at = :now REMOVE mfa_challenge",
                )
                .expression_attribute_values(":one", num(1))
                .expression_attribute_values(":now", num(auth::clock::now()))
                .return_values(ReturnValue::UpdatedNew)
                .send(),
        )
        .await
        .map_err(classify)?;
        generation(&out.attributes.unwrap_or_default())
    }

    async fn enable(&self, owner: &UserId) -> Result<bool, StoreError> {
        // Only on a marker with the mark: an update of a missing item would create a marker
        // without a generation.
        self.update_marker(
            owner,
            "REMOVE disabled_at",
            "attribute_exists(disabled_at)",
            Vec::new(),
        )
        .await
    }

    async fn is_disabled(&self, owner: &UserId) -> Result<bool, StoreError> {
        Ok(ReadMarker::marker(self, owner).await?.disabled)
    }
}

impl RevokeAllSessions for DynamoSessions {
    async fn bump_generation(&self, owner: &UserId) -> Result<u64, StoreError> {
        let out = timed(
            "UpdateItem",
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(marker_key(owner)))
                .update_expression("ADD generation :one REMOVE mfa_challenge")
                .expression_attribute_values(":one", num(1))
                .return_values(ReturnValue::UpdatedNew)
                .send(),
        )
        .await
        .map_err(classify)?;
        generation(&out.attributes.unwrap_or_default())
    }

    async fn delete_sessions_before(
        &self,
        owner: &UserId,
        generation: u64,
    ) -> Result<usize, StoreError> {
        // Conditional deletes (a session that began after the increment stays), up to 16 at a
        // time: a user with hundreds of sessions is cleaned up in a few round trips' time.
        const IN_FLIGHT: usize = 16;
        let mut ids = self.session_ids(owner).await?.into_iter();
        let mut running = tokio::task::JoinSet::new();
        let mut deleted = 0;
        loop {
            while running.len() < IN_FLIGHT {
                let Some(id) = ids.next() else { break };
                let delete = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .key("pk", AttributeValue::S(id))
                    .condition_expression("user_id = :owner AND generation < :g")
                    .expression_attribute_values(":owner", AttributeValue::S(owner.to_string()))
                    .expression_attribute_values(":g", num(generation));
                running.spawn(async move { timed("DeleteItem", delete.send()).await });
            }
            let Some(joined) = running.join_next().await else {
                return Ok(deleted);
            };
            match joined.map_err(|e| StoreError::Backend(Box::new(e)))? {
                Ok(_) => deleted += 1,
                Err(e) if is_conditional_check_failed(&e) => {}
                Err(e) => return Err(classify(e)),
            }
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

    async fn forget_attempts(&self, username: &Username) -> Result<(), StoreError> {
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

    async fn clear_attempts(
        &self,
        username: &Username,
        counted: Attempts,
    ) -> Result<(), StoreError> {
        let result = timed(
            "DeleteItem",
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("username", AttributeValue::S(username.to_string()))
                .condition_expression("failures = :failures AND last_failure = :last")
                .expression_attribute_values(
                    ":failures",
                    AttributeValue::N(counted.failures.to_string()),
                )
                .expression_attribute_values(
                    ":last",
                    AttributeValue::N(counted.last_failure.to_string()),
                )
                .send(),
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            // Another attempt counted since: take back only this attempt's own count.
            Err(e) if is_conditional_check_failed(&e) => {
                let result = timed(
                    "UpdateItem",
                    self.client
                        .update_item()
                        .table_name(&self.table)
                        .key("username", AttributeValue::S(username.to_string()))
                        .update_expression("SET failures = failures - :one")
                        .condition_expression("attribute_exists(username) AND failures >= :one")
                        .expression_attribute_values(":one", AttributeValue::N("1".into()))
                        .send(),
                )
                .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(e) if is_conditional_check_failed(&e) => Ok(()),
                    Err(e) => Err(classify(e)),
                }
            }
            Err(e) => Err(classify(e)),
        }
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
/// billing, TTL on `expires_at` where items expire, the sessions table's [`BY_USER_INDEX`]),
/// for local servers and tests. Deployed stacks get their tables from `template.yaml`.
pub async fn create_tables(
    client: &Client,
    users_table: &str,
    sessions_table: &str,
    attempts_table: &str,
) -> Result<(), StoreError> {
    create_table(client, users_table, "username", None).await?;
    create_table(
        client,
        sessions_table,
        "pk",
        Some((BY_USER_INDEX, "user_id")),
    )
    .await?;
    create_table(client, attempts_table, "username", None).await?;
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
                .map_err(build_error)?,
        )
        .send()
        .await;
    match ttl {
        Ok(_) => Ok(()),
        // A DynamoDB-compatible server without TTL (dynalite, the tests' second engine): nothing
        // depends on TTL deleting items, which DynamoDB does days late anyway; every read
        // compares `expires_at` with the clock itself.
        Err(e) if e.code() == Some("UnknownOperationException") => Ok(()),
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

fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build_error)
}

fn hash_key(name: &str) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(KeyType::Hash)
        .build()
        .map_err(build_error)
}

/// Creates `table` with string partition key `key` and, if given, a keys-only global secondary
/// index `(name, partition key)`.
async fn create_table(
    client: &Client,
    table: &str,
    key: &str,
    index: Option<(&str, &str)>,
) -> Result<(), StoreError> {
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(key)?)
        .key_schema(hash_key(key)?);
    if let Some((name, partition)) = index {
        create = create
            .attribute_definitions(string_attribute(partition)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .key_schema(hash_key(partition)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::KeysOnly)
                            .build(),
                    )
                    .build()
                    .map_err(build_error)?,
            );
    }
    match create.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ResourceInUseException") => Ok(()),
        Err(e) => Err(classify(e)),
    }
}
