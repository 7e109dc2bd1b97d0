//! The admin API's guard: it answers tests, scripts and curl, never a web page. A page the
//! developer visits could otherwise read the request log or reset the mock, either from its own
//! origin (a cross-origin `fetch`, or a form POST, which needs no CORS) or from the server's
//! origin after pointing a name of its own at this machine (DNS rebinding). So an admin request
//! is refused (403, problem details saying why) when:
//!
//! - its `Host` names the server by anything but an IP address, `localhost` or a name given with
//!   `--allowed-host` (a rebinding page's requests carry the page's own name);
//! - it has an `Origin` that is not the server's own (`http://` and the `Host` value), `null`
//!   included;
//! - the browser says it comes from another site (`Sec-Fetch-Site: cross-site`).
//!
//! A request without `Origin` or `Host` is let through: browsers send `Origin` with every
//! cross-origin request but a top-level navigation, and `Host` with every request (the server
//! answers an HTTP/1.1 request without one 400 before it gets here, `message_checks`).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::message_checks::host_of;
use crate::server_error::ServerError;

/// The names the admin API answers to besides IP addresses and `localhost`.
#[derive(Debug, Clone, Default)]
pub struct AdminGuard {
    allowed_hosts: Arc<[String]>,
}

impl AdminGuard {
    /// A guard that also lets `Host` name the server by any of `allowed_hosts` (compared without
    /// regard to case, with any port).
    pub fn new(allowed_hosts: &[String]) -> AdminGuard {
        AdminGuard {
            allowed_hosts: allowed_hosts
                .iter()
                .map(|name| name.to_lowercase())
                .collect(),
        }
    }

