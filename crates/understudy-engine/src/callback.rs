//! Callbacks: an operation's OpenAPI `callbacks`, compiled at load into [`Callback`]s (the URL's
//! runtime expression parsed into a [`UrlTemplate`], the method, a generator for the request
//! body's schema), and made per answered request into [`Planned`] requests: the URL filled in
//! from the request and the answer, and a body generated from the callback's schema that echoes
//! what it can of the request. The engine never sends them (it has no sockets): the server fires
//! them after the answer is sent, and records each outcome in the request log.
//!
//! The runtime expressions are OpenAPI 3.0's: `$url`, `$method`, `$statusCode`, and
//! `$request.` or `$response.` followed by `header.NAME`, `query.NAME`, `path.NAME` or
//! `body#/json/pointer`, either as the whole key or in braces inside literal text
//! (`http://hooks.local/{$request.path.id}?event={$request.body#/event}`).

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, Method, Uri};
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::Value;

use crate::generate::{Defaults, GenerateContext, Generator};
use crate::request_log::CallbackTicket;
use crate::validate::MockRequest;

/// One compiled callback request: a method on the URL of one runtime expression of one named
/// callback of an operation.
#[derive(Debug)]
pub(crate) struct Callback {
    /// The callback's name (the key under the operation's `callbacks`).
    pub name: String,
    /// The runtime expression as the spec writes it (`{$request.body#/callbackUrl}`).
    pub expression: String,
    /// The expression, parsed.
    pub url: UrlTemplate,
    /// The method: the path item's key the operation is under.
    pub method: Method,
    /// Where the callback's operation is in its document.
    pub pointer: String,
    /// The request body to send, when the callback documents a JSON one.
    pub body: Option<CallbackBody>,
}

/// A callback's JSON request body, compiled.
#[derive(Debug)]
pub(crate) struct CallbackBody {
    /// The documented media type, as `Content-Type`.
    pub content_type: HeaderValue,
    /// A generator for its schema.
    pub generator: Generator,
    /// Its schema's validator, to check a body that echoes the request.
    pub validator: Option<Arc<crate::shared_schema::SchemaValidator>>,
}

/// A URL template made of literal text and runtime expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Expression(Expression),
}

/// One runtime expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expression {
    /// `$url`: the URL the request was sent to.
    Url,
    /// `$method`: the request's method.
    Method,
    /// `$statusCode`: the status of the answer.
    StatusCode,
    /// `$request.…`: a part of the request.
    Request(Source),
    /// `$response.…`: a part of the answer.
    Response(Source),
}

/// Where in a request or an answer an expression reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `header.NAME`, the name lower-cased (headers are compared case-insensitively).
    Header(String),
    /// `query.NAME`.
    Query(String),
    /// `path.NAME`.
    Path(String),
    /// `body` or `body#/pointer`: the JSON pointer, empty for the whole body.
    Body(String),
}

/// What an expression reads its values from: the request and the answer it got.
#[derive(Debug)]
pub(crate) struct Sources<'a> {
    /// The request.
    pub request: &'a MockRequest<'a>,
    /// The path parameters, `(name, raw value)`, by the operation's own names.
    pub path_params: &'a [(&'a str, &'a str)],
    /// The request body, parsed as JSON, if it is JSON.
    pub request_body: Option<&'a Value>,
    /// The answer's status.
    pub status: u16,
    /// The answer's headers.
    pub response_headers: &'a HeaderMap,
    /// The answer's body, parsed as JSON, if it is JSON.
    pub response_body: Option<&'a Value>,
}

/// A callback for the server to fire after the answer is sent, and where its outcome goes.
#[derive(Debug, Clone)]
pub struct CallbackRequest {
    /// The callback's name.
    pub name: String,
    /// The method.
    pub method: Method,
    /// The absolute `http://` URL.
    pub url: Uri,
    /// `Content-Type` of the body, when there is one.
    pub content_type: Option<HeaderValue>,
    /// The body.
    pub body: Bytes,
    /// The request log's record of it, to settle with the outcome.
    pub ticket: CallbackTicket,
}

