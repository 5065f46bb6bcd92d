//! The local server's route table, the functions in `functions/` and the routes and functions
//! in `template.yaml` are the same, so they cannot drift apart.

mod common;

use std::collections::BTreeSet;

use local_api::routes::{Auth, ROUTES};
use serde_json::Value;

/// The signing algorithm a stack is deployed with (parameter SigningAlgorithm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    Hs256,
    EdDsa,
}

const BOTH: [Signing; 2] = [Signing::Hs256, Signing::EdDsa];

/// template.yaml as deployed with `signing`: the `IsEdDSA` and `IsHS256` conditions decided
/// (each `!If` on them replaced by the branch taken, a branch of `!Ref AWS::NoValue` dropped,
/// resources and outputs under the other condition removed) and, with EdDSA, the key
/// parameters given (a secret's ARN, a public key on one line).
fn template_as(signing: Signing) -> Value {
    fn decide(v: &Value, eddsa: bool) -> Option<Value> {
        match v {
            Value::Array(a) if a.len() == 3 && (a[0] == "IsEdDSA" || a[0] == "IsHS256") => {
                let taken = if (a[0] == "IsEdDSA") == eddsa {
                    &a[1]
                } else {
                    &a[2]
                };
                if taken == "AWS::NoValue" {
                    None
                } else {
                    decide(taken, eddsa)
                }
            }
            Value::Array(a) => Some(Value::Array(
                a.iter().filter_map(|x| decide(x, eddsa)).collect(),
            )),
            Value::Object(o) => {
                let other = if eddsa { "IsHS256" } else { "IsEdDSA" };
                if o.get("Condition").is_some_and(|c| c == other) {
                    return None;
                }
                Some(Value::Object(
                    o.iter()
                        .filter_map(|(k, x)| Some((k.clone(), decide(x, eddsa)?)))
                        .collect(),
                ))
            }
            other => Some(other.clone()),
        }
    }
    let eddsa = signing == Signing::EdDsa;
    let mut doc = decide(&common::yaml_file("template.yaml"), eddsa).unwrap();
    if eddsa {
        let (_, public) = auth::testing_keys::ed25519_pem_pair();
        for (name, value) in [
            ("SigningAlgorithm", "EdDSA".to_owned()),
            (
                "SigningPrivateKeySecretArn",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:Ed25519Key-AbCdEf".to_owned(),
            ),
            ("SigningPublicKeys", public.replace('\n', " ")),
        ] {
            doc["Parameters"][name]["Default"] = value.into();
        }
    }
    doc
}

fn template_resources() -> serde_json::Map<String, Value> {
    resources_as(Signing::Hs256)
}

fn resources_as(signing: Signing) -> serde_json::Map<String, Value> {
    template_as(signing)["Resources"]
        .as_object()
        .expect("Resources")
        .clone()
}

/// (method, path, binary, authorization) for every HttpApi event in the template.
fn template_routes() -> BTreeSet<(String, String, String, Auth)> {
    let mut routes = BTreeSet::new();
    for resource in template_resources().values() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("every function names its binary")
            .to_owned();
        let Some(events) = resource["Properties"]["Events"].as_object() else {
            continue;
        };
        for event in events.values() {
            assert_eq!(event["Type"], "HttpApi", "only HttpApi events are expected");
            let p = &event["Properties"];
            // Without ApiId, SAM puts the route on an implicit second API that has no
            // authorizer at all.
            assert_eq!(
                p["ApiId"], "HttpApi",
                "{binary}: an event on another API: {event}"
            );
            let auth = match p["Auth"]["Authorizer"].as_str() {
                None | Some("NONE") => Auth::None,
                Some("SessionAuthorizer") => Auth::Session,
                Some("AWS_IAM") => Auth::Iam,
                Some(other) => panic!("unknown authorizer {other}"),
            };
            routes.insert((
                p["Method"].as_str().unwrap().to_uppercase(),
                p["Path"].as_str().unwrap().to_owned(),
                binary.clone(),
                auth,
            ));
        }
    }
    routes
}

