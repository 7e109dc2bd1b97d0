//! JSON Schema 2020-12's own ways of naming a schema, in OpenAPI 3.1 and 3.2 documents: `$id` (a
//! schema resource with a URI of its own, against which the references inside it resolve, so that
//! `"$ref": "address"` or `"$ref": "#/$defs/street"` there means a schema of that resource) and
//! `$anchor` (a plain name, `"$ref": "#user"`). Right after a document is read, and before it is
//! bundled, each such reference is rewritten in place into the local JSON pointer it names
//! (`#/components/schemas/Person/$defs/street`): bundling, the reference checks, the translation
//! into validators and the generator read JSON pointers only, and a schema named by its `$id` and
//! by its pointer is one shared target. 3.0 documents have neither keyword and are left alone.
//!
//! A discriminator's `mapping` values and `defaultMapping` that are such references are
//! rewritten the same way, so that they name the very pointers the branches' `$ref`s do.
//!
//! `$dynamicRef` is read as a `$ref` to the schema it names where it is written (its
//! `$dynamicAnchor`, which is also a plain anchor): the result dynamic scope would give whenever
//! the document has one `$dynamicAnchor` of that name, as a generic schema with its default
//! usually does. With several, it is a warning: the dynamic scope is not followed.

use std::collections::HashMap;
use std::path::Path;

use fluent_uri::{Uri, UriRef};
use serde_json::{Map, Value};

use crate::json_schema::{Dialect, escape, fragment_encoded, resolve_pointer};
use crate::load_error::{ErrorKind, LoadError};
use crate::references::{Context, Visitor, walk};

/// Rewrites the `$id`- and `$anchor`-based references of `document` (read from `file`) into
/// local JSON pointers, if it is an OpenAPI 3.1 or 3.2 document; a 3.0 one is left as it is. A
/// reference that names nothing is an error at its `$ref`; a document that comes back with errors
/// must not be compiled.
pub(crate) fn localise_schema_ids(file: &Path, document: &mut Value) -> Localised {
    if Dialect::of(document) == Dialect::JsonSchema202012 {
        localise(file, document)
    } else {
        Localised::default()
    }
}

/// What rewriting one document's references found wrong or odd.
#[derive(Debug, Default)]
pub(crate) struct Localised {
    /// References that name nothing: each at its `$ref`.
    pub errors: Vec<LoadError>,
    /// What loads but is not read as JSON Schema says (a `$dynamicRef` read statically, an `$id`
    /// given twice, pointers and anchors that name nothing in their own resource read in the
    /// document's).
    pub warnings: Vec<LoadError>,
    /// What other files of the same description may name in this one, and what this one names
    /// in them: bundling reads it ([`crate::bundle`]).
    pub names: Names,
}

/// The schema resources a document gives and those it names but does not give, for bundling
/// to match across the files of one description.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// The absolute URI of each `$id` (without fragment) → the JSON pointer of its schema.
    pub ids: HashMap<String, String>,
    /// `uri#name` of each `$anchor` and `$dynamicAnchor` inside an `$id`'s resource → its JSON
    /// pointer.
    pub anchors: HashMap<String, String>,
    /// The JSON pointer of each `$ref` (its `…/$ref`) naming a URI that no `$id` of the document
    /// gives → that URI, absolute, with its fragment: another file's `$id`, or nothing.
    pub elsewhere: HashMap<String, String>,
    /// The JSON pointers of the `$ref`s refused (in [`Localised::errors`]), which bundling
    /// must not read as file names.
    pub refused: std::collections::HashSet<String>,
}

/// The URIs of the `$id`s `document` (read from `file`) gives, as [`localise`] reads them,
/// without changing it: what a document beside it may name.
pub(crate) fn given_ids(file: &Path, document: &Value) -> Vec<String> {
    let mut index = Index::of(file, document);
    index.resources.remove(&index.bases[0]);
    index.resources.into_keys().collect()
}

