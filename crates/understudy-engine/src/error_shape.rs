//! Error bodies in the shape a spec documents, with no extension: the error schema is read once,
//! at start-up, for the places a violation can go (a message, a list of field errors, a map of
//! field to messages, the status, a code that names the status), and each rejected request fills
//! them. The generator then makes the body from the schema, echoing what was filled in, so
//! whatever the schema holds besides is generated and the whole stays valid.
//!
//! Past 600 lines with its tests only.

use serde_json::{Map, Value};

use crate::json_schema::unescape;
use crate::schema_model::{SchemaId, SchemaModel, Types};
use crate::violation::{Location, Violation, ViolationClass, summary};

/// How deep into nested objects the reading goes (Google's `{error: {details: [{…}]}}` is 3).
const MAX_DEPTH: usize = 4;

/// What an error response's schema offers to fill, compiled once.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErrorShape {
    properties: Vec<(String, Fill)>,
}

/// What one property of an error schema is filled with.
#[derive(Debug, Clone, PartialEq)]
enum Fill {
    /// A sentence: the summary of every violation (inside a list item, that item's message).
    Message,
    /// A short title for the status (RFC 9457's `title`).
    Title,
    /// The HTTP status, as a number.
    Status,
    /// The HTTP status, as a string (JSON:API's `status`).
    StatusText,
    /// A string `enum`: the choice that names the status (`INVALID_ARGUMENT`, `not_found`), if
    /// one plainly does.
    Choice(Vec<String>),
    /// The keyword the violation broke (`required`, `maxLength`), for a list item's `type` or
    /// `code`, as FastAPI's `type` says `missing`.
    Keyword,
    /// Where the violation is: its field's name (`param`, `field`), its JSON pointer (`pointer`),
    /// or its location and path as a list (FastAPI's `loc`: `["body", "title"]`).
    Where(WhereKind),
    /// An object with fills of its own.
    Object(Vec<(String, Fill)>),
    /// An array of objects, one per violation (at most `max` of them).
    Items {
        properties: Vec<(String, Fill)>,
        max: usize,
    },
    /// An array of strings: one message per violation.
    Messages { max: usize },
    /// An object of field name to messages (Rails, Django REST Framework, ASP.NET's `errors`),
    /// the messages a list or a single string.
    FieldMap { list: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WhereKind {
    Name,
    Pointer,
    Path,
    Location,
}

impl ErrorShape {
    /// Reads `schema` (of a documented error response) for the places violations can go, as the
    /// document's schema model reads it.
    pub(crate) fn read<'d>(model: &mut SchemaModel<'d>, schema: &'d Value) -> ErrorShape {
        let id = model.id(schema);
        ErrorShape {
            properties: object_fills(model, id, 0, false),
        }
    }

    /// Whether the schema has no place that says what went wrong (Slack's `{ok: false}`, a bare
    /// string): then a documented example says it better than anything generated.
    pub(crate) fn says_nothing(&self) -> bool {
        !self
            .properties
            .iter()
            .any(|(_, fill)| fill.tells_something())
    }

    /// What the generator echoes into a body of this shape for a rejected request: its
    /// violations (at least one), the status and its title.
    pub(crate) fn facts(&self, status: u16, title: &str, violations: &[Violation]) -> Value {
        let summary = match violations {
            [violation] => violation.to_string(),
            _ => format!("{} violations: {}", violations.len(), summary(violations)),
        };
        Scope {
            status,
            title,
            summary: &summary,
            violations,
            current: violations.first(),
            placed: false,
        }
        .object(&self.properties)
    }

    /// What the generator echoes into a body of this shape for a status a client asked for
    /// (`Prefer: code=404`): the status, and a message that says what it means.
    pub(crate) fn facts_for_status(&self, status: u16) -> Value {
        let reason = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("Error");
        let summary = format!("{reason}: {}", meaning(status));
        // Lists of errors get one item, about the request as a whole; maps of fields stay empty.
        let whole = Violation::new(
            ViolationClass::Schema,
            Location::Body,
            "",
            "",
            reason.to_ascii_lowercase().replace(' ', "_"),
            summary.clone(),
        );
        Scope {
            status,
            title: reason,
            summary: &summary,
            violations: std::slice::from_ref(&whole),
            current: None,
            placed: false,
        }
        .object(&self.properties)
    }
}

impl Fill {
    /// Whether the fill says where a violation is, itself or inside (JSON:API's `source`).
    fn places(&self) -> bool {
        match self {
            Fill::Where(_) => true,
            Fill::Object(properties) => properties.iter().any(|(_, fill)| fill.places()),
            _ => false,
        }
    }

