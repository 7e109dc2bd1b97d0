//! Response assembly: the generated or documented body for the chosen media type, headers,
//! status mapping for violations, and problem details.

use std::borrow::Cow;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::{Value, json};

use crate::generate::{Defaults, GenerateContext, Generator};
use crate::media_type;
use crate::operation::{Operation, Response, ResponseMedia, StatusKey};
use crate::preferences::Preference;
use crate::security::challenge;
use crate::violation::{Location, Violation, ViolationClass};

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

pub(crate) static EMPTY_RESPONSE: Response = Response {
    status: StatusKey::Code(204),
    headers: Vec::new(),
    content: Vec::new(),
    media_types: Vec::new(),
    violations: None,
};

/// The body for a response media type: a named or the documented example when asked for, else a
/// generated value that echoes the request where it can (and does not where that would break the
/// schema).
pub(crate) fn media_body(
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
            .map(|(_, example)| example),
        None if !preference.dynamic => media.documented(),
        None => None,
    };
    if let Some(example) = example {
        return example.body.clone();
    }
    if let Some(stream) = &media.stream {
        return stream.answer(rng, now);
    }
    let value = match &media.generator {
        Some(generator) if media.json => {
            return generated_json(media, generator, rng, now, echo_source, identity);
        }
        Some(generator) => {
            let mut context = echoing(&mut *rng, now, echo_source).with_identity(identity.clone());
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
                generator.generate(&mut GenerateContext::plain(rng, now).with_identity(identity))
            } else {
                generated.body
            }
        }
        None => {
            return media.documented().map_or_else(
                || encode(media.json, &Value::Null),
                |example| example.body.clone(),
            );
        }
    };
    encode(media.json, &value)
}

/// The headers a success documents: each its example, else a value generated from its schema.
pub(crate) fn documented_headers(
    response: &Response,
    rng: &mut Xoshiro256PlusPlus,
    now: DateTime<Utc>,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for documented in &response.headers {
        let value = documented.example.clone().or_else(|| {
            documented
                .generator
                .as_ref()
                .map(|generator| generator.generate(&mut GenerateContext::plain(&mut *rng, now)))
        });
        if let Some(value) = value.and_then(|value| header_value(&value)) {
            headers.insert(documented.name.clone(), value);
        }
    }
    headers
}

/// Whether an answer of `status` has no body, whatever content the spec gives it: 1xx, 204
/// and 304.
pub(crate) fn is_bodiless(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

/// A context that echoes the request body and its defaults, when there is one.
fn echoing<'a>(
    rng: &'a mut Xoshiro256PlusPlus,
    now: DateTime<Utc>,
    echo_source: Option<(&'a Value, Option<&'a Defaults>)>,
) -> GenerateContext<'a> {
    GenerateContext::plain(rng, now).echoing(
        echo_source.map(|(body, _)| body),
        echo_source.and_then(|(_, defaults)| defaults),
    )
}

/// A generated JSON body, written straight into bytes. Echoed values were checked as they went
/// in; the body is read back and validated only when some check behind it was not exact, and
/// drawn again without the echo if it breaks the schema ([`redraw`]).
pub(crate) fn generated_json(
    media: &ResponseMedia,
    generator: &Generator,
    rng: &mut Xoshiro256PlusPlus,
    now: DateTime<Utc>,
    echo_source: Option<(&Value, Option<&Defaults>)>,
    identity: Option<Value>,
) -> Bytes {
    let mut body = Vec::with_capacity(generator.body_capacity());
    let vouched = generator.write_vouched(
        &mut echoing(&mut *rng, now, echo_source).with_identity(identity.clone()),
        &mut body,
    );
    if vouched || fits(media, &body) {
        return Bytes::from(body);
    }
    redraw(media, generator, rng, now, identity, body)
}

/// Bodies drawn from the schema alone before giving up on drawing one the validator accepts.
pub(crate) const DRAWS: usize = 16;

/// A body from the schema alone (the identity kept), drawn until the media type's validator
/// accepts it, at most [`DRAWS`] times and within the work of one more body
/// ([`Generator::VALUE_BUDGET`] values in all, so a schema whose bodies are costly to make is
/// not made sixteen times over): a generator that does not model a keyword (2020-12's
/// `if`/`then`, `dependentRequired`, …) draws and checks. Then one body with only what the schema
/// requires; then the documented example, which is the spec's own word, where it fits the
/// schema; then the last draw. Each draw moves the request's seeded rng on, so the answer
/// stays reproducible.
pub(crate) fn redraw(
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
            &mut GenerateContext::plain(&mut *rng, now).with_identity(identity.clone()),
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
    // Fuller bodies kept failing (an optional property no value fits, such as a pattern nothing
    // matches): one with only what the schema requires.
    body.clear();
    let (vouched, _) = generator.write_counted(
        &mut GenerateContext::plain(&mut *rng, now)
            .with_identity(identity)
            .minimal(),
        &mut body,
    );
    if vouched || fits(media, &body) {
        return Bytes::from(body);
    }
    match media.documented().filter(|example| example.fits) {
        Some(example) => example.json.clone(),
        None => Bytes::from(body),
    }
}

