//! The understudy engine: loads OpenAPI 3.0 documents, compiles them once, validates requests and
//! generates responses. It has no HTTP framework in it; the server crate adapts it to axum.

pub mod generate;
pub mod json_schema;
