//! The schema model: one typed reading of each schema object of a document, in an arena
//! ([`SchemaModel`], [`Schema`] by [`SchemaId`]), read once by pointer through `$ref`s, without
//! recursion (cycles and long reference chains cost nothing extra), in the document's dialect
//! read once ([`Dialect`]: OpenAPI 3.0's words, `nullable`, boolean exclusive bounds and `$ref`
//! siblings ignored; 2020-12's keywords and `$ref` siblings applying; Swagger 2.0 arrives
//! converted to 3.0). Everything that reads a schema's keywords reads them here, the validator's
//! translation (`crate::json_schema`) included, which takes each decision that depends on the
//! dialect from the `Schema` read here, so the readers cannot disagree with each other or with
//! the validator about what a schema says.
//!
//! The model is direction-neutral: a property keeps its `readOnly` and `writeOnly` flags (read
//! from its schema, its `$ref` target or its `allOf`) and
//! `required` keeps every name; [`Schema::required_in`] says which a request or a response
//! needs. 2020-12's conditional keywords are read as compositions (`if`/`then`/`else` and
//! `dependentSchemas` as a choice of two composed schemas, `maxContains` as a bound on an array's
//! length); only a pattern whose samples must be checked (look-around, back-references, an
//! assertion inside it) makes a reading loose. The generator's few derived data (the `x-faker` hint, compiled patterns and format
//! checks, shared by source text) are kept on the schema: a side table indexed by id would cost
//! an entry per schema more, and a schema a generator reaches needs them anyway.
//!
//! A schema is read when something asks for it ([`SchemaModel::get`]), or with everything it
//! reaches ([`SchemaModel::root`], what the generator needs): a reader that looks at a request
//! schema's top level does not read, or keep, what lies below it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::generate::hint::{self, Hint};
use crate::generate::pattern::{self, FormatCheck, Pattern};
use crate::json_schema::{Dialect, Direction, deref, resolve_pointer};

mod facts;

pub use facts::{PropertyFacts, SchemaFacts, SchemaReader, SchemaRef};

/// Index of a schema in its document's model.
pub(crate) type SchemaId = u32;

/// The schema that accepts everything (`{}`, `true`, and anything that cannot be read).
pub(crate) const ANY: SchemaId = 0;
/// The schema that accepts nothing (`false`).
pub(crate) const NEVER: SchemaId = 1;

/// Past this many schemas, further schema objects are read as `{}`: a safety net for documents far
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

/// The schemas of a conjunction with every `allOf` expanded, in order of first appearance, without
/// duplicates and without the schema that accepts everything; and whether [`MAX_FLAT`] cut it short.
pub(crate) fn flatten(parts: &[Schema], roots: &[SchemaId]) -> (Vec<SchemaId>, bool) {
    let mut flat: Vec<SchemaId> = Vec::new();
    let mut stack: Vec<SchemaId> = roots.iter().rev().copied().collect();
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

/// The JSON types a schema names, for what reads a value's type without validating it (how a
/// parameter's text is read, what a media type range is answered with, which properties are
/// timestamps): its `type`, and those its `allOf`, `anyOf`, `oneOf` and discriminator branches
/// name (FastAPI writes `Optional[int]` as `anyOf: [{type: integer}, {type: null}]`), a few
/// levels deep, as the model reads them (3.0's `nullable`, 2020-12's `$ref` siblings).
#[derive(Debug, Default)]
pub(crate) struct NamedTypes {
    /// The names other than `null` (`integer` only when `number` is not named).
    pub(crate) names: Vec<&'static str>,
    /// Whether `null` is named, or 3.0's `nullable: true` said so.
    pub(crate) null: bool,
    /// The first `items` met, for an array.
    pub(crate) items: Option<SchemaId>,
}

impl NamedTypes {
    /// The types the schema `id` names (see the type's comment).
    pub(crate) fn of(model: &mut SchemaModel<'_>, id: SchemaId) -> Self {
        let mut named = NamedTypes::default();
        let mut types = Types(0);
        named.read(model, id, &mut types, 0);
        named.names = [
            (Types::OBJECT, "object"),
            (Types::ARRAY, "array"),
            (Types::STRING, "string"),
            (Types::BOOLEAN, "boolean"),
            (Types::NUMBER, "number"),
        ]
        .into_iter()
        .filter(|(bit, _)| types.has(*bit))
        .map(|(_, name)| name)
        .collect();
        if types.has(Types::INTEGER) && !types.has(Types::NUMBER) {
            named.names.push("integer");
        }
        named
    }

    fn read(&mut self, model: &mut SchemaModel<'_>, id: SchemaId, types: &mut Types, depth: usize) {
        let schema = model.get(id);
        if schema.null_anyway() || schema.types.is_some_and(|named| named.has(Types::NULL)) {
            self.null = true;
        }
        if let Some(named) = schema.types {
            types.0 |= named.without(Types::NULL).0;
        }
        if self.items.is_none() {
            self.items = schema.items.filter(|items| ![ANY, NEVER].contains(items));
        }
        if depth >= 8 {
            return;
        }
        let dispatched = schema
            .dispatch
            .iter()
            .flat_map(|dispatch| &dispatch.entries);
        let branches: Vec<SchemaId> = schema
            .any_of
            .iter()
            .chain(&schema.one_of)
            .chain(&schema.all_of)
            .chain(dispatched.map(|(_, branch)| branch))
            .copied()
            .collect();
        for branch in branches {
            self.read(model, branch, types, depth + 1);
        }
    }

    /// Whether `name` is among the types named.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.contains(&name)
    }

    /// The one type named, `null` apart.
    pub(crate) fn single(&self) -> Option<&'static str> {
        match self.names[..] {
            [name] => Some(name),
            _ => None,
        }
    }
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
    pub(crate) part: SchemaId,
    pub(crate) read_only: bool,
    pub(crate) write_only: bool,
    pub(crate) identity: bool,
    /// What the property says besides its schema, boxed and only where it says something.
    beside: Option<Box<Beside>>,
}

