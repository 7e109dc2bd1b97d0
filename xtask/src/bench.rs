//! `cargo xtask bench`: builds the binaries with the `perf` profile (release with fat LTO), serves
//! the benchmark's workloads from understudy, the bare axum baseline and Stoplight Prism on
//! 127.0.0.1, drives each with wrk for a fixed time, and writes the figures to
//! `target/bench/report.md`.
//!
//! Every server is started first and stopped when the last round is done, also on error: each
//! round measures every server under each workload in turn, so the ratios between servers are
//! not skewed by a machine that speeds up or slows down during the run. Every helper command
//! (wrk, npm, apt-get, tar) is bounded in time. `--quick` runs about three seconds per
//! workload, skips Prism, and uses the large spec only if an earlier full run fetched it.

mod assets;
mod http;
mod process;
mod report;
mod workload;
mod wrk;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use process::{CpuUse, Server, free_port};
use report::{Documents, Figures, Instance, Measurement, Outcome, Report, ServerKind, Startup};
use workload::WorkloadId;
use wrk::{Load, LoadShape};

/// The task's line in `cargo xtask`'s list.
pub const ABOUT: &str =
    "benchmark understudy against Prism and bare axum with wrk; writes target/bench/report.md";

/// Runs the benchmark with the arguments that follow `bench`.
pub fn run(args: &[String]) -> Result<(), String> {
    let Some(options) = Options::parse(args)? else {
        println!("{USAGE}");
        return Ok(());
    };
    let root = workspace_root()?;
    let target = target_dir(&root);
    let bench_dir = target.join("bench");
    let logs = bench_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;

    let wrk_version = wrk::ensure_installed()?;
    build(&root)?;
    let large = match options.large {
        LargeMode::Skip => Outcome::Skipped("--no-large was given".to_owned()),
        LargeMode::IfPresent => match assets::large_spec(&bench_dir, false) {
            Ok(Some(spec)) => Outcome::Done(spec),
            Ok(None) => Outcome::Skipped(
                "the large spec is not downloaded; --quick never fetches it (a full `cargo xtask bench` does)"
                    .to_owned(),
            ),
            Err(why) => Outcome::Failed(why),
        },
        LargeMode::Fetch => match assets::large_spec(&bench_dir, true) {
            Ok(Some(spec)) => Outcome::Done(spec),
            Ok(None) => Outcome::Failed("the large spec could not be fetched".to_owned()),
            Err(why) => Outcome::Failed(why),
        },
    };
    let prism = if options.prism {
        match assets::prism(&bench_dir) {
            Ok(bin) => Outcome::Done(bin),
            Err(why) => Outcome::Failed(why),
        }
    } else if options.quick {
        Outcome::Skipped("--quick skips Prism (a full run or --prism includes it)".to_owned())
    } else {
        Outcome::Skipped("--no-prism was given".to_owned())
    };

    let load_before = load_average();
    let shape = LoadShape {
        threads: options.threads,
        connections: options.connections,
        duration: options.round_duration(),
    };
    let mut bench = Bench {
        shape,
        warmup: options.warmup,
        rounds: options.rounds as usize,
        specs: options.specs.clone(),
        root: root.clone(),
        logs,
        run_tag: run_tag(),
        waits: Waits::default(),
        report: Report {
            setup: setup_lines(&options, shape, &wrk_version, &root),
            connections: options.connections,
            threads: options.threads,
            cpus: cpu_count(),
            clock_tick: process::clock_tick(),
            large_spec: large.done().cloned(),
            ..Report::default()
        },
    };
    bench.run_all(&target.join(PROFILE), &large, &prism);
    bench.add_notes(&large, &prism);
    bench.report.setup.push(format!(
        "load average (1, 5, 15 min) before the load: {load_before}; after: {}; anything else \
         running on the machine (a build, say) lowers every figure",
        load_average()
    ));

    let text = bench.report.render();
    let path = bench_dir.join("report.md");
    std::fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("{text}");
    eprintln!("bench: report written to {}", path.display());
    let failures = bench.report.failures();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} part(s) of the bench failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        ))
    }
}

/// The help text of `cargo xtask bench`.
const USAGE: &str = "\
usage: cargo xtask bench [--quick] [--duration SECS] [--rounds N] [--connections N]
                         [--threads N] [--prism | --no-prism] [--no-large] [--specs DIR]

Builds the binaries (profile perf: release with fat LTO) and measures understudy, the bare axum
baseline and Prism under wrk on 127.0.0.1; writes target/bench/report.md and prints it. Every
server is started first; then each round measures every server under each workload in turn.

  --quick           3 s per workload in one round, no warm-up, no Prism, the large spec only if
                    already fetched
  --duration SECS   seconds of load per server and workload, shared among the rounds (default 15,
                    or 3 with --quick)
  --rounds N        rounds the load is split into (default 3, or 1 with --quick)
  --connections N   open connections (default 32)
  --threads N       wrk threads (default 2); with more than one, each round is followed by a
                    latency pass as long with one thread, which the p99 targets are judged by
  --prism           include Prism even with --quick
  --no-prism        leave Prism out
  --no-large        leave out workload (c) and the large spec
  --specs DIR       the vendor specs understudy serves for (a) and (b) (default specs; Prism
                    gets DIR/deployhq.yaml)";

/// How the large spec is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LargeMode {
    /// Not at all.
    Skip,
    /// Only if an earlier run fetched it.
    IfPresent,
    /// Fetched with npm if missing.
    Fetch,
}

