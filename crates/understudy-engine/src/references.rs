//! The `$ref`s of a document, and the checks every one must pass before anything is compiled: it
//! points at something, and a chain of `$ref`s never comes back to itself without reaching a
//! definition. Bundling and these checks find references the same way ([`Context`]), so a `$ref`
//! key inside an example or an extension, which is data, is never taken for a reference.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::bundle::{BUNDLE_KEY, Origins};
use crate::json_schema::{escape, resolve_pointer};
use crate::load_error::{ErrorKind, LoadError};

/// Checks every reference in `document` (read from `file`, bundled): each must point at something
/// in the document, and no `$ref` may lead through other `$ref`s back to itself. Problems in parts
/// that bundling copied from other files are reported in those files, through `origins`.
pub(crate) fn check_references(file: &Path, document: &Value, origins: &Origins) -> Vec<LoadError> {
    let mut collect = Collect { sites: Vec::new() };
    walk(
        document,
        Context::Keywords,
        (),
        &mut String::new(),
        &mut collect,
    );
    let sites = collect.sites;
    let holders: HashMap<*const Value, usize> = sites
        .iter()
        .enumerate()
        .map(|(index, site)| (std::ptr::from_ref(site.holder), index))
        .collect();
    let mut errors = Vec::new();
    // The `$ref` each reference names when its target is itself only a `$ref` (an alias).
    let mut next: Vec<Option<usize>> = vec![None; sites.len()];
    for (index, site) in sites.iter().enumerate() {
        let (at_file, at) = origins.locate(file, &format!("{}/$ref", site.pointer));
        let Some(fragment) = site.reference.strip_prefix('#') else {
            errors.push(LoadError::at(
                at_file,
                at,
                ErrorKind::Reference,
                format!(
                    "`{}` is not a reference understudy can follow",
                    site.reference
                ),
            ));
            continue;
        };
        match resolve_pointer(document, fragment) {
            Some(target) => next[index] = holders.get(&std::ptr::from_ref(target)).copied(),
            None => {
                let reason = if at_file == file {
                    format!("`{}` points at nothing in the document", site.reference)
                } else {
                    format!(
                        "`{}` points at nothing in {}",
                        site.reference,
                        file.display()
                    )
                };
                errors.push(LoadError::at(at_file, at, ErrorKind::Reference, reason));
            }
        }
    }
    for cycle in alias_cycles(&next) {
        errors.push(cycle_error(file, &sites, &cycle, origins));
    }
    errors
}

/// How the keys of an object are read while looking for references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// An object whose keys are OpenAPI or JSON Schema keywords (`schema`, `items`, `$ref`).
    Keywords,
    /// A map whose keys are names the author chose (properties, status codes, media types,
    /// components), each naming an object of keywords.
    Names,
    /// `callbacks`: names of callback objects, each a map of expressions to path items.
    Callbacks,
}

/// Keywords whose values are data (examples, defaults, enumerations), never references.
const DATA: [&str; 6] = ["example", "default", "enum", "const", "value", "dataValue"];

/// Keywords whose values, when objects, are maps of names.
const NAME_MAPS: [&str; 21] = [
    "properties",
    "patternProperties",
    "definitions",
    "$defs",
    "dependentSchemas",
    "paths",
    "webhooks",
    "responses",
    "content",
    "headers",
    "examples",
    "links",
    "encoding",
    "variables",
    "schemas",
    "parameters",
    "requestBodies",
    "securitySchemes",
    "pathItems",
    "mediaTypes",
    BUNDLE_KEY,
];

