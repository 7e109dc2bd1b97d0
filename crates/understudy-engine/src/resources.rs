//! Resources inferred from a spec at load: a collection path that creates (`POST /todos`) and the
//! item path under it (`/todos/{todo_id}`) make a resource whose records the store keeps, so that
//! what was created can be read, listed, replaced, patched and deleted. `x-understudy-resource` on
//! the collection's path item overrides the inference (or, `false`, turns it off).
//!
//! Everything here reads the document once, when the spec is compiled; the request path only
//! reads the [`ResourceRole`] each operation carries.
//!
//! Past 600 lines because it holds both halves of a resource, the inference at load and the
//! store's steps on the request path, which read the same [`ResourceRole`] and must agree.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::Value;

use crate::fresh::{is_update, normalised};
use crate::generate::GenerateContext;
use crate::json_schema::{deref, escape};
use crate::load_error::{ErrorKind, LoadError};
use crate::operation::ResponseMedia;
use crate::schema_model::{SchemaId, SchemaModel, Types};
use crate::store::{Lookup, Store};
use crate::violation::{Location, Violation, ViolationClass};

/// What an operation does to its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceRole {
    /// The store collection the records live in.
    pub collection: String,
    /// The operation's part.
    pub role: Role,
    /// Where the id is in the create's answer (a JSON pointer), when the spec says; else the
    /// answer's identity slot.
    pub id_pointer: Option<String>,
    /// For a list: where the records go in its answer.
    pub list: Option<ListShape>,
    /// For a list: the documented query parameters that page it.
    pub paging: Paging,
    /// For a replace: the properties a client may write (not `readOnly`); the others keep their
    /// stored values. `None` when the request schema does not list them.
    pub writable: Option<Vec<String>>,
}

/// The part an operation plays in its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// `POST` on the collection: stores the answered record.
    Create,
    /// `GET` on the collection: lists the stored records.
    List,
    /// `GET` on the item: the stored record.
    Read,
    /// `PUT` on the item: replaces it.
    Replace,
    /// `PATCH` on the item: merges into it.
    Merge,
    /// `DELETE` on the item: removes it.
    Delete,
}

impl Role {
    /// Whether the operation is on the item path (its last path parameter is the id).
    pub(crate) fn on_item(self) -> bool {
        matches!(
            self,
            Role::Read | Role::Replace | Role::Merge | Role::Delete
        )
    }
}

/// Where a list answer holds its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListShape {
    /// The JSON pointer of the array: empty for a bare array, `/data` for `{data: […]}`.
    pub items: String,
    /// The pointer of an integer property holding the total (`/total`), if the envelope has one.
    pub total: Option<String>,
}

/// The documented query parameters that page a list, by their names in the spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Paging {
    /// How many records a page holds (`limit`, `per_page`, `page_size`, `size`).
    pub limit: Option<String>,
    /// How many to skip (`offset`, `skip`).
    pub offset: Option<String>,
    /// Which page, from 1 (`page`).
    pub page: Option<String>,
}

