//! [`MockServer`]: a real server on 127.0.0.1 and a random port, for tests; it stops when dropped
//! (after draining its connections, as the binary does).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::oneshot;
use understudy_engine::{Engine, EngineOptions, LoadReport};

use crate::app::{ServerOptions, app};
use crate::serve;

/// A running mock server; every test gets its own.
#[derive(Debug)]
pub struct MockServer {
    address: SocketAddr,
    engine: Arc<Engine>,
    shutdown: Option<oneshot::Sender<()>>,
}

/// Why a [`MockServer`] did not start.
#[derive(Debug)]
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

impl std::error::Error for StartError {}

impl MockServer {
    /// Serves the specs in `paths` (files or folders) on 127.0.0.1 and a free port, with a fixed
    /// seed (0) so that responses are reproducible.
    pub async fn start<P: Into<PathBuf>>(
        paths: impl IntoIterator<Item = P>,
    ) -> Result<MockServer, StartError> {
        let options = EngineOptions {
            seed: Some(0),
            ..EngineOptions::default()
        };
        MockServer::start_with(paths, options, ServerOptions::default()).await
    }

    /// Serves the specs in `paths` with the given options.
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
            shutdown: Some(sender),
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn uri(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The engine behind it, to inspect state or the request log.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
    }
}
