//! The per-request log line: written when the subscriber takes INFO, and its layer left out when
//! it does not (`--log-level warn`), while requests are answered the same either way.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use support::{get, send, test_app};
use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;

/// What a subscriber wrote, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The log of one unknown-path request to an app built under a subscriber at `level`.
async fn log_of_one_request(level: Level) -> String {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let answer = send(&test_app(), get("/api/nothing", &[])).await;
    drop(guard);
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let written = captured.0.lock().unwrap().clone();
    String::from_utf8(written).unwrap()
}

#[tokio::test]
async fn a_request_is_logged_at_info_and_not_below() {
    let info = log_of_one_request(Level::INFO).await;
    assert!(info.contains("answered"), "{info}");
    assert!(info.contains("status=404"), "{info}");
    assert!(info.contains("path=/api/nothing"), "{info}");
    let warn = log_of_one_request(Level::WARN).await;
    assert!(!warn.contains("answered"), "{warn}");
}

#[tokio::test]
async fn the_admin_api_reads_the_inspector_polls_write_no_line() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::INFO)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let app = test_app();
    for path in [
        "/__understudy/requests",
        "/__understudy/state",
        "/__understudy/",
    ] {
        assert_eq!(send(&app, get(path, &[])).await.status, StatusCode::OK);
    }
    let refused = get("/__understudy/state", &[("origin", "http://evil.example")]);
    assert_eq!(send(&app, refused).await.status, StatusCode::FORBIDDEN);
    drop(guard);
    let written = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(written.matches("answered").count(), 1, "{written}");
    assert!(
        written.contains("status=403"),
        "a refusal is still logged: {written}"
    );
}
