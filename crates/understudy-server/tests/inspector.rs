//! The inspector page and the admin endpoints it reads: the page is served as HTML with a policy
//! that lets it fetch nothing but its own origin, behind the admin guard like every admin path;
//! `routes` gives statuses, examples, `Prefer` choices and a `curl` line; `requests` gives
//! latency, masked headers and both bodies, and only what is new after `after`; `state` the
//! store's collections and bound; `contract` the per-operation tally.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use support::{get, post, send, test_app};
use understudy_engine::{Engine, EngineOptions};
use understudy_server::{ServerOptions, app};

const HOST: (&str, &str) = ("host", "127.0.0.1:4010");

#[tokio::test]
async fn the_page_is_served_as_html_at_the_prefix_with_a_policy_that_keeps_it_at_home() {
    let app = test_app();
    for path in ["/__understudy/", "/__understudy"] {
        let answer = send(&app, get(path, &[HOST])).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(
            answer.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let policy = answer.header("content-security-policy").unwrap();
        assert!(policy.contains("default-src 'none'"), "{policy}");
        assert!(policy.contains("connect-src 'self'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        let page = answer.text();
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("<title>understudy inspector</title>"));
        // Nothing from the internet: no absolute URL in a src or href.
        for needle in ["src=\"http", "href=\"http", "@import", "url(http"] {
            assert!(!page.contains(needle), "the page loads {needle}");
        }
        assert!(answer.header("access-control-allow-origin").is_none());
    }
}

#[tokio::test]
async fn the_admin_guard_applies_to_the_page() {
    let app = test_app();
    for headers in [
        vec![HOST, ("origin", "http://evil.example")],
        vec![HOST, ("sec-fetch-site", "cross-site")],
        vec![("host", "rebound.example:4010")],
    ] {
        let answer = send(&app, get("/__understudy/", &headers)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(!answer.text().contains("<html"), "{headers:?}");
    }
    // The page's own fetches come from its own origin.
    let own = send(
        &app,
        get(
            "/__understudy/state",
            &[HOST, ("origin", "http://127.0.0.1:4010")],
        ),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK);
    let reset = Request::builder()
        .method("POST")
        .uri("/__understudy/reset")
        .header("host", "127.0.0.1:4010")
        .header("origin", "http://127.0.0.1:4010")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, reset).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn routes_give_statuses_examples_preferences_and_a_curl_line() {
    let app = test_app();
    let routes = send(&app, get("/__understudy/routes", &[HOST]))
        .await
        .json();
    let routes = routes["routes"].as_array().unwrap();
    let create = routes
        .iter()
        .find(|route| route["operation_id"] == "createPet")
        .unwrap();
    assert_eq!(create["spec"], "pets");
    assert_eq!(create["method"], "POST");
    assert_eq!(create["path"], "/api/pets");
    assert_eq!(
        create["file"].as_str().map(|f| f.ends_with("pets.yaml")),
        Some(true)
    );
    assert_eq!(create["statuses"], serde_json::json!(["201", "409", "422"]));
    assert_eq!(create["success"], 201);
    assert_eq!(create["examples"][0]["name"], "tom");
    assert_eq!(create["examples"][0]["status"], "201");
    let prefer: Vec<&str> = create["prefer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        prefer,
        [
            "code=201",
            "code=409",
            "code=422",
            "example=tom",
            "dynamic=false"
        ]
    );
    let curl = create["curl"].as_str().unwrap();
    assert!(
        curl.starts_with("curl -i 'http://127.0.0.1:4010/api/pets' -u 'me@example.com:secret'"),
        "{curl}"
    );
    assert!(
        curl.contains("-H 'Content-Type: application/json' -d '{}'"),
        "{curl}"
    );
    // A required header parameter is sent.
    let list = routes
        .iter()
        .find(|route| route["operation_id"] == "listPets")
        .unwrap();
    let curl = list["curl"].as_str().unwrap();
    assert!(curl.contains("-H 'X-Trace: value'"), "{curl}");
    assert!(!curl.contains(" -X "), "{curl}");
    assert!(
        list["prefer"]
            .as_array()
            .unwrap()
            .contains(&"example=two".into())
    );
}

#[tokio::test]
async fn the_curl_lines_of_the_vendor_specs_are_accepted_by_the_mock() {
    let engine = Arc::new(
        Engine::load(
            &[support::test_path("../../../specs")],
            EngineOptions::default(),
        )
        .unwrap(),
    );
    let app = app(engine, &ServerOptions::default());
    let routes = send(&app, get("/__understudy/routes", &[HOST]))
        .await
        .json();
    for route in routes["routes"].as_array().unwrap() {
        // Read back what the line sends: the URL, every -H, -u and -d.
        let curl = route["curl"].as_str().unwrap();
        let words = shell_words(curl);
        let url = words[2].strip_prefix("http://127.0.0.1:4010").unwrap();
        let mut request = Request::builder()
            .method(route["method"].as_str().unwrap())
            .uri(url);
        let mut body = String::new();
        for pair in words[3..].chunks(2) {
            match pair[0].as_str() {
                "-H" => {
                    let (name, value) = pair[1].split_once(": ").unwrap();
                    request = request.header(name, value);
                }
                "-u" => {
                    let encoded = base64(pair[1].as_bytes());
                    request = request.header("authorization", format!("Basic {encoded}"));
                }
                "-d" => body = pair[1].clone(),
                other => panic!("unexpected {other} in {curl}"),
            }
        }
        let answer = send(&app, request.body(Body::from(body)).unwrap()).await;
        assert_eq!(
            answer.status.as_u16(),
            route["success"].as_u64().unwrap() as u16,
            "{curl}: {}",
            answer.text()
        );
    }
}

/// Standard base64 with padding, for the `-u` of a curl line.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The words of a line quoted as `shell` quotes them: plain words and `'…'` with `'\''`.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => quoted = !quoted,
            '\\' if !quoted => word.extend(chars.next()),
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    words.push(word);
    words
}

#[tokio::test]
async fn requests_carry_latency_masked_headers_and_both_bodies_and_follow_after() {
    let app = test_app();
    let create = post(
        "/api/pets",
        r#"{"name":"Tom","kind":"cat"}"#,
        &[
            ("authorization", "Basic bWU6c2VjcmV0"),
            ("x-api-key", "k-123"),
        ],
    );
    assert_eq!(send(&app, create).await.status, StatusCode::CREATED);
    let bad = post(
        "/api/pets",
        r#"{"name":"","kind":"cow"}"#,
        &[("authorization", "Basic bWU6c2VjcmV0")],
    );
    assert_eq!(
        send(&app, bad).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let log = send(&app, get("/__understudy/requests", &[HOST]))
        .await
        .json();
    assert_eq!(log["last"], 2);
    assert_eq!(log["resets"], 0);
    let first = &log["requests"][0];
    assert!(first["latency_us"].as_u64().is_some(), "{first}");
    let headers = first["request_headers"].as_array().unwrap();
    assert!(
        headers.contains(&serde_json::json!(["authorization", "Basic ***"])),
        "{headers:?}"
    );
    assert!(
        headers.contains(&serde_json::json!(["x-api-key", "***"])),
        "{headers:?}"
    );
    assert!(!log.to_string().contains("bWU6c2VjcmV0") && !log.to_string().contains("k-123"));
    assert_eq!(
        first["request_body"]["text"],
        r#"{"name":"Tom","kind":"cat"}"#
    );
    assert_eq!(first["request_body"]["truncated"], false);
    assert!(
        first["response_body"]["text"]
            .as_str()
            .unwrap()
            .contains("\"Tom\"")
    );
    assert!(
        first["response_headers"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["content-type", "application/json"]))
    );
    let second = &log["requests"][1];
    assert_eq!(second["status"], 422);
    assert!(!second["violations"].as_array().unwrap().is_empty());

    // Only what is new after a number.
    let newer = send(&app, get("/__understudy/requests?after=1", &[HOST]))
        .await
        .json();
    assert_eq!(newer["requests"].as_array().unwrap().len(), 1);
    assert_eq!(newer["requests"][0]["sequence"], 2);
    let none = send(&app, get("/__understudy/requests?after=2", &[HOST]))
        .await
        .json();
    assert!(none["requests"].as_array().unwrap().is_empty());
    let wrong = send(&app, get("/__understudy/requests?after=soon", &[HOST])).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.text().contains("`after` must be a whole number"));

    // A reset restarts the numbering and says so.
    let reset = Request::builder()
        .method("POST")
        .uri("/__understudy/reset")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, reset).await.status, StatusCode::NO_CONTENT);
    let after = send(&app, get("/__understudy/requests", &[HOST]))
        .await
        .json();
    assert_eq!(after["resets"], 1);
    assert_eq!(after["last"], 0);
}

