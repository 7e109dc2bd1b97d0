//! Media types: matching `Content-Type` against documented types and `Accept` against what an
//! operation can produce.

use std::borrow::Cow;

/// The essence of a media type: `application/json; charset=utf-8` → `application/json`, lower-cased
/// (borrowed when it already is).
pub fn essence(media_type: &str) -> Cow<'_, str> {
    let essence = media_type.split(';').next().unwrap_or("").trim();
    if essence.bytes().any(|byte| byte.is_ascii_uppercase()) {
        Cow::Owned(essence.to_ascii_lowercase())
    } else {
        Cow::Borrowed(essence)
    }
}

/// What a response body's schema says it holds, for choosing a concrete media type within a
/// documented range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// An object, an array or another JSON value.
    Structured,
    /// A string.
    Text,
    /// Bytes: a `format: binary` string, or no schema at all.
    Binary,
}

/// The media type an answer is sent as, for a documented one: a range (`*/*`, `image/*`) becomes a
/// concrete type within it that fits the body (JSON for objects and arrays, `text/plain` for
/// strings, `application/octet-stream` for bytes); a concrete type is itself.
pub fn concrete(documented: &str, kind: BodyKind) -> Cow<'_, str> {
    let essence = essence(documented);
    let Some(top) = essence.strip_suffix("/*") else {
        return Cow::Borrowed(documented);
    };
    let concrete = match (top, kind) {
        ("*" | "application", BodyKind::Structured) => "application/json",
        ("*", BodyKind::Text) | ("text", _) => "text/plain",
        ("*" | "application", _) => "application/octet-stream",
        ("image", _) => "image/png",
        ("audio", _) => "audio/mpeg",
        ("video", _) => "video/mp4",
        ("font", _) => "font/woff2",
        ("multipart", _) => "multipart/mixed",
        (top, _) => return Cow::Owned(format!("{top}/octet-stream")),
    };
    Cow::Borrowed(concrete)
}

/// Whether a body of this media type is read as JSON (`application/json`, `*/*+json`).
pub fn is_json(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or("").trim();
    let suffix = essence
        .len()
        .checked_sub(5)
        .and_then(|at| essence.get(at..));
    essence.eq_ignore_ascii_case("application/json")
        || suffix.is_some_and(|suffix| suffix.eq_ignore_ascii_case("+json"))
}

/// Whether `range` (`*/*`, `application/*`, or a full type) covers the concrete `media_type`.
pub fn covers(range: &str, media_type: &str) -> bool {
    // The usual case, a request sending exactly the documented type, needs no splitting.
    if range == media_type {
        return true;
    }
    let (range_type, range_sub) = split(range);
    let (media_type, media_sub) = split(media_type);
    (range_type == "*" || range_type == media_type) && (range_sub == "*" || range_sub == media_sub)
}

/// The first of `offered` that `accept` (an `Accept` header) takes, by quality then offer order.
/// `None` when the header rules every offer out. An absent or empty header takes anything.
pub fn negotiate<'a>(accept: Option<&str>, offered: &'a [String]) -> Option<&'a String> {
    let accept = accept.map(str::trim).filter(|accept| !accept.is_empty());
    // A header that names no media range (`?R['_`) is disregarded, as RFC 9110 allows.
    let Some(accept) = accept.filter(|accept| accept.contains('/')) else {
        return offered.first();
    };
    // The header names the first offer exactly (`application/json`, as most clients send).
    if offered.first().is_some_and(|first| *first == accept) {
        return offered.first();
    }
    // One range, no parameters, lower case (`application/json`, `*/*`): the first offer it
    // covers, which is what the general rule below gives, without its allocations.
    if !accept.contains([',', ';']) && !accept.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return offered
            .iter()
            .find(|media_type| covers(accept, media_type) || covers(media_type, accept));
    }
    let ranges: Vec<(String, f32)> = accept
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let range = pieces.next()?.trim().to_ascii_lowercase();
            if range.is_empty() {
                return None;
            }
            let quality = pieces
                .filter_map(|parameter| parameter.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((range, quality))
        })
        .collect();
    let mut best: Option<(&'a String, f32)> = None;
    for media_type in offered {
        // The most specific matching range decides this offer's quality.
        let quality = ranges
            .iter()
            .filter(|(range, _)| covers(range, media_type) || covers(media_type, range))
            .max_by_key(|(range, _)| specificity(range))
            .map(|(_, quality)| *quality);
        if let Some(quality) = quality.filter(|quality| *quality > 0.0)
            && best.is_none_or(|(_, current)| quality > current)
        {
            best = Some((media_type, quality));
        }
    }
    best.map(|(media_type, _)| media_type)
}

