//! A parameter's text is read as the type its schema names however the schema names it: a 3.1
//! type list with `null`, an `anyOf`/`oneOf` with a null branch (FastAPI's `Optional[int]`), a
//! `$ref`'d branch, or a union that allows text too. Read as text, `limit=5` was refused as "a
//! string, not an integer". An object's text is read as JSON (Box's `mdfilters=[{…}]`). And
//! `allowEmptyValue` lets a query parameter come with no value.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use http::{HeaderMap, Method, StatusCode};
use understudy_engine::{Engine, EngineOptions, MockRequest};

fn engine() -> Engine {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/parameter_types");
    Engine::load(&[folder], EngineOptions::default()).unwrap()
}

/// The status of `GET /items?{query}` and the violations' keywords.
fn get(engine: &Engine, query: &str) -> (StatusCode, Vec<String>) {
    let outcome = engine.handle(&MockRequest {
        method: &Method::GET,
        path: "/items",
        query: Some(query),
        headers: &HeaderMap::new(),
        body: b"",
    });
    let keywords = outcome
        .violations
        .iter()
        .map(|violation| violation.keyword.clone())
        .collect();
    (outcome.response.status, keywords)
}

#[test]
fn numbers_in_nullable_and_union_types_are_read_as_numbers() {
    let engine = engine();
    for query in [
        "listed=5",
        "optional=5",
        "referenced=1.25",
        "either=2.5",
        "either=some-text",
        "flags=true&flags=false",
        "pretty=",
        "pretty=true",
        "mdfilters=%5B%7B%22scope%22%3A%22enterprise%22%7D%5D",
        "filter=%7B%22a%22%3A1%7D",
    ] {
        assert_eq!(
            get(&engine, query),
            (StatusCode::NO_CONTENT, vec![]),
            "{query}"
        );
    }
}

#[test]
fn their_bounds_and_types_still_hold() {
    let engine = engine();
    for (query, keyword) in [
        ("listed=50", "maximum"),
        ("optional=50", "maximum"),
        ("referenced=2", "maximum"),
        ("listed=x", "type"),
        ("flags=maybe", "type"),
        ("pretty=maybe", "type"),
        ("strict=", "type"),
        ("mdfilters=%5B%7B%7D%5D", "required"),
        ("filter=%7B%22a%22%3A%22x%22%7D", "type"),
        ("filter=not-json", "type"),
    ] {
        let (status, keywords) = get(&engine, query);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(keywords, vec![keyword.to_owned()], "{query}");
    }
}
