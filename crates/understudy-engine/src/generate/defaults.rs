//! Filling a request body's omitted properties with their schema `default`s, so that the echo in
//! the response shows what the server would have stored.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::reach::Reach;
use crate::schema_model::{SchemaId, SchemaModel};

/// Fills in `default`s of a request schema into a request body that omitted them (recursively,
/// through objects, `allOf` and arrays of objects). `readOnly` properties are left out: a client
/// never sends them. Compiles the schema each call: the engine compiles [`Defaults`] once instead.
pub fn apply_defaults(document: &Value, schema: &Value, body: &mut Value) {
    Defaults::compile(document, schema).apply(body);
}

/// A request schema's defaults, compiled once at start-up: for each object schema reached, the
/// properties that have a default or lead to one. Applying it walks the body, never the document.
#[derive(Debug, Clone)]
pub struct Defaults {
    nodes: Vec<DefaultsNode>,
    /// [`Defaults::readable_through`], decided once when compiled.
    readable: bool,
}

/// Whether a request schema may lead to a `default`, asked for every request body of a document:
/// each schema of the document's model is walked once in all (through `allOf`, `properties` and
/// `items`, what [`Defaults::compile_in`] walks), so a document whose bodies reach hundreds of
/// schemas and no default (most of Stripe's) compiles no defaults, in time linear in its schemas.
#[derive(Debug, Default)]
pub(crate) struct DefaultSearch {
    reach: Reach,
}

impl DefaultSearch {
    /// Whether a `default` may lie where a request body's defaults are looked for from
    /// `schema`: when not, [`Defaults::compile_in`] would find none.
    pub(crate) fn may_reach<'d>(&mut self, model: &mut SchemaModel<'d>, schema: &'d Value) -> bool {
        let root = model.id(schema);
        self.reach.reaches(root, |id, stack| {
            let schema = model.get(id);
            if schema.default.is_some()
                || schema
                    .properties
                    .iter()
                    .any(|property| property.default_beside().is_some())
            {
                return true;
            }
            stack.extend(&schema.all_of);
            stack.extend(schema.properties.iter().map(|property| property.part));
            stack.extend(schema.items);
            // Each schema is walked once: what it says is not needed again here.
            model.forget(id);
            false
        })
    }
}

/// Schemas compiled at most (a document larger than this keeps the rest of its gaps).
const MAX_NODES: usize = 10_000;
/// How deep a body is filled (a body deeper than this keeps its gaps).
const MAX_DEPTH: usize = 64;
/// The root node.
const ROOT: usize = 0;
/// Objects up to this size are scanned for a property rather than hashed into.
const SCAN_UP_TO: usize = 16;

#[derive(Debug, Clone, Default)]
struct DefaultsNode {
    /// Properties, in order of first appearance across `allOf`, with their default and the node
    /// for their value.
    properties: Vec<DefaultProperty>,
    /// The node for array items.
    items: Option<usize>,
}

#[derive(Debug, Clone)]
struct DefaultProperty {
    name: String,
    default: Option<Value>,
    node: usize,
}

impl Defaults {
    /// Compiles the defaults reachable from `schema` (a `$ref`, `allOf`, `properties` and `items`
    /// walk, each schema once, cycles included).
    pub fn compile(document: &Value, schema: &Value) -> Defaults {
        Defaults::compile_in(&mut SchemaModel::new(document), schema)
    }

