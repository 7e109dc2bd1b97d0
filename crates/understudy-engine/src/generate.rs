//! The response generator: compiles a response schema once, at start-up, into a plan (the
//! document's `crate::schema_model` reads each reachable schema object once, `plan` merges
//! `allOf` and turns `oneOf`,
//! `anyOf` and discriminators into variants), then produces per request a body that is believable
//! (values chosen by `x-faker`, property name, format and example), consistent with the request
//! (echoed by name, through wrappers and into arrays of objects), valid against the schema, and
//! reproducible (the same seed, request and clock give the same bytes).

pub(crate) mod check;
mod defaults;
mod echo;
mod fakes;
pub(crate) mod hint;
mod like_example;
pub(crate) mod pattern;
mod plan;
mod reach;
mod run;
mod write;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::Value;

pub(crate) use defaults::DefaultSearch;
pub use defaults::{Defaults, apply_defaults};

use crate::schema_model::{SchemaModel, Types};
use check::accepts_all_noting;
use echo::Echo;
use hint::Hint;
use plan::{NodeId, Plans, Prop};
use reach::Reach;
use run::{Graph, Runner};

/// The graph every generator of one document shares: filled once the document's generators are
/// all compiled ([`GeneratorSet`]), read by each request.
type SharedGraph = Arc<OnceLock<Graph>>;
use write::{JsonOut, Placement, ValueOut};

/// Compiled once at start-up from a response schema; cheap to run per request.
#[derive(Debug, Clone)]
pub struct Generator {
    graph: SharedGraph,
    root: NodeId,
    /// Every schema behind the root was read and planned whole: its checks are as strict as the
    /// server's validator, so a pass that assumed nothing made a valid value.
    exact: bool,
    identity: Option<IdentitySlot>,
    /// The size of the bodies written lately, shared by clones: bodies of one schema are alike
    /// in size, so the next buffer is sized once instead of doubling its way up (a 33 KB list
    /// grew through seven copies).
    sizes: Arc<BodySizes>,
}

/// The smallest buffer [`Generator::body_capacity`] gives.
const MIN_CAPACITY: usize = 512;
/// The largest: one huge body must not make every later buffer huge.
const MAX_CAPACITY: usize = 1 << 20;

/// A high-water mark of body sizes that sinks back when bodies shrink: a body as large as
/// the largest of the last few fits the next buffer, so bodies whose size varies (a list of one
/// to three items) are not copied into a bigger buffer half the time, and one large body is
/// forgotten after about a hundred smaller ones. Threads race on it freely: it is only a hint.
#[derive(Debug, Default)]
struct BodySizes {
    mark: AtomicUsize,
}

impl BodySizes {
    /// Notes a body of `size` bytes: the mark rises to it, or sinks a sixteenth of the way down.
    fn record(&self, size: usize) {
        let mark = self.mark.load(Ordering::Relaxed);
        let next = if size >= mark {
            size
        } else {
            mark - (mark - size) / 16
        };
        self.mark.store(next, Ordering::Relaxed);
    }

    /// A buffer size for the next body: the mark and an eighth more, within bounds.
    fn capacity(&self) -> usize {
        let mark = self.mark.load(Ordering::Relaxed);
        mark.saturating_add(mark / 8)
            .clamp(MIN_CAPACITY, MAX_CAPACITY)
    }
}

/// Why a schema cannot have a generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateError {
    reason: String,
}

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for GenerateError {}

/// Whether the server's validator can read `source` as a `pattern` (ECMA-262 with look-around and
/// back-references); one it cannot is left out of both the validator and the generator.
pub(crate) fn pattern_is_understood(source: &str) -> bool {
    pattern::pattern(source).is_some()
}

/// A generated body and whether the generator vouches for its validity
/// ([`Generator::generate_vouched`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The body.
    pub body: Value,
    /// True when every check behind it was exact: the body is valid against its schema.
    pub vouched: bool,
}

/// What one generation depends on besides the schema.
#[derive(Debug)]
pub struct GenerateContext<'a> {
    /// Seeded by the caller, per request.
    pub rng: &'a mut Xoshiro256PlusPlus,
    /// The clock; generated timestamps are relative to it.
    pub now: DateTime<Utc>,
    /// Echo source: the request body.
    pub request_body: Option<&'a Value>,
    /// The request schema's defaults, for the gaps `request_body` leaves: the echo reads them
    /// as if they were filled in (`None` when there are none, or they were applied already).
    pub request_defaults: Option<&'a Defaults>,
    /// The stored record's id, to put at the identity slot.
    pub identity: Option<Value>,
    /// False: ignore `request_body` (used as a fallback).
    pub echo: bool,
    /// True: only what the schema requires (required properties, the fewest items), as a last
    /// draw where fuller bodies kept failing the validator (an optional property no string
    /// fits, such as a pattern nothing matches).
    pub minimal: bool,
}

