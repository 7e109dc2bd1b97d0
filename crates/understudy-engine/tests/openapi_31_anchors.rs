//! JSON Schema 2020-12's own references in an OpenAPI 3.1 description (`specs/openapi31-anchors`):
//! a schema reached through an `$anchor`, an absolute `$id`, a name relative to an `$id`, a pointer
//! into an `$id`'s resource (`#/$defs/…`), a `$dynamicRef`, a discriminator mapping by `$id` or
//! anchor, a file's `$id`, and an `$id` given in another file of the description (written to a
//! temporary folder) is enforced on
//! requests (a body breaking it is a violation naming its keyword and pointer), and every answer
//! generated through such references over many seeds has the referenced shape, checked by
//! jsonschema reading the references itself, not as understudy rewrote them. A reference naming
//! nothing stops the load at its `$ref`, in the file it is written in.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use understudy_engine::violation::Violation;
use understudy_engine::{Engine, EngineOptions, MockRequest};

fn folder(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/specs")
        .join(name)
}

fn engine(seed: u64) -> Engine {
    let options = EngineOptions {
        seed: Some(seed),
        ..EngineOptions::default()
    };
    Engine::load(&[folder("openapi31-anchors")], options).unwrap()
}

/// Posts `body`; gives the status, the answer as JSON and the violations.
fn post(engine: &Engine, path: &str, body: &Value) -> (StatusCode, Value, Vec<Violation>) {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    let text = body.to_string();
    let outcome = engine.handle(&MockRequest {
        method: &Method::POST,
        path,
        query: None,
        headers: &headers,
        body: text.as_bytes(),
    });
    let json = serde_json::from_slice(&outcome.response.body).unwrap_or(Value::Null);
    let violations = outcome.violations.iter().cloned().collect();
    (outcome.response.status, json, violations)
}

/// Gets `path`; gives the status and the answer as JSON.
fn get(engine: &Engine, path: &str) -> (StatusCode, Value) {
    let outcome = engine.handle(&MockRequest {
        method: &Method::GET,
        path,
        query: None,
        headers: &HeaderMap::new(),
        body: b"",
    });
    let json = serde_json::from_slice(&outcome.response.body).unwrap_or(Value::Null);
    (outcome.response.status, json)
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    understudy_engine::document::parse_document(path, &text).unwrap()
}

/// A validator for `reference` that jsonschema resolves itself: the spec's schemas, and the shared
/// file's, as the `$defs` of one JSON Schema document, whose `$id`s, anchors and `$dynamicRef`
/// jsonschema reads as JSON Schema says.
fn oracle(reference: &str) -> jsonschema::Validator {
    let spec = read(&folder("openapi31-anchors").join("anchors.yaml"));
    let shared = read(&folder("openapi31-anchors").join("shared.yaml"));
    let mut defs = spec["components"]["schemas"].as_object().unwrap().clone();
    defs.insert("Tag".into(), shared["Tag"].clone());
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
        "$ref": reference,
    });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn valid_person() -> Value {
    json!({"name": "Ada", "home": {"city": "London", "zip": "12345"}, "street": "Main St"})
}