#[test]
fn local_routes_match_the_template() {
    let local: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.path.to_owned(),
                r.function.to_owned(),
                r.auth,
            )
        })
        .collect();
    assert_eq!(local, template_routes());
}

/// The routes anyone may call, without a token. A route deployed without the authorizer and not
/// listed here fails [`every_route_is_behind_the_authorizer_or_listed_as_public`]: list one here
/// only on purpose (docs/adding-a-route.md).
const PUBLIC_ROUTES: &[&str] = &[
    "POST /register",
    "POST /login",
    "POST /login/mfa",
    "POST /refresh",
    // The EdDSA public keys (404 with HS256).
    "GET /.well-known/jwks.json",
    "GET /.well-known/openid-configuration",
    // The account page's files.
    "GET /",
    "GET /account.js",
    "GET /account.css",
    "GET /favicon.svg",
];

/// A route added without `Auth: Authorizer: SessionAuthorizer` would be served to anyone: the
/// function would then answer 401 for want of an authorizer context, if it reads the caller, and
/// serve anonymously if it does not. So every route is behind the session authorizer, or IAM
/// under `/admin/`, or on the explicit public list; and nothing else reaches a function from
/// outside (a function URL, another API, a hand-written route).
#[test]
fn every_route_is_behind_the_authorizer_or_listed_as_public() {
    let routes = template_routes();
    for (method, path, binary, auth) in &routes {
        let key = format!("{method} {path}");
        let public = PUBLIC_ROUTES.contains(&key.as_str());
        match auth {
            Auth::None => assert!(
                public,
                "{key} ({binary}) has no authorizer and is not on the public list: add \
                 `Auth: Authorizer: SessionAuthorizer` to its event in template.yaml, or list it \
                 in PUBLIC_ROUTES (local/tests/template.rs) if anyone may call it"
            ),
            Auth::Session => assert!(!public, "{key} is listed as public but is protected"),
            Auth::Iam => assert!(
                path.starts_with("/admin/") && !public,
                "{key}: IAM-authorized routes are the operator routes, under /admin/"
            ),
        }
    }
    for key in PUBLIC_ROUTES {
        assert!(
            routes
                .iter()
                .any(|(m, p, _, auth)| format!("{m} {p}") == *key && *auth == Auth::None),
            "PUBLIC_ROUTES lists {key}, which the template does not serve publicly"
        );
    }
    let api = &template_resources()["HttpApi"]["Properties"];
    assert!(
        api["DefinitionBody"].is_null() && api["DefinitionUri"].is_null(),
        "routes come from the functions' events only, which this test reads"
    );
    for (name, r) in template_resources() {
        let kind = r["Type"].as_str().unwrap();
        assert!(
            !matches!(
                kind,
                "AWS::ApiGatewayV2::Route"
                    | "AWS::ApiGatewayV2::Api"
                    | "AWS::ApiGateway::RestApi"
                    | "AWS::Serverless::Api"
                    | "AWS::Lambda::Url"
                    | "AWS::Lambda::Permission"
            ),
            "{name}: a {kind} can reach a function without the authorizer; routes are \
             HttpApi events of the functions"
        );
        assert!(
            r["Properties"]["FunctionUrlConfig"].is_null(),
            "{name}: a function URL bypasses the API and its authorizer"
        );
    }
}

#[test]
fn every_function_package_has_a_function_resource_and_back() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let packages: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let binaries: BTreeSet<String> = template_resources()
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function")
        .map(|r| {
            r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(packages, binaries);
}

#[test]
fn the_openapi_document_describes_every_route_and_no_other() {
    let doc = common::yaml_file("openapi.yaml");
    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            described.insert((method.to_uppercase(), path.clone()));
        }
    }
    let local: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(local, described);
}

fn function_resource(binary: &str) -> Value {
    function_resource_as(Signing::Hs256, binary)
}

