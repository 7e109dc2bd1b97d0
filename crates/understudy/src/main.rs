//! The `understudy` command: `serve` OpenAPI documents as a mock server, or `check` them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use pinned_workers::Pinning;
use understudy_engine::{Engine, EngineOptions, LoadReport};
use understudy_server::{ServerOptions, app};

/// mimalloc, for frees across worker threads without a lock (see the workspace `Cargo.toml`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A spec-driven mock server: every OpenAPI 3.0 document in a folder, validated and answered.
#[derive(Debug, Parser)]
#[command(name = "understudy", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the specs as a mock server.
    Serve(ServeArgs),
    /// Load the specs and report every problem (file, JSON pointer, reason); exit 1 if any.
    Check {
        /// Spec files or folders.
        #[arg(default_value = "specs")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        refs: RefArgs,
    },
}

/// How far `$ref`s may reach; `serve` and `check` take the same.
#[derive(Debug, clap::Args)]
struct RefArgs {
    /// Follow `$ref`s to files outside the folder of the spec that names them (refused by
    /// default, `..` and symbolic links resolved).
    #[arg(long)]
    allow_ref_outside: bool,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Spec files or folders (their .yaml, .yml and .json files).
    #[arg(default_value = "specs")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    refs: RefArgs,
    /// The address to bind; 127.0.0.1 keeps the mock off the network.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port to bind (0 picks a free one).
    #[arg(long, default_value_t = 4010)]
    port: u16,
    /// Makes responses reproducible: the same requests give the same bytes, timestamps included.
    #[arg(long)]
    seed: Option<u64>,
    /// The clock for generated timestamps (RFC 3339); with --seed and no --now, a fixed clock.
    #[arg(long, value_parser = parse_now)]
    now: Option<DateTime<Utc>>,
    /// CORS for browsers: any origin, preflights answered.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    cors: Switch,
    /// The admin API under /__understudy/ (routes, request log, reset); off, its paths are 404.
    ///
    /// It answers tests, scripts and curl, never a web page: no CORS, and 403 for a request from
    /// another origin or for a Host that is not an IP address, localhost or an --allowed-host.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    admin: Switch,
    /// A name the admin API answers to in Host besides IP addresses and localhost (repeatable).
    ///
    /// Other names are refused, which keeps out a web page that points a name of its own at this
    /// machine (DNS rebinding). Give the name you reach the server by, without scheme or port.
    #[arg(long = "allowed-host", value_name = "NAME", value_parser = parse_allowed_host)]
    allowed_hosts: Vec<String>,
    /// The largest request body accepted, in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    max_body: usize,
    /// Remember nothing: no stored creates, no conflicts.
    #[arg(long)]
    stateless: bool,
    /// The most records kept per collection; past it the oldest are forgotten.
    #[arg(long, default_value_t = 100_000)]
    max_records: usize,
    /// Answer 404 for the id of a resource that was never created, instead of a generated record.
    #[arg(long)]
    strict_resources: bool,
    /// Threads answering requests (default: one per CPU). Fewer leave CPUs to clients on the
    /// same machine, such as a test runner on a small CI runner.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    workers: Option<u16>,
    /// Bind each worker thread to a CPU of its own.
    ///
    /// On a machine with few CPUs shared with a client (a load generator, a test runner), this
    /// keeps the kernel from running two workers on one CPU for a time slice while the other CPU
    /// runs the client, which holds up the requests on the waiting worker for milliseconds. Off by default: on a machine that other
    /// work keeps busy, a worker bound to a busy CPU cannot move to a free one.
    #[arg(long)]
    pin_workers: bool,
    /// Log level: error, warn, info (one line per request), debug.
    #[arg(long, default_value = "info")]
    log_level: String,
    /// At shutdown, write every request that broke the contract to FILE (JSON) and to FILE with
    /// the ending `.xml` (JUnit XML: a test case per operation, a failure per violating request).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Exit with status 1 at shutdown if any request broke the contract.
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Switch {
    On,
    Off,
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|now| now.with_timezone(&Utc))
        .map_err(|error| format!("not an RFC 3339 date-time ({error}), e.g. 2025-01-01T12:00:00Z"))
}

fn parse_allowed_host(text: &str) -> Result<String, String> {
    let plain_name = !text.is_empty()
        && !text.starts_with('[')
        && understudy_server::message_checks::host_of(text.as_bytes()) == Some(text.as_bytes());
    if plain_name {
        Ok(text.to_owned())
    } else {
        Err("a host name without scheme or port, e.g. mock.internal".to_owned())
    }
}

/// The warning for an admin API reachable from other machines: `address` is bound to an address
/// other than loopback, and the admin API is on.
fn admin_exposure(address: SocketAddr, admin: bool) -> Option<String> {
    (admin && !address.ip().to_canonical().is_loopback()).then(|| {
        format!(
            "the admin API is reachable from the network on {address}: anyone who can connect \
             can read the request log and reset the mock (--admin off turns it off; \
             --host 127.0.0.1 keeps the mock on this machine)"
        )
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths, refs } => check(&paths, &refs),
        Command::Serve(args) => serve(args),
    }
}