impl<'a> GenerateContext<'a> {
    /// A context for a body made from its schema alone: nothing echoed, no identity placed.
    pub fn plain(rng: &'a mut Xoshiro256PlusPlus, now: DateTime<Utc>) -> Self {
        GenerateContext {
            rng,
            now,
            request_body: None,
            request_defaults: None,
            identity: None,
            echo: false,
            minimal: false,
        }
    }

    /// Echoes `body` into what is generated (nothing when it is `None`), reading the request
    /// schema's `defaults` through it where it leaves gaps.
    #[must_use]
    pub fn echoing(mut self, body: Option<&'a Value>, defaults: Option<&'a Defaults>) -> Self {
        self.request_body = body;
        self.request_defaults = defaults;
        self.echo = body.is_some();
        self
    }

    /// The context made to draw only what the schema requires ([`GenerateContext::minimal`]).
    #[must_use]
    pub fn minimal(mut self) -> Self {
        self.minimal = true;
        self
    }

    /// Puts `identity` (a stored record's id) at the generator's identity slot.
    #[must_use]
    pub fn with_identity(mut self, identity: Option<Value>) -> Self {
        self.identity = identity;
        self
    }
}

/// Where the record identity goes in a generated body, and how fresh ids are made.
#[derive(Debug, Clone)]
pub struct IdentitySlot {
    /// JSON pointer in the body, e.g. `/data/id`.
    pub pointer: String,
    path: Vec<String>,
    node: NodeId,
    hint: Option<Hint>,
    /// The smallest integer id, when ids are integers.
    integer_min: Option<i64>,
    graph: SharedGraph,
}

impl IdentitySlot {
    /// A fresh id for the `counter`-th record of a collection (counter starts at 1): integers are
    /// the counter itself (respecting minimum); uuids and patterned strings come from the rng and
    /// differ per counter.
    pub fn make(&self, rng: &mut Xoshiro256PlusPlus, counter: u64) -> Value {
        if let Some(min) = self.integer_min {
            let counter = i64::try_from(counter).unwrap_or(i64::MAX);
            let value = if min <= 1 {
                counter
            } else {
                min.saturating_add(counter - 1)
            };
            return Value::from(value);
        }
        let Some(graph) = self.graph.get() else {
            return Value::from(counter);
        };
        let mut runner = Runner::new(graph, rng, DateTime::<Utc>::UNIX_EPOCH);
        runner.single(self.node, self.hint)
    }

    /// Where `identity` goes, when the slot's schema accepts it.
    fn placement<'p>(&'p self, identity: &'p Value, assumed: &mut bool) -> Option<Placement<'p>> {
        let graph = self.graph.get()?;
        let node = graph.nodes.get(self.node as usize)?;
        accepts_all_noting(&graph.parts, &node.roots, identity, assumed).then_some(Placement {
            path: &self.path,
            identity,
        })
    }
}

impl Generator {
    /// `document` is the whole OpenAPI document as JSON (every `$ref` in it is local,
    /// `#/components/...`; external refs were already bundled in). `schema` is a response media
    /// type's schema (may be a `$ref`). A document's many generators are better compiled by one
    /// [`GeneratorSet`], which shares what they have in common.
    pub fn compile(document: &Value, schema: &Value) -> Result<Generator, GenerateError> {
        GeneratorSet::new(document).compile(schema)
    }

    /// A body for one request.
    pub fn generate(&self, ctx: &mut GenerateContext<'_>) -> Value {
        self.generate_vouched(ctx).body
    }

    /// A body for one request, and whether the generator vouches for it: every check it made
    /// (echoed values included) was as strict as the server's validator and assumed nothing,
    /// and no part of the body was given up on. A body it does not vouch for may still be
    /// valid; a caller that must be sure validates it.
    pub fn generate_vouched(&self, ctx: &mut GenerateContext<'_>) -> Generated {
        let Some(graph) = self.graph.get() else {
            return Generated {
                body: Value::Null,
                vouched: false,
            };
        };
        let mut filled = None;
        let echo = echo_source(ctx, &mut filled);
        let mut unsure = false;
        let placement = match (&self.identity, &ctx.identity) {
            (Some(slot), Some(identity)) => slot.placement(identity, &mut unsure),
            _ => None,
        };
        let mut runner = Runner::new(graph, ctx.rng, ctx.now);
        let mut body = ValueOut::default();
        runner.walk_root(self.root, echo, placement, ctx.minimal, &mut body);
        Generated {
            body: body.into_value(),
            vouched: self.exact && !unsure && !runner.unsure,
        }
    }