/// [`localise_schema_ids`] whatever the document's `openapi` field says: for a file bundled into
/// an OpenAPI 3.1 or 3.2 document.
pub(crate) fn localise(file: &Path, document: &mut Value) -> Localised {
    let mut index = Index::of(file, document);
    let mut rewrites = Vec::new();
    let mut from_root: Option<(usize, String)> = None;
    let sites = std::mem::take(&mut index.sites);
    for site in &sites {
        let at = format!("{}/{}", site.holder, escape(&site.slot));
        match index.resolve(document, site) {
            Ok(Target::Unchanged) => {}
            Ok(Target::Elsewhere(uri)) => {
                index.found.names.elsewhere.insert(at, uri);
            }
            Ok(Target::Local(reference)) => rewrites.push((site, reference)),
            Ok(Target::FromRoot(reference)) => {
                let first = from_root.get_or_insert((0, at));
                first.0 += 1;
                rewrites.push((site, reference));
            }
            // A mapping value that names nothing is left to the translation, which says so.
            Err(_) if site.kind == Kind::Mapping => {}
            Err(reason) => {
                index.found.names.refused.insert(at.clone());
                index
                    .found
                    .errors
                    .push(LoadError::at(file, at, ErrorKind::Reference, reason))
            }
        }
    }
    if let Some((count, at)) = from_root {
        index.found.warnings.push(LoadError::at(
            file,
            at,
            ErrorKind::Reference,
            format!(
                "{count} reference(s) name nothing where JSON Schema looks (in the schema of \
                 the nearest `$id`; for an anchor beside an `$id`, in that `$id`'s); read as \
                 naming the one schema of the document that fits"
            ),
        ));
    }
    let root = format!("{}#", index.bases[0]);
    index.found.names.ids = std::mem::take(&mut index.resources);
    index.found.names.ids.remove(&index.bases[0]);
    index.found.names.anchors = std::mem::take(&mut index.anchors);
    index
        .found
        .names
        .anchors
        .retain(|key, _| !key.starts_with(&root));
    let mut found = index.found;
    for (site, reference) in rewrites {
        let Some(Value::Object(holder)) = document.pointer_mut(&site.holder) else {
            continue;
        };
        match site.kind {
            Kind::Ref | Kind::Mapping => {
                holder.insert(site.slot.clone(), Value::String(reference));
            }
            Kind::DynamicRef if holder.contains_key("$ref") => {
                found.warnings.push(LoadError::at(
                    file,
                    format!("{}/$dynamicRef", site.holder),
                    ErrorKind::Reference,
                    "a `$dynamicRef` beside a `$ref` is not followed",
                ));
            }
            Kind::DynamicRef => {
                let renamed: Map<String, Value> = std::mem::take(holder)
                    .into_iter()
                    .map(|(key, value)| {
                        if key == "$dynamicRef" {
                            ("$ref".to_owned(), Value::String(reference.clone()))
                        } else {
                            (key, value)
                        }
                    })
                    .collect();
                *holder = renamed;
            }
        }
    }
    found
}

/// The schema resources, anchors and references of one document.
struct Index<'a> {
    file: &'a Path,
    /// Base URIs, absolute and normalised, without fragment: the document's first, then each
    /// `$id`'s.
    bases: Vec<String>,
    /// Absolute URI of each schema resource (the document, each `$id`) → its JSON pointer.
    resources: HashMap<String, String>,
    /// `resource#name` of each `$anchor` and `$dynamicAnchor` → its JSON pointer.
    anchors: HashMap<String, String>,
    /// How many `$dynamicAnchor`s give each name, across the document.
    dynamic_anchors: HashMap<String, usize>,
    sites: Vec<Site>,
    found: Localised,
}

/// A reference that may need rewriting.
struct Site {
    /// The JSON pointer of the object holding it.
    holder: String,
    /// Its key in that object.
    slot: String,
    kind: Kind,
    reference: String,
    /// Its base URI, an index into [`Index::bases`].
    base: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ref,
    DynamicRef,
    /// A discriminator's `mapping` value or `defaultMapping`: a schema's name, or a reference.
    Mapping,
}

/// What a reference becomes.
enum Target {
    /// Left for bundling (another file, a remote URI) or already a pointer.
    Unchanged,
    /// The local reference naming the same schema.
    Local(String),
    /// A pointer or anchor that names nothing in its `$id`'s resource, read in the document's.
    FromRoot(String),
    /// A URI (absolute, with its fragment) that no `$id` of the document gives: bundling looks
    /// for it in the other files of the description.
    Elsewhere(String),
}

