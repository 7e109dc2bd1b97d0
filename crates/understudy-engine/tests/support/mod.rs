//! What the generator's test files share: the test specs under `tests/specs/generator`, the
//! fixed clock their bodies are generated against, and the context of a body made from its schema
//! alone. Each test file uses part of it.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::Value;
use understudy_engine::generate::GenerateContext;

/// The generator test spec `tests/specs/generator/<name>.yaml`, as JSON.
pub fn spec(name: &str) -> Value {
    let path = format!(
        "{}/tests/specs/generator/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_yaml::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The clock every generator test runs at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 15, 9, 26)
        .single()
        .expect("a valid date")
}

/// The context of a body made from its schema alone: the test clock, no request to echo, no
/// identity to place.
pub fn plain_context(rng: &mut Xoshiro256PlusPlus) -> GenerateContext<'_> {
    GenerateContext::plain(rng, now())
}
