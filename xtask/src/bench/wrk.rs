//! The load generator: wrk from Debian, installed if missing, driven by a generated Lua script
//! that sets the request (a fresh e-mail address per request where the workload asks for one)
//! and prints wrk's summary in one machine-readable line.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::process::run_bounded;
use super::workload::{WorkloadId, user_body_parts};

/// How the load is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadShape {
    /// wrk threads.
    pub threads: u32,
    /// Open connections, shared among the threads.
    pub connections: u32,
    /// How long the load lasts.
    pub duration: Duration,
}

/// What wrk measured in one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Completed requests.
    pub requests: u64,
    /// The run's length in microseconds.
    pub duration_us: u64,
    /// Bytes received, headers included.
    pub bytes: u64,
    /// Connect, read, write and timeout errors.
    pub socket_errors: u64,
    /// Answers with a status above 399.
    pub status_over_399: u64,
    /// Median latency in microseconds.
    pub p50_us: f64,
    /// 99th percentile latency in microseconds.
    pub p99_us: f64,
}

impl Load {
    /// Requests per second.
    pub fn rps(&self) -> f64 {
        if self.duration_us == 0 {
            return 0.0;
        }
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }

    /// Requests that failed or whose status class differs from `expected` (an expected status
    /// above 399 makes every answer at or below 399 an error, and the other way round).
    pub fn errors(&self, expected: u16) -> u64 {
        let wrong_class = if expected > 399 {
            self.requests.saturating_sub(self.status_over_399)
        } else {
            self.status_over_399
        };
        self.socket_errors + wrong_class
    }
}

/// The prefix of the line the script's `done` prints.
const RESULT_MARK: &str = "wrk-result";

/// Makes sure wrk is on the PATH, installing Debian's package if it is not, and returns its
/// version line.
pub fn ensure_installed() -> Result<String, String> {
    if let Some(version) = version() {
        return Ok(version);
    }
    eprintln!("bench: wrk is missing; installing it with apt-get");
    for args in [&["update", "-qq"][..], &["install", "-y", "-qq", "wrk"][..]] {
        let captured = run_bounded(
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive"),
            Duration::from_secs(600),
            "apt-get",
        )?;
        if !captured.status.success() {
            return Err(format!(
                "apt-get {} failed ({}): {}\ninstall wrk by hand (apt-get install -y wrk)",
                args.join(" "),
                captured.status,
                captured.stderr.trim()
            ));
        }
    }
    version().ok_or_else(|| "wrk is still missing after apt-get install wrk".to_owned())
}

/// wrk's version line, if wrk runs.
fn version() -> Option<String> {
    // wrk prints its banner on `-v` and exits with status 1, so only the text matters.
    let output = Command::new("wrk").arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let line = text.lines().find(|line| line.starts_with("wrk "))?;
    Some(
        line.split(" Copyright")
            .next()
            .unwrap_or(line)
            .trim()
            .to_owned(),
    )
}

/// Writes the Lua script for `workload` to `script`, runs wrk against 127.0.0.1:`port`, and
/// returns what it measured. E-mail addresses, where the workload wants them unique, carry `run`.
pub fn run(
    port: u16,
    workload: WorkloadId,
    shape: LoadShape,
    run: &str,
    script: &Path,
) -> Result<Load, String> {
    std::fs::write(script, script_text(workload, run))
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let seconds = shape.duration.as_secs().max(1);
    let url = format!("http://127.0.0.1:{port}{}", workload.request("").path);
    let captured = run_bounded(
        Command::new("wrk")
            .arg(format!("--threads={}", shape.threads))
            .arg(format!("--connections={}", shape.connections))
            .arg(format!("--duration={seconds}s"))
            .arg("--timeout=2s")
            .arg(format!("--script={}", script.display()))
            .arg(&url),
        Duration::from_secs(seconds + 30),
        "wrk",
    )?;
    if !captured.status.success() {
        return Err(format!(
            "wrk failed ({}): {}{}",
            captured.status, captured.stdout, captured.stderr
        ));
    }
    parse(&captured.stdout)
}

/// The Lua script that makes wrk send `workload` and print its summary on one line.
pub fn script_text(workload: WorkloadId, run: &str) -> String {
    let request = workload.request("");
    let mut lua = String::from("-- Generated by `cargo xtask bench`; rewritten on every run.\n");
    let _ = writeln!(lua, "wrk.method = {}", lua_string(request.method));
    for (name, value) in &request.headers {
        let _ = writeln!(
            lua,
            "wrk.headers[{}] = {}",
            lua_string(name),
            lua_string(value)
        );
    }
    if workload.unique_email() {
        let (before, after) = user_body_parts();
        let _ = write!(
            lua,
            r#"
-- Every request carries an e-mail address no other request of this run has: the run, the
-- thread and a per-thread counter. wrk gives each thread its own Lua state.
local body_before = {before}
local body_after = {after}
local run = {run}
local threads = 0
local counter = 0
-- The request line and headers up to "Content-Length: ", and the body up to the counter: made
-- once per thread, so that a request costs wrk two concatenations rather than a wrk.format
-- (wrk shares the CPUs with the server it measures).
local head
local body_start

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  local headers = string.gsub(wrk.format(nil, nil, nil, ""), "Content%-Length: 0\r\n", "")
  head = string.sub(headers, 1, -3) .. "Content-Length: "
  body_start = body_before .. "bench-" .. run .. "-" .. thread_number .. "-"
end

function request()
  counter = counter + 1
  local body = body_start .. counter .. "@example.com" .. body_after
  return head .. #body .. "\r\n\r\n" .. body
end
"#,
            before = lua_string(&before),
            after = lua_string(&after),
            run = lua_string(run),
        );
    } else if let Some(body) = &request.body {
        let _ = writeln!(lua, "wrk.body = {}", lua_string(body));
    }
    let _ = write!(
        lua,
        r#"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "{RESULT_MARK} requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
"#
    );
    lua
}

