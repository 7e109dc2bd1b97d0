//! The engine: every loaded spec behind one route table, turning a [`MockRequest`] into a
//! [`MockResponse`]. Routing, validation, the choice of response, generation and state meet here.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use serde::Serialize;
use serde_json::{Value, json};

use crate::callback::{CallbackRequest, Making, Planned, Sources};
use crate::contract_report::ContractReport;
use crate::delivery::{self, DelayRange, Delivery};
use crate::error_body::{PROBLEM_JSON, problem_details};
use crate::generate::{Defaults, GenerateContext, Generator};
use crate::load::load_specs_reading;
use crate::load_error::{ErrorKind, LoadError, LoadReport};
use crate::media_type;
use crate::operation::{Credential, Operation, Response, ResponseMedia, Spec, StatusKey};
use crate::reload::Unchanged;
use crate::request_log::{
    BodyPrefix, CallbackRecord, CallbackState, CallbackTicket, Exchange, LoggedHeaders,
    LoggedRequest, RequestLog,
};
use crate::resources::{Kept, Role, Step, keep_created, resource_step};
use crate::response_check::ResponseChecks;
use crate::route_table::{self, RouteTable};
use crate::security::{Gate, ValidCredentials, challenge};
use crate::store::{Admission, Store};
use crate::validate::{MockRequest, QueryPairs, check_request};
use crate::violation::{Location, Violation, ViolationClass, Violations};

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

/// A response for the server to send.
#[derive(Debug, Clone)]
pub struct MockResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers, `Content-Type` included.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
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
    routes: RouteTable<Vec<Arc<Operation>>>,
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
    /// spec's `apiKey`s in the query and [`CREDENTIAL_NAMES`].
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

/// Query parameter names hidden from the request log and the report whatever the specs say, as
/// a request may send a credential to a path no spec serves (compared case-insensitively, after
/// percent-decoding).
pub const CREDENTIAL_NAMES: [&str; 7] = [
    "api_key",
    "apikey",
    "key",
    "token",
    "access_token",
    "sig",
    "signature",
];

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

