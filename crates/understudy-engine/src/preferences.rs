//! What a client prefers of its answer: Prism-style `__code`, `__example` and `__dynamic` in the
//! query, and the `Prefer` header over them.

use http::HeaderMap;

use crate::validate::{MockRequest, QueryPairs};

pub(crate) struct Preference {
    pub(crate) code: Option<u16>,
    pub(crate) example: Option<String>,
    pub(crate) dynamic: bool,
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
