//! The bench's findings and their markdown report: figures per server and workload, ratios,
//! start-up and memory per server instance, and the issue's targets met or missed.

use std::fmt::Write as _;
use std::time::Duration;

use super::assets::LargeSpec;
use super::process::CpuUse;
use super::workload::WorkloadId;
use super::wrk::Load;

/// A server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// The `perf` build of `understudy serve`.
    Understudy,
    /// The bare axum baseline (`crates/bench-baseline`).
    Bare,
    /// Stoplight Prism in static mode.
    Prism,
}

impl ServerKind {
    /// Every server, in report order.
    pub const ALL: [Self; 3] = [Self::Understudy, Self::Bare, Self::Prism];

    /// The server's name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Self::Understudy => "understudy",
            Self::Bare => "bare axum",
            Self::Prism => "Prism",
        }
    }
}

/// Which documents a server instance was started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Documents {
    /// The vendor specs, for workloads (a) and (b): `specs/` (Prism, which takes one document,
    /// gets `specs/deployhq.yaml`).
    Vendor,
    /// The large public document, for workload (c).
    Large,
    /// None: the bare baseline knows its routes by heart.
    Builtin,
}

/// How something the bench tried ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// It ran.
    Done(T),
    /// It was not tried, for the reason given.
    Skipped(String),
    /// It was tried and failed, for the reason given.
    Failed(String),
}

impl<T> Outcome<T> {
    /// The value, if it ran.
    pub fn done(&self) -> Option<&T> {
        match self {
            Self::Done(value) => Some(value),
            Self::Skipped(_) | Self::Failed(_) => None,
        }
    }
}

/// One server process started for a set of workloads.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// The server.
    pub server: ServerKind,
    /// What it loaded.
    pub documents: Documents,
    /// How it was started, in words (the documents it was given).
    pub started_with: String,
    /// Its start-up and memory, or why there are none.
    pub outcome: Outcome<Startup>,
}

/// What one server instance took to start and held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Startup {
    /// From spawning the process to its first answer to a tiny HTTP request (the median of
    /// `samples` starts).
    pub first_answer: Duration,
    /// How many starts were timed.
    pub samples: usize,
    /// Resident memory right after that first answer, in kB.
    pub idle_rss_kb: u64,
    /// Peak resident memory over the instance's life, in kB, read after its last workload.
    pub peak_rss_kb: u64,
}

/// One server under one workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The server.
    pub server: ServerKind,
    /// The workload.
    pub workload: WorkloadId,
    /// The figures, or why there are none.
    pub outcome: Outcome<Figures>,
}

/// The figures of one server under one workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// What wrk measured, all rounds merged ([`Load::merged`]).
    pub load: Load,
    /// What wrk measured in each round, in order.
    pub rounds: Vec<Load>,
    /// What the latency pass measured after each round, in order: the same load from one wrk
    /// thread. Empty when the main load already had one thread.
    pub one_thread_rounds: Vec<Load>,
    /// The CPU time of the measured load, all rounds together.
    pub cpu: CpuUse,
    /// The status every answer should have had.
    pub expected_status: u16,
    /// The mean body size of the probes' answers.
    pub body_bytes: usize,
    /// The instance's peak resident memory after this workload, in kB.
    pub peak_rss_kb: u64,
}

impl Figures {
    /// What the latency pass measured, its rounds merged ([`Load::merged`]); `None` without a
    /// pass.
    pub fn one_thread(&self) -> Option<Load> {
        Load::merged(&self.one_thread_rounds)
    }
}

/// Everything one bench run found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// Lines that say how the run was made (mode, tools, machine).
    pub setup: Vec<String>,
    /// The connection count of the load.
    pub connections: u32,
    /// The wrk threads of the main load.
    pub threads: u32,
    /// The machine's CPUs, which wrk and the servers share.
    pub cpus: usize,
    /// The clock tick /proc counts CPU time in.
    pub clock_tick: Duration,
    /// The server instances started.
    pub instances: Vec<Instance>,
    /// The figures per server and workload.
    pub measurements: Vec<Measurement>,
    /// The large public document, if it was there.
    pub large_spec: Option<LargeSpec>,
    /// Remarks for the reader: how the workloads were made, what was skipped and why.
    pub notes: Vec<String>,
}

/// One of the issue's targets, checked against this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The target, in words.
    pub goal: String,
    /// This run's figure.
    pub figure: String,
    /// Bare axum's figure on the same measure, where it has one: what the HTTP stack alone reaches
    /// on this machine, so a reader can tell a missed target from a machine that cannot meet it.
    pub bare: Option<String>,
    /// Whether the figure meets the goal; `None` when this run cannot say.
    pub met: Option<bool>,
}

impl Report {
    /// The figures of `server` under `workload`, if it ran.
    pub fn figures(&self, server: ServerKind, workload: WorkloadId) -> Option<&Figures> {
        self.measurements
            .iter()
            .find(|m| m.server == server && m.workload == workload)
            .and_then(|m| m.outcome.done())
    }

    /// The start-up of `server` with `documents`, if it started.
    pub fn startup(&self, server: ServerKind, documents: Documents) -> Option<&Startup> {
        self.instances
            .iter()
            .find(|i| i.server == server && i.documents == documents)
            .and_then(|i| i.outcome.done())
    }

