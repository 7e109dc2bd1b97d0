//! A just-created record looks just created: what a create answers is made to agree with the
//! moment and the request. Its creation and update timestamps are the clock's now; timestamps of
//! events that cannot have happened yet (`last_login`, `activated_at`, `deleted_at`) are null or
//! absent; counters of past events (`failed_login_count`) are 0; a property the client could have
//! sent but did not is its default, else absent, else null; an array sent empty is empty; and a
//! property naming the record elsewhere in the answer (`userId`, or one marked
//! `x-understudy-same-as: /data/id`) holds its id.
//!
//! The rules are read from the schemas once, at load ([`Fresh::compile`]); a create applies them
//! to its answer ([`Fresh::apply`]), and the caller keeps the answer as generated if the result
//! would break the schema.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use std::sync::Arc;

use crate::json_schema::escape;
use crate::schema_model::{NamedTypes, PropertyDef, Schema, SchemaId, SchemaModel, Types};

/// The rules of one create, compiled from its request and success response schemas.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fresh {
    /// Where the record is in the answer (the object holding its id), as reference tokens.
    record: Vec<String>,
    /// Where the record is in the request body.
    sent: Vec<String>,
    /// What to do with each of the record's properties.
    rules: Vec<(String, Rule)>,
    /// Properties anywhere in the answer that hold the record's id, by path (`*` for every item
    /// of an array), and the id's pointer.
    same_as: Vec<(Vec<String>, String)>,
}

#[derive(Debug, Clone)]
enum Rule {
    /// Creation or update time: now, as a `date-time` (`true`) or a `date`.
    Now(bool),
    /// An event that has not happened: null (`true`) or absent.
    NotYet(bool),
    /// A count of past events: 0.
    Zero,
    /// The client could have sent it: when it did not, its default, else absent (`None`), else
    /// null.
    Sendable(Option<Value>, Absent),
}

#[derive(Debug, Clone, Copy)]
enum Absent {
    Remove,
    Null,
    Keep,
}

impl Fresh {
    /// The rules for a create whose request body has `request` as schema and whose answer has
    /// `response`, its id at `identity` (a JSON pointer) if it has one; `route` names the
    /// collection (`/v1/users` makes `userId` the id). `None` when there is nothing to do.
    pub(crate) fn compile<'d>(
        model: &mut SchemaModel<'d>,
        request: Option<&'d Value>,
        response: &'d Value,
        identity: Option<&str>,
        route: &str,
    ) -> Option<Fresh> {
        let mut fresh = Fresh::default();
        let record_pointer = identity
            .and_then(|pointer| pointer.rsplit_once('/'))
            .map_or("", |(parent, _)| parent);
        fresh.record = tokens(record_pointer);
        let response = model.id(response);
        let record = at_tokens(model, response, &fresh.record)?;
        let required = required_names(model, record);
        // The request's record: the body, or the object under its one wrapper (`{user: {…}}`).
        let mut sent_schema = request.map(|request| model.id(request));
        if let Some(request) = sent_schema {
            let top = model.properties(request);
            if let [only] = top.as_slice()
                && !model.properties(only.part).is_empty()
            {
                fresh.sent = vec![only.name.to_string()];
                sent_schema = Some(only.part);
            }
        }
        let sendable: Vec<PropertyDef> = sent_schema
            .map(|schema| model.properties(schema))
            .unwrap_or_default()
            .into_iter()
            .filter(|property| !property.read_only)
            .collect();
        let id_name = identity.and_then(|pointer| pointer.rsplit('/').next());
        for property in model.properties(record) {
            let name = &*property.name;
            if Some(name) == id_name {
                continue;
            }
            // 3.0's `nullable: true` or 3.1's `type: [string, "null"]`.
            let named = NamedTypes::of(model, property.part);
            let nullable = named.null;
            let optional = !required.iter().any(|known| **known == *name);
            let kind = named.single();
            let schema = model.get(property.part);
            let format = schema.format.as_deref();
            let timestamp = kind == Some("string") && matches!(format, Some("date-time" | "date"));
            let zero = allows_zero(schema);
            let plain = normalised(name);
            let sent = sendable.iter().find(|sent| sent.name == property.name);
            let rule = if timestamp && is_creation_or_update(&plain) {
                Some(Rule::Now(format == Some("date-time")))
            } else if timestamp && not_yet_happened(&plain) {
                (nullable || optional).then_some(Rule::NotYet(nullable))
            } else if kind == Some("integer") && counts_past_events(&plain) && zero {
                Some(Rule::Zero)
            } else if let Some(sent) = sent {
                let default = model.get(sent.part).default.as_deref().cloned();
                let absent = if optional {
                    Absent::Remove
                } else if nullable {
                    Absent::Null
                } else {
                    Absent::Keep
                };
                Some(Rule::Sendable(default, absent))
            } else {
                None
            };
            if let Some(rule) = rule {
                fresh.rules.push((name.to_owned(), rule));
            }
        }
        if let Some(identity) = identity {
            let own = own_id_names(route);
            // A property named after the record holds its id only if it is written alike.
            let written =
                at_tokens(model, response, &tokens(identity)).map(|id| Written::of(model.get(id)));
            let mut path = Vec::new();
            let names = Names {
                own: &own,
                identity,
                written,
            };
            same_as(model, response, &names, &mut path, &mut fresh.same_as, 0);
        }
        (!fresh.rules.is_empty() || !fresh.same_as.is_empty()).then_some(fresh)
    }

    /// Applies the rules to `answer`, for the request body `sent`, at `now`.
    pub(crate) fn apply(&self, answer: &mut Value, sent: Option<&Value>, now: DateTime<Utc>) {
        let sent_record = sent.and_then(|body| at(body, &self.sent));
        let ids: Vec<Option<Value>> = self
            .same_as
            .iter()
            .map(|(_, pointer)| answer.pointer(pointer).cloned())
            .collect();
        if let Some(Value::Object(record)) = at_mut(answer, &self.record) {
            for (name, rule) in &self.rules {
                apply_rule(record, name, rule, sent_record, now);
            }
            // An array sent empty comes back empty.
            if let Some(Value::Object(sent)) = sent_record {
                for (name, value) in sent {
                    if value.as_array().is_some_and(Vec::is_empty)
                        && record.get(name).is_some_and(Value::is_array)
                    {
                        record.insert(name.clone(), Value::Array(Vec::new()));
                    }
                }
            }
        }
        for ((path, _), id) in self.same_as.iter().zip(ids) {
            if let Some(id) = id {
                set_everywhere(answer, path, &id);
            }
        }
    }
}