impl Context {
    /// How the value under `key` in an object read in this context is read, or `None` if it is
    /// data whose `$ref` keys mean nothing: an example, a default, an enumeration, an extension
    /// (`x-…`, except the bundled parts).
    pub(crate) fn child(self, key: &str, value: &Value) -> Option<Context> {
        match self {
            Context::Names => Some(Context::Keywords),
            Context::Callbacks => Some(Context::Names),
            Context::Keywords => {
                let data = DATA.contains(&key)
                    || (key.starts_with("x-") && key != BUNDLE_KEY)
                    || (key == "examples" && value.is_array());
                if data {
                    None
                } else if !value.is_object() {
                    Some(Context::Keywords)
                } else if key == "callbacks" {
                    Some(Context::Callbacks)
                } else if NAME_MAPS.contains(&key) {
                    Some(Context::Names)
                } else {
                    Some(Context::Keywords)
                }
            }
        }
    }
}

/// One `$ref` found in the document.
struct Site<'a> {
    /// The object that holds the `$ref`.
    holder: &'a Value,
    /// The reference as written (after bundling).
    reference: &'a str,
    /// The JSON pointer of the holder.
    pointer: String,
}

/// Gathers every `$ref` of the document with the object that holds it: in any object, even one
/// whose keys are names (a `$ref` there is taken as written, so that it is checked).
struct Collect<'a> {
    sites: Vec<Site<'a>>,
}

impl<'a> Visitor<'a> for Collect<'a> {
    type Scope = ();

    fn object(&mut self, object: &'a Value, _: Context, pointer: &str, (): ()) {
        if let Some(Value::String(reference)) = object.get("$ref") {
            self.sites.push(Site {
                holder: object,
                reference,
                pointer: pointer.to_owned(),
            });
        }
    }
}

/// What [`walk`] shows: every object of a document that may hold references (none inside
/// examples, defaults or extensions, as [`Context::child`] says), each with how its keys are read
/// and its JSON pointer, an object before the objects and arrays inside it, in document order.
pub(crate) trait Visitor<'a> {
    /// What an object hands down to every object inside it (in `schema_ids`, the base URI an
    /// `$id` sets).
    type Scope: Copy;

    /// Visits `object` (always a JSON object), found at `pointer` and read in `context`, within
    /// `scope`; gives the scope of what it holds.
    fn object(
        &mut self,
        object: &'a Value,
        context: Context,
        pointer: &str,
        scope: Self::Scope,
    ) -> Self::Scope;
}

/// Shows `visitor` every object in `value`, which is at `pointer` (given back as it came) and read
/// in `context`, within `scope`.
pub(crate) fn walk<'a, V: Visitor<'a>>(
    value: &'a Value,
    context: Context,
    scope: V::Scope,
    pointer: &mut String,
    visitor: &mut V,
) {
    match value {
        Value::Object(object) => {
            let inside = visitor.object(value, context, pointer, scope);
            for (key, child) in object {
                // A scalar holds no object: its key need not be read or written.
                if !(child.is_object() || child.is_array()) {
                    continue;
                }
                let Some(inner) = context.child(key, child) else {
                    continue;
                };
                let length = pointer.len();
                push_segment(pointer, key);
                walk(child, inner, inside, pointer, visitor);
                pointer.truncate(length);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(itoa::Buffer::new().format(index));
                walk(item, context, scope, pointer, visitor);
                pointer.truncate(length);
            }
        }
        _ => {}
    }
}

/// Appends `/key`, escaped, to a JSON pointer.
pub(crate) fn push_segment(pointer: &mut String, key: &str) {
    pointer.push('/');
    if key.contains(['~', '/']) {
        pointer.push_str(&escape(key));
    } else {
        pointer.push_str(key);
    }
}

/// The cycles of the alias graph (each reference has at most one successor), each as its members in
/// order from the first one found in the document. Linear: every reference is walked once.
fn alias_cycles(next: &[Option<usize>]) -> Vec<Vec<usize>> {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; next.len()];
    let mut cycles = Vec::new();
    let mut path = Vec::new();
    for start in 0..next.len() {
        let mut current = Some(start);
        while let Some(index) = current {
            match state[index] {
                NEW => {
                    state[index] = ON_PATH;
                    path.push(index);
                    current = next[index];
                }
                ON_PATH => {
                    let from = path.iter().position(|&member| member == index).unwrap_or(0);
                    let mut cycle = path[from..].to_vec();
                    let first = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, member)| **member)
                        .map_or(0, |(position, _)| position);
                    cycle.rotate_left(first);
                    cycles.push(cycle);
                    break;
                }
                _ => break,
            }
        }
        for index in path.drain(..) {
            state[index] = DONE;
        }
    }
    cycles
}

