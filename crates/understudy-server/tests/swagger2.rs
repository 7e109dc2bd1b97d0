//! A Swagger 2.0 Petstore, converted to OpenAPI 3.0 at load, served: mounted at its `basePath`,
//! its body parameter checked against its definition, its answers valid against the converted
//! schemas, its apiKey required, and a definition in another 2.0 file followed.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use support::{engine, get, post, send, test_path};
use understudy_engine::document::read_document;
use understudy_engine::json_schema::response_validator;
use understudy_server::{App, ServerOptions, app};

const KEY: (&str, &str) = ("api_key", "secret");

fn petstore() -> App {
    app(engine("swagger2"), &ServerOptions::default())
}

/// Whether `body` is valid against the schema at `pointer` of the Petstore as converted.
fn assert_valid(body: &Value, reference: &str) {
    let path = test_path("swagger2/petstore.yaml");
    let mut document = read_document(&path).unwrap();
    understudy_engine::swagger2::convert(&path, &mut document);
    let validator = response_validator(&document, &json!({"$ref": reference})).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|error| error.to_string())
        .collect();
    assert!(errors.is_empty(), "{body} against {reference}: {errors:?}");
}

#[test]
fn the_petstore_loads_as_swagger_2_with_a_warning_for_what_it_cannot_convert() {
    let engine = engine("swagger2");
    let specs = engine.specs();
    assert_eq!(specs.len(), 1, "the parts file is not a spec of its own");
    assert_eq!(specs[0].version, "Swagger 2.0");
    assert_eq!(specs[0].mount, "/v2");
    assert_eq!(specs[0].operations.len(), 4);
    let warnings: Vec<String> = engine.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("/paths/~1pets/get/parameters/1/collectionFormat")
            && warnings[0].contains("tsv"),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn a_valid_create_gets_its_documented_status_and_a_body_valid_against_the_definition() {
    let app = petstore();
    let pet =
        r#"{"name": "Rex", "photoUrls": ["https://example.com/rex.png"], "status": "available"}"#;
    let created = send(&app, post("/v2/pets", pet, &[KEY])).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let body = created.json();
    assert_eq!(body["name"], "Rex", "the create echoes what was sent");
    assert_valid(&body, "#/components/schemas/Pet");
    // The mount path is `basePath`: the path without it is no route.
    let unmounted = send(&app, post("/pets", pet, &[KEY])).await;
    assert_eq!(unmounted.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_invalid_body_is_a_violation_naming_the_field() {
    let app = petstore();
    let answer = send(
        &app,
        post("/v2/pets", r#"{"name": 7, "photoUrls": []}"#, &[KEY]),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text()
    );
    let violations = answer.json()["violations"].clone();
    assert_eq!(violations[0]["pointer"], "/name", "{violations}");
    let missing = send(&app, post("/v2/pets", r#"{"name": "Rex"}"#, &[KEY])).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.text().contains("photoUrls"), "{}", missing.text());
}

#[tokio::test]
async fn the_api_key_is_required() {
    let answer = send(
        &petstore(),
        post("/v2/pets", r#"{"name": "Rex", "photoUrls": []}"#, &[]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
}

#[tokio::test]
async fn a_path_parameter_and_a_comma_separated_query_array_are_checked() {
    let app = petstore();
    let pet = send(&app, get("/v2/pets/12", &[KEY])).await;
    assert_eq!(pet.status, StatusCode::OK, "{}", pet.text());
    assert_valid(&pet.json(), "#/components/schemas/Pet");
    let zero = send(&app, get("/v2/pets/0", &[KEY])).await;
    assert_eq!(
        zero.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        zero.text()
    );
    assert!(zero.text().contains("petId"), "{}", zero.text());
    let listed = send(&app, get("/v2/pets?status=available,sold", &[KEY])).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    assert_valid(
        &listed.json(),
        "#/paths/~1pets/get/responses/200/content/application~1json/schema",
    );
    let unknown = send(&app, get("/v2/pets?status=available,lost", &[KEY])).await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.text()
    );
    assert!(unknown.text().contains("status"), "{}", unknown.text());
}

#[tokio::test]
async fn a_form_upload_is_a_multipart_body_answered_from_a_definition_in_another_file() {
    let app = petstore();
    let form = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\nPNG\r\n--b--\r\n";
    let request = Request::builder()
        .method("POST")
        .uri("/v2/pets/3/photos")
        .header("content-type", "multipart/form-data; boundary=b")
        .header(KEY.0, KEY.1)
        .body(Body::from(form))
        .unwrap();
    let answer = send(&app, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    let code = body["code"].as_i64().unwrap();
    assert!((100..=599).contains(&code), "{body}");
    let json = send(&app, post("/v2/pets/3/photos", "{}", &[KEY])).await;
    assert_eq!(
        json.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        json.text()
    );
}