struct Preference {
    code: Option<u16>,
    example: Option<String>,
    dynamic: bool,
}

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
    /// its draws, and the store collections whose operations are unchanged ([`Unchanged`]),
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
        let mut routes: RouteTable<Vec<Arc<Operation>>> = RouteTable::new();
        let mut errors = Vec::new();
        let mut warnings: Vec<LoadError> = specs
            .iter_mut()
            .flat_map(|spec| std::mem::take(&mut spec.warnings))
            .collect();
        let mut shadowed: Vec<Arc<Operation>> = Vec::new();
        let mut templates: Vec<(String, Vec<Arc<Operation>>)> = Vec::new();
        for spec in &specs {
            for operation in &spec.operations {
                let key = normalised_template(&operation.route);
                match templates.iter_mut().find(|(existing, _)| *existing == key) {
                    Some((_, operations)) => {
                        if let Some(clash) = operations
                            .iter()
                            .find(|other| other.method == operation.method)
                        {
                            if clash.spec == operation.spec {
                                warnings.push(LoadError::at(
                                    &spec.file,
                                    &operation.pointer,
                                    ErrorKind::RouteClash,
                                    format!(
                                        "{} {} is the route of {} too, which is served instead",
                                        operation.method, operation.route, clash.pointer
                                    ),
                                ));
                                shadowed.push(Arc::clone(operation));
                                continue;
                            }
                            let other_file = specs
                                .iter()
                                .find(|spec| *spec.name == *clash.spec)
                                .map_or_else(PathBuf::new, |spec| spec.file.clone());
                            errors.push(LoadError::at(
                                &spec.file,
                                &operation.pointer,
                                ErrorKind::RouteClash,
                                format!(
                                    "{} {} is also served by {} ({})",
                                    operation.method,
                                    operation.route,
                                    other_file.display(),
                                    clash.pointer
                                ),
                            ));
                        } else {
                            operations.push(Arc::clone(operation));
                        }
                    }
                    None => templates.push((key, vec![Arc::clone(operation)])),
                }
            }
        }
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
        for (_, operations) in templates {
            let route = operations[0].route.clone();
            // Equivalent templates were merged above, so the table never refuses one.
            let _ = routes.insert(&route, operations);
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
                    path: operation.route.clone(),
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

    /// Logs one answered request (the request log, and the contract report if kept), however it
    /// was answered: `latency` is how long answering it took. The outcome's violations lose the
    /// values of query parameters named like credentials.
    pub fn record(
        &self,
        request: &MockRequest<'_>,
        outcome: &mut Outcome<'_>,
        latency: std::time::Duration,
    ) {
        // The answer showed the client what it sent; the log line, the log and the report do not
        // keep the value of a query parameter named like a credential.
        outcome.violations = hide_credential_values(&outcome.violations, &self.secret_query);
        let planned = self.plan_callbacks(outcome, request);
        let mut entry = LoggedRequest {
            sequence: 0,
            method: request.method.clone(),
            path: request.path.to_owned(),
            // Hidden on every path, matched or not: the credential is in the query either way.
            query: request
                .query
                .filter(|query| !query.is_empty())
                .map(|query| redact_query(query, &self.secret_query)),
            status: outcome.response.status.as_u16(),
            spec: outcome
                .operation
                .as_ref()
                .map(|operation| operation.spec.clone()),
            operation: outcome
                .operation
                .as_ref()
                .map(|operation| operation.label.clone()),
            violations: outcome.violations.clone(),
            violations_omitted: 0,
            latency_us: Some(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX)),
            // Only gathered for a log that keeps it: what the inspector shows of the exchange.
            exchange: self.log.keeps().then(|| {
                let mut exchange = Box::new(Exchange {
                    request_headers: LoggedHeaders::from_map(request.headers, &self.secret_headers),
                    request_body: BodyPrefix::of(request.body),
                    response_headers: LoggedHeaders::from_map(
                        &outcome.response.headers,
                        &self.secret_headers,
                    ),
                    response_body: BodyPrefix::of(&outcome.response.body),
                });
                // An answer shows the client what it sent, a credential in the query included.
                if let Some(query) = request.query.filter(|query| query.contains('=')) {
                    let secrets = secret_query_values(query, &self.secret_query);
                    if !secrets.is_empty() {
                        exchange.redact(&secrets);
                    }
                }
                exchange
            }),
            callbacks: planned
                .iter()
                .map(|planned| self.callback_record(planned))
                .collect(),
        };
        // Cut once here, so that the report's copy and the log's are small.
        entry.bound();
        if let Some(report) = &self.report {
            report.record(&entry, outcome.operation.is_some());
        }
        let id = self.log.push(entry);
        outcome.callbacks = planned
            .into_iter()
            .enumerate()
            .filter_map(|(index, planned)| match planned.url {
                Ok(url) => Some(CallbackRequest {
                    name: planned.name,
                    method: planned.method,
                    url,
                    content_type: planned.content_type,
                    body: planned.body,
                    ticket: CallbackTicket { entry: id, index },
                }),
                Err(reason) => {
                    tracing::warn!(callback = %planned.name, "callback not fired: {reason}");
                    None
                }
            })
            .collect();
    }

    /// The operation's callbacks for this request ([`crate::callback`]), when it has any and
    /// the answer is a success to a valid request: each URL made from the request and the
    /// answer, each body generated. Nothing is parsed or made for an operation without any.
    fn plan_callbacks(&self, outcome: &Outcome<'_>, request: &MockRequest<'_>) -> Vec<Planned> {
        let Some(operation) = outcome.operation else {
            return Vec::new();
        };
        if operation.callbacks.is_empty()
            || !self.options.callbacks
            || !outcome.response.status.is_success()
            || !outcome.violations.is_empty()
        {
            return Vec::new();
        }
        // Read again here rather than carried out of `answer`: only operations with callbacks
        // pay for it.
        let path_params: Vec<(&str, &str)> = self
            .routes
            .find(request.path)
            .map(|found| {
                found
                    .params
                    .iter()
                    .zip(route_table::parameter_names(&operation.route))
                    .map(|((_, value), name)| (name, *value))
                    .collect()
            })
            .unwrap_or_default();
        let json_media = operation
            .body
            .as_ref()
            .and_then(|body| body.media.iter().find(|media| media.json));
        let request_body: Option<Value> = json_media
            .filter(|_| !request.body.is_empty())
            .and_then(|_| serde_json::from_slice(request.body).ok());
        let response_body: Option<Value> = operation
            .callbacks
            .iter()
            .any(|callback| callback.url.reads_response_body())
            .then(|| serde_json::from_slice(&outcome.response.body).ok())
            .flatten();
        let sources = Sources {
            request,
            path_params: &path_params,
            request_body: request_body.as_ref(),
            status: outcome.response.status.as_u16(),
            response_headers: &outcome.response.headers,
            response_body: response_body.as_ref(),
        };
        let served = operation.served.load(Ordering::Relaxed);
        let now = self.fixed_now.unwrap_or_else(Utc::now);
        operation
            .callbacks
            .iter()
            .map(|callback| {
                let mut making = Making {
                    rng: Xoshiro256PlusPlus::seed_from_u64(mix(
                        self.seed.load(Ordering::Relaxed),
                        &callback.pointer,
                        &operation.spec,
                        served,
                    )),
                    now,
                    request_body: request_body.as_ref(),
                    request_defaults: json_media.and_then(|media| media.defaults.as_ref()),
                };
                callback.plan(&sources, &mut making)
            })
            .collect()
    }

    /// How the request log first shows a planned callback: pending, or not fired and why. A
    /// credential in its URL's query is hidden as in the request's own.
    fn callback_record(&self, planned: &Planned) -> CallbackRecord {
        let (url, outcome, error) = match &planned.url {
            Ok(url) => {
                let text = url.to_string();
                let text = match text.split_once('?') {
                    Some((before, query)) => {
                        format!("{before}?{}", redact_query(query, &self.secret_query))
                    }
                    None => text,
                };
                (Some(text), CallbackState::Pending, None)
            }
            Err(reason) => (None, CallbackState::NotFired, Some(reason.clone())),
        };
        CallbackRecord {
            name: planned.name.clone(),
            method: planned.method.clone(),
            url,
            outcome,
            status: None,
            error,
        }
    }

    /// The contract report, if the engine keeps one ([`EngineOptions::report`]).
    pub fn contract_report(&self) -> Option<&ContractReport> {
        self.report.as_deref()
    }

    fn answer(&self, request: &MockRequest<'_>) -> Outcome<'_> {
        let valid = match self.checked(request) {
            Routed::Valid(valid) => valid,
            Routed::Answered(outcome) => return outcome,
        };
        let Valid {
            operation,
            params,
            preference,
            checked,
        } = valid;
        if let Some(response) = self.drawn_failure(operation) {
            return Outcome {
                response,
                violations: Violations::default(),
                operation: Some(operation),
                callbacks: Vec::new(),
            };
        }
        let preference = preference_from(request.headers, preference);
        let (response, violations) = self.success(
            operation,
            request,
            &params,
            checked.body,
            checked.media,
            &preference,
        );
        Outcome {
            response,
            violations: violations.into(),
            operation: Some(operation),
            callbacks: Vec::new(),
        }
    }

    /// Routes `request` and checks it: the operation and what the answer needs of the request
    /// when it is valid, else the answer to it (404, 405, or its violations).
    fn checked<'e, 'r>(&'e self, request: &MockRequest<'r>) -> Routed<'e, 'r> {
        let Some(mut found) = self.routes.find(request.path) else {
            return Routed::Answered(Outcome {
                response: problem(
                    StatusCode::NOT_FOUND,
                    "No such path",
                    format!("no spec serves `{}`", request.path),
                    json!({"paths": self.routes().iter().map(|route| format!("{} {}", route.method, route.path)).collect::<Vec<_>>()}),
                ),
                violations: Violations::default(),
                operation: None,
                callbacks: Vec::new(),
            });
        };
        let Some(operation) = found
            .value
            .iter()
            .find(|operation| operation.method == request.method)
            .or_else(|| {
                // HEAD is answered like GET, without a body.
                (request.method == http::Method::HEAD)
                    .then(|| found.value.iter().find(|op| op.method == http::Method::GET))
                    .flatten()
            })
        else {
            let allowed: Vec<String> = found.value.iter().map(|op| op.method.to_string()).collect();
            let mut response = problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                format!("`{}` serves {}", request.path, allowed.join(", ")),
                json!({"allowed": allowed}),
            );
            if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
                response.headers.insert(header::ALLOW, value);
            }
            return Routed::Answered(Outcome {
                response,
                violations: Violations::default(),
                operation: None,
                callbacks: Vec::new(),
            });
        };
        // Borrowed, not an `Arc` clone: both workers would write its count on every request.
        let operation: &Operation = operation;
        // Operations on equivalent templates share a route (`GET /keys/{digest}` and `DELETE
        // /keys/{key_id}`): each reads the parameters by its own template's names.
        for (param, name) in found
            .params
            .iter_mut()
            .zip(route_table::parameter_names(&operation.route))
        {
            param.0 = name;
        }
        let (query, preference) = split_query(request);
        let gate = Gate {
            valid: &self.options.valid_credentials,
            now: self.fixed_now,
        };
        let mut checked = check_request(operation, request, &found.params, &query, &gate);
        if let Some(violation) = self.accept_violation(operation, request) {
            checked.violations.push(violation);
        }
        if !checked.violations.is_empty() {
            let mut made = self.error_making(operation);
            let response = violation_response(operation, &checked.violations, None, &mut made);
            return Routed::Answered(Outcome {
                response,
                violations: checked.violations.into(),
                operation: Some(operation),
                callbacks: Vec::new(),
            });
        }
        Routed::Valid(Valid {
            operation,
            params: found.params,
            preference,
            checked,
        })
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

    /// With `--fail-rate`, whether this valid request draws a failure, and its answer: the
    /// operation's lowest documented 5xx in its documented shape, else 503 problem details with
    /// `Retry-After`.
    fn drawn_failure(&self, operation: &Operation) -> Option<MockResponse> {
        let rate = self.options.fail_rate;
        if rate <= 0.0 || !rand::RngExt::random_bool(&mut self.draw_rng("fail"), rate.min(1.0)) {
            return None;
        }
        let documented = operation
            .responses
            .iter()
            .filter(|response| matches!(response.status, StatusKey::Code(500..=599)))
            .min_by_key(|response| response.status.code())
            .map(|response| response.status.code());
        if let Some(code) = documented {
            let preference = Preference {
                code: Some(code),
                example: None,
                dynamic: true,
            };
            let empty = HeaderMap::new();
            let request = MockRequest {
                method: &operation.method,
                path: &operation.route,
                query: None,
                headers: &empty,
                body: &[],
            };
            return Some(
                self.success(operation, &request, &[], None, None, &preference)
                    .0,
            );
        }
        let mut response = problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            format!(
                "{} failed on purpose: --fail-rate {rate} drew this request",
                operation.label
            ),
            json!({}),
        );
        response
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        Some(response)
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

    fn accept_violation(
        &self,
        operation: &Operation,
        request: &MockRequest<'_>,
    ) -> Option<Violation> {
        let accept = request
            .headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())?;
        if operation.produces.is_empty()
            || media_type::negotiate(Some(accept), &operation.produces).is_some()
        {
            return None;
        }
        let mut violation = Violation::new(
            ViolationClass::Accept,
            Location::Header,
            "/Accept",
            "Accept",
            "accept",
            format!(
                "`{accept}` accepts nothing this operation produces: {}",
                operation.produces.join(", ")
            ),
        );
        violation.limit = Some(Value::from(operation.produces.clone()));
        Some(violation)
    }

    /// The answer to a valid request: the preferred or success response, stored if it creates.
    #[allow(clippy::too_many_arguments)]
    fn success(
        &self,
        operation: &Operation,
        request: &MockRequest<'_>,
        params: &[(&str, &str)],
        body: Option<Value>,
        media: Option<usize>,
        preference: &Preference,
    ) -> (MockResponse, Vec<Violation>) {
        let (code, response) = match preference.code {
            // `default` stands for every undocumented error status.
            Some(code) => match operation.response_for(code).or_else(|| {
                (400..600)
                    .contains(&code)
                    .then(|| operation.default_response())
                    .flatten()
            }) {
                Some(response) => (code, response),
                None => {
                    let documented: Vec<String> = operation
                        .responses
                        .iter()
                        .map(|response| match response.status {
                            StatusKey::Code(code) => code.to_string(),
                            StatusKey::Range(class) => format!("{class}XX"),
                            StatusKey::Default => "default".into(),
                        })
                        .collect();
                    return (
                        problem(
                            StatusCode::BAD_REQUEST,
                            "Unknown preference",
                            format!(
                                "{} documents no {code} response; documented: {}",
                                operation.label,
                                documented.join(", ")
                            ),
                            json!({"available": documented}),
                        ),
                        Vec::new(),
                    );
                }
            },
            None => match operation.valid_request_response() {
                Some(response) => (
                    match response.status {
                        StatusKey::Default => 200,
                        status => status.code(),
                    },
                    response,
                ),
                // No response at all (OpenAPI 3.1 allows an empty `responses`).
                None => (204, &EMPTY_RESPONSE),
            },
        };
        if let Some(name) = &preference.example {
            let names: Vec<&str> = response
                .content
                .iter()
                .flat_map(|media| media.examples.iter().map(|(name, _)| name.as_str()))
                .collect();
            if !names.contains(&name.as_str()) {
                return (
                    problem(
                        StatusCode::BAD_REQUEST,
                        "Unknown preference",
                        format!(
                            "the {code} response of {} has no example `{name}`",
                            operation.label
                        ),
                        json!({"available": names}),
                    ),
                    Vec::new(),
                );
            }
        }
        let served = operation.served.fetch_add(1, Ordering::Relaxed);
        // A generator named after its algorithm: `StdRng` may change algorithm with a rand
        // release or a platform, and a seed must give the same bytes everywhere. xoshiro256++ is
        // also cheaper to seed and to draw from than StdRng's ChaCha12, whose strength a mock
        // never needs.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(
            self.seed.load(Ordering::Relaxed),
            &operation.pointer,
            &operation.spec,
            served,
        ));
        let now = self.fixed_now.unwrap_or_else(Utc::now);
        let echo_source = body;
        // The echo reads the request schema's defaults through the body; only the store, when a
        // unique value is missing or has insides to fill, gets a filled copy.
        let request_defaults = media
            .and_then(|index| operation.body.as_ref()?.media.get(index)?.defaults.as_ref())
            .filter(|defaults| !defaults.is_empty());
        let chosen_media = negotiate_media(response, request.headers);
        let identity_slot = chosen_media
            .and_then(|media| media.generator.as_ref())
            .and_then(|generator| generator.identity());
        // A resource's operations read and change its stored records; an answer the client
        // chose (`Prefer: code=…`, an example) is left as it is.
        let plain = preference.code.is_none() && preference.example.is_none() && preference.dynamic;
        let resource = operation
            .resource
            .as_ref()
            .filter(|_| plain && (200..300).contains(&code))
            .zip(self.store.as_ref());
        let mut kept: Option<Kept> = None;
        if let Some((role, store)) = resource {
            let media_type = media
                .and_then(|index| operation.body.as_ref()?.media.get(index))
                .map(|media| media.media_type.as_str());
            let step = resource_step(
                role,
                store,
                params,
                echo_source.as_ref(),
                media_type,
                self.options.strict_resources,
                request.query,
                now,
            );
            match step {
                Step::Pass => {}
                Step::Answer(value) => kept = Some(value),
                Step::Refuse(violation, status) => {
                    let mut made = ErrorMaking { rng, now };
                    let not_found = violation.class == ViolationClass::NotFound;
                    let status = status.or_else(|| {
                        [409, 422, 400]
                            .into_iter()
                            .find(|code| operation.response_for(*code).is_some())
                    });
                    let violations = vec![*violation];
                    let response = violation_response(operation, &violations, status, &mut made);
                    // A deleted record's 404 is the API behaving, not the client breaking it.
                    let violations = if not_found { Vec::new() } else { violations };
                    return (response, violations);
                }
            }
        }
        let creating = resource.filter(|(role, _)| role.role == Role::Create);
        let mut admitted = None;
        let mut identity = None;
        let storing = operation.creates && (200..300).contains(&code);
        if storing && let Some(store) = &self.store {
            let filled;
            let stored_body = match (&echo_source, request_defaults) {
                (Some(body), Some(defaults))
                    if operation.unique.iter().any(|rule| {
                        rule.find(body)
                            .is_none_or(|value| value.is_object() || value.is_array())
                    }) =>
                {
                    filled = defaults.filled(body);
                    Some(&filled)
                }
                _ => echo_source.as_ref(),
            };
            let admission = store.admit(
                &operation.collection,
                &operation.unique,
                stored_body,
                |number| identity_slot.map(|slot| slot.make(&mut rng, number)),
            );
            match admission {
                Admission::Created { id, number } => {
                    identity = id;
                    admitted = Some(number);
                }
                Admission::Conflict { rule, value } => {
                    let status = operation.unique.get(rule).map(|rule| rule.status);
                    let violations = vec![conflict_violation(operation, rule, value)];
                    let mut made = ErrorMaking { rng, now };
                    let response = violation_response(operation, &violations, status, &mut made);
                    return (response, violations);
                }
            }
        }
        if identity.is_none() {
            identity = identity_slot.map(|slot| slot.make(&mut rng, served + 1));
        }
        let mut headers = HeaderMap::new();
        for documented in &response.headers {
            let value = documented.example.clone().or_else(|| {
                documented
                    .generator
                    .as_ref()
                    .map(|generator| generator.generate(&mut GenerateContext::plain(&mut rng, now)))
            });
            if let Some(value) = value.and_then(|value| header_value(&value)) {
                headers.insert(documented.name.clone(), value);
            }
        }
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
        // 1xx, 204 and 304 answers have no body, whatever content the spec gives them.
        let bodiless = status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED;
        let Some(media) = chosen_media.filter(|_| !bodiless) else {
            let response = MockResponse {
                status,
                headers,
                body: Bytes::new(),
            };
            return (response, Vec::new());
        };
        // A status the client asked for reads like an error of that status, where the schema has
        // places for it; an example asked for is sent as it is.
        let forced_error = preference
            .code
            .filter(|code| *code >= 400)
            .and_then(|code| {
                let shape = media.error_shape.as_ref()?;
                if preference.example.is_some() || !preference.dynamic {
                    return None;
                }
                if shape.says_nothing() {
                    return documented_example(media);
                }
                documented_error(media, &shape.facts_for_status(code), &mut rng, now)
            });
        let body = match (forced_error, kept) {
            (Some(body), _) => body,
            (None, Some(kept)) => {
                let value = kept.placed(media, &mut rng, now);
                encode(media.json, &value)
            }
            (None, None) => {
                let body = media_body(
                    media,
                    preference,
                    &mut rng,
                    now,
                    echo_source.as_ref().map(|body| (body, request_defaults)),
                    identity,
                );
                match operation.fresh.as_ref().filter(|_| plain && storing) {
                    Some(fresh) => freshened(fresh, media, body, echo_source.as_ref(), now),
                    None => body,
                }
            }
        };
        if let (Some((role, store)), Some(number)) = (creating, admitted) {
            keep_created(role, store, params, media, &body, number);
        }
        if let Some(value) = &media.content_type {
            headers.insert(header::CONTENT_TYPE, value.clone());
        }
        let body = if request.method == http::Method::HEAD {
            Bytes::new()
        } else {
            body
        };
        let response = MockResponse {
            status,
            headers,
            body,
        };
        (response, Vec::new())
    }
}

