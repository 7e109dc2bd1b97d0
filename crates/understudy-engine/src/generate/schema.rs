//! Parts: one compiled record per schema object a response can reach, read exactly as the server's
//! validator reads it (see `crate::json_schema`: in OpenAPI 3.0 `nullable`, boolean exclusive
//! bounds and `$ref` siblings ignored; in 2020-12 `$ref` siblings applying; `writeOnly` properties
//! not required, discriminators dispatching on their property), plus the hints generation uses
//! (`x-faker`, `example` or the first of `examples`, `default`). 2020-12's keywords are read too,
//! the conditional ones as compositions (`conditionals`), and `maxContains` as a bound on the
//! array's length. Only a pattern whose samples must be checked (look-around, back-references,
//! an assertion inside it) makes the read inexact: the generator then does not vouch for its
//! bodies, and the engine checks them. Each schema object
//! is compiled once per document however many times it is referenced (one builder serves every
//! generator of a document), without recursion, so that cycles and long reference chains cost
//! nothing extra.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::hint::{self, Hint};
use super::pattern::{self, FormatCheck, Pattern};
use crate::json_schema::{Dialect, flagged, resolve_pointer};

/// Index of a part in its document's part list.
pub(crate) type PartId = u32;

/// The schema that accepts everything (`{}`, `true`, and anything that cannot be read).
pub(crate) const ANY: PartId = 0;
/// The schema that accepts nothing (`false`).
pub(crate) const NEVER: PartId = 1;

/// Past this many parts, further schema objects are read as `{}`: a safety net for documents far
/// larger than any real one.
const MAX_PARTS: usize = 200_000;
const MAX_REF_HOPS: usize = 64;

/// A set of JSON types. `number` includes `integer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Types(pub(crate) u8);

impl Types {
    pub(crate) const NULL: u8 = 1;
    pub(crate) const BOOLEAN: u8 = 2;
    pub(crate) const INTEGER: u8 = 4;
    pub(crate) const NUMBER: u8 = 8;
    pub(crate) const STRING: u8 = 16;
    pub(crate) const ARRAY: u8 = 32;
    pub(crate) const OBJECT: u8 = 64;
    pub(crate) const ALL: Types = Types(127);

    fn bits_of(name: &str) -> Option<u8> {
        Some(match name {
            "null" => Self::NULL,
            "boolean" => Self::BOOLEAN,
            "integer" => Self::INTEGER,
            "number" => Self::NUMBER | Self::INTEGER,
            "string" => Self::STRING,
            "array" => Self::ARRAY,
            "object" => Self::OBJECT,
            _ => return None,
        })
    }

    pub(crate) fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    pub(crate) fn and(self, other: Types) -> Types {
        Types(self.0 & other.0)
    }

    pub(crate) fn without(self, bit: u8) -> Types {
        Types(self.0 & !bit)
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a value has one of these types (an integer is any number with no fraction).
    pub(crate) fn admits(self, value: &Value) -> bool {
        match value {
            Value::Null => self.has(Self::NULL),
            Value::Bool(_) => self.has(Self::BOOLEAN),
            Value::Number(number) => {
                self.has(Self::NUMBER) || (self.has(Self::INTEGER) && is_integral(number))
            }
            Value::String(_) => self.has(Self::STRING),
            Value::Array(_) => self.has(Self::ARRAY),
            Value::Object(_) => self.has(Self::OBJECT),
        }
    }
}

/// Parts merged into one conjunction at most (an `allOf` tree larger than this is cut).
pub(crate) const MAX_FLAT: usize = 512;

/// The parts of a conjunction with every `allOf` expanded, in order of first appearance, without
/// duplicates and without the part that accepts everything; and whether [`MAX_FLAT`] cut it short.
pub(crate) fn flatten(parts: &[Part], roots: &[PartId]) -> (Vec<PartId>, bool) {
    let mut flat: Vec<PartId> = Vec::new();
    let mut stack: Vec<PartId> = roots.iter().rev().copied().collect();
    while let Some(part) = stack.pop() {
        if part == ANY || flat.contains(&part) {
            continue;
        }
        if flat.len() >= MAX_FLAT {
            return (flat, true);
        }
        flat.push(part);
        if let Some(part) = parts.get(part as usize) {
            stack.extend(part.all_of.iter().rev());
        }
    }
    (flat, false)
}

/// Whether a JSON number has no fractional part.
pub(crate) fn is_integral(number: &serde_json::Number) -> bool {
    number.is_i64()
        || number.is_u64()
        || number
            .as_f64()
            .is_some_and(|value| value.is_finite() && value.fract() == 0.0)
}

/// A lower or upper numeric bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bound {
    pub(crate) value: f64,
    pub(crate) exclusive: bool,
}

