//! Plans: what generation works from. A node is the conjunction of parts that one value must
//! satisfy (a schema with its `allOf` flattened and merged: properties, `required`, the tightest
//! bounds), with a `oneOf`/`anyOf`/discriminator turned into variants (the node merged with one
//! branch). Nodes are memoized by their set of parts, so shared and recursive schemas are planned
//! once, and built from a work list, so deep documents cannot exhaust the stack.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::check::{self, accepts_all};
use super::hint::{self, Hint};
use super::like_example::{ExampleShape, LikeExample};
use super::pattern::{FormatCheck, Pattern};
use super::reach::Reach;
use super::run::FormatKind;
use crate::json_schema::Direction;
use crate::schema_model::{self, ANY, Bound, NEVER, Schema, SchemaId, Types};

/// Index of a node in its generator's node list.
pub(crate) type NodeId = u32;

/// The node with no constraint at all.
pub(crate) const FREE: NodeId = 0;

/// Past this many nodes, merges keep their first schema only and a composition keeps one
/// branch, so that planning grows linearly: real documents stay far below it (GitHub's largest
/// response needs about 800 nodes), combinatorial ones (every `oneOf` under an `allOf` of
/// another, merged property by property) would otherwise grow without bound.
const SOFT_NODES: usize = 2_000;
/// Past this many nodes, further ones are planned as unconstrained: a safety net only.
const MAX_NODES: usize = 20_000;
/// Rounds of the minimal-height computation.
const HEIGHT_ROUNDS: usize = 64;
/// Height of a node no finite value satisfies (as far as the computation saw).
pub(crate) const UNREACHABLE: u16 = u16::MAX;

/// What may stand beside the declared properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Additional {
    Free,
    Forbidden,
    Schema(NodeId),
}

/// A declared property of an object node.
#[derive(Debug, Clone)]
pub(crate) struct Prop {
    pub(crate) name: Arc<str>,
    /// The name as a JSON object writes it after another property: a comma, the name quoted
    /// and escaped, and its colon. The first property is written from the second byte on.
    pub(crate) written: Arc<[u8]>,
    /// The name without case or separators, for echo matching.
    pub(crate) key: Arc<str>,
    pub(crate) node: NodeId,
    pub(crate) required: bool,
    pub(crate) read_only: bool,
    pub(crate) write_only: bool,
    /// Another part of the conjunction forbids the property (`additionalProperties: false`).
    pub(crate) forbidden: bool,
    pub(crate) identity: bool,
    pub(crate) hint: Option<Hint>,
    /// Whether the value is a string redrawn from the node's example and written in place, as
    /// `Runner::in_place_example` decides it for this node and hint ([`InPlace::of`]): decided
    /// once here, so that the walk's objects skip the asking (`Runner::in_place`).
    pub(crate) in_place: InPlace,
    /// When the value is written in place: how the property starts as an object writes it after
    /// another, made once (comma, name, opening quote, and the example's [`LikeExample::lead`];
    /// from the second byte on when it comes first). The whole property, closing quote
    /// included, when the example has nothing redrawn ([`Prop::head_is_whole`]).
    pub(crate) written_head: Option<Box<[u8]>>,
    /// Whether `written_head` is the whole property.
    pub(crate) head_is_whole: bool,
}

/// [`Prop::written_head`] and [`Prop::head_is_whole`], as they are made.
type WrittenHead = (Box<[u8]>, bool);

/// How `Runner::in_place_example` answers for a node and a hint, which are all it depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InPlace {
    /// The string is not written in place.
    No,
    /// A URL made after the example: written in place with no draw before it.
    Url,
    /// Tokens or a URL-shaped example: written in place once the scene's clock is drawn.
    AfterClock,
}

/// One way to satisfy a node's first `oneOf`/`anyOf`/discriminator.
#[derive(Debug, Clone)]
pub(crate) struct Variant {
    pub(crate) node: NodeId,
    /// The discriminator property and the value that selects this branch.
    pub(crate) forced: Option<(Arc<str>, Value)>,
    /// Whether a value made from this variant is rejected by every other variant's branch by
    /// its type alone, and nothing but the variants calls for a check of the node
    /// ([`alone_by_type`]): then the value is made from this variant without being checked as
    /// a whole, as for [`Node::exclusive`] variants.
    pub(crate) alone: bool,
}

