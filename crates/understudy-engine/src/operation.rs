//! The compiled form of a spec: operations with their validators, generators and error shapes,
//! built once at start-up and only read afterwards.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use http::HeaderValue;
use serde_json::Value;

use crate::callback::Callback;
use crate::error_body::ViolationMapping;
use crate::error_shape::ErrorShape;
use crate::fresh::Fresh;
use crate::generate::{Defaults, Generator};
use crate::resources::ResourceRole;
use crate::stream::Stream;
use crate::violation::Location;

/// One loaded spec file.
#[derive(Debug)]
pub struct Spec {
    /// The file's stem (`deployhq`), used to name the spec in logs, fixtures and the admin API.
    pub name: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// `info.title`.
    pub title: String,
    /// The version it declares, as `check` shows it: `OpenAPI 3.0.3`, or `Swagger 2.0` for a
    /// document converted at load (`swagger2.rs`).
    pub version: String,
    /// The path prefix from `servers[0].url` (`/v1`), empty for the root.
    pub mount: String,
    /// The operations, in document order.
    pub operations: Vec<Arc<Operation>>,
    /// What loaded but is odd (a Swagger 2.0 part with no OpenAPI 3.0 equivalent): the engine
    /// lists it among its warnings.
    pub warnings: Vec<crate::load_error::LoadError>,
    /// The top-level `webhooks` (OpenAPI 3.1): listed by the admin API, never served or fired.
    pub webhooks: Vec<Webhook>,
}

/// One operation of a top-level `webhooks` entry: what the API would send, which understudy
/// lists but never fires.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The webhook's name (its key under `webhooks`).
    pub name: String,
    /// The method.
    pub method: http::Method,
    /// Where it is in its document.
    pub pointer: String,
}

/// One operation (a method on a path) ready to serve.
#[derive(Debug)]
pub struct Operation {
    /// The name of the spec it belongs to.
    pub spec: Arc<str>,
    /// The HTTP method.
    pub method: http::Method,
    /// The served path template, mount included (`/v1/users/invite`); a path key's query part
    /// (`/rest?method=…`) is not in it.
    pub route: String,
    /// The path key's query part (`path_query.rs`), when the key has one.
    pub(crate) query: Option<crate::path_query::KeyQuery>,
    /// `operationId`, if the spec gives one.
    pub operation_id: Option<String>,
    /// A label for logs and reports: `POST /users (createUser)`.
    pub label: Arc<str>,
    /// Where it is in its document (`/paths/~1users/post`).
    pub pointer: String,
    /// The whole document it came from (every `$ref` local), for defaults and examples.
    pub document: Arc<Value>,
    /// Path, query, header and cookie parameters.
    pub parameters: Vec<Parameter>,
    /// Accepted credentials: any one alternative, each needing all of its credentials. Empty: none.
    pub security: Vec<Vec<Credential>>,
    /// The request body, if the operation takes one.
    pub body: Option<RequestBody>,
    /// Documented responses: numeric statuses ascending, then ranges (`2XX`), then `default`.
    pub responses: Vec<Response>,
    /// Every media type some response can produce.
    pub produces: Vec<String>,
    /// Unique fields (`x-understudy-unique`).
    pub unique: Vec<UniqueRule>,
    /// The collection records go to (`x-understudy-collection`, else the route).
    pub collection: String,
    /// Whether a successful request stores a record: a `POST` whose success response has a body.
    pub creates: bool,
    /// How long every answer waits (`x-understudy-delay`, in milliseconds).
    pub delay: Option<std::time::Duration>,
    /// How its answer is made to look just created (`fresh.rs`), for a create.
    pub(crate) fresh: Option<Fresh>,
    /// Its part in a resource inferred from the spec (`resources.rs`), if it has one.
    pub(crate) resource: Option<ResourceRole>,
    /// Its `callbacks`, one per URL expression and method, fired after a successful answer.
    pub(crate) callbacks: Vec<Callback>,
    /// Requests answered so far, for deterministic per-request seeds.
    pub served: RequestCounter,
}

