//! Fires the callbacks the engine makes for an answer ([`CallbackRequest`]), once the answer is
//! sent, with hyper's client: one attempt each, no retries, within a timeout (5 s by default),
//! at most a number in flight at once (64; past it a callback is dropped), and to loopback
//! addresses only unless `--callbacks-to any` (the host is resolved here, and the request goes
//! to the address that was checked, so a name cannot point elsewhere between check and send).
//! Each outcome is logged and recorded in the request log entry of the request that caused it.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderValue, Request, header};
use http_body_util::Full;
use hyper::body::{Frame, SizeHint};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{oneshot, watch};
use understudy_engine::{CallbackRequest, CallbackResult, Engine};

/// Where callbacks may go (`--callbacks-to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CallbacksTo {
    /// Loopback addresses only (`127.0.0.0/8`, `::1`): a spec or a request cannot make the mock
    /// send requests into the network.
    #[default]
    Loopback,
    /// Any host.
    Any,
    /// None: callbacks are not fired.
    Off,
}

/// How callbacks are fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackOptions {
    /// Where they may go.
    pub to: CallbacksTo,
    /// How long one may take, from resolving its host to the receiver's status line.
    pub timeout: Duration,
    /// The most in flight at once; past it, a callback is dropped (and logged).
    pub max_in_flight: usize,
}

/// The timeout of one callback by default.
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(5);

/// The most callbacks in flight by default.
pub const MAX_CALLBACKS_IN_FLIGHT: usize = 64;

impl Default for CallbackOptions {
    fn default() -> Self {
        CallbackOptions {
            to: CallbacksTo::Loopback,
            timeout: CALLBACK_TIMEOUT,
            max_in_flight: MAX_CALLBACKS_IN_FLIGHT,
        }
    }
}

/// The server's callback sender, shared by every connection of an app.
#[derive(Clone)]
pub struct Callbacks {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client<HttpConnector, Full<Bytes>>,
    options: CallbackOptions,
    /// How many are in flight: admitted and not yet settled.
    in_flight: watch::Sender<usize>,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("options", &self.inner.options)
            .field("in_flight", &*self.inner.in_flight.borrow())
            .finish_non_exhaustive()
    }
}

/// Why a callback was not answered, before the timeout.
enum Failure {
    Refused(String),
    Failed(String),
}

impl Callbacks {
    /// A sender with these options.
    pub fn new(options: CallbackOptions) -> Callbacks {
        let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        Callbacks {
            inner: Arc::new(Inner {
                client,
                options,
                in_flight: watch::Sender::new(0),
            }),
        }
    }

    /// Fires `requests` once `sent` resolves (the answer that caused them is written, or
    /// dropped). Each is admitted now: one past the bound is dropped, and with callbacks off
    /// each is refused, both recorded at once.
    pub fn fire(
        &self,
        engine: &Arc<Engine>,
        requests: Vec<CallbackRequest>,
        sent: oneshot::Receiver<()>,
    ) {
        let mut admitted = Vec::with_capacity(requests.len());
        for request in requests {
            let refused = match self.inner.options.to {
                CallbacksTo::Off => Some(CallbackResult::Refused(
                    "callbacks are off (--callbacks-to off)".to_owned(),
                )),
                _ => match self.admit() {
                    Some(guard) => {
                        admitted.push((request, guard));
                        continue;
                    }
                    None => Some(CallbackResult::Dropped(format!(
                        "{} callbacks were in flight already",
                        self.inner.options.max_in_flight
                    ))),
                },
            };
            if let Some(result) = refused {
                settle(engine, &request, result);
            }
        }
        if admitted.is_empty() {
            return;
        }
        let inner = Arc::clone(&self.inner);
        let engine = Arc::clone(engine);
        tokio::spawn(async move {
            // Sent, or the connection dropped the answer: either way it is out of the way.
            let _ = sent.await;
            for (request, guard) in admitted {
                tokio::spawn(fire_one(
                    Arc::clone(&inner),
                    Arc::clone(&engine),
                    request,
                    guard,
                ));
            }
        });
    }

    /// Resolves once no callback is in flight: every one admitted so far is settled in the
    /// request log. A test waits on it instead of sleeping.
    pub async fn settled(&self) {
        let mut watching = self.inner.in_flight.subscribe();
        let _ = watching.wait_for(|in_flight| *in_flight == 0).await;
    }