impl Bound {
    /// The tighter of two lower bounds.
    pub(crate) fn tighter_lower(a: Option<Bound>, b: Option<Bound>) -> Option<Bound> {
        match (a, b) {
            (Some(a), Some(b)) if a.value > b.value => Some(a),
            (Some(a), Some(b)) if a.value < b.value => Some(b),
            (Some(a), Some(b)) => Some(Bound {
                value: a.value,
                exclusive: a.exclusive || b.exclusive,
            }),
            (a, None) => a,
            (None, b) => b,
        }
    }

    /// The tighter of two upper bounds.
    pub(crate) fn tighter_upper(a: Option<Bound>, b: Option<Bound>) -> Option<Bound> {
        match (a, b) {
            (Some(a), Some(b)) if a.value < b.value => Some(a),
            (Some(a), Some(b)) if a.value > b.value => Some(b),
            (Some(a), Some(b)) => Some(Bound {
                value: a.value,
                exclusive: a.exclusive || b.exclusive,
            }),
            (a, None) => a,
            (None, b) => b,
        }
    }
}

/// One entry of `properties`, with the flags read from the property schema or its `$ref` target.
#[derive(Debug, Clone)]
pub(crate) struct PropertyDef {
    pub(crate) name: Arc<str>,
    pub(crate) part: PartId,
    pub(crate) read_only: bool,
    pub(crate) write_only: bool,
    pub(crate) identity: bool,
}

/// A discriminator that dispatches: the property's value names the schema that must hold.
#[derive(Debug, Clone)]
pub(crate) struct Dispatch {
    pub(crate) property: Arc<str>,
    pub(crate) entries: Vec<(Arc<str>, PartId)>,
}

/// A discriminator without `oneOf`/`anyOf` (the inheritance style, used with `allOf`): it
/// constrains nothing, but says which value the property takes for which schema.
#[derive(Debug, Clone)]
pub(crate) struct Lineage {
    pub(crate) property: Arc<str>,
    /// Mapping values with the reference they name (`#/components/schemas/Cat`).
    pub(crate) mapping: Vec<(Arc<str>, Arc<str>)>,
}

/// One schema object, compiled.
#[derive(Debug, Clone, Default)]
pub(crate) struct Part {
    /// The `type` keyword (with `null` added by `nullable`); `None` when absent.
    pub(crate) types: Option<Types>,
    /// `nullable` without a single `type`: null passes every keyword of this part.
    pub(crate) null_anyway: bool,
    pub(crate) never: bool,
    pub(crate) enumeration: Option<Vec<Value>>,
    pub(crate) constant: Option<Value>,
    pub(crate) format: Option<Arc<str>>,
    pub(crate) format_check: Option<Arc<FormatCheck>>,
    pub(crate) pattern: Option<Arc<Pattern>>,
    pub(crate) min_length: Option<u64>,
    pub(crate) max_length: Option<u64>,
    pub(crate) lower: Option<Bound>,
    pub(crate) upper: Option<Bound>,
    pub(crate) multiple_of: Option<f64>,
    pub(crate) min_items: Option<u64>,
    pub(crate) max_items: Option<u64>,
    pub(crate) unique_items: bool,
    pub(crate) items: Option<PartId>,
    pub(crate) properties: Vec<PropertyDef>,
    /// `required`, without the `writeOnly` properties (responses never need them).
    pub(crate) required: Vec<Arc<str>>,
    pub(crate) additional: Option<PartId>,
    pub(crate) min_properties: Option<u64>,
    pub(crate) max_properties: Option<u64>,
    pub(crate) all_of: Vec<PartId>,
    pub(crate) any_of: Vec<PartId>,
    pub(crate) one_of: Vec<PartId>,
    pub(crate) not: Option<PartId>,
    pub(crate) dispatch: Option<Dispatch>,
    pub(crate) lineage: Option<Lineage>,
    /// Generation hints.
    pub(crate) faker: Option<Hint>,
    pub(crate) example: Option<Value>,
    pub(crate) default: Option<Value>,
    /// The reference this part was reached by (`#/components/schemas/User`) and its last segment.
    pub(crate) reference: Option<Arc<str>>,
    pub(crate) name: Option<Arc<str>>,
    /// Read looser than the server's validator reads it: a keyword the parts do not model, or a
    /// subschema that had to be read as `{}` (a `$ref` that leads nowhere, the part limit).
    /// Checks against it may pass a value the validator rejects.
    pub(crate) loose: bool,
    /// The keywords JSON Schema 2020-12 added, boxed and only where a schema has one: most
    /// documents are 3.0 and have none, and each part of GitHub's would carry them.
    later: Option<Box<Keywords2020>>,
}

