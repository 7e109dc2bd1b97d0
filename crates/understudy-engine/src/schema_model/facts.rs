//! What tools outside the engine read of a schema (xtask's fixture rules): a few facts per schema
//! object, read through the document's [`SchemaModel`], so that they read the dialect as the
//! server does (3.0's `nullable` and boolean exclusive bounds, 2020-12's type lists and numeric
//! ones, `$ref` siblings) instead of reading the keywords again.

use serde_json::Value;

use super::{ANY, NEVER, SchemaId, SchemaModel, Types};

/// Reads schemas of one document into [`SchemaFacts`].
pub struct SchemaReader<'d> {
    model: SchemaModel<'d>,
}

impl std::fmt::Debug for SchemaReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaReader").finish_non_exhaustive()
    }
}

/// A schema the reader has read, to ask its facts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaRef(SchemaId);

/// A property of an object schema, as [`SchemaFacts::properties`] lists it.
#[derive(Debug, Clone)]
pub struct PropertyFacts {
    /// The property's name.
    pub name: String,
    /// Its schema.
    pub schema: SchemaRef,
    /// Whether it is `readOnly` (on the property, beside its `$ref`, or on what it names).
    pub read_only: bool,
}

/// The facts of one schema object. Those of an object (properties, required names, whether it
/// is closed, its `anyOf`/`oneOf` branches) take its `allOf` members in; the others are the
/// schema's own.
#[derive(Debug, Clone, Default)]
pub struct SchemaFacts {
    /// The one type it names, `null` apart (`"integer"`, `"string"`, …).
    pub single_type: Option<&'static str>,
    /// Its properties, its own first, then its `allOf` members' not named already.
    pub properties: Vec<PropertyFacts>,
    /// Every name `required` lists, `readOnly` ones too.
    pub required: Vec<String>,
    /// Whether `additionalProperties: false` closes it.
    pub closed: bool,
    /// Its `anyOf` and `oneOf` branches, with the keyword that holds each.
    pub branches: Vec<(&'static str, SchemaRef)>,
    /// `format`.
    pub format: Option<String>,
    /// `pattern`, as written.
    pub pattern: Option<String>,
    /// `minLength` and `maxLength`.
    pub min_length: Option<u64>,
    /// See [`SchemaFacts::min_length`].
    pub max_length: Option<u64>,
    /// `minItems` and `maxItems`.
    pub min_items: Option<u64>,
    /// See [`SchemaFacts::min_items`].
    pub max_items: Option<u64>,
    /// The lower bound and whether it is exclusive.
    pub minimum: Option<(f64, bool)>,
    /// The upper bound and whether it is exclusive.
    pub maximum: Option<(f64, bool)>,
    /// `enum`.
    pub enumeration: Option<Vec<Value>>,
    /// `const`.
    pub constant: Option<Value>,
    /// `items`.
    pub items: Option<SchemaRef>,
}

/// How deep `allOf` members are taken in.
const MAX_DEPTH: usize = 16;

impl<'d> SchemaReader<'d> {
    /// A reader of `document`'s schemas.
    pub fn new(document: &'d Value) -> Self {
        SchemaReader {
            model: SchemaModel::new(document),
        }
    }

    /// Reads `schema` (a schema object of the document, or a `$ref` to one).
    pub fn read(&mut self, schema: &'d Value) -> SchemaRef {
        SchemaRef(self.model.id(schema))
    }

    /// The facts of a schema read.
    pub fn facts(&mut self, schema: SchemaRef) -> SchemaFacts {
        let own = self.model.get(schema.0).clone();
        let limits = own.limits();
        let mut facts = SchemaFacts {
            single_type: own.types.and_then(single_type),
            format: own.format.as_deref().map(str::to_owned),
            pattern: own
                .pattern
                .as_ref()
                .map(|pattern| pattern.source().to_owned()),
            min_length: limits.min_length(),
            max_length: limits.max_length(),
            min_items: limits.min_items(),
            max_items: limits.max_items(),
            minimum: limits.lower().map(|bound| (bound.value, bound.exclusive)),
            maximum: limits.upper().map(|bound| (bound.value, bound.exclusive)),
            enumeration: own.enumeration.as_deref().map(<[Value]>::to_vec),
            constant: own.constant.as_deref().cloned(),
            items: own.items.filter(|items| *items != ANY).map(SchemaRef),
            ..SchemaFacts::default()
        };
        self.object(schema.0, &mut facts, 0);
        facts
    }

    /// Takes in the object facts of `id` and its `allOf` members.
    fn object(&mut self, id: SchemaId, facts: &mut SchemaFacts, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let schema = self.model.get(id).clone();
        for property in &schema.properties {
            if !facts
                .properties
                .iter()
                .any(|known| *known.name == *property.name)
            {
                facts.properties.push(PropertyFacts {
                    name: property.name.to_string(),
                    schema: SchemaRef(property.part),
                    read_only: property.read_only,
                });
            }
        }
        for name in &schema.required {
            if !facts.required.iter().any(|known| **known == **name) {
                facts.required.push(name.to_string());
            }
        }
        facts.closed |= schema.additional == Some(NEVER);
        let branches = schema.any_of.iter().map(|id| ("anyOf", *id));
        let branches = branches.chain(schema.one_of.iter().map(|id| ("oneOf", *id)));
        facts
            .branches
            .extend(branches.map(|(keyword, id)| (keyword, SchemaRef(id))));
        for member in &schema.all_of {
            self.object(*member, facts, depth + 1);
        }
    }
}

/// The one type a `type` names, `null` apart.
fn single_type(types: Types) -> Option<&'static str> {
    let types = types.without(Types::NULL);
    [
        (Types::OBJECT, "object"),
        (Types::ARRAY, "array"),
        (Types::STRING, "string"),
        (Types::BOOLEAN, "boolean"),
        (Types::NUMBER | Types::INTEGER, "number"),
        (Types::INTEGER, "integer"),
    ]
    .into_iter()
    .find(|(bits, _)| types.0 == *bits)
    .map(|(_, name)| name)
}