/// A callback made for one request: the URL it goes to (or why none could be made) and the
/// body, ready for the server to send.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    /// The callback's name.
    pub name: String,
    /// The method.
    pub method: Method,
    /// The URL, or why the expression gave none (the callback is not fired).
    pub url: Result<Uri, String>,
    /// `Content-Type` of the body, when there is one.
    pub content_type: Option<HeaderValue>,
    /// The body.
    pub body: Bytes,
}

impl UrlTemplate {
    /// Parses a callback's key: one runtime expression (`$request.query.url`), or literal text
    /// with expressions in braces (`{$request.body#/callbackUrl}/events`). The reason says what
    /// is wrong, to be reported with the key's pointer.
    pub(crate) fn parse(key: &str) -> Result<UrlTemplate, String> {
        if key.starts_with('$') {
            return Ok(UrlTemplate {
                parts: vec![Part::Expression(Expression::parse(key)?)],
            });
        }
        let mut parts = Vec::new();
        let mut rest = key;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                None => {
                    parts.push(Part::Text(rest.to_owned()));
                    break;
                }
                Some(at) if rest.as_bytes()[at] == b'}' => {
                    return Err(format!(
                        "`}}` at byte {} closes no `{{`",
                        key.len() - rest.len() + at
                    ));
                }
                Some(at) => {
                    if at > 0 {
                        parts.push(Part::Text(rest[..at].to_owned()));
                    }
                    let inside = &rest[at + 1..];
                    let Some(end) = inside.find('}') else {
                        return Err(format!(
                            "the `{{` at byte {} is never closed",
                            key.len() - rest.len() + at
                        ));
                    };
                    // A `{` inside is refused by the expression's grammar.
                    parts.push(Part::Expression(Expression::parse(&inside[..end])?));
                    rest = &inside[end + 1..];
                }
            }
        }
        if parts.is_empty() {
            return Err("the URL is empty".to_owned());
        }
        Ok(UrlTemplate { parts })
    }

    /// Whether an expression reads the answer's body (which is then parsed for it).
    pub(crate) fn reads_response_body(&self) -> bool {
        self.parts.iter().any(|part| {
            matches!(
                part,
                Part::Expression(Expression::Response(Source::Body(_)))
            )
        })
    }

    /// The URL for one request: the literal text, with each expression's value as it is (a
    /// string's text, a number's or a boolean's JSON), or why an expression has none.
    pub(crate) fn render(&self, sources: &Sources<'_>) -> Result<String, String> {
        let mut url = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => url.push_str(text),
                Part::Expression(expression) => url.push_str(&expression.evaluate(sources)?),
            }
        }
        Ok(url)
    }
}

impl Expression {
    /// Parses one runtime expression (without braces), as OpenAPI 3.0's grammar has it.
    pub(crate) fn parse(text: &str) -> Result<Expression, String> {
        match text {
            "$url" => return Ok(Expression::Url),
            "$method" => return Ok(Expression::Method),
            "$statusCode" => return Ok(Expression::StatusCode),
            _ => {}
        }
        let (response, source) = if let Some(source) = text.strip_prefix("$request.") {
            (false, source)
        } else if let Some(source) = text.strip_prefix("$response.") {
            (true, source)
        } else {
            return Err(format!(
                "`{text}` is no runtime expression: one starts with `$url`, `$method`, \
                 `$statusCode`, `$request.` or `$response.`"
            ));
        };
        let source = Source::parse(source).map_err(|reason| format!("`{text}`: {reason}"))?;
        if response && matches!(source, Source::Query(_) | Source::Path(_)) {
            return Err(format!(
                "`{text}`: an answer has no query or path; `$response.` reads `header.` or `body`"
            ));
        }
        Ok(if response {
            Expression::Response(source)
        } else {
            Expression::Request(source)
        })
    }

