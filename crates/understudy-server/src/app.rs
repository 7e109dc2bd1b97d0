//! The application: every request that is not an admin one goes to the engine. CORS (for
//! requests with an `Origin`, on the mock only), the body limit and the per-request log line are
//! tower layers around it. On a socket, every request is first held to HTTP's message rules
//! ([`message_checks`]).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use tower::util::{BoxCloneSyncService, MapResponseLayer};
use tower::{BoxError, Service, ServiceBuilder, ServiceExt};
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer, ExposeHeaders};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;
use understudy_engine::{Delivery, Engine, Fault, MockRequest};

use crate::admin::{QuietLogLine, admin_routes, is_admin_path};
use crate::admin_guard::AdminGuard;
use crate::callbacks::{CallbackOptions, Callbacks, SignalWhenSent};
use crate::cors_for_origins::CorsForOriginsLayer;
use crate::live_engine::LiveEngine;
use crate::message_checks;
use crate::proxy::Proxy;
use crate::serve::ConnectionLimits;
use crate::server_error::ServerError;

/// The server's own options (the engine has its own).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Answer CORS preflights and add CORS headers (on by default).
    pub cors: bool,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
    /// Serve the admin API under [`ADMIN_PREFIX`](crate::admin::ADMIN_PREFIX) (on by default);
    /// off, its paths go to the mock, which answers them 404 like any path no spec serves.
    pub admin: bool,
    /// Names the admin API answers to in `Host`, besides IP addresses and `localhost`
    /// (`--allowed-host`); none by default.
    pub allowed_hosts: Vec<String>,
    /// Timeouts and the bound on open connections (used by [`crate::serve`]).
    pub connections: ConnectionLimits,
    /// Where callbacks may go, their timeout and how many may be in flight.
    pub callbacks: CallbackOptions,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            cors: true,
            max_body: 1024 * 1024,
            admin: true,
            allowed_hosts: Vec::new(),
            connections: ConnectionLimits::default(),
            callbacks: CallbackOptions::default(),
        }
    }
}

/// What a response carries to the log line: the violations, summarised.
#[derive(Debug, Clone)]
pub(crate) struct ViolationSummary(pub(crate) String);

#[derive(Clone)]
struct AppState {
    engine: Arc<LiveEngine>,
    max_body: usize,
    callbacks: Callbacks,
    /// With `understudy proxy`: where requests are forwarded instead of answered.
    proxy: Option<Arc<Proxy>>,
}

/// The whole application: a tower [`Service`] that `axum::serve` takes as it is, and tests drive
/// with `oneshot`.
///
/// Requests under [`ADMIN_PREFIX`](crate::admin::ADMIN_PREFIX) go to an axum [`Router`] of the
/// admin routes, behind the admin guard and without CORS (unless the admin API is off); every
/// other request goes to the mock service directly, skipping the router's two path lookups, its
/// copy of the URI and its empty path parameters.
#[derive(Clone)]
pub struct App {
    admin: Option<Router>,
    mock: BoxCloneSyncService<Request, Response, Infallible>,
    callbacks: Callbacks,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    /// The app as a connection read from a socket serves it: behind the checks of HTTP's message
    /// rules ([`Connection`]).
    pub fn on_connection(&self) -> Connection {
        Connection { app: self.clone() }
    }

    /// The sender of the callbacks its answers cause, to wait until none is in flight.
    pub fn callbacks(&self) -> &Callbacks {
        &self.callbacks
    }
}

impl<B> Service<axum::http::Request<B>> for App
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The admin router is always ready; the mock decides.
        self.mock.poll_ready(cx)
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        let request = request.map(Body::new);
        match &self.admin {
            Some(admin) if is_admin_path(request.uri().path()) => {
                Box::pin(admin.clone().oneshot(request))
            }
            _ => self.mock.call(request),
        }
    }
}

/// `axum::serve(listener, app)` asks for a service per connection: the same app, cloned, behind
/// the checks of a message read from a socket.
impl<L: Listener> Service<IncomingStream<'_, L>> for App {
    type Response = Connection;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Connection, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _connection: IncomingStream<'_, L>) -> Self::Future {
        std::future::ready(Ok(Connection { app: self.clone() }))
    }
}