/// The command line of `cargo xtask bench`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    /// Whether `--quick` was given.
    quick: bool,
    /// Load per server and workload, all rounds together.
    duration: Duration,
    /// How many rounds the load is split into.
    rounds: u32,
    /// Load before the first round of each server and workload, not measured.
    warmup: Duration,
    /// Open connections.
    connections: u32,
    /// wrk threads.
    threads: u32,
    /// Whether Prism is measured.
    prism: bool,
    /// How the large spec is found.
    large: LargeMode,
    /// The vendor specs folder for (a) and (b), relative to the workspace root.
    specs: PathBuf,
}

impl Options {
    /// Reads the options; `Ok(None)` asks for the help text.
    fn parse(args: &[String]) -> Result<Option<Self>, String> {
        let quick = args.iter().any(|arg| arg == "--quick");
        let mut options = Self {
            quick,
            duration: Duration::from_secs(if quick { 3 } else { 15 }),
            rounds: if quick { 1 } else { 3 },
            warmup: Duration::from_secs(if quick { 0 } else { 2 }),
            connections: 32,
            threads: 2,
            prism: !quick,
            large: if quick {
                LargeMode::IfPresent
            } else {
                LargeMode::Fetch
            },
            specs: PathBuf::from("specs"),
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
            match arg.as_str() {
                "--quick" => {}
                "--duration" => options.duration = Duration::from_secs(number(arg)?),
                "--rounds" => {
                    options.rounds = u32::try_from(number(arg)?).map_err(|e| e.to_string())?;
                }
                "--connections" => {
                    options.connections = u32::try_from(number(arg)?).map_err(|e| e.to_string())?;
                }
                "--threads" => {
                    options.threads = u32::try_from(number(arg)?).map_err(|e| e.to_string())?;
                }
                "--prism" => options.prism = true,
                "--no-prism" => options.prism = false,
                "--no-large" => options.large = LargeMode::Skip,
                "--specs" => {
                    let dir = args.next().ok_or("--specs needs a folder")?;
                    options.specs = PathBuf::from(dir.trim_end_matches('/'));
                }
                "--help" | "-h" => return Ok(None),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        if options.connections < options.threads {
            return Err("wrk needs at least as many connections as threads".to_owned());
        }
        if options.duration.as_secs() < u64::from(options.rounds) {
            return Err(format!(
                "{} s of load cannot be split into {} rounds: wrk runs whole seconds",
                options.duration.as_secs(),
                options.rounds
            ));
        }
        Ok(Some(options))
    }

    /// The load of one round: the duration shared among the rounds, in whole seconds.
    fn round_duration(&self) -> Duration {
        Duration::from_secs(self.duration.as_secs() / u64::from(self.rounds.max(1)))
    }
}

/// One bench run in progress.
#[derive(Debug)]
struct Bench {
    /// How each workload's load is driven.
    shape: LoadShape,
    /// Unmeasured load before the first round of each server and workload.
    warmup: Duration,
    /// How many times each server is measured under each workload, interleaved.
    rounds: usize,
    /// The vendor specs folder, relative to the workspace root.
    specs: PathBuf,
    /// The workspace root, the servers' working folder.
    root: PathBuf,
    /// Where server logs and wrk scripts go.
    logs: PathBuf,
    /// Makes this run's e-mail addresses differ from any earlier run's.
    run_tag: String,
    /// The waits for a quiet machine before the runs.
    waits: Waits,
    /// What has been found so far.
    report: Report,
}

/// Why something was not run.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Absent {
    /// Left out on purpose, for the reason given.
    Skipped(String),
    /// Could not run, for the reason given.
    Failed(String),
}

impl Absent {
    /// The same reason as an outcome.
    fn outcome<T>(&self) -> Outcome<T> {
        match self {
            Self::Skipped(why) => Outcome::Skipped(why.clone()),
            Self::Failed(why) => Outcome::Failed(why.clone()),
        }
    }

    /// The reason an outcome that did not run gives, if it did not.
    fn of<T>(outcome: &Outcome<T>) -> Option<Self> {
        match outcome {
            Outcome::Done(_) => None,
            Outcome::Skipped(why) => Some(Self::Skipped(why.clone())),
            Outcome::Failed(why) => Some(Self::Failed(why.clone())),
        }
    }
}

/// Builds a server's command line, given its port.
type CommandFor<'a> = Box<dyn Fn(u16) -> Command + 'a>;

/// How a server instance is started.
struct Launch<'a> {
    /// The server.
    server: ServerKind,
    /// What it loads.
    documents: Documents,
    /// What it loads, in words.
    started_with: String,
    /// Its command line, or why it is not started.
    command: Result<CommandFor<'a>, Absent>,
    /// How long it may take to answer for the first time.
    startup_limit: Duration,
    /// How many times it is started to time its start-up (the median is reported).
    startup_samples: usize,
    /// The workloads it serves.
    workloads: Vec<WorkloadId>,
}

/// A server instance that started, kept running until every round is done.
struct Running {
    /// The server.
    server: ServerKind,
    /// What it loaded.
    documents: Documents,
    /// What it loaded, in words.
    started_with: String,
    /// The process, stopped when this is dropped.
    process: Server,
    /// The port it serves on 127.0.0.1.
    port: u16,
    /// Its name in log and script file names.
    slug: String,
    /// The median of its timed starts.
    first_answer: Duration,
    /// How many starts were timed.
    samples: usize,
    /// Its memory right after the first answer.
    idle: Result<process::Memory, String>,
    /// Its workloads.
    workloads: Vec<Serving>,
}