/// The merged constraints one value must meet.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Parts the value must satisfy, checked as the server checks them.
    pub(crate) roots: Vec<SchemaId>,
    /// Non-null types every part admits.
    pub(crate) types: Types,
    /// The type generation produces when nothing else decides.
    pub(crate) kind: u8,
    pub(crate) null_ok: bool,
    pub(crate) choices: Option<Vec<Value>>,
    pub(crate) lower: Option<Bound>,
    pub(crate) upper: Option<Bound>,
    pub(crate) multiples: Vec<f64>,
    pub(crate) min_length: u64,
    pub(crate) max_length: Option<u64>,
    pub(crate) patterns: Vec<Arc<Pattern>>,
    pub(crate) format: Option<Arc<str>>,
    /// What `format` is, told apart once ([`FormatKind::Other`] without one).
    pub(crate) format_kind: FormatKind,
    pub(crate) format_checks: Vec<Arc<FormatCheck>>,
    pub(crate) items: Option<NodeId>,
    /// 2020-12 `prefixItems`: the first items' nodes, one each; `items` holds after them.
    pub(crate) prefix: Vec<NodeId>,
    /// 2020-12 `contains`: the node of the items that must match it (with `items`), and how many
    /// are placed right after the prefix.
    pub(crate) contains: Option<(NodeId, u64)>,
    pub(crate) min_items: u64,
    pub(crate) max_items: Option<u64>,
    pub(crate) unique_items: bool,
    pub(crate) properties: Vec<Prop>,
    /// Required names no part declares.
    pub(crate) extra_required: Vec<Arc<str>>,
    /// Whether names no part declares may be drawn (for a dictionary, or to reach
    /// `minProperties`): not where `propertyNames` or `patternProperties` constrain them.
    pub(crate) draws_keys: bool,
    pub(crate) additional: Additional,
    pub(crate) min_properties: u64,
    pub(crate) max_properties: Option<u64>,
    pub(crate) variants: Vec<Variant>,
    /// Whether a generated value must be checked against `roots` (composition is involved).
    pub(crate) check: bool,
    /// Whether a value made from any one variant fails every other variant's branch whatever is
    /// drawn, and nothing but the variants calls for a check ([`variants_exclude_each_other`]):
    /// then the value is made from its variant without being checked as a whole.
    pub(crate) exclusive: bool,
    /// Whether the node is a plain scalar (a string, a number or a boolean, not `null` alone,
    /// with no variant, no `enum` and no check): `Runner::shape` gives
    /// `Runner::scalar` for it, and the walk calls that directly ([`leaf`]).
    pub(crate) leaf: bool,
    /// When `roots` decide a scalar by its type alone, the types they all admit: an echoed
    /// scalar is then checked by one mask test, without a checker ([`check::scalar_types`]).
    pub(crate) scalar_types: Option<Types>,
    pub(crate) faker: Option<Hint>,
    pub(crate) example: Option<Value>,
    /// A string `example`, read once so that generating never re-reads it ([`LikeExample`]).
    pub(crate) like_example: Option<Box<LikeExample>>,
    /// Whether a value in the node's URL format (`uri`, `iri`) is made after its example rather
    /// than drawn, so that an API's links point at the API, as its documentation shows, and not
    /// at a random domain. The example is an `http` or `https` URL that passes the node's checks,
    /// which are for that format alone (no pattern, no length bounds): a value made after it is a
    /// URL too (`LikeExample` keeps the host and redraws letters and digits as letters and
    /// digits), so it needs no check.
    pub(crate) url_from_example: bool,
    pub(crate) default: Option<Value>,
    /// The component name, or the property name the node was first reached under.
    pub(crate) context: Option<Arc<str>>,
    /// An inheritance-style discriminator: the property and the value naming this schema.
    pub(crate) lineage: Option<(Arc<str>, Value)>,
    /// Nesting needed by the smallest valid value ([`UNREACHABLE`] if none was found).
    pub(crate) height: u16,
    /// A limit cut this node's plan short (a merge kept its first schema, a composition one
    /// branch, or a node was planned as unconstrained), or it could not meet a keyword (a
    /// `dependentRequired` naming a `writeOnly` property): values made from it are not vouched
    /// for.
    pub(crate) cut: bool,
}

impl Node {
    fn free(roots: Vec<SchemaId>) -> Node {
        Node {
            roots,
            types: Types::ALL.without(Types::NULL),
            kind: Types::STRING,
            null_ok: true,
            choices: None,
            lower: None,
            upper: None,
            multiples: Vec::new(),
            min_length: 0,
            max_length: None,
            patterns: Vec::new(),
            format: None,
            format_kind: FormatKind::Other,
            format_checks: Vec::new(),
            items: None,
            prefix: Vec::new(),
            contains: None,
            min_items: 0,
            max_items: None,
            unique_items: false,
            properties: Vec::new(),
            extra_required: Vec::new(),
            draws_keys: true,
            additional: Additional::Free,
            min_properties: 0,
            max_properties: None,
            variants: Vec::new(),
            check: false,
            exclusive: false,
            leaf: false,
            scalar_types: None,
            faker: None,
            example: None,
            like_example: None,
            url_from_example: false,
            default: None,
            context: None,
            lineage: None,
            height: 0,
            cut: false,
        }
    }

    /// The nodes this one makes its items, properties and variants from.
    pub(crate) fn children(&self) -> impl Iterator<Item = NodeId> + '_ {
        let additional = match self.additional {
            Additional::Schema(id) => Some(id),
            Additional::Free | Additional::Forbidden => None,
        };
        self.items
            .iter()
            .chain(&self.prefix)
            .chain(self.contains.as_ref().map(|(id, _)| id))
            .chain(self.properties.iter().map(|prop| &prop.node))
            .copied()
            .chain(additional)
            .chain(self.variants.iter().map(|variant| variant.node))
    }

    /// Finds a declared property.
    pub(crate) fn property(&self, name: &str) -> Option<&Prop> {
        self.properties.iter().find(|prop| &*prop.name == name)
    }
}

/// The nodes planned so far for one document's generators, memoized by their set of parts, so
/// that a schema many responses reach is planned once for all of them.
pub(crate) struct Plans {
    memo: HashMap<(Vec<SchemaId>, Vec<SchemaId>), NodeId>,
    nodes: Vec<Node>,
    /// Which nodes reach no node planned short.
    whole: Reach,
}

impl Plans {
    /// Nothing planned yet but the unconstrained node.
    pub(crate) fn new() -> Self {
        Plans {
            memo: HashMap::new(),
            nodes: vec![Node::free(Vec::new())],
            whole: Reach::default(),
        }
    }

    /// The nodes planned so far (not yet [`Plans::finish`]ed).
    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Plans every node reachable from the root part that is not planned yet; returns the root
    /// node, and whether its plan is whole (no limit cut a conjunction short or planned a node
    /// as unconstrained anywhere below it).
    pub(crate) fn plan(&mut self, parts: &[Schema], root: SchemaId) -> (NodeId, bool) {
        let mut planner = Planner {
            parts,
            start: self.nodes.len(),
            memo: std::mem::take(&mut self.memo),
            nodes: std::mem::take(&mut self.nodes),
            pending: Vec::new(),
            cut: Cell::new(false),
        };
        let root = planner.node(vec![root], Vec::new(), None);
        let root_cut = planner.cut.take();
        while let Some(pending) = planner.pending.pop() {
            planner.build(pending);
        }
        self.memo = planner.memo;
        self.nodes = planner.nodes;
        let nodes = &self.nodes;
        let cut_below = self.whole.reaches(root, |id, stack| {
            let node = &nodes[id as usize];
            stack.extend(node.children());
            node.cut
        });
        (root, !root_cut && !cut_below)
    }

