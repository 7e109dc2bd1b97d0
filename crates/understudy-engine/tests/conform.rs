//! Answers that fit the spec they were given, on the shapes real public descriptions have
//! (`tests/specs/conform`): a discriminator whose mapping names schemas the document does not
//! have.
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