/// One workload of a running instance.
struct Serving {
    /// The workload.
    id: WorkloadId,
    /// The mean body size of the probes' answers; or why a probe, or a round, failed.
    probed: Result<usize, String>,
    /// What wrk measured in each round so far.
    rounds: Vec<Load>,
    /// What the latency pass (one wrk thread) measured after each round so far.
    one_thread_rounds: Vec<Load>,
    /// The CPU time those rounds took, added up.
    cpu: CpuUse,
    /// The instance's peak memory after the latest round, in kB.
    peak_rss_kb: u64,
}

/// The longest a run waits for the machine to go quiet before it starts anyway.
const QUIET_LIMIT: Duration = Duration::from_secs(60);

/// How many requests probe a workload before its load: the answers' mean size sizes the bare
/// baseline's list.
const PROBES: usize = 16;

/// The waits for a quiet machine before the runs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Waits {
    /// How many runs waited.
    runs: usize,
    /// The longest wait.
    longest: Duration,
    /// How many runs started without the machine having gone quiet.
    not_quiet: usize,
}

impl Waits {
    /// Counts one wait.
    fn note(&mut self, wait: Result<Duration, Duration>) {
        self.runs += 1;
        let (Ok(waited) | Err(waited)) = wait;
        self.longest = self.longest.max(waited);
        if wait.is_err() {
            self.not_quiet += 1;
        }
    }

    /// The waits, in words for the report's notes.
    fn note_text(&self) -> String {
        let mut text = format!(
            "before each of its {} runs, the bench waited for the CPUs to be under 5% busy for \
             0.25 s (a server can go on working after wrk stops: Prism answers the requests wrk \
             gave up on); the longest wait was {:.1} s",
            self.runs,
            self.longest.as_secs_f64()
        );
        if self.not_quiet > 0 {
            text.push_str(&format!(
                "; {} run(s) started after {} s without the machine going quiet, so something \
                 else was running: their figures are low",
                self.not_quiet,
                QUIET_LIMIT.as_secs()
            ));
        }
        text
    }
}

/// One measured run in the bench's order: a round, a workload, an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    /// The round, from 0.
    round: usize,
    /// The workload.
    workload: WorkloadId,
    /// The instance, an index into the instances started.
    instance: usize,
}

/// The order of the measured runs, given the workloads each instance serves: round by round,
/// and in each round workload by workload, every instance that serves it in turn. So each
/// server's runs of a workload are spread over the whole bench, and a machine that slows down
/// part-way slows them all alike: the ratios between servers compare like with like.
fn schedule(serves: &[Vec<WorkloadId>], rounds: usize) -> Vec<Slot> {
    let mut slots = Vec::new();
    for round in 0..rounds {
        for workload in WorkloadId::ALL {
            for (instance, workloads) in serves.iter().enumerate() {
                if workloads.contains(&workload) {
                    slots.push(Slot {
                        round,
                        workload,
                        instance,
                    });
                }
            }
        }
    }
    slots
}

