//! The local server's route table, the functions in `functions/` and the routes and functions
//! in `template.yaml` are the same, so they cannot drift apart.

mod common;

use std::collections::BTreeSet;

use local_api::routes::ROUTES;
use serde_json::Value;

fn template_resources() -> serde_json::Map<String, Value> {
    common::yaml_file("template.yaml")["Resources"]
        .as_object()
        .expect("Resources")
        .clone()
}

/// (method, path, binary, protected) for every HttpApi event in the template.
fn template_routes() -> BTreeSet<(String, String, String, bool)> {
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
            let protected = match p["Auth"]["Authorizer"].as_str() {
                None | Some("NONE") => false,
                Some("SessionAuthorizer") => true,
                Some(other) => panic!("unknown authorizer {other}"),
            };
            routes.insert((
                p["Method"].as_str().unwrap().to_uppercase(),
                p["Path"].as_str().unwrap().to_owned(),
                binary.clone(),
                protected,
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
                r.protected,
            )
        })
        .collect();
    assert_eq!(local, template_routes());
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
