//! The in-memory store: one collection per create operation (or per declared name), remembering
//! created records, their unique values and their ids. Bounded: past `max_records` the oldest
//! records are forgotten.
//!
//! A record keeps 128-bit fingerprints of its unique values and its id, not the text: a full
//! collection forgets and adds a record on every create, and fingerprints make that without any
//! allocation, and with few reads of memory that has gone cold since the record was stored.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use foldhash::HashMap;
use serde_json::Value;
use xxhash_rust::xxh3::xxh3_128_with_seed;

use crate::operation::UniqueRule;

/// All collections, created at start-up; the map itself is never written after that, so it is
/// hashed with foldhash rather than SipHash, which guards against floods of inserts.
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

/// The hasher of the store's tables. Their keys are fingerprints, already uniformly spread, so
/// the cheapest good hasher does.
type Hasher = foldhash::fast::RandomState;

/// A 128-bit fingerprint of a unique value (with its rule) or of an id. Two texts share one by
/// chance with a probability of 2⁻¹²⁸, which a store of a million records makes about 3 × 10⁻³³ per
/// create: far below any fault a test could see.
type Fingerprint = u128;

#[derive(Debug, Default)]
struct CollectionState {
    counter: u64,
    records: VecDeque<Record>,
    /// The fingerprints of the unique values of `records`, in the same order: `Record::keys` of
    /// them per record.
    keys: VecDeque<Fingerprint>,
    /// The fingerprints in `keys`: a value is in it exactly while a stored record has it, as a
    /// repeat is refused.
    unique: HashSet<Fingerprint, Hasher>,
    /// The fingerprints of the stored records' ids.
    ids: HashSet<Fingerprint, Hasher>,
}

