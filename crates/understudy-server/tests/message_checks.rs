//! HTTP's message rules on a real socket, on every path: an HTTP/1.1 request without one valid
//! `Host` is 400, an `Expect` other than `100-continue` is 417 (hyper checks neither, and
//! `oneshot` cannot tell what hyper does, so these requests are written byte by byte).
#![allow(clippy::unwrap_used)]

mod support;

use support::test_path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use understudy_server::MockServer;

const PET: &str = r#"{"name": "Tom", "kind": "cat"}"#;

/// Sends `head` (request line and headers, without the blank line) and `body` on a new
/// connection, and reads the whole answer: the server closes it after a refusal, and every
/// request here asks it to otherwise.
async fn raw(server: &MockServer, head: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(server.address()).await.unwrap();
    let request = format!(
        "{head}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Authorization: Basic dXNlcjpwYXNz\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// The final status of an answer (after any `100 Continue`).
fn status(answer: &str) -> u16 {
    let mut rest = answer;
    loop {
        assert!(rest.starts_with("HTTP/1."), "{answer}");
        let status = rest["HTTP/1.x ".len()..][..3].parse().unwrap();
        if status != 100 {
            return status;
        }
        rest = rest.split_once("\r\n\r\n").unwrap().1;
    }
}

#[tokio::test]
async fn an_http_1_1_request_without_one_valid_host_is_400_on_every_path() {
    let server = MockServer::start([test_path("specs")]).await.unwrap();
    for path in ["/api/pets", "/__understudy/reset", "/nowhere"] {
        let answer = raw(&server, &format!("POST {path} HTTP/1.1"), PET).await;
        assert_eq!(status(&answer), 400, "{path}: {answer}");
        assert!(
            answer.contains("content-type: application/problem+json"),
            "{answer}"
        );
        assert!(answer.contains("must have a Host header"), "{answer}");
        let two = raw(
            &server,
            &format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nHost: evil.example"),
            PET,
        )
        .await;
        assert_eq!(status(&two), 400, "{path}: {two}");
        let broken = raw(&server, &format!("POST {path} HTTP/1.1\r\nHost: a b"), PET).await;
        assert_eq!(status(&broken), 400, "{path}: {broken}");
    }
    // HTTP/1.0 has no such rule.
    let old = raw(&server, "POST /api/pets HTTP/1.0", PET).await;
    assert_eq!(status(&old), 201, "{old}");
}

#[tokio::test]
async fn an_expectation_other_than_100_continue_is_417_on_every_path() {
    let server = MockServer::start([test_path("specs")]).await.unwrap();
    let address = server.address();
    for path in ["/api/pets", "/__understudy/reset"] {
        for expect in ["fly", "100-continue, fly"] {
            let head = format!("POST {path} HTTP/1.1\r\nHost: {address}\r\nExpect: {expect}");
            let answer = raw(&server, &head, PET).await;
            assert_eq!(status(&answer), 417, "{path} {expect}: {answer}");
            assert!(answer.contains(&format!("not `{expect}`")), "{answer}");
        }
    }
    // `100-continue` in any case is met, and the request answered.
    let head = format!("POST /api/pets HTTP/1.1\r\nHost: {address}\r\nExpect: 100-Continue");
    let answer = raw(&server, &head, PET).await;
    assert_eq!(status(&answer), 201, "{answer}");
}