/// A count of answered requests, alone on its cache line (two lines, as x86 prefetches lines in
/// pairs). Every request of an operation adds to it, from whichever worker thread answers; sharing
/// the line with the operation's other fields, which those requests only read, would make each add
/// take those fields from the other core's cache too.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct RequestCounter(AtomicU64);

impl std::ops::Deref for RequestCounter {
    type Target = AtomicU64;

    fn deref(&self) -> &AtomicU64 {
        &self.0
    }
}

/// A compiled parameter.
#[derive(Debug)]
pub struct Parameter {
    /// The parameter's name; header names are compared case-insensitively.
    pub name: String,
    /// Where it is sent.
    pub location: Location,
    /// Whether a request must send it.
    pub required: bool,
    /// How its text is turned into JSON before validation.
    pub shape: ParameterShape,
    /// Whether an array is sent as repeated keys (`explode`) rather than comma-separated.
    pub explode: bool,
    /// `allowEmptyValue` on a query parameter: sent with no value (`?opt_pretty=`), it is
    /// present and passes, whatever its schema says of values.
    pub allow_empty: bool,
    /// The schema's validator, if the parameter has a schema.
    pub validator: Option<Arc<crate::shared_schema::SchemaValidator>>,
    /// For an `in: querystring` parameter (OpenAPI 3.2), how the whole query string is read
    /// into the one value its schema checks; `None` for every other parameter.
    pub querystring: Option<QueryString>,
    /// For a query parameter of `style: deepObject` whose schema is an object, how its
    /// `name[key]=value` pairs are read into that object; `None` for every other parameter.
    pub deep: Option<DeepObject>,
}

/// How the `name[key]=value` pairs of a `deepObject` query parameter (Stripe's
/// `created[gte]=5`), or the pairs under one of its keys (`name[key][inner]=value`), are read:
/// the text of a key the schema declares as its schema's type, any other as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepObject {
    /// How a text sent for this key itself is read.
    pub shape: ParameterShape,
    /// The keys the schema declares here, each read by its own reading: to a few levels, and
    /// for a bounded number of keys in all (past them, a key's text is read as text).
    pub properties: Vec<(String, DeepObject)>,
}

/// How an `in: querystring` parameter reads the whole query string, by its `content`'s media
/// type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryString {
    /// `application/x-www-form-urlencoded`: the pairs as an object, each declared property's
    /// text read as its schema's type (an array from repeated keys); any other name is text, or
    /// an array of texts when repeated.
    Form {
        /// The schema's properties and how each one's text is read.
        properties: Vec<(String, ParameterShape)>,
    },
    /// `application/json` (or `+json`): the query string, percent-decoded, is one JSON text.
    Json,
    /// Any other media type: the query string, percent-decoded, is one string.
    Text,
}

/// How a parameter's text becomes a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterShape {
    /// One value of a scalar type.
    Scalar(ScalarKind),
    /// A list of scalars.
    Array(ScalarKind),
}

/// The scalar JSON types a parameter's text can be read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    /// Kept as text.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An object's text, read as JSON where it is JSON (Box's `mdfilters=[{…}]`), else kept as
    /// text for the schema to refuse.
    Json,
}

/// One credential a security requirement asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: <scheme> <token>`; the scheme is kept as written and compared case-insensitively.
    /// `oauth2` and `openIdConnect` schemes are `Bearer`, with the scopes their requirement names.
    Http {
        /// `Basic`, `Bearer`, `JWT`, …
        scheme: String,
        /// The scopes a token must grant (an `oauth2` or `openIdConnect` requirement's list).
        scopes: Vec<String>,
    },
    /// An API key in a header, query parameter or cookie.
    ApiKey {
        /// The header, parameter or cookie name.
        name: String,
        /// Where it is sent.
        location: Location,
    },
}

/// A compiled request body.
#[derive(Debug)]
pub struct RequestBody {
    /// Whether a request must carry one.
    pub required: bool,
    /// The accepted media types, in document order.
    pub media: Vec<BodyMedia>,
}

