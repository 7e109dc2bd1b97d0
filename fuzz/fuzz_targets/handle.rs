//! Fuzz target `handle`: arbitrary requests through `Engine::handle`, against the vendor specs in
//! `specs/` and the keyword-heavy `fuzz/specs/keywords.yaml`, loaded once with a seed.
//!
//! An input is read one of two ways. One that starts with an upper-case ASCII letter is a request
//! written as HTTP text (`POST /users HTTP/1.1`, header lines, a blank line, then the body's raw
//! bytes), the fixtures' form: the seed corpus is such requests, valid and invalid, for every
//! operation. Any other input is decoded by `arbitrary` into a [`Structured`] request whose parts
//! are drawn from what the specs name (route templates, property names, enum values, parameter
//! names) or taken as they are, so that the fuzzer reaches validated bodies without guessing every
//! name, and raw bytes still reach every part, the body included.
//!
//! Each input starts from an empty store (`Engine::reset`), so a crash reproduces alone; a request
//! that an operation answers with a success is sent a second time, which reaches the store's
//! conflicts. Every answer is held to `understudy_fuzz::check_outcome`.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use understudy_engine::{Engine, EngineOptions};
use understudy_fuzz::{OwnedRequest, check_outcome, parse_http_request};

fuzz_target!(|data: &[u8]| {
    let world = world();
    let request = match data.first() {
        Some(first) if first.is_ascii_uppercase() => match parse_http_request(data) {
            Some(request) => request,
            None => return,
        },
        _ => {
            let Ok(structured) = Structured::arbitrary_take_rest(Unstructured::new(data)) else {
                return;
            };
            structured.build(world)
        }
    };
    world.engine.reset();
    let mock = request.as_mock();
    let outcome = world.engine.handle(&mock);
    check_outcome(&mock, &outcome);
    if outcome.operation.is_some() && outcome.response.status.is_success() {
        let again = world.engine.handle(&mock);
        check_outcome(&mock, &again);
    }
});

/// The engine and the words the structured requests are made of.
struct World {
    engine: Engine,
    /// Every served route template, such as `/kw/v2/members/{memberId}`.
    routes: Vec<String>,
    /// Property and parameter names, enum values and other strings found in the specs, and a few
    /// awkward values.
    words: Vec<String>,
    /// Header names: the specs' parameters and credentials, and those the engine reads.
    header_names: Vec<HeaderName>,
    /// Header values the engine gives meaning to.
    header_values: Vec<HeaderValue>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let paths = [fuzz.join("../specs"), fuzz.join("specs")];
        let options = EngineOptions {
            seed: Some(1),
            max_records: 16,
            request_log: 8,
            report: true,
            ..EngineOptions::default()
        };
        let engine = match Engine::load(&paths, options) {
            Ok(engine) => engine,
            Err(report) => panic!("the fuzz target's specs do not load: {report}"),
        };
        let routes: Vec<String> = engine
            .routes()
            .into_iter()
            .map(|route| route.path)
            .collect();
        let mut words: Vec<String> = [
            "",
            "0",
            "1",
            "-1",
            "2.5",
            "1e400",
            "true",
            "false",
            "null",
            "[]",
            "{}",
            "a",
            " ",
            "%",
            "%zz",
            "%00",
            "%2F",
            "%FF",
            "é",
            "\u{0}",
            "ada@example.com",
            " Ada@Example.COM ",
            "not an address",
            "2025-01-01T12:00:00Z",
            "2025-13-45",
            "https://example.com/a",
            "00000000-0000-0000-0000-000000000000",
            "99999999999999999999",
            "__code",
            "__example",
            "__dynamic",
            "201",
            "422",
            "999",
            "1000",
        ]
        .map(str::to_owned)
        .into();
        let mut header_names: Vec<HeaderName> = [
            "authorization",
            "content-type",
            "accept",
            "prefer",
            "cookie",
        ]
        .iter()
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
        .collect();
        for spec in engine.specs() {
            if let Some(operation) = spec.operations.first() {
                gather(&operation.document, &mut words, 0);
            }
            for operation in &spec.operations {
                for parameter in &operation.parameters {
                    if let Ok(name) = HeaderName::from_bytes(parameter.name.as_bytes()) {
                        header_names.push(name);
                    }
                }
                for credential in operation.security.iter().flatten() {
                    if let understudy_engine::operation::Credential::ApiKey { name, .. } =
                        credential
                        && let Ok(name) = HeaderName::from_bytes(name.as_bytes())
                    {
                        header_names.push(name);
                    }
                }
            }
        }
        words.sort();
        words.dedup();
        header_names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        header_names.dedup();
        let header_values = [
            "Basic dXNlckBleGFtcGxlLmNvbTphcGkta2V5",
            "Bearer token",
            "JWT token",
            "Basic",
            "bearer  ",
            "application/json",
            "application/json; charset=utf-8",
            "application/merge-patch+json",
            "application/problem+json",
            "text/plain",
            "text/csv",
            "application/xml",
            "*/*",
            "application/*",
            "text/*;q=0.5, application/json;q=0.9",
            "code=201",
            "code=422, dynamic=false",
            "code=1000",
            "example=ada",
            "example=page-example",
            "dynamic=false",
            "session=abc; lang=fr",
            "lang=xx",
            "true",
            "false",
            "0b9e6a1c-6f57-4f6b-9d1e-3f1a2b4c5d6e",
            "abcd",
        ]
        .iter()
        .map(|value| HeaderValue::from_static(value))
        .collect();
        World {
            engine,
            routes,
            words,
            header_names,
            header_values,
        }
    })
}