/// A part's 2020-12 keywords ([`Part::later`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Keywords2020 {
    /// `prefixItems`: the schemas of the first items, one each.
    pub(crate) prefix_items: Vec<PartId>,
    /// `contains`, and how many items must match it (`minContains`, 1 by default).
    pub(crate) contains: Option<(PartId, u64)>,
    /// `maxContains`: how many items may match `contains` at most.
    pub(crate) max_contains: Option<u64>,
    /// `unevaluatedItems`: the schema of the items nothing else evaluated.
    pub(crate) unevaluated_items: Option<PartId>,
    /// `dependentRequired`: when the first name is present, so must the others be.
    pub(crate) dependent_required: Vec<(Arc<str>, Vec<Arc<str>>)>,
    /// `patternProperties`: a property whose name matches holds to the schema too, and
    /// `additionalProperties` no longer applies to it.
    pub(crate) pattern_properties: Vec<(Arc<Pattern>, PartId)>,
    /// `propertyNames`: the schema every property name holds to.
    pub(crate) property_names: Option<PartId>,
    /// `unevaluatedProperties`: the schema of the names nothing else evaluated.
    pub(crate) unevaluated: Option<PartId>,
}

/// The 2020-12 keywords of a part that has none.
static NO_2020_KEYWORDS: Keywords2020 = Keywords2020 {
    prefix_items: Vec::new(),
    contains: None,
    max_contains: None,
    unevaluated_items: None,
    dependent_required: Vec::new(),
    pattern_properties: Vec::new(),
    property_names: None,
    unevaluated: None,
};

impl Part {
    /// The part's 2020-12 keywords (none for a 3.0 schema).
    pub(crate) fn later(&self) -> &Keywords2020 {
        self.later.as_deref().unwrap_or(&NO_2020_KEYWORDS)
    }

    /// The parts this one applies to the value or to what it holds.
    pub(crate) fn children(&self) -> impl Iterator<Item = PartId> + '_ {
        let dispatched = self.dispatch.iter().flat_map(|dispatch| &dispatch.entries);
        let later = self.later();
        self.items
            .iter()
            .chain(&later.prefix_items)
            .chain(later.contains.as_ref().map(|(part, _)| part))
            .chain(self.properties.iter().map(|property| &property.part))
            .chain(&self.additional)
            .chain(&self.all_of)
            .chain(&self.any_of)
            .chain(&self.one_of)
            .chain(&self.not)
            .chain(dispatched.map(|(_, part)| part))
            .chain(later.pattern_properties.iter().map(|(_, part)| part))
            .chain(&later.property_names)
            .chain(&later.unevaluated)
            .chain(&later.unevaluated_items)
            .copied()
    }

    /// Whether the part applies no other part to the value it checks (no `allOf`, `anyOf`,
    /// `oneOf`, `not` or discriminator): on a scalar, its check is its own keywords only.
    pub(crate) fn is_flat(&self) -> bool {
        self.all_of.is_empty()
            && self.any_of.is_empty()
            && self.one_of.is_empty()
            && self.not.is_none()
            && self.dispatch.is_none()
    }

    /// Whether the part decides a scalar (a string, number, boolean or null) by its `type`
    /// alone: flat, and none of the keywords that look at a scalar's value.
    pub(crate) fn types_decide_scalars(&self) -> bool {
        self.is_flat()
            && !self.never
            && self.enumeration.is_none()
            && self.constant.is_none()
            && self.format_check.is_none()
            && self.pattern.is_none()
            && self.min_length.is_none()
            && self.max_length.is_none()
            && self.lower.is_none()
            && self.upper.is_none()
            && self.multiple_of.is_none()
    }
}

