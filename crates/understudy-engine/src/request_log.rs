//! The request log: the last N requests with their status, violations, latency, headers
//! (credentials masked) and the start of both bodies, for the admin API, the inspector page and
//! contract reports. Credentials never enter it, and no entry holds more than a bounded amount
//! of what a request sent or was answered ([`LoggedRequest::bound`]). It also counts requests
//! and violating requests per operation since start-up, as the contract report does.
//!
//! Past 600 lines because its bounds are one story: the entry, its exchange, their cuts and the
//! admin answer's byte budget are kept together so that every limit is read in one place.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

use crate::violation::{CUT_MARK, Violation, Violations, cut_text, floor_char_boundary};

/// The most bytes of a logged path or query; a longer one is cut and ends in `…`.
pub const MAX_LOGGED_TEXT: usize = 1024;

/// The most bytes of a logged method (an extension method is any token); a longer one is cut.
pub const MAX_LOGGED_METHOD: usize = 32;

/// The most bytes one entry's violations may hold, by [`LoggedRequest::size_estimate`]'s count;
/// past it the first violations that fit are kept and `violations_omitted` counts the others.
pub const MAX_ENTRY_BYTES: usize = 16 * 1024;

/// The most bytes of a request's or an answer's body an entry keeps.
pub const MAX_LOGGED_BODY: usize = 4 * 1024;

/// The most bytes of a request's or an answer's headers an entry keeps (names, values and a
/// separator each); past it the first headers that fit are kept.
pub const MAX_LOGGED_HEADERS: usize = 2 * 1024;

/// The most bytes of one logged header value; a longer one is cut and ends in `…`.
pub const MAX_LOGGED_HEADER_VALUE: usize = 512;

/// The most bytes an entry's [`Exchange`] holds, by [`Exchange::size_estimate`]'s count.
pub const MAX_EXCHANGE_BYTES: usize =
    2 * MAX_LOGGED_BODY + 2 * MAX_LOGGED_HEADERS + std::mem::size_of::<Exchange>();

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
    /// How long the engine took to answer, in microseconds (reading the body and sending the
    /// answer are not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<u64>,
    /// The headers and the start of both bodies, for the inspector; `None` in the contract report.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub exchange: Option<Box<Exchange>>,
    /// The callbacks the request caused, each with its outcome once the server has one (at most
    /// [`MAX_LOGGED_CALLBACKS`]); empty in the contract report.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<CallbackRecord>,
}

/// The most callbacks one entry records; a request that causes more has the first ones.
pub const MAX_LOGGED_CALLBACKS: usize = 16;

/// The most bytes of a callback's logged error; a longer one is cut and ends in `…`.
pub const MAX_CALLBACK_ERROR: usize = 512;

/// One callback a request caused, as the request log shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CallbackRecord {
    /// The callback's name in the spec.
    pub name: String,
    /// Its method.
    #[serde(serialize_with = "method_name")]
    pub method: http::Method,
    /// The URL it was sent to (credentials in its query hidden, at most [`MAX_LOGGED_TEXT`]
    /// bytes); absent when none could be made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where it stands.
    pub outcome: CallbackState,
    /// The status the receiver answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it was not fired or not answered (at most [`MAX_CALLBACK_ERROR`] bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a callback stands, as the request log writes it (`"answered"`, `"timed_out"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackState {
    /// Handed to the server, not yet settled.
    Pending,
    /// The receiver answered (any status).
    Answered,
    /// Its URL could not be made from the request (a missing value, not an http URL).
    NotFired,
    /// Its host is not one callbacks may go to (`--callbacks-to`), or callbacks are off.
    Refused,
    /// Too many callbacks were in flight.
    Dropped,
    /// No answer came within the timeout.
    TimedOut,
    /// The connection or the exchange failed.
    Failed,
}

