//! The four vendor specs in `specs/`, end to end: each page's example request succeeds with the
//! documented status and a body valid against the schema, and each documented rule broken on its
//! own gets the vendor's status and names the field or header in the vendor's error shape.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};
use support::{post, send};
use understudy_engine::json_schema::{deref, response_validator};
use understudy_engine::{Engine, EngineOptions};
use understudy_server::{App, ServerOptions, app};

fn vendor_app() -> (App, Arc<Engine>) {
    let specs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let options = EngineOptions {
        seed: Some(11),
        ..EngineOptions::default()
    };
    let engine = Arc::new(Engine::load(&[specs], options).unwrap());
    (app(Arc::clone(&engine), &ServerOptions::default()), engine)
}

/// Checks a body against the schema the operation documents for `status`.
fn assert_valid_success(engine: &Engine, path: &str, status: u16, body: &Value) {
    let operation = engine
        .specs()
        .iter()
        .flat_map(|spec| spec.operations.iter())
        .find(|operation| operation.route == path)
        .unwrap();
    let document = &operation.document;
    let response = document
        .pointer(&format!("{}/responses/{status}", operation.pointer))
        .unwrap();
    let response = deref(document, response);
    // The first documented media type's schema (`application/json`, or problem+json for an
    // error).
    let schema = response["content"]
        .as_object()
        .and_then(|content| content.values().next())
        .and_then(|media| media.get("schema"))
        .unwrap();
    let validator = response_validator(document, schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{path}: {errors:?}\n{body}");
}

/// Removes the value at a JSON pointer.
fn without(mut body: Value, pointer: &str) -> Value {
    let (parent, leaf) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(leaf);
    body
}

/// Sets (or adds) the value at a JSON pointer.
fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let (parent, leaf) = pointer.rsplit_once('/').unwrap();
    let parent = body.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    parent.insert(leaf.to_owned(), value);
    body
}

async fn expect(
    app: &App,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
    status: u16,
    names: &str,
) {
    let answer = send(app, post(path, &body.to_string(), headers)).await;
    assert_eq!(
        answer.status.as_u16(),
        status,
        "{path} {body}: {}",
        answer.text()
    );
    assert!(
        answer.text().contains(names),
        "{path} {body}: `{names}` not named in {}",
        answer.text()
    );
}

const BASIC: (&str, &str) = (
    "authorization",
    "Basic YWRhbUBhdGVjaG1lZGlhLmNvbTpteS1hcGkta2V5",
);
const BEARER: (&str, &str) = ("authorization", "Bearer sk_test_123");
const HOOKS: (&str, &str) = ("x-disable-hooks", "true");

fn deployhq_example() -> Value {
    json!({"user": {"first_name": "Jane", "last_name": "Smith", "email_address": "jane@example.com",
        "can_create_projects": true, "all_projects_allowed": false}})
}

#[tokio::test]
async fn deployhq_invites_a_user_and_rejects_each_broken_rule_with_422_by_field() {
    let (app, engine) = vendor_app();
    let created = send(
        &app,
        post("/users", &deployhq_example().to_string(), &[BASIC]),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let body = created.json();
    assert_valid_success(&engine, "/users", 201, &body);
    assert_eq!(body["email_address"], "jane@example.com");
    assert_eq!(body["can_create_projects"], true);
    assert_eq!(
        body["can_manage_users"], false,
        "permission flags default to false"
    );

    let base = || {
        with(
            deployhq_example(),
            "/user/email_address",
            json!("other@example.com"),
        )
    };
    expect(
        &app,
        "/users",
        &without(base(), "/user/first_name"),
        &[BASIC],
        422,
        "\"first_name\"",
    )
    .await;
    expect(
        &app,
        "/users",
        &without(base(), "/user/email_address"),
        &[BASIC],
        422,
        "\"email_address\"",
    )
    .await;
    expect(&app, "/users", &json!({}), &[BASIC], 422, "\"user\"").await;
    let bad_email = with(base(), "/user/email_address", json!("not-an-email"));
    let answer = send(&app, post("/users", &bad_email.to_string(), &[BASIC])).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.json(),
        json!({"email_address": ["is not a valid e-mail address"]})
    );
    expect(
        &app,
        "/users",
        &with(base(), "/user/can_manage_users", json!("yes")),
        &[BASIC],
        422,
        "\"can_manage_users\"",
    )
    .await;
    expect(&app, "/users", &base(), &[], 401, "").await;
    expect(&app, "/users", &base(), &[BEARER], 401, "").await;
    let duplicate = with(
        deployhq_example(),
        "/user/email_address",
        json!("JANE@example.com"),
    );
    let answer = send(&app, post("/users", &duplicate.to_string(), &[BASIC])).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.json(),
        json!({"email_address": ["has already been taken"]})
    );
    let malformed = send(&app, post("/users", "{\"user\": ", &[BASIC])).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error_code"], "invalid_json");
}

