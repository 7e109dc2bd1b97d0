//! The in-memory store: one collection per create operation (or per declared name), remembering
//! created records, their unique values and their ids. Bounded: past `max_records` the oldest
//! records are forgotten.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use crate::operation::UniqueRule;

/// All collections, created at start-up; the map itself is never written after that.
#[derive(Debug)]
pub struct Store {
    collections: HashMap<String, Collection>,
    max_records: usize,
}

/// What storing a create gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    /// Stored: the record's number in its collection (from 1) and its id, if the response has one.
    Created {
        /// The record's number, counting from 1 and never repeating until a reset.
        number: u64,
        /// The id assigned to it.
        id: Option<Value>,
    },
    /// A unique value repeats a stored record's.
    Conflict {
        /// The rule that was broken (an index into the operation's rules).
        rule: usize,
        /// The normalised value.
        value: String,
    },
}

#[derive(Debug)]
struct Collection {
    state: Mutex<CollectionState>,
    warned: AtomicBool,
}

/// The hasher of the store's tables: seeded per process, and much cheaper than SipHash on the
/// short keys (e-mail addresses, ids) that every create looks up.
type Hasher = foldhash::fast::RandomState;

#[derive(Debug, Default)]
struct CollectionState {
    counter: u64,
    records: VecDeque<Record>,
    unique: HashMap<(usize, String), u64, Hasher>,
    ids: HashSet<String, Hasher>,
}

#[derive(Debug)]
struct Record {
    number: u64,
    id: Option<String>,
    keys: Vec<(usize, String)>,
}

impl Store {
    /// A store with one empty collection per name.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>, max_records: usize) -> Store {
        let collections = names
            .into_iter()
            .map(|name| {
                (
                    name.to_owned(),
                    Collection {
                        state: Mutex::new(CollectionState::default()),
                        warned: AtomicBool::new(false),
                    },
                )
            })
            .collect();
        Store {
            collections,
            max_records: max_records.max(1),
        }
    }

    /// Checks `body` against the unique rules and, if nothing repeats, stores a record with an id from
    /// `make_id` (called with the record's number; called again if the id is taken). The check and the
    /// insert are one step under the collection's lock, so of simultaneous creates with one value
    /// exactly one succeeds.
    pub fn admit(
        &self,
        collection: &str,
        rules: &[UniqueRule],
        body: Option<&Value>,
        mut make_id: impl FnMut(u64) -> Option<Value>,
    ) -> Admission {
        let keys: Vec<(usize, String)> = rules
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| {
                let value = rule.find(body?)?;
                Some((index, normalise(rule, value)?))
            })
            .collect();
        let Some(collection_state) = self.collections.get(collection) else {
            return Admission::Created {
                number: 0,
                id: make_id(0),
            };
        };
        let mut state = match collection_state.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((rule, value)) = keys.iter().find(|key| state.unique.contains_key(*key)) {
            return Admission::Conflict {
                rule: *rule,
                value: value.clone(),
            };
        }
        state.counter += 1;
        let number = state.counter;
        let mut id = make_id(number);
        let mut id_text = id.as_ref().map(id_key);
        for _ in 0..16 {
            match &id_text {
                Some(text) if state.ids.contains(text) => {
                    id = make_id(number);
                    id_text = id.as_ref().map(id_key);
                }
                _ => break,
            }
        }
        if let Some(text) = &id_text {
            state.ids.insert(text.clone());
        }
        for key in &keys {
            state.unique.insert(key.clone(), number);
        }
        state.records.push_back(Record {
            number,
            id: id_text,
            keys,
        });
        // Every create adds one record, so at most one is past the bound. It is freed after the
        // lock is released, not while other creates wait.
        let mut forgotten = None;
        if state.records.len() > self.max_records
            && let Some(oldest) = state.records.pop_front()
        {
            if !collection_state.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    collection,
                    max_records = self.max_records,
                    "collection is full: the oldest records are being forgotten (raise --max-records to keep more)"
                );
            }
            for key in &oldest.keys {
                if state.unique.get(key) == Some(&oldest.number) {
                    state.unique.remove(key);
                }
            }
            if let Some(id) = &oldest.id {
                state.ids.remove(id);
            }
            forgotten = Some(oldest);
        }
        drop(state);
        drop(forgotten);
        Admission::Created { number, id }
    }

    /// How many records a collection holds now.
    pub fn len(&self, collection: &str) -> usize {
        self.collections
            .get(collection)
            .map_or(0, |collection| match collection.state.lock() {
                Ok(state) => state.records.len(),
                Err(poisoned) => poisoned.into_inner().records.len(),
            })
    }

    /// Whether no collection holds a record.
    pub fn is_empty(&self) -> bool {
        self.collections.keys().all(|name| self.len(name) == 0)
    }

    /// Forgets every record and restarts every counter.
    pub fn reset(&self) {
        for collection in self.collections.values() {
            let mut state = match collection.state.lock() {
                Ok(state) => state,
                Err(poisoned) => poisoned.into_inner(),
            };
            *state = CollectionState::default();
            collection.warned.store(false, Ordering::Relaxed);
        }
    }
}

