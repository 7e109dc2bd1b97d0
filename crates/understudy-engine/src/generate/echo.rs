//! Finding what the request said about a response property: by exact name, then by the same name
//! in another case (`first_name` ↔ `firstName`), then through a single wrapper object of the
//! request (DeployHQ's `{"user": {…}}`).

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::defaults::DefaultsCursor;

/// How many single-wrapper levels of the request are looked through.
const WRAPPER_DEPTH: usize = 2;

/// A part of the request as the echo reads it: the value, and the request schema's defaults that
/// apply inside it, read through rather than filled in (filling a parsed body costs a map insert
/// per default).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Echo<'e> {
    pub(crate) value: &'e Value,
    pub(crate) defaults: Option<DefaultsCursor<'e>>,
}

impl<'e> Echo<'e> {
    /// A value with no defaults to read through.
    pub(crate) fn plain(value: &'e Value) -> Self {
        Echo {
            value,
            defaults: None,
        }
    }

    /// The value as a whole, the defaults filled in (copied only when there are some to fill).
    pub(crate) fn filled(self) -> Cow<'e, Value> {
        match (self.value, self.defaults) {
            (Value::Object(_) | Value::Array(_), Some(cursor)) => {
                Cow::Owned(cursor.filled(self.value))
            }
            _ => Cow::Borrowed(self.value),
        }
    }
}

/// One level of an [`EchoScope`]: an object's entries, each with the first byte of its normalized
/// name ([`first_key_byte`]) and whether the request gave it (else it is a default), the set of
/// those first bytes, and the defaults for the entries the request gave.
#[derive(Debug)]
struct Level<'e> {
    entries: Vec<(&'e str, &'e Value, u8, bool)>,
    firsts: FirstBytes,
    defaults: Option<DefaultsCursor<'e>>,
}

/// A set of bytes, one bit each.
#[derive(Debug, Default)]
struct FirstBytes([u64; 4]);

impl FirstBytes {
    fn insert(&mut self, byte: u8) {
        self.0[usize::from(byte >> 6)] |= 1 << (byte & 63);
    }

    fn contains(&self, byte: u8) -> bool {
        self.0[usize::from(byte >> 6)] & (1 << (byte & 63)) != 0
    }
}

/// One request object, gathered once for the many lookups a response object makes into it: its
/// entries and those of its single wrappers, defaults included.
#[derive(Debug)]
pub(crate) struct EchoScope<'e> {
    /// The object itself, then each single wrapper inside it.
    levels: Vec<Level<'e>>,
}

impl<'e> EchoScope<'e> {
    /// Gathers `scope` and the chain of single wrapper objects inside it; `defaults` apply to
    /// `scope`.
    pub(crate) fn new(scope: &'e Map<String, Value>, defaults: Option<DefaultsCursor<'e>>) -> Self {
        let mut levels: Vec<Level<'e>> = Vec::with_capacity(1 + WRAPPER_DEPTH);
        let mut current = Some((scope, defaults));
        while let Some((map, defaults)) = current.take() {
            // Sized once for the request's entries and the defaults that may join them.
            let mut entries: Vec<(&'e str, &'e Value, u8, bool)> =
                Vec::with_capacity(map.len() + defaults.map_or(0, DefaultsCursor::at_most));
            entries.extend(
                map.iter()
                    .map(|(name, value)| (name.as_str(), value, first_key_byte(name), true)),
            );
            if let Some(cursor) = defaults {
                entries.extend(
                    cursor
                        .missing(map)
                        .map(|(name, value)| (name, value, first_key_byte(name), false)),
                );
            }
            let mut wrappers = entries
                .iter()
                .filter_map(|(name, value, _, given)| Some((*name, value.as_object()?, *given)));
            if let (Some((name, inner, given)), None) = (wrappers.next(), wrappers.next())
                && levels.len() < WRAPPER_DEPTH
            {
                let inner_defaults = defaults
                    .filter(|_| given)
                    .and_then(|cursor| cursor.property(name));
                current = Some((inner, inner_defaults));
            }
            let mut firsts = FirstBytes::default();
            for (_, _, first, _) in &entries {
                firsts.insert(*first);
            }
            levels.push(Level {
                entries,
                firsts,
                defaults,
            });
        }
        EchoScope { levels }
    }

    /// The request value for a property named `name` (`key` is its normalized form): by exact
    /// name, then by the same name in another case, level by level.
    pub(crate) fn find(&self, name: &str, key: &str) -> Option<Echo<'e>> {
        let first = first_key_byte(key);
        for level in &self.levels {
            // A name equal to `name`, or normalized to `key`, starts with `first` once
            // normalized, unless some first byte is unknown (0): a level without it is skipped.
            if first != 0 && !level.firsts.contains(first) && !level.firsts.contains(0) {
                continue;
            }
            let found = level
                .entries
                .iter()
                .find(|(entry, _, _, _)| *entry == name)
                // Most names are told apart by their first byte; the others stop comparing at
                // their first different character, so this scan costs less than hashing every
                // name would.
                .or_else(|| {
                    level.entries.iter().find(|(entry, _, entry_first, _)| {
                        (*entry_first == first || *entry_first == 0 || first == 0)
                            && same_key(entry, key)
                    })
                });
            if let Some((entry, value, _, given)) = found {
                // Only an object or an array the request gave has defaults inside it.
                let defaults = match (level.defaults, value) {
                    (Some(cursor), Value::Object(_) | Value::Array(_)) if *given => {
                        cursor.property(entry)
                    }
                    _ => None,
                };
                return Some(Echo { value, defaults });
            }
        }
        None
    }

    /// The first and last names the request gives: under a first- and a last-name property, or
    /// split from a full name.
    pub(crate) fn person_names(&self) -> (Option<&'e str>, Option<&'e str>) {
        let first = self.find_text(&["firstname", "givenname", "forename"]);
        let last = self.find_text(&["lastname", "surname", "familyname"]);
        if first.is_none()
            && last.is_none()
            && let Some((given, family)) = self
                .find_text(&["name", "fullname", "displayname"])
                .and_then(|name| name.trim().split_once(' '))
        {
            return (Some(given), Some(family.trim()));
        }
        (first, last)
    }

    /// A string the request gave under any of `keys` (normalized names).
    pub(crate) fn find_text(&self, keys: &[&str]) -> Option<&'e str> {
        keys.iter()
            .find_map(|key| self.find(key, key).and_then(|echo| echo.value.as_str()))
    }
}

