//! What the inspector page shows of each served operation, read from the compiled specs: its
//! documented statuses and examples, the `Prefer` values it answers to, and a `curl` line that
//! sends it a request it accepts. Made only when the admin API is asked, never on the request
//! path.

use serde::Serialize;
use serde_json::Value;

use crate::engine::{Engine, RouteInfo};
use crate::json_schema::{deref, resolve_pointer};
use crate::operation::{Credential, Operation, StatusKey};
use crate::violation::Location;

/// One served operation with what the inspector shows of it.
#[derive(Debug, Clone, Serialize)]
pub struct RouteDetails {
    /// The spec, file, method, path and `operationId`, as `GET /__understudy/routes` always gave.
    #[serde(flatten)]
    pub route: RouteInfo,
    /// The operation's label (`POST /users (createUser)`), as the request log names it.
    pub label: String,
    /// The documented statuses, as the spec writes them (`201`, `4XX`, `default`).
    pub statuses: Vec<String>,
    /// The status a valid request gets.
    pub success: u16,
    /// The named examples of its responses.
    pub examples: Vec<ExampleName>,
    /// `Prefer` header values it answers to: `code=NNN` per documented status, `example=NAME`
    /// (with the code when the example is not the success response's), and `dynamic=false` when
    /// the success response documents an example.
    pub prefer: Vec<String>,
    /// A `curl` command that sends a request the operation accepts: its credentials, required
    /// parameters and the documented request example (`{}` when there is none).
    pub curl: String,
    /// Its callbacks, fired after a successful answer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<CallbackName>,
}

/// A callback of an operation, as the admin API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct CallbackName {
    /// The callback's name.
    pub name: String,
    /// Its method.
    pub method: String,
    /// The runtime expression its URL is made from.
    pub url: String,
}

/// A top-level webhook of a spec (OpenAPI 3.1), which the admin API lists and understudy never
/// fires or serves.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookDetails {
    /// The spec's name.
    pub spec: String,
    /// The webhook's name.
    pub name: String,
    /// Its method.
    pub method: String,
    /// Where it is in its document.
    pub pointer: String,
    /// Always false: webhooks are listed, not sent.
    pub fired: bool,
}

/// Every spec's top-level webhooks.
pub fn webhook_details(engine: &Engine) -> Vec<WebhookDetails> {
    engine
        .specs()
        .iter()
        .flat_map(|spec| {
            spec.webhooks.iter().map(|webhook| WebhookDetails {
                spec: spec.name.clone(),
                name: webhook.name.clone(),
                method: webhook.method.to_string(),
                pointer: webhook.pointer.clone(),
                fired: false,
            })
        })
        .collect()
}

/// A named example of a response.
#[derive(Debug, Clone, Serialize)]
pub struct ExampleName {
    /// The status it documents, as the spec writes it.
    pub status: String,
    /// The media type.
    pub media_type: String,
    /// The example's name.
    pub name: String,
}

/// Every served operation with its details, `curl` lines sent to `base` (`http://127.0.0.1:4010`).
pub fn route_details(engine: &Engine, base: &str) -> Vec<RouteDetails> {
    let routes = engine.routes();
    engine
        .specs()
        .iter()
        .flat_map(|spec| spec.operations.iter())
        .zip(routes)
        .map(|(operation, route)| details(operation, route, base))
        .collect()
}

fn details(operation: &Operation, route: RouteInfo, base: &str) -> RouteDetails {
    let statuses: Vec<String> = operation
        .responses
        .iter()
        .map(|response| status_text(response.status))
        .collect();
    let success_response = operation.valid_request_response();
    let success = success_response.map_or(204, |response| match response.status {
        StatusKey::Default => 200,
        status => status.code(),
    });
    let mut examples = Vec::new();
    let mut prefer = Vec::new();
    for response in &operation.responses {
        if response.status != StatusKey::Default {
            prefer.push(format!("code={}", response.status.code()));
        }
    }
    for response in &operation.responses {
        let is_success = success_response.is_some_and(|success| std::ptr::eq(success, response));
        for media in &response.content {
            for (name, _) in &media.examples {
                examples.push(ExampleName {
                    status: status_text(response.status),
                    media_type: media.media_type.clone(),
                    name: name.clone(),
                });
                let choice = if is_success {
                    format!("example={}", quoted_if_needed(name))
                } else {
                    format!(
                        "code={}, example={}",
                        response.status.code(),
                        quoted_if_needed(name)
                    )
                };
                if !prefer.contains(&choice) {
                    prefer.push(choice);
                }
            }
        }
    }
    if success_response.is_some_and(|response| {
        response
            .content
            .iter()
            .any(|media| !media.examples.is_empty() || media.example.is_some())
    }) {
        prefer.push("dynamic=false".to_owned());
    }
    RouteDetails {
        callbacks: operation
            .callbacks
            .iter()
            .map(|callback| CallbackName {
                name: callback.name.clone(),
                method: callback.method.to_string(),
                url: callback.expression.clone(),
            })
            .collect(),
        curl: curl_line(operation, base),
        label: operation.label.to_string(),
        route,
        statuses,
        success,
        examples,
        prefer,
    }
}

