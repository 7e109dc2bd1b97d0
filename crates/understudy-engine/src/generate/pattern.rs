//! Regular-expression and format support for the generator: strings sampled from a `pattern` with
//! `rand_regex`, and the server's own checks for `pattern` and `format`, each compiled once per
//! distinct source text and shared by every generator in the process.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use regex_syntax::hir::{
    Capture, Class, ClassBytes, ClassBytesRange, ClassUnicode, ClassUnicodeRange, Hir, HirKind,
    Repetition,
};
use serde_json::{Value, json};

/// A `pattern` keyword: how to sample strings from it and how the server checks it.
pub(crate) struct Pattern {
    source: String,
    checker: jsonschema::Validator,
    /// Samplers with a long and a short repetition allowance, absent when the pattern uses
    /// syntax `rand_regex` cannot sample (look-around, back-references).
    samplers: Option<[rand_regex::Regex; 2]>,
    /// Whether every sample matches the pattern: nothing was left out to sample it (look-around,
    /// back-references) and its only assertions are anchors at its ends. A `$` or `\b` inside
    /// (AWS's `…\|=\{3,\}$\{1,4096\}`) is dropped for sampling, so samples are then candidates.
    exact: bool,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pattern")
            .field("source", &self.source)
            .field("samplable", &self.samplers.is_some())
            .finish()
    }
}

impl Pattern {
    /// The pattern as written.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Whether the server's validator finds the pattern in `text`.
    pub(crate) fn matches(&self, text: &str) -> bool {
        self.checker.is_valid(&Value::String(text.to_owned()))
    }

    /// A string sampled from the pattern (not yet checked against anything else); `short` asks
    /// for the fewest repetitions.
    pub(crate) fn sample(&self, rng: &mut Xoshiro256PlusPlus, short: bool) -> Option<String> {
        let samplers = self.samplers.as_ref()?;
        let sampler = if short { &samplers[1] } else { &samplers[0] };
        Some(rng.sample::<String, _>(sampler))
    }

    /// Whether strings can be sampled from the pattern at all.
    pub(crate) fn samplable(&self) -> bool {
        self.samplers.is_some()
    }

    /// Whether every string sampled from the pattern matches it, so that a value made from it
    /// needs no check.
    pub(crate) fn exact(&self) -> bool {
        self.exact
    }
}

/// A `format` keyword the server checks (formats it does not know pass everything).
pub(crate) struct FormatCheck {
    name: String,
    checker: jsonschema::Validator,
    /// The server's own function for this format, called without building a `Value`.
    own: Option<crate::json_schema::FormatFn>,
}

impl fmt::Debug for FormatCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormatCheck")
            .field("name", &self.name)
            .finish()
    }
}

impl FormatCheck {
    /// The format's name (`uri`, `email`).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Whether the server accepts `text` in this format.
    pub(crate) fn accepts(&self, text: &str) -> bool {
        match self.own {
            Some(check) => check(text),
            None => self.checker.is_valid(&Value::String(text.to_owned())),
        }
    }
}

/// The compiled pattern for `source`, or `None` when the server cannot compile it either (then it
/// constrains nothing, since the response has no validator).
pub(crate) fn pattern(source: &str) -> Option<Arc<Pattern>> {
    static CACHE: LazyLock<Mutex<HashMap<String, Option<Arc<Pattern>>>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    if let Some(found) = lock(&CACHE).get(source) {
        return found.clone();
    }
    let compiled = compile_pattern(source).map(Arc::new);
    lock(&CACHE).insert(source.to_owned(), compiled.clone());
    compiled
}

