//! `MockServer` on a real loopback socket: it serves, every test gets its own state, it stops on
//! drop, and simultaneous creates of one unique value let exactly one through.
#![allow(clippy::unwrap_used)]

mod support;

use support::{raw_request, test_path};
use tokio::net::TcpStream;
use understudy_server::MockServer;

const JSON: (&str, &str) = ("Content-Type", "application/json");
const BASIC: (&str, &str) = ("Authorization", "Basic dXNlcjpwYXNz");

#[tokio::test]
async fn a_mock_server_binds_loopback_on_a_random_port_and_serves() {
    let server = MockServer::start([test_path("specs")]).await.unwrap();
    assert!(server.uri().starts_with("http://127.0.0.1:"));
    assert_ne!(server.address().port(), 0);
    let (status, body) = raw_request(
        server.address(),
        "POST",
        "/notes",
        &[JSON],
        r#"{"text": "hi"}"#,
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn every_server_has_its_own_state() {
    let first = MockServer::start([test_path("specs")]).await.unwrap();
    let second = MockServer::start([test_path("specs")]).await.unwrap();
    let pet = r#"{"name": "Tom", "kind": "cat"}"#;
    assert_eq!(
        raw_request(first.address(), "POST", "/api/pets", &[JSON, BASIC], pet)
            .await
            .0,
        201
    );
    assert_eq!(
        raw_request(first.address(), "POST", "/api/pets", &[JSON, BASIC], pet)
            .await
            .0,
        409
    );
    assert_eq!(
        raw_request(second.address(), "POST", "/api/pets", &[JSON, BASIC], pet)
            .await
            .0,
        201
    );
}

#[tokio::test]
async fn a_dropped_server_stops_listening() {
    let server = MockServer::start([test_path("specs")]).await.unwrap();
    let address = server.address();
    drop(server);
    let mut refused = false;
    for _ in 0..200 {
        if TcpStream::connect(address).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "the port still accepts connections after drop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_creates_of_one_unique_value_let_exactly_one_through() {
    let server = MockServer::start([test_path("specs")]).await.unwrap();
    let address = server.address();
    let tasks: Vec<_> = (0..40)
        .map(|index| {
            let name = if index % 2 == 0 { "Rex" } else { " rex" };
            let body = format!(r#"{{"name": "{name}", "kind": "dog"}}"#);
            tokio::spawn(async move {
                raw_request(address, "POST", "/api/pets", &[JSON, BASIC], &body)
                    .await
                    .0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|status| **status == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|status| **status == 409).count(),
        39,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn the_builder_sets_seed_clock_and_state() {
    let build = || {
        MockServer::builder()
            .specs([test_path("specs")])
            .seed(42)
            .now("2026-12-06T12:00:00Z".parse().unwrap())
    };
    let (first, second) = (
        build().start().await.unwrap(),
        build().start().await.unwrap(),
    );
    let note = r#"{"text": "hi"}"#;
    let a = raw_request(first.address(), "POST", "/notes", &[JSON], note).await;
    let b = raw_request(second.address(), "POST", "/notes", &[JSON], note).await;
    assert_eq!(a, b, "one seed and clock, the same bytes");
    let other = MockServer::builder()
        .specs([test_path("specs")])
        .seed(43)
        .start()
        .await
        .unwrap();
    let c = raw_request(other.address(), "POST", "/notes", &[JSON], note).await;
    assert_ne!(a.1, c.1, "another seed, another answer");

    // Stateful, a second tag with one label conflicts; stateless, it does not.
    let tag = r#"{"label": "urgent"}"#;
    let stateful = build().start().await.unwrap();
    raw_request(stateful.address(), "POST", "/tags", &[JSON], tag).await;
    let again = raw_request(stateful.address(), "POST", "/tags", &[JSON], tag).await;
    assert_eq!(again.0, 409, "{}", again.1);
    let stateless = build().stateless().start().await.unwrap();
    raw_request(stateless.address(), "POST", "/tags", &[JSON], tag).await;
    let again = raw_request(stateless.address(), "POST", "/tags", &[JSON], tag).await;
    assert_eq!(again.0, 201, "{}", again.1);
}

#[tokio::test]
async fn received_requests_and_verify_tell_what_broke_the_contract() {
    let server = MockServer::start([test_path("specs")]).await.unwrap();
    assert!(server.verify().is_ok());
    raw_request(
        server.address(),
        "POST",
        "/notes",
        &[JSON],
        r#"{"text": "hi"}"#,
    )
    .await;
    server.assert_no_violations();
    raw_request(
        server.address(),
        "POST",
        "/notes?api_key=s3cret",
        &[JSON],
        "{}",
    )
    .await;
    let received = server.received_requests();
    assert_eq!(received.len(), 2);
    assert_eq!(
        (received[0].method.as_str(), received[0].status),
        ("POST", 201)
    );
    assert_eq!(received[1].path, "/notes");
    assert!(!received[1].violations.is_empty());
    let broken = server.verify().unwrap_err().to_string();
    assert!(
        broken.starts_with("1 request broke the contract:"),
        "{broken}"
    );
    assert!(broken.contains("POST /notes?api_key=*** → 422"), "{broken}");
    assert!(broken.contains("- body /"), "{broken}");
    assert!(!broken.contains("s3cret"), "{broken}");
}

#[tokio::test]
#[should_panic(expected = "1 request broke the contract")]
async fn assert_no_violations_panics_listing_the_broken_requests() {
    let server = MockServer::start([test_path("specs")]).await.unwrap();
    raw_request(server.address(), "POST", "/notes", &[JSON], "{}").await;
    server.assert_no_violations();
}

#[tokio::test]
async fn a_failed_start_reads_as_its_load_report() {
    let error = MockServer::start([test_path("broken")]).await.unwrap_err();
    let shown = format!("{error:?}");
    assert!(
        shown.contains("dangling_ref.yaml: /paths/~1things/post"),
        "{shown}"
    );
    assert!(!shown.contains("LoadError {"), "{shown}");
}
