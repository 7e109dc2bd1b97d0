//! A small validator over compiled parts that answers as the server's validator does: used to
//! keep `oneOf` branches exclusive, to filter `enum` candidates, and to decide whether a request
//! value may be echoed. It cannot loop: a part met again on the same value is assumed to hold, and
//! every call has a fixed amount of work after which it gives the benefit of the doubt.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::json_schema::Direction;
use crate::schema_model::{Schema, SchemaId, Types, flatten};

/// Work units one check may spend (one unit per part visited).
const FUEL: u32 = 100_000;
/// Nesting of parts on one value beyond which a check gives the benefit of the doubt.
const MAX_STACK: usize = 256;
/// Parts visited before answers are remembered: small checks (almost all) skip the hashing.
const MEMO_AFTER: u32 = 256;

/// Whether every part in `ids` accepts `value`.
pub(crate) fn accepts_all(parts: &[Schema], ids: &[SchemaId], value: &Value) -> bool {
    accepts_all_noting(parts, ids, value, &mut false)
}

/// [`accepts_all`], setting `assumed` when the answer rests on the benefit of the doubt (the work
/// budget ran out, the nesting was too deep, a part met itself again on the same value) rather
/// than on every keyword checked.
pub(crate) fn accepts_all_noting(
    parts: &[Schema],
    ids: &[SchemaId],
    value: &Value,
    assumed: &mut bool,
) -> bool {
    let mut check = Check {
        parts,
        fuel: FUEL,
        stack: Vec::new(),
        memo: HashMap::new(),
        assumed: false,
    };
    let accepted = ids.iter().all(|id| check.part(*id, value));
    *assumed |= check.assumed;
    accepted
}

/// Whether every part in `ids` decides a scalar by its type alone
/// ([`Schema::types_decide_scalars`]): then [`scalar_types`] answers as [`accepts_all`] does,
/// without a checker.
pub(crate) fn types_decide_scalars(parts: &[Schema], ids: &[SchemaId]) -> bool {
    ids.iter().all(|id| {
        parts
            .get(*id as usize)
            .is_some_and(Schema::types_decide_scalars)
    })
}

/// The types every part in `ids` admits a scalar of, as one mask, when [`types_decide_scalars`]
/// holds: `types.admits(value)` is then [`accepts_all`] for any scalar `value`. A part admits
/// its types, and null too when it is `null_anyway`; a number type always carries the integer
/// one, so the intersection admits an integer exactly when every part does.
pub(crate) fn scalar_types(parts: &[Schema], ids: &[SchemaId]) -> Option<Types> {
    if !types_decide_scalars(parts, ids) {
        return None;
    }
    Some(ids.iter().fold(Types::ALL, |all, id| {
        let Some(part) = parts.get(*id as usize) else {
            return Types(0);
        };
        let mut admitted = part.types.unwrap_or(Types::ALL);
        if part.null_anyway() {
            admitted = Types(admitted.0 | Types::NULL);
        }
        if admitted.has(Types::NUMBER) {
            admitted = Types(admitted.0 | Types::INTEGER);
        }
        all.and(admitted)
    }))
}

/// JSON equality as JSON Schema defines it (`1` equals `1.0`).
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => {
            if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
                return a == b;
            }
            if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
                return a == b;
            }
            a.as_f64() == b.as_f64()
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| equal(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, value)| b.get(key).is_some_and(|other| equal(value, other)))
        }
        _ => a == b,
    }
}

