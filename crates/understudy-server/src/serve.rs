//! Serving an [`App`] on a TCP listener: the one accept loop of both the binary and
//! [`MockServer`](crate::MockServer), with every connection bounded in time and number.
//!
//! - At most [`ConnectionLimits::max_connections`] connections are open at once. The loop takes a
//!   permit before it accepts, so the connections past the bound wait in the kernel's backlog,
//!   unaccepted, until one closes.
//! - A watchdog per connection closes it when the client is too slow to send: a request's line
//!   and headers must arrive within `header_timeout` of its first byte (of the accept, for the
//!   first request), and a kept-alive connection may sit idle between requests for
//!   `idle_timeout`. hyper's own `header_read_timeout` cannot tell the two apart: in hyper 1.12 its
//!   timer starts as soon as a connection goes idle after a response, so it counts the idle time
//!   as header time. The watchdog knows the phases from the bytes read and from the service: the
//!   first byte after an idle spell starts a request's header time, the call of the service (the
//!   headers are in) stops it, and the end of the response starts the idle time.
//! - A request body must arrive whole within `body_timeout` of its headers (`BodyDeadline`: one
//!   deadline for the whole body, not one for each piece, as tower-http's `TimeoutBody` has). A
//!   stalled body is answered 408 with `Connection: close` by the handler that reads it; a body
//!   that no handler reads is drained or the connection closed by hyper after the answer.
//! - [`Draining::finish`] drains at shutdown: idle connections close at once, requests under way
//!   get `shutdown_timeout` to finish, then whatever is left is closed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::Service;

use crate::app::{App, Connection};
use understudy_engine::Fault;

/// How long a connection may take and how many may be open: the server's defence against slow
/// or silent clients. Every field has a `serve` option of the same name.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A request's line and headers must arrive within this time of its first byte (of the
    /// accept, for a connection's first request), or the connection is closed.
    pub header_timeout: Duration,
    /// A request's body must arrive whole within this time of its headers, or it is answered
    /// 408 and the connection closed.
    pub body_timeout: Duration,
    /// A kept-alive connection with no request under way is closed after this time.
    pub idle_timeout: Duration,
    /// The most connections open at once; past it, new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// At shutdown, how long requests under way get to finish before their connections close.
    pub shutdown_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: connections_under_file_limit(MAX_CONNECTIONS),
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// The default bound on open connections when the open-file limit allows it: enough for any
/// test suite or load generator aimed at a mock, and far fewer than a server's memory allows.
pub const MAX_CONNECTIONS: usize = 10_000;

/// Files kept free for everything but connections: the standard streams, the listener, the
/// runtime's own descriptors, and the two report files written at shutdown.
pub const FILE_HEADROOM: u64 = 64;

/// How many of `wanted` connections fit under the current soft open-file limit, with
/// [`FILE_HEADROOM`] left over (at least one).
pub fn connections_under_file_limit(wanted: usize) -> usize {
    let soft = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(u64::MAX, |(soft, _)| soft);
    fit(wanted, soft)
}

/// Raises the soft open-file limit towards the hard one as far as `wanted` connections need,
/// then says how many of them fit under it ([`connections_under_file_limit`]).
pub fn raise_file_limit_for(wanted: usize) -> usize {
    let needed = u64::try_from(wanted)
        .unwrap_or(u64::MAX)
        .saturating_add(FILE_HEADROOM);
    match rlimit::increase_nofile_limit(needed) {
        Ok(soft) => fit(wanted, soft),
        Err(error) => {
            tracing::debug!(%error, "cannot raise the open-file limit");
            connections_under_file_limit(wanted)
        }
    }
}

fn fit(wanted: usize, soft_limit: u64) -> usize {
    let room = usize::try_from(soft_limit.saturating_sub(FILE_HEADROOM)).unwrap_or(usize::MAX);
    wanted.min(room).max(1)
}

/// Connections the kernel completes and queues for the accept loop: those past the bound wait
/// there. tokio's own `bind` asks for 128, as std does; past the queue, the kernel drops a
/// client's handshake and the client retries it after a second, then two, then four.
pub const BACKLOG: u32 = 1024;

