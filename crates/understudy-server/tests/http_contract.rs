//! The HTTP contract of the server, driven in-process with `oneshot` over small test specs:
//! routing, credentials, parameters, content types, bodies, statuses, preferences, CORS and limits.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use support::{engine, get, post, send, test_app};
use understudy_server::{ServerOptions, app};

const BASIC: (&str, &str) = ("authorization", "Basic dXNlcjpwYXNz");
const TRACE: (&str, &str) = ("x-trace", "abc123");

#[tokio::test]
async fn an_unknown_path_is_404_with_the_served_paths_listed() {
    let answer = send(&test_app(), get("/api/nothing", &[])).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let body = answer.json();
    assert!(
        body["paths"]
            .as_array()
            .unwrap()
            .contains(&json!("POST /api/pets"))
    );
}

#[tokio::test]
async fn an_undocumented_method_is_405_with_allow() {
    let request = Request::builder()
        .method("PUT")
        .uri("/api/pets")
        .body(Body::empty())
        .unwrap();
    let answer = send(&test_app(), request).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.header("allow"), Some("GET, POST"));
}

#[tokio::test]
async fn specs_are_mounted_under_their_server_path_and_literals_beat_templates() {
    let app = test_app();
    let mine = send(&app, get("/api/pets/mine", &[])).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text());
    assert!(mine.json()["mine"].is_boolean());
    let unmounted = send(&app, get("/pets/mine", &[])).await;
    assert_eq!(unmounted.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn missing_credentials_are_401_naming_every_accepted_scheme() {
    let answer = send(
        &test_app(),
        post("/api/pets", r#"{"name":"Tom","kind":"cat"}"#, &[]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Basic realm=\"pets\", JWT")
    );
    let body = answer.json();
    assert_eq!(body["violations"][0]["location"], "header");
    assert_eq!(body["violations"][0]["field"], "Authorization");
    assert_eq!(body["violations"][0]["keyword"], "security");
}

#[tokio::test]
async fn the_wrong_scheme_is_401_and_schemes_match_case_insensitively() {
    let app = test_app();
    let bearer = post(
        "/api/pets",
        r#"{"name":"Tom","kind":"cat"}"#,
        &[("authorization", "Bearer abc")],
    );
    let answer = send(&app, bearer).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        answer.json()["detail"]
            .as_str()
            .unwrap()
            .contains("`Bearer` scheme is not accepted")
    );
    let jwt = post(
        "/api/pets",
        r#"{"name":"Tom","kind":"cat"}"#,
        &[("authorization", "jwt abc")],
    );
    assert_eq!(send(&app, jwt).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_api_key_header_satisfies_its_scheme_and_path_parameters_are_typed() {
    let app = test_app();
    let missing = send(&app, get("/api/pets/5", &[])).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let ok = send(&app, get("/api/pets/5", &[("x-api-key", "k")])).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let wrong = send(&app, get("/api/pets/abc", &[("x-api-key", "k")])).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let violation = &wrong.json()["violations"][0];
    assert_eq!(violation["location"], "path");
    assert_eq!(violation["pointer"], "/petId");
    assert_eq!(violation["keyword"], "type");
}

#[tokio::test]
async fn query_and_header_parameters_are_coerced_and_every_violation_is_reported() {
    let answer = send(&test_app(), get("/api/pets?limit=100&kind=cat,bird", &[])).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = answer.json();
    let violations = body["violations"].as_array().unwrap();
    let keyed: Vec<(String, String, String)> = violations
        .iter()
        .map(|v| {
            (
                v["location"].as_str().unwrap().to_owned(),
                v["pointer"].as_str().unwrap().to_owned(),
                v["keyword"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        keyed.contains(&("query".into(), "/limit".into(), "maximum".into())),
        "{keyed:?}"
    );
    assert!(
        keyed.contains(&("query".into(), "/kind/1".into(), "enum".into())),
        "{keyed:?}"
    );
    assert!(
        keyed.contains(&("header".into(), "/X-Trace".into(), "required".into())),
        "{keyed:?}"
    );
    let fine = send(
        &test_app(),
        get("/api/pets?limit=10&kind=cat,dog", &[TRACE]),
    )
    .await;
    assert_eq!(fine.status, StatusCode::OK, "{}", fine.text());
}

#[tokio::test]
async fn schema_violations_fill_the_documented_error_shape() {
    let body = r#"{"kind":"cow","email":"not-an-email","tags":["a","b","c","d"]}"#;
    let answer = send(&test_app(), post("/api/pets", body, &[BASIC])).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let body = answer.json();
    assert_eq!(body["name"], json!(["is required"]));
    assert_eq!(body["email"], json!(["is not an e-mail address"]));
    assert!(body["kind"][0].as_str().unwrap().contains("is not one of"));
    assert!(body["tags"][0].as_str().unwrap().contains("more than 3"));
    assert!(
        body.get("id").is_none(),
        "readOnly `id` must not be required: {body}"
    );
}

#[tokio::test]
async fn without_documented_errors_the_engines_statuses_and_problem_details_apply() {
    let app = test_app();
    let wrong_type = Request::builder()
        .method("POST")
        .uri("/notes")
        .header("content-type", "text/plain")
        .body(Body::from("hello"))
        .unwrap();
    let answer = send(&app, wrong_type).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.json()["violations"][0]["field"], "Content-Type");

    let malformed = send(&app, post("/notes", r#"{"text": "#, &[])).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(
        malformed.json()["detail"]
            .as_str()
            .unwrap()
            .contains("not well-formed JSON")
    );

    let not_utf8 = Request::builder()
        .method("POST")
        .uri("/notes")
        .header("content-type", "application/json")
        .body(Body::from(vec![b'"', 0xff, 0xfe, b'"']))
        .unwrap();
    let answer = send(&app, not_utf8).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.json()["detail"].as_str().unwrap().contains("UTF-8"));

    let invalid = send(
        &app,
        post(
            "/notes",
            r#"{"text": "far too long a note", "extra": 1}"#,
            &[],
        ),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        invalid.header("content-type"),
        Some("application/problem+json")
    );
    let pointers: Vec<String> = invalid.json()["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v["pointer"].as_str().unwrap(),
                v["keyword"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        pointers.contains(&"/text maxLength".to_owned()),
        "{pointers:?}"
    );
    assert!(
        pointers.contains(&"/extra additionalProperties".to_owned()),
        "{pointers:?}"
    );

    let empty = Request::builder()
        .method("POST")
        .uri("/notes")
        .body(Body::empty())
        .unwrap();
    let answer = send(&app, empty).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json()["violations"][0]["keyword"], "required");
}

#[tokio::test]
async fn an_unsatisfiable_accept_is_406_and_accept_picks_the_media_type() {
    let app = test_app();
    let answer = send(
        &app,
        get("/api/pets", &[TRACE, ("accept", "application/xml")]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_ACCEPTABLE);
    let text = send(&app, get("/api/pets", &[TRACE, ("accept", "text/plain")])).await;
    assert_eq!(text.status, StatusCode::OK);
    assert_eq!(text.header("content-type"), Some("text/plain"));
}

#[tokio::test]
async fn prefer_and_query_controls_choose_status_example_and_static_mode() {
    let app = test_app();
    let example = send(&app, get("/api/pets", &[TRACE, ("prefer", "example=two")])).await;
    assert_eq!(
        example.json(),
        json!([{"id": 1, "name": "Tom", "kind": "cat"}, {"id": 2, "name": "Rex", "kind": "dog"}])
    );
    let query = send(&app, get("/api/pets?__example=two", &[TRACE])).await;
    assert_eq!(query.json(), example.json());
    let fixed = send(
        &app,
        get(
            "/api/pets",
            &[TRACE, ("prefer", "dynamic=false"), ("accept", "text/plain")],
        ),
    )
    .await;
    assert_eq!(fixed.text(), "Tom, Rex");
    let code = send(
        &app,
        post(
            "/api/pets",
            r#"{"name":"Tom","kind":"cat"}"#,
            &[BASIC, ("prefer", "code=422")],
        ),
    )
    .await;
    assert_eq!(code.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = send(&app, get("/api/pets?__code=418", &[TRACE])).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.json()["available"], json!(["200"]));
    let no_such_example = send(
        &app,
        get("/api/pets", &[TRACE, ("prefer", "example=three")]),
    )
    .await;
    assert_eq!(no_such_example.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_such_example.json()["available"], json!(["two"]));
}

#[tokio::test]
async fn documented_response_headers_are_sent_and_head_has_no_body() {
    let app = test_app();
    let answer = send(&app, get("/api/pets", &[TRACE])).await;
    assert_eq!(answer.header("x-total"), Some("2"));
    let head = Request::builder()
        .method("HEAD")
        .uri("/api/pets")
        .header("x-trace", "ab")
        .body(Body::empty())
        .unwrap();
    let answer = send(&app, head).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.is_empty());
    assert_eq!(answer.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn a_response_without_content_has_no_content_type() {
    let app = test_app();
    let mut delete = get("/api/pets/5", &[("authorization", "Basic dTpw")]);
    *delete.method_mut() = Method::DELETE;
    let answer = send(&app, delete).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert!(answer.body.is_empty());
    assert_eq!(answer.header("content-type"), None);
}

#[tokio::test]
async fn cors_preflight_is_answered_on_every_path_and_can_be_turned_off() {
    let preflight = || {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/pets/12")
            .header("origin", "http://localhost:5173")
            .header("access-control-request-method", "DELETE")
            .header("access-control-request-headers", "authorization,x-api-key")
            .body(Body::empty())
            .unwrap()
    };
    let answer = send(&test_app(), preflight()).await;
    assert!(answer.status.is_success());
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(
        answer.header("access-control-allow-methods"),
        Some("DELETE")
    );
    assert_eq!(
        answer.header("access-control-allow-headers"),
        Some("authorization,x-api-key")
    );
    let off = app(
        engine("specs"),
        &ServerOptions {
            cors: false,
            ..ServerOptions::default()
        },
    );
    let answer = send(&off, preflight()).await;
    assert!(answer.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn only_requests_with_an_origin_get_cors_headers_and_every_answer_varies_on_it() {
    let app = test_app();
    let plain = send(&app, get("/api/pets", &[TRACE])).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(
        plain.header("vary"),
        Some(understudy_server::cors_for_origins::VARY)
    );
    assert!(plain.header("access-control-allow-origin").is_none());
    assert!(plain.header("access-control-allow-credentials").is_none());
    let from_browser = get("/api/pets", &[TRACE, ("origin", "http://localhost:5173")]);
    let cors = send(&app, from_browser).await;
    assert_eq!(cors.status, StatusCode::OK);
    assert_eq!(
        cors.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(
        cors.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        cors.header("vary"),
        Some(understudy_server::cors_for_origins::VARY)
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_problem_details() {
    let small = app(
        engine("specs"),
        &ServerOptions {
            max_body: 64,
            ..ServerOptions::default()
        },
    );
    let big = format!(r#"{{"text": "{}"}}"#, "x".repeat(200));
    let answer = send(&small, post("/notes", &big, &[])).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        answer.json()["detail"]
            .as_str()
            .unwrap()
            .contains("64 bytes")
    );
}

#[tokio::test]
async fn a_unique_value_conflicts_in_the_documented_shape_after_normalising() {
    let app = test_app();
    let first = send(
        &app,
        post("/api/pets", r#"{"name":"Tom","kind":"cat"}"#, &[BASIC]),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = send(
        &app,
        post("/api/pets", r#"{"name":" TOM ","kind":"dog"}"#, &[BASIC]),
    )
    .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.header("content-type"), Some("text/plain"));
    assert_eq!(second.text(), "a pet named tom already exists");
}

#[tokio::test]
async fn a_unique_value_the_request_leaves_to_its_default_is_stored_as_the_default() {
    let app = test_app();
    let first = send(&app, post("/tags", "{}", &[])).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.json()["label"], "general", "the default, echoed");
    let again = send(&app, post("/tags", "{}", &[])).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "the default was stored");
    let named = send(&app, post("/tags", r#"{"label": "general"}"#, &[])).await;
    assert_eq!(named.status, StatusCode::CONFLICT);
    let other = send(&app, post("/tags", r#"{"label": "urgent"}"#, &[])).await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_eq!(other.json()["label"], "urgent");
}

#[tokio::test]
async fn the_admin_api_lists_routes_logs_requests_without_credentials_and_resets() {
    let app = test_app();
    let routes = send(&app, get("/__understudy/routes", &[])).await.json();
    assert!(
        routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["path"] == "/api/pets/{petId}" && r["method"] == "DELETE")
    );
    send(
        &app,
        post(
            "/api/pets",
            r#"{"name":"Rex","kind":"dog","email":"x"}"#,
            &[BASIC],
        ),
    )
    .await;
    let log = send(&app, get("/__understudy/requests?limit=5", &[])).await;
    let text = log.text();
    assert!(
        !text.contains("dXNlcjpwYXNz"),
        "credentials leaked into the log: {text}"
    );
    let entry = &log.json()["requests"][0];
    assert_eq!(entry["status"], 422);
    assert_eq!(entry["violations"][0]["pointer"], "/email");
    let bad_limit = send(&app, get("/__understudy/requests?limit=many", &[])).await;
    assert_eq!(bad_limit.status, StatusCode::BAD_REQUEST);
    let reset = Request::builder()
        .method("POST")
        .uri("/__understudy/reset")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, reset).await.status, StatusCode::NO_CONTENT);
    let log = send(&app, get("/__understudy/requests", &[])).await.json();
    assert_eq!(log["requests"], json!([]));
}

#[tokio::test]
async fn a_seeded_engine_answers_the_same_requests_with_the_same_bytes() {
    let run = || async {
        let app = test_app();
        let mut bodies = Vec::new();
        for name in ["Tom", "Rex", "Kit"] {
            let body = format!(r#"{{"name":"{name}","kind":"cat"}}"#);
            bodies.push(send(&app, post("/api/pets", &body, &[BASIC])).await.body);
        }
        bodies
    };
    assert_eq!(run().await, run().await);
}