fn function_resource_as(signing: Signing, binary: &str) -> Value {
    resources_as(signing)
        .into_values()
        .find(|r| r["Metadata"]["BuildProperties"]["Binary"] == binary)
        .unwrap_or_else(|| panic!("no function for {binary}"))
}

#[test]
fn the_authorizer_is_wired_so_that_logout_takes_effect_at_once() {
    let doc = common::yaml_file("template.yaml");
    let api = &doc["Resources"]["HttpApi"];
    assert_eq!(api["Type"], "AWS::Serverless::HttpApi");
    let authorizer = &api["Properties"]["Auth"]["Authorizers"]["SessionAuthorizer"];
    assert_eq!(authorizer["AuthorizerPayloadFormatVersion"], "2.0");
    assert_eq!(authorizer["EnableSimpleResponses"], true);
    // Without it API Gateway cannot invoke the authorizer once deployed.
    assert_eq!(authorizer["EnableFunctionDefaultPermissions"], true);
    assert_eq!(
        authorizer["Identity"]["Headers"],
        serde_json::json!(["Authorization"])
    );
    // Caching off, explicitly: a cached allow would outlive logout.
    assert_eq!(authorizer["Identity"]["ReauthorizeEvery"], 0);
    assert_eq!(authorizer["FunctionArn"], "AuthorizerFunction.Arn");
}

#[test]
fn functions_are_arm64_al2023_cargo_lambda_builds() {
    let doc = common::yaml_file("template.yaml");
    let globals = &doc["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"], serde_json::json!(["arm64"]));
    assert_eq!(globals["LoggingConfig"]["LogFormat"], "JSON");
    for r in template_resources().values() {
        if r["Type"] == "AWS::Serverless::Function" {
            assert_eq!(r["Metadata"]["BuildMethod"], "rust-cargolambda");
            let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
            assert_eq!(r["Properties"]["CodeUri"], format!("functions/{binary}"));
            assert!(
                r["Properties"]["MemorySize"].as_i64().is_some(),
                "{binary}: memory"
            );
        }
    }
}

