//! The reads of the per-request functions, spoken to DynamoDB directly ([`crate::client`])
//! rather than through the SDK: the authorizer's session read ([`DirectSessions`]: one
//! SigV4-signed, strongly consistent `BatchGetItem` of the session item and its owner's
//! revocation marker — the request `auth_sdk::store::DynamoSessions` makes for `get_session` —
//! judged by the same rule, [`SessionLookup::judge`]) and user-info's account read
//! ([`DirectUsers`]: one strongly consistent `GetItem`, as `auth_sdk::store::DynamoUsers` makes
//! it). Items are decoded from DynamoDB's JSON into this crate's own item type, [`Item`]
//! (strings and numbers; an attribute of any other type is kept as "other", so it reads as
//! malformed), and then parsed by the same code as the SDK stores' ([`auth::store::item`]). Keys
//! DynamoDB leaves unprocessed are asked for again after a back-off; transient failures are
//! [`StoreError::Unavailable`], refusals [`StoreError::Backend`], an answer that is not the
//! expected JSON [`StoreError::Malformed`].

use std::collections::BTreeMap;
use std::time::Instant;

use auth::domain::{SessionId, UserId, Username};
use auth::error::StoreError;
use auth::store::item::{Attr, ItemView, judge_batch, marker_key, user_record};
use auth::store::{FindUser, GetSession, SessionLookup, UserRecord};
use auth_telemetry::metrics::timed;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::client::{AwsHttp, CallError, DirectConfig, DirectConfigError, JsonService};

/// How many times keys that DynamoDB left unprocessed are asked for (as the SDK store does).
const BATCH_ROUNDS: usize = 4;

/// The session read on DynamoDB without the SDK: [`GetSession`] only (see the module docs).
#[derive(Debug, Clone)]
pub struct DirectSessions {
    dynamodb: JsonService,
    table: String,
}

impl DirectSessions {
    /// A reader of `table` at `config`'s DynamoDB endpoint over `http`.
    pub fn new(
        http: &AwsHttp,
        config: &DirectConfig,
        table: impl Into<String>,
    ) -> Result<Self, DirectConfigError> {
        Ok(Self {
            dynamodb: dynamodb(http, config)?,
            table: table.into(),
        })
    }

    /// Opens the connection to DynamoDB now, for the first read to find it open
    /// ([`JsonService::warm_up`]).
    pub async fn warm_up(&self) {
        self.dynamodb.warm_up().await;
    }

    /// Strongly consistent reads of `pks` (at most 100), within the configured timeout. Keys
    /// DynamoDB leaves unprocessed are asked for again after a back-off, as AWS asks, at most
    /// [`BATCH_ROUNDS`] rounds in all.
    async fn batch_get(&self, pks: &[&str]) -> Result<Vec<Item>, StoreError> {
        let deadline = Instant::now() + self.dynamodb.timeout();
        let mut pending: Vec<String> = pks.iter().map(|pk| (*pk).to_owned()).collect();
        let mut items = Vec::new();
        for round in 0..BATCH_ROUNDS {
            if round > 0 {
                let wait = crate::client::backoff(round as u32 - 1);
                if Instant::now() + wait >= deadline {
                    break;
                }
                tokio::time::sleep(wait).await;
            }
            let body = self.batch_body(&pending)?;
            let answer = timed(
                "BatchGetItem",
                self.dynamodb
                    .call("DynamoDB_20120810.BatchGetItem", body, deadline),
            )
            .await
            .map_err(store_error)?;
            let answer: BatchGetOutput = serde_json::from_slice(&answer).map_err(|e| {
                StoreError::Malformed(format!("BatchGetItem answer is not the expected JSON: {e}"))
            })?;
            let mut responses = answer.responses;
            items.extend(responses.remove(&self.table).unwrap_or_default());
            let mut unprocessed = answer.unprocessed_keys;
            match unprocessed.remove(&self.table) {
                Some(rest) if !rest.keys.is_empty() => {
                    pending = rest
                        .keys
                        .into_iter()
                        .map(|key| match key.attr("pk") {
                            Some(Attr::S(pk)) => Ok(pk.to_owned()),
                            _ => Err(StoreError::Malformed(
                                "an unprocessed key without a string pk".into(),
                            )),
                        })
                        .collect::<Result<_, _>>()?;
                }
                _ => return Ok(items),
            }
        }
        Err(StoreError::Unavailable(
            "DynamoDB left keys of a batch read unprocessed".into(),
        ))
    }

    fn batch_body(&self, pks: &[String]) -> Result<Bytes, StoreError> {
        let keys = pks
            .iter()
            .map(|pk| KeyOut {
                pk: StringValue { s: pk },
            })
            .collect();
        let request = BatchGetInput {
            request_items: BTreeMap::from([(
                self.table.as_str(),
                KeysOut {
                    keys,
                    consistent_read: true,
                },
            )]),
        };
        serde_json::to_vec(&request)
            .map(Bytes::from)
            .map_err(|e| StoreError::Backend(Box::new(e)))
    }
}

fn store_error(e: CallError) -> StoreError {
    match e {
        CallError::Unavailable(e) => StoreError::Unavailable(e),
        CallError::Refused(e) => StoreError::Backend(e),
    }
}

