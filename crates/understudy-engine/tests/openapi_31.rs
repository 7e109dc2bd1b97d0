//! OpenAPI 3.1 (JSON Schema 2020-12) served as written: the description loads, each 2020-12
//! keyword is enforced on requests (broken alone, it gives a violation naming it), `$ref` siblings
//! apply, `nullable` is not a word, and every generated answer over many seeds is valid under the
//! validator the server uses.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use understudy_engine::{Engine, EngineOptions, MockRequest};

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/openapi31")
}

fn engine(seed: u64) -> Engine {
    let options = EngineOptions {
        seed: Some(seed),
        ..EngineOptions::default()
    };
    Engine::load(&[folder()], options).unwrap()
}

/// Sends one request; returns the status, the body as JSON and the violations' keywords.
fn send(
    engine: &Engine,
    method: &str,
    path: &str,
    body: &Value,
) -> (StatusCode, Value, Vec<String>) {
    let mut headers = HeaderMap::new();
    let text = if body.is_null() {
        String::new()
    } else {
        headers.insert("content-type", "application/json".parse().unwrap());
        body.to_string()
    };
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let outcome = engine.handle(&MockRequest {
        method: &method,
        path,
        query: None,
        headers: &headers,
        body: text.as_bytes(),
    });
    let json = serde_json::from_slice(&outcome.response.body).unwrap_or(Value::Null);
    let keywords = outcome
        .violations
        .iter()
        .map(|violation| violation.keyword.clone())
        .collect();
    (outcome.response.status, json, keywords)
}

/// The spec as a document, and the server's validator for one of its schemas.
fn validator(name: &str) -> jsonschema::Validator {
    let path = folder().join("things.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let document = understudy_engine::document::parse_document(Path::new(&path), &text).unwrap();
    let schema = json!({"$ref": format!("#/components/schemas/{name}")});
    understudy_engine::json_schema::response_validator(&document, &schema).unwrap()
}

/// A change to a valid body that breaks one rule.
type Breaks = Box<dyn Fn(&mut Value)>;

fn valid_new_thing() -> Value {
    json!({
        "name": "lamp",
        "kind": "widget",
        "size": 2.5,
        "point": [1.5, "north"],
        "tags": ["new", "old"],
        "shipping": "courier",
        "address": "1 Main St",
        "card": "4242",
        "billing": "1 Main St",
        "owner": {"name": "Ada", "email": "ada@example.com"},
        "x-trace": "abc"
    })
}

#[test]
fn a_3_1_description_loads_with_its_version_and_path_item_references() {
    let engine = engine(1);
    let spec = &engine.specs()[0];
    assert_eq!(spec.version, "OpenAPI 3.1.0");
    let (status, body, _) = send(&engine, "GET", "/v1/things/7", &Value::Null);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "widget");
    // Webhooks are not routes.
    let (status, _, _) = send(&engine, "POST", "/v1/thingCreated", &json!({}));
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn a_valid_request_passes_every_2020_12_keyword() {
    let engine = engine(1);
    let (status, body, keywords) = send(&engine, "POST", "/v1/things", &valid_new_thing());
    assert_eq!(status, StatusCode::CREATED, "{body} {keywords:?}");
    // `null` is one of the `type` array's types.
    let mut nulled = valid_new_thing();
    nulled["name"] = Value::Null;
    let (status, _, keywords) = send(&engine, "POST", "/v1/things", &nulled);
    assert_eq!(status, StatusCode::CREATED, "{keywords:?}");
}

#[test]
fn each_2020_12_keyword_broken_alone_is_a_violation_naming_it() {
    let engine = engine(1);
    let cases: Vec<(&str, Breaks)> = vec![
        ("type", Box::new(|body| body["name"] = json!(3))),
        ("const", Box::new(|body| body["kind"] = json!("gadget"))),
        ("exclusiveMinimum", Box::new(|body| body["size"] = json!(0))),
        (
            "exclusiveMaximum",
            Box::new(|body| body["size"] = json!(10)),
        ),
        ("type", Box::new(|body| body["point"] = json!([1.5, 2]))),
        (
            "items",
            Box::new(|body| body["point"] = json!([1.5, "n", 3])),
        ),
        (
            "minContains",
            Box::new(|body| body["tags"] = json!(["old"])),
        ),
        (
            "maxContains",
            Box::new(|body| body["tags"] = json!(["new", "new", "new"])),
        ),
        (
            "required",
            Box::new(|body| {
                body.as_object_mut().unwrap().remove("address");
            }),
        ),
        ("not", Box::new(|body| body["shipping"] = json!("post"))),
        (
            "dependentRequired",
            Box::new(|body| {
                body.as_object_mut().unwrap().remove("billing");
            }),
        ),
        ("minLength", Box::new(|body| body["billing"] = json!("1"))),
        ("type", Box::new(|body| body["x-trace"] = json!(5))),
        (
            "propertyNames",
            Box::new(|body| body["x-a-very-long-name"] = json!("v")),
        ),
        (
            "unevaluatedProperties",
            Box::new(|body| body["colour"] = json!("red")),
        ),
        (
            "required",
            Box::new(|body| {
                body["owner"].as_object_mut().unwrap().remove("email");
            }),
        ),
    ];
    for (keyword, breaks) in cases {
        let mut body = valid_new_thing();
        breaks(&mut body);
        let (status, answer, keywords) = send(&engine, "POST", "/v1/things", &body);
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{keyword}: {body}"
        );
        assert!(
            keywords.iter().any(|found| found == keyword),
            "{keyword}: got {keywords:?} for {body}"
        );
        // FastAPI's documented 422 is the shape the violations come back in.
        let detail = answer["detail"].as_array().unwrap();
        assert!(!detail.is_empty(), "{answer}");
        assert!(
            validator("HTTPValidationError").is_valid(&answer),
            "{answer}"
        );
    }
}