#[test]
fn tables_as_the_design_needs_them() {
    let resources = template_resources();
    for name in ["UsersTable", "SessionsTable", "LoginAttemptsTable"] {
        let t = &resources[name];
        assert_eq!(t["Properties"]["BillingMode"], "PAY_PER_REQUEST", "{name}");
        assert_eq!(
            t["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true,
            "{name}"
        );
    }
    assert_eq!(resources["UsersTable"]["DeletionPolicy"], "Retain");
    assert_eq!(
        resources["UsersTable"]["Properties"]["KeySchema"][0]["AttributeName"],
        "username"
    );
    let sessions = &resources["SessionsTable"]["Properties"];
    assert_eq!(sessions["KeySchema"][0]["AttributeName"], "pk");
    // The per-user index exists for listing, keys only.
    let index = &sessions["GlobalSecondaryIndexes"][0];
    assert_eq!(index["IndexName"], auth_sdk::store::BY_USER_INDEX);
    assert_eq!(index["KeySchema"][0]["AttributeName"], "user_id");
    assert_eq!(index["Projection"]["ProjectionType"], "KEYS_ONLY");
    assert_eq!(
        sessions["TimeToLiveSpecification"]["AttributeName"],
        "expires_at"
    );
    assert_eq!(sessions["TimeToLiveSpecification"]["Enabled"], true);
    let attempts = &resources["LoginAttemptsTable"]["Properties"];
    assert_eq!(attempts["KeySchema"][0]["AttributeName"], "username");
    assert_eq!(
        attempts["TimeToLiveSpecification"]["AttributeName"],
        "expires_at"
    );
}

/// Each function may do exactly what its handler does, on exactly the resources it uses.
#[test]
fn iam_is_least_privilege() {
    let expected: &[(&str, &[(&str, &str)])] = &[
        ("register", &[("dynamodb:PutItem", "UsersTable")]),
        (
            "login",
            &[
                ("dynamodb:GetItem", "UsersTable"),
                ("dynamodb:GetItem", "SessionsTable"),
                ("dynamodb:PutItem", "SessionsTable"),
                ("dynamodb:DeleteItem", "SessionsTable"),
                ("dynamodb:UpdateItem", "SessionsTable"),
                ("dynamodb:GetItem", "LoginAttemptsTable"),
                ("dynamodb:PutItem", "LoginAttemptsTable"),
                ("dynamodb:DeleteItem", "LoginAttemptsTable"),
                ("dynamodb:UpdateItem", "LoginAttemptsTable"),
                ("secretsmanager:GetSecretValue", "SigningKeySecret"),
                ("secretsmanager:GetSecretValue", "MfaKeySecret"),
            ],
        ),
        (
            "mfa",
            &[
                ("dynamodb:GetItem", "UsersTable"),
                ("dynamodb:GetItem", "SessionsTable"),
                ("dynamodb:UpdateItem", "SessionsTable"),
                ("dynamodb:GetItem", "LoginAttemptsTable"),
                ("dynamodb:PutItem", "LoginAttemptsTable"),
                ("dynamodb:DeleteItem", "LoginAttemptsTable"),
                ("dynamodb:UpdateItem", "LoginAttemptsTable"),
                ("secretsmanager:GetSecretValue", "MfaKeySecret"),
            ],
        ),
        ("user-info", &[("dynamodb:GetItem", "UsersTable")]),
        // The example route calls no AWS service: no policy at all.
        ("hello", &[]),
        // The public keys come from its environment.
        ("jwks", &[]),
        (
            "logout",
            &[
                ("dynamodb:BatchGetItem", "SessionsTable"),
                ("dynamodb:DeleteItem", "SessionsTable"),
            ],
        ),
        (
            "authorizer",
            &[
                ("dynamodb:BatchGetItem", "SessionsTable"),
                ("secretsmanager:GetSecretValue", "SigningKeySecret"),
            ],
        ),
        (
            "refresh",
            &[
                ("dynamodb:GetItem", "SessionsTable"),
                ("dynamodb:BatchGetItem", "SessionsTable"),
                ("dynamodb:PutItem", "SessionsTable"),
                ("dynamodb:UpdateItem", "SessionsTable"),
                ("dynamodb:DeleteItem", "SessionsTable"),
                ("secretsmanager:GetSecretValue", "SigningKeySecret"),
            ],
        ),
        (
            "sessions",
            &[
                ("dynamodb:Query", "${SessionsTable.Arn}/index/by-user"),
                ("dynamodb:GetItem", "SessionsTable"),
                ("dynamodb:BatchGetItem", "SessionsTable"),
                ("dynamodb:DeleteItem", "SessionsTable"),
            ],
        ),
        (
            "logout-all",
            &[
                ("dynamodb:UpdateItem", "SessionsTable"),
                ("dynamodb:DeleteItem", "SessionsTable"),
                ("dynamodb:Query", "${SessionsTable.Arn}/index/by-user"),
            ],
        ),
        (
            "change-password",
            &[
                ("dynamodb:GetItem", "UsersTable"),
                ("dynamodb:UpdateItem", "UsersTable"),
                ("dynamodb:BatchGetItem", "SessionsTable"),
                ("dynamodb:UpdateItem", "SessionsTable"),
                ("dynamodb:DeleteItem", "SessionsTable"),
                ("dynamodb:Query", "${SessionsTable.Arn}/index/by-user"),
                ("dynamodb:GetItem", "LoginAttemptsTable"),
                ("dynamodb:PutItem", "LoginAttemptsTable"),
                ("dynamodb:DeleteItem", "LoginAttemptsTable"),
                ("dynamodb:UpdateItem", "LoginAttemptsTable"),
            ],
        ),
        (
            "delete-account",
            &[
                ("dynamodb:GetItem", "UsersTable"),
                ("dynamodb:DeleteItem", "UsersTable"),
                ("dynamodb:BatchGetItem", "SessionsTable"),
                ("dynamodb:UpdateItem", "SessionsTable"),
                ("dynamodb:DeleteItem", "SessionsTable"),
                ("dynamodb:Query", "${SessionsTable.Arn}/index/by-user"),
                ("dynamodb:GetItem", "LoginAttemptsTable"),
                ("dynamodb:PutItem", "LoginAttemptsTable"),
                ("dynamodb:DeleteItem", "LoginAttemptsTable"),
                ("dynamodb:UpdateItem", "LoginAttemptsTable"),
            ],
        ),
        (
            "admin",
            &[
                ("dynamodb:GetItem", "UsersTable"),
                ("dynamodb:GetItem", "SessionsTable"),
                ("dynamodb:BatchGetItem", "SessionsTable"),
                ("dynamodb:UpdateItem", "SessionsTable"),
                ("dynamodb:DeleteItem", "SessionsTable"),
                ("dynamodb:Query", "${SessionsTable.Arn}/index/by-user"),
            ],
        ),
        // Serves files from its own binary: no permission at all.
        ("account-page", &[]),
    ];
    let listed: BTreeSet<&str> = expected.iter().map(|(binary, _)| *binary).collect();
    for r in template_resources().values() {
        if r["Type"] == "AWS::Serverless::Function" {
            let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
            assert!(listed.contains(binary), "{binary}: add its grants here");
        }
    }
    for signing in BOTH {
        least_privilege_as(signing, expected);
    }
    // With EdDSA the generated HS256 secret is not made, and nothing refers to it.
    let eddsa = serde_json::to_string(&template_as(Signing::EdDsa)).unwrap();
    assert!(!eddsa.contains("SigningKeySecret"));
}

/// The grants of `expected` (written for HS256) as deployed with `signing`: with EdDSA login and
/// refresh read the supplied private key's secret instead, and the authorizer no secret at all.
fn least_privilege_as(signing: Signing, expected: &[(&str, &[(&str, &str)])]) {
    for (binary, grants) in expected {
        let grants: Vec<(&str, &str)> = grants
            .iter()
            .filter_map(|&(action, resource)| match (signing, resource) {
                (Signing::EdDsa, "SigningKeySecret") if *binary == "authorizer" => None,
                (Signing::EdDsa, "SigningKeySecret") => {
                    Some((action, "SigningPrivateKeySecretArn"))
                }
                _ => Some((action, resource)),
            })
            .collect();
        let f = function_resource_as(signing, binary);
        let mut actual = BTreeSet::new();
        let policies = match &f["Properties"]["Policies"] {
            Value::Null => Vec::new(),
            Value::Array(policies) => policies.clone(),
            other => panic!("{binary}: policies as a list of inline documents: {other}"),
        };
        for policy in &policies {
            let statements = policy["Statement"]
                .as_array()
                .unwrap_or_else(|| panic!("{binary}: only inline policy documents: {policy}"));
            for s in statements {
                assert_eq!(s["Effect"], "Allow");
                let actions = match &s["Action"] {
                    Value::String(a) => vec![a.clone()],
                    Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
                    other => panic!("{other}"),
                };
                let resource = s["Resource"]
                    .as_str()
                    .unwrap()
                    .trim_end_matches(".Arn")
                    .to_owned();
                for action in actions {
                    assert!(!action.contains('*'), "{binary}: wildcard action {action}");
                    actual.insert((action, resource.clone()));
                }
            }
        }
        let want: BTreeSet<(String, String)> = grants
            .iter()
            .map(|(a, r)| (a.to_string(), r.to_string()))
            .collect();
        assert_eq!(actual, want, "{binary} ({signing:?})");
    }
}

/// The value the template gives a variable, with `!Ref`s to parameters and resources replaced
/// by what they resolve to at deploy time (parameter defaults, table names, a secret ARN).
fn resolve(value: &Value, doc: &Value) -> String {
    // `!Join [",", !Ref ListParameter]` (the tag is lost in parsing): the list's default, which
    // is already the joined text.
    if let Some([Value::String(_), list]) = value.as_array().map(Vec::as_slice) {
        return resolve(list, doc);
    }
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some(default) = doc["Parameters"].get(&text).map(|p| &p["Default"]) {
        return match default {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
    }
    match doc["Resources"]
        .get(&text)
        .map(|r| r["Type"].as_str().unwrap())
    {
        Some("AWS::SecretsManager::Secret") => {
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:SigningKey-AbCdEf".into()
        }
        Some("AWS::DynamoDB::Table") => format!("stack-{text}-ABC123"),
        _ => text,
    }
}

type FromLookup = fn(auth::config::Lookup<'_>) -> Result<(), auth::ConfigError>;

/// Each function's environment in the template is exactly what its configuration reads (bar the
/// two variables meant for local runs only, the variables Lambda itself sets, and the SDK's
/// optional endpoint variables), and its configuration accepts those values with what Lambda
/// sets beside them.
#[test]
fn environment_variables_are_exactly_what_each_function_reads() {
    for signing in BOTH {
        environment_as(signing);
    }
}

fn environment_as(signing: Signing) {
    let doc = template_as(signing);
    // Keys inline (deployed, they come from Secrets Manager) and the local DynamoDB endpoint.
    let local_only: BTreeSet<&str> = [
        "JWT_SECRET",
        "JWT_PRIVATE_KEY",
        "MFA_KEY",
        "DYNAMODB_ENDPOINT_URL",
    ]
    .into();
    // Lambda's reserved variables (the function's region and role credentials): read by the
    // direct client of the authorizer and user-info; a template may not set them.
    let lambda_sets: std::collections::BTreeMap<&str, &str> = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "example-secret"),
        ("AWS_SESSION_TOKEN", "example-token"),
    ]
    .into();
    // Optional, unset in a deployment, read as the SDK reads them.
    let sdk_optional: BTreeSet<&str> = [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT",
    ]
    .into();
    let functions: &[(&str, FromLookup)] = &[
        ("register", |env| {
            register::Config::from_lookup(env).map(|_| ())
        }),
        ("login", |env| login::Config::from_lookup(env).map(|_| ())),
        ("user-info", |env| {
            user_info::Config::from_lookup(env).map(|_| ())
        }),
        ("logout", |env| logout::Config::from_lookup(env).map(|_| ())),
        ("authorizer", |env| {
            authorizer::Config::from_lookup(env).map(|_| ())
        }),
        ("refresh", |env| {
            refresh::Config::from_lookup(env).map(|_| ())
        }),
        ("sessions", |env| {
            sessions::Config::from_lookup(env).map(|_| ())
        }),
        ("logout-all", |env| {
            logout_all::Config::from_lookup(env).map(|_| ())
        }),
        ("change-password", |env| {
            change_password::Config::from_lookup(env).map(|_| ())
        }),
        ("delete-account", |env| {
            delete_account::Config::from_lookup(env).map(|_| ())
        }),
        ("admin", |env| admin::Config::from_lookup(env).map(|_| ())),
        ("mfa", |env| mfa::Config::from_lookup(env).map(|_| ())),
        // Read no variable: the template must set none.
        ("account-page", |_| Ok(())),
        ("hello", |_| Ok(())),
        ("jwks", |env| jwks::Config::from_lookup(env).map(|_| ())),
    ];
    for (binary, from_lookup) in functions {
        let f = function_resource_as(signing, binary);
        let given: std::collections::BTreeMap<String, String> =
            match &f["Properties"]["Environment"]["Variables"] {
                Value::Null => Default::default(),
                variables => variables
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), resolve(v, &doc)))
                    .collect(),
            };
        let read = std::cell::RefCell::new(BTreeSet::<String>::new());
        for reserved in lambda_sets.keys() {
            assert!(
                !given.contains_key(*reserved),
                "{binary}: the template sets {reserved}, which Lambda reserves"
            );
        }
        let lookup = |name: &str| {
            read.borrow_mut().insert(name.to_owned());
            given
                .get(name)
                .cloned()
                .or_else(|| lambda_sets.get(name).map(|v| (*v).to_owned()))
        };
        from_lookup(&lookup).unwrap_or_else(|e| panic!("{binary} ({signing:?}): {e}"));
        let read = read.into_inner();
        let given_names: BTreeSet<String> = given.keys().cloned().collect();
        let unread: Vec<_> = given_names.difference(&read).collect();
        assert!(
            unread.is_empty(),
            "{binary} ({signing:?}): the template sets {unread:?}, which it never reads"
        );
        let missing: Vec<_> = read
            .difference(&given_names)
            .filter(|n| {
                !local_only.contains(n.as_str())
                    && !lambda_sets.contains_key(n.as_str())
                    && !sdk_optional.contains(n.as_str())
            })
            .collect();
        assert!(
            missing.is_empty(),
            "{binary} ({signing:?}): reads {missing:?}, which the template does not set"
        );
    }
}

