//! Translation of OpenAPI 3.0 schemas into JSON Schema validators (being written).