/// The server's check for a format name, or `None` for formats it ignores.
pub(crate) fn format_check(name: &str) -> Option<Arc<FormatCheck>> {
    const CHECKED: &[&str] = &[
        "date",
        "date-time",
        "time",
        "duration",
        "email",
        "idn-email",
        "hostname",
        "idn-hostname",
        "ipv4",
        "ipv6",
        "uri",
        "uri-reference",
        "iri",
        "iri-reference",
        "uri-template",
        "uuid",
        "json-pointer",
        "relative-json-pointer",
        "regex",
    ];
    static CACHE: LazyLock<Mutex<HashMap<String, Option<Arc<FormatCheck>>>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    if !CHECKED.contains(&name) {
        return None;
    }
    if let Some(found) = lock(&CACHE).get(name) {
        return found.clone();
    }
    let compiled = crate::json_schema::compile(&json!({ "format": name }))
        .ok()
        .map(|checker| {
            Arc::new(FormatCheck {
                name: name.to_owned(),
                checker,
                own: crate::json_schema::OWN_FORMATS
                    .iter()
                    .find(|(own, _)| *own == name)
                    .map(|(_, check)| *check),
            })
        });
    lock(&CACHE).insert(name.to_owned(), compiled.clone());
    compiled
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn compile_pattern(source: &str) -> Option<Pattern> {
    let checker = crate::json_schema::compile(&json!({ "pattern": source })).ok()?;
    let sampled = sampling_source(source);
    let parsed = regex_syntax::ParserBuilder::new()
        .build()
        .parse(&sampled)
        .ok();
    let exact = sampled == source && parsed.as_ref().is_some_and(asserts_only_at_ends);
    let samplers = parsed.map(|hir| tame(&hir)).and_then(|hir| {
        let long = rand_regex::Regex::with_hir(hir.clone(), 8).ok()?;
        let short = rand_regex::Regex::with_hir(hir, 1).ok()?;
        Some([long, short])
    });
    Some(Pattern {
        source: source.to_owned(),
        checker,
        samplers,
        exact,
    })
}

/// Whether the only assertions of a parsed pattern are anchors where sampling may drop them: at
/// the start or the end of the whole pattern, or of one of its top-level alternatives.
fn asserts_only_at_ends(hir: &Hir) -> bool {
    let ends_only = |hir: &Hir| match hir.kind() {
        HirKind::Concat(subs) => subs.iter().enumerate().all(|(index, sub)| {
            let at_end = index == 0 || index + 1 == subs.len();
            match sub.kind() {
                HirKind::Look(look) => at_end && is_anchor(*look),
                _ => !has_look(sub),
            }
        }),
        HirKind::Look(look) => is_anchor(*look),
        _ => !has_look(hir),
    };
    match hir.kind() {
        HirKind::Alternation(subs) => subs.iter().all(ends_only),
        _ => ends_only(hir),
    }
}

/// Whether an assertion is a start or end anchor (`^`, `$`, `\A`, `\z`), not a word boundary.
fn is_anchor(look: regex_syntax::hir::Look) -> bool {
    use regex_syntax::hir::Look;
    matches!(
        look,
        Look::Start | Look::End | Look::StartLF | Look::EndLF | Look::StartCRLF | Look::EndCRLF
    )
}

/// Whether a parsed pattern holds an assertion anywhere.
fn has_look(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(_) => true,
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) => false,
        HirKind::Repetition(repetition) => has_look(&repetition.sub),
        HirKind::Capture(capture) => has_look(&capture.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(has_look),
    }
}

/// The text strings are sampled from for an ECMA-262 pattern with syntax the sampler cannot read:
/// look-around groups are left out and a back-reference `\N` becomes a copy of group N. Samples
/// are then candidates only, each checked against the pattern itself (the generator draws a few).
fn sampling_source(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    // Each group's span (from its `(` to its `)`), and which groups capture, in order.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut captures: Vec<usize> = Vec::new();
    let mut index = 0;
    let mut in_class = false;
    while index < chars.len() {
        match chars[index] {
            '\\' => index += 1,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => {
                open.push(groups.len());
                let named = chars.get(index + 1) == Some(&'?')
                    && chars.get(index + 2) == Some(&'<')
                    && !matches!(chars.get(index + 3), Some('=' | '!'));
                if chars.get(index + 1) != Some(&'?') || named {
                    captures.push(groups.len());
                }
                groups.push((index, chars.len()));
            }
            ')' if !in_class => {
                if let Some(group) = open.pop() {
                    groups[group].1 = index;
                }
            }
            _ => {}
        }
        index += 1;
    }
    let look_around = |start: usize| {
        let ahead: String = chars[start..chars.len().min(start + 4)].iter().collect();
        ["(?=", "(?!", "(?<=", "(?<!"]
            .iter()
            .any(|opening| ahead.starts_with(opening))
    };
    let mut out = String::with_capacity(source.len());
    let mut index = 0;
    while index < chars.len() {
        if let Some(&(_, end)) = groups
            .iter()
            .find(|(start, _)| *start == index && look_around(index))
        {
            index = end + 1;
            continue;
        }
        if chars[index] == '\\'
            && let Some(digit) = chars.get(index + 1).and_then(|c| c.to_digit(10))
            && digit > 0
            && let Some(&(start, end)) = usize::try_from(digit - 1)
                .ok()
                .and_then(|n| captures.get(n))
                .and_then(|group| groups.get(*group))
        {
            let inner: String = chars[start + 1..end.min(chars.len())].iter().collect();
            let inner = inner
                .strip_prefix("?<")
                .and_then(|named| named.split_once('>'))
                .map_or(inner.clone(), |(_, rest)| rest.to_owned());
            out.push_str("(?:");
            out.push_str(&inner);
            out.push(')');
            index += 2;
            continue;
        }
        out.push(chars[index]);
        if chars[index] == '\\'
            && let Some(next) = chars.get(index + 1)
        {
            out.push(*next);
            index += 1;
        }
        index += 1;
    }
    out
}

