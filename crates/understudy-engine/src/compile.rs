//! Compiling one OpenAPI document into [`Spec`]: routes, validators, generators and error shapes.
//! Every problem is collected with its JSON pointer, so `understudy check` can report them all.
//!
//! Past 600 lines because it reads every part of an operation in one walk that collects
//! problems; splitting it (parameters, bodies, responses) waits for the schema-model work on it
//! to land, so that the two do not fight over the same lines.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use serde_json::Value;

use crate::callback::{Callback, CallbackBody, UrlTemplate};
use crate::delivery;
use crate::error_body::ViolationMapping;
use crate::error_shape::ErrorShape;
use crate::fresh::Fresh;
use crate::generate::{DefaultSearch, Defaults, Generator, GeneratorSet};
use crate::json_schema::{self, Dialect, Direction, deref, escape, parent_pointer};
use crate::load_error::{ErrorKind, LoadError};
use crate::media_type;
use crate::operation::{
    BodyMedia, Credential, DeepObject, Example, FormBody, Operation, Parameter, ParameterShape,
    QueryString, RequestBody, RequestCounter, Response, ResponseHeader, ResponseMedia, ScalarKind,
    Spec, StatusKey, UniqueRule, Webhook,
};
use crate::references::Context;
use crate::resources::ResourceRole;
use crate::schema_model::{NamedTypes, SchemaId, SchemaModel};
use crate::shared_schema::{SchemaValidator, SharedSchemas};
use crate::stream::{self, EventItem, Stream};
use crate::violation::Location;

/// The methods a path item may document by their own key (`query` from OpenAPI 3.2 on); 3.2's
/// `additionalOperations` names any other.
pub(crate) const METHODS: [&str; 9] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace", "query",
];

/// Whether understudy serves documents that declare `openapi: version`: 3.0.x, 3.1.x and 3.2.x.
fn is_served_version(version: &str) -> bool {
    ["3.0.", "3.1.", "3.2."]
        .iter()
        .any(|prefix| version.starts_with(prefix))
}

/// Compiles a parsed, bundled document read from `file`.
pub fn compile_spec(file: &Path, mut document: Value) -> Result<Spec, Vec<LoadError>> {
    inline_media_types(&mut document);
    let ignored = drop_unresolved_discriminators(&mut document);
    let document = Arc::new(document);
    let mut compiler = Compiler::new(file, &document);
    for (pointer, reason) in ignored {
        compiler.warn(pointer, reason);
    }
    let spec = compiler.spec(&document);
    compiler.generator_set.finish();
    if compiler.errors.is_empty() {
        Ok(spec)
    } else {
        Err(compiler.errors)
    }
}

/// Puts a copy of each OpenAPI 3.2 `components.mediaTypes` entry where a `content` map names it
/// by `$ref`, so that everything after (compiling, the proxy's checks, the inspector) reads a
/// media type object in place. The references were checked before: each resolves, none is a
/// cycle.
fn inline_media_types(document: &mut Value) {
    let Some(shared) = document
        .pointer("/components/mediaTypes")
        .filter(|shared| shared.as_object().is_some_and(|shared| !shared.is_empty()))
        .cloned()
    else {
        return;
    };
    let root = serde_json::json!({"components": {"mediaTypes": shared}});
    inline_in(document, Context::Keywords, &root);
}

fn inline_in(value: &mut Value, context: Context, root: &Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let Some(inner) = context.child(key, child) else {
                    continue;
                };
                if key == "content"
                    && context == Context::Keywords
                    && let Value::Object(entries) = child
                {
                    for entry in entries.values_mut() {
                        let named = entry
                            .get("$ref")
                            .and_then(Value::as_str)
                            .is_some_and(|target| target.starts_with("#/components/mediaTypes/"));
                        if named {
                            let target = deref(root, entry);
                            if target.get("$ref").is_none() {
                                *entry = target.clone();
                            }
                        }
                    }
                }
                inline_in(child, inner, root);
            }
        }
        Value::Array(items) => {
            for item in items {
                inline_in(item, context, root);
            }
        }
        _ => {}
    }
}

/// Removes each discriminator over `oneOf`/`anyOf` whose `mapping` names a schema the document
/// does not have (DigitalOcean's map values to `models/droplet_actions.yml#/droplet_action`,
/// files its bundler left behind), and gives `(pointer, reason)` for each. Such a discriminator
/// cannot be followed as written, while its `oneOf`/`anyOf` still says which bodies are valid:
/// the validator's translation and the generator then both read the plain keyword, and agree.
fn drop_unresolved_discriminators(document: &mut Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    unresolved_discriminators(document, document, Context::Keywords, "", &mut found);
    for (pointer, _) in &found {
        if let Some(Value::Object(schema)) =
            document.pointer_mut(json_schema::parent_pointer(pointer))
        {
            schema.remove("discriminator");
        }
    }
    found
}

