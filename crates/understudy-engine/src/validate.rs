//! Request validation against a compiled operation: credentials (`security.rs`), parameters,
//! content type, the body's form and its schema. Every violation is collected; nothing stops at
//! the first.
//!
//! Past 600 lines because every part of a request is checked in one pass that collects the
//! violations, and the parts share the coercion and pointer rules.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::str::FromStr;

use http::HeaderMap;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::integer_format::IntegerFormat;
use crate::media_type;
use crate::operation::{
    BodyMedia, DeepObject, FormBody, Operation, Parameter, ParameterShape, QueryString, ScalarKind,
};
use crate::security::{Gate, check_security};
use crate::shared_schema::SchemaValidator;
use crate::violation::{Location, Violation, ViolationClass};

/// Decoded query pairs, in order.
pub(crate) type QueryPairs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// At most this many violations are reported for one request.
pub(crate) const MAX_VIOLATIONS: usize = 50;

/// How many levels of keys one pair of a `deepObject` parameter may name (`a[b][c]` names
/// two): a deeper pair is refused, so that what a query builds stays shallow.
pub(crate) const MAX_DEEP_LEVELS: usize = 8;

/// How many pairs one `deepObject` parameter is read from: more are refused, so that a long
/// query of `a[x]=` pairs builds no large value (hyper bounds the query itself, with the rest of
/// the head, to about 400 KB).
pub(crate) const MAX_DEEP_PAIRS: usize = 1000;

/// A request as the engine sees it, borrowed from whatever server received it.
#[derive(Debug, Clone, Copy)]
pub struct MockRequest<'a> {
    /// The method.
    pub method: &'a http::Method,
    /// The path, without the query string, still percent-encoded.
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The raw body.
    pub body: &'a [u8],
}

/// What validation found: the violations, and the body parsed as JSON where it could be.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// Every violation, at most [`MAX_VIOLATIONS`].
    pub violations: Vec<Violation>,
    /// The body as JSON, if it is JSON and well-formed.
    pub body: Option<Value>,
    /// The documented media type the body matched.
    pub media: Option<usize>,
}

/// Validates `request` against `operation`. `path_params` are the raw template values; `query` the
/// decoded query pairs (Prefer-style `__` controls already removed); `gate` what credentials are
/// checked against.
pub(crate) fn check_request(
    operation: &Operation,
    request: &MockRequest<'_>,
    path_params: &[(&str, &str)],
    query: &[(Cow<'_, str>, Cow<'_, str>)],
    gate: &Gate<'_>,
) -> Checked {
    let mut checked = Checked::default();
    check_security(operation, request, query, gate, &mut checked.violations);
    check_parameters(
        operation,
        request,
        path_params,
        query,
        &mut checked.violations,
    );
    check_body(operation, request, &mut checked);
    checked.violations.truncate(MAX_VIOLATIONS);
    // Each violation was cut to its bounds as it was made; this keeps a later change to a text
    // from slipping past them (it costs a length test each).
    for violation in &mut checked.violations {
        violation.bound_text();
    }
    checked
}

fn check_parameters(
    operation: &Operation,
    request: &MockRequest<'_>,
    path_params: &[(&str, &str)],
    query: &[(Cow<'_, str>, Cow<'_, str>)],
    violations: &mut Vec<Violation>,
) {
    for parameter in &operation.parameters {
        if let Some(reading) = &parameter.querystring {
            check_querystring(parameter, reading, request, query, violations);
            continue;
        }
        // `name[key]=value` pairs are the object; without any, the parameter is read as any
        // other (`created=5`, where its schema allows a scalar too).
        if let Some(reading) = &parameter.deep {
            match deep_object(&parameter.name, reading, query) {
                Ok(None) => {}
                Ok(Some(value)) => {
                    check_value(parameter, &value, violations);
                    continue;
                }
                Err(violation) => {
                    violations.push(of_parameter(parameter, *violation));
                    continue;
                }
            }
        }
        let raw: Vec<Cow<'_, str>> = match parameter.location {
            Location::Path => path_params
                .iter()
                .filter(|(name, _)| *name == parameter.name)
                .map(|(_, value)| percent_decode(value))
                .collect(),
            Location::Query => query
                .iter()
                .filter(|(name, _)| *name == parameter.name)
                .map(|(_, value)| value.clone())
                .collect(),
            Location::Header => request
                .headers
                .get_all(parameter.name.as_str())
                .iter()
                .filter_map(|value| value.to_str().ok())
                .map(Cow::Borrowed)
                .collect(),
            Location::Cookie => cookie(request.headers, &parameter.name)
                .map(Cow::Borrowed)
                .into_iter()
                .collect(),
            Location::Body
            | Location::ResponseStatus
            | Location::ResponseHeader
            | Location::ResponseBody => Vec::new(),
        };
        // Pointers are made only for a violation: most requests leave most declared parameters out.
        if raw.is_empty() {
            if parameter.required {
                violations.push(Violation::new(
                    ViolationClass::Schema,
                    parameter.location,
                    format!("/{}", parameter.name),
                    parameter.name.clone(),
                    "required",
                    format!(
                        "the {} parameter `{}` is required",
                        parameter.location.as_str(),
                        parameter.name
                    ),
                ));
            }
            continue;
        }
        if parameter.location == Location::Path && raw.len() > 1 {
            // A template that names the parameter twice (Azure's `System.{location}/…/{location}`,
            // loaded with a warning): each segment is the parameter's value, checked alone.
            for one in raw.chunks(1) {
                check_texts(parameter, one, violations);
            }
        } else {
            check_texts(parameter, &raw, violations);
        }
    }
}