/// Reads the summary line the script's `done` printed.
pub fn parse(stdout: &str) -> Result<Load, String> {
    let line = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix(RESULT_MARK))
        .ok_or_else(|| format!("wrk printed no {RESULT_MARK} line:\n{stdout}"))?;
    let field = |name: &str| -> Result<f64, String> {
        line.split_whitespace()
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .ok_or_else(|| format!("the {RESULT_MARK} line has no {name}: {line}"))?
            .parse::<f64>()
            .map_err(|e| format!("the {RESULT_MARK} line's {name} is not a number ({e}): {line}"))
    };
    let count = |name: &str| field(name).map(|value| value as u64);
    Ok(Load {
        requests: count("requests")?,
        duration_us: count("duration_us")?,
        bytes: count("bytes")?,
        socket_errors: count("connect")? + count("read")? + count("write")? + count("timeout")?,
        status_over_399: count("status")?,
        p50_us: field("p50_us")?,
        p99_us: field("p99_us")?,
    })
}

/// A Lua string literal holding `text` exactly.
pub fn lua_string(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('"');
    for byte in text.bytes() {
        match byte {
            b'"' => literal.push_str("\\\""),
            b'\\' => literal.push_str("\\\\"),
            b' '..=b'~' => literal.push(char::from(byte)),
            _ => {
                let _ = write!(literal, "\\{byte:03}");
            }
        }
    }
    literal.push('"');
    literal
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What wrk 4.1.0 printed for a run of the bench's (a) script against understudy.
    const SAMPLE: &str = "\
Running 3s test @ http://127.0.0.1:4602/users
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   629.54us  479.28us   9.95ms   88.22%
    Req/Sec    24.87k     2.37k   28.94k    59.68%
  153402 requests in 3.10s, 45.21MB read
Requests/sec:  49476.28
Transfer/sec:     14.58MB
wrk-result requests=153402 duration_us=3100516 bytes=47401218 connect=0 read=0 write=0 status=0 timeout=0 p50_us=568 p99_us=1930
";

    #[test]
    fn the_summary_line_is_parsed() {
        let load = parse(SAMPLE).expect("the sample parses");
        assert_eq!(load.requests, 153_402);
        assert_eq!(load.duration_us, 3_100_516);
        assert_eq!(load.bytes, 47_401_218);
        assert_eq!(load.socket_errors, 0);
        assert_eq!(load.status_over_399, 0);
        assert_eq!(load.p50_us, 568.0);
        assert_eq!(load.p99_us, 1930.0);
        assert!((load.rps() - 49_476.3).abs() < 1.0, "{}", load.rps());
    }

    #[test]
    fn socket_errors_add_up() {
        let line = "wrk-result requests=10 duration_us=1000000 bytes=0 connect=1 read=2 write=3 status=4 timeout=5 p50_us=1 p99_us=2";
        let load = parse(line).expect("the line parses");
        assert_eq!(load.socket_errors, 11);
        assert_eq!(load.status_over_399, 4);
    }

    #[test]
    fn output_without_a_summary_line_is_an_error() {
        let error = parse("unable to connect to 127.0.0.1:1 Connection refused\n")
            .expect_err("there is no summary");
        assert!(error.contains("Connection refused"));
    }

    #[test]
    fn errors_count_answers_outside_the_expected_class() {
        let load = Load {
            requests: 1000,
            duration_us: 1_000_000,
            bytes: 0,
            socket_errors: 3,
            status_over_399: 990,
            p50_us: 1.0,
            p99_us: 2.0,
        };
        assert_eq!(load.errors(422), 3 + 10);
        assert_eq!(load.errors(201), 3 + 990);
    }

    #[test]
    fn lua_strings_escape_quotes_backslashes_and_control_bytes() {
        assert_eq!(lua_string(r#"{"a": "b\c"}"#), r#""{\"a\": \"b\\c\"}""#);
        assert_eq!(lua_string("a\nb"), r#""a\010b""#);
    }

    #[test]
    fn the_valid_create_script_makes_every_email_address_unique() {
        let script = script_text(WorkloadId::ValidCreate, "r1");
        assert!(script.contains("function request()"));
        assert!(script.contains("counter = counter + 1"));
        // The headers come from wrk.format once, in init, with the body's length left open.
        assert!(script.contains("function init(args)"));
        assert!(script.contains(r#"wrk.format(nil, nil, nil, "")"#));
        assert!(script.contains(r#"return head .. #body .. "\r\n\r\n" .. body"#));
        assert!(script.contains(r#"thread:set("thread_number", threads)"#));
        assert!(script.contains(r#"local run = "r1""#));
        assert!(script.contains(r#"wrk.headers["Authorization"] = "Basic "#));
        assert!(!script.contains("wrk.body"));
        assert!(script.contains("function done("));
    }

    #[test]
    fn the_other_scripts_send_one_fixed_request() {
        let invalid = script_text(WorkloadId::InvalidCreate, "r1");
        assert!(!invalid.contains("function request()"));
        assert!(invalid.contains(r#"\"email_address\": \"not-an-email\""#));
        let list = script_text(WorkloadId::ListIssues, "r1");
        assert!(list.contains(r#"wrk.method = "GET""#));
        assert!(!list.contains("wrk.body"));
    }
}
