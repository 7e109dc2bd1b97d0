//! Loading specs: external references across files, broken specs reported with file and pointer,
//! and two specs that claim one route.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;

use axum::http::StatusCode;
use support::{engine, get, post, send, test_path};
use understudy_engine::{Engine, EngineOptions, ErrorKind};
use understudy_server::{ServerOptions, app};

#[tokio::test]
async fn references_to_other_files_are_followed_recursively() {
    let app = app(engine("external"), &ServerOptions::default());
    let nested = r#"{"name": "root", "children": [{"name": "leaf", "children": [{"name": "far too long"}]}]}"#;
    let answer = send(&app, post("/trees", nested, &[])).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.json()["violations"][0]["pointer"],
        "/children/0/children/0/name"
    );
    let fine = send(
        &app,
        post("/trees", r#"{"name": "root", "children": []}"#, &[]),
    )
    .await;
    assert_eq!(fine.status, StatusCode::CREATED);
}

/// The problems loading `paths` reports (it must fail), as (file name, pointer, kind, reason).
fn problems(paths: &[PathBuf], options: EngineOptions) -> Vec<(String, String, ErrorKind, String)> {
    let report = Engine::load(paths, options).unwrap_err();
    report
        .errors
        .into_iter()
        .map(|error| {
            let file = error
                .file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (file, error.location, error.kind, error.reason)
        })
        .collect()
}

fn broken(relative: &str) -> Vec<(String, String, ErrorKind, String)> {
    problems(&[test_path(relative)], EngineOptions::default())
}

/// A folder of its own under the system's temporary folder, made empty.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("understudy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const BODY_SCHEMA: &str = "/paths/~1things/post/requestBody/content/application~1json/schema/$ref";

#[test]
fn a_broken_spec_is_reported_with_file_pointer_and_reason() {
    let found = broken("broken/dangling_ref.yaml");
    assert_eq!(found.len(), 1, "{found:?}");
    let (file, pointer, kind, reason) = &found[0];
    assert_eq!(file, "dangling_ref.yaml");
    assert_eq!(pointer, BODY_SCHEMA);
    assert_eq!(*kind, ErrorKind::Reference);
    assert!(
        reason.contains("`#/components/schemas/Missing` points at nothing"),
        "{reason}"
    );
}

#[test]
fn a_dangling_reference_is_refused_wherever_it_is_written() {
    let found = broken("broken/dangling_everywhere.yaml");
    let item = "/paths/~1things~1{thingId}";
    let expected = [
        (
            format!("{item}/parameters/0/$ref"),
            "#/components/parameters/ThingId",
        ),
        (
            format!("{item}/post/requestBody/$ref"),
            "#/components/requestBodies/NewThing",
        ),
        (
            format!("{item}/post/callbacks/created/$ref"),
            "#/components/callbacks/Created",
        ),
        (
            format!("{item}/post/responses/201/$ref"),
            "#/components/responses/Created",
        ),
        (
            format!("{item}/post/responses/200/headers/X-Rate-Limit/$ref"),
            "#/components/headers/RateLimit",
        ),
        (
            format!("{item}/post/responses/200/links/owner/$ref"),
            "#/components/links/Owner",
        ),
        (
            format!("{item}/post/responses/200/content/application~1json/examples/first/$ref"),
            "#/components/examples/First",
        ),
        (
            "/paths/~1elsewhere/$ref".to_owned(),
            "#/components/pathItems/Elsewhere",
        ),
        (
            "/components/schemas/Thing/properties/owner/$ref".to_owned(),
            "#/components/schemas/Owner",
        ),
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for ((file, pointer, kind, reason), (expected_pointer, reference)) in
        found.iter().zip(&expected)
    {
        assert_eq!(file, "dangling_everywhere.yaml");
        assert_eq!(pointer, expected_pointer);
        assert_eq!(*kind, ErrorKind::Reference);
        assert_eq!(
            reason,
            &format!("`{reference}` points at nothing in the document")
        );
    }
}

#[test]
fn refs_that_only_name_each_other_are_refused_and_recursion_through_properties_is_not() {
    let found = broken("broken/alias_cycle.yaml");
    assert_eq!(found.len(), 1, "{found:#?}");
    let (file, pointer, kind, reason) = &found[0];
    assert_eq!(file, "alias_cycle.yaml");
    assert_eq!(pointer, "/components/schemas/Thing/$ref");
    assert_eq!(*kind, ErrorKind::Reference);
    assert!(
        reason.contains(
            "(#/components/schemas/Thing → #/components/schemas/Item → #/components/schemas/Thing)"
        ),
        "{reason}"
    );
}

#[test]
fn cycles_and_dangling_refs_across_files_are_reported_in_the_file_that_has_them() {
    let found = broken("broken/cross_file/api.yaml");
    let summary: Vec<(&str, &str)> = found
        .iter()
        .map(|(file, pointer, ..)| (file.as_str(), pointer.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("parts.yaml", "/Gone/$ref"),
            ("api.yaml", "/components/schemas/Start/$ref"),
            ("parts.yaml", "/Loop/$ref"),
        ],
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .all(|(.., kind, _)| *kind == ErrorKind::Reference)
    );
    assert!(
        found[0]
            .3
            .contains("`#/components/schemas/Nothing` points at nothing in")
    );
    assert!(found[0].3.ends_with("api.yaml"), "{}", found[0].3);
    assert!(
        found[1].3.contains(
            "(#/components/schemas/Start → parts.yaml#/Middle → #/components/schemas/Start)"
        ),
        "{}",
        found[1].3
    );
    assert!(
        found[2].3.contains("(#/Loop → #/Round → #/Loop)"),
        "{}",
        found[2].3
    );
}

#[tokio::test]
async fn a_template_naming_one_parameter_twice_loads_with_a_warning_and_checks_each_segment() {
    let engine = Engine::load(&[test_path("repeated_name")], EngineOptions::default()).unwrap();
    let warnings: Vec<String> = engine.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("/paths/~1locations~1System.{location}~1fabricLocations~1{location}"),
        "{warnings:#?}"
    );
    assert!(
        warnings[0].contains("names `{location}` twice"),
        "{warnings:#?}"
    );
    let app = app(std::sync::Arc::new(engine), &ServerOptions::default());
    let path = |first: &str, second: &str| {
        get(
            &format!("/locations/System.{first}/fabricLocations/{second}"),
            &[],
        )
    };
    assert_eq!(
        send(&app, path("eastus", "westus")).await.status,
        StatusCode::OK
    );
    for (first, second) in [("mars", "eastus"), ("eastus", "mars")] {
        let refused = send(&app, path(first, second)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{first} {second}"
        );
        assert!(refused.text().contains("mars"), "{}", refused.text());
    }
}

