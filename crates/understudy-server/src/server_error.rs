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
        };
        let body = json!({
            "type": "urn:understudy:problem:server",
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        });
        let mut response = (status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