    /// Writes a body for one request into `out` as compact JSON, and tells whether the generator
    /// vouches for it (as [`Generator::generate_vouched`] does). The bytes are those
    /// `serde_json::to_vec` gives for `generate_vouched`'s body from the same context, but objects
    /// and arrays that need no check as a whole are written as they are made, never built.
    pub fn write_vouched(&self, ctx: &mut GenerateContext<'_>, out: &mut Vec<u8>) -> bool {
        self.write_counted(ctx, out).0
    }

    /// [`Generator::write_vouched`], and how many values the body took to make: the work a
    /// caller that draws again spends, bounded by what one body may take.
    pub fn write_counted(&self, ctx: &mut GenerateContext<'_>, out: &mut Vec<u8>) -> (bool, usize) {
        let Some(graph) = self.graph.get() else {
            out.extend_from_slice(b"null");
            return (false, 0);
        };
        let mut filled = None;
        let echo = echo_source(ctx, &mut filled);
        let mut unsure = false;
        let placement = match (&self.identity, &ctx.identity) {
            (Some(slot), Some(identity)) => slot.placement(identity, &mut unsure),
            _ => None,
        };
        let mut runner = Runner::new(graph, ctx.rng, ctx.now);
        let start = out.len();
        runner.walk_root(
            self.root,
            echo,
            placement,
            ctx.minimal,
            &mut JsonOut::new(out),
        );
        self.sizes.record(out.len().saturating_sub(start));
        (self.exact && !unsure && !runner.unsure, runner.count)
    }

    /// The values one body may take to make; past it the generator gives the smallest valid
    /// value it can.
    pub const VALUE_BUDGET: usize = run::HARD_BUDGET;

    /// A buffer size for the next body [`Generator::write_vouched`] writes: the largest of the
    /// last few bodies and an eighth more, within bounds.
    pub fn body_capacity(&self) -> usize {
        self.sizes.capacity()
    }

    /// Whether every schema behind the generator was read as the server's validator reads it:
    /// when not (a 2020-12 keyword it does not model), its bodies are never vouched for.
    pub fn is_exact(&self) -> bool {
        self.exact
    }

    /// Where the record identity goes in a generated body, if the schema has one.
    pub fn identity(&self) -> Option<&IdentitySlot> {
        self.identity.as_ref()
    }
}

/// What the echo reads: the request body, with its defaults read through where they can be, else
/// filled into a copy kept in `filled`.
fn echo_source<'s>(ctx: &GenerateContext<'s>, filled: &'s mut Option<Value>) -> Option<Echo<'s>> {
    let body = ctx.request_body.filter(|_| ctx.echo)?;
    let Some(defaults) = ctx.request_defaults.filter(|defaults| !defaults.is_empty()) else {
        return Some(Echo::plain(body));
    };
    if let Some(cursor) = defaults.cursor() {
        return Some(Echo {
            value: body,
            defaults: Some(cursor),
        });
    }
    Some(Echo::plain(filled.insert(defaults.filled(body))))
}

/// The property marked `x-understudy-identity: true`, else the one named `id`, in the response
/// object or in the object under its single wrapper property.
fn identity_slot(nodes: &[plan::Node], graph: &SharedGraph, root: NodeId) -> Option<IdentitySlot> {
    let top = &nodes[root as usize];
    if top.kind != Types::OBJECT || !top.variants.is_empty() {
        return None;
    }
    let usable = |prop: &&Prop| !prop.forbidden && !prop.write_only;
    let mut wrappers = top.properties.iter().filter(usable).filter(|prop| {
        let node = &nodes[prop.node as usize];
        node.kind == Types::OBJECT && node.variants.is_empty()
    });
    let wrapper = match (wrappers.next(), wrappers.next()) {
        (Some(wrapper), None) if top.properties.iter().filter(usable).count() == 1 => Some(wrapper),
        _ => None,
    };
    let inner = wrapper.map(|wrapper| &nodes[wrapper.node as usize]);
    let marked = |node: &plan::Node| node.properties.iter().find(|prop| prop.identity).cloned();
    let named = |node: &plan::Node| {
        node.properties
            .iter()
            .filter(usable)
            .find(|prop| &*prop.name == "id")
            .cloned()
    };
    let (prop, in_wrapper) = marked(top)
        .map(|prop| (prop, false))
        .or_else(|| inner.and_then(marked).map(|prop| (prop, true)))
        .or_else(|| named(top).map(|prop| (prop, false)))
        .or_else(|| inner.and_then(named).map(|prop| (prop, true)))?;
    let mut path = Vec::new();
    if in_wrapper && let Some(wrapper) = wrapper {
        path.push(wrapper.name.to_string());
    }
    path.push(prop.name.to_string());
    let pointer = path
        .iter()
        .map(|segment| format!("/{}", crate::json_schema::escape(segment)))
        .collect();
    let node = &nodes[prop.node as usize];
    let integer_min = (node.kind == Types::INTEGER).then(|| {
        node.lower.map_or(1, |bound| {
            let value = if bound.exclusive {
                bound.value.floor() + 1.0
            } else {
                bound.value.ceil()
            };
            value.clamp(i64::MIN as f64, i64::MAX as f64) as i64
        })
    });
    Some(IdentitySlot {
        pointer,
        path,
        node: prop.node,
        hint: prop.hint.or(Some(Hint::Id)),
        integer_min,
        graph: Arc::clone(graph),
    })
}