#[test]
fn a_missing_file_is_reported_once_without_follow_on_errors() {
    let found = broken("broken/missing_file/api.yaml");
    assert_eq!(found.len(), 1, "{found:#?}");
    let (file, pointer, kind, reason) = &found[0];
    assert_eq!(file, "api.yaml");
    assert_eq!(pointer, "/paths/~1things/post/parameters/0/$ref");
    assert_eq!(*kind, ErrorKind::Reference);
    assert!(
        reason.starts_with("`./nowhere.yaml#/Limit` cannot be loaded: "),
        "{reason}"
    );
    assert!(reason.contains("nowhere.yaml: No such file"), "{reason}");
}

#[test]
fn a_ref_out_of_the_specs_folder_is_refused_unless_allowed() {
    let spec = test_path("broken/outside/spec/api.yaml");
    let found = problems(std::slice::from_ref(&spec), EngineOptions::default());
    assert_eq!(found.len(), 1, "{found:#?}");
    let (file, pointer, kind, reason) = &found[0];
    assert_eq!(file, "api.yaml");
    assert_eq!(pointer, BODY_SCHEMA);
    assert_eq!(*kind, ErrorKind::Reference);
    assert!(
        reason.starts_with("`../shared.yaml#/Thing` leaves the folder of"),
        "{reason}"
    );
    assert!(reason.contains("--allow-ref-outside"), "{reason}");
    assert!(!reason.contains("symbolic link"), "{reason}");
    let allowed = EngineOptions {
        allow_ref_outside: true,
        ..EngineOptions::default()
    };
    assert!(Engine::load(&[spec], allowed).is_ok());
}

