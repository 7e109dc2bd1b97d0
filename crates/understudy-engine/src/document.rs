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

/// The deepest nesting of objects and arrays a spec may have: the recursion limit of both
/// serde_json and serde_yaml. Real specs stay far below it: GitHub's REST description, among the
/// largest public ones, nests 21 levels deep (29 with every `$ref` inlined).
pub const MAX_DEPTH: usize = 128;

/// How deep YAML flow collections (`[`, `{`) may nest before the text is refused unparsed. libyaml
/// takes time quadratic in this depth before serde_yaml's own limit refuses it (100 000 levels in
/// 200 KB took 17 to 37 s); the scan takes linear time. Its count matched PyYAML's on 2970 real
/// spec files and thousands of generated documents, but it reads only YAML's lexical structure
/// (quotes, comments, block and plain scalars), so the limit is kept well above [`MAX_DEPTH`]: a
/// miscount cannot refuse a document the parser would read, and at 1000 levels libyaml still
/// answers in milliseconds.
const FLOW_SCAN_LIMIT: usize = 1000;

/// Parses the text of a spec. serde_yaml is frozen, so it stays behind this one function.
pub fn parse_document(path: &Path, text: &str) -> Result<Value, LoadError> {
    let is_json = path.extension().and_then(|ending| ending.to_str()) == Some("json");
    if is_json {
        return serde_json::from_str(text).map_err(|error| {
            let reason = if is_too_deep(&error.to_string()) {
                too_deep()
            } else {
                format!("invalid JSON: {error}")
            };
            LoadError {
                file: path.to_owned(),
                location: format!("line {} column {}", error.line(), error.column()),
                kind: ErrorKind::Syntax,
                reason,
            }
        });
    }
    if let Some(at) = flow_nesting_beyond(text.as_bytes(), FLOW_SCAN_LIMIT) {
        let line_start = text[..at].rfind('\n').map_or(0, |newline| newline + 1);
        return Err(LoadError {
            file: path.to_owned(),
            location: format!(
                "line {} column {}",
                text[..at].matches('\n').count() + 1,
                text[line_start..at].chars().count() + 1
            ),
            kind: ErrorKind::Syntax,
            reason: too_deep(),
        });
    }
    serde_yaml::from_str::<Value>(text).map_err(|error| {
        let location = error.location().map_or_else(String::new, |at| {
            format!("line {} column {}", at.line(), at.column())
        });
        let reason = if is_too_deep(&error.to_string()) {
            too_deep()
        } else {
            format!("invalid YAML: {error}")
        };
        LoadError {
            file: path.to_owned(),
            location,
            kind: ErrorKind::Syntax,
            reason,
        }
    })
}

/// Whether a parser's message is its recursion limit ([`MAX_DEPTH`]).
fn is_too_deep(message: &str) -> bool {
    message.starts_with("recursion limit exceeded")
}

fn too_deep() -> String {
    format!("the document is nested deeper than {MAX_DEPTH} levels, more than understudy reads")
}