static EMPTY_RESPONSE: Response = Response {
    status: StatusKey::Code(204),
    headers: Vec::new(),
    content: Vec::new(),
    media_types: Vec::new(),
    violations: None,
};

/// The body for a response media type: a named or the documented example when asked for, else a
/// generated value that echoes the request where it can (and does not where that would break the
/// schema).
fn media_body(
    media: &ResponseMedia,
    preference: &Preference,
    rng: &mut Xoshiro256PlusPlus,
    now: DateTime<Utc>,
    echo_source: Option<(&Value, Option<&Defaults>)>,
    identity: Option<Value>,
) -> Bytes {
    let example = match &preference.example {
        Some(name) => media
            .examples
            .iter()
            .find(|(example, _)| example == name)
            .map(|(_, value)| value.clone()),
        None if !preference.dynamic => media
            .examples
            .first()
            .map(|(_, value)| value.clone())
            .or_else(|| media.example.clone()),
        None => None,
    };
    if let (None, Some(stream)) = (&example, &media.stream) {
        return stream.answer(rng, now);
    }
    let value = match (example, &media.generator) {
        (Some(value), _) => value,
        (None, Some(generator)) if media.json => {
            return generated_json(media, generator, rng, now, echo_source, identity);
        }
        (None, Some(generator)) => {
            let mut context = GenerateContext {
                rng: &mut *rng,
                now,
                request_body: echo_source.map(|(body, _)| body),
                request_defaults: echo_source.and_then(|(_, defaults)| defaults),
                identity: identity.clone(),
                echo: echo_source.is_some(),
            };
            let generated = generator.generate_vouched(&mut context);
            // Echoed values were checked as they went in; the whole body is validated again
            // only when some check behind it was not exact.
            let invalid = echo_source.is_some()
                && !generated.vouched
                && media
                    .validator
                    .as_ref()
                    .is_some_and(|validator| !validator.is_valid(&generated.body));
            if invalid {
                generator.generate(&mut GenerateContext {
                    rng,
                    now,
                    request_body: None,
                    request_defaults: None,
                    identity,
                    echo: false,
                })
            } else {
                generated.body
            }
        }
        (None, None) => media
            .examples
            .first()
            .map(|(_, value)| value.clone())
            .or_else(|| media.example.clone())
            .unwrap_or(Value::Null),
    };
    encode(media.json, &value)
}

