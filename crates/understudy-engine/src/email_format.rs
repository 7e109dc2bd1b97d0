//! The `email` format: jsonschema's own check, behind a fast path for the plain addresses
//! (`jane.smith+test@example.com`) that nearly every request carries.
//!
//! jsonschema parses every address with the full RFC 5322 grammar (quoted local parts, comments,
//! domain literals), which costs thousands of instructions per check; a create checks its address
//! twice (the request, and the echo in the response). The fast path accepts only a subset of
//! what jsonschema accepts, and everything else goes to jsonschema, so the answers are the same.

use std::sync::LazyLock;

use serde_json::Value;

/// Whether `text` is valid in the `email` format, exactly as jsonschema's built-in check decides.
pub(crate) fn is_email(text: &str) -> bool {
    // Every address has an `@`: a text without one (the usual typo, or a name in the wrong
    // field) is rejected without the full parse.
    is_plain_address(text) || (text.as_bytes().contains(&b'@') && builtin_accepts(text))
}

/// The longest local part RFC 5321 allows.
const LOCAL_MAX: usize = 64;
/// The longest domain taken on the fast path (RFC 1035 allows 253 octets without the final dot).
const DOMAIN_MAX: usize = 253;
/// The longest domain label.
const LABEL_MAX: usize = 63;

/// A dot-atom local part of letters, digits and `._+-`, then `@` and a host name of at least two
/// labels whose last starts with a letter. Anything outside this (quoting, other specials,
/// `--` in a label, a numeric top-level label) is left to the full check.
fn is_plain_address(text: &str) -> bool {
    // One pass over each part, byte by byte: addresses are short, and every rule is about a byte
    // and the one before it.
    let bytes = text.as_bytes();
    let Some(at) = plain_local_part_end(bytes) else {
        return false;
    };
    bytes.get(at + 1..).is_some_and(is_plain_domain)
}

/// Where the `@` after a plain local part is: letters, digits and `._+-`, at most
/// [`LOCAL_MAX`] of them, with no dot first, last or next to another.
fn plain_local_part_end(bytes: &[u8]) -> Option<usize> {
    // Starting as if after a dot rejects a leading dot with the same test as `..`.
    let mut previous = b'.';
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'@' {
            return (index > 0 && index <= LOCAL_MAX && previous != b'.').then_some(index);
        }
        if !LOCAL_BYTES[usize::from(byte)] || (byte == b'.' && previous == b'.') {
            return None;
        }
        previous = byte;
    }
    None
}

/// The bytes a plain local part is made of: letters, digits and `._+-`.
static LOCAL_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-');
        byte += 1;
    }
    table
};

/// Labels of letters, digits and `-` between dots: none empty or longer than [`LABEL_MAX`], none
/// starting or ending with `-` or holding `--` (`xn--` labels and the like have IDNA rules of
/// their own); at least two of them, the last starting with a letter.
fn is_plain_domain(domain: &[u8]) -> bool {
    if domain.is_empty() || domain.len() > DOMAIN_MAX {
        return false;
    }
    let mut labels = 0;
    let mut label_len = 0;
    let mut label_first = 0;
    let mut previous = b'.';
    for &byte in domain {
        if byte == b'.' {
            if label_len == 0 || previous == b'-' {
                return false;
            }
            labels += 1;
            label_len = 0;
        } else if byte.is_ascii_alphanumeric()
            || (byte == b'-' && label_len > 0 && previous != b'-')
        {
            if label_len == 0 {
                label_first = byte;
            }
            label_len += 1;
            if label_len > LABEL_MAX {
                return false;
            }
        } else {
            return false;
        }
        previous = byte;
    }
    label_len > 0 && previous != b'-' && labels >= 1 && label_first.is_ascii_alphabetic()
}