/// The [`App`] as one connection serves it: a request that breaks HTTP's message rules
/// ([`message_checks`]: no `Host` in HTTP/1.1, an unmet `Expect`) is answered 400 or 417, on
/// every path, and the connection closed; the others go to the app.
#[derive(Debug, Clone)]
pub struct Connection {
    app: App,
}

impl<B> Service<axum::http::Request<B>> for Connection
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<axum::http::Request<B>>::poll_ready(&mut self.app, cx)
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        match message_checks::check(request.version(), request.headers()) {
            Ok(()) => self.app.call(request),
            Err(error) => Box::pin(std::future::ready(Ok(refuse_message(&request, error)))),
        }
    }
}

/// The answer to a request that breaks HTTP's message rules, with a log line at INFO.
fn refuse_message<B>(request: &axum::http::Request<B>, error: ServerError) -> Response {
    let mut response = error.into_response();
    // What follows on the connection cannot be trusted to be framed as the client meant.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    tracing::info!(
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
        status = response.status().as_u16(),
        "refused before routing"
    );
    response
}

/// The whole application for `engine`.
pub fn app(engine: Arc<Engine>, options: &ServerOptions) -> App {
    live_app(Arc::new(LiveEngine::new(engine)), options)
}

/// The whole application for the engine `live` holds, read once per request, so that a reload
/// ([`crate::watch`]) can replace it. CORS exposes the response headers of the specs as they
/// are now; a header that a reload documents later is exposed after a restart.
pub fn live_app(live: Arc<LiveEngine>, options: &ServerOptions) -> App {
    build(live, options, None)
}

/// The application, answering requests with the engine `live` holds or, with a `proxy`,
/// forwarding them ([`crate::proxy::proxy_app`]).
pub(crate) fn build(
    live: Arc<LiveEngine>,
    options: &ServerOptions,
    proxy: Option<Arc<Proxy>>,
) -> App {
    let max_body = options.max_body;
    let callbacks = Callbacks::new(options.callbacks);
    let state = AppState {
        engine: Arc::clone(&live),
        max_body,
        callbacks: callbacks.clone(),
        proxy,
    };
    let cors = options.cors.then(|| cors_for_origins(&live.current()));
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<Body>| {
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
            )
        })
        .on_request(())
        .on_failure(())
        .on_response(|response: &Response, latency: Duration, _span: &Span| {
            // The line is formatted only when it will be written; the admin API's reads (the
            // inspector polls them) get none.
            if !tracing::enabled!(tracing::Level::INFO)
                || response.extensions().get::<QuietLogLine>().is_some()
            {
                return;
            }
            let status = response.status().as_u16();
            let latency = format!("{:.2}ms", latency.as_secs_f64() * 1000.0);
            match response.extensions().get::<ViolationSummary>() {
                Some(ViolationSummary(summary)) => {
                    tracing::info!(status, latency, violations = %summary, "answered");
                }
                None => tracing::info!(status, latency, "answered"),
            }
        });
    // The log line is at INFO: when the subscriber turns INFO off for this module (`--log-level
    // warn`), the layer is left out rather than timing every request for a line never written.
    let log_lines = tracing::enabled!(tracing::Level::INFO).then(|| {
        ServiceBuilder::new()
            // Outside the log line: the same body type as without it.
            .map_response(|response: Response<_>| response.map(Body::new))
            .layer(trace)
            .into_inner()
    });
    // Admin routes and the mock handler go through the same layers, but for CORS, which the
    // admin API never gets (a web page must not read or reset it). The mock handler, which takes
    // every other request, is wrapped once as a whole: `Router::layer` would wrap it in one boxed
    // service per layer, and each request would clone that chain of boxes (about twenty
    // allocations, a copy of the CORS settings among them) and go through a second router.
    let layers = |cors: Option<CorsForOriginsLayer>| {
        ServiceBuilder::new()
            .option_layer(log_lines.clone())
            // Inside the log line, so that preflights are logged too.
            .option_layer(cors)
            // A plain function over the response: no future to box per request.
            .layer(MapResponseLayer::new(move |response: Response<_>| {
                explain_too_large(response.map(Body::new), max_body)
            }))
            .layer(RequestBodyLimitLayer::new(max_body))
    };
    let admin = options.admin.then(|| {
        let guard = AdminGuard::new(&options.allowed_hosts);
        admin_routes(Arc::clone(&live), guard).layer(layers(None))
    });
    let mock = BoxCloneSyncService::new(
        layers(cors)
            .service(mock.with_state(state))
            .map_response(|response| response.map(Body::new)),
    );
    App {
        admin,
        mock,
        callbacks,
    }
}

