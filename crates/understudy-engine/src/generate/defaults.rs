//! Filling a request body's omitted properties with their schema `default`s, so that the echo in
//! the response shows what the server would have stored.

use std::collections::HashSet;

use serde_json::Value;

use crate::json_schema::deref;

/// How deep schemas and bodies are followed (a body deeper than this keeps its gaps).
const MAX_DEPTH: usize = 64;
/// How many (schema, value) visits one call makes at most: a schema that is its own `allOf`, or
/// two that include each other, would otherwise be walked exponentially often.
const FUEL: u32 = 10_000;

/// Fills in `default`s of a request schema into a request body that omitted them (recursively,
/// through objects, `allOf` and arrays of objects). `readOnly` properties are left out: a client
/// never sends them.
pub fn apply_defaults(document: &Value, schema: &Value, body: &mut Value) {
    let mut filler = Filler {
        document,
        seen: HashSet::new(),
        fuel: FUEL,
    };
    filler.fill(schema, body, 0);
}

/// One walk of a schema over a body.
struct Filler<'d> {
    document: &'d Value,
    /// (schema, value) pairs already walked, by address: each is walked once.
    seen: HashSet<(usize, usize)>,
    fuel: u32,
}

impl<'d> Filler<'d> {
    fn fill(&mut self, schema: &'d Value, body: &mut Value, depth: usize) {
        if depth > MAX_DEPTH || self.fuel == 0 {
            return;
        }
        self.fuel -= 1;
        let schema = deref(self.document, schema);
        let key = (
            std::ptr::from_ref(schema) as usize,
            std::ptr::from_ref(&*body) as usize,
        );
        if !self.seen.insert(key) {
            return;
        }
        if let Some(Value::Array(branches)) = schema.get("allOf") {
            for branch in branches {
                self.fill(branch, body, depth + 1);
            }
        }
        match body {
            Value::Object(map) => {
                let Some(Value::Object(properties)) = schema.get("properties") else {
                    return;
                };
                for (name, property) in properties {
                    let target = deref(self.document, property);
                    let read_only = property.get("readOnly") == Some(&Value::Bool(true))
                        || target.get("readOnly") == Some(&Value::Bool(true));
                    if read_only {
                        continue;
                    }
                    match map.get_mut(name) {
                        Some(child) => self.fill(property, child, depth + 1),
                        None => {
                            let default = target.get("default").or_else(|| property.get("default"));
                            if let Some(default) = default {
                                let mut value = default.clone();
                                self.fill(property, &mut value, depth + 1);
                                map.insert(name.clone(), value);
                            }
                        }
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for item in items {
                        self.fill(item_schema, item, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_fill_gaps_through_wrappers_refs_and_all_of() {
        let document = json!({"components": {"schemas": {
            "Flags": {"type": "object", "properties": {
                "can_create_projects": {"type": "boolean", "default": false},
                "id": {"type": "integer", "readOnly": true, "default": 0}
            }}
        }}});
        let schema = json!({"type": "object", "properties": {
            "user": {"allOf": [{"$ref": "#/components/schemas/Flags"}, {"properties": {
                "admin": {"type": "boolean", "default": false}
            }}]}
        }});
        let mut body = json!({"user": {"can_create_projects": true}});
        apply_defaults(&document, &schema, &mut body);
        assert_eq!(
            body,
            json!({"user": {"can_create_projects": true, "admin": false}})
        );
    }

    #[test]
    fn arrays_of_objects_get_their_defaults() {
        let schema = json!({"type": "array", "items": {"type": "object", "properties": {
            "role": {"type": "string", "default": "member"}
        }}});
        let mut body = json!([{}, {"role": "owner"}]);
        apply_defaults(&json!({}), &schema, &mut body);
        assert_eq!(body, json!([{"role": "member"}, {"role": "owner"}]));
    }

    #[test]
    fn a_schema_that_is_its_own_all_of_is_walked_once() {
        // Two `allOf` branches back to itself: without the visited set this is 2^64 walks.
        let document = json!({"components": {"schemas": {"Loop": {
            "allOf": [{"$ref": "#/components/schemas/Loop"}, {"$ref": "#/components/schemas/Loop"}],
            "properties": {"role": {"type": "string", "default": "member"}}
        }}}});
        let mut body = json!({});
        apply_defaults(
            &document,
            &json!({"$ref": "#/components/schemas/Loop"}),
            &mut body,
        );
        assert_eq!(body, json!({"role": "member"}));
    }
}