#[test]
fn nullable_is_not_a_keyword_in_3_1() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/openapi31-nullable");
    let engine = Engine::load(&[folder], EngineOptions::default()).unwrap();
    let warnings = engine.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].location.ends_with("/properties/a/nullable"));
    assert!(warnings[0].reason.contains("3.1"), "{}", warnings[0].reason);
    let (status, _, keywords) = send(&engine, "POST", "/n", &json!({"a": null}));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(keywords, ["type"]);
    let (status, _, _) = send(&engine, "POST", "/n", &json!({"a": "x"}));
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[test]
fn every_generated_answer_is_valid_under_the_servers_validator() {
    // 2,000 answers: 20 seeds, and 100 requests on each engine (each answer is drawn anew).
    let thing = validator("Thing");
    let mut distinct = std::collections::HashSet::new();
    for seed in 0..20 {
        let engine = engine(seed);
        for request in 0..100 {
            let (status, body, _) = send(&engine, "GET", "/v1/things/3", &Value::Null);
            assert_eq!(status, StatusCode::OK);
            assert!(
                thing.is_valid(&body),
                "seed {seed}, request {request}: {body}"
            );
            // The `$ref`'s sibling `required` holds: Owner alone does not require an email.
            assert!(body["owner"]["email"].is_string(), "seed {seed}: {body}");
            distinct.insert(body.to_string());
        }
    }
    assert!(distinct.len() > 1_000, "answers vary: {}", distinct.len());
}

#[test]
fn the_first_of_examples_feeds_generation() {
    let labels: Vec<Value> = (0..20)
        .map(|seed| send(&engine(seed), "GET", "/v1/things/3", &Value::Null).1["label"].clone())
        .filter(|label| !label.is_null())
        .collect();
    assert!(!labels.is_empty());
    assert!(
        labels.iter().any(|label| label == "Blue widget"),
        "{labels:?}"
    );
}

#[test]
fn ecma_patterns_are_enforced_and_generated_and_others_are_warnings() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/patterns");
    let engine = Engine::load(&[folder], EngineOptions::default()).unwrap();
    let warned: Vec<&str> = engine
        .warnings()
        .iter()
        .map(|warning| warning.location.as_str())
        .collect();
    assert_eq!(warned.len(), 4, "{warned:?}");
    assert!(warned.iter().any(|at| at.ends_with("/hex/pattern")));
    assert!(warned.iter().any(|at| at.ends_with("/slug/pattern")));
    // A pattern that is no string is not enforced, in the request as in the answer.
    let not_text = warned.iter().filter(|at| at.ends_with("/code/pattern"));
    assert_eq!(not_text.count(), 2, "{warned:?}");
    let fine = json!({"look": "user", "back": "aa", "hex": "not hex", "slug": "a.b", "code": "x"});
    let (status, body, keywords) = send(&engine, "POST", "/p", &fine);
    assert_eq!(status, StatusCode::OK, "{keywords:?}");
    let look = body["look"].as_str().unwrap();
    assert!(
        !look.starts_with("admin") && (3..=8).contains(&look.len()),
        "{body}"
    );
    let back = body["back"].as_str().unwrap();
    assert_eq!(back, "abab", "{body}");
    assert!(body["code"].is_string(), "{body}");
    for broken in [json!({"look": "admin2"}), json!({"back": "ab"})] {
        let (status, _, keywords) = send(&engine, "POST", "/p", &broken);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{broken}");
        assert_eq!(keywords, ["pattern"], "{broken}");
    }
}

#[test]
fn a_mutual_tls_scheme_loads_as_a_warning_and_is_not_enforced() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/openapi31-mtls");
    let engine = Engine::load(&[folder], EngineOptions::default()).unwrap();
    let warnings = engine.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].location, "/components/securitySchemes/mtls");
    assert!(
        warnings[0].reason.contains("not enforced"),
        "{}",
        warnings[0].reason
    );
    // No certificate can be asked for over plain HTTP: the requirement is met without one.
    let (status, _, keywords) = send(&engine, "GET", "/certified", &Value::Null);
    assert_eq!(status, StatusCode::NO_CONTENT, "{keywords:?}");
    // The other schemes of a requirement still are.
    let (status, _, _) = send(&engine, "GET", "/keyed", &Value::Null);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut headers = HeaderMap::new();
    headers.insert("x-key", "secret".parse().unwrap());
    let outcome = engine.handle(&MockRequest {
        method: &Method::GET,
        path: "/keyed",
        query: None,
        headers: &headers,
        body: b"",
    });
    assert_eq!(outcome.response.status, StatusCode::NO_CONTENT);
}
