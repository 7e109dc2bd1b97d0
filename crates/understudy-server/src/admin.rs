//! The admin API under `/__understudy/`: the inspector page (the prefix itself), served routes,
//! the last requests, stored records, the contract tally, and a reset. It is never
//! validated against a spec, and no spec can claim its paths: every path under the prefix is the
//! admin API's, and one that is no admin route is answered 404 here. Every admin request goes
//! through [`refuse_web_pages`] first; none gets CORS headers.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::Request;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use understudy_engine::route_details::{route_details, webhook_details};

use crate::admin_guard::{AdminGuard, refuse_web_pages};
use crate::live_engine::LiveEngine;
use crate::server_error::ServerError;

/// The prefix every admin route starts with.
pub const ADMIN_PREFIX: &str = "/__understudy";

/// Whether `path` is the admin API's: the prefix itself or a path under it (`/__understudyish`
/// is not).
pub fn is_admin_path(path: &str) -> bool {
    path.strip_prefix(ADMIN_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The admin routes, behind `guard`: every path under the prefix, a wrong method (405) and an
/// unknown path (404) included.
pub fn admin_routes(engine: Arc<LiveEngine>, guard: AdminGuard) -> Router {
    Router::new()
        .route(ADMIN_PREFIX, get(inspector))
        .route(&format!("{ADMIN_PREFIX}/"), get(inspector))
        .route(&format!("{ADMIN_PREFIX}/routes"), get(routes))
        .route(&format!("{ADMIN_PREFIX}/requests"), get(requests))
        .route(&format!("{ADMIN_PREFIX}/state"), get(state))
        .route(&format!("{ADMIN_PREFIX}/contract"), get(contract))
        .route(&format!("{ADMIN_PREFIX}/reset"), post(reset))
        .fallback(no_such_route)
        .layer(axum::middleware::from_fn(quiet_reads))
        // After the routes and the fallback, so that it wraps them all.
        .layer(from_fn_with_state(guard, refuse_web_pages))
        .with_state(engine)
}

/// Marks a response that needs no log line: a successful read of the admin API, which the
/// inspector page makes several times a second and would otherwise bury the mock's lines.
#[derive(Debug, Clone, Copy)]
pub struct QuietLogLine;

async fn quiet_reads(request: Request, next: Next) -> axum::response::Response {
    let read = request.method() == Method::GET;
    let mut response = next.run(request).await;
    if read && response.status().is_success() {
        response.extensions_mut().insert(QuietLogLine);
    }
    response
}

async fn no_such_route(uri: Uri) -> ServerError {
    ServerError::NoSuchAdminRoute(uri.path().to_owned())
}

/// The inspector page: one HTML file with its CSS and script, built into the binary.
pub const INSPECTOR_HTML: &str = include_str!("inspector.html");

/// The page's policy: nothing but its own inline style and script, and fetches to its own
/// origin; no page may frame it (a framed reset button could be clicked by a hidden page).
const INSPECTOR_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

async fn inspector() -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;

    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, INSPECTOR_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        INSPECTOR_HTML,
    )
        .into_response()
}

/// Every served operation with its statuses, examples, `Prefer` choices, callbacks and a `curl`
/// line sent to the `Host` the request named (the guard has checked it), else `127.0.0.1:4010`;
/// the specs' webhooks, listed as never fired; and `reload_error`, null unless the specs changed
/// (`serve --watch`) into something that does not load: then each problem's file, location (a
/// JSON pointer, or a line and column) and reason.
async fn routes(State(live): State<Arc<LiveEngine>>, headers: HeaderMap) -> Json<Value> {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1:4010");
    let base = format!("http://{host}");
    let reload_error = live.reload_error().map(|report| {
        json!({
            "message": "the specs changed but cannot be served: the last good version is served \
                        until they are fixed",
            "errors": report
                .errors
                .iter()
                .map(|error| json!({
                    "file": error.file.display().to_string(),
                    "location": error.location,
                    "reason": error.reason,
                }))
                .collect::<Vec<_>>(),
        })
    });
    let engine = live.current();
    Json(json!({
        "routes": route_details(&engine, &base),
        "webhooks": webhook_details(&engine),
        "reload_error": reload_error,
    }))
}

/// How many of a collection's newest records `state` shows.
const SHOWN_RECORDS: usize = 20;
/// The most bytes of JSON a record shown by `state` may take; a larger one is left out, counted.
const SHOWN_RECORD_BYTES: usize = 16 * 1024;

/// The collections of the store, with their record counts, the bound, and the newest records of
/// each resource (at most [`SHOWN_RECORDS`] of [`SHOWN_RECORD_BYTES`] each, so the answer stays
/// bounded whatever the records hold).
async fn state(State(live): State<Arc<LiveEngine>>) -> Json<Value> {
    let engine = live.current();
    Json(match engine.store() {
        Some(store) => json!({
            "stateless": false,
            "max_records": store.max_records(),
            "collections": store
                .counts()
                .into_iter()
                .map(|(name, records)| {
                    let newest = store.newest(name, SHOWN_RECORDS);
                    let shown = newest.len();
                    let newest: Vec<Value> = newest
                        .into_iter()
                        .filter(|record| {
                            serde_json::to_vec(record)
                                .is_ok_and(|bytes| bytes.len() <= SHOWN_RECORD_BYTES)
                        })
                        .collect();
                    let too_large = shown - newest.len();
                    json!({"name": name, "records": records, "newest": newest, "too_large": too_large})
                })
                .collect::<Vec<_>>(),
        }),
        None => json!({"stateless": true, "collections": []}),
    })
}

/// Requests and violating requests per operation since start-up, as `--report` counts them.
async fn contract(State(live): State<Arc<LiveEngine>>) -> Json<Value> {
    let engine = live.current();
    let operations = engine.request_log().tally();
    let requests: u64 = operations.iter().map(|tally| tally.requests).sum();
    let violating: u64 = operations.iter().map(|tally| tally.violating).sum();
    Json(json!({
        "requests": requests,
        "violating": violating,
        "operations": operations,
    }))
}

#[derive(Debug, Deserialize)]
struct Limit {
    limit: Option<String>,
    after: Option<String>,
}

/// The last `limit` requests (100 by default) numbered above `after` (0 by default), written by
/// the engine within `MAX_ANSWER_BYTES`: the answer never exceeds 5 MB, and says
/// `"truncated": true` when the requests asked for did not all fit.
async fn requests(
    State(live): State<Arc<LiveEngine>>,
    Query(query): Query<Limit>,
) -> Result<axum::response::Response, ServerError> {
    use axum::response::IntoResponse;
    use understudy_engine::request_log::MAX_ANSWER_BYTES;

    let limit = match query.limit {
        None => 100,
        Some(text) => text.parse::<usize>().map_err(|_| {
            ServerError::BadAdminRequest(format!("`limit` must be a whole number, not `{text}`"))
        })?,
    };
    let after = match query.after {
        None => 0,
        Some(text) => text.parse::<u64>().map_err(|_| {
            ServerError::BadAdminRequest(format!("`after` must be a whole number, not `{text}`"))
        })?,
    };
    let body = live
        .current()
        .request_log()
        .answer_after(after, limit, MAX_ANSWER_BYTES);
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

async fn reset(State(live): State<Arc<LiveEngine>>) -> StatusCode {
    live.current().reset();
    StatusCode::NO_CONTENT
}