/// One accepted request media type.
#[derive(Debug)]
pub struct BodyMedia {
    /// The media type or range as documented, lower-cased (`application/json`, `application/*`).
    pub media_type: String,
    /// Whether the body is read as JSON.
    pub json: bool,
    /// The schema's validator.
    pub validator: Option<Arc<crate::shared_schema::SchemaValidator>>,
    /// The schema as written (tools generate requests from it; the request path never reads it).
    pub schema: Option<Value>,
    /// The schema's defaults, compiled; `None` when no default is reachable.
    pub defaults: Option<Defaults>,
    /// For a form (`application/x-www-form-urlencoded`, `multipart/form-data`), how its fields
    /// are read into an object for the validator; `None` for other media types, and for forms
    /// whose fields are not all scalars or lists of scalars (Stripe's `metadata[key]`), which
    /// are not checked.
    pub form: Option<FormBody>,
}

/// How a form body is read into an object: its encoding, and each declared field's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormBody {
    /// URL-encoded pairs, or the parts of a multipart body.
    pub multipart: bool,
    /// Each declared property with the shape its text is read as.
    pub properties: Vec<(String, ParameterShape)>,
}

/// The status a documented response is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatusKey {
    /// One status (`201`).
    Code(u16),
    /// A range (`2XX` is `Range(2)`).
    Range(u16),
    /// `default`.
    Default,
}

/// A compiled response.
#[derive(Debug)]
pub struct Response {
    /// Which status it documents.
    pub status: StatusKey,
    /// Documented headers.
    pub headers: Vec<ResponseHeader>,
    /// Documented bodies by media type.
    pub content: Vec<ResponseMedia>,
    /// The media types of `content`, in the same order, for negotiation.
    pub media_types: Vec<String>,
    /// How violations are written into it (`x-understudy-violations`).
    pub(crate) violations: Option<ViolationMapping>,
}

/// A documented response header.
#[derive(Debug)]
pub struct ResponseHeader {
    /// The header name.
    pub name: http::HeaderName,
    /// A generator for its schema.
    pub generator: Option<Generator>,
    /// Its documented example.
    pub example: Option<Value>,
}

/// A documented response body.
#[derive(Debug)]
pub struct ResponseMedia {
    /// The media type, lower-cased.
    pub media_type: String,
    /// The media type as a `Content-Type` value, made once (`None` if it cannot be one).
    pub content_type: Option<HeaderValue>,
    /// Whether the media type is JSON ([`crate::media_type::is_json`]), decided once.
    pub json: bool,
    /// A generator for its schema, if it has one.
    pub generator: Option<Generator>,
    /// For a sequential media type with an `itemSchema` and no `schema` (OpenAPI 3.2), the
    /// stream of items it is answered with (`stream.rs`).
    pub stream: Option<Stream>,
    /// The schema's validator, to check echoed bodies (a success's echo of the request, an
    /// error's echo of its violations).
    pub validator: Option<Arc<crate::shared_schema::SchemaValidator>>,
    /// Where violations go in the schema of an error response that has no
    /// `x-understudy-violations`: the error body is that schema filled with them.
    pub(crate) error_shape: Option<ErrorShape>,
    /// Named examples, in document order.
    pub examples: Vec<(String, Example)>,
    /// The single `example`, if given.
    pub example: Option<Example>,
}

impl ResponseMedia {
    /// The documented example: the first named one, else `example`.
    pub(crate) fn documented(&self) -> Option<&Example> {
        self.examples
            .first()
            .map(|(_, example)| example)
            .or(self.example.as_ref())
    }
}

/// A documented example of a response body, kept as the bytes it is answered with, made once:
/// a parsed copy of every example was a third of the memory GitHub's description took.
#[derive(Debug, Clone)]
pub struct Example {
    /// The body as its media type sends it: JSON, or a string's own text for another type.
    pub body: Bytes,
    /// The example as JSON (the same bytes as `body` for a JSON media type).
    pub json: Bytes,
    /// Whether the media type's validator, where it has one, accepts it: some specs' examples
    /// break their own schema (Slack's `invalid_auth` is outside its own `enum`).
    pub fits: bool,
}

