//! The understudy engine: loads OpenAPI 3.0, 3.1 and 3.2 documents (and Swagger 2.0), compiles
//! them once, validates requests and generates responses. It has no HTTP framework in it; the
//! server crate adapts it to axum.
//!
//! The path of a request: [`Engine::handle`] finds the operation in the route table, checks the
//! request, and either writes the violations in the vendor's shape or stores the create and
//! generates the response.
//!
//! The API is what the root re-exports, and the modules below that tools and tests reach into
//! (the fixtures, the fuzz targets, the property tests); every other module is private.

pub mod compile;
pub mod delivery;
pub mod document;
pub mod generate;
pub mod json_schema;
pub mod load;
pub mod media_type;
pub mod operation;
pub mod request_log;
pub mod route_details;
pub mod swagger2;
pub mod violation;

mod bundle;
mod callback;
mod contract_report;
mod email_format;
mod engine;
mod error_body;
mod error_shape;
mod form_body;
mod fresh;
mod integer_format;
mod jwt;
mod load_error;
mod path_query;
mod preferences;
mod redact;
mod references;
mod reload;
mod resources;
mod respond;
mod response_check;
mod route_table;
mod schema_ids;
mod schema_model;
mod security;
mod seed;
mod shared_schema;
mod store;
mod stream;
mod validate;

pub use callback::CallbackRequest;
pub use chrono;
pub use contract_report::ContractReport;
pub use delivery::{DelayRange, Delivery, Fault};
pub use engine::{Engine, EngineOptions, Inspection, Outcome, Reloaded, RouteInfo, SEEDED_NOW};
pub use load_error::{ErrorKind, LoadError, LoadReport};
pub use request_log::{CallbackResult, CallbackTicket, LoggedRequest, RequestLog};
pub use respond::{MockResponse, PROBLEM_JSON, problem};
pub use schema_model::{PropertyFacts, SchemaFacts, SchemaReader, SchemaRef};
pub use security::ValidCredentials;
pub use store::Store;
pub use validate::MockRequest;
pub use violation::{Location, Violation};
