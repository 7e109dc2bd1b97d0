//! `cargo xtask bench`: builds understudy and the bare axum baseline with the `perf` profile, then
//! measures on 127.0.0.1 (1) each server under the workloads with wrk, understudy beside bare axum
//! and Stoplight Prism, and (2) understudy's time to its first answer and its peak RSS on the
//! vendor specs, GitHub's and Stripe's descriptions and two synthetic specs, beside the targets.
//! It writes the figures to `target/bench/report.md` and prints them.
//!
//! Every server is stopped when its part is done, also on error; every helper command (wrk, npm,
//! curl, tar) is bounded in time. `--quick` gives each workload three seconds, skips Prism and
//! fetches nothing (a public description already fetched is still measured). `--handle N` runs
//! [`handle`] instead: the engine's request path in-process, for a profiler.

mod assets;
mod handle;
mod http;
mod process;
mod workload;
mod wrk;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use assets::{GITHUB, Public, STRIPE};
use process::{Server, free_port};
use workload::WorkloadId;
use wrk::{Load, LoadShape};

/// The task's line in `cargo xtask`'s list.
pub const ABOUT: &str = "benchmark understudy against bare axum and Prism (wrk), start-up and peak RSS; writes target/bench/report.md";

/// The help text of `cargo xtask bench`.
const USAGE: &str = "\
usage: cargo xtask bench [--quick] [--duration SECS] [--connections N] [--threads N]
                         [--no-prism] [--handle N]

Builds understudy and bench-baseline (profile perf) and measures, on 127.0.0.1: (a) a valid and
(b) an invalid DeployHQ POST /users, and (c) a list on GitHub's description, under wrk against
understudy, bare axum and Prism; then understudy's time to its first answer and peak RSS on
specs/, GitHub's and Stripe's descriptions (fetched into target/bench/) and two synthetic specs.
Writes target/bench/report.md and prints it.

  --quick           3 s per workload, no Prism, no download
  --duration SECS   seconds of load per server and workload (default 10, 3 with --quick)
  --connections N   open connections (default 32)
  --threads N       wrk threads (default 2)
  --no-prism        leave Prism out
  --handle N        instead: send (a) and (b) N times each to Engine::handle in this process";

/// Runs the benchmark with the arguments that follow `bench`.
pub fn run(args: &[String]) -> Result<(), String> {
    let Some(options) = Options::parse(args)? else {
        println!("{USAGE}");
        return Ok(());
    };
    let root = crate::fixtures::workspace_root();
    if let Some(requests) = options.handle {
        return handle::run(&root, requests);
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    let dir = target.join("bench");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let wrk_version = wrk::ensure_installed()?;
    build(&root)?;
    let bench = Bench {
        bin: target.join(PROFILE),
        root,
        logs,
        shape: LoadShape {
            threads: options.threads,
            connections: options.connections,
            duration: options.duration,
        },
        quick: options.quick,
    };
    let fetch = !options.quick;
    let github = assets::public_spec(&dir, GITHUB, fetch);
    let stripe = assets::public_spec(&dir, STRIPE, fetch);
    let prism = (options.prism && !options.quick).then(|| assets::prism(&dir));

    let mut report = Report::default();
    report.line(format!(
        "# understudy bench\n\n{} mode; {wrk_version}, {} threads, {} connections, {} s per \
         server and workload; {} CPUs shared by wrk and the server; load average {}.\n",
        if options.quick { "quick" } else { "full" },
        options.threads,
        options.connections,
        options.duration.as_secs(),
        std::thread::available_parallelism().map_or(1, usize::from),
        load_average(),
    ));
    bench.loads(&mut report, github.as_ref(), prism.as_ref());
    bench.startups(&mut report, &dir, [(GITHUB, &github), (STRIPE, &stripe)]);

    let path = dir.join("report.md");
    std::fs::write(&path, &report.text)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("{}", report.text);
    eprintln!("bench: report written to {}", path.display());
    if report.failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "part of the bench failed:\n  {}",
            report.failures.join("\n  ")
        ))
    }
}

