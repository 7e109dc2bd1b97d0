//! The engine: every loaded spec behind one route table, turning a [`MockRequest`] into a
//! [`MockResponse`]. This file builds it (load, reload, the route table) and holds what it
//! shares; `engine/answer.rs` answers a request and `engine/record.rs` logs it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use http::HeaderMap;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use serde::Serialize;

use crate::callback::CallbackRequest;
use crate::contract_report::ContractReport;
use crate::delivery::{self, DelayRange, Delivery};
use crate::load::load_specs_reading;
use crate::load_error::{LoadError, LoadReport};
use crate::operation::{Operation, Spec};
use crate::preferences::Preference;
use crate::redact::{secret_header_names, secret_query_names};
use crate::reload::Unchanged;
use crate::request_log::RequestLog;
use crate::respond::{ErrorMaking, MockResponse};
use crate::response_check::ResponseChecks;
use crate::route_table::{OperationRoutes, RouteOperations, RouteTable};
use crate::security::ValidCredentials;
use crate::seed::mix;
use crate::store::Store;
use crate::validate::MockRequest;
use crate::violation::{Violation, Violations};

/// How the engine behaves; the command line's options.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Makes every response reproducible: the same requests in the same order give the same bytes.
    pub seed: Option<u64>,
    /// The clock generated timestamps are relative to; with a seed and no clock, a fixed one.
    pub now: Option<DateTime<Utc>>,
    /// Turns the store off: nothing is remembered, no conflicts.
    pub stateless: bool,
    /// The most records a collection keeps.
    pub max_records: usize,
    /// How many requests the request log keeps.
    pub request_log: usize,
    /// Keep a contract report (every violating request, per operation) for writing at shutdown.
    pub report: bool,
    /// Follow `$ref`s to files outside the folder of the spec that names them.
    pub allow_ref_outside: bool,
    /// A delay for every answer, drawn per request (`--delay`).
    pub delay: Option<DelayRange>,
    /// The share of valid requests answered with a server error instead (`--fail-rate`, 0 to 1).
    pub fail_rate: f64,
    /// The credentials taken, per kind (`--valid-token`, `--valid-basic`, `--valid-api-key`);
    /// an empty list takes any credential of its kind.
    pub valid_credentials: ValidCredentials,
    /// Answer 404 for an id of a resource that was never created, instead of a generated record.
    pub strict_resources: bool,
    /// Make the operations' callbacks for a successful answer ([`Outcome::callbacks`]); off,
    /// none are made (`--callbacks-to off`).
    pub callbacks: bool,
    /// Compile every documented response's schema at load, so that answers from elsewhere (the
    /// validation proxy's upstream) can be held to them ([`Engine::check_response`]).
    pub check_responses: bool,
}

/// The clock a seeded engine uses when no `now` is given.
pub const SEEDED_NOW: &str = "2025-01-01T12:00:00Z";

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            seed: None,
            now: None,
            stateless: false,
            max_records: 100_000,
            request_log: 1_000,
            report: false,
            allow_ref_outside: false,
            delay: None,
            fail_rate: 0.0,
            valid_credentials: ValidCredentials::default(),
            strict_resources: false,
            callbacks: true,
            check_responses: false,
        }
    }
}

/// What handling a request gives: the response, and what the request broke.
#[derive(Debug)]
pub struct Outcome<'e> {
    /// The response to send.
    pub response: MockResponse,
    /// The violations found (also those a higher-priority class hid from the response).
    pub violations: Violations,
    /// The operation that served it, if one matched.
    pub operation: Option<&'e Operation>,
    /// The callbacks to fire once the answer is sent: the operation's, after a successful
    /// answer to a valid request, whose URL could be made (the others are in the request log
    /// as not fired).
    pub callbacks: Vec<CallbackRequest>,
}

/// What routing and the request's checks alone say of a request ([`Engine::inspect`]), for a
/// proxy that forwards it rather than answering it.
#[derive(Debug)]
pub struct Inspection<'e> {
    /// The operation the request is for, if one matched.
    pub operation: Option<&'e Operation>,
    /// What the request broke.
    pub violations: Violations,
    /// The answer `serve` gives a request that is not valid for an operation (404, 405, or the
    /// violations in the documented shape); `None` for a valid request.
    pub local: Option<MockResponse>,
}

/// One served operation, as the admin API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RouteInfo {
    /// The spec's name.
    pub spec: String,
    /// The spec's file.
    pub file: PathBuf,
    /// The method.
    pub method: String,
    /// The served path template.
    pub path: String,
    /// `operationId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}