    /// [`Defaults::compile`], reading the document's schema model.
    pub(crate) fn compile_in<'d>(model: &mut SchemaModel<'d>, schema: &'d Value) -> Defaults {
        let root = model.id(schema);
        let mut compiler = DefaultsCompiler {
            model,
            nodes: Vec::new(),
            seen: HashMap::new(),
        };
        compiler.node(root);
        let mut defaults = Defaults {
            nodes: compiler.nodes,
            readable: false,
        };
        defaults.prune();
        defaults.readable = defaults.nodes.iter().all(|node| {
            node.properties.iter().all(|property| {
                property.default.as_ref().is_none_or(|default| {
                    !matches!(default, Value::Object(_) | Value::Array(_))
                        || defaults.is_empty_at(property.node)
                })
            })
        });
        defaults
    }

    /// Whether no default is reachable: applying it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.is_empty_at(ROOT)
    }

    /// Whether the defaults can be read through a body without filling it in (with a cursor, as
    /// the echo does): every default is its own filled value (a default that is an object or an
    /// array with defaults of its own inside is not).
    pub fn readable_through(&self) -> bool {
        self.readable
    }

    /// Where reading a body through the defaults starts, when [`Defaults::readable_through`].
    pub(crate) fn cursor(&self) -> Option<DefaultsCursor<'_>> {
        (!self.is_empty() && self.readable).then_some(DefaultsCursor {
            defaults: self,
            node: ROOT,
            depth: 0,
        })
    }

    fn is_empty_at(&self, node: usize) -> bool {
        self.nodes
            .get(node)
            .is_none_or(|node| node.properties.is_empty() && node.items.is_none())
    }

    /// A copy of `body` with its gaps filled.
    pub fn filled(&self, body: &Value) -> Value {
        let mut copy = body.clone();
        self.apply(&mut copy);
        copy
    }

    /// Fills the gaps of `body`.
    pub fn apply(&self, body: &mut Value) {
        if !self.is_empty() {
            self.fill(ROOT, body, 0);
        }
    }

    fn fill(&self, node: usize, body: &mut Value, depth: usize) {
        let Some(node) = self.nodes.get(node) else {
            return;
        };
        if depth > MAX_DEPTH {
            return;
        }
        match body {
            Value::Object(map) => {
                for property in &node.properties {
                    // Request objects are small: a scan beats serde_json's SipHash lookup.
                    let present = if map.len() <= SCAN_UP_TO {
                        map.iter_mut()
                            .find(|(name, _)| **name == property.name)
                            .map(|(_, value)| value)
                    } else {
                        map.get_mut(&property.name)
                    };
                    match present {
                        Some(child) => self.fill(property.node, child, depth + 1),
                        None => {
                            if let Some(default) = &property.default {
                                let mut value = default.clone();
                                self.fill(property.node, &mut value, depth + 1);
                                map.insert(property.name.clone(), value);
                            }
                        }
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_node) = node.items {
                    for item in items {
                        self.fill(item_node, item, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    /// Drops what leads to no default, so that applying walks only where something can be filled.
    fn prune(&mut self) {
        let count = self.nodes.len();
        // A node is useful if it has a default, or leads to a useful node: a fixed point.
        let mut useful = vec![false; count];
        loop {
            let mut changed = false;
            for (index, node) in self.nodes.iter().enumerate() {
                if useful[index] {
                    continue;
                }
                let leads = node.properties.iter().any(|property| {
                    property.default.is_some() || useful.get(property.node) == Some(&true)
                }) || node
                    .items
                    .is_some_and(|items| useful.get(items) == Some(&true));
                if leads {
                    useful[index] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for node in &mut self.nodes {
            node.properties.retain(|property| {
                property.default.is_some() || useful.get(property.node) == Some(&true)
            });
            if node
                .items
                .is_some_and(|items| useful.get(items) != Some(&true))
            {
                node.items = None;
            }
        }
    }
}

/// A place in a request body, with the defaults that apply there: what the body reads as once
/// [`Defaults::apply`] has filled it, without filling it (the echo reads the body this way).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DefaultsCursor<'d> {
    defaults: &'d Defaults,
    node: usize,
    /// How deep in the body: as deep as [`Defaults::apply`] fills, and no deeper.
    depth: usize,
}

impl<'d> DefaultsCursor<'d> {
    /// The defaults of the properties `map` lacks, in the order filling appends them, each a
    /// value that needs no filling of its own.
    pub(crate) fn missing<'m>(
        self,
        map: &'m Map<String, Value>,
    ) -> impl Iterator<Item = (&'d str, &'d Value)> + 'm
    where
        'd: 'm,
    {
        self.properties().iter().filter_map(move |property| {
            let default = property.default.as_ref()?;
            let present = if map.len() <= SCAN_UP_TO {
                map.keys().any(|name| *name == property.name)
            } else {
                map.contains_key(&property.name)
            };
            (!present).then_some((property.name.as_str(), default))
        })
    }

    /// How many defaults [`DefaultsCursor::missing`] can give at most.
    pub(crate) fn at_most(self) -> usize {
        self.properties().len()
    }

    /// The properties with defaults at this place; none past the depth filling stops at.
    fn properties(self) -> &'d [DefaultProperty] {
        match self.defaults.nodes.get(self.node) {
            Some(node) if self.depth <= MAX_DEPTH => &node.properties,
            _ => &[],
        }
    }

    /// The cursor for the value of property `name`, when defaults apply inside it.
    pub(crate) fn property(self, name: &str) -> Option<DefaultsCursor<'d>> {
        let node = self.defaults.nodes.get(self.node)?;
        let property = node
            .properties
            .iter()
            .find(|property| property.name == name)?;
        self.at(property.node)
    }

    /// The cursor for the items of an array, when defaults apply inside them.
    pub(crate) fn items(self) -> Option<DefaultsCursor<'d>> {
        self.at(self.defaults.nodes.get(self.node)?.items?)
    }

    fn at(self, node: usize) -> Option<DefaultsCursor<'d>> {
        let depth = self.depth + 1;
        (depth <= MAX_DEPTH && !self.defaults.is_empty_at(node)).then_some(DefaultsCursor {
            defaults: self.defaults,
            node,
            depth,
        })
    }

    /// `value` with the defaults filled in, as [`Defaults::apply`] fills it at this place.
    pub(crate) fn filled(self, value: &Value) -> Value {
        let mut value = value.clone();
        self.defaults.fill(self.node, &mut value, self.depth);
        value
    }
}

/// One compilation: nodes by schema, so that each schema is compiled once.
struct DefaultsCompiler<'m, 'd> {
    model: &'m mut SchemaModel<'d>,
    nodes: Vec<DefaultsNode>,
    seen: HashMap<SchemaId, usize>,
}

impl DefaultsCompiler<'_, '_> {
    /// The node for `schema`, compiling it on first sight.
    fn node(&mut self, schema: SchemaId) -> usize {
        if let Some(index) = self.seen.get(&schema) {
            return *index;
        }
        let index = self.nodes.len();
        self.nodes.push(DefaultsNode::default());
        self.seen.insert(schema, index);
        if self.nodes.len() >= MAX_NODES {
            return index;
        }
        let mut node = DefaultsNode::default();
        let mut visited = Vec::new();
        self.merge(schema, &mut node, &mut visited);
        self.nodes[index] = node;
        index
    }

    /// Adds the properties and items of `schema` and its `allOf` branches to `node`.
    fn merge(&mut self, schema: SchemaId, node: &mut DefaultsNode, visited: &mut Vec<SchemaId>) {
        if visited.contains(&schema) || visited.len() >= MAX_NODES {
            return;
        }
        visited.push(schema);
        let read = self.model.get(schema);
        let (all_of, properties, items) =
            (read.all_of.clone(), read.properties.clone(), read.items);
        for branch in all_of {
            self.merge(branch, node, visited);
        }
        for property in properties {
            if property.read_only {
                continue;
            }
            let default = self
                .model
                .get(property.part)
                .default
                .as_deref()
                .or(property.default_beside())
                .cloned();
            // Named again by another `allOf` branch: its default fills a gap, nothing more.
            if let Some(known) = node
                .properties
                .iter_mut()
                .find(|known| *known.name == *property.name)
            {
                if known.default.is_none() {
                    known.default = default;
                }
                continue;
            }
            let child = self.node(property.part);
            node.properties.push(DefaultProperty {
                name: property.name.to_string(),
                default,
                node: child,
            });
        }
        if node.items.is_none()
            && let Some(items) = items
        {
            node.items = Some(self.node(items));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_fill_gaps_through_wrappers_refs_and_all_of() {
        let document = json!({"components": {"schemas": {
            "Flags": {"type": "object", "properties": {
                "can_create_projects": {"type": "boolean", "default": false},
                "id": {"type": "integer", "readOnly": true, "default": 0}
            }}
        }}});
        let schema = json!({"type": "object", "properties": {
            "user": {"allOf": [{"$ref": "#/components/schemas/Flags"}, {"properties": {
                "admin": {"type": "boolean", "default": false}
            }}]}
        }});
        let mut body = json!({"user": {"can_create_projects": true}});
        apply_defaults(&document, &schema, &mut body);
        assert_eq!(
            body,
            json!({"user": {"can_create_projects": true, "admin": false}})
        );
    }

    #[test]
    fn arrays_of_objects_get_their_defaults() {
        let schema = json!({"type": "array", "items": {"type": "object", "properties": {
            "role": {"type": "string", "default": "member"}
        }}});
        let mut body = json!([{}, {"role": "owner"}]);
        apply_defaults(&json!({}), &schema, &mut body);
        assert_eq!(body, json!([{"role": "member"}, {"role": "owner"}]));
    }

    #[test]
    fn a_schema_that_is_its_own_all_of_is_walked_once() {
        // Two `allOf` branches back to itself: without the visited set this is 2^64 walks.
        let document = json!({"components": {"schemas": {"Loop": {
            "allOf": [{"$ref": "#/components/schemas/Loop"}, {"$ref": "#/components/schemas/Loop"}],
            "properties": {"role": {"type": "string", "default": "member"}}
        }}}});
        let mut body = json!({});
        apply_defaults(
            &document,
            &json!({"$ref": "#/components/schemas/Loop"}),
            &mut body,
        );
        assert_eq!(body, json!({"role": "member"}));
    }

    #[test]
    fn a_later_all_of_branch_supplies_a_missing_default() {
        let schema = json!({"allOf": [
            {"properties": {"plan": {"type": "string"}}},
            {"properties": {"plan": {"type": "string", "default": "free"}}}
        ]});
        let defaults = Defaults::compile(&json!({}), &schema);
        let mut body = json!({});
        defaults.apply(&mut body);
        assert_eq!(body, json!({"plan": "free"}));
    }

    #[test]
    fn schemas_without_defaults_compile_to_nothing_to_apply() {
        let schema = json!({"type": "object", "properties": {
            "user": {"type": "object", "properties": {"name": {"type": "string"}}},
            "tags": {"type": "array", "items": {"type": "string"}}
        }});
        assert!(Defaults::compile(&json!({}), &schema).is_empty());
        let nested = json!({"type": "object", "properties": {
            "user": {"type": "object", "properties": {"admin": {"type": "boolean", "default": false}}}
        }});
        let defaults = Defaults::compile(&json!({}), &nested);
        assert!(!defaults.is_empty());
        let mut body = json!({"user": {}});
        defaults.apply(&mut body);
        assert_eq!(body, json!({"user": {"admin": false}}));
    }

    #[test]
    fn a_default_beside_a_reference_fills_when_its_target_has_none() {
        let document = json!({"components": {"schemas": {
            "Tier": {"type": "string", "enum": ["free", "pro"]},
            "Plan": {"type": "string", "default": "basic"}}}});
        let schema = json!({"type": "object", "properties": {
            "tier": {"$ref": "#/components/schemas/Tier", "default": "free"},
            "plan": {"$ref": "#/components/schemas/Plan", "default": "gold"}}});
        let mut body = json!({});
        apply_defaults(&document, &schema, &mut body);
        assert_eq!(body, json!({"tier": "free", "plan": "basic"}));
        let mut model = SchemaModel::new(&document);
        assert!(DefaultSearch::default().may_reach(&mut model, &schema));
    }
}