/// Adds the keys and short strings of `value` to `words`.
fn gather(value: &Value, words: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                if key.len() <= 40 {
                    words.push(key.clone());
                }
                gather(child, words, depth + 1);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| gather(item, words, depth + 1)),
        Value::String(text) if text.len() <= 40 => words.push(text.clone()),
        _ => {}
    }
}

/// A request in parts, each drawn from the specs' words or taken as it is.
#[derive(Debug, Arbitrary)]
struct Structured<'a> {
    method: MethodChoice<'a>,
    path: PathChoice<'a>,
    query: Vec<(Text<'a>, Text<'a>)>,
    headers: Vec<(HeaderChoice<'a>, ValueChoice<'a>)>,
    body: Body<'a>,
}

#[derive(Debug, Arbitrary)]
enum MethodChoice<'a> {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Other(&'a str),
}

#[derive(Debug, Arbitrary)]
enum PathChoice<'a> {
    /// A served template, its `{parameters}` filled in order, then an optional tail.
    Route {
        route: u8,
        parameters: Vec<Text<'a>>,
        tail: Option<Text<'a>>,
    },
    Raw(&'a str),
}

/// A word from the specs (by index), or text as it is.
#[derive(Debug, Arbitrary)]
enum Text<'a> {
    Word(u16),
    Raw(&'a str),
}

#[derive(Debug, Arbitrary)]
enum HeaderChoice<'a> {
    Known(u8),
    Raw(&'a str),
}

#[derive(Debug, Arbitrary)]
enum ValueChoice<'a> {
    Known(u8),
    Word(u16),
    Raw(&'a [u8]),
}

