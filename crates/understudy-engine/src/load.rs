//! Finding spec files and loading them: parse, bundle, compile, and build one route table for all.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::bundle::bundle_external_refs;
use crate::compile::compile_spec;
use crate::document::{SPEC_EXTENSIONS, read_document};
use crate::load_error::{ErrorKind, LoadError, LoadReport};
use crate::operation::Spec;

/// The spec files named by `paths`: files as given, folders as their `.yaml`, `.yml` and `.json` files
/// (not recursive), sorted by name.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadReport> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            match std::fs::read_dir(path) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                        .filter(|file| file.is_file() && is_spec_file(file))
                        .collect();
                    found.sort();
                    if found.is_empty() {
                        errors.push(LoadError::at(
                            path,
                            "",
                            ErrorKind::Io,
                            "the folder holds no .yaml, .yml or .json file",
                        ));
                    }
                    files.extend(found);
                }
                Err(error) => {
                    errors.push(LoadError::at(path, "", ErrorKind::Io, error.to_string()))
                }
            }
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            errors.push(LoadError::at(
                path,
                "",
                ErrorKind::Io,
                "no such file or folder",
            ));
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(LoadReport { errors })
    }
}

/// Loads and compiles every spec in `paths`, reporting every problem in every file. A file that
/// another spec references and that is not itself an OpenAPI document (shared components) is not
/// served on its own.
pub fn load_specs(paths: &[PathBuf]) -> Result<Vec<Spec>, LoadReport> {
    let files = discover(paths)?;
    let mut errors = Vec::new();
    let mut documents = Vec::new();
    let mut referenced: HashSet<PathBuf> = HashSet::new();
    for file in &files {
        let mut document = match read_document(file) {
            Ok(document) => document,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        match bundle_external_refs(file, &mut document) {
            Ok(read) => referenced.extend(read.into_iter().filter_map(|path| canonical(&path))),
            Err(error) => errors.push(error),
        }
        documents.push((file.clone(), document));
    }
    let mut specs = Vec::new();
    for (file, document) in documents {
        let shared_part = document.get("openapi").is_none()
            && canonical(&file).is_some_and(|path| referenced.contains(&path));
        if shared_part {
            continue;
        }
        match compile_spec(&file, document) {
            Ok(spec) => specs.push(spec),
            Err(found) => errors.extend(found),
        }
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(LoadReport { errors })
    }
}

fn is_spec_file(path: &Path) -> bool {
    path.extension()
        .and_then(|ending| ending.to_str())
        .is_some_and(|ending| SPEC_EXTENSIONS.contains(&ending))
}

fn canonical(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}