fn apply_rule(
    record: &mut Map<String, Value>,
    name: &str,
    rule: &Rule,
    sent: Option<&Value>,
    now: DateTime<Utc>,
) {
    match rule {
        Rule::Now(date_time) => {
            if record.contains_key(name) {
                let text = if *date_time {
                    now.to_rfc3339_opts(SecondsFormat::Secs, true)
                } else {
                    now.format("%Y-%m-%d").to_string()
                };
                record.insert(name.to_owned(), Value::String(text));
            }
        }
        Rule::NotYet(true) => {
            record.insert(name.to_owned(), Value::Null);
        }
        Rule::NotYet(false) => {
            record.shift_remove(name);
        }
        Rule::Zero => {
            if record.contains_key(name) {
                record.insert(name.to_owned(), Value::from(0));
            }
        }
        Rule::Sendable(default, absent) => {
            if sent.and_then(|sent| sent.get(name)).is_some() {
                return;
            }
            match (default, absent) {
                (Some(default), _) => {
                    record.insert(name.to_owned(), default.clone());
                }
                (None, Absent::Remove) => {
                    record.shift_remove(name);
                }
                (None, Absent::Null) => {
                    record.insert(name.to_owned(), Value::Null);
                }
                (None, Absent::Keep) => {}
            }
        }
    }
}

/// Whether a timestamp's name (lower-case, without `_`) says when the record was made or changed.
pub(crate) fn is_creation_or_update(plain: &str) -> bool {
    is_creation(plain) || is_update(plain)
}

/// Whether a timestamp's name (lower-case, without `_`) says when the record was last changed.
pub(crate) fn is_update(plain: &str) -> bool {
    matches!(
        plain,
        "updatedat"
            | "updated"
            | "updatedon"
            | "modifiedat"
            | "modified"
            | "modifiedon"
            | "lastmodified"
            | "lastmodifiedat"
            | "datemodified"
            | "lastupdated"
            | "lastupdatedat"
    )
}

fn is_creation(plain: &str) -> bool {
    matches!(
        plain,
        "createdat"
            | "created"
            | "createdon"
            | "creationdate"
            | "creationtime"
            | "datecreated"
            | "datejoined"
            | "joinedat"
            | "insertedat"
            | "registeredat"
    )
}

