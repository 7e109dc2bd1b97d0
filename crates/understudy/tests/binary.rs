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
    /// The log lines before it.
    earlier: String,
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
        earlier: String::new(),
    };
    loop {
        let line = std::mem::take(&mut serving.listening);
        serving.earlier.push_str(&line);
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

/// The CPUs each of a process's `workers` worker threads may run on, read from `/proc` once
/// they have all started (a worker starts running, and takes its name, when the kernel first
/// schedules it, which may be after the server says it listens).
#[cfg(target_os = "linux")]
fn worker_cpus(pid: u32, workers: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let cpus = worker_cpus_now(pid);
        if cpus.len() >= workers || std::time::Instant::now() > deadline {
            return cpus;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[cfg(target_os = "linux")]
fn worker_cpus_now(pid: u32) -> Vec<String> {
    let mut cpus = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        // A thread of the blocking pool may end between the listing and the read.
        let Ok(status) = std::fs::read_to_string(task.unwrap().path().join("status")) else {
            continue;
        };
        if status.lines().any(|line| line == "Name:\ttokio-rt-worker") {
            let allowed = status
                .lines()
                .find_map(|line| line.strip_prefix("Cpus_allowed_list:\t"))
                .unwrap();
            cpus.push(allowed.to_owned());
        }
    }
    cpus.sort();
    cpus
}

#[cfg(target_os = "linux")]
#[test]
fn pin_workers_binds_each_worker_to_one_cpu_and_says_which() {
    let pinned = serve(["--workers", "2", "--pin-workers"]);
    assert!(
        pinned.earlier.contains("each worker is bound to a CPU"),
        "{}",
        pinned.earlier
    );
    let cpus = worker_cpus(pinned.child.id(), 2);
    assert_eq!(cpus.len(), 2, "{cpus:?}");
    for allowed in &cpus {
        assert!(
            allowed.parse::<usize>().is_ok(),
            "one CPU per worker: {cpus:?}"
        );
        assert!(
            pinned.earlier.contains(allowed.as_str()),
            "{}",
            pinned.earlier
        );
    }
    if std::thread::available_parallelism().map_or(1, usize::from) >= 2 {
        assert_ne!(cpus[0], cpus[1], "two workers, two CPUs");
    }

    // Without the option the workers run wherever the kernel puts them.
    let free = serve(["--workers", "2"]);
    assert!(!free.earlier.contains("bound to a CPU"), "{}", free.earlier);
    let here = std::fs::read_to_string("/proc/self/status").unwrap();
    let allowed_here = here
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:\t"))
        .unwrap()
        .to_owned();
    assert_eq!(
        worker_cpus(free.child.id(), 2),
        vec![allowed_here.clone(), allowed_here]
    );
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

/// `POST /api/pets` with `Authorization: authorization` on a new connection: the whole answer.
fn create_pet(address: &str, authorization: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    let body = r#"{"name": "Tom", "kind": "cat"}"#;
    write!(
        stream,
        "POST /api/pets HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {authorization}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[cfg(unix)]
#[test]
fn valid_credentials_refuse_every_other_one_and_never_reach_the_log_or_the_report() {
    let dir = std::env::temp_dir().join(format!("understudy-creds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("contract.json");
    let serving = serve([
        OsStr::new("--valid-token"),
        OsStr::new("listed-s3cr3t"),
        OsStr::new("--valid-basic"),
        OsStr::new("me:pass-s3cr3t"),
        OsStr::new("--stateless"),
        OsStr::new("--log-level"),
        OsStr::new("debug"),
        OsStr::new("--report"),
        report.as_os_str(),
    ]);
    let address = serving.address.clone();
    // `pets.yaml` takes Basic or its `JWT` token scheme.
    let listed = create_pet(&address, "JWT listed-s3cr3t");
    assert!(listed.starts_with("HTTP/1.1 201"), "{listed}");
    let other = create_pet(&address, "JWT other-s3cr3t");
    assert!(other.starts_with("HTTP/1.1 401"), "{other}");
    assert!(
        other.contains(
            "www-authenticate: Basic realm=\"pets\", JWT error=\"invalid_token\", \
             error_description=\"the `JWT` token is not one the mock takes (--valid-token)"
        ),
        "{other}"
    );
    // `me:pass-s3cr3t`, then `me:wrong-s3cr3t`.
    let pair = create_pet(&address, "Basic bWU6cGFzcy1zM2NyM3Q=");
    assert!(pair.starts_with("HTTP/1.1 201"), "{pair}");
    let wrong = create_pet(&address, "Basic bWU6d3JvbmctczNjcjN0");
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");

    let earlier = format!("{}{}", serving.earlier, serving.listening);
    let (exit, rest) = serving.terminate();
    assert!(exit.success(), "{exit:?}");
    let log = format!("{earlier}{rest}");
    assert!(rest.contains("status=401"), "{rest}");
    let written = std::fs::read_to_string(&report).unwrap()
        + &std::fs::read_to_string(dir.join("contract.xml")).unwrap();
    assert!(written.contains("--valid-token"), "{written}");
    for shown in [&other, &wrong, &log, &written] {
        assert!(!shown.contains("s3cr3t"), "a credential was shown: {shown}");
        assert!(!shown.contains("bWU6"), "a credential was shown: {shown}");
    }
    std::fs::remove_dir_all(&dir).unwrap();

    // A malformed pair is refused at start, without being quoted.
    let malformed = understudy()
        .args(["serve", "--port", "0", "--valid-basic", "no-colon-s3cr3t"])
        .arg(server_tests("specs"))
        .output()
        .unwrap();
    assert_eq!(malformed.status.code(), Some(2));
    let said = String::from_utf8_lossy(&malformed.stderr);
    assert!(said.contains("--valid-basic takes USER:PASS"), "{said}");
    assert!(!said.contains("s3cr3t"), "{said}");
}

/// `GET path` with `Host: host` on a new connection: the status line.
fn status_line(address: &str, path: &str, host: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[cfg(unix)]
#[test]
fn admin_answers_allowed_hosts_only_and_can_be_turned_off() {
    let serving = serve([
        "--allowed-host",
        "mock.test",
        "--allowed-host",
        "Other.Test",
    ]);
    let address = serving.address.clone();
    let port = address.rsplit(':').next().unwrap();
    assert!(
        !serving.earlier.contains("reachable from the network"),
        "no warning on loopback: {}",
        serving.earlier
    );
    for host in [
        address.clone(),
        format!("mock.test:{port}"),
        "other.test".to_owned(),
    ] {
        let line = status_line(&address, "/__understudy/routes", &host);
        assert!(line.starts_with("HTTP/1.1 200"), "{host}: {line}");
    }
    let line = status_line(&address, "/__understudy/routes", "evil.example");
    assert!(line.starts_with("HTTP/1.1 403"), "{line}");
    drop(serving);

    let off = serve(["--admin", "off"]);
    let line = status_line(&off.address, "/__understudy/routes", &off.address);
    assert!(line.starts_with("HTTP/1.1 404"), "{line}");

    let wrong = understudy()
        .args(["serve", "--port", "0", "--allowed-host", "mock.test:4010"])
        .arg(server_tests("specs"))
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2), "a usage error");
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(message.contains("without scheme or port"), "{message}");
}