#[tokio::test]
async fn state_shows_each_collection_with_its_records_and_bound() {
    let stateful = test_app();
    let pet = post(
        "/api/pets",
        r#"{"name":"Rex","kind":"dog"}"#,
        &[("authorization", "Basic bWU6c2VjcmV0")],
    );
    assert_eq!(send(&stateful, pet).await.status, StatusCode::CREATED);
    let state = send(&stateful, get("/__understudy/state", &[HOST]))
        .await
        .json();
    assert_eq!(state["stateless"], false);
    assert_eq!(state["max_records"], 100_000);
    let pets = state["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|collection| collection["name"] == "/api/pets")
        .unwrap();
    assert_eq!(pets["records"], 1);
    // A resource's records are shown as answered, newest first.
    assert_eq!(pets["newest"][0]["name"], "Rex", "{pets}");
    assert_eq!(pets["too_large"], 0);

    let stateless = Arc::new(
        Engine::load(
            &[support::test_path("specs")],
            EngineOptions {
                stateless: true,
                ..EngineOptions::default()
            },
        )
        .unwrap(),
    );
    let stateless_app = app(stateless, &ServerOptions::default());
    let state = send(&stateless_app, get("/__understudy/state", &[HOST]))
        .await
        .json();
    assert_eq!(state["stateless"], true);
}

#[tokio::test]
async fn contract_counts_violating_requests_per_operation_as_the_report_does() {
    let app = test_app();
    let auth = [("authorization", "Basic bWU6c2VjcmV0")];
    for body in [
        r#"{"name":"A","kind":"cat"}"#,
        r#"{"name":"B"}"#,
        r#"{"name":"C","kind":"cow"}"#,
    ] {
        send(&app, post("/api/pets", body, &auth)).await;
    }
    send(&app, get("/nowhere", &[])).await;
    let contract = send(&app, get("/__understudy/contract", &[HOST]))
        .await
        .json();
    assert_eq!(contract["requests"], 4);
    assert_eq!(contract["violating"], 3);
    let operations = contract["operations"].as_array().unwrap();
    let create = operations
        .iter()
        .find(|o| o["operation"] == "POST /api/pets (createPet)")
        .unwrap();
    assert_eq!(
        (create["requests"].as_u64(), create["violating"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(create["spec"], "pets");
    let unmatched = operations
        .iter()
        .find(|o| o["operation"] == "(no matching operation)")
        .unwrap();
    assert_eq!(unmatched["violating"], 1);
}