/// If YAML flow collections nest deeper than `limit`, the offset of the first bracket deeper than
/// [`MAX_DEPTH`]; found in one pass over the text, without parsing it. Brackets inside quoted,
/// plain and block scalars and comments are not counted; for YAML that does not parse, the answer
/// only has to be quick.
fn flow_nesting_beyond(text: &[u8], limit: usize) -> Option<usize> {
    let mut scan = Scan {
        text,
        at: 0,
        line_start: 0,
    };
    // A block scalar (`|`, `>`) being skipped: the column its parent node is at (its lines are
    // indented more), and the indentation of its first line.
    let mut block_scalar: Option<(usize, Option<usize>)> = None;
    // A plain scalar that may go on over the lines indented more than this column.
    let mut plain_over: Option<usize> = None;
    while scan.at < text.len() {
        scan.line_start = scan.at;
        let indent = text[scan.at..]
            .iter()
            .take_while(|&&byte| byte == b' ')
            .count();
        let first = scan.at + indent;
        let end = text[first..]
            .iter()
            .position(|&byte| byte == b'\n')
            .map_or(text.len(), |offset| first + offset);
        let next_line = end + 1;
        let blank = text[first..end]
            .iter()
            .all(|byte| matches!(byte, b' ' | b'\t' | b'\r'));
        if let Some((parent, content)) = block_scalar {
            let inside = content.map_or(indent > parent, |content| indent >= content);
            if blank || inside {
                if !blank {
                    block_scalar = Some((parent, Some(content.unwrap_or(indent))));
                }
                scan.at = next_line;
                continue;
            }
            block_scalar = None;
        }
        if let Some(parent) = plain_over {
            if blank || (indent > parent && text[first] != b'#') {
                scan.at = next_line;
                continue;
            }
            plain_over = None;
        }
        scan.at = first;
        if blank || (indent == 0 && text[first] == b'%') {
            scan.at = next_line;
            continue;
        }
        let marker = &text[first..end];
        if indent == 0
            && (marker.starts_with(b"---") || marker.starts_with(b"..."))
            && marker.get(3).is_none_or(|byte| byte.is_ascii_whitespace())
        {
            scan.at += 3;
        }
        // The column of the mapping key or sequence entry the line is in.
        let mut node: Option<usize> = None;
        let mut scalar: Option<usize> = None;
        loop {
            scan.skip_spaces();
            let Some(&byte) = text.get(scan.at) else {
                break;
            };
            if byte == b'\n' {
                scan.at += 1;
                break;
            }
            let column = scan.at - scan.line_start;
            match byte {
                b'#' => scan.skip_to_line_end(),
                b'-' | b'?' | b':' if scan.spaced(scan.at + 1) => {
                    node = if byte == b':' {
                        scalar.or(node).or(Some(column))
                    } else {
                        Some(column)
                    };
                    scan.at += 1;
                }
                b'[' | b'{' => {
                    if let Err(at) = scan.flow(limit) {
                        return Some(at);
                    }
                }
                b'\'' | b'"' => {
                    scalar = Some(column);
                    scan.quoted();
                }
                b'|' | b'>' => {
                    // Its lines are indented more than its parent, and by one space at least.
                    let parent = node.unwrap_or(indent.saturating_sub(1));
                    // An explicit indentation indicator fixes the indentation of the lines.
                    let content = text[scan.at + 1..]
                        .iter()
                        .take(2)
                        .find(|byte| byte.is_ascii_digit())
                        .map(|digit| parent + usize::from(digit - b'0'));
                    block_scalar = Some((parent, content));
                    scan.skip_to_line_end();
                }
                b'&' | b'!' | b'*' => {
                    while text
                        .get(scan.at)
                        .is_some_and(|byte| !byte.is_ascii_whitespace())
                    {
                        scan.at += 1;
                    }
                }
                _ => {
                    // A plain scalar: a key if `: ` follows, else a value to the end of the line.
                    while let Some(&byte) = text.get(scan.at) {
                        if byte == b'\n' {
                            plain_over = Some(node.unwrap_or(indent.saturating_sub(1)));
                            break;
                        }
                        if byte == b':' && scan.spaced(scan.at + 1) {
                            node = Some(column);
                            scan.at += 1;
                            break;
                        }
                        if byte == b'#' && matches!(text[scan.at - 1], b' ' | b'\t') {
                            scan.skip_to_line_end();
                            break;
                        }
                        scan.at += 1;
                    }
                }
            }
        }
    }
    None
}

/// A position in the text being scanned by [`flow_nesting_beyond`].
struct Scan<'a> {
    text: &'a [u8],
    at: usize,
    line_start: usize,
}

