//! What a hostile request can make the engine keep: offending values, names, paths and queries
//! are cut to their bounds in the answer, the request log and the contract report; credentials
//! in the query are hidden on every path; a number no `f64` holds is out of range at its pointer;
//! and an echo the generator could not vouch for is checked again before it is sent.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use understudy_engine::request_log::{
    MAX_ENTRY_BYTES, MAX_EXCHANGE_BYTES, MAX_LOGGED_BODY, MAX_LOGGED_HEADERS, MAX_LOGGED_TEXT,
};
use understudy_engine::violation::{MAX_TEXT_BYTES, MAX_VALUE_BYTES, summary};
use understudy_engine::{Engine, EngineOptions, MockRequest};

/// The engine over `tests/specs/requests`, keeping a report.
fn engine() -> Engine {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/requests");
    let options = EngineOptions {
        seed: Some(3),
        report: true,
        ..EngineOptions::default()
    };
    Engine::load(&[path], options).unwrap()
}

/// Sends one request, returning its status and its body as JSON (`Null` for none).
fn send(engine: &Engine, method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
    let (status, json, _) = exchange(engine, method, uri, &[], body);
    (status, json)
}

/// Sends one request with headers, returning its status, its body as JSON and the summary of
/// its violations that the server's log line shows.
fn exchange(
    engine: &Engine,
    method: &str,
    uri: &str,
    extra: &[(&'static str, &str)],
    body: &str,
) -> (StatusCode, Value, String) {
    let mut headers = HeaderMap::new();
    for (name, value) in extra {
        headers.insert(*name, value.parse().unwrap());
    }
    if !body.is_empty() {
        headers.insert("content-type", "application/json".parse().unwrap());
    }
    let (path, query) = match uri.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (uri, None),
    };
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let request = MockRequest {
        method: &method,
        path,
        query,
        headers: &headers,
        body: body.as_bytes(),
    };
    let outcome = engine.handle(&request);
    let json = serde_json::from_slice(&outcome.response.body).unwrap_or(Value::Null);
    let summary = summary(&outcome.violations);
    (outcome.response.status, json, summary)
}

/// The admin API's answer for the last `limit` requests, and the report as JSON and JUnit.
fn kept(engine: &Engine, limit: usize) -> (Value, String) {
    let log: Value =
        serde_json::from_slice(&engine.request_log().answer(limit, usize::MAX)).unwrap();
    let report = engine.contract_report().unwrap();
    let text = format!("{}\n{}\n{}", log, report.to_json(), report.to_junit());
    (log, text)
}

#[test]
fn an_offending_value_is_kept_short_in_the_answer_the_log_and_the_report() {
    let engine = engine();
    // Three bytes a character, so the cut has to find a character boundary.
    let long = "€".repeat(100_000);
    let (status, answer) = send(
        &engine,
        "POST",
        "/notes",
        &format!(r#"{{"text":"{long}"}}"#),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (log, _) = kept(&engine, 1);
    let report = engine.contract_report().unwrap().to_json();
    for violation in [
        &answer["violations"][0],
        &log["requests"][0]["violations"][0],
        &report["operations"][0]["failures"][0]["violations"][0],
    ] {
        assert_eq!(violation["pointer"], "/text", "{violation}");
        let value = violation["value"].as_str().unwrap();
        assert!(value.len() <= MAX_VALUE_BYTES, "{} bytes kept", value.len());
        assert!(value.len() > MAX_VALUE_BYTES - 3 && value.chars().all(|c| c == '€'));
        assert_eq!(violation["value_truncated"], true);
        assert_eq!(violation["value_length"], 100_000, "in characters");
        assert!(violation["message"].as_str().unwrap().len() <= MAX_TEXT_BYTES);
    }
    // A short value is kept whole, and says nothing of truncation.
    let (_, answer) = send(
        &engine,
        "POST",
        "/notes",
        &format!(r#"{{"text":"{}"}}"#, "x".repeat(51)),
    );
    assert_eq!(answer["violations"][0]["value"], "x".repeat(51));
    assert!(answer["violations"][0].get("value_truncated").is_none());
    assert!(answer["violations"][0].get("value_length").is_none());
}

#[test]
fn a_thousand_huge_values_leave_the_log_and_the_report_small() {
    let engine = engine();
    let body = format!(r#"{{"text":"{}"}}"#, "x".repeat(64 * 1024));
    for _ in 0..1_000 {
        assert_eq!(send(&engine, "POST", "/notes", &body).0, 422);
    }
    let log = engine.request_log().kept_bytes();
    let report = engine.contract_report().unwrap().kept_bytes();
    eprintln!("1,000 requests with a 64 KiB invalid value: log {log} bytes, report {report} bytes");
    // Each entry keeps about 1 KB and the start of both bodies; unbounded, each kept the 64 KiB.
    assert!(
        log < 1_000 * (4 * 1024 + MAX_LOGGED_BODY),
        "the log keeps {log} bytes"
    );
    assert!(report < 2 * 1024 * 1024, "the report keeps {report} bytes");
    let failures = engine.contract_report().unwrap().to_json()["operations"][0]["failures"]
        .as_array()
        .map(Vec::len);
    assert_eq!(
        failures,
        Some(1_000),
        "the report kept every failure, small"
    );
}

#[test]
fn hostile_property_names_are_cut_in_pointer_field_and_message() {
    let engine = engine();
    let name = "n".repeat(10_000);
    let body = format!(r#"{{"text":"a","{name}":1,"labels":{{"{name}":"long"}}}}"#);
    let (status, answer) = send(&engine, "POST", "/notes", &body);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let violations = answer["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 2, "{answer}");
    for violation in violations {
        for key in ["pointer", "field", "message"] {
            let text = violation[key].as_str().unwrap();
            assert!(
                text.len() <= MAX_TEXT_BYTES,
                "{key} keeps {} bytes",
                text.len()
            );
            // The message names the property only when it is the one not allowed.
            let named = key != "message" || violation["keyword"] == "additionalProperties";
            assert_eq!(text.ends_with('…'), named, "{key}: {text}");
        }
    }
    let (log, _) = kept(&engine, 1);
    assert_eq!(log["requests"][0]["violations"], answer["violations"]);
}

#[test]
fn a_request_breaking_many_rules_is_logged_within_its_bound() {
    let engine = engine();
    let properties: Vec<String> = (0..60)
        .map(|index| format!(r#""{index:03}{}":1"#, "p".repeat(400)))
        .collect();
    let body = format!(r#"{{"text":"a",{}}}"#, properties.join(","));
    let (status, answer) = send(&engine, "POST", "/notes", &body);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let shown = answer["violations"].as_array().unwrap().len();
    assert_eq!(shown, 50, "the answer shows at most 50 violations");
    let (log, _) = kept(&engine, 1);
    let entry = &log["requests"][0];
    let logged = entry["violations"].as_array().unwrap().len();
    assert!(logged < shown, "{logged} violations logged");
    assert_eq!(entry["violations_omitted"], shown - logged);
    let bytes = engine.request_log().kept_bytes();
    assert!(
        bytes <= MAX_ENTRY_BYTES + MAX_EXCHANGE_BYTES + 1024,
        "the entry keeps {bytes} bytes"
    );
}

#[test]
fn a_long_path_query_and_method_are_cut_in_the_log() {
    let engine = engine();
    let uri = format!("/nope/{}?q={}", "s".repeat(10_000), "v".repeat(10_000));
    let method = "M".repeat(1_000);
    assert_eq!(send(&engine, &method, &uri, "").0, StatusCode::NOT_FOUND);
    let (log, _) = kept(&engine, 1);
    let entry = &log["requests"][0];
    for key in ["path", "query"] {
        let text = entry[key].as_str().unwrap();
        assert!(
            text.len() <= MAX_LOGGED_TEXT,
            "{key} keeps {} bytes",
            text.len()
        );
        assert!(text.ends_with('…'), "{key} is marked as cut");
    }
    assert!(entry["method"].as_str().unwrap().len() <= 32);
}

#[test]
fn credentials_in_the_query_are_hidden_on_every_path() {
    let engine = engine();
    let requests = [
        // No spec serves the path (404): a common credential name.
        ("POST", "/nope?a=1&api_key=SECRET-404", 404),
        // The path is served, the method is not (405): the spec's own name, in another case.
        ("PUT", "/notes?a=2&apptoken=SECRET-405", 405),
        // Percent-encoded names, which the credential check reads decoded (and accepts).
        ("GET", "/secured?a=3&App%54oken=SECRET-ENCODED", 204),
        (
            "GET",
            "/nope?a=4&api%5Fkey=SECRET-ENCODED-404&Token=SECRET-TOKEN",
            404,
        ),
        // A name the check refuses (case differs) is hidden all the same.
        ("GET", "/secured?a=5&APPTOKEN=SECRET-401", 401),
    ];
    for (method, uri, status) in requests {
        assert_eq!(send(&engine, method, uri, "").0, status, "{method} {uri}");
    }
    let (log, text) = kept(&engine, 10);
    assert!(
        !text.contains("SECRET"),
        "a credential reached the log or report: {text}"
    );
    let queries: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["query"].as_str().unwrap())
        .collect();
    assert_eq!(
        queries,
        [
            "a=1&api_key=***",
            "a=2&apptoken=***",
            "a=3&App%54oken=***",
            "a=4&api%5Fkey=***&Token=***",
            "a=5&APPTOKEN=***",
        ]
    );
}

#[test]
fn credentials_in_headers_and_credential_named_parameters_stay_out_of_logs() {
    let engine = engine();
    // A token sent without its scheme is not quoted as if it were one.
    let bare = [("authorization", "SECRET-BARE-TOKEN")];
    let (status, answer, line) = exchange(&engine, "GET", "/basic", &bare, "");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!answer.to_string().contains("SECRET"), "{answer}");
    assert!(!line.contains("SECRET"), "{line}");
    let wrong = [("authorization", "Bearer SECRET-BEARER")];
    let (status, answer, _) = exchange(&engine, "GET", "/basic", &wrong, "");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let message = answer["violations"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the `Bearer` scheme is not accepted"),
        "{message}"
    );
    // A plain parameter named `token`: the client sees its value, the log line and log do not.
    let (status, answer, line) = exchange(&engine, "GET", "/search?token=SECRET9", &[], "");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["violations"][0]["value"], "SECRET9");
    assert!(!line.contains("SECRET"), "{line}");
    let (log, text) = kept(&engine, 10);
    assert!(
        !text.contains("SECRET"),
        "a credential reached the log or report: {text}"
    );
    let hidden = &log["requests"][2]["violations"][0];
    assert_eq!(hidden["field"], "token");
    assert_eq!(hidden["keyword"], "pattern");
    assert!(hidden.get("value").is_none(), "{hidden}");
}

#[test]
fn a_number_no_f64_holds_is_out_of_range_at_its_pointer() {
    let engine = engine();
    let digits = "9".repeat(400);
    // Shown as serde_json holds it: its digits as sent, the exponent spelt `e+` or `e-`.
    let cases = [
        (
            r#"{"text":"a","score":1e999}"#.to_owned(),
            "/score",
            "1e+999",
        ),
        (
            "{\n  \"text\": \"a\",\n  \"labels\": {\"x/y~z\": -2.5E+400}\n}".to_owned(),
            "/labels/x~1y~0z",
            "-2.5e+400",
        ),
        (
            r#"{"text":"a","score":[0, 1e999]}"#.to_owned(),
            "/score/1",
            "1e+999",
        ),
        ("1e999".to_owned(), "", "1e+999"),
        // An integer too long for any f64 is out of range too (not "not well-formed").
        (format!(r#"{{"text":"a","big":{digits}}}"#), "/big", &digits),
    ];
    for (body, pointer, number) in &cases {
        let (status, answer) = send(&engine, "POST", "/notes", body);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let violation = &answer["violations"][0];
        assert_eq!(violation["pointer"], *pointer, "{answer}");
        assert_eq!(violation["keyword"], "range", "{answer}");
        let message = violation["message"].as_str().unwrap();
        assert!(message.contains("out of range"), "{message}");
        assert!(!message.contains("well-formed"), "{message}");
        let shown = &number[..number.len().min(MAX_VALUE_BYTES)];
        assert_eq!(violation["value"], shown, "{answer}");
    }
    // Malformed JSON is still malformed, and a small exponent is a number.
    let (status, answer) = send(&engine, "POST", "/notes", r#"{"text": }"#);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .contains("not well-formed JSON")
    );
    let (status, _) = send(&engine, "POST", "/notes", r#"{"text":"a","score":1e300}"#);
    assert_eq!(status, StatusCode::CREATED);
}

/// The most items any array in `value` has.
fn widest_array(value: &Value) -> usize {
    match value {
        Value::Array(items) => items
            .iter()
            .map(widest_array)
            .max()
            .unwrap_or(0)
            .max(items.len()),
        Value::Object(map) => map.values().map(widest_array).max().unwrap_or(0),
        _ => 0,
    }
}

#[test]
fn an_echo_the_generator_cannot_vouch_for_is_checked_again_and_made_anew() {
    let engine = engine();
    // Every array holds at most one item, down to the two at the bottom: the generator's own
    // check gives up before it gets there, so only the engine's second check can refuse the echo.
    for depth in [10, 80, 120] {
        let body = format!(
            r#"{{"tree":{}[[],[]]{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let (status, answer) = send(&engine, "POST", "/trees", &body);
        assert_eq!(status, StatusCode::CREATED);
        assert!(answer["tree"].is_array(), "{answer}");
        assert!(
            widest_array(&answer) <= 1,
            "depth {depth}: an invalid echo was sent: {answer}"
        );
    }
}

#[test]
fn headers_and_bodies_are_logged_masked_and_within_their_bounds() {
    let engine = engine();
    let mut headers = HeaderMap::new();
    headers.insert("authorization", "Bearer SECRET-TOKEN".parse().unwrap());
    headers.insert("x-api-key", "SECRET-KEY".parse().unwrap());
    headers.insert("cookie", "session=SECRET-C; theme=dark".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    for index in 0..200 {
        let name = http::HeaderName::from_bytes(format!("x-filler-{index}").as_bytes()).unwrap();
        headers.insert(name, "v".repeat(1_000).parse().unwrap());
    }
    let body = format!(r#"{{"text":"{}"}}"#, "€".repeat(400_000));
    let request = MockRequest {
        method: &Method::POST,
        path: "/notes",
        query: None,
        headers: &headers,
        body: body.as_bytes(),
    };
    let outcome = engine.handle(&request);
    assert_eq!(outcome.response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (log, text) = kept(&engine, 1);
    assert!(
        !text.contains("SECRET"),
        "a credential reached the log: {text}"
    );
    let entry = &log["requests"][0];
    let logged: Vec<(&str, &str)> = entry["request_headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_str().unwrap(), pair[1].as_str().unwrap()))
        .collect();
    assert!(
        logged.contains(&("authorization", "Bearer ***")),
        "{logged:?}"
    );
    assert!(logged.contains(&("x-api-key", "***")), "{logged:?}");
    assert!(
        logged.contains(&("cookie", "session=***; theme=***")),
        "{logged:?}"
    );
    let header_bytes: usize = logged
        .iter()
        .map(|(name, value)| name.len() + value.len() + 3)
        .sum();
    assert!(
        header_bytes <= MAX_LOGGED_HEADERS + 64,
        "{header_bytes} bytes of headers"
    );
    assert!(logged.last().unwrap().1.ends_with("more headers not kept"));
    let kept_body = &entry["request_body"];
    assert_eq!(kept_body["length"], body.len());
    assert_eq!(kept_body["truncated"], true);
    let kept_text = kept_body["text"].as_str().unwrap();
    assert!(kept_text.len() <= MAX_LOGGED_BODY && kept_text.len() > MAX_LOGGED_BODY - 4);
    assert!(
        kept_text.starts_with(r#"{"text":"€€"#),
        "cut on a character boundary"
    );
    assert!(
        entry["response_body"]["text"]
            .as_str()
            .unwrap()
            .contains("/text")
    );
    assert!(entry["latency_us"].as_u64().is_some());
    let bytes = engine.request_log().kept_bytes();
    assert!(
        bytes <= MAX_ENTRY_BYTES + MAX_EXCHANGE_BYTES + 2048,
        "the entry keeps {bytes} bytes"
    );
    // The contract report keeps neither headers nor bodies.
    let report = engine.contract_report().unwrap().to_json();
    let failure = &report["operations"][0]["failures"][0];
    assert!(failure.get("request_headers").is_none() && failure.get("latency_us").is_none());
}

#[test]
fn a_credential_in_the_query_is_hidden_in_the_logged_answer_too() {
    let engine = engine();
    let (status, answer, _) = exchange(&engine, "GET", "/search?token=SECRET%22Q", &[], "");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer["violations"][0]["value"], "SECRET\"Q",
        "the client sees it"
    );
    let (log, text) = kept(&engine, 1);
    assert!(
        !text.contains("SECRET"),
        "a credential reached the log: {text}"
    );
    assert!(
        log["requests"][0]["response_body"]["text"]
            .as_str()
            .unwrap()
            .contains("***")
    );
}