    /// Whether the fill carries what went wrong (a status alone does not).
    fn tells_something(&self) -> bool {
        match self {
            Fill::Message
            | Fill::Where(_)
            | Fill::Items { .. }
            | Fill::Messages { .. }
            | Fill::FieldMap { .. } => true,
            Fill::Title | Fill::Status | Fill::StatusText | Fill::Choice(_) | Fill::Keyword => {
                false
            }
            Fill::Object(properties) => properties.iter().any(|(_, fill)| fill.tells_something()),
        }
    }
}

/// The fills of an object schema's properties (`allOf` parts merged), by name and type.
fn object_fills(
    model: &mut SchemaModel<'_>,
    schema: SchemaId,
    depth: usize,
    in_item: bool,
) -> Vec<(String, Fill)> {
    let mut fills: Vec<(String, Fill)> = Vec::new();
    if depth > MAX_DEPTH {
        return fills;
    }
    let mut properties = Vec::new();
    properties_of(model, schema, 0, &mut properties);
    for (name, property) in properties {
        if fills.iter().any(|(known, _)| **known == *name) {
            continue;
        }
        if let Some(fill) = property_fill(model, &name, property, depth, in_item) {
            fills.push((name.to_string(), fill));
        }
    }
    fills
}

/// Every property of `schema` and of its `allOf` parts, in order.
fn properties_of(
    model: &mut SchemaModel<'_>,
    schema: SchemaId,
    depth: usize,
    found: &mut Vec<(std::sync::Arc<str>, SchemaId)>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let read = model.get(schema);
    found.extend(
        read.properties
            .iter()
            .map(|property| (property.name.clone(), property.part)),
    );
    for part in read.all_of.clone() {
        properties_of(model, part, depth + 1, found);
    }
}

fn property_fill(
    model: &mut SchemaModel<'_>,
    name: &str,
    schema: SchemaId,
    depth: usize,
    in_item: bool,
) -> Option<Fill> {
    let key = normalized(name);
    let key = key.as_str();
    let read = model.get(schema);
    match type_of(read.types) {
        Some("string") => {
            if let Some(choices) = &read.enumeration {
                let choices: Vec<String> = choices
                    .iter()
                    .filter_map(|choice| choice.as_str().map(str::to_owned))
                    .collect();
                return (!choices.is_empty()).then_some(Fill::Choice(choices));
            }
            if is_status(key) && key != "code" {
                return Some(Fill::StatusText);
            }
            if key == "title" {
                return Some(if in_item { Fill::Message } else { Fill::Title });
            }
            if is_message(key) {
                return Some(Fill::Message);
            }
            match key {
                "type" | "code" | "kind" if in_item && read.format.is_none() => Some(Fill::Keyword),
                "pointer" => Some(Fill::Where(WhereKind::Pointer)),
                "location" | "in" if in_item => Some(Fill::Where(WhereKind::Location)),
                // Names this loose say "field" only beside a message, in a list's items.
                "name" | "key" | "path" | "source" | "attribute" if !in_item => None,
                _ if is_field(key) => Some(Fill::Where(WhereKind::Name)),
                _ => None,
            }
        }
        Some("integer" | "number") => is_status(key).then_some(Fill::Status),
        Some("array") => {
            let items = read.items?;
            let max = read
                .limits()
                .max_items()
                .map_or(usize::MAX, |max| usize::try_from(max).unwrap_or(usize::MAX));
            if is_field(key) && !in_item {
                return None;
            }
            if is_field(key) {
                // FastAPI's `loc`: the location, then the path's segments.
                return Some(Fill::Where(WhereKind::Path));
            }
            let read = model.get(items);
            match type_of(read.types) {
                Some("string") if !in_item && read.enumeration.is_none() => {
                    Some(Fill::Messages { max })
                }
                Some("object") | None if !in_item => {
                    let properties = object_fills(model, items, depth + 1, true);
                    let per_violation = properties
                        .iter()
                        .any(|(_, fill)| matches!(fill, Fill::Message | Fill::Where(_)));
                    per_violation.then_some(Fill::Items { properties, max })
                }
                _ => None,
            }
        }
        Some("object") | None => {
            if let Some(list) = field_map(model, schema) {
                return Some(Fill::FieldMap { list });
            }
            let properties = object_fills(model, schema, depth + 1, in_item);
            (!properties.is_empty()).then_some(Fill::Object(properties))
        }
        _ => None,
    }
}

/// For an object of field names to messages (`additionalProperties` an array of strings, or a
/// string, and no properties of its own): whether the messages are a list.
fn field_map(model: &mut SchemaModel<'_>, schema: SchemaId) -> Option<bool> {
    let read = model.get(schema);
    if !read.properties.is_empty() {
        return None;
    }
    let values = read.additional?;
    let read = model.get(values);
    match type_of(read.types) {
        Some("string") => Some(false),
        Some("array") => {
            let items = read.items?;
            (type_of(model.get(items).types) == Some("string")).then_some(true)
        }
        _ => None,
    }
}

/// The schema's type: the one it names besides `null`, or where it names several (OpenAPI 3.1)
/// the first of string, number, array, object and boolean; `other` for names that are no JSON
/// type, `None` when it names none (or only `null`).
fn type_of(types: Option<Types>) -> Option<&'static str> {
    let types = types?;
    let named = [
        (Types::STRING, "string"),
        (Types::NUMBER, "number"),
        (Types::INTEGER, "integer"),
        (Types::ARRAY, "array"),
        (Types::OBJECT, "object"),
        (Types::BOOLEAN, "boolean"),
    ]
    .into_iter()
    .find(|(bit, _)| types.has(*bit))
    .map(|(_, name)| name);
    match named {
        None if types.is_empty() => Some("other"),
        named => named,
    }
}

