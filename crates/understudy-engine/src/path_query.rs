//! Path keys that carry a query string: `/rest?method=flickr.photos.getInfo` (literal pairs,
//! which tell operations on one path apart) and `/alerts?lat={lat}&lon={lon}` (templated pairs,
//! whose parameters are sent in the query). A request's path never holds the query, so the route
//! is the part before `?`; this module reads the rest once at load ([`KeyQuery`]), moves the
//! parameters it names into the query, and picks among the operations sharing a route and
//! method by a request's query ([`select`]).

use std::borrow::Cow;
use std::sync::Arc;

use http::Method;

use crate::operation::{Operation, Parameter};
use crate::violation::Location;

/// What the query part of a path key asks of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyQuery {
    /// The query part as the key writes it, after `?` (`method=flickr.favorites.getList`).
    pub(crate) written: String,
    /// Literal pairs, decoded: a request reaches the operation only with each in its query.
    pub(crate) literal: Vec<(String, String)>,
    /// Templated pairs `name={param}`, as (query name, parameter name): the parameter's value is
    /// read from the query under its name.
    pub(crate) templated: Vec<(String, String)>,
    /// Pairs that are neither (`{search}=1`: a name made of a parameter), as written; not read.
    pub(crate) unread: Vec<String>,
}

/// The route of a path key and its query part, if it has one (`/alerts?lat={lat}`: `/alerts`).
pub(crate) fn split_key(key: &str) -> (&str, Option<KeyQuery>) {
    let Some((route, written)) = key.split_once('?') else {
        return (key, None);
    };
    let mut query = KeyQuery {
        written: written.to_owned(),
        literal: Vec::new(),
        templated: Vec::new(),
        unread: Vec::new(),
    };
    for pair in written.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let parameter = value
            .strip_prefix('{')
            .and_then(|inner| inner.strip_suffix('}'))
            .filter(|inner| !inner.is_empty() && !inner.contains(['{', '}']));
        if name.contains(['{', '}']) || (parameter.is_none() && value.contains(['{', '}'])) {
            query.unread.push(pair.to_owned());
            continue;
        }
        let name = decoded(name);
        match parameter {
            Some(parameter) => query.templated.push((name, parameter.to_owned())),
            None => query.literal.push((name, decoded(value))),
        }
    }
    (route, Some(query))
}

/// Form-decoded text (`+` is a space), as a request's query pairs are read.
fn decoded(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

impl KeyQuery {
    /// Whether it tells its operation apart from others on the route at all.
    pub(crate) fn selects(&self) -> bool {
        !self.literal.is_empty() || !self.templated.is_empty()
    }

    /// Whether a request is sent to it exactly when it is sent to `other`'s operation: the same
    /// literal pairs and query names, in any order.
    fn selects_like(&self, other: &KeyQuery) -> bool {
        self.selector() == other.selector()
    }

    /// The literal pairs and the templated names, sorted.
    fn selector(&self) -> (Vec<(&str, &str)>, Vec<&str>) {
        let mut literal: Vec<(&str, &str)> = self
            .literal
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        literal.sort_unstable();
        let mut names: Vec<&str> = self
            .templated
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        names.sort_unstable();
        (literal, names)
    }

    /// The literal pairs as a request's query would send them (`method=flickr.test.echo`).
    pub(crate) fn needed(&self) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.literal {
            serializer.append_pair(name, value);
        }
        serializer.finish()
    }

    /// What `check` says of the key: how its query part is read.
    pub(crate) fn warning(&self, route: &str) -> String {
        let mut reading = vec![format!(
            "the path key has a query part, which a request's path never holds: the route is \
             `{route}`"
        )];
        if !self.literal.is_empty() {
            reading.push(format!(
                "a request goes to this key's operations when its query has `{}`",
                self.needed()
            ));
        }
        if !self.templated.is_empty() {
            let read: Vec<String> = self
                .templated
                .iter()
                .map(|(name, parameter)| match name == parameter {
                    true => format!("`{name}`"),
                    false => format!("`{parameter}` (sent as `{name}`)"),
                })
                .collect();
            reading.push(format!("{} read from the query", read.join(", ")));
        }
        if !self.unread.is_empty() {
            reading.push(format!(
                "`{}` is not read, and the parameters it names are not required",
                self.unread.join("&")
            ));
        }
        reading.join("; ")
    }

    /// Moves the parameters the key's query names into the query, as a request sends them: a
    /// templated pair's parameter (declared in the path, or in the query under another name) is
    /// read from the query under the pair's name; a query parameter a literal pair fixes is not
    /// checked (routing has seen its value); a parameter an unread pair names is not required.
    pub(crate) fn place(&self, parameters: &mut Vec<Parameter>) {
        for (name, declared) in &self.templated {
            let Some(index) = parameters
                .iter()
                .position(|p| p.name == *declared && p.location == Location::Path)
                .or_else(|| {
                    parameters
                        .iter()
                        .position(|p| p.name == *declared && p.location == Location::Query)
                })
            else {
                continue;
            };
            let taken = parameters.iter().enumerate().any(|(other, p)| {
                other != index && p.name == *name && p.location == Location::Query
            });
            if taken {
                // The query parameter of that name says how it is read.
                parameters.remove(index);
                continue;
            }
            let parameter = &mut parameters[index];
            parameter.location = Location::Query;
            parameter.name.clone_from(name);
        }
        parameters.retain(|parameter| {
            parameter.location != Location::Query
                || parameter.querystring.is_some()
                || !self.literal.iter().any(|(name, _)| *name == parameter.name)
        });
        for pair in &self.unread {
            for parameter in parameters.iter_mut() {
                if pair.contains(&format!("{{{}}}", parameter.name)) {
                    parameter.required = false;
                }
            }
        }
    }

    /// How well a request's query fits: `None` when a literal pair is missing, else (literal
    /// pairs, whether every templated name is sent, templated names sent), greater is better.
    fn fit(&self, query: &[(Cow<'_, str>, Cow<'_, str>)]) -> Option<Fit> {
        let holds = |name: &str, value: &str| {
            query
                .iter()
                .any(|(sent, text)| sent == name && text == value)
        };
        if !self.literal.iter().all(|(name, value)| holds(name, value)) {
            return None;
        }
        let sent = self
            .templated
            .iter()
            .filter(|(name, _)| query.iter().any(|(sent, _)| sent == name))
            .count();
        Some((self.literal.len(), sent == self.templated.len(), sent))
    }
}

