//! HTTP's rules for a request message that hyper leaves to the application, checked on every path
//! before the app sees a request read from a socket: an HTTP/1.1 request has exactly one `Host`
//! header, and a valid one (RFC 9112, section 3.2: 400 otherwise), and the only expectation met
//! is `100-continue` (RFC 9110, section 10.1.1: 417 otherwise), which hyper answers itself.
//!
//! A request built in-process (a test's `oneshot`) is no message read from the wire: it is not
//! checked, so it needs no `Host`.

use axum::http::{HeaderMap, Version, header};

use crate::server_error::ServerError;

/// Checks a request read from a socket against the rules above; two header lookups when it keeps
/// them.
pub fn check(version: Version, headers: &HeaderMap) -> Result<(), ServerError> {
    let mut hosts = headers.get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if version == Version::HTTP_11 => {
            return Err(ServerError::BadHost(
                "an HTTP/1.1 request must have a Host header (RFC 9112, section 3.2)".to_owned(),
            ));
        }
        (Some(_), Some(_)) => {
            return Err(ServerError::BadHost(
                "a request must have one Host header, not several".to_owned(),
            ));
        }
        (Some(host), None) if host_of(host.as_bytes()).is_none() => {
            return Err(ServerError::BadHost(format!(
                "`{}` is not a host with an optional port",
                String::from_utf8_lossy(host.as_bytes())
            )));
        }
        _ => {}
    }
    for expect in headers.get_all(header::EXPECT) {
        // A list: every member must be `100-continue` (empty members do not count).
        let unmet = expect.as_bytes().split(|byte| *byte == b',').any(|member| {
            let member = member.trim_ascii();
            !member.is_empty() && !member.eq_ignore_ascii_case(b"100-continue")
        });
        if unmet {
            return Err(ServerError::ExpectationFailed(
                String::from_utf8_lossy(expect.as_bytes()).into_owned(),
            ));
        }
    }
    Ok(())
}

/// The host part of a `Host` value (`uri-host [ ":" port ]`, RFC 9110, section 7.2), brackets
/// included for an IPv6 literal; `None` when the value is not of that form. The empty value is
/// valid (a target without an authority) and has an empty host.
pub fn host_of(value: &[u8]) -> Option<&[u8]> {
    let (host, rest) = if value.first() == Some(&b'[') {
        let end = value.iter().position(|byte| *byte == b']')?;
        let (literal, rest) = value.split_at(end + 1);
        let inside = &literal[1..end];
        if inside.is_empty() || !inside.iter().all(|byte| is_literal_byte(*byte)) {
            return None;
        }
        (literal, rest)
    } else {
        // One pass: up to the port's colon, every byte must be a name's.
        let mut end = value.len();
        for (at, byte) in value.iter().enumerate() {
            if *byte == b':' {
                end = at;
                break;
            }
            if !is_reg_name_byte(*byte) {
                return None;
            }
        }
        value.split_at(end)
    };
    match rest.split_first() {
        None => Some(host),
        Some((b':', port)) if port.iter().all(u8::is_ascii_digit) => Some(host),
        Some(_) => None,
    }
}

/// A byte of a `reg-name` (RFC 3986, section 3.2.2): unreserved, `%` of an escape, sub-delims.
fn is_reg_name_byte(byte: u8) -> bool {
    REG_NAME[usize::from(byte)]
}

/// [`is_reg_name_byte`] as a table: every request's `Host` goes through it, and a lookup per byte
/// is a third of the cost of searching the list of punctuation.
const REG_NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_alphanumeric();
        byte += 1;
    }
    let punctuation = b"-._~%!$&'()*+,;=";
    let mut at = 0;
    while at < punctuation.len() {
        table[punctuation[at] as usize] = true;
        at += 1;
    }
    table
};

/// A byte inside the brackets of an IP literal: an IPv6 address or an `IPvFuture`.
fn is_literal_byte(byte: u8) -> bool {
    is_reg_name_byte(byte) || byte == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_takes_names_addresses_and_literals_with_or_without_a_port() {
        for (value, host) in [
            ("localhost:4010", "localhost"),
            ("localhost", "localhost"),
            ("127.0.0.1:80", "127.0.0.1"),
            ("[::1]:4010", "[::1]"),
            ("[::1]", "[::1]"),
            ("example.com:", "example.com"),
            ("", ""),
        ] {
            assert_eq!(host_of(value.as_bytes()), Some(host.as_bytes()), "{value}");
        }
        for value in [
            "a b",
            "user@host",
            "host:80:80",
            "host:8o",
            "[::1",
            "[]",
            "[::1]x",
            "host/path",
        ] {
            assert_eq!(host_of(value.as_bytes()), None, "{value}");
        }
    }

    #[test]
    fn expectations_other_than_100_continue_fail_in_any_case_and_list() {
        let with = |name: header::HeaderName, values: &[&str]| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, "localhost".parse().unwrap());
            for value in values {
                headers.append(name.clone(), value.parse().unwrap());
            }
            headers
        };
        for fine in [
            &["100-continue"][..],
            &["100-Continue"],
            &[" 100-CONTINUE , "],
        ] {
            assert!(check(Version::HTTP_11, &with(header::EXPECT, fine)).is_ok());
        }
        for unmet in [
            &["fly"][..],
            &["100-continue, fly"],
            &["100-continue", "fly"],
            &["100-continue=1"],
        ] {
            assert!(matches!(
                check(Version::HTTP_11, &with(header::EXPECT, unmet)),
                Err(ServerError::ExpectationFailed(_))
            ));
        }
    }

    #[test]
    fn only_http_1_1_must_have_a_host_and_none_may_have_two() {
        let none = HeaderMap::new();
        assert!(matches!(
            check(Version::HTTP_11, &none),
            Err(ServerError::BadHost(_))
        ));
        assert!(check(Version::HTTP_10, &none).is_ok());
        let mut two = HeaderMap::new();
        two.append(header::HOST, "a".parse().unwrap());
        two.append(header::HOST, "b".parse().unwrap());
        assert!(matches!(
            check(Version::HTTP_10, &two),
            Err(ServerError::BadHost(_))
        ));
    }
}