/// What a property says besides the schema its `$ref` names ([`PropertyDef::beside`]).
#[derive(Debug, Clone, Default)]
struct Beside {
    same_as: Option<Arc<str>>,
    default: Option<Value>,
}

impl PropertyDef {
    /// A property of schema `part`, with no flags.
    pub(crate) fn plain(name: Arc<str>, part: SchemaId) -> PropertyDef {
        PropertyDef {
            name,
            part,
            read_only: false,
            write_only: false,
            identity: false,
            beside: None,
        }
    }

    /// `x-understudy-same-as`: the pointer of the id this property holds (`fresh.rs`), read
    /// beside a `$ref` or on its target.
    pub(crate) fn same_as(&self) -> Option<&Arc<str>> {
        self.beside.as_ref()?.same_as.as_ref()
    }

    /// A `default` written beside the property's `$ref`, which the schema it names does not
    /// carry (a request's defaults take it when the target has none).
    pub(crate) fn default_beside(&self) -> Option<&Value> {
        self.beside.as_ref()?.default.as_ref()
    }
}

/// A discriminator that dispatches: the property's value names the schema that must hold.
#[derive(Debug, Clone)]
pub(crate) struct Dispatch {
    pub(crate) property: Arc<str>,
    pub(crate) entries: Vec<(Arc<str>, SchemaId)>,
}

/// A discriminator without `oneOf`/`anyOf` (the inheritance style, used with `allOf`): it
/// constrains nothing, but says which value the property takes for which schema.
#[derive(Debug, Clone)]
pub(crate) struct Lineage {
    pub(crate) property: Arc<str>,
    /// Mapping values with the reference they name (`#/components/schemas/Cat`).
    pub(crate) mapping: Vec<(Arc<str>, Arc<str>)>,
}

/// One schema object, read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Schema {
    /// The `type` keyword (with `null` added by `nullable`); `None` when absent.
    pub(crate) types: Option<Types>,
    /// What `nullable: true` does to this schema, as the dialect reads it.
    pub(crate) nullable: Nullable,
    pub(crate) never: bool,
    pub(crate) enumeration: Option<Box<[Value]>>,
    /// `const`. This and the other values a schema holds are boxed: a `Value` is 80 bytes,
    /// and most schemas have none.
    pub(crate) constant: Option<Box<Value>>,
    pub(crate) format: Option<Arc<str>>,
    pub(crate) format_check: Option<Arc<FormatCheck>>,
    pub(crate) pattern: Option<Arc<Pattern>>,
    pub(crate) unique_items: bool,
    /// The numeric, length and count bounds, boxed and only where a schema has one (most
    /// schemas have none, and they take 160 bytes).
    limits: Option<Box<Limits>>,
    pub(crate) items: Option<SchemaId>,
    pub(crate) properties: Box<[PropertyDef]>,
    /// `required`, every name as written: which of them a side needs is
    /// [`Schema::required_in`]'s answer.
    pub(crate) required: Box<[Arc<str>]>,
    pub(crate) additional: Option<SchemaId>,
    pub(crate) all_of: Box<[SchemaId]>,
    pub(crate) any_of: Box<[SchemaId]>,
    pub(crate) one_of: Box<[SchemaId]>,
    pub(crate) not: Option<SchemaId>,
    pub(crate) dispatch: Option<Box<Dispatch>>,
    pub(crate) lineage: Option<Box<Lineage>>,
    /// Generation hints.
    pub(crate) faker: Option<Hint>,
    pub(crate) example: Option<Box<Value>>,
    /// `default`, whatever its type (the generator takes a scalar one only).
    pub(crate) default: Option<Box<Value>>,
    /// The reference this schema was reached by (`#/components/schemas/User`) and its last segment.
    pub(crate) reference: Option<Arc<str>>,
    pub(crate) name: Option<Arc<str>>,
    /// Read looser than the server's validator reads it: a keyword the model does not read, or a
    /// subschema that had to be read as `{}` (a `$ref` that leads nowhere, the schema limit).
    /// Checks against it may pass a value the validator rejects.
    pub(crate) loose: bool,
    /// The keywords JSON Schema 2020-12 added, boxed and only where a schema has one: most
    /// documents are 3.0 and have none, and each schema of GitHub's would carry them.
    later: Option<Box<Keywords2020>>,
}

/// What `nullable: true` does to a schema ([`Schema::nullable`]), as the dialect reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Nullable {
    /// No `nullable: true`.
    #[default]
    No,
    /// 3.0's, beside a single `type`: null is added to it (to `types`, and to `enum`, whatever
    /// the type's name), so that null passes every keyword.
    InType,
    /// 3.0's, without a single `type`: null passes every keyword of the schema.
    Anyway,
    /// Written where the dialect has no such keyword (2020-12): it admits no null, and the
    /// validator's translation notes it.
    Ignored,
}

/// A schema's bounds ([`Schema::limits`]), kept in 80 bytes rather than the 160 their options
/// would take: Stripe writes `maxLength` on nearly every string.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// `minLength`, `maxLength`, `minItems`, `maxItems`, `minProperties`, `maxProperties`, each
    /// [`NO_COUNT`] where absent.
    counts: [u64; 6],
    /// The lower and upper bounds and `multipleOf`, each NaN where absent.
    numbers: [f64; 3],
    /// Whether the lower and upper bounds are exclusive.
    exclusive: [bool; 2],
}

/// A count that is absent ([`Limits::counts`]); a count this large is read as one less.
const NO_COUNT: u64 = u64::MAX;