/// Checks what a request gave for `parameter` (one text or more, not none) against its schema.
fn check_texts(parameter: &Parameter, raw: &[Cow<'_, str>], violations: &mut Vec<Violation>) {
    if parameter.allow_empty && raw.iter().all(|text| text.is_empty()) {
        return;
    }
    let value = coerce(parameter.shape, parameter.explode, raw);
    check_value(parameter, &value, violations);
}

/// Checks a parameter's value, read from its text, against its schema.
fn check_value(parameter: &Parameter, value: &Value, violations: &mut Vec<Violation>) {
    if let Some((pointer, number)) = unheld_number(value) {
        let violation = out_of_range(parameter.location, pointer, number);
        violations.push(of_parameter(parameter, violation));
        return;
    }
    if let Some(validator) = &parameter.validator {
        for violation in schema_violations(validator, value, parameter.location, "") {
            violations.push(of_parameter(parameter, violation));
        }
    }
}

/// The texts sent under one key of a `deepObject` parameter, or the keys under it.
enum DeepPairs<'q> {
    Texts(Vec<Cow<'q, str>>),
    Keys(Vec<(&'q str, DeepPairs<'q>)>),
}

/// The object a `deepObject` parameter's `name[key]=value` pairs make (`name[key][inner]=value`
/// nests, as most servers read it; OpenAPI leaves nesting undefined), each text read by
/// `reading`; `None` if no pair is the parameter's. A key that is not `name` followed by
/// `[key]`s, each non-empty, is another parameter's. A key sent both with a value and with keys
/// under it, more than [`MAX_DEEP_LEVELS`] levels of keys or more than [`MAX_DEEP_PAIRS`] pairs
/// are refused (pointer and message relative to the parameter).
fn deep_object<'q>(
    name: &str,
    reading: &DeepObject,
    query: &'q [(Cow<'_, str>, Cow<'_, str>)],
) -> Result<Option<Value>, Box<Violation>> {
    let refused = |pointer: String, message: String| {
        Box::new(Violation::new(
            ViolationClass::Malformed,
            Location::Query,
            pointer,
            name.to_owned(),
            "deepObject",
            message,
        ))
    };
    let mut root: Vec<(&'q str, DeepPairs<'q>)> = Vec::new();
    let mut pairs = 0;
    let mut keys: Vec<&'q str> = Vec::new();
    for (key, text) in query {
        let Some(rest) = key.strip_prefix(name) else {
            continue;
        };
        let Some(levels) = deep_keys(rest, &mut keys) else {
            continue;
        };
        pairs += 1;
        if pairs > MAX_DEEP_PAIRS {
            return Err(refused(
                String::new(),
                format!(
                    "more than {MAX_DEEP_PAIRS} `{name}[…]` pairs are sent; understudy reads at \
                     most {MAX_DEEP_PAIRS}"
                ),
            ));
        }
        if levels > MAX_DEEP_LEVELS {
            return Err(refused(
                deep_pointer(&keys),
                format!(
                    "`{key}` names keys {levels} levels deep; understudy reads at most \
                     {MAX_DEEP_LEVELS}"
                ),
            ));
        }
        if let Err(depth) = deep_insert(&mut root, &keys, text) {
            let named: String = keys[..=depth]
                .iter()
                .map(|key| format!("[{key}]"))
                .collect();
            return Err(refused(
                deep_pointer(&keys[..=depth]),
                format!("`{name}{named}` is sent both as a value and with keys under it"),
            ));
        }
    }
    if pairs == 0 {
        return Ok(None);
    }
    Ok(Some(deep_value(DeepPairs::Keys(root), Some(reading))))
}

/// Adds `text` under `keys` to `level`, or gives the index of the key that is sent both as a
/// value and with keys under it.
fn deep_insert<'q>(
    level: &mut Vec<(&'q str, DeepPairs<'q>)>,
    keys: &[&'q str],
    text: &'q str,
) -> Result<(), usize> {
    let Some((key, rest)) = keys.split_first() else {
        return Ok(());
    };
    let position = match level.iter().position(|(known, _)| known == key) {
        Some(position) => position,
        None => {
            let empty = if rest.is_empty() {
                DeepPairs::Texts(Vec::new())
            } else {
                DeepPairs::Keys(Vec::new())
            };
            level.push((key, empty));
            level.len() - 1
        }
    };
    match (&mut level[position].1, rest.is_empty()) {
        (DeepPairs::Texts(texts), true) => {
            texts.push(Cow::Borrowed(text));
            Ok(())
        }
        (DeepPairs::Keys(inner), false) => {
            deep_insert(inner, rest, text).map_err(|depth| depth + 1)
        }
        _ => Err(0),
    }
}

