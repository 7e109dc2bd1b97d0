//! `MockServer` on a real loopback socket: it serves, every test gets its own state, it stops on
//! drop, and simultaneous creates of one unique value let exactly one through.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;

use support::test_path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use understudy_server::MockServer;

/// Sends one HTTP/1.1 request and reads the whole answer (the connection is closed after it).
async fn raw_request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

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
