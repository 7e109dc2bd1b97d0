//! Credentials: whether a request sends what an operation's `security` asks for, and whether the
//! mock takes what it sends. By default any credential of the right scheme passes; a bearer token
//! that is a JWT is decoded (never verified) and refused when it has expired or is not valid yet
//! (401), or when it lacks a scope an `oauth2` or `openIdConnect` requirement names (403); and
//! lists of valid credentials ([`ValidCredentials`]) refuse every other credential of their kind.
//!
//! No violation made here holds a credential: messages name the scheme, the header, parameter or
//! cookie, the claims' times and the scopes the spec requires, never a token, key or password.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::jwt::{self, Claims, Moment};
use crate::operation::{Credential, Operation};
use crate::validate::{MockRequest, cookie};
use crate::violation::{Location, Violation, ViolationClass};

/// The credentials the mock takes, per kind; an empty list takes any credential of its kind.
/// `Debug` shows how many there are, never what they are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ValidCredentials {
    /// Tokens taken after `Bearer` (and after any other scheme but `Basic` and `Digest`, such as
    /// `JWT` or `Token`), from `oauth2` and `openIdConnect` schemes too (`--valid-token`).
    pub tokens: Vec<String>,
    /// `user:password` pairs taken in `Authorization: Basic` (`--valid-basic`).
    pub basic: Vec<String>,
    /// Keys taken by every `apiKey` scheme, in a header, the query or a cookie (`--valid-api-key`).
    pub api_keys: Vec<String>,
}

impl fmt::Debug for ValidCredentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ValidCredentials")
            .field("tokens", &self.tokens.len())
            .field("basic", &self.basic.len())
            .field("api_keys", &self.api_keys.len())
            .finish()
    }
}

/// What a request's credentials are checked against: the lists of valid ones, and the clock a
/// JWT's `exp` and `nbf` are compared with (`None`: the real one, read only when a token has
/// such a claim).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gate<'a> {
    /// The credentials taken.
    pub valid: &'a ValidCredentials,
    /// The engine's fixed clock, if it has one.
    pub now: Option<DateTime<Utc>>,
}

/// Checks the request's credentials against the operation's `security` alternatives, pushing what
/// is wrong when no alternative is met: what is missing (every alternative misses something),
/// each credential refused (401, class [`ViolationClass::Security`]), or, when the only fault of
/// some alternative is a token without a scope it requires, only that (403, class
/// [`ViolationClass::Scope`]).
pub(crate) fn check_security(
    operation: &Operation,
    request: &MockRequest<'_>,
    query: &[(Cow<'_, str>, Cow<'_, str>)],
    gate: &Gate<'_>,
    violations: &mut Vec<Violation>,
) {
    if operation.security.is_empty() {
        return;
    }
    let authorization = request
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::trim);
    let judge = Judge {
        request,
        query,
        gate,
        authorization,
        claims: OnceCell::new(),
        now: OnceCell::new(),
    };
    let mut refused: Vec<Violation> = Vec::new();
    let mut lacking: Option<Vec<Violation>> = None;
    let mut all_missing = true;
    for alternative in &operation.security {
        let (mut missing, mut rejected, mut lacks) = (false, false, Vec::new());
        for credential in alternative {
            match judge.verdict(credential) {
                Verdict::Accepted => {}
                Verdict::Missing => missing = true,
                Verdict::Rejected(violation) => {
                    rejected = true;
                    if !refused.contains(&violation) {
                        refused.push(violation);
                    }
                }
                Verdict::Lacks(violation) => lacks.push(violation),
            }
        }
        match (missing, rejected) {
            (false, false) if lacks.is_empty() => return,
            (false, false) => {
                lacking.get_or_insert(lacks);
            }
            (false, true) => all_missing = false,
            (true, _) => {}
        }
    }
    // Some alternative is met but for a scope: the client is known, and not allowed.
    if let Some(lacks) = lacking {
        violations.extend(lacks);
        return;
    }
    if all_missing {
        violations.push(missing(operation, authorization));
    }
    violations.extend(refused);
}