impl Bench {
    /// Starts every server instance, drives the rounds, then stops them all.
    fn run_all(
        &mut self,
        release: &Path,
        large: &Outcome<assets::LargeSpec>,
        prism: &Outcome<PathBuf>,
    ) {
        let understudy = release.join("understudy");
        let bare = release.join("bench-baseline");
        let specs = self.root.join(&self.specs);
        let deployhq = specs.join("deployhq.yaml");
        let specs_label = format!("{}/", self.specs.display());
        let vendor_missing = (!deployhq.is_file())
            .then(|| Absent::Failed(format!("{} is missing", deployhq.display())));
        let large_path = large.done().map(|spec| spec.path.clone());
        let large_name = large_path.as_deref().and_then(Path::file_name).map_or_else(
            || "the large spec".to_owned(),
            |name| name.to_string_lossy().into_owned(),
        );
        let prism_bin = prism.done().cloned();

        let understudy_serving = |paths: PathBuf| -> CommandFor<'_> {
            let understudy = understudy.clone();
            Box::new(move |port: u16| {
                let mut command = Command::new(&understudy);
                command
                    .arg("serve")
                    .arg(&paths)
                    .args(["--host", "127.0.0.1", "--port"])
                    .arg(port.to_string())
                    .args([
                        "--seed",
                        "1",
                        "--log-level",
                        "warn",
                        "--max-records",
                        "10000",
                        "--pin-workers",
                    ]);
                command
            })
        };
        let prism_serving = |bin: PathBuf, document: PathBuf| -> CommandFor<'_> {
            Box::new(move |port: u16| {
                let mut command = Command::new(&bin);
                command
                    .args(["mock", "-h", "127.0.0.1", "-p"])
                    .arg(port.to_string())
                    .args(["-v", "silent", "--dynamic=false"])
                    .arg(&document);
                command
            })
        };

        let mut running = Vec::new();
        running.extend(self.start(Launch {
            server: ServerKind::Understudy,
            documents: Documents::Vendor,
            started_with: specs_label.clone(),
            command: match &vendor_missing {
                Some(why) => Err(why.clone()),
                None => Ok(understudy_serving(specs.clone())),
            },
            startup_limit: Duration::from_secs(30),
            startup_samples: 5,
            workloads: vec![WorkloadId::ValidCreate, WorkloadId::InvalidCreate],
        }));
        running.extend(self.start(Launch {
            server: ServerKind::Understudy,
            documents: Documents::Large,
            started_with: large_name.clone(),
            command: match (&large_path, Absent::of(large)) {
                (Some(path), _) => Ok(understudy_serving(path.clone())),
                (None, why) => Err(why.unwrap_or(Absent::Skipped("no large spec".to_owned()))),
            },
            startup_limit: Duration::from_secs(60),
            startup_samples: 3,
            workloads: vec![WorkloadId::ListIssues],
        }));

        // The bare baseline's list is as large as understudy's answer to (c).
        let list_bytes = running
            .iter()
            .filter(|instance| instance.server == ServerKind::Understudy)
            .flat_map(|instance| &instance.workloads)
            .find(|serving| serving.id == WorkloadId::ListIssues)
            .and_then(|serving| serving.probed.clone().ok())
            .unwrap_or(4096);
        let mut bare_workloads = vec![WorkloadId::ValidCreate, WorkloadId::InvalidCreate];
        match Absent::of(large) {
            None => bare_workloads.push(WorkloadId::ListIssues),
            Some(why) => self.skip_measurements(ServerKind::Bare, &[WorkloadId::ListIssues], &why),
        }
        running.extend(self.start(Launch {
            server: ServerKind::Bare,
            documents: Documents::Builtin,
            started_with: "its fixed routes".to_owned(),
            command: Ok(Box::new(|port: u16| {
                let mut command = Command::new(&bare);
                command
                    .args(["--host", "127.0.0.1", "--port"])
                    .arg(port.to_string())
                    .arg("--list-body-bytes")
                    .arg(list_bytes.to_string())
                    .arg("--pin-workers");
                command
            })),
            startup_limit: Duration::from_secs(30),
            startup_samples: 5,
            workloads: bare_workloads,
        }));

        running.extend(self.start(Launch {
            server: ServerKind::Prism,
            documents: Documents::Vendor,
            started_with: format!("{specs_label}deployhq.yaml"),
            command: match (&prism_bin, Absent::of(prism), vendor_missing.clone()) {
                (_, Some(why), _) | (_, None, Some(why)) => Err(why),
                (Some(bin), None, None) => Ok(prism_serving(bin.clone(), deployhq.clone())),
                (None, None, None) => Err(Absent::Skipped("no Prism".to_owned())),
            },
            startup_limit: Duration::from_secs(120),
            startup_samples: 3,
            workloads: vec![WorkloadId::ValidCreate, WorkloadId::InvalidCreate],
        }));
        running.extend(self.start(Launch {
            server: ServerKind::Prism,
            documents: Documents::Large,
            started_with: large_name,
            command: match (
                &prism_bin,
                &large_path,
                Absent::of(prism),
                Absent::of(large),
            ) {
                (_, _, Some(why), _) | (_, _, None, Some(why)) => Err(why),
                (Some(bin), Some(path), None, None) => Ok(prism_serving(bin.clone(), path.clone())),
                _ => Err(Absent::Skipped("no Prism or no large spec".to_owned())),
            },
            startup_limit: Duration::from_secs(300),
            startup_samples: 1,
            workloads: vec![WorkloadId::ListIssues],
        }));

        self.waits = self.drive(&mut running);
        for instance in running {
            self.finish(instance);
        }
    }

    /// Starts one server instance, times its start-up, and probes each of its workloads; the
    /// instance keeps running for the rounds. `None` if it did not start (the report says why).
    fn start(&mut self, launch: Launch<'_>) -> Option<Running> {
        let Launch {
            server,
            documents,
            started_with,
            command,
            startup_limit,
            startup_samples,
            workloads,
        } = launch;
        let started = command.and_then(|command_for| {
            let port = free_port().map_err(Absent::Failed)?;
            let slug = format!(
                "{}-{}",
                slug(server.label()),
                slug(&format!("{documents:?}"))
            );
            let log = self.logs.join(format!("{slug}.log"));
            eprintln!(
                "bench: starting {} with {started_with} ({startup_samples} time(s))",
                server.label()
            );
            // Earlier starts only time the start-up; the last one serves the workloads.
            let mut samples = Vec::new();
            loop {
                let mut command = command_for(port);
                command.current_dir(&self.root);
                let mut process =
                    Server::spawn(server.label(), command, &log).map_err(Absent::Failed)?;
                samples.push(
                    process
                        .wait_for_answer(port, startup_limit)
                        .map_err(Absent::Failed)?,
                );
                if samples.len() >= startup_samples.max(1) {
                    return Ok((process, port, slug, median(samples)));
                }
            }
        });
        let (process, port, slug, first_answer) = match started {
            Ok(started) => started,
            Err(why) => {
                if let Absent::Failed(reason) = &why {
                    eprintln!(
                        "bench: {} ({started_with}) failed: {reason}",
                        server.label()
                    );
                }
                self.report.instances.push(Instance {
                    server,
                    documents,
                    started_with,
                    outcome: why.outcome(),
                });
                let per_workload = match why {
                    Absent::Failed(_) => Absent::Skipped("the server did not start".to_owned()),
                    skipped => skipped,
                };
                self.skip_measurements(server, &workloads, &per_workload);
                return None;
            }
        };
        let idle = process.memory();
        let workloads = workloads
            .into_iter()
            .map(|id| Serving {
                id,
                probed: self.probe(port, id).inspect_err(|why| {
                    eprintln!("bench: {} {} failed: {why}", server.label(), id.label());
                }),
                rounds: Vec::new(),
                one_thread_rounds: Vec::new(),
                cpu: CpuUse::default(),
                peak_rss_kb: 0,
            })
            .collect();
        Some(Running {
            server,
            documents,
            started_with,
            process,
            port,
            slug,
            first_answer,
            samples: startup_samples.max(1),
            idle,
            workloads,
        })
    }

    /// Sends [`PROBES`] requests of workload `id` and checks their status; gives the answers'
    /// mean body size (understudy draws the length of each array per request, so one answer to
    /// (c) can be half as large again as the mean).
    fn probe(&self, port: u16, id: WorkloadId) -> Result<usize, String> {
        let workload = id.workload();
        let mut total = 0;
        for number in 1..=PROBES {
            let probe = workload.request_with_email(&format!(
                "bench-{}-probe-{number}@example.com",
                self.run_tag
            ));
            let answer = http::send(port, &probe, Duration::from_secs(60))
                .map_err(|why| format!("probe {number} failed: {why}"))?;
            if answer.status != workload.expected_status {
                let body = String::from_utf8_lossy(&answer.body);
                return Err(format!(
                    "probe {number} got {} instead of {}: {}",
                    answer.status,
                    workload.expected_status,
                    body.chars().take(300).collect::<String>()
                ));
            }
            total += answer.body.len();
        }
        Ok(mean_size(total, PROBES))
    }

    /// Runs the rounds: in each, every workload on every instance that serves it, in turn
    /// ([`schedule`]), each run once the machine is quiet. A workload that fails on an instance is
    /// not driven there again. Gives the waits for quiet.
    fn drive(&self, running: &mut [Running]) -> Waits {
        let mut waits = Waits::default();
        let serves: Vec<Vec<WorkloadId>> = running
            .iter()
            .map(|instance| instance.workloads.iter().map(|w| w.id).collect())
            .collect();
        for slot in schedule(&serves, self.rounds) {
            let Some(instance) = running.get_mut(slot.instance) else {
                continue;
            };
            let Running {
                server,
                process,
                port,
                slug,
                workloads,
                ..
            } = instance;
            let Some(serving) = workloads.iter_mut().find(|w| w.id == slot.workload) else {
                continue;
            };
            if serving.probed.is_err() {
                continue;
            }
            self.announce(slot, *server, "");
            waits.note(process::wait_until_quiet(QUIET_LIMIT));
            let measured = self
                .measure_round(process, *server, *port, slot, slug)
                .and_then(|(load, cpu, peak_rss_kb)| {
                    serving.rounds.push(load);
                    serving.cpu = serving.cpu.plus(cpu);
                    serving.peak_rss_kb = peak_rss_kb;
                    let Some(shape) = self.shape.one_thread() else {
                        return Ok(());
                    };
                    self.announce(slot, *server, " with one wrk thread");
                    waits.note(process::wait_until_quiet(QUIET_LIMIT));
                    let load = self.measure_latency(*server, *port, slot, slug, shape)?;
                    serving.one_thread_rounds.push(load);
                    Ok(())
                });
            match measured {
                Ok(()) => {}
                Err(why) => {
                    eprintln!(
                        "bench: {} {} failed: {why}",
                        server.label(),
                        slot.workload.label()
                    );
                    serving.probed = Err(why);
                }
            }
        }
        waits
    }

    /// Says on stderr which run comes next: its round, server and workload, its length, and
    /// `how` it is driven when that is not the main load.
    fn announce(&self, slot: Slot, server: ServerKind, how: &str) {
        eprintln!(
            "bench: round {}/{}: {} {} for {} s{how}",
            slot.round + 1,
            self.rounds,
            server.label(),
            slot.workload.label(),
            self.shape.duration.as_secs()
        );
    }

    /// Drives one round of one workload with wrk (after a warm-up in the first round); gives what
    /// wrk measured, the CPU time the measured load took, and the instance's peak memory after it.
    fn measure_round(
        &self,
        process: &Server,
        server: ServerKind,
        port: u16,
        slot: Slot,
        slug: &str,
    ) -> Result<(Load, CpuUse, u64), String> {
        let id = slot.workload;
        let workload = id.workload();
        let script = self.logs.join(format!("{slug}-{}.lua", id.letter()));
        if slot.round == 0 && !self.warmup.is_zero() {
            let warmup = LoadShape {
                duration: self.warmup,
                ..self.shape
            };
            let tag = format!("{}w{}", self.run_tag, id.letter());
            wrk::run(port, &workload, warmup, &tag, &script)?;
        }
        let tag = format!("{}m{}{}", self.run_tag, id.letter(), slot.round);
        let before = process.cpu_now()?;
        let load = wrk::run(port, &workload, self.shape, &tag, &script)?;
        let cpu = CpuUse::between(before, process.cpu_now()?);
        every_answer_expected(server, &load, workload.expected_status)?;
        Ok((load, cpu, process.memory()?.peak_kb))
    }

    /// The latency pass of one round: the round's workload driven as `shape` says (one wrk
    /// thread, the main load's connections and duration).
    fn measure_latency(
        &self,
        server: ServerKind,
        port: u16,
        slot: Slot,
        slug: &str,
        shape: LoadShape,
    ) -> Result<Load, String> {
        let id = slot.workload;
        let workload = id.workload();
        let script = self
            .logs
            .join(format!("{slug}-{}-one-thread.lua", id.letter()));
        let tag = format!("{}l{}{}", self.run_tag, id.letter(), slot.round);
        let load = wrk::run(port, &workload, shape, &tag, &script)?;
        every_answer_expected(server, &load, workload.expected_status)?;
        Ok(load)
    }

    /// Reports an instance's measurements and memory, and stops it.
    fn finish(&mut self, instance: Running) {
        let Running {
            server,
            documents,
            started_with,
            process,
            first_answer,
            samples,
            idle,
            workloads,
            ..
        } = instance;
        for serving in workloads {
            let expected_status = serving.id.workload().expected_status;
            let outcome = match (serving.probed, Load::merged(&serving.rounds)) {
                (Err(why), _) => Outcome::Failed(why),
                (Ok(_), None) => Outcome::Skipped("no round ran".to_owned()),
                (Ok(body_bytes), Some(load)) => Outcome::Done(Figures {
                    load,
                    rounds: serving.rounds,
                    one_thread_rounds: serving.one_thread_rounds,
                    cpu: serving.cpu,
                    expected_status,
                    body_bytes,
                    peak_rss_kb: serving.peak_rss_kb,
                }),
            };
            self.report.measurements.push(Measurement {
                server,
                workload: serving.id,
                outcome,
            });
        }
        let outcome = match (idle, process.memory()) {
            (Ok(idle), Ok(last)) => Outcome::Done(Startup {
                first_answer,
                samples,
                idle_rss_kb: idle.rss_kb,
                peak_rss_kb: last.peak_kb,
            }),
            (Err(why), _) | (_, Err(why)) => Outcome::Failed(why),
        };
        drop(process);
        self.report.instances.push(Instance {
            server,
            documents,
            started_with,
            outcome,
        });
    }

    /// Records workloads that did not run.
    fn skip_measurements(&mut self, server: ServerKind, workloads: &[WorkloadId], why: &Absent) {
        for workload in workloads {
            self.report.measurements.push(Measurement {
                server,
                workload: *workload,
                outcome: why.outcome(),
            });
        }
    }

    /// Adds the notes that explain the workloads and name what was skipped.
    fn add_notes(&mut self, large: &Outcome<assets::LargeSpec>, prism: &Outcome<PathBuf>) {
        let list_bytes = self
            .report
            .figures(ServerKind::Bare, WorkloadId::ListIssues)
            .map(|figures| figures.body_bytes);
        let latency_floor = self.report.latency_floor_note();
        // Each round of the main load is followed by the latency pass unless it has one thread.
        let latency_pass = self.shape.one_thread().is_some();
        let threads = self.shape.threads;
        let notes = &mut self.report.notes;
        notes.push(
            "(a) sends a unique e-mail address per request (`bench-<run>-<thread>-<n>@example.com`, a \
             per-thread counter in the generated wrk Lua script), so every request takes understudy's \
             create path (validation, generation, echo and state) and never its duplicate-address 422; \
             understudy runs with `--max-records 10000` to keep its memory bounded."
                .to_owned(),
        );
        notes.push(
            "(b) sends the same user with `email_address: not-an-email`: the 422 path. (a) and (b) send \
             HTTP Basic credentials, as DeployHQ's security scheme asks."
                .to_owned(),
        );
        notes.push(format!(
            "(c) sends `{}` to a server that loaded the large spec alone.",
            WorkloadId::ListIssues.workload().request.path
        ));
        notes.push(format!(
            "errors: socket errors and timeouts, plus answers outside the expected status class (wrk \
             counts statuses above 399); before the load, {PROBES} probes check the exact status and \
             give the mean body size shown under answer. Any error in a measurement of understudy or bare axum \
             fails the bench: on loopback both answer every request."
        ));
        notes.push(format!(
            "bare axum (`crates/bench-baseline`) parses the JSON body (or the path and query) and \
             answers a fixed body: a DeployHQ-like user for (a), DeployHQ's 422 for (b){}.",
            list_bytes.map_or_else(String::new, |bytes| format!(
                ", a JSON list of {bytes} B (the mean size of understudy's answers) for (c)"
            ))
        ));
        notes.push(format!(
            "Prism is @stoplight/prism-cli {1} run as `prism mock -v silent --dynamic=false` (static \
             mode, logging silenced); it takes one document, so for (a) and (b) it loads \
             {0}/deployhq.yaml alone while understudy loads all of {0}/.",
            self.specs.display(),
            assets::PRISM_VERSION
        ));
        notes.push(
            "idle RSS is VmRSS right after the first answer; peak RSS is VmHWM after the workload \
             (summed over the server's child processes, if any). Start to first answer runs from \
             spawning the process to its first HTTP answer to a polled `GET /`, the median of \
             the starts counted in its column."
                .to_owned(),
        );
        notes.push(format!(
            "wrk and the servers share this machine's {} CPUs, so absolute figures are below what a \
             separate client would see, and the latency tails include time spent waiting for a CPU; \
             the ratios are the figures to compare. {}",
            cpu_count(),
            if latency_pass {
                format!(
                    "The main load uses {threads} wrk threads, which bare axum needs to reach its \
                     most req/s; its tails are then mostly wrk's own threads and the servers' \
                     workers queueing for the CPUs, bare axum's included, so the p99 targets are \
                     judged by the latency pass with one wrk thread (see its section)."
                )
            } else {
                "The main load uses one wrk thread, which may hold bare axum below its most req/s; \
                 there is no latency pass, and the p99 targets are judged by the main load's tails."
                    .to_owned()
            }
        ));
        notes.extend(latency_floor);
        if self.waits.runs > 0 {
            notes.push(self.waits.note_text());
        }
        if let Outcome::Skipped(why) | Outcome::Failed(why) = large {
            notes.push(format!("(c) and the large spec: {why}."));
        }
        if let Outcome::Skipped(why) | Outcome::Failed(why) = prism {
            notes.push(format!("Prism: {why}."));
        }
    }
}

