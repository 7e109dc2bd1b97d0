//! Writing a generated body straight into JSON: an object or array whose node needs no check of
//! the whole value is written as its parts are made, so the body costs no map, no hashing of its
//! names and no tree to serialize and drop. A node the writer cannot write part by part (one that
//! is checked whole, or whose items must be unique) is made as a value and serialized in its
//! place. The bytes are those `serde_json::to_vec` gives for the body `Runner::run` makes from the
//! same state: both make every value in the same order from the same random numbers.

use std::borrow::Cow;
use std::ops::Range;

use rand::RngExt;
use serde_json::{Number, Value};

use super::echo::Echo;
use super::hint::Hint;
use super::plan::{FREE, Node, NodeId, Prop, WrittenChoices};
use super::run::{
    Fields, Runner, Scene, Slot, Source, alone, echoed_items, element_node, exclusive, wanted,
};
use crate::schema_model::Types;

/// Where the record identity goes in the value being made: the names still to walk to it, and
/// the identity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placement<'p> {
    pub(crate) path: &'p [String],
    pub(crate) identity: &'p Value,
}

/// Puts the identity where `placement` says, when the objects on its way are there: replacing
/// the value of the last name, or adding it last.
pub(crate) fn place(body: &mut Value, placement: Placement<'_>) {
    let Some((last, parents)) = placement.path.split_last() else {
        return;
    };
    let mut current = body;
    for name in parents {
        match current.get_mut(name) {
            Some(next) => current = next,
            None => return,
        }
    }
    if let Value::Object(map) = current {
        match map.get_mut(last) {
            Some(slot) => *slot = placement.identity.clone(),
            None => {
                map.insert(last.clone(), placement.identity.clone());
            }
        }
    }
}