/// The `WWW-Authenticate` value for a 401 or 403 whose violations are `shown`: for a 403 the
/// challenges the violations ask for (`Bearer error="insufficient_scope", scope="…"`); for a 401
/// every `Authorization` scheme the operation takes (`Basic realm="<spec>"`, `Bearer`, …), a
/// refused token's scheme with its `error="invalid_token"` and why.
pub(crate) fn challenge(operation: &Operation, shown: &[Violation]) -> Option<String> {
    let mut challenges: Vec<String> = Vec::new();
    let asked = shown
        .iter()
        .filter_map(|violation| violation.challenge.as_deref());
    if shown
        .iter()
        .all(|violation| violation.class == ViolationClass::Scope)
    {
        for challenge in asked {
            if !challenges.iter().any(|known| known == challenge) {
                challenges.push(challenge.to_owned());
            }
        }
        return (!challenges.is_empty()).then(|| challenges.join(", "));
    }
    for alternative in &operation.security {
        for credential in alternative {
            if let Credential::Http { scheme, .. } = credential {
                let challenge = if scheme.eq_ignore_ascii_case("basic") {
                    format!("{scheme} realm=\"{}\"", operation.spec)
                } else {
                    scheme.clone()
                };
                if !challenges.contains(&challenge) {
                    challenges.push(challenge);
                }
            }
        }
    }
    for challenge in asked {
        let scheme = challenge.split(' ').next().unwrap_or_default();
        if challenges.iter().any(|known| known == challenge) {
            continue;
        }
        match challenges
            .iter_mut()
            .find(|known| known.eq_ignore_ascii_case(scheme))
        {
            Some(plain) => *plain = challenge.to_owned(),
            None => challenges.push(challenge.to_owned()),
        }
    }
    (!challenges.is_empty()).then(|| challenges.join(", "))
}

/// What one credential of a requirement comes to.
enum Verdict {
    /// Sent, and taken.
    Accepted,
    /// Not sent (or sent with another scheme).
    Missing,
    /// Sent and refused: 401.
    Rejected(Violation),
    /// A token without a scope the requirement names: 403.
    Lacks(Violation),
}

/// Judges a request's credentials one by one, decoding its token and reading the clock at most
/// once.
struct Judge<'r, 'q, 'g> {
    request: &'r MockRequest<'r>,
    query: &'q [(Cow<'q, str>, Cow<'q, str>)],
    gate: &'g Gate<'g>,
    authorization: Option<&'r str>,
    claims: OnceCell<Option<Claims>>,
    now: OnceCell<DateTime<Utc>>,
}