/// Compiles the generators of one document over one graph: each schema object is read once, and
/// each conjunction of schemas planned once, however many responses reach it, so that memory
/// grows with the document and not with its operations (Stripe's error object is under all 452
/// operations). The generators it gives work once the set is finished, or dropped.
pub struct GeneratorSet<'d> {
    document: &'d Value,
    parts: SchemaModel<'d>,
    plans: Plans,
    /// Which parts reach no loose part.
    exact_parts: Reach,
    graph: SharedGraph,
}

impl<'d> GeneratorSet<'d> {
    /// A set for `document`, with nothing compiled yet.
    pub fn new(document: &'d Value) -> Self {
        GeneratorSet {
            document,
            parts: SchemaModel::new(document),
            plans: Plans::new(),
            exact_parts: Reach::default(),
            graph: SharedGraph::default(),
        }
    }

    /// A generator for `schema`, a response media type's schema in the set's document (may be a
    /// `$ref`).
    pub fn compile(&mut self, schema: &'d Value) -> Result<Generator, GenerateError> {
        match schema {
            Value::Object(_) | Value::Bool(_) => {}
            _ => {
                return Err(GenerateError {
                    reason: "a schema must be an object".into(),
                });
            }
        }
        if let Some(reference) = schema.get("$ref") {
            let Some(reference) = reference.as_str() else {
                return Err(GenerateError {
                    reason: "`$ref` must be a string".into(),
                });
            };
            if !reference.starts_with('#')
                || crate::json_schema::resolve_pointer(self.document, reference).is_none()
            {
                return Err(GenerateError {
                    reason: format!("`{reference}` points at nothing in the document"),
                });
            }
        }
        let (root_part, unreadable) = self.parts.root(schema);
        let parts = self.parts.parts();
        let (root, planned_whole) = self.plans.plan(parts, root_part);
        let loose_below = self.exact_parts.reaches(root_part, |id, stack| {
            let part = &parts[id as usize];
            stack.extend(part.children());
            part.loose
        });
        let exact = !unreadable && planned_whole && !loose_below;
        let identity = identity_slot(self.plans.nodes(), &self.graph, root);
        Ok(Generator {
            graph: Arc::clone(&self.graph),
            root,
            exact,
            identity,
            sizes: Arc::default(),
        })
    }

    /// The document's schema model, which the set's generators read and so does every other
    /// reader of the document's schemas while it is compiled.
    pub(crate) fn model(&mut self) -> &mut SchemaModel<'d> {
        &mut self.parts
    }

    /// Fills the graph the set's generators share; until then they make `null`.
    pub fn finish(self) {}
}

impl fmt::Debug for GeneratorSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratorSet")
            .field("parts", &self.parts.parts().len())
            .field("nodes", &self.plans.nodes().len())
            .finish_non_exhaustive()
    }
}