#[test]
fn each_kind_of_reference_is_enforced_on_requests() {
    let engine = engine(1);
    let valid = [
        ("/people", valid_person()),
        ("/users", json!({"handle": "@ada", "age": 36})),
        ("/names", json!(["ada", "grace"])),
        ("/tags", json!({"label": "new"})),
        ("/pets", json!({"kind": "dog", "bark": true})),
        ("/pets", json!({"kind": "cat", "lives": 9})),
    ];
    for (path, body) in &valid {
        let (status, answer, violations) = post(&engine, path, body);
        assert!(status.is_success(), "{path}: {answer} {violations:?}");
    }
    let person = |change: &dyn Fn(&mut Value)| {
        let mut body = valid_person();
        change(&mut body);
        body
    };
    // (what the reference is, path, body, keyword, pointer)
    let broken = [
        (
            "an absolute `$id`",
            "/people",
            person(&|body| body["extra"] = json!(1)),
            "additionalProperties",
            "/extra",
        ),
        (
            "an anchor of the `$id`'s resource",
            "/people",
            person(&|body| body["name"] = json!("A")),
            "minLength",
            "/name",
        ),
        (
            "a name relative to the `$id`",
            "/people",
            person(&|body| body["home"] = json!({"city": "London"})),
            "required",
            "/home/zip",
        ),
        (
            "a pointer into another `$id`'s resource",
            "/people",
            person(&|body| body["home"]["zip"] = json!("1234x")),
            "pattern",
            "/home/zip",
        ),
        (
            "a pointer into the `$id`'s resource",
            "/people",
            person(&|body| body["street"] = json!("St")),
            "minLength",
            "/street",
        ),
        (
            "an anchor of the document",
            "/users",
            json!({"handle": "ada", "age": 36}),
            "pattern",
            "/handle",
        ),
        (
            "a `$dynamicRef`",
            "/names",
            json!(["ada", "bob"]),
            "enum",
            "/1",
        ),
        (
            "a pointer into a bundled file's `$id`",
            "/tags",
            json!({"label": "far too long"}),
            "maxLength",
            "/label",
        ),
        (
            "a discriminator mapping by anchor",
            "/pets",
            json!({"kind": "cat", "lives": 12}),
            "maximum",
            "/lives",
        ),
        (
            "a discriminator mapping by `$id`",
            "/pets",
            json!({"kind": "dog", "bark": "woof"}),
            "type",
            "/bark",
        ),
    ];
    for (kind, path, body, keyword, pointer) in broken {
        let (status, answer, violations) = post(&engine, path, &body);
        assert!(status.is_client_error(), "{kind}: {status} {answer}");
        assert_eq!(violations.len(), 1, "{kind}: {violations:?}");
        assert_eq!(violations[0].keyword, keyword, "{kind}: {violations:?}");
        assert_eq!(violations[0].pointer, pointer, "{kind}: {violations:?}");
    }
}

#[test]
fn answers_generated_through_each_kind_of_reference_have_its_shape() {
    let cases = [
        ("/person", "https://example.com/schemas/person"),
        ("/user", "#user"),
        ("/names/drawn", "#/$defs/Names"),
        ("/tag", "https://example.com/schemas/tag"),
        ("/pet", "#/$defs/Pet"),
    ];
    let oracles: Vec<jsonschema::Validator> = cases
        .iter()
        .map(|(_, reference)| oracle(reference))
        .collect();
    // 300 seeds × 5 operations × 4 answers.
    let mut distinct = std::collections::HashSet::new();
    for seed in 0..300 {
        let engine = engine(seed);
        for _ in 0..4 {
            for ((path, _), oracle) in cases.iter().zip(&oracles) {
                let (status, answer) = get(&engine, path);
                assert_eq!(status, StatusCode::OK, "seed {seed} {path}: {answer}");
                assert!(oracle.is_valid(&answer), "seed {seed} {path}: {answer}");
                distinct.insert(answer.to_string());
            }
        }
        // The referenced shapes, named outright: the `$id`-relative Address and its zip, the
        // resource's anchor and `$defs`, the document's anchor, the dynamic item, the file's.
        let (_, person) = get(&engine, "/person");
        let zip = person["home"]["zip"].as_str().unwrap();
        assert!(
            zip.len() == 5 && zip.bytes().all(|byte| byte.is_ascii_digit()),
            "{person}"
        );
        assert!(person["home"]["city"].is_string(), "{person}");
        let name = person["name"].as_str().unwrap().chars().count();
        assert!((2..=20).contains(&name), "{person}");
        let street = person["street"].as_str().unwrap().chars().count();
        assert!((3..=40).contains(&street), "{person}");
        let (_, user) = get(&engine, "/user");
        assert!(user["handle"].as_str().unwrap().starts_with('@'), "{user}");
        assert!(user["age"].as_i64().unwrap() <= 150, "{user}");
        let (_, names) = get(&engine, "/names/drawn");
        for name in names.as_array().unwrap() {
            let name = name.as_str().unwrap();
            assert!(["ada", "grace", "edsger"].contains(&name), "{names}");
        }
        let (_, pet) = get(&engine, "/pet");
        match pet["kind"].as_str().unwrap() {
            "dog" => assert!(pet["bark"].is_boolean(), "{pet}"),
            _ => assert!((1..=9).contains(&pet["lives"].as_i64().unwrap()), "{pet}"),
        }
        let (_, tag) = get(&engine, "/tag");
        let label = tag["label"].as_str().unwrap().chars().count();
        assert!((1..=8).contains(&label), "{tag}");
    }
    assert!(distinct.len() > 2_000, "answers vary: {}", distinct.len());
}

