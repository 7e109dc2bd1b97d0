//! Form request bodies are checked against their schema: URL-encoded pairs and multipart fields
//! are read into an object, each field's text as its schema's type, so a missing or out-of-bounds
//! field gets a violation at its pointer, a valid form passes and is echoed like a JSON body, a
//! multipart body that breaks its boundary is malformed, and a form with nested fields (not read)
//! is passed rather than wrongly refused.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use understudy_engine::{Engine, EngineOptions, MockRequest};

fn engine() -> Engine {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/forms");
    let options = EngineOptions {
        seed: Some(1),
        ..EngineOptions::default()
    };
    Engine::load(&[folder], options).unwrap()
}

/// The status, body, and each violation's keyword and pointer, for a POST of `body`.
fn post(
    engine: &Engine,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (StatusCode, Value, Vec<(String, String)>) {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", content_type.parse().unwrap());
    let outcome = engine.handle(&MockRequest {
        method: &Method::POST,
        path,
        query: None,
        headers: &headers,
        body,
    });
    let found = outcome
        .violations
        .iter()
        .map(|violation| (violation.keyword.clone(), violation.pointer.clone()))
        .collect();
    let json = serde_json::from_slice(&outcome.response.body).unwrap_or(Value::Null);
    (outcome.response.status, json, found)
}

const FORM: &str = "application/x-www-form-urlencoded";
const MULTIPART: &str = "multipart/form-data; boundary=b0";

fn pair(keyword: &str, pointer: &str) -> (String, String) {
    (keyword.to_owned(), pointer.to_owned())
}

#[test]
fn url_encoded_forms_are_read_as_their_schema_types_and_checked() {
    let engine = engine();
    let (status, body, found) = post(
        &engine,
        "/login",
        FORM,
        b"username=ada&password=s3cret&remember=true&scopes=read&scopes=write",
    );
    assert_eq!((status, found), (StatusCode::OK, vec![]));
    assert_eq!(body["username"], "ada", "echoed like a JSON body");
    let (status, _, found) = post(&engine, "/login", FORM, b"username=ada&password=abc");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(found, vec![pair("minLength", "/password")]);
    let (_, _, found) = post(
        &engine,
        "/login",
        FORM,
        b"username=&remember=perhaps&scopes=all",
    );
    assert_eq!(
        found,
        vec![
            pair("required", "/password"),
            pair("type", "/remember"),
            pair("enum", "/scopes/0")
        ]
    );
}

#[test]
fn multipart_fields_are_checked_and_a_broken_body_is_malformed() {
    let engine = engine();
    let part = |name: &str, extra: &str, content: &str| {
        format!(
            "--b0\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{content}\r\n"
        )
    };
    let good = [
        part("file", "; filename=\"a.png\"", "\u{1}PNG"),
        part("copies", "", "2"),
        "--b0--\r\n".to_owned(),
    ]
    .concat();
    assert_eq!(
        post(&engine, "/upload", MULTIPART, good.as_bytes()).0,
        StatusCode::NO_CONTENT
    );
    let bad = [part("copies", "", "0"), "--b0--\r\n".to_owned()].concat();
    let (status, _, found) = post(&engine, "/upload", MULTIPART, bad.as_bytes());
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        found,
        vec![pair("required", "/file"), pair("minimum", "/copies")]
    );
    let (status, _, found) = post(&engine, "/upload", MULTIPART, b"--b0\r\nno headers end");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(found, vec![pair("multipart", "")]);
}

#[test]
fn a_form_with_nested_fields_is_not_refused_for_what_is_not_read() {
    let engine = engine();
    let (status, _, found) = post(&engine, "/charges", FORM, b"amount=5&metadata[order]=7");
    assert_eq!((status, found), (StatusCode::NO_CONTENT, vec![]));
    let (status, _, found) = post(&engine, "/refunds", FORM, b"expand[0]=charge");
    assert_eq!((status, found), (StatusCode::NO_CONTENT, vec![]));
}