    /// Counts one more in flight, if the bound leaves room.
    fn admit(&self) -> Option<InFlight> {
        let max = self.inner.options.max_in_flight;
        let mut admitted = false;
        self.inner.in_flight.send_if_modified(|in_flight| {
            admitted = *in_flight < max;
            if admitted {
                *in_flight += 1;
            }
            admitted
        });
        admitted.then(|| InFlight {
            inner: Arc::clone(&self.inner),
        })
    }
}

/// One admitted callback; dropping it counts it out.
struct InFlight {
    inner: Arc<Inner>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.inner
            .in_flight
            .send_modify(|in_flight| *in_flight = in_flight.saturating_sub(1));
    }
}

async fn fire_one(
    inner: Arc<Inner>,
    engine: Arc<Engine>,
    request: CallbackRequest,
    guard: InFlight,
) {
    let timeout = inner.options.timeout;
    let result = match tokio::time::timeout(timeout, send(&inner, &request)).await {
        Ok(Ok(status)) => CallbackResult::Answered(status),
        Ok(Err(Failure::Refused(reason))) => CallbackResult::Refused(reason),
        Ok(Err(Failure::Failed(reason))) => CallbackResult::Failed(reason),
        Err(_) => CallbackResult::TimedOut(timeout),
    };
    settle(&engine, &request, result);
    // Counted out only once settled, so that a test that waits for none in flight finds it in
    // the request log.
    drop(guard);
}

/// Records `result` in the request log and logs it.
fn settle(engine: &Engine, request: &CallbackRequest, result: CallbackResult) {
    let method = &request.method;
    // The path only: a query may hold a credential.
    let url = format!(
        "{}://{}{}",
        request.url.scheme_str().unwrap_or("http"),
        request
            .url
            .authority()
            .map_or("", |authority| authority.as_str()),
        request.url.path()
    );
    match &result {
        CallbackResult::Answered(status) => {
            tracing::info!(callback = %request.name, %method, %url, status, "callback answered");
        }
        CallbackResult::TimedOut(after) => tracing::warn!(
            callback = %request.name, %method, %url,
            "callback not answered within {} ms", after.as_millis()
        ),
        CallbackResult::Refused(reason)
        | CallbackResult::Dropped(reason)
        | CallbackResult::Failed(reason) => {
            tracing::warn!(callback = %request.name, %method, %url, "callback not sent: {reason}");
        }
    }
    engine.request_log().settle_callback(request.ticket, result);
}

/// Whether a callback may go to `ip` under `to`.
pub fn allowed(ip: IpAddr, to: CallbacksTo) -> bool {
    match to {
        CallbacksTo::Any => true,
        CallbacksTo::Loopback => ip.to_canonical().is_loopback(),
        CallbacksTo::Off => false,
    }
}

/// Resolves the host, checks it, and sends the request to the checked address: the status the
/// receiver answered.
async fn send(inner: &Inner, request: &CallbackRequest) -> Result<u16, Failure> {
    let uri = &request.url;
    let Some(authority) = uri.authority() else {
        return Err(Failure::Failed("the URL names no host".to_owned()));
    };
    let host = authority.host();
    let port = authority.port_u16().unwrap_or(80);
    // An IPv6 literal is written in brackets in a URL, not when it is looked up.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|error| Failure::Failed(format!("cannot resolve `{host}`: {error}")))?
        .collect();
    let to = inner.options.to;
    let checked: Vec<SocketAddr> = addresses
        .iter()
        .filter(|address| allowed(address.ip(), to))
        .copied()
        .collect();
    if checked.is_empty() {
        let found: Vec<String> = addresses
            .iter()
            .map(|address| address.ip().to_string())
            .collect();
        return Err(Failure::Refused(if found.is_empty() {
            format!("`{host}` resolves to no address")
        } else {
            format!(
                "`{host}` is {}, not a loopback address; --callbacks-to any sends callbacks \
                 to other hosts",
                found.join(", ")
            )
        }));
    }
    send_to(inner, request, checked).await
}

