//! The real `understudy` binary: `check` reports broken specs, and `serve` answers on a socket, logs
//! one line per request without credentials, and stops cleanly on SIGTERM.
#![allow(clippy::unwrap_used)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};

fn server_tests(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../understudy-server/tests")
        .join(relative)
}

/// A running `understudy serve` on a free port, its log read up to the line that says where it
/// listens.
struct Serving {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// The log line that says where the server listens.
    listening: String,
    /// The address in that line.
    address: String,
}

/// Starts `understudy serve --port 0 ARGS tests/specs` and waits until it listens.
fn serve<I, S>(args: I) -> Serving
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = understudy()
        .args(["serve", "--port", "0"])
        .args(args)
        .arg(server_tests("specs"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut serving = Serving {
        child,
        stdout,
        listening: String::new(),
        address: String::new(),
    };
    loop {
        serving.listening.clear();
        assert!(
            serving.stdout.read_line(&mut serving.listening).unwrap() > 0,
            "the server exited before listening"
        );
        if let Some(rest) = serving.listening.split("listening on http://").nth(1) {
            serving.address = rest.split_whitespace().next().unwrap().to_owned();
            return serving;
        }
    }
}

/// A server a test leaves running (or that fails it) is stopped, not left behind.
impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serving {
    /// Sends SIGTERM and waits: how the server exited, and the rest of its log.
    fn terminate(mut self) -> (ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        (exit, rest)
    }
}

fn understudy() -> Command {
    Command::new(env!("CARGO_BIN_EXE_understudy"))
}

#[test]
fn check_accepts_good_specs_and_reports_broken_ones_with_exit_status_1() {
    let good = understudy()
        .arg("check")
        .arg(server_tests("specs"))
        .output()
        .unwrap();
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(String::from_utf8_lossy(&good.stdout).contains("3 specs OK"));

    let broken = understudy()
        .arg("check")
        .arg(server_tests("broken"))
        .output()
        .unwrap();
    assert_eq!(broken.status.code(), Some(1));
    let report = String::from_utf8_lossy(&broken.stderr);
    assert!(
        report.contains("dangling_ref.yaml: /paths/~1things/post"),
        "{report}"
    );
    assert!(report.contains("points at nothing"), "{report}");
}

#[test]
fn serve_with_a_broken_spec_never_starts() {
    let output = understudy()
        .args(["serve", "--port", "0"])
        .arg(server_tests("broken"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("dangling_ref.yaml"));
}

/// A SIGTERM that comes as soon as the server says it listens stops it cleanly: the handler is
/// installed before that line, so the signal never meets the default action.
#[cfg(unix)]
#[test]
fn sigterm_right_after_listening_stops_cleanly() {
    for _ in 0..5 {
        let (exit, rest) = serve::<_, &str>([]).terminate();
        assert!(exit.success(), "{exit:?}");
        assert!(rest.contains("stopped"), "{rest}");
    }
}

#[cfg(unix)]
#[test]
fn workers_are_set_by_the_option_and_zero_is_refused() {
    let serving = serve(["--workers", "3"]);
    assert!(
        serving.listening.contains("workers=3"),
        "{}",
        serving.listening
    );

    let zero = understudy()
        .args(["serve", "--port", "0", "--workers", "0"])
        .arg(server_tests("specs"))
        .output()
        .unwrap();
    assert_eq!(zero.status.code(), Some(2), "a usage error");
    let message = String::from_utf8_lossy(&zero.stderr);
    assert!(message.contains("--workers"), "{message}");
}

#[cfg(unix)]
#[test]
fn serve_answers_on_a_socket_logs_without_credentials_and_stops_on_sigterm() {
    let serving = serve(["--seed", "3"]);
    let address = serving.address.clone();
    assert!(address.starts_with("127.0.0.1:"), "{address}");

    let mut stream = TcpStream::connect(&address).unwrap();
    let body = r#"{"name": "Tom", "kind": "cat", "email": "nope"}"#;
    write!(
        stream,
        "POST /api/pets HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Basic c2VjcmV0OnNlY3JldA==\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");

    let (exit, rest) = serving.terminate();
    assert!(exit.success(), "{exit:?}");
    assert!(rest.contains("status=422"), "{rest}");
    assert!(rest.contains("/email"), "{rest}");
    assert!(
        !rest.contains("c2VjcmV0"),
        "credentials leaked into the log: {rest}"
    );
}

#[cfg(unix)]
#[test]
fn report_writes_json_and_junit_and_strict_fails_the_exit_status() {
    let dir = std::env::temp_dir().join(format!("understudy-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("contract.json");
    let serving = serve([
        OsStr::new("--strict"),
        OsStr::new("--report"),
        report.as_os_str(),
    ]);
    let address = serving.address.clone();
    for body in [
        r#"{"text": "fine"}"#,
        r#"{"text": 5}"#,
        r#"{"text": "ok", "x": 1}"#,
    ] {
        let mut stream = TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "POST /notes HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
    }
    let (exit, _) = serving.terminate();
    assert_eq!(exit.code(), Some(1), "--strict must fail after violations");

    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["requests"], 3);
    assert_eq!(json["violating"], 2);
    let operation = &json["operations"][0];
    assert_eq!(operation["operation"], "POST /notes (createNote)");
    assert_eq!(
        operation["failures"][0]["violations"][0]["pointer"],
        "/text"
    );
    let junit = std::fs::read_to_string(dir.join("contract.xml")).unwrap();
    assert!(
        junit.contains("<testcase classname=\"notes\" name=\"POST /notes (createNote)\">"),
        "{junit}"
    );
    assert_eq!(junit.matches("<failure ").count(), 2, "{junit}");
    std::fs::remove_dir_all(&dir).unwrap();
}