/// The command line of `cargo xtask bench`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    /// Whether `--quick` was given.
    quick: bool,
    /// Load per server and workload.
    duration: Duration,
    /// Open connections.
    connections: u32,
    /// wrk threads.
    threads: u32,
    /// Whether Prism is measured (never with `--quick`).
    prism: bool,
    /// `--handle N`: the in-process run instead of the bench.
    handle: Option<u64>,
}

impl Options {
    /// Reads the options; `Ok(None)` asks for the help text.
    fn parse(args: &[String]) -> Result<Option<Self>, String> {
        let quick = args.iter().any(|arg| arg == "--quick");
        let mut options = Self {
            quick,
            duration: Duration::from_secs(if quick { 3 } else { 10 }),
            connections: 32,
            threads: 2,
            prism: !quick,
            handle: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> Result<u64, String> {
                let value = args.next().ok_or_else(|| format!("{name} needs a value"))?;
                match value.parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!(
                        "{name} needs a positive whole number, not {value:?}"
                    )),
                }
            };
            let small = |n: u64| u32::try_from(n).map_err(|e| e.to_string());
            match arg.as_str() {
                "--quick" => {}
                "--duration" => options.duration = Duration::from_secs(number(arg)?),
                "--connections" => options.connections = small(number(arg)?)?,
                "--threads" => options.threads = small(number(arg)?)?,
                "--no-prism" => options.prism = false,
                "--handle" => options.handle = Some(number(arg)?),
                "--help" | "-h" => return Ok(None),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        if options.connections < options.threads {
            return Err("wrk needs at least as many connections as threads".to_owned());
        }
        Ok(Some(options))
    }
}

/// What the bench has found: the report's text, and what failed.
#[derive(Debug, Default)]
struct Report {
    /// The Markdown report.
    text: String,
    /// Every part that failed, in a line each.
    failures: Vec<String>,
}

impl Report {
    /// Appends a line.
    fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }
}

/// The Cargo profile the benchmark builds with: release with fat LTO and one codegen unit
/// (`[profile.perf]` in the workspace's `Cargo.toml`). Its binaries are in `target/perf/`.
const PROFILE: &str = "perf";

/// One server under one workload: what wrk measured and the mean answer size, or why not.
type Row = (WorkloadId, &'static str, Result<(Load, usize), String>);

/// A server the load part measures, and how it is started on a port.
struct Contender<'a> {
    /// Its name in the report.
    name: &'static str,
    /// Its command line on a port.
    command: Box<dyn Fn(u16) -> Command + 'a>,
    /// The workloads it serves.
    workloads: Vec<WorkloadId>,
}

/// One bench run: where the binaries are and how the load is driven.
#[derive(Debug)]
struct Bench {
    /// The workspace root, every server's working folder.
    root: PathBuf,
    /// The folder of the `perf` binaries.
    bin: PathBuf,
    /// Where server logs and wrk scripts go.
    logs: PathBuf,
    /// How each workload is driven.
    shape: LoadShape,
    /// Whether `--quick` was given.
    quick: bool,
}

