//! What a client prefers of its answer: Prism-style `__code`, `__example` and `__dynamic` in the
//! query, the `Prefer` header over them, and the documented response they choose.

use http::{HeaderMap, StatusCode};
use serde_json::json;

use crate::operation::{Operation, Response, StatusKey};
use crate::respond::{EMPTY_RESPONSE, MockResponse, problem};
use crate::validate::{MockRequest, QueryPairs};

/// What the client prefers of its answer.
pub(crate) struct Preference {
    /// The status asked for.
    pub(crate) code: Option<u16>,
    /// The named example asked for.
    pub(crate) example: Option<String>,
    /// False: a documented example rather than a generated body.
    pub(crate) dynamic: bool,
}

impl Preference {
    /// The response it chooses of `operation`'s, with its status: the one asked for (`default`
    /// standing for every undocumented error status), else the operation's success. A code or
    /// an example the operation does not document is refused with 400 problem details naming
    /// what is.
    pub(crate) fn response<'o>(
        &self,
        operation: &'o Operation,
    ) -> Result<(u16, &'o Response), Box<MockResponse>> {
        let (code, response) = match self.code {
            Some(code) if code < 200 => {
                return Err(Box::new(problem(
                    "routing",
                    StatusCode::BAD_REQUEST,
                    "Unknown preference",
                    format!("{code} is informational: it cannot be an answer's final status"),
                    json!({}),
                )));
            }
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
                    return Err(Box::new(problem(
                        "routing",
                        StatusCode::BAD_REQUEST,
                        "Unknown preference",
                        format!(
                            "{} documents no {code} response; documented: {}",
                            operation.label,
                            documented.join(", ")
                        ),
                        json!({"available": documented}),
                    )));
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
        if let Some(name) = &self.example {
            let names: Vec<&str> = response
                .content
                .iter()
                .flat_map(|media| media.examples.iter().map(|(name, _)| name.as_str()))
                .collect();
            if !names.contains(&name.as_str()) {
                return Err(Box::new(problem(
                    "routing",
                    StatusCode::BAD_REQUEST,
                    "Unknown preference",
                    format!(
                        "the {code} response of {} has no example `{name}`",
                        operation.label
                    ),
                    json!({"available": names}),
                )));
            }
        }
        Ok((code, response))
    }
}

/// Splits the query into its pairs and the Prism-style `__code`, `__example`, `__dynamic` controls.
pub(crate) fn split_query<'r>(request: &MockRequest<'r>) -> (QueryPairs<'r>, Preference) {
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
pub(crate) fn preference_from(headers: &HeaderMap, mut preference: Preference) -> Preference {
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
