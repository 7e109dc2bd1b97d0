//! The benchmark's workloads: which request each one sends, and what answer it expects.

/// The three workloads the bench drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadId {
    /// (a) A valid DeployHQ `POST /users`: validation, generation, echo and state all on.
    ValidCreate,
    /// (b) An invalid DeployHQ `POST /users`: the 422 path.
    InvalidCreate,
    /// (c) A `GET` with path and query parameters on GitHub's description.
    ListIssues,
}

impl WorkloadId {
    /// Every workload, in report order.
    pub const ALL: [Self; 3] = [Self::ValidCreate, Self::InvalidCreate, Self::ListIssues];

    /// The workload's letter.
    pub fn letter(self) -> &'static str {
        match self {
            Self::ValidCreate => "a",
            Self::InvalidCreate => "b",
            Self::ListIssues => "c",
        }
    }

    /// A short description for the report.
    pub fn label(self) -> &'static str {
        match self {
            Self::ValidCreate => "(a) valid POST /users",
            Self::InvalidCreate => "(b) invalid POST /users",
            Self::ListIssues => "(c) GET /repos/{owner}/{repo}/issues",
        }
    }

    /// The status every answer should have.
    pub fn expected_status(self) -> u16 {
        match self {
            Self::ValidCreate => 201,
            Self::InvalidCreate => 422,
            Self::ListIssues => 200,
        }
    }

    /// Whether every request under load carries a fresh e-mail address (so that understudy, which
    /// remembers creates and refuses a duplicate address, takes the create path every time).
    pub fn unique_email(self) -> bool {
        self == Self::ValidCreate
    }

    /// The workload's request, with `email` as the user's address where it varies.
    pub fn request(self, email: &str) -> Request {
        let post = |body: String| Request {
            method: "POST",
            path: "/users".to_owned(),
            headers: vec![
                ("Content-Type", "application/json".to_owned()),
                ("Accept", "application/json".to_owned()),
                ("Authorization", BASIC_AUTH.to_owned()),
            ],
            body: Some(body),
        };
        match self {
            Self::ValidCreate => post(user_body(email)),
            Self::InvalidCreate => post(user_body("not-an-email")),
            Self::ListIssues => Request {
                method: "GET",
                path: "/repos/octocat/hello-world/issues?state=open&per_page=30".to_owned(),
                headers: vec![("Accept", "application/json".to_owned())],
                body: None,
            },
        }
    }
}

/// An HTTP/1.1 request, as the probes, the wrk script and the in-process run send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: &'static str,
    /// The path and query.
    pub path: String,
    /// Headers besides `Host`, `Connection` and `Content-Length`.
    pub headers: Vec<(&'static str, String)>,
    /// The body, if any.
    pub body: Option<String>,
}

/// HTTP Basic credentials `bench:bench`, as DeployHQ's security scheme asks for.
const BASIC_AUTH: &str = "Basic YmVuY2g6YmVuY2g=";

/// The JSON body of a DeployHQ `POST /users` with the given e-mail address.
fn user_body(email: &str) -> String {
    format!(
        r#"{{"user": {{"first_name": "Jane", "last_name": "Smith", "email_address": "{email}", "can_create_projects": true}}}}"#
    )
}

/// The text before and after the e-mail address in (a)'s body, for the wrk script to splice.
pub fn user_body_parts() -> (String, String) {
    const MARK: &str = "\u{0}";
    let body = user_body(MARK);
    match body.split_once(MARK) {
        Some((before, after)) => (before.to_owned(), after.to_owned()),
        None => (body, String::new()),
    }
}