#[test]
fn a_reference_naming_nothing_stops_the_load_at_its_ref() {
    let report = Engine::load(
        &[folder("openapi31-anchors-broken")],
        EngineOptions::default(),
    )
    .unwrap_err();
    let errors = errors_of(&report);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "dangling.yaml");
    assert_eq!(
        errors[0].1,
        "/paths/~1a/post/requestBody/content/application~1json/schema/$ref"
    );
    assert!(errors[0].2.contains("`#nobody`"), "{}", errors[0].2);
    assert_eq!(
        errors[1].1,
        "/components/schemas/Person/properties/home/$ref"
    );
    assert!(
        errors[1].2.contains("`address`")
            && errors[1].2.contains("https://example.com/schemas/address"),
        "{}",
        errors[1].2
    );
}

#[test]
fn the_description_loads_without_warnings() {
    let engine = engine(1);
    assert_eq!(engine.warnings(), &[], "{:?}", engine.warnings());
    assert_eq!(engine.specs().len(), 1);
    assert_eq!(engine.specs()[0].version, "OpenAPI 3.1.0");
}

/// A folder of its own under the system's temporary folder, holding `files` (name, text).
/// A refused load's errors as (file name, pointer, reason).
fn errors_of(report: &understudy_engine::LoadReport) -> Vec<(String, String, String)> {
    report
        .errors
        .iter()
        .map(|error| {
            let file = error
                .file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (file, error.location.clone(), error.reason.clone())
        })
        .collect()
}

fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("understudy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

/// A description over three files: `api.yaml` names the pet by its `$id` (before any reference
/// names the file that gives it), `owner.yaml` (named by file) names it by its `$id`, relative to
/// its own `$id`, by a pointer and by an anchor inside it, and `pets.yaml` gives it.
const ACROSS_FILES: [(&str, &str); 3] = [
    (
        "api.yaml",
        r##"openapi: 3.1.0
info: {title: Across files, version: "1"}
paths:
  /pets:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "https://example.com/schemas/pet"}
      responses:
        "201":
          description: The pet.
          content:
            application/json:
              schema: {$ref: "https://example.com/schemas/pet"}
  /owners:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "owner.yaml#/Owner"}
      responses:
        "201":
          description: The owner.
          content:
            application/json:
              schema: {$ref: "owner.yaml#/Owner"}
  /pet:
    get:
      responses:
        "200":
          description: A pet.
          content:
            application/json:
              schema: {$ref: "https://example.com/schemas/pet"}
  /owner:
    get:
      responses:
        "200":
          description: An owner.
          content:
            application/json:
              schema: {$ref: "owner.yaml#/Owner"}
components:
  schemas:
    Pets:
      type: array
      items: {$ref: "pets.yaml#/Pet"}
"##,
    ),
    (
        "owner.yaml",
        r##"Owner:
  $id: https://example.com/schemas/owner
  type: object
  required: [name, pet, kind]
  additionalProperties: false
  properties:
    name: {$ref: "https://example.com/schemas/pet#/$defs/name"}
    pet: {$ref: "pet"}
    kind: {$ref: "https://example.com/schemas/pet#kind"}
"##,
    ),
    (
        "pets.yaml",
        r##"Pet:
  $id: https://example.com/schemas/pet
  type: object
  required: [name, kind]
  additionalProperties: false
  properties:
    name: {$ref: "#/$defs/name"}
    kind: {$ref: "#kind"}
  $defs:
    name: {type: string, pattern: "^[A-Z][a-z]{1,11}$"}
    kind: {$anchor: kind, enum: [dog, cat]}
"##,
    ),
];

