//! The request log: the last N requests with their status and violations, for the admin API and
//! for contract reports. Credentials never enter it, and no entry holds more than a bounded
//! amount of what a request sent ([`LoggedRequest::bound`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

use crate::violation::{Violation, Violations, cut_text};

/// The most bytes of a logged path or query; a longer one is cut and ends in `…`.
pub const MAX_LOGGED_TEXT: usize = 1024;

/// The most bytes of a logged method (an extension method is any token); a longer one is cut.
pub const MAX_LOGGED_METHOD: usize = 32;

/// The most bytes one entry's violations may hold, by [`LoggedRequest::size_estimate`]'s count;
/// past it the first violations that fit are kept and `violations_omitted` counts the others.
pub const MAX_ENTRY_BYTES: usize = 16 * 1024;

/// The most bytes [`RequestLog::answer`] writes for the admin API (which promises 5 MB).
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// One answered request.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    /// Its number since start-up (or the last reset), from 1.
    pub sequence: u64,
    /// The method.
    #[serde(serialize_with = "method_name")]
    pub method: http::Method,
    /// The path, without the query string (at most [`MAX_LOGGED_TEXT`] bytes).
    pub path: String,
    /// The query string with credentials' values replaced by `***` (at most [`MAX_LOGGED_TEXT`]
    /// bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The status sent.
    pub status: u16,
    /// The spec that served it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<Arc<str>>,
    /// The operation that served it (`POST /users (createUser)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<Arc<str>>,
    /// What the request broke; empty for a request that kept the contract.
    pub violations: Violations,
    /// How many violations were left out to keep the entry within [`MAX_ENTRY_BYTES`].
    #[serde(skip_serializing_if = "is_zero")]
    pub violations_omitted: usize,
}

impl LoggedRequest {
    /// Cuts what the request sent to its bounds: the method, path and query, and the violations
    /// to [`MAX_ENTRY_BYTES`] (each violation's value and texts were bounded when it was made).
    /// Costs nothing for an entry already within them.
    pub fn bound(&mut self) {
        if self.method.as_str().len() > MAX_LOGGED_METHOD
            && let Ok(method) =
                http::Method::from_bytes(&self.method.as_str().as_bytes()[..MAX_LOGGED_METHOD])
        {
            self.method = method;
        }
        if self.path.len() > MAX_LOGGED_TEXT {
            self.path = cut_text(std::mem::take(&mut self.path), MAX_LOGGED_TEXT);
        }
        if let Some(query) = &mut self.query
            && query.len() > MAX_LOGGED_TEXT
        {
            *query = cut_text(std::mem::take(query), MAX_LOGGED_TEXT);
        }
        if self.violations.is_empty() {
            return;
        }
        let mut used = 0;
        let kept = self
            .violations
            .iter()
            .take_while(|violation| {
                used += violation_bytes(violation);
                used <= MAX_ENTRY_BYTES
            })
            .count();
        if kept < self.violations.len() {
            self.violations_omitted += self.violations.len() - kept;
            self.violations = self.violations[..kept].to_vec().into();
        }
    }

    /// About how many bytes the entry holds on the heap and in itself, counting its violations
    /// (which answers and the report may share) as its own; the spec and operation names, which
    /// the spec owns, are not counted.
    pub fn size_estimate(&self) -> usize {
        std::mem::size_of::<LoggedRequest>()
            + self.path.capacity()
            + self.query.as_ref().map_or(0, String::capacity)
            + self.violations.iter().map(violation_bytes).sum::<usize>()
    }
}

/// About how many bytes a violation holds.
fn violation_bytes(violation: &Violation) -> usize {
    std::mem::size_of::<Violation>()
        + violation.pointer.capacity()
        + violation.field.capacity()
        + violation.keyword.capacity()
        + violation.message.capacity()
        + violation.format.as_ref().map_or(0, String::capacity)
        + violation.limit.as_ref().map_or(0, value_bytes)
        + violation.value.as_ref().map_or(0, value_bytes)
}

/// About how many bytes a JSON value holds beyond its own slot.
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::String(text) => text.capacity(),
        Value::Array(items) => items
            .iter()
            .map(|item| std::mem::size_of::<Value>() + value_bytes(item))
            .sum(),
        Value::Object(map) => map
            .iter()
            .map(|(key, item)| {
                std::mem::size_of::<String>()
                    + key.capacity()
                    + std::mem::size_of::<Value>()
                    + value_bytes(item)
            })
            .sum(),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// A bounded, shared log of the last requests.
