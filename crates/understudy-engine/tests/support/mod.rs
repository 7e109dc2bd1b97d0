//! What the generator's test files share: the test specs under `tests/specs/generator` and the
//! fixed clock their bodies are generated against.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

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
