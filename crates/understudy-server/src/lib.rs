//! The HTTP face of understudy: an [`App`] (a tower service that `axum::serve` takes) around an
//! [`Engine`](understudy_engine::Engine), with CORS, a body limit, one log line per request and the
//! admin API, [`serve`], the accept loop that bounds every connection in time and number,
//! [`watch`], which reloads the specs as they are edited, and [`MockServer`] for tests that want
//! a real socket.

pub mod admin;
pub mod admin_guard;
pub mod app;
pub mod callbacks;
pub mod cors_for_origins;
pub mod live_engine;
pub mod message_checks;
pub mod mock_server;
pub mod proxy;
pub mod serve;
pub mod server_error;
pub mod watch;

pub use app::{App, Connection, ServerOptions, app, live_app};
pub use callbacks::{CallbackOptions, CallbacksTo};
pub use live_engine::LiveEngine;
pub use mock_server::{ContractBroken, MockServer, MockServerBuilder, StartError};
pub use proxy::{Proxy, ProxyOptions, live_proxy_app, proxy_app};
pub use serve::ConnectionLimits;
pub use server_error::ServerError;