fn unresolved_discriminators(
    document: &Value,
    value: &Value,
    context: Context,
    pointer: &str,
    found: &mut Vec<(String, String)>,
) {
    match value {
        Value::Object(map) => {
            let branched = map.contains_key("oneOf") || map.contains_key("anyOf");
            let missing = map
                .get("discriminator")
                .and_then(|discriminator| discriminator.get("mapping"))
                .and_then(Value::as_object)
                .filter(|_| context == Context::Keywords && branched)
                .and_then(|mapping| {
                    mapping.values().filter_map(Value::as_str).find(|target| {
                        let target = if target.starts_with('#') {
                            (*target).to_owned()
                        } else {
                            format!("#/components/schemas/{target}")
                        };
                        json_schema::resolve_pointer(document, &target).is_none()
                    })
                });
            if let Some(missing) = missing {
                found.push((
                    format!("{pointer}/discriminator"),
                    format!(
                        "the discriminator's mapping names `{missing}`, which is not in the document; the discriminator is ignored and the `oneOf`/`anyOf` beside it is checked as written"
                    ),
                ));
            }
            for (key, child) in map {
                if let Some(inner) = context.child(key, child) {
                    let here = format!("{pointer}/{}", escape(key));
                    unresolved_discriminators(document, child, inner, &here, found);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let here = format!("{pointer}/{index}");
                unresolved_discriminators(document, item, context, &here, found);
            }
        }
        _ => {}
    }
}

/// Headers a documented response never gets copied into an answer: the server frames the body
/// (`Content-Type`, `Content-Length`, `Transfer-Encoding`, `Trailer`) and owns the connection
/// (`Connection`, `Keep-Alive`, `Upgrade`).
fn is_framing_or_hop_by_hop(name: &http::HeaderName) -> bool {
    use http::header;
    [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::TRAILER,
        header::CONNECTION,
        header::UPGRADE,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
}

/// The path prefix a `servers[0].url` mounts a spec under, its variables set to their defaults.
pub fn mount_path(document: &Value) -> String {
    let Some(server) = document.pointer("/servers/0") else {
        return String::new();
    };
    let mut url = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Some(variables) = server.get("variables").and_then(Value::as_object) {
        for (name, variable) in variables {
            let default = variable
                .get("default")
                .and_then(Value::as_str)
                .unwrap_or("");
            url = url.replace(&format!("{{{name}}}"), default);
        }
    }
    // An absolute URL (`https://host/v1`) or a protocol-relative one (`//host/v1`, as
    // Kubernetes' description has) mounts at its path; a relative one (`/v1`, `v1`, `./v1`) is the
    // path, under the root.
    let authority_and_path = match url.find("://") {
        Some(scheme_end) => Some(&url[scheme_end + 3..]),
        None => url.strip_prefix("//"),
    };
    let path = match authority_and_path {
        Some(after) => after.find('/').map_or("", |slash| &after[slash..]),
        None => url.trim_start_matches('.'),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = path.trim_matches('/');
    if path.is_empty() {
        String::new()
    } else {
        format!("/{path}")
    }
}

struct Compiler<'a> {
    file: &'a Path,
    document: &'a Arc<Value>,
    errors: Vec<LoadError>,
    /// What loads but is not served as written (a pattern no engine reads), once per pointer.
    warnings: Vec<LoadError>,
    /// Validators already compiled, by direction and schema text: a schema written the same way
    /// twice (most often one `$ref`, such as Stripe's error object under all 452 operations'
    /// `default`) is compiled once and shared, so memory grows with the schemas, not with the
    /// operations that use them.
    validators: HashMap<(Direction, String), Arc<SchemaValidator>>,
    /// The schemas references lead to, compiled once per direction and reached by every
    /// validator through bridges ([`crate::shared_schema`]), so that a validator holds only its
    /// own schema.
    shared: HashMap<Direction, SharedSchemas>,
    /// Generators already compiled, by schema text, shared the same way (a clone shares the plan).
    generators: HashMap<String, Generator>,
    /// What every generator of the document is compiled with: each schema read once, each
    /// combination of schemas planned once, for all of them.
    generator_set: GeneratorSet<'a>,
    /// Which request schemas may lead to a `default`, each schema walked once for all bodies.
    default_search: DefaultSearch,
}

impl<'a> Compiler<'a> {
    /// A compiler for `document`, read from `file`, with nothing compiled yet.
    fn new(file: &'a Path, document: &'a Arc<Value>) -> Self {
        Compiler {
            file,
            document,
            errors: Vec::new(),
            warnings: Vec::new(),
            validators: HashMap::new(),
            shared: HashMap::new(),
            generators: HashMap::new(),
            generator_set: GeneratorSet::new(document),
            default_search: DefaultSearch::default(),
        }
    }

    fn error(&mut self, pointer: impl Into<String>, kind: ErrorKind, reason: impl Into<String>) {
        self.errors
            .push(LoadError::at(self.file, pointer, kind, reason));
    }

    /// Notes what loads but is not served as the specification says, once per pointer.
    fn warn(&mut self, pointer: impl Into<String>, reason: impl Into<String>) {
        let pointer = pointer.into();
        if !self.warnings.iter().any(|known| known.location == pointer) {
            self.warnings.push(LoadError::at(
                self.file,
                pointer,
                ErrorKind::Structure,
                reason,
            ));
        }
    }

    fn spec(&mut self, document: &'a Value) -> Spec {
        let name = self
            .file
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("spec")
            .to_owned();
        let version = match document.get(crate::swagger2::CONVERTED_KEY) {
            Some(Value::String(from)) => format!("Swagger {from}"),
            _ => format!(
                "OpenAPI {}",
                document
                    .get("openapi")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ),
        };
        match document.get("openapi").and_then(Value::as_str) {
            Some(version) if is_served_version(version) => {}
            Some(version) => self.error(
                "/openapi",
                ErrorKind::Structure,
                format!(
                    "OpenAPI {version} is not supported; understudy serves OpenAPI 3.0, 3.1 and 3.2"
                ),
            ),
            None => match document.get("swagger") {
                Some(swagger) => self.error(
                    "/swagger",
                    ErrorKind::Structure,
                    format!(
                        "Swagger {} is not supported; understudy reads Swagger 2.0 and OpenAPI 3.0, 3.1 and 3.2",
                        swagger.as_str().map_or_else(|| swagger.to_string(), str::to_owned)
                    ),
                ),
                None => self.error(
                    "/openapi",
                    ErrorKind::Structure,
                    "not an OpenAPI document: the `openapi` field (3.0.x, 3.1.x or 3.2.x) is missing",
                ),
            },
        }
        let title = document
            .pointer("/info/title")
            .and_then(Value::as_str)
            .unwrap_or(&name)
            .to_owned();
        let mount = mount_path(document);
        let roles = crate::resources::infer(
            self.generator_set.model(),
            &mount,
            &mut self.errors,
            self.file,
        );
        let mut operations = Vec::new();
        match document.get("paths") {
            Some(Value::Object(paths)) => {
                for (path, item) in paths {
                    // `x-` keys of the Paths object are extensions, not paths.
                    if path.starts_with("x-") {
                        continue;
                    }
                    if !path.starts_with('/') {
                        self.error(
                            format!("/paths/{}", escape(path)),
                            ErrorKind::Structure,
                            "a path must start with `/`",
                        );
                        continue;
                    }
                    self.path_item(&name, &mount, path, item, &roles, &mut operations);
                }
            }
            // From 3.1 on a document may describe only webhooks or components.
            None if Dialect::of(document) == Dialect::JsonSchema202012 => {}
            _ => self.error("/paths", ErrorKind::Structure, "`paths` must be an object"),
        }
        let webhooks = self.webhooks(document);
        Spec {
            name,
            file: self.file.to_owned(),
            title,
            version,
            mount,
            operations,
            warnings: std::mem::take(&mut self.warnings),
            webhooks,
        }
    }

    /// The top-level `webhooks` (OpenAPI 3.1), one per name and method: listed, never served.
    fn webhooks(&mut self, document: &'a Value) -> Vec<Webhook> {
        let Some(webhooks) = document.get("webhooks") else {
            return Vec::new();
        };
        let Some(webhooks) = webhooks.as_object() else {
            self.error(
                "/webhooks",
                ErrorKind::Structure,
                "`webhooks` must be an object",
            );
            return Vec::new();
        };
        let mut listed = Vec::new();
        for (name, item) in webhooks {
            let item = deref(document, item);
            for method in METHODS {
                if item.get(method).is_some()
                    && let Ok(parsed) =
                        http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                {
                    listed.push(Webhook {
                        name: name.clone(),
                        method: parsed,
                        pointer: format!("/webhooks/{}/{method}", escape(name)),
                    });
                }
            }
        }
        listed
    }

    /// An operation's `callbacks`: for each name, each URL expression and each method of its
    /// path item, the parsed expression and a generator for the JSON request body. An expression
    /// that does not parse is an error at its key's pointer.
    fn callbacks(&mut self, operation: &'a Value, pointer: &str) -> Vec<Callback> {
        let Some(callbacks) = operation.get("callbacks") else {
            return Vec::new();
        };
        let document = self.document;
        let Some(callbacks) = callbacks.as_object() else {
            self.error(
                format!("{pointer}/callbacks"),
                ErrorKind::Structure,
                "`callbacks` must be an object",
            );
            return Vec::new();
        };
        let mut compiled = Vec::new();
        for (name, callback) in callbacks {
            let at = format!("{pointer}/callbacks/{}", escape(name));
            let Some(expressions) = deref(document, callback).as_object() else {
                self.error(at, ErrorKind::Structure, "a callback must be an object");
                continue;
            };
            for (key, item) in expressions {
                // Extensions of the Callback object.
                if key.starts_with("x-") {
                    continue;
                }
                let item_at = format!("{at}/{}", escape(key));
                let url = match UrlTemplate::parse(key) {
                    Ok(url) => url,
                    Err(reason) if key.contains('$') => {
                        // A runtime expression written wrong: the author wants to know.
                        self.error(
                            item_at,
                            ErrorKind::Structure,
                            format!(
                                "the callback URL `{key}` is not a runtime expression: {reason}"
                            ),
                        );
                        continue;
                    }
                    Err(reason) => {
                        // No expression at all (Up's `{webhookURL}`): the author meant a URL the
                        // client registered, which no runtime expression names; the rest of the
                        // spec still serves.
                        self.warn(
                            item_at,
                            format!(
                                "the callback URL `{key}` is not a runtime expression: {reason}; this callback is not made"
                            ),
                        );
                        continue;
                    }
                };
                let item = deref(document, item);
                for method in METHODS {
                    let Some(callback_operation) = item.get(method) else {
                        continue;
                    };
                    let Ok(method_value) =
                        http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                    else {
                        continue;
                    };
                    let operation_at = format!("{item_at}/{method}");
                    let body = self.callback_body(callback_operation, &operation_at);
                    compiled.push(Callback {
                        name: name.clone(),
                        expression: key.clone(),
                        url: url.clone(),
                        method: method_value,
                        pointer: operation_at,
                        body,
                    });
                }
            }
        }
        compiled
    }

    /// A callback operation's JSON request body: its first JSON media type with a schema, made
    /// by a generator as a response is (the mock sends it), checked by the matching validator.
    fn callback_body(&mut self, operation: &'a Value, pointer: &str) -> Option<CallbackBody> {
        let document = self.document;
        let body = deref(document, operation.get("requestBody")?);
        let content = body.get("content")?.as_object()?;
        let (media_type, schema) = content.iter().find_map(|(media_type, entry)| {
            media_type::is_json(media_type)
                .then(|| entry.get("schema").map(|schema| (media_type, schema)))
                .flatten()
        })?;
        let at = format!(
            "{pointer}/requestBody/content/{}/schema",
            escape(media_type)
        );
        let generator = self.generator(schema, &at)?;
        let validator = self.validator(schema, &at, Direction::Response);
        Some(CallbackBody {
            content_type: HeaderValue::from_str(media_type)
                .unwrap_or_else(|_| HeaderValue::from_static("application/json")),
            generator,
            validator,
        })
    }

    fn path_item(
        &mut self,
        spec: &str,
        mount: &str,
        path: &str,
        item: &'a Value,
        roles: &HashMap<(String, &'static str), ResourceRole>,
        operations: &mut Vec<Arc<Operation>>,
    ) {
        let item_pointer = format!("/paths/{}", escape(path));
        // Box's description keys several operations on one path apart with a fragment
        // (`/shared_items#folders`); a request never carries it, so the route is the path alone.
        let template = path.split_once('#').map_or(path, |(template, _)| template);
        // Flickr's keys carry a query (`/rest?method=…`), Weatherbit's a templated one
        // (`/alerts?lat={lat}`): the route is the part before `?` (`path_query.rs`).
        let (template, key_query) = crate::path_query::split_key(template);
        if let Some(query) = &key_query {
            self.warn(item_pointer.clone(), query.warning(template));
        }
        if let Some(name) = repeated_template_name(template) {
            self.warn(
                item_pointer.clone(),
                format!(
                    "the path template names `{{{name}}}` twice; each segment is read as that parameter and checked against it"
                ),
            );
        }
        let document = self.document;
        let item = deref(document, item);
        let shared = item.get("parameters");
        let mut documented: Vec<(&str, String, &Value)> = METHODS
            .iter()
            .filter_map(|method| {
                let operation = item.get(*method)?;
                Some((*method, format!("{item_pointer}/{method}"), operation))
            })
            .collect();
        if let Some(more) = item.get("additionalOperations").and_then(Value::as_object) {
            for (method, operation) in more {
                let pointer = format!("{item_pointer}/additionalOperations/{}", escape(method));
                documented.push((method.as_str(), pointer, operation));
            }
        }
        for (method, pointer, operation) in documented {
            if !operation.is_object() {
                self.error(
                    pointer,
                    ErrorKind::Structure,
                    "an operation must be an object",
                );
                continue;
            }
            let role = roles.get(&(path.to_owned(), method)).cloned();
            let stored = role.is_some();
            if let Some(mut compiled) = self.operation(
                spec, mount, template, method, operation, shared, &pointer, stored,
            ) {
                compiled.resource = role;
                if let Some(query) = &key_query {
                    query.place(&mut compiled.parameters);
                    compiled.query = Some(query.clone());
                    compiled.label = match &compiled.operation_id {
                        Some(id) => {
                            format!("{} {} ({id})", compiled.method, compiled.shown_route())
                        }
                        None => format!("{} {}", compiled.method, compiled.shown_route()),
                    }
                    .into();
                }
                if let Some(role) = &compiled.resource {
                    compiled.collection.clone_from(&role.collection);
                }
                operations.push(Arc::new(compiled));
            }
            self.generator_set.model().release();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &mut self,
        spec: &str,
        mount: &str,
        path: &str,
        method: &str,
        operation: &'a Value,
        shared_parameters: Option<&'a Value>,
        pointer: &str,
        stored: bool,
    ) -> Option<Operation> {
        let before = self.errors.len();
        let method_value = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).ok()?;
        let route = format!("{mount}{path}");
        let parameters = self.parameters(operation, shared_parameters, pointer);
        let security = self.security(operation, pointer);
        let body = operation
            .get("requestBody")
            .and_then(|body| self.request_body(body, &format!("{pointer}/requestBody")));
        // A success is only checked after echoing a request body into it, or when a resource's
        // stored record answers it (which another operation's answer or request made), so only
        // those operations need response validators (this keeps large specs quick to load).
        let echoes = stored
            || body
                .as_ref()
                .is_some_and(|body| body.media.iter().any(|media| media.json));
        let responses = self.responses(operation, pointer, echoes);
        let mut produces: Vec<String> = Vec::new();
        for response in &responses {
            for media in &response.content {
                if !produces.contains(&media.media_type) {
                    produces.push(media.media_type.clone());
                }
            }
        }
        let unique = self.unique(operation, pointer, &responses);
        let callbacks = self.callbacks(operation, pointer);
        let collection = match operation.get("x-understudy-collection") {
            None => route.clone(),
            Some(Value::String(name)) => name.clone(),
            Some(_) => {
                self.error(
                    format!("{pointer}/x-understudy-collection"),
                    ErrorKind::Extension,
                    "`x-understudy-collection` must be a string",
                );
                route.clone()
            }
        };
        let delay = match operation.get("x-understudy-delay") {
            None => None,
            Some(Value::Number(ms)) if ms.as_u64().is_some() => ms
                .as_u64()
                .map(|ms| Duration::from_millis(ms).min(delivery::MAX_DELAY)),
            Some(_) => {
                self.error(
                    format!("{pointer}/x-understudy-delay"),
                    ErrorKind::Extension,
                    "`x-understudy-delay` must be a whole number of milliseconds",
                );
                None
            }
        };
        let creates = method == "post"
            && responses.iter().any(|response| {
                (200..300).contains(&response.status.code())
                    && response.status != StatusKey::Default
                    && response
                        .content
                        .iter()
                        .any(|media| media.generator.is_some())
            });
        if self.errors.len() > before {
            return None;
        }
        let fresh = if creates {
            fresh_rules(
                self.generator_set.model(),
                operation,
                body.as_ref(),
                &responses,
                &route,
            )
        } else {
            None
        };
        let operation_id = operation
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let label = match &operation_id {
            Some(id) => format!("{method_value} {route} ({id})"),
            None => format!("{method_value} {route}"),
        };
        Some(Operation {
            spec: spec.into(),
            method: method_value,
            route,
            query: None,
            operation_id,
            label: label.into(),
            pointer: pointer.to_owned(),
            document: Arc::clone(self.document),
            parameters,
            security,
            body,
            responses,
            produces,
            unique,
            collection,
            creates,
            delay,
            fresh,
            resource: None,
            callbacks,
            served: RequestCounter::default(),
        })
    }

    fn parameters(
        &mut self,
        operation: &'a Value,
        shared: Option<&'a Value>,
        pointer: &str,
    ) -> Vec<Parameter> {
        let document = self.document;
        let mut by_key: Vec<(String, Location, &Value, String)> = Vec::new();
        let lists = [
            (shared, format!("{}/parameters", parent_pointer(pointer))),
            (operation.get("parameters"), format!("{pointer}/parameters")),
        ];
        for (list, list_pointer) in lists {
            let Some(list) = list else { continue };
            let Some(items) = list.as_array() else {
                self.error(
                    list_pointer,
                    ErrorKind::Structure,
                    "`parameters` must be an array",
                );
                continue;
            };
            for (index, parameter) in items.iter().enumerate() {
                let at = format!("{list_pointer}/{index}");
                let parameter = deref(document, parameter);
                let name = parameter.get("name").and_then(Value::as_str);
                let location = match parameter.get("in").and_then(Value::as_str) {
                    Some("path") => Some(Location::Path),
                    // OpenAPI 3.2's whole query string is read in the query, as one value.
                    Some("query" | "querystring") => Some(Location::Query),
                    Some("header") => Some(Location::Header),
                    Some("cookie") => Some(Location::Cookie),
                    _ => None,
                };
                let (Some(name), Some(location)) = (name, location) else {
                    self.error(
                        at,
                        ErrorKind::Structure,
                        "a parameter needs a `name` and `in` (path, query, querystring, header or \
                         cookie)",
                    );
                    continue;
                };
                // OpenAPI: a header parameter named Accept, Content-Type or Authorization "SHALL
                // be ignored" (content negotiation and security say those).
                if location == Location::Header
                    && ["accept", "content-type", "authorization"]
                        .iter()
                        .any(|reserved| name.eq_ignore_ascii_case(reserved))
                {
                    continue;
                }
                let same = |(existing, place, ..): &(String, Location, &Value, String)| {
                    *place == location
                        && if location == Location::Header {
                            existing.eq_ignore_ascii_case(name)
                        } else {
                            existing == name
                        }
                };
                by_key.retain(|entry| !same(entry));
                by_key.push((name.to_owned(), location, parameter, at));
            }
        }
        let whole_query = by_key
            .iter()
            .filter(|(_, _, parameter, _)| is_querystring(parameter))
            .count();
        if whole_query > 0
            && (whole_query > 1
                || by_key.iter().any(|(_, location, parameter, _)| {
                    *location == Location::Query && !is_querystring(parameter)
                }))
        {
            self.warn(
                format!("{pointer}/parameters"),
                "an `in: querystring` parameter must be the only parameter of the query; each \
                 is checked as written",
            );
        }
        let mut compiled = Vec::with_capacity(by_key.len());
        for (name, location, parameter, at) in by_key {
            let querystring = is_querystring(parameter)
                .then(|| self.querystring(parameter, &at))
                .flatten();
            let schema = parameter.get("schema").or_else(|| {
                parameter
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|content| content.values().next())
                    .map(|media| deref(document, media))
                    .and_then(|media| media.get("schema"))
            });
            let validator = schema.and_then(|schema| {
                self.validator(schema, &format!("{at}/schema"), Direction::Request)
            });
            let shape = schema.map_or(ParameterShape::Scalar(ScalarKind::String), |schema| {
                let model = self.generator_set.model();
                let id = model.id(schema);
                shape_of(model, id)
            });
            let explode = parameter
                .get("explode")
                .and_then(Value::as_bool)
                .unwrap_or_else(|| {
                    matches!(
                        parameter.get("style").and_then(Value::as_str),
                        None | Some("form")
                    ) && matches!(location, Location::Query | Location::Cookie)
                });
            let deep = schema
                .filter(|_| {
                    location == Location::Query
                        && parameter.get("style").and_then(Value::as_str) == Some("deepObject")
                })
                .and_then(|schema| {
                    let model = self.generator_set.model();
                    let id = model.id(schema);
                    let object = NamedTypes::of(model, id).has("object")
                        || !model.get(id).properties.is_empty();
                    let mut budget = DEEP_KEYS;
                    object.then(|| deep_object(model, id, 0, &mut budget))
                });
            compiled.push(Parameter {
                required: location == Location::Path
                    || parameter.get("required").and_then(Value::as_bool) == Some(true),
                name,
                location,
                shape,
                explode,
                allow_empty: location == Location::Query
                    && parameter.get("allowEmptyValue") == Some(&Value::Bool(true)),
                validator,
                querystring,
                deep,
            });
        }
        compiled
    }

    /// How an `in: querystring` parameter reads the query string: by the media type of its
    /// `content`, which it must have.
    fn querystring(&mut self, parameter: &'a Value, pointer: &str) -> Option<QueryString> {
        let document = self.document;
        let Some((media_type, media)) = parameter
            .get("content")
            .and_then(Value::as_object)
            .and_then(|content| content.iter().next())
        else {
            self.error(
                pointer,
                ErrorKind::Structure,
                "an `in: querystring` parameter needs `content`: the media type the whole query \
                 string is read as, and its schema",
            );
            return None;
        };
        let essence = media_type::essence(media_type);
        if essence == "application/x-www-form-urlencoded" {
            let schema = deref(document, media).get("schema")?;
            let properties = form_properties(self.generator_set.model(), schema);
            Some(QueryString::Form { properties })
        } else if media_type::is_json(&essence) {
            Some(QueryString::Json)
        } else {
            Some(QueryString::Text)
        }
    }

    fn security(&mut self, operation: &Value, pointer: &str) -> Vec<Vec<Credential>> {
        let document = self.document;
        let (requirements, at) = match operation.get("security") {
            Some(security) => (security, format!("{pointer}/security")),
            None => match document.get("security") {
                Some(security) => (security, "/security".to_owned()),
                None => return Vec::new(),
            },
        };
        let Some(requirements) = requirements.as_array() else {
            self.error(at, ErrorKind::Structure, "`security` must be an array");
            return Vec::new();
        };
        let mut alternatives = Vec::new();
        for (index, requirement) in requirements.iter().enumerate() {
            let Some(requirement) = requirement.as_object() else {
                self.error(
                    format!("{at}/{index}"),
                    ErrorKind::Structure,
                    "a security requirement must be an object",
                );
                continue;
            };
            if requirement.is_empty() {
                // `{}` makes credentials optional.
                return Vec::new();
            }
            let mut credentials = Vec::new();
            for (name, required) in requirement {
                let scheme_pointer = format!("/components/securitySchemes/{}", escape(name));
                let Some(scheme) = document
                    .pointer(&scheme_pointer)
                    .map(|s| deref(document, s))
                else {
                    self.error(
                        format!("{at}/{index}/{}", escape(name)),
                        ErrorKind::Structure,
                        format!(
                            "security scheme `{name}` is not defined in components.securitySchemes"
                        ),
                    );
                    continue;
                };
                if scheme.get("type").and_then(Value::as_str) == Some("mutualTLS") {
                    // OpenAPI 3.1's client certificate: the mock serves plain HTTP, so the
                    // requirement is met without one.
                    self.warn(
                        scheme_pointer,
                        "a `mutualTLS` security scheme is not enforced: understudy serves plain \
                         HTTP and checks no client certificate",
                    );
                    continue;
                }
                match credential(scheme) {
                    Ok(mut credential) => {
                        if let Credential::Http { scopes, .. } = &mut credential
                            && takes_scopes(scheme)
                        {
                            match scope_list(required) {
                                Ok(list) => *scopes = list,
                                Err(reason) => self.error(
                                    format!("{at}/{index}/{}", escape(name)),
                                    ErrorKind::Structure,
                                    reason,
                                ),
                            }
                        }
                        credentials.push(credential);
                    }
                    Err(reason) => self.error(scheme_pointer, ErrorKind::Structure, reason),
                }
            }
            alternatives.push(credentials);
        }
        alternatives
    }

    fn request_body(&mut self, body: &'a Value, pointer: &str) -> Option<RequestBody> {
        let document = self.document;
        let body = deref(document, body);
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            self.error(
                pointer,
                ErrorKind::Structure,
                "a request body needs `content`",
            );
            return None;
        };
        let mut media = Vec::with_capacity(content.len());
        for (media_type, entry) in content {
            let at = format!("{pointer}/content/{}", escape(media_type));
            let schema = entry.get("schema");
            let validator = schema.and_then(|schema| {
                self.validator(schema, &format!("{at}/schema"), Direction::Request)
            });
            media.push(BodyMedia {
                media_type: media_type.to_ascii_lowercase(),
                json: media_type::is_json(media_type),
                validator,
                form: schema.and_then(|schema| {
                    form_body(self.generator_set.model(), media_type, entry, schema)
                }),
                schema: schema.cloned(),
                defaults: schema
                    .filter(|schema| {
                        self.default_search
                            .may_reach(self.generator_set.model(), schema)
                    })
                    .map(|schema| Defaults::compile_in(self.generator_set.model(), schema))
                    .filter(|defaults| !defaults.is_empty()),
            });
        }
        Some(RequestBody {
            required: body.get("required").and_then(Value::as_bool) == Some(true),
            media,
        })
    }

    fn responses(&mut self, operation: &'a Value, pointer: &str, echoes: bool) -> Vec<Response> {
        let document = self.document;
        let at = format!("{pointer}/responses");
        let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
            self.error(at, ErrorKind::Structure, "an operation needs `responses`");
            return Vec::new();
        };
        let mut compiled = Vec::with_capacity(responses.len());
        for (status, response) in responses {
            let here = format!("{at}/{}", escape(status));
            let Some(key) = status_key(status) else {
                self.error(
                    here,
                    ErrorKind::Structure,
                    format!("`{status}` is not a status code, a range such as `4XX`, or `default`"),
                );
                continue;
            };
            let response = deref(document, response);
            compiled.push(self.response(key, response, &here, echoes));
        }
        compiled.sort_by_key(|response| response.status);
        compiled
    }

    fn response(
        &mut self,
        status: StatusKey,
        response: &'a Value,
        pointer: &str,
        echoes: bool,
    ) -> Response {
        let document = self.document;
        let mut headers = Vec::new();
        if let Some(declared) = response.get("headers").and_then(Value::as_object) {
            for (name, header) in declared {
                let at = format!("{pointer}/headers/{}", escape(name));
                let Ok(header_name) = http::HeaderName::from_bytes(name.as_bytes()) else {
                    self.error(
                        at,
                        ErrorKind::Structure,
                        format!("`{name}` is not a valid header name"),
                    );
                    continue;
                };
                // The answer's own framing says these; a documented copy (GitHub's `POST
                // /markdown` documents `Content-Length: 279`) would contradict it, and clients
                // would wait for bytes that never come.
                if is_framing_or_hop_by_hop(&header_name) {
                    continue;
                }
                let header = deref(document, header);
                let generator = header
                    .get("schema")
                    .and_then(|schema| self.generator(schema, &format!("{at}/schema")));
                let example = header
                    .get("example")
                    .or_else(|| header.pointer("/schema/example"))
                    .cloned();
                headers.push(ResponseHeader {
                    name: header_name,
                    generator,
                    example,
                });
            }
        }
        let mut content = Vec::new();
        if let Some(declared) = response.get("content").and_then(Value::as_object) {
            for (media_type, entry) in declared {
                let at = format!("{pointer}/content/{}", escape(media_type));
                let schema = entry.get("schema");
                let generator =
                    schema.and_then(|schema| self.generator(schema, &format!("{at}/schema")));
                // OpenAPI 3.2: a sequential media type described item by item is a stream.
                let stream = match (schema, entry.get("itemSchema")) {
                    (None, Some(item_schema)) => self.stream(media_type, item_schema, &at),
                    _ => None,
                };
                // A range (`*/*`, GitHub's `application/*`) is answered as a concrete type.
                let kind = body_kind(self.generator_set.model(), schema);
                let concrete = media_type::concrete(media_type, kind);
                let json = media_type::is_json(&concrete);
                // An error body is its schema filled with the violations, or with what a status
                // a client asked for means (`error_shape.rs`); `x-understudy-violations` wins for
                // violations where a spec has it.
                let error_shape = match (schema, json) {
                    (Some(schema), true) if is_error(status) => {
                        Some(ErrorShape::read(self.generator_set.model(), schema))
                    }
                    _ => None,
                };
                // A generator that cannot vouch for its bodies (a 2020-12 keyword it does not
                // model) has them checked, and drawn again, against the validator.
                let unsure = generator
                    .as_ref()
                    .is_some_and(|generator| !generator.is_exact());
                let validator = match (schema, json) {
                    (Some(schema), true)
                        if (echoes && (200..300).contains(&status.code()))
                            || error_shape.is_some()
                            || unsure =>
                    {
                        self.validator(schema, &format!("{at}/schema"), Direction::Response)
                    }
                    _ => None,
                };
                let mut examples = Vec::new();
                if let Some(named) = entry.get("examples").and_then(Value::as_object) {
                    for (name, example) in named {
                        let example = deref(document, example);
                        let value = self.example_value(
                            example,
                            json,
                            stream.as_ref(),
                            &format!("{at}/examples/{}", escape(name)),
                        );
                        if let Some(value) = value {
                            examples.push((name.clone(), value));
                        }
                    }
                }
                // A media type is ASCII (RFC 6838); some `http` releases take other bytes in a
                // header value and some do not, and an answer of a type refused there would go
                // out with no Content-Type at all.
                let content_type = HeaderValue::from_str(&concrete.to_ascii_lowercase())
                    .ok()
                    .filter(|_| concrete.is_ascii());
                if content_type.is_none() {
                    self.error(
                        at.clone(),
                        ErrorKind::Structure,
                        format!("`{media_type}` cannot be sent as a Content-Type header"),
                    );
                }
                let media_type = media_type.to_ascii_lowercase();
                let validator_ref = validator.as_deref();
                content.push(ResponseMedia {
                    content_type,
                    json,
                    media_type,
                    generator,
                    stream,
                    error_shape,
                    examples: examples
                        .into_iter()
                        .map(|(name, value)| (name, example(json, validator_ref, &value)))
                        .collect(),
                    example: entry
                        .get("example")
                        .map(|value| example(json, validator_ref, value)),
                    validator,
                });
            }
        }
        let violations = response.get("x-understudy-violations").and_then(|value| {
            ViolationMapping::parse(value)
                .map_err(|reason| {
                    self.error(
                        format!("{pointer}/x-understudy-violations"),
                        ErrorKind::Extension,
                        reason,
                    );
                })
                .ok()
        });
        Response {
            status,
            headers,
            media_types: content
                .iter()
                .map(|media| media.media_type.clone())
                .collect(),
            content,
            violations,
        }
    }

    /// The stream a sequential media type with an `itemSchema` is answered with; `None` for a
    /// media type understudy does not stream (it is then answered as a schemaless body).
    fn stream(
        &mut self,
        media_type: &str,
        item_schema: &'a Value,
        pointer: &str,
    ) -> Option<Stream> {
        let format = stream::Format::of(media_type)?;
        let items = self.items(item_schema, &format!("{pointer}/itemSchema"))?;
        let event = match format {
            stream::Format::EventStream => match Stream::event_item(self.document, item_schema) {
                (EventItem::Event { .. }, Some(content)) => EventItem::Event {
                    content: self.items(
                        content,
                        &format!("{pointer}/itemSchema/properties/data/contentSchema"),
                    ),
                },
                (event, _) => event,
            },
            _ => EventItem::Data,
        };
        Some(Stream {
            format,
            items,
            event,
        })
    }

    /// A schema's generator and validator, for items made one by one.
    fn items(&mut self, schema: &'a Value, pointer: &str) -> Option<stream::Items> {
        let generator = self.generator(schema, pointer)?;
        let validator = self.validator(schema, pointer, Direction::Response);
        Some(stream::Items {
            generator,
            validator,
        })
    }

    /// What an Example object gives as a body: `value`, or OpenAPI 3.2's `dataValue` (the same,
    /// and for a stream a list of items, written as the stream writes them) or
    /// `serializedValue` (the body's text as it is; for JSON, the value it reads as). A
    /// non-JSON body prefers the serialized form, a JSON one the data.
    fn example_value(
        &mut self,
        example: &Value,
        json: bool,
        stream: Option<&Stream>,
        pointer: &str,
    ) -> Option<Value> {
        let data = example.get("dataValue").map(|data| match (stream, data) {
            (Some(stream), Value::Array(items)) => {
                Value::String(String::from_utf8_lossy(&stream.serialize(items)).into_owned())
            }
            _ => data.clone(),
        });
        let serialized = example.get("serializedValue").and_then(Value::as_str);
        if json {
            if let Some(data) = data.or_else(|| example.get("value").cloned()) {
                return Some(data);
            }
            let text = serialized?;
            return match serde_json::from_str(text) {
                Ok(value) => Some(value),
                Err(error) => {
                    self.warn(
                        format!("{pointer}/serializedValue"),
                        format!("the example is not well-formed JSON ({error}); it is not used"),
                    );
                    None
                }
            };
        }
        serialized
            .map(|text| Value::String(text.to_owned()))
            .or(data)
            .or_else(|| example.get("value").cloned())
    }

    fn unique(
        &mut self,
        operation: &Value,
        pointer: &str,
        responses: &[Response],
    ) -> Vec<UniqueRule> {
        let Some(declared) = operation.get("x-understudy-unique") else {
            return Vec::new();
        };
        let at = format!("{pointer}/x-understudy-unique");
        let Some(items) = declared.as_array() else {
            self.error(
                at,
                ErrorKind::Extension,
                "`x-understudy-unique` must be a list",
            );
            return Vec::new();
        };
        let mut rules = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let here = format!("{at}/{index}");
            let Some(field_pointer) = item.get("pointer").and_then(Value::as_str) else {
                self.error(
                    here,
                    ErrorKind::Extension,
                    "a unique field needs a `pointer` into the request body",
                );
                continue;
            };
            let normalise: Vec<&str> = match item.get("normalize") {
                None => Vec::new(),
                Some(Value::String(one)) => vec![one.as_str()],
                Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
                Some(_) => vec!["?"],
            };
            if let Some(unknown) = normalise
                .iter()
                .find(|step| !matches!(**step, "trim" | "lowercase" | "none"))
            {
                self.error(
                    format!("{here}/normalize"),
                    ErrorKind::Extension,
                    format!("unknown normalisation `{unknown}`: use trim and/or lowercase"),
                );
                continue;
            }
            let status = match item.get("status") {
                Some(Value::String(text)) => text.parse::<u16>().ok(),
                Some(Value::Number(number)) => number.as_u64().and_then(|n| u16::try_from(n).ok()),
                _ => None,
            };
            let Some(status) = status else {
                self.error(
                    format!("{here}/status"),
                    ErrorKind::Extension,
                    "a unique field needs the `status` a conflict gets",
                );
                continue;
            };
            if !responses
                .iter()
                .any(|response| response.status == StatusKey::Code(status))
            {
                self.error(
                    format!("{here}/status"),
                    ErrorKind::Extension,
                    format!(
                        "a conflict gets {status}, but the operation documents no {status} response"
                    ),
                );
                continue;
            }
            rules.push(UniqueRule {
                pointer: field_pointer.to_owned(),
                tokens: field_pointer
                    .split('/')
                    .skip(1)
                    .map(json_schema::unescape)
                    .collect(),
                lowercase: normalise.contains(&"lowercase"),
                trim: normalise.contains(&"trim"),
                status,
                message: item
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("{value} is already taken")
                    .to_owned(),
            });
        }
        rules
    }

    fn validator(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        direction: Direction,
    ) -> Option<Arc<SchemaValidator>> {
        // Within one document a schema's text says all that its translation depends on.
        let key = (direction, schema.to_string());
        if let Some(shared) = self.validators.get(&key) {
            return Some(Arc::clone(shared));
        }
        let mut shared = self
            .shared
            .remove(&direction)
            .unwrap_or_else(|| SharedSchemas::new(self.document));
        let root = json_schema::Root {
            schema,
            pointer,
            referenced: false,
        };
        let validator = self.shared_validator(&mut shared, root, direction);
        // The schemas it reaches, compiled once for every validator of the document.
        let mut complete = validator.is_some();
        while let Some((target, number)) = shared.next_pending() {
            let Some(found) = json_schema::resolve_pointer(self.document, &target) else {
                continue;
            };
            let root = json_schema::Root {
                schema: found,
                pointer: &target,
                referenced: true,
            };
            match self.shared_validator(&mut shared, root, direction) {
                Some(compiled) => shared.fill(number, compiled),
                None => complete = false,
            }
        }
        self.shared.insert(direction, shared);
        let validator = Arc::new(validator.filter(|_| complete)?);
        self.validators.insert(key, Arc::clone(&validator));
        Some(validator)
    }

    /// Translates and compiles one schema with its references made bridges to `shared`, reading
    /// it in the document's schema model.
    fn shared_validator(
        &mut self,
        shared: &mut SharedSchemas,
        root: json_schema::Root<'a, '_>,
        direction: Direction,
    ) -> Option<SchemaValidator> {
        let pointer = root.pointer;
        let mut unenforced = Vec::new();
        let translated = match json_schema::translate_shared(
            self.generator_set.model(),
            root,
            direction,
            &mut unenforced,
            shared,
        ) {
            Ok(translated) => {
                for note in unenforced {
                    if !self
                        .warnings
                        .iter()
                        .any(|known| known.location == note.pointer)
                    {
                        self.warnings.push(LoadError::at(
                            self.file,
                            note.pointer,
                            ErrorKind::Schema,
                            note.reason,
                        ));
                    }
                }
                translated
            }
            Err(error) => {
                self.error(error.pointer, ErrorKind::Schema, error.reason);
                return None;
            }
        };
        match shared.compile(&translated) {
            Ok(validator) => Some(validator),
            Err(reason) => {
                self.error(
                    pointer,
                    ErrorKind::Schema,
                    format!("the schema does not compile: {reason}"),
                );
                None
            }
        }
    }

    fn generator(&mut self, schema: &'a Value, pointer: &str) -> Option<Generator> {
        let key = schema.to_string();
        if let Some(shared) = self.generators.get(&key) {
            return Some(shared.clone());
        }
        match self.generator_set.compile(schema) {
            Ok(generator) => {
                self.generators.insert(key, generator.clone());
                Some(generator)
            }
            Err(error) => {
                self.error(
                    pointer,
                    ErrorKind::Schema,
                    format!("no value can be generated: {error}"),
                );
                None
            }
        }
    }
}