/// Whether `value` is a multiple of `multiple`, decided on the shortest decimal forms of both as
/// the server's validator does (so `0.3` is a multiple of `0.1`).
pub(crate) fn is_multiple(value: f64, multiple: f64) -> bool {
    if multiple <= 0.0 || !multiple.is_finite() || !value.is_finite() {
        return true;
    }
    if value == 0.0 {
        return true;
    }
    if multiple.fract() == 0.0 {
        return value.fract() == 0.0 && value % multiple == 0.0;
    }
    if value.abs() < multiple {
        return false;
    }
    match (decimal_parts(value), decimal_parts(multiple)) {
        (Some((value_mantissa, value_decimals)), Some((multiple_mantissa, multiple_decimals))) => {
            let shared = value_decimals.min(multiple_decimals);
            let scale = |mantissa: i128, decimals: i32| {
                let places = u32::try_from(decimals - shared).ok()?;
                mantissa.checked_mul(10_i128.checked_pow(places)?)
            };
            match (
                scale(value_mantissa, multiple_decimals),
                scale(multiple_mantissa, value_decimals),
            ) {
                (Some(a), Some(b)) if b != 0 => a % b == 0,
                _ => {
                    let quotient = value / multiple;
                    (quotient - quotient.round()).abs() < 1e-9
                }
            }
        }
        _ => {
            let quotient = value / multiple;
            (quotient - quotient.round()).abs() < 1e-9
        }
    }
}

/// The shortest decimal form of a finite float as a mantissa and a count of decimals.
pub(crate) fn decimal_parts(value: f64) -> Option<(i128, i32)> {
    if !value.is_finite() {
        return None;
    }
    let text = format!("{value:e}");
    let (mantissa_text, exponent) = text.split_once('e')?;
    let exponent: i32 = exponent.parse().ok()?;
    let negative = mantissa_text.starts_with('-');
    let digits = mantissa_text.trim_start_matches('-');
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut mantissa: i128 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(i128::from(byte.checked_sub(b'0')?))?;
    }
    let mut decimals = i32::try_from(fraction.len()).ok()? - exponent;
    if decimals < 0 {
        mantissa = mantissa.checked_mul(10_i128.checked_pow(u32::try_from(-decimals).ok()?)?)?;
        decimals = 0;
    }
    Some((if negative { -mantissa } else { mantissa }, decimals))
}

struct Check<'p> {
    parts: &'p [Schema],
    fuel: u32,
    stack: Vec<(SchemaId, usize)>,
    /// Answers already known for a part and a value (by address): a schema reached along many
    /// paths (shared `$ref`s under `oneOf` and `allOf`) is checked once per value.
    memo: HashMap<(SchemaId, usize), bool>,
    /// Whether some answer was assumed rather than checked.
    assumed: bool,
}

