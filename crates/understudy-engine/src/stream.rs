//! Streamed responses (OpenAPI 3.2's `itemSchema`): a response media type that describes each
//! item of a sequential media type, and no `schema`, is answered as a finite stream of a few
//! generated items, each valid against the item schema. `text/event-stream` is written as
//! server-sent events, `application/jsonl` and `application/x-ndjson` as one JSON item per line,
//! and `application/json-seq` as RFC 7464 records. Everything here is compiled at load
//! (`compile.rs`); a request only draws.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::Value;

use crate::generate::{GenerateContext, Generator};

/// The fewest items a stream answer holds.
pub const MIN_ITEMS: usize = 3;
/// The most items a stream answer holds.
pub const MAX_ITEMS: usize = 5;
/// Draws of one item before the last one is sent as it is.
const DRAWS: usize = 16;
/// The fields of a server-sent event, as the `text/event-stream` specification defines them.
const EVENT_FIELDS: [&str; 4] = ["data", "event", "id", "retry"];

/// How a stream's items are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/event-stream`: server-sent events.
    EventStream,
    /// `application/jsonl`, `application/x-ndjson`: one JSON text per line.
    JsonLines,
    /// `application/json-seq` (RFC 7464): each JSON text after a record separator (0x1E).
    JsonSeq,
}

impl Format {
    /// The framing of a sequential media type understudy streams, if `media_type` is one.
    pub fn of(media_type: &str) -> Option<Format> {
        match crate::media_type::essence(media_type).as_ref() {
            "text/event-stream" => Some(Format::EventStream),
            "application/jsonl" | "application/x-ndjson" | "application/x-jsonlines" => {
                Some(Format::JsonLines)
            }
            "application/json-seq" => Some(Format::JsonSeq),
            _ => None,
        }
    }
}

/// One schema's values, made by its generator and held to its validator.
#[derive(Debug, Clone)]
pub struct Items {
    /// The schema's generator.
    pub generator: Generator,
    /// The schema's validator: a drawn value it refuses is drawn again.
    pub validator: Option<Arc<crate::shared_schema::SchemaValidator>>,
}

impl Items {
    /// A value the validator accepts, drawn at most [`DRAWS`] times; else the last draw.
    fn draw(&self, rng: &mut Xoshiro256PlusPlus, now: DateTime<Utc>) -> Value {
        let mut value = Value::Null;
        for _ in 0..DRAWS {
            value = self
                .generator
                .generate(&mut GenerateContext::plain(rng, now));
            let valid = self
                .validator
                .as_ref()
                .is_none_or(|validator| validator.is_valid(&value));
            if valid {
                break;
            }
        }
        value
    }
}

/// What an item of a `text/event-stream` is.
#[derive(Debug, Clone)]
pub enum EventItem {
    /// The item is the event's data: each is sent as `data: <its JSON>`.
    Data,
    /// The item is an event object (`data`, `event`, `id`, `retry`), as OpenAPI 3.2 models a
    /// server-sent event; its fields are the event's. Where the schema's `data` has a
    /// `contentSchema`, the data is a JSON text of a value made from it.
    Event {
        /// The `contentSchema` of the event's `data`, if it has one.
        content: Option<Items>,
    },
}

/// A compiled streamed response.
#[derive(Debug, Clone)]
pub struct Stream {
    /// How items are framed.
    pub format: Format,
    /// Each item's generator and validator.
    pub items: Items,
    /// For an event stream, what an item is.
    pub event: EventItem,
}

