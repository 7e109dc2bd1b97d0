//! OpenAPI 3.2 served as written: the whole query string checked against one schema (form pairs
//! or JSON), streamed responses (`itemSchema`) answered as a few valid items in server-sent
//! events, JSON lines or JSON text sequences, Example objects' `dataValue` and `serializedValue`,
//! `discriminator.defaultMapping`, `components.mediaTypes`, and 3.2's other fields loading.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use understudy_engine::{Engine, EngineOptions, MockRequest, Violation};

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/openapi32")
}

fn engine(seed: u64) -> Engine {
    let options = EngineOptions {
        seed: Some(seed),
        ..EngineOptions::default()
    };
    Engine::load(&[folder()], options).unwrap()
}

/// What came back: the status, the `Content-Type`, the body and the violations.
struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
    violations: Vec<Violation>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    fn keywords(&self) -> Vec<&str> {
        self.violations.iter().map(|v| v.keyword.as_str()).collect()
    }
}

fn send(
    engine: &Engine,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &[(&str, &str)],
    body: &Value,
) -> Answer {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let text = if body.is_null() {
        String::new()
    } else {
        map.insert("content-type", "application/json".parse().unwrap());
        body.to_string()
    };
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let outcome = engine.handle(&MockRequest {
        method: &method,
        path,
        query,
        headers: &map,
        body: text.as_bytes(),
    });
    Answer {
        status: outcome.response.status,
        content_type: outcome
            .response
            .headers
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        body: outcome.response.body.to_vec(),
        violations: outcome.violations.to_vec(),
    }
}

fn get(engine: &Engine, path: &str, query: Option<&str>, headers: &[(&str, &str)]) -> Answer {
    send(engine, "GET", path, query, headers, &Value::Null)
}

/// The spec as a document, and the server's validator for `schema` in it.
fn validator(schema: &Value) -> jsonschema::Validator {
    let path = folder().join("feeds.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let document = understudy_engine::document::parse_document(Path::new(&path), &text).unwrap();
    understudy_engine::json_schema::response_validator(&document, schema).unwrap()
}

fn schema(name: &str) -> jsonschema::Validator {
    validator(&json!({"$ref": format!("#/components/schemas/{name}")}))
}

/// A `text/event-stream` body parsed as the HTML specification says a client parses it: fields
/// up to a blank line make an event, `data` lines joined by newlines, one space after the colon
/// dropped, `retry` kept only when it is digits (as a number, as OpenAPI 3.2 models it).
fn events(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut event = serde_json::Map::new();
    let mut data: Option<String> = None;
    for line in text.split('\n') {
        if line.is_empty() {
            if let Some(data) = data.take() {
                event.insert("data".into(), Value::String(data));
            }
            if !event.is_empty() {
                out.push(Value::Object(std::mem::take(&mut event)));
            }
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "data" => match &mut data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            "retry" => {
                if let Ok(retry) = value.parse::<u64>() {
                    event.insert("retry".into(), json!(retry));
                }
            }
            "event" | "id" => {
                event.insert(name.into(), Value::String(value.to_owned()));
            }
            _ => {}
        }
    }
    assert!(text.ends_with("\n\n"), "the last event is ended: {text:?}");
    out
}

#[test]
fn a_3_2_description_loads_with_its_new_fields_and_no_warnings() {
    let engine = engine(1);
    assert_eq!(engine.specs()[0].version, "OpenAPI 3.2.0");
    assert!(engine.warnings().is_empty(), "{:?}", engine.warnings());
    // `summary` on a response, with no `description`, is enough.
    let answer = get(
        &engine,
        "/v2/find",
        Some("%7B%22numbers%22%3A%5B1%5D%7D"),
        &[],
    );
    assert_eq!(
        answer.status,
        StatusCode::NO_CONTENT,
        "{:?}",
        answer.violations
    );
}

#[test]
fn a_form_query_string_is_checked_as_one_object() {
    let engine = engine(1);
    let valid = get(
        &engine,
        "/v2/search",
        Some("q=lamp&limit=5&tag=a&tag=b"),
        &[],
    );
    assert_eq!(valid.status, StatusCode::OK, "{:?}", valid.violations);
    // Each break alone: (query, keyword, pointer).
    let cases = [
        ("limit=5", "required", "/q"),
        ("q=a", "minLength", "/q"),
        ("q=lamp&limit=99", "maximum", "/limit"),
        ("q=lamp&limit=many", "type", "/limit"),
        ("q=lamp&tag=a&tag=b&tag=c", "maxItems", "/tag"),
        ("q=lamp&colour=red", "additionalProperties", "/colour"),
    ];
    for (query, keyword, pointer) in cases {
        let answer = get(&engine, "/v2/search", Some(query), &[]);
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(
            answer.keywords(),
            [keyword],
            "{query}: {:?}",
            answer.violations
        );
        let violation = &answer.violations[0];
        assert_eq!(violation.location.as_str(), "query", "{query}");
        assert_eq!(violation.pointer, pointer, "{query}");
        assert!(violation.message.contains("query string"), "{query}");
    }
    // No query at all: the required query string is missing, named.
    let answer = get(&engine, "/v2/search", None, &[]);
    assert_eq!(answer.keywords(), ["required"]);
    assert_eq!(answer.violations[0].field, "filter");
    // Prefer-style controls are not part of the query string.
    let answer = get(&engine, "/v2/search", Some("q=lamp&__dynamic=false"), &[]);
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.violations);
}

