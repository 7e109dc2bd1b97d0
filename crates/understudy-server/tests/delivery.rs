//! Latency and faults through a real socket: delays asked for by a request, an operation and the
//! options (asserted as lower bounds only), the three faults, and `--fail-rate`.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::test_path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use understudy_engine::{DelayRange, EngineOptions, MockRequest};
use understudy_server::{MockServer, ServerOptions};

/// Sends `GET path` with the given extra header lines and reads until the server closes: the
/// raw bytes of whatever came back.
async fn get_raw(address: SocketAddr, path: &str, extra: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // A reset connection may end the read with an error rather than with end of file.
    let _ = stream.read_to_end(&mut answer).await;
    answer
}

fn status_of(answer: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(answer);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

async fn server(options: EngineOptions) -> MockServer {
    MockServer::start_with([test_path("delivery")], options, ServerOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn delays_asked_for_by_the_request_the_operation_and_the_options_are_waited() {
    let plain = server(EngineOptions::default()).await;
    let started = Instant::now();
    let answer = get_raw(plain.address(), "/plain", "Prefer: delay=300\r\n").await;
    assert_eq!(status_of(&answer), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    let answer = get_raw(plain.address(), "/plain?__delay=250", "").await;
    assert_eq!(
        status_of(&answer),
        200,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(started.elapsed() >= Duration::from_millis(250));
    let started = Instant::now();
    assert_eq!(status_of(&get_raw(plain.address(), "/slow", "").await), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "x-understudy-delay"
    );

    let delayed = server(EngineOptions {
        delay: Some("150..180".parse().unwrap()),
        ..EngineOptions::default()
    })
    .await;
    let started = Instant::now();
    assert_eq!(
        status_of(&get_raw(delayed.address(), "/plain", "").await),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(150), "--delay");
}

#[tokio::test]
async fn drawn_delays_repeat_under_a_seed() {
    let range: DelayRange = "0..60000".parse().unwrap();
    let delays = |seed| {
        let engine = understudy_engine::Engine::load(
            &[test_path("delivery")],
            EngineOptions {
                seed: Some(seed),
                delay: Some(range),
                ..EngineOptions::default()
            },
        )
        .unwrap();
        let headers = axum::http::HeaderMap::new();
        let request = MockRequest {
            method: &axum::http::Method::GET,
            path: "/plain",
            query: None,
            headers: &headers,
            body: &[],
        };
        (0..20)
            .map(|_| {
                let outcome = engine.handle(&request);
                engine.delivery(&outcome, &request).delay.unwrap()
            })
            .collect::<Vec<_>>()
    };
    let first = delays(5);
    assert_eq!(first, delays(5));
    assert_ne!(first, delays(6));
    assert!(first.iter().all(|delay| *delay <= Duration::from_secs(60)));
}

#[tokio::test]
async fn faults_close_hang_or_garble_the_connection() {
    let server = server(EngineOptions::default()).await;
    let reset = get_raw(server.address(), "/plain", "Prefer: fault=reset\r\n").await;
    assert!(reset.is_empty(), "{}", String::from_utf8_lossy(&reset));
    let garbage = get_raw(server.address(), "/plain?__fault=garbage", "").await;
    assert!(!garbage.is_empty());
    assert!(!garbage.starts_with(b"HTTP/"), "{garbage:?}");
    // A hanging answer says nothing, however long the client waits here.
    let hang = tokio::time::timeout(
        Duration::from_millis(400),
        get_raw(server.address(), "/plain", "Prefer: fault=hang\r\n"),
    )
    .await;
    assert!(hang.is_err(), "the answer came: {hang:?}");
    // The server still answers others.
    assert_eq!(
        status_of(&get_raw(server.address(), "/plain", "").await),
        200
    );
}

#[tokio::test]
async fn a_fail_rate_answers_the_documented_server_error_or_503() {
    let always = server(EngineOptions {
        fail_rate: 1.0,
        ..EngineOptions::default()
    })
    .await;
    let flaky = get_raw(always.address(), "/flaky", "").await;
    assert_eq!(status_of(&flaky), 500);
    let text = String::from_utf8_lossy(&flaky);
    assert!(text.contains("\"code\":500"), "{text}");
    let plain = get_raw(always.address(), "/plain", "").await;
    assert_eq!(status_of(&plain), 503);
    let text = String::from_utf8_lossy(&plain).to_ascii_lowercase();
    assert!(text.contains("retry-after: 1"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");

    let statuses = |seed| async move {
        let half = server(EngineOptions {
            seed: Some(seed),
            fail_rate: 0.5,
            ..EngineOptions::default()
        })
        .await;
        let mut statuses = Vec::new();
        for _ in 0..24 {
            statuses.push(status_of(&get_raw(half.address(), "/plain", "").await));
        }
        statuses
    };
    let first = statuses(3).await;
    assert_eq!(first, statuses(3).await, "reproducible under a seed");
    assert!(first.contains(&200) && first.contains(&503), "{first:?}");
}