/// A response example as it is kept: its bytes, made once, and whether it fits its schema.
fn example(json: bool, validator: Option<&SchemaValidator>, value: &Value) -> Example {
    let as_json = Bytes::from(serde_json::to_vec(value).unwrap_or_default());
    Example {
        body: if json {
            as_json.clone()
        } else {
            crate::respond::encode(false, value)
        },
        json: as_json,
        fits: validator.is_none_or(|validator| validator.is_valid(value)),
    }
}

fn credential(scheme: &Value) -> Result<Credential, String> {
    match scheme.get("type").and_then(Value::as_str) {
        Some("http") => match scheme.get("scheme").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => Ok(Credential::Http {
                scheme: canonical_scheme(name),
                scopes: Vec::new(),
            }),
            _ => Err("an `http` security scheme needs a `scheme` (basic, bearer, …)".into()),
        },
        Some("apiKey") => {
            let name = scheme.get("name").and_then(Value::as_str);
            let location = match scheme.get("in").and_then(Value::as_str) {
                Some("header") => Some(Location::Header),
                Some("query") => Some(Location::Query),
                Some("cookie") => Some(Location::Cookie),
                _ => None,
            };
            match (name, location) {
                (Some(name), Some(location)) => Ok(Credential::ApiKey {
                    name: name.to_owned(),
                    location,
                }),
                _ => Err(
                    "an `apiKey` security scheme needs a `name` and `in` (header, query or cookie)"
                        .into(),
                ),
            }
        }
        Some("oauth2" | "openIdConnect") => Ok(Credential::Http {
            scheme: "Bearer".into(),
            scopes: Vec::new(),
        }),
        Some(other) => Err(format!("unknown security scheme type `{other}`")),
        None => Err("a security scheme needs a `type`".into()),
    }
}

