//! The in-memory store: one collection per create operation (or per declared name), remembering
//! created records, their unique values and their ids. Bounded: past `max_records` the oldest
//! records are forgotten.
//!
//! A record keeps 128-bit fingerprints of its unique values and its id, not the text: a full
//! collection forgets and adds a record on every create, and fingerprints make that without any
//! allocation, and with few reads of memory that has gone cold since the record was stored.
//!
//! A resource's collection (`resources.rs`) also keeps each record as answered, with the scope of
//! its parents' ids, so it can be read, listed, changed and deleted. A deleted record stays as a
//! tombstone until it is the oldest and forgotten: its id is never given again, and reading it
//! tells it was deleted.
//!
//! Past 600 lines with its tests only.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use foldhash::HashMap;
use serde_json::Value;
use xxhash_rust::xxh3::xxh3_128_with_seed;

use crate::operation::UniqueRule;

/// All collections, created at start-up; the map itself is never written after that, so it is
/// hashed with foldhash rather than SipHash, which guards against floods of inserts.
///
/// A collection is shared (an `Arc`) so that a reloaded engine's store can hold the very
/// collections of the store it replaces (`Store::adopt`): a request still answered by the old
/// engine stores into what the new one reads.
#[derive(Debug)]
pub struct Store {
    collections: HashMap<String, Arc<Collection>>,
    max_records: usize,
}

/// What storing a create gives.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Admission {
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

/// What looking an id up in a collection finds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lookup<T> {
    /// A stored record: what the caller made of it.
    Live(T),
    /// A record with this id was deleted.
    Deleted,
    /// No record with this id (in this scope) is known: never created, or forgotten.
    Unknown,
}

#[derive(Debug, Default)]
struct CollectionState {
    counter: u64,
    /// How many fingerprints were ever pushed to `keys`, so a record can find its own.
    keys_pushed: u64,
    /// How many of `records` are tombstones.
    deleted: usize,
    records: VecDeque<Record>,
    /// The fingerprints of the unique values of `records`, in the same order: `Record::keys` of
    /// them per record.
    keys: VecDeque<Fingerprint>,
    /// The fingerprints in `keys`: a value is in it exactly while a stored record has it, as a
    /// repeat is refused.
    unique: HashSet<Fingerprint, Hasher>,
    /// The fingerprints of the stored records' ids (tombstones' included), with the record's
    /// number.
    ids: std::collections::HashMap<Fingerprint, u64, Hasher>,
}

#[derive(Debug)]
struct Record {
    number: u64,
    id: Option<Fingerprint>,
    /// Where its unique values start in the fingerprints ever pushed to `keys`.
    key_start: u64,
    keys: usize,
    /// The record as answered and its scope, for a resource.
    kept: Option<Box<Kept>>,
    deleted: bool,
}

#[derive(Debug)]
struct Kept {
    scope: Box<str>,
    value: Value,
}

impl CollectionState {
    /// The record with id fingerprint `id`, if one is held.
    fn position(&self, id: Fingerprint) -> Option<usize> {
        let number = *self.ids.get(&id)?;
        let first = self.records.front()?.number;
        let at = usize::try_from(number.checked_sub(first)?).ok()?;
        (self.records.get(at)?.number == number).then_some(at)
    }

    /// The record of id text `id` within `scope`.
    fn find(&self, scope: &str, id: &str) -> Lookup<usize> {
        let Some(at) = self.position(fingerprint(None, id)) else {
            return Lookup::Unknown;
        };
        let record = &self.records[at];
        match &record.kept {
            Some(kept) if &*kept.scope == scope => {
                if record.deleted {
                    Lookup::Deleted
                } else {
                    Lookup::Live(at)
                }
            }
            _ => Lookup::Unknown,
        }
    }
}

