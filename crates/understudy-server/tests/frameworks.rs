//! Descriptions written by web frameworks, served as they come: FastAPI's OpenAPI 3.1
//! (`tests/frameworks/fastapi.json`, made by `fastapi_app.py` beside it). Valid requests get
//! their documented status and a body valid against the documented schema; invalid ones get the
//! 422 FastAPI documents, in its `HTTPValidationError` shape with `loc` as FastAPI writes it.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{engine, get, post, send};
use understudy_server::{ServerOptions, app};

/// The server's own validator for a schema of the FastAPI description.
fn validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(support::test_path("frameworks/fastapi.json")).unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();
    let schema = json!({"$ref": format!("#/components/schemas/{name}")});
    understudy_engine::json_schema::response_validator(&document, &schema).unwrap()
}

#[tokio::test]
async fn a_fastapi_description_is_served_with_valid_answers() {
    let app = app(engine("frameworks"), &ServerOptions::default());
    let user = r#"{"email": "ada@example.com", "name": "Ada", "age": 36, "tags": ["ops"]}"#;
    let created = send(&app, post("/users", user, &[])).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let body = created.json();
    assert!(validator("User").is_valid(&body), "{body}");
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["kind"], "person");

    let page = send(&app, get("/users?limit=5&role=admin", &[])).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(validator("Page").is_valid(&page.json()), "{}", page.text());

    let id = body["id"].as_str().unwrap();
    let read = send(&app, get(&format!("/users/{id}"), &[])).await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert!(validator("User").is_valid(&read.json()), "{}", read.text());
}

#[tokio::test]
async fn a_request_fastapi_would_refuse_gets_its_documented_422() {
    let app = app(engine("frameworks"), &ServerOptions::default());
    let cases = [
        (
            post("/users", r#"{"email": "nope", "name": "Ada"}"#, &[]),
            vec!["body", "email"],
        ),
        (
            post(
                "/users",
                r#"{"email": "a@b.io", "name": "Ada", "age": 12}"#,
                &[],
            ),
            vec!["body", "age"],
        ),
        (
            post(
                "/users",
                r#"{"email": "a@b.io", "name": "Ada", "kind": "robot"}"#,
                &[],
            ),
            vec!["body", "kind"],
        ),
        (get("/users?limit=500", &[]), vec!["query", "limit"]),
        (get("/users/not-a-uuid", &[]), vec!["path", "user_id"]),
    ];
    for (request, loc) in cases {
        let uri = request.uri().to_string();
        let answer = send(&app, request).await;
        assert_eq!(answer.status, 422, "{uri}: {}", answer.text());
        assert_eq!(answer.header("content-type"), Some("application/json"));
        let body = answer.json();
        assert!(validator("HTTPValidationError").is_valid(&body), "{body}");
        let locations: Vec<&Value> = body["detail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| &item["loc"])
            .collect();
        assert!(
            locations.iter().any(|found| **found == json!(loc)),
            "{uri}: {locations:?} lacks {loc:?}"
        );
    }
}