/// How a fired callback ended, as the server reports it ([`RequestLog::settle_callback`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackResult {
    /// The receiver answered with this status.
    Answered(u16),
    /// Not sent, for this reason (the host is not allowed, or callbacks are off).
    Refused(String),
    /// Not sent: too many callbacks were in flight.
    Dropped(String),
    /// No answer within this long.
    TimedOut(std::time::Duration),
    /// The connection or the exchange failed, for this reason.
    Failed(String),
}

impl CallbackRecord {
    fn settle(&mut self, result: CallbackResult) {
        let (outcome, status, error) = match result {
            CallbackResult::Answered(status) => (CallbackState::Answered, Some(status), None),
            CallbackResult::Refused(reason) => (CallbackState::Refused, None, Some(reason)),
            CallbackResult::Dropped(reason) => (CallbackState::Dropped, None, Some(reason)),
            CallbackResult::TimedOut(after) => (
                CallbackState::TimedOut,
                None,
                Some(format!("no answer within {} ms", after.as_millis())),
            ),
            CallbackResult::Failed(reason) => (CallbackState::Failed, None, Some(reason)),
        };
        self.outcome = outcome;
        self.status = status;
        self.error = error.map(|error| cut_text(error, MAX_CALLBACK_ERROR));
    }

    fn size_estimate(&self) -> usize {
        std::mem::size_of::<CallbackRecord>()
            + self.name.capacity()
            + self.url.as_ref().map_or(0, String::capacity)
            + self.error.as_ref().map_or(0, String::capacity)
    }
}

/// Which logged request an entry is: its number and the count of resets when it was pushed
/// (numbers restart at a reset). Sequence 0 is a request the log did not keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryId {
    /// [`RequestLog::resets`] when it was pushed.
    pub resets: u64,
    /// Its [`LoggedRequest::sequence`].
    pub sequence: u64,
}

/// Which callback of which logged request an outcome is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallbackTicket {
    /// The request's entry.
    pub entry: EntryId,
    /// The callback's place in the entry's [`LoggedRequest::callbacks`].
    pub index: usize,
}

/// What a request and its answer carried, each part cut to its bound.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Exchange {
    /// The request's headers, credentials masked.
    pub request_headers: LoggedHeaders,
    /// The start of the request's body.
    pub request_body: BodyPrefix,
    /// The answer's headers, credentials masked.
    pub response_headers: LoggedHeaders,
    /// The start of the answer's body.
    pub response_body: BodyPrefix,
}

impl Exchange {
    /// Cuts every part to its bound; costs nothing for an exchange already within them.
    pub fn bound(&mut self) {
        self.request_headers.bound();
        self.response_headers.bound();
        self.request_body.bound();
        self.response_body.bound();
    }

    /// Replaces every occurrence of each of `secrets` (the values of credentials sent in the
    /// query, which an answer may quote back: a violation shows the client what it sent) with
    /// `***` in the headers and both bodies. Empty secrets are skipped.
    pub fn redact(&mut self, secrets: &[String]) {
        for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
            if self.request_headers.text.contains(secret.as_str()) {
                self.request_headers.text =
                    self.request_headers.text.replace(secret.as_str(), "***");
            }
            if self.response_headers.text.contains(secret.as_str()) {
                self.response_headers.text =
                    self.response_headers.text.replace(secret.as_str(), "***");
            }
            replace_bytes(&mut self.request_body.kept, secret.as_bytes());
            replace_bytes(&mut self.response_body.kept, secret.as_bytes());
        }
    }

    /// About how many bytes it holds on the heap and in itself.
    pub fn size_estimate(&self) -> usize {
        std::mem::size_of::<Exchange>()
            + self.request_headers.text.capacity()
            + self.response_headers.text.capacity()
            + self.request_body.kept.capacity()
            + self.response_body.kept.capacity()
    }
}