impl Check<'_> {
    fn part(&mut self, id: SchemaId, value: &Value) -> bool {
        if self.fuel == 0 {
            self.assumed = true;
            return true;
        }
        self.fuel -= 1;
        let key = (id, std::ptr::from_ref(value) as usize);
        let memoising = FUEL - self.fuel > MEMO_AFTER;
        if memoising && let Some(known) = self.memo.get(&key) {
            return *known;
        }
        // A scalar checked against a part with no subschemas for it cannot lead back here: it is
        // checked without the cycle stack (most checks are such, and then the stack never
        // allocates).
        if !matches!(value, Value::Array(_) | Value::Object(_))
            && self.parts.get(id as usize).is_some_and(Schema::is_flat)
        {
            return self.keywords(id, value);
        }
        if self.stack.len() >= MAX_STACK || self.stack.contains(&key) {
            self.assumed = true;
            return true;
        }
        self.stack.push(key);
        let accepted = self.keywords(id, value);
        self.stack.pop();
        if memoising {
            self.memo.insert(key, accepted);
        }
        accepted
    }

    fn keywords(&mut self, id: SchemaId, value: &Value) -> bool {
        let parts = self.parts;
        let Some(part) = parts.get(id as usize) else {
            self.assumed = true;
            return true;
        };
        if part.never {
            return false;
        }
        if part.null_anyway() && value.is_null() {
            return true;
        }
        if part.types.is_some_and(|types: Types| !types.admits(value)) {
            return false;
        }
        if let Some(options) = &part.enumeration
            && !options.iter().any(|option| equal(option, value))
        {
            return false;
        }
        if let Some(constant) = &part.constant
            && !equal(constant, value)
        {
            return false;
        }
        let local = match value {
            Value::String(text) => string(part, text),
            Value::Number(number) => number
                .as_f64()
                .is_none_or(|number| self::number(part, number)),
            Value::Array(items) => self.array(id, part, items),
            Value::Object(map) => self.object(id, part, map),
            _ => true,
        };
        if !local {
            return false;
        }
        if !part.all_of.iter().all(|branch| self.part(*branch, value)) {
            return false;
        }
        if !part.any_of.is_empty() && !part.any_of.iter().any(|branch| self.part(*branch, value)) {
            return false;
        }
        if !part.one_of.is_empty() {
            let mut matched = 0;
            for branch in &part.one_of {
                if self.part(*branch, value) {
                    matched += 1;
                    if matched > 1 {
                        return false;
                    }
                }
            }
            if matched != 1 {
                return false;
            }
        }
        if let Some(not) = part.not
            && self.part(not, value)
        {
            return false;
        }
        if let Some(dispatch) = &part.dispatch {
            match value {
                Value::Object(map) => {
                    let Some(Value::String(chosen)) = map.get(&*dispatch.property) else {
                        return false;
                    };
                    let mut known = false;
                    for (name, target) in &dispatch.entries {
                        if **name == **chosen {
                            known = true;
                            if !self.part(*target, value) {
                                return false;
                            }
                        }
                    }
                    if !known {
                        return false;
                    }
                }
                // Every conditional branch applies to a value that is not an object.
                _ => {
                    for (_, target) in &dispatch.entries {
                        if !self.part(*target, value) {
                            return false;
                        }
                    }
                }
            }
        }
        true
    }

    fn array(&mut self, id: SchemaId, part: &Schema, items: &[Value]) -> bool {
        let length = items.len() as u64;
        if part.limits().min_items().is_some_and(|min| length < min)
            || part.limits().max_items().is_some_and(|max| length > max)
        {
            return false;
        }
        if part.unique_items {
            for (index, item) in items.iter().enumerate() {
                if items[..index].iter().any(|earlier| equal(earlier, item)) {
                    return false;
                }
            }
        }
        // 2020-12: `prefixItems` hold the first items, `items` the rest.
        for (index, item) in items.iter().enumerate() {
            let schema = part.later().prefix_items.get(index).copied().or(part.items);
            if let Some(schema) = schema
                && !self.part(schema, item)
            {
                return false;
            }
        }
        if let Some(unevaluated) = part.later().unevaluated_items
            && !self.unevaluated_items(id, unevaluated, items)
        {
            return false;
        }
        if let Some((contains, least)) = part.later().contains {
            let mut matching: u64 = 0;
            for item in items {
                if self.part(contains, item) {
                    matching += 1;
                }
            }
            if matching < least
                || part
                    .later()
                    .max_contains
                    .is_some_and(|most| matching > most)
            {
                return false;
            }
        }
        true
    }

    fn object(&mut self, id: SchemaId, part: &Schema, map: &Map<String, Value>) -> bool {
        let missing = |name: &&Arc<str>| !map.contains_key(&***name);
        if part
            .required
            .iter()
            .filter(missing)
            .any(|name| part.needs(name, Direction::Response))
        {
            return false;
        }
        let dependents_missing = part.later().dependent_required.iter().any(|(name, names)| {
            map.contains_key(&**name) && names.iter().any(|other| !map.contains_key(&**other))
        });
        if dependents_missing {
            return false;
        }
        let length = map.len() as u64;
        if part
            .limits()
            .min_properties()
            .is_some_and(|min| length < min)
            || part
                .limits()
                .max_properties()
                .is_some_and(|max| length > max)
        {
            return false;
        }
        if let Some(unevaluated) = part.later().unevaluated
            && !self.unevaluated(id, unevaluated, map)
        {
            return false;
        }
        for (key, value) in map {
            if let Some(names) = part.later().property_names
                && !self.part(names, &Value::String(key.clone()))
            {
                return false;
            }
            let mut matched = false;
            for (pattern, schema) in &part.later().pattern_properties {
                if pattern.matches(key) {
                    matched = true;
                    if !self.part(*schema, value) {
                        return false;
                    }
                }
            }
            let schema = match part
                .properties
                .iter()
                .find(|property| *property.name == **key)
            {
                Some(property) => Some(property.part),
                None if matched => None,
                None => part.additional,
            };
            if let Some(schema) = schema
                && !self.part(schema, value)
            {
                return false;
            }
        }
        true
    }
}