/// Binds `host:port` (the first of its addresses that can be bound) with a backlog of
/// [`BACKLOG`].
pub async fn bind(host: &str, port: u16) -> io::Result<TcpListener> {
    let mut failed = None;
    for address in tokio::net::lookup_host((host, port)).await? {
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As tokio's `bind` does: a restarted server can bind again at once.
        #[cfg(not(windows))]
        socket.set_reuseaddr(true)?;
        match socket.bind(address).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(error) => failed = Some(error),
        }
    }
    Err(failed.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::AddrNotAvailable, "the host has no address")
    }))
}

/// Accepts connections on `listener` and serves `app` on each until `shutdown` resolves, then
/// stops accepting (the listener is closed) and hands back the open connections to drain.
pub async fn accept_until(
    listener: TcpListener,
    app: App,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> Draining {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut http = http1::Builder::new();
    // The watchdog times the headers; hyper's timer would count idle time as header time.
    http.header_read_timeout(None);
    let shared = Arc::new(Shared {
        app,
        http,
        limits: limits.clone(),
    });
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // The permit comes first: past the bound, connections wait in the kernel's backlog.
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
        };
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        while let Some(ended) = connections.try_join_next() {
            if let Err(error) = ended {
                tracing::error!(%error, "a connection's task failed");
            }
        }
        match accepted {
            Ok((stream, _peer)) => {
                connections.spawn(connection(
                    stream,
                    Arc::clone(&shared),
                    graceful.watcher(),
                    permit,
                ));
            }
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                // Out of files, most likely (the bound keeps this process under its limit, but
                // not the whole system under its own): wait for some to close, as hyper did.
                tracing::error!(%error, "accept error");
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
    Draining {
        graceful,
        connections,
        timeout: limits.shutdown_timeout,
    }
}

/// The connections still open once the server stopped accepting.
#[derive(Debug)]
pub struct Draining {
    graceful: GracefulShutdown,
    connections: JoinSet<()>,
    timeout: Duration,
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Every connection finished its request and closed.
    Finished,
    /// The shutdown timeout passed; this many connections were closed mid-request.
    TimedOut(usize),
    /// The drain was cut short (a second signal); this many connections were closed.
    Cut(usize),
}

impl Draining {
    /// The connections still open.
    pub fn open(&mut self) -> usize {
        while self.connections.try_join_next().is_some() {}
        self.connections.len()
    }

    /// The shutdown timeout this drain waits for at most.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Closes idle connections at once and lets requests under way finish, for at most the
    /// shutdown timeout or until `hurry` resolves; then closes whatever is left.
    pub async fn finish(mut self, hurry: impl Future<Output = ()>) -> Drained {
        let drained = tokio::select! {
            biased;
            () = self.graceful.shutdown() => Drained::Finished,
            () = tokio::time::sleep(self.timeout) => Drained::TimedOut(0),
            () = hurry => Drained::Cut(0),
        };
        while self.connections.try_join_next().is_some() {}
        let left = self.connections.len();
        self.connections.shutdown().await;
        match drained {
            Drained::Finished => Drained::Finished,
            Drained::TimedOut(_) => Drained::TimedOut(left),
            Drained::Cut(_) => Drained::Cut(left),
        }
    }
}

/// What every connection's task shares.
struct Shared {
    app: App,
    http: http1::Builder,
    limits: ConnectionLimits,
}

/// Serves one connection until it ends, the watchdog closes it, or the drain is over.
async fn connection(
    stream: TcpStream,
    shared: Arc<Shared>,
    watcher: Watcher,
    _permit: OwnedSemaphorePermit,
) {
    let clock = Arc::new(Clock::new(&shared.limits));
    let io = TokioIo::new(Watched {
        stream,
        clock: Arc::clone(&clock),
    });
    let service = PerConnection {
        app: shared.app.on_connection(),
        clock: Arc::clone(&clock),
        body_timeout: shared.limits.body_timeout,
    };
    let served = watcher.watch(shared.http.serve_connection(io, service));
    let mut served = std::pin::pin!(served);
    loop {
        let Some(wake) = clock.next_wake() else {
            tracing::debug!(
                waiting_for = clock.phase_name(),
                "closing a connection whose client is too slow"
            );
            return;
        };
        tokio::select! {
            biased;
            ended = served.as_mut() => {
                if let Err(error) = ended {
                    tracing::debug!(%error, "connection ended");
                }
                return;
            }
            () = tokio::time::sleep_until(wake) => {}
            () = clock.changed.notified() => {}
        }
    }
}

/// The phase of a connection, as the watchdog sees it.
const HEAD: u64 = 0;
const BUSY: u64 = 1;
const IDLE: u64 = 2;
const PHASE_BITS: u32 = 2;
const PHASE_MASK: u64 = (1 << PHASE_BITS) - 1;

/// A connection's phase and when it began, kept where the reader, the service and the watchdog
/// all see it without a lock: one atomic word of (microseconds since the accept, phase).
struct Clock {
    accepted: Instant,
    header_timeout: Duration,
    idle_timeout: Duration,
    /// `since << PHASE_BITS | phase`.
    state: AtomicU64,
    /// When the watchdog wakes next, in microseconds since the accept. A phase that begins
    /// with an earlier deadline wakes it through `changed`; one with a later deadline does not,
    /// so that a busy connection costs the watchdog nothing per request.
    wakes_at: AtomicU64,
    changed: Notify,
    /// Set by a `fault=garbage` answer: what is written from then on is replaced by bytes that
    /// are not HTTP.
    garbled: AtomicBool,
}

impl Clock {
    fn new(limits: &ConnectionLimits) -> Clock {
        Clock {
            accepted: Instant::now(),
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
            state: AtomicU64::new(HEAD),
            wakes_at: AtomicU64::new(u64::MAX),
            garbled: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    fn micros(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.accepted).as_micros()).unwrap_or(u64::MAX)
    }

    /// The deadline of a state, in microseconds since the accept (rounded up, so the watchdog
    /// never closes early); none while a request is under way.
    fn deadline(&self, state: u64) -> Option<u64> {
        let timeout = match state & PHASE_MASK {
            HEAD => self.header_timeout,
            IDLE => self.idle_timeout,
            _ => return None,
        };
        let timeout = u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX);
        Some(
            (state >> PHASE_BITS)
                .saturating_add(timeout)
                .saturating_add(1),
        )
    }

    fn enter(&self, phase: u64) {
        let state = (self.micros(Instant::now()) << PHASE_BITS) | phase;
        self.state.store(state, Ordering::SeqCst);
        if let Some(deadline) = self.deadline(state)
            && deadline < self.wakes_at.load(Ordering::SeqCst)
        {
            self.changed.notify_one();
        }
    }

    /// Bytes came in: after an idle spell, they start a request.
    fn read(&self) {
        if self.state.load(Ordering::Relaxed) & PHASE_MASK == IDLE {
            self.enter(HEAD);
        }
    }

    /// The headers are in and the service has the request.
    fn busy(&self) {
        self.state.store(BUSY, Ordering::SeqCst);
    }

    /// The response has been written (or abandoned): waiting for the next request.
    fn idle(&self) {
        self.enter(IDLE);
    }

    /// When the watchdog should look again, or `None` if the connection is past its deadline.
    fn next_wake(&self) -> Option<Instant> {
        loop {
            let state = self.state.load(Ordering::SeqCst);
            let now = self.micros(Instant::now());
            let wake = match self.deadline(state) {
                Some(deadline) if deadline <= now => return None,
                Some(deadline) => deadline,
                // A request under way: the earliest a deadline can come is when it ends.
                None => {
                    let soonest = self.header_timeout.min(self.idle_timeout);
                    now.saturating_add(u64::try_from(soonest.as_micros()).unwrap_or(u64::MAX))
                }
            };
            self.wakes_at.store(wake, Ordering::SeqCst);
            // A phase that began meanwhile may not have seen the new wake-up time.
            if self.state.load(Ordering::SeqCst) == state {
                return Some(self.accepted + Duration::from_micros(wake));
            }
        }
    }

    fn phase_name(&self) -> &'static str {
        match self.state.load(Ordering::SeqCst) & PHASE_MASK {
            HEAD => "headers",
            IDLE => "a request on an idle connection",
            _ => "a request under way",
        }
    }
}