/// The keys of a `deepObject` pair after the parameter's name (`[gte]`, `[a][b]`) into `keys`
/// (the first [`MAX_DEEP_LEVELS`] + 1) and how many there are, or `None` if `rest` is no such
/// keys (empty, `[]`, an unclosed bracket, text after one).
fn deep_keys<'q>(mut rest: &'q str, keys: &mut Vec<&'q str>) -> Option<usize> {
    keys.clear();
    let mut levels = 0;
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        let key = &inner[..close];
        if key.is_empty() || key.contains('[') {
            return None;
        }
        levels += 1;
        if keys.len() <= MAX_DEEP_LEVELS {
            keys.push(key);
        }
        rest = &inner[close + 1..];
    }
    (levels > 0).then_some(levels)
}

/// The JSON pointer of `keys` under a parameter.
fn deep_pointer(keys: &[&str]) -> String {
    let mut pointer = String::new();
    for key in keys {
        crate::references::push_segment(&mut pointer, key);
    }
    pointer
}

/// The value of pairs under one key: texts read by `reading` (a key no schema declares is text,
/// an array of texts when repeated), keys as an object.
fn deep_value(pairs: DeepPairs<'_>, reading: Option<&DeepObject>) -> Value {
    match pairs {
        DeepPairs::Texts(texts) => {
            let shape = match reading {
                Some(reading) => reading.shape,
                None if texts.len() > 1 => ParameterShape::Array(ScalarKind::String),
                None => ParameterShape::Scalar(ScalarKind::String),
            };
            coerce(shape, true, &texts)
        }
        DeepPairs::Keys(keys) => Value::Object(
            keys.into_iter()
                .map(|(key, inner)| {
                    let declared = reading.and_then(|reading| {
                        reading
                            .properties
                            .iter()
                            .find(|(property, _)| property == key)
                            .map(|(_, declared)| declared)
                    });
                    (key.to_owned(), deep_value(inner, declared))
                })
                .collect(),
        ),
    }
}

/// A violation found in a parameter's value, told as the parameter's: its pointer under the
/// parameter's name, the name as its field, and a message that names it.
fn of_parameter(parameter: &Parameter, mut violation: Violation) -> Violation {
    violation.pointer = format!("/{}{}", parameter.name, violation.pointer);
    violation.field = parameter.name.clone();
    violation.message = format!(
        "the {} parameter `{}`: {}",
        parameter.location.as_str(),
        parameter.name,
        violation.message
    );
    violation.bound_text();
    violation
}

/// OpenAPI 3.2's `in: querystring`: the whole query string read as one value (form pairs as an
/// object, or one JSON text) and checked against the parameter's schema. A violation is in the
/// query, its pointer into that value (a form's property is a query parameter's name).
fn check_querystring(
    parameter: &Parameter,
    reading: &QueryString,
    request: &MockRequest<'_>,
    query: &[(Cow<'_, str>, Cow<'_, str>)],
    violations: &mut Vec<Violation>,
) {
    let whole = request.query.unwrap_or("");
    let absent = match reading {
        QueryString::Form { .. } => query.is_empty(),
        QueryString::Json | QueryString::Text => whole.is_empty(),
    };
    if absent {
        if parameter.required {
            violations.push(Violation::new(
                ViolationClass::Schema,
                Location::Query,
                "",
                parameter.name.clone(),
                "required",
                format!("the query string (`{}`) is required", parameter.name),
            ));
        }
        return;
    }
    let value = match reading {
        QueryString::Form { properties } => form_object(properties, query),
        QueryString::Json => {
            let text = percent_encoding::percent_decode_str(whole).decode_utf8_lossy();
            match serde_json::from_str(&text) {
                Ok(value) => value,
                Err(error) => {
                    violations.push(Violation::new(
                        ViolationClass::Malformed,
                        Location::Query,
                        "",
                        parameter.name.clone(),
                        "json",
                        format!(
                            "the query string (`{}`) is not well-formed JSON: {} at column {}",
                            parameter.name,
                            json_error_reason(&error),
                            error.column()
                        ),
                    ));
                    return;
                }
            }
        }
        QueryString::Text => Value::String(
            percent_encoding::percent_decode_str(whole)
                .decode_utf8_lossy()
                .into_owned(),
        ),
    };
    if let Some((pointer, number)) = unheld_number(&value) {
        let mut violation = out_of_range(Location::Query, pointer, number);
        violation.message = format!(
            "the query string (`{}`): {}",
            parameter.name, violation.message
        );
        violations.push(violation);
        return;
    }
    let Some(validator) = &parameter.validator else {
        return;
    };
    for mut violation in schema_violations(validator, &value, Location::Query, "") {
        if violation.field.is_empty() {
            violation.field = parameter.name.clone();
        }
        violation.message = format!(
            "the query string (`{}`): {}",
            parameter.name, violation.message
        );
        violation.bound_text();
        violations.push(violation);
    }
}