/// Whether a requirement of `scheme` lists scopes a token must grant: an `oauth2` or
/// `openIdConnect` one (OpenAPI 3.0 leaves the list empty for the others).
fn takes_scopes(scheme: &Value) -> bool {
    matches!(
        scheme.get("type").and_then(Value::as_str),
        Some("oauth2" | "openIdConnect")
    )
}

/// A requirement's scope list: an array of names.
fn scope_list(required: &Value) -> Result<Vec<String>, String> {
    required
        .as_array()
        .and_then(|names| {
            names
                .iter()
                .map(|name| name.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
        })
        .ok_or_else(|| {
            "the scopes an `oauth2` or `openIdConnect` requirement names must be an array of \
             strings"
                .to_owned()
        })
}

/// `basic` → `Basic`, `bearer` → `Bearer`; other names are kept as written.
fn canonical_scheme(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "basic" => "Basic".into(),
        "bearer" => "Bearer".into(),
        "digest" => "Digest".into(),
        _ => name.to_owned(),
    }
}

/// The status a `responses` key documents (`201`, `4XX`, `default`), if it is one.
pub(crate) fn status_key(status: &str) -> Option<StatusKey> {
    if status == "default" {
        return Some(StatusKey::Default);
    }
    if let Ok(code) = status.parse::<u16>() {
        return (100..600).contains(&code).then_some(StatusKey::Code(code));
    }
    let bytes = status.as_bytes();
    if bytes.len() == 3
        && bytes[1..].eq_ignore_ascii_case(b"XX")
        && (b'1'..=b'5').contains(&bytes[0])
    {
        return Some(StatusKey::Range(u16::from(bytes[0] - b'0')));
    }
    None
}

