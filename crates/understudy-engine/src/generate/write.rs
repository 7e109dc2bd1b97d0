//! Where the generator's walk (`Runner::walk`) puts what it makes, through one trait ([`Out`]):
//! JSON bytes ([`JsonOut`]), which is how a response body is written, with no map, no hashing of
//! names and no tree to serialize and drop; or a `Value` ([`ValueOut`]), where one is needed (a
//! value to check or compare whole, the store's records, echo checks, identities). The walk makes
//! the same values from the same random numbers whichever it writes to, so the bytes are those
//! `serde_json::to_vec` gives for the value.

use std::borrow::Cow;

use rand::rngs::Xoshiro256PlusPlus;
use serde_json::{Map, Number, Value};

use super::like_example::LikeExample;
use super::plan::Prop;

/// What the walk writes a value into. Objects and arrays are opened, filled (an object's values
/// each after their name) and closed.
pub(super) trait Out {
    /// A value made whole.
    fn value(&mut self, value: Value);
    /// A value known already (a choice of an `enum`, an echoed or forced value, the identity).
    fn value_ref(&mut self, value: &Value);
    /// A boolean.
    fn boolean(&mut self, value: bool);
    /// An integer.
    fn integer(&mut self, value: i64);
    /// A string; `plain` says that it has nothing JSON escapes, by construction (false says only
    /// that it is not known). The string back, when the output keeps none of it, for its room to
    /// hold the next one.
    fn string(&mut self, text: String, plain: bool) -> Option<String>;
    /// A string made after `like` as `LikeExample::push_redrawn` makes it: nothing to escape.
    fn redrawn(&mut self, like: &LikeExample, rng: &mut Xoshiro256PlusPlus);
    /// The property `prop` of an object, its value a string made after `like` as
    /// [`Out::redrawn`] makes it; `head` is how the property starts when written after another
    /// ([`Prop::written_head`]: comma, name, quote and the example's kept lead; the whole
    /// property when nothing is redrawn, [`Prop::head_is_whole`]).
    fn in_place(
        &mut self,
        prop: &Prop,
        _head: &[u8],
        like: &LikeExample,
        rng: &mut Xoshiro256PlusPlus,
    ) {
        self.prop_name(prop);
        self.redrawn(like, rng);
    }
    /// Opens an object that will have about `capacity` properties.
    fn open_object(&mut self, capacity: usize);
    /// The name of the next property of the innermost open object.
    fn name(&mut self, name: &str);
    /// The name of a declared property, as [`Out::name`] puts it.
    fn prop_name(&mut self, prop: &Prop);
    /// Closes the innermost object.
    fn close_object(&mut self);
    /// Opens an array that will have about `capacity` items.
    fn open_array(&mut self, capacity: usize);
    /// An item of the innermost open array comes next.
    fn item(&mut self);
    /// Closes the innermost array.
    fn close_array(&mut self);

    /// `value`, with the identity placed in it where `placement` says.
    fn placed(&mut self, value: Cow<'_, Value>, placement: Option<Placement<'_>>) {
        match (value, placement) {
            (value, Some(placement)) => {
                let mut value = value.into_owned();
                place(&mut value, placement);
                self.value(value);
            }
            (Cow::Borrowed(value), None) => self.value_ref(value),
            (Cow::Owned(value), None) => self.value(value),
        }
    }
}

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

/// The identity's placement as one object is walked: where it goes from this object on, and
/// whether it took the place of a property's value yet.
pub(super) struct Placing<'p> {
    placement: Option<Placement<'p>>,
    /// Set once the identity took the place of a property's value.
    pub(super) placed: bool,
}

impl<'p> Placing<'p> {
    pub(super) fn new(placement: Option<Placement<'p>>) -> Self {
        Placing {
            placement,
            placed: false,
        }
    }

    /// The identity, when it is the value of the property `name` of this object.
    pub(super) fn at(&self, name: &str) -> Option<&'p Value> {
        self.placement
            .filter(|placement| matches!(placement.path, [last] if last == name))
            .map(|placement| placement.identity)
    }

    /// Where the identity goes inside the value of the property `name`.
    pub(super) fn inside(&self, name: &str) -> Option<Placement<'p>> {
        self.placement.and_then(|placement| match placement.path {
            [first, rest @ ..] if first == name && !rest.is_empty() => Some(Placement {
                path: rest,
                identity: placement.identity,
            }),
            _ => None,
        })
    }

    /// Adds the identity as the object's last property when it belongs here and no property
    /// held it.
    pub(super) fn finish<O: Out>(self, out: &mut O) {
        if let Some(placement) = self.placement
            && let [last] = placement.path
            && !self.placed
        {
            out.name(last);
            out.value_ref(placement.identity);
        }
    }
}

