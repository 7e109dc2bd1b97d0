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
async fn an_expired_jwt_is_401_with_an_invalid_token_challenge_beside_the_other_schemes() {
    // `{"alg":"none"}` and `{"exp":1}`: expired in 1970, whatever the clock.
    let expired = "JWT eyJhbGciOiJub25lIn0.eyJleHAiOjF9.";
    let body = r#"{"name":"Tom","kind":"cat"}"#;
    let answer = send(
        &test_app(),
        post("/api/pets", body, &[("authorization", expired)]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
    assert_eq!(
        answer.header("www-authenticate"),
        Some(
            "Basic realm=\"pets\", JWT error=\"invalid_token\", error_description=\"the `JWT` \
             token expired at 1970-01-01T00:00:01Z (the mock's clock says 2025-01-01T12:00:00Z)\""
        )
    );
    assert_eq!(answer.json()["violations"][0]["keyword"], "exp");
    assert!(!answer.text().contains("eyJ"), "{}", answer.text());
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
            "/api/pets?api_key=SECRET-MATCHED",
            r#"{"name":"Rex","kind":"dog","email":"x"}"#,
            &[BASIC],
        ),
    )
    .await;
    // Credentials in the query, on a path no spec serves, with a method the path does not serve,
    // and under a percent-encoded name: the log shows that they were sent, never what they were.
    let unserved = send(&app, get("/nope?page=2&api_key=SECRET-404", &[])).await;
    assert_eq!(unserved.status, StatusCode::NOT_FOUND);
    let wrong_method = Request::builder()
        .method("PUT")
        .uri("/api/pets?ACCESS_TOKEN=SECRET-405")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&app, wrong_method).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    send(&app, get("/nope?api%5Fkey=SECRET-ENCODED", &[])).await;
    let log = send(&app, get("/__understudy/requests?limit=5", &[])).await;
    let text = log.text();
    assert!(
        !text.contains("SECRET"),
        "credentials leaked into the log: {text}"
    );
    let log = log.json();
    let queries: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["query"].as_str().unwrap())
        .collect();
    assert_eq!(
        queries,
        [
            "api_key=***",
            "page=2&api_key=***",
            "ACCESS_TOKEN=***",
            "api%5Fkey=***"
        ]
    );
    assert_eq!(log["truncated"], false);
    let entry = &log["requests"][0];
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

#[tokio::test]
async fn operations_on_equivalent_templates_read_parameters_by_their_own_names() {
    // GitHub's `GET …/{subject_digest}` and `DELETE …/{attestation_id}` share one route.
    let app = app(engine("routing"), &ServerOptions::default());
    let listed = send(&app, get("/orgs/acme/attestations/sha256:ab12", &[])).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let wrong = send(&app, get("/orgs/acme/attestations/md5:zz", &[])).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.json()["violations"][0]["pointer"], "/subject_digest");
    let delete = Request::builder()
        .method("DELETE")
        .uri("/orgs/acme/attestations/42")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, delete).await.status, StatusCode::NO_CONTENT);
    let delete = Request::builder()
        .method("DELETE")
        .uri("/orgs/acme/attestations/abc")
        .body(Body::empty())
        .unwrap();
    let refused = send(&app, delete).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.json()["violations"][0]["pointer"],
        "/attestation_id"
    );
}

