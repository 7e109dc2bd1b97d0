//! Swagger 2.0 read as OpenAPI 3.0: a document whose top level says `swagger: "2.0"` is rewritten
//! in place, right after it is parsed, into the OpenAPI 3.0.3 document it describes, so that
//! bundling, the reference checks, compiling and generating never see 2.0. What has no 3.0
//! equivalent is left out and said as a warning (file, pointer in the 2.0 text, reason); nothing
//! here refuses a document or panics: a part of the wrong type is left out with a warning, and
//! what it leaves broken is the compiler's to report.
//!
//! One file, past 600 lines, because it is one rewrite: every part (parameters, bodies, forms,
//! `produces`, security, definitions) shares the warning list and the `$ref` rewriting, and reads
//! best beside the others in the order of the 2.0 specification.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::json_schema::{escape, unescape};
use crate::load_error::{ErrorKind, LoadError};

/// The key a converted document carries at its top level, holding the Swagger version it was
/// converted from, so that `check` can say which version it read.
pub const CONVERTED_KEY: &str = "x-understudy-converted-from";

/// The media type a body or response is given when neither the operation nor the document says
/// (`consumes`, `produces`).
const DEFAULT_MEDIA_TYPE: &str = "application/json";

/// The most media types one `consumes` or `produces` gives a body or response: each is a copy of
/// the schema in every operation that reads the list, so a long global list in a hostile document
/// would make a small file a large one. Real descriptions list a handful.
const MAX_MEDIA_TYPES: usize = 32;

/// Whether `document` declares itself Swagger 2.0 (`swagger: "2.0"`, or the number `2.0` that an
/// unquoted YAML value reads as).
pub(crate) fn is_swagger2(document: &Value) -> bool {
    match document.get("swagger") {
        Some(Value::String(version)) => version == "2.0",
        Some(Value::Number(number)) => number.as_f64() == Some(2.0),
        _ => false,
    }
}

/// Converts `document` (read from `file`) to OpenAPI 3.0.3 in place if it is Swagger 2.0, and
/// returns what could not be converted, as warnings. Any other document is left as it is.
pub fn convert(file: &Path, document: &mut Value) -> Vec<LoadError> {
    if !is_swagger2(document) {
        return Vec::new();
    }
    let Value::Object(source) = std::mem::take(document) else {
        return Vec::new();
    };
    let mut converter = Converter::new(file, &source);
    *document = Value::Object(converter.document());
    converter.warnings
}

/// Errors found in `file` after it was converted (if `converted`) say so: their pointers are into
/// the OpenAPI 3.0 document, which differ from the 2.0 text's where a part moved.
pub fn locate_in_conversion(
    file: &Path,
    converted: bool,
    mut errors: Vec<LoadError>,
) -> Vec<LoadError> {
    if converted {
        for error in errors.iter_mut().filter(|error| error.file == file) {
            error
                .reason
                .push_str(" (at this pointer of the OpenAPI 3.0 it was converted to)");
        }
    }
    errors
}

/// Converts the parts of a file that a Swagger 2.0 document references and that declares no
/// version of its own: maps of `definitions`, `parameters` or `responses` move to where 3.0 keeps
/// them, as [`convert`] does for a whole document; any other key is taken for a part by its shape
/// (a parameter has `in`, a response `schema` or `headers`, anything else is a schema) and
/// converted where it is. Body and form parameters in such a file are not converted (a warning),
/// as the operation that names them cannot be changed from here.
pub fn convert_parts(file: &Path, document: &mut Value) -> Vec<LoadError> {
    if document.get("openapi").is_some() || !document.is_object() {
        return Vec::new();
    }
    if is_swagger2(document) {
        return convert(file, document);
    }
    let Value::Object(source) = std::mem::take(document) else {
        return Vec::new();
    };
    let mut converter = Converter::new(file, &source);
    let mut out = Map::new();
    let mut components = converter.components();
    for (key, value) in &source {
        let at = format!("/{}", escape(key));
        match key.as_str() {
            "definitions" | "parameters" | "responses" | "securityDefinitions" => {}
            _ if key.starts_with("x-") => {
                out.insert(key.clone(), value.clone());
            }
            _ => {
                let converted = converter.part(&at, value);
                out.insert(key.clone(), converted);
            }
        }
    }
    if !components.is_empty() {
        if let Some(Value::Object(existing)) = out.remove("components") {
            for (key, value) in existing {
                components.entry(key).or_insert(value);
            }
        }
        out.insert("components".into(), Value::Object(components));
    }
    *document = Value::Object(out);
    converter.warnings
}

/// The reference `reference` names once its document is converted: `#/definitions/X` becomes
/// `#/components/schemas/X`, `#/parameters/X` `#/components/parameters/X`, `#/responses/X`
/// `#/components/responses/X`, in this document or another file.
pub(crate) fn convert_ref(reference: &str) -> String {
    let (file, fragment) = match reference.split_once('#') {
        Some((file, fragment)) => (file, fragment),
        None => return reference.to_owned(),
    };
    for (from, to) in [
        ("/definitions/", "/components/schemas/"),
        ("/parameters/", "/components/parameters/"),
        ("/responses/", "/components/responses/"),
    ] {
        if let Some(rest) = fragment.strip_prefix(from) {
            return format!("{file}#{to}{rest}");
        }
    }
    reference.to_owned()
}

/// A schema's reference as [`convert_ref`] rewrites it, where a bare name (`$ref: Pet`, which early
/// Swagger 2.0 documents such as the OAI's own Petstore example write, and Swagger's tools read as
/// a definition) names `#/components/schemas/Pet`.
fn convert_schema_ref(reference: &str) -> String {
    let bare = !reference.is_empty()
        && !reference.contains(['#', '/', '.', ':'])
        && !reference.contains(char::is_whitespace);
    if bare {
        format!("#/components/schemas/{}", escape(reference))
    } else {
        convert_ref(reference)
    }
}