#[test]
fn absolute_refs_and_symbolic_links_out_of_the_folder_are_refused() {
    let dir = scratch("outside");
    std::fs::create_dir(dir.join("spec")).unwrap();
    std::fs::write(dir.join("secret.yaml"), "Thing: {type: string}\n").unwrap();
    std::os::unix::fs::symlink(dir.join("secret.yaml"), dir.join("spec/link.yaml")).unwrap();
    let spec = |reference: &str| {
        format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /things:\n    post:\n      \
             requestBody:\n        content:\n          application/json:\n            \
             schema: {{$ref: '{reference}'}}\n      responses:\n        '201': {{description: ok}}\n"
        )
    };
    let absolute = dir.join("spec/absolute.yaml");
    std::fs::write(&absolute, spec("/etc/passwd#/x")).unwrap();
    let nowhere = dir.join("spec/nowhere.yaml");
    std::fs::write(&nowhere, spec("/no/such/file.yaml#/x")).unwrap();
    let linked = dir.join("spec/linked.yaml");
    std::fs::write(&linked, spec("./link.yaml#/Thing")).unwrap();
    // Refused by its path alone, before the file system is asked whether it exists.
    for (reference, file) in [
        ("/etc/passwd#/x", &absolute),
        ("/no/such/file.yaml#/x", &nowhere),
    ] {
        let found = problems(std::slice::from_ref(file), EngineOptions::default());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].1, BODY_SCHEMA);
        let reason = &found[0].3;
        assert!(
            reason.starts_with(&format!("`{reference}` leaves the folder of")),
            "{reason}"
        );
        assert!(!reason.contains("symbolic link"), "{reason}");
    }
    let found = problems(std::slice::from_ref(&linked), EngineOptions::default());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, BODY_SCHEMA);
    assert!(
        found[0]
            .3
            .starts_with("`./link.yaml#/Thing` leaves the folder of"),
        "{}",
        found[0].3
    );
    assert!(
        found[0].3.contains("(through a symbolic link)"),
        "{}",
        found[0].3
    );
    let allowed = EngineOptions {
        allow_ref_outside: true,
        ..EngineOptions::default()
    };
    assert!(Engine::load(&[linked], allowed).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn deep_nesting_is_refused_quickly_with_the_limit() {
    let dir = scratch("deep");
    let levels = 100_000;
    let cases = [
        (
            "flow.yaml",
            format!(
                "openapi: 3.0.3\nx: {}{}\n",
                "[".repeat(levels),
                "]".repeat(levels)
            ),
        ),
        (
            "mapping.yaml",
            format!(
                "openapi: 3.0.3\nx: {}1{}\n",
                "{a: ".repeat(levels),
                "}".repeat(levels)
            ),
        ),
        (
            "deep.json",
            format!("{{\"x\": {}{}}}", "[".repeat(levels), "]".repeat(levels)),
        ),
        // Below the pre-scan's limit: the parser's own limit answers, with the same words.
        (
            "shallower.yaml",
            format!("x: {}{}\n", "[".repeat(200), "]".repeat(200)),
        ),
    ];
    for (name, text) in cases {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let started = std::time::Instant::now();
        let found = problems(&[file], EngineOptions::default());
        // Generous: the pre-scan takes milliseconds; without it the 100 000 levels took 17-37 s.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{name}: {:?}",
            started.elapsed()
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        let (_, location, kind, reason) = &found[0];
        assert_eq!(*kind, ErrorKind::Syntax, "{name}");
        assert!(location.starts_with("line "), "{name}: {location}");
        assert_eq!(
            reason, "the document is nested deeper than 128 levels, more than understudy reads",
            "{name}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_good_spec_still_loads() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for folder in [
        root.join("../../specs"),
        test_path("specs"),
        test_path("external"),
        test_path("clash/first.yaml"),
        root.join("../understudy-engine/tests/specs/generator"),
    ] {
        if let Err(report) = Engine::load(std::slice::from_ref(&folder), EngineOptions::default()) {
            panic!("{}: {report}", folder.display());
        }
    }
}

#[test]
fn two_specs_claiming_one_route_stop_start_up_naming_both() {
    let report = Engine::load(&[test_path("clash")], EngineOptions::default()).unwrap_err();
    assert_eq!(report.errors.len(), 1);
    let text = report.to_string();
    assert!(text.contains("first.yaml"), "{text}");
    assert!(text.contains("second.yaml"), "{text}");
    assert!(text.contains("GET /v1/users/{userId}"), "{text}");
    assert_eq!(report.errors[0].kind, ErrorKind::RouteClash);
}

#[test]
fn a_missing_path_and_a_syntax_error_are_reported() {
    let report =
        Engine::load(&[test_path("no-such-folder")], EngineOptions::default()).unwrap_err();
    assert_eq!(report.errors[0].kind, ErrorKind::Io);
    let dir = std::env::temp_dir().join(format!("understudy-syntax-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "openapi: 3.0.3\npaths: [unclosed\n").unwrap();
    let report = Engine::load(&[file], EngineOptions::default()).unwrap_err();
    assert_eq!(report.errors[0].kind, ErrorKind::Syntax);
    assert!(report.errors[0].location.starts_with("line "));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn odd_but_servable_paths_load_with_warnings_and_the_first_is_served() {
    let engine = Engine::load(&[test_path("tolerance")], EngineOptions::default()).unwrap();
    let warnings: Vec<String> = engine.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(
        warnings[0].contains("/paths/~1v1~1{name}/get"),
        "{warnings:#?}"
    );
    assert!(
        warnings[0].contains("/paths/~1v1~1{parent}/get"),
        "{warnings:#?}"
    );
    assert!(warnings[1].contains("#web_links"), "{warnings:#?}");
    let app = app(std::sync::Arc::new(engine), &ServerOptions::default());
    // The first template is served, with its own parameter's rules.
    assert_eq!(
        send(&app, get("/v1/projects", &[])).await.status,
        StatusCode::OK
    );
    let other = send(&app, get("/v1/other", &[])).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A fragment is never sent: the path alone routes to the first operation keyed on it.
    let folder = send(&app, get("/shared_items", &[])).await;
    assert_eq!(folder.json()["type"], "folder");
}

#[test]
fn a_response_media_type_no_header_can_carry_is_refused() {
    let found = broken("broken/media_type_not_a_header.yaml");
    assert_eq!(found.len(), 1, "{found:?}");
    let (_, pointer, kind, reason) = &found[0];
    assert_eq!(
        pointer,
        "/paths/~1things/get/responses/200/content/application~1jsön"
    );
    assert_eq!(*kind, ErrorKind::Structure);
    assert!(
        reason.contains("cannot be sent as a Content-Type header"),
        "{reason}"
    );
}
