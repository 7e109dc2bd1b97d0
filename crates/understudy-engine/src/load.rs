//! Finding spec files and loading them: parse, rewrite JSON Schema's own references (3.1 and
//! later), bundle, check the references, compile. A document
//! with a problem at one step is not taken to the next, so every problem is reported once, where
//! it is, without the follow-on errors of a half-read document.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::bundle::bundle_external_refs;
use crate::compile::compile_spec;
use crate::document::{SPEC_EXTENSIONS, read_document};
use crate::json_schema::Dialect;
use crate::load_error::{ErrorKind, LoadError, LoadReport};
use crate::operation::Spec;
use crate::references::check_references;
use crate::schema_ids::{given_ids, localise_schema_ids};

/// The spec files named by `paths`: files as given, folders as their `.yaml`, `.yml` and `.json` files
/// (not recursive), sorted by name.
pub(crate) fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadReport> {
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

/// Loads and compiles every spec in `paths`, reporting every problem in every file, and gives
/// every file it read, loaded or not: the spec files and the files their `$ref`s name, canonical,
/// each once (what `serve --watch` watches). A file that another spec references and that is not
/// itself an OpenAPI document (shared components) is not served on its own. A `$ref` may name a
/// file outside the folder of the spec it is in only if `allow_ref_outside`.
pub(crate) fn load_specs_reading(
    paths: &[PathBuf],
    allow_ref_outside: bool,
) -> (Result<Vec<Spec>, LoadReport>, Vec<PathBuf>) {
    let files = match discover(paths) {
        Ok(files) => files,
        Err(report) => return (Err(report), Vec::new()),
    };
    let mut read: Vec<PathBuf> = files
        .iter()
        .map(|file| canonical(file).unwrap_or_else(|| file.clone()))
        .collect();
    let loaded = load_files(&files, allow_ref_outside, &mut read);
    let mut seen = HashSet::new();
    read.retain(|file| seen.insert(file.clone()));
    (loaded, read)
}

/// Loads `files`, adding the files their `$ref`s name to `read`.
fn load_files(
    files: &[PathBuf],
    allow_ref_outside: bool,
    read: &mut Vec<PathBuf>,
) -> Result<Vec<Spec>, LoadReport> {
    let mut errors = Vec::new();
    let mut documents = Vec::new();
    let mut referenced: HashSet<PathBuf> = HashSet::new();
    // Files that are no OpenAPI document and could not be bundled on their own, with why.
    let mut parts = Vec::new();
    // Every file is read first, so that a reference to an `$id` another file given here holds
    // can bundle that file even when no reference names it by its file name.
    let mut localised = Vec::new();
    let mut beside: HashMap<String, PathBuf> = HashMap::new();
    for file in files {
        let mut document = match read_document(file) {
            Ok(document) => document,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        let warnings = crate::swagger2::convert(file, &mut document);
        // 3.1 and 3.2: `$id`- and `$anchor`-based references become JSON pointers before bundling
        // reads a reference that is no pointer as another file.
        let found = localise_schema_ids(file, &mut document);
        if (document.get("openapi").is_none()
            || Dialect::of(&document) == Dialect::JsonSchema202012)
            && let Some(path) = canonical(file)
        {
            for id in given_ids(file, &document) {
                beside.entry(id).or_insert_with(|| path.clone());
            }
        }
        localised.push((file, document, warnings, found));
    }
    for (file, mut document, mut warnings, localised) in localised {
        warnings.extend(localised.warnings);
        // Bundled even when a reference named nothing, since one to another file's `$id` is
        // known only then (the refused references are not read as files).
        let bundle = bundle_external_refs(
            file,
            &mut document,
            allow_ref_outside,
            localised.names,
            &beside,
        );
        read.extend(bundle.files.iter().cloned());
        referenced.extend(bundle.files);
        warnings.extend(bundle.warnings);
        let mut found = localised.errors;
        found.extend(bundle.errors);
        if found.is_empty() {
            documents.push((file.clone(), document, bundle.origins, warnings));
        } else if document.get("openapi").is_none() {
            // Perhaps a part of another file's description, read there as its dialect says
            // (a 3.1 document's `$id`s): its problems are that description's, where they are.
            parts.push((file, found));
        } else {
            errors.extend(found);
        }
    }
    for (file, found) in parts {
        if !canonical(file).is_some_and(|path| referenced.contains(&path)) {
            errors.extend(found);
        }
    }
    let mut specs = Vec::new();
    for (file, document, origins, warnings) in documents {
        let shared_part = document.get("openapi").is_none()
            && canonical(&file).is_some_and(|path| referenced.contains(&path));
        if shared_part {
            continue;
        }
        let converted = document.get(crate::swagger2::CONVERTED_KEY).is_some();
        let broken = check_references(&file, &document, &origins);
        if !broken.is_empty() {
            errors.extend(crate::swagger2::locate_in_conversion(
                &file, converted, broken,
            ));
            continue;
        }
        match compile_spec(&file, document) {
            Ok(mut spec) => {
                spec.warnings.splice(0..0, warnings);
                specs.push(spec);
            }
            Err(found) => {
                errors.extend(crate::swagger2::locate_in_conversion(
                    &file, converted, found,
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        // A part shared by two specs, or a shared file that is also loaded on its own, can give
        // the same error twice.
        let mut seen = HashSet::new();
        errors.retain(|error| seen.insert((error.kind, error.to_string())));
        Err(LoadReport { errors })
    }
}

/// Whether `path` ends in `.yaml`, `.yml` or `.json`, as the spec files a folder holds do.
pub fn is_spec_file(path: &Path) -> bool {
    path.extension()
        .and_then(|ending| ending.to_str())
        .is_some_and(|ending| SPEC_EXTENSIONS.contains(&ending))
}

fn canonical(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}
