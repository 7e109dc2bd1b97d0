//! A tiny HTTP/1.1 client over std's `TcpStream`, for the probes: waiting for a server's first
//! answer and checking the status and body size of one request before the load starts.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::workload::Request;

/// One answer: its status and its decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body (a chunked one with its framing).
    pub body: Vec<u8>,
}

/// Sends `request` to 127.0.0.1:`port` on a fresh connection and reads the whole answer.
pub fn send(port: u16, request: &Request, timeout: Duration) -> Result<Answer, String> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("cannot set timeouts: {e}"))?;
    stream
        .write_all(&encode(request, port))
        .map_err(|e| format!("cannot send to {address}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read from {address}: {e}"))?;
    parse_answer(&raw)
}

/// Encodes `request` for a server on 127.0.0.1:`port`, asking it to close the connection after.
pub fn encode(request: &Request, port: u16) -> Vec<u8> {
    let mut text = format!(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n",
        request.method, request.path
    );
    for (name, value) in &request.headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = request.body.as_deref().unwrap_or("");
    if request.body.is_some() {
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

/// Parses a complete HTTP/1.1 answer read up to the end of the connection.
pub fn parse_answer(raw: &[u8]) -> Result<Answer, String> {
    let end = find(raw, b"\r\n\r\n").ok_or("the answer has no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let rest = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|line| line.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP/1 status line: {status_line:?}"))?;
    // A chunked body (Prism's) keeps its framing: the probes only need its size, roughly.
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    let body = if let Some(length) = length {
        rest.get(..length)
            .ok_or_else(|| format!("the body has {} bytes of {length}", rest.len()))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Answer { status, body })
}

/// The index of the first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sized_answer_is_parsed() {
        let raw = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{\"a\":1}";
        let answer = parse_answer(raw).expect("the answer parses");
        assert_eq!(answer.status, 201);
        assert_eq!(answer.body, b"{\"a\":1}");
    }

    #[test]
    fn garbage_is_not_an_answer() {
        assert!(parse_answer(b"hello\r\n\r\n").is_err());
        assert!(parse_answer(b"HTTP/1.1 200 OK\r\n").is_err());
    }

    #[test]
    fn a_request_carries_its_body_length() {
        let request = Request {
            method: "POST",
            path: "/users".to_owned(),
            headers: vec![("Content-Type", "application/json".to_owned())],
            body: Some("{}".to_owned()),
        };
        let text = String::from_utf8(encode(&request, 8080)).expect("the request is text");
        assert!(text.starts_with("POST /users HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
        assert!(text.contains("Content-Type: application/json\r\n"));
        assert!(text.ends_with("Content-Length: 2\r\n\r\n{}"));
    }
}
