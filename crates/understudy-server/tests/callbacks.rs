//! Callbacks through real sockets: a listener in the test receives what a subscribe operation's
//! callback sends (method, path made from the request and the answer, a body valid against the
//! callback's schema that echoes the request); a host that is not loopback is refused, a
//! receiver that never answers is timed out, callbacks past the bound are dropped, and each
//! outcome is in the request log. Every wait is on a channel or on
//! `MockServer::callbacks_settled`, with a generous deadline; nothing sleeps.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};
use support::{raw_request, test_path};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use understudy_engine::json_schema::request_validator;
use understudy_engine::request_log::CallbackState;
use understudy_server::{CallbackOptions, CallbacksTo, MockServer, ServerOptions};

/// Far longer than anything here takes: a deadline that only a broken feature reaches.
const DEADLINE: Duration = Duration::from_secs(30);

/// What the test's receiver was sent.
#[derive(Debug)]
struct Received {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

/// A receiver on 127.0.0.1 that answers every request 204 and hands it to the test.
async fn receiver() -> (SocketAddr, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (sender, received) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(Received {
                    method,
                    uri,
                    headers,
                    body,
                });
                StatusCode::NO_CONTENT
            }
        },
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, received)
}

/// A receiver on 127.0.0.1 that accepts connections, says so, and never answers; it closes
/// them when `release` is sent (or dropped).
async fn silent_receiver() -> (SocketAddr, mpsc::UnboundedReceiver<()>, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (accepted, on_accept) = mpsc::unbounded_channel();
    let (release, released) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut held = Vec::new();
        let accepting = async {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                held.push(stream);
                let _ = accepted.send(());
            }
        };
        tokio::select! {
            () = accepting => {}
            _ = released => {}
        }
    });
    (address, on_accept, release)
}

async fn server(builder: understudy_server::MockServerBuilder) -> MockServer {
    builder
        .specs([test_path("callbacks")])
        .seed(3)
        .start()
        .await
        .unwrap()
}