#[derive(Debug)]
pub struct RequestLog {
    capacity: usize,
    sequence: AtomicU64,
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
    /// A log that keeps at most `capacity` requests.
    pub fn new(capacity: usize) -> RequestLog {
        RequestLog {
            capacity,
            sequence: AtomicU64::new(0),
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
        }
    }

    /// Appends a request, numbering it and cutting it to its bounds
    /// ([`LoggedRequest::bound`]); the oldest falls out past the capacity.
    pub fn push(&self, mut entry: LoggedRequest) {
        if self.capacity == 0 {
            return;
        }
        entry.bound();
        entry.sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let mut entries = match self.entries.lock() {
            Ok(entries) => entries,
            Err(poisoned) => poisoned.into_inner(),
        };
        let oldest = if entries.len() >= self.capacity {
            entries.pop_front()
        } else {
            None
        };
        entries.push_back(entry);
        // The forgotten entry is freed once the lock is released.
        drop(entries);
        drop(oldest);
    }

    /// The last `limit` requests, oldest first.
    pub fn last(&self, limit: usize) -> Vec<LoggedRequest> {
        let entries = match self.entries.lock() {
            Ok(entries) => entries,
            Err(poisoned) => poisoned.into_inner(),
        };
        let skip = entries.len().saturating_sub(limit);
        entries.iter().skip(skip).cloned().collect()
    }

    /// The admin API's answer, as JSON text: `{"requests": [...], "truncated": false}` with the
    /// last `limit` requests oldest first, or, when they would take more than `budget` bytes, the
    /// newest that fit, `"truncated": true` and `"omitted"`, how many of the `limit` were left out.
    pub fn answer(&self, limit: usize, budget: usize) -> Vec<u8> {
        let entries = self.last(limit);
        let mut written: Vec<Vec<u8>> = Vec::new();
        let mut used = 0;
        for entry in entries.iter().rev() {
            let Ok(text) = serde_json::to_vec(entry) else {
                continue;
            };
            used += text.len() + 1;
            if used > budget {
                break;
            }
            written.push(text);
        }
        let omitted = entries.len() - written.len();
        let mut out = Vec::with_capacity(used.min(budget) + 64);
        out.extend_from_slice(b"{\"requests\":[");
        for (index, text) in written.iter().rev().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(text);
        }
        out.extend_from_slice(b"],\"truncated\":");
        if omitted > 0 {
            out.extend_from_slice(format!("true,\"omitted\":{omitted}}}").as_bytes());
        } else {
            out.extend_from_slice(b"false}");
        }
        out
    }

    /// About how many bytes the kept requests hold ([`LoggedRequest::size_estimate`]).
    pub fn kept_bytes(&self) -> usize {
        let entries = match self.entries.lock() {
            Ok(entries) => entries,
            Err(poisoned) => poisoned.into_inner(),
        };
        entries.iter().map(LoggedRequest::size_estimate).sum()
    }

    /// Forgets every request and restarts the numbering.
    pub fn clear(&self) {
        let mut entries = match self.entries.lock() {
            Ok(entries) => entries,
            Err(poisoned) => poisoned.into_inner(),
        };
        entries.clear();
        self.sequence.store(0, Ordering::Relaxed);
    }
}

fn method_name<S: serde::Serializer>(
    method: &http::Method,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(method.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> LoggedRequest {
        LoggedRequest {
            sequence: 0,
            method: http::Method::GET,
            path: path.into(),
            query: None,
            status: 200,
            spec: None,
            operation: None,
            violations: Violations::default(),
            violations_omitted: 0,
        }
    }

    #[test]
    fn keeps_the_last_requests_in_order_and_numbers_them() {
        let log = RequestLog::new(2);
        for path in ["/a", "/b", "/c"] {
            log.push(entry(path));
        }
        let last = log.last(10);
        assert_eq!(
            last.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
            ["/b", "/c"]
        );
        assert_eq!(last[1].sequence, 3);
        assert_eq!(log.last(1)[0].path, "/c");
        log.clear();
        assert!(log.last(10).is_empty());
    }
}