    /// Why a request with this target and these headers is refused, if it is.
    pub fn refusal(&self, uri: &Uri, headers: &HeaderMap) -> Option<String> {
        // An absolute target's authority stands in for `Host` (RFC 9112, section 3.2.2).
        let host = match uri.authority() {
            Some(authority) => Some(authority.as_str().as_bytes()),
            None => match only(headers, &header::HOST) {
                Ok(host) => host.map(HeaderValue::as_bytes),
                Err(()) => return Some("the request has more than one Host header".to_owned()),
            },
        };
        if let Some(reason) = host.and_then(|host| self.host_refusal(host)) {
            return Some(reason);
        }
        let origin = match only(headers, &header::ORIGIN) {
            Ok(origin) => origin.map(HeaderValue::as_bytes),
            Err(()) => return Some("the request has more than one Origin header".to_owned()),
        };
        if let Some(reason) = origin.and_then(|origin| origin_refusal(origin, host)) {
            return Some(reason);
        }
        let cross_site = headers
            .get_all("sec-fetch-site")
            .iter()
            .any(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site"));
        cross_site.then(|| {
            "the browser says the request comes from a page on another site \
             (`Sec-Fetch-Site: cross-site`); the admin API answers no web page"
                .to_owned()
        })
    }

    /// Why the admin API does not answer to this `Host` value, if it does not.
    fn host_refusal(&self, value: &[u8]) -> Option<String> {
        let text = String::from_utf8_lossy(value);
        let Some(host) = host_of(value) else {
            return Some(format!(
                "`{text}` in Host is not a host with an optional port"
            ));
        };
        // `host_of` lets only ASCII through.
        let host = std::str::from_utf8(host).unwrap_or_default();
        let allowed = match host.strip_prefix('[') {
            Some(literal) => literal
                .strip_suffix(']')
                .is_some_and(|address| address.parse::<Ipv6Addr>().is_ok()),
            None => {
                host.parse::<Ipv4Addr>().is_ok()
                    || host.eq_ignore_ascii_case("localhost")
                    || self
                        .allowed_hosts
                        .iter()
                        .any(|name| name.eq_ignore_ascii_case(host))
            }
        };
        (!allowed).then(|| {
            format!(
                "the admin API answers requests for an IP address, localhost or a name given \
                 with --allowed-host, and this one is for `{text}`: a web page that points a \
                 name of its own at this machine (DNS rebinding) would send that. If that is \
                 how you reach the server, start it with --allowed-host {host}"
            )
        })
    }
}

/// The admin guard as an axum middleware: refused requests get 403 and never reach a route.
pub async fn refuse_web_pages(
    State(guard): State<AdminGuard>,
    request: Request,
    next: Next,
) -> Response {
    match guard.refusal(request.uri(), request.headers()) {
        None => next.run(request).await,
        Some(reason) => ServerError::AdminRefused(reason).into_response(),
    }
}

/// Why a request with this `Origin` is refused, given the `Host` it was sent to, if it is.
fn origin_refusal(origin: &[u8], host: Option<&[u8]>) -> Option<String> {
    let text = String::from_utf8_lossy(origin);
    if origin == b"null" {
        return Some(
            "the request comes from a page without an origin of its own (`Origin: null`: a \
             sandboxed frame, a file or a redirect); the admin API answers no web page"
                .to_owned(),
        );
    }
    let Some(host) = host else {
        return Some(format!(
            "the request comes from `{text}` and has no Host to say whether that is the \
             server's own origin"
        ));
    };
    let own = origin.len() == "http://".len() + host.len()
        && origin[.."http://".len()].eq_ignore_ascii_case(b"http://")
        && origin["http://".len()..].eq_ignore_ascii_case(host);
    (!own).then(|| {
        format!(
            "the request comes from a page at `{text}`, not from the server's own origin \
             `http://{}`; the admin API is not for web pages and sends no CORS headers: call it \
             from a test, a script or curl",
            String::from_utf8_lossy(host)
        )
    })
}

/// The one value of a header, `None` without it, or `Err` when there are several.
fn only<'a>(
    headers: &'a HeaderMap,
    name: &header::HeaderName,
) -> Result<Option<&'a HeaderValue>, ()> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (value, None) => Ok(value),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(guard: &AdminGuard, headers: &[(&str, &str)]) -> Option<String> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        guard.refusal(&Uri::from_static("/__understudy/routes"), &map)
    }

    #[test]
    fn ip_literals_and_localhost_on_any_port_are_the_only_hosts_without_allowed_hosts() {
        let guard = AdminGuard::default();
        for host in [
            "127.0.0.1:4010",
            "192.168.1.20",
            "[::1]:4010",
            "[fe80::1]",
            "LOCALHOST:1",
            "localhost",
        ] {
            assert_eq!(refusal(&guard, &[("host", host)]), None, "{host}");
        }
        for host in [
            "evil.example:4010",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "[::1",
            "[not-v6]",
            "127.1",
            "",
        ] {
            assert!(refusal(&guard, &[("host", host)]).is_some(), "{host}");
        }
        let guard = AdminGuard::new(&["Mock.Test".to_owned()]);
        assert_eq!(refusal(&guard, &[("host", "mock.test:4010")]), None);
        assert!(refusal(&guard, &[("host", "other.test:4010")]).is_some());
    }

    #[test]
    fn only_the_servers_own_origin_passes() {
        let guard = AdminGuard::default();
        let host = ("host", "127.0.0.1:4010");
        assert_eq!(
            refusal(&guard, &[host, ("origin", "http://127.0.0.1:4010")]),
            None
        );
        assert_eq!(
            refusal(&guard, &[host, ("origin", "HTTP://127.0.0.1:4010")]),
            None
        );
        for origin in [
            "null",
            "http://127.0.0.1:4011",
            "http://127.0.0.1",
            "https://127.0.0.1:4010",
            "http://localhost:4010",
            "http://127.0.0.1:40100",
        ] {
            let reason = refusal(&guard, &[host, ("origin", origin)]);
            assert!(reason.is_some(), "{origin}");
        }
        assert!(refusal(&guard, &[("origin", "http://127.0.0.1:4010")]).is_some());
        assert!(
            refusal(
                &guard,
                &[
                    host,
                    ("origin", "http://127.0.0.1:4010"),
                    ("origin", "null")
                ]
            )
            .is_some()
        );
    }

    #[test]
    fn a_cross_site_fetch_is_refused_even_without_an_origin() {
        let guard = AdminGuard::default();
        let host = ("host", "localhost:4010");
        assert!(refusal(&guard, &[host, ("sec-fetch-site", "cross-site")]).is_some());
        for site in ["same-origin", "none", "same-site"] {
            assert_eq!(refusal(&guard, &[host, ("sec-fetch-site", site)]), None);
        }
    }
}