/// Whether a response documents an error: a 4xx or 5xx status or range, or `default`.
fn is_error(status: StatusKey) -> bool {
    status == StatusKey::Default || status.code() >= 400
}

/// What a response schema says its body holds, for a media type range to be answered with.
fn body_kind<'d>(model: &mut SchemaModel<'d>, schema: Option<&'d Value>) -> media_type::BodyKind {
    use media_type::BodyKind;
    let Some(schema) = schema else {
        return BodyKind::Binary;
    };
    let id = model.id(schema);
    match NamedTypes::of(model, id).single() {
        Some("string") => match model.get(id).format.as_deref() {
            Some("binary") => BodyKind::Binary,
            _ => BodyKind::Text,
        },
        _ => BodyKind::Structured,
    }
}

/// Whether a parameter is OpenAPI 3.2's `in: querystring`, the whole query string.
fn is_querystring(parameter: &Value) -> bool {
    parameter.get("in").and_then(Value::as_str) == Some("querystring")
}

fn shape_of(model: &mut SchemaModel<'_>, id: SchemaId) -> ParameterShape {
    let named = NamedTypes::of(model, id);
    if named.has("array") {
        let items = named.items.map_or(ScalarKind::String, |items| {
            scalar_kind(&NamedTypes::of(model, items))
        });
        return ParameterShape::Array(items);
    }
    ParameterShape::Scalar(scalar_kind(&named))
}