/// The roles of the operations of one document, by path (as written in `paths`) and lower-case
/// method. Problems with `x-understudy-resource` are added to `errors`.
pub(crate) fn infer(
    model: &mut SchemaModel<'_>,
    mount: &str,
    errors: &mut Vec<LoadError>,
    file: &std::path::Path,
) -> HashMap<(String, &'static str), ResourceRole> {
    let document = model.document();
    let mut roles = HashMap::new();
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return roles;
    };
    let items = items_by_collection(paths.keys());
    for (path, item) in paths {
        let item = deref(document, item);
        let Some(post) = item.get("post") else {
            continue;
        };
        let at = format!("/paths/{}/x-understudy-resource", escape(path));
        let declared = item.get("x-understudy-resource");
        let mut collection = match post.get("x-understudy-collection") {
            Some(Value::String(name)) => name.clone(),
            _ => format!("{mount}{path}"),
        };
        let mut id_pointer = None;
        let item_path = match declared {
            Some(Value::Bool(false)) => continue,
            None | Some(Value::Bool(true)) => {
                match items
                    .get(&shape(path.trim_end_matches('/')))
                    .map(Vec::as_slice)
                {
                    Some([found]) => (*found).clone(),
                    // None, or several that could each be the item: the spec must say.
                    _ => continue,
                }
            }
            Some(Value::Object(declared)) => {
                if let Some(name) = declared.get("collection") {
                    match name.as_str() {
                        Some(name) => collection = name.to_owned(),
                        None => errors.push(LoadError::at(
                            file,
                            format!("{at}/collection"),
                            ErrorKind::Extension,
                            "`collection` must be a string",
                        )),
                    }
                }
                if let Some(id) = declared.get("id") {
                    match id.as_str() {
                        Some(id) if id.starts_with('/') => id_pointer = Some(id.to_owned()),
                        Some(id) if !id.is_empty() => id_pointer = Some(format!("/{}", escape(id))),
                        _ => errors.push(LoadError::at(
                            file,
                            format!("{at}/id"),
                            ErrorKind::Extension,
                            "`id` must be a property name or a JSON pointer into the create's answer",
                        )),
                    }
                }
                match declared.get("item").and_then(Value::as_str) {
                    Some(item) if paths.contains_key(item) && last_is_parameter(item) => {
                        item.to_owned()
                    }
                    _ => {
                        errors.push(LoadError::at(
                            file,
                            format!("{at}/item"),
                            ErrorKind::Extension,
                            "`item` must name a path of this spec whose last segment is its id parameter (`/todos/{todo_id}`)",
                        ));
                        continue;
                    }
                }
            }
            Some(_) => {
                errors.push(LoadError::at(
                    file,
                    at,
                    ErrorKind::Extension,
                    "`x-understudy-resource` must be an object or `false`",
                ));
                continue;
            }
        };
        let role = |role: Role| ResourceRole {
            collection: collection.clone(),
            role,
            id_pointer: id_pointer.clone(),
            list: None,
            paging: Paging::default(),
            writable: None,
        };
        roles.insert((path.clone(), "post"), role(Role::Create));
        if let Some(get) = item.get("get") {
            let mut list = role(Role::List);
            list.list = list_shape(model, get);
            list.paging = paging(document, item, get);
            roles.insert((path.clone(), "get"), list);
        }
        let Some(member) = paths.get(&item_path).map(|member| deref(document, member)) else {
            continue;
        };
        for (method, part) in [
            ("get", Role::Read),
            ("put", Role::Replace),
            ("patch", Role::Merge),
            ("delete", Role::Delete),
        ] {
            let Some(operation) = member.get(method) else {
                continue;
            };
            let mut found = role(part);
            if part == Role::Replace {
                found.writable = writable(model, operation);
            }
            roles.insert((item_path.clone(), method), found);
        }
    }
    roles
}

/// The paths that could be a collection's item, by the collection's [`shape`]: each path whose
/// last segment is a path parameter alone is an item of the path before it (`/todos/{todo_id}`
/// of `/todos` and `/todos/`; parameters of the collection may be named differently in the
/// item's path), in document order. Made once, so that finding a collection's item costs a look-up
/// instead of a pass over every path (Microsoft Graph has 6,000).
fn items_by_collection<'p>(
    paths: impl Iterator<Item = &'p String>,
) -> HashMap<String, Vec<&'p String>> {
    let mut items: HashMap<String, Vec<&String>> = HashMap::new();
    for path in paths {
        let Some((parent, last)) = path.trim_end_matches('/').rsplit_once('/') else {
            continue;
        };
        if !last.is_empty() && last_is_parameter(path) {
            items.entry(shape(parent)).or_default().push(path);
        }
    }
    items
}

/// Whether the last segment of a path (without a trailing `/`) is one path parameter alone.
fn last_is_parameter(path: &str) -> bool {
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    last.len() > 2 && last.starts_with('{') && last.ends_with('}') && last[1..].find('{').is_none()
}

/// A path with every parameter's name left out (`/users/{}/posts`).
fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut inside = false;
    for character in path.chars() {
        match character {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(character),
        }
    }
    out
}

/// Whether a schema holds a list: its type is `array` (or `null`), or it has `items`.
fn is_array(model: &mut SchemaModel<'_>, id: SchemaId) -> bool {
    let schema = model.get(id);
    schema.items.is_some()
        || schema
            .types
            .is_some_and(|types| types.without(Types::NULL) == Types(Types::ARRAY))
}

/// The JSON schema of the lowest documented 2xx response of `operation`, for a JSON media type.
fn success_schema<'d>(document: &'d Value, operation: &'d Value) -> Option<&'d Value> {
    let responses = deref(document, operation).get("responses")?.as_object()?;
    let (_, response) = responses
        .iter()
        .filter(|(status, _)| status.len() == 3 && status.starts_with('2'))
        .min_by_key(|(status, _)| status.as_str())?;
    let content = deref(document, response).get("content")?.as_object()?;
    content
        .iter()
        .find(|(media, _)| crate::media_type::is_json(media))
        .map(|(_, media)| media)?
        .get("schema")
}

