//! The error a spec that cannot be served produces: which file, where in it, and why.

use std::fmt;
use std::path::PathBuf;

/// One problem found while loading or compiling a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file the problem is in.
    pub file: PathBuf,
    /// Where in the file: a JSON pointer (`/paths/~1users/post`), or `line L column C` for syntax errors.
    pub location: String,
    /// What kind of problem it is.
    pub kind: ErrorKind,
    /// What is wrong, as a sentence.
    pub reason: String,
}

/// The kinds of problem a spec can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The file or folder could not be read.
    Io,
    /// The file is not well-formed YAML or JSON.
    Syntax,
    /// The document is not an OpenAPI 3.0.x document, or a required part of one is missing.
    Structure,
    /// A `$ref` points at nothing, or at a file that cannot be loaded.
    Reference,
    /// A schema cannot be translated or compiled into a validator or a generator.
    Schema,
    /// An `x-understudy-*` extension is malformed or names something undocumented.
    Extension,
    /// Two operations claim the same method and route.
    RouteClash,
}

impl LoadError {
    /// A problem at a JSON pointer inside `file`.
    pub(crate) fn at(
        file: impl Into<PathBuf>,
        pointer: impl Into<String>,
        kind: ErrorKind,
        reason: impl Into<String>,
    ) -> LoadError {
        LoadError {
            file: file.into(),
            location: pointer.into(),
            kind,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = if self.location.is_empty() {
            "/"
        } else {
            &self.location
        };
        write!(f, "{}: {}: {}", self.file.display(), location, self.reason)
    }
}

impl std::error::Error for LoadError {}

/// Every problem found in a set of specs; start-up stops if there is any.
///
/// Its `Debug` form is its report, one problem a line (`{:#?}` gives the fields): a test or a
/// `main` that returns it with `?` prints what a person can act on, not a struct dump.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// The problems, in the order they were found (file by file).
    pub errors: Vec<LoadError>,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for error in &self.errors {
            writeln!(f, "{error}")?;
        }
        let count = self.errors.len();
        write!(
            f,
            "{count} problem{} found",
            if count == 1 { "" } else { "s" }
        )
    }
}

impl fmt::Debug for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.debug_struct("LoadReport")
                .field("errors", &self.errors)
                .finish()
        } else {
            write!(f, "the specs cannot be served:\n{self}")
        }
    }
}

impl std::error::Error for LoadReport {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_debugs_as_the_lines_a_person_reads() {
        let report = LoadReport {
            errors: vec![LoadError::at(
                "specs/todos.yaml",
                "/paths/~1todos/post",
                ErrorKind::Structure,
                "an operation needs `responses`",
            )],
        };
        assert_eq!(
            format!("{report:?}"),
            "the specs cannot be served:\nspecs/todos.yaml: /paths/~1todos/post: an operation \
             needs `responses`\n1 problem found"
        );
        assert!(format!("{report:#?}").contains("kind: Structure"));
    }
}
