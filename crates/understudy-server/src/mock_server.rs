//! [`MockServer`]: a real server on 127.0.0.1 and a random port, for tests; it stops when dropped
//! (after draining its connections, as the binary does). [`MockServer::builder`] sets its seed,
//! clock and state; [`MockServer::received_requests`] and [`MockServer::assert_no_violations`]
//! tell what it saw.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::oneshot;
use understudy_engine::chrono::{DateTime, Utc};
use understudy_engine::{Engine, EngineOptions, LoadReport, LoggedRequest};

use crate::app::{ServerOptions, app};
use crate::callbacks::{Callbacks, CallbacksTo};
use crate::serve;

/// A running mock server; every test gets its own.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use understudy_server::MockServer;
///
/// // A path the caller states, so that it works from any crate and any working directory.
/// let server = MockServer::start([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")]).await?;
/// assert!(server.uri().starts_with("http://127.0.0.1:"));
/// // … point the code under test at `server.uri()` …
/// server.assert_no_violations();
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct MockServer {
    address: SocketAddr,
    engine: Arc<Engine>,
    callbacks: Callbacks,
    shutdown: Option<oneshot::Sender<()>>,
}

/// Why a [`MockServer`] did not start. Its `Debug` form is its message, so that a test that
/// returns it with `?` prints the load report (file, pointer, reason) as a person reads it.
pub enum StartError {
    /// A spec is broken.
    Load(LoadReport),
    /// The socket could not be bound.
    Bind(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Load(report) => write!(f, "{report}"),
            StartError::Bind(error) => write!(f, "cannot bind 127.0.0.1: {error}"),
        }
    }
}

impl fmt::Debug for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for StartError {}

/// Sets up a [`MockServer`]: the specs, the seed, the clock, whether it remembers creates.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use understudy_server::MockServer;
///
/// let server = MockServer::builder()
///     .specs([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")])
///     .seed(42)
///     .now("2026-12-06T12:00:00Z".parse()?)
///     .stateless()
///     .start()
///     .await?;
/// assert_ne!(server.address().port(), 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    paths: Vec<PathBuf>,
    engine: EngineOptions,
    server: ServerOptions,
}

impl MockServerBuilder {
    /// Adds spec files or folders to serve.
    pub fn specs<P: Into<PathBuf>>(mut self, paths: impl IntoIterator<Item = P>) -> Self {
        self.paths.extend(paths.into_iter().map(Into::into));
        self
    }

    /// The seed that makes answers reproducible (0 unless set).
    pub fn seed(mut self, seed: u64) -> Self {
        self.engine.seed = Some(seed);
        self
    }

    /// The clock generated timestamps are relative to (a fixed one unless set).
    pub fn now(mut self, now: DateTime<Utc>) -> Self {
        self.engine.now = Some(now);
        self
    }

    /// Remember nothing: no stored creates, no conflicts.
    pub fn stateless(mut self) -> Self {
        self.engine.stateless = true;
        self
    }

    /// The server's own options (CORS, body limit, admin API, connection limits, callbacks).
    pub fn server_options(mut self, options: ServerOptions) -> Self {
        self.server = options;
        self
    }

    /// Where callbacks may go: loopback addresses only unless set (`--callbacks-to`); `Off`
    /// makes none.
    pub fn callbacks_to(mut self, to: CallbacksTo) -> Self {
        self.server.callbacks.to = to;
        self.engine.callbacks = to != CallbacksTo::Off;
        self
    }

    /// How long one callback may take (5 s unless set).
    pub fn callback_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.server.callbacks.timeout = timeout;
        self
    }

    /// Loads the specs and starts serving on 127.0.0.1 and a free port.
    pub async fn start(self) -> Result<MockServer, StartError> {
        MockServer::start_with(self.paths, self.engine, self.server).await
    }
}