/// How well a request's query fits a key: its literal pairs (all sent), whether all its templated
/// names are sent, and how many are; compared in that order.
type Fit = (usize, bool, usize);

/// Whether two operations' keys send the same requests to them (then they clash): both without
/// a query that selects, or with queries that select alike.
pub(crate) fn same_selection(a: Option<&KeyQuery>, b: Option<&KeyQuery>) -> bool {
    match (a.filter(|q| q.selects()), b.filter(|q| q.selects())) {
        (None, None) => true,
        (Some(a), Some(b)) => a.selects_like(b),
        _ => false,
    }
}

/// Which of one route's `operations` serves a request with `method` and `query`, for a route
/// whose keys have query parts: among those of the method (HEAD served like GET when none has
/// it), the one whose literal pairs all appear in the query, with the most of them, then the one
/// whose templated names are all sent, then the one with most of them sent, then the first.
/// `None` when no operation has the method; `Err` with each operation's literal pairs when none
/// has all of its own in the query.
pub(crate) fn select<'o>(
    operations: &'o [Arc<Operation>],
    method: &Method,
    query: &[(Cow<'_, str>, Cow<'_, str>)],
) -> Option<Result<&'o Arc<Operation>, Vec<String>>> {
    let serves = |method: &Method| operations.iter().any(|op| op.method == *method);
    let method = if serves(method) {
        method
    } else if *method == Method::HEAD && serves(&Method::GET) {
        &Method::GET
    } else {
        return None;
    };
    let mut best: Option<(&Arc<Operation>, Fit)> = None;
    for operation in operations.iter().filter(|op| op.method == *method) {
        let fit = match &operation.query {
            Some(key) => key.fit(query),
            None => Some((0, true, 0)),
        };
        if let Some(fit) = fit
            && best.as_ref().is_none_or(|(_, best)| fit > *best)
        {
            best = Some((operation, fit));
        }
    }
    Some(best.map(|(operation, _)| operation).ok_or_else(|| {
        let mut needed: Vec<String> = Vec::new();
        for query in operations
            .iter()
            .filter(|op| op.method == *method)
            .filter_map(|op| op.query.as_ref().map(KeyQuery::needed))
        {
            // Keys that differ only in their templated pairs need the same pairs.
            if !needed.contains(&query) {
                needed.push(query);
            }
        }
        needed
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_route_and_pairs() {
        let (route, query) = split_key("/rest?method=flickr.test.echo&format=json%20x");
        assert_eq!(route, "/rest");
        let query = query.unwrap();
        assert_eq!(
            query.literal,
            [
                ("method".to_owned(), "flickr.test.echo".to_owned()),
                ("format".to_owned(), "json x".to_owned())
            ]
        );
        assert!(query.templated.is_empty());
        let (route, query) = split_key("/users/{userid}/pic?key={APIKEY}&flag");
        assert_eq!(route, "/users/{userid}/pic");
        let query = query.unwrap();
        assert_eq!(query.templated, [("key".to_owned(), "APIKEY".to_owned())]);
        assert_eq!(query.literal, [("flag".to_owned(), String::new())]);
        let (_, query) = split_key("/numbers/{country}?{search}=1&a=x{b}");
        assert_eq!(query.unwrap().unread, ["{search}=1", "a=x{b}"]);
        assert_eq!(split_key("/users/{id}"), ("/users/{id}", None));
    }

    #[test]
    fn selection_ignores_the_order_of_pairs() {
        let (_, a) = split_key("/x?a=1&b={b}&c={c}");
        let (_, b) = split_key("/x?c={other}&b={b}&a=1");
        let (_, c) = split_key("/x?a=2&b={b}&c={c}");
        assert!(same_selection(a.as_ref(), b.as_ref()));
        assert!(!same_selection(a.as_ref(), c.as_ref()));
        let (_, unread) = split_key("/x?{a}=1");
        assert!(same_selection(None, unread.as_ref()));
        assert!(!same_selection(None, a.as_ref()));
    }
}
