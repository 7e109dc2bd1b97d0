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

/// The status of `GET /charges?{query}` (`specs/deep_object`) and each violation's keyword and
/// pointer.
fn charges(query: &str) -> (StatusCode, Vec<(String, String)>) {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/deep_object");
    let engine = Engine::load(&[folder], EngineOptions::default()).unwrap();
    let outcome = engine.handle(&MockRequest {
        method: &Method::GET,
        path: "/charges",
        query: Some(query),
        headers: &HeaderMap::new(),
        body: b"",
    });
    let found = outcome
        .violations
        .iter()
        .map(|violation| (violation.keyword.clone(), violation.pointer.clone()))
        .collect();
    (outcome.response.status, found)
}

#[test]
fn deep_object_pairs_are_read_into_an_object_of_typed_values() {
    for query in [
        "created%5Bgte%5D=5&created%5Blt%5D=9",
        "created[gt]=-3",
        "metadata[order]=12&metadata[note]=hi",
        "filter[status]=open&filter[amount][min]=1.5&filter[amount][max]=10&filter[paid]=true",
        "filter[status]=paid&filter[tags]=a&filter[tags]=b",
        // Another parameter's name starting like this one's, and keys that are no `[key]`s.
        "created_by=ada&created[lte]=1",
        "metadata[]=x&metadata[a=x&metadata[a]b=x&metadatax[a]=toolong",
        // An array in the `deepObject` style is not read, as before.
        "expand[]=customer",
    ] {
        assert_eq!(charges(query), (StatusCode::OK, vec![]), "{query}");
    }
}

#[test]
fn deep_object_values_are_checked_at_their_pointers() {
    let pair = |keyword: &str, pointer: &str| vec![(keyword.to_owned(), pointer.to_owned())];
    for (query, expected) in [
        ("created[gte]=soon", pair("type", "/created/gte")),
        (
            "created[since]=5",
            pair("additionalProperties", "/created/since"),
        ),
        (
            "metadata[note]=far+too+long",
            pair("maxLength", "/metadata/note"),
        ),
        ("filter[status]=lost", pair("enum", "/filter/status")),
        ("filter[paid]=true", pair("required", "/filter/status")),
        (
            "filter[status]=open&filter[paid]=yes",
            pair("type", "/filter/paid"),
        ),
        (
            "filter[status]=open&filter[amount][min]=x",
            pair("type", "/filter/amount/min"),
        ),
        (
            "filter[status]=open&filter[amount][avg]=1",
            pair("additionalProperties", "/filter/amount/avg"),
        ),
        // The other parameter is checked alone.
        (
            "created_by=adam&created[gte]=1",
            pair("maxLength", "/created_by"),
        ),
    ] {
        assert_eq!(
            charges(query),
            (StatusCode::UNPROCESSABLE_ENTITY, expected),
            "{query}"
        );
    }
}

#[test]
fn deep_object_pairs_that_cannot_make_an_object_are_refused_within_bounds() {
    let refused = |pointer: &str| {
        (
            StatusCode::BAD_REQUEST,
            vec![("deepObject".to_owned(), pointer.to_owned())],
        )
    };
    assert_eq!(
        charges("filter[status]=open&filter[amount]=1&filter[amount][min]=2"),
        refused("/filter/amount")
    );
    assert_eq!(
        charges("filter[status]=open&filter[amount][min]=2&filter[amount]=1"),
        refused("/filter/amount")
    );
    assert_eq!(
        charges("filter[a][b][c][d][e][f][g][h][i]=1"),
        refused("/filter/a/b/c/d/e/f/g/h/i")
    );
    // Eight levels are read (and `a` is no key of the filter's).
    assert_eq!(
        charges("filter[status]=open&filter[a][b][c][d][e][f][g][h]=1"),
        (StatusCode::OK, vec![])
    );
    // 1,000 pairs are read; 10,000 are refused before any value is made of them.
    let many = |count: usize, key: &dyn Fn(usize) -> String| {
        (0..count)
            .map(|index| format!("metadata[{}]=v", key(index)))
            .collect::<Vec<_>>()
            .join("&")
    };
    assert_eq!(
        charges(&many(1000, &|index| format!("k{index}"))),
        (StatusCode::OK, vec![])
    );
    assert_eq!(
        charges(&many(10_000, &|_| "x".to_owned())),
        refused("/metadata")
    );
    assert_eq!(
        charges(&many(10_000, &|index| format!("k{index}"))),
        refused("/metadata")
    );
}

#[test]
fn the_inspectors_curl_line_sends_a_deep_object_example_as_its_pairs() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/deep_object");
    let engine = Engine::load(&[folder], EngineOptions::default()).unwrap();
    let details = understudy_engine::route_details::route_details(&engine, "http://h");
    let curl = &details
        .iter()
        .find(|details| details.curl.contains("/reports"))
        .unwrap()
        .curl;
    let query = "filter%5Bstatus%5D=paid&filter%5Bamount%5D%5Bmin%5D=2.5&filter%5Btags%5D=a&filter%5Btags%5D=b";
    assert!(
        curl.contains(&format!("'http://h/reports?{query}'")),
        "{curl}"
    );
    // What it sends is read back into the example and accepted.
    let outcome = engine.handle(&MockRequest {
        method: &Method::GET,
        path: "/reports",
        query: Some(query),
        headers: &HeaderMap::new(),
        body: b"",
    });
    assert_eq!(outcome.response.status, StatusCode::NO_CONTENT);
    assert!(outcome.violations.is_empty(), "{:?}", outcome.violations);
}
