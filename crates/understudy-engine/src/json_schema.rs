//! Translation of OpenAPI schemas into self-contained JSON Schema (draft 2020-12) documents and
//! their compiled validators.
//!
//! OpenAPI 3.0 speaks a dialect of JSON Schema draft 4/5; 3.1 and 3.2 speak JSON Schema 2020-12
//! itself ([`Dialect`]). The translation reads no dialect itself: it copies the keywords that mean
//! the same in both, and takes every decision that depends on the dialect from the document's
//! schema model (`SchemaModel` in `schema_model.rs`, read once), looking up the `Schema` of each
//! schema object it emits: the `type` and `enum` with the null the model folds in for 3.0's
//! `nullable` (or an `anyOf` with null), which of 3.0's boolean `exclusiveMinimum` and
//! `exclusiveMaximum` make a bound exclusive, whether `$ref` siblings apply (2020-12) or are
//! ignored (3.0), whether 2020-12's own keywords are kept, and which `required` names apply in
//! the direction (`readOnly` properties are not required in requests, `writeOnly` ones not in
//! responses). A `discriminator` dispatches on its property instead of trying each branch of a
//! plain `oneOf`. [`translate`] copies every referenced schema under `$defs`, so a validator only
//! holds what its schema can reach; the server's validators use `translate_shared` instead, where
//! a reference is a bridge to a schema compiled once for the whole document (`shared_schema.rs`).
//!
//! Past 600 lines because the translation of both dialects and the validator options must agree
//! keyword by keyword, and read best side by side.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value, json};

use crate::integer_format::{self, IntegerFormat};
use crate::schema_model::{ANY, Bound, NEVER, Nullable, SchemaModel};
use crate::shared_schema::{BRIDGE, SharedSchemas};
use crate::validate::percent_decode;

/// Which side of an exchange a schema describes; it decides how `readOnly` and `writeOnly` are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A request body or parameter: `readOnly` properties are never required.
    Request,
    /// A response body: `writeOnly` properties are never required.
    Response,
}

/// The schema dialect a document speaks, read once from its `openapi` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// OpenAPI 3.0 (and Swagger 2.0, converted to it): JSON Schema draft 4/5 with OpenAPI's own
    /// words (`nullable`, boolean exclusive bounds), `$ref` siblings ignored.
    OpenApi30,
    /// OpenAPI 3.1 and 3.2: JSON Schema 2020-12, `$ref` siblings applying beside the reference.
    JsonSchema202012,
}

impl Dialect {
    /// The dialect of `document`: 3.1 and later speak 2020-12; 3.0, and a document that says no
    /// version (the engine's own tests), speak 3.0's.
    pub fn of(document: &Value) -> Dialect {
        match document.get("openapi").and_then(Value::as_str) {
            Some(version) if !version.starts_with("3.0") && version.starts_with('3') => {
                Dialect::JsonSchema202012
            }
            _ => Dialect::OpenApi30,
        }
    }
}

/// JSON Schema 2020-12 keywords that hold one subschema, kept in the 2020-12 dialect.
const SUBSCHEMA_KEYWORDS: &[&str] = &[
    "contains",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
];

/// JSON Schema 2020-12 keywords that hold a map of subschemas, kept in the 2020-12 dialect.
const SUBSCHEMA_MAP_KEYWORDS: &[&str] = &["patternProperties", "dependentSchemas"];

/// JSON Schema 2020-12 keywords with plain values, kept in the 2020-12 dialect.
const PLAIN_2020_KEYWORDS: &[&str] = &["minContains", "maxContains", "dependentRequired"];

/// A schema that cannot be translated: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError {
    /// JSON pointer into the OpenAPI document.
    pub pointer: String,
    /// What is wrong, as a sentence.
    pub reason: String,
}

/// Translates `schema` (found at `pointer` in `document`) into a self-contained JSON Schema,
/// reading the schemas in a schema model of the document made for the call (the server's
/// validators read the one the document's generators share, through `translate_shared`).
pub fn translate(
    document: &Value,
    schema: &Value,
    pointer: &str,
    direction: Direction,
) -> Result<Value, TranslateError> {
    translate_noting(document, schema, pointer, direction, &mut Vec::new())
}

/// [`translate`], noting in `unenforced` what is not read as its author may have meant: a `pattern`
/// no regular-expression engine here reads (Java's `\p{XDigit}`, `[\w-.]`), which is not enforced
/// rather than refusing the whole document, and a 3.0 `nullable` left in a 3.1 schema.
pub fn translate_noting(
    document: &Value,
    schema: &Value,
    pointer: &str,
    direction: Direction,
    unenforced: &mut Vec<TranslateError>,
) -> Result<Value, TranslateError> {
    let mut model = SchemaModel::new(document);
    let root = Root {
        schema,
        pointer,
        referenced: false,
    };
    translate_with(&mut model, root, direction, unenforced, None)
}

