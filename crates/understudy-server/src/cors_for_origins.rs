//! CORS only where it applies. A request with an `Origin` header goes through tower-http's CORS
//! layer; a request without one is not a CORS request (Fetch standard, "CORS protocol"), so it
//! skips that work and gets only the `Vary` header that keeps a cache from serving one kind of
//! answer to the other. Browsers always send `Origin` on cross-origin requests, so what they see
//! does not change; curl, backends and contract tests stop paying for headers they never read.
//! It wraps the mock only: the admin API never answers as CORS (`admin_guard`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::{HeaderValue, Request, Response, header};
use tower::{Layer, Service};
use tower_http::cors::{Cors, CorsLayer};

/// What tower-http's CORS layer puts in `Vary` by default, sent on every answer.
pub const VARY: &str = "origin, access-control-request-method, access-control-request-headers";

/// Wraps a service so that only requests with an `Origin` header go through `cors`.
#[derive(Debug, Clone)]
pub struct CorsForOriginsLayer {
    cors: CorsLayer,
}

impl CorsForOriginsLayer {
    /// `cors` should keep tower-http's default `Vary` list, which [`VARY`] repeats.
    pub fn new(cors: CorsLayer) -> Self {
        CorsForOriginsLayer { cors }
    }
}

impl<S: Clone> Layer<S> for CorsForOriginsLayer {
    type Service = CorsForOrigins<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CorsForOrigins {
            cors: self.cors.layer(inner.clone()),
            plain: inner,
        }
    }
}

/// The service made by [`CorsForOriginsLayer`].
#[derive(Debug, Clone)]
pub struct CorsForOrigins<S> {
    cors: Cors<S>,
    plain: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CorsForOrigins<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    S::Future: Unpin,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = CorsForOriginsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Either may take the next request, so both must be ready.
        match self.cors.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.plain.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if request.headers().contains_key(header::ORIGIN) {
            CorsForOriginsFuture::Cors(self.cors.call(request))
        } else {
            CorsForOriginsFuture::Plain(self.plain.call(request))
        }
    }
}

/// The answer of [`CorsForOrigins`]: through CORS, or plain with `Vary` added.
pub enum CorsForOriginsFuture<F> {
    /// A request with an `Origin` header.
    Cors(tower_http::cors::ResponseFuture<F>),
    /// A request without one.
    Plain(F),
}

impl<F> std::fmt::Debug for CorsForOriginsFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CorsForOriginsFuture::Cors(_) => "CorsForOriginsFuture::Cors",
            CorsForOriginsFuture::Plain(_) => "CorsForOriginsFuture::Plain",
        })
    }
}

impl<F, ResBody, E> Future for CorsForOriginsFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>> + Unpin,
    ResBody: Default,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            CorsForOriginsFuture::Cors(future) => Pin::new(future).poll(cx),
            CorsForOriginsFuture::Plain(future) => {
                Pin::new(future).poll(cx).map_ok(|mut response| {
                    // A proxied answer from another understudy says it already.
                    let headers = response.headers_mut();
                    if !headers
                        .get_all(header::VARY)
                        .iter()
                        .any(|value| value == VARY)
                    {
                        headers.append(header::VARY, HeaderValue::from_static(VARY));
                    }
                    response
                })
            }
        }
    }
}
