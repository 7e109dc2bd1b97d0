//! The processes a bench starts: servers it watches and always stops (also on error or panic),
//! helper commands bounded in time, and what /proc says about their memory, CPU time and context
//! switches.

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

/// Resident memory of a process tree, in kB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    /// Resident set size now (VmRSS).
    pub rss_kb: u64,
    /// Peak resident set size (VmHWM).
    pub peak_kb: u64,
}

/// CPU time spent while a load ran, in clock ticks (`USER_HZ`, as /proc counts them), and how
/// often the server's threads were switched out meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuUse {
    /// The server's own time, user and system, its child processes included.
    pub server_ticks: u64,
    /// The part of `server_ticks` spent in the kernel (system time): system calls, the loopback
    /// TCP stack, and the scheduler's work of switching the server's threads out and back.
    pub server_system_ticks: u64,
    /// The whole machine's busy time: the server, wrk and anything else.
    pub machine_ticks: u64,
    /// Times the server's threads were taken off a CPU while they could still run (preempted,
    /// mostly by a wrk thread that woke up), its child processes' threads included.
    pub involuntary_switches: u64,
    /// Times the server's threads left a CPU because they had to wait (for a socket, a lock).
    pub voluntary_switches: u64,
}

impl CpuUse {
    /// All counts added up, for rounds merged into one measurement.
    pub fn plus(self, other: CpuUse) -> CpuUse {
        CpuUse {
            server_ticks: self.server_ticks + other.server_ticks,
            server_system_ticks: self.server_system_ticks + other.server_system_ticks,
            machine_ticks: self.machine_ticks + other.machine_ticks,
            involuntary_switches: self.involuntary_switches + other.involuntary_switches,
            voluntary_switches: self.voluntary_switches + other.voluntary_switches,
        }
    }

    /// The CPU time and switches between two readings ([`Server::cpu_now`]).
    pub fn between(before: CpuUse, after: CpuUse) -> CpuUse {
        let since = |before: u64, after: u64| after.saturating_sub(before);
        CpuUse {
            server_ticks: since(before.server_ticks, after.server_ticks),
            server_system_ticks: since(before.server_system_ticks, after.server_system_ticks),
            machine_ticks: since(before.machine_ticks, after.machine_ticks),
            involuntary_switches: since(before.involuntary_switches, after.involuntary_switches),
            voluntary_switches: since(before.voluntary_switches, after.voluntary_switches),
        }
    }

    /// The server's involuntary and voluntary context switches per thousand requests.
    pub fn switches_per_thousand(self, requests: u64) -> Option<(f64, f64)> {
        if requests == 0 {
            return None;
        }
        let per_thousand = |count: u64| count as f64 * 1e3 / requests as f64;
        Some((
            per_thousand(self.involuntary_switches),
            per_thousand(self.voluntary_switches),
        ))
    }

    /// The server's and the rest of the machine's CPU time per request, in microseconds, given
    /// the length of a clock tick.
    pub fn per_request(self, requests: u64, tick: Duration) -> Option<(f64, f64)> {
        let rest = self.machine_ticks.saturating_sub(self.server_ticks);
        Some((
            us_per_request(self.server_ticks, requests, tick)?,
            us_per_request(rest, requests, tick)?,
        ))
    }

    /// The part of the server's CPU time per request spent in the kernel, in microseconds.
    pub fn system_per_request(self, requests: u64, tick: Duration) -> Option<f64> {
        us_per_request(self.server_system_ticks, requests, tick)
    }
}

