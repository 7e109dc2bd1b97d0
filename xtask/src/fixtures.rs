//! `cargo xtask fixtures`: regenerates `fixtures/` from `specs/`. For every operation it writes the
//! documented example requests, one generated valid request and one invalid request per documented
//! rule, one readable file per request (`fixtures/<spec>/<operation>/<NN>-<case>.http`). `--check`
//! changes nothing and fails, naming every stale, missing or extra file, when `fixtures/` is not
//! what `specs/` gives.
//!
//! The answers live in one place only: the insta snapshots in `xtask/src/snapshots/`, one per
//! fixture, which the test `every_fixture_replays_to_its_snapshot` asserts by sending each
//! fixture's request to an engine under a fixed seed and clock. A changed answer fails that test
//! and is reviewed with `cargo insta review`.

mod cases;
mod render;
mod rules;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use understudy_engine::SEEDED_NOW;
use understudy_engine::{Engine, EngineOptions};

/// The task's line in `cargo xtask`'s list.
pub const ABOUT: &str =
    "regenerate fixtures/ from specs/ (--check: change nothing, fail if they are out of date)";

/// The seed every fixture's answer is generated under.
pub const SEED: u64 = 6;

/// The command that fixes stale fixtures, as printed.
pub const COMMAND: &str = "cargo xtask fixtures";

/// Runs the task: `cargo xtask fixtures` regenerates, `cargo xtask fixtures --check` checks.
pub fn run(args: &[String]) -> Result<(), String> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            return Err(format!(
                "unexpected arguments {args:?}; usage: {COMMAND} [--check]"
            ));
        }
    };
    let root = workspace_root();
    if check {
        check_fixtures(&root)?;
        println!("fixtures/ is up to date with specs/");
        Ok(())
    } else {
        let summary = write_fixtures(&root)?;
        println!("{summary}");
        Ok(())
    }
}

/// The workspace root: the folder above this crate's.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Every fixture file `specs/` gives, by path relative to the workspace root (`fixtures/…`),
/// with its content: the request, never the answer (that is the snapshot's).
pub fn expected_fixtures(root: &Path) -> Result<BTreeMap<String, String>, String> {
    let engine = load_engine(root)?;
    let now = fixed_now()?;
    let mut files = BTreeMap::new();
    for spec in engine.specs() {
        let source = format!(
            "specs/{}",
            spec.file.file_name().map_or_else(
                || spec.name.clone(),
                |name| name.to_string_lossy().into_owned()
            )
        );
        for operation in &spec.operations {
            let folder = format!("{}/{}", cases::slug(&spec.name), cases::folder(operation));
            for (index, case) in cases::cases(operation, SEED, now).iter().enumerate() {
                let name = format!("{folder}/{:02}-{}.http", index + 1, case.name);
                let text = render::fixture(
                    &source,
                    &case.about,
                    &snapshot_name(&name),
                    &case.request,
                    case.twice,
                );
                let path = format!("fixtures/{name}");
                if files.insert(path.clone(), text).is_some() {
                    return Err(format!("two fixtures would be written to {path}"));
                }
            }
        }
    }
    Ok(files)
}

/// The snapshot file that holds the answer to the fixture at `name` (relative to `fixtures/`), as
/// insta's `glob!` names it.
fn snapshot_name(name: &str) -> String {
    format!(
        "xtask/src/snapshots/xtask__fixtures__tests__every_fixture_replays_to_its_snapshot@{}.snap",
        name.replace('/', "__")
    )
}

/// Regenerates `fixtures/`: writes every file that differs, removes every file `specs/` no longer
/// gives, and says what it did.
pub fn write_fixtures(root: &Path) -> Result<String, String> {
    let expected = expected_fixtures(root)?;
    let present = present_fixtures(root)?;
    let mut written = 0;
    for (path, text) in &expected {
        if present.get(path) == Some(text) {
            continue;
        }
        let file = root.join(path);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent)
                .map_err(|error| format!("creating {}: {error}", parent.display()))?;
        }
        fs::write(&file, text).map_err(|error| format!("writing {path}: {error}"))?;
        written += 1;
    }
    let mut removed = 0;
    for path in present.keys().filter(|path| !expected.contains_key(*path)) {
        fs::remove_file(root.join(path)).map_err(|error| format!("removing {path}: {error}"))?;
        removed += 1;
    }
    remove_empty_folders(&root.join("fixtures"));
    Ok(format!(
        "fixtures/: {} files from specs/, {written} written, {removed} removed",
        expected.len()
    ))
}