impl Store {
    /// A store with one empty collection per name.
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>, max_records: usize) -> Store {
        let collections = names
            .into_iter()
            .map(|name| {
                (
                    name.to_owned(),
                    Arc::new(Collection {
                        state: Mutex::new(CollectionState::default()),
                        warned: AtomicBool::new(false),
                    }),
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
    pub(crate) fn admit(
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
                Some(print) if state.ids.contains_key(&print) => {
                    id = make_id(number);
                    id_print = id.as_ref().map(id_fingerprint);
                }
                _ => break,
            }
        }
        if let Some(print) = id_print {
            state.ids.insert(print, number);
        }
        let key_start = state.keys_pushed;
        for key in &keys {
            state.unique.insert(key.2);
            state.keys.push_back(key.2);
        }
        state.keys_pushed += keys.len() as u64;
        state.records.push_back(Record {
            number,
            id: id_print,
            key_start,
            keys: keys.len(),
            kept: None,
            deleted: false,
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
            // A tombstone's values were freed when it was deleted (and may be taken again).
            for _ in 0..oldest.keys {
                if let Some(key) = state.keys.pop_front()
                    && !oldest.deleted
                {
                    state.unique.remove(&key);
                }
            }
            if oldest.deleted {
                state.deleted -= 1;
            }
            if let Some(id) = oldest.id
                && state.ids.get(&id) == Some(&oldest.number)
            {
                state.ids.remove(&id);
            }
        }
        Admission::Created { number, id }
    }

    /// Keeps `value`, the record as answered, in scope `scope` (its parents' ids) for the record
    /// numbered `number`, with id `id` when the admission had none (the spec names another id
    /// property). Nothing happens if the record was forgotten meanwhile.
    pub(crate) fn keep(
        &self,
        collection: &str,
        number: u64,
        scope: &str,
        value: Value,
        id: Option<&Value>,
    ) {
        let Some(mut state) = self.lock(collection) else {
            return;
        };
        let Some(first) = state.records.front().map(|record| record.number) else {
            return;
        };
        let Some(at) = number
            .checked_sub(first)
            .and_then(|at| usize::try_from(at).ok())
        else {
            return;
        };
        let id_print = id.map(id_fingerprint);
        let Some(record) = state.records.get_mut(at) else {
            return;
        };
        record.kept = Some(Box::new(Kept {
            scope: scope.into(),
            value,
        }));
        if record.id.is_none()
            && let Some(print) = id_print
        {
            record.id = Some(print);
            state.ids.entry(print).or_insert(number);
        }
    }

    /// Reads the record of id `id` in `scope` through `read`.
    pub(crate) fn read<T>(
        &self,
        collection: &str,
        scope: &str,
        id: &str,
        read: impl FnOnce(&Value) -> T,
    ) -> Lookup<T> {
        let Some(state) = self.lock(collection) else {
            return Lookup::Unknown;
        };
        match state.find(scope, id) {
            Lookup::Live(at) => match &state.records[at].kept {
                Some(kept) => Lookup::Live(read(&kept.value)),
                None => Lookup::Unknown,
            },
            Lookup::Deleted => Lookup::Deleted,
            Lookup::Unknown => Lookup::Unknown,
        }
    }

    /// Changes the record of id `id` in `scope` to what `change` makes of it, in one step under
    /// the collection's lock; an error leaves it as it was.
    pub(crate) fn update<E>(
        &self,
        collection: &str,
        scope: &str,
        id: &str,
        change: impl FnOnce(&Value) -> Result<Value, E>,
    ) -> Lookup<Result<Value, E>> {
        let Some(mut state) = self.lock(collection) else {
            return Lookup::Unknown;
        };
        match state.find(scope, id) {
            Lookup::Live(at) => {
                let Some(kept) = state.records[at].kept.as_mut() else {
                    return Lookup::Unknown;
                };
                let changed = change(&kept.value);
                if let Ok(value) = &changed {
                    kept.value = value.clone();
                }
                Lookup::Live(changed)
            }
            Lookup::Deleted => Lookup::Deleted,
            Lookup::Unknown => Lookup::Unknown,
        }
    }

    /// Deletes the record of id `id` in `scope`: it becomes a tombstone, its unique values free.
    pub(crate) fn delete(&self, collection: &str, scope: &str, id: &str) -> Lookup<()> {
        let Some(mut state) = self.lock(collection) else {
            return Lookup::Unknown;
        };
        match state.find(scope, id) {
            Lookup::Live(at) => {
                let base = state.keys_pushed - state.keys.len() as u64;
                let record = &mut state.records[at];
                record.deleted = true;
                if let Some(kept) = record.kept.as_mut() {
                    kept.value = Value::Null;
                }
                let (start, count) = (record.key_start, record.keys);
                for index in 0..count as u64 {
                    let key = usize::try_from(start + index - base)
                        .ok()
                        .and_then(|at| state.keys.get(at))
                        .copied();
                    if let Some(key) = key {
                        state.unique.remove(&key);
                    }
                }
                state.deleted += 1;
                Lookup::Live(())
            }
            Lookup::Deleted => Lookup::Deleted,
            Lookup::Unknown => Lookup::Unknown,
        }
    }

    /// The stored records of `scope`, oldest first: `take` of them after skipping `skip`, how
    /// many there are in all, and whether the scope holds any record, deleted ones included
    /// (`None` when it holds none at all).
    pub(crate) fn list(
        &self,
        collection: &str,
        scope: &str,
        skip: usize,
        take: usize,
    ) -> Option<(Vec<Value>, usize)> {
        let state = self.lock(collection)?;
        let mut total = 0;
        let mut page = Vec::new();
        let mut any = false;
        for record in &state.records {
            let Some(kept) = record.kept.as_ref().filter(|kept| &*kept.scope == scope) else {
                continue;
            };
            any = true;
            if record.deleted {
                continue;
            }
            if total >= skip && page.len() < take {
                page.push(kept.value.clone());
            }
            total += 1;
        }
        any.then_some((page, total))
    }

    fn lock(&self, collection: &str) -> Option<std::sync::MutexGuard<'_, CollectionState>> {
        let collection = self.collections.get(collection)?;
        Some(match collection.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        })
    }

    /// How many records a collection holds now.
    pub(crate) fn len(&self, collection: &str) -> usize {
        self.collections
            .get(collection)
            .map_or(0, |collection| match collection.state.lock() {
                Ok(state) => state.records.len() - state.deleted,
                Err(poisoned) => {
                    let state = poisoned.into_inner();
                    state.records.len() - state.deleted
                }
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

    /// The newest `take` records a resource's collection keeps as answered (any scope, deleted
    /// ones left out), newest first, for the inspector. Empty for a collection that keeps only
    /// fingerprints of its creates.
    pub fn newest(&self, collection: &str, take: usize) -> Vec<Value> {
        let Some(state) = self.lock(collection) else {
            return Vec::new();
        };
        state
            .records
            .iter()
            .rev()
            .filter(|record| !record.deleted)
            .filter_map(|record| record.kept.as_ref().map(|kept| kept.value.clone()))
            .take(take)
            .collect()
    }

    /// The most records a collection keeps (`--max-records`).
    pub fn max_records(&self) -> usize {
        self.max_records
    }

    /// Takes over `previous`'s collection of each name that `keep` accepts and that both stores
    /// have: the records, the counters and the unique values are then one and the same in both.
    /// Returns the names taken over; the other collections stay as they are (empty, for a new
    /// store).
    pub(crate) fn adopt(
        &mut self,
        previous: &Store,
        mut keep: impl FnMut(&str) -> bool,
    ) -> Vec<String> {
        let mut taken = Vec::new();
        for (name, collection) in &mut self.collections {
            if let Some(old) = previous.collections.get(name)
                && keep(name)
            {
                *collection = Arc::clone(old);
                taken.push(name.clone());
            }
        }
        taken.sort_unstable();
        taken
    }

    /// Forgets every record and restarts every counter.
    pub(crate) fn reset(&self) {
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
    fn a_deleted_record_frees_its_values_but_never_its_id() {
        let store = Store::new(["users"], 3);
        let rules = [email_rule()];
        let admit = |email: &str| create(&store, &rules, json!({ "email": email }));
        admit("a@x.io");
        store.keep("users", 1, "", json!({"id": 1}), None);
        assert_eq!(store.delete("users", "", "1"), Lookup::Live(()));
        assert_eq!(store.delete("users", "", "1"), Lookup::Deleted);
        assert_eq!(store.read("users", "", "1", Value::clone), Lookup::Deleted);
        assert_eq!(store.len("users"), 0);
        // The deleted user's e-mail address may be taken again; the new record keeps it when the
        // tombstone is forgotten.
        assert!(matches!(
            admit("a@x.io"),
            Admission::Created { number: 2, .. }
        ));
        admit("b@x.io");
        admit("c@x.io");
        assert_eq!(store.read("users", "", "1", Value::clone), Lookup::Unknown);
        assert!(matches!(admit("a@x.io"), Admission::Conflict { .. }));
    }

    #[test]
    fn reset_forgets_records_and_restarts_numbers() {
        let store = Store::new(["users"], 10);
        create(&store, &[email_rule()], json!({"email": "a@x.io"}));
        store.reset();
        assert!(store.counts().iter().all(|(_, records)| *records == 0));
        let again = create(&store, &[email_rule()], json!({"email": "a@x.io"}));
        assert_eq!(
            again,
            Admission::Created {
                number: 1,
                id: Some(json!(1))
            }
        );
    }

    #[test]
    fn an_adopted_collection_is_shared_and_the_others_start_empty() {
        let old = Store::new(["users", "teams"], 10);
        create(&old, &[email_rule()], json!({"email": "a@x.io"}));
        old.admit("teams", &[], Some(&json!({})), |n| Some(json!(n)));
        let mut new = Store::new(["users", "teams", "posts"], 10);
        let taken = new.adopt(&old, |name| name != "teams");
        assert_eq!(taken, ["users"]);
        assert_eq!((new.len("users"), new.len("teams")), (1, 0));
        // One collection in both: the old store's write is the new one's conflict and number.
        assert!(matches!(
            create(&new, &[email_rule()], json!({"email": "a@x.io"})),
            Admission::Conflict { .. }
        ));
        create(&old, &[email_rule()], json!({"email": "b@x.io"}));
        assert_eq!(
            create(&new, &[email_rule()], json!({"email": "c@x.io"})),
            Admission::Created {
                number: 3,
                id: Some(json!(3))
            }
        );
    }
}