/// The bounds of a schema that has none.
static NO_LIMITS: Limits = Limits {
    counts: [NO_COUNT; 6],
    numbers: [f64::NAN; 3],
    exclusive: [false; 2],
};

impl Limits {
    /// The bounds a schema object's keywords give.
    fn read(map: &Map<String, Value>) -> Limits {
        let count =
            |keyword: &str| count(map.get(keyword)).map_or(NO_COUNT, |n| n.min(NO_COUNT - 1));
        let lower = bound(map, "minimum", "exclusiveMinimum");
        let upper = bound(map, "maximum", "exclusiveMaximum");
        let multiple_of = map
            .get("multipleOf")
            .and_then(Value::as_f64)
            .filter(|value| *value > 0.0 && value.is_finite());
        Limits {
            counts: [
                count("minLength"),
                count("maxLength"),
                count("minItems"),
                count("maxItems"),
                count("minProperties"),
                count("maxProperties"),
            ],
            numbers: [
                lower.map_or(f64::NAN, |bound| bound.value),
                upper.map_or(f64::NAN, |bound| bound.value),
                multiple_of.unwrap_or(f64::NAN),
            ],
            exclusive: [
                lower.is_some_and(|bound| bound.exclusive),
                upper.is_some_and(|bound| bound.exclusive),
            ],
        }
    }

    /// Whether no bound is given.
    fn is_empty(&self) -> bool {
        self.counts.iter().all(|count| *count == NO_COUNT)
            && self.numbers.iter().all(|number| number.is_nan())
    }

    fn count(&self, index: usize) -> Option<u64> {
        Some(self.counts[index]).filter(|count| *count != NO_COUNT)
    }

    fn bound(&self, index: usize) -> Option<Bound> {
        let value = self.numbers[index];
        (!value.is_nan()).then_some(Bound {
            value,
            exclusive: self.exclusive[index],
        })
    }

    /// `minLength`.
    pub(crate) fn min_length(&self) -> Option<u64> {
        self.count(0)
    }

    /// `maxLength`.
    pub(crate) fn max_length(&self) -> Option<u64> {
        self.count(1)
    }

    /// `minItems`.
    pub(crate) fn min_items(&self) -> Option<u64> {
        self.count(2)
    }

    /// `maxItems`.
    pub(crate) fn max_items(&self) -> Option<u64> {
        self.count(3)
    }

    /// `minProperties`.
    pub(crate) fn min_properties(&self) -> Option<u64> {
        self.count(4)
    }

    /// `maxProperties`.
    pub(crate) fn max_properties(&self) -> Option<u64> {
        self.count(5)
    }

    /// The lower bound: `minimum` with 3.0's boolean `exclusiveMinimum`, or a numeric
    /// `exclusiveMinimum`, the tighter of both.
    pub(crate) fn lower(&self) -> Option<Bound> {
        self.bound(0)
    }

    /// The upper bound, as [`Limits::lower`] reads it.
    pub(crate) fn upper(&self) -> Option<Bound> {
        self.bound(1)
    }

    /// `multipleOf`, when positive and finite.
    pub(crate) fn multiple_of(&self) -> Option<f64> {
        let value = self.numbers[2];
        (!value.is_nan()).then_some(value)
    }
}

/// A schema's 2020-12 keywords ([`Schema::later`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Keywords2020 {
    /// `prefixItems`: the schemas of the first items, one each.
    pub(crate) prefix_items: Vec<SchemaId>,
    /// `contains`, and how many items must match it (`minContains`, 1 by default).
    pub(crate) contains: Option<(SchemaId, u64)>,
    /// `maxContains`: how many items may match `contains` at most.
    pub(crate) max_contains: Option<u64>,
    /// `unevaluatedItems`: the schema of the items nothing else evaluated.
    pub(crate) unevaluated_items: Option<SchemaId>,
    /// `dependentRequired`: when the first name is present, so must the others be.
    pub(crate) dependent_required: Vec<(Arc<str>, Vec<Arc<str>>)>,
    /// `patternProperties`: a property whose name matches holds to the schema too, and
    /// `additionalProperties` no longer applies to it.
    pub(crate) pattern_properties: Vec<(Arc<Pattern>, SchemaId)>,
    /// `propertyNames`: the schema every property name holds to.
    pub(crate) property_names: Option<SchemaId>,
    /// `unevaluatedProperties`: the schema of the names nothing else evaluated.
    pub(crate) unevaluated: Option<SchemaId>,
}

/// The 2020-12 keywords of a schema that has none.
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

impl Schema {
    /// Whether null passes every keyword of the schema (3.0's `nullable` without a single
    /// `type`).
    pub(crate) fn null_anyway(&self) -> bool {
        self.nullable == Nullable::Anyway
    }

    /// The schema's numeric, length and count bounds.
    pub(crate) fn limits(&self) -> &Limits {
        self.limits.as_deref().unwrap_or(&NO_LIMITS)
    }

    /// The schema's 2020-12 keywords (none for a 3.0 schema).
    pub(crate) fn later(&self) -> &Keywords2020 {
        self.later.as_deref().unwrap_or(&NO_2020_KEYWORDS)
    }

    /// The names `required` holds a value to on one side of an exchange: a request never needs a
    /// `readOnly` property, a response never a `writeOnly` one (as the flags of this schema's own
    /// `properties` say); the validator's translation keeps these names.
    pub(crate) fn required_in(&self, direction: Direction) -> impl Iterator<Item = &Arc<str>> {
        self.required
            .iter()
            .filter(move |name| self.needs(name, direction))
    }