/// A generated JSON body, written straight into bytes. Echoed values were checked as they went
/// in; the body is read back and validated only when some check behind it was not exact, and
/// drawn again without the echo if it breaks the schema ([`redraw`]).
fn generated_json(
    media: &ResponseMedia,
    generator: &Generator,
    rng: &mut Xoshiro256PlusPlus,
    now: DateTime<Utc>,
    echo_source: Option<(&Value, Option<&Defaults>)>,
    identity: Option<Value>,
) -> Bytes {
    let mut body = Vec::with_capacity(generator.body_capacity());
    let vouched = generator.write_vouched(
        &mut GenerateContext {
            rng: &mut *rng,
            now,
            request_body: echo_source.map(|(body, _)| body),
            request_defaults: echo_source.and_then(|(_, defaults)| defaults),
            identity: identity.clone(),
            echo: echo_source.is_some(),
        },
        &mut body,
    );
    if vouched || fits(media, &body) {
        return Bytes::from(body);
    }
    redraw(media, generator, rng, now, identity, body)
}

/// Bodies drawn from the schema alone before giving up on drawing one the validator accepts.
const DRAWS: usize = 16;

/// A body from the schema alone (the identity kept), drawn until the media type's validator
/// accepts it, at most [`DRAWS`] times and within the work of one more body
/// ([`Generator::VALUE_BUDGET`] values in all, so a schema whose bodies are costly to make is
/// not made sixteen times over): a generator that does not model a keyword (2020-12's
/// `if`/`then`, `dependentRequired`, …) draws and checks. Then the documented example, which is the
/// spec's own word; then the last draw. Each draw moves the request's seeded rng on, so the answer
/// stays reproducible.
fn redraw(
    media: &ResponseMedia,
    generator: &Generator,
    rng: &mut Xoshiro256PlusPlus,
    now: DateTime<Utc>,
    identity: Option<Value>,
    mut body: Vec<u8>,
) -> Bytes {
    let mut work = 0;
    for _ in 0..DRAWS {
        body.clear();
        let (vouched, values) = generator.write_counted(
            &mut GenerateContext {
                identity: identity.clone(),
                ..GenerateContext::plain(&mut *rng, now)
            },
            &mut body,
        );
        if vouched || fits(media, &body) {
            return Bytes::from(body);
        }
        work += values;
        if work >= Generator::VALUE_BUDGET {
            break;
        }
    }
    match media
        .examples
        .first()
        .map(|(_, value)| value)
        .or(media.example.as_ref())
    {
        Some(example) => encode(true, example),
        None => Bytes::from(body),
    }
}