    /// Every failure, in words.
    pub fn failures(&self) -> Vec<String> {
        let instances = self.instances.iter().filter_map(|i| match &i.outcome {
            Outcome::Failed(why) => {
                Some(format!("{} ({}): {why}", i.server.label(), i.started_with))
            }
            _ => None,
        });
        let measurements = self.measurements.iter().filter_map(|m| match &m.outcome {
            Outcome::Failed(why) => Some(format!(
                "{} {}: {why}",
                m.server.label(),
                m.workload.label()
            )),
            _ => None,
        });
        instances.chain(measurements).collect()
    }

    /// understudy's requests per second over `baseline`'s under `workload`.
    pub fn rps_ratio(&self, baseline: ServerKind, workload: WorkloadId) -> Option<f64> {
        self.rps_over(ServerKind::Understudy, baseline, workload)
    }

    /// `server`'s requests per second over `baseline`'s under `workload`.
    pub fn rps_over(
        &self,
        server: ServerKind,
        baseline: ServerKind,
        workload: WorkloadId,
    ) -> Option<f64> {
        let ours = self.figures(server, workload)?.load.rps();
        let theirs = self.figures(baseline, workload)?.load.rps();
        ratio(ours, theirs)
    }

    /// Whether any measurement had a latency pass (one wrk thread after a main load of more).
    pub fn has_latency_pass(&self) -> bool {
        self.measurements
            .iter()
            .filter_map(|m| m.outcome.done())
            .any(|figures| !figures.one_thread_rounds.is_empty())
    }

    /// The load `server`'s latency under `workload` is judged by: the latency pass's, with one
    /// wrk thread, when there was one; the main load's otherwise.
    pub fn latency_load(&self, server: ServerKind, workload: WorkloadId) -> Option<Load> {
        let figures = self.figures(server, workload)?;
        Some(figures.one_thread().unwrap_or(figures.load))
    }

    /// understudy's p99 latency over `baseline`'s under `workload`.
    pub fn p99_ratio(&self, baseline: ServerKind, workload: WorkloadId) -> Option<f64> {
        let ours = self.figures(ServerKind::Understudy, workload)?.load.p99_us;
        let theirs = self.figures(baseline, workload)?.load.p99_us;
        ratio(ours, theirs)
    }

