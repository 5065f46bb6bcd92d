//! [`SecondFactor`] on DynamoDB: each operation is one conditional `UpdateItem` on the owner's
//! revocation marker, conditioned on the state the caller read (`auth::store::mfa` lists the
//! attributes and why one item holds them).

use aws_sdk_dynamodb::types::AttributeValue;

use auth::domain::UserId;
use auth::error::StoreError;
use auth::store::item::marker_key;
use auth::store::{Proof, SecondFactor};
use auth_telemetry::metrics::timed;

use crate::store::{DynamoSessions, classify, is_conditional_check_failed, num};

/// Every two-factor attribute, for removing them all at once (turning the factor off, deleting
/// the account).
pub(crate) const TOTP_ATTRIBUTES: &str =
    "totp_secret, totp_step, recovery, mfa_challenge, totp_pending, totp_pending_until";

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

impl DynamoSessions {
    /// One conditional update of `owner`'s marker; `false` when the condition failed. (Also the
    /// operator's enable, in `store.rs`.)
    pub(crate) async fn update_marker(
        &self,
        owner: &UserId,
        update: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(marker_key(owner)))
            .update_expression(update)
            .condition_expression(condition);
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        match timed("UpdateItem", request.send()).await {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failed(&e) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }
}

/// The condition (and its values) that `proof` is still unused: `Totp::admits` as a condition
/// expression.
fn unused(proof: &Proof) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
    match proof {
        Proof::Code { secret, step } => (
            "totp_secret = :secret AND (attribute_not_exists(totp_step) OR totp_step < :step)",
            vec![(":secret", s(secret)), (":step", num(*step))],
        ),
        Proof::Recovery { seen, .. } => (
            "attribute_exists(totp_secret) AND recovery = :seen",
            vec![(":seen", s(seen))],
        ),
    }
}

impl SecondFactor for DynamoSessions {
    async fn begin_totp(
        &self,
        owner: &UserId,
        sealed: &str,
        until: i64,
    ) -> Result<bool, StoreError> {
        self.update_marker(
            owner,
            "SET generation = if_not_exists(generation, :zero), totp_pending = :sealed, \
             totp_pending_until = :until",
            "attribute_not_exists(totp_secret) AND attribute_not_exists(deleted_at)",
            vec![
                (":zero", num(0)),
                (":sealed", s(sealed)),
                (":until", num(until)),
            ],
        )
        .await
    }

    async fn confirm_totp(
        &self,
        owner: &UserId,
        pending: &str,
        step: i64,
        recovery: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.update_marker(
            owner,
            "SET totp_secret = :pending, totp_step = :step, recovery = :recovery \
             REMOVE totp_pending, totp_pending_until, mfa_challenge",
            "totp_pending = :pending AND totp_pending_until > :now \
             AND attribute_not_exists(totp_secret)",
            vec![
                (":pending", s(pending)),
                (":step", num(step)),
                (":recovery", s(recovery)),
                (":now", num(now)),
            ],
        )
        .await
    }

    async fn disable_totp(&self, owner: &UserId, proof: &Proof) -> Result<bool, StoreError> {
        let (condition, values) = unused(proof);
        self.update_marker(
            owner,
            &format!("REMOVE {TOTP_ATTRIBUTES}"),
            condition,
            values,
        )
        .await
    }

    async fn reset_totp(&self, owner: &UserId) -> Result<bool, StoreError> {
        self.update_marker(
            owner,
            &format!("REMOVE {TOTP_ATTRIBUTES}"),
            "attribute_exists(totp_secret) OR attribute_exists(totp_pending)",
            Vec::new(),
        )
        .await
    }

    async fn set_challenge(
        &self,
        owner: &UserId,
        secret: &str,
        challenge: &str,
    ) -> Result<bool, StoreError> {
        self.update_marker(
            owner,
            "SET mfa_challenge = :challenge",
            "totp_secret = :secret",
            vec![(":secret", s(secret)), (":challenge", s(challenge))],
        )
        .await
    }

    async fn pass_challenge(
        &self,
        owner: &UserId,
        challenge: &str,
        proof: &Proof,
    ) -> Result<bool, StoreError> {
        let (unused, mut values) = unused(proof);
        let condition = format!("mfa_challenge = :challenge AND {unused}");
        values.push((":challenge", s(challenge)));
        let update = match proof {
            Proof::Code { .. } => "SET totp_step = :step REMOVE mfa_challenge",
            // The last code used: the attribute goes rather than hold an empty string.
            Proof::Recovery { rest, .. } if rest.is_empty() => "REMOVE recovery, mfa_challenge",
            Proof::Recovery { rest, .. } => {
                values.push((":rest", s(rest)));
                "SET recovery = :rest REMOVE mfa_challenge"
            }
        };
        self.update_marker(owner, update, &condition, values).await
    }
}