/// Where a list answer holds its records: a bare array, or the envelope's array property (one
/// named like a list of records, or the only array), and its total, if it has one.
fn list_shape<'d>(model: &mut SchemaModel<'d>, get: &'d Value) -> Option<ListShape> {
    let schema = success_schema(model.document(), get)?;
    let schema = model.id(schema);
    if is_array(model, schema) {
        return Some(ListShape {
            items: String::new(),
            total: None,
        });
    }
    let properties = model.properties(schema);
    let arrays: Vec<&str> = properties
        .iter()
        .filter(|property| is_array(model, property.part))
        .map(|property| &*property.name)
        .collect();
    const LIST_NAMES: [&str; 8] = [
        "data", "items", "results", "records", "content", "entries", "rows", "values",
    ];
    let items = LIST_NAMES
        .iter()
        .find_map(|wanted| arrays.iter().find(|name| **name == *wanted))
        .or(if arrays.len() == 1 {
            arrays.first()
        } else {
            None
        })?;
    const TOTAL_NAMES: [&str; 8] = [
        "total",
        "total_count",
        "totalCount",
        "count",
        "total_items",
        "totalItems",
        "total_results",
        "totalResults",
    ];
    let total = TOTAL_NAMES.iter().find_map(|wanted| {
        properties
            .iter()
            .find(|property| {
                &*property.name == *wanted
                    && model
                        .get(property.part)
                        .types
                        .map(|types| types.without(Types::NULL))
                        == Some(Types(Types::INTEGER))
            })
            .map(|property| format!("/{}", escape(&property.name)))
    });
    Some(ListShape {
        items: format!("/{}", escape(items)),
        total,
    })
}

/// The documented query parameters of a list whose meaning is plain.
fn paging(document: &Value, item: &Value, get: &Value) -> Paging {
    let mut paging = Paging::default();
    let lists = [item.get("parameters"), get.get("parameters")];
    for parameter in lists
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
    {
        let parameter = deref(document, parameter);
        if parameter.get("in").and_then(Value::as_str) != Some("query") {
            continue;
        }
        let Some(name) = parameter.get("name").and_then(Value::as_str) else {
            continue;
        };
        let slot = match name.to_ascii_lowercase().as_str() {
            "limit" | "per_page" | "perpage" | "page_size" | "pagesize" | "size" => {
                &mut paging.limit
            }
            "offset" | "skip" => &mut paging.offset,
            "page" => &mut paging.page,
            _ => continue,
        };
        *slot = Some(name.to_owned());
    }
    paging
}

/// The properties a replace's request body lets a client write: those not `readOnly`.
fn writable<'d>(model: &mut SchemaModel<'d>, operation: &'d Value) -> Option<Vec<String>> {
    let content = deref(model.document(), operation.get("requestBody")?)
        .get("content")?
        .as_object()?;
    let schema = content
        .iter()
        .find(|(media, _)| crate::media_type::is_json(media))
        .map(|(_, media)| media)?
        .get("schema")?;
    let schema = model.id(schema);
    let properties = model.properties(schema);
    if properties.is_empty() {
        return None;
    }
    Some(
        properties
            .into_iter()
            .filter(|property| !property.read_only)
            .map(|property| property.name.to_string())
            .collect(),
    )
}

/// What a resource's operation does before the answer is made.
#[derive(Debug)]
pub(crate) enum Step {
    /// Nothing to read: the answer is made as for any operation.
    Pass,
    /// The answer holds this.
    Answer(Kept),
    /// The request is answered with this violation (at this status, if given).
    Refuse(Box<Violation>, Option<u16>),
}

/// What a resource's answer holds: a record, or a page of a list.
#[derive(Debug)]
pub(crate) enum Kept {
    /// One record, placed where the answer's schema holds its record.
    Record(Value),
    /// A page of records, their total and where they go.
    List {
        /// The page.
        items: Vec<Value>,
        /// How many records the list has in all.
        total: usize,
        /// Where they go.
        shape: ListShape,
    },
}

