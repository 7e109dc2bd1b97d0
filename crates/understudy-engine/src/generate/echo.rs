//! Finding what the request said about a response property: by exact name, then by the same name
//! in another case (`first_name` ↔ `firstName`), then through a single wrapper object of the
//! request (DeployHQ's `{"user": {…}}`).

use serde_json::{Map, Value};

/// How many single-wrapper levels of the request are looked through.
const WRAPPER_DEPTH: usize = 2;

/// The request value for a property named `name` (`key` is its normalized form).
pub(crate) fn find<'e>(scope: &'e Map<String, Value>, name: &str, key: &str) -> Option<&'e Value> {
    if let Some(found) = direct(scope, name, key) {
        return Some(found);
    }
    let mut current = scope;
    for _ in 0..WRAPPER_DEPTH {
        let mut wrappers = current.values().filter_map(Value::as_object);
        let (Some(inner), None) = (wrappers.next(), wrappers.next()) else {
            return None;
        };
        if let Some(found) = direct(inner, name, key) {
            return Some(found);
        }
        current = inner;
    }
    None
}

/// A string the request gave under any of `keys` (normalized names), at its own level or in a
/// single wrapper.
pub(crate) fn find_text<'e>(scope: &'e Map<String, Value>, keys: &[&str]) -> Option<&'e str> {
    keys.iter()
        .find_map(|key| find(scope, key, key).and_then(Value::as_str))
}

/// Objects up to this size are scanned rather than hashed into (serde_json's maps hash with
/// SipHash, which costs more than comparing a few short keys).
const SCAN_UP_TO: usize = 16;

fn direct<'e>(scope: &'e Map<String, Value>, name: &str, key: &str) -> Option<&'e Value> {
    if scope.len() > SCAN_UP_TO {
        if let Some(found) = scope.get(name) {
            return Some(found);
        }
        return scope
            .iter()
            .find(|(candidate, _)| same_key(candidate, key))
            .map(|(_, value)| value);
    }
    // One pass: the exact name wins; otherwise the first name that is the same in another case.
    let mut alike = None;
    for (candidate, value) in scope {
        if candidate == name {
            return Some(value);
        }
        if alike.is_none() && same_key(candidate, key) {
            alike = Some(value);
        }
    }
    alike
}

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
            find(scope, "firstName", &key("firstName")),
            Some(&json!("Ada"))
        );
        assert_eq!(
            find(scope, "email_address", &key("email_address")),
            Some(&json!("ada@x.io"))
        );
        assert_eq!(find(scope, "last_name", &key("last_name")), None);
    }

    #[test]
    fn the_exact_name_beats_one_in_another_case_whatever_the_order() {
        let request = json!({"firstName": "camel", "first_name": "snake"});
        let scope = request.as_object().unwrap();
        assert_eq!(
            find(scope, "first_name", &key("first_name")),
            Some(&json!("snake"))
        );
        assert_eq!(
            find(scope, "FirstName", &key("FirstName")),
            Some(&json!("camel")),
            "no exact name: the first alike one"
        );
        let accented = json!({"Prénom": "Zoé"});
        let scope = accented.as_object().unwrap();
        assert_eq!(find(scope, "prénom", &key("prénom")), Some(&json!("Zoé")));
    }

    #[test]
    fn several_objects_are_not_wrappers() {
        let request = json!({"a": {"name": "x"}, "b": {"name": "y"}});
        let scope = request.as_object().unwrap();
        assert_eq!(find(scope, "name", "name"), None);
    }
}