#[test]
fn a_json_query_string_is_checked_as_one_json_text() {
    let engine = engine(1);
    let encode = |value: &Value| {
        form_urlencoded::byte_serialize(value.to_string().as_bytes()).collect::<String>()
    };
    let valid = encode(&json!({"numbers": [1, 2], "flag": null}));
    let answer = get(&engine, "/v2/find", Some(&valid), &[]);
    assert_eq!(
        answer.status,
        StatusCode::NO_CONTENT,
        "{:?}",
        answer.violations
    );
    let cases = [
        (json!({"numbers": [1, "two"]}), "type", "/numbers/1"),
        (json!({"numbers": [1, 2, 3, 4]}), "maxItems", "/numbers"),
        (json!({"numbers": [], "flag": 3}), "type", "/flag"),
        (json!({"flag": true}), "required", "/numbers"),
    ];
    for (value, keyword, pointer) in cases {
        let answer = get(&engine, "/v2/find", Some(&encode(&value)), &[]);
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{value}");
        assert_eq!(
            answer.keywords(),
            [keyword],
            "{value}: {:?}",
            answer.violations
        );
        assert_eq!(answer.violations[0].location.as_str(), "query");
        assert_eq!(answer.violations[0].pointer, pointer, "{value}");
    }
    let answer = get(&engine, "/v2/find", Some("%7Bnot%20json"), &[]);
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.keywords(), ["json"]);
    // Numbers as sent: an integer beyond 64 bits is one, a number no f64 holds is out of range.
    let big = "%7B%22numbers%22%3A%5B12345678901234567890123%5D%7D";
    let answer = get(&engine, "/v2/find", Some(big), &[]);
    assert_eq!(
        answer.status,
        StatusCode::NO_CONTENT,
        "{:?}",
        answer.violations
    );
    let unheld = "%7B%22numbers%22%3A%5B1%2C1e999%5D%7D";
    let answer = get(&engine, "/v2/find", Some(unheld), &[]);
    assert_eq!(answer.keywords(), ["range"], "{:?}", answer.violations);
    assert_eq!(answer.violations[0].pointer, "/numbers/1");
    // Not required: no query string passes.
    let answer = get(&engine, "/v2/find", None, &[]);
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
}

#[test]
fn server_sent_events_carry_valid_events_whose_data_fits_the_content_schema() {
    let item = validator(&json!({
        "$ref": "#/components/schemas/Event",
        "required": ["event"],
        "properties": {"event": {"enum": ["tick", "tock"]}, "data": {"maxLength": 52}}
    }));
    let tick = schema("Tick");
    let mut counts = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let answer = get(&engine(seed), "/v2/events", None, &[]);
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.content_type, "text/event-stream");
        let text = answer.text();
        let events = events(&text);
        counts.insert(events.len());
        for event in &events {
            assert!(item.is_valid(event), "seed {seed}: {event} in {text}");
            let data: Value = serde_json::from_str(event["data"].as_str().unwrap()).unwrap();
            assert!(tick.is_valid(&data), "seed {seed}: {data}");
        }
    }
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [3, 4, 5],
        "a handful of items, bounded"
    );
}

#[test]
fn an_item_schema_that_is_no_event_is_each_events_data() {
    let tick = schema("Tick");
    for seed in 0..200 {
        let text = get(&engine(seed), "/v2/ticks", None, &[]).text();
        let events = events(&text);
        assert!((3..=5).contains(&events.len()), "{text}");
        for event in events {
            assert_eq!(event.as_object().unwrap().len(), 1, "only data: {event}");
            let data: Value = serde_json::from_str(event["data"].as_str().unwrap()).unwrap();
            assert!(tick.is_valid(&data), "seed {seed}: {data}");
        }
    }
}