/// A stored answer held to the schema of the answer it goes in: the store keeps what one
/// operation answered or was sent, and another operation's schema (a list's items, a read, an
/// update's answer) may not allow all of it.
#[derive(Debug)]
pub(crate) enum Fitted {
    /// The body, valid under the media type's schema.
    Body(Value),
    /// A record that does not fit: the answer is generated with it echoed, so that what fits of
    /// it is kept ([`keep_refitted`] then stores that answer's record), and its id.
    Refit {
        /// The stored record.
        record: Value,
        /// Its id, where the answer's identity slot names one.
        id: Option<Value>,
    },
    /// Nothing stored fits: the answer is generated as if nothing were stored.
    Generated,
}

/// How many rounds of leaving out the records a list's schema refuses are tried.
const FITTING_ROUNDS: usize = 4;

impl Kept {
    /// The answer's body, checked against the media type's validator where it has one: a list
    /// leaves out the records its schema refuses (its total counts them out too), a record that
    /// does not fit is made again ([`Fitted::Refit`]).
    pub(crate) fn fitted(
        self,
        media: &ResponseMedia,
        rng: &mut Xoshiro256PlusPlus,
        now: DateTime<Utc>,
    ) -> Fitted {
        let list = matches!(self, Kept::List { .. });
        let (mut body, at, total) = self.placed(media, rng, now);
        let Some(validator) = media.validator.as_deref() else {
            return Fitted::Body(body);
        };
        if validator.is_valid(&body) {
            return Fitted::Body(body);
        }
        if !list {
            let record = if at.is_empty() {
                body
            } else {
                body.pointer_mut(&at).map(Value::take).unwrap_or_default()
            };
            let id = media
                .generator
                .as_ref()
                .and_then(|generator| generator.identity())
                .and_then(|slot| slot.pointer.rsplit('/').next())
                .and_then(|key| record.get(crate::json_schema::unescape(key)))
                .cloned();
            return Fitted::Refit { record, id };
        }
        for _ in 0..FITTING_ROUNDS {
            let mut refused: Vec<usize> = Vec::new();
            for pointer in validator.error_pointers(&body, 64) {
                let index = pointer
                    .strip_prefix(at.as_str())
                    .and_then(|rest| rest.strip_prefix('/'))
                    .and_then(|rest| rest.split('/').next())
                    .and_then(|index| index.parse().ok());
                match index {
                    Some(index) => refused.push(index),
                    // The envelope breaks the schema, not a record.
                    None => return Fitted::Generated,
                }
            }
            refused.sort_unstable();
            refused.dedup();
            let Some(Value::Array(items)) = body.pointer_mut(&at) else {
                return Fitted::Generated;
            };
            for index in refused.iter().rev() {
                if *index < items.len() {
                    items.remove(*index);
                }
            }
            if items.is_empty() {
                return Fitted::Generated;
            }
            if let Some((total_at, total)) = &total {
                let left = total.saturating_sub(refused.len());
                set(&mut body, total_at, Value::from(left));
            }
            if validator.is_valid(&body) {
                return Fitted::Body(body);
            }
        }
        Fitted::Generated
    }

    /// The answer's body: the record (or page) alone, or placed in an envelope generated from
    /// the media type's schema; with where the record (or the page's array) went and, for a
    /// list, where its total went and what it was.
    fn placed(
        self,
        media: &ResponseMedia,
        rng: &mut Xoshiro256PlusPlus,
        now: DateTime<Utc>,
    ) -> (Value, String, Option<(String, usize)>) {
        let (pointer, value, total) = match self {
            Kept::Record(value) => (record_pointer(media, None), value, None),
            Kept::List {
                items,
                total,
                shape,
            } => (
                shape.items,
                Value::Array(items),
                shape.total.map(|at| (at, total)),
            ),
        };
        if pointer.is_empty() {
            return (value, pointer, None);
        }
        let mut body = media.generator.as_ref().map_or_else(
            || Value::Object(serde_json::Map::new()),
            |generator| generator.generate(&mut GenerateContext::plain(rng, now)),
        );
        set(&mut body, &pointer, value);
        if let Some((at, total)) = &total {
            set(&mut body, at, Value::from(*total));
        }
        (body, pointer, total)
    }
}