/// Form pairs as an object: a declared property's texts read as its schema's type, any other
/// name as text (an array of texts when it repeats). The pairs are grouped by name in one pass
/// (names in the order they first come), so a long query costs a lookup per pair, not a scan of
/// every pair per name.
fn form_object(
    properties: &[(String, ParameterShape)],
    query: &[(Cow<'_, str>, Cow<'_, str>)],
) -> Value {
    // SipHash, not foldhash: the client chooses these names.
    let mut positions: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<(&str, Vec<Cow<'_, str>>)> = Vec::new();
    for (name, value) in query {
        match positions.entry(name.as_ref()) {
            Entry::Occupied(position) => groups[*position.get()].1.push(value.clone()),
            Entry::Vacant(slot) => {
                slot.insert(groups.len());
                groups.push((name.as_ref(), vec![value.clone()]));
            }
        }
    }
    let mut object = serde_json::Map::with_capacity(groups.len());
    for (name, raw) in groups {
        let shape = properties
            .iter()
            .find(|(property, _)| property == name)
            .map(|(_, shape)| *shape);
        let value = match shape {
            Some(shape) => coerce(shape, true, &raw),
            None if raw.len() > 1 => coerce(ParameterShape::Array(ScalarKind::String), true, &raw),
            None => coerce(ParameterShape::Scalar(ScalarKind::String), true, &raw),
        };
        object.insert(name.to_owned(), value);
    }
    Value::Object(object)
}

fn check_body(operation: &Operation, request: &MockRequest<'_>, checked: &mut Checked) {
    let Some(body) = &operation.body else {
        return;
    };
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    if request.body.is_empty() && content_type.is_none() {
        if body.required {
            checked.violations.push(missing_body());
        }
        return;
    }
    let documented: Vec<&str> = body
        .media
        .iter()
        .map(|media| media.media_type.as_str())
        .collect();
    let Some(content_type) = content_type else {
        let mut violation = Violation::new(
            ViolationClass::ContentType,
            Location::Header,
            "/Content-Type",
            "Content-Type",
            "contentType",
            format!(
                "`Content-Type` is missing; send one of: {}",
                documented.join(", ")
            ),
        );
        violation.limit = Some(Value::from(documented));
        checked.violations.push(violation);
        return;
    };
    let essence = media_type::essence(content_type);
    let Some(index) = body
        .media
        .iter()
        .position(|media| media_type::covers(&media.media_type, &essence))
    else {
        let mut violation = Violation::new(
            ViolationClass::ContentType,
            Location::Header,
            "/Content-Type",
            "Content-Type",
            "contentType",
            format!(
                "`{essence}` is not accepted here; send one of: {}",
                documented.join(", ")
            ),
        );
        violation.set_value(&Value::String(essence.into_owned()));
        violation.limit = Some(Value::from(documented));
        checked.violations.push(violation);
        return;
    };
    checked.media = Some(index);
    let media: &BodyMedia = &body.media[index];
    if let Some(form) = &media.form {
        return check_form(form, media, content_type, request.body, checked);
    }
    if !media.json && !media_type::is_json(&essence) {
        return;
    }
    let text = match std::str::from_utf8(request.body) {
        Ok(text) => text,
        Err(error) => {
            checked.violations.push(Violation::new(
                ViolationClass::Malformed,
                Location::Body,
                "",
                "",
                "encoding",
                format!(
                    "the body is not valid UTF-8 (invalid byte at offset {})",
                    error.valid_up_to()
                ),
            ));
            return;
        }
    };
    if text.trim().is_empty() {
        if body.required {
            checked.violations.push(missing_body());
        }
        return;
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            checked.violations.push(Violation::new(
                ViolationClass::Malformed,
                Location::Body,
                "",
                "",
                "json",
                format!(
                    "the body is not well-formed JSON: {} at line {} column {}",
                    json_error_reason(&error),
                    error.line(),
                    error.column()
                ),
            ));
            return;
        }
    };
    if let Some((pointer, number)) = unheld_number(&value) {
        checked
            .violations
            .push(out_of_range(Location::Body, pointer, number));
        return;
    }
    if let Some(validator) = &media.validator {
        checked
            .violations
            .extend(schema_violations(validator, &value, Location::Body, ""));
    }
    checked.body = Some(value);
}

/// A form body read into an object (each declared field's text read as its schema's type) and
/// checked against the schema; a multipart body that does not follow its boundary is malformed.
fn check_form(
    form: &FormBody,
    media: &BodyMedia,
    content_type: &str,
    body: &[u8],
    checked: &mut Checked,
) {
    let pairs = if form.multipart {
        match crate::form_body::multipart(content_type, body) {
            Ok(pairs) => pairs,
            Err(reason) => {
                checked.violations.push(Violation::new(
                    ViolationClass::Malformed,
                    Location::Body,
                    "",
                    "",
                    "multipart",
                    format!("the body is not a well-formed multipart form: {reason}"),
                ));
                return;
            }
        }
    } else {
        crate::form_body::url_encoded(body)
    };
    let value = form_object(&form.properties, &pairs);
    if let Some(validator) = &media.validator {
        checked
            .violations
            .extend(schema_violations(validator, &value, Location::Body, ""));
    }
    checked.body = Some(value);
}

