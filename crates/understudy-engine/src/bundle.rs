//! Bundling: every `$ref` to another file is copied into the referring document, so that the rest of
//! the engine only ever sees local references (`#/...`). Only files inside the folder of the spec
//! being loaded are read (after `..` and symbolic links are resolved), unless the caller allows
//! more.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::document::read_document;
use crate::json_schema::{Dialect, escape, fragment_encoded, resolve_pointer, unescape};
use crate::load_error::{ErrorKind, LoadError};
use crate::references::Context;
use crate::schema_ids::Names;

/// Where bundled copies of other files' parts live in the root document.
pub(crate) const BUNDLE_KEY: &str = "x-understudy-bundled";

/// Replaces every reference to another file in `document` (read from `path`) by a local one,
/// and (OpenAPI 3.1 and later) every reference to an `$id` that another file of the description
/// gives, through `names`, what [`crate::schema_ids`] found in `document`: a file that gives it
/// is read when a reference names it, else when `beside` (the `$id`s of the files loaded with
/// `path`, each with its canonical file) has it. References that leave the folder of `path` are
/// refused unless `allow_outside`. A document that comes back with errors is left half-bundled
/// and must not be compiled.
pub(crate) fn bundle_external_refs(
    path: &Path,
    document: &mut Value,
    allow_outside: bool,
    names: Names,
    beside: &HashMap<String, PathBuf>,
) -> Bundle {
    if !has_external_ref(document, Context::Keywords) {
        return Bundle::default();
    }
    let root = std::fs::canonicalize(path).unwrap_or_else(|_| normalise(path));
    let folder = root.parent().map(Path::to_owned).unwrap_or_default();
    let mut bundler = Bundler {
        root_display: path.to_owned(),
        root: root.clone(),
        folder,
        allow_outside,
        files: HashMap::new(),
        canonical: HashMap::new(),
        unreadable: HashSet::new(),
        names: HashMap::new(),
        used: HashSet::new(),
        queue: VecDeque::new(),
        bundle: Bundle::default(),
        swagger2: document.get(crate::swagger2::CONVERTED_KEY).is_some(),
        modern: Dialect::of(document) == Dialect::JsonSchema202012,
        ids: HashMap::new(),
        anchors: HashMap::new(),
        elsewhere: HashMap::new(),
        refused: HashMap::new(),
        copying: None,
        deferred: Vec::new(),
    };
    bundler.know(&root, path, names);
    let mut pointer = String::new();
    bundler.rewrite(document, &root, path, &mut pointer, Context::Keywords);
    let mut bundled = Map::new();
    loop {
        while let Some((name, file, fragment)) = bundler.queue.pop_front() {
            let Some((display, source)) = bundler.files.get(&file) else {
                continue;
            };
            let display = display.clone();
            let Some(mut copy) = resolve_pointer(source, &fragment).cloned() else {
                continue;
            };
            // Where the copy is in its file, as a JSON pointer (the fragment may be
            // percent-encoded), so that its references are found where `schema_ids` noted them.
            let mut pointer = if source.pointer(&fragment).is_some() {
                fragment.clone()
            } else {
                crate::validate::percent_decode(&fragment).into_owned()
            };
            bundler.copying = Some((name.clone(), pointer.len()));
            bundler.rewrite(&mut copy, &file, &display, &mut pointer, Context::Keywords);
            bundled.insert(name, copy);
        }
        // References to `$id`s, once every file the references name has been read: those found
        // name parts that may name further files and `$id`s.
        let waiting = std::mem::take(&mut bundler.deferred);
        if waiting.is_empty() {
            break;
        }
        let mut followed = false;
        for by_id in waiting {
            let found = bundler.find(&by_id.uri).or_else(|| {
                let resource = by_id
                    .uri
                    .split_once('#')
                    .map_or(&*by_id.uri, |(uri, _)| uri);
                let file = beside.get(resource)?;
                if *file == bundler.root
                    || !(bundler.allow_outside || file.starts_with(&bundler.folder))
                {
                    return None;
                }
                bundler.read(file, &by_id.file, &by_id.at);
                bundler.find(&by_id.uri)
            });
            let Some((file, fragment)) = found else {
                bundler.deferred.push(by_id);
                continue;
            };
            followed = true;
            let Some(local) = bundler.part(file, &fragment, &by_id.written, &by_id.file, &by_id.at)
            else {
                continue;
            };
            let holder = match &by_id.place.0 {
                None => document.pointer_mut(&by_id.place.1),
                Some(name) => bundled
                    .get_mut(name)
                    .and_then(|part| part.pointer_mut(&by_id.place.1)),
            };
            if let Some(Value::String(reference)) = holder {
                *reference = local;
            }
        }
        if !followed {
            for by_id in std::mem::take(&mut bundler.deferred) {
                let remote = if by_id.uri.contains("://") {
                    " (understudy reads local files only)"
                } else {
                    ""
                };
                let reason = format!(
                    "`{}` names `{}`, which no `$id` gives in the document or the files it \
                     references{remote}",
                    by_id.written, by_id.uri
                );
                bundler.error(&by_id.file, &by_id.at, reason);
            }
            break;
        }
    }
    if let Value::Object(object) = document {
        object.insert(BUNDLE_KEY.into(), Value::Object(bundled));
    }
    let mut bundle = bundler.bundle;
    bundle.files = bundler.files.into_keys().collect();
    bundle
}