/// A property name lower-cased, without `_`, `-` and `$`: `error_description` → `errordescription`.
fn normalized(name: &str) -> String {
    name.chars()
        .filter(|character| !matches!(character, '_' | '-' | '$' | '@'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_message(key: &str) -> bool {
    matches!(
        key,
        "message"
            | "msg"
            | "detail"
            | "details"
            | "error"
            | "errormessage"
            | "errordescription"
            | "description"
            | "reason"
            | "summary"
            | "text"
    )
}

fn is_field(key: &str) -> bool {
    matches!(
        key,
        "field"
            | "fieldname"
            | "key"
            | "name"
            | "param"
            | "parameter"
            | "loc"
            | "path"
            | "pointer"
            | "property"
            | "propertyname"
            | "source"
            | "attribute"
    )
}

fn is_status(key: &str) -> bool {
    matches!(
        key,
        "status" | "code" | "statuscode" | "httpstatus" | "httpstatuscode" | "httpcode"
    )
}

/// One rejected request, as the fills read it.
struct Scope<'v> {
    status: u16,
    title: &'v str,
    /// The sentence for a message outside a list's items.
    summary: &'v str,
    violations: &'v [Violation],
    /// The violation a list item or a top-level field name is about.
    current: Option<&'v Violation>,
    /// A list item that says where on its own gets the message alone (FastAPI's `msg` beside
    /// its `loc`); anything else gets the whole sentence, place included.
    placed: bool,
}

impl Scope<'_> {
    fn object(&self, properties: &[(String, Fill)]) -> Value {
        let mut object = Map::new();
        for (name, fill) in properties {
            if let Some(value) = self.value(fill) {
                object.insert(name.clone(), value);
            }
        }
        Value::Object(object)
    }

    fn value(&self, fill: &Fill) -> Option<Value> {
        Some(match fill {
            Fill::Message => Value::String(match self.current {
                Some(violation) if self.placed => violation.message.clone(),
                _ => self.summary.to_owned(),
            }),
            Fill::Keyword => Value::String(self.current?.keyword.clone()),
            Fill::Title => Value::String(self.title.to_owned()),
            Fill::Status => Value::from(self.status),
            Fill::StatusText => Value::String(self.status.to_string()),
            Fill::Choice(choices) => Value::String(choice_for(self.status, choices)?.to_owned()),
            Fill::Where(kind) => where_of(self.current?, *kind),
            Fill::Object(properties) => self.object(properties),
            Fill::Items { properties, max } => {
                let placed = properties.iter().any(|(_, fill)| fill.places());
                Value::Array(
                    self.violations
                        .iter()
                        .take(*max)
                        .map(|violation| {
                            let summary = violation.to_string();
                            Scope {
                                summary: &summary,
                                violations: std::slice::from_ref(violation),
                                current: Some(violation),
                                placed,
                                ..*self
                            }
                            .object(properties)
                        })
                        .collect(),
                )
            }
            Fill::Messages { max } => Value::Array(
                self.violations
                    .iter()
                    .take(*max)
                    .map(|violation| Value::String(violation.to_string()))
                    .collect(),
            ),
            Fill::FieldMap { list } => {
                let mut map = Map::new();
                for violation in self.violations.iter().filter(|v| !v.field.is_empty()) {
                    let message = Value::String(violation.message.clone());
                    match map.entry(violation.field.clone()) {
                        serde_json::map::Entry::Vacant(entry) => {
                            entry.insert(if *list {
                                Value::Array(vec![message])
                            } else {
                                message
                            });
                        }
                        serde_json::map::Entry::Occupied(mut entry) => {
                            if let Value::Array(messages) = entry.get_mut() {
                                messages.push(message);
                            }
                        }
                    }
                }
                Value::Object(map)
            }
        })
    }
}

/// What a status means, for the message of an answer a client asked for by its status.
fn meaning(status: u16) -> &'static str {
    match status {
        400 => "the request is malformed or invalid.",
        401 => "credentials are missing or invalid.",
        402 => "payment is required to go on.",
        403 => "the credentials do not allow this request.",
        404 => "the requested resource does not exist.",
        405 => "the method is not allowed on this resource.",
        406 => "no representation the client accepts can be produced.",
        408 => "the request took too long to arrive.",
        409 => "the request conflicts with the current state of the resource.",
        410 => "the resource is gone for good.",
        412 => "a precondition of the request does not hold.",
        413 => "the request body is too large.",
        415 => "the request body's media type is not supported.",
        422 => "the request is well-formed but breaks a rule of the API.",
        429 => "too many requests; slow down and try again later.",
        500 => "the server failed to handle the request.",
        501 => "the server does not implement this.",
        502 => "an upstream server answered badly.",
        503 => "the service is unavailable; try again later.",
        504 => "an upstream server did not answer in time.",
        _ if status < 500 => "the request cannot be served as it is.",
        _ => "the server could not serve the request.",
    }
}