#[test]
fn an_id_given_in_another_file_is_followed_by_validation_and_generation() {
    let dir = scratch("ids-across-files", &ACROSS_FILES);
    let load = |seed: u64| {
        let options = EngineOptions {
            seed: Some(seed),
            ..EngineOptions::default()
        };
        Engine::load(std::slice::from_ref(&dir), options).unwrap()
    };
    let engine = load(1);
    assert_eq!(engine.warnings(), &[], "{:?}", engine.warnings());
    assert_eq!(
        engine.specs().len(),
        1,
        "the files named are parts, not specs"
    );
    let rex = json!({"name": "Rex", "kind": "dog"});
    let owner = json!({"name": "Ada", "pet": rex, "kind": "cat"});
    for (path, body) in [("/pets", &rex), ("/owners", &owner)] {
        let (status, answer, violations) = post(&engine, path, body);
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{path}: {answer} {violations:?}"
        );
    }
    // (path, body, keyword, pointer): each way of naming the other file's schema is enforced.
    let broken = [
        (
            "/pets",
            json!({"name": "rex", "kind": "dog"}),
            "pattern",
            "/name",
        ),
        (
            "/pets",
            json!({"name": "Rex", "kind": "cow"}),
            "enum",
            "/kind",
        ),
        (
            "/pets",
            json!({"name": "Rex", "kind": "dog", "age": 3}),
            "additionalProperties",
            "/age",
        ),
        (
            "/owners",
            json!({"name": "ada", "pet": rex, "kind": "cat"}),
            "pattern",
            "/name",
        ),
        (
            "/owners",
            json!({"name": "Ada", "pet": {"name": "Rex"}, "kind": "cat"}),
            "required",
            "/pet/kind",
        ),
        (
            "/owners",
            json!({"name": "Ada", "pet": rex, "kind": "cow"}),
            "enum",
            "/kind",
        ),
    ];
    for (path, body, keyword, pointer) in broken {
        let (status, answer, violations) = post(&engine, path, &body);
        assert!(status.is_client_error(), "{path} {body}: {status} {answer}");
        assert_eq!(violations.len(), 1, "{path} {body}: {violations:?}");
        assert_eq!(
            violations[0].keyword, keyword,
            "{path} {body}: {violations:?}"
        );
        assert_eq!(
            violations[0].pointer, pointer,
            "{path} {body}: {violations:?}"
        );
    }
    // Answers are generated to the other file's schema: what the pet's `$defs` say.
    let pet_like = |pet: &Value| {
        let object = pet.as_object().unwrap();
        let name = object["name"].as_str().unwrap();
        object.len() == 2
            && name.len() >= 2
            && name.len() <= 12
            && name.chars().next().unwrap().is_ascii_uppercase()
            && name
                .chars()
                .skip(1)
                .all(|letter| letter.is_ascii_lowercase())
            && ["dog", "cat"].contains(&object["kind"].as_str().unwrap())
    };
    let mut names = std::collections::HashSet::new();
    for seed in 0..50 {
        let engine = load(seed);
        let (status, pet) = get(&engine, "/pet");
        assert_eq!(status, StatusCode::OK, "seed {seed}: {pet}");
        assert!(pet_like(&pet), "seed {seed}: {pet}");
        names.insert(pet["name"].to_string());
        let (status, owner) = get(&engine, "/owner");
        assert_eq!(status, StatusCode::OK, "seed {seed}: {owner}");
        assert_eq!(owner.as_object().unwrap().len(), 3, "seed {seed}: {owner}");
        assert!(pet_like(&owner["pet"]), "seed {seed}: {owner}");
        let name = owner["name"].as_str().unwrap();
        assert!(
            name.starts_with(|letter: char| letter.is_ascii_uppercase()),
            "{owner}"
        );
        assert!(
            ["dog", "cat"].contains(&owner["kind"].as_str().unwrap()),
            "seed {seed}: {owner}"
        );
    }
    assert!(names.len() > 10, "names vary: {names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_id_nobody_gives_is_a_load_error_naming_the_file_the_pointer_and_the_reference() {
    // The pet named by an `$id` nobody gives, and a name relative to the owner's `$id` too; and a
    // reference that is no URI, refused once (not read as a file name as well).
    let api = ACROSS_FILES[0]
        .1
        .replacen("schemas/pet\"}", "schemas/nobody#/$defs/x\"}", 1);
    let owner = "Owner:\n  $id: https://example.com/schemas/owner\n  properties:\n    pet: {$ref: \"ghost\"}\n    odd: {$ref: \"a b\"}\n";
    let files = [
        ("api.yaml", api.as_str()),
        ("owner.yaml", owner),
        ACROSS_FILES[2],
    ];
    let dir = scratch("ids-nobody-gives", &files);
    let report = Engine::load(std::slice::from_ref(&dir), EngineOptions::default()).unwrap_err();
    let mut errors = errors_of(&report);
    errors.sort();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert_eq!(errors[0].0, "api.yaml");
    assert_eq!(
        errors[0].1,
        "/paths/~1pets/post/requestBody/content/application~1json/schema/$ref"
    );
    assert!(
        errors[0]
            .2
            .contains("`https://example.com/schemas/nobody#/$defs/x`"),
        "{}",
        errors[0].2
    );
    assert_eq!(errors[1].0, "owner.yaml");
    assert_eq!(errors[1].1, "/Owner/properties/odd/$ref");
    assert!(
        errors[1].2.contains("not a URI reference"),
        "{}",
        errors[1].2
    );
    assert_eq!(errors[2].0, "owner.yaml");
    assert_eq!(errors[2].1, "/Owner/properties/pet/$ref");
    assert!(
        errors[2].2.contains("`ghost`")
            && errors[2].2.contains("`https://example.com/schemas/ghost`"),
        "{}",
        errors[2].2
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_id_given_in_a_file_loaded_beside_it_needs_no_file_reference() {
    // No reference names `pets.yaml` by its file name: its `$id` is found among the files loaded.
    let (api, by_file) = ACROSS_FILES[0].1.split_once("components:").unwrap();
    assert!(by_file.contains("pets.yaml"));
    let files = [("api.yaml", api), ACROSS_FILES[1], ACROSS_FILES[2]];
    let dir = scratch("ids-beside", &files);
    for seed in 0..20 {
        let options = EngineOptions {
            seed: Some(seed),
            ..EngineOptions::default()
        };
        let engine = Engine::load(std::slice::from_ref(&dir), options).unwrap();
        assert_eq!(engine.warnings(), &[], "{:?}", engine.warnings());
        assert_eq!(
            engine.specs().len(),
            1,
            "the pets file is a part, not a spec"
        );
        let (status, _, violations) =
            post(&engine, "/pets", &json!({"name": "rex", "kind": "dog"}));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{violations:?}");
        assert_eq!(violations[0].pointer, "/name", "{violations:?}");
        let (status, pet) = get(&engine, "/pet");
        assert_eq!(status, StatusCode::OK, "{pet}");
        let name = pet["name"].as_str().unwrap();
        assert!(
            name.starts_with(|letter: char| letter.is_ascii_uppercase()),
            "{pet}"
        );
        assert!(
            ["dog", "cat"].contains(&pet["kind"].as_str().unwrap()),
            "{pet}"
        );
        assert_eq!(pet.as_object().unwrap().len(), 2, "{pet}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