/// The schema a translation starts from: where it is, and whether `pointer` is the reference it
/// is known by (a shared schema's), as the model names the schemas references reach.
pub(crate) struct Root<'d, 'p> {
    /// The schema, in the model's document (or beside it, for [`translate`]'s callers).
    pub(crate) schema: &'d Value,
    /// Where it is: a JSON pointer into the document, which errors and notes are reported at.
    pub(crate) pointer: &'p str,
    /// Whether `pointer` is also the reference the schema is reached by (`#` aside).
    pub(crate) referenced: bool,
}

/// [`translate_noting`], with every reference outside an `unevaluatedProperties`,
/// `unevaluatedItems` or `propertyNames` scope made a bridge to the schema `shared` compiles
/// once for the document ([`crate::shared_schema`]) instead of a copy under `$defs`.
/// The schemas are read in `model`, the document's (the one its generators and other readers
/// share while it is compiled).
pub(crate) fn translate_shared<'d>(
    model: &mut SchemaModel<'d>,
    root: Root<'d, '_>,
    direction: Direction,
    unenforced: &mut Vec<TranslateError>,
    shared: &mut SharedSchemas,
) -> Result<Value, TranslateError> {
    translate_with(model, root, direction, unenforced, Some(shared))
}

fn translate_with<'d>(
    model: &mut SchemaModel<'d>,
    root: Root<'d, '_>,
    direction: Direction,
    unenforced: &mut Vec<TranslateError>,
    shared: Option<&mut SharedSchemas>,
) -> Result<Value, TranslateError> {
    let document = model.document();
    let mut translator = Translator {
        document,
        model,
        direction,
        defs: HashMap::new(),
        queue: VecDeque::new(),
        unenforced,
        shared,
        inline: false,
    };
    let mut root = translator.node(root.schema, root.pointer, root.referenced)?;
    let mut defs = Map::new();
    // What is copied under `$defs` was reached from a scope that must see into it (or nothing
    // is shared), so all it reaches is copied too.
    translator.inline = true;
    while let Some(target) = translator.queue.pop_front() {
        let Some(found) = resolve_pointer(document, &target) else {
            continue;
        };
        let translated = translator.node(found, &target, true)?;
        defs.insert(def_key(&target), translated);
    }
    if let Value::Object(map) = &mut root {
        map.insert(
            "$schema".into(),
            Value::String("https://json-schema.org/draft/2020-12/schema".into()),
        );
        if !defs.is_empty() {
            map.insert("$defs".into(), Value::Object(defs));
        }
    } else if !defs.is_empty() {
        root = json!({"allOf": [root], "$defs": defs});
    }
    Ok(root)
}

/// A discriminator's `mapping` as (value, reference) pairs, in order; a value that names a schema
/// by its name alone (`Cat`) refers to `#/components/schemas/Cat`, as OpenAPI says.
pub(crate) fn mapping_targets(discriminator: &Value) -> Vec<(String, String)> {
    let mut values = Vec::new();
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
    values
}

/// Formats the server checks with its own function instead of jsonschema's built-in one; each
/// gives jsonschema's answers ([`crate::email_format`]), faster. The generator calls them directly.
pub(crate) const OWN_FORMATS: &[(&str, FormatFn)] = &[("email", crate::email_format::is_email)];

/// A format check: whether a string is in the format.
pub(crate) type FormatFn = fn(&str) -> bool;

/// Compiles a translated JSON Schema with the options the server uses everywhere, including the
/// formats the engine checks itself (`email`, with `email_format.rs`).
pub fn compile(json_schema: &Value) -> Result<jsonschema::Validator, String> {
    compile_with(json_schema, |options| options)
}

/// [`compile`], with more options (a custom keyword) set by `more`.
pub(crate) fn compile_with(
    json_schema: &Value,
    more: impl FnOnce(jsonschema::ValidationOptions) -> jsonschema::ValidationOptions,
) -> Result<jsonschema::Validator, String> {
    let mut options = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(true);
    for &(name, check) in OWN_FORMATS {
        options = options.with_format(name, check);
    }
    options = options.with_keyword(
        integer_format::KEYWORD,
        |_: &Map<String, Value>, value: &Value, _| IntegerFormat::keyword(value),
    );
    more(options)
        .build(json_schema)
        .map_err(|error| error.to_string())
}

/// The validator the server uses for a request body or parameter schema.
pub fn request_validator(
    document: &Value,
    schema: &Value,
) -> Result<jsonschema::Validator, String> {
    validator(document, schema, Direction::Request)
}