/// The HTTP API's CORS configuration is what the local server answers with `--cors-origin`
/// (local/src/cors.rs), exists only when origins are given, allows credentials only for the
/// listed origins (never `*`), and login and refresh read the same list.
#[test]
fn cors_is_configured_as_the_local_server_answers_it() {
    use local_api::cors;
    let doc = common::yaml_file("template.yaml");
    let parameter = &doc["Parameters"]["CorsAllowedOrigins"];
    assert_eq!(parameter["Type"], "CommaDelimitedList");
    assert_eq!(
        parameter["Default"], "",
        "no cross-origin caller by default"
    );
    let api = &template_resources()["HttpApi"]["Properties"];
    // !If [HasCorsOrigins, {...}, !Ref AWS::NoValue]
    let choice = api["CorsConfiguration"]
        .as_array()
        .expect("a conditional CORS configuration");
    assert_eq!(choice[0], "HasCorsOrigins");
    assert_eq!(choice[2], "AWS::NoValue");
    let cors_config = &choice[1];
    assert_eq!(cors_config["AllowOrigins"], "CorsAllowedOrigins");
    assert_eq!(cors_config["AllowCredentials"], true);
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&cors_config["AllowHeaders"]), cors::ALLOW_HEADERS);
    assert_eq!(names(&cors_config["AllowMethods"]), cors::ALLOW_METHODS);
    assert_eq!(names(&cors_config["ExposeHeaders"]), cors::EXPOSE_HEADERS);
    assert_eq!(cors_config["MaxAge"], cors::MAX_AGE_SECONDS);
    let methods: BTreeSet<String> = ROUTES.iter().map(|r| r.method.to_owned()).collect();
    let allowed: BTreeSet<String> = cors::ALLOW_METHODS
        .iter()
        .map(|m| (*m).to_owned())
        .collect();
    assert_eq!(methods, allowed, "every route's method, and no other");
    for binary in ["login", "refresh"] {
        let variables = &function_resource(binary)["Properties"]["Environment"]["Variables"];
        assert_eq!(
            variables["CORS_ALLOWED_ORIGINS"],
            serde_json::json!([",", "CorsAllowedOrigins"]),
            "{binary} checks Origin against the same list"
        );
    }
}