/// Compiles the parts reachable from a document's schemas, breadth-first and without recursion;
/// one builder serves every generator of the document, so a schema reached by many responses is
/// compiled once.
pub(crate) struct PartsBuilder<'d> {
    document: &'d Value,
    dialect: Dialect,
    ids: HashMap<usize, PartId>,
    parts: Vec<Part>,
    queue: Vec<(PartId, &'d Map<String, Value>)>,
    /// Set when a schema had to be read as `{}` without being `{}` (a `$ref` that leads nowhere,
    /// a value that is not a schema, the part limit) or has a keyword parts do not model: the
    /// part being read is then [`Part::loose`].
    loose: bool,
}

impl<'d> PartsBuilder<'d> {
    pub(crate) fn new(document: &'d Value) -> Self {
        let never = Part {
            never: true,
            ..Part::default()
        };
        PartsBuilder {
            document,
            dialect: Dialect::of(document),
            ids: HashMap::new(),
            parts: vec![Part::default(), never],
            queue: Vec::new(),
            loose: false,
        }
    }

    /// The part for a generator's root schema, read with everything it reaches, and whether the
    /// schema itself could not be read (it then stands as `{}`).
    pub(crate) fn root(&mut self, schema: &'d Value) -> (PartId, bool) {
        self.loose = false;
        let root = self.part(schema);
        let unreadable = std::mem::take(&mut self.loose);
        self.drain();
        (root, unreadable)
    }

    /// The parts read so far.
    pub(crate) fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The part for a schema (following `$ref`s); its keywords are read by [`Self::finish`].
    pub(crate) fn part(&mut self, schema: &'d Value) -> PartId {
        let mut current = schema;
        let mut reference = None;
        for _ in 0..MAX_REF_HOPS {
            match current.get("$ref") {
                None => return self.intern(current, reference),
                // The keywords beside it apply too: the part holds them and the target, in
                // `allOf` (see `compile`).
                Some(_)
                    if current
                        .as_object()
                        .is_some_and(|map| self.dialect.ref_has_siblings(map)) =>
                {
                    return self.intern(current, reference);
                }
                Some(Value::String(target)) if target.starts_with('#') => {
                    match resolve_pointer(self.document, target) {
                        Some(found) => {
                            current = found;
                            reference = Some(target.as_str());
                        }
                        None => return self.inexact(),
                    }
                }
                Some(_) => return self.inexact(),
            }
        }
        self.inexact()
    }

    /// `{}` standing in for a schema that could not be read.
    fn inexact(&mut self) -> PartId {
        self.loose = true;
        ANY
    }

    /// Reads every queued part.
    fn drain(&mut self) {
        while let Some((id, map)) = self.queue.pop() {
            self.loose = false;
            let compiled = self.compile(map);
            let loose = std::mem::take(&mut self.loose);
            let slot = &mut self.parts[id as usize];
            let reference = slot.reference.take();
            let name = slot.name.take();
            *slot = Part {
                reference,
                name,
                loose,
                ..compiled
            };
        }
    }

    /// Every part, the queued ones read.
    pub(crate) fn finish(mut self) -> Vec<Part> {
        self.drain();
        self.parts
    }