impl<'v> Visitor<'v> for Index<'_> {
    /// The base URI, an index into [`Index::bases`].
    type Scope = usize;

    fn object(&mut self, object: &'v Value, context: Context, pointer: &str, base: usize) -> usize {
        if context != Context::Keywords {
            return base;
        }
        let mut base = base;
        if let Some(Value::String(id)) = object.get("$id") {
            base = self.identify(id, base, pointer);
        }
        if let Some(Value::String(name)) = object.get("$anchor") {
            self.anchor(name, base, pointer);
        }
        if let Some(Value::String(name)) = object.get("$dynamicAnchor") {
            self.anchor(name, base, pointer);
            *self.dynamic_anchors.entry(name.clone()).or_insert(0) += 1;
        }
        for (kind, key) in [(Kind::Ref, "$ref"), (Kind::DynamicRef, "$dynamicRef")] {
            if let Some(Value::String(reference)) = object.get(key)
                && (kind == Kind::DynamicRef
                    || base != 0
                    || !(reference == "#" || reference.starts_with("#/")))
            {
                self.site(pointer.to_owned(), key, kind, reference, base);
            }
        }
        if let Some(Value::Object(discriminator)) = object.get("discriminator") {
            self.mappings(discriminator, base, pointer);
        }
        base
    }
}

impl<'a> Index<'a> {
    /// The index of `document`, read from `file`: its resources and anchors, and the
    /// references that may need rewriting.
    fn of(file: &'a Path, document: &Value) -> Self {
        let mut index = Index {
            file,
            bases: vec![document_base(file, document)],
            resources: HashMap::new(),
            anchors: HashMap::new(),
            dynamic_anchors: HashMap::new(),
            sites: Vec::new(),
            found: Localised::default(),
        };
        index
            .resources
            .insert(index.bases[0].clone(), String::new());
        walk(
            document,
            Context::Keywords,
            0,
            &mut String::new(),
            &mut index,
        );
        index
    }

    fn site(&mut self, holder: String, slot: &str, kind: Kind, reference: &str, base: usize) {
        self.sites.push(Site {
            holder,
            slot: slot.to_owned(),
            kind,
            reference: reference.to_owned(),
            base,
        });
    }

    /// Notes the values of a discriminator (in the schema at `pointer`) that are references
    /// rather than schema names or JSON pointers: `"#dog"`, `"https://example.com/schemas/dog"`.
    fn mappings(&mut self, discriminator: &Map<String, Value>, base: usize, pointer: &str) {
        // A name has none of these; a pointer is the document's unless inside an `$id`.
        let is_reference = |value: &str| {
            value.contains([':', '/', '#']) && (base != 0 || !value.starts_with("#/"))
        };
        let at = format!("{pointer}/discriminator");
        if let Some(Value::Object(mapping)) = discriminator.get("mapping") {
            for (name, value) in mapping {
                if let Value::String(value) = value
                    && is_reference(value)
                {
                    self.site(format!("{at}/mapping"), name, Kind::Mapping, value, base);
                }
            }
        }
        if let Some(Value::String(value)) = discriminator.get("defaultMapping")
            && is_reference(value)
        {
            self.site(at, "defaultMapping", Kind::Mapping, value, base);
        }
    }

    /// Records the resource an `$id` found at `pointer` names, and gives the base URI inside it.
    fn identify(&mut self, id: &str, base: usize, pointer: &str) -> usize {
        let (resource, fragment) = id.split_once('#').unwrap_or((id, ""));
        if resource.is_empty() {
            // Draft 7's `"$id": "#name"` is 2020-12's `$anchor`.
            if !fragment.is_empty() {
                self.anchor(fragment, base, pointer);
            }
            return base;
        }
        let Some(uri) = absolute(resource, &self.bases[base]) else {
            self.found.warnings.push(LoadError::at(
                self.file,
                format!("{pointer}/$id"),
                ErrorKind::Reference,
                format!("`{id}` is not a URI reference; the `$id` is ignored"),
            ));
            return base;
        };
        if let Some(first) = self.resources.get(&uri) {
            self.found.warnings.push(LoadError::at(
                self.file,
                format!("{pointer}/$id"),
                ErrorKind::Reference,
                format!(
                    "`{id}` is the `$id` of the schema at `{first}` too; references to it name that one"
                ),
            ));
        } else {
            self.resources.insert(uri.clone(), pointer.to_owned());
        }
        self.bases.push(uri);
        let inner = self.bases.len() - 1;
        if !fragment.is_empty() {
            self.anchor(fragment, inner, pointer);
        }
        inner
    }