/// Fails a measurement of understudy or the bare baseline in which any request went unanswered or
/// got an answer of another status class than the probe's: on loopback both answer every request,
/// so an error means the wrk script or the server is broken, and the figures would measure the
/// breakage. Prism's errors (timeouts on a large list) are its result and are only reported.
fn every_answer_expected(server: ServerKind, load: &Load, expected: u16) -> Result<(), String> {
    let errors = load.errors(expected);
    if server == ServerKind::Prism || errors == 0 {
        return Ok(());
    }
    Err(format!(
        "{errors} of {} requests failed or were not answered with a status of {expected}'s \
         class ({} socket errors or timeouts, {} answers above 399)",
        load.requests, load.socket_errors, load.status_over_399
    ))
}

/// The mean of `count` sizes that add up to `total`, rounded to the nearest byte.
fn mean_size(total: usize, count: usize) -> usize {
    if count == 0 {
        return 0;
    }
    (total + count / 2) / count
}

/// The median of some durations (zero for none).
fn median(samples: Vec<Duration>) -> Duration {
    median_by(samples, Ord::cmp).unwrap_or_default()
}

/// The median of some values in the order `compare` gives: the upper one of the middle two for
/// an even count, `None` for no values.
fn median_by<T: Copy>(
    mut values: Vec<T>,
    compare: impl FnMut(&T, &T) -> std::cmp::Ordering,
) -> Option<T> {
    values.sort_unstable_by(compare);
    values.get(values.len() / 2).copied()
}

