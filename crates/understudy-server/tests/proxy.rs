//! The validation proxy through real sockets: a small upstream (axum on a free loopback port)
//! that keeps `tests/proxy/pets.yaml` for some pets and breaks it for others, behind the proxy.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use understudy_engine::{Engine, EngineOptions};
use understudy_server::proxy::{InvalidRequests, Proxy, ProxyOptions, Upstream};
use understudy_server::{LiveEngine, ServerOptions, live_proxy_app, proxy_app, serve};

/// What the upstream saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Starts the upstream on a free port; it notes every request it gets.
async fn start_upstream() -> (SocketAddr, Log) {
    let log: Log = Arc::default();
    async fn note(log: &Log, method: Method, path: String, headers: HeaderMap, body: Bytes) {
        log.lock().unwrap().push(Seen {
            method,
            path,
            headers,
            body,
        });
    }
    async fn create(State(log): State<Log>, headers: HeaderMap, body: Bytes) -> Response {
        note(&log, Method::POST, "/pets".into(), headers, body).await;
        (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"id":7,"name":"Rex"}"#,
        )
            .into_response()
    }
    async fn read(
        State(log): State<Log>,
        Path(id): Path<String>,
        method: Method,
        headers: HeaderMap,
    ) -> Response {
        note(&log, method, format!("/pets/{id}"), headers, Bytes::new()).await;
        match id.as_str() {
            // Keeps the contract.
            "1" => (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::HeaderName::from_static("x-request-id"), "req-1"),
                    // As another understudy says it.
                    (header::VARY, understudy_server::cors_for_origins::VARY),
                ],
                r#"{"id":1,"name":"Rex"}"#,
            )
                .into_response(),
            // A status the operation does not document (and no `default`).
            "2" => (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain")],
                "boom",
            )
                .into_response(),
            // A content type the response does not document.
            "3" => (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "text/html"),
                    (header::HeaderName::from_static("x-request-id"), "req-3"),
                ],
                "<p>Rex</p>",
            )
                .into_response(),
            // A body without the required `name`, and no required `X-Request-Id`.
            "4" => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"id":4}"#,
            )
                .into_response(),
            // More than the proxy reads.
            "6" => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                vec![b' '; understudy_server::proxy::MAX_UPSTREAM_BODY + 1],
            )
                .into_response(),
            // Never answers.
            _ => std::future::pending().await,
        }
    }
    let app = Router::new()
        .route("/pets", post(create))
        .route("/pets/{id}", get(read))
        .with_state(Arc::clone(&log));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, log)
}

/// Starts the proxy over `tests/proxy` in front of `upstream`, keeping a contract report.
async fn start_proxy(
    upstream: &str,
    invalid: InvalidRequests,
    timeout: Duration,
) -> (SocketAddr, Arc<Engine>) {
    let specs = [concat!(env!("CARGO_MANIFEST_DIR"), "/tests/proxy").into()];
    let options = EngineOptions {
        seed: Some(7),
        report: true,
        check_responses: true,
        ..EngineOptions::default()
    };
    let engine = Arc::new(Engine::load(&specs, options).unwrap());
    let proxy = Proxy::new(ProxyOptions {
        upstream: Upstream::parse(upstream).unwrap(),
        invalid,
        timeout,
    })
    .unwrap();
    let server_options = ServerOptions::default();
    let app = proxy_app(Arc::clone(&engine), &server_options, proxy);
    let listener = serve::bind("127.0.0.1", 0).await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        serve::accept_until(
            listener,
            app,
            &server_options.connections,
            std::future::pending(),
        )
        .await;
    });
    (address, engine)
}