    fn intern(&mut self, schema: &'d Value, reference: Option<&str>) -> PartId {
        let map = match schema {
            Value::Bool(false) => return NEVER,
            Value::Bool(true) => return ANY,
            Value::Object(map) => map,
            _ => return self.inexact(),
        };
        let key = std::ptr::from_ref(schema) as usize;
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        if self.parts.len() >= MAX_PARTS {
            return self.inexact();
        }
        let Ok(id) = PartId::try_from(self.parts.len()) else {
            return self.inexact();
        };
        let name = reference
            .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
            .filter(|name| !name.contains('/'))
            .map(Arc::from);
        self.parts.push(Part {
            reference: reference.map(Arc::from),
            name,
            ..Part::default()
        });
        self.ids.insert(key, id);
        self.queue.push((id, map));
        id
    }

    fn part_at(&mut self, reference: &str) -> Option<PartId> {
        let target = resolve_pointer(self.document, reference)?;
        if target.get("$ref").is_some() {
            return Some(self.part(target));
        }
        Some(self.intern(target, Some(reference)))
    }

    fn compile(&mut self, map: &'d Map<String, Value>) -> Part {
        let mut part = Part::default();
        let modern = self.dialect == Dialect::JsonSchema202012;
        let nullable = !modern && map.get("nullable") == Some(&Value::Bool(true));
        let single_type = matches!(map.get("type"), Some(Value::String(_)));
        part.types = match map.get("type") {
            Some(Value::String(name)) => Types::bits_of(name).map(Types),
            Some(Value::Array(names)) => {
                let bits = names
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(Types::bits_of)
                    .fold(0, |all, bits| all | bits);
                Some(Types(bits))
            }
            _ => None,
        };
        if nullable && single_type {
            part.types = part.types.map(|types| Types(types.0 | Types::NULL));
        }
        part.null_anyway = nullable && !single_type;
        if let Some(Value::Array(options)) = map.get("enum") {
            let mut options = options.clone();
            if nullable && single_type && !options.contains(&Value::Null) {
                options.push(Value::Null);
            }
            part.enumeration = Some(options);
        }
        part.constant = map.get("const").cloned();
        if let Some(Value::String(format)) = map.get("format") {
            part.format = Some(Arc::from(format.as_str()));
            part.format_check = pattern::format_check(format);
        }
        if let Some(Value::String(source)) = map.get("pattern") {
            part.pattern = pattern::pattern(source);
            // Strings are sampled from it and then checked; one that no sample matched is not
            // vouched for, so the answer needs the validator behind it.
            if part
                .pattern
                .as_ref()
                .is_some_and(|pattern| !pattern.exact())
            {
                self.loose = true;
            }
        }
        part.min_length = count(map.get("minLength"));
        part.max_length = count(map.get("maxLength"));
        part.lower = bound(map, "minimum", "exclusiveMinimum");
        part.upper = bound(map, "maximum", "exclusiveMaximum");
        part.multiple_of = map
            .get("multipleOf")
            .and_then(Value::as_f64)
            .filter(|value| *value > 0.0 && value.is_finite());
        part.min_items = count(map.get("minItems"));
        part.max_items = count(map.get("maxItems"));
        part.unique_items = map.get("uniqueItems") == Some(&Value::Bool(true));
        part.items = map.get("items").map(|items| self.part(items));
        if modern {
            let mut later = Keywords2020::default();
            if let Some(Value::Object(dependencies)) = map.get("dependentRequired") {
                later.dependent_required = dependencies
                    .iter()
                    .map(|(name, names)| {
                        let names = names.as_array().map_or(&[][..], Vec::as_slice);
                        let names = names.iter().filter_map(Value::as_str).map(Arc::from);
                        (Arc::from(name.as_str()), names.collect())
                    })
                    .collect();
            }
            if let Some(Value::Object(patterns)) = map.get("patternProperties") {
                for (source, schema) in patterns {
                    match pattern::pattern(source) {
                        Some(pattern) => {
                            let schema = self.part(schema);
                            later.pattern_properties.push((pattern, schema));
                        }
                        None => self.loose = true,
                    }
                }
            }
            later.property_names = map.get("propertyNames").map(|names| self.part(names));
            later.unevaluated = map
                .get("unevaluatedProperties")
                .map(|schema| self.part(schema));
            later.prefix_items = self.branches(map.get("prefixItems"));
            later.contains = map.get("contains").map(|contains| {
                let least = count(map.get("minContains")).unwrap_or(1);
                (self.part(contains), least)
            });
            later.max_contains = count(map.get("maxContains"));
            if later.contains.is_some()
                && map.contains_key("maxContains")
                && later.max_contains.is_none()
            {
                // A bound that is no count is not read, while the validator may read it.
                self.loose = true;
            }
            later.unevaluated_items = map.get("unevaluatedItems").map(|schema| self.part(schema));
            let any = !later.prefix_items.is_empty()
                || later.contains.is_some()
                || later.unevaluated_items.is_some()
                || !later.dependent_required.is_empty()
                || !later.pattern_properties.is_empty()
                || later.property_names.is_some()
                || later.unevaluated.is_some();
            if any {
                part.later = Some(Box::new(later));
            }
        }
        if let Some(Value::Object(properties)) = map.get("properties") {
            for (name, schema) in properties {
                let flag = |key: &str| flagged(self.document, schema, key);
                let definition = PropertyDef {
                    name: Arc::from(name.as_str()),
                    read_only: flag("readOnly"),
                    write_only: flag("writeOnly"),
                    identity: flag("x-understudy-identity"),
                    part: self.part(schema),
                };
                part.properties.push(definition);
            }
        }
        if let Some(Value::Array(names)) = map.get("required") {
            for name in names.iter().filter_map(Value::as_str) {
                let write_only = part
                    .properties
                    .iter()
                    .any(|property| &*property.name == name && property.write_only);
                if !write_only {
                    part.required.push(Arc::from(name));
                }
            }
        }
        part.additional = map
            .get("additionalProperties")
            .map(|schema| self.part(schema));
        part.min_properties = count(map.get("minProperties"));
        part.max_properties = count(map.get("maxProperties"));
        part.all_of = self.branches(map.get("allOf"));
        if let Some(reference) = map.get("$ref") {
            // Only a 2020-12 reference with siblings is interned with its `$ref` still in it.
            match reference.as_str().and_then(|target| self.part_at(target)) {
                Some(target) => part.all_of.push(target),
                None => self.loose = true,
            }
        }
        if modern {
            self.conditionals(map, &mut part);
        }
        part.one_of = self.branches(map.get("oneOf"));
        part.any_of = self.branches(map.get("anyOf"));
        part.not = map.get("not").map(|schema| self.part(schema));
        if let Some(discriminator) = map.get("discriminator") {
            self.discriminate(map, discriminator, &mut part);
        }
        part.faker = map.get("x-faker").and_then(hint::from_faker);
        let first_example = || {
            map.get("examples")
                .and_then(Value::as_array)
                .and_then(|examples| examples.first())
        };
        part.example = map
            .get("example")
            .or_else(|| if modern { first_example() } else { None })
            .filter(|value| is_scalar(value))
            .cloned();
        part.default = map.get("default").filter(|value| is_scalar(value)).cloned();
        part
    }