fn status_text(status: StatusKey) -> String {
    match status {
        StatusKey::Code(code) => code.to_string(),
        StatusKey::Range(class) => format!("{class}XX"),
        StatusKey::Default => "default".to_owned(),
    }
}

/// A `Prefer` value is a token or a quoted string.
fn quoted_if_needed(name: &str) -> String {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
    {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace(['"', '\\'], ""))
    }
}

/// The `curl` command for `operation`: every argument quoted for a POSIX shell.
fn curl_line(operation: &Operation, base: &str) -> String {
    let raw = resolve_pointer(&operation.document, &operation.pointer);
    let path_item = operation
        .pointer
        .rsplit_once('/')
        .and_then(|(parent, _)| resolve_pointer(&operation.document, parent));
    let example = |name: &str, location: Location| {
        parameter_example(&operation.document, raw, path_item, name, location)
    };
    let mut path = String::with_capacity(operation.route.len());
    let mut rest = operation.route.as_str();
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        let value = example(name, Location::Path).unwrap_or_else(|| "1".to_owned());
        path.extend(form_urlencoded::byte_serialize(value.as_bytes()));
        rest = &rest[open + close + 1..];
    }
    path.push_str(rest);
    // A path key's query part (`path_query.rs`): its literal pairs route the request.
    let mut query: Vec<(String, String)> = operation
        .query
        .iter()
        .flat_map(|key| key.literal.iter().cloned())
        .collect();
    let mut arguments: Vec<String> = Vec::new();
    for credential in operation.security.first().into_iter().flatten() {
        match credential {
            Credential::Http { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => {
                arguments.push(format!("-u {}", shell("me@example.com:secret")));
            }
            Credential::Http { scheme, .. } => {
                arguments.push(format!(
                    "-H {}",
                    shell(&format!("Authorization: {scheme} token"))
                ));
            }
            Credential::ApiKey { name, location } => match location {
                Location::Query => query.push((name.clone(), "key".to_owned())),
                Location::Cookie => arguments.push(format!("-b {}", shell(&format!("{name}=key")))),
                _ => arguments.push(format!("-H {}", shell(&format!("{name}: key")))),
            },
        }
    }
    // OpenAPI 3.2's `in: querystring` is the whole query string: its serialized example, as it is.
    let mut whole_query = None;
    for parameter in operation.parameters.iter().filter(|p| p.required) {
        if parameter.querystring.is_some() {
            whole_query = querystring_example(&operation.document, raw, path_item, &parameter.name);
            continue;
        }
        // A templated pair's parameter is sent in the query under the pair's name, and
        // documented under its own (`key={APIKEY}`, APIKEY declared in the path).
        let declared = operation.query.as_ref().and_then(|key| {
            key.templated
                .iter()
                .find(|(name, _)| parameter.location == Location::Query && *name == parameter.name)
        });
        let value = match declared {
            Some((_, declared)) => {
                example(declared, Location::Path).or_else(|| example(declared, Location::Query))
            }
            None => example(&parameter.name, parameter.location),
        }
        .unwrap_or_else(|| "value".to_owned());
        match parameter.location {
            // A `deepObject` parameter's object example is sent as its `name[key]=value` pairs.
            Location::Query
                if parameter.deep.is_some()
                    && let Ok(example @ Value::Object(_)) = serde_json::from_str(&value) =>
            {
                deep_pairs(&parameter.name, &example, &mut query);
            }
            Location::Query => query.push((parameter.name.clone(), value)),
            Location::Header => {
                arguments.push(format!(
                    "-H {}",
                    shell(&format!("{}: {value}", parameter.name))
                ));
            }
            Location::Cookie => {
                arguments.push(format!(
                    "-b {}",
                    shell(&format!("{}={value}", parameter.name))
                ));
            }
            Location::Path
            | Location::Body
            | Location::ResponseStatus
            | Location::ResponseHeader
            | Location::ResponseBody => {}
        }
    }
    if let Some(body) = &operation.body {
        let media = body
            .media
            .iter()
            .find(|media| media.json)
            .or_else(|| body.media.first());
        if let Some(media) = media {
            let content_type = if media.media_type.contains('*') {
                "application/json"
            } else {
                media.media_type.as_str()
            };
            arguments.push(format!(
                "-H {}",
                shell(&format!("Content-Type: {content_type}"))
            ));
            let data = request_example(&operation.document, raw, &media.media_type).map_or_else(
                || "{}".to_owned(),
                |value| match value {
                    Value::String(text) if !media.json => text.clone(),
                    other => other.to_string(),
                },
            );
            arguments.push(format!("-d {}", shell(&data)));
        }
    }
    let mut url = format!("{base}{path}");
    if !query.is_empty() || whole_query.is_some() {
        url.push('?');
        let pairs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let parts = [whole_query.as_deref(), Some(pairs.as_str())];
        let parts: Vec<&str> = parts
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .collect();
        url.push_str(&parts.join("&"));
    }
    let mut line = format!("curl -i {}", shell(&url));
    if operation.method != http::Method::GET
        && !(operation.method == http::Method::POST && operation.body.is_some())
    {
        line.push_str(&format!(" -X {}", operation.method));
    }
    for argument in arguments {
        line.push(' ');
        line.push_str(&argument);
    }
    line
}