fn specificity(range: &str) -> u8 {
    match split(range) {
        ("*", _) => 0,
        (_, "*") => 1,
        _ => 2,
    }
}

fn split(media_type: &str) -> (&str, &str) {
    let media_type = media_type.split(';').next().unwrap_or("").trim();
    media_type.split_once('/').unwrap_or((media_type, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_essence_is_lower_case_without_parameters() {
        assert_eq!(
            essence("application/json; charset=utf-8"),
            "application/json"
        );
        assert_eq!(essence(" Application/JSON "), "application/json");
        assert!(matches!(essence("application/json"), Cow::Borrowed(_)));
    }

    #[test]
    fn ranges_cover_concrete_types() {
        assert!(covers("*/*", "application/json"));
        assert!(covers("application/*", "application/json"));
        assert!(!covers("text/*", "application/json"));
        assert!(covers("application/json", "application/json"));
    }

    #[test]
    fn negotiation_honours_quality_and_exclusion() {
        let offered = vec!["application/json".to_owned(), "text/plain".to_owned()];
        assert_eq!(negotiate(None, &offered).unwrap(), "application/json");
        assert_eq!(
            negotiate(Some("application/json"), &offered).unwrap(),
            "application/json"
        );
        assert_eq!(
            negotiate(Some("text/plain"), &offered).unwrap(),
            "text/plain"
        );
        assert_eq!(
            negotiate(Some("application/json;q=0.5, text/*"), &offered).unwrap(),
            "text/plain"
        );
        assert!(negotiate(Some("application/xml"), &offered).is_none());
        // No media range at all (what a fuzzer sends): disregarded, not refused.
        assert_eq!(
            negotiate(Some("?R['_"), &offered).unwrap(),
            "application/json"
        );
        assert!(negotiate(Some("*/*;q=0"), &offered).is_none());
        assert_eq!(
            negotiate(Some("*/*"), &offered).unwrap(),
            "application/json"
        );
        assert_eq!(negotiate(Some("text/*"), &offered).unwrap(), "text/plain");
        assert_eq!(
            negotiate(Some("TEXT/PLAIN"), &offered).unwrap(),
            "text/plain"
        );
        assert!(negotiate(Some("image/png"), &offered).is_none());
    }

    #[test]
    fn json_is_recognised_by_essence_and_suffix() {
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(is_json("Application/JSON"));
        assert!(!is_json("json"));
    }

    #[test]
    fn ranges_are_answered_with_a_concrete_type_that_fits_the_body() {
        assert_eq!(concrete("*/*", BodyKind::Structured), "application/json");
        assert_eq!(concrete("*/*", BodyKind::Text), "text/plain");
        assert_eq!(
            concrete("*/*", BodyKind::Binary),
            "application/octet-stream"
        );
        assert_eq!(
            concrete("application/*", BodyKind::Structured),
            "application/json"
        );
        assert_eq!(concrete("Text/*", BodyKind::Structured), "text/plain");
        assert_eq!(concrete("image/*", BodyKind::Binary), "image/png");
        assert_eq!(concrete("model/*", BodyKind::Binary), "model/octet-stream");
        assert_eq!(
            concrete("application/vnd.api+json", BodyKind::Text),
            "application/vnd.api+json"
        );
        for range in ["*/*", "application/*", "text/*", "image/*", "model/*"] {
            for kind in [BodyKind::Structured, BodyKind::Text, BodyKind::Binary] {
                let answer = concrete(range, kind);
                assert!(!answer.contains('*'), "{range} gave {answer}");
                assert!(covers(range, &answer), "{range} does not cover {answer}");
            }
        }
    }
}
