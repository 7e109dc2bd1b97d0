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
    let Some(accept) = accept else {
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
}
