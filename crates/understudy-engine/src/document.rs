//! Reading one spec file into JSON: the only place that knows YAML exists.

use std::path::Path;

use serde_json::Value;

use crate::load_error::{ErrorKind, LoadError};

/// The file endings that hold specs.
pub const SPEC_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Reads and parses `path` as YAML or JSON (by its ending; YAML is a superset, so anything else is
/// read as YAML).
pub fn read_document(path: &Path) -> Result<Value, LoadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| LoadError::at(path, "", ErrorKind::Io, error.to_string()))?;
    parse_document(path, &text)
}

/// Parses the text of a spec. serde_yaml is frozen, so it stays behind this one function.
pub fn parse_document(path: &Path, text: &str) -> Result<Value, LoadError> {
    let is_json = path.extension().and_then(|ending| ending.to_str()) == Some("json");
    if is_json {
        return serde_json::from_str(text).map_err(|error| LoadError {
            file: path.to_owned(),
            location: format!("line {} column {}", error.line(), error.column()),
            kind: ErrorKind::Syntax,
            reason: format!("invalid JSON: {error}"),
        });
    }
    serde_yaml::from_str::<Value>(text).map_err(|error| {
        let location = error.location().map_or_else(String::new, |at| {
            format!("line {} column {}", at.line(), at.column())
        });
        LoadError {
            file: path.to_owned(),
            location,
            kind: ErrorKind::Syntax,
            reason: format!("invalid YAML: {error}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_parse_to_the_same_value() {
        let yaml = parse_document(Path::new("a.yaml"), "openapi: 3.0.3\nx: [1, 2]\n").unwrap();
        let json =
            parse_document(Path::new("a.json"), r#"{"openapi": "3.0.3", "x": [1, 2]}"#).unwrap();
        assert_eq!(yaml, json);
    }

    #[test]
    fn a_syntax_error_names_file_line_and_column() {
        let error = parse_document(Path::new("broken.yaml"), "a: [1, 2\nb: c\n").unwrap_err();
        assert_eq!(error.kind, ErrorKind::Syntax);
        assert!(error.location.starts_with("line "), "{}", error.location);
        assert!(error.to_string().starts_with("broken.yaml: line "));
    }
}