#[tokio::test]
async fn documented_framing_and_hop_by_hop_headers_are_never_copied_into_an_answer() {
    let app = app(engine("answers"), &ServerOptions::default());
    let answer = send(
        &app,
        post("/markdown", r#"{"text":"Hello **world**"}"#, &[]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    for name in [
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "trailer",
    ] {
        assert_eq!(answer.header(name), None, "{name} was copied");
    }
    // The length is the body's own, not the documented 279.
    assert_ne!(answer.header("content-length"), Some("279"));
    assert_eq!(answer.header("x-commonmarker-version"), Some("0.17.11"));
}

#[tokio::test]
async fn a_valid_request_gets_a_documented_status_and_bodiless_statuses_have_no_body() {
    let app = app(engine("answers"), &ServerOptions::default());
    let only_405 = send(&app, post("/pet", "{}", &[])).await;
    assert_eq!(only_405.status, StatusCode::METHOD_NOT_ALLOWED);
    let redirect = send(&app, get("/repos/octocat/hello-world/tarball", &[])).await;
    assert_eq!(redirect.status, StatusCode::FOUND);
    assert_eq!(
        redirect.header("location"),
        Some("https://codeload.github.com/octocat/hello-world/legacy.tar.gz/main")
    );
    let ping = Request::builder()
        .method("PUT")
        .uri("/pings")
        .body(Body::empty())
        .unwrap();
    let ping = send(&app, ping).await;
    assert_eq!(ping.status, StatusCode::NO_CONTENT);
    assert!(ping.body.is_empty(), "{}", ping.text());
    assert_eq!(ping.header("content-type"), None);
    let cached = send(&app, get("/cached", &[])).await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty(), "{}", cached.text());
    // A 1xx cannot be a final answer: not chosen, and not forced.
    let switch = send(&app, get("/switch", &[])).await;
    assert_eq!(switch.status, StatusCode::NO_CONTENT);
    let forced = send(&app, get("/switch", &[("prefer", "code=101")])).await;
    assert_eq!(forced.status, StatusCode::BAD_REQUEST, "{}", forced.text());
    assert!(forced.text().contains("informational"), "{}", forced.text());
}

#[tokio::test]
async fn media_type_ranges_are_answered_with_a_concrete_type_that_fits_the_body() {
    let app = app(engine("answers"), &ServerOptions::default());
    for accept in [None, Some("application/json"), Some("*/*")] {
        let headers: Vec<(&str, &str)> = accept
            .map(|accept| ("accept", accept))
            .into_iter()
            .collect();
        let anything = send(&app, get("/anything", &headers)).await;
        assert_eq!(
            anything.status,
            StatusCode::OK,
            "{accept:?}: {}",
            anything.text()
        );
        assert_eq!(anything.header("content-type"), Some("application/json"));
        assert!(anything.json()["id"].is_i64(), "{}", anything.text());
    }
    let greeting = send(&app, get("/greeting", &[])).await;
    assert_eq!(greeting.header("content-type"), Some("text/plain"));
    let archive = send(&app, get("/archive", &[])).await;
    assert_eq!(
        archive.header("content-type"),
        Some("application/octet-stream")
    );
}