/// Every occurrence of `needle` in `bytes` replaced by `***`.
fn replace_bytes(bytes: &mut Vec<u8>, needle: &[u8]) {
    if needle.is_empty() || bytes.len() < needle.len() {
        return;
    }
    if !bytes.windows(needle.len()).any(|window| window == needle) {
        return;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at..].starts_with(needle) {
            out.extend_from_slice(b"***");
            at += needle.len();
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    *bytes = out;
}

/// Headers as one text, `name: value` a line, with credentials' values masked
/// ([`LoggedHeaders::from_map`]); written to JSON as a list of `[name, value]` pairs. One text
/// rather than a list, so that logging them costs one allocation.
#[derive(Debug, Clone, Default)]
pub struct LoggedHeaders {
    text: String,
    /// How many headers were left out to keep within [`MAX_LOGGED_HEADERS`].
    omitted: usize,
}

impl LoggedHeaders {
    /// `headers` with the values of credentials masked: `Authorization` (and
    /// `Proxy-Authorization`) keep only their scheme (`Bearer ***`), cookies only their names
    /// (`session=***`), and any header named in `secret` (lower-case) or whose name says it holds
    /// one (`key`, `token`, `secret`, `password`, `auth`, `session`, `signature`, `credential`) is
    /// `***`. Each value keeps at most [`MAX_LOGGED_HEADER_VALUE`] bytes, and the whole at most
    /// [`MAX_LOGGED_HEADERS`].
    pub fn from_map(headers: &http::HeaderMap, secret: &[String]) -> LoggedHeaders {
        let mut logged = LoggedHeaders {
            text: String::with_capacity(headers.len() * 40),
            omitted: 0,
        };
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            let masked = if PLAIN_HEADERS.contains(name) {
                None
            } else {
                mask_header(name.as_str(), &value, secret)
            };
            let value = masked.as_deref().unwrap_or(&value);
            let value_len = value.len().min(MAX_LOGGED_HEADER_VALUE);
            if logged.text.len() + name.as_str().len() + value_len + 3 > MAX_LOGGED_HEADERS {
                logged.omitted += 1;
                continue;
            }
            logged.text.push_str(name.as_str());
            logged.text.push_str(": ");
            if value.len() > MAX_LOGGED_HEADER_VALUE {
                let end = floor_char_boundary(value, MAX_LOGGED_HEADER_VALUE - CUT_MARK.len());
                logged.text.push_str(&value[..end]);
                logged.text.push_str(CUT_MARK);
            } else {
                // No header value holds a line break (`HeaderValue` refuses CR and LF), so a
                // line is a header.
                logged.text.push_str(value);
            }
            logged.text.push('\n');
        }
        // Growing by doubling may leave twice the room the text needs.
        if logged.text.capacity() > MAX_LOGGED_HEADERS {
            logged.text.shrink_to_fit();
        }
        logged
    }

    /// The headers, as (name, value) pairs.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.text
            .lines()
            .map(|line| line.split_once(": ").unwrap_or((line, "")))
    }

    fn bound(&mut self) {
        if self.text.len() > MAX_LOGGED_HEADERS {
            let end = floor_char_boundary(&self.text, MAX_LOGGED_HEADERS);
            let end = self.text[..end].rfind('\n').map_or(0, |at| at + 1);
            self.omitted += self.text[end..].lines().count();
            self.text.truncate(end);
            self.text.shrink_to_fit();
        }
    }
}

impl Serialize for LoggedHeaders {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut list = serializer.serialize_seq(None)?;
        for (name, value) in self.pairs() {
            list.serialize_element(&[name, value])?;
        }
        if self.omitted > 0 {
            list.serialize_element(&["…", &format!("{} more headers not kept", self.omitted)])?;
        }
        list.end()
    }
}