#[derive(Debug, Arbitrary)]
enum Body<'a> {
    Empty,
    Json(Json<'a>),
    /// A JSON value written out, cut after `cut` bytes.
    CutJson(Json<'a>, u16),
    Raw(&'a [u8]),
}

#[derive(Debug, Arbitrary)]
enum Json<'a> {
    Null,
    Bool(bool),
    Small(i8),
    Integer(i64),
    Float(f64),
    String(Text<'a>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Text<'a>, Json<'a>)>),
}

/// How deep a structured JSON body goes; the engine refuses deeper bodies before validating them.
const MAX_DEPTH: usize = 40;

impl Structured<'_> {
    fn build(&self, world: &World) -> OwnedRequest {
        let method = match &self.method {
            MethodChoice::Get => Method::GET,
            MethodChoice::Post => Method::POST,
            MethodChoice::Put => Method::PUT,
            MethodChoice::Patch => Method::PATCH,
            MethodChoice::Delete => Method::DELETE,
            MethodChoice::Head => Method::HEAD,
            MethodChoice::Options => Method::OPTIONS,
            MethodChoice::Other(name) => Method::from_bytes(name.as_bytes()).unwrap_or(Method::GET),
        };
        let target = match &self.path {
            PathChoice::Route {
                route,
                parameters,
                tail,
            } => {
                let template = &world.routes[usize::from(*route) % world.routes.len()];
                let mut path = String::new();
                let mut parameters = parameters.iter();
                let mut rest = template.as_str();
                while let Some(open) = rest.find('{') {
                    path.push_str(&rest[..open]);
                    let close = rest[open..]
                        .find('}')
                        .map_or(rest.len(), |at| open + at + 1);
                    match parameters.next() {
                        Some(value) => path.push_str(value.text(world)),
                        None => path.push('1'),
                    }
                    rest = &rest[close..];
                }
                path.push_str(rest);
                if let Some(tail) = tail {
                    path.push_str(tail.text(world));
                }
                path
            }
            PathChoice::Raw(path) => (*path).to_owned(),
        };
        let mut request = OwnedRequest {
            method,
            path: String::new(),
            query: None,
            headers: HeaderMap::new(),
            body: Vec::new(),
        };
        request.set_target(&target);
        if !self.query.is_empty() {
            let mut query =
                form_urlencoded::Serializer::new(request.query.take().unwrap_or_default());
            for (key, value) in &self.query {
                query.append_pair(key.text(world), value.text(world));
            }
            request.query = Some(query.finish());
        }
        for (name, value) in &self.headers {
            let name = match name {
                HeaderChoice::Known(index) => {
                    Some(world.header_names[usize::from(*index) % world.header_names.len()].clone())
                }
                HeaderChoice::Raw(name) => HeaderName::from_bytes(name.as_bytes()).ok(),
            };
            let value = match value {
                ValueChoice::Known(index) => Some(
                    world.header_values[usize::from(*index) % world.header_values.len()].clone(),
                ),
                ValueChoice::Word(index) => HeaderValue::from_str(word(world, *index)).ok(),
                ValueChoice::Raw(bytes) => HeaderValue::from_bytes(bytes).ok(),
            };
            if let (Some(name), Some(value)) = (name, value) {
                request.headers.append(name, value);
            }
        }
        request.body = match &self.body {
            Body::Empty => Vec::new(),
            Body::Json(json) => serde_json::to_vec(&json.value(world, 0)).unwrap_or_default(),
            Body::CutJson(json, cut) => {
                let mut bytes = serde_json::to_vec(&json.value(world, 0)).unwrap_or_default();
                bytes.truncate(usize::from(*cut));
                bytes
            }
            Body::Raw(bytes) => bytes.to_vec(),
        };
        request
    }
}

fn word(world: &World, index: u16) -> &str {
    &world.words[usize::from(index) % world.words.len()]
}

impl Text<'_> {
    fn text<'w>(&'w self, world: &'w World) -> &'w str {
        match self {
            Text::Word(index) => word(world, *index),
            Text::Raw(text) => text,
        }
    }
}

impl Json<'_> {
    fn value(&self, world: &World, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(value) => Value::Bool(*value),
            Json::Small(value) => Value::from(*value),
            Json::Integer(value) => Value::from(*value),
            Json::Float(value) => Value::from(*value),
            Json::String(text) => Value::from(text.text(world)),
            Json::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| item.value(world, depth + 1))
                    .collect(),
            ),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(key, value)| (key.text(world).to_owned(), value.value(world, depth + 1)))
                    .collect(),
            ),
        }
    }
}