/// `ticks` of CPU time spread over `requests`, in microseconds each (`None` for no requests).
fn us_per_request(ticks: u64, requests: u64, tick: Duration) -> Option<f64> {
    (requests > 0).then(|| ticks as f64 * tick.as_secs_f64() * 1e6 / requests as f64)
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
        let probe = Request::get("/");
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

    /// The memory of the server and of every process it started.
    pub fn memory(&self) -> Result<Memory, String> {
        let mut total = Memory::default();
        for text in self.proc_files(&self.process_tree(), "status")? {
            total.rss_kb += status_number(&text, "VmRSS").unwrap_or(0);
            total.peak_kb += status_number(&text, "VmHWM").unwrap_or(0);
        }
        Ok(total)
    }

    /// The server's pid, then those of its living descendants (found by walking /proc once).
    fn process_tree(&self) -> Vec<u32> {
        let root = self.child.id();
        std::iter::once(root).chain(descendants(root)).collect()
    }

    /// The text of `/proc/<pid>/<name>` for each process of `tree` ([`Server::process_tree`]);
    /// an error only if the server's own cannot be read (a child may have just ended).
    fn proc_files(&self, tree: &[u32], name: &str) -> Result<Vec<String>, String> {
        let root = self.child.id();
        let mut texts = Vec::new();
        for pid in tree {
            let path = format!("/proc/{pid}/{name}");
            match std::fs::read_to_string(&path) {
                Ok(text) => texts.push(text),
                Err(_) if *pid != root => {}
                Err(e) => return Err(format!("cannot read {path}: {e}")),
            }
        }
        Ok(texts)
    }

    /// The text of `/proc/<pid>/task/<tid>/<name>` for every thread of each process of `tree`
    /// (a thread that ends meanwhile is left out).
    fn thread_files(tree: &[u32], name: &str) -> Vec<String> {
        tree.iter()
            .filter_map(|pid| std::fs::read_dir(format!("/proc/{pid}/task")).ok())
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|thread| std::fs::read_to_string(thread.path().join(name)).ok())
            .collect()
    }

    /// The CPU time the server (with its child processes) and the whole machine have spent so
    /// far, and the server's context switches; [`CpuUse::between`] two readings gives what a run
    /// cost. The switches are counted per thread: the servers' threads live as long as they do.
    pub fn cpu_now(&self) -> Result<CpuUse, String> {
        let tree = self.process_tree();
        let (user_ticks, server_system_ticks) = self
            .proc_files(&tree, "stat")?
            .iter()
            .filter_map(|text| stat_cpu_ticks(text))
            .fold((0, 0), |(user, system), (more_user, more_system)| {
                (user + more_user, system + more_system)
            });
        let threads = Server::thread_files(&tree, "status");
        let switches = |key: &str| -> u64 {
            threads
                .iter()
                .map(|text| status_number(text, key).unwrap_or(0))
                .sum()
        };
        Ok(CpuUse {
            server_ticks: user_ticks + server_system_ticks,
            server_system_ticks,
            machine_ticks: machine_ticks().map_or(0, |(busy, _)| busy),
            involuntary_switches: switches("nonvoluntary_ctxt_switches"),
            voluntary_switches: switches("voluntary_ctxt_switches"),
        })
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

/// How busy the machine may be, as a share of all its CPUs' time, and still count as quiet.
const QUIET_SHARE: f64 = 0.05;

/// How long the machine must stay quiet.
const QUIET_WINDOW: Duration = Duration::from_millis(250);

/// Waits until the machine's CPUs have been quiet (under 5% busy) for a quarter of a second, so
/// that what one run left behind (Prism still answering the requests wrk gave up on, a server
/// collecting its garbage) does not load the next run. Gives how long it waited: `Ok` once quiet,
/// `Err` if `limit` passed first (or /proc/stat cannot be read, which ends the wait at once).
pub fn wait_until_quiet(limit: Duration) -> Result<Duration, Duration> {
    let started = Instant::now();
    let Some(mut before) = machine_ticks() else {
        return Err(started.elapsed());
    };
    loop {
        thread::sleep(QUIET_WINDOW);
        let Some(after) = machine_ticks() else {
            return Err(started.elapsed());
        };
        let busy = after.0.saturating_sub(before.0);
        let total = after.1.saturating_sub(before.1);
        if total > 0 && (busy as f64) < QUIET_SHARE * total as f64 {
            return Ok(started.elapsed());
        }
        if started.elapsed() >= limit {
            return Err(started.elapsed());
        }
        before = after;
    }
}

/// The machine's CPU time so far ([`cpu_ticks`] of `/proc/stat`); `None` if it cannot be read.
fn machine_ticks() -> Option<(u64, u64)> {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|stat| cpu_ticks(&stat))
}

/// The machine's CPU time from the text of `/proc/stat`, in clock ticks: busy (everything but
/// idle and waiting for I/O) and total, over all CPUs.
pub fn cpu_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice], guest time being
    // counted in user time already.
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
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

/// A process's user and system time, in clock ticks, from the text of its `/proc/<pid>/stat`.
pub fn stat_cpu_ticks(stat: &str) -> Option<(u64, u64)> {
    // After the command name: state, ppid, pgrp, session, tty, tpgid, flags, minflt, cminflt,
    // majflt, cmajflt, utime, stime.
    let mut fields = stat_fields(stat)?.skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user, system))
}

