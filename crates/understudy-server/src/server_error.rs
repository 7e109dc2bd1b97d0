//! The server's own errors (not the contract's): each answers as RFC 9457 problem details.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What can go wrong in the server before the engine sees a request.
#[derive(Debug)]
pub enum ServerError {
    /// The body is larger than `--max-body`.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read (the client went away or sent a broken stream).
    BodyUnreadable(String),
    /// The body did not arrive whole within `--body-timeout` of the headers.
    BodyTimeout,
    /// An admin request was malformed.
    BadAdminRequest(String),
    /// A path under the admin prefix that is no admin route.
    NoSuchAdminRoute(String),
    /// An admin request a web page could have sent (another origin, or a DNS-rebinding name in
    /// `Host`): the reason, said to whoever reads the answer.
    AdminRefused(String),
    /// An HTTP/1.1 request without exactly one valid `Host` header (RFC 9112, section 3.2).
    BadHost(String),
    /// An `Expect` header asking for something other than `100-continue` (RFC 9110, 10.1.1).
    ExpectationFailed(String),
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        // The rest of a stalled body may still come: the connection cannot carry another request.
        let close = matches!(self, ServerError::BodyTimeout);
        let (status, title, detail) = match self {
            ServerError::BodyTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large",
                format!("the body is larger than {limit} bytes (raise it with --max-body)"),
            ),
            ServerError::BodyUnreadable(reason) => (
                StatusCode::BAD_REQUEST,
                "Unreadable request body",
                format!("the body could not be read: {reason}"),
            ),
            ServerError::BodyTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "Request body too slow",
                "the body did not arrive whole in time (raise it with --body-timeout)".to_owned(),
            ),
            ServerError::BadAdminRequest(reason) => {
                (StatusCode::BAD_REQUEST, "Bad admin request", reason)
            }
            ServerError::NoSuchAdminRoute(path) => (
                StatusCode::NOT_FOUND,
                "No such admin route",
                format!(
                    "`{path}` is under the admin prefix but is no admin route; they are \
                     GET /__understudy/ (the inspector page), GET /__understudy/routes, \
                     GET /__understudy/requests, GET /__understudy/state, \
                     GET /__understudy/contract and POST /__understudy/reset"
                ),
            ),
            ServerError::AdminRefused(reason) => {
                (StatusCode::FORBIDDEN, "Admin request refused", reason)
            }
            ServerError::BadHost(reason) => (StatusCode::BAD_REQUEST, "Bad Host header", reason),
            ServerError::ExpectationFailed(expectation) => (
                StatusCode::EXPECTATION_FAILED,
                "Expectation failed",
                format!(
                    "the only expectation this server meets is `Expect: 100-continue`, \
                     not `{expectation}`"
                ),
            ),
        };
        let problem = understudy_engine::problem("server", status, title, detail, json!({}));
        let mut response = (problem.status, problem.headers, problem.body).into_response();
        if close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
/// An error and its causes in one line, as hyper's client gives them only together
/// (`client error (Connect): tcp connect error: Connection refused`): the proxy's 502 and a
/// callback's failure say it.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}