    /// 2020-12's conditional keywords as compositions the parts already model, each added to
    /// `allOf` as a choice of two branches: `if`/`then`/`else` as `anyOf: [{allOf: [if, then]},
    /// {not: if, allOf: [else]}]`, and each `dependentSchemas` entry as `anyOf: [{properties:
    /// {name: false}}, schema]` (the name absent, or the schema holding).
    fn conditionals(&mut self, map: &'d Map<String, Value>, part: &mut Part) {
        if let Some(condition) = map.get("if") {
            let condition = self.part(condition);
            let then = map.get("then").map(|then| self.part(then));
            let otherwise = map.get("else").map(|otherwise| self.part(otherwise));
            let holds = self.composed(Part {
                all_of: std::iter::once(condition).chain(then).collect(),
                ..Part::default()
            });
            let fails = self.composed(Part {
                not: Some(condition),
                all_of: otherwise.into_iter().collect(),
                ..Part::default()
            });
            let choice = self.composed(Part {
                any_of: vec![holds, fails],
                ..Part::default()
            });
            part.all_of.push(choice);
        }
        if let Some(Value::Object(dependencies)) = map.get("dependentSchemas") {
            for (name, schema) in dependencies {
                let schema = self.part(schema);
                let absent = self.composed(Part {
                    properties: vec![PropertyDef {
                        name: Arc::from(name.as_str()),
                        part: NEVER,
                        read_only: false,
                        write_only: false,
                        identity: false,
                    }],
                    ..Part::default()
                });
                let choice = self.composed(Part {
                    any_of: vec![absent, schema],
                    ..Part::default()
                });
                part.all_of.push(choice);
            }
        }
    }