/// What [`Engine::reload`] gives: the new engine, and what became of the store's collections.
#[derive(Debug)]
pub struct Reloaded {
    /// The engine to serve from now on.
    pub engine: Engine,
    /// The collections whose records it keeps (their operations are unchanged), by name.
    pub kept: Vec<String>,
    /// The collections that held records and start empty (or are gone), by name.
    pub emptied: Vec<String>,
}

/// Every loaded spec, compiled, behind one route table.
#[derive(Debug)]
pub struct Engine {
    specs: Vec<Spec>,
    routes: RouteTable<RouteOperations>,
    options: EngineOptions,
    /// The seed of every request's randomness; drawn again at a reset unless the options fix it.
    seed: AtomicU64,
    fixed_now: Option<DateTime<Utc>>,
    store: Option<Store>,
    /// Shared with the engines a reload makes from this one, as is the report.
    log: Arc<RequestLog>,
    report: Option<Arc<ContractReport>>,
    /// The files it was loaded from: the spec files and the files their `$ref`s name, canonical.
    sources: Vec<PathBuf>,
    /// The query parameter names whose values the log and the report hide, lower-cased: every
    /// spec's `apiKey`s in the query and [`CREDENTIAL_NAMES`](crate::redact::CREDENTIAL_NAMES).
    secret_query: Vec<String>,
    /// What loaded but is odd: start-up logs it and `check` prints it.
    warnings: Vec<LoadError>,
    /// Requests that drew a delay or a failure, numbered so that each draw has a seed of its own
    /// (reproducible under `--seed` for the same requests in the same order).
    draws: AtomicU64,
    /// The header names whose values the request log masks besides the usual ones, lower-cased:
    /// every spec's `apiKey`s in a header.
    secret_headers: Vec<String>,
    /// The documented responses compiled for holding answers to them, with
    /// [`EngineOptions::check_responses`].
    response_checks: Option<ResponseChecks>,
}

/// What routing and the request's checks make of a request ([`Engine::checked`]).
enum Routed<'e, 'r> {
    /// It is valid for an operation.
    Valid(Valid<'e, 'r>),
    /// It is answered already: no operation serves it, or it broke the contract.
    Answered(Outcome<'e>),
}

/// A request that routing and the checks let through, with what answering it needs.
struct Valid<'e, 'r> {
    operation: &'e Operation,
    /// The path parameters, by the operation's own names.
    params: Vec<(&'e str, &'r str)>,
    /// The `__code`, `__example` and `__dynamic` of the query (`Prefer` is merged later).
    preference: Preference,
    checked: crate::validate::Checked,
}

mod answer;
mod record;

impl Engine {
    /// Loads every spec in `paths` (files or folders).
    pub fn load(paths: &[PathBuf], options: EngineOptions) -> Result<Engine, LoadReport> {
        let (specs, sources) = load_specs_reading(paths, options.allow_ref_outside);
        let mut engine = Engine::from_specs(specs?, options)?;
        engine.sources = sources;
        Ok(engine)
    }

