//! Fuzz target `load`: arbitrary text loaded as a spec, the way `understudy serve` and `check`
//! load one, and every operation of a spec that loads answers one request.
//!
//! The input is written to `spec.json` when it starts with `{` (after white space) and to
//! `spec.yaml` otherwise, in a folder of this process's own under the temporary folder, and read
//! with `Engine::load`: the file is read, parsed, bundled and compiled as any spec file is. Beside
//! it lies `shared.yaml`, a components file, so `$ref: shared.yaml#/...` reaches the bundler. A
//! spec that loads then answers, for each of its first operations, a request with credentials and
//! its first documented request example (or `{}`) as the body, held to
//! `understudy_fuzz::check_outcome`: a spec that loads must never make the engine panic or break
//! its answers.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use understudy_engine::{Engine, EngineOptions};
use understudy_fuzz::{OwnedRequest, check_outcome};

/// The most operations of one loaded spec that answer a request.
const MAX_REQUESTS: usize = 8;

/// The components file beside the spec, for references to another file.
const SHARED: &str = "\
components:
  schemas:
    Name: {type: string, minLength: 1, maxLength: 20}
    Person:
      type: object
      required: [name]
      properties:
        name: {$ref: '#/components/schemas/Name'}
        email: {type: string, format: email}
        friend: {$ref: '#/components/schemas/Person'}
";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let folder = folder();
    let name = if text.trim_start().starts_with('{') {
        "spec.json"
    } else {
        "spec.yaml"
    };
    let file = folder.join(name);
    if let Err(error) = std::fs::write(&file, text) {
        panic!("cannot write {}: {error}", file.display());
    }
    let options = EngineOptions {
        seed: Some(1),
        max_records: 4,
        request_log: 4,
        ..EngineOptions::default()
    };
    let loaded = Engine::load(std::slice::from_ref(&file), options);
    let _ = std::fs::remove_file(&file);
    let Ok(engine) = loaded else {
        return;
    };
    for operation in engine
        .specs()
        .iter()
        .flat_map(|spec| spec.operations.iter())
        .take(MAX_REQUESTS)
    {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwYXNz"),
        );
        let mut body = Vec::new();
        if let Some(media) = operation.body.as_ref().and_then(|body| body.media.first()) {
            if let Ok(value) = HeaderValue::from_str(&media.media_type) {
                headers.insert(header::CONTENT_TYPE, value);
            }
            let example = media
                .schema
                .as_ref()
                .and_then(|schema| schema.get("example"))
                .cloned()
                .unwrap_or_else(|| serde_json::json!({}));
            body = serde_json::to_vec(&example).unwrap_or_default();
        }
        let path = operation
            .route
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let request = OwnedRequest {
            method: operation.method.clone(),
            path,
            query: None,
            headers,
            body,
        };
        let mock = request.as_mock();
        let outcome = engine.handle(&mock);
        check_outcome(&mock, &outcome);
    }
});

/// This process's folder, made once, with `shared.yaml` in it.
fn folder() -> &'static PathBuf {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    FOLDER.get_or_init(|| {
        let folder =
            std::env::temp_dir().join(format!("understudy-fuzz-load-{}", std::process::id()));
        if let Err(error) = std::fs::create_dir_all(&folder)
            .and_then(|()| std::fs::write(folder.join("shared.yaml"), SHARED))
        {
            panic!("cannot make {}: {error}", folder.display());
        }
        folder
    })
}