impl Drop for GeneratorSet<'_> {
    fn drop(&mut self) {
        let parts = std::mem::replace(&mut self.parts, SchemaModel::new(self.document)).finish();
        let nodes = std::mem::replace(&mut self.plans, Plans::new()).finish(&parts);
        // A set is dropped once, so the graph is empty here.
        let _ = self.graph.set(Graph { parts, nodes });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use serde_json::json;

    fn assert_send_sync<T: Send + Sync>() {}

    /// The bodies `schema`'s generator makes from seeds `0..seeds`, each asserted vouched for and
    /// valid under the server's validator, for a test's own checks; the generator must be exact.
    fn vouched_and_valid(document: &Value, schema: &Value, seeds: u64) -> Vec<Value> {
        let validator = crate::json_schema::response_validator(document, schema).unwrap();
        let generator = Generator::compile(document, schema).unwrap();
        assert!(generator.is_exact(), "{schema}");
        (0..seeds)
            .map(|seed| {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                let made =
                    generator.generate_vouched(&mut GenerateContext::plain(&mut rng, Utc::now()));
                assert!(
                    made.vouched && validator.is_valid(&made.body),
                    "seed {seed}: {}",
                    made.body
                );
                made.body
            })
            .collect()
    }

    #[test]
    fn generators_can_be_shared_between_threads() {
        assert_send_sync::<Generator>();
        assert_send_sync::<IdentitySlot>();
    }

    #[test]
    fn buffers_fit_the_largest_recent_body_and_sink_back_after_a_large_one() {
        let sizes = BodySizes::default();
        assert_eq!(sizes.capacity(), MIN_CAPACITY, "nothing written yet");
        // Lists of one to three items: each fits, whatever came just before.
        for size in [30_000, 10_000, 20_000, 10_000, 30_000, 10_000] {
            sizes.record(size);
            assert!(
                sizes.capacity() >= 30_000,
                "{} after {size}",
                sizes.capacity()
            );
        }
        // After one large body, smaller ones bring the buffer back down within about a hundred.
        sizes.record(800_000);
        assert!(sizes.capacity() >= 800_000);
        for _ in 0..120 {
            sizes.record(10_000);
        }
        let capacity = sizes.capacity();
        assert!((10_000..=12_000).contains(&capacity), "{capacity}");
        sizes.record(5 << 20);
        assert_eq!(sizes.capacity(), MAX_CAPACITY, "bounded");
    }

    #[test]
    fn a_schema_that_is_not_an_object_is_refused() {
        assert!(Generator::compile(&json!({}), &json!(3)).is_err());
        assert!(Generator::compile(&json!({}), &json!({"$ref": "#/nowhere"})).is_err());
    }

    #[test]
    fn identity_under_a_single_wrapper_counts_from_the_minimum() {
        let schema = json!({"type": "object", "properties": {"data": {"type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "integer", "minimum": 100}, "name": {"type": "string"}}}}});
        let generator = Generator::compile(&json!({}), &schema).unwrap();
        let slot = generator.identity().unwrap();
        assert_eq!(slot.pointer, "/data/id");
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert_eq!(slot.make(&mut rng, 1), json!(100));
        assert_eq!(slot.make(&mut rng, 3), json!(102));
        let body = generator.generate(
            &mut GenerateContext::plain(&mut rng, Utc::now()).with_identity(Some(json!(555))),
        );
        assert_eq!(body.pointer("/data/id"), Some(&json!(555)));
    }

    /// A 3.1 document of `operations` responses, each wrapping a page of `User`s, which reach
    /// ten shared schemas.
    fn shared_document(operations: usize) -> Value {
        let mut schemas = serde_json::Map::new();
        for index in 0..10 {
            let next = format!("#/components/schemas/S{}", (index + 1) % 10);
            schemas.insert(
                format!("S{index}"),
                json!({"type": "object", "properties": {
                    "name": {"type": "string", "minLength": 2},
                    "next": {"anyOf": [{"$ref": next}, {"type": "null"}]}}}),
            );
        }
        schemas.insert(
            "User".into(),
            json!({"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer"}, "first": {"$ref": "#/components/schemas/S0"}}}),
        );
        let responses: Vec<Value> = (0..operations)
            .map(|index| {
                json!({"type": "object", "properties": {
                    format!("page{index}"): {"type": "array",
                        "items": {"$ref": "#/components/schemas/User"}}}})
            })
            .collect();
        json!({"openapi": "3.1.0", "components": {"schemas": schemas}, "responses": responses})
    }

    /// How many parts and nodes the generators of every response in `document` share.
    fn shared_size(document: &Value) -> (usize, usize) {
        let mut set = GeneratorSet::new(document);
        let responses = document["responses"].as_array().unwrap();
        let generators: Vec<Generator> = responses
            .iter()
            .map(|schema| set.compile(schema).unwrap())
            .collect();
        set.finish();
        let graph = generators[0].graph.get().expect("the set is finished");
        assert!(
            generators
                .iter()
                .all(|generator| Arc::ptr_eq(&generator.graph, &generators[0].graph))
        );
        (graph.parts.len(), graph.nodes.len())
    }

    #[test]
    fn a_documents_generators_share_one_graph_that_grows_with_the_schemas_not_the_operations() {
        let (few_parts, few_nodes) = shared_size(&shared_document(4));
        let (many_parts, many_nodes) = shared_size(&shared_document(64));
        // Each response adds its own two schema objects (the page and its array) and their
        // nodes; the eleven shared schemas and what is planned from them are there once.
        assert_eq!(many_parts - few_parts, 2 * 60, "{few_parts} → {many_parts}");
        assert_eq!(many_nodes - few_nodes, 2 * 60, "{few_nodes} → {many_nodes}");
    }

    #[test]
    fn generators_made_by_one_set_work_once_it_is_finished_and_each_vouches_for_itself() {
        let document = json!({"openapi": "3.1.0", "components": {"schemas": {
            "Name": {"type": "string", "minLength": 3},
            "Pair": {"type": "string", "pattern": "^(?=.*[0-9])[a-z0-9]+$"}}}});
        let plain = json!({"type": "object", "required": ["name"],
            "properties": {"name": {"$ref": "#/components/schemas/Name"}}});
        let unmodelled = json!({"type": "object", "properties": {
            "pair": {"$ref": "#/components/schemas/Pair"},
            "name": {"$ref": "#/components/schemas/Name"}},
            "dependentRequired": {"pair": ["name"]}});
        let mut set = GeneratorSet::new(&document);
        let exact = set.compile(&plain).unwrap();
        let loose = set.compile(&unmodelled).unwrap();
        let exact_again = set.compile(&plain).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let early = exact.generate_vouched(&mut GenerateContext::plain(&mut rng, Utc::now()));
        assert_eq!(
            early,
            Generated {
                body: Value::Null,
                vouched: false
            },
            "before the set is finished"
        );
        drop(set);
        // A keyword parts do not model under one root leaves the others vouched for.
        assert!(exact.is_exact() && exact_again.is_exact());
        assert!(!loose.is_exact());
        let made = exact.generate_vouched(&mut GenerateContext::plain(&mut rng, Utc::now()));
        assert!(made.vouched);
        assert!(
            made.body["name"]
                .as_str()
                .is_some_and(|name| name.chars().count() >= 3)
        );
        let made = loose.generate_vouched(&mut GenerateContext::plain(&mut rng, Utc::now()));
        assert!(!made.vouched);
        assert!(made.body.is_object());
    }

    #[test]
    fn a_plan_cut_short_under_one_response_is_not_vouched_for_under_another_and_limits_count_per_response()
     {
        let mut properties = serde_json::Map::new();
        for index in 0..2_100 {
            properties.insert(
                format!("p{index}"),
                json!({"type": "string", "maxLength": index + 1}),
            );
        }
        properties.insert(
            "choice".into(),
            json!({"$ref": "#/components/schemas/Choice"}),
        );
        let document = json!({"openapi": "3.0.3", "components": {"schemas": {
            "Choice": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}});
        let huge = json!({"type": "object", "properties": properties});
        let small = json!({"type": "object", "properties": {
            "c": {"$ref": "#/components/schemas/Choice"}}});
        let other = json!({"type": "object", "properties": {
            "n": {"oneOf": [{"type": "boolean"}, {"type": "number"}]}}});
        let mut set = GeneratorSet::new(&document);
        let huge = set.compile(&huge).unwrap();
        let small = set.compile(&small).unwrap();
        let other = set.compile(&other).unwrap();
        drop(set);
        // Past 2,000 nodes `Choice` keeps one branch: that plan is shared, and cut wherever it is.
        assert!(!huge.is_exact());
        assert!(
            !small.is_exact(),
            "reaches the node planned short under the first response"
        );
        // A response planned after a large one has its own allowance.
        assert!(other.is_exact());
    }

    #[test]
    fn request_defaults_are_compiled_only_where_a_default_may_lie() {
        let document = json!({"openapi": "3.0.3", "components": {"schemas": {
            "Deep": {"type": "object", "properties": {"tier": {"type": "string", "default": "free"}}},
            "Via": {"allOf": [{"$ref": "#/components/schemas/Deep"}]},
            "Loop": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Loop"},
                "tags": {"type": "array", "items": {"type": "object",
                    "properties": {"on": {"type": "object", "default": {"a": 1}}}}}}},
            "Plain": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Plain"},
                "pick": {"oneOf": [{"$ref": "#/components/schemas/Deep"}]}}}}}});
        let schemas = [
            (json!({"$ref": "#/components/schemas/Via"}), true),
            (
                json!({"type": "object", "properties": {"v": {"$ref": "#/components/schemas/Via"}}}),
                true,
            ),
            (json!({"$ref": "#/components/schemas/Loop"}), true),
            (json!({"$ref": "#/components/schemas/Plain"}), false),
            (json!({"type": "string"}), false),
        ];
        let mut model = SchemaModel::new(&document);
        let mut search = DefaultSearch::default();
        for (schema, defaulted) in &schemas {
            // The same answer asked again, after the walks before it marked schemas clean.
            for _ in 0..2 {
                assert_eq!(search.may_reach(&mut model, schema), *defaulted, "{schema}");
            }
            assert_eq!(
                Defaults::compile(&document, schema).is_empty(),
                !defaulted,
                "{schema}"
            );
        }
    }

    #[test]
    fn items_no_value_satisfies_are_left_out_and_never_vouched_for() {
        // SendGrid's messages: `last_event_time` a string and an integer at once, and a
        // `bounce_type` in two enums that share no value.
        let item = json!({"type": "object", "required": ["time", "kind"], "properties": {
            "time": {"allOf": [{"type": "string"}, {"type": "integer"}]},
            "kind": {"allOf": [{"type": "string", "enum": ["bounced", "blocked"]},
                {"type": "string", "enum": ["soft", "hard"]}]}}});
        let optional = json!({"type": "object", "required": ["list"], "properties": {
            "list": {"type": "array", "items": item}}});
        let forced = json!({"type": "object", "required": ["list"], "properties": {
            "list": {"type": "array", "minItems": 1, "items": item}}});
        let optional = Generator::compile(&json!({}), &optional).unwrap();
        let forced = Generator::compile(&json!({}), &forced).unwrap();
        for seed in 0..20 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let made = optional.generate_vouched(&mut GenerateContext::plain(&mut rng, Utc::now()));
            assert_eq!(
                (made.body, made.vouched),
                (json!({"list": []}), true),
                "seed {seed}"
            );
            let mut bytes = Vec::new();
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let vouched = optional.write_vouched(
                &mut GenerateContext::plain(&mut rng, Utc::now()),
                &mut bytes,
            );
            assert_eq!((bytes.as_slice(), vouched), (&b"{\"list\":[]}"[..], true));
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let made = forced.generate_vouched(&mut GenerateContext::plain(&mut rng, Utc::now()));
            assert!(!made.vouched, "seed {seed}: {}", made.body);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            assert!(!forced.write_vouched(
                &mut GenerateContext::plain(&mut rng, Utc::now()),
                &mut bytes
            ));
        }
    }

    #[test]
    fn dependent_required_is_met_by_construction_and_vouched_for() {
        let document = json!({"openapi": "3.1.0"});
        let schema = json!({"type": "object", "properties": {
            "card": {"type": "string"}, "billing": {"type": "string"},
            "zip": {"type": "string"}, "note": {"type": "string"}},
            "dependentRequired": {"card": ["billing"], "billing": ["zip", "country"]}});
        // dependentRequired is modelled: exact, and met.
        for body in vouched_and_valid(&document, &schema, 200) {
            let has = |name: &str| body.get(name).is_some();
            assert!(!has("card") || has("billing"), "{body}");
            assert!(!has("billing") || (has("zip") && has("country")), "{body}");
        }
        let hidden = json!({"type": "object", "properties": {
            "card": {"type": "string"}, "pin": {"type": "string", "writeOnly": true}},
            "dependentRequired": {"card": ["pin"]}});
        let hidden = Generator::compile(&document, &hidden).unwrap();
        assert!(
            !hidden.is_exact(),
            "a write-only dependent cannot be made present"
        );
    }

    #[test]
    fn pattern_properties_and_property_names_are_met_by_construction_and_vouched_for() {
        let document = json!({"openapi": "3.1.0"});
        let schema = json!({"type": "object", "required": ["id", "x-trace"],
            "properties": {"id": {"type": "integer"}, "x-trace": {"type": "string"},
                "Bad Name": {"type": "string"}, "x-span": {}},
            "patternProperties": {"^x-": {"type": "string", "maxLength": 3}},
            "propertyNames": {"pattern": "^[a-z-]+$"},
            "additionalProperties": {"type": "integer"}});
        let dictionary = json!({"type": "object",
            "patternProperties": {"^[a-z]{2}$": {"type": "string"}},
            "additionalProperties": {"type": "integer"}});
        for body in vouched_and_valid(&document, &schema, 200) {
            assert!(body.get("Bad Name").is_none(), "propertyNames refuses it");
            let trace = body["x-trace"].as_str().unwrap();
            assert!(
                trace.chars().count() <= 3,
                "the pattern's schema holds: {trace}"
            );
        }
        let dictionary = Generator::compile(&document, &dictionary).unwrap();
        assert!(dictionary.is_exact());
        for seed in 0..200 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let made =
                dictionary.generate_vouched(&mut GenerateContext::plain(&mut rng, Utc::now()));
            // No name is drawn that the pattern would hold to a schema the value may not meet.
            assert_eq!((made.body, made.vouched), (json!({}), true));
        }
    }

    #[test]
    fn unevaluated_properties_are_met_by_construction_and_checked() {
        let document = json!({"openapi": "3.1.0", "components": {"schemas": {
            "Base": {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}}}});
        let schema = json!({"allOf": [{"$ref": "#/components/schemas/Base"}],
            "properties": {"b": {"type": "string"}}, "unevaluatedProperties": false});
        vouched_and_valid(&document, &schema, 100);
        // Two properties wanted and one allowed: no name is drawn, so the body is not vouched for.
        let short = json!({"type": "object", "properties": {"a": {"type": "integer"}},
            "minProperties": 2, "unevaluatedProperties": false});
        let short = Generator::compile(&document, &short).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let made = short.generate_vouched(&mut GenerateContext::plain(&mut rng, Utc::now()));
        assert!(!made.vouched, "{}", made.body);
        // The parts' checker (what an echoed value is held to) refuses a name nothing evaluates.
        let mut builder = SchemaModel::new(&document);
        let root = builder.root(&schema).0;
        let parts = builder.finish();
        assert!(check::accepts_all(
            &parts,
            &[root],
            &json!({"a": 1, "b": "x"})
        ));
        assert!(!check::accepts_all(
            &parts,
            &[root],
            &json!({"a": 1, "c": true})
        ));
    }

    #[test]
    fn conditionals_are_choices_made_and_checked_exactly() {
        let document = json!({"openapi": "3.1.0"});
        let schema = json!({"type": "object", "required": ["country", "postal"],
            "properties": {"country": {"enum": ["US", "CA"]}, "postal": {"type": "string"},
                "vat": {"type": "string"}, "company": {"type": "string"}, "legacy": false},
            "if": {"properties": {"country": {"const": "US"}}},
            "then": {"properties": {"postal": {"pattern": "^[0-9]{5}$"}}},
            "else": {"properties": {"postal": {"pattern": "^[A-Z][0-9][A-Z] [0-9][A-Z][0-9]$"}}},
            "dependentSchemas": {"vat": {"required": ["company"]}}});
        let mut countries = std::collections::BTreeSet::new();
        for body in vouched_and_valid(&document, &schema, 200) {
            assert!(body.get("legacy").is_none());
            countries.insert(body["country"].to_string());
        }
        assert_eq!(countries.len(), 2, "both branches are made: {countries:?}");
    }

    #[test]
    fn prefix_items_and_contains_are_checked_as_2020_12_reads_them() {
        let document = json!({"openapi": "3.1.0"});
        let schema = json!({"type": "array", "prefixItems": [{"type": "string"}],
            "items": {"type": "integer", "enum": [5, 6]}, "contains": {"const": 5},
            "minContains": 2, "maxContains": 3});
        // Arrays longer than the one match asked for could hold more.
        let one = json!({"type": "array", "items": {"type": "integer", "enum": [5, 6]},
            "contains": {"const": 5}, "maxContains": 1});
        let mut builder = SchemaModel::new(&document);
        let root = builder.root(&schema).0;
        let parts = builder.finish();
        let accepts = |value: Value| check::accepts_all(&parts, &[root], &value);
        assert!(accepts(json!(["a", 5, 5])));
        assert!(
            !accepts(json!([5, 5, 5])),
            "the first item is held to prefixItems"
        );
        assert!(!accepts(json!(["a", 5, "b"])), "the rest to items");
        assert!(!accepts(json!(["a", 5])), "minContains");
        assert!(!accepts(json!(["a", 5, 5, 5, 5])), "maxContains");
        // Made arrays are no longer than `maxContains`, so that however many items match, not
        // too many do: vouched for, and valid.
        vouched_and_valid(&document, &schema, 200);
        vouched_and_valid(&document, &one, 200);
        // Where a prefix and the matches asked for need more items than `maxContains` allows,
        // what is made is checked instead.
        let crowded = json!({"type": "array", "prefixItems": [{"type": "string"}],
            "contains": {"const": 5}, "minContains": 2, "maxContains": 2});
        assert!(!Generator::compile(&document, &crowded).unwrap().is_exact());
        let open = json!({"type": "array", "prefixItems": [{"type": "string"}],
            "items": {"type": "integer"}, "contains": {"const": 5}});
        assert!(Generator::compile(&document, &open).unwrap().is_exact());
    }

    #[test]
    fn unevaluated_items_and_prefixes_merged_across_all_of_are_met_and_checked() {
        let document = json!({"openapi": "3.1.0"});
        // Position 0 holds to both prefixes, position 1 to the second prefix and the first
        // schema's `items`; past them, nothing evaluates items, so `unevaluatedItems` holds.
        let schema = json!({"allOf": [
            {"type": "array", "prefixItems": [{"type": "string", "minLength": 2}],
                "items": {"type": "string"}},
            {"prefixItems": [{"maxLength": 4}, {"enum": ["x", "y", 3]}]}],
            "minItems": 2});
        let closed = json!({"type": "array", "prefixItems": [{"type": "integer"}],
            "unevaluatedItems": {"type": "boolean"}, "minItems": 3});
        vouched_and_valid(&document, &schema, 200);
        vouched_and_valid(&document, &closed, 200);
        let mut builder = SchemaModel::new(&document);
        let unevaluated = json!({"prefixItems": [{"type": "integer"}], "unevaluatedItems": false});
        let root = builder.root(&unevaluated).0;
        let parts = builder.finish();
        assert!(check::accepts_all(&parts, &[root], &json!([1])));
        assert!(!check::accepts_all(&parts, &[root], &json!([1, 2])));
    }
}
