//! Error bodies in a vendor's shape: violations written as `x-understudy-violations` says (with
//! no word from the spec, `respond.rs` writes RFC 9457 problem details).

use serde_json::{Map, Value, json};

use crate::json_schema::parent_pointer;
use crate::violation::{Location, Violation};

/// How a response writes violations into its body, compiled from `x-understudy-violations`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ViolationMapping {
    collect: Collect,
    item: Value,
    template: Option<Value>,
    into: Option<String>,
    field: FieldNaming,
    root: Option<String>,
    messages: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collect {
    Map,
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldNaming {
    Leaf,
    Dotted,
    Pointer,
}

impl ViolationMapping {
    /// Reads the extension's value; the error is a sentence naming the offending key.
    pub(crate) fn parse(value: &Value) -> Result<ViolationMapping, String> {
        let Value::Object(object) = value else {
            return Err("must be an object".into());
        };
        for key in object.keys() {
            if !matches!(
                key.as_str(),
                "collect" | "item" | "template" | "into" | "field" | "root" | "messages"
            ) {
                return Err(format!("unknown key `{key}`"));
            }
        }
        let collect = match object.get("collect").and_then(Value::as_str) {
            None | Some("map") => Collect::Map,
            Some("list") => Collect::List,
            Some(other) => return Err(format!("`collect` is `map` or `list`, not `{other}`")),
        };
        let field = match object.get("field").and_then(Value::as_str) {
            None | Some("leaf") => FieldNaming::Leaf,
            Some("dotted") => FieldNaming::Dotted,
            Some("pointer") => FieldNaming::Pointer,
            Some(other) => {
                return Err(format!(
                    "`field` is `leaf`, `dotted` or `pointer`, not `{other}`"
                ));
            }
        };
        let into = match object.get("into") {
            None => None,
            Some(Value::String(pointer)) if pointer.is_empty() || pointer.starts_with('/') => {
                Some(pointer.clone())
            }
            Some(_) => return Err("`into` must be a JSON pointer such as `/errors`".into()),
        };
        let template = object.get("template").cloned();
        if let (Some(into), Some(template)) = (&into, &template)
            && !into.is_empty()
            && template.pointer(parent_pointer(into)).is_none()
        {
            return Err(format!("`into` ({into}) has no parent inside `template`"));
        }
        let messages = match object.get("messages") {
            None => Map::new(),
            Some(Value::Object(messages)) => messages.clone(),
            Some(_) => return Err("`messages` must map keywords to message templates".into()),
        };
        Ok(ViolationMapping {
            collect,
            item: object
                .get("item")
                .cloned()
                .unwrap_or_else(|| json!({"field": "{field}", "message": "{message}"})),
            template,
            into,
            field,
            root: object
                .get("root")
                .and_then(Value::as_str)
                .map(str::to_owned),
            messages,
        })
    }

    /// Writes `violations` (never empty) into a body of this shape.
    pub(crate) fn render(&self, violations: &[Violation], status: u16) -> Value {
        let first = violations.first();
        match (&self.template, &self.into) {
            (Some(template), None) => match first {
                Some(violation) => self.fill(template, violation, status),
                None => template.clone(),
            },
            (template, into) => {
                let collection = self.collect(violations, status);
                let Some(template) = template else {
                    return collection;
                };
                let mut body = match first {
                    Some(violation) => self.fill(template, violation, status),
                    None => template.clone(),
                };
                let into = into.as_deref().unwrap_or("");
                if into.is_empty() {
                    return collection;
                }
                if let Some(slot) = body.pointer_mut(into) {
                    *slot = collection;
                } else if let Some(Value::Object(parent)) = body.pointer_mut(parent_pointer(into)) {
                    parent.insert(leaf_of(into).to_owned(), collection);
                }
                body
            }
        }
    }

    /// Writes violations as plain text, one message a line (for `text/plain` responses).
    pub(crate) fn render_text(&self, violations: &[Violation], status: u16) -> String {
        match &self.template {
            Some(Value::String(_)) | Some(Value::Object(_)) if self.into.is_none() => {
                match self.render(violations, status) {
                    Value::String(text) => text,
                    other => other.to_string(),
                }
            }
            _ => violations
                .iter()
                .map(|violation| self.message(violation))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    fn collect(&self, violations: &[Violation], status: u16) -> Value {
        match self.collect {
            Collect::Map => {
                let mut map = Map::new();
                for violation in violations {
                    let entry = map
                        .entry(self.field_name(violation))
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(messages) = entry {
                        let message = Value::String(self.message(violation));
                        if !messages.contains(&message) {
                            messages.push(message);
                        }
                    }
                }
                Value::Object(map)
            }
            Collect::List => Value::Array(
                violations
                    .iter()
                    .map(|violation| self.fill(&self.item, violation, status))
                    .collect(),
            ),
        }
    }

    fn field_name(&self, violation: &Violation) -> String {
        if violation.location != Location::Body {
            return violation.field.clone();
        }
        if violation.pointer.is_empty() {
            return self.root.clone().unwrap_or_else(|| violation.field.clone());
        }
        match self.field {
            FieldNaming::Leaf => violation.field.clone(),
            FieldNaming::Pointer => violation.pointer.clone(),
            FieldNaming::Dotted => violation
                .pointer
                .trim_start_matches('/')
                .split('/')
                .map(crate::json_schema::unescape)
                .collect::<Vec<_>>()
                .join("."),
        }
    }

    /// The message for one violation: `messages["format/<name>"]`, `messages[<keyword>]`,
    /// `messages.default`, or the engine's own sentence.
    fn message(&self, violation: &Violation) -> String {
        let by_format = violation
            .format
            .as_ref()
            .and_then(|format| self.messages.get(&format!("format/{format}")));
        // A conflict keeps its own message unless `messages.unique` says otherwise: the `default`
        // wording is for schema keywords.
        let fallback = if violation.keyword == "unique" {
            None
        } else {
            self.messages.get("default")
        };
        let chosen = by_format
            .or_else(|| self.messages.get(&violation.keyword))
            .or(fallback);
        match chosen.and_then(Value::as_str) {
            Some(template) => self.substitute(template, violation, None, 0),
            None => violation.message.clone(),
        }
    }

    fn fill(&self, template: &Value, violation: &Violation, status: u16) -> Value {
        match template {
            Value::String(text) => {
                let message = self.message(violation);
                Value::String(self.substitute(text, violation, Some(&message), status))
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.fill(item, violation, status))
                    .collect(),
            ),
            Value::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(key, value)| (key.clone(), self.fill(value, violation, status)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn substitute(
        &self,
        template: &str,
        violation: &Violation,
        message: Option<&str>,
        status: u16,
    ) -> String {
        if !template.contains('{') {
            return template.to_owned();
        }
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                return out;
            };
            let name = &after[..close];
            match name {
                "field" => out.push_str(&self.field_name(violation)),
                "pointer" => out.push_str(&violation.pointer),
                "location" => out.push_str(violation.location.as_str()),
                "keyword" => out.push_str(&violation.keyword),
                "limit" => out.push_str(&plain(violation.limit.as_ref())),
                "value" => out.push_str(&plain(violation.value.as_ref())),
                "detail" => out.push_str(&violation.message),
                "status" => out.push_str(&status.to_string()),
                "message" => match message {
                    Some(message) => out.push_str(message),
                    None => out.push_str(&violation.message),
                },
                _ => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn plain(value: Option<&Value>) -> String {
    match value {
        None => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| plain(Some(item)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

fn leaf_of(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or(pointer, |(_, leaf)| leaf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::violation::ViolationClass;

    fn missing(field: &str, pointer: &str) -> Violation {
        Violation::new(
            ViolationClass::Schema,
            Location::Body,
            pointer,
            field,
            "required",
            format!("`{field}` is required"),
        )
    }

    fn bad_email() -> Violation {
        let mut violation = Violation::new(
            ViolationClass::Schema,
            Location::Body,
            "/user/email_address",
            "email_address",
            "format",
            "\"x\" is not an email",
        );
        violation.format = Some("email".into());
        violation
    }

    #[test]
    fn a_field_map_collects_messages_per_field() {
        let mapping = ViolationMapping::parse(&json!({
            "messages": {"required": "can't be blank", "format/email": "is not a valid e-mail address"}
        }))
        .unwrap();
        let body = mapping.render(
            &[missing("first_name", "/user/first_name"), bad_email()],
            422,
        );
        assert_eq!(
            body,
            json!({"first_name": ["can't be blank"], "email_address": ["is not a valid e-mail address"]})
        );
    }

    #[test]
    fn a_list_uses_the_item_template_inside_the_wrapper() {
        let mapping = ViolationMapping::parse(&json!({
            "collect": "list",
            "item": {"key": "{field}", "message": "{message}"},
            "template": {"errors": []},
            "into": "/errors",
            "messages": {"required": "{field} is required"}
        }))
        .unwrap();
        let mut header = missing("X-Disable-Hooks", "/X-Disable-Hooks");
        header.location = Location::Header;
        let body = mapping.render(&[missing("name", "/name"), header], 400);
        assert_eq!(
            body,
            json!({"errors": [
                {"key": "name", "message": "name is required"},
                {"key": "X-Disable-Hooks", "message": "X-Disable-Hooks is required"}
            ]})
        );
    }

    #[test]
    fn a_template_alone_is_filled_from_the_first_violation() {
        let mapping = ViolationMapping::parse(&json!({
            "template": "User with email '{value}' already exists"
        }))
        .unwrap();
        let mut conflict = missing("email", "/email");
        conflict.value = Some(json!("a@x.io"));
        assert_eq!(
            mapping.render_text(&[conflict], 409),
            "User with email 'a@x.io' already exists"
        );
    }

    #[test]
    fn whole_body_violations_use_the_root_name_and_dotted_fields_join_segments() {
        let mapping = ViolationMapping::parse(&json!({"root": "base", "field": "dotted"})).unwrap();
        let body = mapping.render(&[missing("", ""), bad_email()], 422);
        assert_eq!(body["base"], json!(["`` is required"]));
        assert!(body.get("user.email_address").is_some());
    }

    #[test]
    fn unknown_keys_and_values_are_refused() {
        assert!(ViolationMapping::parse(&json!({"colect": "map"})).is_err());
        assert!(ViolationMapping::parse(&json!({"collect": "tree"})).is_err());
        assert!(ViolationMapping::parse(&json!({"into": "errors"})).is_err());
    }
}