/// An answer, read whole.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Sends one request over a socket.
async fn send(
    address: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(format!("http://{address}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

/// The request log's entries, oldest first.
async fn logged(address: SocketAddr) -> Vec<Value> {
    let answer = send(address, Method::GET, "/__understudy/requests", &[], "").await;
    assert_eq!(answer.status, StatusCode::OK);
    let mut entries = answer.json()["requests"].as_array().unwrap().clone();
    entries.sort_by_key(|entry| entry["sequence"].as_u64());
    entries
}

#[tokio::test]
async fn an_answer_that_keeps_the_contract_passes_through_untouched() {
    let (upstream, seen) = start_upstream().await;
    let (proxy, engine) = start_proxy(
        &format!("http://{upstream}"),
        InvalidRequests::Forward,
        Duration::from_secs(30),
    )
    .await;
    let answer = send(
        proxy,
        Method::GET,
        "/pets/1",
        &[
            ("connection", "x-hop"),
            ("x-hop", "dropped"),
            ("x-trace", "kept"),
        ],
        "",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(&answer.body[..], br#"{"id":1,"name":"Rex"}"#);
    assert_eq!(answer.header("x-request-id"), Some("req-1"));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("understudy-violations"), None);
    // Said once, not again by the proxy's own CORS layer.
    assert_eq!(answer.headers.get_all(header::VARY).iter().count(), 1);
    // An answer to HEAD keeps the length the body would have, and is checked without one.
    let head = send(proxy, Method::HEAD, "/pets/1", &[], "").await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some("21"));
    assert_eq!(head.header("understudy-violations"), None);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].method, Method::HEAD);
    assert_eq!(seen[0].method, Method::GET);
    assert_eq!(seen[0].path, "/pets/1");
    let host = upstream.to_string();
    assert_eq!(seen[0].headers.get("host").unwrap(), host.as_str());
    assert_eq!(seen[0].headers.get("x-trace").unwrap(), "kept");
    assert!(
        seen[0].headers.get("x-hop").is_none(),
        "{:?}",
        seen[0].headers
    );
    let entries = logged(proxy).await;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[0]["operation"], "GET /pets/{pet_id} (getPet)");
    assert_eq!(entries[0]["violations"], json!([]));
    assert_eq!(engine.contract_report().unwrap().violating(), 0);
}