/// The first number in `value` that no `f64` holds (`1e999`, an integer of 400 digits), with
/// its JSON pointer. serde_json keeps every number's digits (`arbitrary_precision`), so such a
/// number parses, and is refused here instead: nothing downstream could compare or bound it.
/// Only a number written with an exponent or past 308 digits can be one, so most are passed by
/// their length alone.
fn unheld_number(value: &Value) -> Option<(String, &str)> {
    match value {
        Value::Number(number) => {
            let text = number.as_str();
            let may_overflow = text.len() > 308 || text.contains(['e', 'E']);
            (may_overflow && number.as_f64().is_none()).then(|| (String::new(), text))
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            let (pointer, number) = unheld_number(item)?;
            Some((format!("/{index}{pointer}"), number))
        }),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let (pointer, number) = unheld_number(item)?;
            Some((
                format!("/{}{pointer}", crate::json_schema::escape(key)),
                number,
            ))
        }),
        _ => None,
    }
}

/// The violation of a number no `f64` holds, at `pointer` in the part of the request at
/// `location`.
fn out_of_range(location: Location, pointer: String, number: &str) -> Violation {
    let mut violation = violation(
        location,
        pointer,
        "range",
        format!("`{number}` is out of range: no 64-bit floating-point number holds it"),
    );
    violation.set_value(&Value::String(number.to_owned()));
    violation
}

/// The violation of a required body that was not sent (or was blank).
fn missing_body() -> Violation {
    Violation::new(
        ViolationClass::Schema,
        Location::Body,
        "",
        "",
        "required",
        "a request body is required",
    )
}

/// The violations of `value` against `validator`, one per failed keyword (an unexpected property each,
/// a missing property each), with `anyOf`/`oneOf` failures narrowed to the branch that was meant.
pub(crate) fn schema_violations(
    validator: &SchemaValidator,
    value: &Value,
    location: Location,
    base: &str,
) -> Vec<Violation> {
    // Most requests are valid, and `is_valid` answers them without building any error; only an
    // invalid value is walked a second time to collect its errors.
    if validator.is_valid(value) {
        return Vec::new();
    }
    let mut violations = Vec::new();
    for error in validator.iter_errors(value).take(MAX_VIOLATIONS) {
        convert(validator, &error, location, base, &mut violations);
    }
    violations
}

fn convert(
    validator: &SchemaValidator,
    error: &jsonschema::ValidationError<'_>,
    location: Location,
    base: &str,
    out: &mut Vec<Violation>,
) {
    // One error can stand for many violations (every unexpected property); past the bound the
    // rest would only be dropped.
    if out.len() >= MAX_VIOLATIONS {
        return;
    }
    // A shared schema failed: its own errors, under the place it checked.
    if let Some((shared, value, at)) = validator.bridged(error) {
        let base = format!("{base}{at}");
        for error in shared.iter_errors(value).take(MAX_VIOLATIONS) {
            convert(validator, &error, location, &base, out);
        }
        return;
    }
    let pointer = format!("{base}{}", error.instance_path().as_str());
    let instance = error.instance();
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            // 2020-12's `dependentRequired` reports as `required`; its schema path tells.
            let (keyword, message) = if error.schema_path().as_str().ends_with("/dependentRequired")
            {
                (
                    "dependentRequired",
                    format!("`{name}` is required when the fields it depends on are given"),
                )
            } else {
                ("required", format!("`{name}` is required"))
            };
            let mut violation = violation(
                location,
                format!("{pointer}/{}", crate::json_schema::escape(name)),
                keyword,
                message,
            );
            violation.field = name.to_owned();
            violation.bound_text();
            out.push(violation);
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for name in unexpected
                .iter()
                .take(MAX_VIOLATIONS.saturating_sub(out.len()))
            {
                let mut violation = violation(
                    location,
                    format!("{pointer}/{}", crate::json_schema::escape(name)),
                    "additionalProperties",
                    format!("`{name}` is not allowed here"),
                );
                violation.field = name.clone();
                violation.bound_text();
                out.push(violation);
            }
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            match meant_branch(validator, context) {
                Some(branch) => {
                    for error in branch {
                        convert(validator, error, location, base, out);
                    }
                }
                None => {
                    let mut violation = violation(
                        location,
                        pointer,
                        error.kind().keyword(),
                        "matches none of the allowed shapes".to_owned(),
                    );
                    violation.set_value(instance);
                    out.push(violation);
                }
            }
        }
        ValidationErrorKind::FalseSchema => {
            // A `false` schema (2020-12's `items: false` after `prefixItems`, a property declared
            // `false`): the keyword holding it names the rule.
            let keyword = error
                .schema_path()
                .as_str()
                .rsplit('/')
                .find(|segment| !segment.is_empty() && !segment.bytes().all(|b| b.is_ascii_digit()))
                .unwrap_or("false")
                .to_owned();
            let mut violation = violation(
                location,
                pointer,
                &keyword,
                "is not allowed here".to_owned(),
            );
            if !matches!(instance.as_ref(), Value::Object(_) | Value::Array(_)) {
                violation.set_value(instance);
            }
            out.push(violation);
        }
        ValidationErrorKind::Custom { keyword, message }
            if keyword == crate::integer_format::KEYWORD =>
        {
            // An integer format's range (`integer_format.rs`), which JSON Schema has no word
            // for: reported as the `format` the schema wrote, the format's name its message.
            let Some(format) = IntegerFormat::named(message) else {
                return;
            };
            let mut violation = violation(
                location,
                pointer,
                "format",
                format.refusal(&shown(instance)),
            );
            violation.format = Some(format.name.to_owned());
            violation.set_value(instance);
            out.push(violation);
        }
        ValidationErrorKind::Contains => {
            // jsonschema says `contains` for `minContains` and `maxContains` too; its schema path
            // tells them apart.
            let path = error.schema_path().as_str();
            let (keyword, message) = if path.ends_with("/maxContains") {
                ("maxContains", "has too many items matching `contains`")
            } else if path.ends_with("/minContains") {
                ("minContains", "has too few items matching `contains`")
            } else {
                ("contains", "has no item matching `contains`")
            };
            out.push(violation(location, pointer, keyword, message.to_owned()));
        }
        kind => {
            let keyword = kind.keyword().to_owned();
            let (message, limit, format) = describe(kind, instance);
            let mut violation = violation(location, pointer, &keyword, message);
            violation.limit = limit;
            violation.format = format;
            if !matches!(instance.as_ref(), Value::Object(_) | Value::Array(_)) {
                violation.set_value(instance);
            }
            out.push(violation);
        }
    }
}