/// Whether a JSON body passes the media type's validator (true when it has none: the generator's
/// own checks are then all there is).
fn fits(media: &ResponseMedia, body: &[u8]) -> bool {
    media.validator.as_ref().is_none_or(|validator| {
        serde_json::from_slice::<Value>(body).is_ok_and(|value| validator.is_valid(&value))
    })
}

fn encode(json: bool, value: &Value) -> Bytes {
    if json {
        return Bytes::from(serde_json::to_vec(value).unwrap_or_default());
    }
    match value {
        Value::String(text) => Bytes::from(text.clone()),
        other => Bytes::from(other.to_string()),
    }
}

/// The response to a request that broke the contract: the class that decides first picks the
/// status (the spec's documented one where it has one, or `status` when the caller knows it), and
/// its violations fill the vendor's shape.
pub fn violation_response(
    operation: &Operation,
    violations: &[Violation],
    status: Option<u16>,
    made: &mut ErrorMaking,
) -> MockResponse {
    let class = violations
        .iter()
        .map(|violation| violation.class)
        .min()
        .unwrap_or_default();
    // Usually every violation is of the one class shown: then they are shown as they are.
    let shown: Cow<'_, [Violation]> = if violations.iter().all(|violation| violation.class == class)
    {
        Cow::Borrowed(violations)
    } else {
        Cow::Owned(
            violations
                .iter()
                .filter(|violation| violation.class == class)
                .cloned()
                .collect(),
        )
    };
    let (natural, preferred): (u16, &[u16]) = match class {
        ViolationClass::Security => (401, &[401]),
        ViolationClass::Scope => (403, &[403]),
        ViolationClass::Accept => (406, &[406]),
        ViolationClass::ContentType => (415, &[415, 422, 400]),
        ViolationClass::Malformed => (400, &[400, 422]),
        ViolationClass::Schema => (422, &[422, 400]),
        ViolationClass::Conflict => (409, &[]),
        ViolationClass::NotFound => (404, &[404]),
    };
    let (code, response) = match status {
        Some(code) => (code, operation.response_for(code)),
        None => preferred
            .iter()
            .find_map(|code| {
                operation
                    .response_for(*code)
                    .map(|response| (*code, Some(response)))
            })
            .unwrap_or((natural, operation.default_response())),
    };
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let mut headers = HeaderMap::new();
    if matches!(class, ViolationClass::Security | ViolationClass::Scope)
        && let Some(value) =
            challenge(operation, &shown).and_then(|text| HeaderValue::from_str(&text).ok())
    {
        headers.insert(header::WWW_AUTHENTICATE, value);
    }
    let title = match class {
        ViolationClass::Security => "Unauthorized",
        ViolationClass::Scope => "Forbidden",
        ViolationClass::Accept => "Not acceptable",
        ViolationClass::ContentType => "Unsupported media type",
        ViolationClass::Malformed => "Malformed request body",
        ViolationClass::Schema => "Request does not match the API contract",
        ViolationClass::Conflict => "Conflict",
        ViolationClass::NotFound => "Not found",
    };
    let mapped = response.and_then(|response| {
        let mapping = response.violations.as_ref()?;
        // The media type's Content-Type and JSON test were made at start-up, as for a success.
        let media = response.content.first();
        let body = if media.is_none_or(|media| media.json) {
            Bytes::from(serde_json::to_vec(&mapping.render(&shown, code)).unwrap_or_default())
        } else {
            Bytes::from(mapping.render_text(&shown, code))
        };
        let content_type = match media {
            Some(media) => media.content_type.clone(),
            None => Some(HeaderValue::from_static("application/json")),
        };
        Some((content_type, body))
    });
    let mapped = mapped.or_else(|| {
        let media = response?
            .content
            .iter()
            .find(|media| media.error_shape.is_some())?;
        let shape = media.error_shape.as_ref()?;
        let body = match documented_example(media).filter(|_| shape.says_nothing()) {
            Some(example) => example,
            None => {
                let facts = shape.facts(code, title, &shown);
                documented_error(media, &facts, &mut made.rng, made.now)?
            }
        };
        Some((media.content_type.clone(), body))
    });
    let (content_type, body) = mapped.unwrap_or_else(|| {
        (
            Some(HeaderValue::from_static(PROBLEM_JSON)),
            Bytes::from(
                serde_json::to_vec(&problem_details(code, title, &shown)).unwrap_or_default(),
            ),
        )
    });
    if let Some(value) = content_type {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Some(response) = response {
        for documented in &response.headers {
            if let Some(value) = documented.example.as_ref().and_then(header_value) {
                headers.entry(documented.name.clone()).or_insert(value);
            }
        }
    }
    MockResponse {
        status,
        headers,
        body,
    }
}

/// A create's answer made to look just created ([`crate::fresh`]), or as generated if that would
/// break its schema.
fn freshened(
    fresh: &crate::fresh::Fresh,
    media: &ResponseMedia,
    body: Bytes,
    sent: Option<&Value>,
    now: DateTime<Utc>,
) -> Bytes {
    if !media.json {
        return body;
    }
    let Ok(mut answer) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    fresh.apply(&mut answer, sent, now);
    if media
        .validator
        .as_ref()
        .is_some_and(|validator| !validator.is_valid(&answer))
    {
        return body;
    }
    serde_json::to_vec(&answer).map_or(body, Bytes::from)
}

/// The documented example of `media` (its first named one, else `example`), as JSON, if it is
/// valid against the schema: some specs' examples are not (Slack's `invalid_auth` is outside its
/// own `enum`).
fn documented_example(media: &ResponseMedia) -> Option<Bytes> {
    let example = media
        .examples
        .first()
        .map(|(_, value)| value)
        .or(media.example.as_ref())?;
    if let Some(validator) = &media.validator
        && !validator.is_valid(example)
    {
        return None;
    }
    Some(Bytes::from(serde_json::to_vec(example).ok()?))
}

/// What error bodies in a documented shape are generated with.
#[derive(Debug)]
pub struct ErrorMaking {
    rng: Xoshiro256PlusPlus,
    now: DateTime<Utc>,
}

/// An error body in the shape `media` documents: its schema generated with `facts` (made by its
/// [`ErrorShape`]) echoed into it, or, if that would break the schema somewhere, the schema alone.
///
/// [`ErrorShape`]: crate::error_shape::ErrorShape
fn documented_error(
    media: &ResponseMedia,
    facts: &Value,
    rng: &mut Xoshiro256PlusPlus,
    now: DateTime<Utc>,
) -> Option<Bytes> {
    let generator = media.generator.as_ref()?;
    let generated = generator.generate_vouched(&mut GenerateContext {
        rng: &mut *rng,
        now,
        request_body: Some(facts),
        request_defaults: None,
        identity: None,
        echo: true,
    });
    let valid = generated.vouched
        || media
            .validator
            .as_ref()
            .is_some_and(|validator| validator.is_valid(&generated.body));
    if valid {
        return Some(Bytes::from(
            serde_json::to_vec(&generated.body).unwrap_or_default(),
        ));
    }
    // What was echoed broke the schema somewhere it could not tell: the schema alone.
    Some(redraw(media, generator, rng, now, None, Vec::new()))
}

fn conflict_violation(operation: &Operation, rule: usize, value: String) -> Violation {
    let Some(rule) = operation.unique.get(rule) else {
        return Violation::new(
            ViolationClass::Conflict,
            Location::Body,
            "",
            "",
            "unique",
            "conflict",
        );
    };
    let field = crate::validate::field_of(&rule.pointer);
    let mut violation = Violation::new(
        ViolationClass::Conflict,
        Location::Body,
        rule.pointer.clone(),
        field,
        "unique",
        rule.message.replace("{value}", &value),
    );
    violation.set_value(&Value::String(value));
    violation
}

fn negotiate_media<'r>(response: &'r Response, headers: &HeaderMap) -> Option<&'r ResponseMedia> {
    if response.content.is_empty() {
        return None;
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    // `media_types` lists `content`'s media types in order, compiled once.
    let chosen = media_type::negotiate(accept, &response.media_types);
    chosen
        .and_then(|chosen| {
            response
                .content
                .iter()
                .find(|media| &media.media_type == chosen)
        })
        .or_else(|| response.content.first())
}