    fn evaluate(&self, sources: &Sources<'_>) -> Result<String, String> {
        let request = sources.request;
        match self {
            Expression::Url => {
                let host = request
                    .headers
                    .get(http::header::HOST)
                    .and_then(|host| host.to_str().ok())
                    .unwrap_or("localhost");
                Ok(match request.query {
                    Some(query) => format!("http://{host}{}?{query}", request.path),
                    None => format!("http://{host}{}", request.path),
                })
            }
            Expression::Method => Ok(request.method.to_string()),
            Expression::StatusCode => Ok(sources.status.to_string()),
            Expression::Request(Source::Header(name)) => header(request.headers, name, "request"),
            Expression::Response(Source::Header(name)) => {
                header(sources.response_headers, name, "answer")
            }
            Expression::Request(Source::Query(name)) => {
                form_urlencoded::parse(request.query.unwrap_or("").as_bytes())
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.into_owned())
                    .ok_or_else(|| format!("the request has no query parameter `{name}`"))
            }
            Expression::Request(Source::Path(name)) => sources
                .path_params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| (*value).to_owned())
                .ok_or_else(|| format!("the path has no parameter `{name}`")),
            Expression::Request(Source::Body(pointer)) => {
                body_value(sources.request_body, pointer, "request")
            }
            Expression::Response(Source::Body(pointer)) => {
                body_value(sources.response_body, pointer, "answer")
            }
            // Refused by `parse`.
            Expression::Response(Source::Query(_) | Source::Path(_)) => {
                Err("an answer has no query or path".to_owned())
            }
        }
    }
}

impl Source {
    fn parse(text: &str) -> Result<Source, String> {
        if let Some(name) = text.strip_prefix("header.") {
            let token = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            return if token {
                Ok(Source::Header(name.to_ascii_lowercase()))
            } else {
                Err(format!("`{name}` is not a header name"))
            };
        }
        if let Some(name) = text.strip_prefix("query.") {
            return non_empty(name, "query parameter").map(Source::Query);
        }
        if let Some(name) = text.strip_prefix("path.") {
            return non_empty(name, "path parameter").map(Source::Path);
        }
        if text == "body" {
            return Ok(Source::Body(String::new()));
        }
        if let Some(pointer) = text.strip_prefix("body#") {
            check_pointer(pointer)?;
            return Ok(Source::Body(pointer.to_owned()));
        }
        Err(format!(
            "`{text}` names no part: one reads `header.NAME`, `query.NAME`, `path.NAME` or \
             `body#/pointer`"
        ))
    }
}

fn non_empty(name: &str, what: &str) -> Result<String, String> {
    if name.is_empty() {
        Err(format!("the {what} has no name"))
    } else {
        Ok(name.to_owned())
    }
}

/// A JSON pointer is empty or starts with `/`, and `~` is only ever `~0` or `~1`.
fn check_pointer(pointer: &str) -> Result<(), String> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!(
            "`{pointer}` is no JSON pointer: it must start with `/`"
        ));
    }
    let bytes = pointer.as_bytes();
    for (at, byte) in bytes.iter().enumerate() {
        if *byte == b'~' && !matches!(bytes.get(at + 1), Some(b'0' | b'1')) {
            return Err(format!(
                "`{pointer}` is no JSON pointer: `~` must be followed by `0` or `1`"
            ));
        }
    }
    Ok(())
}

fn header(headers: &HeaderMap, name: &str, whose: &str) -> Result<String, String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| format!("the {whose} has no header `{name}`"))
}

fn body_value(body: Option<&Value>, pointer: &str, whose: &str) -> Result<String, String> {
    let Some(body) = body else {
        return Err(format!("the {whose} has no JSON body"));
    };
    let shown = if pointer.is_empty() { "/" } else { pointer };
    match body.pointer(pointer) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(value @ (Value::Number(_) | Value::Bool(_))) => Ok(value.to_string()),
        Some(Value::Null) => Err(format!("the {whose} body is null at `{shown}`")),
        Some(_) => Err(format!(
            "the {whose} body holds an object or an array at `{shown}`, not a value for a URL"
        )),
        None => Err(format!("the {whose} body has nothing at `{shown}`")),
    }
}