/// Reads or changes the store for one request of a resource's operation (all but a create, which
/// is kept once its answer is made: [`keep_created`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn resource_step(
    role: &ResourceRole,
    store: &Store,
    params: &[(&str, &str)],
    body: Option<&Value>,
    media_type: Option<&str>,
    strict: bool,
    query: Option<&str>,
    now: DateTime<Utc>,
) -> Step {
    let on_item = role.role.on_item();
    let (scope, id) = scope_and_id(params, on_item);
    let missing = |lookup_deleted: bool| {
        if lookup_deleted || strict {
            let (name, value) = params.last().copied().unwrap_or_default();
            let said = if lookup_deleted {
                "was deleted"
            } else {
                "was never created"
            };
            let mut violation = Violation::new(
                ViolationClass::NotFound,
                Location::Path,
                format!("/{}", escape(name)),
                name,
                "exists",
                format!("the record `{value}` of {} {said}", role.collection),
            );
            violation.set_value(&Value::String(value.to_owned()));
            Step::Refuse(Box::new(violation), Some(404))
        } else {
            Step::Pass
        }
    };
    let collection = role.collection.as_str();
    match role.role {
        Role::Create => Step::Pass,
        Role::Read => match store.read(collection, &scope, id, Value::clone) {
            Lookup::Live(record) => Step::Answer(Kept::Record(record)),
            Lookup::Deleted => missing(true),
            Lookup::Unknown => missing(false),
        },
        Role::Delete => match store.delete(collection, &scope, id) {
            Lookup::Live(()) => Step::Pass,
            Lookup::Deleted => missing(true),
            Lookup::Unknown => missing(false),
        },
        Role::Replace | Role::Merge => {
            let Some(body) = body else {
                return Step::Pass;
            };
            let id_key = role
                .id_pointer
                .as_deref()
                .and_then(|pointer| pointer.rsplit('/').next())
                .unwrap_or("id");
            let json_patch = media_type.is_some_and(|media| media.contains("json-patch"));
            let changed = store.update(collection, &scope, id, |old| {
                let mut new = match role.role {
                    Role::Replace => replaced(old, body, role.writable.as_deref()),
                    _ if json_patch => patched(old, body)?,
                    _ => {
                        let mut new = old.clone();
                        json_patch::merge(&mut new, body);
                        new
                    }
                };
                if let Value::Object(map) = &mut new {
                    // The id names the record: no change moves it.
                    if let Some(id) = old.get(id_key) {
                        map.insert(id_key.to_owned(), id.clone());
                    }
                    // An update moves the update-like timestamps to now.
                    for (name, value) in map.iter_mut() {
                        if value.is_string() && is_update(&normalised(name)) {
                            *value = Value::String(now.to_rfc3339_opts(SecondsFormat::Secs, true));
                        }
                    }
                }
                Ok(new)
            });
            match changed {
                Lookup::Live(Ok(record)) => Step::Answer(Kept::Record(record)),
                Lookup::Live(Err(violation)) => Step::Refuse(violation, None),
                Lookup::Deleted => missing(true),
                Lookup::Unknown => missing(false),
            }
        }
        Role::List => {
            let Some(shape) = &role.list else {
                return Step::Pass;
            };
            let (skip, take) = page_of(&role.paging, query);
            let Some((items, total)) = store.list(collection, &scope, skip, take) else {
                // Nothing stored yet: generated records, so that pages render.
                return Step::Pass;
            };
            Step::Answer(Kept::List {
                items,
                total,
                shape: shape.clone(),
            })
        }
    }
}

/// Keeps a create's answer (`body`, for the record numbered `number`) as its resource's record.
pub(crate) fn keep_created(
    role: &ResourceRole,
    store: &Store,
    params: &[(&str, &str)],
    media: &ResponseMedia,
    body: &[u8],
    number: u64,
) {
    if !media.json {
        return;
    }
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let id_pointer = role.id_pointer.clone().or_else(|| {
        media
            .generator
            .as_ref()
            .and_then(|generator| generator.identity())
            .map(|slot| slot.pointer.clone())
    });
    let record_at = record_pointer(media, role.id_pointer.as_deref());
    let Some(record) = answer.pointer(&record_at).cloned() else {
        return;
    };
    let id = id_pointer
        .as_deref()
        .and_then(|pointer| answer.pointer(pointer));
    let (scope, _) = scope_and_id(params, false);
    store.keep(&role.collection, number, &scope, record, id);
}

