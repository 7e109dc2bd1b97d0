//! The route table: path templates compiled into a segment tree, matched without allocation per
//! segment. A literal segment wins over a template; `/users/me` beats `/users/{id}`. Also how the
//! specs' operations share routes, and which clash ([`OperationRoutes`]).

use std::path::PathBuf;
use std::sync::Arc;

use foldhash::HashMap;

use crate::load_error::{ErrorKind, LoadError};
use crate::operation::{Operation, Spec};
use crate::path_query::same_selection;

/// What a matched path gives: the route's value and the path parameters, in template order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RouteMatch<'t, 'p, T> {
    /// The value the route was inserted with.
    pub value: &'t T,
    /// `(name, raw value)` for every template parameter, not yet percent-decoded.
    pub params: Vec<(&'t str, &'p str)>,
}

/// Path templates (`/v1/users/{id}`) to values.
#[derive(Debug)]
pub(crate) struct RouteTable<T> {
    root: Node<T>,
}

#[derive(Debug)]
struct Node<T> {
    /// Literal segments, hashed with foldhash: a lookup per segment of every request, on keys the
    /// spec chose (a request can look a name up, not add one), so SipHash's guard against
    /// flooding buys nothing here.
    literal: HashMap<String, Node<T>>,
    /// Template segments: a literal prefix and suffix around one parameter (`{id}`, `v{n}.json`).
    /// Templates that differ only in their parameter's name share a node.
    templates: Vec<(SegmentTemplate, Node<T>)>,
    route: Option<Route<T>>,
}

/// A route's value and its own parameter names, in template order: routes that share a node on
/// the way (`/users/{user_id}/keys` and `/users/{username}`) name their parameters each their own
/// way.
#[derive(Debug)]
struct Route<T> {
    value: T,
    names: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
struct SegmentTemplate {
    prefix: String,
    name: String,
    suffix: String,
}

impl<T> Default for RouteTable<T> {
    fn default() -> Self {
        RouteTable { root: Node::new() }
    }
}

impl<T> RouteTable<T> {
    /// An empty table.
    pub(crate) fn new() -> RouteTable<T> {
        RouteTable::default()
    }

    /// Inserts `template`; returns the value already there for an equivalent template (same literals,
    /// parameters in the same places), leaving it in place.
    pub(crate) fn insert(&mut self, template: &str, value: T) -> Result<(), T> {
        let mut node = &mut self.root;
        let mut names = Vec::new();
        for segment in segments(template) {
            node = match parse_segment(segment) {
                None => node
                    .literal
                    .entry(segment.to_owned())
                    .or_insert_with(Node::new),
                Some(parsed) => {
                    names.push(parsed.name.clone());
                    let (prefix, suffix) = (parsed.prefix.clone(), parsed.suffix.clone());
                    let same = |existing: &SegmentTemplate| {
                        existing.prefix == prefix && existing.suffix == suffix
                    };
                    if !node.templates.iter().any(|(existing, _)| same(existing)) {
                        node.templates.push((parsed, Node::new()));
                        // Longer literal parts are more specific: try them first.
                        node.templates.sort_by_key(|(template, _)| {
                            std::cmp::Reverse(template.prefix.len() + template.suffix.len())
                        });
                    }
                    let index = node
                        .templates
                        .iter()
                        .position(|(existing, _)| same(existing))
                        .unwrap_or_default();
                    &mut node.templates[index].1
                }
            };
        }
        match node.route {
            Some(_) => Err(value),
            None => {
                node.route = Some(Route { value, names });
                Ok(())
            }
        }
    }

