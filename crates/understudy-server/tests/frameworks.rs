//! Descriptions written by web frameworks, served as they come: FastAPI's and django-ninja's
//! OpenAPI 3.1 (`tests/frameworks/*.json`, each made by the `*_app.py` beside it). Valid requests get
//! their documented status and a body valid against the documented schema; invalid ones get the
//! 422 FastAPI documents, in its `HTTPValidationError` shape with `loc` as FastAPI writes it.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{engine, get, post, send};
use understudy_server::{ServerOptions, app};

/// The server's own validator for a schema of the FastAPI description.
fn validator(name: &str) -> jsonschema::Validator {
    validator_in("fastapi", name)
}

/// The server's own validator for a schema of one framework's description.
fn validator_in(framework: &str, name: &str) -> jsonschema::Validator {
    let file = format!("frameworks/{framework}.json");
    let text = std::fs::read_to_string(support::test_path(&file)).unwrap();
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

#[tokio::test]
async fn a_django_ninja_description_is_served_and_checked() {
    let app = app(engine("frameworks"), &ServerOptions::default());
    let book =
        r#"{"title": "Dune", "isbn": "9780441013593", "pages": 412, "authors": ["Frank Herbert"]}"#;
    let created = send(&app, post("/api/books", book, &[])).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let body = created.json();
    assert!(validator_in("ninja", "BookOut").is_valid(&body), "{body}");
    assert_eq!(body["isbn"], "9780441013593");

    let listed = send(&app, get("/api/books?author=Herbert&limit=3", &[])).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    for item in listed.json().as_array().unwrap() {
        assert!(validator_in("ninja", "BookOut").is_valid(item), "{item}");
    }

    let bad_isbn = r#"{"title": "Dune", "isbn": "123", "pages": 412, "authors": ["F"]}"#;
    let refused = send(&app, post("/api/books", bad_isbn, &[])).await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert!(refused.text().contains("/isbn"), "{}", refused.text());
    let no_pages = r#"{"title": "Dune", "isbn": "9780441013593", "pages": 0, "authors": ["F"]}"#;
    assert_eq!(
        send(&app, post("/api/books", no_pages, &[])).await.status,
        422
    );
    assert_eq!(send(&app, get("/api/books/abc", &[])).await.status, 422);
}
