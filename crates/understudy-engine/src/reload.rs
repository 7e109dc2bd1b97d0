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

use crate::json_schema::resolve_pointer;
use crate::operation::{Operation, Spec};

/// The keys of a path item that are operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The operations and collections a reload finds unchanged.
#[derive(Debug, Default)]
pub struct Unchanged {
    /// (old, new) pairs of unchanged operations.
    pub operations: Vec<(Arc<Operation>, Arc<Operation>)>,
    /// The collections whose operations are all unchanged, and the same in number.
    pub collections: HashSet<String>,
}

impl Unchanged {
    /// Compares `new` with `old`.
    pub fn between(old: &[Spec], new: &[Spec]) -> Unchanged {
        let old_operations: HashMap<(&str, &http::Method, &str), &Arc<Operation>> = old
            .iter()
            .flat_map(|spec| spec.operations.iter())
            .map(|operation| {
                (
                    (
                        &*operation.spec,
                        &operation.method,
                        operation.route.as_str(),
                    ),
                    operation,
                )
            })
            .collect();
        // Per spec, the `$ref`s whose targets compared equal in a walk that found no difference.
        let mut known_same: HashMap<Arc<str>, HashSet<String>> = HashMap::new();
        let mut unchanged = Unchanged::default();
        for operation in new.iter().flat_map(|spec| spec.operations.iter()) {
            let key = (
                &*operation.spec,
                &operation.method,
                operation.route.as_str(),
            );
            let Some(&previous) = old_operations.get(&key) else {
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
    if old.method != new.method || old.route != new.route || old.creates != new.creates {
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
