//! Running a plan for one request: walks the nodes with the request's random generator and clock,
//! echoes what the request supplied, keeps one object's values consistent (one person, created
//! before updated), and stays within a depth cap and a size budget, falling back to the smallest
//! valid value of a node when either is reached. One walk ([`Runner::walk`]) makes every value,
//! whether it is written as JSON or built as a `Value` (`write::Out`).

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::{Map, Number, Value};

use super::check::{accepts_all, accepts_all_noting, decimal_parts, equal, is_multiple};
use super::defaults::DefaultsCursor;
use super::echo::{Echo, EchoScope};
use super::fakes::{self, Clock, Who};
use super::hint::Hint;
use super::like_example::{ExampleShape, LikeExample};
use super::plan::{Additional, FREE, InPlace, Node, NodeId, Prop, UNREACHABLE};
use super::write::{Out, Placement, Placing, ValueOut};
use crate::schema_model::{Schema, Types};

/// Depth from which only required properties and minimal arrays are generated.
const SOFT_DEPTH: u16 = 6;
/// Depth at which generation stops descending altogether.
const HARD_DEPTH: u16 = 24;
/// Values generated before the rest of a body is kept minimal.
const BUDGET: usize = 2_500;
/// Values generated after which every further node of a body is its smallest value, as past
/// [`HARD_DEPTH`]: a minimal value still has its required properties, so a schema that requires
/// two children of its own kind would otherwise double the work at every level down to the cap.
pub(crate) const HARD_BUDGET: usize = 100_000;
/// Tries for a node whose composition must be checked (a `oneOf` whose branches overlap).
const ATTEMPTS: usize = 8;
/// Tries for a node with many branches.
const MAX_ATTEMPTS: usize = 40;
/// Failed tries in one body after which composed nodes get two tries only.
const MAX_RETRIES: usize = 400;
/// Most items generated for one array, whatever `minItems` asks.
const MAX_ITEMS: u64 = 1_000;

/// Everything generators work from: the parts and nodes of one document, shared by all its
/// generators.
#[derive(Debug)]
pub(crate) struct Graph {
    pub(crate) parts: Vec<Schema>,
    pub(crate) nodes: Vec<Node>,
}

/// One generation pass.
pub(crate) struct Runner<'g, 'r> {
    graph: &'g Graph,
    rng: &'r mut Xoshiro256PlusPlus,
    now: DateTime<Utc>,
    pub(super) count: usize,
    path: Vec<NodeId>,
    /// Failed checks so far.
    retries: usize,
    /// Set while a composed node is generated again after its first value failed its check.
    retrying: bool,
    /// Set when the value may break its schema: a check assumed an answer, or generation gave up
    /// (too deep, or no attempt passed its check).
    pub(crate) unsure: bool,
    /// An empty string whose room the next generated string is written into: a string written
    /// into the body is handed back ([`Runner::give_back`]), so that a body of hundreds of
    /// strings makes a few allocations rather than one or more per string.
    spare: String,
}

/// The room [`Runner::buffer`] first gives a string: most generated strings fit.
const FIRST_BUFFER: usize = 64;

/// Where a value is being generated.
#[derive(Clone, Copy)]
struct Slot<'e, 'f> {
    hint: Option<Hint>,
    /// The part of the request that corresponds to this value.
    echo: Option<Echo<'e>>,
    /// Discriminator values the chosen branches fix.
    forced: &'f [(Arc<str>, Value)],
    depth: u16,
    minimal: bool,
    /// How many seconds ago the enclosing record was created: nested records are not older.
    since: Option<i64>,
}

impl<'e> Slot<'e, '_> {
    /// The slot of a whole body.
    fn root(echo: Option<Echo<'e>>) -> Self {
        Slot {
            hint: None,
            echo,
            forced: &[],
            depth: 0,
            minimal: false,
            since: None,
        }
    }

    /// The slot of a property's value: the property's hint, one level deeper, no echo yet.
    fn property(self, hint: Option<Hint>) -> Slot<'e, 'static> {
        Slot {
            hint,
            echo: None,
            forced: &[],
            depth: self.depth + 1,
            minimal: self.minimal,
            since: self.since,
        }
    }

    /// The slot of an array's items: the array's hint, one level deeper, no echo yet.
    fn items(self) -> Slot<'e, 'static> {
        Slot {
            hint: self.hint,
            echo: None,
            forced: &[],
            depth: self.depth + 1,
            minimal: self.minimal,
            since: self.since,
        }
    }
}

/// Where a value comes from, decided before it is made.
enum Source<'e> {
    /// Made from a node, reading this part of the request along.
    Node(NodeId, Option<Echo<'e>>),
    /// The request's value (or a forced one), echoed as it is.
    Found(&'e Value),
    /// The request's value with its defaults filled in: boxed, so that the usual source, a
    /// node, is small to move.
    Filled(Box<Value>),
}

impl<'e> Source<'e> {
    /// The source of an echoed value, `filled` or not.
    fn echoed(value: Cow<'e, Value>) -> Self {
        match value {
            Cow::Borrowed(value) => Source::Found(value),
            Cow::Owned(value) => Source::Filled(Box::new(value)),
        }
    }
}

/// Whether `node` is made from one of its variants without a check of the whole: they exclude
/// each other ([`Node::exclusive`]) and the slot adds no discriminator value that could blur them.
fn exclusive(node: &Node, slot: Slot<'_, '_>) -> bool {
    node.exclusive && slot.forced.is_empty()
}

/// Whether `node`'s variant at `start` (as `Runner::first_variant` draws it) is made without a
/// check of the whole: every other variant refuses its values by type
/// ([`Variant::alone`](super::plan::Variant::alone)) and the slot adds no discriminator value.
fn alone(node: &Node, slot: Slot<'_, '_>, start: usize) -> bool {
    slot.forced.is_empty()
        && node
            .variants
            .get(start % node.variants.len().max(1))
            .is_some_and(|variant| variant.alone)
}

impl InPlace {
    /// How [`Runner::in_place_example`] answers for a string of `node` under `hint`: a URL
    /// example with nothing to escape is written in place; so are tokens or a URL-shaped example
    /// with nothing to escape, fit or check, when the example leads over the hint (after the
    /// clock that `string_marked` draws first). Never for a node with a faker of its own.
    pub(crate) fn of(node: &Node, hint: Option<Hint>) -> InPlace {
        if node.kind != Types::STRING || node.faker.is_some() {
            return InPlace::No;
        }
        if let Some(like) = url_example(node, hint) {
            return if like.plain() {
                InPlace::Url
            } else {
                InPlace::No
            };
        }
        let Some(like) = node.like_example.as_deref() else {
            return InPlace::No;
        };
        let redrawn = matches!(like.shape(), ExampleShape::Url | ExampleShape::Tokens);
        if !redrawn
            || !like.plain()
            || node.format.is_some()
            || !nothing_to_meet(node)
            || !example_leads(like, hint)
        {
            return InPlace::No;
        }
        InPlace::AfterClock
    }
}

/// The request's array for an array node, when it can be echoed: not empty, and of a length the
/// node allows.
fn echoed_items<'e>(node: &Node, slot: Slot<'e, '_>) -> Option<impl Iterator<Item = Echo<'e>>> {
    let echo = slot.echo?;
    let Value::Array(source) = echo.value else {
        return None;
    };
    let length = source.len() as u64;
    let items = echo.defaults.and_then(DefaultsCursor::items);
    (!source.is_empty()
        && length >= node.min_items
        && node.max_items.is_none_or(|max| length <= max))
    .then(|| {
        source.iter().map(move |value| Echo {
            value,
            defaults: items,
        })
    })
}

/// What one object's values agree on.
struct Scene<'s> {
    who: Who<'s>,
    clock: Option<Clock>,
    /// The enclosing record's age in seconds, as [`Slot::since`].
    since: Option<i64>,
}