/// Splits the query into its pairs and the Prism-style `__code`, `__example`, `__dynamic` controls.
fn split_query<'r>(request: &MockRequest<'r>) -> (QueryPairs<'r>, Preference) {
    let mut preference = Preference {
        code: None,
        example: None,
        dynamic: true,
    };
    let mut pairs = Vec::new();
    for (key, value) in form_urlencoded::parse(request.query.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "__code" => preference.code = value.parse().ok(),
            "__example" => preference.example = Some(value.into_owned()),
            "__dynamic" => preference.dynamic = value != "false",
            // Read by `delivery::asked`; never the operation's own parameters.
            "__delay" | "__fault" => {}
            _ => pairs.push((key, value)),
        }
    }
    (pairs, preference)
}

/// Merges the `Prefer` header (`code=404, example=name, dynamic=false`) over the query controls.
fn preference_from(headers: &HeaderMap, mut preference: Preference) -> Preference {
    for value in headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for part in value.split([',', ';']) {
            let Some((key, value)) = part.trim().split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match key.trim() {
                "code" => preference.code = value.parse().ok().or(preference.code),
                "example" => preference.example = Some(value.to_owned()),
                "dynamic" => preference.dynamic = value != "false",
                _ => {}
            }
        }
    }
    preference
}

fn header_value(value: &Value) -> Option<HeaderValue> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Null => return None,
        other => other.to_string(),
    };
    HeaderValue::from_str(&text).ok()
}