    /// A part made here rather than read from the document (a branch of a conditional).
    fn composed(&mut self, part: Part) -> PartId {
        match PartId::try_from(self.parts.len()) {
            Ok(id) if self.parts.len() < MAX_PARTS => {
                self.parts.push(part);
                id
            }
            _ => self.inexact(),
        }
    }

    fn branches(&mut self, value: Option<&'d Value>) -> Vec<PartId> {
        match value {
            Some(Value::Array(branches)) => {
                branches.iter().map(|branch| self.part(branch)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Mirrors the translator: a discriminator over `oneOf`/`anyOf` of `$ref`s dispatches on the
    /// property (mapping first, then each unmapped branch under its schema name); over inline
    /// branches it changes nothing; without branches it is only a naming hint.
    fn discriminate(
        &mut self,
        map: &'d Map<String, Value>,
        discriminator: &Value,
        part: &mut Part,
    ) {
        let Some(property) = discriminator.get("propertyName").and_then(Value::as_str) else {
            return;
        };
        let mut values: Vec<(String, String)> = Vec::new();
        if let Some(mapping) = discriminator.get("mapping").and_then(Value::as_object) {
            for (value, target) in mapping {
                if let Some(target) = target.as_str() {
                    let target = if target.starts_with('#') {
                        target.to_owned()
                    } else {
                        format!("#/components/schemas/{target}")
                    };
                    values.push((value.clone(), target));
                }
            }
        }
        let keyword = if map.contains_key("oneOf") {
            "oneOf"
        } else if map.contains_key("anyOf") {
            "anyOf"
        } else {
            part.lineage = Some(Lineage {
                property: Arc::from(property),
                mapping: values
                    .into_iter()
                    .map(|(value, target)| (Arc::from(value), Arc::from(target)))
                    .collect(),
            });
            return;
        };
        let Some(branches) = map.get(keyword).and_then(Value::as_array) else {
            return;
        };
        for branch in branches {
            let Some(target) = branch.get("$ref").and_then(Value::as_str) else {
                return;
            };
            if !values.iter().any(|(_, mapped)| mapped == target) {
                let value = crate::json_schema::implicit_discriminator_value(
                    self.document,
                    target,
                    property,
                );
                values.push((value, target.to_owned()));
            }
        }
        let mut entries = Vec::with_capacity(values.len());
        for (value, target) in &values {
            if let Some(id) = self.part_at(target) {
                entries.push((Arc::from(value.as_str()), id));
            }
        }
        if keyword == "oneOf" {
            part.one_of.clear();
        } else {
            part.any_of.clear();
        }
        part.dispatch = Some(Dispatch {
            property: Arc::from(property),
            entries,
        });
    }
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn count(value: Option<&Value>) -> Option<u64> {
    let value = value?;
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|number| *number >= 0.0 && number.is_finite())
            .map(|number| number.ceil() as u64)
    })
}

/// A bound as the translator reads it: `minimum` with a boolean `exclusiveMinimum`, or a numeric
/// `exclusiveMinimum` (draft 6 style), the tighter of both when both are given.
fn bound(map: &Map<String, Value>, inclusive: &str, exclusive: &str) -> Option<Bound> {
    let plain = map
        .get(inclusive)
        .and_then(Value::as_f64)
        .map(|value| Bound {
            value,
            exclusive: map.get(exclusive) == Some(&Value::Bool(true)),
        });
    let numeric = map
        .get(exclusive)
        .and_then(Value::as_f64)
        .map(|value| Bound {
            value,
            exclusive: true,
        });
    if inclusive == "minimum" {
        Bound::tighter_lower(plain, numeric)
    } else {
        Bound::tighter_upper(plain, numeric)
    }
}