    /// The issue's targets, checked against this run.
    pub fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        let valid = WorkloadId::ValidCreate;
        let bare = self.rps_ratio(ServerKind::Bare, valid);
        targets.push(Target {
            goal: "(a) req/s ≥ 50% of bare axum".to_owned(),
            figure: bare.map_or_else(not_measured, |r| format!("{:.0}%", r * 100.0)),
            bare: None,
            met: bare.map(|r| r >= 0.5),
        });
        let prism = self.rps_ratio(ServerKind::Prism, valid);
        let bare_over_prism = self.rps_over(ServerKind::Bare, ServerKind::Prism, valid);
        targets.push(Target {
            goal: "(a) req/s ≥ 20× Prism".to_owned(),
            figure: prism.map_or_else(not_measured, |r| format!("{r:.1}×")),
            bare: bare_over_prism.map(|r| format!("{r:.1}×")),
            met: prism.map(|r| r >= 20.0),
        });
        for workload in WorkloadId::ALL {
            let at_32 = self.connections == 32;
            let ours = self.figures(ServerKind::Understudy, workload);
            let p99 = self
                .latency_load(ServerKind::Understudy, workload)
                .map(|load| load.p99_us);
            let bare_p99 = self
                .latency_load(ServerKind::Bare, workload)
                .map(|load| millis(load.p99_us));
            targets.push(Target {
                goal: format!("({}) p99 ≤ 2 ms at 32 connections", workload.letter()),
                figure: p99.map_or_else(not_measured, |us| {
                    let mut figure = millis(us);
                    // Said only of a measurement that had its pass: one whose pass did not run
                    // is judged by its main load, and its figure says nothing more.
                    if let Some(main) = ours.filter(|f| !f.one_thread_rounds.is_empty()) {
                        figure = format!(
                            "{figure} with one wrk thread ({} with {})",
                            millis(main.load.p99_us),
                            self.threads
                        );
                    }
                    if !at_32 {
                        figure = format!("{figure} at {} connections", self.connections);
                    }
                    figure
                }),
                bare: bare_p99,
                met: p99.filter(|_| at_32).map(|us| us <= 2000.0),
            });
        }
        let vendor = self.startup(ServerKind::Understudy, Documents::Vendor);
        let bare_startup = self.startup(ServerKind::Bare, Documents::Builtin);
        targets.push(Target {
            goal: "start-up to first answer with specs/ ≤ 50 ms".to_owned(),
            figure: vendor.map_or_else(not_measured, |s| duration(s.first_answer)),
            bare: bare_startup.map(|s| duration(s.first_answer)),
            met: vendor.map(|s| s.first_answer <= Duration::from_millis(50)),
        });
        targets.push(Target {
            goal: "idle RSS with specs/ ≤ 15 MB".to_owned(),
            figure: vendor.map_or_else(not_measured, |s| megabytes(s.idle_rss_kb)),
            bare: bare_startup.map(|s| megabytes(s.idle_rss_kb)),
            met: vendor.map(|s| s.idle_rss_kb <= 15 * 1024),
        });
        let large = self.startup(ServerKind::Understudy, Documents::Large);
        targets.push(Target {
            goal: "the large spec loads (start-up to first answer) in ≤ 2 s".to_owned(),
            figure: large.map_or_else(not_measured, |s| duration(s.first_answer)),
            bare: None,
            met: large.map(|s| s.first_answer <= Duration::from_secs(2)),
        });
        targets
    }

    /// The report as markdown.
    pub fn render(&self) -> String {
        let mut md = String::from("# understudy benchmark\n\n");
        for line in &self.setup {
            let _ = writeln!(md, "- {line}");
        }

        md.push_str("\n## Throughput and latency\n\n");
        md.push_str("| workload | server | req/s | p50 | p99 | errors | answer | peak RSS |\n");
        md.push_str("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |\n");
        for workload in WorkloadId::ALL {
            for server in ServerKind::ALL {
                let Some(measurement) = self
                    .measurements
                    .iter()
                    .find(|m| m.server == server && m.workload == workload)
                else {
                    continue;
                };
                let cells = match &measurement.outcome {
                    Outcome::Done(f) => format!(
                        "{} | {} | {} | {} of {} | {}, {} B | {}",
                        grouped(f.load.rps()),
                        millis(f.load.p50_us),
                        millis(f.load.p99_us),
                        f.load.errors(f.expected_status),
                        f.load.requests,
                        f.expected_status,
                        f.body_bytes,
                        megabytes(f.peak_rss_kb)
                    ),
                    Outcome::Skipped(why) => format!("skipped: {} | | | | |", cell(why)),
                    Outcome::Failed(why) => format!("**failed**: {} | | | | |", cell(why)),
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {cells} |",
                    workload.label(),
                    server.label()
                );
            }
        }

        md.push_str("\n## Ratios\n\n");
        md.push_str("| workload | req/s understudy/bare | req/s understudy/Prism | p99 understudy/bare | p99 understudy/Prism |\n");
        md.push_str("| --- | ---: | ---: | ---: | ---: |\n");
        for workload in WorkloadId::ALL {
            let show = |r: Option<f64>| r.map_or_else(|| "n/a".to_owned(), ratio_text);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                workload.label(),
                show(self.rps_ratio(ServerKind::Bare, workload)),
                show(self.rps_ratio(ServerKind::Prism, workload)),
                show(self.p99_ratio(ServerKind::Bare, workload)),
                show(self.p99_ratio(ServerKind::Prism, workload)),
            );
        }

        self.render_latency_pass(&mut md);
        self.render_rounds(&mut md);
        self.render_cpu(&mut md);

        md.push_str("\n## Start-up and memory\n\n");
        md.push_str("| server | started with | start to first answer | idle RSS | peak RSS |\n");
        md.push_str("| --- | --- | ---: | ---: | ---: |\n");
        for instance in &self.instances {
            let cells = match &instance.outcome {
                Outcome::Done(s) => format!(
                    "{} (median of {}) | {} | {}",
                    duration(s.first_answer),
                    s.samples,
                    megabytes(s.idle_rss_kb),
                    megabytes(s.peak_rss_kb)
                ),
                Outcome::Skipped(why) => format!("skipped: {} | |", cell(why)),
                Outcome::Failed(why) => format!("**failed**: {} | |", cell(why)),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {cells} |",
                instance.server.label(),
                cell(&instance.started_with)
            );
        }
        if let Some(spec) = &self.large_spec {
            let _ = writeln!(
                md,
                "\nThe large spec: `{}`, OpenAPI {}, {:.1} MB, {} operations.",
                spec.path
                    .file_name()
                    .map_or_else(String::new, |name| name.to_string_lossy().into_owned()),
                spec.openapi,
                spec.bytes as f64 / 1e6,
                spec.operations
            );
        }

        md.push_str(
            "\n## Targets\n\n| target | this run | met | bare axum, same measure |\n\
             | --- | ---: | --- | ---: |\n",
        );
        for target in self.targets() {
            let met = match target.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "n/a",
            };
            let bare = target.bare.as_deref().unwrap_or("");
            let _ = writeln!(
                md,
                "| {} | {} | {met} | {bare} |",
                target.goal, target.figure
            );
        }

        if !self.notes.is_empty() {
            md.push_str("\n## Notes\n\n");
            for note in &self.notes {
                let _ = writeln!(md, "- {note}");
            }
        }
        md
    }

    /// `server`'s CPU time per request under `workload`, in microseconds: its own, and the rest
    /// of the machine's (wrk, mostly).
    pub fn cpu_per_request(&self, server: ServerKind, workload: WorkloadId) -> Option<(f64, f64)> {
        let figures = self.figures(server, workload)?;
        figures
            .cpu
            .per_request(figures.load.requests, self.clock_tick)
    }

    /// The part of `server`'s own CPU time per request of `workload` spent in the kernel, in
    /// microseconds.
    pub fn system_per_request(&self, server: ServerKind, workload: WorkloadId) -> Option<f64> {
        let figures = self.figures(server, workload)?;
        figures
            .cpu
            .system_per_request(figures.load.requests, self.clock_tick)
    }

    /// How often `server`'s threads were switched out per thousand requests of `workload`:
    /// involuntarily (preempted) and voluntarily (waiting).
    pub fn switches_per_thousand(
        &self,
        server: ServerKind,
        workload: WorkloadId,
    ) -> Option<(f64, f64)> {
        let figures = self.figures(server, workload)?;
        figures.cpu.switches_per_thousand(figures.load.requests)
    }

    /// How many times more CPU time `baseline` spends on a request of `workload` than understudy.
    pub fn cpu_ratio(&self, baseline: ServerKind, workload: WorkloadId) -> Option<f64> {
        let (ours, _) = self.cpu_per_request(ServerKind::Understudy, workload)?;
        let (theirs, _) = self.cpu_per_request(baseline, workload)?;
        ratio(theirs, ours)
    }

    /// The CPU time each server spends per request, which does not depend on how much of the
    /// machine wrk takes, and what the rest of the machine spends (the load generator, mostly).
    fn render_cpu(&self, md: &mut String) {
        let mut rows = String::new();
        for workload in WorkloadId::ALL {
            for server in ServerKind::ALL {
                let Some((own, rest)) = self.cpu_per_request(server, workload) else {
                    continue;
                };
                let versus = match server {
                    ServerKind::Understudy => String::new(),
                    baseline => self
                        .cpu_ratio(baseline, workload)
                        .map_or_else(String::new, ratio_text),
                };
                let system = self
                    .system_per_request(server, workload)
                    .map_or_else(String::new, |system| format!("{system:.1}"));
                let switches = self
                    .switches_per_thousand(server, workload)
                    .map_or_else(String::new, |(involuntary, voluntary)| {
                        format!("{involuntary:.0} / {voluntary:.0}")
                    });
                let _ = writeln!(
                    rows,
                    "| {} | {} | {own:.1} | {system} | {rest:.1} | {versus} | {switches} |",
                    workload.label(),
                    server.label()
                );
            }
        }
        if rows.is_empty() {
            return;
        }
        let tick_ms = self.clock_tick.as_secs_f64() * 1e3;
        let _ = write!(
            md,
            "\n## CPU per request\n\nCPU time (user and system) from /proc during the measured \
             load, counted in {tick_ms:.0} ms ticks, divided by the requests answered. A server's own \
             time per request does not depend on the share of the CPUs wrk takes, so its ratio is \
             steadier than the req/s ratio. The context switches are the server's threads' \
             (/proc/<pid>/task/*/status): involuntary ones took a thread off a CPU while it could \
             still run (a wrk thread that woke up, mostly), each costing the server a switch and \
             its caches, and holding up the requests queued on that thread; voluntary ones are \
             waits. The server's system time is the part of its own spent in the kernel: servers \
             that make the same system calls per request differ there too, by how often wrk \
             has to be woken for their answers and how often they are switched out.\n\n\
             | workload | server | server µs/request | of which system | rest of the machine µs/request | server µs/request, this/understudy | server context switches per 1000 requests, involuntary / voluntary |\n\
             | --- | --- | ---: | ---: | ---: | ---: | ---: |\n{rows}"
        );
    }

    /// `server`'s mean latency under `workload` in microseconds, as Little's law gives it for a
    /// load that keeps every connection busy: connections over requests per second.
    pub fn mean_latency_us(&self, server: ServerKind, workload: WorkloadId) -> Option<f64> {
        let rps = self.figures(server, workload)?.load.rps();
        (rps > 0.0).then(|| f64::from(self.connections) * 1e6 / rps)
    }

    /// The note that says what the p99 target asks of throughput: with every connection busy,
    /// the mean latency is set by req/s, and the p99 cannot be below it.
    pub fn latency_floor_note(&self) -> Option<String> {
        let means: Vec<String> = WorkloadId::ALL
            .iter()
            .filter_map(|workload| {
                let mean = self.mean_latency_us(ServerKind::Understudy, *workload)?;
                Some(format!("{} ({})", millis(mean), workload.letter()))
            })
            .collect();
        if means.is_empty() {
            return None;
        }
        let connections = self.connections;
        Some(format!(
            "wrk keeps all {connections} connections busy, so a server's mean latency is \
             {connections} / its req/s (Little's law) and its p99 lies above that mean: a p99 of \
             at most 2 ms needs more than {} req/s. understudy's means in this run: {}.",
            grouped(f64::from(connections) * 1e6 / 2_000.0),
            means.join(", ")
        ))
    }

    /// The most rounds any measurement has.
    pub fn rounds(&self) -> usize {
        self.measurements
            .iter()
            .filter_map(|m| m.outcome.done())
            .map(|figures| figures.rounds.len())
            .max()
            .unwrap_or(0)
    }

    /// What wrk measured of `server` in round `round` (from 0) under `workload`.
    fn round_load(&self, server: ServerKind, workload: WorkloadId, round: usize) -> Option<&Load> {
        self.figures(server, workload)?.rounds.get(round)
    }

    /// What the latency pass measured of `server` after round `round` under `workload`.
    fn round_one_thread(
        &self,
        server: ServerKind,
        workload: WorkloadId,
        round: usize,
    ) -> Option<&Load> {
        self.figures(server, workload)?.one_thread_rounds.get(round)
    }

    /// The latency pass, if there was one: each server's req/s and latencies under the same 32
    /// connections from one wrk thread, beside its req/s and p99 under the main load.
    fn render_latency_pass(&self, md: &mut String) {
        if !self.has_latency_pass() {
            return;
        }
        let threads = self.threads;
        let connections = self.connections;
        let _ = write!(
            md,
            "\n## Latency with one wrk thread\n\nThe p99 targets are judged here. After each \
             round of the main load, the same server gets the same {connections} connections \
             from one wrk thread for as long: each connection sends its next request as soon \
             as wrk has read the answer to the last, as under the main load (the req/s the \
             server carried is below, as a share of the main load's), but wrk no longer runs {threads} \
             threads beside the server's workers on the machine's {cpus} CPUs, so less of the \
             tail is time a wrk thread spent waiting for a CPU before it read an answer that \
             was already there.\n\n\
             | workload | server | req/s | of its req/s with {threads} threads | p50 | p99 | p99 with {threads} threads |\n\
             | --- | --- | ---: | ---: | ---: | ---: | ---: |\n",
            cpus = self.cpus,
        );
        for workload in WorkloadId::ALL {
            for server in ServerKind::ALL {
                let Some(figures) = self.figures(server, workload) else {
                    continue;
                };
                let Some(one) = figures.one_thread() else {
                    continue;
                };
                let share = ratio(one.rps(), figures.load.rps())
                    .map_or_else(String::new, |r| format!("{:.0}%", r * 100.0));
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {share} | {} | {} | {} |",
                    workload.label(),
                    server.label(),
                    grouped(one.rps()),
                    millis(one.p50_us),
                    millis(one.p99_us),
                    millis(figures.load.p99_us),
                );
            }
        }
    }

    /// Each round's requests per second, understudy's ratios and the p99s of understudy and bare
    /// axum, when there was more than one: how far the machine moved during the run, and how far
    /// the ratios and the tails moved with it.
    fn render_rounds(&self, md: &mut String) {
        let rounds = self.rounds();
        if rounds < 2 {
            return;
        }
        let pass = self.has_latency_pass();
        let _ = write!(
            md,
            "\n## Rounds\n\nThe {rounds} rounds measure every server under one workload in turn, \
             so a machine that slows down during the run slows each server alike; the figures \
             above add the rounds up (latencies: the median round).\n\n\
             | workload | round | understudy req/s | bare axum req/s | Prism req/s | understudy/bare | understudy/Prism | understudy p99 | bare axum p99 |{}\n\
             | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |{}\n",
            if pass {
                " understudy p99, one wrk thread | bare axum p99, one wrk thread |"
            } else {
                ""
            },
            if pass { " ---: | ---: |" } else { "" },
        );
        for workload in WorkloadId::ALL {
            for round in 0..rounds {
                let rps = |server| Some(self.round_load(server, workload, round)?.rps());
                let p99 = |load: Option<&Load>| load.map_or_else(String::new, |l| millis(l.p99_us));
                let ours = rps(ServerKind::Understudy);
                if ours.is_none() {
                    continue;
                }
                let show = |value: Option<f64>| value.map_or_else(String::new, grouped);
                let over = |server| {
                    ours.zip(rps(server))
                        .and_then(|(ours, theirs)| ratio(ours, theirs))
                        .map_or_else(String::new, ratio_text)
                };
                let pass_cells = if pass {
                    format!(
                        " {} | {} |",
                        p99(self.round_one_thread(ServerKind::Understudy, workload, round)),
                        p99(self.round_one_thread(ServerKind::Bare, workload, round))
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |{pass_cells}",
                    workload.label(),
                    round + 1,
                    show(ours),
                    show(rps(ServerKind::Bare)),
                    show(rps(ServerKind::Prism)),
                    over(ServerKind::Bare),
                    over(ServerKind::Prism),
                    p99(self.round_load(ServerKind::Understudy, workload, round)),
                    p99(self.round_load(ServerKind::Bare, workload, round)),
                );
            }
        }
    }
}