    /// The nodes, each told what only the whole graph can tell (which values pass, which
    /// variants can hold, minimal heights).
    pub(crate) fn finish(self, parts: &[Schema]) -> Vec<Node> {
        let mut nodes = self.nodes;
        finalize(parts, &mut nodes);
        nodes
    }
}

/// Plans every node reachable from the root part alone; returns the nodes, the root node, and
/// whether the plan is whole.
#[cfg(test)]
pub(crate) fn plan(parts: &[Schema], root: SchemaId) -> (Vec<Node>, NodeId, bool) {
    let mut plans = Plans::new();
    let (root, whole) = plans.plan(parts, root);
    (plans.finish(parts), root, whole)
}

struct Pending {
    id: NodeId,
    roots: Vec<SchemaId>,
    flat: Vec<SchemaId>,
    resolved: Vec<SchemaId>,
}

struct Planner<'p> {
    parts: &'p [Schema],
    /// How many nodes there were before this root: the limits count the nodes it adds.
    start: usize,
    memo: HashMap<(Vec<SchemaId>, Vec<SchemaId>), NodeId>,
    nodes: Vec<Node>,
    pending: Vec<Pending>,
    /// Set when a limit cut a conjunction short or planned a node as unconstrained, since the
    /// last node began building.
    cut: Cell<bool>,
}