/// What a callback's body is generated with: the randomness (seeded per request by the engine),
/// the clock, and the request body to echo with its schema's defaults.
#[derive(Debug)]
pub(crate) struct Making<'a> {
    /// Seeded per request and callback.
    pub rng: Xoshiro256PlusPlus,
    /// The clock.
    pub now: DateTime<Utc>,
    /// The request body, to echo.
    pub request_body: Option<&'a Value>,
    /// The request schema's defaults, read through the body by the echo.
    pub request_defaults: Option<&'a Defaults>,
}

impl Callback {
    /// The callback for one request: its URL from `sources`, and its body generated from the
    /// schema, echoing the request where that keeps the body valid.
    pub(crate) fn plan(&self, sources: &Sources<'_>, making: &mut Making<'_>) -> Planned {
        let url = self.url.render(sources).and_then(|url| absolute_http(&url));
        let (content_type, body) = match (&self.body, &url) {
            (Some(body), Ok(_)) => (Some(body.content_type.clone()), body.make(making)),
            _ => (None, Bytes::new()),
        };
        Planned {
            name: self.name.clone(),
            method: self.method.clone(),
            url,
            content_type,
            body,
        }
    }
}

impl CallbackBody {
    /// A body from the schema that echoes the request where it can; made again without the
    /// echo if the echo broke the schema somewhere the generator could not tell.
    fn make(&self, making: &mut Making<'_>) -> Bytes {
        let generated = self.generator.generate_vouched(
            &mut GenerateContext::plain(&mut making.rng, making.now)
                .echoing(making.request_body, making.request_defaults),
        );
        let valid = generated.vouched
            || self
                .validator
                .as_ref()
                .is_none_or(|validator| validator.is_valid(&generated.body));
        let body = if valid {
            generated.body
        } else {
            self.generator
                .generate(&mut GenerateContext::plain(&mut making.rng, making.now))
        };
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }
}

