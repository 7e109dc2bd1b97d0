//! A violation: one way a request breaks the contract, said precisely enough for a person and a
//! vendor's error body alike.

use std::fmt;
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
    /// The offending value, where there is one (never a credential).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The format that failed, for `format` violations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Which kind of rule it is; it decides the response status.
    #[serde(skip)]
    pub class: ViolationClass,
}

/// Where in the request a violation is.
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
}

/// The kinds of violation, in the order they decide a response (the first present wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ViolationClass {
    /// Missing credentials or the wrong scheme: 401.
    Security,
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
            pointer: pointer.into(),
            field: field.into(),
            keyword: keyword.into(),
            message: message.into(),
            limit: None,
            value: None,
            format: None,
            class,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::Body => {
                let pointer = if self.pointer.is_empty() {
                    "/"
                } else {
                    &self.pointer
                };
                write!(f, "body {pointer}: {}", self.message)
            }
            location => write!(f, "{} {}: {}", location.as_str(), self.field, self.message),
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