impl<'g> Runner<'g, '_> {
    /// Writes a whole body for `root` into `out`, echoing `echo`, with the identity placed.
    pub(crate) fn write_root(
        &mut self,
        root: NodeId,
        echo: Option<Echo<'_>>,
        placement: Option<Placement<'_>>,
        out: &mut Vec<u8>,
    ) {
        let mut scene = Scene::new(None, None);
        self.write(root, Slot::root(echo), &mut scene, out, placement);
    }

    fn write(
        &mut self,
        id: NodeId,
        slot: Slot<'_, '_>,
        scene: &mut Scene<'_>,
        out: &mut Vec<u8>,
        placement: Option<Placement<'_>>,
    ) {
        let node = match self.counted(id, slot.depth) {
            Ok(node) => node,
            Err(value) => return write_placed(out, Cow::Owned(value), placement),
        };
        if node.leaf && placement.is_none() {
            return self.write_leaf(node, slot.hint, scene, out);
        }
        if let Some(choices) = node.written_choices.as_deref()
            && placement.is_none()
        {
            return self.write_choice(choices, out);
        }
        let slot = self.settled(id, slot);
        self.descend(id, |runner| {
            if exclusive(node, slot) || node.variants.iter().any(|variant| variant.alone) {
                // As `Runner::checked` makes it: the variant drawn, then, when the variants
                // exclude each other or the others refuse this one's values by type, its value;
                // else values tried and checked from that variant on.
                let start = runner.first_variant(node, slot.minimal);
                if exclusive(node, slot) || alone(node, slot, start) {
                    let variant = &node.variants[start % node.variants.len()];
                    runner.write(variant.node, slot, scene, out, placement);
                } else {
                    let value = runner.checked_from(node, slot, scene, start);
                    write_placed(out, Cow::Owned(value), placement);
                }
            } else if !writable(node, slot) {
                let value = runner.checked(node, slot, scene);
                write_placed(out, Cow::Owned(value), placement);
            } else if node.kind == Types::OBJECT && placement.is_none() && free_object(node, slot) {
                runner.write_free_object(node, slot, out);
            } else if node.kind == Types::OBJECT {
                out.push(b'{');
                let mut fields = JsonFields {
                    names: Vec::with_capacity(node.properties.len()),
                    out,
                    placement,
                    placed: false,
                };
                runner.fields(node, slot, &mut fields);
                fields.finish();
            } else {
                runner.write_array(node, slot, out);
            }
        });
    }

    /// A plain scalar (`Node::leaf`), counted: made as `Runner::checked` makes it (no variant
    /// drawn, nothing checked, no parts to put on the path, and the same however minimal the
    /// slot), and written. A string is written without becoming a `Value`.
    fn write_leaf(
        &mut self,
        node: &'g Node,
        hint: Option<Hint>,
        scene: &mut Scene<'_>,
        out: &mut Vec<u8>,
    ) {
        if node.kind == Types::STRING {
            if let Some(like) = self.in_place_example(node, hint, scene) {
                // As `Runner::string_marked` makes it, written in place: there is nothing to
                // escape, fit or check, so no string of its own to fill and copy.
                out.push(b'"');
                like.push_redrawn(out, self.rng);
                out.push(b'"');
                return;
            }
            let (text, plain) = self.string_marked(node, hint, scene);
            if plain {
                write_plain_text(out, &text);
            } else {
                write_text(out, &text);
            }
            self.give_back(text);
        } else if node.kind == Types::INTEGER {
            // As `Runner::scalar` makes it, without a `Value` to hold it.
            let integer = self.integer(node, hint, scene);
            out.extend_from_slice(itoa::Buffer::new().format(integer).as_bytes());
        } else if node.kind == Types::BOOLEAN {
            let literal: &[u8] = if self.boolean(node, hint) {
                b"true"
            } else {
                b"false"
            };
            out.extend_from_slice(literal);
        } else {
            let value = self.scalar(node, hint, scene);
            write_value(out, &value);
        }
    }

    /// An `enum` choice, drawn as `Runner::shape` draws it (the default half of the time when it
    /// is a choice, else any choice) and written as it was written ahead, without a `Value`.
    fn write_choice(&mut self, choices: &WrittenChoices, out: &mut Vec<u8>) {
        if let Some(default) = &choices.default
            && self.rng.random_bool(0.5)
        {
            return out.extend_from_slice(default);
        }
        let at = self.rng.random_range(0..choices.choices.len());
        out.extend_from_slice(&choices.choices[at]);
    }

    /// An object that only its node decides ([`free_object`]), property by property, as
    /// `Runner::fields` makes it through [`JsonFields`] when there is nothing to echo, force,
    /// place or add: the same values from the same random numbers, without looking for any of
    /// those at each property.
    fn write_free_object(&mut self, node: &'g Node, slot: Slot<'_, '_>, out: &mut Vec<u8>) {
        let (mut scene, slot) = self.opened(None, slot);
        out.push(b'{');
        let mut first = true;
        for prop in &node.properties {
            // What `fields` leaves out when nothing is forced or found and the slot is not
            // minimal.
            if prop.forbidden || !wanted(prop, false, false, false) {
                continue;
            }
            // The comma that starts a written name is left out before the first property.
            let from = usize::from(first);
            first = false;
            if let Some(head) = prop.written_head.as_deref()
                && self.counted_whole(slot.depth + 1)
            {
                // As `write_leaf` writes a string in place: counted, after the clock when it
                // would draw it, and the example redrawn, its leading run written ahead.
                self.before_in_place(prop.in_place, &mut scene);
                out.extend_from_slice(&head[from..]);
                if !prop.head_is_whole {
                    let graph = self.graph;
                    if let Some(like) = graph
                        .nodes
                        .get(prop.node as usize)
                        .and_then(|node| node.like_example.as_deref())
                    {
                        like.push_after_lead(out, self.rng);
                    }
                    out.push(b'"');
                }
                continue;
            }
            out.extend_from_slice(&prop.written[from..]);
            if !self.write_leaf_property(prop, slot.depth, &mut scene, out) {
                self.write(prop.node, slot.property(prop.hint), &mut scene, out, None);
            }
        }
        out.push(b'}');
    }

    /// Writes the value of `prop`, a property of an object at `depth`, when its node is a leaf:
    /// counted one level deeper as `write` counts it, and written as `write` writes it. False,
    /// with nothing counted or written, when the node is not a leaf.
    fn write_leaf_property(
        &mut self,
        prop: &Prop,
        depth: u16,
        scene: &mut Scene<'_>,
        out: &mut Vec<u8>,
    ) -> bool {
        match self.counted_leaf(prop.node, depth + 1) {
            Some(Ok(node)) => self.write_leaf(node, prop.hint, scene, out),
            Some(Err(value)) => write_placed(out, Cow::Owned(value), None),
            None => return false,
        }
        true
    }

    /// An array whose items need not be unique, item by item (as `Runner::array` makes it).
    fn write_array(&mut self, node: &'g Node, slot: Slot<'_, '_>, out: &mut Vec<u8>) {
        let items = node.items.unwrap_or(FREE);
        let child = slot.items();
        out.push(b'[');
        if let Some(source) = echoed_items(node, slot) {
            for (index, element) in source.enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                let mut scene = Scene::new(None, slot.since);
                match self.item_source(items, element, child) {
                    Source::Node(node, slot) => self.write(node, slot, &mut scene, out, None),
                    Source::Found(value) => write_placed(out, value, None),
                }
            }
        } else {
            for index in 0..self.item_count(node, slot) {
                if index > 0 {
                    out.push(b',');
                }
                let mut scene = Scene::new(None, slot.since);
                self.write(
                    element_node(node, index, items),
                    child,
                    &mut scene,
                    out,
                    None,
                );
            }
        }
        out.push(b']');
    }
}

