//! The admin API under `/__understudy/`: served routes, the last requests, and a reset. It is never
//! validated against a spec, and no spec can claim its paths: every path under the prefix is the
//! admin API's, and one that is no admin route is answered 404 here. Every admin request goes
//! through [`refuse_web_pages`] first; none gets CORS headers.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use understudy_engine::Engine;

use crate::admin_guard::{AdminGuard, refuse_web_pages};
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
pub fn admin_routes(engine: Arc<Engine>, guard: AdminGuard) -> Router {
    Router::new()
        .route(&format!("{ADMIN_PREFIX}/routes"), get(routes))
        .route(&format!("{ADMIN_PREFIX}/requests"), get(requests))
        .route(&format!("{ADMIN_PREFIX}/reset"), post(reset))
        .fallback(no_such_route)
        // After the routes and the fallback, so that it wraps them all.
        .layer(from_fn_with_state(guard, refuse_web_pages))
        .with_state(engine)
}

async fn no_such_route(uri: Uri) -> ServerError {
    ServerError::NoSuchAdminRoute(uri.path().to_owned())
}

async fn routes(State(engine): State<Arc<Engine>>) -> Json<Value> {
    Json(json!({ "routes": engine.routes() }))
}

#[derive(Debug, Deserialize)]
struct Limit {
    limit: Option<String>,
}

/// The last `limit` requests (100 by default), written by the engine within
/// `MAX_ANSWER_BYTES`: the answer never exceeds 5 MB, and says `"truncated": true` when the
/// requests asked for did not all fit.
async fn requests(
    State(engine): State<Arc<Engine>>,
    Query(limit): Query<Limit>,
) -> Result<axum::response::Response, ServerError> {
    use axum::response::IntoResponse;
    use understudy_engine::request_log::MAX_ANSWER_BYTES;

    let limit = match limit.limit {
        None => 100,
        Some(text) => text.parse::<usize>().map_err(|_| {
            ServerError::BadAdminRequest(format!("`limit` must be a whole number, not `{text}`"))
        })?,
    };
    let body = engine.request_log().answer(limit, MAX_ANSWER_BYTES);
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

async fn reset(State(engine): State<Arc<Engine>>) -> StatusCode {
    engine.reset();
    StatusCode::NO_CONTENT
}