impl Bench {
    /// understudy's command line serving `spec` on a port, as the bench runs it.
    fn understudy(&self, spec: PathBuf) -> Box<dyn Fn(u16) -> Command + '_> {
        Box::new(move |port| {
            let mut command = Command::new(self.bin.join("understudy"));
            command
                .arg("serve")
                .arg(&spec)
                .arg("--port")
                .arg(port.to_string());
            let options =
                "--host 127.0.0.1 --seed 1 --log-level warn --max-records 10000 --pin-workers";
            command.args(options.split(' '));
            command
        })
    }

    /// The load part: every contender under each workload it serves, one after the other, and a
    /// table per workload with each server's req/s as a share of bare axum's.
    fn loads(
        &self,
        report: &mut Report,
        github: Result<&Option<PathBuf>, &String>,
        prism: Option<&Result<PathBuf, String>>,
    ) {
        report.line("## Load (wrk)\n");
        let specs = self.root.join("specs");
        let mut rows: Vec<Row> = Vec::new();
        let mut contenders = vec![Contender {
            name: "understudy",
            command: self.understudy(specs.clone()),
            workloads: vec![WorkloadId::ValidCreate, WorkloadId::InvalidCreate],
        }];
        match github {
            Ok(Some(path)) => contenders.push(Contender {
                name: "understudy",
                command: self.understudy(path.clone()),
                workloads: vec![WorkloadId::ListIssues],
            }),
            Ok(None) => report.line(
                "(c) is left out: GitHub's description is not fetched (a full run fetches it).\n",
            ),
            Err(why) => report.failures.push(format!("GitHub's description: {why}")),
        }
        for contender in &contenders {
            rows.extend(self.drive(contender, report));
        }
        // The bare baseline's list is as large as understudy's mean answer to (c).
        let list_bytes = rows
            .iter()
            .find_map(|(id, _, row)| {
                (*id == WorkloadId::ListIssues).then(|| row.as_ref().ok().map(|r| r.1))
            })
            .flatten();
        let mut bare_workloads = vec![WorkloadId::ValidCreate, WorkloadId::InvalidCreate];
        bare_workloads.extend(list_bytes.map(|_| WorkloadId::ListIssues));
        let bare = Contender {
            name: "bare axum",
            command: Box::new(|port| {
                let mut command = Command::new(self.bin.join("bench-baseline"));
                command.args(["--host", "127.0.0.1", "--pin-workers", "--port"]);
                command.arg(port.to_string()).arg("--list-body-bytes");
                command.arg(list_bytes.unwrap_or(4096).to_string());
                command
            }),
            workloads: bare_workloads,
        };
        rows.extend(self.drive(&bare, report));
        match prism {
            Some(Ok(bin)) => {
                let prism = Contender {
                    name: "Prism",
                    command: Box::new(|port| {
                        let mut command = Command::new(bin);
                        command.args("mock -h 127.0.0.1 -v silent --dynamic=false -p".split(' '));
                        command
                            .arg(port.to_string())
                            .arg(specs.join("deployhq.yaml"));
                        command
                    }),
                    workloads: vec![WorkloadId::ValidCreate, WorkloadId::InvalidCreate],
                };
                rows.extend(self.drive(&prism, report));
            }
            Some(Err(why)) => report.failures.push(format!("Prism: {why}")),
            None => report.line("Prism is left out (--quick or --no-prism).\n"),
        }
        for id in WorkloadId::ALL {
            let bare_rps = rows
                .iter()
                .find(|(w, name, _)| *w == id && *name == "bare axum")
                .and_then(|(_, _, row)| row.as_ref().ok())
                .map(|(load, _)| load.rps());
            let mut table = vec![
                format!("### {}\n", id.label()),
                "| server | req/s | vs bare axum | p50 | p99 | errors | mean answer |".to_owned(),
                "|---|--:|--:|--:|--:|--:|--:|".to_owned(),
            ];
            for (_, name, row) in rows.iter().filter(|(w, _, _)| *w == id) {
                table.push(match row {
                    Ok((load, bytes)) => format!(
                        "| {name} | {:.0} | {} | {:.2} ms | {:.2} ms | {} | {bytes} B |",
                        load.rps(),
                        bare_rps.map_or_else(
                            || "-".to_owned(),
                            |bare| format!("{:.0}%", 100.0 * load.rps() / bare)
                        ),
                        load.p50_us / 1000.0,
                        load.p99_us / 1000.0,
                        load.errors(id.expected_status()),
                    ),
                    Err(why) => {
                        format!("| {name} | failed: {} | | | | | |", why.replace('\n', " "))
                    }
                });
            }
            if table.len() > 3 {
                report.line(table.join("\n") + "\n");
            }
        }
    }

    /// Starts one contender and drives each of its workloads: a few probes check the status and
    /// give the mean answer size, then wrk runs. Any error in understudy's or bare axum's answers
    /// fails the bench (on loopback both answer every request); Prism's are only reported.
    fn drive<'a>(&self, contender: &Contender<'a>, report: &mut Report) -> Vec<Row> {
        let name = contender.name;
        let started = free_port().and_then(|port| {
            let log = self.logs.join(format!(
                "{}-{}.log",
                slug(name),
                contender.workloads[0].letter()
            ));
            let mut command = (contender.command)(port);
            command.current_dir(&self.root);
            let mut server = Server::spawn(name, command, &log)?;
            server.wait_for_answer(port, Duration::from_secs(120))?;
            Ok((server, port))
        });
        let (server, port) = match started {
            Ok(started) => started,
            Err(why) => {
                report.failures.push(format!("{name} did not start: {why}"));
                return contender
                    .workloads
                    .iter()
                    .map(|id| (*id, name, Err("did not start".to_owned())))
                    .collect();
            }
        };
        let mut rows = Vec::new();
        for &id in &contender.workloads {
            eprintln!(
                "bench: {name} {} for {} s",
                id.label(),
                self.shape.duration.as_secs()
            );
            let script = self
                .logs
                .join(format!("{}-{}.lua", slug(name), id.letter()));
            let tag = format!("{}{}", std::process::id(), id.letter());
            let measured = probe(port, id, &tag).and_then(|bytes| {
                let load = wrk::run(port, id, self.shape, &tag, &script)?;
                let errors = load.errors(id.expected_status());
                if errors > 0 && name != "Prism" {
                    return Err(format!(
                        "{errors} of {} requests failed or were not answered with a status of {}'s class",
                        load.requests, id.expected_status()
                    ));
                }
                Ok((load, bytes))
            });
            if let Err(why) = &measured {
                report
                    .failures
                    .push(format!("{name} {}: {why}", id.label()));
            }
            rows.push((id, name, measured));
        }
        drop(server);
        rows
    }

    /// The start-up part: understudy's time from spawning to its first answer and its peak RSS
    /// then, on each spec, beside the targets (first answer in ms, peak RSS in MiB).
    fn startups(
        &self,
        report: &mut Report,
        dir: &Path,
        public: [(Public, &Result<Option<PathBuf>, String>); 2],
    ) {
        report.line("## Start-up and peak RSS of `understudy serve`\n");
        report.line(
            "From spawning to the first answer to a polled `GET /`, and VmHWM from \
             /proc/<pid>/status right after it; the median of 3 starts (1 with --quick).\n",
        );
        report.line("| spec | first answer | peak RSS | target |\n|---|--:|--:|---|");
        let mut specs = vec![("specs/".to_owned(), self.root.join("specs"), None)];
        for (spec, path) in public {
            match path {
                Ok(Some(path)) => specs.push((spec.name.to_owned(), path.clone(), spec.target)),
                Ok(None) => specs.push((spec.name.to_owned(), PathBuf::new(), spec.target)),
                Err(why) => report.failures.push(format!("{}: {why}", spec.name)),
            }
        }
        // Quick mode starts each once, and the synthetic specs at an eighth of their size.
        let (starts, scale) = if self.quick { (1, 8) } else { (3, 1) };
        for operations in [40 / scale, 320 / scale] {
            match assets::synthetic_spec(dir, operations, 320 / scale) {
                Ok(path) => specs.push((
                    format!("synthetic, {operations} ops, {} schemas", 320 / scale),
                    path,
                    None,
                )),
                Err(why) => report.failures.push(why),
            }
        }
        let mut synthetic_rss = Vec::new();
        for (label, path, target) in specs {
            if path.as_os_str().is_empty() {
                report.line(format!("| {label} | not fetched (--quick) | | |"));
                continue;
            }
            eprintln!("bench: starting understudy on {label}");
            let (first_answer, peak_kb) = match self.startup(self.understudy(path), starts) {
                Ok(figures) => figures,
                Err(why) => {
                    report.line(format!("| {label} | failed | | |"));
                    report
                        .failures
                        .push(format!("understudy on {label}: {why}"));
                    continue;
                }
            };
            let (ms, mib) = (first_answer.as_millis(), peak_kb / 1024);
            if label.starts_with("synthetic") {
                synthetic_rss.push(peak_kb);
            }
            let target = target.map_or_else(String::new, |(max_ms, max_mib)| {
                let met = ms <= max_ms && u128::from(mib) <= max_mib;
                format!("≤ {max_ms} ms, ≤ {max_mib} MB: {}", verdict(met))
            });
            report.line(format!("| {label} | {ms} ms | {mib} MiB | {target} |"));
        }
        if let [forty, many] = synthetic_rss[..] {
            let ratio = many as f64 / forty.max(1) as f64;
            report.line(format!(
                "\nThe synthetic specs share their schemas: 8 × the operations take {ratio:.2} × \
                 the peak RSS (target ≤ 2: {}).",
                verdict(ratio <= 2.0)
            ));
        }
    }

    /// Starts a server `starts` times; gives the median time to its first answer and the median
    /// peak RSS (kB) right after it.
    fn startup(
        &self,
        command_for: Box<dyn Fn(u16) -> Command + '_>,
        starts: usize,
    ) -> Result<(Duration, u64), String> {
        let mut times = Vec::new();
        let mut peaks = Vec::new();
        for _ in 0..starts {
            let port = free_port()?;
            let mut command = command_for(port);
            command.current_dir(&self.root);
            let mut server = Server::spawn("understudy", command, &self.logs.join("startup.log"))?;
            times.push(server.wait_for_answer(port, Duration::from_secs(120))?);
            peaks.push(server.peak_rss_kb()?);
        }
        times.sort_unstable();
        peaks.sort_unstable();
        Ok((times[starts / 2], peaks[starts / 2]))
    }
}