/// CORS for requests with an `Origin`, mirroring what the browser asks for.
fn cors_for_origins(engine: &Engine) -> CorsForOriginsLayer {
    // With credentials allowed, `*` is not permitted: expose every documented response header.
    let mut exposed: Vec<HeaderName> = vec![
        header::WWW_AUTHENTICATE,
        header::RETRY_AFTER,
        header::LOCATION,
        header::ALLOW,
        HeaderName::from_static(crate::proxy::VIOLATIONS_HEADER),
    ];
    for spec in engine.specs() {
        for operation in &spec.operations {
            for response in &operation.responses {
                for documented in &response.headers {
                    if !exposed.contains(&documented.name) {
                        exposed.push(documented.name.clone());
                    }
                }
            }
        }
    }
    CorsForOriginsLayer::new(
        CorsLayer::new()
            .allow_origin(AllowOrigin::mirror_request())
            .allow_methods(AllowMethods::mirror_request())
            .allow_headers(AllowHeaders::mirror_request())
            .allow_credentials(true)
            .expose_headers(ExposeHeaders::list(exposed))
            .max_age(Duration::from_secs(600)),
    )
}

/// Hands a request to the engine.
async fn mock(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, state.max_body).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>())
                || error.to_string().contains("length limit");
            return if too_large {
                ServerError::BodyTooLarge {
                    limit: state.max_body,
                }
                .into_response()
            } else if caused_by::<crate::serve::BodyTooSlow>(&error) {
                ServerError::BodyTimeout.into_response()
            } else {
                ServerError::BodyUnreadable(error.to_string()).into_response()
            };
        }
    };
    if let Some(proxy) = &state.proxy {
        return proxy.handle(&state.engine.load(), parts, bytes).await;
    }
    let request = MockRequest {
        method: &parts.method,
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &bytes,
    };
    // The engine this request is answered by to the end, whatever a reload swaps in.
    let engine = state.engine.load();
    let outcome = engine.handle(&request);
    let delivery = engine.delivery(&outcome, &request);
    let mock = outcome.response;
    // Built in place: the tuple form would set a content type of its own and then copy every
    // header of the engine's map into the response's.
    let mut body = Body::from(mock.body);
    // Fired once the answer is written: the body says when.
    if !outcome.callbacks.is_empty() {
        let (signalling, sent) = SignalWhenSent::wrap(body);
        body = signalling;
        state.callbacks.fire(&engine, outcome.callbacks, sent);
    }
    let mut response = Response::new(body);
    *response.status_mut() = mock.status;
    *response.headers_mut() = mock.headers;
    // Only the log line reads the summary: not made when it is not written (`--log-level warn`).
    if !outcome.violations.is_empty() && tracing::enabled!(tracing::Level::INFO) {
        response
            .extensions_mut()
            .insert(ViolationSummary(understudy_engine::violation::summary(
                &outcome.violations,
            )));
    }
    // Not held across the delay.
    drop(engine);
    deliver(response, delivery).await
}

/// Waits the delay asked for (a timer: no worker is held), and marks a fault for the connection
/// to carry out ([`crate::serve`]): `hang` waits until the client gives up, at most
/// [`HANG_FOR`](understudy_engine::delivery::HANG_FOR), then closes as `reset` does.
async fn deliver(mut response: Response, delivery: Delivery) -> Response {
    if let Some(delay) = delivery.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(fault) = delivery.fault {
        if fault == Fault::Hang {
            tokio::time::sleep(understudy_engine::delivery::HANG_FOR).await;
        }
        response.extensions_mut().insert(fault);
        if fault == Fault::Garbage {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
    }
    response
}

/// Whether `error` or an error behind it is an `E`.
fn caused_by<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error.is::<E>() {
            return true;
        }
        next = error.source();
    }
    false
}

/// tower-http answers a declared oversize body itself, in plain text; say it as problem details.
fn explain_too_large(response: Response, limit: usize) -> Response {
    let is_plain_413 = response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response.headers().get(header::CONTENT_TYPE)
            != Some(&HeaderValue::from_static(understudy_engine::PROBLEM_JSON));
    if !is_plain_413 {
        return response;
    }
    ServerError::BodyTooLarge { limit }.into_response()
}