/// After a stored record did not fit an answer ([`Fitted::Refit`]): the record in the answer made
/// instead (`body`) becomes the stored one, so that the next read answers what this one did.
pub(crate) fn keep_refitted(
    role: &ResourceRole,
    store: &Store,
    params: &[(&str, &str)],
    media: &ResponseMedia,
    body: &[u8],
) {
    if !media.json || !role.role.on_item() {
        return;
    }
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let Some(record) = answer.pointer(&record_pointer(media, None)).cloned() else {
        return;
    };
    let (scope, id) = scope_and_id(params, true);
    let _ = store.update(&role.collection, &scope, id, |_| Ok::<Value, ()>(record));
}

/// Where the record is in an answer of `media`: the object holding its id (`/data` for
/// `/data/id`), or the whole body.
fn record_pointer(media: &ResponseMedia, id_pointer: Option<&str>) -> String {
    let id_pointer = id_pointer.map(str::to_owned).or_else(|| {
        media
            .generator
            .as_ref()
            .and_then(|generator| generator.identity())
            .map(|slot| slot.pointer.clone())
    });
    id_pointer
        .and_then(|pointer| {
            pointer
                .rsplit_once('/')
                .map(|(parent, _)| parent.to_owned())
        })
        .unwrap_or_default()
}

/// The scope (the parents' ids, joined by `/`) and, on an item path, the id: the last parameter.
fn scope_and_id<'p>(params: &[(&str, &'p str)], on_item: bool) -> (String, &'p str) {
    let (id, parents) = match params.split_last() {
        Some((last, parents)) if on_item => (last.1, parents),
        _ => ("", params),
    };
    let mut scope = String::new();
    for (index, (_, value)) in parents.iter().enumerate() {
        if index > 0 {
            scope.push('/');
        }
        scope.push_str(value);
    }
    (scope, id)
}

/// A replace: what the client sent, and the stored properties it may not write (or, when the
/// schema does not say which it may, all it did not send).
fn replaced(old: &Value, body: &Value, writable: Option<&[String]>) -> Value {
    let mut new = body.clone();
    if let (Value::Object(old), Value::Object(map)) = (old, &mut new) {
        for (name, value) in old {
            let kept = writable.is_none_or(|writable| !writable.contains(name));
            if kept && !map.contains_key(name) {
                map.insert(name.clone(), value.clone());
            }
        }
    }
    new
}

/// A JSON Patch (RFC 6902) applied to a copy of `old`, or the violation saying why it cannot be.
fn patched(old: &Value, body: &Value) -> Result<Value, Box<Violation>> {
    let refuse = |message: String, pointer: String| {
        Box::new(Violation::new(
            ViolationClass::Schema,
            Location::Body,
            pointer,
            "",
            "json-patch",
            message,
        ))
    };
    let patch: json_patch::Patch = serde_json::from_value(body.clone())
        .map_err(|error| refuse(format!("not a JSON Patch document: {error}"), String::new()))?;
    let mut new = old.clone();
    json_patch::patch(&mut new, &patch).map_err(|error| {
        refuse(
            format!("the patch cannot be applied to the stored record: {error}"),
            format!("/{}", error.operation),
        )
    })?;
    Ok(new)
}

/// How many records to skip and take, from the documented paging parameters in `query`.
fn page_of(paging: &Paging, query: Option<&str>) -> (usize, usize) {
    let mut limit = None;
    let mut offset = None;
    let mut page = None;
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let Ok(number) = value.parse::<usize>() else {
            continue;
        };
        let is = |wanted: &Option<String>| wanted.as_deref() == Some(name.as_ref());
        if is(&paging.limit) {
            limit = Some(number);
        } else if is(&paging.offset) {
            offset = Some(number);
        } else if is(&paging.page) {
            page = Some(number);
        }
    }
    let take = limit.unwrap_or(usize::MAX);
    let skip = offset.unwrap_or_else(|| match (page, limit) {
        (Some(page), Some(limit)) => page.saturating_sub(1).saturating_mul(limit),
        _ => 0,
    });
    (skip, take)
}