    /// Whether a required `name` is needed on one side ([`Schema::required_in`]); asked only of
    /// a name that is missing, so a check of a whole object scans no properties.
    pub(crate) fn needs(&self, name: &str, direction: Direction) -> bool {
        !self.properties.iter().any(|property| {
            *property.name == *name
                && match direction {
                    Direction::Request => property.read_only,
                    Direction::Response => property.write_only,
                }
        })
    }

    /// The schemas this one applies to the value or to what it holds.
    pub(crate) fn children(&self) -> impl Iterator<Item = SchemaId> + '_ {
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

    /// Whether the schema applies no other schema to the value it checks (no `allOf`, `anyOf`,
    /// `oneOf`, `not` or discriminator): on a scalar, its check is its own keywords only.
    pub(crate) fn is_flat(&self) -> bool {
        self.all_of.is_empty()
            && self.any_of.is_empty()
            && self.one_of.is_empty()
            && self.not.is_none()
            && self.dispatch.is_none()
    }

    /// Whether the schema decides a scalar (a string, number, boolean or null) by its `type`
    /// alone: flat, and none of the keywords that look at a scalar's value.
    pub(crate) fn types_decide_scalars(&self) -> bool {
        self.is_flat()
            && !self.never
            && self.enumeration.is_none()
            && self.constant.is_none()
            && self.format_check.is_none()
            && self.pattern.is_none()
            && self.limits().min_length().is_none()
            && self.limits().max_length().is_none()
            && self.limits().lower().is_none()
            && self.limits().upper().is_none()
            && self.limits().multiple_of().is_none()
    }
}

/// The schemas of one document, each read once however many places reach it: every generator and
/// every other reader of the document shares one model, so a schema reached by many operations is
/// read once. A schema is given its id when first reached and read when asked for.
pub(crate) struct SchemaModel<'d> {
    document: &'d Value,
    dialect: Dialect,
    ids: HashMap<usize, SchemaId>,
    parts: Vec<Schema>,
    /// The schema objects given an id and not read yet, by id.
    unread: Vec<Option<&'d Map<String, Value>>>,
    /// By id: the schema object read, to read it again after [`Self::release`] (none for a
    /// schema composed here, `true` or `false`).
    raw: Vec<Option<&'d Map<String, Value>>>,
    /// The schemas read since the last [`Self::release`] that no root had reached.
    shallow: Vec<SchemaId>,
    /// By id: the schema and everything it reaches are read ([`Self::root`]).
    closed: Vec<bool>,
    /// Property names and formats, each kept once: most repeat across a document's schemas.
    names: HashSet<Arc<str>>,
    /// Set when a schema had to be read as `{}` without being `{}` (a `$ref` that leads nowhere,
    /// a value that is not a schema, the schema limit) or has a keyword the model does not read:
    /// the schema being read is then [`Schema::loose`].
    loose: bool,
}

impl<'d> SchemaModel<'d> {
    pub(crate) fn new(document: &'d Value) -> Self {
        let never = Schema {
            never: true,
            ..Schema::default()
        };
        SchemaModel {
            document,
            dialect: Dialect::of(document),
            ids: HashMap::new(),
            parts: vec![Schema::default(), never],
            unread: vec![None, None],
            raw: vec![None, None],
            shallow: Vec::new(),
            closed: vec![true, true],
            names: HashSet::new(),
            loose: false,
        }
    }