/// The branch of a failed `anyOf`/`oneOf` the request most likely meant: not one that failed on a
/// `const`/`enum` (a discriminating value), and among the rest the one with the fewest errors
/// (a shared schema's errors counted one by one).
fn meant_branch<'c>(
    validator: &SchemaValidator,
    context: &'c [Vec<jsonschema::ValidationError<'static>>],
) -> Option<&'c Vec<jsonschema::ValidationError<'static>>> {
    context
        .iter()
        .filter(|branch| !branch.is_empty())
        .filter_map(|branch| {
            let (count, discriminating) = weigh(validator, branch);
            (!discriminating).then_some((count, branch))
        })
        .min_by_key(|(count, _)| *count)
        .map(|(_, branch)| branch)
}

/// How many errors `errors` stand for once every shared schema's failure is opened, and whether
/// one of them is a failed `const`/`enum`.
fn weigh(validator: &SchemaValidator, errors: &[jsonschema::ValidationError<'_>]) -> (usize, bool) {
    let mut count = 0;
    let mut discriminating = false;
    for error in errors {
        if let Some((shared, value, _)) = validator.bridged(error) {
            let inner: Vec<_> = shared.iter_errors(value).take(MAX_VIOLATIONS).collect();
            let (more, found) = weigh(validator, &inner);
            count += more;
            discriminating |= found;
        } else {
            count += 1;
            discriminating |= matches!(
                error.kind(),
                ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. }
            );
        }
    }
    (count, discriminating)
}

fn violation(location: Location, pointer: String, keyword: &str, message: String) -> Violation {
    let field = field_of(&pointer);
    Violation::new(
        ViolationClass::Schema,
        location,
        pointer,
        field,
        keyword,
        message,
    )
}

/// The field a person would name: the last pointer segment that is not an array index.
pub(crate) fn field_of(pointer: &str) -> String {
    pointer
        .rsplit('/')
        .find(|segment| !segment.is_empty() && !segment.bytes().all(|b| b.is_ascii_digit()))
        .map(crate::json_schema::unescape)
        .unwrap_or_default()
}