#[tokio::test]
async fn answers_that_break_the_contract_come_back_unchanged_and_are_reported() {
    let (upstream, _) = start_upstream().await;
    let (proxy, engine) = start_proxy(
        &format!("http://{upstream}"),
        InvalidRequests::Forward,
        Duration::from_secs(30),
    )
    .await;
    let wrong_status = send(proxy, Method::GET, "/pets/2", &[], "").await;
    assert_eq!(wrong_status.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(&wrong_status.body[..], b"boom");
    assert_eq!(wrong_status.header("content-type"), Some("text/plain"));
    let header = wrong_status.header("understudy-violations").unwrap();
    assert!(
        header.starts_with(
            "1; response status: 500 is not a documented status of GET /pets/{pet_id} (getPet)"
        ),
        "{header}"
    );

    let wrong_type = send(proxy, Method::GET, "/pets/3", &[], "").await;
    assert_eq!(wrong_type.status, StatusCode::OK);
    assert_eq!(&wrong_type.body[..], b"<p>Rex</p>");
    assert_eq!(wrong_type.header("content-type"), Some("text/html"));
    let header = wrong_type.header("understudy-violations").unwrap();
    assert!(
        header.starts_with("1; response header content-type: `text/html` is not a documented"),
        "{header}"
    );

    let missing = send(proxy, Method::GET, "/pets/4", &[], "").await;
    assert_eq!(missing.status, StatusCode::OK);
    assert_eq!(&missing.body[..], br#"{"id":4}"#);
    let header = missing.header("understudy-violations").unwrap();
    assert!(header.starts_with("2; "), "{header}");

    let entries = logged(proxy).await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["status"], 500);
    assert_eq!(entries[0]["violations"][0]["location"], "response_status");
    assert_eq!(
        entries[0]["violations"][0]["response"],
        "/paths/~1pets~1{pet_id}/get/responses"
    );
    assert_eq!(entries[1]["violations"][0]["location"], "response_header");
    assert_eq!(entries[1]["violations"][0]["keyword"], "contentType");
    let broken: Vec<(&str, &str, &str)> = entries[2]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|violation| {
            (
                violation["location"].as_str().unwrap(),
                violation["pointer"].as_str().unwrap(),
                violation["response"].as_str().unwrap(),
            )
        })
        .collect();
    let response = "/paths/~1pets~1{pet_id}/get/responses/200";
    assert_eq!(
        broken,
        [
            ("response_header", "/x-request-id", response),
            ("response_body", "/name", response),
        ]
    );
    // The answer the client got is logged as it came.
    assert_eq!(entries[2]["response_body"]["text"], r#"{"id":4}"#);

    let report = engine.contract_report().unwrap();
    assert_eq!(report.violating(), 3);
    let junit = report.to_junit();
    assert!(
        junit.contains(r#"<testcase classname="pets" name="GET /pets/{pet_id} (getPet)">"#),
        "{junit}"
    );
    assert_eq!(junit.matches("<failure ").count(), 3, "{junit}");
    assert!(
        junit.contains(
            "response body /name: `name` is required (/paths/~1pets~1{pet_id}/get/responses/200)"
        ),
        "{junit}"
    );
}

#[tokio::test]
async fn an_invalid_request_is_forwarded_and_reported_by_default() {
    let (upstream, seen) = start_upstream().await;
    let (proxy, engine) = start_proxy(
        &format!("http://{upstream}"),
        InvalidRequests::Forward,
        Duration::from_secs(30),
    )
    .await;
    let answer = send(
        proxy,
        Method::POST,
        "/pets",
        &[
            ("content-type", "application/json"),
            ("expect", "100-continue"),
        ],
        r#"{"nickname":"Rex"}"#,
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(&answer.body[..], br#"{"id":7,"name":"Rex"}"#);
    let header = answer.header("understudy-violations").unwrap();
    assert!(header.starts_with("1; body /name: "), "{header}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(&seen[0].body[..], br#"{"nickname":"Rex"}"#);
    // The body came whole: the upstream is not asked to say `100 Continue` again.
    assert!(seen[0].headers.get("expect").is_none());
    assert_eq!(seen[0].headers.get("content-length").unwrap(), "18");
    let entries = logged(proxy).await;
    assert_eq!(entries[0]["status"], 201);
    assert_eq!(entries[0]["violations"][0]["location"], "body");
    assert_eq!(engine.contract_report().unwrap().violating(), 1);
}

#[tokio::test]
async fn with_reject_an_invalid_request_is_answered_locally_and_never_forwarded() {
    let (upstream, seen) = start_upstream().await;
    let (proxy, engine) = start_proxy(
        &format!("http://{upstream}"),
        InvalidRequests::Reject,
        Duration::from_secs(30),
    )
    .await;
    let answer = send(
        proxy,
        Method::POST,
        "/pets",
        &[("content-type", "application/json")],
        r#"{"nickname":"Rex"}"#,
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.header("understudy-violations").is_some());
    assert!(seen.lock().unwrap().is_empty());
    // A credential's value is shown to the client in the body, never in the header (which the
    // log line's summary is made from).
    let secret = send(proxy, Method::GET, "/pets/1?token=SECRET1", &[], "").await;
    assert_eq!(secret.status, StatusCode::UNPROCESSABLE_ENTITY);
    let header = secret.header("understudy-violations").unwrap();
    assert!(header.starts_with("1; query token: "), "{header}");
    assert!(!header.contains("SECRET1"), "{header}");
    // A path no spec serves is answered 404 here too.
    let unknown = send(proxy, Method::GET, "/owners", &[], "").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(seen.lock().unwrap().is_empty());
    // A valid one is forwarded.
    let valid = send(
        proxy,
        Method::POST,
        "/pets",
        &[("content-type", "application/json")],
        r#"{"name":"Rex"}"#,
    )
    .await;
    assert_eq!(valid.status, StatusCode::CREATED);
    assert_eq!(valid.header("understudy-violations"), None);
    assert_eq!(seen.lock().unwrap().len(), 1);
    let entries = logged(proxy).await;
    assert_eq!(entries[0]["status"], 422);
    assert_eq!(entries[0]["violations"][0]["pointer"], "/name");
    assert_eq!(engine.contract_report().unwrap().violating(), 3);
}

#[tokio::test]
async fn an_unreachable_upstream_is_answered_502_naming_it() {
    // A port that was free a moment ago and has no listener now.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let upstream = format!("http://{address}");
    let (proxy, _) =
        start_proxy(&upstream, InvalidRequests::Forward, Duration::from_secs(30)).await;
    let answer = send(proxy, Method::GET, "/pets/1", &[], "").await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let problem = answer.json();
    assert_eq!(problem["upstream"], upstream);
    assert!(
        problem["detail"].as_str().unwrap().contains(&upstream),
        "{problem}"
    );
    let entries = logged(proxy).await;
    assert_eq!(entries[0]["status"], 502);
}

#[tokio::test]
async fn a_slow_upstream_is_answered_504_after_the_timeout() {
    let (upstream, seen) = start_upstream().await;
    let timeout = Duration::from_millis(300);
    let (proxy, _) = start_proxy(
        &format!("http://{upstream}"),
        InvalidRequests::Forward,
        timeout,
    )
    .await;
    let started = Instant::now();
    // A generous cap, only so that a proxy that waits forever fails rather than hangs.
    let answer = tokio::time::timeout(
        Duration::from_secs(20),
        send(proxy, Method::GET, "/pets/9", &[], ""),
    )
    .await
    .expect("the proxy waited past its timeout");
    assert!(started.elapsed() >= timeout);
    assert_eq!(answer.status, StatusCode::GATEWAY_TIMEOUT);
    let problem = answer.json();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("did not answer within 300ms"),
        "{problem}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_answer_too_large_to_check_is_answered_502() {
    let (upstream, _) = start_upstream().await;
    let (proxy, _) = start_proxy(
        &format!("http://{upstream}"),
        InvalidRequests::Forward,
        Duration::from_secs(30),
    )
    .await;
    let answer = send(proxy, Method::GET, "/pets/6", &[], "").await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    let problem = answer.json();
    assert_eq!(problem["title"], "Upstream answer too large");
    assert_eq!(problem["upstream"], format!("http://{upstream}"));
}

#[tokio::test]
async fn a_proxy_over_a_live_engine_checks_with_the_engine_swapped_in() {
    let (upstream, _) = start_upstream().await;
    let load = || {
        let specs = [concat!(env!("CARGO_MANIFEST_DIR"), "/tests/proxy").into()];
        let options = EngineOptions {
            check_responses: true,
            ..EngineOptions::default()
        };
        Arc::new(Engine::load(&specs, options).unwrap())
    };
    let logged_by = |engine: &Engine| {
        let answer: Value =
            serde_json::from_slice(&engine.request_log().answer(100, usize::MAX)).unwrap();
        answer["requests"].as_array().unwrap().len()
    };
    let (first, second) = (load(), load());
    let live = Arc::new(LiveEngine::new(Arc::clone(&first)));
    let proxy = Proxy::new(ProxyOptions {
        upstream: Upstream::parse(&format!("http://{upstream}")).unwrap(),
        invalid: InvalidRequests::Forward,
        timeout: Duration::from_secs(30),
    })
    .unwrap();
    let server_options = ServerOptions::default();
    let app = live_proxy_app(Arc::clone(&live), &server_options, proxy);
    let listener = serve::bind("127.0.0.1", 0).await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        serve::accept_until(
            listener,
            app,
            &server_options.connections,
            std::future::pending(),
        )
        .await;
    });
    assert_eq!(
        send(address, Method::GET, "/pets/1", &[], "").await.status,
        StatusCode::OK
    );
    assert_eq!((logged_by(&first), logged_by(&second)), (1, 0));
    // What `proxy --watch` does on an edit: the next request is checked by the new engine.
    live.replace(Arc::clone(&second));
    assert_eq!(
        send(address, Method::GET, "/pets/1", &[], "").await.status,
        StatusCode::OK
    );
    assert_eq!((logged_by(&first), logged_by(&second)), (1, 1));
}