/// Sends a few requests of workload `id` and checks their status; gives the answers' mean body
/// size (understudy draws the length of each array per request).
fn probe(port: u16, id: WorkloadId, tag: &str) -> Result<usize, String> {
    const PROBES: usize = 3;
    let mut total = 0;
    for number in 1..=PROBES {
        let request = id.request(&format!("bench-{tag}-probe-{number}@example.com"));
        let answer = http::send(port, &request, Duration::from_secs(60))
            .map_err(|why| format!("probe {number} failed: {why}"))?;
        if answer.status != id.expected_status() {
            let body = String::from_utf8_lossy(&answer.body);
            return Err(format!(
                "probe {number} got {} instead of {}: {}",
                answer.status,
                id.expected_status(),
                body.chars().take(300).collect::<String>()
            ));
        }
        total += answer.body.len();
    }
    Ok(total / PROBES)
}

/// Builds understudy and the bare baseline with [`PROFILE`].
fn build(root: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("bench: cargo build --profile {PROFILE} -p understudy -p bench-baseline");
    let status = Command::new(cargo)
        .current_dir(root)
        .args(format!("build --profile {PROFILE} -p understudy -p bench-baseline").split(' '))
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the {PROFILE} build failed ({status})"))
    }
}

/// The machine's load averages over 1, 5 and 15 minutes, from /proc/loadavg.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// A target's verdict, as the report writes it.
fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

/// A name made safe for a file name.
fn slug(text: &str) -> String {
    text.replace(' ', "-").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn quick_mode_is_short_and_leaves_out_prism() {
        let options = Options::parse(&args("--quick")).unwrap().unwrap();
        assert_eq!(options.duration, Duration::from_secs(3));
        assert!(!options.prism);
        let options = Options::parse(&[]).unwrap().unwrap();
        assert_eq!(options.duration, Duration::from_secs(10));
        assert!(options.prism);
        assert_eq!((options.connections, options.threads), (32, 2));
        let options = Options::parse(&args("--handle 500 --no-prism"))
            .unwrap()
            .unwrap();
        assert_eq!(options.handle, Some(500));
        assert!(!options.prism);
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(Options::parse(&args("--duration")).is_err());
        assert!(Options::parse(&args("--duration 0")).is_err());
        assert!(Options::parse(&args("--connections 1 --threads 2")).is_err());
        assert!(Options::parse(&args("--fast")).is_err());
        assert_eq!(Options::parse(&args("--help")), Ok(None));
    }

    #[test]
    fn the_in_process_run_answers_every_request_as_expected() {
        assert_eq!(handle::run(&crate::fixtures::workspace_root(), 20), Ok(()));
    }
}