fn not_yet_happened(plain: &str) -> bool {
    (plain.contains("last") && !is_update(plain))
        || matches!(
            plain,
            "activatedat"
                | "deletedat"
                | "archivedat"
                | "bannedat"
                | "suspendedat"
                | "disabledat"
                | "deactivatedat"
                | "lockedat"
                | "closedat"
                | "cancelledat"
                | "canceledat"
                | "completedat"
                | "finishedat"
                | "revokedat"
                | "blockedat"
                | "confirmedat"
                | "verifiedat"
                | "emailverifiedat"
                | "acceptedat"
                | "passwordchangedat"
        )
}

fn counts_past_events(plain: &str) -> bool {
    plain.ends_with("count")
        && [
            "login", "signin", "attempt", "failed", "failure", "access", "visit", "retr",
        ]
        .iter()
        .any(|event| plain.contains(event))
}

fn allows_zero(schema: &Schema) -> bool {
    schema
        .limits()
        .lower()
        .is_none_or(|lower| lower.value < 0.0 || (lower.value == 0.0 && !lower.exclusive))
}

/// A property name lower-cased without `_` and `-` (`lastSeenAt` and `last_seen_at` alike).
pub(crate) fn normalised(name: &str) -> String {
    name.chars()
        .filter(|character| *character != '_' && *character != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The names (normalised) that hold a record's own id in its answer: `userid` for `/users`.
fn own_id_names(route: &str) -> Vec<String> {
    route
        .split('/')
        .filter(|segment| !segment.is_empty() && !segment.starts_with('{'))
        .map(|segment| {
            let plain = normalised(segment);
            let single = plain.strip_suffix('s').unwrap_or(&plain).to_owned();
            format!("{single}id")
        })
        .collect()
}

/// What names a record's id elsewhere in its answer.
struct Names<'n> {
    /// The names (normalised) that do: `userid` for `/users`.
    own: &'n [String],
    /// The id's own pointer.
    identity: &'n str,
    /// How the id's schema writes its values, when the id has one.
    written: Option<Written>,
}

/// How a schema writes its values: its types (`null` apart), format and pattern.
#[derive(Debug, PartialEq)]
struct Written {
    types: Option<Types>,
    format: Option<Arc<str>>,
    pattern: Option<String>,
}

impl Written {
    fn of(schema: &Schema) -> Written {
        Written {
            types: schema.types.map(|types| types.without(Types::NULL)),
            format: schema.format.clone(),
            pattern: schema
                .pattern
                .as_ref()
                .map(|pattern| pattern.source().to_owned()),
        }
    }
}

/// Collects the properties under `schema` that hold the record's id: marked with
/// `x-understudy-same-as`, or named after the collection (`userId`) and written as the id is.
fn same_as(
    model: &mut SchemaModel<'_>,
    schema: SchemaId,
    names: &Names<'_>,
    path: &mut Vec<String>,
    found: &mut Vec<(Vec<String>, String)>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    if let Some(items) = model.get(schema).items {
        path.push("*".into());
        same_as(model, items, names, path, found, depth + 1);
        path.pop();
        return;
    }
    for property in model.properties(schema) {
        let name = &*property.name;
        path.push(name.to_owned());
        let pointer: String = path
            .iter()
            .map(|token| format!("/{}", escape(token)))
            .collect();
        if let Some(declared) = property.same_as() {
            found.push((path.clone(), declared.to_string()));
        } else if pointer != names.identity
            && names.own.contains(&normalised(name))
            && names
                .written
                .as_ref()
                .is_some_and(|id| *id == Written::of(model.get(property.part)))
        {
            found.push((path.clone(), names.identity.to_owned()));
        } else {
            same_as(model, property.part, names, path, found, depth + 1);
        }
        path.pop();
    }
}

fn set_everywhere(value: &mut Value, path: &[String], id: &Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match value {
        Value::Array(items) if first == "*" => {
            for item in items {
                set_everywhere(item, rest, id);
            }
        }
        Value::Object(map) => {
            if rest.is_empty() {
                if let Some(slot) = map.get_mut(first) {
                    *slot = id.clone();
                }
            } else if let Some(inner) = map.get_mut(first) {
                set_everywhere(inner, rest, id);
            }
        }
        _ => {}
    }
}

/// The names `schema` and its `allOf` parts require.
fn required_names(model: &mut SchemaModel<'_>, schema: SchemaId) -> Vec<Arc<str>> {
    let mut names = Vec::new();
    let mut stack = vec![schema];
    let mut visited = Vec::new();
    while let Some(id) = stack.pop() {
        if visited.contains(&id) || visited.len() > 64 {
            continue;
        }
        visited.push(id);
        let read = model.get(id);
        names.extend(read.required.iter().cloned());
        stack.extend(read.all_of.iter().rev());
    }
    names
}

/// The schema at `tokens` under `schema`, property by property.
fn at_tokens(model: &mut SchemaModel<'_>, schema: SchemaId, tokens: &[String]) -> Option<SchemaId> {
    tokens.iter().try_fold(schema, |schema, token| {
        model
            .properties(schema)
            .into_iter()
            .find(|property| *property.name == **token)
            .map(|property| property.part)
    })
}

fn tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn at<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |value, token| value.get(token))
}