/// `url` as an absolute `http://` URL with a host, or why it is not one (which quotes the URL
/// without its query, where a credential may be).
fn absolute_http(url: &str) -> Result<Uri, String> {
    let before_query = url.split_once('?').map_or(url, |(before, _)| before);
    let shown = crate::violation::cut_text(before_query.to_owned(), 256);
    let uri: Uri = url
        .parse()
        .map_err(|error| format!("`{shown}` is not a URL: {error}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => {
            return Err(format!(
                "`{shown}` is an {other} URL; understudy sends callbacks over http only"
            ));
        }
        None => return Err(format!("`{shown}` is not an absolute http:// URL")),
    }
    // `http::Uri` refuses an absolute URL without a host (`http:///x`, `http://:80/x`).
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sources<'a>(
        request: &'a MockRequest<'a>,
        body: Option<&'a Value>,
        answer: Option<&'a Value>,
        response_headers: &'a HeaderMap,
    ) -> Sources<'a> {
        Sources {
            request,
            path_params: &[("id", "42")],
            request_body: body,
            status: 201,
            response_headers,
            response_body: answer,
        }
    }

    #[test]
    fn expressions_parse_as_the_grammar_has_them() {
        assert_eq!(Expression::parse("$url"), Ok(Expression::Url));
        assert_eq!(Expression::parse("$method"), Ok(Expression::Method));
        assert_eq!(Expression::parse("$statusCode"), Ok(Expression::StatusCode));
        assert_eq!(
            Expression::parse("$request.header.X-Hook"),
            Ok(Expression::Request(Source::Header("x-hook".into())))
        );
        assert_eq!(
            Expression::parse("$request.query.url"),
            Ok(Expression::Request(Source::Query("url".into())))
        );
        assert_eq!(
            Expression::parse("$request.path.id"),
            Ok(Expression::Request(Source::Path("id".into())))
        );
        assert_eq!(
            Expression::parse("$request.body#/a~1b/0"),
            Ok(Expression::Request(Source::Body("/a~1b/0".into())))
        );
        assert_eq!(
            Expression::parse("$response.body"),
            Ok(Expression::Response(Source::Body(String::new())))
        );
        for broken in [
            "$requests.body",
            "request.body#/a",
            "$request.body#a",
            "$request.body#/a~2",
            "$request.header.",
            "$request.header.X Y",
            "$request.query.",
            "$request.cookie.a",
            "$response.query.a",
            "$response.path.id",
            "",
        ] {
            assert!(Expression::parse(broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn templates_keep_literal_text_around_expressions() {
        let template =
            UrlTemplate::parse("http://hooks/{$request.path.id}?s={$statusCode}").expect("parses");
        assert_eq!(
            template.parts,
            vec![
                Part::Text("http://hooks/".into()),
                Part::Expression(Expression::Request(Source::Path("id".into()))),
                Part::Text("?s=".into()),
                Part::Expression(Expression::StatusCode),
            ]
        );
        assert!(UrlTemplate::parse("$request.query.url").is_ok());
        assert!(UrlTemplate::parse("http://plain/hook").is_ok());
        for broken in ["{$url", "$url}", "http://x/}", "{{$url}}", "{$nothing}", ""] {
            assert!(UrlTemplate::parse(broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn urls_are_filled_from_the_request_and_the_answer() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("mock:4010"));
        headers.insert("x-hook", HeaderValue::from_static("http://127.0.0.1:9/h"));
        let request = MockRequest {
            method: &Method::POST,
            path: "/things/42",
            query: Some("url=http%3A%2F%2F127.0.0.1%3A8%2Fq&n=1"),
            headers: &headers,
            body: b"",
        };
        let body = json!({"callbackUrl": "http://127.0.0.1:7/cb", "n": 3, "o": {}});
        let answer = json!({"id": "sub_1"});
        let mut answer_headers = HeaderMap::new();
        answer_headers.insert("location", HeaderValue::from_static("/things/42"));
        let sources = sources(&request, Some(&body), Some(&answer), &answer_headers);
        let render = |key: &str| UrlTemplate::parse(key).expect("parses").render(&sources);
        assert_eq!(
            render("{$request.body#/callbackUrl}/{$response.body#/id}"),
            Ok("http://127.0.0.1:7/cb/sub_1".into())
        );
        assert_eq!(
            render("$request.query.url"),
            Ok("http://127.0.0.1:8/q".into())
        );
        assert_eq!(
            render("{$request.header.X-HOOK}"),
            Ok("http://127.0.0.1:9/h".into())
        );
        assert_eq!(
            render("http://h/{$request.path.id}/{$request.body#/n}/{$method}/{$statusCode}"),
            Ok("http://h/42/3/POST/201".into())
        );
        assert_eq!(
            render("{$url}"),
            Ok("http://mock:4010/things/42?url=http%3A%2F%2F127.0.0.1%3A8%2Fq&n=1".into())
        );
        assert_eq!(
            render("http://h{$response.header.location}"),
            Ok("http://h/things/42".into())
        );
        let missing = render("{$request.body#/nothing}").expect_err("absent");
        assert!(missing.contains("`/nothing`"), "{missing}");
        assert!(render("{$request.body#/o}").is_err());
        assert!(render("{$request.query.none}").is_err());
        assert!(render("{$request.header.none}").is_err());
    }

    #[test]
    fn only_absolute_http_urls_are_fired() {
        assert!(absolute_http("http://127.0.0.1:9/hook?a=1").is_ok());
        for refused in [
            "https://127.0.0.1/h",
            "/relative",
            "127.0.0.1:9/h",
            "http:///x",
            "not a url",
        ] {
            assert!(absolute_http(refused).is_err(), "{refused}");
        }
    }
}
