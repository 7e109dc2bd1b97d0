//! A violation: one way a request breaks the contract, said precisely enough for a person and a
//! vendor's error body alike.

use std::fmt;
use std::io;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// A request's violations, shared by its answer, the request log and the contract report without
/// a copy each (most requests have none, and then nothing is allocated). Reads as a slice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Violations(Option<Arc<[Violation]>>);

impl From<Vec<Violation>> for Violations {
    fn from(violations: Vec<Violation>) -> Self {
        Violations((!violations.is_empty()).then(|| Arc::from(violations)))
    }
}

impl Deref for Violations {
    type Target = [Violation];

    fn deref(&self) -> &[Violation] {
        self.0.as_deref().unwrap_or_default()
    }
}

impl Serialize for Violations {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

/// One broken rule of the contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Which part of the request breaks it.
    pub location: Location,
    /// A JSON pointer into that part: into the body, or `/<name>` for a parameter or header.
    pub pointer: String,
    /// The field a person would name: the last pointer segment, or the parameter's or header's name.
    pub field: String,
    /// The keyword that failed (`required`, `format`, `maxLength`, `type`, `security`, …).
    pub keyword: String,
    /// The engine's own sentence for it.
    pub message: String,
    /// The schema's bound, allowed values or expected type, where the keyword has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<Value>,
    /// The offending value, where there is one (never a credential), at most
    /// [`MAX_VALUE_BYTES`] of it: see [`Violation::set_value`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// True when `value` is only the start of the offending value.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub value_truncated: bool,
    /// The whole offending value's length when `value` was cut: in characters for a string (as
    /// `maxLength` counts), in bytes of its JSON text for anything else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_length: Option<usize>,
    /// The format that failed, for `format` violations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Which kind of rule it is; it decides the response status.
    #[serde(skip)]
    pub class: ViolationClass,
    /// The `WWW-Authenticate` challenge a refused credential asks for (`Bearer
    /// error="invalid_token", error_description="…"`), never a credential; not serialized.
    #[serde(skip)]
    pub challenge: Option<Box<str>>,
    /// For an upstream's answer that broke the contract (the validation proxy): the documented
    /// response it was held to, as a JSON pointer into its spec
    /// (`/paths/~1users/post/responses/201`), or the operation's `responses` when none covers
    /// its status. At most [`MAX_TEXT_BYTES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Box<str>>,
}

/// The most bytes of an offending value a violation keeps (of a string's text, or of any other
/// value's JSON text). Requests can be as large as the body limit; what is kept of them cannot.
pub const MAX_VALUE_BYTES: usize = 256;

/// The most bytes a violation's pointer, field or message keeps; a longer one (a hostile property
/// name quoted whole) is cut on a character boundary and ends in [`CUT_MARK`].
pub const MAX_TEXT_BYTES: usize = 512;

/// What ends a text that was cut short.
pub const CUT_MARK: &str = "…";

/// Where in the request (or, for the validation proxy, in the upstream's answer) a violation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A header (credentials and `Content-Type` too).
    Header,
    /// A cookie.
    Cookie,
    /// The request body.
    Body,
    /// The upstream's status (the validation proxy): none of the documented responses covers it.
    #[serde(rename = "response_status")]
    ResponseStatus,
    /// A header of the upstream's answer (`Content-Type`, a required header).
    #[serde(rename = "response_header")]
    ResponseHeader,
    /// The upstream's body, against the documented response's schema.
    #[serde(rename = "response_body")]
    ResponseBody,
}

/// The kinds of violation, in the order they decide a response (the first present wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ViolationClass {
    /// Missing, refused or expired credentials, or the wrong scheme: 401.
    Security,
    /// A token without a scope the operation requires: 403.
    Scope,
    /// `Accept` names nothing the operation can produce: 406.
    Accept,
    /// `Content-Type` is not one the operation takes: 415.
    ContentType,
    /// The body is not well-formed JSON or not UTF-8: 400.
    Malformed,
    /// A parameter or the body breaks its schema: 422.
    #[default]
    Schema,
    /// A unique field repeats a stored record's value: the status the spec declares.
    Conflict,
    /// The path names a record of a resource that was deleted (or, with `--strict-resources`,
    /// never created): 404.
    NotFound,
}

impl Location {
    /// The lower-case name used in messages and error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
            Location::Body => "body",
            Location::ResponseStatus => "response status",
            Location::ResponseHeader => "response header",
            Location::ResponseBody => "response body",
        }
    }
}