/// The TCP stream, telling the clock when bytes come in.
struct Watched {
    stream: TcpStream,
    clock: Arc<Clock>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.clock.read();
        }
        polled
    }
}

impl Watched {
    /// Writes [`GARBAGE`] in place of `claimed` bytes of the answer, which are said written.
    fn poll_garbage(&mut self, cx: &mut Context<'_>, claimed: usize) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.stream).poll_write(cx, GARBAGE) {
            Poll::Ready(Ok(_)) => Poll::Ready(Ok(claimed)),
            other => other,
        }
    }
}

/// What a `fault=garbage` answer is: bytes no HTTP client can read as a response.
const GARBAGE: &[u8] = b"\x00\xff\xfeNOT HTTP \x1b[5m\xde\xad\xbe\xef\x00\r\n\r\n";

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.clock.garbled.load(Ordering::Relaxed) {
            return self.poll_garbage(cx, buf.len());
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.clock.garbled.load(Ordering::Relaxed) {
            let claimed = bufs.iter().map(|buf| buf.len()).sum();
            return self.poll_garbage(cx, claimed);
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The app as one connection's hyper service: marks the request under way, puts the body
/// deadline on the request body, checks the message ([`Connection`]), and marks the connection
/// idle when the response is done.
struct PerConnection {
    app: Connection,
    clock: Arc<Clock>,
    body_timeout: Duration,
}

impl hyper::service::Service<hyper::Request<Incoming>> for PerConnection {
    type Response = hyper::Response<Tracked>;
    type Error = FaultAnswered;
    type Future = Answer;

    fn call(&self, request: hyper::Request<Incoming>) -> Answer {
        self.clock.busy();
        let deadline = Instant::now() + self.body_timeout;
        let request = request.map(|body| BodyDeadline {
            body,
            deadline,
            sleep: None,
        });
        // The app is always ready (its routes and handler are), as axum's own serve assumes.
        Answer {
            answer: self.app.clone().call(request),
            clock: Some(Arc::clone(&self.clock)),
        }
    }
}

/// The app's answer, its body to be [`Tracked`].
struct Answer {
    answer: <Connection as Service<hyper::Request<BodyDeadline>>>::Future,
    clock: Option<Arc<Clock>>,
}

impl Future for Answer {
    type Output = Result<hyper::Response<Tracked>, FaultAnswered>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = match self.answer.as_mut().poll(cx) {
            Poll::Ready(Ok(response)) => response,
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => return Poll::Pending,
        };
        let clock = self.clock.take();
        match response.extensions().get::<Fault>() {
            // An error from the service makes hyper close the connection with no answer.
            Some(Fault::Reset | Fault::Hang) => return Poll::Ready(Err(FaultAnswered)),
            Some(Fault::Garbage) => {
                if let Some(clock) = &clock {
                    clock.garbled.store(true, Ordering::Relaxed);
                }
            }
            None => {}
        }
        Poll::Ready(Ok(response.map(|body| Tracked { body, clock })))
    }
}

/// The error a faulted answer ends its connection with (`Prefer: fault=reset` or `hang`).
#[derive(Debug)]
pub struct FaultAnswered;

impl std::fmt::Display for FaultAnswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request asked for a fault: the connection is closed with no answer")
    }
}

impl std::error::Error for FaultAnswered {}

/// A request body with a deadline for the whole of it. The timer is set only when the body has
/// to wait for the client: a body that came with its headers, as most do, costs none.
struct BodyDeadline {
    body: Incoming,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl hyper::body::Body for BodyDeadline {
    type Data = hyper::body::Bytes;
    type Error = tower::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let deadline = self.deadline;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTooSlow)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The error of a request body that did not arrive whole within the body timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooSlow;

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the body did not arrive whole within the body timeout")
    }
}

impl std::error::Error for BodyTooSlow {}

/// A response body that marks its connection idle once hyper is done with it.
struct Tracked {
    body: Body,
    clock: Option<Arc<Clock>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(clock) = &self.clock {
            clock.idle();
        }
    }
}

impl hyper::body::Body for Tracked {
    type Data = <Body as hyper::body::Body>::Data;
    type Error = <Body as hyper::body::Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Errors of one connection that must not stop the accept loop (as hyper and axum judge them).
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
