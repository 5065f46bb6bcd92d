//! What the local server tells a person when it cannot start: a sentence that says which
//! setting is wrong, where its value came from (a flag, or the environment, which is easy to
//! forget), and what to do; and, with `--dynamodb-endpoint`, a check at start that the endpoint
//! answers and has the tables, rather than a 503 on the first request.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;

use auth::ConfigError;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A flag on the command line, e.g. `--jwt-secret`.
    Flag(String),
    /// The environment variable of the same name.
    Environment,
    /// Neither: the built-in default (or a value the server chose).
    Default,
}

/// A configuration error as a person reads it: the setting as they set it, the problem, the fix.
pub fn config_error(err: &ConfigError, source: &Source) -> String {
    let subject = match source {
        Source::Flag(flag) => flag.clone(),
        Source::Environment => format!("{} (set in the environment)", err.name),
        Source::Default => err.name.to_owned(),
    };
    let fix = match err.name {
        "JWT_SECRET" => {
            "Use at least 32 random bytes (for example the output of `openssl rand -hex 32`), or \
             set neither --jwt-secret nor JWT_SECRET: the server then makes a random key for \
             the run"
        }
        _ => "Correct it; docs/configuration.md says what each setting accepts",
    };
    let unset = match source {
        Source::Environment => format!(" (or `unset {}`)", err.name),
        _ => String::new(),
    };
    format!("{subject}: {}. {fix}{unset}.", err.problem)
}

/// For a value clap refused: when it came from an environment variable (and the flag was not
/// given), a sentence that says so — clap's own message names only the flag. `None` to keep
/// clap's message.
pub fn refused_from_environment(err: &clap::Error, command: &clap::Command) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        err.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = arg.split_whitespace().next()?.strip_prefix("--")?;
    let variable = command
        .get_arguments()
        .find(|a| a.get_long() == Some(long))?
        .get_env()?
        .to_str()?
        .to_owned();
    let value = std::env::var(&variable).ok()?;
    let flag = format!("--{long}");
    if std::env::args().any(|a| a == flag || a.starts_with(&format!("{flag}="))) {
        return None;
    }
    // clap's first line: "invalid value 'abc' for '--x <X>': the reason".
    let text = err.to_string();
    let reason = text
        .lines()
        .next()
        .and_then(|line| line.rsplit_once("': "))
        .map_or("not a value it takes", |(_, reason)| reason);
    Some(format!(
        "{variable} is set in the environment to '{value}', which {flag} does not take \
         ({reason}). Correct it, or `unset {variable}` for the default."
    ))
}

/// Whether the DynamoDB endpoint answers: one `ListTables` call.
pub async fn check_endpoint(client: &Client, endpoint: &str) -> Result<(), String> {
    match client.list_tables().limit(1).send().await {
        Ok(_) => Ok(()),
        Err(SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => Err(unreachable(endpoint)),
        Err(e) => Err(format!(
            "DynamoDB at {endpoint} refused a ListTables call: {}. Check the endpoint and the \
             credentials.",
            auth::error::chain(&e)
        )),
    }
}

/// Whether each of `tables` exists at the endpoint; the first missing one is named, with the
/// flag that creates them.
pub async fn check_tables(client: &Client, endpoint: &str, tables: &[&str]) -> Result<(), String> {
    for table in tables {
        match client.describe_table().table_name(*table).send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Err(format!(
                    "there is no table `{table}` at {endpoint}. Add --create-tables to create \
                     the three tables the service needs, or name existing ones with \
                     --users-table, --sessions-table and --attempts-table."
                ));
            }
            Err(SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => {
                return Err(unreachable(endpoint));
            }
            Err(e) => {
                return Err(format!(
                    "DynamoDB at {endpoint} refused to describe the table `{table}`: {}. Check \
                     the endpoint and the credentials.",
                    auth::error::chain(&e)
                ));
            }
        }
    }
    Ok(())
}

fn unreachable(endpoint: &str) -> String {
    format!(
        "cannot reach DynamoDB at {endpoint}. Start a DynamoDB-compatible server there (for \
         example `moto_server -p 5000`, from PyPI's `moto[server]`), or leave out \
         --dynamodb-endpoint to use the in-memory store."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_where_the_value_came_from() {
        let err = ConfigError {
            name: "JWT_SECRET",
            problem: "must be at least 32 bytes long (got 5)".into(),
        };
        let flag = config_error(&err, &Source::Flag("--jwt-secret".into()));
        assert!(
            flag.starts_with("--jwt-secret: must be at least 32 bytes"),
            "{flag}"
        );
        assert!(flag.contains("openssl rand -hex 32"), "{flag}");
        let env = config_error(&err, &Source::Environment);
        assert!(
            env.starts_with("JWT_SECRET (set in the environment): "),
            "{env}"
        );
        assert!(env.ends_with("(or `unset JWT_SECRET`)."), "{env}");
    }
}