/// Compares `fixtures/` with what `specs/` gives, changing nothing; the error names every stale,
/// missing or extra file and the command that fixes them.
pub fn check_fixtures(root: &Path) -> Result<(), String> {
    let expected = expected_fixtures(root)?;
    let present = present_fixtures(root)?;
    let mut problems = Vec::new();
    for (path, text) in &expected {
        match present.get(path) {
            Some(existing) if existing == text => {}
            Some(_) => problems.push(format!("  stale:   {path}")),
            None => problems.push(format!("  missing: {path}")),
        }
    }
    for path in present.keys().filter(|path| !expected.contains_key(*path)) {
        problems.push(format!("  extra:   {path}"));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "fixtures/ is out of date with specs/ ({} files):\n{}\nrun `{COMMAND}` to regenerate, \
         then `cargo insta review`",
        problems.len(),
        problems.join("\n")
    ))
}

/// One engine over `specs/`, seeded, with the seeded engine's fixed clock.
pub fn load_engine(root: &Path) -> Result<Engine, String> {
    Engine::load(
        &[root.join("specs")],
        EngineOptions {
            seed: Some(SEED),
            ..EngineOptions::default()
        },
    )
    .map_err(|report| format!("specs/ does not load:\n{report}"))
}

fn fixed_now() -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(SEEDED_NOW)
        .map(|now| now.with_timezone(&Utc))
        .map_err(|error| format!("the engine's clock {SEEDED_NOW}: {error}"))
}

/// Every file under `fixtures/` (whatever its name), by path relative to the root, with its
/// content (a file that is not UTF-8 reads as empty, so it shows as stale).
fn present_fixtures(root: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.join("fixtures")];
    while let Some(folder) = pending.pop() {
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(format!("reading {}: {error}", folder.display())),
        };
        for entry in entries {
            let entry = entry.map_err(|error| format!("reading {}: {error}", folder.display()))?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .map_err(|error| format!("{}: {error}", path.display()))?
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = fs::read(&path)
                .map(|bytes| String::from_utf8(bytes).unwrap_or_default())
                .map_err(|error| format!("reading {relative}: {error}"))?;
            files.insert(relative, text);
        }
    }
    Ok(files)
}