fn problem(status: StatusCode, title: &str, detail: String, extra: Value) -> MockResponse {
    let mut body = json!({
        "type": "urn:understudy:problem:routing",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    MockResponse {
        status,
        headers,
        body: Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
    }
}

/// The names whose values [`redact_query`] hides, lower-cased: every `apiKey` in the query that
/// any spec declares, and [`CREDENTIAL_NAMES`]. Made once, at load.
fn secret_query_names(specs: &[Spec]) -> Vec<String> {
    let names = CREDENTIAL_NAMES.iter().map(|&name| name.to_owned());
    distinct(names.chain(declared_api_keys(specs, Location::Query)))
}

/// The header names whose values the request log masks besides the usual ones
/// ([`LoggedHeaders::from_map`]), lower-cased: every `apiKey` in a header that any spec declares.
fn secret_header_names(specs: &[Spec]) -> Vec<String> {
    distinct(declared_api_keys(specs, Location::Header))
}

/// The names of the `apiKey`s the specs' operations take in `location`, lower-cased.
fn declared_api_keys(specs: &[Spec], location: Location) -> impl Iterator<Item = String> + '_ {
    specs
        .iter()
        .flat_map(|spec| spec.operations.iter())
        .flat_map(|operation| operation.security.iter().flatten())
        .filter_map(move |credential| match credential {
            Credential::ApiKey { name, location: at } if *at == location => {
                Some(name.to_lowercase())
            }
            _ => None,
        })
}

/// `names` in their first order, each once.
fn distinct(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for name in names {
        if !kept.contains(&name) {
            kept.push(name);
        }
    }
    kept
}

/// The query string with the values of parameters named in `secret` (lower-case) replaced by
/// `***`, for the request log and the report. A name matches whatever its case and however it
/// is percent-encoded (`api%5Fkey` is `api_key`, as the credential check reads it).
fn redact_query(query: &str, secret: &[String]) -> String {
    let mut out = String::with_capacity(query.len());
    for (index, pair) in query.split('&').enumerate() {
        if index > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, _)) if is_secret(key, secret) => {
                out.push_str(key);
                out.push_str("=***");
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// The values of the query parameters named in `secret`, decoded, and as JSON writes them inside
/// a string once and twice (a message quoting the value, inside a JSON body), for
/// [`Exchange::redact`].
fn secret_query_values(query: &str, secret: &[String]) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if value.is_empty() || !is_secret_name(&name, secret) {
            continue;
        }
        let mut form = value.into_owned();
        for _ in 0..3 {
            let quoted = serde_json::to_string(&form).unwrap_or_default();
            let escaped = quoted
                .strip_prefix('"')
                .and_then(|inner| inner.strip_suffix('"'))
                .unwrap_or_default()
                .to_owned();
            if !values.contains(&form) {
                values.push(form);
            }
            form = escaped;
        }
    }
    // Longest first, so that an escaped form is replaced before the plain one inside it.
    values.sort_by_key(|value| std::cmp::Reverse(value.len()));
    values
}

