//! Resources inferred from a spec (`tests/resources`): what a client creates it reads back, lists,
//! replaces, patches and deletes, in the layouts APIs use (a FastAPI-style bare array, an
//! envelope, nested collections), with the documented 404 after a delete.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use support::{Answer, get, post, raw_request, send, test_path};
use understudy_engine::{Engine, EngineOptions};
use understudy_server::{App, MockServer, ServerOptions, app};

fn app_with(options: EngineOptions) -> App {
    let engine = Engine::load(&[test_path("resources")], options).unwrap();
    app(Arc::new(engine), &ServerOptions::default())
}

fn seeded() -> App {
    app_with(EngineOptions {
        seed: Some(3),
        ..EngineOptions::default()
    })
}

fn request(method: &str, uri: &str, content_type: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn delete(uri: &str) -> Request<Body> {
    Request::builder()
        .method("DELETE")
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

async fn create_todo(app: &App, body: &str) -> Value {
    let answer = send(app, post("/todos/", body, &[])).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()
}

async fn json_of(app: &App, request: Request<Body>, status: StatusCode) -> Value {
    let answer: Answer = send(app, request).await;
    assert_eq!(answer.status, status, "{}", answer.text());
    answer.json()
}

#[tokio::test]
async fn a_created_todo_is_read_back_exactly_as_answered() {
    let app = seeded();
    let created = create_todo(&app, r#"{"title": "Buy milk"}"#).await;
    assert_eq!(created["title"], "Buy milk");
    let id = created["id"].as_i64().unwrap();
    let read = json_of(&app, get(&format!("/todos/{id}"), &[]), StatusCode::OK).await;
    assert_eq!(read, created);
    // Reading again gives the same record, not another draw.
    let again = json_of(&app, get(&format!("/todos/{id}"), &[]), StatusCode::OK).await;
    assert_eq!(again, created);
    // An id never created is generated as before, so that pages render.
    let other = json_of(&app, get("/todos/999", &[]), StatusCode::OK).await;
    assert_ne!(other["title"], "Buy milk");
}

#[tokio::test]
async fn the_bare_array_list_holds_the_stored_todos_and_pages_by_skip_and_limit() {
    let app = seeded();
    // Nothing stored: a generated list, so that pages render.
    let generated = json_of(&app, get("/todos/", &[]), StatusCode::OK).await;
    assert!(generated.is_array());
    let mut created = Vec::new();
    for title in ["one", "two", "three"] {
        created.push(create_todo(&app, &format!(r#"{{"title": "{title}"}}"#)).await);
    }
    let listed = json_of(&app, get("/todos/", &[]), StatusCode::OK).await;
    assert_eq!(listed, Value::Array(created.clone()));
    let page = json_of(&app, get("/todos/?skip=1&limit=1", &[]), StatusCode::OK).await;
    assert_eq!(page, json!([created[1]]));
    let past = json_of(&app, get("/todos/?skip=5", &[]), StatusCode::OK).await;
    assert_eq!(past, json!([]));
}

#[tokio::test]
async fn put_replaces_what_the_client_may_write_and_keeps_the_rest() {
    let app = seeded();
    let created = create_todo(
        &app,
        r#"{"title": "Buy milk", "done": true, "tags": ["a"]}"#,
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    let uri = format!("/todos/{id}");
    let replaced = json_of(
        &app,
        request("PUT", &uri, "application/json", r#"{"title": "Buy bread"}"#),
        StatusCode::OK,
    )
    .await;
    // `done` and `tags` were the client's to send and it did not: gone. The id and the creation
    // time are not in the request schema: kept.
    assert_eq!(
        replaced,
        json!({"title": "Buy bread", "id": id, "created_at": created["created_at"]})
    );
    let read = json_of(&app, get(&uri, &[]), StatusCode::OK).await;
    assert_eq!(read, replaced);
    // The request is still validated against its own schema first.
    let invalid = send(
        &app,
        request("PUT", &uri, "application/json", r#"{"done": 3}"#),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(&app, get(&uri, &[]), StatusCode::OK).await,
        replaced
    );
}

#[tokio::test]
async fn patch_merges_a_merge_patch_or_a_plain_object() {
    let app = seeded();
    let created = create_todo(&app, r#"{"title": "Buy milk", "tags": ["a", "b"]}"#).await;
    let uri = format!("/todos/{}", created["id"]);
    let merged = json_of(
        &app,
        request(
            "PATCH",
            &uri,
            "application/merge-patch+json",
            r#"{"done": true, "tags": ["c"], "id": 77}"#,
        ),
        StatusCode::OK,
    )
    .await;
    let mut expected = created.clone();
    expected["done"] = json!(true);
    expected["tags"] = json!(["c"]);
    // The id names the record: a patch does not move it.
    assert_eq!(merged, expected);
    let plain = json_of(
        &app,
        request(
            "PATCH",
            &uri,
            "application/json",
            r#"{"title": "Buy oat milk"}"#,
        ),
        StatusCode::OK,
    )
    .await;
    expected["title"] = json!("Buy oat milk");
    assert_eq!(plain, expected);
    assert_eq!(
        json_of(&app, get(&uri, &[]), StatusCode::OK).await,
        expected
    );
}

#[tokio::test]
async fn patch_applies_a_json_patch_and_refuses_one_that_does_not_apply() {
    let app = seeded();
    let created = create_todo(&app, r#"{"title": "Buy milk", "tags": ["a"]}"#).await;
    let uri = format!("/todos/{}", created["id"]);
    let patch = r#"[{"op": "replace", "path": "/title", "value": "Buy tea"},
                    {"op": "add", "path": "/tags/-", "value": "b"}]"#;
    let patched = json_of(
        &app,
        request("PATCH", &uri, "application/json-patch+json", patch),
        StatusCode::OK,
    )
    .await;
    let mut expected = created.clone();
    expected["title"] = json!("Buy tea");
    expected["tags"] = json!(["a", "b"]);
    assert_eq!(patched, expected);
    // A failing `test` changes nothing and gets the documented 409 in its shape.
    let failing = r#"[{"op": "test", "path": "/title", "value": "Buy milk"},
                      {"op": "remove", "path": "/tags"}]"#;
    let refused = json_of(
        &app,
        request("PATCH", &uri, "application/json-patch+json", failing),
        StatusCode::CONFLICT,
    )
    .await;
    assert!(refused["detail"].is_string(), "{refused}");
    assert_eq!(
        json_of(&app, get(&uri, &[]), StatusCode::OK).await,
        expected
    );
}

#[tokio::test]
async fn a_deleted_todo_is_the_documented_404_for_every_method() {
    let app = seeded();
    let created = create_todo(&app, r#"{"title": "Buy milk"}"#).await;
    let uri = format!("/todos/{}", created["id"]);
    let deleted = send(&app, delete(&uri)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.body.is_empty());
    for request in [
        get(&uri, &[]),
        request("PUT", &uri, "application/json", r#"{"title": "x"}"#),
        request("PATCH", &uri, "application/json", r#"{"done": true}"#),
        delete(&uri),
    ] {
        let answer = send(&app, request).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text());
        assert_eq!(answer.header("content-type"), Some("application/json"));
        // FastAPI's documented `{"detail": "…"}`.
        let body = answer.json();
        assert!(body["detail"].is_string(), "{body}");
    }
    // Deleted from the list too, and no generated records take its place.
    assert_eq!(
        json_of(&app, get("/todos/", &[]), StatusCode::OK).await,
        json!([])
    );
    // The 404 is the API behaving: the request log records no violation for it.
    let log = json_of(&app, get("/__understudy/requests", &[]), StatusCode::OK).await;
    let last = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|entry| entry["status"] == 404)
        .unwrap();
    assert_eq!(last["violations"], json!([]));
}

#[tokio::test]
async fn ids_never_repeat_after_deletes() {
    let app = seeded();
    let mut ids = Vec::new();
    for title in ["a", "b", "c"] {
        ids.push(create_todo(&app, &format!(r#"{{"title": "{title}"}}"#)).await["id"].clone());
    }
    send(&app, delete(&format!("/todos/{}", ids[2]))).await;
    send(&app, delete(&format!("/todos/{}", ids[1]))).await;
    let next = create_todo(&app, r#"{"title": "d"}"#).await["id"].clone();
    assert!(!ids.contains(&next), "{next} was given before: {ids:?}");
    // The deleted ids stay deleted.
    let answer = send(&app, get(&format!("/todos/{}", ids[2]), &[])).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn strict_resources_answer_404_for_an_id_never_created() {
    let app = app_with(EngineOptions {
        seed: Some(3),
        strict_resources: true,
        ..EngineOptions::default()
    });
    let never = send(&app, get("/todos/41", &[])).await;
    assert_eq!(never.status, StatusCode::NOT_FOUND);
    assert!(never.json()["detail"].is_string());
    let patch = send(
        &app,
        request("PATCH", "/todos/41", "application/json", "{}"),
    )
    .await;
    assert_eq!(patch.status, StatusCode::NOT_FOUND);
    let created = create_todo(&app, r#"{"title": "Buy milk"}"#).await;
    let read = json_of(
        &app,
        get(&format!("/todos/{}", created["id"]), &[]),
        StatusCode::OK,
    )
    .await;
    assert_eq!(read, created);
}

#[tokio::test]
async fn an_envelope_list_holds_the_stored_notes_with_their_total_and_pages() {
    let app = seeded();
    let generated = json_of(&app, get("/notes", &[]), StatusCode::OK).await;
    assert!(generated["data"].is_array());
    let mut notes = Vec::new();
    for text in ["one", "two", "three"] {
        let answer = json_of(
            &app,
            post("/notes", &format!(r#"{{"text": "{text}"}}"#), &[]),
            StatusCode::CREATED,
        )
        .await;
        notes.push(answer["data"].clone());
    }
    let listed = json_of(&app, get("/notes", &[]), StatusCode::OK).await;
    assert_eq!(listed["data"], Value::Array(notes.clone()));
    assert_eq!(listed["total"], 3);
    let page = json_of(&app, get("/notes?page=2&per_page=2", &[]), StatusCode::OK).await;
    assert_eq!(page["data"], json!([notes[2]]));
    assert_eq!(page["total"], 3);
    // An item is `{data: note}`.
    let id = notes[0]["id"].as_str().unwrap();
    let read = json_of(&app, get(&format!("/notes/{id}"), &[]), StatusCode::OK).await;
    assert_eq!(read, json!({"data": notes[0]}));
    // The documented success of a delete, then problem details (no 404 is documented).
    let deleted = send(&app, delete(&format!("/notes/{id}"))).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let gone = send(&app, get(&format!("/notes/{id}"), &[])).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(gone.json()["status"], 404);
    let listed = json_of(&app, get("/notes", &[]), StatusCode::OK).await;
    assert_eq!(listed["total"], 2);
}

#[tokio::test]
async fn nested_records_are_scoped_by_their_parents_id() {
    let app = seeded();
    let first = json_of(
        &app,
        post("/notes/a/comments", r#"{"body": "on a"}"#, &[]),
        StatusCode::CREATED,
    )
    .await;
    let second = json_of(
        &app,
        post("/notes/b/comments", r#"{"body": "on b"}"#, &[]),
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(first["id"], second["id"]);
    let read = json_of(
        &app,
        get(&format!("/notes/a/comments/{}", first["id"]), &[]),
        StatusCode::OK,
    )
    .await;
    assert_eq!(read, first);
    // Under another note the id names nothing stored: generated, not note a's comment.
    let elsewhere = json_of(
        &app,
        get(&format!("/notes/b/comments/{}", first["id"]), &[]),
        StatusCode::OK,
    )
    .await;
    assert_ne!(elsewhere, first);
    let listed = json_of(&app, get("/notes/a/comments", &[]), StatusCode::OK).await;
    assert_eq!(listed["items"], json!([first]));
}

#[tokio::test]
async fn a_nested_404_has_the_documented_shape_in_strict_mode() {
    let app = app_with(EngineOptions {
        seed: Some(3),
        strict_resources: true,
        ..EngineOptions::default()
    });
    let created = json_of(
        &app,
        post("/notes/a/comments", r#"{"body": "on a"}"#, &[]),
        StatusCode::CREATED,
    )
    .await;
    let answer = send(
        &app,
        get(&format!("/notes/b/comments/{}", created["id"]), &[]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["error"]["code"], "not_found");
}

#[tokio::test]
async fn reset_forgets_records_and_draws_a_fresh_sequence_without_a_seed() {
    let app = app_with(EngineOptions::default());
    let created = json_of(
        &app,
        post("/notes", r#"{"text": "x"}"#, &[]),
        StatusCode::CREATED,
    )
    .await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let reset = send(
        &app,
        request("POST", "/__understudy/reset", "application/json", ""),
    )
    .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT);
    // Forgotten: the list is generated again, and the id is no longer known.
    let listed = json_of(&app, get("/notes", &[]), StatusCode::OK).await;
    assert_ne!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|note| note["id"].clone())
            .collect::<Vec<_>>(),
        vec![json!(id)]
    );
    let again = json_of(
        &app,
        post("/notes", r#"{"text": "x"}"#, &[]),
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(
        again["data"]["id"],
        json!(id),
        "the reset replayed the sequence"
    );
}

#[tokio::test]
async fn a_seeded_reset_replays_the_same_answers() {
    let app = seeded();
    let first = json_of(
        &app,
        post("/notes", r#"{"text": "x"}"#, &[]),
        StatusCode::CREATED,
    )
    .await;
    send(
        &app,
        request("POST", "/__understudy/reset", "application/json", ""),
    )
    .await;
    let again = json_of(
        &app,
        post("/notes", r#"{"text": "x"}"#, &[]),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(again, first);
}

/// Sends one JSON request on a socket and reads the whole answer.
async fn raw(address: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    raw_request(
        address,
        method,
        path,
        &[("Content-Type", "application/json")],
        body,
    )
    .await
}

#[tokio::test]
async fn a_todo_lives_and_dies_through_a_real_socket() {
    let server = MockServer::start([test_path("resources")]).await.unwrap();
    let address = server.address();
    let (status, body) = raw(address, "POST", "/todos/", r#"{"title": "Buy milk"}"#).await;
    assert_eq!(status, 201);
    let created: Value = serde_json::from_str(&body).unwrap();
    let uri = format!("/todos/{}", created["id"]);
    let (status, body) = raw(address, "GET", &uri, "").await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()),
        (200, created.clone())
    );
    let (status, body) = raw(address, "PATCH", &uri, r#"{"done": true}"#).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["done"], true);
    let (status, _) = raw(address, "DELETE", &uri, "").await;
    assert_eq!(status, 204);
    let (status, body) = raw(address, "GET", &uri, "").await;
    assert_eq!(status, 404);
    assert!(serde_json::from_str::<Value>(&body).unwrap()["detail"].is_string());
}

#[tokio::test]
async fn a_just_created_record_looks_just_created() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let app = app_with(EngineOptions {
        seed: Some(3),
        now: Some(now),
        ..EngineOptions::default()
    });
    let body = r#"{"name": "Ann", "tags": []}"#;
    for _ in 0..20 {
        let answer = json_of(&app, post("/accounts", body, &[]), StatusCode::CREATED).await;
        let account = answer["data"].as_object().unwrap();
        assert_eq!(account["created_at"], "2026-12-06T12:00:00Z");
        assert_eq!(account["updated_at"], "2026-12-06T12:00:00Z");
        // Events that have not happened: null where nullable, absent where optional.
        assert_eq!(account["last_login"], Value::Null, "{answer}");
        assert!(!account.contains_key("deleted_at"), "{answer}");
        assert_eq!(account["failed_login_count"], 0);
        // Not sent: the default, else absent if optional, else null if nullable.
        assert_eq!(account["plan"], "free");
        assert!(!account.contains_key("nickname"), "{answer}");
        assert_eq!(account["motto"], Value::Null);
        assert_eq!(account["tags"], json!([]));
        // The account's id, where the answer names it again by name or by declaration.
        assert_eq!(account["owner"]["accountId"], account["id"]);
        for member in account
            .get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(of) = member.get("member_of") {
                assert_eq!(*of, account["id"]);
            }
        }
    }
}

#[tokio::test]
async fn an_update_moves_the_update_time_and_keeps_the_creation_time() {
    let app = seeded();
    let created = json_of(
        &app,
        post("/accounts", r#"{"name": "Ann"}"#, &[]),
        StatusCode::CREATED,
    )
    .await;
    let id = created["data"]["id"].clone();
    // Whatever the stored update time was (the client may even send one), an update makes it now.
    let answer = json_of(
        &app,
        request(
            "PATCH",
            &format!("/accounts/{id}"),
            "application/json",
            r#"{"name": "Bo", "updated_at": "2000-01-01T00:00:00Z"}"#,
        ),
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["data"]["name"], "Bo");
    assert_eq!(answer["data"]["created_at"], created["data"]["created_at"]);
    assert_eq!(answer["data"]["updated_at"], "2025-01-01T12:00:00Z");
}