/// Every function writes to a log group the stack makes, named as Lambda names it, with the
/// retention the `LogRetentionInDays` parameter sets (as the access logs); none is left to
/// Lambda's never-expiring default.
#[test]
fn every_function_has_a_log_group_with_a_retention() {
    let resources = template_resources();
    let functions: BTreeSet<&String> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, _)| name)
        .collect();
    let mut logged = BTreeSet::new();
    for (name, r) in &resources {
        if r["Type"] != "AWS::Logs::LogGroup" {
            continue;
        }
        let p = &r["Properties"];
        assert_eq!(p["RetentionInDays"], "LogRetentionInDays", "{name}");
        if name == "ApiAccessLogs" {
            continue;
        }
        let group = p["LogGroupName"].as_str().unwrap();
        let function = group
            .strip_prefix("/aws/lambda/${")
            .and_then(|f| f.strip_suffix('}'))
            .unwrap_or_else(|| panic!("{name}: {group} is not a function's log group"));
        assert_eq!(*name, format!("{function}Logs"), "{name}");
        assert!(
            functions.contains(&function.to_owned()),
            "{name}: {function}"
        );
        assert!(
            logged.insert(function.to_owned()),
            "{function}: two log groups"
        );
    }
    let functions: BTreeSet<String> = functions.into_iter().cloned().collect();
    assert_eq!(logged, functions, "functions without a log group");
}