fn at_mut<'v>(value: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    path.iter()
        .try_fold(value, |value, token| value.get_mut(token.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_read_whatever_their_case() {
        assert!(is_creation_or_update(&normalised("createdAt")));
        assert!(is_creation_or_update(&normalised("date_joined")));
        assert!(not_yet_happened(&normalised("lastSeenAt")));
        assert!(not_yet_happened(&normalised("password_last_change")));
        assert!(!not_yet_happened(&normalised("last_modified")));
        assert!(counts_past_events(&normalised("failed_login_count")));
        assert!(!counts_past_events(&normalised("seat_count")));
        assert_eq!(own_id_names("/v1/users/{id}"), vec!["v1id", "userid"]);
    }

    #[test]
    fn a_create_answer_is_made_to_look_just_created() {
        let document = json!({});
        let request = json!({"type": "object", "properties": {
            "name": {"type": "string"}, "nickname": {"type": "string"},
            "role": {"type": "string", "default": "member"},
            "tags": {"type": "array"}, "note": {"type": "string"}}});
        let response = json!({"type": "object", "required": ["id", "note"], "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"}, "nickname": {"type": "string"},
            "role": {"type": "string"}, "tags": {"type": "array"},
            "note": {"type": "string", "nullable": true},
            "created_at": {"type": "string", "format": "date-time"},
            "last_login": {"type": "string", "format": "date-time", "nullable": true},
            "deleted_at": {"type": "string", "format": "date-time"},
            "failed_login_count": {"type": "integer", "minimum": 0},
            "owner": {"type": "object", "properties": {"userId": {"type": "integer"}}}}});
        let mut model = SchemaModel::new(&document);
        let fresh =
            Fresh::compile(&mut model, Some(&request), &response, Some("/id"), "/users").unwrap();
        let mut answer = json!({"id": 4, "name": "Ann", "nickname": "x", "role": "admin",
            "tags": ["made up"], "note": "y", "created_at": "2020-01-01T00:00:00Z",
            "last_login": "2020-01-02T00:00:00Z", "deleted_at": "2020-01-03T00:00:00Z",
            "failed_login_count": 66, "owner": {"userId": 9}});
        let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        fresh.apply(&mut answer, Some(&json!({"name": "Ann", "tags": []})), now);
        assert_eq!(
            answer,
            json!({"id": 4, "name": "Ann", "role": "member", "tags": [], "note": null,
                "created_at": "2026-12-06T12:00:00Z", "last_login": null,
                "failed_login_count": 0, "owner": {"userId": 4}})
        );
    }

    #[test]
    fn rules_are_read_as_the_model_reads_the_schemas() {
        // 3.1: a count that may not be 0 (a numeric `exclusiveMinimum`) keeps its value; a
        // property read-only behind an `allOf` wrapper is not the client's to send; the id is
        // named again beside a `$ref` with `x-understudy-same-as`; and `nullable` is no keyword.
        let document = json!({"openapi": "3.1.0", "components": {"schemas": {
            "Ref": {"type": "object", "properties": {"key": {"type": "string"}}},
            "Stamp": {"type": "string", "readOnly": true}}}});
        let request = json!({"type": "object", "properties": {
            "stamp": {"allOf": [{"$ref": "#/components/schemas/Stamp"}]},
            "note": {"type": "string"}}});
        let response = json!({"type": "object", "required": ["id", "stamp", "note"], "properties": {
            "id": {"type": "integer"},
            "retry_count": {"type": "integer", "exclusiveMinimum": 0},
            "stamp": {"type": "string"},
            "note": {"type": "string", "nullable": true},
            "link": {"$ref": "#/components/schemas/Ref", "x-understudy-same-as": "/id"}}});
        let mut model = SchemaModel::new(&document);
        let fresh = Fresh::compile(
            &mut model,
            Some(&request),
            &response,
            Some("/id"),
            "/things",
        )
        .unwrap();
        let mut answer = json!({"id": 4, "retry_count": 3, "stamp": "s", "note": "y",
            "link": {"key": "k"}});
        fresh.apply(&mut answer, Some(&json!({})), Utc::now());
        assert_eq!(
            answer,
            json!({"id": 4, "retry_count": 3, "stamp": "s", "note": "y", "link": 4})
        );
    }
}
