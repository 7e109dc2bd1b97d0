//! How the engine answers a request: routing and the request's checks, then the chosen
//! response, with the store's part in it.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use chrono::Utc;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::{Value, json};

use super::{Engine, Outcome, Routed, Valid};
use crate::media_type;
use crate::operation::{Operation, StatusKey};
use crate::path_query;
use crate::preferences::{Preference, preference_from, split_query};
use crate::resources::{Fitted, Kept, Role, Step, keep_created, keep_refitted, resource_step};
use crate::respond::{
    ErrorMaking, MockResponse, conflict_violation, documented_error, documented_example,
    documented_headers, encode, freshened, is_bodiless, media_body, negotiate_media, problem,
    violation_response,
};
use crate::route_table;
use crate::security::Gate;
use crate::seed::mix;
use crate::store::Admission;
use crate::validate::{MockRequest, check_request};
use crate::violation::{Location, Violation, ViolationClass, Violations};

impl Engine {
    pub(super) fn answer(&self, request: &MockRequest<'_>) -> Outcome<'_> {
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
    pub(super) fn checked<'e, 'r>(&'e self, request: &MockRequest<'r>) -> Routed<'e, 'r> {
        let Some(mut found) = self.routes.find(request.path) else {
            return Routed::Answered(Outcome {
                response: problem(
                    "routing",
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
        let (query, preference) = split_query(request);
        let route = found.value;
        let chosen = if route.by_query {
            path_query::select(&route.operations, request.method, &query)
        } else {
            route
                .operations
                .iter()
                .find(|operation| operation.method == request.method)
                .or_else(|| {
                    // HEAD is answered like GET, without a body.
                    (request.method == http::Method::HEAD)
                        .then(|| {
                            route
                                .operations
                                .iter()
                                .find(|op| op.method == http::Method::GET)
                        })
                        .flatten()
                })
                .map(Ok)
        };
        let operation = match chosen {
            Some(Ok(operation)) => operation,
            Some(Err(needed)) => {
                return Routed::Answered(Outcome {
                    response: problem(
                        "routing",
                        StatusCode::NOT_FOUND,
                        "No such query",
                        format!(
                            "`{} {}` is served only with one of these in the query: {}",
                            request.method,
                            request.path,
                            needed.join(", ")
                        ),
                        json!({ "queries": needed }),
                    ),
                    violations: Violations::default(),
                    operation: None,
                    callbacks: Vec::new(),
                });
            }
            None => {
                let mut allowed: Vec<String> = Vec::new();
                for method in route.operations.iter().map(|op| op.method.to_string()) {
                    // Operations told apart by their keys' queries share a method.
                    if !allowed.contains(&method) {
                        allowed.push(method);
                    }
                }
                let mut response = problem(
                    "routing",
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
            }
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
            "routing",
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
        let (code, response) = match preference.response(operation) {
            Ok(chosen) => chosen,
            Err(refusal) => return (*refusal, Vec::new()),
        };
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
        let mut headers = documented_headers(response, &mut rng, now);
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
        let Some(media) = chosen_media.filter(|_| !is_bodiless(status)) else {
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
        // What the store kept is answered where it fits the answer's schema; a record that does
        // not is echoed into a generated answer (what fits of it is kept), which is then stored.
        let (kept, refit) = match kept.map(|kept| kept.fitted(media, &mut rng, now)) {
            Some(Fitted::Body(value)) => (Some(value), None),
            Some(Fitted::Refit { record, id }) => {
                identity = id.or(identity);
                (None, Some(record))
            }
            Some(Fitted::Generated) | None => (None, None),
        };
        let body = match (forced_error, kept) {
            (Some(body), _) => body,
            (None, Some(value)) => encode(media.json, &value),
            (None, None) if refit.is_some() => {
                let body = media_body(
                    media,
                    preference,
                    &mut rng,
                    now,
                    refit.as_ref().map(|record| (record, None)),
                    identity,
                );
                if let Some((role, store)) = resource {
                    keep_refitted(role, store, params, media, &body);
                }
                body
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