/// Whether a JSON body passes the media type's validator (true when it has none: the generator's
/// own checks are then all there is).
pub(crate) fn fits(media: &ResponseMedia, body: &[u8]) -> bool {
    media.validator.as_ref().is_none_or(|validator| {
        serde_json::from_slice::<Value>(body).is_ok_and(|value| validator.is_valid(&value))
    })
}

pub(crate) fn encode(json: bool, value: &Value) -> Bytes {
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
pub(crate) fn violation_response(
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
pub(crate) fn freshened(
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
pub(crate) fn documented_example(media: &ResponseMedia) -> Option<Bytes> {
    media
        .documented()
        .filter(|example| example.fits)
        .map(|example| example.json.clone())
}

/// What error bodies in a documented shape are generated with.
#[derive(Debug)]
pub(crate) struct ErrorMaking {
    pub(crate) rng: Xoshiro256PlusPlus,
    pub(crate) now: DateTime<Utc>,
}

/// An error body in the shape `media` documents: its schema generated with `facts` (made by its
/// [`ErrorShape`]) echoed into it, or, if that would break the schema somewhere, the schema alone.
///
/// [`ErrorShape`]: crate::error_shape::ErrorShape
pub(crate) fn documented_error(
    media: &ResponseMedia,
    facts: &Value,
    rng: &mut Xoshiro256PlusPlus,
    now: DateTime<Utc>,
) -> Option<Bytes> {
    let generator = media.generator.as_ref()?;
    let generated = generator
        .generate_vouched(&mut GenerateContext::plain(&mut *rng, now).echoing(Some(facts), None));
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

pub(crate) fn conflict_violation(operation: &Operation, rule: usize, value: String) -> Violation {
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

pub(crate) fn negotiate_media<'r>(
    response: &'r Response,
    headers: &HeaderMap,
) -> Option<&'r ResponseMedia> {
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

pub(crate) fn header_value(value: &Value) -> Option<HeaderValue> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Null => return None,
        other => other.to_string(),
    };
    HeaderValue::from_str(&text).ok()
}

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details answer, the one shape of every error understudy says in its own
/// words: `type` is `urn:understudy:problem:{kind}`, and `extra`'s members follow `title`,
/// `status` and `detail`.
pub fn problem(
    kind: &str,
    status: StatusCode,
    title: &str,
    detail: String,
    extra: Value,
) -> MockResponse {
    let body = problem_body(kind, status.as_u16(), title, detail, extra);
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    MockResponse {
        status,
        headers,
        body: Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
    }
}

/// The body of [`problem`].
fn problem_body(kind: &str, status: u16, title: &str, detail: String, extra: Value) -> Value {
    let mut body = json!({
        "type": format!("urn:understudy:problem:{kind}"),
        "title": title,
        "status": status,
        "detail": detail,
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    body
}

/// RFC 9457 problem details carrying the violation list.
fn problem_details(status: u16, title: &str, violations: &[Violation]) -> Value {
    let detail = match violations.len() {
        1 => violations[0].to_string(),
        count => format!(
            "{count} violations: {}",
            crate::violation::summary(violations)
        ),
    };
    problem_body(
        "request-violation",
        status,
        title,
        detail,
        json!({ "violations": violations }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_details_name_their_kind_and_carry_the_extra_members() {
        let answer = problem(
            "proxy",
            StatusCode::BAD_GATEWAY,
            "Upstream unreachable",
            "it did not answer".into(),
            json!({"upstream": "http://127.0.0.1:9"}),
        );
        assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
        assert_eq!(answer.headers[header::CONTENT_TYPE], PROBLEM_JSON);
        let body: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(
            body,
            json!({
                "type": "urn:understudy:problem:proxy",
                "title": "Upstream unreachable",
                "status": 502,
                "detail": "it did not answer",
                "upstream": "http://127.0.0.1:9",
            })
        );
        let violation = Violation::new(
            ViolationClass::Schema,
            Location::Body,
            "/name",
            "name",
            "type",
            "`name` must be a string",
        );
        let body = problem_details(422, "Invalid", std::slice::from_ref(&violation));
        assert_eq!(body["type"], "urn:understudy:problem:request-violation");
        assert_eq!(body["status"], 422);
        assert_eq!(body["detail"], violation.to_string());
        assert_eq!(body["violations"][0]["field"], "name");
    }
}
