//! Response generation from OpenAPI schemas (being written).
