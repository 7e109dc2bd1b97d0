//! The benchmark's workloads: which request each one sends, and what answer it expects.

/// The three workloads the issue names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadId {
    /// (a) A valid DeployHQ `POST /users`: validation, generation, echo and state all on.
    ValidCreate,
    /// (b) An invalid DeployHQ `POST /users`: the 422 path.
    InvalidCreate,
    /// (c) A `GET` with path and query parameters on GitHub's large description.
    ListIssues,
}

impl WorkloadId {
    /// Every workload, in report order.
    pub const ALL: [Self; 3] = [Self::ValidCreate, Self::InvalidCreate, Self::ListIssues];

    /// The workload's letter in the issue.
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

    /// The workload, with the request its probe sends.
    pub fn workload(self) -> Workload {
        match self {
            Self::ValidCreate => Workload {
                id: self,
                request: Request {
                    method: "POST",
                    path: "/users".to_owned(),
                    headers: post_headers(),
                    body: Some(user_body("jane@example.com")),
                },
                expected_status: 201,
                unique_email: true,
            },
            Self::InvalidCreate => Workload {
                id: self,
                request: Request {
                    method: "POST",
                    path: "/users".to_owned(),
                    headers: post_headers(),
                    body: Some(user_body("not-an-email")),
                },
                expected_status: 422,
                unique_email: false,
            },
            Self::ListIssues => Workload {
                id: self,
                request: Request {
                    method: "GET",
                    path: "/repos/octocat/hello-world/issues?state=open&per_page=30".to_owned(),
                    headers: vec![("Accept", "application/json".to_owned())],
                    body: None,
                },
                expected_status: 200,
                unique_email: false,
            },
        }
    }
}

/// One workload: a request sent over and over, and the status every answer should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// Which workload this is.
    pub id: WorkloadId,
    /// The request, as sent by the probe; under load the e-mail address varies if `unique_email`.
    pub request: Request,
    /// The status every answer should have.
    pub expected_status: u16,
    /// Whether every request under load carries a fresh e-mail address (so that understudy, which
    /// remembers creates and rejects a duplicate address, takes the create path every time).
    pub unique_email: bool,
}

impl Workload {
    /// The request with the e-mail address replaced by `email` (only for `unique_email` workloads).
    pub fn request_with_email(&self, email: &str) -> Request {
        let mut request = self.request.clone();
        if self.unique_email {
            request.body = Some(user_body(email));
        }
        request
    }
}

/// An HTTP/1.1 request, as the probe and the wrk script send it.
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

impl Request {
    /// A bare `GET` of `path`.
    pub fn get(path: &str) -> Self {
        Self {
            method: "GET",
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
        }
    }
}

/// HTTP Basic credentials `bench:bench`, as DeployHQ's security scheme asks for.
pub const BASIC_AUTH: &str = "Basic YmVuY2g6YmVuY2g=";

/// The JSON body of a DeployHQ `POST /users` with the given e-mail address.
pub fn user_body(email: &str) -> String {
    format!(
        r#"{{"user": {{"first_name": "Jane", "last_name": "Smith", "email_address": "{email}", "can_create_projects": true}}}}"#
    )
}

/// The text before and after the e-mail address in [`user_body`], for the wrk script to splice.
pub fn user_body_parts() -> (String, String) {
    const MARK: &str = "\u{0}";
    let body = user_body(MARK);
    match body.split_once(MARK) {
        Some((before, after)) => (before.to_owned(), after.to_owned()),
        None => (body, String::new()),
    }
}

/// The headers of a DeployHQ `POST /users`.
fn post_headers() -> Vec<(&'static str, String)> {
    vec![
        ("Content-Type", "application/json".to_owned()),
        ("Accept", "application/json".to_owned()),
        ("Authorization", BASIC_AUTH.to_owned()),
    ]
}