/// The validator the server uses for a response body schema.
pub fn response_validator(
    document: &Value,
    schema: &Value,
) -> Result<jsonschema::Validator, String> {
    validator(document, schema, Direction::Response)
}

/// Resolves a local reference (`#/components/schemas/User`) or a JSON pointer in a document,
/// following the percent-encoding that references may carry.
pub fn resolve_pointer<'a>(document: &'a Value, pointer: &str) -> Option<&'a Value> {
    let pointer = pointer.strip_prefix('#').unwrap_or(pointer);
    document
        .pointer(pointer)
        .or_else(|| match percent_decode(pointer) {
            Cow::Owned(decoded) => document.pointer(&decoded),
            Cow::Borrowed(_) => None,
        })
}

/// The value a discriminator's `property` takes for an unmapped branch `target` (a `$ref`): the one
/// value the branch's own schema allows for it (`const`, or an `enum` of one, as Spotify's
/// `TrackObject` has `type: {enum: [track]}`), looked for through `allOf`; else the schema's name,
/// as OpenAPI says.
pub fn implicit_discriminator_value(document: &Value, target: &str, property: &str) -> String {
    fn own_value(document: &Value, schema: &Value, property: &str, depth: usize) -> Option<String> {
        let schema = deref(document, schema);
        if let Some(declared) = schema.pointer(&format!("/properties/{}", escape(property))) {
            let declared = deref(document, declared);
            let only = match (declared.get("const"), declared.get("enum")) {
                (Some(value), _) => Some(value),
                (None, Some(Value::Array(values))) if values.len() == 1 => values.first(),
                _ => None,
            };
            if let Some(Value::String(value)) = only {
                return Some(value.clone());
            }
        }
        if depth >= 8 {
            return None;
        }
        schema
            .get("allOf")?
            .as_array()?
            .iter()
            .find_map(|part| own_value(document, part, property, depth + 1))
    }
    resolve_pointer(document, target)
        .and_then(|schema| own_value(document, schema, property, 0))
        .unwrap_or_else(|| target.rsplit('/').next().unwrap_or(target).to_owned())
}

/// Follows a chain of `$ref`s from `schema` to the schema it finally names (at most 64 hops).
pub fn deref<'a>(document: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..64 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) if reference.starts_with('#') => {
                match resolve_pointer(document, reference) {
                    Some(target) => schema = target,
                    None => return schema,
                }
            }
            _ => return schema,
        }
    }
    schema
}

fn validator(
    document: &Value,
    schema: &Value,
    direction: Direction,
) -> Result<jsonschema::Validator, String> {
    let translated = translate(document, schema, "", direction)
        .map_err(|error| format!("{}: {}", error.pointer, error.reason))?;
    compile(&translated)
}

struct Translator<'a, 'd> {
    document: &'d Value,
    /// The document's schema model: every dialect-dependent reading comes from it.
    model: &'a mut SchemaModel<'d>,
    unenforced: &'a mut Vec<TranslateError>,
    direction: Direction,
    /// Reference targets already queued, so that each is translated once (and cycles end).
    defs: HashMap<String, ()>,
    queue: VecDeque<String>,
    /// The document's shared schemas, which references become bridges to.
    shared: Option<&'a mut SharedSchemas>,
    /// True inside a scope whose references must be copied: `unevaluatedProperties` and
    /// `unevaluatedItems` see the properties and items evaluated through a `$ref`, which a
    /// bridge hides; a `propertyNames` error holds its subschema's error, which a bridge
    /// would turn into a marker.
    inline: bool,
}

/// What the model read of one schema object that its translation depends on (held apart from the
/// model, which the translation of its subschemas reads on).
struct Reading {
    /// What `nullable` does: null added to a single `type` and to `enum`, null passing every
    /// keyword (an `anyOf` with null), or nothing (and a note, in 2020-12).
    nullable: Nullable,
    /// The lower bound, exclusive when 3.0's boolean `exclusiveMinimum` (or a numeric one) says so.
    lower: Option<Bound>,
    /// The upper bound, read as `lower` is.
    upper: Option<Bound>,
    /// The `required` names that apply in the translation's direction.
    required: Vec<Value>,
}

