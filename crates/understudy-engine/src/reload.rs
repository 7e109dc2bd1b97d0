//! What a reload keeps (`serve --watch`): which operations of the new specs are the old ones
//! unchanged, and so which store collections keep their records.
//!
//! An operation is unchanged when its spec, method and served route are the same and so is
//! everything of its document that it is compiled from: its path item (its own operation and the
//! keys that are no operation: `parameters`, `x-understudy-resource`, …), the document's
//! `security` and `components/securitySchemes`, each followed through every `$ref` it reaches
//! (the bundled copies of other files' parts included). A collection is unchanged when the old and
//! the new specs give it the same operations, each unchanged.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use crate::compile::METHODS;
use crate::json_schema::resolve_pointer;
use crate::operation::{Operation, Spec};

/// The operations and collections a reload finds unchanged.
#[derive(Debug, Default)]
pub(crate) struct Unchanged {
    /// (old, new) pairs of unchanged operations.
    pub operations: Vec<(Arc<Operation>, Arc<Operation>)>,
    /// The collections whose operations are all unchanged, and the same in number.
    pub collections: HashSet<String>,
}

impl Unchanged {
    /// Compares `new` with `old`.
    pub(crate) fn between(old: &[Spec], new: &[Spec]) -> Unchanged {
        // The key's query part tells apart operations on one route (`/rest?method=…`).
        let key = |operation: &'_ Arc<Operation>| {
            (
                Arc::clone(&operation.spec),
                operation.method.clone(),
                operation.shown_route().into_owned(),
            )
        };
        let old_operations: HashMap<(Arc<str>, http::Method, String), &Arc<Operation>> = old
            .iter()
            .flat_map(|spec| spec.operations.iter())
            .map(|operation| (key(operation), operation))
            .collect();
        // Per spec, the `$ref`s whose targets compared equal in a walk that found no difference.
        let mut known_same: HashMap<Arc<str>, HashSet<String>> = HashMap::new();
        let mut unchanged = Unchanged::default();
        for operation in new.iter().flat_map(|spec| spec.operations.iter()) {
            let Some(&previous) = old_operations.get(&key(operation)) else {
                continue;
            };
            let known = known_same.entry(Arc::clone(&operation.spec)).or_default();
            if same_operation(previous, operation, known) {
                unchanged
                    .operations
                    .push((Arc::clone(previous), Arc::clone(operation)));
            }
        }
        let count = |specs: &[Spec]| {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for operation in specs.iter().flat_map(|spec| spec.operations.iter()) {
                *counts.entry(operation.collection.clone()).or_default() += 1;
            }
            counts
        };
        let (old_counts, new_counts) = (count(old), count(new));
        let mut same_counts: HashMap<&str, usize> = HashMap::new();
        for (previous, operation) in &unchanged.operations {
            if previous.collection == operation.collection {
                *same_counts.entry(&operation.collection).or_default() += 1;
            }
        }
        unchanged.collections = new_counts
            .iter()
            .filter(|(name, count)| {
                old_counts.get(*name) == Some(*count)
                    && same_counts.get(name.as_str()) == Some(*count)
            })
            .map(|(name, _)| name.clone())
            .collect();
        unchanged
    }
}

/// Whether `new` is `old` unchanged (see the module's comment). `known` holds `$ref`s already
/// found to reach equal targets; the walk adds its own when it finds no difference.
fn same_operation(old: &Operation, new: &Operation, known: &mut HashSet<String>) -> bool {
    if old.method != new.method
        || old.route != new.route
        || old.query != new.query
        || old.creates != new.creates
    {
        return false;
    }
    let mut walk = Walk {
        old: &old.document,
        new: &new.document,
        known,
        visited: HashSet::new(),
    };
    let method = old.method.as_str().to_ascii_lowercase();
    let same = match (path_item(old), path_item(new)) {
        (Some(Value::Object(old_item)), Some(Value::Object(new_item))) => {
            let own =
                |(key, _): &(&String, &Value)| *key == &method || !METHODS.contains(&key.as_str());
            let old_parts: Vec<_> = old_item.iter().filter(own).collect();
            let new_parts: Vec<_> = new_item.iter().filter(own).collect();
            old_parts.len() == new_parts.len()
                && old_parts.iter().all(|(key, value)| {
                    new_item
                        .get(*key)
                        .is_some_and(|other| walk.same(value, other))
                })
        }
        _ => false,
    } && ["/security", "/components/securitySchemes"]
        .iter()
        .all(
            |at| match (old.document.pointer(at), new.document.pointer(at)) {
                (Some(old_part), Some(new_part)) => walk.same(old_part, new_part),
                (None, None) => true,
                _ => false,
            },
        );
    if same {
        let visited = walk.visited;
        known.extend(visited);
    }
    same
}

/// The path item `operation` is in.
fn path_item(operation: &Operation) -> Option<&Value> {
    let at = operation
        .pointer
        .rsplit_once('/')
        .map_or("", |(item, _)| item);
    operation.document.pointer(at)
}

/// One comparison of two documents' parts, following `$ref`s in each.
struct Walk<'a> {
    old: &'a Value,
    new: &'a Value,
    known: &'a HashSet<String>,
    /// The `$ref`s this walk has followed. One met again is taken as equal: it is being compared
    /// (a cycle) or was found equal, and any difference ends the whole walk as changed.
    visited: HashSet<String>,
}