/// Whether a node is made part by part, so that its parts can be written as they are made:
/// `Runner::checked` makes it in one attempt with no check (not composed), and `Runner::shape`
/// gives an object, or an array that may repeat items.
fn writable(node: &Node, slot: Slot<'_, '_>) -> bool {
    let composite = node.kind == Types::OBJECT || (node.kind == Types::ARRAY && !node.unique_items);
    composite
        && !node.check
        && node.variants.is_empty()
        && node.choices.as_ref().is_none_or(Vec::is_empty)
        && !(node.null_ok && (node.types.is_empty() || slot.minimal))
}

/// Whether an object in `slot` is made from its declared properties alone, so that
/// [`Runner::write_free_object`] can write it: nothing in the slot to echo or force, no
/// discriminator to name the schema, no property required beyond those declared, no bound on
/// how many properties there are, and properties declared (an object of none is a dictionary,
/// whose keys are drawn).
fn free_object(node: &Node, slot: Slot<'_, '_>) -> bool {
    slot.free()
        && node.lineage.is_none()
        && node.extra_required.is_empty()
        && node.max_properties.is_none()
        && node.min_properties == 0
        && !node.properties.is_empty()
}

/// Writes `value` with the identity placed in it.
fn write_placed(out: &mut Vec<u8>, value: Cow<'_, Value>, placement: Option<Placement<'_>>) {
    let value = match placement {
        Some(placement) => {
            let mut value = value.into_owned();
            place(&mut value, placement);
            Cow::Owned(value)
        }
        None => value,
    };
    write_value(out, &value);
}

/// Writes `value` as serde_json does; a scalar, most of what is written this way, without it.
pub(super) fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(text) => write_text(out, text),
        Value::Number(number) => write_number(out, number),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        value => write_json(out, value),
    }
}

/// Writes `number` as serde_json does: its text, which serde_json keeps (`arbitrary_precision`:
/// a request's `12345678901234567890123` or `-0` as written, a made one as `itoa` or `zmij`
/// wrote it) and writes as it is.
fn write_number(out: &mut Vec<u8>, number: &Number) {
    out.extend_from_slice(number.as_str().as_bytes());
}

/// Writes `text` as a JSON string.
fn write_text(out: &mut Vec<u8>, text: &str) {
    // Most generated values are strings with nothing to escape: copied as they are.
    if plain(text) {
        write_plain_text(out, text);
    } else {
        write_json(out, text);
    }
}

