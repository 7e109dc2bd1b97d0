//! An answer held to the documented response, for the validation proxy (`understudy proxy`):
//! is its status documented (or covered by `default`), its `Content-Type` one of the response's
//! media types, its body valid against that media type's schema, and every required header
//! there? The validators are compiled once, when the engine is built with
//! [`EngineOptions::check_responses`](crate::EngineOptions::check_responses); checking an answer
//! compiles nothing.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, header};
use serde_json::Value;

use crate::compile::status_key;
use crate::json_schema::{self, Direction, deref, escape};
use crate::load_error::{ErrorKind, LoadError};
use crate::media_type;
use crate::operation::{Operation, Spec, StatusKey};
use crate::validate::schema_violations;
use crate::violation::{Location, Violation, ViolationClass};

/// Every operation's documented responses, compiled for holding answers to them.
#[derive(Debug, Default)]
pub(crate) struct ResponseChecks {
    /// By spec name, then by the operation's pointer.
    by_spec: HashMap<Arc<str>, HashMap<String, Vec<DocumentedResponse>>>,
}

/// One documented response of an operation.
#[derive(Debug)]
struct DocumentedResponse {
    /// The status it documents.
    status: StatusKey,
    /// Where it is in its document (`/paths/~1users/post/responses/201`).
    pointer: Box<str>,
    /// Its media types (ranges included), lower-cased, each with its schema's validator for a
    /// JSON one.
    media: Vec<DocumentedMedia>,
    /// The headers it marks `required: true`.
    required_headers: Vec<HeaderName>,
}

/// One documented media type of a response.
#[derive(Debug)]
struct DocumentedMedia {
    /// The media type's essence (`application/json`, `application/*`).
    essence: String,
    /// The schema's validator, for a JSON media type with a schema.
    validator: Option<Arc<crate::shared_schema::SchemaValidator>>,
}

impl ResponseChecks {
    /// Compiles every documented response of every operation of `specs` (each schema text once
    /// per document), or says where a schema cannot be compiled.
    pub(crate) fn compile(specs: &[Spec]) -> Result<ResponseChecks, Vec<LoadError>> {
        let mut checks = ResponseChecks::default();
        let mut errors = Vec::new();
        for spec in specs {
            let mut shared: HashMap<String, Arc<crate::shared_schema::SchemaValidator>> =
                HashMap::new();
            let operations = checks.by_spec.entry(spec.name.as_str().into()).or_default();
            for operation in &spec.operations {
                let documented =
                    documented_responses(operation, &spec.file, &mut shared, &mut errors);
                operations.insert(operation.pointer.clone(), documented);
            }
        }
        if errors.is_empty() {
            Ok(checks)
        } else {
            Err(errors)
        }
    }

    /// What `status`, `headers` and `body` (an upstream's answer to a request for `operation`)
    /// break of the documented response, at most [`MAX_VIOLATIONS`](crate::validate::MAX_VIOLATIONS)
    /// of the body's. `bodiless` says the answer cannot have a body (to a `HEAD`), whatever its
    /// status. Each violation names the documented response in [`Violation::response`].
    pub(crate) fn check(
        &self,
        operation: &Operation,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        bodiless: bool,
    ) -> Vec<Violation> {
        let Some(documented) = self
            .by_spec
            .get(&*operation.spec)
            .and_then(|operations| operations.get(&operation.pointer))
        else {
            return Vec::new();
        };
        let chosen = operation
            .response_for(status)
            .or_else(|| operation.default_response())
            .and_then(|response| {
                documented
                    .iter()
                    .find(|documented| documented.status == response.status)
            });
        let Some(response) = chosen else {
            let listed: Vec<String> = documented
                .iter()
                .map(|documented| status_name(documented.status))
                .collect();
            let mut violation = Violation::new(
                ViolationClass::Schema,
                Location::ResponseStatus,
                "",
                "status",
                "status",
                format!(
                    "{status} is not a documented status of {}; documented: {}",
                    operation.label,
                    if listed.is_empty() {
                        "none".to_owned()
                    } else {
                        listed.join(", ")
                    }
                ),
            );
            violation.set_value(&Value::from(status));
            violation.limit = Some(Value::from(listed));
            return vec![with_response(
                violation,
                &format!("{}/responses", operation.pointer),
            )];
        };
        let mut violations = Vec::new();
        for name in &response.required_headers {
            if !headers.contains_key(name) {
                violations.push(Violation::new(
                    ViolationClass::Schema,
                    Location::ResponseHeader,
                    format!("/{name}"),
                    name.as_str(),
                    "required",
                    format!("the required header `{name}` is missing"),
                ));
            }
        }
        let no_body = bodiless || status < 200 || status == 204 || status == 304;
        if !no_body {
            body_violations(response, headers, body, &mut violations);
        }
        violations
            .into_iter()
            .map(|violation| with_response(violation, &response.pointer))
            .collect()
    }
}

