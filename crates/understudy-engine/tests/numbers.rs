//! Numbers as a request writes them (issue 30): an integer beyond 64 bits is an integer in a
//! path or query parameter and is echoed digit for digit from a body; `format: int32` and
//! `int64` hold their ranges exactly in the body, the path, the query and the headers, and a
//! violation names the format, the field and the pointer.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use understudy_engine::{Engine, EngineOptions, MockRequest};

/// The engine over `tests/specs/numbers`.
fn engine() -> Engine {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/numbers");
    let options = EngineOptions {
        seed: Some(7),
        ..EngineOptions::default()
    };
    Engine::load(&[path], options).unwrap()
}

/// Sends one request, returning its status and its body as text.
fn exchange(
    engine: &Engine,
    method: &str,
    uri: &str,
    extra: &[(&'static str, &str)],
    body: &str,
) -> (StatusCode, String) {
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
    let text = String::from_utf8(outcome.response.body.to_vec()).unwrap();
    (outcome.response.status, text)
}

/// The only violation of a refused request.
fn only_violation(status: StatusCode, text: &str) -> Value {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    let answer: Value = serde_json::from_str(text).unwrap();
    let violations = answer["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{answer}");
    violations[0].clone()
}

#[test]
fn an_integer_beyond_64_bits_is_an_integer_in_the_path_and_the_query() {
    let engine = engine();
    for uri in [
        "/accounts/9223372036854775808",
        "/accounts/-123456789012345678901234567890",
        "/accounts/1?offset=9223372036854775808",
        "/accounts/1?offset=18446744073709551616",
        "/accounts/1?offset=123456789012345678901234567890",
    ] {
        let (status, text) = exchange(&engine, "GET", uri, &[], "");
        assert_eq!(status, StatusCode::NO_CONTENT, "{uri}: {text}");
    }
    // It is compared by its value: below a bound is below it, however long.
    let (status, text) = exchange(
        &engine,
        "GET",
        "/accounts/1?offset=-9223372036854775809",
        &[],
        "",
    );
    let violation = only_violation(status, &text);
    assert_eq!(violation["keyword"], "minimum", "{violation}");
    assert!(text.contains(r#""value":-9223372036854775809"#), "{text}");
    // Digits no f64 holds are out of range, as in a body.
    let digits = "9".repeat(400);
    let (status, text) = exchange(
        &engine,
        "GET",
        &format!("/accounts/1?offset={digits}"),
        &[],
        "",
    );
    let violation = only_violation(status, &text);
    assert_eq!(violation["keyword"], "range", "{violation}");
    assert_eq!(violation["pointer"], "/offset", "{violation}");
    assert_eq!(violation["location"], "query", "{violation}");
}

#[test]
fn a_body_integer_beyond_64_bits_is_echoed_digit_for_digit() {
    let engine = engine();
    for amount in [
        "12345678901234567890123",
        "-98765432109876543210987654321",
        "18446744073709551616",
    ] {
        let body = format!(r#"{{"amount": {amount}, "id": 5}}"#);
        let (status, text) = exchange(&engine, "POST", "/ledgers/1/entries", &[], &body);
        assert_eq!(status, StatusCode::CREATED, "{text}");
        assert!(
            text.contains(&format!(r#""amount":{amount}"#)),
            "{amount} was not echoed as written: {text}"
        );
    }
}

#[test]
fn integer_formats_hold_their_ranges_exactly_in_the_body() {
    let engine = engine();
    let refused = [
        (
            r#"{"amount": 1, "id": -9223372036854775809}"#,
            "int64",
            "/id",
        ),
        (
            r#"{"amount": 1, "id": 9223372036854775808}"#,
            "int64",
            "/id",
        ),
        (r#"{"amount": 1, "id": 9.3e18}"#, "int64", "/id"),
        (r#"{"amount": 1, "count": 2147483648}"#, "int32", "/count"),
        (r#"{"amount": 1, "count": -2147483649}"#, "int32", "/count"),
        (
            r#"{"amount": 1, "parts": [1, 18446744073709551616]}"#,
            "int64",
            "/parts/1",
        ),
    ];
    for (body, format, pointer) in refused {
        let (status, text) = exchange(&engine, "POST", "/ledgers/1/entries", &[], body);
        let violation = only_violation(status, &text);
        assert_eq!(violation["location"], "body", "{body}: {violation}");
        assert_eq!(violation["keyword"], "format", "{body}: {violation}");
        assert_eq!(violation["format"], format, "{body}: {violation}");
        assert_eq!(violation["pointer"], pointer, "{body}: {violation}");
        let field = pointer.trim_start_matches('/').split('/').next().unwrap();
        assert_eq!(violation["field"], field, "{body}: {violation}");
        let message = violation["message"].as_str().unwrap();
        assert!(message.contains(&format!("not an {format}")), "{message}");
    }
    for body in [
        r#"{"amount": 1, "id": -9223372036854775808, "count": 2147483647}"#,
        r#"{"amount": 1, "id": 9223372036854775807, "count": -2147483648}"#,
        r#"{"amount": 1, "parts": [0, 9223372036854775807]}"#,
    ] {
        let (status, text) = exchange(&engine, "POST", "/ledgers/1/entries", &[], body);
        assert_eq!(status, StatusCode::CREATED, "{body}: {text}");
    }
}

#[test]
fn integer_formats_hold_their_ranges_exactly_in_path_query_and_headers() {
    let engine = engine();
    // The request (a URI and an `X-Shard` header), then where the violation is.
    let refused = [
        (
            "/ledgers/9223372036854775808/entries",
            None,
            "path",
            "ledger",
            "int64",
        ),
        (
            "/ledgers/-9223372036854775809/entries",
            None,
            "path",
            "ledger",
            "int64",
        ),
        (
            "/ledgers/1/entries?limit=2147483648",
            None,
            "query",
            "limit",
            "int32",
        ),
        (
            "/ledgers/1/entries",
            Some("-9223372036854775809"),
            "header",
            "X-Shard",
            "int64",
        ),
    ];
    for (uri, shard, location, field, format) in refused {
        let headers: Vec<(&'static str, &str)> =
            shard.map(|shard| ("x-shard", shard)).into_iter().collect();
        let (status, text) = exchange(&engine, "GET", uri, &headers, "");
        let violation = only_violation(status, &text);
        assert_eq!(violation["location"], location, "{uri}: {violation}");
        assert_eq!(violation["keyword"], "format", "{uri}: {violation}");
        assert_eq!(violation["format"], format, "{uri}: {violation}");
        assert_eq!(violation["field"], field, "{uri}: {violation}");
        assert_eq!(
            violation["pointer"],
            format!("/{field}"),
            "{uri}: {violation}"
        );
    }
    let (status, text) = exchange(
        &engine,
        "GET",
        "/ledgers/-9223372036854775808/entries?limit=-2147483648",
        &[("x-shard", "9223372036854775807")],
        "",
    );
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
}
