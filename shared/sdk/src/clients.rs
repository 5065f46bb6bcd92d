//! SDK clients built from the settings `auth::config` read: once per cold start.

use auth::config::{AccountConfig, SessionsTableConfig, StoreConfig};

use crate::accounts::DynamoAccounts;
use crate::store::{DynamoAttempts, DynamoSessions, DynamoUsers};

/// Building the SDK's configuration and DynamoDB client from a [`StoreConfig`].
pub trait SdkClients {
    /// Loads the AWS SDK configuration (region, credentials, the timeouts below): once per cold
    /// start. Region and credentials come from the usual AWS chain (in Lambda, the function's
    /// environment).
    fn sdk_config(&self) -> impl std::future::Future<Output = aws_config::SdkConfig> + Send;

    /// The DynamoDB client on `sdk`, at the configured endpoint if there is one.
    fn dynamo_client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client;

    /// [`SdkClients::sdk_config`] and [`SdkClients::dynamo_client`] in one.
    fn client(&self) -> impl std::future::Future<Output = aws_sdk_dynamodb::Client> + Send;

    /// A client for a local DynamoDB-compatible server at the configured endpoint (or
    /// `endpoint` if none is configured), with a fixed region and static placeholder
    /// credentials, so that no AWS account or profile is needed. For local servers and tests
    /// only.
    fn local_client(&self, endpoint: &str) -> aws_sdk_dynamodb::Client;

    /// SDK configuration for local servers: every service at `endpoint`, region `us-east-1`,
    /// static placeholder credentials.
    fn local_sdk_config(&self, endpoint: &str) -> aws_config::SdkConfig;

    /// The SDK timeouts: the whole operation within the configured timeout, one attempt within
    /// half of it, so that one retry fits.
    fn timeouts(&self) -> aws_config::timeout::TimeoutConfig;
}

/// Off: every call is already bounded by [`SdkClients::timeouts`], and DynamoDB's answers are
/// small, so the SDK's throughput monitor (timers polled on every request and response body)
/// costs CPU on each invocation and protects nothing here.
fn stalled_stream_protection()
-> aws_config::stalled_stream_protection::StalledStreamProtectionConfig {
    aws_config::stalled_stream_protection::StalledStreamProtectionConfig::disabled()
}

impl SdkClients for StoreConfig {
    async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(self.timeouts())
            .stalled_stream_protection(stalled_stream_protection())
            .load()
            .await
    }

    fn dynamo_client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
        let mut builder = aws_sdk_dynamodb::config::Builder::from(sdk);
        if let Some(url) = &self.endpoint_url {
            builder = builder.endpoint_url(url);
        }
        aws_sdk_dynamodb::Client::from_conf(builder.build())
    }

    async fn client(&self) -> aws_sdk_dynamodb::Client {
        self.dynamo_client(&self.sdk_config().await)
    }

    fn local_client(&self, endpoint: &str) -> aws_sdk_dynamodb::Client {
        self.dynamo_client(&self.local_sdk_config(endpoint))
    }

    fn local_sdk_config(&self, endpoint: &str) -> aws_config::SdkConfig {
        use aws_sdk_dynamodb::config::{
            BehaviorVersion, Credentials, Region, SharedCredentialsProvider,
        };
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "local", "local", None, None, "local",
            )))
            .endpoint_url(endpoint)
            .timeout_config(self.timeouts())
            .stalled_stream_protection(stalled_stream_protection())
            .build()
    }

    fn timeouts(&self) -> aws_config::timeout::TimeoutConfig {
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(self.timeout / 2)
            .operation_attempt_timeout(self.timeout / 2)
            .operation_timeout(self.timeout)
            .build()
    }
}

/// The sessions table on DynamoDB for a function that touches only it (logout, sessions,
/// logout-all), with its client built once (per cold start).
pub async fn sessions_table(config: &SessionsTableConfig) -> DynamoSessions {
    DynamoSessions::new(config.store.client().await, &config.sessions_table)
}

/// The stores of a function that changes an account (change-password, delete-account), on one
/// DynamoDB client built once (per cold start).
#[derive(Debug, Clone)]
pub struct AccountStores {
    /// The users table.
    pub users: DynamoUsers,
    /// The sessions table.
    pub sessions: DynamoSessions,
    /// The login attempts table.
    pub attempts: DynamoAttempts,
    /// The changes that write the users and sessions tables at once.
    pub accounts: DynamoAccounts,
}

/// [`AccountStores`] as `config` names them.
pub async fn account_stores(config: &AccountConfig) -> AccountStores {
    let client = config.store.client().await;
    AccountStores {
        users: DynamoUsers::new(client.clone(), &config.users_table),
        sessions: DynamoSessions::new(client.clone(), &config.sessions_table),
        attempts: DynamoAttempts::new(client.clone(), &config.attempts_table),
        accounts: DynamoAccounts::new(client, &config.users_table, &config.sessions_table),
    }
}
