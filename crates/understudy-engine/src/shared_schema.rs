//! Validators that share what they reach: within one document and direction, each referenced
//! schema is compiled once into its own `jsonschema` validator, and every other validator reaches
//! it through a bridge keyword (`x-understudy-shared`) instead of holding a compiled copy of it. jsonschema
//! shares compiled nodes only within one compilation, so without the bridges each operation's
//! validator carried every schema it reached, and memory grew with operations × schemas.
//!
//! A bridge answers `is_valid` by asking the shared validator; when it fails it reports one marker
//! error, which [`SchemaValidator::bridged`] opens: the shared validator's own errors, under the
//! bridge's instance path. The bridges hold the shared table weakly (the table holds validators
//! that hold bridges), and every [`SchemaValidator`] holds it strongly.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock, Weak};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Value};

/// The keyword a translated schema uses for a reference to a shared schema; its value is the
/// shared schema's number in the table.
pub(crate) const BRIDGE: &str = "x-understudy-shared";

/// A compiled schema, as the server checks values with it: a `jsonschema` validator and, when it
/// reaches shared schemas, the table that holds them.
#[derive(Debug)]
pub struct SchemaValidator {
    root: jsonschema::Validator,
    shared: Option<Arc<SharedTable>>,
}

impl SchemaValidator {
    /// A validator that reaches no shared schema (its references were copied into it).
    pub fn standalone(root: jsonschema::Validator) -> SchemaValidator {
        SchemaValidator { root, shared: None }
    }

    /// Whether `value` is valid.
    pub fn is_valid(&self, value: &Value) -> bool {
        self.root.is_valid(value)
    }

    /// The validator's own errors for `value` (a bridge's marker among them; see
    /// [`Self::bridged`]).
    pub fn iter_errors<'i>(&'i self, value: &'i Value) -> jsonschema::ErrorIterator<'i> {
        self.root.iter_errors(value)
    }

    /// Where `value` breaks the schema: the instance path (a JSON pointer) of each error, the
    /// shared schemas' own errors opened under their bridges, at most `limit` of them.
    pub(crate) fn error_pointers(&self, value: &Value, limit: usize) -> Vec<String> {
        let mut pointers = Vec::new();
        for error in self.root.iter_errors(value) {
            self.open(&error, "", limit, &mut pointers);
            if pointers.len() >= limit {
                break;
            }
        }
        pointers
    }

    fn open(&self, error: &ValidationError<'_>, base: &str, limit: usize, out: &mut Vec<String>) {
        if let Some((shared, value, at)) = self.bridged(error) {
            let base = format!("{base}{at}");
            for error in shared.iter_errors(value) {
                if out.len() >= limit {
                    return;
                }
                self.open(&error, &base, limit, out);
            }
            return;
        }
        if out.len() < limit {
            out.push(format!("{base}{}", error.instance_path().as_str()));
        }
    }

    /// For a marker error a bridge reported: the shared validator behind it, the value it
    /// failed and the instance path (a JSON pointer) where that value sits. `None` for any other
    /// error.
    pub fn bridged<'e>(
        &'e self,
        error: &'e ValidationError<'_>,
    ) -> Option<(&'e jsonschema::Validator, &'e Value, &'e str)> {
        let ValidationErrorKind::Custom { keyword, message } = error.kind() else {
            return None;
        };
        if keyword != BRIDGE {
            return None;
        }
        let index: usize = message.parse().ok()?;
        let target = self.shared.as_ref()?.slots.get(index)?.get()?;
        Some((
            target,
            error.instance().as_ref(),
            error.instance_path().as_str(),
        ))
    }
}

/// The shared validators of one document and direction, by number; each slot is filled once,
/// at load, after the validators that refer to it may already have been compiled.
#[derive(Debug)]
struct SharedTable {
    slots: Box<[OnceLock<jsonschema::Validator>]>,
}

/// The bridge compiled into a validator: the shared schema it stands for.
struct Bridge {
    table: Weak<SharedTable>,
    index: usize,
}