/// The Cargo profile the benchmark builds with: release with fat LTO and one codegen unit
/// (`[profile.perf]` in the workspace's `Cargo.toml`). Its binaries are in `target/perf/`.
const PROFILE: &str = "perf";

/// Builds understudy and the bare baseline with [`PROFILE`].
fn build(root: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("bench: cargo build --profile {PROFILE} -p understudy -p bench-baseline");
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--profile",
            PROFILE,
            "--package",
            "understudy",
            "--package",
            "bench-baseline",
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the {PROFILE} build failed ({status})"))
    }
}

/// The workspace root: the folder above xtask's own.
fn workspace_root() -> Result<PathBuf, String> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "xtask's manifest folder has no parent".to_owned())
}

/// Cargo's target folder: `CARGO_TARGET_DIR` if set, else `target/` in the workspace.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// A tag that makes this run's e-mail addresses unlike any earlier run's.
fn run_tag() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("{:x}", nanos % (1 << 48))
}

/// The machine's load averages over 1, 5 and 15 minutes, from /proc/loadavg.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|averages| !averages.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The CPUs this process may use.
fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The lines that say how the run was made.
fn setup_lines(options: &Options, shape: LoadShape, wrk_version: &str, root: &Path) -> Vec<String> {
    let mode = if options.quick { "quick" } else { "full" };
    let warmup = if options.warmup.is_zero() {
        ", no warm-up".to_owned()
    } else {
        format!(", after a {} s warm-up", options.warmup.as_secs())
    };
    let rounds = match options.rounds {
        1 => format!(
            "{} s of load per server and workload",
            options.round_duration().as_secs()
        ),
        rounds => format!(
            "{rounds} rounds of {} s of load per server and workload, the servers taking turns",
            options.round_duration().as_secs()
        ),
    };
    let commit = Command::new("git")
        .current_dir(root)
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |output| String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        );
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default();
    vec![
        format!(
            "mode: {mode}: {rounds}{warmup}, {} connections, {} wrk threads{}, wrk --timeout 2s",
            options.connections,
            options.threads,
            if shape.one_thread().is_some() {
                ", each round followed by a latency pass as long with one wrk thread"
            } else {
                ""
            }
        ),
        format!(
            "tools: {wrk_version}; Prism @stoplight/prism-cli {}; large spec @octokit/openapi {}",
            assets::PRISM_VERSION,
            assets::OCTOKIT_VERSION
        ),
        format!(
            "machine: {} CPUs, every server on 127.0.0.1; commit {commit} (working tree as built); {date}",
            cpu_count()
        ),
        format!(
            "workers: understudy and bare axum each run {} worker thread(s), their default (one \
             per CPU), each bound to a CPU of its own (`--pin-workers`; unbound, the kernel now and \
             then runs two workers on one CPU for a time slice while wrk has the other, and the \
             waiting worker's requests wait milliseconds); Prism is one Node.js process",
            cpu_count()
        ),
    ]
}