/// The value to log for a header that holds a credential, or `None` to log it as it is.
fn mask_header(name: &str, value: &str, secret: &[String]) -> Option<String> {
    match name {
        "authorization" | "proxy-authorization" => {
            // The scheme is shown when it is one (a token, then a space); a value without one
            // is never quoted.
            let scheme = value
                .split_once(' ')
                .map(|(scheme, _)| scheme)
                .filter(|scheme| {
                    !scheme.is_empty()
                        && scheme.len() <= 32
                        && scheme
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            Some(match scheme {
                Some(scheme) => format!("{scheme} ***"),
                None => "***".to_owned(),
            })
        }
        "cookie" => Some(
            value
                .split(';')
                .map(|pair| match pair.split_once('=') {
                    Some((cookie, _)) => format!("{}=***", cookie.trim()),
                    None => "***".to_owned(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        "set-cookie" => Some(match value.split_once('=') {
            Some((cookie, _)) => format!("{}=***", cookie.trim()),
            None => "***".to_owned(),
        }),
        _ if secret.iter().any(|secret| secret == name)
            || SECRET_WORDS.iter().any(|word| name.contains(word)) =>
        {
            Some("***".to_owned())
        }
        _ => None,
    }
}

/// Standard headers that hold no credential, which every request and answer carries a few of:
/// looking for [`SECRET_WORDS`] in their names would cost most of what logging headers costs.
const PLAIN_HEADERS: [http::HeaderName; 16] = [
    http::header::HOST,
    http::header::USER_AGENT,
    http::header::ACCEPT,
    http::header::ACCEPT_ENCODING,
    http::header::ACCEPT_LANGUAGE,
    http::header::CONTENT_TYPE,
    http::header::CONTENT_LENGTH,
    http::header::CONNECTION,
    http::header::ORIGIN,
    http::header::CACHE_CONTROL,
    http::header::DATE,
    http::header::LOCATION,
    http::header::VARY,
    http::header::ALLOW,
    http::header::RETRY_AFTER,
    http::header::TRANSFER_ENCODING,
];

/// Words in a header's (lower-case) name that say it holds a credential.
const SECRET_WORDS: [&str; 8] = [
    "key",
    "token",
    "secret",
    "password",
    "auth",
    "session",
    "signature",
    "credential",
];

/// The start of a body: at most [`MAX_LOGGED_BODY`] bytes, and its whole length. Written to
/// JSON as `{"text", "length", "truncated"}`, the text read as UTF-8 (bytes that are not are
/// replaced).
#[derive(Debug, Clone, Default)]
pub struct BodyPrefix {
    kept: Vec<u8>,
    length: usize,
    truncated: bool,
}

impl BodyPrefix {
    /// The first [`MAX_LOGGED_BODY`] bytes of `body` (only those are copied).
    pub fn of(body: &[u8]) -> BodyPrefix {
        BodyPrefix {
            kept: body[..body.len().min(MAX_LOGGED_BODY)].to_vec(),
            length: body.len(),
            truncated: body.len() > MAX_LOGGED_BODY,
        }
    }

    /// The kept bytes.
    pub fn kept(&self) -> &[u8] {
        &self.kept
    }

    /// The whole body's length in bytes, as sent.
    pub fn length(&self) -> usize {
        self.length
    }

    fn bound(&mut self) {
        if self.kept.len() > MAX_LOGGED_BODY {
            self.kept.truncate(MAX_LOGGED_BODY);
            self.kept.shrink_to_fit();
            self.truncated = true;
        }
    }
}

impl Serialize for BodyPrefix {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // A character cut at the end is left out rather than shown as a replacement.
        let text = match std::str::from_utf8(&self.kept) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(error) if error.error_len().is_none() => std::borrow::Cow::Borrowed(
                std::str::from_utf8(&self.kept[..error.valid_up_to()]).unwrap_or_default(),
            ),
            Err(_) => String::from_utf8_lossy(&self.kept),
        };
        let mut body = serializer.serialize_struct("BodyPrefix", 3)?;
        body.serialize_field("text", &text)?;
        body.serialize_field("length", &self.length)?;
        body.serialize_field("truncated", &self.truncated)?;
        body.end()
    }
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
        self.callbacks.truncate(MAX_LOGGED_CALLBACKS);
        for callback in &mut self.callbacks {
            callback.name = cut_text(std::mem::take(&mut callback.name), MAX_LOGGED_TEXT);
            if let Some(url) = &mut callback.url {
                *url = cut_text(std::mem::take(url), MAX_LOGGED_TEXT);
            }
            if let Some(error) = &mut callback.error {
                *error = cut_text(std::mem::take(error), MAX_CALLBACK_ERROR);
            }
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
        if let Some(exchange) = &mut self.exchange {
            exchange.bound();
        }
    }

    /// A copy without the exchange (headers and bodies) and the latency, as the contract report
    /// keeps it.
    pub fn clone_without_exchange(&self) -> LoggedRequest {
        LoggedRequest {
            sequence: self.sequence,
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            status: self.status,
            spec: self.spec.clone(),
            operation: self.operation.clone(),
            violations: self.violations.clone(),
            violations_omitted: self.violations_omitted,
            latency_us: None,
            exchange: None,
            callbacks: Vec::new(),
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
            + self
                .exchange
                .as_ref()
                .map_or(0, |exchange| exchange.size_estimate())
            + self
                .callbacks
                .iter()
                .map(CallbackRecord::size_estimate)
                .sum::<usize>()
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
        + violation
            .response
            .as_ref()
            .map_or(0, |response| response.len())
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
    resets: AtomicU64,
    state: Mutex<LogState>,
    /// The keys requests no operation matched are counted under.
    unmatched: Arc<str>,
}

#[derive(Debug, Default)]
struct LogState {
    entries: VecDeque<LoggedRequest>,
    /// Requests and violating requests per operation label (unique across the engine, as two
    /// operations cannot share a method and a route), since start-up.
    tally: BTreeMap<Arc<str>, Tally>,
}

/// How many requests an operation answered, and how many of them broke the contract.
#[derive(Debug, Clone, Serialize)]
pub struct Tally {
    /// The spec it belongs to; empty for requests no operation matched.
    pub spec: Arc<str>,
    /// The operation's label, or `(no matching operation)`.
    pub operation: Arc<str>,
    /// Requests answered.
    pub requests: u64,
    /// Requests that broke the contract (violations, or no operation matched), counted as the
    /// contract report counts them.
    pub violating: u64,
}

impl RequestLog {
    /// A log that keeps at most `capacity` requests.
    pub fn new(capacity: usize) -> RequestLog {
        RequestLog {
            capacity,
            sequence: AtomicU64::new(0),
            resets: AtomicU64::new(0),
            state: Mutex::new(LogState {
                entries: VecDeque::with_capacity(capacity.min(1024)),
                tally: BTreeMap::new(),
            }),
            unmatched: Arc::from(crate::contract_report::UNMATCHED),
        }
    }

    /// Whether it keeps any request (a log of capacity 0 keeps and counts nothing, so the
    /// engine need not gather what an entry would hold).
    pub fn keeps(&self) -> bool {
        self.capacity > 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Appends a request, numbering it and cutting it to its bounds
    /// ([`LoggedRequest::bound`]), and counts it for its operation; the oldest falls out past
    /// the capacity. Gives the entry's id, for settling its callbacks later.
    pub fn push(&self, mut entry: LoggedRequest) -> EntryId {
        if self.capacity == 0 {
            return EntryId::default();
        }
        entry.bound();
        let broke = !entry.violations.is_empty() || entry.operation.is_none();
        let mut state = self.lock();
        // Numbered under the lock, so that entries are in the order of their numbers.
        entry.sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        // Read under the lock too: `clear` counts a reset and restarts the numbers under it.
        let id = EntryId {
            resets: self.resets.load(Ordering::Relaxed),
            sequence: entry.sequence,
        };
        let label = entry.operation.as_ref().unwrap_or(&self.unmatched);
        let tally = match state.tally.get_mut(&**label) {
            Some(tally) => tally,
            None => state.tally.entry(Arc::clone(label)).or_insert(Tally {
                spec: entry.spec.clone().unwrap_or_else(|| Arc::from("")),
                operation: Arc::clone(label),
                requests: 0,
                violating: 0,
            }),
        };
        tally.requests += 1;
        tally.violating += u64::from(broke);
        let oldest = if state.entries.len() >= self.capacity {
            state.entries.pop_front()
        } else {
            None
        };
        state.entries.push_back(entry);
        // The forgotten entry is freed once the lock is released.
        drop(state);
        drop(oldest);
        id
    }

    /// Records how a callback of a logged request ended. An entry forgotten since (pushed out,
    /// or cleared by a reset) is left alone.
    pub fn settle_callback(&self, ticket: CallbackTicket, result: CallbackResult) {
        if ticket.entry.sequence == 0 {
            return;
        }
        let mut state = self.lock();
        if self.resets.load(Ordering::Relaxed) != ticket.entry.resets {
            return;
        }
        // Entries are numbered one after another, oldest first.
        let Some(first) = state.entries.front().map(|entry| entry.sequence) else {
            return;
        };
        let Some(at) = ticket
            .entry
            .sequence
            .checked_sub(first)
            .and_then(|at| usize::try_from(at).ok())
        else {
            return;
        };
        if let Some(entry) = state.entries.get_mut(at)
            && entry.sequence == ticket.entry.sequence
            && let Some(record) = entry.callbacks.get_mut(ticket.index)
        {
            record.settle(result);
        }
    }

    /// The last `limit` requests, oldest first.
    pub fn last(&self, limit: usize) -> Vec<LoggedRequest> {
        self.last_after(0, limit)
    }

    /// The last `limit` requests numbered above `after`, oldest first.
    pub(crate) fn last_after(&self, after: u64, limit: usize) -> Vec<LoggedRequest> {
        let state = self.lock();
        let newer = state
            .entries
            .iter()
            .rev()
            .take_while(|entry| entry.sequence > after)
            .count();
        let skip = state.entries.len() - newer.min(limit);
        state.entries.iter().skip(skip).cloned().collect()
    }

    /// Requests and violating requests per operation since start-up (a reset keeps them, as
    /// the contract report does), in the order of their labels.
    pub fn tally(&self) -> Vec<Tally> {
        self.lock().tally.values().cloned().collect()
    }

    /// How many times the log was cleared: a client that follows it by number (`after`) sees
    /// that the numbering restarted.
    pub fn resets(&self) -> u64 {
        self.resets.load(Ordering::Relaxed)
    }

    /// The admin API's answer, as JSON text: `{"requests": [...], "truncated": false}` with the
    /// last `limit` requests oldest first, or, when they would take more than `budget` bytes, the
    /// newest that fit, `"truncated": true` and `"omitted"`, how many of the `limit` were left out.
    pub fn answer(&self, limit: usize, budget: usize) -> Vec<u8> {
        self.answer_after(0, limit, budget)
    }

    /// [`RequestLog::answer`] for the requests numbered above `after` only, with `"resets"`
    /// ([`RequestLog::resets`]) and `"last"`, the number of the newest request logged (0 for
    /// none), so that a page polling it asks only for what is new.
    pub fn answer_after(&self, after: u64, limit: usize, budget: usize) -> Vec<u8> {
        let resets = self.resets();
        let entries = self.last_after(after, limit);
        let last = self.sequence.load(Ordering::Relaxed);
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
        let mut out = Vec::with_capacity(used.min(budget) + 96);
        out.extend_from_slice(b"{\"requests\":[");
        for (index, text) in written.iter().rev().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(text);
        }
        out.extend_from_slice(b"],\"truncated\":");
        if omitted > 0 {
            out.extend_from_slice(format!("true,\"omitted\":{omitted}").as_bytes());
        } else {
            out.extend_from_slice(b"false");
        }
        out.extend_from_slice(format!(",\"last\":{last},\"resets\":{resets}}}").as_bytes());
        out
    }

    /// About how many bytes the kept requests hold ([`LoggedRequest::size_estimate`]).
    pub fn kept_bytes(&self) -> usize {
        self.lock()
            .entries
            .iter()
            .map(LoggedRequest::size_estimate)
            .sum()
    }

    /// Forgets every request and restarts the numbering (the counts per operation stay).
    pub fn clear(&self) {
        let mut state = self.lock();
        state.entries.clear();
        self.sequence.store(0, Ordering::Relaxed);
        self.resets.fetch_add(1, Ordering::Relaxed);
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
            latency_us: None,
            exchange: None,
            callbacks: Vec::new(),
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

    fn pending(name: &str) -> CallbackRecord {
        CallbackRecord {
            name: name.into(),
            method: http::Method::POST,
            url: Some("http://127.0.0.1:9/hook".into()),
            outcome: CallbackState::Pending,
            status: None,
            error: None,
        }
    }

    #[test]
    fn a_callback_is_settled_in_its_own_entry_only() {
        let log = RequestLog::new(2);
        let mut first = entry("/a");
        first.callbacks = vec![pending("one"), pending("two")];
        let id = log.push(first);
        assert_eq!(id.sequence, 1);
        log.push(entry("/b"));
        log.settle_callback(
            CallbackTicket {
                entry: id,
                index: 1,
            },
            CallbackResult::Answered(204),
        );
        log.settle_callback(
            CallbackTicket {
                entry: id,
                index: 0,
            },
            CallbackResult::TimedOut(std::time::Duration::from_millis(250)),
        );
        let kept = &log.last(10)[0];
        assert_eq!(kept.callbacks[0].outcome, CallbackState::TimedOut);
        assert_eq!(
            kept.callbacks[0].error.as_deref(),
            Some("no answer within 250 ms")
        );
        assert_eq!(kept.callbacks[1].outcome, CallbackState::Answered);
        assert_eq!(kept.callbacks[1].status, Some(204));
        assert!(log.last(10)[1].callbacks.is_empty());

        // After a reset, a ticket of before names nothing, though the number is given again.
        log.clear();
        let mut again = entry("/c");
        again.callbacks = vec![pending("one")];
        let new_id = log.push(again);
        assert_eq!(new_id.sequence, id.sequence);
        log.settle_callback(
            CallbackTicket {
                entry: id,
                index: 0,
            },
            CallbackResult::Answered(500),
        );
        assert_eq!(log.last(10)[0].callbacks[0].outcome, CallbackState::Pending);
        // Nor does one whose entry was pushed out.
        log.push(entry("/d"));
        log.push(entry("/e"));
        log.settle_callback(
            CallbackTicket {
                entry: new_id,
                index: 0,
            },
            CallbackResult::Answered(500),
        );
        assert!(log.last(10).iter().all(|entry| entry.callbacks.is_empty()));
    }

    #[test]
    fn callback_records_are_bounded() {
        let log = RequestLog::new(1);
        let mut many = entry("/a");
        many.callbacks = (0..40).map(|_| pending(&"n".repeat(5000))).collect();
        let id = log.push(many);
        log.settle_callback(
            CallbackTicket {
                entry: id,
                index: 3,
            },
            CallbackResult::Failed("e".repeat(10_000)),
        );
        let kept = &log.last(1)[0];
        assert_eq!(kept.callbacks.len(), MAX_LOGGED_CALLBACKS);
        assert!(
            kept.callbacks
                .iter()
                .all(|record| record.name.len() <= MAX_LOGGED_TEXT)
        );
        let error = kept.callbacks[3].error.as_deref().unwrap_or_default();
        assert!(error.len() <= MAX_CALLBACK_ERROR && error.ends_with(CUT_MARK));
    }
}
