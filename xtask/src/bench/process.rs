//! The processes a bench starts: servers it watches and always stops (also on error or panic),
//! helper commands bounded in time, and what /proc says about their peak memory.

use std::fs::File;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::http;
use super::workload::Request;

/// A server process started by the bench. Dropping it kills the process and its descendants.
#[derive(Debug)]
pub struct Server {
    /// What the server is, for messages.
    name: String,
    /// The process.
    child: Child,
    /// Where its standard output and error go.
    log: PathBuf,
    /// When it was spawned.
    spawned: Instant,
}

/// The outcome of a helper command run to its end.
#[derive(Debug)]
pub struct Captured {
    /// How it exited.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl Server {
    /// Spawns `command` with its output going to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<Self, String> {
        let out = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot share {}: {e}", log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let spawned = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {name} ({command:?}): {e}"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
            spawned,
        })
    }

    /// Polls 127.0.0.1:`port` with a tiny request until the server answers anything, and returns
    /// the time from spawning to that first answer.
    pub fn wait_for_answer(&mut self, port: u16, limit: Duration) -> Result<Duration, String> {
        let probe = Request {
            method: "GET",
            path: "/".to_owned(),
            headers: Vec::new(),
            body: None,
        };
        loop {
            if http::send(port, &probe, Duration::from_secs(5)).is_ok() {
                return Ok(self.spawned.elapsed());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}) before answering; its output ({}):\n{}",
                    self.name,
                    self.log.display(),
                    self.log_tail()
                ));
            }
            if self.spawned.elapsed() > limit {
                return Err(format!(
                    "{} did not answer on port {port} within {} s; its output ({}):\n{}",
                    self.name,
                    limit.as_secs(),
                    self.log.display(),
                    self.log_tail()
                ));
            }
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// The server's peak resident set size so far, in kB (VmHWM in `/proc/<pid>/status`).
    pub fn peak_rss_kb(&self) -> Result<u64, String> {
        let path = format!("/proc/{}/status", self.child.id());
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        status_number(&text, "VmHWM").ok_or_else(|| format!("{path} has no VmHWM"))
    }

    /// The last lines of the server's output.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pids: Vec<String> = descendants(self.child.id())
            .into_iter()
            .map(|pid| pid.to_string())
            .collect();
        if !pids.is_empty() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(&pids)
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

/// Runs `command` to its end, capturing its output, and kills it if it takes longer than `limit`.
pub fn run_bounded(command: &mut Command, limit: Duration, what: &str) -> Result<Captured, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{what} took more than {} s and was killed",
                    limit.as_secs()
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for {what}: {e}")),
        }
    };
    let join = |handle: Option<thread::JoinHandle<String>>| {
        handle
            .and_then(|handle| handle.join().ok())
            .unwrap_or_default()
    };
    Ok(Captured {
        status,
        stdout: join(stdout),
        stderr: join(stderr),
    })
}
/// Reads a number from a `/proc/<pid>/status` field (memory fields are in kB).
pub fn status_number(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Reads the parent pid from the text of a `/proc/<pid>/stat` file.
pub fn stat_parent(stat: &str) -> Option<u32> {
    // After the command name: state, ppid.
    stat_fields(stat)?.nth(1)?.parse().ok()
}

/// The fields of a `/proc/<pid>/stat` text after the command name, which is in parentheses and
/// may itself hold spaces and parentheses.
fn stat_fields(stat: &str) -> Option<std::str::SplitWhitespace<'_>> {
    Some(stat[stat.rfind(')')? + 1..].split_whitespace())
}

/// Every living descendant of `root`, found by walking /proc.
fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            Some((pid, stat_parent(&stat)?))
        })
        .collect();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
                frontier.push(pid);
            }
        }
    }
    found
}

/// Reads a pipe to its end on a thread of its own, so that a full pipe never blocks the child.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_fields_are_read_from_proc_status() {
        let status =
            "Name:\tunderstudy\nVmPeak:\t  120000 kB\nVmHWM:\t    9876 kB\nVmRSS:\t    8765 kB\n";
        assert_eq!(status_number(status, "VmHWM"), Some(9876));
        assert_eq!(status_number(status, "VmRSS"), Some(8765));
        assert_eq!(status_number(status, "VmSwap"), None);
    }

    #[test]
    fn the_parent_is_read_past_an_awkward_command_name() {
        assert_eq!(stat_parent("4242 (node) S 17 4242 17 0 -1"), Some(17));
        assert_eq!(stat_parent("4243 (a (b) c) R 99 4243 1 0"), Some(99));
        assert_eq!(stat_parent("garbage"), None);
    }

    #[test]
    fn a_command_is_captured_and_one_too_slow_is_killed() {
        let captured = run_bounded(
            Command::new("sh").args(["-c", "echo out; echo err >&2"]),
            Duration::from_secs(20),
            "sh",
        )
        .expect("sh runs");
        assert!(captured.status.success());
        assert_eq!(captured.stdout, "out\n");
        assert_eq!(captured.stderr, "err\n");

        let started = Instant::now();
        let slow = run_bounded(
            Command::new("sleep").arg("30"),
            Duration::from_millis(100),
            "sleep",
        );
        assert!(slow.is_err());
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}
