//! Memory under hostile input, in a test binary of its own so that no other test's allocations
//! move the process's resident size: a thousand creates, each with a 1 MB string where at most 50
//! characters are allowed, leave the request log and the contract report small, and the admin
//! API's answer for all of them stays under its byte budget.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use support::{get, post, send, test_path};
use understudy_engine::{Engine, EngineOptions};
use understudy_server::{ServerOptions, app};

/// The most the process may hold after the thousand requests.
const MAX_RSS: u64 = 64 * 1024 * 1024;
/// The most the admin API may answer.
const MAX_ANSWER: usize = 5 * 1024 * 1024;

/// The process's resident set, and its peak, in bytes (Linux's `/proc/self/status`).
fn resident() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .unwrap()
                    * 1024
            })
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test]
async fn a_thousand_megabyte_invalid_fields_leave_memory_and_the_admin_answer_bounded() {
    let options = EngineOptions {
        seed: Some(7),
        report: true,
        ..EngineOptions::default()
    };
    let engine = Arc::new(Engine::load(&[test_path("hostile")], options).unwrap());
    let app = app(Arc::clone(&engine), &ServerOptions::default());
    let body = format!(r#"{{"text":"{}"}}"#, "x".repeat(1_000_000));
    let (before, _) = resident();
    for _ in 0..1_000 {
        let answer = send(&app, post("/notes", &body, &[])).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let log = send(&app, get("/__understudy/requests?limit=1000", &[])).await;
    assert_eq!(log.status, StatusCode::OK);
    let (after, peak) = resident();
    eprintln!(
        "RSS before {} KiB, after {} KiB (peak {} KiB); admin answer at limit=1000: {} bytes",
        before / 1024,
        after / 1024,
        peak / 1024,
        log.body.len()
    );
    assert!(
        log.body.len() <= MAX_ANSWER,
        "the admin answer is {} bytes",
        log.body.len()
    );
    assert!(after <= MAX_RSS, "RSS is {} KiB", after / 1024);
}
