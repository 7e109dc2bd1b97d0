//! Answers that fit the spec they were given, on the shapes real public descriptions have
//! (`tests/specs/conform`): a stored record answered only where it fits the answer's schema (an
//! update whose request and answer schemas differ, a list narrower than what was created), a
//! discriminator whose mapping names schemas the document does not have, a callback keyed by
//! something that is not a runtime expression, properties no value satisfies, and patterns whose
//! samples must be checked.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use understudy_engine::{Engine, EngineOptions, MockRequest};

fn engine(folder: &str) -> Engine {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/specs/conform")
        .join(folder);
    let options = EngineOptions {
        seed: Some(7),
        ..EngineOptions::default()
    };
    Engine::load(&[folder], options).unwrap()
}

fn send(engine: &Engine, method: &str, path: &str, body: &Value) -> (StatusCode, Value) {
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
    let body = serde_json::from_slice(&outcome.response.body).unwrap_or(Value::Null);
    (outcome.response.status, body)
}

/// Whether `pull` is a `Pull` as the spec says: `base` an object with `ref` and `sha`.
fn is_pull(pull: &Value) -> bool {
    pull["id"].is_i64()
        && pull["title"].is_string()
        && ["open", "closed"].contains(&pull["state"].as_str().unwrap_or(""))
        && pull["base"]["ref"].is_string()
        && pull["base"]["sha"].is_string()
}

fn create(engine: &Engine, title: &str) -> Value {
    let sent = json!({"title": title, "state": "open", "base": "main"});
    let (status, pull) = send(engine, "POST", "/pulls", &sent);
    assert_eq!(status, StatusCode::CREATED, "{pull}");
    assert!(is_pull(&pull), "{pull}");
    pull
}

#[test]
fn an_update_the_answer_schema_refuses_keeps_what_fits_and_reads_back_the_same() {
    let engine = engine("stored");
    let pull = create(&engine, "Fix the build");
    let id = pull["id"].as_i64().unwrap();
    let path = format!("/pulls/{id}");
    // The request's `base` is a branch name; the answer's is an object: merged as sent, the
    // record would break the answer's schema.
    let change = json!({"title": "Fix the build, again", "state": "closed", "base": "develop"});
    let (status, patched) = send(&engine, "PATCH", &path, &change);
    assert_eq!(status, StatusCode::OK);
    assert!(is_pull(&patched), "{patched}");
    assert_eq!(patched["id"], id);
    assert_eq!(patched["title"], "Fix the build, again");
    assert_eq!(patched["state"], "closed");
    // The store keeps the record as answered, so reads agree with the update.
    let (status, read) = send(&engine, "GET", &path, &Value::Null);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, patched);
}

#[test]
fn a_list_leaves_out_the_stored_records_its_schema_refuses() {
    let engine = engine("stored");
    let open = create(&engine, "Still open");
    let closed = create(&engine, "Soon closed");
    let path = format!("/pulls/{}", closed["id"]);
    let (status, _) = send(&engine, "PATCH", &path, &json!({"state": "closed"}));
    assert_eq!(status, StatusCode::OK);
    // The list documents open pulls only.
    let (status, list) = send(&engine, "GET", "/pulls", &Value::Null);
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&Value> = list.as_array().unwrap().iter().map(|p| &p["id"]).collect();
    assert_eq!(ids, [&open["id"]], "{list}");
}

#[test]
fn a_discriminator_mapping_to_missing_schemas_is_a_warning_and_its_one_of_still_checks() {
    let engine = engine("mapping");
    let warnings = engine.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(
        warnings[0].location,
        "/paths/~1actions/post/requestBody/content/application~1json/schema/discriminator"
    );
    assert!(
        warnings[0].reason.contains("models/actions.yml#/"),
        "{}",
        warnings[0].reason
    );
    for valid in [
        json!({"type": "reboot"}),
        json!({"type": "power_off"}),
        json!({"type": "resize", "size": "s-2vcpu"}),
    ] {
        let (status, body) = send(&engine, "POST", "/actions", &valid);
        assert_eq!(status, StatusCode::ACCEPTED, "{valid}: {body}");
    }
    for invalid in [json!({"type": "resize"}), json!({"type": "explode"})] {
        let (status, _) = send(&engine, "POST", "/actions", &invalid);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{invalid}");
    }
}

#[test]
fn a_callback_url_that_is_no_runtime_expression_is_a_warning_and_the_operation_serves() {
    let engine = engine("callback");
    let warnings = engine.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(
        warnings[0].location,
        "/paths/~1webhooks/post/callbacks/Event/{webhookURL}"
    );
    assert!(
        warnings[0].reason.contains("not a runtime expression"),
        "{}",
        warnings[0].reason
    );
    let (status, body) = send(
        &engine,
        "POST",
        "/webhooks",
        &json!({"url": "http://127.0.0.1:9/hook"}),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["id"].is_string(), "{body}");
}

#[test]
fn a_property_no_value_satisfies_is_left_out() {
    let engine = engine("unsatisfiable");
    for _ in 0..30 {
        let (status, body) = send(&engine, "GET", "/factories", &Value::Null);
        assert_eq!(status, StatusCode::OK, "{body}");
        let factories = body["value"].as_array().unwrap();
        assert!(!factories.is_empty(), "{body}");
        for factory in factories {
            let factory = factory.as_object().unwrap();
            assert!(
                !factory.contains_key("eTag") && !factory.contains_key("name"),
                "{body}"
            );
            assert!(factory.values().all(Value::is_object), "{body}");
        }
    }
}

#[test]
fn strings_for_a_pattern_with_inner_assertions_are_checked_and_one_nothing_matches_is_not_sent() {
    let engine = engine("pattern");
    for index in 0..40 {
        let (status, body) = send(
            &engine,
            "GET",
            &format!("/certificates/{index}"),
            &Value::Null,
        );
        assert_eq!(status, StatusCode::OK, "{body}");
        let tag = body["tag"].as_str().unwrap();
        let mut chars = tag.chars();
        assert_eq!(chars.next(), Some('x'), "{body}");
        let after = chars.next().unwrap();
        assert!(
            !after.is_ascii_alphanumeric() && after != '_' && chars.next().is_none(),
            "{body}"
        );
        // No string matches `pem`'s pattern: an answer never holds one.
        assert!(body.get("pem").is_none(), "{body}");
    }
    // With no example to fall back on, the answer holds only what the schema requires.
    for _ in 0..10 {
        let (status, body) = send(&engine, "GET", "/endpoint", &Value::Null);
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.is_object() && body.get("trust").is_none(), "{body}");
    }
}
