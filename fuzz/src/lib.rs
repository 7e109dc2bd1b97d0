//! What both fuzz targets share: the invariants every answer of the engine must keep, and reading a
//! request written as HTTP text (the fixtures' form, which the seed corpus uses).

use http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use understudy_engine::operation::StatusKey;
use understudy_engine::{MockRequest, Outcome};

/// A request the fuzz target owns, to lend to the engine as a [`MockRequest`].
#[derive(Debug, Clone)]
pub struct OwnedRequest {
    /// The method.
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// The query, without `?`.
    pub query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as raw bytes.
    pub body: Vec<u8>,
}

impl OwnedRequest {
    /// The request as the engine takes it.
    pub fn as_mock(&self) -> MockRequest<'_> {
        MockRequest {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// Splits a request target (`/path?query`) into the path and the query.
    pub fn set_target(&mut self, target: &str) {
        match target.split_once('?') {
            Some((path, query)) => {
                self.path = path.to_owned();
                self.query = Some(query.to_owned());
            }
            None => {
                self.path = target.to_owned();
                self.query = None;
            }
        }
    }
}

/// Reads `METHOD target [HTTP/1.1]`, header lines and, after a blank line, the body (every byte to
/// the end), as the fixtures write a request. Lines may end in `\n` or `\r\n`; a header that the
/// `http` crate refuses is left out, as a server would never pass it on. `None` when the request
/// line has no method and target.
pub fn parse_http_request(data: &[u8]) -> Option<OwnedRequest> {
    let (head, body) = match find(data, b"\n\n").or_else(|| find(data, b"\r\n\r\n")) {
        Some(at) => {
            let gap = if data[at] == b'\r' { 4 } else { 2 };
            (&data[..at], &data[at + gap..])
        }
        None => (data, &[][..]),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let mut request_line = lines.next()?.split(' ');
    let method = Method::from_bytes(request_line.next()?.as_bytes()).ok()?;
    let mut request = OwnedRequest {
        method,
        path: String::new(),
        query: None,
        headers: HeaderMap::new(),
        body: body.to_vec(),
    };
    request.set_target(request_line.next()?);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            request.headers.append(name, value);
        }
    }
    Some(request)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The statuses the engine answers with when the spec documents nothing better: the natural status
/// of each class of violation (401, 406, 415, 400, 422, 409), an unknown preference (400) and a
/// success with no documented response (204).
const ENGINE_STATUSES: [u16; 7] = [204, 400, 401, 406, 409, 415, 422];

/// Panics, with the request and the response, if `outcome` breaks an invariant of every answer:
/// no operation means 404 or 405; an operation's status is one it documents (200 for a success
/// answered with `default`) or one the engine gives when it documents none; a JSON body parses; a `HEAD` answered with a success has no body
/// (an error keeps its body: the HTTP layer never sends a HEAD's body); the headers that must come
/// with a status do.
pub fn check_outcome(request: &MockRequest<'_>, outcome: &Outcome<'_>) {
    let response = &outcome.response;
    let code = response.status.as_u16();
    let fail = |what: &str| -> ! {
        panic!(
            "{what}\nrequest: {} {} query {:?} headers {:?} body {:?}\nresponse: {} {:?} {}",
            request.method,
            request.path,
            request.query,
            request.headers,
            String::from_utf8_lossy(request.body),
            response.status,
            response.headers,
            String::from_utf8_lossy(&response.body)
        )
    };
    match outcome.operation {
        None => {
            if code != 404 && code != 405 {
                fail("a request no operation serves is answered neither 404 nor 405");
            }
            if code == 405 && !response.headers.contains_key(header::ALLOW) {
                fail("a 405 without `Allow`");
            }
        }
        Some(operation) => {
            // With no 2xx documented, a success is the `default` response, sent as 200.
            let default_success = code == 200
                && outcome.violations.is_empty()
                && operation
                    .success_response()
                    .is_some_and(|response| response.status == StatusKey::Default);
            let documented = operation.response_for(code).is_some()
                || operation.unique.iter().any(|rule| rule.status == code)
                || default_success;
            if !documented && !ENGINE_STATUSES.contains(&code) {
                fail("the status is neither documented by the operation nor one the engine gives");
            }
            if request.method == Method::HEAD
                && response.status.is_success()
                && !response.body.is_empty()
            {
                fail("a HEAD answered with a success has a body");
            }
        }
    }
    let content_type = response
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = essence == "application/json" || essence.ends_with("+json");
    if json
        && !response.body.is_empty()
        && serde_json::from_slice::<serde_json::Value>(&response.body).is_err()
    {
        fail("a JSON response body does not parse");
    }
    if !response.body.is_empty() && !response.headers.contains_key(header::CONTENT_TYPE) {
        fail("a body without `Content-Type`");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixture_request_is_read_whole() {
        let text = b"POST /users?a=1 HTTP/1.1\nauthorization: Basic eA==\ncontent-type: application/json\n\n{\"a\": 1}\n";
        let request = parse_http_request(text).expect("a request");
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.path, "/users");
        assert_eq!(request.query.as_deref(), Some("a=1"));
        assert_eq!(request.headers.len(), 2);
        assert_eq!(request.body, b"{\"a\": 1}\n");
    }

    #[test]
    fn a_request_line_alone_has_no_body() {
        let request = parse_http_request(b"GET /x").expect("a request");
        assert_eq!(request.path, "/x");
        assert!(request.body.is_empty() && request.headers.is_empty());
    }
}