/// What the body and its `Content-Type` break of `response`.
fn body_violations(
    response: &DocumentedResponse,
    headers: &HeaderMap,
    body: &[u8],
    out: &mut Vec<Violation>,
) {
    if response.media.is_empty() {
        if !body.is_empty() {
            out.push(Violation::new(
                ViolationClass::Schema,
                Location::ResponseBody,
                "",
                "",
                "content",
                format!(
                    "the response documents no body, but {} bytes came",
                    body.len()
                ),
            ));
        }
        return;
    }
    let documented: Vec<&str> = response
        .media
        .iter()
        .map(|media| media.essence.as_str())
        .collect();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let Some(content_type) = content_type else {
        out.push(Violation::new(
            ViolationClass::Schema,
            Location::ResponseHeader,
            "/content-type",
            "content-type",
            "contentType",
            format!(
                "no Content-Type came; the response documents {}",
                documented.join(", ")
            ),
        ));
        return;
    };
    let essence = media_type::essence(&content_type);
    let Some(media) = response
        .media
        .iter()
        .find(|media| media_type::covers(&media.essence, &essence))
    else {
        let mut violation = Violation::new(
            ViolationClass::Schema,
            Location::ResponseHeader,
            "/content-type",
            "content-type",
            "contentType",
            format!(
                "`{essence}` is not a documented content type of the response: {}",
                documented.join(", ")
            ),
        );
        violation.set_value(&Value::String(content_type.clone()));
        violation.limit = Some(Value::from(documented));
        out.push(violation);
        return;
    };
    let Some(validator) = media
        .validator
        .as_ref()
        .filter(|_| media_type::is_json(&essence))
    else {
        return;
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => out.extend(schema_violations(
            validator,
            &value,
            Location::ResponseBody,
            "",
        )),
        Err(error) => out.push(Violation::new(
            ViolationClass::Schema,
            Location::ResponseBody,
            "",
            "",
            "json",
            if body.is_empty() {
                format!("the response documents a {essence} body, but none came")
            } else {
                format!("the body is not JSON: {error}")
            },
        )),
    }
}

/// `violation` naming the documented response at `pointer`.
fn with_response(mut violation: Violation, pointer: &str) -> Violation {
    violation.response = Some(
        crate::violation::cut_text(pointer.to_owned(), crate::violation::MAX_TEXT_BYTES).into(),
    );
    violation
}

/// `201`, `2XX` or `default`, as a spec writes it.
fn status_name(status: StatusKey) -> String {
    match status {
        StatusKey::Code(code) => code.to_string(),
        StatusKey::Range(class) => format!("{class}XX"),
        StatusKey::Default => "default".to_owned(),
    }
}

/// The documented responses of `operation`, read from its document, their JSON schemas compiled
/// (or taken from `shared`, by schema text).
fn documented_responses(
    operation: &Operation,
    file: &Path,
    shared: &mut HashMap<String, Arc<crate::shared_schema::SchemaValidator>>,
    errors: &mut Vec<LoadError>,
) -> Vec<DocumentedResponse> {
    let document = &*operation.document;
    let at = format!("{}/responses", operation.pointer);
    let Some(responses) = document.pointer(&at).and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut documented = Vec::with_capacity(responses.len());
    for (key, response) in responses {
        let Some(status) = status_key(key) else {
            continue;
        };
        let pointer = format!("{at}/{}", escape(key));
        let response = deref(document, response);
        let mut required_headers = Vec::new();
        if let Some(declared) = response.get("headers").and_then(Value::as_object) {
            for (name, declared) in declared {
                let required =
                    deref(document, declared).get("required") == Some(&Value::Bool(true));
                // `Content-Type` is checked against the media types; an invalid name was
                // refused when the spec was compiled.
                match HeaderName::from_bytes(name.as_bytes()) {
                    Ok(name) if required && name != header::CONTENT_TYPE => {
                        required_headers.push(name);
                    }
                    _ => {}
                }
            }
        }
        let mut media = Vec::new();
        if let Some(content) = response.get("content").and_then(Value::as_object) {
            for (media_type, entry) in content {
                let essence = media_type::essence(media_type).into_owned();
                let schema = entry.get("schema");
                let validator = match schema {
                    // A range (`*/*`) may be answered with JSON, which is then held to it.
                    Some(schema) if media_type::is_json(&essence) || essence.ends_with("/*") => {
                        let schema_at = format!("{pointer}/content/{}/schema", escape(media_type));
                        validator(document, schema, &schema_at, shared)
                            .map_err(|reason| {
                                errors.push(LoadError::at(
                                    file,
                                    schema_at,
                                    ErrorKind::Schema,
                                    reason,
                                ));
                            })
                            .ok()
                    }
                    _ => None,
                };
                media.push(DocumentedMedia { essence, validator });
            }
        }
        documented.push(DocumentedResponse {
            status,
            pointer: pointer.into(),
            media,
            required_headers,
        });
    }
    documented
}

