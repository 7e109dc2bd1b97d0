//! The admin API's request list under hostile input: however much the requests sent, the answer
//! stays within its byte budget, keeps the newest requests, and says what it left out.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use support::{get, post, send};
use understudy_engine::request_log::MAX_ANSWER_BYTES;
use understudy_server::{ServerOptions, app};

#[tokio::test]
async fn the_request_list_is_cut_to_its_budget_and_says_so() {
    let engine = support::engine("hostile");
    let app = app(engine, &ServerOptions::default());
    // Each request breaks many rules with long names and values: about 13 KB of JSON logged for each.
    let properties: Vec<String> = (0..60)
        .map(|index| format!(r#""{index:03}{}":1"#, "p".repeat(400)))
        .collect();
    let body = format!(r#"{{"text":"a",{}}}"#, properties.join(","));
    let requests = 400;
    for _ in 0..requests {
        let answer = send(&app, post("/notes", &body, &[])).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let answer = send(&app, get("/__understudy/requests?limit=1000", &[])).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert!(
        answer.body.len() <= MAX_ANSWER_BYTES,
        "{} bytes answered",
        answer.body.len()
    );
    let log = answer.json();
    let listed = log["requests"].as_array().unwrap();
    assert_eq!(log["truncated"], true);
    assert_eq!(log["omitted"], requests - listed.len());
    assert!(listed.len() > 100, "only {} listed", listed.len());
    assert_eq!(
        listed.last().unwrap()["sequence"],
        requests,
        "the newest is kept"
    );
    let small = send(&app, get("/__understudy/requests?limit=3", &[]))
        .await
        .json();
    assert_eq!(small["requests"].as_array().unwrap().len(), 3);
    assert_eq!(small["truncated"], false);
    assert!(small.get("omitted").is_none());
}