impl<'d> Translator<'_, 'd> {
    fn node(
        &mut self,
        schema: &'d Value,
        pointer: &str,
        referenced: bool,
    ) -> Result<Value, TranslateError> {
        let Value::Object(object) = schema else {
            return match schema {
                Value::Bool(_) => Ok(schema.clone()),
                _ => Err(TranslateError {
                    pointer: pointer.to_owned(),
                    reason: "a schema must be an object".into(),
                }),
            };
        };
        let outer = self.inline;
        if ["unevaluatedProperties", "unevaluatedItems", "propertyNames"]
            .iter()
            .any(|keyword| object.contains_key(*keyword))
        {
            self.inline = true;
        }
        let translated = self.object(schema, object, pointer, referenced);
        self.inline = outer;
        translated
    }

    /// What the model read of `schema` (known by the reference `pointer` when `referenced`).
    fn reading(
        &mut self,
        schema: &'d Value,
        pointer: &str,
        referenced: bool,
    ) -> Result<Reading, TranslateError> {
        let id = if referenced {
            self.model.part_at(&format!("#{pointer}"))
        } else {
            Some(self.model.id(schema))
        };
        let Some(id) = id.filter(|id| ![ANY, NEVER].contains(id)) else {
            return Err(TranslateError {
                pointer: pointer.to_owned(),
                reason: "the document has more schemas than understudy reads".into(),
            });
        };
        let read = self.model.get(id);
        Ok(Reading {
            nullable: read.nullable,
            lower: read.limits().lower(),
            upper: read.limits().upper(),
            required: read
                .required_in(self.direction)
                .map(|name| Value::String(name.to_string()))
                .collect(),
        })
    }

    fn object(
        &mut self,
        schema: &'d Value,
        object: &'d Map<String, Value>,
        pointer: &str,
        referenced: bool,
    ) -> Result<Value, TranslateError> {
        let sibling_reference = match object.get("$ref") {
            Some(reference) if self.model.reads_beside_ref(object) => {
                Some(self.reference(reference, pointer)?)
            }
            Some(reference) => return self.reference(reference, pointer),
            None => None,
        };
        let mut reading = self.reading(schema, pointer, referenced)?;
        let modern = self.model.reads_2020_keywords();
        let mut out = Map::new();
        for (key, value) in object {
            let here = format!("{pointer}/{}", escape(key));
            match key.as_str() {
                keyword if modern && SUBSCHEMA_KEYWORDS.contains(&keyword) => {
                    out.insert(key.clone(), self.node(value, &here, false)?);
                }
                keyword if modern && SUBSCHEMA_MAP_KEYWORDS.contains(&keyword) => {
                    let Value::Object(schemas) = value else {
                        return Err(not_an_object(&here));
                    };
                    let mut translated = Map::new();
                    for (name, schema) in schemas {
                        let at = format!("{here}/{}", escape(name));
                        translated.insert(name.clone(), self.node(schema, &at, false)?);
                    }
                    out.insert(key.clone(), Value::Object(translated));
                }
                keyword if modern && PLAIN_2020_KEYWORDS.contains(&keyword) => {
                    out.insert(key.clone(), value.clone());
                }
                "prefixItems" if modern => {
                    let Value::Array(schemas) = value else {
                        return Err(TranslateError {
                            pointer: here,
                            reason: "`prefixItems` must be an array of schemas".into(),
                        });
                    };
                    let mut translated = Vec::with_capacity(schemas.len());
                    for (index, schema) in schemas.iter().enumerate() {
                        translated.push(self.node(schema, &format!("{here}/{index}"), false)?);
                    }
                    out.insert(key.clone(), Value::Array(translated));
                }
                "properties" => {
                    let Value::Object(properties) = value else {
                        return Err(not_an_object(&here));
                    };
                    let mut translated = Map::new();
                    for (name, property) in properties {
                        let at = format!("{here}/{}", escape(name));
                        translated.insert(name.clone(), self.node(property, &at, false)?);
                    }
                    out.insert(key.clone(), Value::Object(translated));
                }
                "items" | "not" | "additionalProperties" => {
                    out.insert(key.clone(), self.node(value, &here, false)?);
                }
                "allOf" | "oneOf" | "anyOf" => {
                    let Value::Array(branches) = value else {
                        return Err(TranslateError {
                            pointer: here,
                            reason: format!("`{key}` must be an array of schemas"),
                        });
                    };
                    let mut translated = Vec::with_capacity(branches.len());
                    for (index, branch) in branches.iter().enumerate() {
                        translated.push(self.node(branch, &format!("{here}/{index}"), false)?);
                    }
                    out.insert(key.clone(), Value::Array(translated));
                }
                "required" => {
                    let kept = std::mem::take(&mut reading.required);
                    if !kept.is_empty() {
                        out.insert(key.clone(), Value::Array(kept));
                    }
                }
                "format" => {
                    out.insert(key.clone(), value.clone());
                    // JSON Schema's formats look at strings only; OpenAPI's integer formats
                    // bound numbers, exactly, with a keyword of their own (`integer_format.rs`).
                    if let Some(format) = value.as_str().and_then(IntegerFormat::named) {
                        out.insert(
                            integer_format::KEYWORD.into(),
                            Value::String(format.name.into()),
                        );
                    }
                }
                "pattern" => match value.as_str() {
                    Some(source) if !crate::generate::pattern_is_understood(source) => {
                        self.unenforced.push(TranslateError {
                            pointer: here,
                            reason: format!(
                                "the pattern `{source}` is not a regular expression understudy can read (ECMA-262, as JSON Schema says); it is not enforced"
                            ),
                        });
                    }
                    Some(_) => {
                        out.insert(key.clone(), value.clone());
                    }
                    None => self.unenforced.push(TranslateError {
                        pointer: here,
                        reason: format!(
                            "`pattern` must be a string holding a regular expression, not `{value}`; it is not enforced"
                        ),
                    }),
                },
                "type" => match value {
                    Value::String(kind) if reading.nullable == Nullable::InType => {
                        out.insert(key.clone(), json!([kind, "null"]));
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                },
                "enum" => {
                    let mut options = value.clone();
                    if let Value::Array(options) = &mut options
                        && reading.nullable == Nullable::InType
                        && !options.contains(&Value::Null)
                    {
                        options.push(Value::Null);
                    }
                    out.insert(key.clone(), options);
                }
                "const" | "minLength" | "maxLength"
                | "minItems" | "maxItems" | "uniqueItems" | "minProperties"
                | "maxProperties" | "multipleOf" | "default" => {
                    out.insert(key.clone(), value.clone());
                }
                "minimum" | "maximum" => {
                    let (bound, exclusive) = if key == "minimum" {
                        (reading.lower, "exclusiveMinimum")
                    } else {
                        (reading.upper, "exclusiveMaximum")
                    };
                    // The model reads 3.0's boolean `exclusiveMinimum` as this bound made
                    // exclusive; a numeric one beside it is copied as it is, below.
                    let flagged = bound.is_some_and(|bound| {
                        bound.exclusive && value.as_f64() == Some(bound.value)
                    }) && !object.get(exclusive).is_some_and(Value::is_number);
                    let keyword = if flagged { exclusive } else { key.as_str() };
                    out.insert(keyword.into(), value.clone());
                }
                "exclusiveMinimum" | "exclusiveMaximum"
                    // Draft 6+ numeric form, which some 3.0 documents use anyway.
                    if value.is_number() => {
                        out.insert(key.clone(), value.clone());
                    }
                _ => {}
            }
        }
        if let Some(discriminator) = object.get("discriminator") {
            self.discriminate(object, discriminator, pointer, &mut out)?;
        }
        if let Some(reference) = sibling_reference
            && let Value::Array(all) = out
                .entry("allOf")
                .or_insert_with(|| Value::Array(Vec::new()))
        {
            all.push(reference);
        }
        if reading.nullable == Nullable::Anyway {
            return Ok(json!({"anyOf": [Value::Object(out), {"type": "null"}]}));
        }
        if reading.nullable == Nullable::Ignored {
            self.unenforced.push(TranslateError {
                pointer: format!("{pointer}/nullable"),
                reason:
                    "`nullable` is no keyword from OpenAPI 3.1 on, so null is not admitted here; \
                         JSON Schema 2020-12 writes `type: [..., \"null\"]`"
                        .into(),
            });
        }
        Ok(Value::Object(out))
    }

    fn reference(&mut self, reference: &Value, pointer: &str) -> Result<Value, TranslateError> {
        let Some(reference) = reference.as_str() else {
            return Err(TranslateError {
                pointer: format!("{pointer}/$ref"),
                reason: "`$ref` must be a string".into(),
            });
        };
        let Some(target) = reference.strip_prefix('#') else {
            return Err(TranslateError {
                pointer: format!("{pointer}/$ref"),
                reason: format!("`{reference}` is not a local reference (bundling missed it)"),
            });
        };
        if resolve_pointer(self.document, target).is_none() {
            return Err(TranslateError {
                pointer: format!("{pointer}/$ref"),
                reason: format!("`{reference}` points at nothing in the document"),
            });
        }
        if !self.inline
            && let Some(shared) = self.shared.as_deref_mut()
            && let Some(number) = shared.number(target)
        {
            return Ok(json!({ BRIDGE: number }));
        }
        if self.defs.insert(target.to_owned(), ()).is_none() {
            self.queue.push_back(target.to_owned());
        }
        let key = escape(&def_key(target));
        Ok(json!({"$ref": format!("#/$defs/{}", fragment_encoded(&key))}))
    }

    /// Replaces a discriminated `oneOf`/`anyOf` with a dispatch on the discriminator's value, which is
    /// what the discriminator means: the branch is chosen by the property, not by trying them all.
    fn discriminate(
        &mut self,
        object: &Map<String, Value>,
        discriminator: &Value,
        pointer: &str,
        out: &mut Map<String, Value>,
    ) -> Result<(), TranslateError> {
        let Some(property) = discriminator.get("propertyName").and_then(Value::as_str) else {
            return Err(TranslateError {
                pointer: format!("{pointer}/discriminator"),
                reason: "a discriminator needs a `propertyName`".into(),
            });
        };
        let keyword = if object.contains_key("oneOf") {
            "oneOf"
        } else if object.contains_key("anyOf") {
            "anyOf"
        } else {
            return Ok(());
        };
        let Some(branches) = object.get(keyword).and_then(Value::as_array) else {
            return Ok(());
        };
        let mut values = mapping_targets(discriminator);
        for branch in branches {
            let Some(target) = branch.get("$ref").and_then(Value::as_str) else {
                // A discriminator over inline branches cannot dispatch; keep the plain keyword.
                return Ok(());
            };
            if !values.iter().any(|(_, mapped)| mapped == target) {
                let value = implicit_discriminator_value(self.document, target, property);
                values.push((value, target.to_owned()));
            }
        }
        let mut dispatch = Vec::with_capacity(values.len());
        for (value, target) in &values {
            let then = self.reference(&Value::String(target.clone()), pointer)?;
            dispatch.push(json!({
                "if": {"properties": {property: {"const": value}}, "required": [property]},
                "then": then,
            }));
        }
        out.remove(keyword);
        let names: Vec<Value> = values
            .iter()
            .map(|(value, _)| Value::String(value.clone()))
            .collect();
        let mut guard = Map::new();
        guard.insert("required".into(), json!([property]));
        guard.insert("properties".into(), json!({ property: {"enum": names} }));
        // OpenAPI 3.2's `defaultMapping`: a value no mapping names, or none at all, goes to that
        // schema instead of being refused.
        match discriminator.get("defaultMapping").and_then(Value::as_str) {
            Some(target) => {
                let target = if target.starts_with('#') {
                    target.to_owned()
                } else {
                    format!("#/components/schemas/{target}")
                };
                let otherwise =
                    self.reference(&Value::String(target), pointer)
                        .map_err(|error| TranslateError {
                            pointer: format!("{pointer}/discriminator/defaultMapping"),
                            reason: error.reason,
                        })?;
                dispatch.push(json!({"if": Value::Object(guard), "else": otherwise}));
            }
            None => dispatch.push(Value::Object(guard)),
        }
        let all = out
            .entry("allOf")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(all) = all {
            all.extend(dispatch);
        }
        Ok(())
    }
}