thread_local! {
    /// The bridges being crossed on this thread, each with the value it checks: a schema that
    /// applies itself to the same value (`A: {allOf: [{$ref: A}]}`) meets itself here and is
    /// taken as valid there, as jsonschema takes a `$ref` cycle inside one validator.
    static CROSSING: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
}

/// One crossing of a bridge, left when dropped.
struct Crossing;

impl Drop for Crossing {
    fn drop(&mut self) {
        CROSSING.with_borrow_mut(Vec::pop);
    }
}

impl Bridge {
    fn check(&self, value: &Value) -> bool {
        let key = (self.index, std::ptr::from_ref(value) as usize);
        let entered = CROSSING.with_borrow_mut(|crossing| {
            if crossing.contains(&key) {
                false
            } else {
                crossing.push(key);
                true
            }
        });
        if !entered {
            return true;
        }
        let _crossing = Crossing;
        // Every slot a bridge names is filled before loading ends and the table outlives the
        // validators that use it; an empty one (its schema did not compile, so the document was
        // refused) accepts anything.
        self.table.upgrade().is_none_or(|table| {
            table
                .slots
                .get(self.index)
                .and_then(OnceLock::get)
                .is_none_or(|validator| validator.is_valid(value))
        })
    }
}

impl<'i> Keyword<'i> for Bridge {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.check(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(self.index.to_string()))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.check(instance)
    }
}

/// Compiles the validators of one document and direction, sharing every referenced schema.
#[derive(Debug)]
pub(crate) struct SharedSchemas {
    table: Arc<SharedTable>,
    /// Each reference target (a JSON pointer) given a slot, with its number.
    numbers: HashMap<String, usize>,
    /// Targets numbered and not yet compiled.
    pending: Vec<(String, usize)>,
}

impl SharedSchemas {
    /// A table with room for every distinct `$ref` in `document`.
    pub(crate) fn new(document: &Value) -> SharedSchemas {
        let mut references = HashSet::new();
        count_references(document, &mut references);
        let slots = (0..references.len()).map(|_| OnceLock::new()).collect();
        SharedSchemas {
            table: Arc::new(SharedTable { slots }),
            numbers: HashMap::new(),
            pending: Vec::new(),
        }
    }

    /// The number of the shared schema at `target`, when there is room for it (else the
    /// reference is copied into the validator that makes it, as before sharing).
    pub(crate) fn number(&mut self, target: &str) -> Option<usize> {
        if let Some(&number) = self.numbers.get(target) {
            return Some(number);
        }
        let number = self.numbers.len();
        if number >= self.table.slots.len() {
            return None;
        }
        self.numbers.insert(target.to_owned(), number);
        self.pending.push((target.to_owned(), number));
        Some(number)
    }

    /// The next target numbered but not compiled yet.
    pub(crate) fn next_pending(&mut self) -> Option<(String, usize)> {
        self.pending.pop()
    }

    /// How many shared schemas are compiled.
    #[cfg(test)]
    pub(crate) fn compiled(&self) -> usize {
        self.table
            .slots
            .iter()
            .filter(|slot| slot.get().is_some())
            .count()
    }

    /// Compiles a translated schema whose bridges name this table's slots.
    pub(crate) fn compile(&self, translated: &Value) -> Result<SchemaValidator, String> {
        let table = Arc::downgrade(&self.table);
        let root = crate::json_schema::compile_with(translated, |options| {
            options.with_keyword(BRIDGE, move |_: &Map<String, Value>, value: &Value, _| {
                let index = value
                    .as_u64()
                    .and_then(|index| usize::try_from(index).ok())
                    .ok_or_else(|| ValidationError::custom("a shared schema's number"))?;
                Ok(Box::new(Bridge {
                    table: table.clone(),
                    index,
                }) as Box<dyn for<'v> Keyword<'v>>)
            })
        })?;
        Ok(SchemaValidator {
            root,
            shared: Some(Arc::clone(&self.table)),
        })
    }