#[tokio::test]
async fn rejected_requests_are_answered_in_the_documented_error_shape() {
    let app = app(engine("answers"), &ServerOptions::default());
    let long = r#"{"title": "a title far longer than twenty characters"}"#;

    let fastapi = send(&app, post("/fastapi/todos", "{}", &[])).await;
    assert_eq!(fastapi.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fastapi.header("content-type"), Some("application/json"));
    let detail = &fastapi.json()["detail"];
    assert_eq!(detail[0]["loc"], json!(["body", "title"]), "{detail}");
    assert!(
        detail[0]["msg"].as_str().unwrap().contains("required"),
        "{detail}"
    );
    assert!(detail[0]["type"].is_string(), "{detail}");
    let fastapi = send(&app, post("/fastapi/todos", long, &[])).await;
    let detail = &fastapi.json()["detail"];
    assert_eq!(detail[0]["loc"], json!(["body", "title"]), "{detail}");
    assert!(
        detail[0]["msg"].as_str().unwrap().contains("20"),
        "{detail}"
    );

    let google = send(&app, post("/google/todos", long, &[])).await;
    assert_eq!(google.status, StatusCode::UNAUTHORIZED);
    assert!(google.header("www-authenticate").is_some());
    let error = &google.json()["error"];
    assert_eq!(error["code"], 401, "{error}");
    assert_eq!(error["status"], "UNAUTHENTICATED", "{error}");
    let google = send(
        &app,
        post("/google/todos", long, &[("authorization", "Bearer t")]),
    )
    .await;
    assert_eq!(google.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = &google.json()["error"];
    assert_eq!(error["code"], 422, "{error}");
    assert_eq!(error["status"], "INVALID_ARGUMENT", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("/title"),
        "{error}"
    );

    let stripe = send(&app, post("/stripe/todos", long, &[])).await;
    let error = &stripe.json()["error"];
    assert_eq!(error["type"], "invalid_request_error", "{error}");
    assert_eq!(error["param"], "title", "{error}");

    let aspnet = send(&app, post("/aspnet/todos", long, &[])).await;
    assert_eq!(aspnet.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        aspnet.header("content-type"),
        Some("application/problem+json")
    );
    let problem = aspnet.json();
    assert_eq!(problem["status"], 400, "{problem}");
    assert_eq!(
        problem["errors"]["title"][0],
        "\"a title far longer than twenty characters\" is longer than 20 characters",
        "{problem}"
    );

    // Slack's errors: an `enum` code that names the status (its example is outside the enum,
    // so it is not sent), and a schema with no place for what went wrong, whose example is.
    let slack = send(&app, post("/slack/todos", "", &[])).await;
    assert_eq!(slack.status, StatusCode::UNAUTHORIZED);
    assert_eq!(slack.json(), json!({"ok": false, "error": "not_authed"}));
    let ping = send(&app, post("/slack/ping", "", &[])).await;
    assert_eq!(ping.status, StatusCode::UNAUTHORIZED);
    assert_eq!(ping.json(), json!({"ok": false, "error": "invalid_auth"}));
}

#[tokio::test]
async fn a_status_asked_for_fills_the_documented_error_shape_with_what_it_means() {
    let app = app(engine("answers"), &ServerOptions::default());
    let valid = r#"{"title": "Buy milk"}"#;
    let headers = [("authorization", "Bearer t"), ("prefer", "code=404")];
    let google = send(&app, post("/google/todos", valid, &headers)).await;
    assert_eq!(google.status, StatusCode::NOT_FOUND);
    let error = &google.json()["error"];
    assert_eq!(error["code"], 404, "{error}");
    assert_eq!(error["status"], "NOT_FOUND", "{error}");
    assert_eq!(
        error["message"],
        "Not Found: the requested resource does not exist."
    );
    let fastapi = send(&app, post("/fastapi/todos?__code=422", valid, &[])).await;
    assert_eq!(fastapi.status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = &fastapi.json()["detail"];
    assert_eq!(detail.as_array().unwrap().len(), 1, "{detail}");
    assert_eq!(detail[0]["loc"], json!(["body"]), "{detail}");
    assert_eq!(detail[0]["type"], "unprocessable_entity", "{detail}");
    assert!(
        detail[0]["msg"]
            .as_str()
            .unwrap()
            .starts_with("Unprocessable Entity: ")
    );
}

#[tokio::test]
async fn an_unmapped_discriminator_takes_the_value_its_branch_allows_else_the_schema_name() {
    let app = app(engine("answers"), &ServerOptions::default());
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..60 {
        let playing = send(&app, get("/me/player", &[])).await.json();
        let kind = playing["type"].as_str().unwrap().to_owned();
        match kind.as_str() {
            "track" => assert!(playing["name"].is_string(), "{playing}"),
            "episode" => assert!(playing["show"].is_string(), "{playing}"),
            "AdObject" => {}
            other => panic!("`{other}` names no branch: {playing}"),
        }
        seen.insert(kind);
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
}

#[tokio::test]
async fn write_only_and_read_only_are_seen_through_all_of_and_refs() {
    let app = app(engine("answers"), &ServerOptions::default());
    for _ in 0..10 {
        // `created` is read-only through a `$ref`: the request need not send it.
        let body = r#"{"name": "Ada", "password": "correct horse", "pin": "1234"}"#;
        let created = send(&app, post("/accounts", body, &[])).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let account = created.json();
        assert_eq!(account["name"], "Ada");
        assert!(account["created"].is_string(), "{account}");
        // `password` is write-only through a `$ref`, `pin` through an `allOf`.
        assert!(account.get("password").is_none(), "{account}");
        assert!(account.get("pin").is_none(), "{account}");
    }
}