    fn anchor(&mut self, name: &str, base: usize, pointer: &str) {
        let key = format!("{}#{name}", self.bases[base]);
        self.anchors
            .entry(key)
            .or_insert_with(|| pointer.to_owned());
    }

    /// The local reference `site` becomes, or why it names nothing.
    fn resolve(&mut self, document: &Value, site: &Site) -> Result<Target, String> {
        let written = &site.reference;
        let (resource, fragment) = match written.strip_prefix('#') {
            Some(fragment) => (self.bases[site.base].clone(), fragment.to_owned()),
            None => {
                let Some(uri) = absolute(written, &self.bases[site.base]) else {
                    if site.base == 0 && site.kind != Kind::DynamicRef {
                        // A file name a URI cannot hold as written (`my schemas.yaml`).
                        return Ok(Target::Unchanged);
                    }
                    return Err(format!("`{written}` is not a URI reference"));
                };
                match uri.split_once('#') {
                    Some((resource, fragment)) => (resource.to_owned(), fragment.to_owned()),
                    None => (uri, String::new()),
                }
            }
        };
        let Some(at) = self.resources.get(&resource) else {
            let path = self.file_path(&resource);
            let uri = || {
                if fragment.is_empty() {
                    resource.clone()
                } else {
                    format!("{resource}#{fragment}")
                }
            };
            if site.base == 0 && site.kind != Kind::DynamicRef {
                // A file (bundling follows it), else the `$id` of another file's schema, or a
                // remote URI.
                return Ok(match (path, site.kind) {
                    (None, Kind::Ref) => Target::Elsewhere(uri()),
                    _ => Target::Unchanged,
                });
            }
            if let Some(path) = path {
                let mut local = path;
                if !fragment.is_empty() {
                    local.push('#');
                    local.push_str(&fragment);
                }
                return Ok(Target::Local(local));
            }
            if site.kind == Kind::Ref {
                return Ok(Target::Elsewhere(uri()));
            }
            return Err(format!(
                "`{written}` names `{resource}`, which no `$id` in the document gives"
            ));
        };
        let target = if fragment.is_empty() {
            format!("#{}", fragment_encoded(at))
        } else if fragment.starts_with('/') {
            let inside = format!("#{}{fragment}", fragment_encoded(at));
            if resolve_pointer(document, &inside).is_some() {
                inside
            } else if !at.is_empty() && resolve_pointer(document, &fragment).is_some() {
                return Ok(Target::FromRoot(format!("#{fragment}")));
            } else if at.is_empty() {
                return Err(format!("`{written}` points at nothing in the document"));
            } else {
                return Err(format!(
                    "`{written}` points at nothing in the schema `{resource}` (at `{at}`)"
                ));
            }
        } else {
            let root = &self.bases[0];
            match self.anchors.get(&format!("{resource}#{fragment}")) {
                Some(anchor) => format!("#{}", fragment_encoded(anchor)),
                None if at.is_empty() => match self.only_anchor(&fragment) {
                    Some(anchor) => {
                        return Ok(Target::FromRoot(format!("#{}", fragment_encoded(anchor))));
                    }
                    None => {
                        return Err(format!(
                            "`{written}` names no `$anchor` `{fragment}` in the document"
                        ));
                    }
                },
                None => match self.anchors.get(&format!("{root}#{fragment}")) {
                    Some(anchor) => {
                        return Ok(Target::FromRoot(format!("#{}", fragment_encoded(anchor))));
                    }
                    None => {
                        return Err(format!(
                            "`{written}` names no `$anchor` `{fragment}` in the schema `{resource}` (at `{at}`) nor in the document"
                        ));
                    }
                },
            }
        };
        if site.kind == Kind::DynamicRef
            && self
                .dynamic_anchors
                .get(fragment.as_str())
                .copied()
                .unwrap_or(0)
                > 1
        {
            self.found.warnings.push(LoadError::at(
                self.file,
                format!("{}/$dynamicRef", site.holder),
                ErrorKind::Reference,
                format!(
                    "`{written}` is read as a `$ref` to the schema it names here; the dynamic \
                     scope, where {} `$dynamicAnchor`s say `{fragment}`, is not followed",
                    self.dynamic_anchors
                        .get(fragment.as_str())
                        .copied()
                        .unwrap_or(0)
                ),
            ));
        }
        Ok(Target::Local(target))
    }