impl<'s> Scene<'s> {
    fn new(scope: Option<&'s EchoScope<'s>>, since: Option<i64>) -> Self {
        Scene {
            who: Who::new(scope),
            clock: None,
            since,
        }
    }

    /// The object's clock, drawn on first use. Asked for by every hinted string, so the usual
    /// case (already drawn) is kept small enough to inline.
    #[inline]
    fn clock(&mut self, rng: &mut Xoshiro256PlusPlus, now: DateTime<Utc>) -> Clock {
        match self.clock {
            Some(clock) => clock,
            None => self.draw_clock(rng, now),
        }
    }

    #[inline(never)]
    fn draw_clock(&mut self, rng: &mut Xoshiro256PlusPlus, now: DateTime<Utc>) -> Clock {
        let clock = Clock::new(rng, now, self.since);
        self.clock = Some(clock);
        clock
    }
}

/// The formats `Runner::formatted` draws values in, told apart once, when the plan is made, so
/// that drawing a value never compares format names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormatKind {
    DateTime,
    Date,
    Time,
    Email,
    Uuid,
    Url,
    Iri,
    Reference,
    Hostname,
    Ipv4,
    Ipv6,
    Byte,
    Password,
    Duration,
    JsonPointer,
    Phone,
    /// A format `formatted` does not draw.
    Other,
}

impl FormatKind {
    /// The kind of the format named `format`.
    pub(crate) fn of(format: &str) -> FormatKind {
        match format {
            "date-time" => FormatKind::DateTime,
            "date" => FormatKind::Date,
            "time" => FormatKind::Time,
            "email" | "idn-email" => FormatKind::Email,
            "uuid" => FormatKind::Uuid,
            "uri" | "url" => FormatKind::Url,
            "iri" => FormatKind::Iri,
            "uri-reference" | "iri-reference" => FormatKind::Reference,
            "hostname" | "idn-hostname" => FormatKind::Hostname,
            "ipv4" => FormatKind::Ipv4,
            "ipv6" => FormatKind::Ipv6,
            "byte" => FormatKind::Byte,
            "password" => FormatKind::Password,
            "duration" => FormatKind::Duration,
            "json-pointer" => FormatKind::JsonPointer,
            "phone" => FormatKind::Phone,
            _ => FormatKind::Other,
        }
    }

    /// Whether every value `Runner::formatted` draws in this kind would pass the server's check
    /// for its format: a URL or a UUID built from checked parts. That check then costs the most
    /// of any in a large body (hundreds of URLs); `formats_made_by_construction_pass_the_
    /// servers_check` holds every such producer to it. Timestamps are decided value by value
    /// (`fakes::has_plain_form`), since `--now` can take a moment out of RFC 3339's years.
    fn made_by_construction(self) -> bool {
        matches!(self, FormatKind::Url | FormatKind::Iri | FormatKind::Uuid)
    }

    /// Whether nothing `Runner::formatted` draws in this kind has a character JSON escapes, so
    /// that the writer copies it without looking (hundreds of URLs and timestamps in a large
    /// body): every part they are built from is a fixed ASCII text, digits, or a name's ASCII
    /// slug. `formats_plain_by_construction_need_no_escaping` holds every such producer to it,
    /// and debug builds check each value as it is written.
    fn plain_by_construction(self) -> bool {
        matches!(
            self,
            FormatKind::DateTime
                | FormatKind::Date
                | FormatKind::Time
                | FormatKind::Email
                | FormatKind::Uuid
                | FormatKind::Url
                | FormatKind::Iri
        )
    }
}

impl<'g, 'r> Runner<'g, 'r> {
    pub(crate) fn new(
        graph: &'g Graph,
        rng: &'r mut Xoshiro256PlusPlus,
        now: DateTime<Utc>,
    ) -> Self {
        Runner {
            graph,
            rng,
            now,
            count: 0,
            path: Vec::new(),
            retries: 0,
            retrying: false,
            unsure: false,
            spare: String::new(),
        }
    }

    /// The room for the next generated string: the last one handed back, emptied, or room for
    /// a typical value (a URL, a UUID, a name), so that it is not grown from nothing.
    fn buffer(&mut self) -> String {
        match std::mem::take(&mut self.spare) {
            spare if spare.capacity() > 0 => spare,
            _ => String::with_capacity(FIRST_BUFFER),
        }
    }

    /// A string `push` writes into [`Runner::buffer`], drawing from the generator.
    fn drawn(&mut self, push: impl FnOnce(&mut String, &mut Xoshiro256PlusPlus)) -> String {
        let mut text = self.buffer();
        push(&mut text, self.rng);
        text
    }

    /// Takes back a string that has been written out, keeping its room for the next one.
    fn give_back(&mut self, mut text: String) {
        if text.capacity() > self.spare.capacity() {
            text.clear();
            self.spare = text;
        }
    }

    /// A whole body for `root` into `out`, echoing `echo` (the request body) where it fits, with
    /// the identity placed where `placement` says; `minimal`, only what the schema requires.
    pub(crate) fn walk_root<O: Out>(
        &mut self,
        root: NodeId,
        echo: Option<Echo<'_>>,
        placement: Option<Placement<'_>>,
        minimal: bool,
        out: &mut O,
    ) {
        let mut scene = Scene::new(None, None);
        let slot = Slot {
            minimal,
            ..Slot::root(echo)
        };
        self.walk(root, slot, &mut scene, out, placement);
    }

    /// A value for one node with a hint, outside any body (identity values).
    pub(crate) fn single(&mut self, node: NodeId, hint: Option<Hint>) -> Value {
        let slot = Slot {
            hint,
            ..Slot::root(None)
        };
        let mut scene = Scene::new(None, None);
        self.built(|runner, out| runner.walk(node, slot, &mut scene, out, None))
    }

    /// What `make` puts into a [`ValueOut`]: a value to look at whole (a candidate to check,
    /// items to compare).
    fn built(&mut self, make: impl FnOnce(&mut Self, &mut ValueOut)) -> Value {
        let mut out = ValueOut::default();
        make(self, &mut out);
        out.into_value()
    }

    /// The walk: makes a value for node `id` in `slot` and puts it into `out` (JSON bytes or a
    /// `Value`, the same from the same random numbers), with the identity placed in it where
    /// `placement` says. Inlined where it is called, so that a plain scalar (most values) costs
    /// no call with a whole slot.
    #[inline(always)]
    fn walk<O: Out>(
        &mut self,
        id: NodeId,
        slot: Slot<'_, '_>,
        scene: &mut Scene<'_>,
        out: &mut O,
        placement: Option<Placement<'_>>,
    ) {
        let node = match self.counted(id, slot.depth) {
            Ok(node) => node,
            Err(value) => return out.placed(Cow::Owned(value), placement),
        };
        if node.leaf {
            // Made the same however minimal the slot: no variant to draw, no check, no parts
            // to put on the path.
            return self.scalar(node, slot.hint, scene, out);
        }
        self.composed(id, node, slot, scene, out, placement);
    }

