//! The bare axum baseline that `cargo xtask bench` measures understudy against.
//!
//! It answers the benchmark's requests with the least work an honest server could do: `POST /users`
//! parses the JSON body, checks that an `Authorization` header is there and that the e-mail address
//! has an `@`, and answers a fixed DeployHQ-like user (201) or a fixed DeployHQ-like error (422);
//! `GET /repos/{owner}/{repo}/issues` extracts its path and query parameters and answers a fixed
//! JSON list whose size is given on the command line, so that it matches what the mocks send.
//! Everything it does not know is a 404. Its figures are the practical limit of the HTTP stack
//! (hyper, axum and tokio on this machine), not a mock.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// The same allocator as understudy's, so that the baseline measures the same stack.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The help text printed for `--help` and after a usage error.
pub const USAGE: &str = "\
usage: bench-baseline [--host ADDR] [--port N] [--workers N] [--pin-workers] [--list-body-bytes N]

  --host ADDR            address to bind (default 127.0.0.1)
  --port N               port to bind (default 0: any free port, printed on stderr)
  --workers N            threads answering requests (default: one per CPU, as understudy's)
  --pin-workers          bind each worker thread to a CPU of its own, as understudy's option
  --list-body-bytes N    size of the fixed GET /repos/{owner}/{repo}/issues body (default 4096)";

/// The fixed body of a successful `POST /users`: a DeployHQ user with the fields of
/// `specs/deployhq.yaml`'s answer, so that its size is close to understudy's (371 bytes in the
/// bench, whose e-mail addresses are longer than this one).
pub const CREATED_BODY: &str = r#"{"id":1,"identifier":"c22d36e1-a9ae-468b-af1f-f0404638c5e4","first_name":"Jane","last_name":"Smith","email_address":"jane@example.com","time_zone":"America/Bogota","account_administrator":false,"activated":false,"can_manage_users":false,"can_manage_billing":false,"can_create_projects":true,"can_manage_agents":false,"all_projects_allowed":false}"#;

/// The fixed body of a `POST /users` whose e-mail address is not one, as DeployHQ words it.
pub const INVALID_BODY: &str = r#"{"email_address":["is not a valid e-mail address"]}"#;

/// The fixed body of a request whose JSON does not parse or has the wrong shape.
pub const MALFORMED_BODY: &str = r#"{"base":["request body is not valid JSON"]}"#;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The address to bind.
    pub host: String,
    /// The port to bind; 0 lets the system choose.
    pub port: u16,
    /// Threads answering requests: understudy's default unless given, so that the two stacks
    /// are measured alike.
    pub workers: usize,
    /// Whether each worker is bound to a CPU of its own, as understudy's `--pin-workers` does.
    pub pin_workers: bool,
    /// The size in bytes of the fixed issue-list body.
    pub list_body_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 0,
            workers: std::thread::available_parallelism().map_or(1, usize::from),
            pin_workers: false,
            list_body_bytes: 4096,
        }
    }
}

impl Options {
    /// Reads the options from the arguments that follow the program name.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut options = Self::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--host" => options.host = value()?,
                "--port" => {
                    options.port = value()?.parse().map_err(|e| format!("--port: {e}"))?;
                }
                "--workers" => {
                    options.workers = value()?
                        .parse::<usize>()
                        .ok()
                        .filter(|workers| (1..=1024).contains(workers))
                        .ok_or_else(|| "--workers: a number from 1 to 1024".to_owned())?;
                }
                "--pin-workers" => options.pin_workers = true,
                "--list-body-bytes" => {
                    options.list_body_bytes = value()?
                        .parse()
                        .map_err(|e| format!("--list-body-bytes: {e}"))?;
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(options)
    }
}

/// How a `POST /users` body is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A JSON object with a `user` whose `email_address` has an `@`.
    Created,
    /// Well-formed JSON whose e-mail address is missing or has no `@`.
    Invalid,
    /// A body that is not JSON.
    Malformed,
}

/// Parses a `POST /users` body and judges it.
pub fn judge_user(body: &[u8]) -> Verdict {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Verdict::Malformed;
    };
    let email = value
        .get("user")
        .and_then(|user| user.get("email_address"))
        .and_then(serde_json::Value::as_str);
    match email {
        Some(email) if email.contains('@') => Verdict::Created,
        _ => Verdict::Invalid,
    }
}

/// Builds a JSON array of one issue-like object, padded to exactly `size` bytes when `size` is at
/// least the size of the unpadded object.
pub fn padded_list_body(size: usize) -> String {
    const HEAD: &str = r#"[{"id":1,"number":1,"state":"open","title":"Found a bug","body":""#;
    const TAIL: &str = r#""}]"#;
    let padding = size.saturating_sub(HEAD.len() + TAIL.len());
    let mut body = String::with_capacity(HEAD.len() + padding + TAIL.len());
    body.push_str(HEAD);
    body.extend(std::iter::repeat_n('x', padding));
    body.push_str(TAIL);
    body
}

