//! The validation proxy (`understudy proxy --upstream URL`): every request is routed and checked
//! by the engine as `serve` checks it, then forwarded to the upstream with hyper-util's client;
//! the upstream's answer is held to the documented response
//! ([`Engine::check_response`]) and returned to the client as it came, with an
//! `Understudy-Violations` header when either side broke the contract. Both sides' violations go
//! to the log line, the request log and the contract report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header, request};
use axum::response::Response;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde_json::json;
use understudy_engine::violation::Violation;
use understudy_engine::{Engine, MockRequest, MockResponse, Outcome};

use crate::app::{App, ServerOptions, ViolationSummary};

/// The header that tells the client what broke: how many violations, and the first.
pub const VIOLATIONS_HEADER: &str = "understudy-violations";

/// The most bytes of an upstream's body the proxy reads (it must hold the whole body to validate
/// it before answering); a larger one is answered 502.
pub const MAX_UPSTREAM_BODY: usize = 16 * 1024 * 1024;

/// The most bytes of the `Understudy-Violations` header.
const MAX_HEADER_BYTES: usize = 512;

/// What the proxy does with a request that breaks the contract (`--proxy-invalid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvalidRequests {
    /// Forward it all the same, and report it (the default).
    #[default]
    Forward,
    /// Answer it locally, as `serve` would, without forwarding it.
    Reject,
}

/// Where and how the proxy forwards.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// The upstream: `http://host:port`, with an optional path prefix put before every path.
    pub upstream: Upstream,
    /// What to do with a request that breaks the contract.
    pub invalid: InvalidRequests,
    /// How long the upstream may take to answer, body included (`--upstream-timeout`); past it
    /// the client gets 504.
    pub timeout: Duration,
}

/// An upstream's base URL, checked once: `http` only, with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `host:port` (the `Host` forwarded requests carry).
    authority: String,
    /// The path prefix, without a trailing slash (empty for the root).
    prefix: String,
}