    /// The document the model reads.
    pub(crate) fn document(&self) -> &'d Value {
        self.document
    }

    /// The id of a generator's root schema, read with everything it reaches, and whether the
    /// schema itself could not be read (it then stands as `{}`).
    pub(crate) fn root(&mut self, schema: &'d Value) -> (SchemaId, bool) {
        self.loose = false;
        let root = self.id(schema);
        let unreadable = std::mem::take(&mut self.loose);
        self.close(root);
        (root, unreadable)
    }

    /// The schemas so far: those read, and a stand-in (`{}`) for each of the others.
    pub(crate) fn parts(&self) -> &[Schema] {
        &self.parts
    }

    /// The schema `id` names, read now if it was not yet.
    pub(crate) fn get(&mut self, id: SchemaId) -> &Schema {
        self.read(id);
        &self.parts[id as usize]
    }

    /// The id of a schema (following `$ref`s, in 3.0 past any siblings); it is read when asked
    /// for ([`Self::get`], [`Self::root`]).
    pub(crate) fn id(&mut self, schema: &'d Value) -> SchemaId {
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
                        .is_some_and(|map| self.reads_beside_ref(map)) =>
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

    /// Whether a schema object's keywords beside its `$ref` constrain the value too: in 2020-12
    /// they do (annotations such as `description` aside, which change nothing), and the object is
    /// a schema of its own holding its keywords and the reference's target; in 3.0 they are
    /// ignored, and the object stands for the schema its `$ref` names.
    pub(crate) fn reads_beside_ref(&self, schema: &Map<String, Value>) -> bool {
        self.dialect == Dialect::JsonSchema202012
            && schema.contains_key("$ref")
            && schema.keys().any(|key| {
                !matches!(
                    key.as_str(),
                    "$ref"
                        | "description"
                        | "title"
                        | "summary"
                        | "$comment"
                        | "deprecated"
                        | "example"
                        | "examples"
                        | "default"
                        | "readOnly"
                        | "writeOnly"
                        | "externalDocs"
                        | "xml"
                ) && !key.starts_with("x-")
            })
    }

    /// Whether the dialect has JSON Schema 2020-12's keywords (`prefixItems`, `contains`,
    /// `if`, `unevaluatedProperties`, …): the model reads them, and the validator keeps them.
    pub(crate) fn reads_2020_keywords(&self) -> bool {
        self.dialect == Dialect::JsonSchema202012
    }

    /// `{}` standing in for a schema that could not be read.
    fn inexact(&mut self) -> SchemaId {
        self.loose = true;
        ANY
    }

    /// The properties of the object schema `id` and of its `allOf` parts, in order (a name met
    /// again keeps its first definition), each read once.
    pub(crate) fn properties(&mut self, id: SchemaId) -> Vec<PropertyDef> {
        let mut found: Vec<PropertyDef> = Vec::new();
        let mut visited = Vec::new();
        self.gather_properties(id, &mut visited, &mut found);
        found
    }

    fn gather_properties(
        &mut self,
        id: SchemaId,
        visited: &mut Vec<SchemaId>,
        found: &mut Vec<PropertyDef>,
    ) {
        if visited.contains(&id) || visited.len() >= MAX_FLAT {
            return;
        }
        visited.push(id);
        let schema = self.get(id);
        for property in &schema.properties {
            if !found.iter().any(|known| known.name == property.name) {
                found.push(property.clone());
            }
        }
        for part in schema.all_of.clone() {
            self.gather_properties(part, visited, found);
        }
    }

    /// `name` as an `Arc`, shared with every other use of it in the document.
    fn name(&mut self, name: &str) -> Arc<str> {
        if let Some(known) = self.names.get(name) {
            return Arc::clone(known);
        }
        let name: Arc<str> = Arc::from(name);
        self.names.insert(Arc::clone(&name));
        name
    }

    /// Reads `root` and everything it reaches, each schema once over the model's life.
    fn close(&mut self, root: SchemaId) {
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            match self.closed.get_mut(id as usize) {
                Some(closed) if !*closed => *closed = true,
                _ => continue,
            }
            self.read(id);
            stack.extend(self.parts[id as usize].children());
        }
    }

    /// Reads the schema `id` names, if it was not yet.
    fn read(&mut self, id: SchemaId) {
        let Some(map) = self.unread.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        let outer = std::mem::take(&mut self.loose);
        let compiled = self.compile(map);
        let loose = std::mem::replace(&mut self.loose, outer);
        let slot = &mut self.parts[id as usize];
        let reference = slot.reference.take();
        let name = slot.name.take();
        *slot = Schema {
            reference,
            name,
            loose,
            ..compiled
        };
        if self.closed.get(id as usize) == Some(&false) {
            self.shallow.push(id);
        }
    }

    /// Lets go of the keywords of each schema read since the last call that no root reaches:
    /// the load-time readers that asked for them are done with them (a schema asked for again
    /// is read again). Called after each operation, so that the request schemas only those
    /// readers read (Stripe's thousands of form fields) cost the memory of one operation's at
    /// a time, not the document's.
    pub(crate) fn release(&mut self) {
        for id in std::mem::take(&mut self.shallow) {
            self.forget(id);
        }
    }

    /// Lets go of the keywords of the schema `id` unless a root reaches it (it is read again
    /// when asked for): for a reader that walks many schemas once, such as the search for request
    /// defaults, so that it holds one at a time.
    pub(crate) fn forget(&mut self, id: SchemaId) {
        let index = id as usize;
        let (Some(false), Some(Some(map)), Some(None)) = (
            self.closed.get(index),
            self.raw.get(index),
            self.unread.get(index),
        ) else {
            return;
        };
        // A schema whose reading composed schemas of its own (2020-12's conditionals) is kept:
        // reading it again would compose them again, and the arena would grow with each read.
        let composes = self.parts[index]
            .all_of
            .iter()
            .any(|child| *child > NEVER && self.raw.get(*child as usize) == Some(&None));
        if composes {
            return;
        }
        self.unread[index] = Some(map);
        let slot = &mut self.parts[index];
        *slot = Schema {
            reference: slot.reference.take(),
            name: slot.name.take(),
            ..Schema::default()
        };
    }

    /// The schemas the generators need: those a root reaches, and a loose `{}` in the place of
    /// each of the others, which only the readers at load time asked for (their keywords are
    /// not kept past the load).
    pub(crate) fn finish(mut self) -> Vec<Schema> {
        for (schema, closed) in self.parts.iter_mut().zip(&self.closed) {
            if !closed {
                *schema = Schema {
                    loose: true,
                    ..Schema::default()
                };
            }
        }
        self.parts.shrink_to_fit();
        self.parts
    }

    fn intern(&mut self, schema: &'d Value, reference: Option<&str>) -> SchemaId {
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
        let Ok(id) = SchemaId::try_from(self.parts.len()) else {
            return self.inexact();
        };
        let name = reference
            .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
            .filter(|name| !name.contains('/'))
            .map(Arc::from);
        self.parts.push(Schema {
            reference: reference.map(Arc::from),
            name,
            ..Schema::default()
        });
        self.ids.insert(key, id);
        self.unread.push(Some(map));
        self.raw.push(Some(map));
        self.closed.push(false);
        id
    }

    /// The id of the schema a local reference (`#/components/schemas/User`) names, known by it.
    pub(crate) fn part_at(&mut self, reference: &str) -> Option<SchemaId> {
        let target = resolve_pointer(self.document, reference)?;
        if target.get("$ref").is_some() {
            return Some(self.id(target));
        }
        Some(self.intern(target, Some(reference)))
    }

    fn compile(&mut self, map: &'d Map<String, Value>) -> Schema {
        let mut part = Schema::default();
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
        part.nullable = match (nullable, single_type) {
            (true, true) => Nullable::InType,
            (true, false) => Nullable::Anyway,
            _ if modern && map.get("nullable") == Some(&Value::Bool(true)) => Nullable::Ignored,
            _ => Nullable::No,
        };
        if let Some(Value::Array(options)) = map.get("enum") {
            let mut options = options.clone();
            if nullable && single_type && !options.contains(&Value::Null) {
                options.push(Value::Null);
            }
            part.enumeration = Some(options.into());
        }
        part.constant = map.get("const").cloned().map(Box::new);
        if let Some(Value::String(format)) = map.get("format") {
            part.format = Some(self.name(format));
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
        let limits = Limits::read(map);
        if !limits.is_empty() {
            part.limits = Some(Box::new(limits));
        }
        part.unique_items = map.get("uniqueItems") == Some(&Value::Bool(true));
        part.items = map.get("items").map(|items| self.id(items));
        if modern {
            let mut later = Keywords2020::default();
            if let Some(Value::Object(dependencies)) = map.get("dependentRequired") {
                later.dependent_required = dependencies
                    .iter()
                    .map(|(name, names)| {
                        let names = names.as_array().map_or(&[][..], Vec::as_slice);
                        let names = names.iter().filter_map(Value::as_str);
                        let names = names.map(|name| self.name(name)).collect();
                        (self.name(name), names)
                    })
                    .collect();
            }
            if let Some(Value::Object(patterns)) = map.get("patternProperties") {
                for (source, schema) in patterns {
                    match pattern::pattern(source) {
                        Some(pattern) => {
                            let schema = self.id(schema);
                            later.pattern_properties.push((pattern, schema));
                        }
                        None => self.loose = true,
                    }
                }
            }
            later.property_names = map.get("propertyNames").map(|names| self.id(names));
            later.unevaluated = map
                .get("unevaluatedProperties")
                .map(|schema| self.id(schema));
            later.prefix_items = self.branches(map.get("prefixItems"));
            later.contains = map.get("contains").map(|contains| {
                let least = count(map.get("minContains")).unwrap_or(1);
                (self.id(contains), least)
            });
            later.max_contains = count(map.get("maxContains"));
            if later.contains.is_some()
                && map.contains_key("maxContains")
                && later.max_contains.is_none()
            {
                // A bound that is no count is not read, while the validator may read it.
                self.loose = true;
            }
            later.unevaluated_items = map.get("unevaluatedItems").map(|schema| self.id(schema));
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
            let mut defined = Vec::with_capacity(properties.len());
            for (name, schema) in properties {
                let flag = |key: &str| flagged(self.document, schema, key);
                let beside = Beside {
                    same_as: same_as(self.document, schema),
                    default: schema.get("$ref").and(schema.get("default")).cloned(),
                };
                let definition = PropertyDef {
                    read_only: flag("readOnly"),
                    write_only: flag("writeOnly"),
                    identity: flag("x-understudy-identity"),
                    beside: (beside.same_as.is_some() || beside.default.is_some())
                        .then(|| Box::new(beside)),
                    name: self.name(name),
                    part: self.id(schema),
                };
                defined.push(definition);
            }
            part.properties = defined.into();
        }
        if let Some(Value::Array(names)) = map.get("required") {
            part.required = names
                .iter()
                .filter_map(Value::as_str)
                .map(|name| self.name(name))
                .collect();
        }
        part.additional = map
            .get("additionalProperties")
            .map(|schema| self.id(schema));
        let mut all_of = self.branches(map.get("allOf"));
        if let Some(reference) = map.get("$ref") {
            // Only a 2020-12 reference with siblings is interned with its `$ref` still in it.
            match reference.as_str().and_then(|target| self.part_at(target)) {
                Some(target) => all_of.push(target),
                None => self.loose = true,
            }
        }
        if modern {
            self.conditionals(map, &mut all_of);
        }
        part.all_of = all_of.into();
        part.one_of = self.branches(map.get("oneOf")).into();
        part.any_of = self.branches(map.get("anyOf")).into();
        part.not = map.get("not").map(|schema| self.id(schema));
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
            .cloned()
            .map(Box::new);
        part.default = map.get("default").cloned().map(Box::new);
        part
    }

    /// 2020-12's conditional keywords as compositions the model already reads, each added to
    /// `allOf` as a choice of two branches: `if`/`then`/`else` as `anyOf: [{allOf: [if, then]},
    /// {not: if, allOf: [else]}]`, and each `dependentSchemas` entry as `anyOf: [{properties:
    /// {name: false}}, schema]` (the name absent, or the schema holding).
    fn conditionals(&mut self, map: &'d Map<String, Value>, all_of: &mut Vec<SchemaId>) {
        if let Some(condition) = map.get("if") {
            let condition = self.id(condition);
            let then = map.get("then").map(|then| self.id(then));
            let otherwise = map.get("else").map(|otherwise| self.id(otherwise));
            let holds = self.composed(Schema {
                all_of: std::iter::once(condition).chain(then).collect(),
                ..Schema::default()
            });
            let fails = self.composed(Schema {
                not: Some(condition),
                all_of: otherwise.into_iter().collect(),
                ..Schema::default()
            });
            let choice = self.composed(Schema {
                any_of: vec![holds, fails].into(),
                ..Schema::default()
            });
            all_of.push(choice);
        }
        if let Some(Value::Object(dependencies)) = map.get("dependentSchemas") {
            for (name, schema) in dependencies {
                let schema = self.id(schema);
                let name = self.name(name);
                let absent = self.composed(Schema {
                    properties: vec![PropertyDef::plain(name, NEVER)].into(),
                    ..Schema::default()
                });
                let choice = self.composed(Schema {
                    any_of: vec![absent, schema].into(),
                    ..Schema::default()
                });
                all_of.push(choice);
            }
        }
    }

    /// A schema made here rather than read from the document (a branch of a conditional).
    fn composed(&mut self, part: Schema) -> SchemaId {
        match SchemaId::try_from(self.parts.len()) {
            Ok(id) if self.parts.len() < MAX_PARTS => {
                self.parts.push(part);
                self.unread.push(None);
                self.raw.push(None);
                self.closed.push(false);
                id
            }
            _ => self.inexact(),
        }
    }

    fn branches(&mut self, value: Option<&'d Value>) -> Vec<SchemaId> {
        match value {
            Some(Value::Array(branches)) => branches.iter().map(|branch| self.id(branch)).collect(),
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
        part: &mut Schema,
    ) {
        let Some(property) = discriminator.get("propertyName").and_then(Value::as_str) else {
            return;
        };
        let mut values = crate::json_schema::mapping_targets(discriminator);
        let keyword = if map.contains_key("oneOf") {
            "oneOf"
        } else if map.contains_key("anyOf") {
            "anyOf"
        } else {
            part.lineage = Some(Box::new(Lineage {
                property: Arc::from(property),
                mapping: values
                    .into_iter()
                    .map(|(value, target)| (Arc::from(value), Arc::from(target)))
                    .collect(),
            }));
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
            part.one_of = Box::default();
        } else {
            part.any_of = Box::default();
        }
        part.dispatch = Some(Box::new(Dispatch {
            property: Arc::from(property),
            entries,
        }));
    }
}

/// Whether a property's schema says `key: true` (`readOnly`, `writeOnly`): itself, where its
/// `$ref` leads, or in any part of its `allOf` (Jira marks write-only fields through `allOf`
/// wrappers), looked through at most a few levels.
fn flagged(document: &Value, schema: &Value, key: &str) -> bool {
    fn look(document: &Value, schema: &Value, key: &str, depth: usize) -> bool {
        if schema.get(key) == Some(&Value::Bool(true)) {
            return true;
        }
        let target = deref(document, schema);
        if target.get(key) == Some(&Value::Bool(true)) {
            return true;
        }
        depth < 8
            && target
                .get("allOf")
                .and_then(Value::as_array)
                .is_some_and(|parts| {
                    parts
                        .iter()
                        .any(|part| look(document, part, key, depth + 1))
                })
    }
    look(document, schema, key, 0)
}

/// A property's `x-understudy-same-as`, beside its `$ref` or on the schema it names.
fn same_as(document: &Value, schema: &Value) -> Option<Arc<str>> {
    schema
        .get("x-understudy-same-as")
        .or_else(|| deref(document, schema).get("x-understudy-same-as"))
        .and_then(Value::as_str)
        .map(Arc::from)
}

/// Whether a value is a string, a number or a boolean.
pub(crate) fn is_scalar(value: &Value) -> bool {
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

/// A bound as the validator holds a value to it: `minimum` with 3.0's boolean
/// `exclusiveMinimum`, or a numeric `exclusiveMinimum` (draft 6 style), the tighter of both when
/// both are given.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::check::accepts_all;
    use crate::json_schema::{request_validator, response_validator};
    use serde_json::json;

    /// Schemas whose reading depends on the dialect, each with a value that one dialect accepts
    /// and the other refuses (or, the last ones, both alike).
    fn dialect_cases() -> Vec<(Value, Value)> {
        vec![
            (json!({"type": "string", "nullable": true}), json!(null)),
            (
                json!({"type": "string", "enum": ["a"], "nullable": true}),
                json!(null),
            ),
            (
                json!({"$ref": "#/components/schemas/Text", "maxLength": 2}),
                json!("abc"),
            ),
            (
                json!({"type": "array", "prefixItems": [{"type": "string"}]}),
                json!([1]),
            ),
            (
                json!({"type": "array", "contains": {"const": 5}}),
                json!([1]),
            ),
            (
                json!({"type": "object", "dependentRequired": {"a": ["b"]}}),
                json!({"a": 1}),
            ),
            (
                json!({"type": "object", "dependentSchemas": {"a": {"required": ["b"]}}}),
                json!({"a": 1}),
            ),
            (
                json!({"if": {"required": ["a"]}, "then": {"required": ["b"]}}),
                json!({"a": 1}),
            ),
            (
                json!({"patternProperties": {"^x-": {"type": "string"}}}),
                json!({"x-a": 1}),
            ),
            (json!({"propertyNames": {"maxLength": 1}}), json!({"ab": 1})),
            (
                json!({"properties": {"a": {}}, "unevaluatedProperties": false}),
                json!({"b": 1}),
            ),
            (json!({"type": ["string", "null"]}), json!(null)),
            (
                json!({"type": "integer", "minimum": 1, "exclusiveMinimum": true}),
                json!(1),
            ),
            (json!({"type": "integer", "exclusiveMaximum": 3}), json!(3)),
            (json!({"const": "a"}), json!("b")),
        ]
    }

    #[test]
    fn the_model_reads_each_dialect_as_the_validators_translation_does() {
        let mut differ = 0;
        for case @ (schema, value) in &dialect_cases() {
            let mut answers = Vec::new();
            for version in ["3.0.3", "3.1.0", "3.2.0"] {
                let document = json!({"openapi": version,
                    "components": {"schemas": {"Text": {"type": "string"}}}});
                let validator = response_validator(&document, schema).unwrap();
                let mut model = SchemaModel::new(&document);
                let root = model.root(schema).0;
                let schemas = model.finish();
                let read = accepts_all(&schemas, &[root], value);
                assert_eq!(
                    read,
                    validator.is_valid(value),
                    "OpenAPI {version}: {case:?}: the model and the validator disagree"
                );
                answers.push(read);
            }
            assert_eq!(answers[1], answers[2], "3.1 and 3.2 read alike: {case:?}");
            if answers[0] != answers[1] {
                differ += 1;
            }
        }
        assert_eq!(differ, 11, "each dialect case tells the dialects apart");
    }

    #[test]
    fn required_is_read_by_direction_as_the_validators_translation_does() {
        let document = json!({"openapi": "3.0.3"});
        let schema = json!({"type": "object", "required": ["id", "password", "name"],
            "properties": {"id": {"readOnly": true}, "password": {"writeOnly": true},
                "name": {}}});
        let mut model = SchemaModel::new(&document);
        let root = model.root(&schema).0;
        let names = |direction| {
            model.parts()[root as usize]
                .required_in(direction)
                .map(|name| name.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(Direction::Request), ["password", "name"]);
        assert_eq!(names(Direction::Response), ["id", "name"]);
        let request = request_validator(&document, &schema).unwrap();
        let response = response_validator(&document, &schema).unwrap();
        assert!(request.is_valid(&json!({"password": "p", "name": "n"})));
        assert!(!request.is_valid(&json!({"id": 1, "name": "n"})));
        assert!(response.is_valid(&json!({"id": 1, "name": "n"})));
        assert!(!response.is_valid(&json!({"password": "p", "name": "n"})));
    }

    #[test]
    fn a_schema_asked_for_alone_is_read_without_what_it_reaches() {
        let document = json!({"openapi": "3.0.3", "components": {"schemas": {
            "Deep": {"type": "object", "properties": {"a": {"type": "string"}}}}}});
        let schema = json!({"type": "object", "properties": {
            "deep": {"$ref": "#/components/schemas/Deep"}}});
        let other = json!({"type": "array", "items": {"type": "integer"}});
        let boolean = json!({"type": "boolean"});
        let reference = json!({"$ref": "#/components/schemas/Deep"});
        let mut model = SchemaModel::new(&document);
        let top = model.id(&schema);
        let deep = model.get(top).properties[0].part;
        assert_eq!(
            model.parts()[top as usize].types,
            Some(Types(Types::OBJECT))
        );
        assert_eq!(model.parts()[deep as usize].types, None, "not read yet");
        assert_eq!(model.get(deep).types, Some(Types(Types::OBJECT)));
        assert_eq!(
            model.id(&reference),
            deep,
            "a schema is one id however it is reached"
        );
        // A root reads everything below; what nothing read stands as a loose `{}`.
        let unread = model.id(&boolean);
        let (array, _) = model.root(&other);
        let items = model.parts()[array as usize].items.unwrap();
        let schemas = model.finish();
        assert_eq!(schemas[items as usize].types, Some(Types(Types::INTEGER)));
        assert!(schemas[unread as usize].loose && schemas[unread as usize].types.is_none());
    }

    #[test]
    fn named_types_read_unions_references_and_each_dialects_null() {
        let schemas = json!({"Cat": {"type": "object"}, "Dog": {"type": "object"},
            "Ids": {"type": "array", "items": {"type": "integer"}}});
        let old = json!({"openapi": "3.0.3", "components": {"schemas": schemas}});
        let new = json!({"openapi": "3.1.0", "components": {"schemas": schemas}});
        let optional = json!({"anyOf": [{"type": "integer"}, {"type": "null"}]});
        let nullable = json!({"type": "string", "nullable": true});
        let pet = json!({"oneOf": [{"$ref": "#/components/schemas/Cat"},
            {"$ref": "#/components/schemas/Dog"}], "discriminator": {"propertyName": "kind"}});
        let ids = json!({"$ref": "#/components/schemas/Ids"});
        let union = json!({"type": ["number", "integer", "null"]});
        let mut model = SchemaModel::new(&old);
        let mut named = |schema| {
            let id = model.id(schema);
            let named = NamedTypes::of(&mut model, id);
            let items = named
                .items
                .map(|items| NamedTypes::of(&mut model, items).names);
            (named.names, named.null, items)
        };
        assert_eq!(named(&optional), (vec!["integer"], true, None));
        assert_eq!(named(&nullable), (vec!["string"], true, None));
        assert_eq!(
            named(&pet),
            (vec!["object"], false, None),
            "through dispatch"
        );
        assert_eq!(named(&ids), (vec!["array"], false, Some(vec!["integer"])));
        assert_eq!(named(&union), (vec!["number"], true, None));
        let mut model = SchemaModel::new(&new);
        let id = model.id(&nullable);
        assert!(
            !NamedTypes::of(&mut model, id).null,
            "`nullable` is no 2020-12 keyword, and the validator refuses null"
        );
    }

    #[test]
    fn what_only_readers_read_is_released_and_read_again_alike() {
        let document = json!({"openapi": "3.1.0", "components": {"schemas": {
            "Form": {"type": "object", "required": ["a"],
                "properties": {"a": {"type": "string", "maxLength": 5000}}},
            "Answer": {"type": "object", "properties": {"b": {"type": "integer"}}}}}});
        let form = json!({"$ref": "#/components/schemas/Form"});
        let answer = json!({"$ref": "#/components/schemas/Answer"});
        let conditional = json!({"if": {"required": ["a"]}, "then": {"required": ["b"]}});
        let mut model = SchemaModel::new(&document);
        let (root, _) = model.root(&answer);
        let id = model.id(&form);
        let property = model.get(id).properties[0].part;
        assert_eq!(model.get(property).limits().max_length(), Some(5000));
        model.release();
        assert!(model.parts()[id as usize].properties.is_empty(), "released");
        assert!(
            !model.parts()[root as usize].properties.is_empty(),
            "a root's are kept"
        );
        model.forget(root);
        assert!(
            !model.parts()[root as usize].properties.is_empty(),
            "even when asked to forget them"
        );
        // A schema that composed schemas of its own is kept, so that they are composed once.
        let conditional = model.id(&conditional);
        let read = model.parts().len();
        let _ = model.get(conditional);
        let composed = model.parts().len();
        assert!(composed > read);
        model.release();
        let _ = model.get(conditional);
        assert_eq!(model.parts().len(), composed, "composed once");
        let again = model.get(id);
        assert_eq!(again.properties[0].part, property, "the same ids");
        assert_eq!(again.required_in(Direction::Request).count(), 1);
        assert_eq!(model.get(property).limits().max_length(), Some(5000));
    }
}