impl MockServer {
    /// Serves the specs in `paths` (files or folders) on 127.0.0.1 and a free port, with a fixed
    /// seed (0) so that responses are reproducible: the short form of [`MockServer::builder`].
    ///
    /// A relative path is read from the working directory, which `cargo test` sets to the
    /// crate's own folder; `concat!(env!("CARGO_MANIFEST_DIR"), "/specs")` says which crate.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server =
    ///     understudy_server::MockServer::start([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")])
    ///         .await?;
    /// assert!(server.received_requests().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start<P: Into<PathBuf>>(
        paths: impl IntoIterator<Item = P>,
    ) -> Result<MockServer, StartError> {
        MockServer::builder().specs(paths).start().await
    }

    /// A [`MockServerBuilder`] with no specs yet, seed 0 and the default options.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = understudy_server::MockServer::builder()
    ///     .specs([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")])
    ///     .start()
    ///     .await?;
    /// # drop(server);
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder {
            paths: Vec::new(),
            engine: EngineOptions {
                seed: Some(0),
                ..EngineOptions::default()
            },
            server: ServerOptions::default(),
        }
    }

    /// Serves the specs in `paths` with the given options.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use understudy_engine::EngineOptions;
    /// use understudy_server::{MockServer, ServerOptions};
    ///
    /// let options = EngineOptions { seed: Some(7), ..EngineOptions::default() };
    /// let specs = [concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")];
    /// let server = MockServer::start_with(specs, options, ServerOptions::default()).await?;
    /// # drop(server);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_with<P: Into<PathBuf>>(
        paths: impl IntoIterator<Item = P>,
        engine_options: EngineOptions,
        server_options: ServerOptions,
    ) -> Result<MockServer, StartError> {
        let paths: Vec<PathBuf> = paths.into_iter().map(Into::into).collect();
        let engine = Arc::new(Engine::load(&paths, engine_options).map_err(StartError::Load)?);
        MockServer::serve(engine, server_options).await
    }

    /// Serves an engine already built.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use understudy_engine::{Engine, EngineOptions};
    /// use understudy_server::{MockServer, ServerOptions};
    ///
    /// let specs = [concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs").into()];
    /// let engine = Arc::new(Engine::load(&specs, EngineOptions::default())?);
    /// let server = MockServer::serve(engine, ServerOptions::default()).await?;
    /// # drop(server);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve(
        engine: Arc<Engine>,
        options: ServerOptions,
    ) -> Result<MockServer, StartError> {
        let listener = serve::bind("127.0.0.1", 0)
            .await
            .map_err(StartError::Bind)?;
        let address = listener.local_addr().map_err(StartError::Bind)?;
        let (sender, receiver) = oneshot::channel::<()>();
        let router = app(Arc::clone(&engine), &options);
        let callbacks = router.callbacks().clone();
        tokio::spawn(async move {
            let stop = async {
                let _ = receiver.await;
            };
            let draining = serve::accept_until(listener, router, &options.connections, stop).await;
            draining.finish(std::future::pending()).await;
        });
        Ok(MockServer {
            address,
            engine,
            callbacks,
            shutdown: Some(sender),
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = understudy_server::MockServer::start([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")]).await?;
    /// let notes = format!("{}/notes", server.uri());
    /// # assert!(notes.ends_with("/notes"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn uri(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The bound address.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = understudy_server::MockServer::start([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")]).await?;
    /// assert!(server.address().ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The engine behind it, to inspect state or the request log.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = understudy_server::MockServer::start([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")]).await?;
    /// assert!(!server.engine().routes().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The requests it answered, oldest first (the last 1,000): method, path, query (credentials
    /// hidden), status, the operation that served it and the violations.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = understudy_server::MockServer::start([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")]).await?;
    /// for request in server.received_requests() {
    ///     println!("{} {} → {}", request.method, request.path, request.status);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn received_requests(&self) -> Vec<LoggedRequest> {
        self.engine.request_log().last(usize::MAX)
    }

    /// Resolves once no callback is in flight: every callback its answers caused so far has its
    /// outcome in the request log ([`LoggedRequest::callbacks`]). Wait on this rather than
    /// sleeping; each callback is bounded by its timeout, so it resolves within that.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = understudy_server::MockServer::start([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")]).await?;
    /// // … requests whose operations have callbacks …
    /// server.callbacks_settled().await;
    /// for request in server.received_requests() {
    ///     for callback in &request.callbacks {
    ///         println!("{} {:?} → {:?}", callback.name, callback.url, callback.outcome);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn callbacks_settled(&self) {
        self.callbacks.settled().await;
    }

    /// Every request it answered that broke the contract, as an error that lists them; `Ok`
    /// when none did.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = understudy_server::MockServer::start([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")]).await?;
    /// if let Err(broken) = server.verify() {
    ///     eprintln!("{broken}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn verify(&self) -> Result<(), ContractBroken> {
        let broken: Vec<LoggedRequest> = self
            .received_requests()
            .into_iter()
            .filter(|request| !request.violations.is_empty())
            .collect();
        if broken.is_empty() {
            Ok(())
        } else {
            Err(ContractBroken { requests: broken })
        }
    }

    /// Panics with a readable list of every request that broke the contract, if any did.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = understudy_server::MockServer::start([concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs")]).await?;
    /// // … the test's requests …
    /// server.assert_no_violations();
    /// # Ok(())
    /// # }
    /// ```
    #[track_caller]
    pub fn assert_no_violations(&self) {
        if let Err(broken) = self.verify() {
            panic!("{broken}");
        }
    }
}

/// The requests a [`MockServer`] answered that broke the contract ([`MockServer::verify`]).
#[derive(Debug, Clone)]
pub struct ContractBroken {
    /// Each request with its violations, oldest first.
    pub requests: Vec<LoggedRequest>,
}

impl fmt::Display for ContractBroken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.requests.len();
        write!(
            f,
            "{count} request{} broke the contract:",
            if count == 1 { "" } else { "s" }
        )?;
        for request in &self.requests {
            write!(f, "\n  {} {}", request.method, request.path)?;
            if let Some(query) = &request.query {
                write!(f, "?{query}")?;
            }
            write!(f, " → {}", request.status)?;
            if let Some(operation) = &request.operation {
                write!(f, " ({operation})")?;
            }
            for violation in request.violations.iter() {
                write!(f, "\n    - {violation}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ContractBroken {}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
    }
}