impl Planner<'_> {
    /// Whether this root's planning added `limit` nodes or more.
    fn grown_past(&self, limit: usize) -> bool {
        self.nodes.len() - self.start >= limit
    }

    /// The node for the conjunction of `roots`, whose composition groups owned by `resolved`
    /// parts are already decided; created (and queued for building) on first request.
    fn node(
        &mut self,
        roots: Vec<SchemaId>,
        resolved: Vec<SchemaId>,
        context: Option<&Arc<str>>,
    ) -> NodeId {
        let flat = self.flatten(&roots);
        if flat.is_empty() {
            return FREE;
        }
        let mut key_parts = flat.clone();
        key_parts.sort_unstable();
        key_parts.dedup();
        let mut key_resolved: Vec<SchemaId> = resolved
            .iter()
            .copied()
            .filter(|part| key_parts.binary_search(part).is_ok())
            .collect();
        key_resolved.sort_unstable();
        key_resolved.dedup();
        let key = (key_parts, key_resolved);
        if let Some(&id) = self.memo.get(&key) {
            return id;
        }
        if self.grown_past(MAX_NODES) {
            self.cut.set(true);
            return FREE;
        }
        let Ok(id) = NodeId::try_from(self.nodes.len()) else {
            return FREE;
        };
        let mut node = Node::free(roots.clone());
        node.context = flat
            .iter()
            .find_map(|part| self.parts[*part as usize].name.clone())
            .or_else(|| context.cloned());
        self.nodes.push(node);
        let resolved = key.1.clone();
        self.memo.insert(key, id);
        self.pending.push(Pending {
            id,
            roots,
            flat,
            resolved,
        });
        id
    }

    /// The schemas of a merge, cut to the first one once planning has grown past its soft limit.
    fn bounded(&self, mut parts: Vec<SchemaId>) -> Vec<SchemaId> {
        if parts.len() > 1 && self.grown_past(SOFT_NODES) {
            self.cut.set(true);
            parts.truncate(1);
        }
        parts
    }

    /// The parts of a conjunction with every `allOf` expanded ([`schema_model::flatten`]).
    fn flatten(&self, roots: &[SchemaId]) -> Vec<SchemaId> {
        let (flat, cut) = schema_model::flatten(self.parts, roots);
        if cut {
            self.cut.set(true);
        }
        flat
    }

    fn build(&mut self, pending: Pending) {
        let parts = self.parts;
        let Pending {
            id,
            roots,
            flat,
            resolved,
        } = pending;
        let context = self.nodes[id as usize].context.clone();
        let mut node = Node::free(roots.clone());
        node.context = context.clone();
        self.cut.set(false);
        let mut types = Types::ALL.without(Types::NULL);
        let mut items: Vec<SchemaId> = Vec::new();
        let mut prefix: Vec<Vec<SchemaId>> = Vec::new();
        let mut contains: Vec<SchemaId> = Vec::new();
        let mut least_contained = 0;
        let mut min_items = 0;
        let mut max_items: Option<u64> = None;
        let mut capped = false;
        let mut min_properties = 0;
        let mut max_properties: Option<u64> = None;
        let mut max_length: Option<u64> = None;
        let mut check = false;
        for &part_id in &flat {
            let part = &parts[part_id as usize];
            if part.never {
                types = Types(0);
            }
            if let Some(part_types) = part.types {
                types = types.and(part_types);
            }
            if node.choices.is_none() {
                if let Some(constant) = &part.constant {
                    node.choices = Some(vec![Value::clone(constant)]);
                } else if let Some(options) = &part.enumeration {
                    node.choices = Some(options.to_vec());
                }
            }
            node.lower = Bound::tighter_lower(node.lower, part.limits().lower());
            node.upper = Bound::tighter_upper(node.upper, part.limits().upper());
            if let Some(multiple) = part.limits().multiple_of() {
                node.multiples.push(multiple);
            }
            if let Some(format) = &part.format {
                match format.as_ref() {
                    "int32" => {
                        node.lower = Bound::tighter_lower(
                            node.lower,
                            Some(Bound {
                                value: f64::from(i32::MIN),
                                exclusive: false,
                            }),
                        );
                        node.upper = Bound::tighter_upper(
                            node.upper,
                            Some(Bound {
                                value: f64::from(i32::MAX),
                                exclusive: false,
                            }),
                        );
                    }
                    "int64" => {
                        node.lower = Bound::tighter_lower(
                            node.lower,
                            Some(Bound {
                                value: -9.0e18,
                                exclusive: false,
                            }),
                        );
                        node.upper = Bound::tighter_upper(
                            node.upper,
                            Some(Bound {
                                value: 9.0e18,
                                exclusive: false,
                            }),
                        );
                    }
                    _ => {}
                }
                if node.format.is_none() {
                    node.format_kind = FormatKind::of(format);
                    node.format = Some(format.clone());
                }
            }
            if let Some(format) = &part.format_check {
                node.format_checks.push(format.clone());
            }
            if let Some(pattern) = &part.pattern {
                node.patterns.push(pattern.clone());
            }
            node.min_length = node.min_length.max(part.limits().min_length().unwrap_or(0));
            max_length = tighter_max(max_length, part.limits().max_length());
            min_items = part.limits().min_items().unwrap_or(0).max(min_items);
            max_items = tighter_max(max_items, part.limits().max_items());
            node.unique_items |= part.unique_items;
            if let Some(item) = part.items {
                items.push(item);
            }
            if let Some((contained, least)) = part.later().contains {
                contains.push(contained);
                least_contained = least_contained.max(least);
                // No more items than `maxContains` allows to match: then however many match,
                // not too many do.
                if let Some(most) = part.later().max_contains {
                    max_items = tighter_max(max_items, Some(most));
                    capped = true;
                }
            }
            min_properties = part
                .limits()
                .min_properties()
                .unwrap_or(0)
                .max(min_properties);
            max_properties = tighter_max(max_properties, part.limits().max_properties());
            check |= part.not.is_some();
            if node.faker.is_none() {
                node.faker = part.faker;
            }
            if node.example.is_none() {
                node.example = part.example.as_deref().cloned();
            }
            if node.default.is_none() {
                node.default = part
                    .default
                    .as_deref()
                    .filter(|value| schema_model::is_scalar(value))
                    .cloned();
            }
        }
        node.like_example = match &node.example {
            Some(Value::String(example)) => Some(Box::new(LikeExample::new(example))),
            _ => None,
        };
        node.url_from_example = matches!(node.format_kind, FormatKind::Url | FormatKind::Iri)
            && node
                .like_example
                .as_ref()
                .is_some_and(|like| like.shape() == ExampleShape::Url)
            && node.patterns.is_empty()
            && node.min_length == 0
            && max_length.is_none()
            && matches!(&node.example, Some(Value::String(example))
            if node.format_checks.iter().all(|check| {
                matches!(check.name(), "uri" | "iri") && check.accepts(example)
            }));
        node.types = types;
        node.max_length = max_length;
        node.min_items = min_items;
        node.max_items = max_items;
        node.min_properties = min_properties;
        node.max_properties = max_properties;
        check |= node.patterns.len() > 1;
        // Each leading position holds to every part's schema for it: the part's `prefixItems`
        // entry, or its `items` past its own prefix.
        let leading = flat
            .iter()
            .map(|part| parts[*part as usize].later().prefix_items.len())
            .max()
            .unwrap_or(0);
        let needed = min_items.max(least_contained.saturating_add(leading as u64));
        if capped && max_items.is_some_and(|most| most < needed) {
            // More items may be needed than `maxContains` lets the array hold (a prefix and the
            // matches `minContains` asks for), and which of them match is not counted: what is
            // made is checked.
            self.cut.set(true);
        }
        for index in 0..leading {
            let mut group = Vec::new();
            for &part_id in &flat {
                let part = &parts[part_id as usize];
                match part.later().prefix_items.get(index) {
                    Some(schema) => group.push(*schema),
                    None => group.extend(part.items),
                }
            }
            prefix.push(group);
        }
        // Past the prefix, where no `items` evaluates them, items hold to `unevaluatedItems`.
        if items.is_empty() {
            items.extend(
                flat.iter()
                    .filter_map(|part| parts[*part as usize].later().unevaluated_items),
            );
        }
        // With a prefix, `items: false` closes the array after it.
        if !prefix.is_empty() && items.contains(&NEVER) {
            let length = u64::try_from(prefix.len()).unwrap_or(u64::MAX);
            node.max_items = tighter_max(node.max_items, Some(length));
        }
        node.prefix = prefix
            .into_iter()
            .map(|group| {
                let group = self.bounded(group);
                self.node(group, Vec::new(), None)
            })
            .collect();
        if !contains.is_empty() && least_contained > 0 {
            let mut roots = items.clone();
            roots.extend(contains);
            let roots = self.bounded(roots);
            node.contains = Some((self.node(roots, Vec::new(), None), least_contained));
        }
        if !items.is_empty() {
            let items = self.bounded(items);
            node.items = Some(self.node(items, Vec::new(), None));
        }
        self.object(&mut node, &flat);
        node.lineage = self.lineage(&flat, node.context.as_ref());
        node.variants = self.variants(&roots, &flat, &resolved);
        node.check = check || !node.variants.is_empty();
        // Set again by `finalize` once every variant is built, if the variants alone call for
        // the check and they exclude each other.
        node.exclusive = !check;
        node.scalar_types = check::scalar_types(self.parts, &node.roots);
        node.kind = kind(&node);
        node.cut = self.cut.take();
        self.nodes[id as usize] = node;
    }

    fn object(&mut self, node: &mut Node, flat: &[SchemaId]) {
        let parts = self.parts;
        let mut names: Vec<Arc<str>> = Vec::new();
        for &part_id in flat {
            for property in &parts[part_id as usize].properties {
                if !names.contains(&property.name) {
                    names.push(property.name.clone());
                }
            }
        }
        let mut required: Vec<Arc<str>> = Vec::new();
        for &part_id in flat {
            for name in parts[part_id as usize].required_in(Direction::Response) {
                if !required.contains(name) {
                    required.push(name.clone());
                }
            }
        }
        self.require_dependents(flat, &names, &mut required);
        let context = node.context.clone();
        for name in names {
            let mut contributors = Vec::new();
            let mut prop = Prop {
                written: written_name(&name),
                key: Arc::from(hint::normalize(&name)),
                node: FREE,
                required: required.contains(&name),
                read_only: false,
                write_only: false,
                forbidden: false,
                identity: false,
                hint: hint::from_name(&name, context.as_deref()),
                in_place: InPlace::No,
                written_head: None,
                head_is_whole: false,
                name: name.clone(),
            };
            for &part_id in flat {
                let part = &parts[part_id as usize];
                match part
                    .properties
                    .iter()
                    .find(|property| property.name == name)
                {
                    Some(property) => {
                        contributors.push(property.part);
                        prop.read_only |= property.read_only;
                        prop.write_only |= property.write_only;
                        prop.identity |= property.identity;
                    }
                    // A name a pattern matches holds to its schema, not `additionalProperties`.
                    None if part
                        .later()
                        .pattern_properties
                        .iter()
                        .any(|(pattern, _)| pattern.matches(&name)) => {}
                    None => match part.additional {
                        Some(NEVER) => prop.forbidden = true,
                        Some(additional) => contributors.push(additional),
                        None => {}
                    },
                }
                for (pattern, schema) in &part.later().pattern_properties {
                    if pattern.matches(&name) {
                        contributors.push(*schema);
                    }
                }
                if let Some(names) = part.later().property_names
                    && !accepts_all(parts, &[names], &Value::String(name.to_string()))
                {
                    // `propertyNames` refuses the name: it may not appear (nor, if required,
                    // can the object be made).
                    prop.forbidden = true;
                    if prop.required {
                        self.cut.set(true);
                    }
                }
            }
            // `properties: {name: false}` (2020-12) says the name may not appear.
            if contributors.contains(&NEVER) && !prop.required {
                prop.forbidden = true;
            }
            let contributors = self.bounded(contributors);
            prop.node = self.node(contributors, Vec::new(), Some(&name));
            node.properties.push(prop);
        }
        node.extra_required = required
            .into_iter()
            .filter(|name| node.property(name).is_none())
            .collect();
        // Names no schema declares are drawn only where no `propertyNames`, `patternProperties`
        // or `unevaluatedProperties` says what they may be, or what their values must be.
        let keyed = flat.iter().any(|part| {
            let part = &parts[*part as usize];
            part.later().property_names.is_some()
                || !part.later().pattern_properties.is_empty()
                || part.later().unevaluated.is_some()
        });
        node.draws_keys = !keyed;
        if keyed && !node.extra_required.is_empty() {
            self.cut.set(true);
        }
        let mut additional = Vec::new();
        let mut forbidden = false;
        for &part_id in flat {
            match parts[part_id as usize].additional {
                Some(NEVER) => forbidden = true,
                Some(ANY) | None => {}
                Some(schema) => additional.push(schema),
            }
        }
        node.additional = if forbidden {
            Additional::Forbidden
        } else if additional.is_empty() {
            Additional::Free
        } else {
            let additional = self.bounded(additional);
            Additional::Schema(self.node(additional, Vec::new(), None))
        };
    }

    /// 2020-12 `dependentRequired`, met by making every dependent of a name that may appear
    /// required: always there, it is there whenever its trigger is. A dependent a response leaves
    /// out (`writeOnly`) cannot be made present, so such a plan is not vouched for.
    fn require_dependents(
        &self,
        flat: &[SchemaId],
        names: &[Arc<str>],
        required: &mut Vec<Arc<str>>,
    ) {
        let parts = self.parts;
        let write_only = |name: &Arc<str>| {
            flat.iter().any(|part| {
                parts[*part as usize]
                    .properties
                    .iter()
                    .any(|property| property.name == *name && property.write_only)
            })
        };
        // Dependents may trigger dependents of their own: repeat until nothing is added.
        loop {
            let mut added = false;
            for &part_id in flat {
                for (trigger, dependents) in &parts[part_id as usize].later().dependent_required {
                    if !names.contains(trigger) && !required.contains(trigger) {
                        continue;
                    }
                    for dependent in dependents {
                        if write_only(dependent) {
                            self.cut.set(true);
                        } else if !required.contains(dependent) {
                            required.push(dependent.clone());
                            added = true;
                        }
                    }
                }
            }
            if !added {
                return;
            }
        }
    }

    /// The value an inheritance-style discriminator takes for this node: the mapping value
    /// naming one of the node's own schemas, else the name of the schema.
    fn lineage(&self, flat: &[SchemaId], context: Option<&Arc<str>>) -> Option<(Arc<str>, Value)> {
        let parts = self.parts;
        let lineage = flat
            .iter()
            .find_map(|part| parts[*part as usize].lineage.as_ref())?;
        let own: Vec<&Arc<str>> = flat
            .iter()
            .filter_map(|part| parts[*part as usize].reference.as_ref())
            .collect();
        let mapped = own.iter().find_map(|reference| {
            lineage
                .mapping
                .iter()
                .find(|(_, target)| target == *reference)
                .map(|(value, _)| value.clone())
        });
        let value = mapped.or_else(|| {
            flat.first()
                .and_then(|part| parts[*part as usize].name.clone())
                .or_else(|| context.cloned())
        })?;
        Some((lineage.property.clone(), Value::String(value.to_string())))
    }

    fn variants(
        &mut self,
        roots: &[SchemaId],
        flat: &[SchemaId],
        resolved: &[SchemaId],
    ) -> Vec<Variant> {
        let parts = self.parts;
        for &owner in flat {
            if resolved.contains(&owner) {
                continue;
            }
            let part = &parts[owner as usize];
            let mut resolved_here = resolved.to_vec();
            resolved_here.push(owner);
            if let Some(dispatch) = &part.dispatch {
                // A schema that is itself one of the branches (`Cat: allOf: [Pet, …]`) keeps to
                // its own branch.
                let own: Vec<&(Arc<str>, SchemaId)> = dispatch
                    .entries
                    .iter()
                    .filter(|(_, target)| flat.contains(target))
                    .collect();
                let mut entries: Vec<&(Arc<str>, SchemaId)> = if own.is_empty() {
                    dispatch.entries.iter().collect()
                } else {
                    own
                };
                if entries.len() > 1 && self.grown_past(SOFT_NODES) {
                    self.cut.set(true);
                    entries.truncate(1);
                }
                let mut variants = Vec::with_capacity(entries.len());
                for (value, target) in entries {
                    let mut branch_roots = roots.to_vec();
                    branch_roots.push(*target);
                    variants.push(Variant {
                        node: self.node(branch_roots, resolved_here.clone(), None),
                        forced: Some((dispatch.property.clone(), Value::String(value.to_string()))),
                        alone: false,
                    });
                }
                if variants.is_empty() {
                    continue;
                }
                return variants;
            }
            let branches = if part.one_of.is_empty() {
                &part.any_of
            } else {
                &part.one_of
            };
            if branches.is_empty() {
                continue;
            }
            let keep = if branches.len() > 1 && self.grown_past(SOFT_NODES) {
                self.cut.set(true);
                1
            } else {
                branches.len()
            };
            return branches
                .iter()
                .take(keep)
                .map(|branch| {
                    let mut branch_roots = roots.to_vec();
                    branch_roots.push(*branch);
                    Variant {
                        node: self.node(branch_roots, resolved_here.clone(), None),
                        forced: None,
                        alone: false,
                    }
                })
                .collect();
        }
        Vec::new()
    }
}