/// The alarms the operations guide describes: the authorizer's errors and throttles, and
/// throttled reads and writes on each table; all behind the `Alarms` parameter, quiet when
/// there is no data, and notifying `AlarmActionArn` when it is given.
#[test]
fn alarms_watch_the_authorizer_and_every_table() {
    let doc = common::yaml_file("template.yaml");
    assert_eq!(doc["Parameters"]["Alarms"]["Default"], "on");
    let mut watched = BTreeSet::new();
    for (name, r) in template_resources() {
        if r["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        assert_eq!(r["Condition"], "CreateAlarms", "{name}");
        let p = &r["Properties"];
        assert_eq!(p["TreatMissingData"], "notBreaching", "{name}");
        assert_eq!(p["Threshold"], 1, "{name}");
        for actions in ["AlarmActions", "OKActions"] {
            assert_eq!(
                p[actions],
                serde_json::json!(["HasAlarmAction", ["AlarmActionArn"], "AWS::NoValue"]),
                "{name}: {actions}"
            );
        }
        let metrics: Vec<&Value> = match p["Metrics"].as_array() {
            Some(metrics) => metrics
                .iter()
                .filter_map(|m| m.get("MetricStat").map(|s| &s["Metric"]))
                .collect(),
            None => vec![p],
        };
        for m in metrics {
            let dimensions: Vec<&str> = m["Dimensions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["Value"].as_str().unwrap())
                .collect();
            watched.insert(format!(
                "{} {} {}",
                m["Namespace"].as_str().unwrap(),
                m["MetricName"].as_str().unwrap(),
                dimensions.join("/")
            ));
        }
        // A metric-math alarm adds up every metric it reads.
        if let Some(metrics) = p["Metrics"].as_array() {
            let ids: Vec<&str> = metrics
                .iter()
                .filter(|m| m.get("MetricStat").is_some())
                .map(|m| m["Id"].as_str().unwrap())
                .collect();
            let sum = metrics
                .iter()
                .find(|m| m["ReturnData"] == true)
                .and_then(|m| m["Expression"].as_str())
                .unwrap_or_else(|| panic!("{name}: no expression"));
            assert_eq!(sum, ids.join(" + "), "{name}");
        }
    }
    let mut want: BTreeSet<String> = [
        "AWS/Lambda Errors AuthorizerFunction",
        "AWS/Lambda Throttles AuthorizerFunction",
    ]
    .map(str::to_owned)
    .into();
    for (name, r) in template_resources() {
        if r["Type"] == "AWS::DynamoDB::Table" {
            want.insert(format!("AWS/DynamoDB ReadThrottleEvents {name}"));
            want.insert(format!("AWS/DynamoDB WriteThrottleEvents {name}"));
            for index in r["Properties"]["GlobalSecondaryIndexes"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let index = index["IndexName"].as_str().unwrap();
                want.insert(format!("AWS/DynamoDB ReadThrottleEvents {name}/{index}"));
                want.insert(format!("AWS/DynamoDB WriteThrottleEvents {name}/{index}"));
            }
        }
    }
    assert_eq!(watched, want);
}

/// docs/configuration.md's table of template parameters lists exactly the template's.
#[test]
fn the_configuration_doc_lists_every_template_parameter() {
    let doc = common::yaml_file("template.yaml");
    let parameters: BTreeSet<String> = doc["Parameters"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md"),
    )
    .unwrap();
    let section = text
        .split("## Template parameters")
        .nth(1)
        .expect("a Template parameters section");
    let section = section.split("\n## ").next().unwrap();
    let listed: BTreeSet<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .filter(|name| !matches!(*name, "parameter" | "---"))
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, parameters);
}
