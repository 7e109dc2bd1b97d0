//! The request log: the last N requests with their status and violations, for the admin API and
//! for contract reports. Credentials never enter it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::violation::Violations;

/// One answered request.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    /// Its number since start-up (or the last reset), from 1.
    pub sequence: u64,
    /// The method.
    #[serde(serialize_with = "method_name")]
    pub method: http::Method,
    /// The path, without the query string.
    pub path: String,
    /// The query string with API-key values replaced by `***`.
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

    /// Appends a request, numbering it; the oldest falls out past the capacity.
    pub fn push(&self, mut entry: LoggedRequest) {
        if self.capacity == 0 {
            return;
        }
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