/// How many declared keys one `deepObject` parameter's reading holds in all, so that a schema
/// whose objects nest or recur widely gives a small reading (past it, a key's text is text).
const DEEP_KEYS: usize = 256;

/// How a `deepObject` parameter's pairs under `schema` are read: the properties it declares
/// (its own, and those of its `allOf`/`anyOf`/`oneOf` branches, as Stripe's `created` is an
/// object of bounds or an integer), and those of theirs that are objects, to
/// [`crate::validate::MAX_DEEP_LEVELS`] levels; `budget` counts the keys left to declare.
fn deep_object(
    model: &mut SchemaModel<'_>,
    id: SchemaId,
    level: usize,
    budget: &mut usize,
) -> DeepObject {
    fn declared(
        model: &mut SchemaModel<'_>,
        id: SchemaId,
        depth: usize,
        found: &mut Vec<(String, SchemaId)>,
    ) {
        let schema = model.get(id);
        for property in &schema.properties {
            if !found.iter().any(|(known, _)| **known == *property.name) {
                found.push((property.name.to_string(), property.part));
            }
        }
        if depth < 8 {
            let branches: Vec<SchemaId> = [&schema.all_of, &schema.any_of, &schema.one_of]
                .into_iter()
                .flat_map(|branches| branches.iter().copied())
                .collect();
            for branch in branches {
                declared(model, branch, depth + 1, found);
            }
        }
    }
    let mut reading = DeepObject {
        shape: shape_of(model, id),
        properties: Vec::new(),
    };
    if level >= crate::validate::MAX_DEEP_LEVELS {
        return reading;
    }
    let mut found = Vec::new();
    declared(model, id, 0, &mut found);
    for (name, property) in found {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let inner = if NamedTypes::of(model, property).has("object") {
            deep_object(model, property, level + 1, budget)
        } else {
            DeepObject {
                shape: shape_of(model, property),
                properties: Vec::new(),
            }
        };
        reading.properties.push((name, inner));
    }
    reading
}