/// Sets `value` at `pointer` in `body`, making objects on the way where there are none.
fn set(body: &mut Value, pointer: &str, value: Value) {
    let mut at = body;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !at.is_object() {
            *at = Value::Object(serde_json::Map::new());
        }
        let Value::Object(map) = at else {
            return;
        };
        at = map.entry(token).or_insert(Value::Null);
    }
    *at = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roles(document: &Value) -> HashMap<(String, &'static str), ResourceRole> {
        let mut errors = Vec::new();
        let mut model = SchemaModel::new(document);
        let roles = infer(&mut model, "", &mut errors, std::path::Path::new("x.yaml"));
        assert!(errors.is_empty(), "{errors:?}");
        roles
    }

    #[test]
    fn a_collection_and_its_item_path_make_a_resource() {
        let ok = json!({"responses": {"200": {"description": "ok"}}});
        let document = json!({"paths": {
            "/todos": {"post": ok, "get": ok},
            "/todos/{todo_id}": {"get": ok, "patch": ok, "delete": ok},
            "/todos/{todo_id}/done": {"post": ok},
            "/users/{user_id}/posts/": {"post": ok},
            "/users/{id}/posts/{post_id}/": {"get": ok},
            "/tags": {"post": ok},
            "/tags/popular": {"get": ok},
        }});
        let roles = roles(&document);
        let role = |path: &str, method| roles.get(&(path.to_owned(), method)).map(|r| r.role);
        assert_eq!(role("/todos", "post"), Some(Role::Create));
        assert_eq!(role("/todos", "get"), Some(Role::List));
        assert_eq!(role("/todos/{todo_id}", "patch"), Some(Role::Merge));
        assert_eq!(role("/todos/{todo_id}/done", "post"), None);
        assert_eq!(
            role("/users/{id}/posts/{post_id}/", "get"),
            Some(Role::Read)
        );
        // A literal segment is no item, so `/tags` stays a create alone.
        assert_eq!(role("/tags", "post"), None);
    }

    #[test]
    fn the_extension_names_the_item_and_turns_the_inference_off() {
        let ok = json!({"responses": {"200": {"description": "ok"}}});
        let document = json!({"paths": {
            "/todos": {"post": ok, "x-understudy-resource": false},
            "/todos/{todo_id}": {"get": ok},
            "/people": {"post": ok, "x-understudy-resource": {
                "collection": "persons", "item": "/person/{key}", "id": "key"}},
            "/person/{key}": {"get": ok},
        }});
        let roles = roles(&document);
        assert!(!roles.contains_key(&("/todos".to_owned(), "post")));
        let read = &roles[&("/person/{key}".to_owned(), "get")];
        assert_eq!(read.collection, "persons");
        assert_eq!(read.id_pointer.as_deref(), Some("/key"));
    }

    #[test]
    fn list_envelopes_and_paging_are_read_from_the_schema() {
        let list = |schema: Value| {
            json!({"parameters": [{"name": "skip", "in": "query"}, {"name": "limit", "in": "query"}],
                   "responses": {"200": {"content": {"application/json": {"schema": schema}}}}})
        };
        let document = json!({"paths": {}});
        let bare = list(json!({"type": "array", "items": {}}));
        let envelope = list(json!({"type": "object", "properties": {
            "links": {"type": "array"}, "items": {"type": "array"}, "total": {"type": "integer"}}}));
        let mut model = SchemaModel::new(&document);
        assert_eq!(
            list_shape(&mut model, &bare).map(|s| s.items),
            Some(String::new())
        );
        assert_eq!(
            list_shape(&mut model, &envelope),
            Some(ListShape {
                items: "/items".into(),
                total: Some("/total".into())
            })
        );
        let paging = paging(&document, &json!({}), &bare);
        assert_eq!(paging.offset.as_deref(), Some("skip"));
        assert_eq!(paging.limit.as_deref(), Some("limit"));
        assert_eq!(paging.page, None);
    }

    #[test]
    fn lists_and_writable_properties_are_read_as_the_model_reads_them() {
        // 3.1: the envelope's array and total are nullable, and named beside a `$ref`.
        let document = json!({"openapi": "3.1.0", "components": {"schemas": {
            "Page": {"type": "object", "properties": {"total": {"type": ["integer", "null"]}}},
            "Id": {"type": "string", "readOnly": true}}}});
        let get = json!({"responses": {"200": {"content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Page",
            "properties": {"rows": {"type": ["array", "null"]}}}}}}}});
        // A property read-only through an `allOf` wrapper is not writable (the request
        // validator does not require it either).
        let put = json!({"requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "id": {"allOf": [{"$ref": "#/components/schemas/Id"}]},
                "title": {"type": "string"}}}}}}});
        let mut model = SchemaModel::new(&document);
        assert_eq!(
            list_shape(&mut model, &get),
            Some(ListShape {
                items: "/rows".into(),
                total: Some("/total".into())
            })
        );
        assert_eq!(writable(&mut model, &put), Some(vec!["title".to_owned()]));
    }
}
