//! The understudy engine: loads OpenAPI 3.0 documents, compiles them once, validates requests and
//! generates responses. It has no HTTP framework in it; the server crate adapts it to axum.
//!
//! The path of a request: [`Engine::handle`] finds the operation in the route table
//! ([`route_table`]), checks the request ([`validate`]), and either writes the violations in the
//! vendor's shape ([`error_body`]) or stores the create ([`store`]) and generates the response
//! ([`generate`]).

pub mod bundle;
pub mod callback;
pub mod compile;
pub mod contract_report;
pub mod delivery;
pub mod document;
pub mod email_format;
pub mod engine;
pub mod error_body;
pub mod error_shape;
pub mod fresh;
pub mod generate;
pub mod json_schema;
pub mod jwt;
pub mod load;
pub mod load_error;
pub mod media_type;
pub mod operation;
pub mod references;
pub mod reload;
pub mod request_log;
pub mod resources;
pub mod response_check;
pub mod route_details;
pub mod route_table;
pub mod security;
pub mod shared_schema;
pub mod store;
pub mod swagger2;
pub mod validate;
pub mod violation;

pub use callback::{CallbackRequest, Planned};
pub use chrono;
pub use delivery::{DelayRange, Delivery, Fault};
pub use engine::{Engine, EngineOptions, Inspection, MockResponse, Outcome, Reloaded, RouteInfo};
pub use load_error::{ErrorKind, LoadError, LoadReport};
pub use request_log::{CallbackResult, CallbackTicket, LoggedRequest};
pub use security::ValidCredentials;
pub use validate::MockRequest;
pub use violation::{Location, Violation};