fn describe(
    kind: &ValidationErrorKind,
    instance: &Value,
) -> (String, Option<Value>, Option<String>) {
    let shown = shown(instance);
    match kind {
        ValidationErrorKind::Format { format } => (
            format!("{shown} is not a valid {}", format_name(format)),
            None,
            Some(format.clone()),
        ),
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(kind) => kind.to_string(),
                TypeKind::Multiple(kinds) => kinds
                    .iter()
                    .map(|kind| kind.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            (
                format!(
                    "{shown} is {}, not {}",
                    article(json_type(instance)),
                    article(&expected)
                ),
                Some(Value::String(expected)),
                None,
            )
        }
        ValidationErrorKind::MaxLength { limit } => (
            format!("{shown} is longer than {limit} characters"),
            Some(Value::from(*limit)),
            None,
        ),
        ValidationErrorKind::MinLength { limit } => (
            format!(
                "{shown} is shorter than {limit} character{}",
                plural(*limit)
            ),
            Some(Value::from(*limit)),
            None,
        ),
        ValidationErrorKind::MaxItems { limit } => (
            format!("has more than {limit} item{}", plural(*limit)),
            Some(Value::from(*limit)),
            None,
        ),
        ValidationErrorKind::MinItems { limit } => (
            format!("has fewer than {limit} item{}", plural(*limit)),
            Some(Value::from(*limit)),
            None,
        ),
        ValidationErrorKind::Enum { options } => (
            format!("{shown} is not one of {options}"),
            Some(options.as_ref().clone()),
            None,
        ),
        ValidationErrorKind::Constant { expected_value } => (
            format!("{shown} is not {expected_value}"),
            Some(expected_value.as_ref().clone()),
            None,
        ),
        ValidationErrorKind::Pattern { pattern } => (
            format!("{shown} does not match the pattern {pattern}"),
            Some(Value::String(pattern.clone())),
            None,
        ),
        ValidationErrorKind::Maximum { limit } => (
            format!("{shown} is greater than {limit}"),
            Some(limit.clone()),
            None,
        ),
        ValidationErrorKind::Minimum { limit } => (
            format!("{shown} is less than {limit}"),
            Some(limit.clone()),
            None,
        ),
        ValidationErrorKind::ExclusiveMaximum { limit } => (
            format!("{shown} is not less than {limit}"),
            Some(limit.clone()),
            None,
        ),
        ValidationErrorKind::ExclusiveMinimum { limit } => (
            format!("{shown} is not greater than {limit}"),
            Some(limit.clone()),
            None,
        ),
        ValidationErrorKind::UniqueItems => ("has repeated items".into(), None, None),
        _ => (format!("{shown} breaks `{}`", kind.keyword()), None, None),
    }
}