impl Scan<'_> {
    fn skip_spaces(&mut self) {
        while self
            .text
            .get(self.at)
            .is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\r'))
        {
            self.at += 1;
        }
    }

    /// Moves to the line's `\n` (or the end).
    fn skip_to_line_end(&mut self) {
        while self.text.get(self.at).is_some_and(|&byte| byte != b'\n') {
            self.at += 1;
        }
    }

    /// Whether `at` is whitespace or the end: what makes `-`, `?` and `:` indicators.
    fn spaced(&self, at: usize) -> bool {
        self.text
            .get(at)
            .is_none_or(|byte| byte.is_ascii_whitespace())
    }

    /// Skips a quoted scalar, which may span lines; `at` is on its opening quote.
    fn quoted(&mut self) {
        let quote = self.text[self.at];
        self.at += 1;
        while let Some(&byte) = self.text.get(self.at) {
            self.at += 1;
            match byte {
                b'\n' => self.line_start = self.at,
                b'\\' if quote == b'"' => {
                    if self.text.get(self.at) == Some(&b'\n') {
                        self.line_start = self.at + 1;
                    }
                    self.at += 1;
                }
                _ if byte == quote => {
                    if quote == b'\'' && self.text.get(self.at) == Some(&b'\'') {
                        self.at += 1;
                    } else {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// Skips a flow collection, which may span lines; `at` is on its opening bracket. Fails if it
    /// nests deeper than `limit`, with the offset of the first bracket deeper than [`MAX_DEPTH`].
    fn flow(&mut self, limit: usize) -> Result<(), usize> {
        let mut depth = 0usize;
        // Where the nesting first went beyond [`MAX_DEPTH`], which is where the error is reported.
        let mut too_deep_at = None;
        // Whether a scalar may start here (a quote opens a quoted scalar only there).
        let mut scalar_start = true;
        // Whether a quoted scalar or a collection just ended: a `:` after one is an indicator even
        // without a space (`{"a":1}`).
        let mut after_node = false;
        while let Some(&byte) = self.text.get(self.at) {
            match byte {
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_DEPTH && too_deep_at.is_none() {
                        too_deep_at = Some(self.at);
                    }
                    if depth > limit {
                        return Err(too_deep_at.unwrap_or(self.at));
                    }
                    self.at += 1;
                    scalar_start = true;
                    after_node = false;
                }
                b']' | b'}' => {
                    self.at += 1;
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(());
                    }
                    scalar_start = false;
                    after_node = true;
                }
                b'\n' => {
                    self.at += 1;
                    self.line_start = self.at;
                }
                b' ' | b'\t' | b'\r' => self.at += 1,
                b',' => {
                    self.at += 1;
                    scalar_start = true;
                    after_node = false;
                }
                b'#' if self.text[self.at - 1].is_ascii_whitespace() => {
                    self.skip_to_line_end();
                    scalar_start = true;
                    after_node = false;
                }
                b':' if after_node || self.flow_spaced(self.at + 1) => {
                    self.at += 1;
                    scalar_start = true;
                    after_node = false;
                }
                b'\'' | b'"' if scalar_start => {
                    self.quoted();
                    scalar_start = false;
                    after_node = true;
                }
                b'&' | b'!' | b'*' if scalar_start => {
                    while self.text.get(self.at).is_some_and(|&byte| {
                        !byte.is_ascii_whitespace() && !b",[]{}".contains(&byte)
                    }) {
                        self.at += 1;
                    }
                }
                b'?' | b'-' if scalar_start && self.spaced(self.at + 1) => self.at += 1,
                _ => {
                    self.at += 1;
                    scalar_start = false;
                    after_node = false;
                }
            }
        }
        Ok(())
    }

    /// Whether `at` ends a plain scalar in a flow collection: whitespace, a flow indicator, the end.
    fn flow_spaced(&self, at: usize) -> bool {
        self.text
            .get(at)
            .is_none_or(|byte| byte.is_ascii_whitespace() || b",[]{}".contains(byte))
    }
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

    /// The deepest flow nesting the scan finds: the smallest limit it lets through.
    fn flow_depth(text: &str) -> usize {
        (0..)
            .find(|&limit| flow_nesting_beyond(text.as_bytes(), limit).is_none())
            .unwrap_or(0)
    }

    #[test]
    fn the_scan_counts_flow_collections_exactly() {
        assert_eq!(flow_depth("a: 1\nb: [1, 2]\n"), 1);
        assert_eq!(flow_depth("a: {b: [c, {d: [e]}]}\n"), 4);
        assert_eq!(flow_depth("- [a,\n  [b, {\"c\":[d]}]]\n- x\n"), 4);
        assert_eq!(flow_depth("a: !!seq &anchor [[x]]\n"), 2);
    }

    #[test]
    fn brackets_in_scalars_and_comments_are_not_nesting() {
        let text = "\
pattern: ^[a-z[[[[]+$
quoted: '[[[{{ it''s [['
double: \"[[ \\\" [[\"
multi: \"[[[
  [[[\"
plain: it's a [[ plain scalar # with a comment [[[
# a comment [[[[
list:
  - [ok, 'a ]] b', \"c ]] d\"]  # [[[
  - text [[[
    continued [[[
    [[[ still the plain scalar
literal: |
  [[[[ inside a block scalar
  {{{{
folded: >2-
    [[[[ with an explicit indentation
next: x
flow: {a: 'b[[', c: \"d{{\", url: http://e:8080/x}
";
        assert_eq!(flow_depth(text), 1);
        let parsed: Value = serde_yaml::from_str(text).unwrap();
        assert_eq!(
            parsed["list"][1],
            "text [[[ continued [[[ [[[ still the plain scalar"
        );
    }

    #[test]
    fn a_hundred_thousand_levels_are_refused_at_the_first_level_too_deep() {
        let levels = 100_000;
        let text = format!("x: {}{}\n", "[".repeat(levels), "]".repeat(levels));
        let at = flow_nesting_beyond(text.as_bytes(), FLOW_SCAN_LIMIT);
        assert_eq!(at, Some(3 + MAX_DEPTH));
        let error = parse_document(Path::new("deep.yaml"), &text).unwrap_err();
        assert_eq!(error.location, "line 1 column 132");
        assert_eq!(
            error.reason,
            "the document is nested deeper than 128 levels, more than understudy reads"
        );
    }

    #[test]
    fn deep_json_gets_the_same_answer_from_the_parser() {
        let text = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let error = parse_document(Path::new("deep.json"), &text).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Syntax);
        assert!(
            error.reason.contains("nested deeper than 128 levels"),
            "{}",
            error.reason
        );
    }
}