impl Upstream {
    /// Reads `http://host[:port][/prefix]`; says what is wrong with anything else (`https` too:
    /// the proxy has no TLS client).
    pub fn parse(text: &str) -> Result<Upstream, String> {
        let uri: Uri = text
            .parse()
            .map_err(|error| format!("not a URL ({error}), e.g. http://127.0.0.1:8080"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(
                    "https upstreams are not supported (no TLS client): give an http:// \
                            URL, e.g. of a local TLS-terminating tunnel"
                        .to_owned(),
                );
            }
            _ => return Err("a URL starting with http://, e.g. http://127.0.0.1:8080".to_owned()),
        }
        let Some(authority) = uri
            .authority()
            .filter(|authority| !authority.host().is_empty())
        else {
            return Err("the URL needs a host, e.g. http://127.0.0.1:8080".to_owned());
        };
        if uri.query().is_some() || text.contains('#') {
            return Err("the URL may have a path but no query or fragment".to_owned());
        }
        Ok(Upstream {
            authority: authority.as_str().to_owned(),
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// `http://host:port/prefix`, as the problem details name it.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }

    /// The upstream's URI for a request's path and query.
    fn target(&self, path: &str, query: Option<&str>) -> Result<Uri, String> {
        let mut target = format!("http://{}{}{path}", self.authority, self.prefix);
        if let Some(query) = query {
            target.push('?');
            target.push_str(query);
        }
        target.parse().map_err(|error| format!("{error}"))
    }
}

/// The proxy's state, shared by every request: the options and one client, whose pool keeps
/// connections to the upstream alive between requests.
#[derive(Debug)]
pub struct Proxy {
    options: ProxyOptions,
    client: Client<HttpConnector, Full<Bytes>>,
    host: HeaderValue,
}

impl Proxy {
    /// The proxy for `options`.
    pub fn new(options: ProxyOptions) -> Result<Proxy, String> {
        let host = HeaderValue::from_str(&options.upstream.authority)
            .map_err(|_| "the upstream's host cannot be sent in a Host header".to_owned())?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(options.timeout));
        connector.set_nodelay(true);
        // The timer lets the pool close connections idle past its timeout (90 s by default)
        // rather than find them closed when it hands one out.
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Proxy {
            options,
            client,
            host,
        })
    }

    /// The upstream it forwards to.
    pub fn upstream(&self) -> &Upstream {
        &self.options.upstream
    }

    /// Checks one request (its body read whole, within `--max-body`), forwards it or answers it
    /// locally, checks the upstream's answer and logs the exchange.
    pub(crate) async fn handle(
        &self,
        engine: &Engine,
        parts: request::Parts,
        body: Bytes,
    ) -> Response {
        let started = Instant::now();
        let request = MockRequest {
            method: &parts.method,
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            body: &body,
        };
        let inspection = engine.inspect(&request);
        let mut violations: Vec<Violation> = inspection.violations.to_vec();
        if self.options.invalid == InvalidRequests::Reject
            && let Some(local) = inspection.local
        {
            let mut outcome = Outcome {
                response: local,
                violations: inspection.violations,
                operation: inspection.operation,
                callbacks: Vec::new(),
            };
            engine.record(&request, &mut outcome, started.elapsed());
            // As recorded: without the values of query parameters named like credentials, which
            // the log line must not show.
            let violations = outcome.violations.clone();
            return answer(outcome.response, &violations);
        }
        let forwarded = self.forward(&parts, body.clone()).await;
        let response = match forwarded {
            Ok(upstream) => {
                if let Some(operation) = inspection.operation {
                    violations.extend(engine.check_response(
                        operation,
                        upstream.status.as_u16(),
                        &upstream.headers,
                        &upstream.body,
                        parts.method == Method::HEAD,
                    ));
                }
                upstream
            }
            Err(failure) => self.problem(failure),
        };
        let mut outcome = Outcome {
            response,
            violations: violations.into(),
            operation: inspection.operation,
            callbacks: Vec::new(),
        };
        engine.record(&request, &mut outcome, started.elapsed());
        let violations = outcome.violations.clone();
        answer(outcome.response, &violations)
    }

    /// Sends the request to the upstream and reads its answer whole, within the timeout.
    async fn forward(&self, parts: &request::Parts, body: Bytes) -> Result<MockResponse, Failure> {
        let target = self
            .options
            .upstream
            .target(parts.uri.path(), parts.uri.query())
            .map_err(Failure::Unreachable)?;
        let mut headers = parts.headers.clone();
        drop_hop_by_hop(&mut headers);
        // The body goes whole, so its length is known: hyper writes `Content-Length`; and there
        // is nothing left to wait for a `100 Continue` for.
        headers.remove(header::CONTENT_LENGTH);
        headers.remove(header::EXPECT);
        headers.insert(header::HOST, self.host.clone());
        let mut outgoing = axum::http::Request::new(Full::new(body));
        *outgoing.method_mut() = parts.method.clone();
        *outgoing.uri_mut() = target;
        *outgoing.headers_mut() = headers;
        let exchange = async {
            let answer =
                self.client.request(outgoing).await.map_err(|error| {
                    Failure::Unreachable(crate::server_error::error_chain(&error))
                })?;
            let (parts, body) = answer.into_parts();
            let body = Limited::new(body, MAX_UPSTREAM_BODY)
                .collect()
                .await
                .map_err(|error| {
                    if error.is::<http_body_util::LengthLimitError>() {
                        Failure::TooLarge
                    } else {
                        Failure::Unreachable(format!("its body broke off: {error}"))
                    }
                })?
                .to_bytes();
            let mut headers = parts.headers;
            drop_hop_by_hop(&mut headers);
            // The body is sent whole: its length is said again by the server. An answer without
            // a body (to HEAD, or 304) keeps the length it says the body would have.
            if !body.is_empty() {
                headers.remove(header::CONTENT_LENGTH);
            }
            Ok(MockResponse {
                status: parts.status,
                headers,
                body,
            })
        };
        match tokio::time::timeout(self.options.timeout, exchange).await {
            Ok(answered) => answered,
            Err(_) => Err(Failure::TimedOut),
        }
    }

    /// The problem details for an upstream that did not answer usably, naming it.
    fn problem(&self, failure: Failure) -> MockResponse {
        let upstream = self.options.upstream.url();
        let (status, title, detail) = match failure {
            Failure::Unreachable(reason) => (
                StatusCode::BAD_GATEWAY,
                "Upstream unreachable",
                format!("the upstream {upstream} did not answer: {reason}"),
            ),
            Failure::TimedOut => (
                StatusCode::GATEWAY_TIMEOUT,
                "Upstream timed out",
                format!(
                    "the upstream {upstream} did not answer within {} (--upstream-timeout)",
                    humantime::format_duration(self.options.timeout)
                ),
            ),
            Failure::TooLarge => (
                StatusCode::BAD_GATEWAY,
                "Upstream answer too large",
                format!(
                    "the upstream {upstream} answered with a body over {MAX_UPSTREAM_BODY} bytes, \
                     more than the proxy reads to validate it"
                ),
            ),
        };
        understudy_engine::problem(
            "proxy",
            status,
            title,
            detail,
            json!({ "upstream": upstream }),
        )
    }
}

/// Why the upstream gave no answer to pass on.
#[derive(Debug)]
enum Failure {
    /// No connection, or it broke before a whole answer came.
    Unreachable(String),
    /// No whole answer within the timeout.
    TimedOut,
    /// A body over [`MAX_UPSTREAM_BODY`].
    TooLarge,
}

/// The whole application as a validation proxy in front of `proxy`'s upstream: the same layers,
/// admin API and body limit as [`app`](crate::app()), with requests forwarded instead of answered.
pub fn proxy_app(engine: Arc<Engine>, options: &ServerOptions, proxy: Proxy) -> App {
    live_proxy_app(Arc::new(crate::LiveEngine::new(engine)), options, proxy)
}

/// [`proxy_app`] over the engine `live` holds, read once per request, so that `proxy --watch`
/// checks against the specs as they are edited.
pub fn live_proxy_app(live: Arc<crate::LiveEngine>, options: &ServerOptions, proxy: Proxy) -> App {
    crate::app::build(live, options, Some(Arc::new(proxy)))
}

/// The response for the client: `mock` as it is, with [`VIOLATIONS_HEADER`] (and the log line's
/// summary) when anything broke.
fn answer(mock: MockResponse, violations: &[Violation]) -> Response {
    let mut response = Response::new(Body::from(mock.body));
    *response.status_mut() = mock.status;
    *response.headers_mut() = mock.headers;
    if let Some(first) = violations.first() {
        if let Ok(value) = HeaderValue::from_str(&header_text(violations.len(), first)) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(VIOLATIONS_HEADER), value);
        }
        if tracing::enabled!(tracing::Level::INFO) {
            response.extensions_mut().insert(ViolationSummary(
                understudy_engine::violation::summary(violations),
            ));
        }
    }
    response
}