/// Compact JSON written into a buffer as it is made.
pub(crate) struct JsonOut<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> JsonOut<'o> {
    /// JSON appended to `out`.
    pub(crate) fn new(out: &'o mut Vec<u8>) -> Self {
        JsonOut { out }
    }

    /// The comma before a property or an item, unless it is the first: right after the opening
    /// brace or bracket, which no value ends with.
    fn separate(&mut self) {
        if !matches!(self.out.last(), Some(b'{' | b'[')) {
            self.out.push(b',');
        }
    }
}

impl Out for JsonOut<'_> {
    fn value(&mut self, value: Value) {
        write_value(self.out, &value);
    }

    fn value_ref(&mut self, value: &Value) {
        write_value(self.out, value);
    }

    fn boolean(&mut self, value: bool) {
        let literal: &[u8] = if value { b"true" } else { b"false" };
        self.out.extend_from_slice(literal);
    }

    fn integer(&mut self, value: i64) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    fn string(&mut self, text: String, plain: bool) -> Option<String> {
        if plain {
            write_plain_text(self.out, &text);
        } else {
            write_text(self.out, &text);
        }
        Some(text)
    }

    fn redrawn(&mut self, like: &LikeExample, rng: &mut Xoshiro256PlusPlus) {
        self.out.push(b'"');
        like.push_redrawn(self.out, rng);
        self.out.push(b'"');
    }

    fn in_place(
        &mut self,
        prop: &Prop,
        head: &[u8],
        like: &LikeExample,
        rng: &mut Xoshiro256PlusPlus,
    ) {
        // Written ahead with its comma, which the first property leaves out.
        let from = usize::from(self.out.last() == Some(&b'{'));
        self.out
            .extend_from_slice(head.get(from..).unwrap_or_default());
        if !prop.head_is_whole {
            like.push_after_lead(self.out, rng);
            self.out.push(b'"');
        }
    }

    fn open_object(&mut self, _capacity: usize) {
        self.out.push(b'{');
    }

    fn name(&mut self, name: &str) {
        self.separate();
        if plain(name) {
            write_plain_text(self.out, name);
        } else {
            write_json(self.out, name);
        }
        self.out.push(b':');
    }

    fn prop_name(&mut self, prop: &Prop) {
        // Written ahead with its comma (`,"name":`), which the first property leaves out.
        let written = &prop.written[..];
        let written = match self.out.last() {
            Some(b'{') => written.get(1..).unwrap_or_default(),
            _ => written,
        };
        self.out.extend_from_slice(written);
    }

    fn close_object(&mut self) {
        self.out.push(b'}');
    }

    fn open_array(&mut self, _capacity: usize) {
        self.out.push(b'[');
    }

    fn item(&mut self) {
        self.separate();
    }

    fn close_array(&mut self) {
        self.out.push(b']');
    }
}

/// A `Value` built as it is made.
#[derive(Default)]
pub(crate) struct ValueOut {
    /// The objects and arrays open, innermost last.
    open: Vec<Open>,
    /// The value once made whole.
    made: Value,
}

/// An object or an array being built.
enum Open {
    /// An object, and the name of its next property.
    Object(Map<String, Value>, String),
    Array(Vec<Value>),
}

impl ValueOut {
    /// The value made.
    pub(crate) fn into_value(self) -> Value {
        self.made
    }

    /// Puts a value made whole where it goes: in the innermost open object or array, or as the
    /// whole value.
    fn put(&mut self, value: Value) {
        match self.open.last_mut() {
            Some(Open::Object(map, name)) => {
                map.insert(std::mem::take(name), value);
            }
            Some(Open::Array(items)) => items.push(value),
            None => self.made = value,
        }
    }

    /// The innermost object, closed.
    fn close(&mut self) {
        match self.open.pop() {
            Some(Open::Object(map, _)) => self.put(Value::Object(map)),
            Some(Open::Array(items)) => self.put(Value::Array(items)),
            None => {}
        }
    }
}

impl Out for ValueOut {
    fn value(&mut self, value: Value) {
        self.put(value);
    }

    fn value_ref(&mut self, value: &Value) {
        self.put(value.clone());
    }

    fn boolean(&mut self, value: bool) {
        self.put(Value::Bool(value));
    }