    /// [`Runner::walk`] for a node that is not a plain scalar.
    #[inline(never)]
    fn composed<O: Out>(
        &mut self,
        id: NodeId,
        node: &'g Node,
        slot: Slot<'_, '_>,
        scene: &mut Scene<'_>,
        out: &mut O,
        placement: Option<Placement<'_>>,
    ) {
        let slot = self.settled(id, slot);
        self.path.push(id);
        let start = self.first_variant(node, slot.minimal);
        if !node.check || exclusive(node, slot) || alone(node, slot, start) {
            // Most nodes need no check: one draw, nothing to retry. Nor do variants that exclude
            // each other: the drawn one's own checks are all there is.
            self.shape(node, slot, scene, start, out, placement);
        } else {
            let value = self.checked(node, slot, scene, start);
            out.placed(Cow::Owned(value), placement);
        }
        self.path.pop();
    }

    /// Counts a node about to be generated: the node, or the value that stands in for it when
    /// it is missing, too deep, or past the body's [`HARD_BUDGET`].
    #[inline]
    fn counted(&mut self, id: NodeId, depth: u16) -> Result<&'g Node, Value> {
        let graph = self.graph;
        let Some(node) = graph.nodes.get(id as usize) else {
            self.unsure = true;
            return Err(Value::Null);
        };
        self.count += 1;
        if depth >= HARD_DEPTH || self.count > HARD_BUDGET {
            self.unsure = true;
            return Err(smallest(node));
        }
        if node.height == UNREACHABLE {
            // No value satisfies the node (an `enum` no other part allows, types that exclude
            // each other): whatever is made here is not vouched for.
            self.unsure = true;
        }
        Ok(node)
    }

    /// How fully a node with parts is made (a scalar is made the same either way).
    fn settled<'e, 'f>(&self, id: NodeId, slot: Slot<'e, 'f>) -> Slot<'e, 'f> {
        let minimal = slot.minimal
            || slot.depth >= SOFT_DEPTH
            || self.count > BUDGET
            || self.path.contains(&id);
        Slot { minimal, ..slot }
    }

    /// A value of a node whose composition must be checked, made as a `Value` and tried until
    /// it really validates (other branches of a `oneOf` must reject it), from the variant at
    /// `start` on.
    fn checked(
        &mut self,
        node: &'g Node,
        slot: Slot<'_, '_>,
        scene: &mut Scene<'_>,
        start: usize,
    ) -> Value {
        // Every branch gets a chance: with overlapping branches, often only one of them can give
        // a value that the others reject.
        let tries = if self.retries > MAX_RETRIES {
            2
        } else {
            ATTEMPTS.max(node.variants.len() + 2).min(MAX_ATTEMPTS)
        };
        let mut failed: Vec<(usize, Value)> = Vec::new();
        let retrying = self.retrying;
        for attempt in 0..tries {
            self.retrying = retrying || attempt > 0;
            let candidate = self.built(|runner, out| {
                runner.shape(node, slot, scene, start + attempt, out, None);
            });
            self.retrying = retrying;
            if accepts_all_noting(&self.graph.parts, &node.roots, &candidate, &mut self.unsure) {
                return candidate;
            }
            self.retries += 1;
            failed.push((start + attempt, candidate));
        }
        let mut last = Value::Null;
        for (variant, candidate) in failed {
            if let Some(value) = self.exclude(node, variant, &candidate) {
                return value;
            }
            last = candidate;
        }
        self.unsure = true;
        last
    }

    /// Makes a value of one `oneOf` branch fail the other branches that also accept it, when the
    /// branches overlap completely (no `required` tells them apart): a property another branch
    /// declares, and the chosen one does not, is given a value of a type the other one refuses.
    fn exclude(&mut self, node: &Node, variant: usize, candidate: &Value) -> Option<Value> {
        const PROBES: [fn() -> Value; 6] = [
            || Value::Null,
            || Value::Bool(false),
            || Value::from(0),
            || Value::String(String::new()),
            || Value::Array(Vec::new()),
            || Value::Object(Map::new()),
        ];
        let graph = self.graph;
        let parts = &graph.parts;
        let Value::Object(map) = candidate else {
            return None;
        };
        if node.variants.is_empty() {
            return None;
        }
        let chosen = &graph.nodes[node.variants[variant % node.variants.len()].node as usize];
        if chosen.additional == Additional::Forbidden {
            return None;
        }
        let mut value = Value::Object(map.clone());
        for (index, other) in node.variants.iter().enumerate() {
            if index == variant % node.variants.len() {
                continue;
            }
            let other = &graph.nodes[other.node as usize];
            // A variant's last root is its branch; the others are the parent's, which hold.
            let branch = other
                .roots
                .last()
                .map(std::slice::from_ref)
                .unwrap_or_default();
            if !accepts_all(parts, branch, &value) {
                continue;
            }
            let mut told_apart = false;
            for prop in &other.properties {
                if chosen.property(&prop.name).is_some() || value.get(&*prop.name).is_some() {
                    continue;
                }
                let refused = &graph.nodes[prop.node as usize].roots;
                let probe = PROBES.iter().map(|probe| probe()).find(|probe| {
                    !accepts_all(parts, refused, probe)
                        && match chosen.additional {
                            Additional::Schema(schema) => {
                                accepts_all(parts, &graph.nodes[schema as usize].roots, probe)
                            }
                            _ => true,
                        }
                });
                if let (Some(probe), Value::Object(map)) = (probe, &mut value) {
                    map.insert(String::from(&*prop.name), probe);
                    told_apart = true;
                    break;
                }
            }
            if !told_apart {
                return None;
            }
        }
        accepts_all_noting(parts, &node.roots, &value, &mut self.unsure).then_some(value)
    }

    fn first_variant(&mut self, node: &Node, minimal: bool) -> usize {
        let count = node.variants.len();
        if count == 0 {
            return 0;
        }
        if minimal {
            let graph = self.graph;
            return node
                .variants
                .iter()
                .enumerate()
                .min_by_key(|(_, variant)| graph.nodes[variant.node as usize].height)
                .map_or(0, |(index, _)| index);
        }
        self.rng.random_range(0..count)
    }

    /// A value of `node` made from its variant at `variant`, its `enum`, or its kind, into `out`.
    fn shape<O: Out>(
        &mut self,
        node: &'g Node,
        slot: Slot<'_, '_>,
        scene: &mut Scene<'_>,
        variant: usize,
        out: &mut O,
        placement: Option<Placement<'_>>,
    ) {
        if !node.variants.is_empty() {
            let variant = &node.variants[variant % node.variants.len()];
            let mut forced = Vec::new();
            let forced: &[(Arc<str>, Value)] = match &variant.forced {
                Some(pair) => {
                    forced.extend_from_slice(slot.forced);
                    forced.push(pair.clone());
                    &forced
                }
                None => slot.forced,
            };
            return self.walk(variant.node, Slot { forced, ..slot }, scene, out, placement);
        }
        if let Some(choices) = &node.choices
            && !choices.is_empty()
        {
            let choice = match &node.default {
                Some(default)
                    if choices.iter().any(|choice| equal(choice, default))
                        && self.rng.random_bool(0.5) =>
                {
                    default
                }
                _ => &choices[self.rng.random_range(0..choices.len())],
            };
            return out.placed(Cow::Borrowed(choice), placement);
        }
        let composite = node.kind == Types::OBJECT || node.kind == Types::ARRAY;
        if node.null_ok && (node.types.is_empty() || (slot.minimal && composite)) {
            return out.value(Value::Null);
        }
        match node.kind {
            Types::OBJECT => self.object(node, slot, out, placement),
            Types::ARRAY => self.array(node, slot, out),
            _ => self.scalar(node, slot.hint, scene, out),
        }
    }

    /// A value of a scalar node (or the smallest value of a node of no kind), into `out`.
    fn scalar<O: Out>(
        &mut self,
        node: &'g Node,
        hint: Option<Hint>,
        scene: &mut Scene<'_>,
        out: &mut O,
    ) {
        match node.kind {
            Types::STRING => {
                if let Some(like) = self.in_place_example(node, hint, scene) {
                    // As `string_marked` makes it, with nothing to escape, fit or check: no
                    // string of its own to fill and copy.
                    return out.redrawn(like, self.rng);
                }
                let (text, plain) = self.string_marked(node, hint, scene);
                if let Some(text) = out.string(text, plain) {
                    self.give_back(text);
                }
            }
            Types::INTEGER => {
                let integer = self.integer(node, hint, scene);
                out.integer(integer);
            }
            Types::NUMBER => {
                let number = self.number(node, hint);
                out.value(number);
            }
            Types::BOOLEAN => {
                let boolean = self.boolean(node, hint);
                out.boolean(boolean);
            }
            _ => out.value(smallest(node)),
        }
    }

    /// The scene an object's properties are made in, and the slot they are made from: the
    /// object's clock is drawn first, and its age is the `since` of everything inside.
    fn opened<'s, 'e, 'f>(
        &mut self,
        scope: Option<&'s EchoScope<'s>>,
        slot: Slot<'e, 'f>,
    ) -> (Scene<'s>, Slot<'e, 'f>) {
        let mut scene = Scene::new(scope, slot.since);
        let clock = scene.clock(self.rng, self.now);
        let since = Some(clock.age());
        (scene, Slot { since, ..slot })
    }

    /// One object, property by property, into `out`: forced discriminator values, the declared
    /// properties wanted (echoed, or made), names required but not declared, and drawn names up
    /// to `minProperties` (or a dictionary's few).
    fn object<O: Out>(
        &mut self,
        node: &'g Node,
        slot: Slot<'_, '_>,
        out: &mut O,
        placement: Option<Placement<'_>>,
    ) {
        out.open_object(node.properties.len() + slot.forced.len());
        let mut placing = Placing::new(placement);
        let scope = slot.echo.and_then(|echo| {
            echo.value
                .as_object()
                .map(|map| EchoScope::new(map, echo.defaults))
        });
        let (mut scene, slot) = self.opened(scope.as_ref(), slot);
        // How many properties are written, and the names written that no property declares
        // (the only ones a name to add may meet).
        let mut written = 0;
        let mut undeclared: Vec<Cow<'_, str>> = Vec::new();
        for (name, value) in slot.forced {
            if node.property(name).is_none() {
                out.name(name);
                let found = Source::Found(value);
                self.put(name, found, slot, &mut scene, out, &mut placing);
                written += 1;
                undeclared.push(Cow::Borrowed(&**name));
            }
        }
        let required = node
            .properties
            .iter()
            .filter(|prop| prop.required && !prop.forbidden)
            .count()
            + node.extra_required.len()
            + written;
        let mut room = node
            .max_properties
            .map_or(usize::MAX, |max| usize::try_from(max).unwrap_or(usize::MAX))
            .saturating_sub(required);
        let mut skipped: Vec<&'g Prop> = Vec::new();
        for prop in &node.properties {
            if prop.forbidden {
                continue;
            }
            let forced = slot
                .forced
                .iter()
                .find(|(name, _)| **name == *prop.name)
                .map(|(_, value)| value);
            let found = scope
                .as_ref()
                .and_then(|scope| scope.find(&prop.name, &prop.key));
            let wanted = wanted(prop, forced.is_some(), found.is_some(), slot.minimal);
            if !wanted || (!prop.required && room == 0) {
                if !prop.write_only && !prop.required {
                    skipped.push(prop);
                }
                continue;
            }
            if !prop.required {
                room -= 1;
            }
            let source = match (forced, &node.lineage) {
                (Some(value), _) => Source::Found(value),
                (None, Some((name, value))) if **name == *prop.name && found.is_none() => {
                    Source::Found(value)
                }
                _ => self.property_source(prop, found, slot.echo),
            };
            written += 1;
            if let Source::Node(..) = source
                && self.in_place(prop, slot.depth + 1, &mut scene, out, &placing)
            {
                continue;
            }
            out.prop_name(prop);
            let child = slot.property(prop.hint);
            self.put(&prop.name, source, child, &mut scene, out, &mut placing);
        }
        let child = Slot {
            hint: None,
            echo: None,
            forced: &[],
            depth: slot.depth + 1,
            minimal: slot.minimal,
            since: slot.since,
        };
        let extra = match node.additional {
            Additional::Schema(schema) => schema,
            _ => FREE,
        };
        for name in &node.extra_required {
            if !undeclared.iter().any(|written| *written == **name) {
                out.name(name);
                self.put(
                    name,
                    Source::Node(extra, None),
                    child,
                    &mut scene,
                    out,
                    &mut placing,
                );
                written += 1;
                undeclared.push(Cow::Borrowed(&**name));
            }
        }
        let min = usize::try_from(node.min_properties).unwrap_or(usize::MAX);
        for prop in skipped {
            if written >= min {
                break;
            }
            let source = self.property_source(prop, None, slot.echo);
            out.prop_name(prop);
            let child = slot.property(prop.hint);
            self.put(&prop.name, source, child, &mut scene, out, &mut placing);
            written += 1;
        }
        let dictionary = node.properties.is_empty()
            && matches!(node.additional, Additional::Schema(_))
            && !slot.minimal;
        let max = node
            .max_properties
            .map_or(usize::MAX, |max| usize::try_from(max).unwrap_or(usize::MAX));
        let wanted = if dictionary {
            min.max(written + self.rng.random_range(1..=2)).min(max)
        } else {
            min
        };
        if node.additional != Additional::Forbidden && node.draws_keys {
            let mut misses = 0;
            while written < wanted && misses < 16 {
                let key = fakes::words(self.rng, 0).replace(' ', "_");
                if undeclared.iter().any(|written| *written == key) || node.property(&key).is_some()
                {
                    misses += 1;
                    continue;
                }
                out.name(&key);
                self.put(
                    &key,
                    Source::Node(extra, None),
                    child,
                    &mut scene,
                    out,
                    &mut placing,
                );
                written += 1;
                undeclared.push(Cow::Owned(key));
            }
        }
        if written < min {
            self.unsure = true;
        }
        placing.finish(out);
        out.close_object();
    }

    /// Puts the property `prop` of an object, with its value from its node at `depth`, into `out`
    /// when that value is a string made after its example with nothing to fit, check or escape
    /// ([`Prop::written_head`]): counted as the walk counts it, after the clock when it would
    /// draw it, and the example redrawn as `scalar` redraws it, but the property's start made
    /// once, when the plan was. False, with nothing drawn, counted or put, when it is not so.
    #[inline]
    fn in_place<O: Out>(
        &mut self,
        prop: &Prop,
        depth: u16,
        scene: &mut Scene<'_>,
        out: &mut O,
        placing: &Placing<'_>,
    ) -> bool {
        let Some(head) = prop.written_head.as_deref() else {
            return false;
        };
        let graph = self.graph;
        let Some(like) = graph
            .nodes
            .get(prop.node as usize)
            .and_then(|node| node.like_example.as_deref())
        else {
            return false;
        };
        if placing.at(&prop.name).is_some() || depth >= HARD_DEPTH || self.count >= HARD_BUDGET {
            return false;
        }
        self.count += 1;
        if prop.in_place == InPlace::AfterClock {
            scene.clock(self.rng, self.now);
        }
        out.in_place(prop, head, like, self.rng);
        true
    }

    /// The value of the property `name`, just named in `out`, from `source` (a node's made in
    /// `slot`): the identity instead when it goes there (the value is still made, and dropped,
    /// so that what follows draws the same numbers), else the value with the identity placed
    /// inside where it goes.
    #[inline(always)]
    fn put<O: Out>(
        &mut self,
        name: &str,
        source: Source<'_>,
        slot: Slot<'_, '_>,
        scene: &mut Scene<'_>,
        out: &mut O,
        placing: &mut Placing<'_>,
    ) {
        if let Some(identity) = placing.at(name) {
            if let Source::Node(..) = source {
                self.built(|runner, made| runner.source(source, slot, scene, made, None));
            }
            out.value_ref(identity);
            placing.placed = true;
            return;
        }
        self.source(source, slot, scene, out, placing.inside(name));
    }

    /// The value `source` gives (a node's made in `slot`), into `out`.
    #[inline(always)]
    fn source<O: Out>(
        &mut self,
        source: Source<'_>,
        slot: Slot<'_, '_>,
        scene: &mut Scene<'_>,
        out: &mut O,
        placement: Option<Placement<'_>>,
    ) {
        match source {
            Source::Node(node, echo) => {
                self.walk(node, Slot { echo, ..slot }, scene, out, placement)
            }
            Source::Found(value) => out.placed(Cow::Borrowed(value), placement),
            Source::Filled(value) => out.placed(Cow::Owned(*value), placement),
        }
    }

    /// Where a property's value comes from: the request's value itself when the property's
    /// schema accepts it, else the property's node (reading the request's value along when it is
    /// an object or an array the node describes; `echo` is what its object reads).
    #[inline(always)]
    fn property_source<'e>(
        &mut self,
        prop: &'g Prop,
        found: Option<Echo<'e>>,
        echo: Option<Echo<'e>>,
    ) -> Source<'e> {
        let graph = self.graph;
        let node = &graph.nodes[prop.node as usize];
        if let Some(found) = found
            && let Some(source) = self.found_source(prop.node, node, found)
        {
            return source;
        }
        // A nested object the request does not name keeps reading the same part of the request
        // (a response-side wrapper such as Flatfile's `data`).
        Source::Node(prop.node, echo.filter(|_| node.kind == Types::OBJECT))
    }

    /// Where the value of a property the request gives (`found`) comes from, unless it comes
    /// from the property's node alone: the request's value when `node` accepts it, or `node`
    /// reading it along when it is an object or an array the node describes.
    fn found_source<'e>(&mut self, id: NodeId, node: &Node, found: Echo<'e>) -> Option<Source<'e>> {
        let structured = !node.properties.is_empty() || !node.variants.is_empty();
        match found.value {
            Value::Object(_) if structured => Some(Source::Node(id, Some(found))),
            Value::Array(_) if node.kind == Types::ARRAY && node.variants.is_empty() => {
                Some(Source::Node(id, Some(found)))
            }
            // A rejected scalar goes on to the full check, which rejects it too.
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)
                if node
                    .scalar_types
                    .is_some_and(|types| types.admits(found.value)) =>
            {
                Some(Source::Found(found.value))
            }
            _ => {
                let value = found.filled();
                accepts_all_noting(&self.graph.parts, &node.roots, &value, &mut self.unsure)
                    .then(|| Source::echoed(value))
            }
        }
    }

    /// An array, item by item, into `out`: the request's items where it can be echoed, else
    /// made. Items that must be unique are made as values and compared ([`Runner::unique`]).
    fn array<O: Out>(&mut self, node: &'g Node, slot: Slot<'_, '_>, out: &mut O) {
        if node.unique_items {
            let value = self.unique(node, slot);
            return out.value(value);
        }
        let items = node.items.unwrap_or(FREE);
        let child = slot.items();
        if let Some(source) = echoed_items(node, slot) {
            out.open_array(source.size_hint().0);
            for element in source {
                out.item();
                self.echoed_item(items, element, child, out);
            }
        } else {
            let count = self.item_count(node, slot);
            out.open_array(count);
            for index in 0..count {
                out.item();
                let mut scene = Scene::new(None, child.since);
                self.walk(
                    element_node(node, index, items),
                    child,
                    &mut scene,
                    out,
                    None,
                );
            }
        }
        out.close_array();
    }

    /// An array whose items must be unique: the request's, when they are; else items made one
    /// by one, each made again while it repeats an earlier one.
    fn unique(&mut self, node: &'g Node, slot: Slot<'_, '_>) -> Value {
        let items = node.items.unwrap_or(FREE);
        let child = slot.items();
        if let Some(source) = echoed_items(node, slot) {
            let mut echoed = Vec::with_capacity(source.size_hint().0);
            for element in source {
                echoed
                    .push(self.built(|runner, out| runner.echoed_item(items, element, child, out)));
            }
            if all_distinct(&echoed) {
                return Value::Array(echoed);
            }
        }
        let count = self.item_count(node, slot);
        let mut made: Vec<Value> = Vec::with_capacity(count);
        let mut misses = 0;
        while made.len() < count {
            let mut scene = Scene::new(None, child.since);
            let id = element_node(node, made.len(), items);
            let value = self.built(|runner, out| runner.walk(id, child, &mut scene, out, None));
            if made.iter().any(|earlier| equal(earlier, &value)) {
                misses += 1;
                // Generous: with few distinct values (unique booleans), a short run of repeats
                // is likely (ten in a row one time in a thousand).
                if misses > 64 + count {
                    break;
                }
                continue;
            }
            made.push(value);
        }
        if made.len() < count {
            self.unsure = true;
        }
        Value::Array(made)
    }

    /// One echoed item of an array of `items`, into `out`.
    fn echoed_item<O: Out>(
        &mut self,
        items: NodeId,
        element: Echo<'_>,
        child: Slot<'_, '_>,
        out: &mut O,
    ) {
        let mut scene = Scene::new(None, child.since);
        let source = self.item_source(items, element);
        self.source(source, child, &mut scene, out, None);
    }
    /// Where an echoed array element's value comes from: the element itself when the item schema
    /// accepts it, else the item node (reading the element along when it is an object the node
    /// describes).
    fn item_source<'e>(&mut self, items: NodeId, element: Echo<'e>) -> Source<'e> {
        let graph = self.graph;
        let item_node = &graph.nodes[items as usize];
        let structured = !item_node.properties.is_empty() || !item_node.variants.is_empty();
        if matches!(element.value, Value::Object(_)) && structured {
            return Source::Node(items, Some(element));
        }
        let value = element.filled();
        if accepts_all_noting(&graph.parts, &item_node.roots, &value, &mut self.unsure) {
            Source::echoed(value)
        } else {
            Source::Node(items, None)
        }
    }

    fn item_count(&mut self, node: &Node, slot: Slot<'_, '_>) -> usize {
        // The items `contains` asks for come right after the prefix.
        let placed = node.contains.map_or(0, |(_, least)| {
            u64::try_from(node.prefix.len())
                .unwrap_or(u64::MAX)
                .saturating_add(least)
        });
        let min = node.min_items.max(placed).min(MAX_ITEMS);
        // Items no value satisfies are left out where the array may be shorter.
        let unreachable = node
            .items
            .and_then(|items| self.graph.nodes.get(items as usize))
            .is_some_and(|items| items.height == UNREACHABLE);
        let max = if unreachable {
            min.max(u64::try_from(node.prefix.len()).unwrap_or(u64::MAX))
        } else {
            node.max_items.unwrap_or(u64::MAX).max(min)
        };
        let count = if slot.minimal {
            min
        } else {
            let preferred = if slot.depth <= 1 { 3 } else { 2 };
            let low = min.max(1).min(max);
            let high = preferred.min(max).max(low);
            self.rng.random_range(low..=high)
        };
        usize::try_from(count.min(MAX_ITEMS)).unwrap_or(0)
    }

    /// A string of `node` under `hint`, and whether the string has no character JSON escapes by construction
    /// ([`FormatKind::plain_by_construction`]); false says only that it is not known.
    fn string_marked(
        &mut self,
        node: &'g Node,
        hint: Option<Hint>,
        scene: &mut Scene<'_>,
    ) -> (String, bool) {
        let explicit = node.faker;
        let hint = explicit.or(hint);
        if let Some(explicit) = explicit
            && let Some(text) = self.hinted(explicit, scene)
            && let Some(text) = self.fit(node, text)
        {
            return (text, false);
        }
        if let Some(like) = url_example(node, hint) {
            let text = self.drawn(|text, rng| like.push_redrawn(text, rng));
            return (text, like.plain());
        }
        if let Some(format) = &node.format {
            // A pattern on top of a format is met by drawing the formatted value again.
            let tries = if node.patterns.is_empty() { 4 } else { 16 };
            for _ in 0..tries {
                if let Some((drawn, made)) = self.formatted(node.format_kind, hint, scene)
                    && let Some(drawn) = self.fit_formatted(node, drawn, made.then_some(&**format))
                {
                    // Fitting cuts a text or pads it with letters: still plain.
                    return (drawn, node.format_kind.plain_by_construction());
                }
            }
        }
        if let Some(made) = self.after_example(node, hint, scene) {
            return made;
        }
        if let Some(hint) = hint
            && let Some(text) = self.hinted(hint, scene)
            && let Some(text) = self.fit(node, text)
        {
            return (text, false);
        }
        if let Some(pattern) = node.patterns.first()
            && pattern.samplable()
        {
            for attempt in 0..12 {
                if let Some(text) = pattern.sample(self.rng, attempt >= 6)
                    && self.valid_string(node, &text)
                {
                    return (text, false);
                }
            }
        }
        for fallback in [&node.default, &node.example] {
            if let Some(Value::String(text)) = fallback
                && self.valid_string(node, text)
            {
                return (text.clone(), false);
            }
        }
        let min = usize::try_from(node.min_length.min(64)).unwrap_or(64);
        let text = fakes::words(self.rng, min);
        if let Some(text) = self.fit(node, text) {
            return (text, false);
        }
        // Nothing made fits (a pattern no string matches, or one whose samples must be checked
        // and all missed): what is given is not vouched for.
        self.unsure = true;
        if let Some(text) = node
            .patterns
            .first()
            .and_then(|pattern| pattern.sample(self.rng, true))
        {
            return (text, false);
        }
        ("x".repeat(min), false)
    }

    /// The example a string of `node` is made after, when `Runner::string_marked` would make it
    /// by redrawing the example (a URL, or tokens) and nothing would fit, check or escape it
    /// afterwards, so that it can be written in place. Draws what `string_marked` draws before
    /// the example (the scene's clock, for tokens); draws nothing when it gives `None`.
    fn in_place_example(
        &mut self,
        node: &'g Node,
        hint: Option<Hint>,
        scene: &mut Scene<'_>,
    ) -> Option<&'g LikeExample> {
        let in_place = InPlace::of(node, hint);
        if in_place == InPlace::No {
            return None;
        }
        if in_place == InPlace::AfterClock {
            scene.clock(self.rng, self.now);
        }
        node.like_example.as_deref()
    }

    /// A value made after the node's example ([`super::like_example::LikeExample`]) and whether
    /// it is plain, unless a name hint says more than an example that is not structured, or asks
    /// for a moment.
    fn after_example(
        &mut self,
        node: &Node,
        hint: Option<Hint>,
        scene: &mut Scene<'_>,
    ) -> Option<(String, bool)> {
        let like = node.like_example.as_deref()?;
        if !example_leads(like, hint) {
            return None;
        }
        let clock = scene.clock(self.rng, self.now);
        let text = self.drawn(|text, rng| like.push(text, rng, &mut scene.who, &clock));
        // Fitting cuts a text or pads it with letters: as plain as it was.
        self.fit(node, text).map(|text| (text, like.plain()))
    }

    fn hinted(&mut self, hint: Hint, scene: &mut Scene<'_>) -> Option<String> {
        let clock = scene.clock(self.rng, self.now);
        let mut text = self.buffer();
        if fakes::push_text(&mut text, hint, self.rng, &mut scene.who, &clock) {
            Some(text)
        } else {
            self.give_back(text);
            None
        }
    }

    /// A value drawn in `format`, and whether it is in that format by construction (so that the
    /// server's check for it can be skipped).
    fn formatted(
        &mut self,
        format: FormatKind,
        hint: Option<Hint>,
        scene: &mut Scene<'_>,
    ) -> Option<(String, bool)> {
        let clock = scene.clock(self.rng, self.now);
        let time_hint = hint.filter(|hint| hint.is_time());
        // A moment is written in its format's plain form unless `--now` took it past year 9999
        // or before year 0; only a plain form is sure to pass the check.
        let timed = |runner: &mut Self, write: fn(&mut String, DateTime<Utc>)| {
            let moment = clock.moment(runner.rng, time_hint);
            let text = runner.drawn(|text, _| write(text, moment));
            Some((text, fakes::has_plain_form(moment)))
        };
        let text = match format {
            FormatKind::DateTime => return timed(self, fakes::push_date_time),
            FormatKind::Date => return timed(self, fakes::push_day),
            FormatKind::Time => return timed(self, fakes::push_time_of_day),
            FormatKind::Email => {
                self.drawn(|text, rng| scene.who.person(rng).push_email(text, rng))
            }
            FormatKind::Uuid => self.drawn(fakes::push_uuid),
            FormatKind::Url | FormatKind::Iri => match hint {
                Some(hint @ (Hint::Avatar | Hint::Image | Hint::Url)) => {
                    self.hinted(hint, scene)?
                }
                _ => self.drawn(fakes::push_url),
            },
            FormatKind::Reference | FormatKind::JsonPointer => {
                format!("/{}", fakes::words(self.rng, 0).replace(' ', "/"))
            }
            FormatKind::Hostname => self.hinted(Hint::Hostname, scene)?,
            FormatKind::Ipv4 => self.hinted(Hint::Ip, scene)?,
            FormatKind::Ipv6 => self.hinted(Hint::Ipv6, scene)?,
            FormatKind::Byte => {
                let length = self.rng.random_range(6..=24);
                fakes::base64(self.rng, length)
            }
            FormatKind::Password => self.hinted(Hint::Password, scene)?,
            FormatKind::Duration => format!("P{}D", self.rng.random_range(1..=90)),
            FormatKind::Phone => self.hinted(Hint::Phone, scene)?,
            FormatKind::Other => return None,
        };
        Some((text, format.made_by_construction()))
    }

    /// [`Runner::fit`] for a value `formatted` drew: the check for `format` is skipped when the
    /// value is in that format by construction and kept as drawn (no length bounds to fit).
    fn fit_formatted(&mut self, node: &Node, text: String, format: Option<&str>) -> Option<String> {
        match format {
            Some(format) if !has_length_bounds(node) => self
                .valid_string_but(node, &text, Some(format))
                .then_some(text),
            _ => self.fit(node, text),
        }
    }

    /// Brings a text within the length bounds and returns it if it then passes every string
    /// keyword of the node.
    fn fit(&mut self, node: &Node, mut text: String) -> Option<String> {
        if !has_length_bounds(node) {
            return self.valid_string(node, &text).then_some(text);
        }
        let length = text.chars().count() as u64;
        if let Some(max) = node.max_length
            && length > max
        {
            let keep = usize::try_from(max).unwrap_or(usize::MAX);
            text = text
                .chars()
                .take(keep)
                .collect::<String>()
                .trim_end()
                .to_owned();
        }
        let length = text.chars().count() as u64;
        if length < node.min_length {
            let missing = node.min_length - length;
            if missing > 4_096 {
                return None;
            }
            for _ in 0..missing {
                text.push(char::from(b'a' + self.rng.random_range(0..26u8)));
            }
        }
        self.valid_string(node, &text).then_some(text)
    }

    #[inline]
    fn valid_string(&self, node: &Node, text: &str) -> bool {
        self.valid_string_but(node, text, None)
    }

    /// [`Runner::valid_string`], leaving out the check for the format `made_in`, which the text is
    /// in by construction.
    #[inline]
    fn valid_string_but(&self, node: &Node, text: &str, made_in: Option<&str>) -> bool {
        // Most strings have nothing to meet: no call into the checks below.
        if nothing_to_meet(node) {
            return true;
        }
        let length_ok = !has_length_bounds(node) || {
            let length = text.chars().count() as u64;
            length >= node.min_length && node.max_length.is_none_or(|max| length <= max)
        };
        length_ok
            && node.patterns.iter().all(|pattern| pattern.matches(text))
            && node
                .format_checks
                .iter()
                .all(|format| made_in == Some(format.name()) || format.accepts(text))
    }

    fn integer(&mut self, node: &Node, hint: Option<Hint>, scene: &mut Scene<'_>) -> i64 {
        let lower = node.lower.map(|bound| {
            if bound.exclusive {
                bound.value.floor() as i128 + 1
            } else {
                bound.value.ceil() as i128
            }
        });
        let upper = node.upper.map(|bound| {
            if bound.exclusive {
                bound.value.ceil() as i128 - 1
            } else {
                bound.value.floor() as i128
            }
        });
        let step = integer_step(&node.multiples);
        let preferred = match hint {
            Some(hint) if hint.is_time() => {
                let clock = scene.clock(self.rng, self.now);
                let moment = i128::from(clock.moment(self.rng, Some(hint)).timestamp());
                (moment, moment)
            }
            _ => {
                let (low, high, _) = fakes::numeric_range(hint, self.now);
                (low as i128, high as i128)
            }
        };
        // The preferred range within the bounds, else the bounds alone; the second is worked out
        // only when the first holds no multiple of the step (or none that fits in 64 bits).
        let within = (
            lower.map_or(preferred.0, |lower| lower.max(preferred.0)),
            upper.map_or(preferred.1, |upper| upper.min(preferred.1)),
        );
        if let Some(value) = self.multiple_in(within, step) {
            return value;
        }
        let bounds = match (lower, upper) {
            (Some(lower), Some(upper)) => (lower, upper),
            (Some(lower), None) => (lower, lower.saturating_add(1_000)),
            (None, Some(upper)) => (upper.saturating_sub(1_000), upper),
            (None, None) => (0, 1_000),
        };
        if let Some(value) = self.multiple_in(bounds, step) {
            return value;
        }
        lower
            .and_then(|lower| i64::try_from(lower).ok())
            .unwrap_or(0)
    }

    fn number(&mut self, node: &Node, hint: Option<Hint>) -> Value {
        let lower = node.lower;
        let upper = node.upper;
        let above = |value: f64| {
            lower.is_none_or(|bound| {
                value > bound.value || (!bound.exclusive && value == bound.value)
            })
        };
        let below = |value: f64| {
            upper.is_none_or(|bound| {
                value < bound.value || (!bound.exclusive && value == bound.value)
            })
        };
        let fits = |value: f64| {
            value.is_finite()
                && above(value)
                && below(value)
                && node
                    .multiples
                    .iter()
                    .all(|multiple| is_multiple(value, *multiple))
        };
        let (preferred_low, preferred_high, decimals) = fakes::numeric_range(hint, self.now);
        // A retry (a `oneOf` that also admits integers) needs a fraction to tell the branches apart.
        let decimals = if self.retrying {
            decimals.max(2)
        } else {
            decimals
        };
        let bounded = match (lower, upper) {
            (Some(lower), Some(upper)) => (lower.value, upper.value),
            (Some(lower), None) => (lower.value, lower.value + 1_000.0),
            (None, Some(upper)) => (upper.value - 1_000.0, upper.value),
            (None, None) => (0.0, 1_000.0),
        };
        let preferred = (
            lower.map_or(preferred_low, |bound| bound.value.max(preferred_low)),
            upper.map_or(preferred_high, |bound| bound.value.min(preferred_high)),
        );
        for (low, high) in [preferred, bounded] {
            if low > high || !low.is_finite() || !high.is_finite() {
                continue;
            }
            if !node.multiples.is_empty() {
                if let Some(value) = self.multiple_between(&node.multiples, low, high, &fits) {
                    return number_value(value);
                }
                continue;
            }
            let mut decimals = decimals;
            while decimals < 12 && (high - low) * 10f64.powi(decimals as i32) < 10.0 {
                decimals += 1;
            }
            for _ in 0..8 {
                let raw = if high > low {
                    self.rng.random_range(low..=high)
                } else {
                    low
                };
                let value = round_to(raw, decimals);
                if fits(value) {
                    return number_value(value);
                }
            }
            let middle = round_to(low + (high - low) / 2.0, 12);
            if fits(middle) {
                return number_value(middle);
            }
        }
        number_value(lower.map_or(0.0, |bound| bound.value))
    }

    fn multiple_between(
        &mut self,
        multiples: &[f64],
        low: f64,
        high: f64,
        fits: &dyn Fn(f64) -> bool,
    ) -> Option<f64> {
        let (step, decimals) = decimal_step(multiples)?;
        let first = (low / step).ceil();
        let last = (high / step).floor();
        if !(first.is_finite() && last.is_finite()) || first > last {
            return None;
        }
        let (first, last) = (first as i64, last as i64);
        for attempt in 0..8 {
            let k = if attempt < 6 && first < last {
                self.rng.random_range(first..=last)
            } else if attempt % 2 == 0 {
                first
            } else {
                last
            };
            let value = round_to(k as f64 * step, decimals);
            if fits(value) {
                return Some(value);
            }
        }
        None
    }

    /// A multiple of `step` drawn from `low..=high`, when there is one and it fits in 64 bits.
    fn multiple_in(&mut self, (low, high): (i128, i128), step: i128) -> Option<i64> {
        let first = ceil_div(low, step);
        let last = floor_div(high, step);
        if first > last {
            return None;
        }
        let k = self.rng.random_range(first..=last);
        // Most integers have no `multipleOf`: no 128-bit multiplication for them.
        let value = if step == 1 { k } else { k.saturating_mul(step) };
        i64::try_from(value).ok()
    }

    fn boolean(&mut self, node: &Node, hint: Option<Hint>) -> bool {
        if let Some(Value::Bool(default)) = node.default
            && self.rng.random_bool(0.75)
        {
            return default;
        }
        match hint {
            Some(Hint::Active) => self.rng.random_bool(0.85),
            Some(Hint::Inactive) => self.rng.random_bool(0.1),
            _ => self.rng.random_bool(0.5),
        }
    }
}