/// Subscribes `callback_url` and gives the answer's status and body.
async fn subscribe(server: &MockServer, callback_url: &str) -> (u16, Value) {
    let body =
        json!({"callbackUrl": callback_url, "event": "order.shipped", "note": "from the test"});
    let (status, answer) = raw_request(
        server.address(),
        "POST",
        "/subscriptions",
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await;
    (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
}

/// Waits until every callback is settled, within the deadline.
async fn settled(server: &MockServer) {
    tokio::time::timeout(DEADLINE, server.callbacks_settled())
        .await
        .expect("every callback settles within the deadline");
}

/// The callbacks of the request numbered `sequence`, as `GET /__understudy/requests` shows them.
async fn logged_callbacks(server: &MockServer, sequence: u64) -> Vec<Value> {
    let (status, body) =
        raw_request(server.address(), "GET", "/__understudy/requests", &[], "").await;
    assert_eq!(status, 200);
    let log: Value = serde_json::from_str(&body).unwrap();
    let entry = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["sequence"] == sequence)
        .unwrap_or_else(|| panic!("no request {sequence} in {log}"))
        .clone();
    entry["callbacks"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_callback_goes_to_the_url_made_from_the_request_and_the_answer() {
    let (address, mut received) = receiver().await;
    let server = server(MockServer::builder()).await;
    let (status, answer) = subscribe(&server, &format!("http://{address}/hooks")).await;
    assert_eq!(status, 201, "{answer}");
    let id = answer["id"].as_str().unwrap();

    let callback = tokio::time::timeout(DEADLINE, received.recv())
        .await
        .expect("the callback arrives")
        .unwrap();
    assert_eq!(callback.method, Method::POST);
    // `{$request.body#/callbackUrl}/events/{$response.body#/id}`.
    assert_eq!(callback.uri.path(), format!("/hooks/events/{id}"));
    assert_eq!(callback.headers["content-type"], "application/json");
    assert_eq!(callback.headers["host"], address.to_string());
    let body: Value = serde_json::from_slice(&callback.body).unwrap();
    // Echoed from the request where the callback's schema has the same names.
    assert_eq!(body["event"], "order.shipped", "{body}");
    assert_eq!(body["note"], "from the test", "{body}");
    let document = &server.engine().specs()[0].operations[0].document;
    let schema = document.pointer("/components/schemas/Event").unwrap();
    let validator = request_validator(document, schema).unwrap();
    assert!(validator.is_valid(&body), "{body}");

    settled(&server).await;
    let logged = &server.received_requests()[0].callbacks;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].outcome, CallbackState::Answered);
    assert_eq!(logged[0].status, Some(204));
    let shown = logged_callbacks(&server, 1).await;
    assert_eq!(shown[0]["name"], "onEvent");
    assert_eq!(shown[0]["method"], "POST");
    assert_eq!(shown[0]["outcome"], "answered");
    assert_eq!(
        shown[0]["url"],
        format!("http://{address}/hooks/events/{id}")
    );

    // A name is resolved, checked, and kept in `Host`.
    let by_name = format!("localhost:{}", address.port());
    let (status, _) = subscribe(&server, &format!("http://{by_name}/hooks")).await;
    assert_eq!(status, 201);
    let callback = tokio::time::timeout(DEADLINE, received.recv())
        .await
        .expect("the callback by name arrives")
        .unwrap();
    assert_eq!(callback.headers["host"], by_name);
    settled(&server).await;
    assert_eq!(server.received_requests()[1].callbacks[0].status, Some(204));
}

#[tokio::test]
async fn a_host_that_is_not_loopback_is_refused_and_the_refusal_is_logged() {
    let server = server(MockServer::builder()).await;
    // TEST-NET-1: never reached, as it is refused before any connection.
    let (status, answer) = subscribe(&server, "http://192.0.2.1:9/hooks").await;
    assert_eq!(status, 201);
    settled(&server).await;
    let shown = logged_callbacks(&server, 1).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0]["outcome"], "refused", "{shown:?}");
    let error = shown[0]["error"].as_str().unwrap();
    assert!(
        error.contains("192.0.2.1") && error.contains("not a loopback address"),
        "{error}"
    );
    assert!(error.contains("--callbacks-to any"), "{error}");
    assert_eq!(
        shown[0]["url"],
        format!(
            "http://192.0.2.1:9/hooks/events/{}",
            answer["id"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_timed_out() {
    let (address, mut accepted, _release) = silent_receiver().await;
    let server = server(MockServer::builder().callback_timeout(Duration::from_millis(300))).await;
    let (status, _) = subscribe(&server, &format!("http://{address}/hooks")).await;
    assert_eq!(status, 201);
    tokio::time::timeout(DEADLINE, accepted.recv())
        .await
        .expect("the callback connects")
        .unwrap();
    settled(&server).await;
    let shown = logged_callbacks(&server, 1).await;
    assert_eq!(shown[0]["outcome"], "timed_out", "{shown:?}");
    assert_eq!(shown[0]["error"], "no answer within 300 ms");
}

#[tokio::test]
async fn callbacks_past_the_bound_are_dropped_and_logged() {
    let (address, mut accepted, release) = silent_receiver().await;
    let options = ServerOptions {
        callbacks: CallbackOptions {
            max_in_flight: 1,
            timeout: DEADLINE,
            ..CallbackOptions::default()
        },
        ..ServerOptions::default()
    };
    let server = server(MockServer::builder().server_options(options)).await;
    let url = format!("http://{address}/hooks");
    assert_eq!(subscribe(&server, &url).await.0, 201);
    // The first is in flight, held by the receiver.
    tokio::time::timeout(DEADLINE, accepted.recv())
        .await
        .expect("the first callback connects")
        .unwrap();
    assert_eq!(subscribe(&server, &url).await.0, 201);
    // Dropped when it was made, before the answer.
    let second = logged_callbacks(&server, 2).await;
    assert_eq!(second[0]["outcome"], "dropped", "{second:?}");
    assert!(
        second[0]["error"]
            .as_str()
            .unwrap()
            .contains("1 callbacks were in flight")
    );
    assert_eq!(logged_callbacks(&server, 1).await[0]["outcome"], "pending");

    // The receiver closes the connection without answering: the first fails, and is logged.
    release.send(()).unwrap();
    settled(&server).await;
    let first = logged_callbacks(&server, 1).await;
    assert_eq!(first[0]["outcome"], "failed", "{first:?}");
    assert!(first[0]["error"].is_string());
}

#[tokio::test]
async fn no_callback_is_made_when_they_are_off_or_the_request_is_refused() {
    let (address, mut received) = receiver().await;
    let url = format!("http://{address}/hooks");
    let off = server(MockServer::builder().callbacks_to(CallbacksTo::Off)).await;
    assert_eq!(subscribe(&off, &url).await.0, 201);
    settled(&off).await;
    assert!(off.received_requests()[0].callbacks.is_empty());

    let server = server(MockServer::builder()).await;
    let (status, _) = raw_request(
        server.address(),
        "POST",
        "/subscriptions",
        &[("Content-Type", "application/json")],
        &json!({"callbackUrl": url, "event": "order.lost"}).to_string(),
    )
    .await;
    assert_eq!(status, 422);
    // A valid request answered with an error it asked for is no success either.
    let valid = json!({"callbackUrl": url, "event": "order.created"});
    let (status, _) = raw_request(
        server.address(),
        "POST",
        "/subscriptions",
        &[("Content-Type", "application/json"), ("Prefer", "code=422")],
        &valid.to_string(),
    )
    .await;
    assert_eq!(status, 422);
    settled(&server).await;
    let requests = server.received_requests();
    assert!(requests[0].callbacks.is_empty() && requests[1].callbacks.is_empty());
    // Neither request reached the receiver (nothing was admitted, so nothing is under way).
    assert!(received.try_recv().is_err());

    // A URL that cannot be made is not fired, and says why.
    assert_eq!(subscribe(&server, "ftp://127.0.0.1/hooks").await.0, 201);
    let shown = logged_callbacks(&server, 3).await;
    assert_eq!(shown[0]["outcome"], "not_fired", "{shown:?}");
    assert!(shown[0]["error"].as_str().unwrap().contains("http only"));
}

#[tokio::test]
async fn webhooks_are_listed_with_the_routes_and_never_served() {
    let server = server(MockServer::builder()).await;
    let (status, body) =
        raw_request(server.address(), "GET", "/__understudy/routes", &[], "").await;
    assert_eq!(status, 200);
    let routes: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        routes["webhooks"],
        json!([{
            "spec": "events",
            "name": "orderShipped",
            "method": "POST",
            "pointer": "/webhooks/orderShipped/post",
            "fired": false,
        }])
    );
    assert_eq!(
        routes["routes"][0]["callbacks"],
        json!([{
            "name": "onEvent",
            "method": "POST",
            "url": "{$request.body#/callbackUrl}/events/{$response.body#/id}",
        }])
    );
    let (status, _) = raw_request(server.address(), "POST", "/orderShipped", &[], "{}").await;
    assert_eq!(status, 404);
}