impl Walk<'_> {
    fn same(&mut self, old: &Value, new: &Value) -> bool {
        match (old, new) {
            (Value::Object(old_object), Value::Object(new_object)) => {
                old_object.len() == new_object.len()
                    && old_object.iter().all(|(key, old_value)| {
                        let Some(new_value) = new_object.get(key) else {
                            return false;
                        };
                        match (key.as_str(), old_value, new_value) {
                            ("$ref", Value::String(old_ref), Value::String(new_ref)) => {
                                old_ref == new_ref && self.same_target(old_ref)
                            }
                            _ => self.same(old_value, new_value),
                        }
                    })
            }
            (Value::Array(old_items), Value::Array(new_items)) => {
                old_items.len() == new_items.len()
                    && old_items
                        .iter()
                        .zip(new_items)
                        .all(|(old_item, new_item)| self.same(old_item, new_item))
            }
            _ => old == new,
        }
    }

    /// Whether `reference` (local: bundling made every `$ref` so) reaches equal parts.
    fn same_target(&mut self, reference: &str) -> bool {
        if self.known.contains(reference) || !self.visited.insert(reference.to_owned()) {
            return true;
        }
        let (old, new) = (self.old, self.new);
        match (
            resolve_pointer(old, reference),
            resolve_pointer(new, reference),
        ) {
            (Some(old_part), Some(new_part)) => self.same(old_part, new_part),
            (None, None) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::compile::compile_spec;

    /// A spec of a tree resource (`/trees`, `/trees/{id}`, whose schema is recursive) and
    /// users (`/users`), with `change` applied to its document first.
    fn spec(change: impl FnOnce(&mut Value)) -> Spec {
        let created = |schema: &str| {
            json!({
                "requestBody": {"content": {"application/json": {"schema": {"$ref": schema}}}},
                "responses": {"201": {"description": "Created",
                    "content": {"application/json": {"schema": {"$ref": schema}}}}}
            })
        };
        let mut document = json!({
            "openapi": "3.0.3",
            "info": {"title": "Trees", "version": "1"},
            "paths": {
                "/trees": {"post": created("#/components/schemas/Tree")},
                "/trees/{id}": {
                    "parameters": [{"name": "id", "in": "path", "required": true,
                        "schema": {"type": "integer"}}],
                    "get": {"responses": {"200": {"description": "The tree",
                        "content": {"application/json":
                            {"schema": {"$ref": "#/components/schemas/Tree"}}}}}}
                },
                "/users": {"post": created("#/components/schemas/User")}
            },
            "components": {"schemas": {
                "Tree": {"type": "object", "properties": {
                    "id": {"type": "integer", "readOnly": true},
                    "label": {"$ref": "#/components/schemas/Label"},
                    "children": {"type": "array",
                        "items": {"$ref": "#/components/schemas/Tree"}}}},
                "Label": {"type": "string"},
                "User": {"type": "object", "properties": {"name": {"type": "string"}}}
            }}
        });
        change(&mut document);
        compile_spec(std::path::Path::new("trees.yaml"), document).unwrap()
    }

    fn unchanged_collections(change: impl FnOnce(&mut Value)) -> Vec<String> {
        let mut names: Vec<String> = Unchanged::between(&[spec(|_| {})], &[spec(change)])
            .collections
            .into_iter()
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_same_document_changes_nothing_recursive_schemas_included() {
        let unchanged = Unchanged::between(&[spec(|_| {})], &[spec(|_| {})]);
        assert_eq!(unchanged.operations.len(), 3);
        assert_eq!(unchanged_collections(|_| {}), ["/trees", "/users"]);
    }

    #[test]
    fn a_change_reached_through_references_changes_only_the_collections_that_reach_it() {
        // Through `Tree`, then its `label`.
        let changed = unchanged_collections(|document| {
            document["components"]["schemas"]["Label"]["maxLength"] = json!(9);
        });
        assert_eq!(changed, ["/users"]);
        // An answer of the item path only: its collection, the trees, changes.
        let changed = unchanged_collections(|document| {
            document["paths"]["/trees/{id}"]["get"]["responses"]["404"] =
                json!({"description": "None"});
        });
        assert_eq!(changed, ["/users"]);
    }

    #[test]
    fn a_path_items_shared_parameters_count_and_its_other_operations_do_not() {
        let changed = unchanged_collections(|document| {
            document["paths"]["/trees/{id}"]["parameters"][0]["schema"]["minimum"] = json!(1);
        });
        assert_eq!(changed, ["/users"]);
        // Another operation beside `POST /users` is one more operation of the collection.
        let changed = unchanged_collections(|document| {
            document["paths"]["/users"]["get"] =
                json!({"responses": {"200": {"description": "ok"}}});
        });
        assert_eq!(changed, ["/trees"]);
        // One on a path of its own leaves both.
        let changed = unchanged_collections(|document| {
            document["paths"]["/health"] =
                json!({"get": {"responses": {"204": {"description": "Up"}}}});
        });
        assert_eq!(changed, ["/trees", "/users"]);
    }

    #[test]
    fn a_query_operation_is_another_operation_of_its_path_item() {
        let with_query = |description: &'static str| {
            spec(move |document| {
                document["openapi"] = json!("3.2.0");
                document["paths"]["/trees/{id}"]["query"] =
                    json!({"responses": {"200": {"description": description}}});
            })
        };
        let unchanged = Unchanged::between(&[with_query("Found")], &[with_query("Searched")]);
        let kept = |method: &str| {
            unchanged
                .operations
                .iter()
                .any(|(_, new)| new.route == "/trees/{id}" && new.method.as_str() == method)
        };
        assert!(
            kept("GET"),
            "an edited QUERY marks the GET beside it changed"
        );
        assert!(!kept("QUERY"));
    }

    #[test]
    fn the_documents_security_counts_for_every_operation() {
        let changed = unchanged_collections(|document| {
            document["security"] = json!([{"basic": []}]);
            document["components"]["securitySchemes"] =
                json!({"basic": {"type": "http", "scheme": "basic"}});
        });
        assert!(changed.is_empty(), "{changed:?}");
    }
}
