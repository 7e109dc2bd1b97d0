//! Path keys that carry a query string (`tests/specs/path_query`, written as Flickr's and
//! Weatherbit's descriptions write them) are served: the route is the part before `?`, literal
//! pairs (`/rest?method=photos.search`) pick among the operations on a route and method, and a
//! templated pair's parameter (`/alerts?lat={lat}`) is read from the query and checked. Before,
//! the whole key was the route, which no request's path holds: every such operation was a 404.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use http::{HeaderMap, Method, StatusCode, header};
use serde_json::Value;
use understudy_engine::{Engine, EngineOptions, Location, MockRequest, Outcome};

fn engine() -> Engine {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/path_query");
    Engine::load(&[folder], EngineOptions::default()).unwrap()
}

fn send<'e>(engine: &'e Engine, method: &Method, path: &str, query: &str) -> Outcome<'e> {
    engine.handle(&MockRequest {
        method,
        path,
        query: Some(query),
        headers: &HeaderMap::new(),
        body: b"",
    })
}

/// The status and the `operationId` of the operation that answered `GET {path}?{query}`.
fn served(engine: &Engine, method: &Method, path: &str, query: &str) -> (StatusCode, String) {
    let outcome = send(engine, method, path, query);
    let id = outcome
        .operation
        .and_then(|operation| operation.operation_id.clone())
        .unwrap_or_default();
    (outcome.response.status, id)
}

/// Each violation's location, field and keyword.
fn violations(outcome: &Outcome<'_>) -> Vec<(Location, String, String)> {
    outcome
        .violations
        .iter()
        .map(|violation| {
            (
                violation.location,
                violation.field.clone(),
                violation.keyword.clone(),
            )
        })
        .collect()
}

#[test]
fn literal_pairs_pick_the_operation_with_the_most_of_them() {
    let engine = engine();
    let get = Method::GET;
    for (query, id) in [
        (
            "method=photos.getInfo&api_key=k&photo_id=5",
            "photosGetInfo",
        ),
        (
            "api_key=k&photo_id=5&method=photos.getInfo",
            "photosGetInfo",
        ),
        // Its declared `method` enum disagrees with the key's pair, which routing has checked.
        ("method=photos.search&text=cats", "photosSearch"),
        ("method=photos.search&extras=owner", "photosSearchWithOwner"),
        ("extras=owner&method=photos.search", "photosSearchWithOwner"),
        ("extras=other&method=photos.search", "photosSearch"),
        ("method=photos.search&photo=7", "photosSearchAround"),
        // The most literal pairs win over templated names sent.
        (
            "method=photos.search&photo=7&extras=owner",
            "photosSearchWithOwner",
        ),
    ] {
        assert_eq!(
            served(&engine, &get, "/services/rest", query),
            (StatusCode::OK, id.to_owned()),
            "{query}"
        );
    }
    let outcome = send(
        &engine,
        &get,
        "/services/rest",
        "method=photos.search&photo=x",
    );
    assert_eq!(
        violations(&outcome),
        [(Location::Query, "photo".to_owned(), "type".to_owned())]
    );
    // The operation reached checks its own parameters.
    let outcome = send(
        &engine,
        &get,
        "/services/rest",
        "method=photos.getInfo&photo_id=x",
    );
    assert_eq!(
        outcome.operation.unwrap().operation_id.as_deref(),
        Some("photosGetInfo")
    );
    assert_eq!(
        violations(&outcome),
        [
            (Location::Query, "api_key".to_owned(), "required".to_owned()),
            (Location::Query, "photo_id".to_owned(), "type".to_owned()),
        ]
    );
    // HEAD is answered like GET, chosen the same way.
    assert_eq!(
        served(
            &engine,
            &Method::HEAD,
            "/services/rest",
            "method=photos.search"
        ),
        (StatusCode::OK, "photosSearch".to_owned())
    );
}

#[test]
fn a_query_without_the_pairs_is_told_which_values_the_path_needs() {
    let engine = engine();
    for query in [
        "",
        "api_key=k",
        "method=photos.nothing",
        "method=photos.getinfo",
    ] {
        let outcome = send(&engine, &Method::GET, "/services/rest", query);
        assert_eq!(outcome.response.status, StatusCode::NOT_FOUND, "{query}");
        assert!(outcome.operation.is_none());
        let body: Value = serde_json::from_slice(&outcome.response.body).unwrap();
        assert_eq!(
            body["queries"],
            // Each once, though two keys need `method=photos.search`.
            serde_json::json!([
                "method=photos.getInfo",
                "method=photos.search",
                "extras=owner&method=photos.search"
            ]),
            "{query}"
        );
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("method=photos.getInfo"), "{detail}");
    }
    // Another method is still refused as one, each method named once.
    let outcome = send(
        &engine,
        &Method::POST,
        "/services/rest",
        "method=photos.search",
    );
    assert_eq!(outcome.response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(outcome.response.headers[header::ALLOW], "GET");
}