/// The value a unique rule compares: scalars only, normalised as the rule says.
fn normalise(rule: &UniqueRule, value: &Value) -> Option<String> {
    let number;
    let text = match value {
        Value::String(text) => text.as_str(),
        Value::Number(value) => {
            number = value.to_string();
            number.as_str()
        }
        Value::Bool(true) => "true",
        Value::Bool(false) => "false",
        _ => return None,
    };
    let text = if rule.trim { text.trim() } else { text };
    Some(if rule.lowercase {
        text.to_lowercase()
    } else {
        text.to_owned()
    })
}

fn id_key(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn email_rule() -> UniqueRule {
        UniqueRule {
            pointer: "/email".into(),
            tokens: vec!["email".into()],
            lowercase: true,
            trim: true,
            status: 409,
            message: "taken".into(),
        }
    }

    #[test]
    fn a_rule_finds_its_value_through_escaped_tokens_and_arrays() {
        let rule = UniqueRule {
            pointer: "/user/a~1b/0".into(),
            tokens: vec!["user".into(), "a/b".into(), "0".into()],
            ..email_rule()
        };
        let body = json!({"user": {"a/b": ["first", "second"]}});
        assert_eq!(rule.find(&body), body.pointer("/user/a~1b/0"));
        assert_eq!(rule.find(&body), Some(&json!("first")));
        assert_eq!(rule.find(&json!({"user": 3})), None);
    }

    #[test]
    fn a_normalised_repeat_conflicts_and_numbers_count_up() {
        let store = Store::new(["users"], 100);
        let rules = [email_rule()];
        let first = store.admit("users", &rules, Some(&json!({"email": "a@x.io"})), |n| {
            Some(json!(n))
        });
        assert_eq!(
            first,
            Admission::Created {
                number: 1,
                id: Some(json!(1))
            }
        );
        let again = store.admit("users", &rules, Some(&json!({"email": " A@X.io "})), |n| {
            Some(json!(n))
        });
        assert_eq!(
            again,
            Admission::Conflict {
                rule: 0,
                value: "a@x.io".into()
            }
        );
        let other = store.admit("users", &rules, Some(&json!({"email": "b@x.io"})), |n| {
            Some(json!(n))
        });
        assert_eq!(
            other,
            Admission::Created {
                number: 2,
                id: Some(json!(2))
            }
        );
    }

    #[test]
    fn the_oldest_records_are_forgotten_past_the_bound() {
        let store = Store::new(["users"], 2);
        let rules = [email_rule()];
        for email in ["a@x.io", "b@x.io", "c@x.io"] {
            store.admit("users", &rules, Some(&json!({"email": email})), |n| {
                Some(json!(n))
            });
        }
        assert_eq!(store.len("users"), 2);
        let reused = store.admit("users", &rules, Some(&json!({"email": "a@x.io"})), |n| {
            Some(json!(n))
        });
        assert_eq!(
            reused,
            Admission::Created {
                number: 4,
                id: Some(json!(4))
            }
        );
    }

    #[test]
    fn a_taken_id_is_drawn_again() {
        let store = Store::new(["users"], 10);
        let mut draws = vec![json!("x"), json!("x"), json!("y")].into_iter();
        store.admit("users", &[], None, |_| draws.next());
        let second = store.admit("users", &[], None, |_| draws.next());
        assert_eq!(
            second,
            Admission::Created {
                number: 2,
                id: Some(json!("y"))
            }
        );
    }

    #[test]
    fn reset_forgets_records_and_restarts_numbers() {
        let store = Store::new(["users"], 10);
        store.admit(
            "users",
            &[email_rule()],
            Some(&json!({"email": "a@x.io"})),
            |n| Some(json!(n)),
        );
        store.reset();
        assert!(store.is_empty());
        let again = store.admit(
            "users",
            &[email_rule()],
            Some(&json!({"email": "a@x.io"})),
            |n| Some(json!(n)),
        );
        assert_eq!(
            again,
            Admission::Created {
                number: 1,
                id: Some(json!(1))
            }
        );
    }
}