fn cycle_error(file: &Path, sites: &[Site<'_>], cycle: &[usize], origins: &Origins) -> LoadError {
    let places: Vec<(PathBuf, String)> = cycle
        .iter()
        .map(|&member| origins.locate(file, &sites[member].pointer))
        .collect();
    let (at_file, at) = &places[0];
    let name = |(place_file, pointer): &(PathBuf, String)| {
        if place_file == at_file {
            format!("#{pointer}")
        } else {
            let name = place_file.file_name().map_or_else(
                || place_file.display().to_string(),
                |name| name.to_string_lossy().into_owned(),
            );
            format!("{name}#{pointer}")
        }
    };
    let mut chain: Vec<String> = places.iter().map(name).collect();
    chain.push(name(&places[0]));
    LoadError::at(
        at_file,
        format!("{at}/$ref"),
        ErrorKind::Reference,
        format!(
            "a cycle of `$ref`s that only name each other ({}): none reaches a definition",
            chain.join(" → ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(document: &Value) -> Vec<LoadError> {
        check_references(Path::new("api.yaml"), document, &Origins::default())
    }

    /// Records what the walk shows: each object's pointer, context and depth of scope.
    struct Seen(Vec<(String, Context, usize)>);

    impl<'a> Visitor<'a> for Seen {
        type Scope = usize;

        fn object(&mut self, _: &'a Value, context: Context, pointer: &str, depth: usize) -> usize {
            self.0.push((pointer.to_owned(), context, depth));
            depth + 1
        }
    }

    #[test]
    fn the_walk_shows_each_object_with_its_escaped_pointer_context_and_scope() {
        let document = json!({"paths": {"/a~b": {"get": {
            "parameters": [{"schema": {"type": "string"}}, "not an object"],
            "responses": {"200": {
                "content": {"application/json": {"schema": {
                    "properties": {"$ref": {"type": "string"}, "~/": {"items": [{}]}},
                    "example": {"$ref": "#/data"},
                    "x-extension": {"nested": {}},
                    "enum": [{"a": {}}]
                }}},
                "callbacks": {"done": {"{$url}": {"post": {}}}}
            }}
        }}}});
        let mut seen = Seen(Vec::new());
        walk(
            &document,
            Context::Keywords,
            0,
            &mut String::new(),
            &mut seen,
        );
        let schema = "/paths/~1a~0b/get/responses/200/content/application~1json/schema";
        let expected: Vec<(String, Context, usize)> = [
            ("", Context::Keywords, 0),
            ("/paths", Context::Names, 1),
            ("/paths/~1a~0b", Context::Keywords, 2),
            ("/paths/~1a~0b/get", Context::Keywords, 3),
            ("/paths/~1a~0b/get/parameters/0", Context::Keywords, 4),
            (
                "/paths/~1a~0b/get/parameters/0/schema",
                Context::Keywords,
                5,
            ),
            ("/paths/~1a~0b/get/responses", Context::Names, 4),
            ("/paths/~1a~0b/get/responses/200", Context::Keywords, 5),
            ("/paths/~1a~0b/get/responses/200/content", Context::Names, 6),
            (
                "/paths/~1a~0b/get/responses/200/content/application~1json",
                Context::Keywords,
                7,
            ),
            (schema, Context::Keywords, 8),
            // A property named `$ref` is a schema: its keys are keywords, and no reference.
            (&format!("{schema}/properties"), Context::Names, 9),
            (&format!("{schema}/properties/$ref"), Context::Keywords, 10),
            (&format!("{schema}/properties/~0~1"), Context::Keywords, 10),
            (
                &format!("{schema}/properties/~0~1/items/0"),
                Context::Keywords,
                11,
            ),
            (
                "/paths/~1a~0b/get/responses/200/callbacks",
                Context::Callbacks,
                6,
            ),
            (
                "/paths/~1a~0b/get/responses/200/callbacks/done",
                Context::Names,
                7,
            ),
            (
                "/paths/~1a~0b/get/responses/200/callbacks/done/{$url}",
                Context::Keywords,
                8,
            ),
            (
                "/paths/~1a~0b/get/responses/200/callbacks/done/{$url}/post",
                Context::Keywords,
                9,
            ),
        ]
        .into_iter()
        .map(|(pointer, context, depth)| (pointer.to_owned(), context, depth))
        .collect();
        assert_eq!(seen.0, expected);
        // The `$ref` under `properties` names a schema, not a reference; the example's is data.
        let mut collect = Collect { sites: Vec::new() };
        walk(
            &document,
            Context::Keywords,
            (),
            &mut String::new(),
            &mut collect,
        );
        assert!(collect.sites.is_empty());
    }

    #[test]
    fn a_dangling_reference_is_reported_where_it_is_written() {
        let document = json!({"paths": {"/a": {"get": {"responses": {
            "201": {"$ref": "#/components/responses/Missing"}
        }}}}});
        let errors = check(&document);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].location, "/paths/~1a/get/responses/201/$ref");
        assert_eq!(errors[0].kind, ErrorKind::Reference);
        assert!(
            errors[0]
                .reason
                .contains("`#/components/responses/Missing` points at nothing")
        );
    }

    #[test]
    fn a_cycle_of_aliases_is_reported_once_at_its_first_member() {
        let document = json!({
            "paths": {"/a": {"post": {"requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/A"}
            }}}}}},
            "components": {"schemas": {
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"$ref": "#/components/schemas/A"},
                "Self": {"$ref": "#/components/schemas/Self"}
            }}
        });
        let errors = check(&document);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].location, "/components/schemas/A/$ref");
        assert!(
            errors[0].reason.contains(
                "#/components/schemas/A → #/components/schemas/B → #/components/schemas/A"
            ),
            "{}",
            errors[0].reason
        );
        assert_eq!(errors[1].location, "/components/schemas/Self/$ref");
    }

    #[test]
    fn recursion_through_properties_and_data_that_looks_like_a_reference_are_fine() {
        let document = json!({"components": {
            "schemas": {
                "Node": {"type": "object", "properties": {
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    "example": {"$ref": "#/components/schemas/Alias"},
                    "x-data": {"type": "string", "example": {"$ref": "#/nowhere"}}
                }},
                "Alias": {"$ref": "#/components/schemas/Node"}
            },
            "examples": {"default": {"value": {"$ref": "#/not/a/reference"}}},
            "x-anything": {"$ref": "#/nowhere"}
        }});
        assert_eq!(check(&document), Vec::new());
        let mut broken = document.clone();
        broken["components"]["schemas"]["Node"]["properties"]["example"]["$ref"] =
            json!("#/components/schemas/Gone");
        let errors = check(&broken);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0].location,
            "/components/schemas/Node/properties/example/$ref"
        );
    }

    #[test]
    fn callbacks_and_links_are_searched() {
        let document = json!({"paths": {"/a": {"post": {
            "callbacks": {"done": {"{$request.body#/url}": {"$ref": "#/missing/item"}}},
            "responses": {"200": {"description": "ok", "links": {"next": {"$ref": "#/missing/link"}}}}
        }}}});
        let locations: Vec<String> = check(&document)
            .into_iter()
            .map(|error| error.location)
            .collect();
        assert_eq!(
            locations,
            [
                "/paths/~1a/post/callbacks/done/{$request.body#~1url}/$ref",
                "/paths/~1a/post/responses/200/links/next/$ref"
            ]
        );
    }
}