/// Removes folders under `folder` left empty (not `folder` itself).
fn remove_empty_folders(folder: &Path) {
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_empty_folders(&path);
            // Fails, as it should, when the folder still holds something.
            let _ = fs::remove_dir(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh folder of its own for one test, under the system's temporary folder.
    fn scratch(name: &str) -> PathBuf {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let folder = std::env::temp_dir().join(format!(
            "understudy-fixtures-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&folder);
        fs::create_dir_all(folder.join("specs")).unwrap();
        folder
    }

    /// The fixture set of one test spec, by case name (`NN-` dropped): each file, read back and
    /// replayed, followed by its answer as the snapshot holds it.
    fn fixture_set(spec: &str) -> BTreeMap<String, String> {
        let root = workspace_root();
        let folder = scratch(spec);
        fs::copy(
            root.join("crates/understudy-server/tests/specs").join(spec),
            folder.join("specs").join(spec),
        )
        .unwrap();
        let files = expected_fixtures(&folder).unwrap();
        let engine = load_engine(&folder).unwrap();
        fs::remove_dir_all(&folder).unwrap();
        files
            .into_iter()
            .map(|(path, text)| {
                let name = path.rsplit('/').next().unwrap();
                let operation = path.rsplit('/').nth(1).unwrap();
                let parsed = render::parse(&text).unwrap();
                let answer = parsed.request.send(&engine, parsed.twice).unwrap();
                let answer = render::response(&answer);
                (
                    format!("{operation}/{}", &name[3..]),
                    format!("{text}\n{answer}"),
                )
            })
            .collect()
    }

    fn status(text: &str) -> &str {
        text.lines()
            .find(|line| line.starts_with("HTTP/1.1 "))
            .unwrap()
    }

    #[test]
    fn the_fixtures_are_up_to_date_with_the_specs() {
        if let Err(problems) = check_fixtures(&workspace_root()) {
            panic!("{problems}");
        }
    }

    #[test]
    fn notes_yields_a_case_per_rule_each_answered() {
        let files = fixture_set("notes.yaml");
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "createNote/body-not-an-object.http",
                "createNote/malformed-json.http",
                "createNote/missing-text.http",
                "createNote/no-body.http",
                "createNote/priority-too-large.http",
                "createNote/priority-too-small.http",
                "createNote/priority-wrong-type.http",
                "createNote/text-too-long.http",
                "createNote/text-wrong-type.http",
                "createNote/unexpected-property.http",
                "createNote/valid-generated.http",
                "createNote/wrong-content-type.http",
            ]
        );
        assert_eq!(
            status(&files["createNote/valid-generated.http"]),
            "HTTP/1.1 201 Created"
        );
        assert_eq!(
            status(&files["createNote/wrong-content-type.http"]),
            "HTTP/1.1 415 Unsupported Media Type"
        );
        assert_eq!(
            status(&files["createNote/malformed-json.http"]),
            "HTTP/1.1 400 Bad Request"
        );
        for case in [
            "missing-text",
            "text-too-long",
            "unexpected-property",
            "no-body",
        ] {
            let text = &files[&format!("createNote/{case}.http")];
            assert_eq!(status(text), "HTTP/1.1 422 Unprocessable Entity", "{case}");
        }
        let long = &files["createNote/text-too-long.http"];
        assert!(long.contains("maxLength"), "{long}");
        for text in files.values() {
            assert!(text.starts_with(
                "# Generated by `cargo xtask fixtures` from specs/notes.yaml; do not edit.\n# Case: "
            ));
        }
    }

    #[test]
    fn pets_covers_credentials_headers_and_uniqueness() {
        let files = fixture_set("pets.yaml");
        for (case, expected) in [
            ("createPet/valid-generated.http", "HTTP/1.1 201 Created"),
            ("createPet/duplicate-name.http", "HTTP/1.1 409 Conflict"),
            ("createPet/no-credentials.http", "HTTP/1.1 401 Unauthorized"),
            ("createPet/wrong-scheme.http", "HTTP/1.1 401 Unauthorized"),
            (
                "createPet/missing-name.http",
                "HTTP/1.1 422 Unprocessable Entity",
            ),
            (
                "createPet/email-format.http",
                "HTTP/1.1 422 Unprocessable Entity",
            ),
            (
                "createPet/kind-not-in-enum.http",
                "HTTP/1.1 422 Unprocessable Entity",
            ),
            (
                "createPet/tags-too-many-items.http",
                "HTTP/1.1 422 Unprocessable Entity",
            ),
            ("listPets/valid.http", "HTTP/1.1 200 OK"),
            (
                "listPets/missing-header-X-Trace.http",
                "HTTP/1.1 422 Unprocessable Entity",
            ),
            ("getPet/valid.http", "HTTP/1.1 200 OK"),
            ("getPet/no-credentials.http", "HTTP/1.1 401 Unauthorized"),
        ] {
            let text = files
                .get(case)
                .unwrap_or_else(|| panic!("{case} in {:?}", files.keys()));
            assert_eq!(status(text), expected, "{case}:\n{text}");
        }
        let scheme = &files["createPet/wrong-scheme.http"];
        assert!(
            scheme.contains("authorization: Bearer fixture-token"),
            "{scheme}"
        );
        assert!(!files.keys().any(|case| case.contains("missing-id")));
        let twice = &files["createPet/duplicate-name.http"];
        assert!(twice.contains(render::SENT_TWICE));
    }

    #[test]
    fn fixtures_are_the_same_bytes_on_every_run() {
        assert_eq!(fixture_set("pets.yaml"), fixture_set("pets.yaml"));
    }

    #[test]
    fn a_stale_missing_or_extra_file_is_named_with_the_command() {
        let root = workspace_root();
        let folder = scratch("check");
        fs::copy(
            root.join("crates/understudy-server/tests/specs/notes.yaml"),
            folder.join("specs/notes.yaml"),
        )
        .unwrap();
        assert!(check_fixtures(&folder).is_err());
        let summary = write_fixtures(&folder).unwrap();
        assert!(summary.contains("12 files"), "{summary}");
        assert_eq!(check_fixtures(&folder), Ok(()));
        let notes = folder.join("fixtures/notes/createNote");
        fs::write(notes.join("01-valid-generated.http"), "edited\n").unwrap();
        fs::remove_file(notes.join("02-no-body.http")).unwrap();
        fs::write(notes.join("99-extra.http"), "extra\n").unwrap();
        let problems = check_fixtures(&folder).unwrap_err();
        assert!(problems.contains("stale:   fixtures/notes/createNote/01-valid-generated.http"));
        assert!(problems.contains("missing: fixtures/notes/createNote/02-no-body.http"));
        assert!(problems.contains("extra:   fixtures/notes/createNote/99-extra.http"));
        assert!(problems.contains("run `cargo xtask fixtures` to regenerate"));
        assert_eq!(
            fs::read_to_string(notes.join("99-extra.http")).unwrap(),
            "extra\n"
        );
        write_fixtures(&folder).unwrap();
        assert_eq!(check_fixtures(&folder), Ok(()));
        assert!(!notes.join("99-extra.http").exists());
        fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn every_fixture_names_the_snapshot_that_holds_its_answer() {
        let root = workspace_root();
        for (path, text) in expected_fixtures(&root).unwrap() {
            let snapshot = text
                .lines()
                .find_map(|line| line.strip_prefix("# Answer: "))
                .and_then(|rest| rest.split(' ').next())
                .unwrap_or_else(|| panic!("{path} names no snapshot"));
            assert!(root.join(snapshot).is_file(), "{path} names {snapshot}");
        }
    }

    #[test]
    fn every_fixture_replays_to_its_snapshot() {
        let root = workspace_root();
        let engine = load_engine(&root).unwrap();
        insta::glob!("../../fixtures", "**/*.http", |path| {
            let text = fs::read_to_string(path).unwrap();
            let parsed = render::parse(&text).unwrap();
            let answer = parsed.request.send(&engine, parsed.twice).unwrap();
            insta::assert_snapshot!(render::response(&answer));
        });
    }
}