/// Rewrites every `$ref` string in `value` with [`convert_ref`], data included: used only for the
/// parts of a document no other rule reads.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if key == "$ref"
                    && let Value::String(reference) = child
                {
                    *reference = convert_ref(reference);
                } else if !is_data_key(key) {
                    rewrite_refs(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// Keys whose values are data, never read for references.
fn is_data_key(key: &str) -> bool {
    matches!(
        key,
        "example" | "examples" | "default" | "enum" | "x-example"
    ) || key.starts_with("x-")
}

/// The methods a 2.0 path item may hold.
const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// Keys of a non-body parameter (or an items object, or a header) that are schema keywords in 3.0.
const SCHEMA_KEYS: [&str; 16] = [
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
];

struct Converter<'a> {
    file: &'a Path,
    source: &'a Map<String, Value>,
    warnings: Vec<LoadError>,
}

/// A body parameter or the form fields of an operation, gathered while its parameters are read.
#[derive(Default)]
struct Body {
    /// The `in: body` parameter.
    body: Option<Map<String, Value>>,
    /// The `in: formData` parameters: (name, parameter).
    form: Vec<(String, Map<String, Value>)>,
}

impl<'a> Converter<'a> {
    /// A converter of `source`, read from `file`, with no warning yet.
    fn new(file: &'a Path, source: &'a Map<String, Value>) -> Self {
        Converter {
            file,
            source,
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, pointer: impl Into<String>, reason: impl Into<String>) {
        self.warnings.push(LoadError::at(
            self.file,
            pointer,
            ErrorKind::Structure,
            reason,
        ));
    }

    fn document(&mut self) -> Map<String, Value> {
        let source = self.source;
        let mut out = Map::new();
        out.insert("openapi".into(), json!("3.0.3"));
        out.insert(CONVERTED_KEY.into(), json!("2.0"));
        for (key, value) in source {
            match key.as_str() {
                "info" | "tags" | "externalDocs" | "security" => {
                    out.insert(key.clone(), value.clone());
                }
                _ if key.starts_with("x-") && key != CONVERTED_KEY => {
                    out.insert(key.clone(), value.clone());
                }
                _ => {}
            }
        }
        if let Some(servers) = self.servers() {
            out.insert("servers".into(), servers);
        }
        match source.get("paths") {
            Some(Value::Object(paths)) => {
                let mut converted = Map::new();
                for (path, item) in paths {
                    let pointer = format!("/paths/{}", escape(path));
                    if path.starts_with("x-") {
                        converted.insert(path.clone(), item.clone());
                        continue;
                    }
                    match item {
                        Value::Object(item) => {
                            let item = self.path_item(&pointer, item);
                            converted.insert(path.clone(), Value::Object(item));
                        }
                        // The compiler reports what is wrong with it.
                        other => {
                            converted.insert(path.clone(), other.clone());
                        }
                    }
                }
                out.insert("paths".into(), Value::Object(converted));
            }
            Some(other) => {
                out.insert("paths".into(), other.clone());
            }
            None => {}
        }
        let components = self.components();
        if !components.is_empty() {
            out.insert("components".into(), Value::Object(components));
        }
        out
    }

    /// `servers` from `schemes`, `host` and `basePath`: one server per scheme, so the mount path
    /// is `basePath`; with no host, the one relative URL `basePath`.
    fn servers(&mut self) -> Option<Value> {
        let base_path = match self.source.get("basePath") {
            Some(Value::String(base)) => base.clone(),
            Some(_) => {
                self.warn("/basePath", "`basePath` is not a string, so it is left out");
                String::new()
            }
            None => String::new(),
        };
        let host = match self.source.get("host") {
            Some(Value::String(host)) if !host.is_empty() => Some(host.clone()),
            Some(Value::String(_)) | None => None,
            Some(_) => {
                self.warn("/host", "`host` is not a string, so it is left out");
                None
            }
        };
        let Some(host) = host else {
            return (!base_path.is_empty()).then(|| json!([{"url": base_path}]));
        };
        let mut schemes: Vec<String> = self
            .source
            .get("schemes")
            .and_then(Value::as_array)
            .map(|schemes| {
                schemes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if schemes.is_empty() {
            schemes.push("https".into());
        }
        let servers = schemes
            .iter()
            .map(|scheme| json!({"url": format!("{scheme}://{host}{base_path}")}))
            .collect();
        Some(Value::Array(servers))
    }

    /// The media types of `consumes` or `produces` at `key` of `operation`, else of the document,
    /// else [`DEFAULT_MEDIA_TYPE`].
    fn media_types(
        &mut self,
        operation: Option<(&str, &Map<String, Value>)>,
        key: &str,
    ) -> Vec<String> {
        let source = self.source;
        let found = operation
            .and_then(|(pointer, operation)| {
                operation
                    .get(key)
                    .map(|value| (format!("{pointer}/{key}"), value))
            })
            .or_else(|| source.get(key).map(|value| (format!("/{key}"), value)));
        let Some((pointer, value)) = found else {
            return vec![DEFAULT_MEDIA_TYPE.into()];
        };
        let Some(items) = value.as_array() else {
            self.warn(
                pointer,
                format!("`{key}` is not a list, so {DEFAULT_MEDIA_TYPE} is used"),
            );
            return vec![DEFAULT_MEDIA_TYPE.into()];
        };
        let mut types: Vec<String> = Vec::new();
        for media in items.iter().filter_map(Value::as_str) {
            if !types.iter().any(|known| known == media) {
                types.push(media.to_owned());
            }
        }
        if types.len() > MAX_MEDIA_TYPES {
            self.warn(
                pointer,
                format!(
                    "`{key}` lists more than {MAX_MEDIA_TYPES} media types; the rest are left out"
                ),
            );
            types.truncate(MAX_MEDIA_TYPES);
        }
        if types.is_empty() {
            vec![DEFAULT_MEDIA_TYPE.into()]
        } else {
            types
        }
    }

    fn path_item(&mut self, pointer: &str, item: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        let mut shared = Body::default();
        let mut shared_names = Vec::new();
        if let Some(parameters) = item.get("parameters") {
            let at = format!("{pointer}/parameters");
            let kept = self.parameters(&at, parameters, &mut shared, &mut shared_names);
            if !kept.is_empty() {
                out.insert("parameters".into(), Value::Array(kept));
            }
        }
        for (key, value) in item {
            match key.as_str() {
                "$ref" => {
                    if let Value::String(reference) = value {
                        out.insert(key.clone(), json!(convert_ref(reference)));
                    }
                }
                "parameters" => {}
                method if METHODS.contains(&method) => {
                    let at = format!("{pointer}/{method}");
                    match value {
                        Value::Object(operation) => {
                            let operation = self.operation(&at, operation, &shared);
                            out.insert(key.clone(), Value::Object(operation));
                        }
                        other => {
                            out.insert(key.clone(), other.clone());
                        }
                    }
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        out
    }

    fn operation(
        &mut self,
        pointer: &str,
        operation: &Map<String, Value>,
        shared: &Body,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        let mut body = Body::default();
        let mut names = Vec::new();
        let mut parameters = Vec::new();
        if let Some(list) = operation.get("parameters") {
            let at = format!("{pointer}/parameters");
            parameters = self.parameters(&at, list, &mut body, &mut names);
        }
        // The path item's body and form fields apply unless the operation names them again.
        if body.body.is_none() && !names.iter().any(|(_, place)| place == "body") {
            body.body.clone_from(&shared.body);
        }
        for (name, field) in &shared.form {
            if !names
                .iter()
                .any(|(other, place)| other == name && place == "formData")
            {
                body.form.push((name.clone(), field.clone()));
            }
        }
        if !parameters.is_empty() {
            out.insert("parameters".into(), Value::Array(parameters));
        }
        for (key, value) in operation {
            match key.as_str() {
                "parameters" | "consumes" | "produces" => {}
                "responses" => {
                    let at = format!("{pointer}/responses");
                    let produces = self.media_types(Some((pointer, operation)), "produces");
                    out.insert(key.clone(), self.responses(&at, value, &produces));
                }
                "schemes" => {
                    self.warn(
                        format!("{pointer}/schemes"),
                        "an operation's own `schemes` have no OpenAPI 3.0 equivalent and are left out",
                    );
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        if let Some(request_body) = self.request_body(pointer, operation, body) {
            out.insert("requestBody".into(), request_body);
        }
        out
    }

    /// Converts a list of parameters: non-body ones are returned; the body and the form fields are
    /// gathered into `body`. `names` gets each parameter's (name, in).
    fn parameters(
        &mut self,
        pointer: &str,
        list: &Value,
        body: &mut Body,
        names: &mut Vec<(String, String)>,
    ) -> Vec<Value> {
        let source = self.source;
        let Some(list) = list.as_array() else {
            self.warn(pointer, "`parameters` is not a list, so it is left out");
            return Vec::new();
        };
        let mut kept = Vec::new();
        for (index, parameter) in list.iter().enumerate() {
            let at = format!("{pointer}/{index}");
            let (parameter, reference) = match parameter.get("$ref") {
                Some(Value::String(reference)) => match local_parameter(source, reference) {
                    Some(target) => (target, Some(reference.as_str())),
                    // Another file's parameter, or one that is not there: the reference checks
                    // say which.
                    None => {
                        kept.push(json!({"$ref": convert_ref(reference)}));
                        continue;
                    }
                },
                Some(_) => {
                    self.warn(
                        at,
                        "a parameter's `$ref` is not a string, so it is left out",
                    );
                    continue;
                }
                None => (parameter, None),
            };
            let Some(object) = parameter.as_object() else {
                self.warn(at, "a parameter is not an object, so it is left out");
                continue;
            };
            let name = object
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let place = object
                .get("in")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            names.push((name.clone(), place.clone()));
            match place.as_str() {
                "body" => body.body = Some(object.clone()),
                "formData" => body.form.push((name, object.clone())),
                _ => match reference {
                    Some(reference) => kept.push(json!({"$ref": convert_ref(reference)})),
                    None => kept.push(Value::Object(self.parameter(&at, object))),
                },
            }
        }
        kept
    }

    /// A non-body parameter in 3.0's form: its type keywords moved into `schema`, its
    /// `collectionFormat` into `style` and `explode`.
    fn parameter(&mut self, pointer: &str, parameter: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        let mut schema = Map::new();
        for (key, value) in parameter {
            if SCHEMA_KEYS.contains(&key.as_str()) {
                continue;
            }
            match key.as_str() {
                "collectionFormat" => {}
                "allowEmptyValue" => {
                    if parameter.get("in").and_then(Value::as_str) == Some("query") {
                        out.insert(key.clone(), value.clone());
                    }
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        self.items_schema(pointer, parameter, &mut schema);
        let place = parameter.get("in").and_then(Value::as_str).unwrap_or("");
        if place == "path" {
            out.insert("required".into(), json!(true));
        }
        let is_array = schema.get("type").and_then(Value::as_str) == Some("array");
        if is_array {
            let format = parameter
                .get("collectionFormat")
                .and_then(Value::as_str)
                .unwrap_or("csv");
            let at = format!("{pointer}/collectionFormat");
            match (format, place) {
                ("csv", "query" | "cookie") => {
                    out.insert("style".into(), json!("form"));
                    out.insert("explode".into(), json!(false));
                }
                ("csv", _) => {
                    out.insert("style".into(), json!("simple"));
                    out.insert("explode".into(), json!(false));
                }
                ("multi", "query") => {
                    out.insert("style".into(), json!("form"));
                    out.insert("explode".into(), json!(true));
                }
                ("ssv", "query") => {
                    out.insert("style".into(), json!("spaceDelimited"));
                    out.insert("explode".into(), json!(false));
                }
                ("pipes", "query") => {
                    out.insert("style".into(), json!("pipeDelimited"));
                    out.insert("explode".into(), json!(false));
                }
                (other, _) => self.warn(
                    at,
                    format!(
                        "`collectionFormat: {other}` in {place} has no OpenAPI 3.0 style, so the \
                         values are read as comma-separated"
                    ),
                ),
            }
        }
        out.insert("schema".into(), Value::Object(schema));
        out
    }

    /// Moves the type keywords of a parameter, header or items object into `schema`, the items
    /// too (whose own `collectionFormat` has no 3.0 equivalent).
    fn items_schema(
        &mut self,
        pointer: &str,
        source: &Map<String, Value>,
        schema: &mut Map<String, Value>,
    ) {
        for key in SCHEMA_KEYS {
            let Some(value) = source.get(key) else {
                continue;
            };
            match key {
                "type" if value == "file" => {
                    schema.insert("type".into(), json!("string"));
                    schema.insert("format".into(), json!("binary"));
                }
                "format" if source.get("type").is_some_and(|kind| kind == "file") => {}
                "items" => {
                    let at = format!("{pointer}/items");
                    match value {
                        Value::Object(items) => {
                            if items.contains_key("$ref") {
                                schema.insert(key.into(), self.schema(&at, value));
                                continue;
                            }
                            if items.get("type").is_some_and(|kind| kind == "array")
                                && items.contains_key("collectionFormat")
                            {
                                self.warn(
                                    format!("{at}/collectionFormat"),
                                    "an inner array's `collectionFormat` has no OpenAPI 3.0 \
                                     equivalent and is left out",
                                );
                            }
                            let mut inner = Map::new();
                            self.items_schema(&at, items, &mut inner);
                            for (extra, value) in items {
                                if extra.starts_with("x-") {
                                    inner.insert(extra.clone(), value.clone());
                                }
                            }
                            schema.insert(key.into(), Value::Object(inner));
                        }
                        _ => self.warn(at, "`items` is not an object, so it is left out"),
                    }
                }
                _ => {
                    schema.insert(key.into(), value.clone());
                }
            }
        }
        if source.get("x-nullable") == Some(&Value::Bool(true)) {
            schema.insert("nullable".into(), json!(true));
        }
    }

    /// The request body made of an operation's body parameter or form fields.
    fn request_body(
        &mut self,
        pointer: &str,
        operation: &Map<String, Value>,
        body: Body,
    ) -> Option<Value> {
        let consumes = self.media_types(Some((pointer, operation)), "consumes");
        if let Some(parameter) = body.body {
            if !body.form.is_empty() {
                self.warn(
                    format!("{pointer}/parameters"),
                    "an operation has both a body parameter and form fields; the form fields are \
                     left out",
                );
            }
            return Some(self.body_parameter(pointer, &parameter, &consumes));
        }
        if body.form.is_empty() {
            return None;
        }
        let has_file = body
            .form
            .iter()
            .any(|(_, field)| field.get("type").is_some_and(|kind| kind == "file"));
        let mut media: Vec<String> = consumes
            .iter()
            .filter(|media| {
                let essence = media.split(';').next().unwrap_or("").trim();
                essence == "multipart/form-data" || essence == "application/x-www-form-urlencoded"
            })
            .cloned()
            .collect();
        if media.is_empty() {
            media.push(if has_file {
                "multipart/form-data".into()
            } else {
                "application/x-www-form-urlencoded".into()
            });
        }
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, field) in &body.form {
            let mut schema = Map::new();
            self.items_schema(pointer, field, &mut schema);
            if let Some(description) = field.get("description") {
                schema.insert("description".into(), description.clone());
            }
            if field.get("required") == Some(&Value::Bool(true)) {
                required.push(json!(name));
            }
            properties.insert(name.clone(), Value::Object(schema));
        }
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            schema.insert("required".into(), Value::Array(required.clone()));
        }
        let schema = Value::Object(schema);
        let content: Map<String, Value> = media
            .into_iter()
            .map(|media| (media, json!({"schema": schema.clone()})))
            .collect();
        let mut request_body = Map::new();
        if !required.is_empty() {
            request_body.insert("required".into(), json!(true));
        }
        request_body.insert("content".into(), Value::Object(content));
        Some(Value::Object(request_body))
    }

    /// The request body of an `in: body` parameter, under each of `consumes`.
    fn body_parameter(
        &mut self,
        pointer: &str,
        parameter: &Map<String, Value>,
        consumes: &[String],
    ) -> Value {
        let schema = match parameter.get("schema") {
            Some(schema) => self.schema(&format!("{pointer}/schema"), schema),
            None => {
                self.warn(
                    pointer,
                    "a body parameter has no `schema`, so any body is taken",
                );
                json!({})
            }
        };
        let mut content = Map::new();
        for media in consumes {
            let mut entry = Map::new();
            entry.insert("schema".into(), schema.clone());
            if let Some(example) = parameter
                .get("x-examples")
                .and_then(|examples| examples.get(media))
            {
                entry.insert("example".into(), example.clone());
            }
            content.insert(media.clone(), Value::Object(entry));
        }
        let mut out = Map::new();
        for key in ["description", "required"] {
            if let Some(value) = parameter.get(key) {
                out.insert(key.into(), value.clone());
            }
        }
        out.insert("content".into(), Value::Object(content));
        Value::Object(out)
    }

    /// The responses object, each response's `schema` under each of `produces`.
    fn responses(&mut self, pointer: &str, responses: &Value, produces: &[String]) -> Value {
        let Value::Object(responses) = responses else {
            return responses.clone();
        };
        let mut out = Map::new();
        for (status, response) in responses {
            let at = format!("{pointer}/{}", escape(status));
            if status.starts_with("x-") {
                out.insert(status.clone(), response.clone());
                continue;
            }
            out.insert(status.clone(), self.response(&at, response, produces));
        }
        Value::Object(out)
    }

    fn response(&mut self, pointer: &str, response: &Value, produces: &[String]) -> Value {
        let Value::Object(response) = response else {
            return response.clone();
        };
        if let Some(Value::String(reference)) = response.get("$ref") {
            return json!({"$ref": convert_ref(reference)});
        }
        let mut out = Map::new();
        out.insert("description".into(), json!(""));
        for (key, value) in response {
            match key.as_str() {
                "schema" | "examples" => {}
                "headers" => {
                    let at = format!("{pointer}/headers");
                    out.insert(key.clone(), self.headers(&at, value));
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        let schema = response
            .get("schema")
            .map(|schema| self.schema(&format!("{pointer}/schema"), schema));
        let examples = response.get("examples").and_then(Value::as_object);
        let mut content = Map::new();
        if let Some(schema) = &schema {
            for media in produces {
                content.insert(media.clone(), json!({"schema": schema}));
            }
        }
        for (media, example) in examples.into_iter().flatten() {
            let entry = content.entry(media.clone()).or_insert_with(|| {
                schema
                    .as_ref()
                    .map_or_else(|| json!({}), |schema| json!({"schema": schema}))
            });
            if let Value::Object(entry) = entry {
                entry.insert("example".into(), example.clone());
            }
        }
        if !content.is_empty() {
            out.insert("content".into(), Value::Object(content));
        }
        Value::Object(out)
    }

    fn headers(&mut self, pointer: &str, headers: &Value) -> Value {
        let Value::Object(headers) = headers else {
            self.warn(pointer, "`headers` is not an object, so it is left out");
            return json!({});
        };
        let mut out = Map::new();
        for (name, header) in headers {
            let at = format!("{pointer}/{}", escape(name));
            let Value::Object(header) = header else {
                self.warn(at, "a header is not an object, so it is left out");
                continue;
            };
            let mut converted = Map::new();
            let mut schema = Map::new();
            self.items_schema(&at, header, &mut schema);
            for (key, value) in header {
                if key == "description" || key.starts_with("x-") {
                    converted.insert(key.clone(), value.clone());
                }
            }
            if header.contains_key("collectionFormat") {
                converted.insert("style".into(), json!("simple"));
            }
            converted.insert("schema".into(), Value::Object(schema));
            out.insert(name.clone(), Value::Object(converted));
        }
        Value::Object(out)
    }

    /// A 2.0 schema in 3.0's form: references rewritten, `x-nullable` as `nullable`, `type: file`
    /// as a binary string, a `discriminator` name as an object.
    fn schema(&mut self, pointer: &str, schema: &Value) -> Value {
        let Value::Object(schema) = schema else {
            return schema.clone();
        };
        let mut out = Map::new();
        for (key, value) in schema {
            let at = format!("{pointer}/{}", escape(key));
            match key.as_str() {
                "$ref" => {
                    let converted = value.as_str().map_or_else(
                        || value.clone(),
                        |reference| json!(convert_schema_ref(reference)),
                    );
                    out.insert(key.clone(), converted);
                }
                "x-nullable" => {
                    if let Value::Bool(nullable) = value {
                        out.insert("nullable".into(), json!(nullable));
                    }
                }
                "type" if value == "file" => {
                    out.insert("type".into(), json!("string"));
                    out.insert("format".into(), json!("binary"));
                }
                "format" if schema.get("type").is_some_and(|kind| kind == "file") => {}
                "discriminator" => match value {
                    Value::String(name) => {
                        out.insert(key.clone(), json!({"propertyName": name}));
                    }
                    other => {
                        out.insert(key.clone(), other.clone());
                    }
                },
                "properties" => {
                    let converted = match value {
                        Value::Object(properties) => Value::Object(
                            properties
                                .iter()
                                .map(|(name, property)| {
                                    let at = format!("{at}/{}", escape(name));
                                    (name.clone(), self.schema(&at, property))
                                })
                                .collect(),
                        ),
                        other => other.clone(),
                    };
                    out.insert(key.clone(), converted);
                }
                "items" if value.is_array() => {
                    self.warn(
                        at,
                        "`items` as a list (a tuple) has no OpenAPI 3.0 equivalent, so the items \
                         are not checked",
                    );
                }
                "items" | "additionalProperties" | "not" => {
                    out.insert(key.clone(), self.schema(&at, value));
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let converted = match value {
                        Value::Array(schemas) => Value::Array(
                            schemas
                                .iter()
                                .enumerate()
                                .map(|(index, inner)| self.schema(&format!("{at}/{index}"), inner))
                                .collect(),
                        ),
                        other => other.clone(),
                    };
                    out.insert(key.clone(), converted);
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        Value::Object(out)
    }

    /// `components` from `definitions`, `parameters`, `responses` and `securityDefinitions`.
    fn components(&mut self) -> Map<String, Value> {
        let mut components = Map::new();
        if let Some(definitions) = self.named("definitions") {
            let schemas: Map<String, Value> = definitions
                .iter()
                .map(|(name, schema)| {
                    let at = format!("/definitions/{}", escape(name));
                    (name.clone(), self.schema(&at, schema))
                })
                .collect();
            components.insert("schemas".into(), Value::Object(schemas));
        }
        if let Some(parameters) = self.named("parameters") {
            let mut kept = Map::new();
            let mut bodies = Map::new();
            let consumes = self.media_types(None, "consumes");
            for (name, parameter) in parameters {
                let at = format!("/parameters/{}", escape(name));
                let Value::Object(parameter) = parameter else {
                    self.warn(at, "a parameter is not an object, so it is left out");
                    continue;
                };
                match parameter.get("in").and_then(Value::as_str) {
                    Some("body") => {
                        bodies.insert(name.clone(), self.body_parameter(&at, parameter, &consumes));
                    }
                    // Form fields are gathered into each operation's request body that names them.
                    Some("formData") => {}
                    _ => {
                        kept.insert(name.clone(), Value::Object(self.parameter(&at, parameter)));
                    }
                }
            }
            if !kept.is_empty() {
                components.insert("parameters".into(), Value::Object(kept));
            }
            if !bodies.is_empty() {
                components.insert("requestBodies".into(), Value::Object(bodies));
            }
        }
        if let Some(responses) = self.named("responses") {
            let produces = self.media_types(None, "produces");
            let converted: Map<String, Value> = responses
                .iter()
                .map(|(name, response)| {
                    let at = format!("/responses/{}", escape(name));
                    (name.clone(), self.response(&at, response, &produces))
                })
                .collect();
            components.insert("responses".into(), Value::Object(converted));
        }
        if let Some(schemes) = self.named("securityDefinitions") {
            let mut converted = Map::new();
            for (name, scheme) in schemes {
                let at = format!("/securityDefinitions/{}", escape(name));
                if let Some(scheme) = self.security_scheme(&at, scheme) {
                    converted.insert(name.clone(), scheme);
                }
            }
            components.insert("securitySchemes".into(), Value::Object(converted));
        }
        components
    }

    /// A part of a file of bare parts, converted by its shape (see [`convert_parts`]).
    fn part(&mut self, pointer: &str, part: &Value) -> Value {
        let Value::Object(object) = part else {
            return part.clone();
        };
        if let Some(place) = object.get("in") {
            if matches!(place.as_str(), Some("body" | "formData")) {
                self.warn(
                    pointer,
                    "a body or form parameter in a file the document references is not \
                     converted; write it in the document itself",
                );
                let mut part = part.clone();
                rewrite_refs(&mut part);
                return part;
            }
            return Value::Object(self.parameter(pointer, object));
        }
        if object.contains_key("schema") || object.contains_key("headers") {
            return self.response(pointer, part, &[DEFAULT_MEDIA_TYPE.into()]);
        }
        self.schema(pointer, part)
    }

    /// The map at top-level `key`, if it is one (a warning if it is something else).
    fn named(&mut self, key: &str) -> Option<&'a Map<String, Value>> {
        let source = self.source;
        match source.get(key) {
            Some(Value::Object(map)) => Some(map),
            Some(_) => {
                self.warn(
                    format!("/{key}"),
                    format!("`{key}` is not an object, so it is left out"),
                );
                None
            }
            None => None,
        }
    }

    fn security_scheme(&mut self, pointer: &str, scheme: &Value) -> Option<Value> {
        let Value::Object(scheme) = scheme else {
            self.warn(
                pointer,
                "a security scheme is not an object, so it is left out",
            );
            return None;
        };
        let mut out = Map::new();
        for (key, value) in scheme {
            if key == "description" || key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            }
        }
        match scheme.get("type").and_then(Value::as_str) {
            Some("basic") => {
                out.insert("type".into(), json!("http"));
                out.insert("scheme".into(), json!("basic"));
            }
            Some("apiKey") => {
                out.insert("type".into(), json!("apiKey"));
                for key in ["name", "in"] {
                    if let Some(value) = scheme.get(key) {
                        out.insert(key.into(), value.clone());
                    }
                }
            }
            Some("oauth2") => {
                let flow = match scheme.get("flow").and_then(Value::as_str) {
                    Some("implicit") => "implicit",
                    Some("password") => "password",
                    Some("application") => "clientCredentials",
                    Some("accessCode") => "authorizationCode",
                    other => {
                        self.warn(
                            format!("{pointer}/flow"),
                            format!(
                                "`flow: {}` is not a Swagger 2.0 OAuth2 flow, so the scheme is \
                                 left out",
                                other.unwrap_or("(missing)")
                            ),
                        );
                        return None;
                    }
                };
                let mut converted = Map::new();
                for key in ["authorizationUrl", "tokenUrl"] {
                    if let Some(value) = scheme.get(key) {
                        converted.insert(key.into(), value.clone());
                    }
                }
                let scopes = scheme
                    .get("scopes")
                    .filter(|scopes| scopes.is_object())
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                converted.insert("scopes".into(), scopes);
                out.insert("type".into(), json!("oauth2"));
                out.insert("flows".into(), json!({ flow: converted }));
            }
            other => {
                self.warn(
                    format!("{pointer}/type"),
                    format!(
                        "`type: {}` is not a Swagger 2.0 security scheme, so it is left out",
                        other.unwrap_or("(missing)")
                    ),
                );
                return None;
            }
        }
        Some(Value::Object(out))
    }
}

/// The parameter that `reference` names if it is `#/parameters/X` in the same document.
fn local_parameter<'a>(source: &'a Map<String, Value>, reference: &str) -> Option<&'a Value> {
    let name = reference.strip_prefix("#/parameters/")?;
    source.get("parameters")?.as_object()?.get(&unescape(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 3.0 document `source` converts to, and the warnings' (pointer, reason).
    fn converted(mut source: Value) -> (Value, Vec<(String, String)>) {
        let warnings = convert(Path::new("spec.yaml"), &mut source);
        let warnings = warnings
            .into_iter()
            .map(|warning| (warning.location, warning.reason))
            .collect();
        (source, warnings)
    }

    fn swagger(rest: Value) -> Value {
        let mut document =
            json!({"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {}});
        if let (Value::Object(document), Value::Object(rest)) = (&mut document, rest) {
            document.extend(rest);
        }
        document
    }

    #[test]
    fn only_swagger_2_documents_are_converted() {
        let mut openapi = json!({"openapi": "3.0.3", "paths": {}, "definitions": {}});
        let before = openapi.clone();
        assert!(convert(Path::new("a.yaml"), &mut openapi).is_empty());
        assert_eq!(openapi, before);
        let mut old = json!({"swagger": "1.2", "paths": {}});
        convert(Path::new("a.yaml"), &mut old);
        assert_eq!(old["swagger"], "1.2");
        // `swagger: 2.0` unquoted in YAML is a number.
        let (document, _) = converted(json!({"swagger": 2.0, "paths": {}}));
        assert_eq!(document["openapi"], "3.0.3");
        assert_eq!(document[CONVERTED_KEY], "2.0");
        assert!(document.get("swagger").is_none());
    }

    #[test]
    fn host_base_path_and_schemes_become_servers() {
        let (document, _) = converted(swagger(json!({
            "host": "api.example.com", "basePath": "/v2", "schemes": ["https", "http"]
        })));
        assert_eq!(
            document["servers"],
            json!([{"url": "https://api.example.com/v2"}, {"url": "http://api.example.com/v2"}])
        );
        assert_eq!(crate::compile::mount_path(&document), "/v2");
        let (document, _) = converted(swagger(json!({"basePath": "/v1"})));
        assert_eq!(document["servers"], json!([{"url": "/v1"}]));
        assert_eq!(crate::compile::mount_path(&document), "/v1");
        let (document, _) = converted(swagger(json!({"host": "example.com"})));
        assert_eq!(document["servers"], json!([{"url": "https://example.com"}]));
        let (document, _) = converted(swagger(json!({})));
        assert!(document.get("servers").is_none());
    }

    #[test]
    fn definitions_become_schemas_with_their_keywords_converted() {
        let (document, _) = converted(swagger(json!({"definitions": {
            "Pet": {
                "type": "object",
                "discriminator": "kind",
                "properties": {
                    "kind": {"type": "string"},
                    "owner": {"$ref": "#/definitions/Owner"},
                    "nickname": {"type": "string", "x-nullable": true},
                    "photo": {"type": "file"},
                    "tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}},
                    "example": {"type": "object", "example": {"$ref": "#/definitions/Data"}}
                },
                "allOf": [{"$ref": "other.yaml#/definitions/Base"}],
                "additionalProperties": {"$ref": "#/definitions/Tag"}
            }
        }})));
        let pet = &document["components"]["schemas"]["Pet"];
        assert_eq!(pet["discriminator"], json!({"propertyName": "kind"}));
        let properties = &pet["properties"];
        assert_eq!(properties["owner"]["$ref"], "#/components/schemas/Owner");
        assert_eq!(
            properties["nickname"],
            json!({"type": "string", "nullable": true})
        );
        assert_eq!(
            properties["photo"],
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(
            properties["tags"]["items"]["$ref"],
            "#/components/schemas/Tag"
        );
        // An example is data: a `$ref` key in it is not a reference.
        assert_eq!(
            properties["example"]["example"]["$ref"],
            "#/definitions/Data"
        );
        assert_eq!(
            pet["allOf"][0]["$ref"],
            "other.yaml#/components/schemas/Base"
        );
        assert_eq!(
            pet["additionalProperties"]["$ref"],
            "#/components/schemas/Tag"
        );
        assert!(document.get("definitions").is_none());
    }

    #[test]
    fn references_are_rewritten_to_where_3_0_keeps_the_parts() {
        assert_eq!(convert_ref("#/definitions/Pet"), "#/components/schemas/Pet");
        assert_eq!(
            convert_ref("#/parameters/limit"),
            "#/components/parameters/limit"
        );
        assert_eq!(
            convert_ref("#/responses/NotFound"),
            "#/components/responses/NotFound"
        );
        assert_eq!(
            convert_ref("common.yaml#/definitions/Error"),
            "common.yaml#/components/schemas/Error"
        );
        assert_eq!(convert_ref("Pet.yaml"), "Pet.yaml");
        // In a schema, a bare name is a definition, as early 2.0 documents write it.
        assert_eq!(convert_schema_ref("Pet"), "#/components/schemas/Pet");
        assert_eq!(convert_schema_ref("Pet.yaml"), "Pet.yaml");
        assert_eq!(
            convert_schema_ref("#/definitions/Pet"),
            "#/components/schemas/Pet"
        );
        let (document, _) = converted(swagger(
            json!({"definitions": {"Pets": {"type": "array", "items": {"$ref": "Pet"}}}}),
        ));
        assert_eq!(
            document["components"]["schemas"]["Pets"]["items"]["$ref"],
            "#/components/schemas/Pet"
        );
        assert_eq!(convert_ref("#/paths/~1pets"), "#/paths/~1pets");
    }

    #[test]
    fn shared_parameters_responses_and_bodies_become_components() {
        let (document, _) = converted(swagger(json!({
            "consumes": ["application/xml"],
            "produces": ["application/json"],
            "parameters": {
                "limit": {"name": "limit", "in": "query", "type": "integer", "maximum": 100},
                "pet": {"name": "pet", "in": "body", "required": true, "schema": {"$ref": "#/definitions/Pet"}}
            },
            "responses": {
                "NotFound": {"description": "gone", "schema": {"$ref": "#/definitions/Error"}}
            },
            "paths": {"/pets": {"get": {
                "parameters": [{"$ref": "#/parameters/limit"}],
                "responses": {"404": {"$ref": "#/responses/NotFound"}}
            }}}
        })));
        let components = &document["components"];
        assert_eq!(
            components["parameters"]["limit"],
            json!({"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}})
        );
        assert_eq!(
            components["requestBodies"]["pet"],
            json!({"required": true, "content": {"application/xml": {"schema": {"$ref": "#/components/schemas/Pet"}}}})
        );
        assert_eq!(
            components["responses"]["NotFound"],
            json!({"description": "gone", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        );
        let get = &document["paths"]["/pets"]["get"];
        assert_eq!(
            get["parameters"],
            json!([{"$ref": "#/components/parameters/limit"}])
        );
        assert_eq!(
            get["responses"]["404"],
            json!({"$ref": "#/components/responses/NotFound"})
        );
    }

    #[test]
    fn security_definitions_become_security_schemes() {
        let (document, warnings) = converted(swagger(json!({"securityDefinitions": {
            "basic": {"type": "basic", "description": "user and password"},
            "key": {"type": "apiKey", "name": "api_key", "in": "header"},
            "implicit": {"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a/auth", "scopes": {"read": "r"}},
            "password": {"type": "oauth2", "flow": "password", "tokenUrl": "https://a/token", "scopes": {}},
            "application": {"type": "oauth2", "flow": "application", "tokenUrl": "https://a/token", "scopes": {}},
            "accessCode": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a/auth", "tokenUrl": "https://a/token", "scopes": {}},
            "odd": {"type": "digest"}
        }})));
        let schemes = &document["components"]["securitySchemes"];
        assert_eq!(
            schemes["basic"],
            json!({"type": "http", "scheme": "basic", "description": "user and password"})
        );
        assert_eq!(
            schemes["key"],
            json!({"type": "apiKey", "name": "api_key", "in": "header"})
        );
        assert_eq!(
            schemes["implicit"],
            json!({"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://a/auth", "scopes": {"read": "r"}}}})
        );
        assert!(schemes["password"]["flows"]["password"].is_object());
        assert_eq!(
            schemes["application"]["flows"]["clientCredentials"]["tokenUrl"],
            "https://a/token"
        );
        assert!(
            schemes["accessCode"]["flows"]["authorizationCode"]["authorizationUrl"].is_string()
        );
        assert!(schemes.get("odd").is_none());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].0, "/securityDefinitions/odd/type");
    }

    #[test]
    fn a_body_parameter_becomes_the_request_body_under_each_consumed_type() {
        let body = json!({"name": "pet", "in": "body", "required": true, "description": "the pet", "schema": {"$ref": "#/definitions/Pet"}});
        let (document, _) = converted(swagger(json!({
            "consumes": ["application/json", "application/xml"],
            "paths": {"/pets": {
                "post": {"parameters": [body], "responses": {}},
                "put": {"consumes": ["text/plain"], "parameters": [body], "responses": {}}
            }}
        })));
        let post = &document["paths"]["/pets"]["post"];
        assert!(post.get("parameters").is_none());
        let schema = json!({"schema": {"$ref": "#/components/schemas/Pet"}});
        assert_eq!(
            post["requestBody"],
            json!({"description": "the pet", "required": true, "content": {"application/json": schema, "application/xml": schema}})
        );
        let put = &document["paths"]["/pets"]["put"];
        assert_eq!(put["requestBody"]["content"], json!({"text/plain": schema}));
        // A list is read once per name and at most [`MAX_MEDIA_TYPES`] long.
        let many: Vec<String> = (0..40).map(|index| format!("text/x-{index}")).collect();
        let (document, warnings) = converted(swagger(json!({
            "consumes": ["text/plain", "text/plain"],
            "produces": many,
            "paths": {"/pets": {"post": {"parameters": [body], "responses": {"200": {"description": "", "schema": {}}}}}}
        })));
        let post = &document["paths"]["/pets"]["post"];
        assert_eq!(
            post["requestBody"]["content"],
            json!({"text/plain": schema})
        );
        let content = post["responses"]["200"]["content"].as_object().unwrap();
        assert_eq!(content.len(), MAX_MEDIA_TYPES);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].0, "/produces");
        // With no `consumes` anywhere, JSON.
        let (document, _) = converted(swagger(
            json!({"paths": {"/pets": {"post": {"parameters": [body], "responses": {}}}}}),
        ));
        assert_eq!(
            document["paths"]["/pets"]["post"]["requestBody"]["content"],
            json!({"application/json": schema})
        );
    }

    #[test]
    fn a_referenced_or_path_level_body_parameter_is_the_operations_body_too() {
        let (document, _) = converted(swagger(json!({
            "parameters": {"pet": {"name": "pet", "in": "body", "schema": {"type": "object"}}},
            "paths": {"/pets": {
                "parameters": [{"$ref": "#/parameters/pet"}],
                "post": {"responses": {}}
            }}
        })));
        let item = &document["paths"]["/pets"];
        assert!(item.get("parameters").is_none());
        assert_eq!(
            item["post"]["requestBody"]["content"]["application/json"]["schema"],
            json!({"type": "object"})
        );
    }

    #[test]
    fn form_fields_become_an_object_body_of_the_form_media_type() {
        let (document, _) = converted(swagger(json!({"paths": {
            "/login": {"post": {"parameters": [
                {"name": "user", "in": "formData", "type": "string", "required": true, "maxLength": 20},
                {"name": "remember", "in": "formData", "type": "boolean", "description": "stay"}
            ], "responses": {}}},
            "/upload": {"post": {"consumes": ["multipart/form-data"], "parameters": [
                {"name": "file", "in": "formData", "type": "file", "required": true},
                {"name": "id", "in": "path", "type": "integer", "required": true}
            ], "responses": {}}},
            "/photo": {"post": {"parameters": [{"name": "file", "in": "formData", "type": "file"}], "responses": {}}}
        }})));
        let paths = &document["paths"];
        assert_eq!(
            paths["/login"]["post"]["requestBody"],
            json!({"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object",
                "properties": {
                    "user": {"type": "string", "maxLength": 20},
                    "remember": {"type": "boolean", "description": "stay"}
                },
                "required": ["user"]
            }}}})
        );
        let upload = &paths["/upload"]["post"];
        assert_eq!(
            upload["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["file"],
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(upload["parameters"][0]["name"], "id");
        // A file with no `consumes` is sent as multipart.
        assert!(
            paths["/photo"]["post"]["requestBody"]["content"]["multipart/form-data"].is_object()
        );
    }

    #[test]
    fn a_non_body_parameter_has_its_type_in_a_schema() {
        let (document, _) = converted(swagger(
            json!({"paths": {"/pets/{id}": {"get": {"parameters": [
            {"name": "id", "in": "path", "required": true, "type": "integer", "format": "int64", "minimum": 1, "x-note": "n"},
            {"name": "status", "in": "query", "type": "string", "enum": ["a", "b"], "default": "a", "allowEmptyValue": true},
            {"name": "X-Tag", "in": "header", "type": "string", "x-nullable": true, "pattern": "^[a-z]+$"}
        ], "responses": {}}}}}),
        ));
        let parameters = &document["paths"]["/pets/{id}"]["get"]["parameters"];
        assert_eq!(
            parameters[0],
            json!({"name": "id", "in": "path", "required": true, "x-note": "n", "schema": {"type": "integer", "format": "int64", "minimum": 1}})
        );
        assert_eq!(
            parameters[1],
            json!({"name": "status", "in": "query", "allowEmptyValue": true, "schema": {"type": "string", "enum": ["a", "b"], "default": "a"}})
        );
        assert_eq!(
            parameters[2]["schema"],
            json!({"type": "string", "pattern": "^[a-z]+$", "nullable": true})
        );
    }

    #[test]
    fn collection_formats_become_styles() {
        let parameter = |format: Option<&str>, place: &str| {
            let mut parameter = json!({"name": "p", "in": place, "type": "array", "items": {"type": "string", "maxLength": 3}});
            if let Some(format) = format {
                parameter["collectionFormat"] = json!(format);
            }
            let (document, warnings) = converted(swagger(
                json!({"paths": {"/a": {"get": {"parameters": [parameter], "responses": {}}}}}),
            ));
            let converted = document["paths"]["/a"]["get"]["parameters"][0].clone();
            (
                converted.get("style").cloned(),
                converted.get("explode").cloned(),
                converted["schema"]["items"].clone(),
                warnings,
            )
        };
        let form = (Some(json!("form")), Some(json!(false)));
        let (style, explode, items, warnings) = parameter(None, "query");
        assert_eq!((style, explode), form.clone());
        assert_eq!(items, json!({"type": "string", "maxLength": 3}));
        assert!(warnings.is_empty());
        let (style, explode, ..) = parameter(Some("csv"), "query");
        assert_eq!((style, explode), form);
        let (style, explode, ..) = parameter(Some("multi"), "query");
        assert_eq!((style, explode), (Some(json!("form")), Some(json!(true))));
        let (style, explode, ..) = parameter(Some("ssv"), "query");
        assert_eq!(
            (style, explode),
            (Some(json!("spaceDelimited")), Some(json!(false)))
        );
        let (style, explode, ..) = parameter(Some("pipes"), "query");
        assert_eq!(
            (style, explode),
            (Some(json!("pipeDelimited")), Some(json!(false)))
        );
        let (style, explode, ..) = parameter(Some("csv"), "header");
        assert_eq!(
            (style, explode),
            (Some(json!("simple")), Some(json!(false)))
        );
        let (style, _, _, warnings) = parameter(Some("tsv"), "query");
        assert_eq!(style, None);
        assert_eq!(warnings.len(), 1);
        assert_eq!(
            warnings[0].0,
            "/paths/~1a/get/parameters/0/collectionFormat"
        );
        assert!(warnings[0].1.contains("tsv"), "{warnings:?}");
    }

    #[test]
    fn responses_have_content_for_each_produced_type_with_headers_and_examples() {
        let (document, _) = converted(swagger(json!({
            "produces": ["application/json"],
            "paths": {"/pets": {
                "get": {"responses": {
                    "200": {
                        "description": "pets",
                        "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                        "headers": {"X-Rate": {"type": "integer", "description": "left", "minimum": 0}},
                        "examples": {"application/json": [{"id": 1}]}
                    },
                    "204": {"description": "nothing"}
                }},
                "put": {"produces": ["application/xml", "text/csv"], "responses": {"200": {"description": "ok", "schema": {"type": "string"}}}},
                "post": {"responses": {"200": {"description": "the photo", "schema": {"type": "file"}}}}
            }}
        })));
        let get = &document["paths"]["/pets"]["get"]["responses"];
        assert_eq!(
            get["200"],
            json!({
                "description": "pets",
                "headers": {"X-Rate": {"description": "left", "schema": {"type": "integer", "minimum": 0}}},
                "content": {"application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                    "example": [{"id": 1}]
                }}
            })
        );
        assert_eq!(get["204"], json!({"description": "nothing"}));
        let put = &document["paths"]["/pets"]["put"]["responses"]["200"]["content"];
        assert_eq!(
            *put,
            json!({"application/xml": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}}})
        );
        let post = &document["paths"]["/pets"]["post"]["responses"]["200"]["content"];
        assert_eq!(
            post["application/json"]["schema"],
            json!({"type": "string", "format": "binary"})
        );
    }

    #[test]
    fn security_tags_and_the_operations_own_words_are_kept() {
        let (document, _) = converted(swagger(json!({
            "security": [{"key": []}],
            "tags": [{"name": "pets"}],
            "x-top": 1,
            "paths": {"/pets": {"get": {
                "operationId": "listPets", "tags": ["pets"], "deprecated": true,
                "summary": "list", "security": [], "x-thing": true, "responses": {}
            }}}
        })));
        assert_eq!(document["security"], json!([{"key": []}]));
        assert_eq!(document["tags"], json!([{"name": "pets"}]));
        assert_eq!(document["x-top"], 1);
        assert_eq!(document["info"]["title"], "T");
        assert_eq!(
            document["paths"]["/pets"]["get"],
            json!({"operationId": "listPets", "tags": ["pets"], "deprecated": true, "summary": "list", "security": [], "x-thing": true, "responses": {}})
        );
    }

    #[test]
    fn parts_of_the_wrong_type_are_warnings_never_a_panic() {
        let (document, warnings) = converted(json!({
            "swagger": "2.0",
            "host": 3,
            "basePath": [],
            "consumes": "application/json",
            "definitions": [],
            "parameters": {"bad": 1},
            "securityDefinitions": {"x": "y", "o": {"type": "oauth2", "flow": 7}},
            "paths": {"/a": {"parameters": 5, "get": {"parameters": [1, {"$ref": 2}, {"in": "body", "name": "b"}], "responses": {"200": {"headers": 1, "schema": {"items": [{}]}}}}, "post": 3}, "/b": []}
        }));
        let pointers: Vec<&str> = warnings
            .iter()
            .map(|(pointer, _)| pointer.as_str())
            .collect();
        for expected in [
            "/host",
            "/basePath",
            "/definitions",
            "/parameters/bad",
            "/securityDefinitions/x",
            "/securityDefinitions/o/flow",
            "/paths/~1a/parameters",
            "/paths/~1a/get/parameters/0",
            "/paths/~1a/get/parameters/1",
            "/consumes",
            "/paths/~1a/get",
            "/paths/~1a/get/responses/200/headers",
            "/paths/~1a/get/responses/200/schema/items",
        ] {
            assert!(
                pointers.contains(&expected),
                "{expected} not in {warnings:?}"
            );
        }
        // What is not an object is left for the compiler to report.
        assert_eq!(document["paths"]["/b"], json!([]));
        assert_eq!(document["paths"]["/a"]["post"], 3);
    }

    #[test]
    fn a_file_of_shared_parts_moves_them_where_3_0_keeps_them() {
        let mut parts = json!({
            "definitions": {"Error": {"type": "object", "properties": {"code": {"$ref": "#/definitions/Code"}}}},
            "Code": {"type": "integer", "x-other": {"$ref": "#/definitions/Keep"}}
        });
        convert_parts(Path::new("common.yaml"), &mut parts);
        assert_eq!(
            parts["components"]["schemas"]["Error"]["properties"]["code"]["$ref"],
            "#/components/schemas/Code"
        );
        assert_eq!(parts["Code"]["x-other"]["$ref"], "#/definitions/Keep");
        // Bare parts, as the OAI's petstore-separate example has them, by their shape.
        let mut bare = json!({
            "Pet": {"type": "object", "properties": {"tag": {"type": "string", "x-nullable": true}, "owner": {"$ref": "#/definitions/Owner"}}},
            "limitParam": {"name": "limit", "in": "query", "type": "integer"},
            "petParam": {"name": "pet", "in": "body", "schema": {"$ref": "#/definitions/Pet"}},
            "NotFound": {"description": "no", "schema": {"$ref": "#/Pet"}}
        });
        let warnings = convert_parts(Path::new("parts.yaml"), &mut bare);
        assert_eq!(
            bare["Pet"]["properties"]["tag"],
            json!({"type": "string", "nullable": true})
        );
        assert_eq!(
            bare["Pet"]["properties"]["owner"]["$ref"],
            "#/components/schemas/Owner"
        );
        assert_eq!(
            bare["limitParam"],
            json!({"name": "limit", "in": "query", "schema": {"type": "integer"}})
        );
        assert_eq!(
            bare["NotFound"],
            json!({"description": "no", "content": {"application/json": {"schema": {"$ref": "#/Pet"}}}})
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].location, "/petParam");
        // A whole 2.0 document referenced by another is converted whole.
        let mut whole = swagger(json!({"definitions": {"A": {"x-nullable": true}}}));
        convert_parts(Path::new("other.yaml"), &mut whole);
        assert_eq!(whole["openapi"], "3.0.3");
        assert_eq!(
            whole["components"]["schemas"]["A"],
            json!({"nullable": true})
        );
        let mut openapi = json!({"openapi": "3.0.0", "definitions": {}});
        convert_parts(Path::new("common.yaml"), &mut openapi);
        assert!(openapi.get("definitions").is_some());
    }

    /// A small document with every part the conversion reads.
    fn every_part() -> Value {
        json!({
            "swagger": "2.0",
            "info": {"title": "T", "version": "1"},
            "host": "h", "basePath": "/v1", "schemes": ["https"],
            "consumes": ["application/json"], "produces": ["application/json"],
            "securityDefinitions": {
                "key": {"type": "apiKey", "name": "k", "in": "header"},
                "o": {"type": "oauth2", "flow": "password", "tokenUrl": "https://t", "scopes": {"a": "b"}}
            },
            "security": [{"key": []}],
            "parameters": {
                "limit": {"name": "limit", "in": "query", "type": "array", "items": {"type": "integer"}, "collectionFormat": "multi"},
                "body": {"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Pet"}}
            },
            "responses": {"Gone": {"description": "gone", "headers": {"X-A": {"type": "string"}}}},
            "definitions": {
                "Pet": {"type": "object", "required": ["name"], "discriminator": "name",
                        "properties": {"name": {"type": "string", "x-nullable": true}, "tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}}}},
                "Tag": {"type": "string", "enum": ["a"]}
            },
            "paths": {
                "/pets/{id}": {
                    "parameters": [{"name": "id", "in": "path", "required": true, "type": "integer"}],
                    "post": {
                        "consumes": ["application/json"],
                        "parameters": [{"$ref": "#/parameters/body"}, {"$ref": "#/parameters/limit"}],
                        "responses": {"201": {"description": "c", "schema": {"$ref": "#/definitions/Pet"}, "examples": {"application/json": {"name": "a"}}}, "410": {"$ref": "#/responses/Gone"}}
                    },
                    "put": {
                        "parameters": [{"name": "f", "in": "formData", "type": "file"}, {"name": "n", "in": "formData", "type": "string"}],
                        "responses": {"200": {"description": "ok", "schema": {"type": "file"}}}
                    }
                }
            }
        })
    }

    /// Every place in `value` as a JSON pointer.
    fn places(value: &Value, pointer: String, out: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                for (key, child) in object {
                    places(child, format!("{pointer}/{}", escape(key)), out);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    places(child, format!("{pointer}/{index}"), out);
                }
            }
            _ => {}
        }
        out.push(pointer);
    }

    #[test]
    fn a_value_of_any_type_anywhere_converts_and_compiles_without_a_panic() {
        let document = every_part();
        let mut converted_whole = document.clone();
        assert!(convert(Path::new("t.yaml"), &mut converted_whole).is_empty());
        let spec = crate::compile::compile_spec(Path::new("t.yaml"), converted_whole).unwrap();
        assert_eq!(spec.version, "Swagger 2.0");
        assert_eq!(spec.operations.len(), 2);
        let mut pointers = Vec::new();
        places(&document, String::new(), &mut pointers);
        let odd = [
            json!(null),
            json!(7),
            json!("x"),
            json!([]),
            json!({}),
            json!([{}]),
        ];
        for pointer in pointers.iter().filter(|pointer| !pointer.is_empty()) {
            for value in &odd {
                let mut mutated = document.clone();
                if let Some(place) = mutated.pointer_mut(pointer) {
                    *place = value.clone();
                }
                convert(Path::new("t.yaml"), &mut mutated);
                // Either it compiles or it is refused with reasons; it never panics.
                let _ = crate::compile::compile_spec(Path::new("t.yaml"), mutated);
            }
        }
    }

    #[test]
    fn an_error_in_a_converted_document_says_its_pointer_is_into_the_conversion() {
        let error =
            |file: &str| LoadError::at(file, "/components/schemas/A", ErrorKind::Schema, "bad");
        let found = locate_in_conversion(
            Path::new("a.yaml"),
            true,
            vec![error("a.yaml"), error("other.yaml")],
        );
        assert_eq!(
            found[0].reason,
            "bad (at this pointer of the OpenAPI 3.0 it was converted to)"
        );
        assert_eq!(found[1].reason, "bad");
        let plain = locate_in_conversion(Path::new("a.yaml"), false, vec![error("a.yaml")]);
        assert_eq!(plain[0].reason, "bad");
    }

    #[test]
    fn another_swagger_version_is_refused_by_name() {
        let errors = crate::compile::compile_spec(
            Path::new("t.yaml"),
            json!({"swagger": "1.2", "paths": {}}),
        )
        .unwrap_err();
        assert_eq!(errors[0].location, "/swagger");
        assert!(
            errors[0].reason.contains("Swagger 1.2 is not supported"),
            "{}",
            errors[0].reason
        );
    }
}