/// What bundling one document did.
#[derive(Debug, Default)]
pub(crate) struct Bundle {
    /// The other files it read, canonical.
    pub files: Vec<PathBuf>,
    /// Where each bundled part was copied from.
    pub origins: Origins,
    /// References it could not follow: to files that cannot be read or that leave the spec's
    /// folder, or to nothing in another file. Each file is reported once.
    pub errors: Vec<LoadError>,
    /// What converting a Swagger 2.0 file it read left out ([`crate::swagger2`]).
    pub warnings: Vec<LoadError>,
}

/// Where the parts bundled into a document were copied from, so that a problem found in a part is
/// reported in the file and at the pointer it was written.
#[derive(Debug, Default, Clone)]
pub(crate) struct Origins {
    /// Name under [`BUNDLE_KEY`] → (file, pointer in it).
    parts: HashMap<String, (PathBuf, String)>,
}

impl Origins {
    /// The file and pointer that `pointer` in the bundled document read from `file` was written at.
    pub(crate) fn locate(&self, file: &Path, pointer: &str) -> (PathBuf, String) {
        if let Some(rest) = pointer
            .strip_prefix('/')
            .and_then(|rest| rest.strip_prefix(BUNDLE_KEY))
            .and_then(|rest| rest.strip_prefix('/'))
        {
            let (name, tail) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
            if let Some((origin, at)) = self.parts.get(&unescape(name)) {
                return (origin.clone(), format!("{at}{tail}"));
            }
        }
        (file.to_owned(), pointer.to_owned())
    }
}

fn has_external_ref(value: &Value, context: Context) -> bool {
    match value {
        Value::Object(object) => object.iter().any(|(key, child)| {
            if key == "$ref"
                && let Value::String(reference) = child
            {
                return !reference.starts_with('#');
            }
            context
                .child(key, child)
                .is_some_and(|inner| has_external_ref(child, inner))
        }),
        Value::Array(items) => items.iter().any(|item| has_external_ref(item, context)),
        _ => false,
    }
}