/// A name made safe for a file name.
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(requests: u64, socket_errors: u64, status_over_399: u64) -> Load {
        Load {
            requests,
            duration_us: 1_000_000,
            bytes: 0,
            socket_errors,
            status_over_399,
            p50_us: 1.0,
            p99_us: 2.0,
        }
    }

    #[test]
    fn our_servers_must_answer_every_request_as_expected_and_prism_is_only_reported() {
        for server in [ServerKind::Understudy, ServerKind::Bare] {
            assert_eq!(every_answer_expected(server, &load(100, 0, 0), 201), Ok(()));
            assert_eq!(
                every_answer_expected(server, &load(100, 0, 100), 422),
                Ok(())
            );
            let wrong_class = every_answer_expected(server, &load(100, 0, 3), 201)
                .expect_err("3 answers above 399 to valid creates");
            assert!(wrong_class.contains("3 of 100 requests"), "{wrong_class}");
            let timeouts = every_answer_expected(server, &load(100, 2, 100), 422)
                .expect_err("2 socket errors");
            assert!(timeouts.contains("2 socket errors"), "{timeouts}");
        }
        assert_eq!(
            every_answer_expected(ServerKind::Prism, &load(210, 17, 0), 200),
            Ok(())
        );
    }

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn quick_mode_is_short_and_leaves_out_prism_and_the_download() {
        let options = Options::parse(&args("--quick"))
            .expect("the arguments are valid")
            .expect("not a help request");
        assert_eq!(options.duration, Duration::from_secs(3));
        assert_eq!(options.rounds, 1);
        assert_eq!(options.round_duration(), Duration::from_secs(3));
        assert!(options.warmup.is_zero());
        assert!(!options.prism);
        assert_eq!(options.large, LargeMode::IfPresent);
    }

    #[test]
    fn full_mode_has_prism_the_download_and_32_connections() {
        let options = Options::parse(&[])
            .expect("no arguments are valid")
            .expect("not a help request");
        assert_eq!(options.duration, Duration::from_secs(15));
        assert_eq!(options.rounds, 3);
        assert_eq!(options.round_duration(), Duration::from_secs(5));
        assert_eq!(options.connections, 32);
        assert_eq!(options.threads, 2);
        assert!(options.prism);
        assert_eq!(options.large, LargeMode::Fetch);
        let options = Options::parse(&args("--quick --prism --duration 5 --no-large"))
            .expect("the arguments are valid")
            .expect("not a help request");
        assert!(options.prism);
        assert_eq!(options.duration, Duration::from_secs(5));
        assert_eq!(options.large, LargeMode::Skip);
        assert_eq!(options.specs, PathBuf::from("specs"));
        let options = Options::parse(&args("--specs other/"))
            .expect("the arguments are valid")
            .expect("not a help request");
        assert_eq!(options.specs, PathBuf::from("other"));
    }

    #[test]
    fn rounds_take_every_server_in_turn_before_the_next_round() {
        use WorkloadId::{InvalidCreate as B, ListIssues as C, ValidCreate as A};
        // understudy with specs/, understudy with the large spec, bare axum, Prism: as started.
        let serves = [vec![A, B], vec![C], vec![A, B, C], vec![A, B]];
        let order: Vec<(usize, WorkloadId, usize)> = schedule(&serves, 2)
            .into_iter()
            .map(|slot| (slot.round, slot.workload, slot.instance))
            .collect();
        let round = |r| {
            vec![
                (r, A, 0),
                (r, A, 2),
                (r, A, 3),
                (r, B, 0),
                (r, B, 2),
                (r, B, 3),
                (r, C, 1),
                (r, C, 2),
            ]
        };
        assert_eq!(order, [round(0), round(1)].concat());
        assert!(schedule(&serves, 0).is_empty());
        assert!(schedule(&[], 3).is_empty());
    }

    #[test]
    fn waits_for_quiet_are_summed_up_and_runs_that_never_got_it_are_named() {
        let mut waits = Waits::default();
        waits.note(Ok(Duration::from_millis(250)));
        waits.note(Ok(Duration::from_millis(4250)));
        let text = waits.note_text();
        assert!(text.contains("each of its 2 runs"), "{text}");
        assert!(text.contains("the longest wait was 4.2 s"), "{text}");
        assert!(!text.contains("without the machine going quiet"), "{text}");
        waits.note(Err(Duration::from_secs(61)));
        assert_eq!(waits.not_quiet, 1);
        let text = waits.note_text();
        assert!(text.contains("the longest wait was 61.0 s"), "{text}");
        assert!(
            text.contains("1 run(s) started after 60 s without the machine going quiet"),
            "{text}"
        );
    }

    #[test]
    fn the_probes_give_the_mean_answer_size_rounded() {
        assert_eq!(mean_size(33_383 + 51_777, 2), 42_580);
        assert_eq!(mean_size(10, 4), 3);
        assert_eq!(mean_size(9, 4), 2);
        assert_eq!(mean_size(5, 0), 0);
    }

    #[test]
    fn the_median_start_up_is_the_middle_sample() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(30), ms(10), ms(20)]), ms(20));
        assert_eq!(median(vec![ms(9)]), ms(9));
        assert_eq!(median(Vec::new()), Duration::ZERO);
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(Options::parse(&args("--duration")).is_err());
        assert!(Options::parse(&args("--duration 0")).is_err());
        assert!(Options::parse(&args("--connections 1 --threads 2")).is_err());
        assert!(Options::parse(&args("--rounds 0")).is_err());
        let too_short = Options::parse(&args("--duration 2 --rounds 3"))
            .expect_err("two seconds cannot make three rounds");
        assert!(
            too_short.contains("cannot be split into 3 rounds"),
            "{too_short}"
        );
        let options = Options::parse(&args("--duration 10 --rounds 4"))
            .expect("the arguments are valid")
            .expect("not a help request");
        assert_eq!(options.round_duration(), Duration::from_secs(2));
        assert!(Options::parse(&args("--fast")).is_err());
        assert_eq!(Options::parse(&args("--help")), Ok(None));
    }
}