#[test]
fn json_lines_ndjson_and_json_text_sequences_hold_one_valid_item_each() {
    let entry = schema("LogEntry");
    for (accept, separator) in [
        ("application/jsonl", ""),
        ("application/x-ndjson", ""),
        ("application/json-seq", "\u{1e}"),
    ] {
        for seed in 0..200 {
            let answer = get(&engine(seed), "/v2/logs", None, &[("accept", accept)]);
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.content_type, accept);
            let text = answer.text();
            assert!(text.ends_with('\n'), "{text:?}");
            let lines: Vec<&str> = text.lines().collect();
            assert!(
                (3..=5).contains(&lines.len()),
                "{accept} seed {seed}: {text:?}"
            );
            for line in lines {
                let line = line.strip_prefix(separator).unwrap();
                let item: Value = serde_json::from_str(line).unwrap();
                assert!(entry.is_valid(&item), "{accept} seed {seed}: {item}");
            }
        }
    }
}

#[test]
fn streams_are_reproducible_by_seed() {
    let first = get(&engine(7), "/v2/events", None, &[]).body;
    assert_eq!(first, get(&engine(7), "/v2/events", None, &[]).body);
    assert_ne!(first, get(&engine(8), "/v2/events", None, &[]).body);
}

#[test]
fn examples_give_their_data_or_their_serialized_text() {
    let engine = engine(1);
    let prefer = |name: &str| format!("example={name}");
    let answer = get(
        &engine,
        "/v2/search",
        Some("q=lamp"),
        &[("prefer", &prefer("data"))],
    );
    assert_eq!(answer.json(), json!({"id": 7, "title": "From dataValue"}));
    let answer = get(
        &engine,
        "/v2/search",
        Some("q=lamp"),
        &[("prefer", &prefer("serialized"))],
    );
    assert_eq!(
        answer.json(),
        json!({"id": 8, "title": "From serializedValue"})
    );
    // A text body is the serialized value, as it is.
    let answer = get(
        &engine,
        "/v2/search",
        Some("q=lamp"),
        &[("prefer", &prefer("greeting")), ("accept", "text/plain")],
    );
    assert_eq!(answer.text(), "hello, world");
    // A stream's serialized example is its text; its data, a list of items, is written as the
    // stream writes items.
    let answer = get(
        &engine,
        "/v2/logs",
        None,
        &[
            ("prefer", &prefer("lines")),
            ("accept", "application/jsonl"),
        ],
    );
    assert_eq!(
        answer.text(),
        "{\"level\": 1, \"message\": \"Hi!\"}\n{\"level\": 2, \"message\": \"Bye!\"}\n"
    );
    let answer = get(&engine, "/v2/events", None, &[("prefer", "dynamic=false")]);
    let events = events(&answer.text());
    assert_eq!(events.len(), 2, "{}", answer.text());
    assert_eq!(events[1]["event"], "tock");
    assert_eq!(events[1]["id"], "2");
    assert_eq!(
        events[0]["data"],
        "{\"seq\": 1, \"at\": \"2025-01-01T12:00:00Z\"}"
    );
}

#[test]
fn a_default_mapping_takes_the_values_no_mapping_names() {
    let engine = engine(1);
    let post = |body: Value| send(&engine, "POST", "/v2/pets", None, &[], &body);
    for valid in [
        json!({"petType": "cat", "name": "Tom", "lives": 9}),
        json!({"petType": "parrot", "name": "Polly", "kind": "bird"}),
        json!({"name": "Rex", "kind": "stray"}),
    ] {
        let answer = post(valid.clone());
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{valid}: {:?}",
            answer.violations
        );
    }
    // Each broken alone: the default schema's rules hold for an unmapped value, the mapped
    // schema's for a mapped one.
    let cases = [
        (json!({"petType": "parrot", "name": "Polly"}), "required"),
        (
            json!({"petType": "parrot", "name": "Polly", "kind": "b"}),
            "minLength",
        ),
        (
            json!({"petType": "cat", "name": "Tom", "lives": 10}),
            "maximum",
        ),
    ];
    for (body, keyword) in cases {
        let answer = post(body.clone());
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            answer.keywords().contains(&keyword),
            "{body}: {:?}",
            answer.violations
        );
    }
    // Generated pets are valid.
    let pet = schema("Pet");
    for seed in 0..100 {
        let answer = send(
            &self::engine(seed),
            "POST",
            "/v2/pets",
            None,
            &[],
            &json!({"petType": "dog", "name": "Rex", "bark": true}),
        );
        assert!(
            pet.is_valid(&answer.json()),
            "seed {seed}: {}",
            answer.text()
        );
    }
}

#[test]
fn the_inspectors_curl_line_sends_the_serialized_query_string() {
    let engine = engine(1);
    let details = understudy_engine::route_details::route_details(&engine, "http://h");
    let search = details
        .iter()
        .find(|details| details.curl.contains("/v2/search"))
        .unwrap();
    assert!(
        search.curl.contains("'http://h/v2/search?q=lamp&limit=5'"),
        "{}",
        search.curl
    );
    let answer = get(&engine, "/v2/search", Some("q=lamp&limit=5"), &[]);
    assert_eq!(answer.status, StatusCode::OK);
}