/// Writes `text`, which has nothing to escape ([`plain`]), as a JSON string.
fn write_plain_text(out: &mut Vec<u8>, text: &str) {
    debug_assert!(plain(text), "{text:?} needs escaping");
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing into a Vec fails only for a map with non-string keys, which a Value never has.
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// Whether JSON writes `text` as it is, escaping nothing.
pub(super) fn plain(text: &str) -> bool {
    // A fold without an early exit looks at every byte, which the compiler turns into a few
    // wide comparisons for names of ordinary length.
    text.bytes().fold(true, |plain, byte| {
        plain & (byte >= 0x20) & (byte != b'"') & (byte != b'\\')
    })
}

/// An object's properties written as JSON, the opening brace already out.
struct JsonFields<'o, 'p> {
    out: &'o mut Vec<u8>,
    /// Where each name written so far lies in `out`, between its quotes.
    names: Vec<Range<usize>>,
    /// Where the identity goes, from this object on.
    placement: Option<Placement<'p>>,
    /// Set once the identity took the place of a property's value.
    placed: bool,
}

impl<'p> JsonFields<'_, 'p> {
    fn name(&mut self, name: &str) {
        if !self.names.is_empty() {
            self.out.push(b',');
        }
        self.out.push(b'"');
        let start = self.out.len();
        if plain(name) {
            self.out.extend_from_slice(name.as_bytes());
        } else {
            let mut quoted = Vec::new();
            write_json(&mut quoted, name);
            self.out.extend_from_slice(
                quoted
                    .get(1..quoted.len().saturating_sub(1))
                    .unwrap_or_default(),
            );
        }
        self.names.push(start..self.out.len());
        self.out.extend_from_slice(b"\":");
    }

    /// A name written ahead of time (`,"name":`, escaped; [`Prop::written`]), as
    /// [`JsonFields::name`] writes it.
    fn written_name(&mut self, written: &[u8]) {
        // The leading comma only after another name; the name starts after the quote.
        let (written, start) = if self.names.is_empty() {
            (written.get(1..).unwrap_or_default(), self.out.len() + 1)
        } else {
            (written, self.out.len() + 2)
        };
        self.out.extend_from_slice(written);
        // Between the quotes: the colon and the closing quote are the last two bytes.
        self.names.push(start..self.out.len().saturating_sub(2));
    }

    /// The identity, when it is the value of the property `name` of this object.
    fn identity_at(&self, name: &str) -> Option<&'p Value> {
        self.placement
            .filter(|placement| matches!(placement.path, [last] if last == name))
            .map(|placement| placement.identity)
    }

    /// Where the identity goes inside the value of the property `name`.
    fn inside(&self, name: &str) -> Option<Placement<'p>> {
        self.placement.and_then(|placement| match placement.path {
            [first, rest @ ..] if first == name && !rest.is_empty() => Some(Placement {
                path: rest,
                identity: placement.identity,
            }),
            _ => None,
        })
    }

    /// The identity written as the value of the property just named.
    fn write_identity(&mut self, identity: &Value) {
        write_json(self.out, identity);
        self.placed = true;
    }

    /// Adds the identity as the last property when it belongs here and no property held it,
    /// and closes the object.
    fn finish(mut self) {
        if let Some(placement) = self.placement
            && let [last] = placement.path
            && !self.placed
        {
            self.name(last);
            self.write_identity(placement.identity);
        }
        self.out.push(b'}');
    }
}

impl Fields for JsonFields<'_, '_> {
    fn len(&self) -> usize {
        self.names.len()
    }