/// The cheapest value of a node, used past the depth cap (it may not validate).
/// Whether a string is made after its example rather than its name hint: unless the hint says
/// more than an example that is not structured, or asks for a moment.
fn example_leads(like: &LikeExample, hint: Option<Hint>) -> bool {
    !((hint.is_some() && !like.structured()) || hint.is_some_and(Hint::is_time))
}

/// The example a string of `node` is made after as a URL ([`Node::url_from_example`]), unless
/// its hint asks for a picture: a picture's URL from its hint shows a picture; any other URL
/// keeps the example's host.
fn url_example(node: &Node, hint: Option<Hint>) -> Option<&LikeExample> {
    node.like_example
        .as_deref()
        .filter(|_| node.url_from_example && !matches!(hint, Some(Hint::Avatar | Hint::Image)))
}

fn smallest(node: &Node) -> Value {
    if node.null_ok {
        return Value::Null;
    }
    if let Some(choice) = node.choices.as_ref().and_then(|choices| choices.first()) {
        return choice.clone();
    }
    match node.kind {
        Types::OBJECT => Value::Object(Map::new()),
        Types::ARRAY => Value::Array(Vec::new()),
        Types::STRING => {
            Value::String("x".repeat(usize::try_from(node.min_length.min(64)).unwrap_or(0)))
        }
        Types::INTEGER | Types::NUMBER => {
            number_value(node.lower.map_or(0.0, |bound| bound.value.ceil()))
        }
        Types::BOOLEAN => Value::Bool(false),
        _ => Value::Null,
    }
}