    /// The pointer of the one anchor called `name` in the document, whatever its resource, if
    /// only one is.
    fn only_anchor(&self, name: &str) -> Option<&String> {
        let mut named = self
            .anchors
            .iter()
            .filter(|(key, _)| key.rsplit_once('#').is_some_and(|(_, own)| own == name));
        let (_, first) = named.next()?;
        named.next().is_none().then_some(first)
    }

    /// The path, relative to the document's folder, of a URI under the document's own base: a
    /// file a reference inside an `$id` names.
    fn file_path(&self, uri: &str) -> Option<String> {
        let base = &self.bases[0];
        let folder = &base[..base.rfind('/')? + 1];
        let path = uri.strip_prefix(folder)?;
        (!path.is_empty() && !path.contains(['?', '#']))
            .then(|| crate::validate::percent_decode(path).into_owned())
    }
}

/// The document's base URI: its `$self` (OpenAPI 3.2) when that is an absolute URI, else one that
/// stands for its file (`understudy:/api.yaml`), so that relative `$id`s resolve.
fn document_base(file: &Path, document: &Value) -> String {
    if let Some(Value::String(own)) = document.get("$self")
        && let Ok(uri) = Uri::parse(own.as_str())
    {
        return uri.strip_fragment().normalize().as_str().to_owned();
    }
    let name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut base = String::from("understudy:/");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            base.push(char::from(byte));
        } else {
            base.push_str(&format!("%{byte:02X}"));
        }
    }
    base
}