fn dynamodb(http: &AwsHttp, config: &DirectConfig) -> Result<JsonService, DirectConfigError> {
    JsonService::new(
        http,
        &config.dynamodb_endpoint,
        "dynamodb",
        "application/x-amz-json-1.0",
    )
}

/// The account read on DynamoDB without the SDK: [`FindUser`] only (see the module docs).
#[derive(Debug, Clone)]
pub struct DirectUsers {
    dynamodb: JsonService,
    table: String,
}

impl DirectUsers {
    /// A reader of users table `table` at `config`'s DynamoDB endpoint over `http`.
    pub fn new(
        http: &AwsHttp,
        config: &DirectConfig,
        table: impl Into<String>,
    ) -> Result<Self, DirectConfigError> {
        Ok(Self {
            dynamodb: dynamodb(http, config)?,
            table: table.into(),
        })
    }
}

impl FindUser for DirectUsers {
    async fn find_user(&self, username: &Username) -> Result<Option<UserRecord>, StoreError> {
        #[derive(Serialize)]
        struct Input<'a> {
            #[serde(rename = "TableName")]
            table_name: &'a str,
            #[serde(rename = "Key")]
            key: UserKey<'a>,
            #[serde(rename = "ConsistentRead")]
            consistent_read: bool,
        }
        #[derive(Serialize)]
        struct UserKey<'a> {
            username: StringValue<'a>,
        }
        #[derive(Deserialize)]
        struct Output {
            #[serde(rename = "Item")]
            item: Option<Item>,
        }
        let input = Input {
            table_name: &self.table,
            key: UserKey {
                username: StringValue {
                    s: username.as_str(),
                },
            },
            consistent_read: true,
        };
        let body = serde_json::to_vec(&input).map_err(|e| StoreError::Backend(Box::new(e)))?;
        let deadline = Instant::now() + self.dynamodb.timeout();
        let answer = timed(
            "GetItem",
            self.dynamodb
                .call("DynamoDB_20120810.GetItem", Bytes::from(body), deadline),
        )
        .await
        .map_err(store_error)?;
        let answer: Output = serde_json::from_slice(&answer).map_err(|e| {
            StoreError::Malformed(format!("GetItem answer is not the expected JSON: {e}"))
        })?;
        answer.item.map(|item| user_record(&item)).transpose()
    }
}

impl GetSession for DirectSessions {
    async fn get_session(
        &self,
        id: &SessionId,
        owner: &UserId,
        now: i64,
    ) -> Result<SessionLookup, StoreError> {
        let marker_pk = marker_key(owner);
        let items = self.batch_get(&[id.as_str(), &marker_pk]).await?;
        judge_batch(&items, id, owner, now)
    }
}

#[derive(Serialize)]
struct BatchGetInput<'a> {
    #[serde(rename = "RequestItems")]
    request_items: BTreeMap<&'a str, KeysOut<'a>>,
}

#[derive(Serialize)]
struct KeysOut<'a> {
    #[serde(rename = "Keys")]
    keys: Vec<KeyOut<'a>>,
    #[serde(rename = "ConsistentRead")]
    consistent_read: bool,
}

#[derive(Serialize)]
struct KeyOut<'a> {
    pk: StringValue<'a>,
}

#[derive(Serialize)]
struct StringValue<'a> {
    #[serde(rename = "S")]
    s: &'a str,
}

#[derive(Deserialize)]
struct BatchGetOutput {
    #[serde(rename = "Responses", default)]
    responses: BTreeMap<String, Vec<Item>>,
    #[serde(rename = "UnprocessedKeys", default)]
    unprocessed_keys: BTreeMap<String, KeysIn>,
}

#[derive(Deserialize)]
struct KeysIn {
    #[serde(rename = "Keys", default)]
    keys: Vec<Item>,
}

/// An item as DynamoDB's JSON carries it: attribute name → typed value. A `BTreeMap`, as are
/// this module's other maps: they hold a handful of keys, where a `HashMap`'s SipHash of every
/// key cost more than the comparisons (bench/NOTES.md).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Item(BTreeMap<String, Value>);

/// One attribute value; only strings and numbers are read (the items read here hold nothing
/// else); any other type is kept as such, so that code reading it reports it as malformed.
#[derive(Debug, Deserialize)]
pub struct Value {
    #[serde(rename = "S")]
    s: Option<String>,
    #[serde(rename = "N")]
    n: Option<String>,
}

impl ItemView for Item {
    fn attr(&self, name: &str) -> Option<Attr<'_>> {
        Some(match self.0.get(name)? {
            Value { s: Some(s), .. } => Attr::S(s),
            Value { n: Some(n), .. } => Attr::N(n),
            _ => Attr::Other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_keep_strings_and_numbers_only() {
        let item: Item = serde_json::from_str(
            r#"{"pk":{"S":"a"},"generation":{"N":"3"},"flag":{"BOOL":true},"tags":{"SS":["x"]}}"#,
        )
        .unwrap();
        assert_eq!(item.attr("pk"), Some(Attr::S("a")));
        assert_eq!(item.attr("generation"), Some(Attr::N("3")));
        assert_eq!(item.attr("flag"), Some(Attr::Other));
        assert_eq!(item.attr("tags"), Some(Attr::Other));
        assert_eq!(item.attr("missing"), None);
    }
}