struct Bundler {
    /// The root file as the caller named it, for errors in it.
    root_display: PathBuf,
    /// The root file, canonical.
    root: PathBuf,
    /// The folder references must stay in, canonical.
    folder: PathBuf,
    allow_outside: bool,
    /// Files read: canonical path → (path for errors, document).
    files: HashMap<PathBuf, (PathBuf, Value)>,
    /// Each file as references name it (normalised) → canonical, once it has been allowed.
    canonical: HashMap<PathBuf, PathBuf>,
    /// Files already reported as unreadable or outside the folder (as the reference named them).
    unreadable: HashSet<PathBuf>,
    /// (file, fragment) → name under [`BUNDLE_KEY`]; assigned before a copy is rewritten, so
    /// cycles end.
    names: HashMap<(PathBuf, String), String>,
    used: HashSet<String>,
    /// Parts named but not yet copied: (name, canonical file, fragment).
    queue: VecDeque<(String, PathBuf, String)>,
    bundle: Bundle,
    /// Whether the root document was converted from Swagger 2.0, so that the files it references
    /// are read as 2.0 parts too.
    swagger2: bool,
    /// Whether the root document is OpenAPI 3.1 or later, so that the `$id`- and `$anchor`-based
    /// references of the files it references are rewritten into pointers as its own were
    /// ([`crate::schema_ids`]).
    modern: bool,
    /// The `$id`s of the files read (the root's included): URI → (canonical file, JSON pointer).
    ids: HashMap<String, (PathBuf, String)>,
    /// The anchors inside those `$id`s: `uri#name` → (canonical file, JSON pointer).
    anchors: HashMap<String, (PathBuf, String)>,
    /// Per file read, the `$ref`s naming an `$id` it does not give ([`Names::elsewhere`]).
    elsewhere: HashMap<PathBuf, HashMap<String, String>>,
    /// Per file read, the `$ref`s `schema_ids` refused, which are no file names.
    refused: HashMap<PathBuf, HashSet<String>>,
    /// While a copied part is rewritten: its name under [`BUNDLE_KEY`], and the length of the
    /// pointer in its file where it starts (`None` for the root document itself).
    copying: Option<(String, usize)>,
    /// References to `$id`s, followed once every file the references name has been read.
    deferred: Vec<ById>,
}

/// A `$ref` naming an `$id` given by another file, or by none.
struct ById {
    /// The `$id`'s URI, absolute, with the reference's fragment.
    uri: String,
    /// The reference as written.
    written: String,
    /// The file it is written in (for errors) and its pointer there (its `…/$ref`).
    file: PathBuf,
    at: String,
    /// Where it is in the bundled document: the part under [`BUNDLE_KEY`] (`None` for the root
    /// document) and the pointer in it.
    place: (Option<String>, String),
}

impl Bundler {
    /// Rewrites the references inside `value`, which was read from `file` (canonical; `display`
    /// for errors) at `pointer`.
    fn rewrite(
        &mut self,
        value: &mut Value,
        file: &Path,
        display: &Path,
        pointer: &mut String,
        context: Context,
    ) {
        let length = pointer.len();
        match value {
            Value::Object(object) => {
                for (key, child) in object.iter_mut() {
                    pointer.push('/');
                    pointer.push_str(&escape(key));
                    if key == "$ref"
                        && let Value::String(reference) = child
                    {
                        if let Some(uri) = self
                            .elsewhere
                            .get(file)
                            .and_then(|elsewhere| elsewhere.get(pointer.as_str()))
                        {
                            let (part, start) = self
                                .copying
                                .as_ref()
                                .map_or((None, 0), |(name, start)| (Some(name.clone()), *start));
                            self.deferred.push(ById {
                                uri: uri.clone(),
                                written: reference.clone(),
                                file: display.to_owned(),
                                at: pointer.clone(),
                                place: (part, pointer.get(start..).unwrap_or("").to_owned()),
                            });
                        } else if !self
                            .refused
                            .get(file)
                            .is_some_and(|refused| refused.contains(pointer.as_str()))
                            && let Some(local) = self.localise(reference, file, display, pointer)
                        {
                            *reference = local;
                        }
                    } else if let Some(inner) = context.child(key, child) {
                        self.rewrite(child, file, display, pointer, inner);
                    }
                    pointer.truncate(length);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    pointer.push('/');
                    pointer.push_str(itoa::Buffer::new().format(index));
                    self.rewrite(item, file, display, pointer, context);
                    pointer.truncate(length);
                }
            }
            _ => {}
        }
    }