    /// Finds the route for a request path (no query string).
    pub(crate) fn find<'t, 'p>(&'t self, path: &'p str) -> Option<RouteMatch<'t, 'p, T>> {
        let parts: Vec<&'p str> = segments(path).collect();
        let mut values = Vec::new();
        let route = find_in(&self.root, &parts, &mut values)?;
        let params = route.names.iter().map(String::as_str).zip(values).collect();
        Some(RouteMatch {
            value: &route.value,
            params,
        })
    }
}

impl<T> Node<T> {
    fn new() -> Node<T> {
        Node {
            literal: HashMap::default(),
            templates: Vec::new(),
            route: None,
        }
    }
}

/// The route for `parts` under `node`, with the parameter values met on the way into `params`.
fn find_in<'t, 'p, T>(
    node: &'t Node<T>,
    parts: &[&'p str],
    params: &mut Vec<&'p str>,
) -> Option<&'t Route<T>> {
    let Some((first, rest)) = parts.split_first() else {
        return node.route.as_ref();
    };
    if let Some(child) = node.literal.get(*first)
        && let Some(found) = find_in(child, rest, params)
    {
        return Some(found);
    }
    for (template, child) in &node.templates {
        let Some(value) = first
            .strip_prefix(template.prefix.as_str())
            .and_then(|value| value.strip_suffix(template.suffix.as_str()))
        else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        params.push(value);
        if let Some(found) = find_in(child, rest, params) {
            return Some(found);
        }
        params.pop();
    }
    None
}

/// The parameter names of `template`, in order (`/orgs/{org}/keys/{key_id}`: `org`, `key_id`).
///
/// Equivalent templates share one route, named after the first inserted; a caller that serves
/// several operations from it renames the matched parameters after its own operation's template.
pub(crate) fn parameter_names(template: &str) -> impl Iterator<Item = &str> {
    segments(template).filter_map(|segment| {
        let open = segment.find('{')?;
        let close = segment[open..].find('}')? + open;
        Some(&segment[open + 1..close])
    })
}

/// The segments of a path; a trailing slash is a segment of its own (`/v1/user/` ≠ `/v1/user`).
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

fn parse_segment(segment: &str) -> Option<SegmentTemplate> {
    let open = segment.find('{')?;
    let close = segment[open..].find('}')? + open;
    Some(SegmentTemplate {
        prefix: segment[..open].to_owned(),
        name: segment[open + 1..close].to_owned(),
        suffix: segment[close + 1..].to_owned(),
    })
}

/// The operations one route serves, and how a request picks among them.
#[derive(Debug)]
pub(crate) struct RouteOperations {
    /// The operations, in the specs' order.
    pub(crate) operations: Vec<Arc<Operation>>,
    /// Whether keys with a query part share a method here or name literal pairs
    /// (`/rest?method=…`), so that a request's query picks the operation
    /// ([`crate::path_query::select`]); chosen once, when the table is built. Otherwise (every
    /// route of a description without such keys) the first operation of the method serves.
    pub(crate) by_query: bool,
}

/// Every spec's operations grouped by route, as the engine serves them: operations on equivalent
/// templates (`/users/{id}`, `/users/{user_id}`) share one route, each under its own method (or,
/// for keys with a query part, its own query under a method).
#[derive(Debug)]
pub(crate) struct OperationRoutes {
    /// The table the engine routes by.
    pub(crate) routes: RouteTable<RouteOperations>,
    /// Operations that are not served: another of their spec has their method and route.
    pub(crate) shadowed: Vec<Arc<Operation>>,
    /// Operations of two specs on one method and route: the engine refuses to load.
    pub(crate) clashes: Vec<LoadError>,
}

impl OperationRoutes {
    /// Groups the operations of `specs`; a clash within one spec is a warning (the first
    /// operation is served), between two specs an error.
    pub(crate) fn of(specs: &[Spec], warnings: &mut Vec<LoadError>) -> OperationRoutes {
        let mut errors = Vec::new();
        let mut shadowed: Vec<Arc<Operation>> = Vec::new();
        let mut templates: Vec<(String, Vec<Arc<Operation>>)> = Vec::new();
        for spec in specs {
            for operation in &spec.operations {
                let key = normalised_template(&operation.route);
                match templates.iter_mut().find(|(existing, _)| *existing == key) {
                    Some((_, operations)) => {
                        if let Some(clash) = operations.iter().find(|other| {
                            other.method == operation.method
                                && same_selection(other.query.as_ref(), operation.query.as_ref())
                        }) {
                            if clash.spec == operation.spec {
                                warnings.push(LoadError::at(
                                    &spec.file,
                                    &operation.pointer,
                                    ErrorKind::RouteClash,
                                    format!(
                                        "{} {} is the route of {} too, which is served instead",
                                        operation.method,
                                        operation.shown_route(),
                                        clash.pointer
                                    ),
                                ));
                                shadowed.push(Arc::clone(operation));
                                continue;
                            }
                            let other_file = specs
                                .iter()
                                .find(|spec| *spec.name == *clash.spec)
                                .map_or_else(PathBuf::new, |spec| spec.file.clone());
                            errors.push(LoadError::at(
                                &spec.file,
                                &operation.pointer,
                                ErrorKind::RouteClash,
                                format!(
                                    "{} {} is also served by {} ({})",
                                    operation.method,
                                    operation.shown_route(),
                                    other_file.display(),
                                    clash.pointer
                                ),
                            ));
                        } else {
                            operations.push(Arc::clone(operation));
                        }
                    }
                    None => templates.push((key, vec![Arc::clone(operation)])),
                }
            }
        }
        let mut routes = RouteTable::new();
        for (_, operations) in templates {
            let route = operations[0].route.clone();
            let by_query = operations.iter().enumerate().any(|(index, operation)| {
                operation
                    .query
                    .as_ref()
                    .is_some_and(|query| !query.literal.is_empty())
                    || operations[..index]
                        .iter()
                        .any(|other| other.method == operation.method)
            });
            // Equivalent templates were merged above, so the table never refuses one.
            let _ = routes.insert(
                &route,
                RouteOperations {
                    operations,
                    by_query,
                },
            );
        }
        OperationRoutes {
            routes,
            shadowed,
            clashes: errors,
        }
    }
}

/// `/users/{id}` and `/users/{user_id}` are the same route.
fn normalised_template(route: &str) -> String {
    let mut out = String::with_capacity(route.len());
    let mut in_parameter = false;
    for character in route.chars() {
        match character {
            '{' => {
                in_parameter = true;
                out.push_str("{}");
            }
            '}' => in_parameter = false,
            _ if in_parameter => {}
            _ => out.push(character),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_templates_normalise_alike() {
        assert_eq!(
            normalised_template("/users/{id}"),
            normalised_template("/users/{user_id}")
        );
        assert_ne!(
            normalised_template("/users/{id}"),
            normalised_template("/users/me")
        );
    }

    fn table() -> RouteTable<&'static str> {
        let mut table = RouteTable::new();
        table.insert("/users/{id}", "by id").unwrap();
        table.insert("/users/me", "me").unwrap();
        table.insert("/users/{id}/keys/{key}", "key").unwrap();
        table.insert("/files/{name}.json", "json file").unwrap();
        table.insert("/v1/user/", "slash").unwrap();
        table
    }

    #[test]
    fn a_literal_segment_wins_over_a_template() {
        let table = table();
        assert_eq!(*table.find("/users/me").unwrap().value, "me");
        let found = table.find("/users/42").unwrap();
        assert_eq!(*found.value, "by id");
        assert_eq!(found.params, vec![("id", "42")]);
    }

    #[test]
    fn parameters_are_collected_in_order_and_partial_segments_match() {
        let table = table();
        let found = table.find("/users/7/keys/abc").unwrap();
        assert_eq!(found.params, vec![("id", "7"), ("key", "abc")]);
        assert_eq!(
            table.find("/files/report.json").unwrap().params,
            vec![("name", "report")]
        );
        assert!(table.find("/files/report.xml").is_none());
    }

    #[test]
    fn trailing_slashes_and_empty_parameters_do_not_match_loosely() {
        let table = table();
        assert!(table.find("/v1/user/").is_some());
        assert!(table.find("/v1/user").is_none());
        assert!(table.find("/users/").is_none());
        assert!(table.find("/nothing").is_none());
    }

    #[test]
    fn routes_sharing_a_template_segment_keep_their_own_parameter_names() {
        // GitHub's description has `/users/{user_id}/projectsV2/…` and `/users/{username}`.
        let mut table = RouteTable::new();
        table
            .insert("/users/{user_id}/projects/{number}", "projects")
            .unwrap();
        table.insert("/users/{username}", "user").unwrap();
        table.insert("/users/{name}/repos", "repos").unwrap();
        let user = table.find("/users/octocat").unwrap();
        assert_eq!(*user.value, "user");
        assert_eq!(user.params, vec![("username", "octocat")]);
        let projects = table.find("/users/7/projects/3").unwrap();
        assert_eq!(projects.params, vec![("user_id", "7"), ("number", "3")]);
        assert_eq!(
            table.find("/users/octocat/repos").unwrap().params,
            vec![("name", "octocat")]
        );
    }

    #[test]
    fn parameter_names_are_read_in_template_order() {
        assert_eq!(
            parameter_names("/orgs/{org}/files/{name}.json/v{n}").collect::<Vec<_>>(),
            ["org", "name", "n"]
        );
        assert_eq!(parameter_names("/users/me").count(), 0);
    }

    #[test]
    fn equivalent_templates_clash() {
        let mut table = table();
        assert_eq!(table.insert("/users/{user_id}", "again"), Err("again"));
    }
}
