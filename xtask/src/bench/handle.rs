//! `cargo xtask bench --handle N`: workloads (a) and (b) sent N times each straight to
//! `Engine::handle` in this process, without HTTP or threads, so that a profiler counts the
//! instructions of the engine's request path alone (README.md, Tasks, says how to run it under
//! callgrind).

use std::path::Path;
use std::time::Instant;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use understudy_engine::{Engine, EngineOptions, MockRequest};

use super::workload::WorkloadId;

/// Loads `specs/` as `serve` does in the bench and sends each of (a) and (b) `requests` times,
/// checking every status; prints the time per request.
pub fn run(root: &Path, requests: u64) -> Result<(), String> {
    let engine = Engine::load(
        &[root.join("specs")],
        EngineOptions {
            seed: Some(1),
            max_records: 10_000,
            ..EngineOptions::default()
        },
    )
    .map_err(|report| format!("specs/ does not load:\n{report}"))?;
    for id in [WorkloadId::ValidCreate, WorkloadId::InvalidCreate] {
        let template = id.request("");
        let method = Method::from_bytes(template.method.as_bytes())
            .map_err(|e| format!("{}: {e}", id.label()))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &template.headers {
            let name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("{name}: {e}"))?;
            let value = HeaderValue::from_str(value).map_err(|e| format!("{name}: {e}"))?;
            headers.append(name, value);
        }
        let started = Instant::now();
        for n in 0..requests {
            let request = id.request(&format!("handle-{n}@example.com"));
            let body = request.body.unwrap_or_default();
            let status = engine
                .handle(&MockRequest {
                    method: &method,
                    path: &request.path,
                    query: None,
                    headers: &headers,
                    body: body.as_bytes(),
                })
                .response
                .status
                .as_u16();
            if status != id.expected_status() {
                return Err(format!(
                    "{} request {n} got {status}, not {}",
                    id.label(),
                    id.expected_status()
                ));
            }
        }
        let each = started.elapsed().as_secs_f64() * 1e6 / requests.max(1) as f64;
        println!(
            "{}: {requests} requests through Engine::handle, {each:.1} µs each",
            id.label()
        );
    }
    Ok(())
}
