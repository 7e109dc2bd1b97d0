//! Property test of the response generator: for every response schema of every document in
//! `specs/` and in the generator's test specs, thousands of seeds each, with and without a request
//! to echo, every generated body validates against its schema with the validator the server uses,
//! and the body written straight into bytes is that body serialized.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use understudy_engine::generate::{Defaults, GenerateContext, Generator};
use understudy_engine::json_schema::{deref, response_validator};

mod support;

use support::{now, plain_context};

/// Seeds per response schema; every other seed echoes a generated request.
const SEEDS: u64 = 2_000;
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

struct Case {
    label: String,
    document: Value,
    response: Value,
    request: Option<Value>,
}

fn documents() -> Vec<(PathBuf, Value)> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folders = [
        crate_dir.join("../../specs"),
        crate_dir.join("tests/specs/generator"),
    ];
    let mut documents = Vec::new();
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                matches!(
                    path.extension().and_then(|extension| extension.to_str()),
                    Some("yaml" | "yml" | "json")
                )
            })
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("a readable spec");
            let document: Value = serde_yaml::from_str(&text)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            documents.push((path, document));
        }
    }
    documents
}

fn json_schema(content: Option<&Value>) -> Vec<(String, Value)> {
    let Some(Value::Object(content)) = content else {
        return Vec::new();
    };
    content
        .iter()
        .filter_map(|(media, body)| Some((media.clone(), body.get("schema")?.clone())))
        .collect()
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (path, document) in documents() {
        let file = path
            .file_name()
            .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
        let Some(Value::Object(paths)) = document.get("paths") else {
            continue;
        };
        for (route, item) in paths {
            let item = deref(&document, item);
            for method in METHODS {
                let Some(operation) = item.get(*method) else {
                    continue;
                };
                let request = operation
                    .get("requestBody")
                    .map(|body| deref(&document, body))
                    .and_then(|body| json_schema(body.get("content")).into_iter().next())
                    .map(|(_, schema)| schema);
                let Some(Value::Object(responses)) = operation.get("responses") else {
                    continue;
                };
                for (status, response) in responses {
                    let response = deref(&document, response);
                    for (media, schema) in json_schema(response.get("content")) {
                        cases.push(Case {
                            label: format!("{file} {method} {route} {status} {media}"),
                            document: document.clone(),
                            response: schema,
                            request: request.clone(),
                        });
                    }
                }
            }
        }
    }
    cases
}

/// Runs every seed of one case; returns the failures, described.
fn run(case: &Case) -> Vec<String> {
    let mut failures = Vec::new();
    let validator = match response_validator(&case.document, &case.response) {
        Ok(validator) => validator,
        Err(error) => return vec![format!("{}: no validator: {error}", case.label)],
    };
    let generator = match Generator::compile(&case.document, &case.response) {
        Ok(generator) => generator,
        Err(error) => return vec![format!("{}: no generator: {error}", case.label)],
    };
    let request_generator = case
        .request
        .as_ref()
        .and_then(|schema| Generator::compile(&case.document, schema).ok());
    let request_defaults = case
        .request
        .as_ref()
        .map(|schema| Defaults::compile(&case.document, schema));
    for seed in 0..SEEDS {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let echo = seed % 2 == 1;
        // The request as sent, and as filled with its schema's defaults.
        let (raw_request, request) = match (&request_generator, &request_defaults, echo) {
            (Some(generator), Some(defaults), true) => {
                let raw = generator.generate(&mut plain_context(&mut rng));
                let filled = defaults.filled(&raw);
                (Some(raw), Some(filled))
            }
            _ => (None, None),
        };
        let identity = generator
            .identity()
            .map(|slot| slot.make(&mut rng, seed + 1));
        // Both passes draw from one state.
        let body_seed = rng.next_u64();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(body_seed);
        let mut writer_rng = Xoshiro256PlusPlus::seed_from_u64(body_seed);
        let mut reader_rng = Xoshiro256PlusPlus::seed_from_u64(body_seed);
        let mut written = Vec::new();
        let written_vouched = generator.write_vouched(
            &mut GenerateContext::plain(&mut writer_rng, now())
                .echoing(request.as_ref(), None)
                .with_identity(identity.clone()),
            &mut written,
        );
        let identity_copy = identity.clone();
        let generated = generator.generate_vouched(
            &mut GenerateContext::plain(&mut rng, now())
                .echoing(request.as_ref(), None)
                .with_identity(identity),
        );
        let body = generated.body;
        // The server reads the defaults through the request instead of filling them in: the
        // same bytes, vouched for alike.
        let mut read_through = Vec::new();
        let read_through_vouched = generator.write_vouched(
            &mut GenerateContext::plain(&mut reader_rng, now())
                .echoing(raw_request.as_ref(), request_defaults.as_ref())
                .with_identity(identity_copy.clone()),
            &mut read_through,
        );
        if read_through != written || read_through_vouched != written_vouched {
            failures.push(format!(
                "{} seed {seed}: reading the defaults through the request gave {} (vouched {read_through_vouched}), filling them in gave {} (vouched {written_vouched})",
                case.label,
                String::from_utf8_lossy(&read_through),
                String::from_utf8_lossy(&written),
            ));
        }
        // The server writes bodies straight into bytes: they must be the serialized body, drawn
        // from the same random numbers, and vouched for alike.
        let serialized = serde_json::to_vec(&body).expect("a value serializes");
        if written != serialized
            || written_vouched != generated.vouched
            || writer_rng.next_u64() != rng.next_u64()
        {
            failures.push(format!(
                "{} seed {seed}: the writer gave {} (vouched {written_vouched}), the value {body} (vouched {}){}",
                case.label,
                String::from_utf8_lossy(&written),
                generated.vouched,
                if written == serialized { "; the random numbers drawn differ" } else { "" },
            ));
        }
        // The server skips its own check of a vouched-for body, so a vouch must never be wrong.
        if let Err(error) = validator.validate(&body) {
            failures.push(format!(
                "{} seed {seed}{}: {error} at {}\n  body: {body}\n  request: {}",
                case.label,
                if generated.vouched {
                    " (vouched for)"
                } else {
                    ""
                },
                error.instance_path(),
                request.map_or_else(|| "none".to_owned(), |request| request.to_string()),
            ));
            if failures.len() >= 3 {
                break;
            }
        }
    }
    failures
}

#[test]
fn every_generated_body_validates_against_its_schema() {
    let cases = cases();
    assert!(
        cases.len() >= 20,
        "the test specs alone have more responses than {}",
        cases.len()
    );
    let started = Instant::now();
    let halves: Vec<&[Case]> = {
        let middle = cases.len() / 2;
        vec![&cases[..middle], &cases[middle..]]
    };
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = halves
            .into_iter()
            .map(|half| scope.spawn(move || half.iter().flat_map(run).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a worker finishes"))
            .collect()
    });
    eprintln!(
        "{} response schemas × {SEEDS} seeds in {:?}",
        cases.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} invalid bodies:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
