//! The admin API answers tests, scripts and curl but no web page: no CORS under `/__understudy/`,
//! 403 for another origin, `Origin: null`, a cross-site fetch or a `Host` that is no IP address,
//! `localhost` or allowed name (DNS rebinding), while the mock's paths stay open to every origin
//! and host. In-process with `oneshot`, and once on a real socket.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use support::{Answer, engine, send, test_app, test_path};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use understudy_engine::EngineOptions;
use understudy_server::{MockServer, ServerOptions, app};

const BASIC: (&str, &str) = ("authorization", "Basic dXNlcjpwYXNz");
const HOST: (&str, &str) = ("host", "127.0.0.1:4010");
const PAGE: (&str, &str) = ("origin", "http://localhost:5173");
const PET: &str = r#"{"name": "Tom", "kind": "cat"}"#;

fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

fn create_pet(headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder()
        .method("POST")
        .uri("/api/pets")
        .header("content-type", "application/json")
        .header(BASIC.0, BASIC.1);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(PET)).unwrap()
}

/// No header of the CORS protocol at all.
fn assert_no_cors(answer: &Answer, what: &str) {
    let cors: Vec<_> = answer
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{what}: CORS headers {cors:?}");
}

/// 403 in problem details, whose detail says `because`.
fn assert_refused(answer: &Answer, because: &str, what: &str) {
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "{what}: {}",
        answer.text()
    );
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json"),
        "{what}"
    );
    let problem = answer.json();
    assert_eq!(problem["status"], 403, "{what}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(because), "{what}: {detail}");
    assert_no_cors(answer, what);
}