/// Builds the router with a list body of `list_body_bytes` bytes.
pub fn app(list_body_bytes: usize) -> Router {
    let list = Bytes::from(padded_list_body(list_body_bytes));
    Router::new()
        .route("/users", post(create_user))
        .route("/repos/{owner}/{repo}/issues", get(list_issues))
        .with_state(Arc::new(list))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("bench-baseline: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match pinned_workers::multi_thread_runtime(options.workers, options.pin_workers) {
        Ok((runtime, pinning)) => {
            if let Some(pinning) = pinning {
                eprintln!(
                    "bench-baseline: workers bound to CPUs {pinning}{}",
                    if pinning.is_complete() {
                        ""
                    } else {
                        " (not all of them)"
                    }
                );
            }
            runtime
        }
        Err(error) => {
            eprintln!("bench-baseline: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(options))
}

/// Binds and serves until the process is stopped.
async fn serve(options: Options) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind((options.host.as_str(), options.port)).await
    {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "bench-baseline: cannot bind {}:{}: {error}",
                options.host, options.port
            );
            return ExitCode::FAILURE;
        }
    };
    if let Ok(address) = listener.local_addr() {
        eprintln!(
            "bench-baseline: listening on http://{address} with {} worker(s)",
            options.workers
        );
    }
    if let Err(error) = axum::serve(listener, app(options.list_body_bytes)).await {
        eprintln!("bench-baseline: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Answers `POST /users` from the verdict on its body.
async fn create_user(headers: HeaderMap, body: Bytes) -> Response {
    if !headers.contains_key(header::AUTHORIZATION) {
        return json(StatusCode::UNAUTHORIZED, r#"{"error":"unauthorized"}"#);
    }
    match judge_user(&body) {
        Verdict::Created => json(StatusCode::CREATED, CREATED_BODY),
        Verdict::Invalid => json(StatusCode::UNPROCESSABLE_ENTITY, INVALID_BODY),
        Verdict::Malformed => json(StatusCode::BAD_REQUEST, MALFORMED_BODY),
    }
}

/// Answers `GET /repos/{owner}/{repo}/issues` with the fixed list, once its parameters are parsed.
async fn list_issues(
    State(list): State<Arc<Bytes>>,
    Path((_owner, _repo)): Path<(String, String)>,
    Query(_query): Query<HashMap<String, String>>,
) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::clone(&list),
    )
        .into_response()
}

/// A JSON response with a static body.
fn json(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_with_an_email_address_is_created() {
        let body = br#"{"user": {"first_name": "Jane", "last_name": "Smith", "email_address": "jane@example.com", "can_create_projects": true}}"#;
        assert_eq!(judge_user(body), Verdict::Created);
    }

    #[test]
    fn a_user_without_a_valid_email_address_is_invalid() {
        let body = br#"{"user": {"first_name": "Jane", "email_address": "not-an-email"}}"#;
        assert_eq!(judge_user(body), Verdict::Invalid);
        assert_eq!(judge_user(br#"{"user": {}}"#), Verdict::Invalid);
        assert_eq!(judge_user(b"[]"), Verdict::Invalid);
    }

    #[test]
    fn a_body_that_is_not_json_is_malformed() {
        assert_eq!(judge_user(b"{\"user\": "), Verdict::Malformed);
    }

    #[test]
    fn the_list_body_has_the_asked_size_and_is_json() {
        for size in [0, 10, 100, 4096, 20_000] {
            let body = padded_list_body(size);
            let parsed: serde_json::Value =
                serde_json::from_str(&body).expect("the padded list body is JSON");
            assert!(parsed.is_array());
            if size >= 100 {
                assert_eq!(body.len(), size);
            }
        }
    }

    #[test]
    fn the_fixed_bodies_are_json() {
        for body in [CREATED_BODY, INVALID_BODY, MALFORMED_BODY] {
            serde_json::from_str::<serde_json::Value>(body).expect("a fixed body is JSON");
        }
    }

    #[test]
    fn options_are_read_from_the_command_line() {
        let args = [
            "--port",
            "8080",
            "--list-body-bytes",
            "123",
            "--host",
            "127.0.0.2",
            "--workers",
            "3",
            "--pin-workers",
        ]
        .map(String::from);
        let options = Options::parse(args).expect("the arguments are valid");
        assert_eq!(
            options,
            Options {
                host: "127.0.0.2".to_owned(),
                port: 8080,
                workers: 3,
                pin_workers: true,
                list_body_bytes: 123,
            }
        );
        assert!(Options::default().workers >= 1);
        assert!(!Options::default().pin_workers);
        for bad in ["0", "many", "1025"] {
            assert!(
                Options::parse(["--workers", bad].map(String::from)).is_err(),
                "{bad}"
            );
        }
        assert!(Options::parse(["--port".to_owned()]).is_err());
        assert!(Options::parse(["--bogus".to_owned()]).is_err());
    }
}