/// The first byte of `name` normalized, when it is ASCII; 0 when it is not, or there is none
/// (such names are always compared in full).
fn first_key_byte(name: &str) -> u8 {
    match name
        .bytes()
        .find(|byte| !byte.is_ascii() || byte.is_ascii_alphanumeric())
    {
        Some(byte) if byte.is_ascii() => byte.to_ascii_lowercase(),
        _ => 0,
    }
}

/// Whether `candidate`, normalized (alphanumerics, lower-cased), is `key`.
fn same_key(candidate: &str, key: &str) -> bool {
    if candidate.is_ascii() {
        return candidate
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|byte| byte.to_ascii_lowercase())
            .eq(key.bytes());
    }
    candidate
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .eq(key.chars())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::hint::normalize as key;
    use serde_json::json;

    #[test]
    fn levels_are_skipped_only_when_no_name_there_can_match() {
        let request = json!({"team": "x", "user": {"id": 7, "·email": "a@x.io", "Kind": "k"}});
        let scope = EchoScope::new(request.as_object().unwrap(), None);
        // No name on the top level starts with "i": found one level down.
        assert_eq!(
            scope.find("id", "id").map(|echo| echo.value),
            Some(&json!(7))
        );
        // "·email" starts with a byte that is not ASCII, so its level is always searched.
        assert_eq!(
            scope.find("email", "email").map(|echo| echo.value),
            Some(&json!("a@x.io"))
        );
        assert_eq!(
            scope.find("kind", "kind").map(|echo| echo.value),
            Some(&json!("k"))
        );
        assert_eq!(scope.find("zone", "zone").map(|echo| echo.value), None);
        let mut firsts = FirstBytes::default();
        for byte in [0, b'a', 63, 64, 255] {
            firsts.insert(byte);
        }
        assert!(
            [0, b'a', 63, 64, 255]
                .iter()
                .all(|byte| firsts.contains(*byte))
        );
        assert!(
            ![1, b'b', 62, 65, 254]
                .iter()
                .any(|byte| firsts.contains(*byte))
        );
    }

    #[test]
    fn names_match_across_cases_and_through_a_wrapper() {
        let request = json!({"user": {"first_name": "Ada", "emailAddress": "ada@x.io"}});
        let scope = request.as_object().unwrap();
        assert_eq!(
            EchoScope::new(scope, None)
                .find("firstName", &key("firstName"))
                .map(|echo| echo.value),
            Some(&json!("Ada"))
        );
        assert_eq!(
            EchoScope::new(scope, None)
                .find("email_address", &key("email_address"))
                .map(|echo| echo.value),
            Some(&json!("ada@x.io"))
        );
        assert_eq!(
            EchoScope::new(scope, None)
                .find("last_name", &key("last_name"))
                .map(|echo| echo.value),
            None
        );
    }

    #[test]
    fn the_exact_name_beats_one_in_another_case_whatever_the_order() {
        let request = json!({"firstName": "camel", "first_name": "snake"});
        let scope = request.as_object().unwrap();
        assert_eq!(
            EchoScope::new(scope, None)
                .find("first_name", &key("first_name"))
                .map(|echo| echo.value),
            Some(&json!("snake"))
        );
        assert_eq!(
            EchoScope::new(scope, None)
                .find("FirstName", &key("FirstName"))
                .map(|echo| echo.value),
            Some(&json!("camel")),
            "no exact name: the first alike one"
        );
        let accented = json!({"Prénom": "Zoé"});
        let scope = accented.as_object().unwrap();
        assert_eq!(
            EchoScope::new(scope, None)
                .find("prénom", &key("prénom"))
                .map(|echo| echo.value),
            Some(&json!("Zoé"))
        );
    }

    #[test]
    fn names_starting_with_punctuation_or_beyond_ascii_still_match() {
        let request = json!({"_Email": "a@x.io", "\u{212A}ind": "kelvin", "État": "ok"});
        let scope = request.as_object().unwrap();
        let scope = EchoScope::new(scope, None);
        assert_eq!(
            scope.find("email", &key("email")).map(|echo| echo.value),
            Some(&json!("a@x.io"))
        );
        assert_eq!(
            scope.find("kind", &key("kind")).map(|echo| echo.value),
            Some(&json!("kelvin"))
        );
        assert_eq!(
            scope.find("état", &key("état")).map(|echo| echo.value),
            Some(&json!("ok"))
        );
        assert_eq!(
            scope.find("other", &key("other")).map(|echo| echo.value),
            None
        );
    }

    #[test]
    fn several_objects_are_not_wrappers() {
        let request = json!({"a": {"name": "x"}, "b": {"name": "y"}});
        let scope = request.as_object().unwrap();
        assert_eq!(
            EchoScope::new(scope, None)
                .find("name", "name")
                .map(|echo| echo.value),
            None
        );
    }
}
