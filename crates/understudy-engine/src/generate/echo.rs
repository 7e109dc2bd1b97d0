//! Finding what the request said about a response property: by exact name, then by the same name
//! in another case (`first_name` ↔ `firstName`), then through a single wrapper object of the
//! request (DeployHQ's `{"user": {…}}`).

use serde_json::{Map, Value};

/// How many single-wrapper levels of the request are looked through.
const WRAPPER_DEPTH: usize = 2;

/// One request object, gathered once for the many lookups a response object makes into it: its
/// entries and those of its single wrappers.
#[derive(Debug)]
pub(crate) struct EchoScope<'e> {
    /// Entries by level: the object itself, then each single wrapper inside it. Each name comes
    /// with the first byte of its normalized form ([`first_key_byte`]).
    levels: Vec<Vec<(&'e str, &'e Value, u8)>>,
}

impl<'e> EchoScope<'e> {
    /// Gathers `scope` and the chain of single wrapper objects inside it.
    pub(crate) fn new(scope: &'e Map<String, Value>) -> Self {
        let mut levels = Vec::with_capacity(1 + WRAPPER_DEPTH);
        let mut current = Some(scope);
        while let Some(map) = current.take() {
            levels.push(
                map.iter()
                    .map(|(name, value)| (name.as_str(), value, first_key_byte(name)))
                    .collect(),
            );
            if levels.len() > WRAPPER_DEPTH {
                break;
            }
            let mut wrappers = map.values().filter_map(Value::as_object);
            if let (Some(inner), None) = (wrappers.next(), wrappers.next()) {
                current = Some(inner);
            }
        }
        EchoScope { levels }
    }

    /// The request value for a property named `name` (`key` is its normalized form): by exact
    /// name, then by the same name in another case, level by level.
    pub(crate) fn find(&self, name: &str, key: &str) -> Option<&'e Value> {
        let first = first_key_byte(key);
        for level in &self.levels {
            if let Some((_, value, _)) = level.iter().find(|(entry, _, _)| *entry == name) {
                return Some(value);
            }
            // Most names are told apart by their first byte; the others stop comparing at their
            // first different character, so this scan costs less than hashing every name would.
            if let Some((_, value, _)) = level.iter().find(|(entry, _, entry_first)| {
                (*entry_first == first || *entry_first == 0 || first == 0) && same_key(entry, key)
            }) {
                return Some(value);
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
            .find_map(|key| self.find(key, key).and_then(Value::as_str))
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
    fn names_match_across_cases_and_through_a_wrapper() {
        let request = json!({"user": {"first_name": "Ada", "emailAddress": "ada@x.io"}});
        let scope = request.as_object().unwrap();
        assert_eq!(
            EchoScope::new(scope).find("firstName", &key("firstName")),
            Some(&json!("Ada"))
        );
        assert_eq!(
            EchoScope::new(scope).find("email_address", &key("email_address")),
            Some(&json!("ada@x.io"))
        );
        assert_eq!(
            EchoScope::new(scope).find("last_name", &key("last_name")),
            None
        );
    }

    #[test]
    fn the_exact_name_beats_one_in_another_case_whatever_the_order() {
        let request = json!({"firstName": "camel", "first_name": "snake"});
        let scope = request.as_object().unwrap();
        assert_eq!(
            EchoScope::new(scope).find("first_name", &key("first_name")),
            Some(&json!("snake"))
        );
        assert_eq!(
            EchoScope::new(scope).find("FirstName", &key("FirstName")),
            Some(&json!("camel")),
            "no exact name: the first alike one"
        );
        let accented = json!({"Prénom": "Zoé"});
        let scope = accented.as_object().unwrap();
        assert_eq!(
            EchoScope::new(scope).find("prénom", &key("prénom")),
            Some(&json!("Zoé"))
        );
    }

    #[test]
    fn names_starting_with_punctuation_or_beyond_ascii_still_match() {
        let request = json!({"_Email": "a@x.io", "\u{212A}ind": "kelvin", "État": "ok"});
        let scope = request.as_object().unwrap();
        let scope = EchoScope::new(scope);
        assert_eq!(scope.find("email", &key("email")), Some(&json!("a@x.io")));
        assert_eq!(scope.find("kind", &key("kind")), Some(&json!("kelvin")));
        assert_eq!(scope.find("état", &key("état")), Some(&json!("ok")));
        assert_eq!(scope.find("other", &key("other")), None);
    }

    #[test]
    fn several_objects_are_not_wrappers() {
        let request = json!({"a": {"name": "x"}, "b": {"name": "y"}});
        let scope = request.as_object().unwrap();
        assert_eq!(EchoScope::new(scope).find("name", "name"), None);
    }
}
