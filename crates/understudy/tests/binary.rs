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
    let child = understudy()
        .args(["serve", "--port", "0"])
        .args(args)
        .arg(server_tests("specs"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    listening(child)
}

/// Reads the log of a started server up to the line that says where it listens.
fn listening(mut child: Child) -> Serving {
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
fn check_says_which_version_it_read_and_warnings_are_not_errors() {
    let odd = understudy()
        .arg("check")
        .arg(server_tests("tolerance"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&odd.stdout),
        String::from_utf8_lossy(&odd.stderr),
    );
    assert!(odd.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("odd_paths.yaml: OpenAPI 3.0.3, 2 operations"),
        "{stdout}"
    );
    assert!(stderr.contains("warning: "), "{stderr}");
    assert!(stderr.contains("/paths/~1v1~1{name}/get"), "{stderr}");
}

#[test]
fn check_says_3_1_and_3_2_and_that_mutual_tls_is_not_enforced() {
    let engine_specs =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../understudy-engine/tests/specs");
    let check = |folder: &str| {
        let output = understudy()
            .arg("check")
            .arg(engine_specs.join(folder))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{folder}: {stdout}{stderr}");
        (stdout, stderr)
    };
    let (stdout, _) = check("openapi31-anchors");
    assert!(
        stdout.contains("anchors.yaml: OpenAPI 3.1.0, 10 operations"),
        "{stdout}"
    );
    let (stdout, _) = check("openapi32");
    assert!(stdout.contains("feeds.yaml: OpenAPI 3.2.0,"), "{stdout}");
    let (stdout, stderr) = check("openapi31-mtls");
    assert!(stdout.contains("mtls.yaml: OpenAPI 3.1.0"), "{stdout}");
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("/components/securitySchemes/mtls")
            && stderr.contains("`mutualTLS` security scheme is not enforced"),
        "{stderr}"
    );
}

#[test]
fn check_reads_swagger_2_and_lists_what_it_could_not_convert() {
    let output = understudy()
        .arg("check")
        .arg(server_tests("swagger2"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("petstore.yaml: Swagger 2.0, 4 operations"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: ") && stderr.contains("`collectionFormat: tsv`"),
        "{stderr}"
    );
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

/// Long enough for any event these tests wait for; only a broken server reaches it.
const CAP: std::time::Duration = std::time::Duration::from_secs(20);

impl Serving {
    /// Sends a signal (`INT`, `TERM`) to the server.
    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Reads the log up to the line that contains `text`, and returns that line.
    fn log_line_with(&mut self, text: &str) -> String {
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "the log ended before a line with {text:?}"
            );
            if line.contains(text) {
                return line;
            }
        }
    }

    /// Waits for the server to exit, for at most [`CAP`]: how it exited, and the rest of its log.
    fn exit(mut self) -> (ExitStatus, String) {
        let deadline = std::time::Instant::now() + CAP;
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running {CAP:?} later"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        (exit, rest)
    }
}

/// Sends one request that breaks the notes contract and reads the whole answer.
fn violating_request(address: &str) {
    let mut stream = TcpStream::connect(address).unwrap();
    let body = r#"{"text": 5}"#;
    write!(
        stream,
        "POST /notes HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
}

/// Opens a request whose body stops half-way once the server reads it (its `100 Continue` says
/// so): a request under way that never finishes.
fn half_sent_body(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(CAP)).unwrap();
    write!(
        stream,
        "POST /notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 100"), "{status}");
    stream.write_all(br#"{"text": "#).unwrap();
    stream
}

fn report_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("understudy-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A request left half-sent does not keep the server from stopping: after `--shutdown-timeout`
/// it is cut off, the report is written and `--strict` decides the exit status.
#[cfg(unix)]
#[test]
fn sigint_with_a_half_sent_request_stops_after_the_shutdown_timeout_and_reports() {
    let dir = report_dir("half-sent");
    let report = dir.join("contract.json");
    let serving = serve([
        OsStr::new("--strict"),
        OsStr::new("--report"),
        report.as_os_str(),
        OsStr::new("--shutdown-timeout"),
        OsStr::new("1s"),
    ]);
    violating_request(&serving.address);
    let _under_way = half_sent_body(&serving.address);
    let signalled = std::time::Instant::now();
    serving.signal("INT");
    let (exit, rest) = serving.exit();
    assert!(signalled.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(exit.code(), Some(1), "--strict after a violation: {rest}");
    assert!(
        rest.contains("closed the connections still under way"),
        "{rest}"
    );
    assert!(rest.contains("closed=1"), "{rest}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["violating"], 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A second Ctrl-C during the drain stops the server at once, long before its shutdown timeout,
/// and the report and the exit status are still those of a clean stop.
#[cfg(unix)]
#[test]
fn a_second_sigint_during_the_drain_stops_at_once() {
    let dir = report_dir("second-sigint");
    let report = dir.join("contract.json");
    let mut serving = serve([
        OsStr::new("--strict"),
        OsStr::new("--report"),
        report.as_os_str(),
        OsStr::new("--shutdown-timeout"),
        OsStr::new("10m"),
    ]);
    violating_request(&serving.address);
    let _under_way = half_sent_body(&serving.address);
    serving.signal("INT");
    serving.log_line_with("shutting down");
    serving.signal("INT");
    let (exit, rest) = serving.exit();
    assert_eq!(exit.code(), Some(1), "--strict after a violation: {rest}");
    assert!(
        rest.contains("stopped at once on a second signal"),
        "{rest}"
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["violating"], 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The connection options reach the server: a silent connection is closed after
/// `--header-timeout`, and with `--max-connections 2` a third client is served only once one of
/// the first two closes.
#[cfg(unix)]
#[test]
fn connection_options_bound_silent_clients_and_open_connections() {
    // Long enough that the silent connection is still open while the third client is checked.
    let serving = serve(["--header-timeout", "4", "--max-connections", "2"]);
    let answer = |stream: &mut TcpStream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        status
    };
    // Taken before the server can start its clock, so that the timing is a lower bound.
    let opened = std::time::Instant::now();
    let mut silent = TcpStream::connect(&serving.address).unwrap();
    silent.set_read_timeout(Some(CAP)).unwrap();
    let mut first = TcpStream::connect(&serving.address).unwrap();
    first.set_read_timeout(Some(CAP)).unwrap();
    first
        .write_all(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(answer(&mut first).starts_with("HTTP/1.1 404"));

    // Two are open (the silent one and the first): a third waits, unaccepted.
    let mut third = TcpStream::connect(&serving.address).unwrap();
    third
        .write_all(b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    third
        .set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let mut byte = [0u8; 1];
    let early = third.read(&mut byte);
    assert!(early.is_err(), "served past the bound: {early:?}");

    // The silent one is closed after the header timeout, which lets the third in.
    let mut rest = Vec::new();
    let closed = silent.read_to_end(&mut rest);
    assert!(
        closed.is_ok()
            || closed.is_err_and(|error| error.kind() == std::io::ErrorKind::ConnectionReset)
    );
    assert!(rest.is_empty());
    assert!(opened.elapsed() >= std::time::Duration::from_secs(4));
    third.set_read_timeout(Some(CAP)).unwrap();
    assert!(answer(&mut third).starts_with("HTTP/1.1 404"));
}

#[test]
fn durations_must_be_durations_and_timeouts_more_than_zero() {
    for (option, value) in [("--header-timeout", "0"), ("--idle-timeout", "soon")] {
        let refused = understudy()
            .args(["serve", "--port", "0", option, value])
            .arg(server_tests("specs"))
            .output()
            .unwrap();
        assert_eq!(refused.status.code(), Some(2), "a usage error");
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(message.contains(option), "{message}");
    }
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

#[cfg(unix)]
#[test]
fn fail_rate_and_delay_reach_the_server() {
    let failing = serve(["--fail-rate", "1", "--delay", "0..5"]);
    let line = status_line(&failing.address, "/api/pets/mine", &failing.address);
    assert!(line.starts_with("HTTP/1.1 503"), "{line}");
    drop(failing);
    let refused = understudy()
        .args(["serve", "--port", "0", "--fail-rate", "1.5"])
        .arg(server_tests("specs"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "a usage error");
}

/// A receiver on 127.0.0.1 for one callback: it answers 204 and hands over the request line.
fn callback_receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (sender, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = reader.into_inner();
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            .unwrap();
        let _ = sender.send(line.trim_end().to_owned());
    });
    (address, received)
}

/// `POST /subscriptions` of `tests/callbacks`, asking for a callback to `receiver`.
fn subscribe(address: &str, receiver: &str) -> String {
    let body = format!(r#"{{"callbackUrl": "http://{receiver}/hooks", "event": "order.created"}}"#);
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /subscriptions HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[cfg(unix)]
#[test]
fn callbacks_are_sent_and_logged_and_off_sends_none() {
    let (receiver, received) = callback_receiver();
    let mut serving = serve([server_tests("callbacks")]);
    let line = subscribe(&serving.address, &receiver);
    assert!(line.starts_with("HTTP/1.1 201"), "{line}");
    let request_line = received
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the callback arrives");
    assert!(
        request_line.starts_with("POST /hooks/events/"),
        "{request_line}"
    );
    let mut log = String::new();
    while !log.contains("callback answered") {
        assert!(
            serving.stdout.read_line(&mut log).unwrap() > 0,
            "the server exited: {log}"
        );
    }
    assert!(log.contains("status=204"), "{log}");
    drop(serving);

    let off = serve([
        server_tests("callbacks").as_os_str(),
        OsStr::new("--callbacks-to"),
        OsStr::new("off"),
    ]);
    let line = subscribe(&off.address, &receiver);
    assert!(line.starts_with("HTTP/1.1 201"), "{line}");
    let mut stream = TcpStream::connect(&off.address).unwrap();
    write!(
        stream,
        "GET /__understudy/requests HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        off.address
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("/subscriptions"), "{answer}");
    assert!(!answer.contains("\"callbacks\""), "{answer}");
}

/// `understudy proxy` in front of an upstream that breaks the contract (a thread answering every
/// request with an undocumented 500): the client gets the upstream's answer with the
/// `Understudy-Violations` header, the log line and the report name the broken response, and
/// `--strict` fails the exit status.
#[cfg(unix)]
#[test]
fn proxy_returns_the_upstreams_answer_and_reports_what_it_broke() {
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_address = upstream.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in upstream.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let _ = reader.get_mut().write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\
                  Content-Length: 4\r\nConnection: close\r\n\r\nboom",
            );
        }
    });
    let dir = report_dir("proxy");
    let report = dir.join("contract.json");
    let child = understudy()
        .args(["proxy", "--port", "0", "--strict", "--upstream"])
        .arg(format!("http://{upstream_address}"))
        .arg("--report")
        .arg(&report)
        .arg(server_tests("proxy"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut serving = listening(child);
    let mut stream = TcpStream::connect(&serving.address).unwrap();
    write!(
        stream,
        "GET /pets/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nboom"), "{answer}");
    assert!(
        answer
            .contains("understudy-violations: 1; response status: 500 is not a documented status"),
        "{answer}"
    );
    let line = serving.log_line_with("answered");
    assert!(line.contains("status=500"), "{line}");
    assert!(
        line.contains("response status: 500 is not a documented status of GET /pets/{pet_id}"),
        "{line}"
    );
    serving.signal("TERM");
    let (exit, rest) = serving.exit();
    assert_eq!(
        exit.code(),
        Some(1),
        "--strict after a broken answer: {rest}"
    );
    let junit = std::fs::read_to_string(dir.join("contract.xml")).unwrap();
    assert!(
        junit.contains(r#"<testcase classname="pets" name="GET /pets/{pet_id} (getPet)">"#),
        "{junit}"
    );
    assert!(
        junit.contains("(/paths/~1pets~1{pet_id}/get/responses)"),
        "{junit}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn proxy_refuses_an_upstream_it_cannot_reach_by_its_url() {
    for (upstream, says) in [
        (
            "https://api.example.com",
            "https upstreams are not supported",
        ),
        ("api.example.com", "http://"),
    ] {
        let output = understudy()
            .args(["proxy", "--port", "0", "--upstream", upstream])
            .arg(server_tests("proxy"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{upstream}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{upstream}: {stderr}");
    }
}