/// Sends the request to the first of `checked` that takes the connection: the status the
/// receiver answered.
async fn send_to(
    inner: &Inner,
    request: &CallbackRequest,
    checked: Vec<SocketAddr>,
) -> Result<u16, Failure> {
    let uri = &request.url;
    let authority = uri.authority().map_or("", |authority| authority.as_str());
    let path_and_query = uri.path_and_query().map_or("/", |path| path.as_str());
    let mut refused = None;
    // Each checked address in turn while none takes the connection (`localhost` may be `::1`
    // first and the receiver on 127.0.0.1 only): nothing was sent, so this is no retry.
    for address in checked {
        let mut outgoing = Request::builder()
            .method(request.method.clone())
            .uri(format!("http://{address}{path_and_query}"))
            .header(header::HOST, authority)
            .header(header::USER_AGENT, HeaderValue::from_static("understudy"));
        if let Some(content_type) = &request.content_type {
            outgoing = outgoing.header(header::CONTENT_TYPE, content_type.clone());
        }
        let outgoing = outgoing
            .body(Full::new(request.body.clone()))
            .map_err(|error| Failure::Failed(format!("cannot make the request: {error}")))?;
        match inner.client.request(outgoing).await {
            Ok(response) => return Ok(response.status().as_u16()),
            Err(error) if error.is_connect() => {
                refused = Some(crate::server_error::error_chain(&error))
            }
            Err(error) => return Err(Failure::Failed(crate::server_error::error_chain(&error))),
        }
    }
    Err(Failure::Failed(refused.unwrap_or_default()))
}

/// A response body that says when it has been written whole (its last frame taken) or dropped:
/// the callbacks its answer caused wait for it.
pub(crate) struct SignalWhenSent {
    inner: Body,
    sent: Option<oneshot::Sender<()>>,
}

impl SignalWhenSent {
    /// `inner`, and the receiver that resolves once it is sent or dropped.
    pub(crate) fn wrap(inner: Body) -> (Body, oneshot::Receiver<()>) {
        let (sender, receiver) = oneshot::channel();
        let body = SignalWhenSent {
            inner,
            sent: Some(sender),
        };
        (Body::new(body), receiver)
    }
}

impl HttpBody for SignalWhenSent {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if (matches!(polled, Poll::Ready(None)) || this.inner.is_end_stream())
            && let Some(sender) = this.sent.take()
        {
            let _ = sender.send(());
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn only_loopback_addresses_are_allowed_by_default() {
        let loopback = [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()),
        ];
        let others = [
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ];
        for ip in loopback {
            assert!(allowed(ip, CallbacksTo::Loopback), "{ip}");
        }
        for ip in others {
            assert!(!allowed(ip, CallbacksTo::Loopback), "{ip}");
            assert!(allowed(ip, CallbacksTo::Any), "{ip}");
            assert!(!allowed(ip, CallbacksTo::Off), "{ip}");
        }
    }

    #[tokio::test]
    async fn an_address_that_takes_no_connection_gives_way_to_the_next() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed_address = closed.local_addr().unwrap();
        drop(closed);
        let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open_address = open.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = open.accept().await.unwrap();
            let mut buffer = [0; 1024];
            let _ = stream.read(&mut buffer).await;
            let _ = stream
                .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                .await;
        });
        let callbacks = Callbacks::new(CallbackOptions::default());
        let request = CallbackRequest {
            name: "onEvent".into(),
            method: axum::http::Method::POST,
            url: "http://localhost/hook".parse().unwrap(),
            content_type: None,
            body: Bytes::new(),
            ticket: understudy_engine::CallbackTicket::default(),
        };
        let answered = send_to(
            &callbacks.inner,
            &request,
            vec![closed_address, open_address],
        );
        assert!(matches!(answered.await, Ok(202)));
        let refused = send_to(&callbacks.inner, &request, vec![closed_address]).await;
        assert!(matches!(refused, Err(Failure::Failed(reason)) if !reason.is_empty()));
    }

    #[tokio::test]
    async fn the_body_signals_once_its_last_frame_is_taken() {
        use http_body_util::BodyExt;

        let (body, mut sent) = SignalWhenSent::wrap(Body::from("answer"));
        assert!(sent.try_recv().is_err(), "not before it is written");
        let bytes = body.collect().await.map(|collected| collected.to_bytes());
        assert_eq!(bytes.ok().as_deref(), Some(&b"answer"[..]));
        assert_eq!(sent.try_recv(), Ok(()));

        let (body, sent) = SignalWhenSent::wrap(Body::from("dropped unwritten"));
        drop(body);
        assert!(
            sent.await.is_err(),
            "a dropped answer lets its callbacks go too"
        );
    }
}