#[test]
fn without_its_pairs_a_request_goes_to_the_operation_that_has_none() {
    let engine = engine();
    let post = Method::POST;
    for (query, id) in [
        ("", "createTemplate"),
        ("desc=pdf", "createTemplate"),
        ("desc=html", "createHtmlTemplate"),
        ("other=1&desc=html", "createHtmlTemplate"),
    ] {
        assert_eq!(
            served(&engine, &post, "/services/templates", query),
            (StatusCode::NO_CONTENT, id.to_owned()),
            "{query}"
        );
    }
}

#[test]
fn templated_pairs_are_read_from_the_query_and_checked() {
    let engine = engine();
    let get = Method::GET;
    assert_eq!(
        served(
            &engine,
            &get,
            "/services/alerts",
            "lat=45.5&lon=-73.6&key=k"
        ),
        (StatusCode::OK, "alerts".to_owned())
    );
    for (query, expected) in [
        ("lat=100&lon=1", vec![("lat", "maximum")]),
        ("lat=north&lon=1", vec![("lat", "type")]),
        ("lon=1", vec![("lat", "required")]),
        ("", vec![("lat", "required"), ("lon", "required")]),
    ] {
        let outcome = send(&engine, &get, "/services/alerts", query);
        assert!(outcome.response.status.is_client_error(), "{query}");
        let expected: Vec<(Location, String, String)> = expected
            .into_iter()
            .map(|(field, keyword)| (Location::Query, field.to_owned(), keyword.to_owned()))
            .collect();
        assert_eq!(violations(&outcome), expected, "{query}");
    }
    // Learnifier's `?key={APIKEY}`, with APIKEY declared in the path: read from `key`.
    assert_eq!(
        served(&engine, &get, "/services/users/7/pic", "key=abcdefgh"),
        (StatusCode::OK, "userPicture".to_owned())
    );
    let missing = send(&engine, &get, "/services/users/7/pic", "");
    assert_eq!(
        violations(&missing),
        [(Location::Query, "key".to_owned(), "required".to_owned())]
    );
    let short = send(&engine, &get, "/services/users/7/pic", "key=abc");
    assert_eq!(
        violations(&short),
        [(Location::Query, "key".to_owned(), "minLength".to_owned())]
    );
}

#[test]
fn templated_names_pick_among_keys_on_one_route() {
    let engine = engine();
    let get = Method::GET;
    for (query, status, id) in [
        ("city_id=5", StatusCode::OK, "currentByCity"),
        ("lat=1&lon=2", StatusCode::OK, "currentByPoint"),
        ("lon=2&lat=1&units=I", StatusCode::OK, "currentByPoint"),
        // One of its names sent: that key's operation says what else it needs.
        ("lat=1", StatusCode::BAD_REQUEST, "currentByPoint"),
        ("city_id=x", StatusCode::BAD_REQUEST, "currentByCity"),
    ] {
        let (got_status, got_id) = served(&engine, &get, "/services/current", query);
        assert_eq!(got_id, id, "{query}");
        assert_eq!(got_status.is_success(), status.is_success(), "{query}");
    }
}

#[test]
fn each_key_loads_with_one_warning_and_is_listed_with_its_query() {
    let engine = engine();
    let warnings: Vec<String> = engine
        .warnings()
        .iter()
        .map(|warning| warning.to_string())
        .collect();
    let about_queries = warnings
        .iter()
        .filter(|warning| warning.contains("the path key has a query part"))
        .count();
    assert_eq!(about_queries, 10, "{warnings:#?}");
    assert!(
        warnings
            .iter()
            .any(|warning| warning.contains("`APIKEY` (sent as `key`) read from the query")),
        "{warnings:#?}"
    );
    let clashes: Vec<&String> = warnings
        .iter()
        .filter(|warning| warning.contains("served instead"))
        .collect();
    assert_eq!(clashes.len(), 1, "{warnings:#?}");
    assert!(
        clashes[0].contains("POST /services/templates?desc=%68tml is the route of"),
        "{clashes:?}"
    );
    let paths: Vec<String> = engine
        .routes()
        .into_iter()
        .map(|route| route.path)
        .collect();
    assert!(paths.contains(&"/services/rest?method=photos.getInfo".to_owned()));
    assert!(paths.contains(&"/services/templates".to_owned()));
}

#[test]
fn the_inspectors_curl_lines_reach_their_operations() {
    let engine = engine();
    let details = understudy_engine::route_details::route_details(&engine, "http://h");
    assert_eq!(details.len(), 10);
    for route in details {
        let url = route
            .curl
            .split('\'')
            .nth(1)
            .and_then(|url| url.strip_prefix("http://h"))
            .unwrap();
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let method = Method::from_bytes(route.route.method.as_bytes()).unwrap();
        let outcome = send(&engine, &method, path, query);
        assert_eq!(
            outcome
                .operation
                .and_then(|operation| operation.operation_id.as_deref()),
            route.route.operation_id.as_deref(),
            "{}",
            route.curl
        );
        assert!(
            outcome.response.status.is_success(),
            "{}: {:?}",
            route.curl,
            outcome.violations
        );
    }
}