    /// The local reference that replaces `reference` (found in `file` at `pointer`), or `None` if
    /// it is already local to the root document or cannot be followed (then an error is kept).
    fn localise(
        &mut self,
        reference: &str,
        file: &Path,
        display: &Path,
        pointer: &str,
    ) -> Option<String> {
        let (file_part, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let target_file = if file_part.is_empty() {
            if file == self.root {
                return None;
            }
            file.to_owned()
        } else {
            match self.target_file(file, file_part) {
                Ok(target) => target,
                Err(Some(reason)) => {
                    self.error(display, pointer, format!("`{reference}` {reason}"));
                    return None;
                }
                Err(None) => return None,
            }
        };
        self.part(target_file, fragment, reference, display, pointer)
    }

    /// The local reference to the part at `fragment` in `target_file` (canonical), which
    /// `reference` (found in `display` at `pointer`) names, or `None` if it names nothing (then
    /// an error is kept).
    fn part(
        &mut self,
        target_file: PathBuf,
        fragment: &str,
        reference: &str,
        display: &Path,
        pointer: &str,
    ) -> Option<String> {
        if target_file == self.root {
            return Some(format!("#{fragment}"));
        }
        self.read(&target_file, display, pointer);
        let key = (target_file, fragment.to_owned());
        if let Some(name) = self.names.get(&key) {
            return Some(format!("#/{BUNDLE_KEY}/{}", escape(name)));
        }
        let (target_display, source) = self.files.get(&key.0)?;
        if resolve_pointer(source, fragment).is_none() {
            let reason = format!(
                "`{reference}` points at nothing in {}",
                target_display.display()
            );
            self.error(display, pointer, reason);
            return None;
        }
        let origin = (target_display.clone(), fragment.to_owned());
        let stem = key
            .0
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("file");
        let leaf = fragment.rsplit('/').next().unwrap_or("");
        let mut name = format!("{stem}.{leaf}");
        while self.used.contains(&name) {
            name.push('_');
        }
        self.used.insert(name.clone());
        self.bundle.origins.parts.insert(name.clone(), origin);
        self.queue
            .push_back((name.clone(), key.0.clone(), key.1.clone()));
        self.names.insert(key, name.clone());
        Some(format!("#/{BUNDLE_KEY}/{}", escape(&name)))
    }

    /// The canonical file that `file_part` (written in `file`) names, or why it cannot be followed
    /// (`None` once the file has been reported).
    fn target_file(&mut self, file: &Path, file_part: &str) -> Result<PathBuf, Option<String>> {
        if file_part.contains("://") {
            return Err(Some(
                "is a remote reference: understudy reads local files only".into(),
            ));
        }
        let base = file.parent().unwrap_or(Path::new("."));
        let named = normalise(&base.join(file_part));
        if self.unreadable.contains(&named) {
            return Err(None);
        }
        if !self.allow_outside && !named.starts_with(&self.folder) {
            self.unreadable.insert(named);
            return Err(Some(self.outside()));
        }
        if let Some(canonical) = self.canonical.get(&named) {
            return Ok(canonical.clone());
        }
        let canonical = match std::fs::canonicalize(&named) {
            Ok(canonical) => canonical,
            Err(error) => {
                let shown = self.display(&named);
                self.unreadable.insert(named);
                return Err(Some(format!(
                    "cannot be loaded: {}: {error}",
                    shown.display()
                )));
            }
        };
        if !self.allow_outside && !canonical.starts_with(&self.folder) {
            self.unreadable.insert(named);
            return Err(Some(format!(
                "{} (through a symbolic link)",
                self.outside()
            )));
        }
        self.canonical.insert(named, canonical.clone());
        Ok(canonical)
    }

    fn outside(&self) -> String {
        format!(
            "leaves the folder of {} ({}); pass --allow-ref-outside to follow it",
            self.root_display.display(),
            self.folder.display()
        )
    }

    /// Reads `target` (canonical) once; a file that does not parse is reported as it is.
    fn read(&mut self, target: &Path, display: &Path, pointer: &str) {
        if self.files.contains_key(target) || self.unreadable.contains(target) {
            return;
        }
        let shown = self.display(target);
        match read_document(target) {
            Ok(mut document) => {
                // A 2.0 file's parts move when it is converted, as the references to them did.
                if self.swagger2 {
                    let warnings = crate::swagger2::convert_parts(&shown, &mut document);
                    self.bundle.warnings.extend(warnings);
                }
                if self.modern {
                    let localised = crate::schema_ids::localise(&shown, &mut document);
                    self.bundle.warnings.extend(localised.warnings);
                    self.bundle.errors.extend(localised.errors);
                    self.know(target, &shown, localised.names);
                }
                self.files.insert(target.to_owned(), (shown, document));
            }
            Err(mut error) => {
                self.unreadable.insert(target.to_owned());
                if error.kind == ErrorKind::Io {
                    error.file = display.to_owned();
                    error.location = pointer.to_owned();
                    error.kind = ErrorKind::Reference;
                    error.reason =
                        format!("{} cannot be loaded: {}", shown.display(), error.reason);
                } else {
                    error.file = shown;
                }
                self.bundle.errors.push(error);
            }
        }
    }

    /// Notes the `$id`s and anchors `file` (canonical; `display` for warnings) gives, and the
    /// references in it to those it does not. An `$id` another file gave first keeps naming
    /// that file's schema.
    fn know(&mut self, file: &Path, display: &Path, names: Names) {
        let mut ids: Vec<(String, String)> = names.ids.into_iter().collect();
        ids.sort();
        for (uri, at) in ids {
            match self.ids.get(&uri) {
                Some((first, _)) if first != file => {
                    let shown = self.display(first);
                    self.bundle.warnings.push(LoadError::at(
                        display,
                        format!("{at}/$id"),
                        ErrorKind::Reference,
                        format!(
                            "`{uri}` is the `$id` of a schema in {} too; references to it name that one",
                            shown.display()
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    self.ids.insert(uri, (file.to_owned(), at));
                }
            }
        }
        for (key, at) in names.anchors {
            self.anchors
                .entry(key)
                .or_insert_with(|| (file.to_owned(), at));
        }
        if !names.elsewhere.is_empty() {
            self.elsewhere.insert(file.to_owned(), names.elsewhere);
        }
        if !names.refused.is_empty() {
            self.refused.insert(file.to_owned(), names.refused);
        }
    }

    /// The file and the fragment in it that `uri` (absolute, with a fragment or none) names
    /// through an `$id` of a file read, if one gives it.
    fn find(&self, uri: &str) -> Option<(PathBuf, String)> {
        let (resource, fragment) = uri.split_once('#').unwrap_or((uri, ""));
        if fragment.is_empty() || fragment.starts_with('/') {
            let (file, at) = self.ids.get(resource)?;
            Some((file.clone(), format!("{}{fragment}", fragment_encoded(at))))
        } else {
            let (file, at) = self.anchors.get(uri)?;
            Some((file.clone(), fragment_encoded(at)))
        }
    }

    /// The path to show for a file: under the root's folder as the caller named it, else as is.
    fn display(&self, path: &Path) -> PathBuf {
        match path.strip_prefix(&self.folder) {
            Ok(inside) => self
                .root_display
                .parent()
                .map_or_else(|| inside.to_owned(), |parent| parent.join(inside)),
            Err(_) => path.to_owned(),
        }
    }

    fn error(&mut self, file: &Path, pointer: &str, reason: String) {
        self.bundle
            .errors
            .push(LoadError::at(file, pointer, ErrorKind::Reference, reason));
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