impl Violation {
    /// A violation with no bound, value or format; set those fields afterwards where they apply.
    pub fn new(
        class: ViolationClass,
        location: Location,
        pointer: impl Into<String>,
        field: impl Into<String>,
        keyword: impl Into<String>,
        message: impl Into<String>,
    ) -> Violation {
        Violation {
            location,
            pointer: cut_text(pointer.into(), MAX_TEXT_BYTES),
            field: cut_text(field.into(), MAX_TEXT_BYTES),
            keyword: keyword.into(),
            message: cut_text(message.into(), MAX_TEXT_BYTES),
            limit: None,
            value: None,
            value_truncated: false,
            value_length: None,
            format: None,
            class,
            challenge: None,
            response: None,
        }
    }

    /// Sets the offending value, keeping at most [`MAX_VALUE_BYTES`] of it without copying the
    /// rest: a longer string keeps its first characters, any other longer value the start of its
    /// JSON text as a string; either way `value_truncated` is set and `value_length` says how long
    /// the whole was.
    pub fn set_value(&mut self, value: &Value) {
        let (kept, length) = bounded_value(value, MAX_VALUE_BYTES);
        self.value = Some(kept);
        self.value_truncated = length.is_some();
        self.value_length = length;
    }

    /// Cuts the pointer, field and message to [`MAX_TEXT_BYTES`] again, for a caller that changed
    /// them after [`Violation::new`].
    pub fn bound_text(&mut self) {
        for text in [&mut self.pointer, &mut self.field, &mut self.message] {
            if text.len() > MAX_TEXT_BYTES {
                *text = cut_text(std::mem::take(text), MAX_TEXT_BYTES);
            }
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary, ending in [`CUT_MARK`] (within the
/// `max`) when it was cut.
pub fn cut_text(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let end = floor_char_boundary(&text, max.saturating_sub(CUT_MARK.len()));
    text.truncate(end);
    text.push_str(CUT_MARK);
    text.shrink_to_fit();
    text
}

/// `value` kept whole when it takes at most `max` bytes, or its start and its whole length: see
/// [`Violation::set_value`]. Only the kept part is copied.
pub(crate) fn bounded_value(value: &Value, max: usize) -> (Value, Option<usize>) {
    match value {
        Value::String(text) if text.len() > max => {
            let end = floor_char_boundary(text, max);
            (
                Value::String(text[..end].to_owned()),
                Some(text.chars().count()),
            )
        }
        Value::Array(_) | Value::Object(_) => {
            let (start, whole) = json_prefix(value, max);
            if whole {
                (value.clone(), None)
            } else {
                let mut counter = Counter(0);
                // Counting cannot fail; the length is only a report, so an error would leave 0.
                let _ = serde_json::to_writer(&mut counter, value);
                (Value::String(start), Some(counter.0))
            }
        }
        other => (other.clone(), None),
    }
}

/// The start of `value`'s JSON text, at most `max` bytes of it cut on a character boundary, and
/// whether that is the whole text. Serialization stops once `max` bytes are written, so a huge
/// value costs no more than a small one.
pub fn json_prefix(value: &Value, max: usize) -> (String, bool) {
    let mut capped = Capped {
        bytes: Vec::new(),
        max,
        full: false,
    };
    // The writer refuses what does not fit, which ends the writing early; that is the point.
    let _ = write_prefix(value, &mut capped);
    let whole = !capped.full;
    let mut bytes = capped.bytes;
    if let Err(error) = std::str::from_utf8(&bytes) {
        bytes.truncate(error.valid_up_to());
    }
    (String::from_utf8(bytes).unwrap_or_default(), whole)
}

/// Writes `value` as compact JSON (the bytes `serde_json::to_writer` gives) into `out` until it
/// is full. A string is handed to serde_json cut to what can still fit, since serde_json scans a
/// whole string for escapes before it writes any of it.
fn write_prefix(value: &Value, out: &mut Capped) -> io::Result<()> {
    use io::Write;
    match value {
        Value::String(text) => write_str_prefix(text, out),
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.write_all(b",")?;
                }
                write_prefix(item, out)?;
            }
            out.write_all(b"]")
        }
        Value::Object(map) => {
            out.write_all(b"{")?;
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.write_all(b",")?;
                }
                write_str_prefix(key, out)?;
                out.write_all(b":")?;
                write_prefix(item, out)?;
            }
            out.write_all(b"}")
        }
        scalar => serde_json::to_writer(out, scalar).map_err(io::Error::other),
    }
}