impl Check<'_> {
    /// 2020-12 `unevaluatedItems`: the items past every `prefixItems` of `part` and the parts
    /// its `allOf` applies, where none of them has `items`, must hold to `unevaluated` (items a
    /// `contains` or a passing branch would evaluate included: stricter, never looser).
    fn unevaluated_items(&mut self, id: SchemaId, unevaluated: SchemaId, items: &[Value]) -> bool {
        let closure = applied(self.parts, id);
        if closure.iter().any(|applied| applied.items.is_some()) {
            return true;
        }
        let leading = closure
            .iter()
            .map(|applied| applied.later().prefix_items.len())
            .max()
            .unwrap_or(0);
        items
            .iter()
            .skip(leading)
            .all(|item| self.part(unevaluated, item))
    }

    /// 2020-12 `unevaluatedProperties`: the names that neither `part` nor the parts its `allOf`
    /// (and `$ref` siblings) apply evaluate must hold to `unevaluated`. Names a passing `anyOf`
    /// or `oneOf` branch would evaluate are counted as unevaluated: stricter than the validator,
    /// never looser, so an echoed value is refused (and made instead) rather than sent wrong.
    fn unevaluated(
        &mut self,
        id: SchemaId,
        unevaluated: SchemaId,
        map: &Map<String, Value>,
    ) -> bool {
        let closure = applied(self.parts, id);
        if closure.iter().any(|applied| applied.additional.is_some()) {
            // `additionalProperties` evaluates every name its schema object has not.
            return true;
        }
        map.iter().all(|(key, value)| {
            let evaluated = closure.iter().any(|applied| {
                applied
                    .properties
                    .iter()
                    .any(|property| *property.name == **key)
                    || applied
                        .later()
                        .pattern_properties
                        .iter()
                        .any(|(pattern, _)| pattern.matches(key))
            });
            evaluated || self.part(unevaluated, value)
        })
    }
}

/// The part `id` and every part its `allOf` applies, transitively, each once (a tree cut short at
/// [`MAX_FLAT`](crate::schema_model::MAX_FLAT) leaves names and items out, which only makes the checks
/// above stricter).
fn applied(parts: &[Schema], id: SchemaId) -> Vec<&Schema> {
    flatten(parts, &[id])
        .0
        .iter()
        .filter_map(|id| parts.get(*id as usize))
        .collect()
}

fn string(part: &Schema, text: &str) -> bool {
    if part.limits().min_length().is_some() || part.limits().max_length().is_some() {
        let length = text.chars().count() as u64;
        if part.limits().min_length().is_some_and(|min| length < min)
            || part.limits().max_length().is_some_and(|max| length > max)
        {
            return false;
        }
    }
    if let Some(pattern) = &part.pattern
        && !pattern.matches(text)
    {
        return false;
    }
    if let Some(format) = &part.format_check
        && !format.accepts(text)
    {
        return false;
    }
    true
}