fn shown(instance: &Value) -> String {
    // Only the start is shown, so only the start is written: a 1 MB value costs no more here.
    let (text, _) = crate::violation::json_prefix(instance, 61 * 4);
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn format_name(format: &str) -> &str {
    match format {
        "email" => "e-mail address",
        "uri" => "absolute URI",
        "date-time" => "RFC 3339 date-time",
        "date" => "date (YYYY-MM-DD)",
        "uuid" => "UUID",
        "ipv4" => "IPv4 address",
        "ipv6" => "IPv6 address",
        "hostname" => "host name",
        other => other,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        // One no f64 holds (in an answer the proxy checks) is no integer to jsonschema either.
        Value::Number(number) if number.is_f64() || number.as_f64().is_none() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn article(kind: &str) -> String {
    match kind.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

fn plural(count: u64) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn json_error_reason(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Turns a parameter's text into the JSON its schema expects; text that does not parse stays text,
/// so the validator reports the type.
fn coerce(shape: ParameterShape, explode: bool, raw: &[Cow<'_, str>]) -> Value {
    match shape {
        ParameterShape::Scalar(kind) => raw.first().map_or(Value::Null, |text| scalar(kind, text)),
        // A list of objects sent as one JSON array (`mdfilters=[{…}]`) is that array.
        ParameterShape::Array(ScalarKind::Json)
            if raw.len() == 1
                && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&raw[0]) =>
        {
            Value::Array(items)
        }
        ParameterShape::Array(kind) => {
            let items: Vec<Value> = if explode || raw.len() > 1 {
                raw.iter().map(|text| scalar(kind, text)).collect()
            } else {
                raw.iter()
                    .flat_map(|text| text.split(','))
                    .map(|text| scalar(kind, text))
                    .collect()
            };
            Value::Array(items)
        }
    }
}

fn scalar(kind: ScalarKind, text: &str) -> Value {
    match kind {
        ScalarKind::String => Value::String(text.to_owned()),
        ScalarKind::Integer => integer(text).unwrap_or_else(|| Value::String(text.to_owned())),
        ScalarKind::Number => number(text).unwrap_or_else(|| Value::String(text.to_owned())),
        ScalarKind::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.to_owned()),
        },
        ScalarKind::Json => match serde_json::from_str::<Value>(text) {
            Ok(value @ Value::Object(_)) => value,
            _ => Value::String(text.to_owned()),
        },
    }
}

/// An integer parameter's value, digit for digit: one beyond 64 bits
/// (`offset=9223372036854775808`) is still an integer, which `type: integer` accepts and
/// `format: int64` or a bound refuses. A sign and leading zeros are allowed, as Rust's integer
/// parsing allows them.
fn integer(text: &str) -> Option<Value> {
    if let Ok(value) = text.parse::<i64>() {
        return Some(Value::from(value));
    }
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => ("-", &text[1..]),
        Some(b'+') => ("", &text[1..]),
        _ => ("", text),
    };
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    // Not an i64, so not all zeros: something is left.
    let digits = digits.trim_start_matches('0');
    serde_json::Number::from_str(&format!("{sign}{digits}"))
        .ok()
        .map(Value::Number)
}

/// A number parameter's value: as JSON writes it, digit for digit, else (`+1.5`, `.5`, `5.`) as
/// Rust reads a float.
fn number(text: &str) -> Option<Value> {
    if let Ok(number) = serde_json::Number::from_str(text) {
        return Some(Value::Number(number));
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

/// The value of cookie `name` in the `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

/// Decodes `%XX` escapes in a path segment or a URI fragment; malformed escapes stay as written,
/// and so do `+`, `=` and `&`, which mean nothing special there.
pub(crate) fn percent_decode(text: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_pairs_are_grouped_by_name_wherever_they_repeat() {
        let query: QueryPairs<'_> = form_urlencoded::parse(b"b=x&a=1&c=&a=2&b=y&a=3").collect();
        let properties = [("a".to_owned(), ParameterShape::Array(ScalarKind::Integer))];
        let object = form_object(&properties, &query);
        assert_eq!(object, json!({"b": ["x", "y"], "a": [1, 2, 3], "c": ""}));
        // In the order each name first comes.
        let names: Vec<&String> = object.as_object().unwrap().keys().collect();
        assert_eq!(names, ["b", "a", "c"]);
    }

    #[test]
    fn integers_beyond_64_bits_keep_their_digits() {
        let integer_schema = json!({"type": "integer"});
        let int64 = json!({"type": "integer", "format": "int64"});
        let plain = crate::json_schema::request_validator(&json!({}), &integer_schema).unwrap();
        let bounded = crate::json_schema::request_validator(&json!({}), &int64).unwrap();
        for (text, kept) in [
            ("9223372036854775808", "9223372036854775808"),
            ("18446744073709551616", "18446744073709551616"),
            ("-9223372036854775809", "-9223372036854775809"),
            ("+0012345678901234567890123", "12345678901234567890123"),
            (
                "-000123456789012345678901234567890",
                "-123456789012345678901234567890",
            ),
        ] {
            let value = scalar(ScalarKind::Integer, text);
            assert_eq!(value.to_string(), kept);
            assert!(plain.is_valid(&value), "{text} is an integer");
            assert!(!bounded.is_valid(&value), "{text} is no int64");
        }
        assert!(bounded.is_valid(&scalar(ScalarKind::Integer, "9223372036854775807")));
        assert!(bounded.is_valid(&scalar(ScalarKind::Integer, "-9223372036854775808")));
        assert_eq!(scalar(ScalarKind::Integer, "12a"), json!("12a"));
        assert_eq!(scalar(ScalarKind::Integer, "1.5"), json!("1.5"));
        assert_eq!(scalar(ScalarKind::Integer, "-"), json!("-"));
        assert_eq!(scalar(ScalarKind::Number, "1.50").to_string(), "1.50");
        assert_eq!(scalar(ScalarKind::Number, "+.5"), json!(0.5));
        // serde_json spells every exponent `e+` or `e-`; the digits are the ones sent.
        assert_eq!(scalar(ScalarKind::Number, "1E999").to_string(), "1e+999");
    }

    #[test]
    fn a_number_no_f64_holds_is_found_at_its_pointer() {
        let body: Value =
            serde_json::from_str(r#"{"a": [1, 2e400], "b~/": {"c": -1E+999}, "d": 1e300}"#)
                .unwrap();
        assert_eq!(unheld_number(&body), Some(("/a/1".to_owned(), "2e+400")));
        let text = "9".repeat(309);
        let long: Value = serde_json::from_str(&format!(r#"{{"b~/": [{text}]}}"#)).unwrap();
        assert_eq!(
            unheld_number(&long),
            Some(("/b~0~1/0".to_owned(), text.as_str()))
        );
        let held: Value =
            serde_json::from_str(r#"[1e308, 1e-999, 123456789012345678901234567890]"#).unwrap();
        assert_eq!(unheld_number(&held), None);
        // What a message calls them (an answer the proxy checks may hold one no f64 holds).
        assert_eq!(json_type(&held[2]), "integer");
        assert_eq!(json_type(&serde_json::from_str("1e999").unwrap()), "number");
    }

    #[test]
    fn fields_skip_array_indices() {
        assert_eq!(field_of("/actorRoles/0/roleId"), "roleId");
        assert_eq!(field_of("/actorRoles/0"), "actorRoles");
        assert_eq!(field_of(""), "");
    }

    #[test]
    fn parameters_are_coerced_by_shape() {
        let raw = [Cow::Borrowed("1,2,x")];
        assert_eq!(
            coerce(ParameterShape::Array(ScalarKind::Integer), false, &raw),
            serde_json::json!([1, 2, "x"])
        );
        let raw = [Cow::Borrowed("true")];
        assert_eq!(
            coerce(ParameterShape::Scalar(ScalarKind::Boolean), false, &raw),
            Value::Bool(true)
        );
    }

    #[test]
    fn cookies_and_escapes_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::COOKIE, "a=1; session=xyz".parse().unwrap());
        assert_eq!(cookie(&headers, "session"), Some("xyz"));
        assert_eq!(percent_decode("a%20b+c"), "a b+c");
        // A form's separators are plain characters here (OBS's `application~1xml;%20charset=utf-8`).
        assert_eq!(percent_decode("a%20b=c&d"), "a b=c&d");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