/// jsonschema's built-in `email` check, for the addresses the fast path does not take.
fn builtin_accepts(text: &str) -> bool {
    static BUILTIN: LazyLock<Option<jsonschema::Validator>> = LazyLock::new(|| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&serde_json::json!({ "format": "email" }))
            .ok()
    });
    BUILTIN
        .as_ref()
        .is_some_and(|validator| validator.is_valid(&Value::String(text.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every address the fast path takes, jsonschema accepts too: over a sweep of short strings
    /// built from the characters that matter, and the length limits.
    #[test]
    fn the_fast_path_accepts_only_what_jsonschema_accepts() {
        let alphabet = [
            'a', 'Z', '0', '.', '-', '_', '+', '@', '"', ' ', 'é', '[', '!',
        ];
        let mut taken = 0;
        let mut candidates = Vec::new();
        // Every string of up to four characters from the alphabet, as a local part, as a domain
        // and inside a domain label.
        let mut stack = vec![String::new()];
        while let Some(prefix) = stack.pop() {
            candidates.push(format!("{prefix}@x.io"));
            candidates.push(format!("a@{prefix}"));
            candidates.push(format!("a@b{prefix}.io"));
            if prefix.chars().count() < 4 {
                for character in alphabet {
                    stack.push(format!("{prefix}{character}"));
                }
            }
        }
        let label = "a".repeat(LABEL_MAX);
        let long_domain = [&label[..], &label[..], &label[..], &label[..61]].join(".");
        candidates.extend([
            format!("{}@example.com", "a".repeat(LOCAL_MAX)),
            format!("{}@example.com", "a".repeat(LOCAL_MAX + 1)),
            format!("a@{long_domain}"),
            format!("a@{long_domain}x"),
            format!("a@{label}.com"),
            format!("a@{label}a.com"),
        ]);
        for candidate in &candidates {
            assert_eq!(
                is_plain_address(candidate),
                is_plain_address_by_parts(candidate),
                "{candidate:?}"
            );
            if is_plain_address(candidate) {
                taken += 1;
                assert!(
                    builtin_accepts(candidate),
                    "the fast path took {candidate:?}, which jsonschema rejects"
                );
            }
        }
        assert!(
            taken > 1000,
            "the sweep reached the fast path only {taken} times"
        );
    }

    /// The fast path's rules written part by part (split at `@`, then at each dot), as a second
    /// reading the one-pass version must agree with.
    fn is_plain_address_by_parts(text: &str) -> bool {
        let Some((local, domain)) = text.split_once('@') else {
            return false;
        };
        let local_ok = !local.is_empty()
            && local.len() <= LOCAL_MAX
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.bytes().all(|byte| LOCAL_BYTES[usize::from(byte)]);
        let labels: Vec<&str> = domain.split('.').collect();
        let labels_ok = labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= LABEL_MAX
                && !label.starts_with('-')
                && !label.ends_with('-')
                && !label.contains("--")
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        });
        local_ok
            && !domain.is_empty()
            && domain.len() <= DOMAIN_MAX
            && labels_ok
            && labels.len() >= 2
            && labels
                .last()
                .and_then(|label| label.bytes().next())
                .is_some_and(|byte| byte.is_ascii_alphabetic())
    }

    /// jsonschema rejects every text without an `@`, which `is_email` rejects without asking it.
    #[test]
    fn texts_without_an_at_sign_are_never_addresses() {
        let alphabet = [
            'a', '.', '"', ' ', '(', ')', '[', ']', '\\', 'é', '\u{ff20}',
        ];
        let mut stack = vec![String::new()];
        let mut swept = 0;
        while let Some(prefix) = stack.pop() {
            swept += 1;
            assert!(!builtin_accepts(&prefix), "jsonschema accepts {prefix:?}");
            assert!(!is_email(&prefix), "{prefix:?}");
            if prefix.chars().count() < 4 {
                for character in alphabet {
                    stack.push(format!("{prefix}{character}"));
                }
            }
        }
        assert!(swept > 10_000);
        for text in [
            "not-an-email",
            "jane.example.com",
            "\"jane\"",
            "jane(at)example.com",
        ] {
            assert!(!builtin_accepts(text), "{text}");
            assert!(!is_email(text), "{text}");
        }
    }

    #[test]
    fn addresses_outside_the_fast_path_get_jsonschemas_answer() {
        for (text, valid) in [
            ("jane.smith+test@example.com", true),
            ("\"quoted local\"@example.com", true),
            ("user@[192.168.0.1]", true),
            ("user@localhost", true),
            ("a..b@example.com", false),
            ("no-at-sign", false),
            ("user@-example.com", false),
            ("two@@example.com", false),
            ("", false),
        ] {
            assert_eq!(is_email(text), valid, "{text:?}");
            assert_eq!(is_email(text), builtin_accepts(text), "{text:?}");
        }
    }
}