impl Judge<'_, '_, '_> {
    fn verdict(&self, credential: &Credential) -> Verdict {
        match credential {
            Credential::Http { scheme, scopes } => {
                let Some(sent) = self
                    .authorization
                    .and_then(|value| after_scheme(value, scheme))
                else {
                    return Verdict::Missing;
                };
                if scheme.eq_ignore_ascii_case("basic") {
                    self.basic(sent)
                } else if scheme.eq_ignore_ascii_case("digest") {
                    Verdict::Accepted
                } else {
                    self.token(scheme, scopes, sent)
                }
            }
            Credential::ApiKey { name, location } => {
                let sent = match location {
                    Location::Header => self
                        .request
                        .headers
                        .get(name.as_str())
                        .filter(|value| !value.is_empty())
                        .map(|value| value.to_str().unwrap_or_default()),
                    Location::Query => self
                        .query
                        .iter()
                        .find(|(key, value)| key == name && !value.is_empty())
                        .map(|(_, value)| value.as_ref()),
                    Location::Cookie => {
                        cookie(self.request.headers, name).filter(|value| !value.is_empty())
                    }
                    Location::Path
                    | Location::Body
                    | Location::ResponseStatus
                    | Location::ResponseHeader
                    | Location::ResponseBody => None,
                };
                let Some(sent) = sent else {
                    return Verdict::Missing;
                };
                let valid = &self.gate.valid.api_keys;
                if valid.is_empty() || valid.iter().any(|key| key == sent) {
                    return Verdict::Accepted;
                }
                Verdict::Rejected(Violation::new(
                    ViolationClass::Security,
                    *location,
                    format!("/{name}"),
                    name.clone(),
                    "security",
                    format!(
                        "the {} `{name}` is not a key the mock takes (--valid-api-key); its \
                         value is not shown",
                        location.as_str()
                    ),
                ))
            }
        }
    }

    fn basic(&self, sent: &str) -> Verdict {
        let valid = &self.gate.valid.basic;
        let taken = valid.is_empty() || {
            let decoded = STANDARD.decode(sent).unwrap_or_default();
            valid.iter().any(|pair| pair.as_bytes() == decoded)
        };
        if taken {
            return Verdict::Accepted;
        }
        Verdict::Rejected(authorization_violation(
            ViolationClass::Security,
            "security",
            "the `Basic` credentials are not ones the mock takes (--valid-basic); they are not \
             shown"
                .to_owned(),
        ))
    }

    fn token(&self, scheme: &str, scopes: &[String], sent: &str) -> Verdict {
        let valid = &self.gate.valid.tokens;
        if !valid.is_empty() && !valid.iter().any(|token| token == sent) {
            return invalid_token(
                scheme,
                "security",
                format!(
                    "the `{scheme}` token is not one the mock takes (--valid-token); it is not \
                     shown"
                ),
            );
        }
        let Some(claims) = self.claims.get_or_init(|| jwt::claims(sent)) else {
            // An opaque token: any one passes, as it always did.
            return Verdict::Accepted;
        };
        for (claim, moment) in [("exp", claims.expires), ("nbf", claims.not_before)] {
            let Some(moment) = moment else {
                continue;
            };
            let now = *self
                .now
                .get_or_init(|| self.gate.now.unwrap_or_else(Utc::now));
            let Moment::Seconds(seconds) = moment else {
                return invalid_token(
                    scheme,
                    claim,
                    format!(
                        "the `{scheme}` token's `{claim}` claim is not a number of seconds since \
                         1970 (a NumericDate)"
                    ),
                );
            };
            let clock = seconds_of(now);
            let message = match claim {
                "exp" if seconds <= clock => format!(
                    "the `{scheme}` token expired at {} (the mock's clock says {})",
                    moment_text(seconds),
                    now.to_rfc3339_opts(SecondsFormat::Secs, true)
                ),
                "nbf" if seconds > clock => format!(
                    "the `{scheme}` token is not valid before {} (the mock's clock says {})",
                    moment_text(seconds),
                    now.to_rfc3339_opts(SecondsFormat::Secs, true)
                ),
                _ => continue,
            };
            return invalid_token(scheme, claim, message);
        }
        let lacking: Vec<&str> = scopes
            .iter()
            .filter(|scope| !claims.grants(scope))
            .map(String::as_str)
            .collect();
        if lacking.is_empty() {
            return Verdict::Accepted;
        }
        let quoted: Vec<String> = lacking.iter().map(|scope| format!("`{scope}`")).collect();
        let mut violation = authorization_violation(
            ViolationClass::Scope,
            "scope",
            format!(
                "the `{scheme}` token lacks the scope{} {} (its `scope` or `scp` claim); this \
                 operation requires {}",
                if lacking.len() == 1 { "" } else { "s" },
                quoted.join(", "),
                scopes.join(" ")
            ),
        );
        violation.limit = Some(Value::from(scopes.to_vec()));
        violation.challenge = Some(
            format!(
                "{scheme} error=\"insufficient_scope\", scope=\"{}\"",
                quoted_string(&scopes.join(" "))
            )
            .into(),
        );
        Verdict::Lacks(violation)
    }
}

/// A refused token: 401 with `error="invalid_token"` and the reason in its challenge.
fn invalid_token(scheme: &str, keyword: &str, message: String) -> Verdict {
    let challenge = format!(
        "{scheme} error=\"invalid_token\", error_description=\"{}\"",
        quoted_string(&message)
    );
    let mut violation = authorization_violation(ViolationClass::Security, keyword, message);
    violation.challenge = Some(challenge.into());
    Verdict::Rejected(violation)
}

fn authorization_violation(class: ViolationClass, keyword: &str, message: String) -> Violation {
    Violation::new(
        class,
        Location::Header,
        "/Authorization",
        "Authorization",
        keyword,
        message,
    )
}

/// What follows `scheme` and a space in `value`, if `value` starts with the scheme (in any case)
/// and has something after it.
fn after_scheme<'v>(value: &'v str, scheme: &str) -> Option<&'v str> {
    let named = value.len() > scheme.len() + 1
        && value.is_char_boundary(scheme.len())
        && value[..scheme.len()].eq_ignore_ascii_case(scheme)
        && value.as_bytes()[scheme.len()] == b' ';
    let sent = value.get(scheme.len() + 1..).filter(|_| named)?.trim();
    (!sent.is_empty()).then_some(sent)
}