fn not_an_object(pointer: &str) -> TranslateError {
    TranslateError {
        pointer: pointer.to_owned(),
        reason: "must be an object".into(),
    }
}

/// The `$defs` key for a referenced pointer: the pointer itself, percent-decoded (a reference may
/// write `{id}` as `%7Bid%7D`, as DigitalOcean's do into `#/paths`), without its leading slash.
fn def_key(target: &str) -> String {
    percent_decode(target).trim_start_matches('/').to_owned()
}

/// `text` with every byte that a URI fragment cannot hold as it is percent-encoded, so that a
/// `$defs` key with braces, spaces or `%` in it is named by a `$ref` the validator reads back to it.
pub(crate) fn fragment_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The key one JSON pointer segment names: the inverse of [`escape`].
pub fn unescape(segment: &str) -> String {
    if segment.contains('~') {
        segment.replace("~1", "/").replace("~0", "~")
    } else {
        segment.to_owned()
    }
}

/// Escapes a key for use as one JSON pointer segment.
pub fn escape(segment: &str) -> String {
    if segment.contains(['~', '/']) {
        segment.replace('~', "~0").replace('/', "~1")
    } else {
        segment.to_owned()
    }
}

/// The pointer of the value that holds the one at `pointer` (`""` for the root's children).
pub(crate) fn parent_pointer(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or("", |(parent, _)| parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        json!({
            "components": {"schemas": {
                "User": {
                    "type": "object",
                    "required": ["id", "email", "password"],
                    "properties": {
                        "id": {"type": "integer", "readOnly": true},
                        "email": {"type": "string", "format": "email"},
                        "password": {"type": "string", "writeOnly": true},
                        "manager": {"$ref": "#/components/schemas/User"},
                        "nickname": {"type": "string", "nullable": true, "enum": ["a", "b"]}
                    }
                },
                "Cat": {"type": "object", "required": ["kind", "meows"], "properties": {"kind": {"type": "string"}, "meows": {"type": "boolean"}}},
                "Dog": {"type": "object", "required": ["kind", "barks"], "properties": {"kind": {"type": "string"}, "barks": {"type": "boolean"}}},
                "Pet": {
                    "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
                    "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/components/schemas/Cat"}}
                }
            }}
        })
    }

    #[test]
    fn read_only_is_not_required_in_requests_and_write_only_not_in_responses() {
        let document = document();
        let user = json!({"$ref": "#/components/schemas/User"});
        let request = request_validator(&document, &user).unwrap();
        assert!(request.is_valid(&json!({"email": "a@b.io", "password": "x"})));
        assert!(!request.is_valid(&json!({"email": "a@b.io"})));
        let response = response_validator(&document, &user).unwrap();
        assert!(response.is_valid(&json!({"id": 1, "email": "a@b.io"})));
        assert!(!response.is_valid(&json!({"email": "a@b.io"})));
    }

    #[test]
    fn recursive_references_compile_and_validate_deeply() {
        let document = document();
        let user = json!({"$ref": "#/components/schemas/User"});
        let response = response_validator(&document, &user).unwrap();
        let nested = json!({"id": 1, "email": "a@b.io", "manager": {"id": 2, "email": "nope"}});
        assert!(!response.is_valid(&nested));
    }

    #[test]
    fn nullable_admits_null_even_with_an_enum() {
        let document = document();
        let user = json!({"$ref": "#/components/schemas/User"});
        let response = response_validator(&document, &user).unwrap();
        assert!(response.is_valid(&json!({"id": 1, "email": "a@b.io", "nickname": null})));
        assert!(!response.is_valid(&json!({"id": 1, "email": "a@b.io", "nickname": "c"})));
    }

    #[test]
    fn boolean_exclusive_bounds_become_numeric_ones() {
        let schema =
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 10});
        let validator = request_validator(&json!({}), &schema).unwrap();
        assert!(!validator.is_valid(&json!(0)));
        assert!(validator.is_valid(&json!(0.5)));
        assert!(validator.is_valid(&json!(10)));
    }

    #[test]
    fn discriminator_dispatches_on_the_mapped_and_implicit_names() {
        let document = document();
        let pet = json!({"$ref": "#/components/schemas/Pet"});
        let validator = response_validator(&document, &pet).unwrap();
        assert!(validator.is_valid(&json!({"kind": "cat", "meows": true})));
        assert!(validator.is_valid(&json!({"kind": "Dog", "barks": true})));
        assert!(!validator.is_valid(&json!({"kind": "cat", "barks": true})));
        assert!(!validator.is_valid(&json!({"kind": "cow"})));
    }

    #[test]
    fn references_with_percent_encoded_braces_compile_and_validate() {
        // DigitalOcean's description refers into `#/paths` with `{project_id}` written `%7B…%7D`.
        let document = json!({"paths": {"/v2/projects/{project_id}/resources": {"get": {
            "responses": {"200": {"content": {"application/json": {"schema": {
                "type": "object", "required": ["links"], "properties": {"links": {"type": "string"}}
            }}}}}
        }}}});
        let schema = json!({"$ref": "#/paths/~1v2~1projects~1%7Bproject_id%7D~1resources/get/responses/200/content/application~1json/schema"});
        let validator = response_validator(&document, &schema).unwrap();
        assert!(validator.is_valid(&json!({"links": "x"})));
        assert!(!validator.is_valid(&json!({"links": 1})));
        let weird = json!({"components": {"schemas": {"a b%": {"type": "integer"}}}});
        let validator =
            response_validator(&weird, &json!({"$ref": "#/components/schemas/a%20b%25"})).unwrap();
        assert!(validator.is_valid(&json!(3)));
        assert!(!validator.is_valid(&json!("3")));
        // OBS refers to a media type with parameters, its space encoded and its `=` as it is.
        let charset =
            json!({"content": {"application/xml; charset=utf-8": {"schema": {"type": "string"}}}});
        let reference = "#/content/application~1xml;%20charset=utf-8/schema";
        assert_eq!(
            resolve_pointer(&charset, reference),
            Some(&json!({"type": "string"}))
        );
    }

    #[test]
    fn integer_formats_bound_numbers_beside_the_schemas_own_bounds() {
        let int32 = json!({"type": "integer", "format": "int32", "allOf": [{"minimum": -5}]});
        let validator = request_validator(&json!({}), &int32).unwrap();
        assert!(validator.is_valid(&json!(2_147_483_647)));
        assert!(!validator.is_valid(&json!(2_147_483_648_i64)));
        assert!(!validator.is_valid(&json!(-6)));
        let int64 = json!({"format": "int64", "type": "integer"});
        let validator = request_validator(&json!({}), &int64).unwrap();
        assert!(validator.is_valid(&json!(i64::MIN)));
        assert!(!validator.is_valid(&json!(9_223_372_036_854_775_808_u64)));
        assert!(!validator.is_valid(&json!(-9.3e18)));
    }

    #[test]
    fn formats_are_checked() {
        let schema = json!({"type": "object", "properties": {
            "email": {"type": "string", "format": "email"},
            "id": {"type": "string", "format": "uuid"},
            "at": {"type": "string", "format": "date-time"},
            "url": {"type": "string", "format": "uri"}
        }});
        let validator = request_validator(&json!({}), &schema).unwrap();
        assert!(!validator.is_valid(&json!({"email": "not-an-email"})));
        assert!(!validator.is_valid(&json!({"id": "123"})));
        assert!(!validator.is_valid(&json!({"at": "yesterday"})));
        assert!(!validator.is_valid(&json!({"url": "/relative"})));
        assert!(validator.is_valid(&json!({
            "email": "a@b.io",
            "id": "a1b2c3d4-5e6f-7890-abcd-ef1234567890",
            "at": "2024-01-01T00:00:00Z",
            "url": "https://x.io/a"
        })));
    }

    #[test]
    fn a_dangling_reference_is_reported_with_its_pointer() {
        let schema = json!({"properties": {"a": {"$ref": "#/components/schemas/Missing"}}});
        let error = translate(&json!({}), &schema, "/paths/~1x", Direction::Request).unwrap_err();
        assert_eq!(error.pointer, "/paths/~1x/properties/a/$ref");
        assert!(error.reason.contains("points at nothing"));
    }

    #[test]
    fn the_dialects_words_are_translated_as_the_model_reads_them() {
        let old =
            json!({"openapi": "3.0.3", "components": {"schemas": {"Text": {"type": "string"}}}});
        let new =
            json!({"openapi": "3.1.0", "components": {"schemas": {"Text": {"type": "string"}}}});
        let translated = |document: &Value, schema: Value| {
            let mut notes = Vec::new();
            let mut out =
                translate_noting(document, &schema, "/s", Direction::Request, &mut notes).unwrap();
            if let Value::Object(map) = &mut out {
                map.remove("$schema");
                map.remove("$defs");
            }
            (out, notes.len())
        };
        let nullable = json!({"type": "string", "nullable": true, "enum": ["a"]});
        assert_eq!(
            translated(&old, nullable.clone()),
            (json!({"type": ["string", "null"], "enum": ["a", null]}), 0)
        );
        assert_eq!(
            translated(&new, nullable),
            (json!({"type": "string", "enum": ["a"]}), 1),
            "no keyword from 3.1 on, and noted"
        );
        assert_eq!(
            translated(&old, json!({"type": "file", "nullable": true})).0,
            json!({"type": ["file", "null"]}),
            "null is added to a type of any name (which then does not compile, as before)"
        );
        assert_eq!(
            translated(&old, json!({"nullable": true, "minLength": 1})),
            (json!({"anyOf": [{"minLength": 1}, {"type": "null"}]}), 0)
        );
        let bounds = json!({"minimum": 1, "exclusiveMinimum": true, "maximum": 9,
            "exclusiveMaximum": 8});
        assert_eq!(
            translated(&old, bounds).0,
            json!({"exclusiveMinimum": 1, "maximum": 9, "exclusiveMaximum": 8})
        );
        let beside = json!({"$ref": "#/components/schemas/Text", "maxLength": 2});
        assert_eq!(
            translated(&old, beside.clone()).0,
            json!({"$ref": "#/$defs/components~1schemas~1Text"})
        );
        assert_eq!(
            translated(&new, beside).0,
            json!({"maxLength": 2, "allOf": [{"$ref": "#/$defs/components~1schemas~1Text"}]})
        );
        let required = json!({"required": ["id", "name"],
            "properties": {"id": {"readOnly": true}, "name": {}}});
        assert_eq!(translated(&old, required).0["required"], json!(["name"]));
        let later = json!({"type": "array", "contains": {"const": 5}});
        assert_eq!(translated(&old, later.clone()).0, json!({"type": "array"}));
        assert_eq!(translated(&new, later.clone()).0, later);
    }

    #[test]
    fn pointer_segments_escape_and_unescape_back() {
        for key in ["plain", "a/b", "~tilde", "~1 literal", "/~/"] {
            assert_eq!(unescape(&escape(key)), key);
        }
        assert_eq!(escape("a/b~c"), "a~1b~0c");
        assert_eq!(unescape("~01"), "~1", "~0 is unescaped last");
    }
}