/// `text` quoted for a POSIX shell.
fn shell(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A documented value for a parameter: its `example`, its first `examples` value, or its
/// schema's `example`, first `enum` value or `default`, as text.
fn parameter_example(
    document: &Value,
    operation: Option<&Value>,
    path_item: Option<&Value>,
    name: &str,
    location: Location,
) -> Option<String> {
    let located = match location {
        Location::Path => "path",
        Location::Query => "query",
        Location::Header => "header",
        Location::Cookie => "cookie",
        Location::Body
        | Location::ResponseStatus
        | Location::ResponseHeader
        | Location::ResponseBody => return None,
    };
    let parameter = find_parameter(document, operation, path_item, located, |own| {
        own == name || (location == Location::Header && own.eq_ignore_ascii_case(name))
    })?;
    let schema = parameter
        .get("schema")
        .map(|schema| deref(document, schema));
    let value = parameter
        .get("example")
        .or_else(|| {
            parameter
                .get("examples")?
                .as_object()?
                .values()
                .next()
                .and_then(|example| deref(document, example).get("value"))
        })
        .or_else(|| schema?.get("example"))
        .or_else(|| schema?.get("enum")?.get(0))
        .or_else(|| schema?.get("default"))?;
    Some(match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}

/// The parameter `in: located` whose name `named` accepts, the operation's before its path item's
/// (references followed).
fn find_parameter<'d>(
    document: &'d Value,
    operation: Option<&'d Value>,
    path_item: Option<&'d Value>,
    located: &str,
    named: impl Fn(&str) -> bool,
) -> Option<&'d Value> {
    [operation, path_item]
        .into_iter()
        .flatten()
        .filter_map(|owner| owner.get("parameters")?.as_array())
        .flatten()
        .map(|parameter| deref(document, parameter))
        .find(|parameter| {
            parameter.get("in").and_then(Value::as_str) == Some(located)
                && parameter
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(&named)
        })
}

/// The serialized example of an `in: querystring` parameter named `name`: the first Example
/// object's `serializedValue`, on the parameter or on its media type.
fn querystring_example(
    document: &Value,
    operation: Option<&Value>,
    path_item: Option<&Value>,
    name: &str,
) -> Option<String> {
    let parameter = find_parameter(document, operation, path_item, "querystring", |own| {
        own == name
    })?;
    let media = parameter
        .get("content")?
        .as_object()?
        .values()
        .next()
        .map(|media| deref(document, media));
    [Some(parameter), media]
        .into_iter()
        .flatten()
        .filter_map(|owner| owner.get("examples")?.as_object())
        .flat_map(|examples| examples.values())
        .find_map(|example| deref(document, example).get("serializedValue")?.as_str())
        .map(str::to_owned)
}

/// The documented example of the request body in `media_type`: its first named example, its
/// `example`, or its schema's `example`.
fn request_example<'d>(
    document: &'d Value,
    operation: Option<&'d Value>,
    media_type: &str,
) -> Option<&'d Value> {
    let content = deref(document, operation?.get("requestBody")?)
        .get("content")?
        .as_object()?;
    let media = content
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(media_type))
        .map(|(_, media)| media)?;
    media
        .get("examples")
        .and_then(Value::as_object)
        .and_then(|examples| examples.values().next())
        .and_then(|example| deref(document, example).get("value"))
        .or_else(|| media.get("example"))
        .or_else(|| deref(document, media.get("schema")?).get("example"))
}

/// `value` as the pairs of a `deepObject` parameter at `key` (`created[gte]=5`): an object's
/// keys in brackets, an array's items repeated, anything else as its text.
fn deep_pairs(key: &str, value: &Value, pairs: &mut Vec<(String, String)>) {
    match value {
        Value::Object(object) => {
            for (name, inner) in object {
                deep_pairs(&format!("{key}[{name}]"), inner, pairs);
            }
        }
        Value::Array(items) => {
            for item in items {
                deep_pairs(key, item, pairs);
            }
        }
        Value::String(text) => pairs.push((key.to_owned(), text.clone())),
        other => pairs.push((key.to_owned(), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_a_single_quote() {
        assert_eq!(shell("it's"), r"'it'\''s'");
        assert_eq!(quoted_if_needed("page-example"), "page-example");
        assert_eq!(quoted_if_needed("two words"), "\"two words\"");
    }
}