/// `ours / theirs`, if `theirs` is not zero.
pub fn ratio(ours: f64, theirs: f64) -> Option<f64> {
    (theirs > 0.0 && ours.is_finite()).then(|| ours / theirs)
}

/// A ratio with about three significant digits.
fn ratio_text(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 10.0 {
        format!("{r:.1}")
    } else if r >= 0.1 {
        format!("{r:.2}")
    } else {
        format!("{r:.4}")
    }
}

/// Microseconds as milliseconds with two decimals.
fn millis(us: f64) -> String {
    format!("{:.2} ms", us / 1000.0)
}

/// A duration in milliseconds below ten seconds, in seconds above.
fn duration(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// kB as MB with one decimal.
fn megabytes(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

/// A count rounded to a whole number, its thousands separated by thin spaces.
fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(digit);
    }
    out
}

/// Text made safe for one markdown table cell.
fn cell(text: &str) -> String {
    text.lines().next().unwrap_or_default().replace('|', "\\|")
}

/// The figure shown for a target this run could not measure.
fn not_measured() -> String {
    "not measured".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(rps: u64, p99_us: f64, expected_status: u16) -> Outcome<Figures> {
        let load = Load {
            requests: rps * 10,
            duration_us: 10_000_000,
            bytes: rps * 10 * 300,
            socket_errors: 0,
            status_over_399: if expected_status > 399 { rps * 10 } else { 0 },
            p50_us: p99_us / 3.0,
            p99_us,
        };
        Outcome::Done(Figures {
            load,
            rounds: vec![load],
            one_thread_rounds: Vec::new(),
            // One CPU busy with the server for the 10 s, so 1 000 000 / rps µs a request, and the
            // rest of the machine busy for half of that.
            cpu: CpuUse {
                server_ticks: 1_000,
                server_system_ticks: 600,
                machine_ticks: 1_500,
                involuntary_switches: rps * 3,
                voluntary_switches: rps / 2,
            },
            expected_status,
            body_bytes: 250,
            peak_rss_kb: 12_000,
        })
    }

    fn sample() -> Report {
        let valid = WorkloadId::ValidCreate;
        Report {
            setup: vec!["mode: full".to_owned()],
            connections: 32,
            threads: 2,
            cpus: 2,
            clock_tick: Duration::from_millis(10),
            instances: vec![
                Instance {
                    server: ServerKind::Understudy,
                    documents: Documents::Vendor,
                    started_with: "specs/".to_owned(),
                    outcome: Outcome::Done(Startup {
                        first_answer: Duration::from_millis(12),
                        samples: 5,
                        idle_rss_kb: 9 * 1024,
                        peak_rss_kb: 14 * 1024,
                    }),
                },
                Instance {
                    server: ServerKind::Understudy,
                    documents: Documents::Large,
                    started_with: "api.github.com.json".to_owned(),
                    outcome: Outcome::Skipped("not downloaded".to_owned()),
                },
            ],
            measurements: vec![
                Measurement {
                    server: ServerKind::Understudy,
                    workload: valid,
                    outcome: figures(60_000, 1500.0, 201),
                },
                Measurement {
                    server: ServerKind::Bare,
                    workload: valid,
                    outcome: figures(100_000, 500.0, 201),
                },
                Measurement {
                    server: ServerKind::Prism,
                    workload: valid,
                    outcome: figures(2_000, 30_000.0, 201),
                },
                Measurement {
                    server: ServerKind::Understudy,
                    workload: WorkloadId::InvalidCreate,
                    outcome: figures(70_000, 2500.0, 422),
                },
                Measurement {
                    server: ServerKind::Prism,
                    workload: WorkloadId::ListIssues,
                    outcome: Outcome::Failed("exited | early".to_owned()),
                },
            ],
            large_spec: None,
            notes: vec!["(a) sends a unique e-mail address per request".to_owned()],
        }
    }

    #[test]
    fn ratios_compare_understudy_with_each_baseline() {
        let report = sample();
        let valid = WorkloadId::ValidCreate;
        let bare = report.rps_ratio(ServerKind::Bare, valid).expect("both ran");
        assert!((bare - 0.6).abs() < 1e-9);
        let prism = report
            .rps_ratio(ServerKind::Prism, valid)
            .expect("both ran");
        assert!((prism - 30.0).abs() < 1e-9);
        let p99 = report.p99_ratio(ServerKind::Bare, valid).expect("both ran");
        assert!((p99 - 3.0).abs() < 1e-9);
        assert_eq!(
            report.rps_ratio(ServerKind::Bare, WorkloadId::ListIssues),
            None
        );
        assert_eq!(ratio(1.0, 0.0), None);
    }

    #[test]
    fn targets_are_checked_against_the_figures() {
        let targets = sample().targets();
        let target = |goal: &str| {
            targets
                .iter()
                .find(|t| t.goal.starts_with(goal))
                .unwrap_or_else(|| panic!("no target {goal}"))
        };
        let met = |goal: &str| target(goal).met;
        assert_eq!(met("(a) req/s ≥ 50%"), Some(true));
        assert_eq!(met("(a) req/s ≥ 20×"), Some(true));
        assert_eq!(met("(a) p99"), Some(true));
        assert_eq!(met("(b) p99"), Some(false));
        assert_eq!(met("(c) p99"), None);
        assert_eq!(met("start-up"), Some(true));
        assert_eq!(met("idle RSS"), Some(true));
        assert_eq!(met("the large spec"), None);
        let bare = |goal: &str| target(goal).bare.clone();
        // Bare axum's own figures on the same measure: 100 000 req/s against Prism's 2 000, and
        // its p99 where it ran; none where the measure has no bare counterpart.
        assert_eq!(bare("(a) req/s ≥ 20×").as_deref(), Some("50.0×"));
        assert_eq!(bare("(a) p99").as_deref(), Some("0.50 ms"));
        assert_eq!(bare("(b) p99"), None);
        assert_eq!(bare("(a) req/s ≥ 50%"), None);
        assert_eq!(bare("the large spec"), None);
    }

    /// The sample with a latency pass: each server's (a) and understudy's (b) measured again with
    /// one wrk thread, at `share` of the main load's req/s and with p99 `p99_us`.
    fn with_latency_pass(mut report: Report, share: f64, p99_us: f64) -> Report {
        for measurement in &mut report.measurements {
            if let Outcome::Done(figures) = &mut measurement.outcome {
                let main = figures.load;
                let one = Load {
                    requests: (main.requests as f64 * share) as u64,
                    p50_us: main.p50_us,
                    p99_us,
                    ..main
                };
                figures.one_thread_rounds = vec![one];
            }
        }
        report
    }

    #[test]
    fn with_a_latency_pass_the_p99_targets_are_judged_by_it_and_say_the_main_loads_p99() {
        // The main load's p99s are 1.5 ms for (a) and 2.5 ms for (b); the pass's are 1.9 ms.
        let report = with_latency_pass(sample(), 0.95, 1_900.0);
        assert!(report.has_latency_pass());
        let targets = report.targets();
        let target = |goal: &str| {
            targets
                .iter()
                .find(|t| t.goal.starts_with(goal))
                .unwrap_or_else(|| panic!("no target {goal}"))
        };
        assert_eq!(target("(b) p99").met, Some(true));
        assert_eq!(
            target("(b) p99").figure,
            "1.90 ms with one wrk thread (2.50 ms with 2)"
        );
        assert_eq!(target("(a) p99").bare.as_deref(), Some("1.90 ms"));
        assert_eq!(target("(c) p99").met, None);
        // Throughput is still the main load's.
        let bare = report
            .rps_ratio(ServerKind::Bare, WorkloadId::ValidCreate)
            .expect("both ran");
        assert!((bare - 0.6).abs() < 1e-9);

        // A workload whose pass did not run is judged by its main load, and says so by not
        // naming a pass.
        let mut partial = with_latency_pass(sample(), 0.95, 1_900.0);
        for measurement in &mut partial.measurements {
            if measurement.workload == WorkloadId::InvalidCreate
                && let Outcome::Done(figures) = &mut measurement.outcome
            {
                figures.one_thread_rounds.clear();
            }
        }
        let partial_targets = partial.targets();
        let partial_b = partial_targets
            .iter()
            .find(|t| t.goal.starts_with("(b) p99"))
            .expect("a (b) p99 target");
        assert_eq!(partial_b.figure, "2.50 ms");
        assert_eq!(partial_b.met, Some(false));

        let slower = with_latency_pass(sample(), 0.95, 2_100.0);
        assert_eq!(
            slower
                .targets()
                .iter()
                .find(|t| t.goal.starts_with("(a) p99"))
                .and_then(|t| t.met),
            Some(false)
        );
    }

    #[test]
    fn the_latency_pass_has_its_section_only_when_it_ran() {
        assert!(!sample().render().contains("## Latency with one wrk thread"));
        let md = with_latency_pass(sample(), 0.95, 1_900.0).render();
        assert!(md.contains("## Latency with one wrk thread"), "{md}");
        assert!(
            md.contains("| (a) valid POST /users | understudy | 57\u{2009}000 | 95% | 0.50 ms | 1.90 ms | 1.50 ms |"),
            "{md}"
        );
        assert!(
            md.contains("| (b) invalid POST /users | understudy | 66\u{2009}500 | 95% | 0.83 ms | 1.90 ms | 2.50 ms |"),
            "{md}"
        );
        assert!(md.contains("| (b) p99 ≤ 2 ms at 32 connections | 1.90 ms with one wrk thread (2.50 ms with 2) | yes |"), "{md}");
    }

    #[test]
    fn the_markdown_report_holds_the_figures_ratios_and_failures() {
        let report = sample();
        let md = report.render();
        assert!(md.starts_with("# understudy benchmark\n"));
        assert!(md.contains(
            "| (a) valid POST /users | understudy | 60\u{2009}000 | 0.50 ms | 1.50 ms | 0 of 600000 | 201, 250 B | 11.7 MB |"
        ));
        assert!(md.contains("| (b) invalid POST /users | understudy | 70\u{2009}000 | 0.83 ms | 2.50 ms | 0 of 700000 | 422, 250 B | 11.7 MB |"));
        assert!(md.contains("| (a) valid POST /users | 0.60 | 30.0 | 3.00 | 0.0500 |"));
        assert!(md.contains("| understudy | specs/ | 12.0 ms (median of 5) | 9.0 MB | 14.0 MB |"));
        assert!(md.contains("| understudy | api.github.com.json | skipped: not downloaded | | |"));
        assert!(md.contains("**failed**: exited \\| early"));
        assert!(md.contains("| (b) p99 ≤ 2 ms at 32 connections | 2.50 ms | **no** |  |"));
        assert!(md.contains("| (a) req/s ≥ 20× Prism | 30.0× | yes | 50.0× |"));
        assert!(md.contains(
            "| target | this run | met | bare axum, same measure |\n| --- | ---: | --- | ---: |\n"
        ));
        assert_eq!(report.failures().len(), 1);
    }

    #[test]
    fn cpu_time_per_request_is_shown_for_each_server_with_its_ratio() {
        let mut report = sample();
        let (own, rest) = report
            .cpu_per_request(ServerKind::Understudy, WorkloadId::ValidCreate)
            .expect("measured");
        assert!((own - 16.666).abs() < 0.01, "{own}");
        assert!((rest - 8.333).abs() < 0.01, "{rest}");
        let system = report.system_per_request(ServerKind::Understudy, WorkloadId::ValidCreate);
        assert!(
            system.is_some_and(|s| (s - 10.0).abs() < 0.01),
            "{system:?}"
        );
        let prism = report.cpu_ratio(ServerKind::Prism, WorkloadId::ValidCreate);
        assert!(prism.is_some_and(|r| (r - 30.0).abs() < 1e-9), "{prism:?}");
        let md = report.render();
        assert!(md.contains("## CPU per request"), "{md}");
        assert!(md.contains("counted in 10 ms ticks"));
        assert!(
            md.contains("| (a) valid POST /users | understudy | 16.7 | 10.0 | 8.3 |  | 300 / 50 |"),
            "{md}"
        );
        assert!(md.contains(
            "| (a) valid POST /users | bare axum | 10.0 | 6.0 | 5.0 | 0.60 | 300 / 50 |"
        ));
        assert!(md.contains(
            "| (a) valid POST /users | Prism | 500.0 | 300.0 | 250.0 | 30.0 | 300 / 50 |"
        ));
        assert!(md.contains("| of which system |"));
        assert!(md.contains("involuntary / voluntary |"));
        // A failed measurement has no row.
        let section = md
            .split("## CPU per request")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap_or_default();
        assert!(
            section.contains(
                "| (b) invalid POST /users | understudy | 14.3 | 8.6 | 7.1 |  | 300 / 50 |"
            )
        );
        assert!(!section.contains("(c) GET"), "{section}");

        for measurement in &mut report.measurements {
            if let Outcome::Done(figures) = &mut measurement.outcome {
                figures.cpu = CpuUse::default();
                figures.load.requests = 0;
            }
        }
        assert!(!report.render().contains("## CPU per request"));
    }

    #[test]
    fn the_latency_floor_follows_from_the_connections_and_the_rate() {
        let mut report = sample();
        let mean = report.mean_latency_us(ServerKind::Understudy, WorkloadId::ValidCreate);
        assert!(
            mean.is_some_and(|us| (us - 533.33).abs() < 0.01),
            "{mean:?}"
        );
        let note = report
            .latency_floor_note()
            .expect("understudy was measured");
        assert!(note.contains("32 / its req/s"), "{note}");
        assert!(note.contains("more than 16\u{2009}000 req/s"), "{note}");
        assert!(note.contains("0.53 ms (a), 0.46 ms (b)"), "{note}");
        report
            .measurements
            .retain(|m| m.server != ServerKind::Understudy);
        assert_eq!(report.latency_floor_note(), None);
    }

    /// `report` with two rounds of (a) on every server, the machine slowed down by half in the
    /// second; with a latency pass after each whose p99 is `pass_p99_us`, if given.
    fn with_two_rounds_of_a(mut report: Report, pass_p99_us: Option<f64>) -> Report {
        let round = |rps: u64| Load {
            requests: rps * 5,
            duration_us: 5_000_000,
            bytes: 0,
            socket_errors: 0,
            status_over_399: 0,
            p50_us: 100.0,
            // The tail grows as the rate falls.
            p99_us: 1e7 / rps as f64,
        };
        for (server, first) in [
            (ServerKind::Understudy, 60_000),
            (ServerKind::Bare, 100_000),
            (ServerKind::Prism, 2_000),
        ] {
            let measurement = report
                .measurements
                .iter_mut()
                .find(|m| m.server == server && m.workload == WorkloadId::ValidCreate)
                .expect("the sample measures (a) on every server");
            let rounds = vec![round(first), round(first / 2)];
            let one_thread_rounds: Vec<Load> = pass_p99_us
                .map(|p99_us| rounds.iter().map(|r| Load { p99_us, ..*r }).collect())
                .unwrap_or_default();
            measurement.outcome = Outcome::Done(Figures {
                load: Load::merged(&rounds).expect("two rounds"),
                rounds,
                one_thread_rounds,
                cpu: CpuUse::default(),
                expected_status: 201,
                body_bytes: 250,
                peak_rss_kb: 12_000,
            });
        }
        report
    }

    #[test]
    fn rounds_are_shown_with_their_own_ratios_when_there_are_several() {
        let report = sample();
        assert_eq!(report.rounds(), 1);
        assert!(!report.render().contains("## Rounds"));
        let report = with_two_rounds_of_a(report, None);
        assert_eq!(report.rounds(), 2);
        let md = report.render();
        assert!(
            md.contains("## Rounds\n\nThe 2 rounds measure every server"),
            "{md}"
        );
        assert!(md.contains("| (a) valid POST /users | 1 | 60\u{2009}000 | 100\u{2009}000 | 2\u{2009}000 | 0.60 | 30.0 | 0.17 ms | 0.10 ms |"), "{md}");
        assert!(md.contains("| (a) valid POST /users | 2 | 30\u{2009}000 | 50\u{2009}000 | 1\u{2009}000 | 0.60 | 30.0 | 0.33 ms | 0.20 ms |"), "{md}");
        // (b) ran one round on understudy alone: its row has no baselines.
        assert!(
            md.contains("| (b) invalid POST /users | 1 | 70\u{2009}000 |  |  |  |  | 2.50 ms |  |"),
            "{md}"
        );
        assert!(!md.contains("| (b) invalid POST /users | 2 |"), "{md}");
        // The merged figure is the whole run: 450 000 requests in 10 s.
        assert!(
            (report
                .rps_ratio(ServerKind::Prism, WorkloadId::ValidCreate)
                .expect("both ran")
                - 30.0)
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn rounds_show_the_latency_pass_p99s_when_there_was_one() {
        let md = with_two_rounds_of_a(sample(), Some(1_200.0)).render();
        assert!(md.contains("| understudy p99 | bare axum p99 | understudy p99, one wrk thread | bare axum p99, one wrk thread |\n"), "{md}");
        assert!(md.contains("| (a) valid POST /users | 1 | 60\u{2009}000 | 100\u{2009}000 | 2\u{2009}000 | 0.60 | 30.0 | 0.17 ms | 0.10 ms | 1.20 ms | 1.20 ms |"), "{md}");
        // (b) had no pass in this report: its cells are empty.
        assert!(
            md.contains(
                "| (b) invalid POST /users | 1 | 70\u{2009}000 |  |  |  |  | 2.50 ms |  |  |  |"
            ),
            "{md}"
        );
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(999.4), "999");
        assert_eq!(grouped(1234.0), "1\u{2009}234");
        assert_eq!(grouped(1_234_567.0), "1\u{2009}234\u{2009}567");
    }
}
