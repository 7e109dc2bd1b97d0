//! Bundling: every `$ref` to another file is copied into the referring document, so that the rest of
//! the engine only ever sees local references (`#/...`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::document::read_document;
use crate::json_schema::{escape, resolve_pointer};
use crate::load_error::{ErrorKind, LoadError};

/// Where bundled copies of other files' parts live in the root document.
pub const BUNDLE_KEY: &str = "x-understudy-bundled";

/// Replaces every reference to another file in `document` (read from `path`) by a local one, and
/// returns the files it read.
pub fn bundle_external_refs(path: &Path, document: &mut Value) -> Result<Vec<PathBuf>, LoadError> {
    if !has_external_ref(document) {
        return Ok(Vec::new());
    }
    let root_path = normalise(path);
    let mut bundler = Bundler {
        root: root_path.clone(),
        files: HashMap::new(),
        names: HashMap::new(),
        bundled: Map::new(),
    };
    let mut root = std::mem::take(document);
    bundler.rewrite(&mut root, &root_path, "")?;
    if let Value::Object(object) = &mut root {
        object.insert(BUNDLE_KEY.into(), Value::Object(bundler.bundled));
    }
    *document = root;
    Ok(bundler.files.into_keys().collect())
}

fn has_external_ref(value: &Value) -> bool {
    match value {
        Value::Object(object) => object.iter().any(|(key, value)| {
            (key == "$ref" && value.as_str().is_some_and(|r| !r.starts_with('#')))
                || has_external_ref(value)
        }),
        Value::Array(items) => items.iter().any(has_external_ref),
        _ => false,
    }
}

struct Bundler {
    root: PathBuf,
    files: HashMap<PathBuf, Value>,
    /// (file, fragment) → name under [`BUNDLE_KEY`]; assigned before a copy is rewritten, so cycles end.
    names: HashMap<(PathBuf, String), String>,
    bundled: Map<String, Value>,
}

impl Bundler {
    /// Rewrites the references inside `value`, which was read from `file`.
    fn rewrite(&mut self, value: &mut Value, file: &Path, pointer: &str) -> Result<(), LoadError> {
        match value {
            Value::Object(object) => {
                for (key, child) in object.iter_mut() {
                    let here = format!("{pointer}/{}", escape(key));
                    if key == "$ref" {
                        if let Value::String(reference) = child
                            && let Some(local) = self.localise(reference, file, &here)?
                        {
                            *reference = local;
                        }
                    } else {
                        self.rewrite(child, file, &here)?;
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    self.rewrite(item, file, &format!("{pointer}/{index}"))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The local reference that replaces `reference` (found in `file`), or `None` if it is already
    /// local to the root document.
    fn localise(
        &mut self,
        reference: &str,
        file: &Path,
        pointer: &str,
    ) -> Result<Option<String>, LoadError> {
        let (file_part, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let target_file = if file_part.is_empty() {
            if file == self.root {
                return Ok(None);
            }
            file.to_owned()
        } else {
            let base = file.parent().unwrap_or(Path::new("."));
            normalise(&base.join(file_part))
        };
        if target_file == self.root {
            return Ok(Some(format!("#{fragment}")));
        }
        let key = (target_file.clone(), fragment.to_owned());
        if let Some(name) = self.names.get(&key) {
            return Ok(Some(format!("#/{BUNDLE_KEY}/{}", escape(name))));
        }
        if !self.files.contains_key(&target_file) {
            let loaded = read_document(&target_file).map_err(|error| {
                LoadError::at(
                    &self.root,
                    pointer,
                    ErrorKind::Reference,
                    format!("`{reference}` cannot be loaded: {error}"),
                )
            })?;
            self.files.insert(target_file.clone(), loaded);
        }
        let target = self
            .files
            .get(&target_file)
            .and_then(|document| resolve_pointer(document, fragment))
            .cloned()
            .ok_or_else(|| {
                LoadError::at(
                    &self.root,
                    pointer,
                    ErrorKind::Reference,
                    format!(
                        "`{reference}` points at nothing in {}",
                        target_file.display()
                    ),
                )
            })?;
        let stem = target_file
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("file");
        let leaf = fragment.rsplit('/').next().unwrap_or("");
        let mut name = format!("{stem}.{leaf}");
        while self.bundled.contains_key(&name) || self.names.values().any(|used| used == &name) {
            name.push('_');
        }
        self.names.insert(key, name.clone());
        let mut copy = target;
        self.rewrite(&mut copy, &target_file, pointer)?;
        self.bundled.insert(name.clone(), copy);
        Ok(Some(format!("#/{BUNDLE_KEY}/{}", escape(&name))))
    }
}

/// Removes `.` and `..` segments without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}