#[derive(Debug)]
struct Record {
    id: Option<Fingerprint>,
    keys: usize,
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
        // The values and their fingerprints are worked out before the lock is taken.
        let keys: Vec<(usize, Cow<'_, str>, Fingerprint)> = rules
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| {
                let text = normalise(rule, rule.find(body?)?)?;
                let print = fingerprint(Some(index), &text);
                Some((index, text, print))
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
        if let Some((rule, value, _)) = keys.iter().find(|key| state.unique.contains(&key.2)) {
            return Admission::Conflict {
                rule: *rule,
                value: value.to_string(),
            };
        }
        state.counter += 1;
        let number = state.counter;
        let mut id = make_id(number);
        let mut id_print = id.as_ref().map(id_fingerprint);
        for _ in 0..16 {
            match id_print {
                Some(print) if state.ids.contains(&print) => {
                    id = make_id(number);
                    id_print = id.as_ref().map(id_fingerprint);
                }
                _ => break,
            }
        }
        if let Some(print) = id_print {
            state.ids.insert(print);
        }
        for key in &keys {
            state.unique.insert(key.2);
            state.keys.push_back(key.2);
        }
        state.records.push_back(Record {
            id: id_print,
            keys: keys.len(),
        });
        // Every create adds one record, so at most one is past the bound.
        if state.records.len() > self.max_records
            && let Some(oldest) = state.records.pop_front()
        {
            // Loaded first: a swap on every create of a full collection would be a write to a
            // line the other workers read.
            if !collection_state.warned.load(Ordering::Relaxed)
                && !collection_state.warned.swap(true, Ordering::Relaxed)
            {
                tracing::warn!(
                    collection,
                    max_records = self.max_records,
                    "collection is full: the oldest records are being forgotten (raise --max-records to keep more)"
                );
            }
            for _ in 0..oldest.keys {
                if let Some(key) = state.keys.pop_front() {
                    state.unique.remove(&key);
                }
            }
            if let Some(id) = oldest.id {
                state.ids.remove(&id);
            }
        }
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

    /// Every collection's name and how many records it holds now, by name (for the inspector).
    pub fn counts(&self) -> Vec<(&str, usize)> {
        let mut counts: Vec<(&str, usize)> = self
            .collections
            .keys()
            .map(|name| (name.as_str(), self.len(name)))
            .collect();
        counts.sort_unstable();
        counts
    }

    /// The most records a collection keeps (`--max-records`).
    pub fn max_records(&self) -> usize {
        self.max_records
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
fn normalise<'v>(rule: &UniqueRule, value: &'v Value) -> Option<Cow<'v, str>> {
    let text = match value {
        Value::String(text) => text.as_str(),
        Value::Number(value) => {
            return Some(Cow::Owned(
                normalise_text(rule, &value.to_string()).into_owned(),
            ));
        }
        Value::Bool(true) => "true",
        Value::Bool(false) => "false",
        _ => return None,
    };
    Some(normalise_text(rule, text))
}

/// `text` trimmed and lowercased as `rule` says, borrowed where that changes nothing.
fn normalise_text<'t>(rule: &UniqueRule, text: &'t str) -> Cow<'t, str> {
    let text = if rule.trim { text.trim() } else { text };
    // Only for a rule that lowercases: whether an upper-case ASCII letter or a byte beyond ASCII
    // may change. A fold without an early exit looks at every byte, which the compiler turns
    // into a few wide comparisons.
    if rule.lowercase
        && text.bytes().fold(false, |changes, byte| {
            changes | byte.is_ascii_uppercase() | !byte.is_ascii()
        })
    {
        Cow::Owned(text.to_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// The fingerprint of a unique value of rule `rule`, or of an id (`None`): the 128-bit XXH3 hash
/// of the text, seeded with the rule (0 for ids, the rule's index + 1 otherwise), so the same
/// texts always give the same fingerprints, and one text under two rules gives two.
fn fingerprint(rule: Option<usize>, text: &str) -> Fingerprint {
    let seed = rule.map_or(0, |rule| rule as u64 + 1);
    xxh3_128_with_seed(text.as_bytes(), seed)
}

fn id_fingerprint(value: &Value) -> Fingerprint {
    match value {
        Value::String(text) => fingerprint(None, text),
        other => fingerprint(None, &other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Admits `body` into the collection "users", with the record's number as its id.
    fn create(store: &Store, rules: &[UniqueRule], body: Value) -> Admission {
        store.admit("users", rules, Some(&body), |n| Some(json!(n)))
    }

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
        let first = create(&store, &rules, json!({"email": "a@x.io"}));
        assert_eq!(
            first,
            Admission::Created {
                number: 1,
                id: Some(json!(1))
            }
        );
        let again = create(&store, &rules, json!({"email": " A@X.io "}));
        assert_eq!(
            again,
            Admission::Conflict {
                rule: 0,
                value: "a@x.io".into()
            }
        );
        let other = create(&store, &rules, json!({"email": "b@x.io"}));
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
            create(&store, &rules, json!({"email": email}));
        }
        assert_eq!(store.len("users"), 2);
        let reused = create(&store, &rules, json!({"email": "a@x.io"}));
        assert_eq!(
            reused,
            Admission::Created {
                number: 4,
                id: Some(json!(4))
            }
        );
    }

    #[test]
    fn one_value_under_two_rules_is_two_keys() {
        let store = Store::new(["users"], 10);
        let by_email = email_rule();
        let by_login = UniqueRule {
            pointer: "/login".into(),
            tokens: vec!["login".into()],
            ..email_rule()
        };
        let rules = [by_email, by_login];
        let first = create(&store, &rules, json!({"email": "a@x.io"}));
        assert!(matches!(first, Admission::Created { number: 1, .. }));
        // The login repeats the stored e-mail address, but not under the same rule.
        let second = create(&store, &rules, json!({"login": "a@x.io"}));
        assert!(matches!(second, Admission::Created { number: 2, .. }));
        let third = create(
            &store,
            &rules,
            json!({"email": "b@x.io", "login": " A@x.IO"}),
        );
        assert_eq!(
            third,
            Admission::Conflict {
                rule: 1,
                value: "a@x.io".into()
            }
        );
    }

    #[test]
    fn lowercasing_covers_letters_beyond_ascii_and_keeps_the_rest() {
        let rule = email_rule();
        assert_eq!(normalise_text(&rule, " Émile@X.io "), "émile@x.io");
        assert!(matches!(
            normalise_text(&rule, "plain@x.io"),
            Cow::Borrowed("plain@x.io")
        ));
        let exact = UniqueRule {
            lowercase: false,
            trim: false,
            ..email_rule()
        };
        assert_eq!(normalise_text(&exact, " Émile@X.io "), " Émile@X.io ");
        assert_eq!(normalise(&rule, &json!(12.5)).as_deref(), Some("12.5"));
        assert_eq!(normalise(&rule, &json!(false)).as_deref(), Some("false"));
        assert_eq!(normalise(&rule, &json!(null)), None);
        let store = Store::new(["users"], 10);
        create(&store, &[email_rule()], json!({"email": "ÉMILE@x.io"}));
        let again = create(&store, &[email_rule()], json!({"email": "émile@X.IO"}));
        assert_eq!(
            again,
            Admission::Conflict {
                rule: 0,
                value: "émile@x.io".into()
            }
        );
    }

    #[test]
    fn a_forgotten_records_id_and_values_are_free_again() {
        let store = Store::new(["users"], 2);
        let rules = [email_rule()];
        let mut ids = vec![json!("x"), json!("y"), json!("z"), json!("x")].into_iter();
        for email in ["a@x.io", "b@x.io", "c@x.io"] {
            store.admit("users", &rules, Some(&json!({"email": email})), |_| {
                ids.next()
            });
        }
        // "a@x.io" and its id "x" were forgotten with the oldest record, so both can be used again.
        let reused = store.admit("users", &rules, Some(&json!({"email": "a@x.io"})), |_| {
            ids.next()
        });
        assert_eq!(
            reused,
            Admission::Created {
                number: 4,
                id: Some(json!("x"))
            }
        );
        assert_eq!(store.len("users"), 2);
        let state = store.collections["users"]
            .state
            .lock()
            .map_err(|_| "poisoned");
        let state = state
            .as_deref()
            .map(|state| (state.keys.len(), state.unique.len(), state.ids.len()));
        assert_eq!(state, Ok((2, 2, 2)));
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
        create(&store, &[email_rule()], json!({"email": "a@x.io"}));
        store.reset();
        assert!(store.is_empty());
        let again = create(&store, &[email_rule()], json!({"email": "a@x.io"}));
        assert_eq!(
            again,
            Admission::Created {
                number: 1,
                id: Some(json!(1))
            }
        );
    }
}