/// The length of the clock tick /proc counts CPU time in (`getconf CLK_TCK`; 100 per second,
/// Linux's `USER_HZ`, if that cannot be asked).
pub fn clock_tick() -> Duration {
    let per_second = Command::new("getconf")
        .arg("CLK_TCK")
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .filter(|per_second| *per_second > 0)
        .unwrap_or(100);
    Duration::from_secs(1) / u32::try_from(per_second).unwrap_or(100)
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
    fn context_switches_are_read_from_a_threads_status() {
        let status = "Name:\ttokio-rt-worker\nvoluntary_ctxt_switches:\t4120\n\
                      nonvoluntary_ctxt_switches:\t35511\n";
        assert_eq!(status_number(status, "voluntary_ctxt_switches"), Some(4120));
        assert_eq!(
            status_number(status, "nonvoluntary_ctxt_switches"),
            Some(35511)
        );
    }

    #[test]
    fn a_running_server_has_threads_whose_switches_are_counted() {
        let log = std::env::temp_dir().join(format!("bench-switches-{}.log", std::process::id()));
        let mut command = Command::new("sleep");
        command.arg("30");
        let server = Server::spawn("sleep", command, &log).expect("sleep starts");
        assert!(!Server::thread_files(&server.process_tree(), "status").is_empty());
        // Once `sleep` sleeps, its thread has left the CPU to wait at least once.
        let started = Instant::now();
        let reading = loop {
            let reading = server.cpu_now().expect("its /proc files are readable");
            if reading.voluntary_switches > 0 || started.elapsed() > Duration::from_secs(20) {
                break reading;
            }
            thread::sleep(Duration::from_millis(5));
        };
        assert!(reading.voluntary_switches > 0, "{reading:?}");
        drop(server);
        let _ = std::fs::remove_file(log);
    }

    #[test]
    fn busy_and_total_cpu_time_are_read_from_proc_stat() {
        let stat = "cpu  100 5 50 800 40 3 2 1 7 0\ncpu0 50 2 25 400 20 1 1 0 3 0\nintr 12345\n";
        // Busy: user, nice, system, irq, softirq, steal; guest time is inside user time.
        assert_eq!(cpu_ticks(stat), Some((161, 1001)));
        assert_eq!(cpu_ticks("cpu0 1 2 3 4\n"), None);
        assert_eq!(cpu_ticks("cpu  1 2 x 4\n"), None);
    }

    #[test]
    fn the_parent_is_read_past_an_awkward_command_name() {
        assert_eq!(stat_parent("4242 (node) S 17 4242 17 0 -1"), Some(17));
        assert_eq!(stat_parent("4243 (a (b) c) R 99 4243 1 0"), Some(99));
        assert_eq!(stat_parent("garbage"), None);
    }

    #[test]
    fn a_process_cpu_time_is_read_past_its_command_name() {
        let stat = "4242 (tokio (rt)) S 17 4242 17 0 -1 4194560 900 0 3 0 250 75 0 0 20 0 3 0";
        assert_eq!(stat_cpu_ticks(stat), Some((250, 75)));
        assert_eq!(stat_cpu_ticks("4242 (x) S 17 4242"), None);
    }

    #[test]
    fn cpu_use_is_split_per_request_between_the_server_and_the_rest() {
        let before = CpuUse {
            server_ticks: 100,
            server_system_ticks: 40,
            machine_ticks: 1_000,
            involuntary_switches: 7,
            voluntary_switches: 3,
        };
        let after = CpuUse {
            server_ticks: 250,
            server_system_ticks: 100,
            machine_ticks: 1_250,
            involuntary_switches: 7_007,
            voluntary_switches: 1_003,
        };
        let run = CpuUse::between(before, after);
        assert_eq!(
            run,
            CpuUse {
                server_ticks: 150,
                server_system_ticks: 60,
                machine_ticks: 250,
                involuntary_switches: 7_000,
                voluntary_switches: 1_000,
            }
        );
        let both = run.plus(run);
        assert_eq!(both.server_ticks, 300);
        assert_eq!(both.switches_per_thousand(20_000), Some((700.0, 100.0)));
        assert_eq!(both.switches_per_thousand(0), None);
        let (server, rest) = both
            .per_request(20_000, Duration::from_millis(10))
            .expect("requests were made");
        // 3 s of server time and 2 s of the rest over 20 000 requests.
        assert!((server - 150.0).abs() < 1e-9, "{server}");
        assert!((rest - 100.0).abs() < 1e-9, "{rest}");
        assert_eq!(run.per_request(0, Duration::from_millis(10)), None);
        // 1.2 s of the server's 3 s were system time.
        let system = both
            .system_per_request(20_000, Duration::from_millis(10))
            .expect("requests were made");
        assert!((system - 60.0).abs() < 1e-9, "{system}");
        assert_eq!(run.system_per_request(0, Duration::from_millis(10)), None);
    }

    #[test]
    fn the_clock_tick_is_a_fraction_of_a_second() {
        let tick = clock_tick();
        assert!(tick > Duration::ZERO && tick <= Duration::from_secs(1));
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