impl Stream {
    /// How an event stream's item schema reads: an event object when its properties (or its
    /// `$ref` target's) are server-sent event fields, `data` among them; with `data`'s
    /// `contentSchema` where it has one (the schema's own, else its target's). `document`
    /// resolves `$ref`s.
    pub fn event_item<'d>(
        document: &'d Value,
        item_schema: &'d Value,
    ) -> (EventItem, Option<&'d Value>) {
        let target = crate::json_schema::deref(document, item_schema);
        let is_event = |schema: &Value| {
            schema
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|properties| {
                    properties.contains_key("data")
                        && properties
                            .keys()
                            .all(|name| EVENT_FIELDS.contains(&name.as_str()))
                })
        };
        if !is_event(item_schema) && !is_event(target) {
            return (EventItem::Data, None);
        }
        let content = [item_schema, target].into_iter().find_map(|schema| {
            let data = schema.pointer("/properties/data")?;
            crate::json_schema::deref(document, data).get("contentSchema")
        });
        (EventItem::Event { content: None }, content)
    }

    /// A finite stream of [`MIN_ITEMS`] to [`MAX_ITEMS`] items drawn from `rng`, each valid.
    pub fn answer(&self, rng: &mut Xoshiro256PlusPlus, now: DateTime<Utc>) -> Bytes {
        let count = rng.random_range(MIN_ITEMS..=MAX_ITEMS);
        let mut out = Vec::with_capacity(count * 128);
        for _ in 0..count {
            let item = match (&self.format, &self.event) {
                (Format::EventStream, EventItem::Event { content }) => {
                    self.event(content.as_ref(), rng, now)
                }
                _ => self.items.draw(rng, now),
            };
            self.write(&item, &mut out);
        }
        Bytes::from(out)
    }

    /// `items` written as this stream writes them (a documented example given as data).
    pub fn serialize(&self, items: &[Value]) -> Bytes {
        let mut out = Vec::new();
        for item in items {
            self.write(item, &mut out);
        }
        Bytes::from(out)
    }

    /// An event object whose fields survive the `text/event-stream` framing, its `data` a JSON
    /// text made from `content` where the schema gives one.
    fn event(
        &self,
        content: Option<&Items>,
        rng: &mut Xoshiro256PlusPlus,
        now: DateTime<Utc>,
    ) -> Value {
        let mut item = Value::Null;
        for _ in 0..DRAWS {
            item = self
                .items
                .generator
                .generate(&mut GenerateContext::plain(rng, now));
            if let (Some(content), Value::Object(fields)) = (content, &mut item) {
                let data = content.draw(rng, now);
                fields.insert("data".into(), Value::String(data.to_string()));
            }
            let valid = self
                .items
                .validator
                .as_ref()
                .is_none_or(|validator| validator.is_valid(&item));
            if valid && survives_framing(&item) {
                break;
            }
        }
        item
    }

    fn write(&self, item: &Value, out: &mut Vec<u8>) {
        match self.format {
            Format::JsonLines => {
                out.extend_from_slice(item.to_string().as_bytes());
                out.push(b'\n');
            }
            Format::JsonSeq => {
                out.push(0x1e);
                out.extend_from_slice(item.to_string().as_bytes());
                out.push(b'\n');
            }
            Format::EventStream => {
                match (&self.event, item) {
                    (EventItem::Event { .. }, Value::Object(fields)) => {
                        for name in ["event", "id", "retry"] {
                            if let Some(value) = fields.get(name) {
                                write_field(out, name, &field_text(value));
                            }
                        }
                        if let Some(data) = fields.get("data") {
                            for line in field_text(data).split('\n') {
                                write_field(out, "data", line);
                            }
                        }
                    }
                    _ => write_field(out, "data", &item.to_string()),
                }
                out.push(b'\n');
            }
        }
    }
}

/// A field's value as its line carries it: a string as it is, anything else as JSON.
fn field_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn write_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

/// Whether an event object reads back the same after the framing: no field breaks its line
/// (`data` may span lines, as each line is a `data:` field of its own), an `id` has no NUL (a
/// client ignores such an id), and a `retry` is digits only.
fn survives_framing(item: &Value) -> bool {
    let Value::Object(fields) = item else {
        return true;
    };
    fields.iter().all(|(name, value)| {
        let text = field_text(value);
        match name.as_str() {
            "data" => !text.contains('\r'),
            "retry" => value.as_u64().is_some(),
            "id" => !text.contains(['\r', '\n', '\0']),
            _ => !text.contains(['\r', '\n']),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_media_types_are_recognised_by_their_essence() {
        assert_eq!(
            Format::of("Text/Event-Stream; charset=utf-8"),
            Some(Format::EventStream)
        );
        assert_eq!(Format::of("application/x-ndjson"), Some(Format::JsonLines));
        assert_eq!(Format::of("application/jsonl"), Some(Format::JsonLines));
        assert_eq!(Format::of("application/json-seq"), Some(Format::JsonSeq));
        assert_eq!(Format::of("application/json"), None);
    }

    #[test]
    fn an_event_that_would_not_read_back_is_refused() {
        assert!(survives_framing(
            &serde_json::json!({"data": "a\nb", "event": "x", "retry": 5})
        ));
        assert!(!survives_framing(&serde_json::json!({"event": "a\nb"})));
        assert!(!survives_framing(&serde_json::json!({"id": "a\u{0}"})));
        assert!(!survives_framing(&serde_json::json!({"retry": -1})));
        assert!(!survives_framing(&serde_json::json!({"data": "a\rb"})));
    }
}