fn all_distinct(values: &[Value]) -> bool {
    values
        .iter()
        .enumerate()
        .all(|(index, value)| !values[..index].iter().any(|earlier| equal(earlier, value)))
}

fn number_value(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

fn round_to(value: f64, decimals: u32) -> f64 {
    let text = format!("{value:.*}", decimals as usize);
    text.parse().unwrap_or(value)
}

/// Whether a string node bounds its length. Most do not, and then their characters need no
/// counting.
fn has_length_bounds(node: &Node) -> bool {
    node.max_length.is_some() || node.min_length > 0
}

/// Whether a string of `node` has nothing to meet: no length bounds, no pattern, no format to
/// check. Any text is then valid, and most strings are so.
fn nothing_to_meet(node: &Node) -> bool {
    !has_length_bounds(node) && node.patterns.is_empty() && node.format_checks.is_empty()
}

/// Whether a property is made when its object is: a required one always, and so is one whose
/// value a discriminator forces; a write-only one never otherwise (a response leaves it out);
/// any other unless the object is made minimal and the request says nothing of it.
fn wanted(prop: &Prop, forced: bool, found: bool, minimal: bool) -> bool {
    prop.required || forced || (!prop.write_only && (!minimal || found))
}

/// The smallest positive integer step every integer multiple of all `multiples` is a multiple
/// of (`multipleOf: 2.5` allows the integers 0, 5, 10…).
fn integer_step(multiples: &[f64]) -> i128 {
    let mut step: i128 = 1;
    for multiple in multiples {
        let Some((mantissa, decimals)) = decimal_parts(*multiple) else {
            continue;
        };
        let Some(scale) = u32::try_from(decimals)
            .ok()
            .and_then(|d| 10_i128.checked_pow(d))
        else {
            continue;
        };
        let mantissa = mantissa.abs();
        if mantissa == 0 {
            continue;
        }
        let this = mantissa / gcd(mantissa, scale);
        step = lcm(step, this).unwrap_or(step);
    }
    step.max(1)
}

/// The smallest step that is a multiple of every `multipleOf`, with its decimals.
fn decimal_step(multiples: &[f64]) -> Option<(f64, u32)> {
    let parts: Vec<(i128, i32)> = multiples.iter().filter_map(|m| decimal_parts(*m)).collect();
    if parts.len() != multiples.len() {
        return multiples
            .iter()
            .copied()
            .reduce(f64::max)
            .map(|step| (step, 12));
    }
    let decimals = parts.iter().map(|(_, decimals)| *decimals).max()?.max(0);
    let scale = 10_i128.checked_pow(u32::try_from(decimals).ok()?)?;
    let mut step: i128 = 1;
    for (mantissa, own) in parts {
        let factor = 10_i128.checked_pow(u32::try_from(decimals - own).ok()?)?;
        step = lcm(step, mantissa.abs().checked_mul(factor)?)?;
    }
    let decimals = u32::try_from(decimals).ok()?;
    Some((step as f64 / scale as f64, decimals))
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

fn lcm(a: i128, b: i128) -> Option<i128> {
    if a == 0 || b == 0 {
        return Some(a.max(b));
    }
    (a / gcd(a, b)).checked_mul(b)
}

fn ceil_div(value: i128, step: i128) -> i128 {
    // Most integers have no `multipleOf`: no 128-bit division for them.
    if step == 1 {
        return value;
    }
    let quotient = value.div_euclid(step);
    if value.rem_euclid(step) == 0 {
        quotient
    } else {
        quotient + 1
    }
}

fn floor_div(value: i128, step: i128) -> i128 {
    if step == 1 {
        return value;
    }
    value.div_euclid(step)
}

/// The node of an array's item at `index`: its `prefixItems` schema, then the items `contains`
/// asks for, then `items`.
fn element_node(node: &Node, index: usize, items: NodeId) -> NodeId {
    if let Some(&prefixed) = node.prefix.get(index) {
        return prefixed;
    }
    match node.contains {
        Some((contained, least))
            if u64::try_from(index - node.prefix.len()).is_ok_and(|at| at < least) =>
        {
            contained
        }
        _ => items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_steps_follow_fractional_multiples() {
        assert_eq!(integer_step(&[2.5]), 5);
        assert_eq!(integer_step(&[4.0, 6.0]), 12);
        assert_eq!(integer_step(&[0.5]), 1);
    }

    #[test]
    fn decimal_steps_combine() {
        assert_eq!(decimal_step(&[0.01]), Some((0.01, 2)));
        assert_eq!(decimal_step(&[0.5, 0.2]), Some((1.0, 1)));
    }

    #[test]
    fn rounding_division_is_euclidean() {
        assert_eq!(ceil_div(-7, 5), -1);
        assert_eq!(floor_div(-7, 5), -2);
        assert_eq!(ceil_div(10, 5), 2);
        for value in [-7, 0, 10, i128::MIN, i128::MAX] {
            assert_eq!(ceil_div(value, 1), value);
            assert_eq!(floor_div(value, 1), value);
        }
    }
}