/// `violations` without the values of query parameters named in `secret` (a spec may declare
/// `token` as a plain parameter with a pattern): their value is dropped and their message, which
/// may quote it, is said again without it. Copies nothing when there are none (nearly always).
fn hide_credential_values(violations: &Violations, secret: &[String]) -> Violations {
    let hidden = |violation: &Violation| {
        violation.location == Location::Query && is_secret_name(&violation.field, secret)
    };
    if !violations.iter().any(hidden) {
        return violations.clone();
    }
    let redacted: Vec<Violation> = violations
        .iter()
        .map(|violation| {
            let mut violation = violation.clone();
            if hidden(&violation) {
                violation.value = None;
                violation.value_truncated = false;
                violation.value_length = None;
                violation.message = format!(
                    "the query parameter `{}` breaks `{}` (its value is not shown)",
                    violation.field, violation.keyword
                );
                violation.bound_text();
            }
            violation
        })
        .collect();
    redacted.into()
}

/// Whether a raw (still encoded) query name is one of `secret`.
fn is_secret(raw: &str, secret: &[String]) -> bool {
    if raw.contains(['%', '+']) {
        let decoded = form_urlencoded::parse(raw.as_bytes()).next();
        return decoded.is_some_and(|(name, _)| is_secret_name(&name, secret));
    }
    is_secret_name(raw, secret)
}

/// Whether a decoded name is one of `secret` (lower-case), in any case.
fn is_secret_name(name: &str, secret: &[String]) -> bool {
    if name.is_ascii() {
        secret
            .iter()
            .any(|secret| secret.eq_ignore_ascii_case(name))
    } else {
        let lower = name.to_lowercase();
        secret.contains(&lower)
    }
}

/// `/users/{id}` and `/users/{user_id}` are the same route.
fn normalised_template(route: &str) -> String {
    let mut out = String::with_capacity(route.len());
    let mut in_parameter = false;
    for character in route.chars() {
        match character {
            '{' => {
                in_parameter = true;
                out.push_str("{}");
            }
            '}' => in_parameter = false,
            _ if in_parameter => {}
            _ => out.push(character),
        }
    }
    out
}

/// A per-request seed from the engine's seed, the operation and how many requests it has answered
/// (FNV-1a over the names, then SplitMix64), stable across runs and Rust versions.
fn mix(seed: u64, pointer: &str, spec: &str, served: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in spec.bytes().chain([0]).chain(pointer.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = seed ^ hash ^ served.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_templates_normalise_alike() {
        assert_eq!(
            normalised_template("/users/{id}"),
            normalised_template("/users/{user_id}")
        );
        assert_ne!(
            normalised_template("/users/{id}"),
            normalised_template("/users/me")
        );
    }

    #[test]
    fn query_credentials_are_redacted_by_decoded_name_in_any_case() {
        let secret = vec!["api_key".to_owned(), "apptoken".to_owned()];
        assert_eq!(redact_query("a=1&b=2", &secret), "a=1&b=2");
        assert_eq!(
            redact_query(
                "a=1&API_KEY=s1&api%5Fkey=s2&AppToken=s3&app%54oken=s4&b",
                &secret
            ),
            "a=1&API_KEY=***&api%5Fkey=***&AppToken=***&app%54oken=***&b"
        );
        assert_eq!(
            redact_query("api_keys=1&key=2", &secret),
            "api_keys=1&key=2"
        );
    }

    #[test]
    fn seeds_differ_per_request_and_operation() {
        assert_ne!(mix(1, "/paths/a", "s", 0), mix(1, "/paths/a", "s", 1));
        assert_ne!(mix(1, "/paths/a", "s", 0), mix(1, "/paths/b", "s", 0));
        assert_eq!(mix(7, "/paths/a", "s", 3), mix(7, "/paths/a", "s", 3));
    }

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