/// A unique field of a create (`x-understudy-unique`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueRule {
    /// JSON pointer into the request body.
    pub pointer: String,
    /// The pointer's reference tokens, unescaped once at start-up.
    pub tokens: Vec<String>,
    /// Lower-case before comparing.
    pub lowercase: bool,
    /// Trim white space before comparing.
    pub trim: bool,
    /// The documented status a conflict gets.
    pub status: u16,
    /// The conflict's message; `{value}` is the normalised value.
    pub message: String,
}

impl UniqueRule {
    /// The value the rule compares in `body`, if it has one.
    pub fn find<'v>(&self, body: &'v Value) -> Option<&'v Value> {
        self.tokens
            .iter()
            .try_fold(body, |value, token| match value {
                // Request objects are small: a scan beats serde_json's SipHash lookup.
                Value::Object(map) if map.len() <= 16 => map
                    .iter()
                    .find_map(|(name, value)| (name == token).then_some(value)),
                Value::Object(map) => map.get(token),
                Value::Array(items) => token.parse::<usize>().ok().and_then(|at| items.get(at)),
                _ => None,
            })
    }
}

impl StatusKey {
    /// The status to send for this response.
    pub fn code(self) -> u16 {
        match self {
            StatusKey::Code(code) => code,
            StatusKey::Range(class) => class * 100,
            StatusKey::Default => 500,
        }
    }

    /// Whether `code` is documented by this key.
    pub fn covers(self, code: u16) -> bool {
        match self {
            StatusKey::Code(own) => own == code,
            StatusKey::Range(class) => code / 100 == class,
            StatusKey::Default => false,
        }
    }
}

impl Operation {
    /// The route with the path key's query part, if it has one (`/services/rest?method=…`): what
    /// listings and messages show, so that operations on one route are told apart.
    pub fn shown_route(&self) -> std::borrow::Cow<'_, str> {
        match &self.query {
            Some(query) => format!("{}?{}", self.route, query.written).into(),
            None => self.route.as_str().into(),
        }
    }

    /// The documented response for `code` (exact first, then its range), if any.
    pub fn response_for(&self, code: u16) -> Option<&Response> {
        self.responses
            .iter()
            .find(|response| response.status == StatusKey::Code(code))
            .or_else(|| {
                self.responses
                    .iter()
                    .find(|response| response.status.covers(code))
            })
    }

    /// The `default` response, if documented.
    pub fn default_response(&self) -> Option<&Response> {
        self.responses
            .iter()
            .find(|response| response.status == StatusKey::Default)
    }

    /// The success response: the lowest documented 2xx, else `default`.
    pub fn success_response(&self) -> Option<&Response> {
        self.responses
            .iter()
            .find(|response| {
                (200..300).contains(&response.status.code())
                    && response.status != StatusKey::Default
            })
            .or_else(|| self.default_response())
    }

    /// The response a valid request gets: the success response, else the lowest status the
    /// operation documents (Petstore's `POST /pet` documents only 405; GitHub's tarball only 302),
    /// so that no answer has a status the spec does not give. A 1xx is never one: it cannot be
    /// an exchange's final answer (hyper would send a 500 in its place).
    pub fn valid_request_response(&self) -> Option<&Response> {
        self.success_response().or_else(|| {
            self.responses
                .iter()
                .filter(|response| {
                    response.status != StatusKey::Default && response.status.code() >= 200
                })
                .min_by_key(|response| response.status.code())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[test]
    fn the_request_counter_has_a_cache_line_to_itself() {
        // 128 bytes: two 64-byte lines, as the adjacent-line prefetcher of x86 fetches in pairs.
        assert_eq!(std::mem::align_of::<RequestCounter>(), 128);
        assert_eq!(std::mem::size_of::<RequestCounter>(), 128);
        let counter = RequestCounter::default();
        assert_eq!(counter.fetch_add(1, Ordering::Relaxed), 0);
        assert_eq!(counter.load(Ordering::Relaxed), 1);
    }
}