/// The response validator of `schema`, compiled once per schema text of a document.
fn validator(
    document: &Value,
    schema: &Value,
    pointer: &str,
    shared: &mut HashMap<String, Arc<crate::shared_schema::SchemaValidator>>,
) -> Result<Arc<crate::shared_schema::SchemaValidator>, String> {
    let key = schema.to_string();
    if let Some(validator) = shared.get(&key) {
        return Ok(Arc::clone(validator));
    }
    let translated = json_schema::translate(document, schema, pointer, Direction::Response)
        .map_err(|error| format!("{}: {}", error.pointer, error.reason))?;
    let validator = Arc::new(crate::shared_schema::SchemaValidator::standalone(
        json_schema::compile(&translated)
            .map_err(|reason| format!("the schema does not compile: {reason}"))?,
    ));
    shared.insert(key, Arc::clone(&validator));
    Ok(validator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use serde_json::json;

    fn spec() -> Spec {
        let pet = json!({
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "integer"}, "secret": {"type": "string", "writeOnly": true}}
        });
        let document = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/pets": {
                    "get": {
                        "responses": {
                            "2XX": {"description": "ok", "content": {"application/*": {"schema": pet}}},
                            "204": {"description": "none", "content": {"application/json": {"schema": pet}}},
                            "default": {"description": "error"}
                        }
                    }
                }
            }
        });
        crate::compile::compile_spec(Path::new("t.yaml"), document).unwrap()
    }

    fn json_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.pet+json; charset=utf-8"),
        );
        headers
    }

    #[test]
    fn a_range_covers_its_statuses_and_media_types_and_its_schema_holds() {
        let spec = spec();
        let checks = ResponseChecks::compile(std::slice::from_ref(&spec)).unwrap();
        let operation = &spec.operations[0];
        let headers = json_headers();
        assert!(
            checks
                .check(operation, 201, &headers, br#"{"id":1}"#, false)
                .is_empty()
        );
        let broken = checks.check(operation, 200, &headers, br#"{"id":"one"}"#, false);
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert_eq!(broken[0].location, Location::ResponseBody);
        assert_eq!(broken[0].pointer, "/id");
        assert_eq!(
            broken[0].response.as_deref(),
            Some("/paths/~1pets/get/responses/2XX")
        );
        // A property the schema does not list is allowed, as the schema says.
        assert!(
            checks
                .check(operation, 200, &headers, br#"{"id":1,"secret":"x"}"#, false)
                .is_empty()
        );
    }

    #[test]
    fn default_covers_any_status_and_a_bodiless_answer_is_not_read() {
        let spec = spec();
        let checks = ResponseChecks::compile(std::slice::from_ref(&spec)).unwrap();
        let operation = &spec.operations[0];
        // `default` documents no body: one came.
        let error = checks.check(operation, 503, &HeaderMap::new(), b"down", false);
        assert_eq!(error.len(), 1, "{error:?}");
        assert_eq!(error[0].keyword, "content");
        assert!(
            checks
                .check(operation, 503, &HeaderMap::new(), b"", false)
                .is_empty()
        );
        // A 204 and an answer to HEAD carry no body, whatever the response documents.
        assert!(
            checks
                .check(operation, 204, &HeaderMap::new(), b"", false)
                .is_empty()
        );
        assert!(
            checks
                .check(operation, 200, &json_headers(), b"", true)
                .is_empty()
        );
        // Without a body where one is documented, the check says so.
        let empty = checks.check(operation, 200, &json_headers(), b"", false);
        assert_eq!(empty[0].keyword, "json", "{empty:?}");
    }
}