/// A form's declared properties, each with the shape its text is read as.
fn form_properties<'d>(
    model: &mut SchemaModel<'d>,
    schema: &'d Value,
) -> Vec<(String, ParameterShape)> {
    let id = model.id(schema);
    let properties: Vec<(String, SchemaId)> = model
        .get(id)
        .properties
        .iter()
        .map(|property| (property.name.to_string(), property.part))
        .collect();
    properties
        .into_iter()
        .map(|(name, property)| (name, shape_of(model, property)))
        .collect()
}

/// How a request body of `media_type` is read as a form to be validated: for URL-encoded and
/// multipart forms whose fields are scalars or lists of scalars, sent in the `form` style (the
/// default); `None` otherwise (a field that is an object, or encoded `deepObject` as Stripe's
/// `metadata[key]=…`, is not read, so such a form is not checked rather than wrongly refused).
fn form_body<'d>(
    model: &mut SchemaModel<'d>,
    media_type: &str,
    entry: &Value,
    schema: &'d Value,
) -> Option<FormBody> {
    let multipart = match &*media_type::essence(media_type) {
        "application/x-www-form-urlencoded" => false,
        "multipart/form-data" => true,
        _ => return None,
    };
    let plain_styles = entry
        .get("encoding")
        .and_then(Value::as_object)
        .is_none_or(|encoding| {
            encoding.values().all(|field| {
                field
                    .get("style")
                    .and_then(Value::as_str)
                    .is_none_or(|style| style == "form")
            })
        });
    let scalar = |named: &NamedTypes| {
        named
            .names
            .iter()
            .all(|name| matches!(*name, "string" | "integer" | "number" | "boolean"))
    };
    let id = model.id(schema);
    let properties: Vec<SchemaId> = model
        .get(id)
        .properties
        .iter()
        .map(|property| property.part)
        .collect();
    let flat = properties.into_iter().all(|property| {
        let named = NamedTypes::of(model, property);
        if named.has("array") {
            named.names.len() == 1
                && named
                    .items
                    .is_none_or(|items| scalar(&NamedTypes::of(model, items)))
        } else {
            scalar(&named)
        }
    });
    let object = NamedTypes::of(model, id)
        .single()
        .is_none_or(|name| name == "object");
    (plain_styles && flat && object).then(|| FormBody {
        multipart,
        properties: form_properties(model, schema),
    })
}

/// How a parameter's text is read: as JSON when an object is named, as a number when a number
/// type is (a text that is not one stays text, for a union that allows text too), else an
/// integer, a boolean, or text.
fn scalar_kind(named: &NamedTypes) -> ScalarKind {
    if named.has("object") {
        ScalarKind::Json
    } else if named.has("number") {
        ScalarKind::Number
    } else if named.has("integer") {
        ScalarKind::Integer
    } else if named.has("boolean") {
        ScalarKind::Boolean
    } else {
        ScalarKind::String
    }
}

/// The rules that make a create's answer look just created: from its JSON request schema and the
/// JSON schema of its success response.
fn fresh_rules<'d>(
    model: &mut SchemaModel<'d>,
    operation: &'d Value,
    body: Option<&RequestBody>,
    responses: &[Response],
    route: &str,
) -> Option<Fresh> {
    let success = responses.iter().find(|response| {
        (200..300).contains(&response.status.code()) && response.status != StatusKey::Default
    })?;
    let (index, media) = success
        .content
        .iter()
        .enumerate()
        .find(|(_, media)| media.json && media.generator.is_some())?;
    let status = operation
        .get("responses")?
        .as_object()?
        .iter()
        .find(|(status, _)| status_key(status) == Some(success.status))?
        .1;
    let schema = deref(model.document(), status)
        .get("content")?
        .as_object()?
        .values()
        .nth(index)?
        .get("schema")?;
    // The first JSON media type's schema, as `request_body` compiled it, read in the document.
    let request = body
        .and(operation.get("requestBody"))
        .map(|request| deref(model.document(), request))
        .and_then(|request| request.get("content")?.as_object())
        .and_then(|content| {
            content
                .iter()
                .find(|(media_type, _)| media_type::is_json(media_type))
        })
        .and_then(|(_, media)| media.get("schema"));
    let identity = media
        .generator
        .as_ref()
        .and_then(|generator| generator.identity())
        .map(|slot| slot.pointer.as_str());
    Fresh::compile(model, request, schema, identity, route)
}