fn flatfile_example() -> Value {
    json!({"email": "john.smith@example.com", "name": "John Smith", "actorRoles": [
        {"roleId": "us_rol_YOUR_ID", "resourceId": "us_acc_YOUR_ID"},
        {"roleId": "us_rol_YOUR_ID", "resourceId": "us_env_YOUR_ID"}]})
}

#[tokio::test]
async fn flatfile_invites_a_user_and_rejects_each_broken_rule_with_400_by_key() {
    let (app, engine) = vendor_app();
    let path = "/v1/users/invite";
    let created = send(
        &app,
        post(path, &flatfile_example().to_string(), &[BEARER, HOOKS]),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let body = created.json();
    assert_valid_success(&engine, path, 200, &body);
    assert_eq!(body["data"]["email"], "john.smith@example.com");
    assert_eq!(
        body["data"]["actorRoles"][1]["resourceId"],
        "us_env_YOUR_ID"
    );
    assert!(body["data"]["id"].as_str().unwrap().starts_with("us_usr_"));

    for field in ["/email", "/name", "/actorRoles"] {
        let answer = send(
            &app,
            post(
                path,
                &without(flatfile_example(), field).to_string(),
                &[BEARER, HOOKS],
            ),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            answer.text()
        );
        assert_eq!(
            answer.json()["errors"][0]["key"],
            &field[1..],
            "{}",
            answer.text()
        );
    }
    expect(
        &app,
        path,
        &with(flatfile_example(), "/email", json!("nope")),
        &[BEARER, HOOKS],
        400,
        "\"key\":\"email\"",
    )
    .await;
    expect(
        &app,
        path,
        &without(flatfile_example(), "/actorRoles/0/roleId"),
        &[BEARER, HOOKS],
        400,
        "\"key\":\"actorRoles.0.roleId\"",
    )
    .await;
    expect(
        &app,
        path,
        &with(flatfile_example(), "/name", json!(42)),
        &[BEARER, HOOKS],
        400,
        "\"key\":\"name\"",
    )
    .await;
    expect(
        &app,
        path,
        &flatfile_example(),
        &[BEARER],
        400,
        "\"key\":\"X-Disable-Hooks\"",
    )
    .await;
    expect(&app, path, &flatfile_example(), &[HOOKS], 401, "").await;
    expect(&app, path, &flatfile_example(), &[BASIC, HOOKS], 401, "").await;
    let again = send(
        &app,
        post(path, &flatfile_example().to_string(), &[BEARER, HOOKS]),
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "Flatfile documents no conflict"
    );
}

fn bleemeo_example() -> Value {
    json!({"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"})
}

#[tokio::test]
async fn bleemeo_creates_a_user_with_any_of_three_schemes_and_answers_drf_errors() {
    let (app, engine) = vendor_app();
    let path = "/v1/user/";
    let created = send(&app, post(path, &bleemeo_example().to_string(), &[BASIC])).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_valid_success(&engine, path, 201, &created.json());
    for (index, scheme) in ["JWT abc.def.ghi", "Bearer token"].into_iter().enumerate() {
        let body = with(
            bleemeo_example(),
            "/email",
            json!(format!("user{index}@example.com")),
        );
        let answer = send(
            &app,
            post(path, &body.to_string(), &[("authorization", scheme)]),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{scheme}: {}",
            answer.text()
        );
    }
    let missing = send(
        &app,
        post(
            path,
            &without(bleemeo_example(), "/email").to_string(),
            &[BASIC],
        ),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json(),
        json!({"email": ["This field is required."]})
    );
    expect(
        &app,
        path,
        &with(bleemeo_example(), "/email", json!("bad")),
        &[BASIC],
        400,
        "\"email\"",
    )
    .await;
    expect(
        &app,
        path,
        &with(
            bleemeo_example(),
            "/profile_picture",
            json!("/relative.png"),
        ),
        &[BASIC],
        400,
        "\"profile_picture\"",
    )
    .await;
    expect(
        &app,
        path,
        &with(bleemeo_example(), "/first_name", json!(3)),
        &[BASIC],
        400,
        "\"first_name\"",
    )
    .await;
    let unauthorised = send(&app, post(path, &bleemeo_example().to_string(), &[])).await;
    assert_eq!(unauthorised.status, StatusCode::UNAUTHORIZED);
    assert!(unauthorised.json()["detail"].is_string());
    expect(
        &app,
        path,
        &bleemeo_example(),
        &[("authorization", "Token abc")],
        401,
        "detail",
    )
    .await;
    let duplicate = send(
        &app,
        post(
            path,
            &with(bleemeo_example(), "/email", json!("ADA@example.com")).to_string(),
            &[BASIC],
        ),
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        duplicate.json(),
        json!({"email": ["user with this email already exists."]})
    );
}

fn guardhouse_example() -> Value {
    json!({"firstName": "John", "lastName": "Doe", "email": "john.doe@example.com", "sendInvite": true,
        "triggerWebhook": true, "redirectUrl": "https://app.example.com/invitation", "inviterName": "Jane Admin"})
}

#[tokio::test]
async fn guardhouse_creates_a_user_and_enforces_lengths_the_invite_rule_and_unique_emails() {
    let (app, engine) = vendor_app();
    let path = "/api/v1/users";
    let created = send(
        &app,
        post(path, &guardhouse_example().to_string(), &[BEARER]),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let body = created.json();
    assert_valid_success(&engine, path, 200, &body);
    assert!(body["userId"].is_i64());

    let base = || with(guardhouse_example(), "/email", json!("other@example.com"));
    for field in ["/firstName", "/lastName", "/email"] {
        expect(
            &app,
            path,
            &without(base(), field),
            &[BEARER],
            400,
            &field[1..],
        )
        .await;
    }
    expect(
        &app,
        path,
        &with(base(), "/firstName", json!("x".repeat(51))),
        &[BEARER],
        400,
        "firstName",
    )
    .await;
    expect(
        &app,
        path,
        &with(base(), "/lastName", json!("x".repeat(51))),
        &[BEARER],
        400,
        "lastName",
    )
    .await;
    expect(
        &app,
        path,
        &with(base(), "/inviterName", json!("x".repeat(151))),
        &[BEARER],
        400,
        "inviterName",
    )
    .await;
    expect(
        &app,
        path,
        &with(base(), "/email", json!("nope")),
        &[BEARER],
        400,
        "email",
    )
    .await;
    expect(
        &app,
        path,
        &with(base(), "/redirectUrl", json!("/invitation")),
        &[BEARER],
        400,
        "redirectUrl",
    )
    .await;
    expect(
        &app,
        path,
        &without(base(), "/redirectUrl"),
        &[BEARER],
        400,
        "redirectUrl",
    )
    .await;
    expect(
        &app,
        path,
        &without(base(), "/inviterName"),
        &[BEARER],
        400,
        "inviterName",
    )
    .await;
    let staged = without(
        without(with(base(), "/sendInvite", json!(false)), "/redirectUrl"),
        "/inviterName",
    );
    let answer = send(&app, post(path, &staged.to_string(), &[BEARER])).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "no invite needs no redirect: {}",
        answer.text()
    );
    expect(
        &app,
        path,
        &with(guardhouse_example(), "/sendInvite", json!("yes")),
        &[BEARER],
        400,
        "sendInvite",
    )
    .await;
    expect(&app, path, &base(), &[], 401, "").await;
    expect(&app, path, &base(), &[BASIC], 401, "").await;
    let duplicate = with(
        guardhouse_example(),
        "/email",
        json!("John.Doe@Example.com"),
    );
    let answer = send(&app, post(path, &duplicate.to_string(), &[BEARER])).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(
        answer.text(),
        "User with email 'john.doe@example.com' already exists"
    );
}

#[tokio::test]
async fn a_status_asked_for_reads_like_an_error_of_that_status_and_fits_its_schema() {
    let (app, engine) = vendor_app();
    let headers = [("authorization", "Bearer abc"), ("prefer", "code=400")];
    let answer = send(
        &app,
        post("/api/v1/users", &guardhouse_example().to_string(), &headers),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let body = answer.json();
    assert_eq!(body["status"], 400, "{body}");
    assert_eq!(body["title"], "Bad Request", "{body}");
    assert_valid_success(&engine, "/api/v1/users", 400, &body);
}