/// `name` as a JSON object writes it after another property, with the comma before it and the
/// colon after it: `,"name":` ([`Prop::written`]).
fn written_name(name: &str) -> Arc<[u8]> {
    let mut written = vec![b','];
    if serde_json::to_writer(&mut written, name).is_err() {
        written.extend_from_slice(b"\"\"");
    }
    written.push(b':');
    Arc::from(written)
}

fn tighter_max(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The type to generate: the only one allowed, else the one the keywords point at.
fn kind(node: &Node) -> u8 {
    let types = node.types;
    let allowed = |bit: u8| types.has(bit);
    let single = [
        Types::BOOLEAN,
        Types::INTEGER,
        Types::STRING,
        Types::ARRAY,
        Types::OBJECT,
    ]
    .into_iter()
    .filter(|bit| allowed(*bit))
    .count();
    let numeric = types.has(Types::NUMBER);
    if single == 1 && !numeric {
        return [
            Types::BOOLEAN,
            Types::INTEGER,
            Types::STRING,
            Types::ARRAY,
            Types::OBJECT,
        ]
        .into_iter()
        .find(|bit| allowed(*bit))
        .unwrap_or(Types::STRING);
    }
    if types.0 == (Types::NUMBER | Types::INTEGER) {
        return Types::NUMBER;
    }
    let wants = [
        (
            Types::OBJECT,
            !node.properties.is_empty()
                || !node.extra_required.is_empty()
                || matches!(node.additional, Additional::Schema(_))
                || node.min_properties > 0,
        ),
        (Types::ARRAY, node.items.is_some() || node.min_items > 0),
        (
            Types::STRING,
            !node.patterns.is_empty()
                || node.min_length > 0
                || node.max_length.is_some()
                || node.format.is_some(),
        ),
        (
            Types::NUMBER,
            node.lower.is_some() || node.upper.is_some() || !node.multiples.is_empty(),
        ),
    ];
    for (bit, wanted) in wants {
        if wanted && allowed(bit) {
            return bit;
        }
    }
    [
        Types::STRING,
        Types::INTEGER,
        Types::NUMBER,
        Types::BOOLEAN,
        Types::OBJECT,
        Types::ARRAY,
    ]
    .into_iter()
    .find(|bit| allowed(*bit))
    .unwrap_or(Types::NULL)
}

/// Decides what needs every node planned: null acceptance, the `enum` values that really
/// validate, which discriminator branches can hold their own value, and minimal heights.
fn finalize(parts: &[Schema], nodes: &mut [Node]) {
    for index in 0..nodes.len() {
        let node = &nodes[index];
        let null_ok = node.roots.is_empty() || accepts_all(parts, &node.roots, &Value::Null);
        let choices = node.choices.as_ref().map(|choices| {
            choices
                .iter()
                .filter(|choice| accepts_all(parts, &node.roots, choice))
                .cloned()
                .collect::<Vec<_>>()
        });
        let lineage = node.lineage.clone().filter(|(name, value)| {
            node.property(name)
                .is_some_and(|prop| accepts_all(parts, &nodes[prop.node as usize].roots, value))
        });
        let viable: Vec<bool> = node
            .variants
            .iter()
            .map(|variant| match &variant.forced {
                None => true,
                Some((name, value)) => {
                    let target = &nodes[variant.node as usize];
                    match target.property(name) {
                        Some(prop) => {
                            !prop.forbidden
                                && accepts_all(parts, &nodes[prop.node as usize].roots, value)
                        }
                        None => target.additional != Additional::Forbidden,
                    }
                }
            })
            .collect();
        let node = &mut nodes[index];
        node.null_ok = null_ok;
        node.choices = choices;
        node.lineage = lineage;
        if viable.iter().any(|viable| *viable) {
            let mut index = 0;
            node.variants.retain(|_| {
                index += 1;
                viable[index - 1]
            });
        }
    }
    for index in 0..nodes.len() {
        // `exclusive` says here only that nothing but the variants calls for the check.
        if nodes[index].exclusive {
            let alone = alone_by_type(nodes, &nodes[index]);
            for (variant, alone) in nodes[index].variants.iter_mut().zip(alone) {
                variant.alone = alone;
            }
        }
        let exclusive = nodes[index].exclusive && variants_exclude_each_other(nodes, &nodes[index]);
        nodes[index].exclusive = exclusive;
        nodes[index].leaf = leaf(&nodes[index]);
    }
    for index in 0..nodes.len() {
        let heads: Vec<(InPlace, Option<WrittenHead>)> = nodes[index]
            .properties
            .iter()
            .map(|prop| {
                let Some(node) = nodes.get(prop.node as usize).filter(|node| node.leaf) else {
                    return (InPlace::No, None);
                };
                let in_place = InPlace::of(node, prop.hint);
                let head = node
                    .like_example
                    .as_deref()
                    .and_then(LikeExample::lead)
                    .filter(|_| in_place != InPlace::No)
                    .map(|(lead, whole)| {
                        // In place means plain: nothing in the example to escape.
                        let end: &[u8] = if whole { b"\"" } else { b"" };
                        let head = [&prop.written[..], b"\"", lead.as_bytes(), end].concat();
                        (head.into_boxed_slice(), whole)
                    });
                (in_place, head)
            })
            .collect();
        for (prop, (in_place, head)) in nodes[index].properties.iter_mut().zip(heads) {
            prop.in_place = in_place;
            prop.head_is_whole = head.as_ref().is_some_and(|(_, whole)| *whole);
            prop.written_head = head.map(|(head, _)| head);
        }
    }
    if heights(nodes) {
        forbid_unsatisfiable(nodes);
    }
}

/// Forbids what no value satisfies where leaving it out is allowed: an optional property whose
/// node is unreachable (Azure's `Factory` takes in `Resource`'s string properties through `allOf`
/// and allows only objects beside its own, so `eTag` can only be absent), and undeclared
/// properties whose schema is. Called only once the heights are final, so that a node left
/// unreachable by the computation's bound is never taken for one no value satisfies.
fn forbid_unsatisfiable(nodes: &mut [Node]) {
    let unreachable: Vec<bool> = nodes
        .iter()
        .map(|node| node.height == UNREACHABLE)
        .collect();
    let never = |id: NodeId| unreachable.get(id as usize).copied().unwrap_or(false);
    for node in nodes.iter_mut() {
        for prop in &mut node.properties {
            if !prop.required && never(prop.node) {
                prop.forbidden = true;
            }
        }
        if let Additional::Schema(schema) = node.additional
            && node.extra_required.is_empty()
            && never(schema)
        {
            node.additional = Additional::Forbidden;
        }
    }
}

/// Whether `Runner::shape` makes `node` as `Runner::scalar` alone: no variant to draw, no `enum`
/// to choose from, no check to retry, not a lone `null`, and a scalar kind.
fn leaf(node: &Node) -> bool {
    node.variants.is_empty()
        && !node.check
        && node.choices.is_none()
        && !(node.null_ok && node.types.is_empty())
        && matches!(
            node.kind,
            Types::STRING | Types::INTEGER | Types::NUMBER | Types::BOOLEAN
        )
}

/// For each of `node`'s variants, whether every value made from it is rejected by each other
/// variant's branch because of its type: the types the variant admits (null included when it
/// may be null) and those each other variant admits have none in common (`number` carries
/// `integer`, so a number variant never stands apart from an integer one).
///
/// A variant's types are those of the parent and its branch together, and a value made from it
/// has one of them; so a type no other variant admits is one that other variant's branch
/// refuses. The variant is made as it is made alone: no discriminator value, no variants or
/// `enum` of its own. At least two variants are needed: a node with too many to build keeps
/// only its first, and the others' branches still stand.
fn alone_by_type(nodes: &[Node], node: &Node) -> Vec<bool> {
    let admitted = |made: &Node| {
        if made.null_ok {
            Types(made.types.0 | Types::NULL)
        } else {
            made.types
        }
    };
    let made: Vec<Option<&Node>> = node
        .variants
        .iter()
        .map(|variant| nodes.get(variant.node as usize))
        .collect();
    node.variants
        .iter()
        .zip(&made)
        .enumerate()
        .map(|(at, (variant, one))| {
            let Some(one) = one else {
                return false;
            };
            node.variants.len() >= 2
                && variant.forced.is_none()
                && one.variants.is_empty()
                && one.choices.as_ref().is_none_or(Vec::is_empty)
                && !one.types.is_empty()
                && made.iter().enumerate().all(|(other_at, other)| {
                    other_at == at
                        || other.is_some_and(|other| admitted(one).and(admitted(other)).is_empty())
                })
        })
        .collect()
}

/// Whether a value made from any one of `node`'s variants is rejected by every other variant's
/// branch, whatever is drawn: each other variant requires a property this one never writes.
///
/// A variant's object holds its declared properties, its required names no part declares, and
/// nothing else when it has no `minProperties` (and the caller adds no discriminator value). It
/// must be an object (never null, never an `enum` choice) made without variants of its own.
fn variants_exclude_each_other(nodes: &[Node], node: &Node) -> bool {
    let made: Vec<&Node> = node
        .variants
        .iter()
        .filter(|variant| variant.forced.is_none())
        .filter_map(|variant| nodes.get(variant.node as usize))
        .collect();
    if made.len() < 2 || made.len() != node.variants.len() {
        return false;
    }
    let plain_object = |made: &Node| {
        made.kind == Types::OBJECT
            && !made.null_ok
            && made.variants.is_empty()
            && made.choices.as_ref().is_none_or(Vec::is_empty)
            && made.min_properties == 0
            && !made.properties.is_empty()
    };
    let writes = |made: &Node, name: &str| {
        made.property(name).is_some() || made.extra_required.iter().any(|extra| **extra == *name)
    };
    // By position: two variants of one node (`oneOf: [A, A]`) never exclude each other.
    made.iter().enumerate().all(|(at, one)| {
        plain_object(one)
            && made.iter().enumerate().all(|(other_at, other)| {
                at == other_at
                    || other
                        .properties
                        .iter()
                        .filter(|prop| prop.required)
                        .map(|prop| &prop.name)
                        .chain(other.extra_required.iter())
                        .any(|name| !writes(one, name))
            })
    })
}

/// Computes, by repeated relaxation, the nesting the smallest valid value of each node needs;
/// whether the computation settled (else some nodes may be left unreachable by its bound).
fn heights(nodes: &mut [Node]) -> bool {
    for node in nodes.iter_mut() {
        node.height = UNREACHABLE;
    }
    for _ in 0..HEIGHT_ROUNDS {
        let mut changed = false;
        for index in 0..nodes.len() {
            let height = height(nodes, &nodes[index]);
            if height < nodes[index].height {
                nodes[index].height = height;
                changed = true;
            }
        }
        if !changed {
            return true;
        }
    }
    false
}

fn height(nodes: &[Node], node: &Node) -> u16 {
    let of = |id: NodeId| nodes[id as usize].height;
    if !node.variants.is_empty() {
        return node
            .variants
            .iter()
            .map(|variant| of(variant.node))
            .min()
            .unwrap_or(UNREACHABLE);
    }
    if node.null_ok {
        return 0;
    }
    match &node.choices {
        Some(choices) if choices.is_empty() => return UNREACHABLE,
        Some(_) => return 0,
        None => {}
    }
    let types = node.types;
    if types.has(Types::BOOLEAN)
        || types.has(Types::INTEGER)
        || types.has(Types::NUMBER)
        || types.has(Types::STRING)
    {
        return 0;
    }
    let mut best = UNREACHABLE;
    if types.has(Types::ARRAY) {
        let array = if node.min_items == 0 {
            1
        } else {
            node.items.map_or(1, |items| of(items).saturating_add(1))
        };
        best = best.min(array);
    }
    if types.has(Types::OBJECT) {
        let mut object: u16 = 1;
        for prop in node.properties.iter().filter(|prop| prop.required) {
            object = object.max(of(prop.node).saturating_add(1));
        }
        if !node.extra_required.is_empty()
            && let Additional::Schema(schema) = node.additional
        {
            object = object.max(of(schema).saturating_add(1));
        }
        best = best.min(object);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_model::SchemaModel;
    use serde_json::json;

    /// The root node of `schema` (in `document`), planned.
    fn root_node(document: &Value, schema: &Value) -> Node {
        let mut builder = SchemaModel::new(document);
        let root = builder.root(schema).0;
        let parts = builder.finish();
        let (mut nodes, root, _) = plan(&parts, root);
        nodes.swap_remove(root as usize)
    }

    /// Whether the root node of `schema` (in `document`) has variants that exclude each other.
    fn exclusive(document: &Value, schema: &Value) -> bool {
        root_node(document, schema).exclusive
    }

    /// For each variant of the root node of `schema`, whether the others refuse its values by
    /// type.
    fn alone(schema: &Value) -> Vec<bool> {
        root_node(&json!({}), schema)
            .variants
            .iter()
            .map(|variant| variant.alone)
            .collect()
    }

    #[test]
    fn variants_stand_alone_when_the_others_refuse_their_types() {
        let label = json!({"type": "object", "properties": {"name": {"type": "string"}}});
        assert_eq!(
            alone(&json!({"oneOf": [{"type": "string"}, label]})),
            [true, true]
        );
        assert_eq!(
            alone(&json!({"nullable": true, "oneOf": [
                {"type": "string"}, {"type": "number"}, {"type": "integer"}
            ]})),
            [true, false, false],
            "a number may be integral"
        );
        assert_eq!(
            alone(&json!({"anyOf": [{"type": "string"}, {"minLength": 2}]})),
            [false, false],
            "a branch without a type takes any type"
        );
        assert_eq!(
            alone(&json!({"oneOf": [
                {"type": "string", "nullable": true}, {"type": "object", "nullable": true}
            ]})),
            [true, true],
            "null passes both branches, so neither may make it"
        );
        assert_eq!(
            alone(&json!({"anyOf": [
                {"type": "string", "nullable": true}, {"type": "object", "nullable": true}
            ]})),
            [false, false],
            "either may make null, which the other takes"
        );
        assert_eq!(
            alone(&json!({"oneOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "integer"}]})),
            [false, true],
            "choices are not made as the variant's type says"
        );
        assert_eq!(
            alone(&json!({"allOf": [
                {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                {"not": {"const": "x"}}
            ]})),
            [false, false],
            "another check still applies"
        );
        assert_eq!(
            alone(&json!({"oneOf": [{"type": "string"}]})),
            [false],
            "one variant may stand for several branches"
        );
    }

    #[test]
    fn variants_exclude_each_other_only_when_each_requires_what_the_others_never_write() {
        let document = json!({"components": {"schemas": {
            "User": {"type": "object", "required": ["id", "login"], "properties": {
                "id": {"type": "integer"}, "login": {"type": "string"}, "name": {"type": "string"}}},
            "Enterprise": {"type": "object", "required": ["id", "slug"], "properties": {
                "id": {"type": "integer"}, "slug": {"type": "string"}, "name": {"type": "string"}}},
            "Loose": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "Counted": {"type": "object", "minProperties": 1, "required": ["slug"],
                "properties": {"slug": {"type": "string"}}},
            "NullableUser": {"type": "object", "nullable": true, "required": ["login"],
                "properties": {"login": {"type": "string"}}}
        }}});
        let one_of = |a: &str, b: &str| {
            json!({"oneOf": [
                {"$ref": format!("#/components/schemas/{a}")},
                {"$ref": format!("#/components/schemas/{b}")}
            ]})
        };
        assert!(exclusive(&document, &one_of("User", "Enterprise")));
        assert!(
            !exclusive(&document, &one_of("User", "User")),
            "the same branch twice"
        );
        assert!(
            !exclusive(&document, &one_of("User", "Loose")),
            "Loose requires nothing, so a User passes it too"
        );
        assert!(
            !exclusive(&document, &one_of("User", "Counted")),
            "minProperties could bring in other names"
        );
        assert!(
            !exclusive(&document, &one_of("NullableUser", "Enterprise")),
            "a null passes `required`"
        );
        let with_not =
            json!({"allOf": [one_of("User", "Enterprise"), {"not": {"type": "string"}}]});
        assert!(
            !exclusive(&document, &with_not),
            "another check still applies"
        );
        assert!(
            !exclusive(&document, &json!({"type": "object"})),
            "no variants"
        );
    }
}