/// `2; response body /id: `id` is required (/paths/~1pets/get/responses/200)`: the count and the
/// first violation, in visible ASCII (other bytes percent-encoded), at most
/// [`MAX_HEADER_BYTES`].
fn header_text(count: usize, first: &Violation) -> String {
    let mut text = format!("{count}; ");
    for byte in first.to_string().bytes() {
        // Room for this byte's three and the cut mark's three.
        if text.len() + 6 > MAX_HEADER_BYTES {
            text.push_str("...");
            break;
        }
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            text.push(char::from(byte));
        } else {
            text.push_str(&format!("%{byte:02X}"));
        }
    }
    text
}

/// Removes the headers that belong to one connection (RFC 9110, 7.6.1): those `Connection`
/// names, and the usual ones.
fn drop_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        header::CONNECTION,
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_is_an_http_url_with_a_host() {
        let upstream = Upstream::parse("http://127.0.0.1:8080/api/").unwrap();
        assert_eq!(upstream.url(), "http://127.0.0.1:8080/api");
        assert_eq!(
            upstream.target("/users", Some("a=1")).unwrap(),
            "http://127.0.0.1:8080/api/users?a=1"
        );
        assert_eq!(
            Upstream::parse("http://backend").unwrap().url(),
            "http://backend"
        );
        for wrong in ["https://backend", "backend:80", "/api", "http://x/?q=1", ""] {
            assert!(Upstream::parse(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn hop_by_hop_headers_are_dropped_and_the_rest_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-private"),
        );
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert("x-request-id", HeaderValue::from_static("abc"));
        drop_hop_by_hop(&mut headers);
        let left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["x-request-id"]);
    }

    #[test]
    fn the_header_says_the_count_and_the_first_violation_in_ascii() {
        let violation = Violation::new(
            understudy_engine::violation::ViolationClass::Schema,
            understudy_engine::Location::ResponseBody,
            "/name",
            "name",
            "type",
            "“x” is not a string",
        );
        let text = header_text(3, &violation);
        assert!(
            text.starts_with("3; response body /name: %E2%80%9Cx%E2%80%9D"),
            "{text}"
        );
        assert!(HeaderValue::from_str(&text).is_ok());
        let long = Violation::new(
            understudy_engine::violation::ViolationClass::Schema,
            understudy_engine::Location::ResponseBody,
            "",
            "",
            "type",
            "é".repeat(400),
        );
        assert!(header_text(1, &long).len() <= MAX_HEADER_BYTES);
    }
}
