//! How the engine logs an answered request: the request log's entry, the contract report, and
//! the callbacks it plans after a successful answer.

use std::sync::atomic::Ordering;

use chrono::Utc;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::Value;

use super::{Engine, Outcome};
use crate::callback::{CallbackRequest, Making, Planned, Sources};
use crate::redact::{hide_credential_values, redact_query, secret_query_values};
use crate::request_log::{
    BodyPrefix, CallbackRecord, CallbackState, CallbackTicket, Exchange, LoggedHeaders,
    LoggedRequest,
};
use crate::route_table;
use crate::seed::mix;
use crate::validate::MockRequest;

impl Engine {
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
}