/// Where `violation` is, as a field-like property names it.
fn where_of(violation: &Violation, kind: WhereKind) -> Value {
    match kind {
        WhereKind::Name => Value::String(violation.field.clone()),
        WhereKind::Location => Value::String(violation.location.as_str().to_owned()),
        WhereKind::Pointer => Value::String(match violation.location {
            Location::Body => violation.pointer.clone(),
            _ => format!("/{}", violation.field),
        }),
        WhereKind::Path => {
            let mut path = vec![Value::String(violation.location.as_str().to_owned())];
            match violation.location {
                Location::Body => path.extend(
                    violation
                        .pointer
                        .split('/')
                        .skip(1)
                        .map(|segment| Value::String(unescape(segment))),
                ),
                _ => path.push(Value::String(violation.field.clone())),
            }
            Value::Array(path)
        }
    }
}

/// The choice of a string `enum` that names `status`, where one plainly does.
fn choice_for(status: u16, choices: &[String]) -> Option<&str> {
    let code = status.to_string();
    if let Some(exact) = choices.iter().find(|choice| **choice == code) {
        return Some(exact);
    }
    let names: &[&str] = match status {
        400 => &[
            "invalidargument",
            "invalidrequest",
            "invalidrequesterror",
            "badrequest",
            "validationerror",
            "invalidparams",
            "invalidinput",
            "invalid",
        ],
        401 => &[
            "unauthenticated",
            "unauthorized",
            "invalidtoken",
            "authenticationerror",
            "notauthenticated",
            "notauthed",
            "invalidauth",
            "invalidcredentials",
        ],
        403 => &[
            "permissiondenied",
            "forbidden",
            "accessdenied",
            "insufficientscope",
        ],
        404 => &["notfound", "resourcenotfound", "resourcemissing"],
        405 => &["methodnotallowed"],
        406 => &["notacceptable"],
        409 => &["alreadyexists", "conflict", "aborted", "duplicate"],
        415 => &[
            "unsupportedmediatype",
            "invalidargument",
            "invalidrequesterror",
        ],
        422 => &[
            "invalidargument",
            "unprocessableentity",
            "validationerror",
            "invalidrequesterror",
            "invalidrequest",
            "invalid",
        ],
        429 => &[
            "resourceexhausted",
            "ratelimited",
            "ratelimiterror",
            "toomanyrequests",
        ],
        500 => &[
            "internal",
            "internalerror",
            "internalservererror",
            "apierror",
        ],
        501 => &["unimplemented", "notimplemented"],
        503 => &["unavailable", "serviceunavailable"],
        504 => &["deadlineexceeded", "gatewaytimeout", "timeout"],
        _ => &[],
    };
    names.iter().find_map(|name| {
        choices
            .iter()
            .find(|choice| normalized(choice) == *name)
            .map(String::as_str)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn violation(location: Location, pointer: &str, field: &str, message: &str) -> Violation {
        Violation::new(
            ViolationClass::Schema,
            location,
            pointer,
            field,
            "required",
            message,
        )
    }

    fn two() -> Vec<Violation> {
        vec![
            violation(Location::Body, "/title", "title", "is required"),
            violation(Location::Query, "/limit", "limit", "must be at most 100"),
        ]
    }

    fn facts(schema: Value, status: u16) -> Value {
        let document = json!({});
        let mut model = SchemaModel::new(&document);
        let shape = ErrorShape::read(&mut model, &schema);
        assert!(!shape.says_nothing(), "no shape in {schema}");
        shape.facts(status, "Request does not match the API contract", &two())
    }

    #[test]
    fn fastapi_validation_errors_list_each_violation_with_its_loc() {
        let schema = json!({"type": "object", "properties": {"detail": {"type": "array", "items": {
            "type": "object", "required": ["loc", "msg", "type"], "properties": {
                "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                "msg": {"type": "string"}, "type": {"type": "string"}}}}}});
        assert_eq!(
            facts(schema, 422),
            json!({"detail": [
                {"loc": ["body", "title"], "msg": "is required", "type": "required"},
                {"loc": ["query", "limit"], "msg": "must be at most 100", "type": "required"},
            ]})
        );
    }

    #[test]
    fn google_and_stripe_errors_are_filled_through_their_wrapper() {
        let google = json!({"type": "object", "properties": {"error": {"type": "object", "properties": {
            "code": {"type": "integer"}, "message": {"type": "string"},
            "status": {"type": "string", "enum": ["OK", "INVALID_ARGUMENT", "NOT_FOUND"]}}}}});
        let filled = facts(google, 400);
        assert_eq!(filled["error"]["code"], 400);
        assert_eq!(filled["error"]["status"], "INVALID_ARGUMENT");
        assert!(
            filled["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("2 violations: body /title: is required")
        );
        let stripe = json!({"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "properties": {
                "type": {"type": "string", "enum": ["api_error", "card_error", "invalid_request_error"]},
                "message": {"type": "string"}, "param": {"type": "string"}}}}});
        let filled = facts(stripe, 400);
        assert_eq!(filled["error"]["type"], "invalid_request_error");
        assert_eq!(filled["error"]["param"], "title");
    }

    #[test]
    fn field_maps_problem_details_and_json_api_errors_are_recognised() {
        let aspnet = json!({"type": "object", "properties": {
            "title": {"type": "string"}, "status": {"type": "integer", "format": "int32"},
            "detail": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}});
        let filled = facts(aspnet, 422);
        assert_eq!(filled["status"], 422);
        assert_eq!(filled["title"], "Request does not match the API contract");
        assert_eq!(
            filled["errors"],
            json!({"title": ["is required"], "limit": ["must be at most 100"]})
        );
        let json_api = json!({"type": "object", "properties": {"errors": {"type": "array", "items": {
            "type": "object", "properties": {
                "status": {"type": "string"}, "title": {"type": "string"}, "detail": {"type": "string"},
                "source": {"type": "object", "properties": {"pointer": {"type": "string"}, "parameter": {"type": "string"}}}}}}}});
        let filled = facts(json_api, 422);
        assert_eq!(filled["errors"][0]["status"], "422");
        assert_eq!(filled["errors"][0]["source"]["pointer"], "/title");
        assert_eq!(filled["errors"][1]["source"]["parameter"], "limit");
        assert_eq!(filled["errors"][1]["detail"], "must be at most 100");
    }

    #[test]
    fn a_2020_12_reference_with_siblings_offers_both_its_places() {
        let document = json!({"openapi": "3.1.0", "components": {"schemas": {"Base": {
            "type": "object", "properties": {"message": {"type": ["string", "null"]}}}}}});
        let schema = json!({"$ref": "#/components/schemas/Base", "type": "object",
            "properties": {"errors": {"type": "object", "additionalProperties": {"type": "string"}}}});
        let mut model = SchemaModel::new(&document);
        let shape = ErrorShape::read(&mut model, &schema);
        let filled = shape.facts(422, "Request does not match the API contract", &two());
        assert_eq!(
            filled,
            json!({"errors": {"title": "is required", "limit": "must be at most 100"},
                "message": "2 violations: body /title: is required; query limit: must be at most 100"}),
        );
    }

    #[test]
    fn schemas_with_no_place_for_what_went_wrong_say_nothing() {
        let document = json!({});
        let text = json!({"type": "string"});
        let slack = json!({"type": "object", "additionalProperties": true, "required": ["ok"],
            "properties": {"ok": {"type": "boolean", "enum": [false]}}});
        let status_only = json!({"type": "object", "properties": {"id": {"type": "integer"}, "status": {"type": "integer"}}});
        let mut model = SchemaModel::new(&document);
        assert!(ErrorShape::read(&mut model, &text).says_nothing());
        assert!(ErrorShape::read(&mut model, &slack).says_nothing());
        assert!(ErrorShape::read(&mut model, &status_only).says_nothing());
    }

    #[test]
    fn a_status_choice_is_made_only_where_one_plainly_fits() {
        let choices = |names: &[&str]| {
            names
                .iter()
                .map(|name| (*name).to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            choice_for(401, &choices(&["OK", "UNAUTHENTICATED"])),
            Some("UNAUTHENTICATED")
        );
        assert_eq!(
            choice_for(404, &choices(&["not_found", "other"])),
            Some("not_found")
        );
        assert_eq!(choice_for(422, &choices(&["400", "422"])), Some("422"));
        assert_eq!(choice_for(422, &choices(&["red", "green"])), None);
    }
}