#[tokio::test]
async fn another_origin_gets_403_and_no_cors_on_admin_paths_while_the_mock_keeps_cors() {
    let app = test_app();
    for (method, path) in [
        ("GET", "/__understudy/routes"),
        ("GET", "/__understudy/requests"),
        ("POST", "/__understudy/reset"),
        ("GET", "/__understudy/nothing"),
    ] {
        let answer = send(&app, request(method, path, &[HOST, PAGE])).await;
        assert_refused(&answer, "http://localhost:5173", path);
        let answer = send(&app, request(method, path, &[HOST, ("origin", "null")])).await;
        assert_refused(&answer, "Origin: null", path);
    }
    // The server's own origin, as a page it served would send it: answered, still without CORS.
    let own = send(
        &app,
        request(
            "GET",
            "/__understudy/routes",
            &[HOST, ("origin", "http://127.0.0.1:4010")],
        ),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
    assert!(own.json()["routes"].is_array());
    assert_no_cors(&own, "own origin");
    // The mock's paths, and a path that only starts like the prefix, keep CORS for any origin.
    for path in ["/api/nothing", "/__understudyish"] {
        let answer = send(&app, request("GET", path, &[HOST, PAGE])).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert!(answer.json()["paths"].is_array(), "{path}");
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some("http://localhost:5173"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn preflights_on_admin_paths_are_not_answered_as_cors() {
    let app = test_app();
    let preflight = |origin: &'static str| {
        request(
            "OPTIONS",
            "/__understudy/reset",
            &[
                HOST,
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
        )
    };
    let answer = send(&app, preflight("http://localhost:5173")).await;
    assert_refused(&answer, "http://localhost:5173", "preflight from a page");
    // From its own origin a preflight is an OPTIONS request, which no admin route takes.
    let answer = send(&app, preflight("http://127.0.0.1:4010")).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_no_cors(&answer, "preflight from the own origin");
    // The mock still answers preflights.
    let mock = request(
        "OPTIONS",
        "/api/pets",
        &[PAGE, ("access-control-request-method", "POST")],
    );
    let answer = send(&app, mock).await;
    assert!(answer.status.is_success());
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
}

#[tokio::test]
async fn a_form_post_from_a_page_cannot_reset_even_with_cors_off() {
    let app = app(
        engine("specs"),
        &ServerOptions {
            cors: false,
            ..ServerOptions::default()
        },
    );
    assert_eq!(
        send(&app, create_pet(&[])).await.status,
        StatusCode::CREATED
    );
    let form = |headers: &[(&str, &str)]| {
        let mut builder = Request::builder()
            .method("POST")
            .uri("/__understudy/reset")
            .header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::from("")).unwrap()
    };
    let answer = send(&app, form(&[HOST, ("origin", "http://evil.example")])).await;
    assert_refused(&answer, "http://evil.example", "form POST");
    // A browser that sends no Origin still says where the request comes from.
    let answer = send(&app, form(&[HOST, ("sec-fetch-site", "cross-site")])).await;
    assert_refused(&answer, "Sec-Fetch-Site: cross-site", "cross-site");
    // Nothing was forgotten: the same pet still conflicts.
    assert_eq!(
        send(&app, create_pet(&[])).await.status,
        StatusCode::CONFLICT
    );
    // curl or a test (no Origin) resets.
    assert_eq!(
        send(&app, form(&[HOST])).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(&app, create_pet(&[])).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn only_ip_addresses_localhost_and_allowed_names_reach_the_admin_api() {
    let served = test_app();
    for host in ["127.0.0.1:4010", "[::1]:4010", "localhost:4010", "10.0.0.7"] {
        let answer = send(
            &served,
            request("GET", "/__understudy/routes", &[("host", host)]),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{host}: {}", answer.text());
    }
    // A page that rebinds its own name to 127.0.0.1 is same-origin with itself: only Host tells.
    let rebound = [
        ("host", "evil.example:4010"),
        ("origin", "http://evil.example:4010"),
    ];
    let answer = send(&served, request("POST", "/__understudy/reset", &rebound)).await;
    assert_refused(&answer, "--allowed-host evil.example", "rebinding");
    // The mock's paths answer any host.
    let mock = send(&served, create_pet(&rebound)).await;
    assert_eq!(mock.status, StatusCode::CREATED, "{}", mock.text());
    assert_eq!(
        mock.header("access-control-allow-origin"),
        Some("http://evil.example:4010")
    );
    // A name given with --allowed-host, in any case and on any port.
    let allowing = app(
        engine("specs"),
        &ServerOptions {
            allowed_hosts: vec!["Mock.Internal".to_owned()],
            ..ServerOptions::default()
        },
    );
    let answer = send(
        &allowing,
        request(
            "GET",
            "/__understudy/routes",
            &[("host", "mock.internal:80")],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let answer = send(
        &allowing,
        request("GET", "/__understudy/routes", &[("host", "evil.example")]),
    )
    .await;
    assert_refused(&answer, "DNS rebinding", "not allowed");
}

#[tokio::test]
async fn an_unknown_admin_path_is_404_from_the_admin_api() {
    let app = test_app();
    // The prefix itself is the inspector page (tests/inspector.rs).
    for path in ["/__understudy/nothing", "/__understudy/routes/x"] {
        let answer = send(&app, request("GET", path, &[HOST])).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json")
        );
        let detail = answer.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("POST /__understudy/reset"), "{detail}");
    }
}

#[tokio::test]
async fn with_the_admin_api_off_its_paths_are_the_mocks() {
    let off = app(
        engine("specs"),
        &ServerOptions {
            admin: false,
            ..ServerOptions::default()
        },
    );
    assert_eq!(
        send(&off, create_pet(&[])).await.status,
        StatusCode::CREATED
    );
    for (method, path) in [
        ("GET", "/__understudy/routes"),
        ("POST", "/__understudy/reset"),
    ] {
        let answer = send(&off, request(method, path, &[HOST, PAGE])).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        // The mock's own 404, with the served paths and the mock's CORS.
        assert!(answer.json()["paths"].is_array(), "{path}");
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some("http://localhost:5173")
        );
    }
    assert_eq!(
        send(&off, create_pet(&[])).await.status,
        StatusCode::CONFLICT
    );
}

/// Sends `request` as it is on a new connection and reads the whole answer.
async fn raw(server: &MockServer, request: &str) -> String {
    let mut stream = TcpStream::connect(server.address()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn on_a_socket_the_admin_api_refuses_pages_and_rebinding_and_answers_curl() {
    let options = EngineOptions {
        seed: Some(1),
        ..EngineOptions::default()
    };
    let server = MockServer::start_with([test_path("specs")], options, ServerOptions::default())
        .await
        .unwrap();
    let address = server.address();
    let curl = raw(
        &server,
        &format!(
            "GET /__understudy/routes HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(curl.starts_with("HTTP/1.1 200"), "{curl}");
    assert!(
        !curl.to_ascii_lowercase().contains("access-control-"),
        "{curl}"
    );
    let page = raw(
        &server,
        &format!(
            "POST /__understudy/reset HTTP/1.1\r\nHost: {address}\r\nOrigin: http://evil.example\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(page.starts_with("HTTP/1.1 403"), "{page}");
    assert!(page.contains("http://evil.example"), "{page}");
    let port = address.port();
    let rebound = raw(
        &server,
        &format!(
            "POST /__understudy/reset HTTP/1.1\r\nHost: evil.example:{port}\r\n\
             Origin: http://evil.example:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    assert!(rebound.contains("DNS rebinding"), "{rebound}");
}