fn number(part: &Schema, value: f64) -> bool {
    if let Some(lower) = part.limits().lower()
        && (value < lower.value || (lower.exclusive && value == lower.value))
    {
        return false;
    }
    if let Some(upper) = part.limits().upper()
        && (value > upper.value || (upper.exclusive && value == upper.value))
    {
        return false;
    }
    part.limits()
        .multiple_of()
        .is_none_or(|multiple| is_multiple(value, multiple))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where types alone decide, the shortcut answers as the checker does; where other keywords
    /// look at the value, it is not taken.
    #[test]
    fn the_type_shortcut_answers_as_the_checker_for_every_scalar() {
        use crate::schema_model::SchemaModel;
        use serde_json::json;
        let schemas = [
            json!({"type": "string", "description": "a name", "example": "Ada"}),
            json!({"type": "boolean", "default": false}),
            json!({"type": "integer"}),
            json!({"type": "number", "nullable": true}),
            json!({"nullable": true}),
            json!({}),
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}),
            json!({"type": "array", "items": {"type": "string"}, "minItems": 2}),
            json!({"type": "string", "minLength": 2}),
            json!({"type": "string", "format": "email"}),
            json!({"type": "string", "pattern": "^a"}),
            json!({"type": "integer", "minimum": 3}),
            json!({"enum": ["a", 1]}),
            json!({"type": "string", "allOf": [{"maxLength": 1}]}),
        ];
        let values = [
            json!(null),
            json!(true),
            json!(0),
            json!(2.5),
            json!(7),
            json!(""),
            json!("a"),
            json!("ada@example.com"),
            json!("long text"),
        ];
        let document = json!({});
        let mut builder = SchemaModel::new(&document);
        let ids: Vec<SchemaId> = schemas
            .iter()
            .map(|schema| builder.root(schema).0)
            .collect();
        let parts = builder.finish();
        let mut decided = 0;
        for (index, id) in ids.iter().enumerate() {
            let one = [*id];
            let by_type = types_decide_scalars(&parts, &one);
            assert_eq!(by_type, index < 8, "{}", schemas[index]);
            assert_eq!(scalar_types(&parts, &one).is_some(), by_type);
            let Some(types) = scalar_types(&parts, &one) else {
                continue;
            };
            for value in &values {
                decided += 1;
                assert_eq!(
                    types.admits(value),
                    accepts_all(&parts, &one, value),
                    "{} against {value}",
                    schemas[index]
                );
            }
            // Every pair of such parts: the one mask answers as checking both does.
            for other in ids.iter().take(8) {
                let both = [*id, *other];
                let types = scalar_types(&parts, &both).expect("both decide by type");
                for value in &values {
                    assert_eq!(
                        types.admits(value),
                        accepts_all(&parts, &both, value),
                        "{} and {} against {value}",
                        schemas[index],
                        schemas[*other as usize]
                    );
                }
            }
        }
        assert_eq!(decided, 8 * values.len());
        // Several parts at once: all must accept.
        let both = [ids[0], ids[5]];
        let types = scalar_types(&parts, &both).expect("both decide by type");
        assert!(types.admits(&json!("x")));
        assert!(!types.admits(&json!(1)));
        assert_eq!(scalar_types(&parts, &[ids[0], ids[8]]), None);
    }

    #[test]
    fn a_response_needs_its_read_only_properties_and_not_its_write_only_ones() {
        use crate::schema_model::SchemaModel;
        use serde_json::json;
        let document = json!({"openapi": "3.0.3"});
        let schema = json!({"type": "object", "required": ["id", "password"], "properties": {
            "id": {"type": "integer", "readOnly": true},
            "password": {"type": "string", "writeOnly": true}}});
        let mut model = SchemaModel::new(&document);
        let root = model.root(&schema).0;
        let parts = model.finish();
        assert!(accepts_all(&parts, &[root], &json!({"id": 1})));
        assert!(!accepts_all(&parts, &[root], &json!({"password": "p"})));
    }

    #[test]
    fn decimal_multiples_are_exact() {
        assert!(is_multiple(0.3, 0.1));
        assert!(is_multiple(19.99, 0.01));
        assert!(!is_multiple(19.995, 0.01));
        assert!(is_multiple(15.0, 5.0));
        assert!(!is_multiple(15.5, 5.0));
        assert!(is_multiple(5.35, 2.675));
    }

    #[test]
    fn decimal_parts_read_the_shortest_form() {
        assert_eq!(decimal_parts(19.99), Some((1999, 2)));
        assert_eq!(decimal_parts(1500.0), Some((1500, 0)));
        assert_eq!(decimal_parts(-0.25), Some((-25, 2)));
    }

    #[test]
    fn numbers_compare_across_representations() {
        assert!(equal(&serde_json::json!(1), &serde_json::json!(1.0)));
        assert!(!equal(
            &serde_json::json!([1, 2]),
            &serde_json::json!([2, 1])
        ));
    }
}