    /// Loads `paths` again with this engine's options, for `serve --watch`: the engine that
    /// replaces this one. It shares this one's request log and contract report, its seed and
    /// its draws, and the store collections whose operations are unchanged (`reload.rs`),
    /// which it continues to number and check for conflicts; the other collections start empty.
    /// An unchanged operation continues its count of answered requests, so a seeded engine does
    /// not replay its answers. This engine is left as it was, and may still answer requests it
    /// has started.
    pub fn reload(&self, paths: &[PathBuf]) -> Result<Reloaded, LoadReport> {
        let mut engine = Engine::load(paths, self.options.clone())?;
        engine
            .seed
            .store(self.seed.load(Ordering::Relaxed), Ordering::Relaxed);
        engine
            .draws
            .store(self.draws.load(Ordering::Relaxed), Ordering::Relaxed);
        engine.log = Arc::clone(&self.log);
        engine.report.clone_from(&self.report);
        let unchanged = Unchanged::between(&self.specs, &engine.specs);
        for (old, new) in &unchanged.operations {
            new.served
                .store(old.served.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        let (kept, emptied) = match (&mut engine.store, &self.store) {
            (Some(new), Some(old)) => {
                let kept = new.adopt(old, |name| unchanged.collections.contains(name));
                let emptied = old
                    .counts()
                    .into_iter()
                    .filter(|(name, records)| *records > 0 && !kept.iter().any(|k| k == name))
                    .map(|(name, _)| name.to_owned())
                    .collect();
                (kept, emptied)
            }
            _ => (Vec::new(), Vec::new()),
        };
        Ok(Reloaded {
            engine,
            kept,
            emptied,
        })
    }

    /// The files it was loaded from: the spec files and the files their `$ref`s name,
    /// canonical (empty for an engine built with [`Engine::from_specs`]).
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }

    /// Builds the engine from compiled specs; fails if operations of two specs claim one route.
    /// Within one spec, two templates that differ only in parameter names under one method
    /// (Google's `/v1/{parent}` and `/v1/{name}`) load with a warning, and the first is served.
    pub fn from_specs(mut specs: Vec<Spec>, options: EngineOptions) -> Result<Engine, LoadReport> {
        let mut warnings: Vec<LoadError> = specs
            .iter_mut()
            .flat_map(|spec| std::mem::take(&mut spec.warnings))
            .collect();
        let OperationRoutes {
            routes,
            shadowed,
            clashes,
        } = OperationRoutes::of(&specs, &mut warnings);
        let mut errors = clashes;
        let response_checks = if options.check_responses {
            match ResponseChecks::compile(&specs) {
                Ok(checks) => Some(checks),
                Err(mut refused) => {
                    errors.append(&mut refused);
                    None
                }
            }
        } else {
            None
        };
        if !errors.is_empty() {
            return Err(LoadReport { errors });
        }
        // A shadowed operation is not served, so it is not listed either.
        for spec in &mut specs {
            spec.operations
                .retain(|operation| !shadowed.iter().any(|gone| Arc::ptr_eq(gone, operation)));
        }
        let store = (!options.stateless).then(|| {
            let names: Vec<&str> = specs
                .iter()
                .flat_map(|spec| spec.operations.iter())
                .filter(|operation| operation.creates)
                .map(|operation| operation.collection.as_str())
                .collect();
            Store::new(names, options.max_records)
        });
        let seed = options.seed.unwrap_or_else(rand::random);
        let fixed_now = options.now.or_else(|| {
            options.seed.and_then(|_| {
                DateTime::parse_from_rfc3339(SEEDED_NOW)
                    .ok()
                    .map(|now| now.with_timezone(&Utc))
            })
        });
        let log = Arc::new(RequestLog::new(options.request_log));
        let report = options.report.then(|| Arc::new(ContractReport::default()));
        let secret_query = secret_query_names(&specs);
        let secret_headers = secret_header_names(&specs);
        Ok(Engine {
            specs,
            routes,
            options,
            seed: AtomicU64::new(seed),
            fixed_now,
            store,
            log,
            report,
            sources: Vec::new(),
            secret_query,
            warnings,
            draws: AtomicU64::new(0),
            secret_headers,
            response_checks,
        })
    }

    /// What loaded but is odd, as file, location and reason: start-up logs it, `check` prints it.
    pub fn warnings(&self) -> &[LoadError] {
        &self.warnings
    }

    /// The loaded specs.
    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    /// The options it was built with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Every served operation.
    pub fn routes(&self) -> Vec<RouteInfo> {
        self.specs
            .iter()
            .flat_map(|spec| {
                spec.operations.iter().map(move |operation| RouteInfo {
                    spec: spec.name.clone(),
                    file: spec.file.clone(),
                    method: operation.method.to_string(),
                    path: operation.shown_route().into_owned(),
                    operation_id: operation.operation_id.clone(),
                })
            })
            .collect()
    }

    /// The store of created records; `None` when stateless.
    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// The request log.
    pub fn request_log(&self) -> &RequestLog {
        &self.log
    }

    /// Forgets every stored record and logged request. Without a fixed seed, the answers that
    /// follow draw from a fresh one rather than replaying those after the start.
    pub fn reset(&self) {
        if let Some(store) = &self.store {
            store.reset();
        }
        if self.options.seed.is_none() {
            self.seed.store(rand::random(), Ordering::Relaxed);
        }
        self.log.clear();
        self.draws.store(0, Ordering::Relaxed);
        for spec in &self.specs {
            for operation in &spec.operations {
                operation.served.store(0, Ordering::Relaxed);
            }
        }
    }

    /// Answers one request and logs it.
    pub fn handle(&self, request: &MockRequest<'_>) -> Outcome<'_> {
        let started = std::time::Instant::now();
        let mut outcome = self.answer(request);
        self.record(request, &mut outcome, started.elapsed());
        outcome
    }

    /// Routes and checks one request without answering or logging it: the validation proxy's
    /// first half. Log the exchange with [`Engine::record`] once it is answered.
    pub fn inspect(&self, request: &MockRequest<'_>) -> Inspection<'_> {
        match self.checked(request) {
            Routed::Valid(valid) => Inspection {
                operation: Some(valid.operation),
                violations: Violations::default(),
                local: None,
            },
            Routed::Answered(outcome) => Inspection {
                operation: outcome.operation,
                violations: outcome.violations,
                local: Some(outcome.response),
            },
        }
    }

    /// What an answer to a request for `operation` breaks of its documented response (status,
    /// `Content-Type`, body schema, required headers); nothing unless the engine was built with
    /// [`EngineOptions::check_responses`]. `bodiless`: the answer is to a `HEAD`.
    pub fn check_response(
        &self,
        operation: &Operation,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        bodiless: bool,
    ) -> Vec<Violation> {
        self.response_checks
            .as_ref()
            .map_or_else(Vec::new, |checks| {
                checks.check(operation, status, headers, body, bodiless)
            })
    }

    /// The contract report, if the engine keeps one ([`EngineOptions::report`]).
    pub fn contract_report(&self) -> Option<&ContractReport> {
        self.report.as_deref()
    }

    /// How the answer to `request` is delivered: the delay and fault the request asks for, else
    /// its operation's delay, else one drawn from `--delay`. Only a request a spec serves is
    /// delayed or faulted.
    pub fn delivery(&self, outcome: &Outcome<'_>, request: &MockRequest<'_>) -> Delivery {
        let Some(operation) = outcome.operation else {
            return Delivery::default();
        };
        let mut delivery = if request.headers.contains_key("prefer")
            || request.query.is_some_and(|query| query.contains("__"))
        {
            delivery::asked(request.headers, request.query)
        } else {
            Delivery::default()
        };
        if delivery.delay.is_none() {
            delivery.delay = operation.delay.or_else(|| {
                let range: DelayRange = self.options.delay?;
                Some(range.draw(&mut self.draw_rng("delay")))
            });
        }
        delivery
    }

    /// Randomness for one draw of `what`, seeded from the engine's seed and how many draws came
    /// before.
    fn draw_rng(&self, what: &str) -> Xoshiro256PlusPlus {
        let draw = self.draws.fetch_add(1, Ordering::Relaxed);
        Xoshiro256PlusPlus::seed_from_u64(mix(
            self.seed.load(Ordering::Relaxed),
            what,
            "draw",
            draw,
        ))
    }

    /// What an error body in a documented shape is generated with: randomness of its own per
    /// operation (the successes' sequence is left as it is), and the clock.
    fn error_making(&self, operation: &Operation) -> ErrorMaking {
        let served = operation.served.load(Ordering::Relaxed);
        ErrorMaking {
            rng: Xoshiro256PlusPlus::seed_from_u64(mix(
                self.seed.load(Ordering::Relaxed),
                &operation.pointer,
                &operation.spec,
                !served,
            )),
            now: self.fixed_now.unwrap_or_else(Utc::now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderValue, header};

    #[test]
    fn a_reload_goes_on_with_a_seeded_sequence_the_same_request_log_and_report() {
        let folder = std::env::temp_dir().join(format!("understudy-reload-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("words.yaml"),
            "openapi: 3.0.3\ninfo: {title: Words, version: '1'}\npaths:\n  /word:\n    get:\n      \
             responses:\n        '200':\n          description: A word\n          content:\n            \
             application/json:\n              schema: {type: object, required: [word, n], \
             properties: {word: {type: string}, n: {type: integer}}}\n",
        )
        .unwrap();
        let paths = [folder.clone()];
        let options = EngineOptions {
            seed: Some(3),
            report: true,
            ..EngineOptions::default()
        };
        let headers = HeaderMap::new();
        let mut plain_text = HeaderMap::new();
        plain_text.insert(header::ACCEPT, HeaderValue::from_static("text/plain"));
        let unacceptable = MockRequest {
            headers: &plain_text,
            method: &http::Method::GET,
            path: "/word",
            query: None,
            body: &[],
        };
        let request = MockRequest {
            method: &http::Method::GET,
            path: "/word",
            query: None,
            headers: &headers,
            body: &[],
        };
        let answer = |engine: &Engine| engine.handle(&request).response.body;
        let engine = Engine::load(&paths, options.clone()).unwrap();
        assert_eq!(engine.handle(&unacceptable).response.status, 406);
        let mut reloaded = vec![answer(&engine), answer(&engine)];
        let engine = engine.reload(&paths).unwrap().engine;
        reloaded.push(answer(&engine));
        let steady = Engine::load(&paths, options).unwrap();
        steady.handle(&unacceptable);
        let unbroken = vec![answer(&steady), answer(&steady), answer(&steady)];
        assert_eq!(reloaded, unbroken);
        assert_ne!(reloaded[2], reloaded[0], "a reload replays the sequence");
        assert_eq!(engine.request_log().last(10).len(), 4);
        assert_eq!(
            engine.contract_report().map(ContractReport::violating),
            Some(1)
        );
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