/// The first name a path template (`/users/{id}/posts/{id}`) gives to two of its parameters.
fn repeated_template_name(path: &str) -> Option<&str> {
    let mut seen = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if seen.contains(&name) {
            return Some(name);
        }
        seen.push(name);
        rest = &after[close + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_mount_is_the_servers_path_with_variables_filled() {
        let document = serde_json::json!({"servers": [{"url": "https://api.x.flatfile.com/v1/"}]});
        assert_eq!(mount_path(&document), "/v1");
        let document = serde_json::json!({"servers": [{
            "url": "https://{tenant}.guardhouse.cloud/{base}",
            "variables": {"tenant": {"default": "acme"}, "base": {"default": "api"}}
        }]});
        assert_eq!(mount_path(&document), "/api");
        assert_eq!(
            mount_path(&serde_json::json!({"servers": [{"url": "/v2"}]})),
            "/v2"
        );
        assert_eq!(mount_path(&serde_json::json!({})), "");
    }

    #[test]
    fn protocol_relative_and_relative_servers_mount_at_their_path() {
        let mount = |url: &str| mount_path(&serde_json::json!({"servers": [{"url": url}]}));
        assert_eq!(mount("//kubernetes.local/api"), "/api");
        assert_eq!(mount("//kubernetes.local"), "");
        assert_eq!(mount("v1"), "/v1");
        assert_eq!(mount("./v1/"), "/v1");
        assert_eq!(mount("/"), "");
        assert_eq!(mount("http://localhost:8080"), "");
    }

    #[test]
    fn a_path_template_may_name_each_parameter_once() {
        assert_eq!(repeated_template_name("/users/{id}/posts/{id}"), Some("id"));
        assert_eq!(repeated_template_name("/a/{x}-{y}.{x}"), Some("x"));
        assert_eq!(repeated_template_name("/users/{id}/posts/{postId}"), None);
        assert_eq!(repeated_template_name("/users"), None);
    }

    fn with_parameters(parameters: Value) -> Value {
        serde_json::json!({
            "openapi": "3.2.0",
            "info": {"title": "t", "version": "1"},
            "paths": {"/s": {"get": {
                "parameters": parameters,
                "responses": {"204": {"description": "ok"}},
            }}},
        })
    }

    #[test]
    fn a_querystring_parameter_reads_by_its_media_type_and_warns_beside_query_parameters() {
        let form = serde_json::json!({"name": "f", "in": "querystring", "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                "n": {"type": "integer"}, "t": {"type": "array", "items": {"type": "boolean"}}
            }}}
        }});
        let spec = compile_spec(Path::new("t.yaml"), with_parameters(json!([form.clone()])))
            .expect("compiles");
        assert!(spec.warnings.is_empty(), "{:?}", spec.warnings);
        let parameter = &spec.operations[0].parameters[0];
        assert_eq!(parameter.location, Location::Query);
        assert_eq!(
            parameter.querystring,
            Some(QueryString::Form {
                properties: vec![
                    ("n".into(), ParameterShape::Scalar(ScalarKind::Integer)),
                    ("t".into(), ParameterShape::Array(ScalarKind::Boolean)),
                ]
            })
        );
        let both = json!([form, {"name": "q", "in": "query", "schema": {"type": "string"}}]);
        let spec = compile_spec(Path::new("t.yaml"), with_parameters(both)).expect("compiles");
        assert_eq!(spec.warnings.len(), 1, "{:?}", spec.warnings);
        assert_eq!(spec.warnings[0].location, "/paths/~1s/get/parameters");
        let bare = json!([{"name": "f", "in": "querystring", "schema": {"type": "string"}}]);
        let errors = compile_spec(Path::new("t.yaml"), with_parameters(bare)).expect_err("refused");
        assert_eq!(errors[0].location, "/paths/~1s/get/parameters/0");
        assert!(
            errors[0].reason.contains("`content`"),
            "{}",
            errors[0].reason
        );
    }

    #[test]
    fn statuses_ranges_and_default_are_recognised() {
        assert_eq!(status_key("201"), Some(StatusKey::Code(201)));
        assert_eq!(status_key("4XX"), Some(StatusKey::Range(4)));
        assert_eq!(status_key("default"), Some(StatusKey::Default));
        assert_eq!(status_key("2xx"), Some(StatusKey::Range(2)));
        assert_eq!(status_key("ok"), None);
        assert_eq!(status_key("999"), None);
    }

    /// `operations` operations on 320 schemas that reach one another (each names the next).
    fn shared_document(operations: usize) -> Value {
        let mut schemas = serde_json::Map::new();
        for index in 0..320 {
            schemas.insert(
                format!("S{index}"),
                serde_json::json!({
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "id": {"type": "integer", "readOnly": true},
                        "next": {"$ref": format!("#/components/schemas/S{}", (index + 1) % 320)},
                    },
                }),
            );
        }
        let mut paths = serde_json::Map::new();
        for index in 0..operations {
            let schema =
                serde_json::json!({"$ref": format!("#/components/schemas/S{}", index % 320)});
            paths.insert(
                format!("/things{index}"),
                serde_json::json!({"post": {
                    "requestBody": {"content": {"application/json": {"schema": schema}}},
                    "responses": {"201": {"description": "ok"}},
                }}),
            );
        }
        serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": paths,
            "components": {"schemas": schemas},
        })
    }

    /// The shared schemas a document's request validators reach, and its operations.
    fn shared_request_schemas(document: &Value) -> (usize, Spec) {
        let document = Arc::new(document.clone());
        let mut compiler = Compiler::new(Path::new("t.json"), &document);
        let spec = compiler.spec(&document);
        assert!(compiler.errors.is_empty(), "{:?}", compiler.errors);
        let shared = compiler
            .shared
            .get(&Direction::Request)
            .map_or(0, SharedSchemas::compiled);
        (shared, spec)
    }

    #[test]
    fn each_referenced_schema_is_compiled_once_however_many_operations_reach_it() {
        let (few, _) = shared_request_schemas(&shared_document(40));
        let (many, spec) = shared_request_schemas(&shared_document(320));
        assert_eq!(few, 320, "every schema reaches all 320");
        assert_eq!(
            many, 320,
            "320 operations share the same 320 compiled schemas"
        );
        // And the bridges check what the copies checked: deep in the chain, through each.
        let body = |index: usize| {
            spec.operations[index].body.as_ref().expect("a body").media[0]
                .validator
                .clone()
                .expect("a validator")
        };
        let validator = body(7);
        let deep = serde_json::json!({"name": "a", "next": {"name": "b", "next": {"next": {}}}});
        let violations = crate::validate::schema_violations(&validator, &deep, Location::Body, "");
        let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(pointers, ["/next/next/name", "/next/next/next/name"]);
        assert!(validator.is_valid(&serde_json::json!({"name": "a", "next": {"name": "b"}})));
        assert!(!body(300).is_valid(&serde_json::json!({"name": 1})));
    }

    fn with_callbacks(callbacks: Value) -> Value {
        serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/subscriptions": {"post": {
                "responses": {"201": {"description": "ok"}},
                "callbacks": callbacks,
            }}},
            "components": {"callbacks": {"shared": {
                "$request.query.url": {"put": {"responses": {"200": {"description": "ok"}}}}
            }}},
            "webhooks": {"ping": {"post": {}, "get": {}}},
        })
    }

    #[test]
    fn callbacks_compile_per_expression_and_method_and_webhooks_are_listed() {
        let document = with_callbacks(serde_json::json!({
            "onEvent": {
                "{$request.body#/callbackUrl}": {
                    "post": {"requestBody": {"content": {"application/json": {
                        "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}
                    }}}},
                    "delete": {}
                },
                "x-note": {"post": {}},
            },
            "shared": {"$ref": "#/components/callbacks/shared"},
        }));
        let spec = compile_spec(Path::new("t.yaml"), document).expect("compiles");
        let callbacks = &spec.operations[0].callbacks;
        let listed: Vec<(&str, &str, &str)> = callbacks
            .iter()
            .map(|callback| {
                (
                    callback.name.as_str(),
                    callback.method.as_str(),
                    callback.pointer.as_str(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "onEvent",
                    "POST",
                    "/paths/~1subscriptions/post/callbacks/onEvent/{$request.body#~1callbackUrl}/post"
                ),
                (
                    "onEvent",
                    "DELETE",
                    "/paths/~1subscriptions/post/callbacks/onEvent/{$request.body#~1callbackUrl}/delete"
                ),
                (
                    "shared",
                    "PUT",
                    "/paths/~1subscriptions/post/callbacks/shared/$request.query.url/put"
                ),
            ]
        );
        assert!(callbacks[0].body.is_some() && callbacks[1].body.is_none());
        let webhooks: Vec<(&str, &str)> = spec
            .webhooks
            .iter()
            .map(|webhook| (webhook.name.as_str(), webhook.method.as_str()))
            .collect();
        assert_eq!(webhooks, [("ping", "GET"), ("ping", "POST")]);
    }

    #[test]
    fn a_callback_url_that_is_no_runtime_expression_is_an_error_at_its_pointer() {
        let document = with_callbacks(serde_json::json!({
            "onEvent": {"{$request.body#callbackUrl}": {"post": {}}},
        }));
        let errors = compile_spec(Path::new("t.yaml"), document).expect_err("refused");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0].location,
            "/paths/~1subscriptions/post/callbacks/onEvent/{$request.body#callbackUrl}"
        );
        assert!(
            errors[0].reason.contains("must start with `/`"),
            "{}",
            errors[0].reason
        );
    }
}