fn check(paths: &[PathBuf], refs: &RefArgs) -> ExitCode {
    let options = EngineOptions {
        allow_ref_outside: refs.allow_ref_outside,
        ..EngineOptions::default()
    };
    match Engine::load(paths, options) {
        Ok(engine) => {
            let operations: usize = engine
                .specs()
                .iter()
                .map(|spec| spec.operations.len())
                .sum();
            println!(
                "{} spec{} OK ({operations} operation{})",
                engine.specs().len(),
                plural(engine.specs().len()),
                plural(operations)
            );
            ExitCode::SUCCESS
        }
        Err(report) => {
            eprintln!("{report}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&args.log_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let options = EngineOptions {
        seed: args.seed,
        now: args.now,
        stateless: args.stateless,
        max_records: args.max_records,
        strict_resources: args.strict_resources,
        report: args.report.is_some() || args.strict,
        allow_ref_outside: args.refs.allow_ref_outside,
        ..EngineOptions::default()
    };
    let engine = match Engine::load(&args.paths, options) {
        Ok(engine) => Arc::new(engine),
        Err(report) => {
            print_report(&report);
            return ExitCode::FAILURE;
        }
    };
    let workers = args.workers.map_or_else(default_workers, usize::from);
    let runtime = match pinned_workers::multi_thread_runtime(workers, args.pin_workers) {
        Ok((runtime, pinning)) => {
            if let Some(pinning) = pinning {
                log_pinning(&pinning);
            }
            runtime
        }
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let server_options = ServerOptions {
        cors: args.cors == Switch::On,
        max_body: args.max_body,
        admin: args.admin == Switch::On,
        allowed_hosts: args.allowed_hosts,
    };
    let served = runtime.block_on(run(
        Arc::clone(&engine),
        server_options,
        &args.host,
        args.port,
        workers,
    ));
    if served != ExitCode::SUCCESS {
        return served;
    }
    finish(&engine, args.report.as_deref(), args.strict)
}

/// Writes the contract report and decides the exit status after a clean shutdown.
fn finish(engine: &Engine, report_path: Option<&std::path::Path>, strict: bool) -> ExitCode {
    let Some(report) = engine.contract_report() else {
        return ExitCode::SUCCESS;
    };
    if let Some(path) = report_path {
        let junit_path = path.with_extension("xml");
        let json = serde_json::to_vec_pretty(&report.to_json()).unwrap_or_default();
        let written = std::fs::write(path, json)
            .and_then(|()| std::fs::write(&junit_path, report.to_junit()));
        if let Err(error) = written {
            eprintln!(
                "error: cannot write the contract report to {}: {error}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        tracing::info!(
            json = %path.display(),
            junit = %junit_path.display(),
            violating = report.violating(),
            "contract report written"
        );
    }
    if strict && report.violating() > 0 {
        eprintln!(
            "error: {} request(s) broke the contract (--strict)",
            report.violating()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Says where `--pin-workers` put the workers; a worker it could not bind runs where the kernel
/// puts it, as without the option.
fn log_pinning(pinning: &Pinning) {
    if pinning.is_complete() {
        tracing::info!(cpus = %pinning, "each worker is bound to a CPU");
    } else {
        tracing::warn!(
            cpus = %pinning,
            not_started = pinning.not_started,
            allowed = ?pinning.allowed,
            "--pin-workers could not bind every worker to a CPU; the others run unbound"
        );
    }
}

/// One worker per CPU this process may use (tokio's own default, said here so that it is logged).
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

async fn run(
    engine: Arc<Engine>,
    options: ServerOptions,
    host: &str,
    port: u16,
    workers: usize,
) -> ExitCode {
    // Listened for before the server listens: a SIGTERM that comes right after start-up must
    // stop it cleanly (and write the report), not kill it with the default action.
    let shutdown = shutdown_signal();
    let listener = match tokio::net::TcpListener::bind((host, port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot bind {host}:{port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let address: SocketAddr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], port)));
    for route in engine.routes() {
        tracing::debug!(spec = %route.spec, "{} {}", route.method, route.path);
    }
    if let Some(warning) = admin_exposure(address, options.admin) {
        tracing::warn!("{warning}");
    }
    tracing::info!(
        specs = engine.specs().len(),
        operations = engine.routes().len(),
        workers,
        "understudy listening on http://{address}"
    );
    let router = app(Arc::clone(&engine), &options);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    match served {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: the server stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled, so call it before announcing that the server listens.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let terminate = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        let received = |stream: Option<Signal>| async move {
            match stream {
                Some(mut stream) => {
                    stream.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        async move {
            tokio::select! {
                () = received(terminate) => {},
                () = received(interrupt) => {},
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn print_report(report: &LoadReport) {
    eprintln!("error: the specs cannot be served:\n{report}");
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_admin_api_bound_beyond_loopback_is_warned_about() {
        for exposed in [
            "0.0.0.0:4010",
            "[::]:4010",
            "192.168.1.20:4010",
            "[fe80::1]:4010",
        ] {
            let address: SocketAddr = exposed.parse().unwrap();
            assert!(admin_exposure(address, true).is_some(), "{exposed}");
            assert!(admin_exposure(address, false).is_none(), "{exposed}");
        }
        for local in [
            "127.0.0.1:4010",
            "127.0.0.2:1",
            "[::1]:4010",
            "[::ffff:127.0.0.1]:1",
        ] {
            let address: SocketAddr = local.parse().unwrap();
            assert!(admin_exposure(address, true).is_none(), "{local}");
        }
    }

    #[test]
    fn an_allowed_host_is_a_bare_name() {
        assert_eq!(
            parse_allowed_host("mock.internal").unwrap(),
            "mock.internal"
        );
        for wrong in [
            "",
            "mock.internal:4010",
            "http://mock.internal",
            "[::1]",
            "a b",
        ] {
            assert!(parse_allowed_host(wrong).is_err(), "{wrong}");
        }
    }
}