/// `text` as the inside of an HTTP quoted string in a challenge (RFC 6750 allows printable ASCII
/// but `"` and `\` there): a double quote becomes a single one, anything else outside that range
/// a space.
fn quoted_string(text: &str) -> String {
    text.chars()
        .map(|character| match character {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => character,
            _ => ' ',
        })
        .collect()
}

fn seconds_of(now: DateTime<Utc>) -> f64 {
    now.timestamp() as f64 + f64::from(now.timestamp_subsec_nanos()) / 1e9
}

/// A NumericDate as RFC 3339 where chrono can hold it, else as the number it is.
fn moment_text(seconds: f64) -> String {
    // `as` saturates; a moment beyond chrono's range is shown as a number.
    DateTime::from_timestamp(seconds.floor() as i64, 0).map_or_else(
        || format!("{seconds:e} seconds after 1970"),
        |moment| moment.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// The violation when every alternative misses a credential: what was sent instead (its scheme
/// only), and what to send.
fn missing(operation: &Operation, authorization: Option<&str>) -> Violation {
    let expected: Vec<String> = operation
        .security
        .iter()
        .map(|alternative| {
            alternative
                .iter()
                .map(|credential| match credential {
                    Credential::Http { scheme, .. } => {
                        format!("Authorization: {scheme} <credentials>")
                    }
                    Credential::ApiKey { name, location } => {
                        format!("{} `{name}`", location.as_str())
                    }
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    let first_field = operation
        .security
        .first()
        .and_then(|alternative| alternative.first())
        .map_or("Authorization".to_owned(), |credential| match credential {
            Credential::Http { .. } => "Authorization".to_owned(),
            Credential::ApiKey { name, .. } => name.clone(),
        });
    let message = match authorization {
        Some(value) if !value.is_empty() => {
            // Only a scheme is quoted: a value without one is a bare credential (a token sent
            // without `Bearer`), which would reach the log and the report.
            let scheme = value
                .split_once(' ')
                .map(|(scheme, _)| scheme)
                .filter(|scheme| {
                    scheme.len() <= 32
                        && scheme
                            .bytes()
                            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
                });
            let named = match scheme {
                Some(scheme) => format!("the `{scheme}` scheme is not accepted here"),
                None => "`Authorization` names no scheme (its value is not shown)".to_owned(),
            };
            format!("{named}; send {}", expected.join(", or "))
        }
        _ => format!("credentials are missing; send {}", expected.join(", or ")),
    };
    let location = match operation.security.first().and_then(|a| a.first()) {
        Some(Credential::ApiKey { location, .. }) => *location,
        _ => Location::Header,
    };
    let mut violation = Violation::new(
        ViolationClass::Security,
        location,
        format!("/{first_field}"),
        first_field,
        "security",
        message,
    );
    violation.limit = Some(Value::Array(
        expected.into_iter().map(Value::String).collect(),
    ));
    violation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheme_is_matched_in_any_case_and_needs_credentials_after_it() {
        assert_eq!(after_scheme("bearer abc", "Bearer"), Some("abc"));
        assert_eq!(after_scheme("Bearer   abc ", "Bearer"), Some("abc"));
        assert_eq!(after_scheme("Bearer ", "Bearer"), None);
        assert_eq!(after_scheme("Bearerabc", "Bearer"), None);
        assert_eq!(after_scheme("Basic abc", "Bearer"), None);
        assert_eq!(after_scheme("é", "Bearer"), None);
    }

    #[test]
    fn challenge_texts_stay_inside_a_quoted_string() {
        assert_eq!(quoted_string("a \"b\" \\ c…\n"), "a 'b' / c  ");
    }

    #[test]
    fn valid_credentials_are_never_shown_by_debug() {
        let valid = ValidCredentials {
            tokens: vec!["s3cr3t-token".into()],
            basic: vec!["me:s3cr3t-pass".into()],
            api_keys: vec!["s3cr3t-key".into()],
        };
        let shown = format!("{valid:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("tokens: 1"), "{shown}");
    }

    #[test]
    fn moments_are_shown_as_timestamps_where_they_can_be() {
        assert_eq!(moment_text(1_735_732_800.7), "2025-01-01T12:00:00Z");
        assert_eq!(moment_text(1e300), "1e300 seconds after 1970");
    }
}