    fn contains(&self, name: &str) -> bool {
        // Names are compared as written: escaped, which few names need.
        let written: Cow<'_, [u8]> = if plain(name) {
            Cow::Borrowed(name.as_bytes())
        } else {
            let mut quoted = Vec::new();
            write_json(&mut quoted, name);
            Cow::Owned(
                quoted
                    .get(1..quoted.len().saturating_sub(1))
                    .unwrap_or_default()
                    .to_vec(),
            )
        };
        self.names
            .iter()
            .any(|range| self.out.get(range.clone()) == Some(&*written))
    }

    fn known(&mut self, name: &str, value: &Value) {
        self.name(name);
        match self.identity_at(name) {
            Some(identity) => self.write_identity(identity),
            None => write_placed(self.out, Cow::Borrowed(value), self.inside(name)),
        }
    }

    fn property<'g, 'e>(
        &mut self,
        runner: &mut Runner<'g, '_>,
        prop: &'g Prop,
        found: Option<Echo<'e>>,
        slot: Slot<'e, '_>,
        scene: &mut Scene<'_>,
    ) {
        self.written_name(&prop.written);
        if let Some(identity) = self.identity_at(&prop.name) {
            // Made and dropped, as the identity replaces it: what follows draws the same numbers.
            runner.property(prop, found, slot, scene);
            self.write_identity(identity);
            return;
        }
        let inside = self.inside(&prop.name);
        // What `property_source` gives a leaf the request says nothing about: its node, one
        // level deeper, with the property's hint.
        if found.is_none()
            && inside.is_none()
            && runner.write_leaf_property(prop, slot.depth, scene, self.out)
        {
            return;
        }
        match runner.property_source(prop, found, slot) {
            Source::Node(node, slot) => runner.write(node, slot, scene, self.out, inside),
            Source::Found(value) => write_placed(self.out, value, inside),
        }
    }

    fn node(
        &mut self,
        runner: &mut Runner<'_, '_>,
        name: &str,
        node: NodeId,
        slot: Slot<'_, '_>,
        scene: &mut Scene<'_>,
    ) {
        self.name(name);
        if let Some(identity) = self.identity_at(name) {
            runner.value(node, slot, scene);
            self.write_identity(identity);
            return;
        }
        let inside = self.inside(name);
        runner.write(node, slot, scene, self.out, inside);
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;
    use serde_json::json;

    use crate::generate::{GenerateContext, Generator};

    /// The body `generator` writes for `seed`, checked to be the bytes (and the vouching) of
    /// the body it builds from the same seed, parsed back.
    fn written_as_built(
        generator: &Generator,
        seed: u64,
        identity: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let now = Utc
            .with_ymd_and_hms(2025, 1, 2, 3, 4, 5)
            .single()
            .expect("a date");
        let context = |rng| GenerateContext::plain(rng, now).with_identity(identity.clone());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut written = Vec::new();
        let vouched = generator.write_vouched(&mut context(&mut rng), &mut written);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let generated = generator.generate_vouched(&mut context(&mut rng));
        assert_eq!(
            String::from_utf8_lossy(&written),
            generated.body.to_string(),
            "seed {seed}"
        );
        assert_eq!(vouched, generated.vouched, "seed {seed}");
        serde_json::from_slice(&written).expect("JSON")
    }

    /// Objects made from their declared properties alone are written by a shorter path
    /// (`write_free_object`), which must leave out and keep what `fields` does, and draw the
    /// same numbers, down to where depth makes the values minimal.
    #[test]
    fn free_objects_are_written_as_built() {
        let document = json!({"components": {"schemas": {"Person": {
            "type": "object",
            "required": ["name", "secret"],
            "properties": {
                "name": {"type": "string"},
                "email": {"type": "string", "format": "email"},
                "created_at": {"type": "string", "format": "date-time"},
                "secret": {"type": "string", "writeOnly": true},
                "hint": {"type": "string", "writeOnly": true},
                "address": {"type": "object", "properties": {
                    "city": {"type": "string"},
                    "lines": {"type": "array", "items": {"type": "string"}}
                }},
                "bounded": {"type": "object", "maxProperties": 1, "properties": {
                    "a": {"type": "integer"}, "b": {"type": "integer"}
                }},
                "manager": {"$ref": "#/components/schemas/Person"},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        }}}});
        let schema = json!({"allOf": [
            {"$ref": "#/components/schemas/Person"},
            {"type": "object", "properties": {"extra": {"type": "boolean"}}}
        ]});
        let generator = Generator::compile(&document, &schema).expect("a generator");
        for seed in 0..50 {
            let parsed = written_as_built(&generator, seed, None);
            assert!(parsed["name"].is_string(), "{parsed}");
            assert!(
                parsed.get("secret").is_none() && parsed.get("hint").is_none(),
                "write-only properties stay out of a response"
            );
            assert!(parsed["manager"]["manager"].is_object(), "nested: {parsed}");
            assert!(
                parsed["bounded"]
                    .as_object()
                    .is_some_and(|bounded| bounded.len() <= 1),
                "a bounded object keeps its bound"
            );
        }
    }

    /// An `enum` is written from its choices written ahead (`Runner::write_choice`), drawing
    /// what `Runner::shape` draws: the default half of the time when it is a choice, else any
    /// choice; a choice that JSON escapes, a float, `null` and an object are written as
    /// serde_json writes them.
    #[test]
    fn enums_are_written_as_built() {
        let schema = json!({"type": "object", "properties": {
            "state": {"type": "string", "enum": ["open", "closed", "say \"hi\""]},
            "reason": {"type": "string", "nullable": true, "default": "completed",
                "enum": ["completed", "not_planned", null]},
            "stranger": {"type": "string", "default": "none", "enum": ["a", "b"]},
            "ratio": {"type": "number", "default": 1, "enum": [1.0, 2.5, -0.0]},
            "shape": {"enum": [{"x": 1}, [true], "flat"]},
            "states": {"type": "array", "minItems": 3,
                "items": {"type": "string", "enum": ["x", "y", "z"], "default": "z"}}
        }});
        let generator = Generator::compile(&json!({}), &schema).expect("a generator");
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..100 {
            let parsed = written_as_built(&generator, seed, None);
            for name in ["state", "reason", "stranger", "ratio", "shape"] {
                seen.insert(format!("{name}={}", parsed[name]));
            }
            assert!(
                ["a", "b"].contains(&parsed["stranger"].as_str().expect("a string")),
                "a default that is not a choice is never written: {parsed}"
            );
        }
        for written in [
            "state=\"say \\\"hi\\\"\"",
            "reason=null",
            "reason=\"completed\"",
            "ratio=1.0",
            "ratio=-0.0",
            "shape={\"x\":1}",
            "shape=[true]",
        ] {
            assert!(seen.contains(written), "{written} in {seen:?}");
        }
    }

    /// Strings redrawn from their example with nothing to fit, check or escape are written in
    /// place (`Runner::in_place_example`), and with their property name in one copy when there
    /// is nothing to redraw (`Prop::written_head`); the others go through `string_marked`. Both must
    /// draw what building the body draws, in objects (whose clock is drawn) and as array items
    /// (whose clock is not, until a redrawn token asks for it).
    #[test]
    fn strings_made_after_examples_are_written_as_built() {
        let user = json!({"type": "object", "properties": {
            "view": {"type": "string", "example": "public"},
            "html_url": {"type": "string", "format": "uri",
                "example": "https://github.com/octocat/Hello-World/pull/1347"},
            "followers_url": {"type": "string", "format": "uri",
                "example": "https://api.github.com/users/octocat/followers"},
            "node_id": {"type": "string", "example": "MDQ6VXNlcjE="},
            "sha": {"type": "string", "example": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
            "avatar_url": {"type": "string", "format": "uri",
                "example": "https://github.com/images/error/octocat_happy.gif"},
            "login": {"type": "string", "example": "octocat1"},
            "name": {"type": "string", "example": "monalisa octocat"},
            "quoted": {"type": "string", "example": "say \"v2\""},
            "bounded": {"type": "string", "maxLength": 5, "example": "ab12345"},
            "created_at": {"type": "string", "example": "2011-01-26T19:01:12Z"},
            "patterned": {"type": "string", "pattern": "^x", "example": "x1"},
            "formatted": {"type": "string", "format": "uuid", "example": "abc-123"}
        }});
        let schema = json!({"type": "object", "properties": {
            "owner": user, "members": {"type": "array", "minItems": 2, "items": user},
            "tags": {"type": "array", "minItems": 2,
                "items": {"type": "string", "example": "v1.2-rc3"}}
        }});
        let generator = Generator::compile(&json!({}), &schema).expect("a generator");
        let mut node_ids = std::collections::BTreeSet::new();
        for seed in 0..50 {
            let parsed = written_as_built(&generator, seed, None);
            let node_id = parsed["owner"]["node_id"].as_str().expect("a node id");
            assert_eq!(node_id.len(), "MDQ6VXNlcjE=".len(), "{node_id}");
            node_ids.insert(node_id.to_owned());
            let url = parsed["members"][1]["html_url"].as_str().expect("a URL");
            assert!(url.starts_with("https://github.com/"), "{url}");
            // Examples with nothing to redraw are written whole (`Prop::head_is_whole`).
            assert_eq!(parsed["owner"]["view"], "public");
            assert_eq!(
                parsed["members"][0]["followers_url"],
                "https://api.github.com/users/octocat/followers"
            );
        }
        assert!(node_ids.len() > 40, "redrawn: {node_ids:?}");
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        use serde_json::Number;
        let integers = [
            Number::from(0),
            Number::from(-1),
            Number::from(i64::MIN),
            Number::from(i64::MAX),
            Number::from(u64::MAX),
        ];
        let floats = [1.5, 3.0, -0.0, 1e300, 0.1].map(Number::from_f64);
        assert!(floats.iter().all(Option::is_some));
        // As a request writes them.
        let parsed = ["-0", "1E5", "1.50", "12345678901234567890123", "-1e-7"]
            .map(|text| serde_json::from_str::<Number>(text).expect("a JSON number"));
        for number in integers
            .into_iter()
            .chain(floats.into_iter().flatten())
            .chain(parsed)
        {
            let mut written = b"[".to_vec();
            super::write_number(&mut written, &number);
            assert_eq!(
                String::from_utf8_lossy(&written[1..]),
                serde_json::to_string(&number).expect("JSON"),
            );
            assert_eq!(&written[..1], b"[", "appended");
        }
    }

    /// Names written ahead of time carry their comma (`Prop::written`): it is left out before
    /// the first, and each name is found where it lies between its quotes.
    #[test]
    fn names_written_ahead_are_found_where_they_lie() {
        use crate::generate::run::Fields as _;

        let mut out = b"{".to_vec();
        let mut fields = super::JsonFields {
            out: &mut out,
            names: Vec::new(),
            placement: None,
            placed: false,
        };
        fields.written_name(b",\"first\":");
        fields.out.push(b'1');
        fields.written_name(b",\"second\":");
        fields.out.push(b'2');
        assert!(fields.contains("first") && fields.contains("second"));
        assert!(!fields.contains("irst") && !fields.contains("secon"));
        fields.finish();
        assert_eq!(String::from_utf8_lossy(&out), r#"{"first":1,"second":2}"#);
    }

    #[test]
    fn names_that_need_escaping_are_written_and_found_as_json_escapes_them() {
        let schema = json!({"type": "object",
            "required": ["quote\"d", "tab\tname", "back\\slash", "id", "extra\"one"],
            "properties": {
                "quote\"d": {"type": "string"},
                "tab\tname": {"type": "integer"},
                "back\\slash": {"type": "object", "properties": {"é": {"type": "boolean"}}},
                "id": {"type": "integer"}
            },
            "additionalProperties": {"type": "string"}});
        let generator = Generator::compile(&json!({}), &schema).expect("a generator");
        for seed in 0..50 {
            let parsed = written_as_built(&generator, seed, Some(json!(7)));
            assert_eq!(parsed["id"], json!(7), "the identity is placed");
            assert_eq!(
                parsed.as_object().map(|map| map.len()),
                Some(5),
                "no name twice"
            );
        }
    }

    /// Plain scalars are written without a check (`Node::leaf`); scalars the server must check
    /// (a `not`, an `allOf` branch) are not plain, and are retried when written as when built.
    #[test]
    fn checked_scalars_are_retried_when_written_as_when_built() {
        let schema = json!({"type": "object", "required": ["small", "word", "plain"],
        "properties": {
            "small": {"type": "integer", "minimum": 0, "maximum": 3, "not": {"enum": [0, 1, 2]}},
            "word": {"type": "string", "minLength": 1, "maxLength": 2,
                "allOf": [{"pattern": "^z"}]},
            "plain": {"type": "integer", "minimum": 0, "maximum": 3}
        }});
        let generator = Generator::compile(&json!({}), &schema).expect("a generator");
        let mut plain_values = std::collections::BTreeSet::new();
        let mut met = 0;
        for seed in 0..100 {
            let parsed = written_as_built(&generator, seed, None);
            if parsed["small"] == json!(3) {
                met += 1;
            }
            if parsed["word"]
                .as_str()
                .is_some_and(|word| word.starts_with('z'))
            {
                met += 1;
            }
            plain_values.insert(parsed["plain"].to_string());
        }
        // The generator retries a bounded number of times, so a few draws may still miss.
        assert!(met > 150, "the checks were met {met} times of 200");
        assert!(plain_values.len() > 1, "the plain one still varies");
    }

    #[test]
    fn string_values_that_need_escaping_are_written_as_json_escapes_them() {
        let texts = [
            "say \"hi\"",
            "back\\slash",
            "line\nbreak",
            "bell\u{7}",
            "plain é",
            "",
        ];
        let schema = json!({"type": "object", "required": ["text", "list"], "properties": {
            "text": {"type": "string", "enum": texts},
            "list": {"type": "array", "minItems": 3, "items": {"type": "string", "enum": texts}}
        }});
        let generator = Generator::compile(&json!({}), &schema).expect("a generator");
        let mut seen = std::collections::HashSet::new();
        for seed in 0..200 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut written = Vec::new();
            generator.write_vouched(
                &mut GenerateContext::plain(&mut rng, Utc::now()),
                &mut written,
            );
            let parsed: serde_json::Value = serde_json::from_slice(&written).expect("JSON");
            assert_eq!(serde_json::to_vec(&parsed).expect("bytes"), written);
            let text = parsed["text"].as_str().expect("a string").to_owned();
            assert!(texts.contains(&text.as_str()), "{text:?}");
            seen.insert(text);
        }
        assert_eq!(
            seen.len(),
            texts.len(),
            "every text was drawn and read back"
        );
    }
}