    /// Fills slot `number` with the compiled shared schema.
    pub(crate) fn fill(&self, number: usize, validator: SchemaValidator) {
        if let Some(slot) = self.table.slots.get(number) {
            // A slot is filled once; the number was handed out once.
            let _ = slot.set(validator.root);
        }
    }
}

/// Collects every distinct `$ref` string in `value`.
fn count_references<'v>(value: &'v Value, out: &mut HashSet<&'v str>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => {
                        out.insert(target);
                    }
                    _ => count_references(inner, out),
                }
            }
        }
        Value::Array(items) => {
            for inner in items {
                count_references(inner, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::json_schema::{Direction, Root, resolve_pointer, translate_shared};
    use crate::schema_model::SchemaModel;
    use crate::validate::schema_violations;
    use crate::violation::Location;

    /// The request validator of the component schema `name`, with every schema it reaches
    /// shared, as `compile.rs` makes it (there is a slot for each `$ref` written in `document`).
    fn shared_validator(document: &Value, name: &str) -> SchemaValidator {
        let pointer = format!("/components/schemas/{name}");
        let schema = resolve_pointer(document, &pointer).expect("a component");
        let mut shared = SharedSchemas::new(document);
        let mut model = SchemaModel::new(document);
        let mut translate = |schema, pointer: &str, shared: &mut SharedSchemas| {
            let root = Root {
                schema,
                pointer,
                referenced: true,
            };
            let translated = translate_shared(
                &mut model,
                root,
                Direction::Request,
                &mut Vec::new(),
                shared,
            )
            .expect("translates");
            shared.compile(&translated).expect("compiles")
        };
        let root = translate(schema, &pointer, &mut shared);
        while let Some((target, number)) = shared.next_pending() {
            let found = resolve_pointer(document, &target).expect("resolves");
            let compiled = translate(found, &target, &mut shared);
            shared.fill(number, compiled);
        }
        root
    }

    #[test]
    fn a_schema_that_applies_itself_to_the_same_value_ends() {
        let document = json!({"components": {"schemas": {
            "A": {"allOf": [{"$ref": "#/components/schemas/B"}], "type": "object"},
            "B": {"anyOf": [{"$ref": "#/components/schemas/A"}], "required": ["x"]},
        }}});
        let validator = shared_validator(&document, "A");
        assert!(validator.is_valid(&json!({"x": 1})));
        assert!(!validator.is_valid(&json!({})));
        assert!(!validator.is_valid(&json!(3)));
    }

    #[test]
    fn the_meant_branch_counts_the_errors_behind_a_reference() {
        // Stripe's expandable fields: an object or its id. `{}` misses two properties of the
        // object and is one type away from the id, so the id is what was meant.
        let document = json!({"components": {"schemas": {
            "Customer": {"type": "object", "required": ["id", "name"]},
            "Expandable": {"anyOf": [
                {"$ref": "#/components/schemas/Customer"},
                {"type": "string", "maxLength": 5000},
            ]},
        }}});
        let validator = shared_validator(&document, "Expandable");
        let violations = schema_violations(&validator, &json!({}), Location::Body, "");
        let keywords: Vec<&str> = violations.iter().map(|v| v.keyword.as_str()).collect();
        assert_eq!(keywords, ["type"]);
        let violations = schema_violations(&validator, &json!({"id": "x"}), Location::Body, "");
        let keywords: Vec<&str> = violations.iter().map(|v| v.keyword.as_str()).collect();
        assert_eq!(keywords, ["required"]);
        assert_eq!(violations[0].pointer, "/name");
    }

    #[test]
    fn unevaluated_properties_still_see_through_a_reference() {
        let document = json!({"openapi": "3.1.0", "components": {"schemas": {
            "Base": {"type": "object", "properties": {"a": {"type": "integer"}}},
            "Strict": {
                "allOf": [{"$ref": "#/components/schemas/Base"}],
                "unevaluatedProperties": false,
            },
        }}});
        let validator = shared_validator(&document, "Strict");
        assert!(validator.is_valid(&json!({"a": 1})));
        assert!(!validator.is_valid(&json!({"a": 1, "b": 2})));
    }
}