/// Rewrites a parsed pattern so that sampling gives readable strings that still match: anchors
/// and word boundaries are dropped (a sampled string is the whole match anyway), and every
/// character class is narrowed to printable ASCII where it has any.
fn tame(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Hir::empty(),
        HirKind::Literal(literal) => Hir::literal(literal.0.clone()),
        HirKind::Class(Class::Unicode(class)) => {
            let mut narrowed = class.clone();
            narrowed.intersect(&ClassUnicode::new([ClassUnicodeRange::new(' ', '~')]));
            if narrowed.ranges().is_empty() {
                Hir::class(Class::Unicode(class.clone()))
            } else {
                Hir::class(Class::Unicode(narrowed))
            }
        }
        HirKind::Class(Class::Bytes(class)) => {
            let mut narrowed = class.clone();
            narrowed.intersect(&ClassBytes::new([ClassBytesRange::new(b' ', b'~')]));
            if narrowed.ranges().is_empty() {
                Hir::class(Class::Bytes(class.clone()))
            } else {
                Hir::class(Class::Bytes(narrowed))
            }
        }
        HirKind::Repetition(repetition) => Hir::repetition(Repetition {
            min: repetition.min,
            max: repetition.max,
            greedy: repetition.greedy,
            sub: Box::new(tame(&repetition.sub)),
        }),
        HirKind::Capture(capture) => Hir::capture(Capture {
            index: capture.index,
            name: capture.name.clone(),
            sub: Box::new(tame(&capture.sub)),
        }),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(tame).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(tame).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_pattern_is_exact_when_its_only_assertions_are_anchors_at_its_ends() {
        for exact in [
            "^us_usr_[A-Za-z0-9]{8,}$",
            r"^\d{3}-\w+$",
            "[a-z]+",
            "^(ab|cd)+$",
        ] {
            assert!(pattern(exact).unwrap().exact(), "{exact}");
        }
        for candidate in [
            r"[^-A-Za-z0-9\+/=]\|=[^=]\|=\{3,\}$\{1,4096\}",
            r"\bword\b",
            "^(?=.*[0-9])[a-z0-9]+$",
            r"^(ab)\1$",
            "a^b",
            "(^a)+",
        ] {
            assert!(!pattern(candidate).unwrap().exact(), "{candidate}");
        }
    }

    #[test]
    fn anchored_patterns_sample_matching_readable_strings() {
        let pattern = pattern("^us_usr_[A-Za-z0-9]{8,}$").unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for _ in 0..200 {
            let text = pattern.sample(&mut rng, false).unwrap();
            assert!(text.starts_with("us_usr_"), "{text}");
            assert!(text.is_ascii());
            assert!(pattern.matches(&text), "{text}");
        }
    }

    #[test]
    fn digit_classes_are_ascii_digits() {
        let pattern = pattern(r"^\d{3}-\w+$").unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let text = pattern.sample(&mut rng, true).unwrap();
        assert!(
            text[..3].bytes().all(|byte| byte.is_ascii_digit()),
            "{text}"
        );
    }

    #[test]
    fn look_around_is_checked_and_sampled_without_it() {
        let pattern = pattern("^(?=.*[0-9])[a-z0-9]+$").unwrap();
        assert!(pattern.samplable());
        assert!(pattern.matches("abc1"));
        assert!(!pattern.matches("abc"));
        assert_eq!(sampling_source("^(?=.*[0-9])[a-z0-9]+$"), "^[a-z0-9]+$");
        assert_eq!(sampling_source("^(?!admin)(?<!x)[a-z]$"), "^[a-z]$");
    }

    #[test]
    fn back_references_are_sampled_as_a_copy_of_their_group() {
        assert_eq!(sampling_source(r"^(ab)\1$"), r"^(ab)(?:ab)$");
        assert_eq!(sampling_source(r"^(?<q>['])x\1$"), r"^(?<q>['])x(?:['])$");
        assert_eq!(
            sampling_source(r"[(]\1"),
            r"[(]\1",
            "inside a class nothing is a group"
        );
        let pattern = pattern(r"^(ab)\1$").unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert_eq!(pattern.sample(&mut rng, false).as_deref(), Some("abab"));
    }

    #[test]
    fn formats_are_checked_as_the_server_checks_them() {
        let email = format_check("email").unwrap();
        assert!(email.own.is_some());
        for text in [
            "ada@example.com",
            "nope",
            "\"quoted local\"@example.com",
            "ada@[127.0.0.1]",
            "a..b@example.com",
            "ada@localhost",
        ] {
            let server = email.checker.is_valid(&Value::String(text.to_owned()));
            assert_eq!(email.accepts(text), server, "{text}");
        }
        assert!(email.accepts("ada@example.com"));
        assert!(!email.accepts("nope"));
        let uri = format_check("uri").unwrap();
        assert!(uri.own.is_none());
        assert!(uri.accepts("https://example.com/a"));
        assert!(!uri.accepts("not a uri"));
        assert!(format_check("int32").is_none());
    }
}