/// `reference` resolved against `base` (absolute, normalised) and normalised, or `None` if it is
/// not a URI reference.
fn absolute(reference: &str, base: &str) -> Option<String> {
    let base = Uri::parse(base).ok()?;
    let reference = UriRef::parse(reference).ok()?;
    let resolved = reference.resolve_against(&base).ok()?;
    Some(resolved.normalize().as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn localised(mut document: Value) -> (Value, Localised) {
        let found = localise_schema_ids(Path::new("api.yaml"), &mut document);
        (document, found)
    }

    fn document(schemas: Value) -> Value {
        json!({"openapi": "3.1.0", "components": {"schemas": schemas}})
    }

    #[test]
    fn anchors_ids_and_pointers_inside_ids_become_local_pointers() {
        let (document, found) = localised(document(json!({
            "User": {"$anchor": "user", "type": "object"},
            "Person": {
                "$id": "https://example.com/schemas/person",
                "properties": {
                    "home": {"$ref": "address"},
                    "street": {"$ref": "#/$defs/street"},
                    "named": {"$ref": "#name"}
                },
                "$defs": {
                    "street": {"type": "string"},
                    "name": {"$anchor": "name", "type": "string"}
                }
            },
            "Address": {"$id": "https://example.com/schemas/address", "type": "object"},
            "Uses": {"properties": {
                "who": {"$ref": "https://example.com/schemas/person"},
                "street": {"$ref": "https://example.com/schemas/person#/$defs/street"},
                "user": {"$ref": "#user"},
                "plain": {"$ref": "#/components/schemas/User"}
            }}
        })));
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        let at = |pointer: &str| document.pointer(pointer).unwrap().clone();
        let person = "/components/schemas/Person/properties";
        assert_eq!(
            at(&format!("{person}/home/$ref")),
            "#/components/schemas/Address"
        );
        assert_eq!(
            at(&format!("{person}/street/$ref")),
            "#/components/schemas/Person/$defs/street"
        );
        assert_eq!(
            at(&format!("{person}/named/$ref")),
            "#/components/schemas/Person/$defs/name"
        );
        let uses = "/components/schemas/Uses/properties";
        assert_eq!(
            at(&format!("{uses}/who/$ref")),
            "#/components/schemas/Person"
        );
        assert_eq!(
            at(&format!("{uses}/street/$ref")),
            "#/components/schemas/Person/$defs/street"
        );
        assert_eq!(
            at(&format!("{uses}/user/$ref")),
            "#/components/schemas/User"
        );
        assert_eq!(
            at(&format!("{uses}/plain/$ref")),
            "#/components/schemas/User"
        );
    }

    #[test]
    fn a_schema_named_by_its_id_and_by_its_pointer_is_one_shared_target() {
        use crate::json_schema::{Direction, Root, translate_shared};
        use crate::shared_schema::SharedSchemas;
        let (document, found) = localised(document(json!({
            "Person": {"$id": "https://example.com/person", "type": "object"},
            "Pet": {"$anchor": "pet", "type": "object"},
            "Uses": {"properties": {
                "by_id": {"$ref": "https://example.com/person"},
                "by_pointer": {"$ref": "#/components/schemas/Person"},
                "by_anchor": {"$ref": "#pet"},
                "pet_by_pointer": {"$ref": "#/components/schemas/Pet"}
            }}
        })));
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        let mut shared = SharedSchemas::new(&document);
        let uses = &document["components"]["schemas"]["Uses"];
        let at = "/components/schemas/Uses";
        let mut model = crate::schema_model::SchemaModel::new(&document);
        let root = Root {
            schema: uses,
            pointer: at,
            referenced: true,
        };
        translate_shared(
            &mut model,
            root,
            Direction::Request,
            &mut Vec::new(),
            &mut shared,
        )
        .expect("translates");
        let mut targets = Vec::new();
        while let Some((target, _)) = shared.next_pending() {
            targets.push(target);
        }
        targets.sort();
        assert_eq!(
            targets,
            ["/components/schemas/Person", "/components/schemas/Pet"]
        );
    }

    #[test]
    fn discriminator_mappings_by_id_and_anchor_name_the_branches_pointers() {
        let (document, found) = localised(document(json!({
            "Dog": {"$id": "https://example.com/schemas/dog", "type": "object"},
            "Cat": {"$anchor": "cat", "type": "object"},
            "Pet": {
                "oneOf": [
                    {"$ref": "https://example.com/schemas/dog"},
                    {"$ref": "#cat"},
                    {"$ref": "#/components/schemas/Dog"}
                ],
                "discriminator": {
                    "propertyName": "kind",
                    "mapping": {
                        "dog": "https://example.com/schemas/dog",
                        "cat": "#cat",
                        "hound": "Dog",
                        "puppy": "#/components/schemas/Dog",
                        "ghost": "#nobody"
                    },
                    "defaultMapping": "#cat"
                }
            }
        })));
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        let pet = &document["components"]["schemas"]["Pet"];
        let dog = "#/components/schemas/Dog";
        let cat = "#/components/schemas/Cat";
        assert_eq!(
            pet["oneOf"],
            json!([{"$ref": dog}, {"$ref": cat}, {"$ref": dog}])
        );
        assert_eq!(
            pet["discriminator"]["mapping"],
            json!({"dog": dog, "cat": cat, "hound": "Dog", "puppy": dog, "ghost": "#nobody"})
        );
        assert_eq!(pet["discriminator"]["defaultMapping"], cat);
    }

    #[test]
    fn an_anchor_is_looked_for_in_its_resource_then_the_document_and_a_missing_one_is_an_error() {
        let (rewritten, found) = localised(document(json!({
            "User": {"$anchor": "user"},
            "Person": {"$id": "https://example.com/person", "properties": {
                "user": {"$ref": "#user"},
                "gone": {"$ref": "other"}
            }},
            "Top": {"$ref": "#nobody"},
            "Pet": {"$id": "https://example.com/pet", "$anchor": "pet"},
            "Owner": {"properties": {"pet": {"$ref": "#pet"}}}
        })));
        let errors: Vec<(&str, &str)> = found
            .errors
            .iter()
            .map(|error| (error.location.as_str(), error.reason.as_str()))
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "/components/schemas/Top/$ref");
        assert!(errors[0].1.contains("`#nobody`"), "{}", errors[0].1);
        assert!(found.names.refused.contains("/components/schemas/Top/$ref"));
        // `other` inside Person names an `$id` the document does not give: left for bundling to
        // find in another file (or to refuse), as the URI it resolves to.
        let gone = "/components/schemas/Person/properties/gone/$ref";
        assert_eq!(
            found.names.elsewhere,
            HashMap::from([(gone.to_owned(), "https://example.com/other".to_owned())])
        );
        assert_eq!(rewritten.pointer(gone), Some(&json!("other")));
        assert_eq!(
            found.names.ids,
            HashMap::from([
                (
                    "https://example.com/person".to_owned(),
                    "/components/schemas/Person".to_owned()
                ),
                (
                    "https://example.com/pet".to_owned(),
                    "/components/schemas/Pet".to_owned()
                ),
            ])
        );
        assert_eq!(
            found.names.anchors,
            HashMap::from([(
                "https://example.com/pet#pet".to_owned(),
                "/components/schemas/Pet".to_owned()
            )])
        );
        // `#user` inside Person names no anchor of Person's: the document's is taken. `#pet`
        // names none of the document's (Pet's anchor is in Pet's `$id`): the only one is taken.
        // One warning says so for both.
        let schemas = &rewritten["components"]["schemas"];
        assert_eq!(
            schemas["Person"]["properties"]["user"]["$ref"],
            "#/components/schemas/User"
        );
        assert_eq!(
            schemas["Owner"]["properties"]["pet"]["$ref"],
            "#/components/schemas/Pet"
        );
        assert_eq!(found.warnings.len(), 1, "{:?}", found.warnings);
        assert_eq!(
            found.warnings[0].location,
            "/components/schemas/Person/properties/user/$ref"
        );
        assert!(found.warnings[0].reason.starts_with("2 reference(s)"));
    }

    #[test]
    fn a_3_0_document_and_files_are_left_alone() {
        let schemas = json!({
            "A": {"$ref": "#a"},
            "B": {"$ref": "other.yaml#/B"}
        });
        let mut old = document(schemas.clone());
        old["openapi"] = json!("3.0.3");
        let (kept, found) = localised(old.clone());
        assert_eq!(kept, old);
        assert!(found.errors.is_empty());
        let files = json!({"B": {"$ref": "other.yaml#/B"}, "C": {"$ref": "my schemas.yaml#/C"}});
        let (kept, found) = localised(document(files.clone()));
        assert_eq!(kept["components"]["schemas"], files);
        assert!(found.errors.is_empty(), "{:?}", found.errors);
    }

    #[test]
    fn a_relative_id_resolves_against_the_file_and_its_siblings_are_files() {
        let (document, found) = localised(document(json!({
            "Person": {"$id": "schemas/person", "properties": {
                "home": {"$ref": "address"},
                "pet": {"$ref": "pet.yaml#/Pet"}
            }},
            "Address": {"$id": "schemas/address"}
        })));
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        let properties = &document["components"]["schemas"]["Person"]["properties"];
        assert_eq!(properties["home"]["$ref"], "#/components/schemas/Address");
        assert_eq!(properties["pet"]["$ref"], "schemas/pet.yaml#/Pet");
    }

    #[test]
    fn pointers_naming_nothing_in_their_resource_are_read_from_the_root_with_a_warning() {
        let (document, found) = localised(document(json!({
            "User": {"type": "object"},
            "Person": {"$id": "https://example.com/person", "properties": {
                "user": {"$ref": "#/components/schemas/User"}
            }}
        })));
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        assert_eq!(found.warnings.len(), 1, "{:?}", found.warnings);
        assert_eq!(
            document["components"]["schemas"]["Person"]["properties"]["user"]["$ref"],
            "#/components/schemas/User"
        );
    }

    #[test]
    fn a_dynamic_ref_is_a_ref_to_its_anchor_and_several_anchors_are_a_warning() {
        let (list, found) = localised(document(json!({
            "List": {"$id": "https://example.com/list", "type": "array",
                "items": {"$dynamicRef": "#item"},
                "$defs": {"item": {"$dynamicAnchor": "item", "type": "string"}}}
        })));
        assert!(found.errors.is_empty() && found.warnings.is_empty());
        let items = &list["components"]["schemas"]["List"]["items"];
        assert_eq!(
            items,
            &json!({"$ref": "#/components/schemas/List/$defs/item"})
        );
        let (_, found) = localised(document(json!({
            "List": {"$id": "https://example.com/list",
                "items": {"$dynamicRef": "#item"},
                "$defs": {"item": {"$dynamicAnchor": "item"}}},
            "Strings": {"$id": "https://example.com/strings", "$ref": "list",
                "$defs": {"item": {"$dynamicAnchor": "item", "type": "string"}}}
        })));
        assert_eq!(found.warnings.len(), 1, "{:?}", found.warnings);
        assert!(found.warnings[0].location.ends_with("/items/$dynamicRef"));
    }
}
