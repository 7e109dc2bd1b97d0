//! Loading specs: external references across files, broken specs reported with file and pointer,
//! and two specs that claim one route.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use support::{engine, post, send, test_path};
use understudy_engine::{Engine, EngineOptions, ErrorKind};
use understudy_server::{ServerOptions, app};

#[tokio::test]
async fn references_to_other_files_are_followed_recursively() {
    let app = app(engine("external"), &ServerOptions::default());
    let nested = r#"{"name": "root", "children": [{"name": "leaf", "children": [{"name": "far too long"}]}]}"#;
    let answer = send(&app, post("/trees", nested, &[])).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.json()["violations"][0]["pointer"],
        "/children/0/children/0/name"
    );
    let fine = send(
        &app,
        post("/trees", r#"{"name": "root", "children": []}"#, &[]),
    )
    .await;
    assert_eq!(fine.status, StatusCode::CREATED);
}

#[test]
fn a_broken_spec_is_reported_with_file_pointer_and_reason() {
    let report = Engine::load(&[test_path("broken")], EngineOptions::default()).unwrap_err();
    assert_eq!(report.errors.len(), 1);
    let error = &report.errors[0];
    assert_eq!(error.kind, ErrorKind::Schema);
    assert!(error.file.ends_with("dangling_ref.yaml"));
    assert_eq!(
        error.location,
        "/paths/~1things/post/requestBody/content/application~1json/schema/$ref"
    );
    assert!(error.reason.contains("#/components/schemas/Missing"));
}

#[test]
fn two_specs_claiming_one_route_stop_start_up_naming_both() {
    let report = Engine::load(&[test_path("clash")], EngineOptions::default()).unwrap_err();
    assert_eq!(report.errors.len(), 1);
    let text = report.to_string();
    assert!(text.contains("first.yaml"), "{text}");
    assert!(text.contains("second.yaml"), "{text}");
    assert!(text.contains("GET /v1/users/{userId}"), "{text}");
    assert_eq!(report.errors[0].kind, ErrorKind::RouteClash);
}

#[test]
fn a_missing_path_and_a_syntax_error_are_reported() {
    let report =
        Engine::load(&[test_path("no-such-folder")], EngineOptions::default()).unwrap_err();
    assert_eq!(report.errors[0].kind, ErrorKind::Io);
    let dir = std::env::temp_dir().join(format!("understudy-syntax-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "openapi: 3.0.3\npaths: [unclosed\n").unwrap();
    let report = Engine::load(&[file], EngineOptions::default()).unwrap_err();
    assert_eq!(report.errors[0].kind, ErrorKind::Syntax);
    assert!(report.errors[0].location.starts_with("line "));
    std::fs::remove_dir_all(&dir).unwrap();
}