    fn integer(&mut self, value: i64) {
        self.put(Value::from(value));
    }

    fn string(&mut self, text: String, _plain: bool) -> Option<String> {
        self.put(Value::String(text));
        None
    }

    fn redrawn(&mut self, like: &LikeExample, rng: &mut Xoshiro256PlusPlus) {
        let mut text = String::new();
        like.push_redrawn(&mut text, rng);
        self.put(Value::String(text));
    }

    fn open_object(&mut self, capacity: usize) {
        self.open
            .push(Open::Object(Map::with_capacity(capacity), String::new()));
    }

    fn name(&mut self, name: &str) {
        if let Some(Open::Object(_, next)) = self.open.last_mut() {
            name.clone_into(next);
        }
    }

    fn prop_name(&mut self, prop: &Prop) {
        self.name(&prop.name);
    }

    fn close_object(&mut self) {
        self.close();
    }

    fn open_array(&mut self, capacity: usize) {
        self.open.push(Open::Array(Vec::with_capacity(capacity)));
    }

    fn item(&mut self) {}

    fn close_array(&mut self) {
        self.close();
    }
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;
    use serde_json::json;

    use crate::generate::{GenerateContext, Generator};

    /// The body `generator` writes for `seed` ([`super::JsonOut`]), checked to be the bytes
    /// (and the vouching) of the body it builds from the same seed ([`super::ValueOut`]), parsed
    /// back.
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

    /// An `enum` is drawn as `Runner::shape` draws it: the default half of the time when it is
    /// a choice, else any choice; a choice that JSON escapes, a float, `null` and an object are
    /// written as serde_json writes them.
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
    /// place (`Runner::in_place_example`), a property's from its start made once
    /// (`Prop::written_head`, the whole property when there is nothing to redraw), which only
    /// the JSON output copies; the others go through `string_marked`. Both outputs must draw
    /// the same, in objects (whose clock is drawn) and as array items (whose clock is not, until
    /// a redrawn token asks for it).
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

    /// A comma comes before every property and item but the first of its object or array,
    /// whatever the values before it end with.
    #[test]
    fn commas_come_between_properties_and_items() {
        use super::Out as _;

        let mut out = Vec::new();
        let mut json = super::JsonOut::new(&mut out);
        json.open_array(3);
        for _ in 0..2 {
            json.item();
            json.open_object(3);
            json.name("first");
            json.integer(1);
            json.name("say \"hi\"");
            json.open_array(0);
            json.close_array();
            json.name("last");
            json.open_object(0);
            json.close_object();
            json.close_object();
        }
        json.item();
        json.value_ref(&serde_json::json!([[], {}]));
        json.close_array();
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"[{"first":1,"say \"hi\"":[],"last":{}},{"first":1,"say \"hi\"":[],"last":{}},[[],{}]]"#
        );
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

    /// A name no property declares is written once: a discriminator's value the branch does
    /// not declare but requires keeps its value, and drawn names never repeat a name written
    /// before.
    #[test]
    fn undeclared_names_are_written_once() {
        let document = json!({"components": {"schemas": {
            "Cat": {"type": "object", "required": ["kind", "meow"], "minProperties": 4,
                "properties": {"meow": {"type": "string"}},
                "additionalProperties": {"type": "string"}},
            "Dog": {"type": "object", "required": ["kind", "bark"],
                "properties": {"bark": {"type": "string"}}}
        }}});
        let schema = json!({"oneOf": [
            {"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "kind"}});
        let generator = Generator::compile(&document, &schema).expect("a generator");
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 0..50 {
            let parsed = written_as_built(&generator, seed, None);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut written = Vec::new();
            generator.write_vouched(
                &mut GenerateContext::plain(&mut rng, Utc::now()),
                &mut written,
            );
            let text = String::from_utf8_lossy(&written);
            assert_eq!(text.matches("\"kind\"").count(), 1, "{text}");
            assert!(
                ["Cat", "Dog"].contains(&parsed["kind"].as_str().unwrap_or_default()),
                "{text}"
            );
            kinds.insert(parsed["kind"].to_string());
            if parsed["kind"] == "Cat" {
                assert!(
                    parsed.as_object().is_some_and(|cat| cat.len() >= 4),
                    "{text}"
                );
            }
        }
        assert_eq!(kinds.len(), 2, "{kinds:?}");
    }

    /// Plain scalars are made without a check (`Node::leaf`); scalars the server must check
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