/// Writes `text` as a JSON string into `out`, or as much of it as fits: a text longer than the
/// room left is cut to one byte more than the room, which cannot fit once quoted, so `out` ends
/// full either way.
fn write_str_prefix(text: &str, out: &mut Capped) -> io::Result<()> {
    let room = out.max - out.bytes.len();
    let end = floor_char_boundary(text, room + 1);
    let end = if end <= room && end < text.len() {
        // A character straddles the cut: take it whole, which overflows all the same.
        text[end..]
            .chars()
            .next()
            .map_or(text.len(), |character| end + character.len_utf8())
    } else {
        end
    };
    serde_json::to_writer(out, &text[..end]).map_err(io::Error::other)
}

/// The largest character boundary of `text` at or below `index`.
pub(crate) fn floor_char_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    (0..=index)
        .rev()
        .find(|&at| text.is_char_boundary(at))
        .unwrap_or(0)
}

/// A writer that keeps at most `max` bytes and fails once more are offered.
struct Capped {
    bytes: Vec<u8>,
    max: usize,
    full: bool,
}

impl io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.max - self.bytes.len();
        if buf.len() > room {
            self.bytes.extend_from_slice(&buf[..room]);
            self.full = true;
            return Err(io::Error::other("the kept prefix is full"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer that only counts bytes.
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::Body | Location::ResponseBody => {
                let pointer = if self.pointer.is_empty() {
                    "/"
                } else {
                    &self.pointer
                };
                write!(f, "{} {pointer}: {}", self.location.as_str(), self.message)?;
            }
            Location::ResponseStatus => write!(f, "response status: {}", self.message)?,
            location => write!(f, "{} {}: {}", location.as_str(), self.field, self.message)?,
        }
        match &self.response {
            Some(response) => write!(f, " ({response})"),
            None => Ok(()),
        }
    }
}

/// A one-line summary of violations for a log line.
pub fn summary(violations: &[Violation]) -> String {
    let mut line = String::new();
    for (index, violation) in violations.iter().enumerate() {
        if index > 0 {
            line.push_str("; ");
        }
        if index == 3 {
            line.push_str(&format!("and {} more", violations.len() - 3));
            break;
        }
        line.push_str(&violation.to_string());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn texts_are_cut_on_a_character_boundary_and_marked() {
        assert_eq!(cut_text("short".into(), 10), "short");
        let cut = cut_text("€".repeat(10), 10);
        assert!(cut.len() <= 10, "{cut}");
        assert_eq!(cut, "€€…");
    }

    #[test]
    fn long_values_keep_their_start_and_whole_length() {
        let (kept, length) = bounded_value(&json!("€".repeat(100)), 10);
        assert_eq!((kept, length), (json!("€€€"), Some(100)));
        let small = json!({"a": [1, 2]});
        assert_eq!(bounded_value(&small, 64), (small.clone(), None));
        let items: Vec<u32> = (0..1000).collect();
        let whole = serde_json::to_string(&items).unwrap();
        let (kept, length) = bounded_value(&json!(items), 16);
        assert_eq!(kept, json!(whole[..16]));
        assert_eq!(length, Some(whole.len()));
        let mut violation = Violation::new(ViolationClass::Schema, Location::Body, "", "", "x", "");
        violation.set_value(&json!("x".repeat(MAX_VALUE_BYTES + 1)));
        let shown = serde_json::to_value(&violation).unwrap();
        assert_eq!(shown["value_truncated"], true);
        assert_eq!(shown["value_length"], MAX_VALUE_BYTES + 1);
    }

    #[test]
    fn a_json_prefix_stops_early_and_never_splits_a_character() {
        let (text, whole) = json_prefix(&json!("ab€"), 5);
        assert_eq!((text.as_str(), whole), ("\"ab", false));
        let (text, whole) = json_prefix(&json!([1, 2]), 5);
        assert_eq!((text.as_str(), whole), ("[1,2]", true));
    }

    #[test]
    fn a_json_prefix_is_the_start_of_serde_jsons_text_at_every_length() {
        let value = json!({"a\"€": ["x\n€y", 1.5, null, {"k": "vvvv€"}], "b": true});
        let whole = serde_json::to_string(&value).unwrap();
        for max in 0..whole.len() + 2 {
            let (text, complete) = json_prefix(&value, max);
            assert!(whole.starts_with(&text), "{max}: {text}");
            assert!(
                text.len() <= max && text.len() + 3 >= max.min(whole.len()),
                "{max}: {text}"
            );
            assert_eq!(complete, max >= whole.len(), "{max}");
        }
    }
}
