//! Placeholder with the generator interface, so the engine builds until the real generator lands.
use serde_json::Value;
#[derive(Debug)]
pub struct Generator;
#[derive(Debug)]
pub struct GenerateError;
impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "x")
    }
}
#[derive(Debug)]
pub struct GenerateContext<'a> {
    pub rng: &'a mut rand::rngs::StdRng,
    pub now: chrono::DateTime<chrono::Utc>,
    pub request_body: Option<&'a Value>,
    pub identity: Option<Value>,
    pub echo: bool,
}
#[derive(Debug)]
pub struct IdentitySlot {
    pub pointer: String,
}
impl IdentitySlot {
    pub fn make(&self, _rng: &mut rand::rngs::StdRng, counter: u64) -> Value {
        Value::from(counter)
    }
}
impl Generator {
    pub fn compile(_d: &Value, _s: &Value) -> Result<Generator, GenerateError> {
        Ok(Generator)
    }
    pub fn generate(&self, _c: &mut GenerateContext<'_>) -> Value {
        Value::Null
    }
    pub fn identity(&self) -> Option<&IdentitySlot> {
        None
    }
}
pub fn apply_defaults(_d: &Value, _s: &Value, _b: &mut Value) {}
