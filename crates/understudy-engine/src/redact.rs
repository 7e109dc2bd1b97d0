//! Credentials kept out of logs: the query names whose values are hidden, and the redaction
//! of queries, violations and logged exchanges.

use crate::operation::{Credential, Spec};
use crate::violation::{Location, Violation, Violations};

/// Query parameter names hidden from the request log and the report whatever the specs say, as
/// a request may send a credential to a path no spec serves (compared case-insensitively, after
/// percent-decoding).
pub(crate) const CREDENTIAL_NAMES: [&str; 7] = [
    "api_key",
    "apikey",
    "key",
    "token",
    "access_token",
    "sig",
    "signature",
];

/// The names whose values [`redact_query`] hides, lower-cased: every `apiKey` in the query that
/// any spec declares, and [`CREDENTIAL_NAMES`]. Made once, at load.
pub(crate) fn secret_query_names(specs: &[Spec]) -> Vec<String> {
    let names = CREDENTIAL_NAMES.iter().map(|&name| name.to_owned());
    distinct(names.chain(declared_api_keys(specs, Location::Query)))
}

/// The header names whose values the request log masks besides the usual ones
/// ([`LoggedHeaders::from_map`](crate::request_log::LoggedHeaders::from_map)), lower-cased: every `apiKey` in a header that any spec declares.
pub(crate) fn secret_header_names(specs: &[Spec]) -> Vec<String> {
    distinct(declared_api_keys(specs, Location::Header))
}

/// The names of the `apiKey`s the specs' operations take in `location`, lower-cased.
pub(crate) fn declared_api_keys(
    specs: &[Spec],
    location: Location,
) -> impl Iterator<Item = String> + '_ {
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
pub(crate) fn distinct(names: impl Iterator<Item = String>) -> Vec<String> {
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
pub(crate) fn redact_query(query: &str, secret: &[String]) -> String {
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
/// [`Exchange::redact`](crate::request_log::Exchange::redact).
pub(crate) fn secret_query_values(query: &str, secret: &[String]) -> Vec<String> {
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
pub(crate) fn hide_credential_values(violations: &Violations, secret: &[String]) -> Violations {
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
pub(crate) fn is_secret(raw: &str, secret: &[String]) -> bool {
    if raw.contains(['%', '+']) {
        let decoded = form_urlencoded::parse(raw.as_bytes()).next();
        return decoded.is_some_and(|(name, _)| is_secret_name(&name, secret));
    }
    is_secret_name(raw, secret)
}

/// Whether a decoded name is one of `secret` (lower-case), in any case.
pub(crate) fn is_secret_name(name: &str, secret: &[String]) -> bool {
    if name.is_ascii() {
        secret
            .iter()
            .any(|secret| secret.eq_ignore_ascii_case(name))
    } else {
        let lower = name.to_lowercase();
        secret.contains(&lower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
