//! The `understudy` command: `serve` OpenAPI documents as a mock server, or `check` them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use pinned_workers::Pinning;
use understudy_engine::{Engine, EngineOptions, LoadReport, ValidCredentials};
use understudy_server::proxy::{InvalidRequests, Proxy, ProxyOptions, Upstream};
use understudy_server::serve::{self, ConnectionLimits, Drained};
use understudy_server::{
    CallbackOptions, CallbacksTo, LiveEngine, ServerOptions, live_app, live_proxy_app,
};

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
    Serve(Box<ServeArgs>),
    /// Forward every request to a real backend, holding requests and its answers to the specs.
    Proxy(Box<ProxyArgs>),
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

/// The credentials the mock takes; without any for a kind, any credential of that kind passes.
/// Never logged or echoed: `Debug` shows how many there are, and a malformed one is refused
/// without quoting it (which a clap value parser would do).
#[derive(clap::Args)]
struct CredentialArgs {
    /// Take only this token (repeatable) after `Bearer` or another token scheme (`JWT`, oauth2,
    /// openIdConnect); any other token gets 401.
    #[arg(long = "valid-token", value_name = "TOKEN")]
    tokens: Vec<String>,
    /// Take only this user and password (repeatable) in `Authorization: Basic`; any other pair
    /// gets 401.
    #[arg(long = "valid-basic", value_name = "USER:PASS")]
    basic: Vec<String>,
    /// Take only this key (repeatable) for every `apiKey` scheme, in a header, the query or a
    /// cookie; any other key gets 401.
    #[arg(long = "valid-api-key", value_name = "KEY")]
    api_keys: Vec<String>,
}

impl std::fmt::Debug for CredentialArgs {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CredentialArgs")
            .field("tokens", &self.tokens.len())
            .field("basic", &self.basic.len())
            .field("api_keys", &self.api_keys.len())
            .finish()
    }
}

impl CredentialArgs {
    /// The lists for the engine, or what is wrong with one (never quoting it).
    fn valid(&self) -> Result<ValidCredentials, String> {
        let blank = |text: &String| text.is_empty() || text.trim() != text;
        if self.tokens.iter().any(blank) || self.api_keys.iter().any(blank) {
            return Err(
                "--valid-token and --valid-api-key take a credential without spaces around it"
                    .to_owned(),
            );
        }
        if self
            .basic
            .iter()
            .any(|pair| pair.split_once(':').is_none_or(|(user, _)| user.is_empty()))
        {
            return Err(
                "--valid-basic takes USER:PASS, a user name, a colon and a password (the value \
                 given is not shown)"
                    .to_owned(),
            );
        }
        Ok(ValidCredentials {
            tokens: self.tokens.clone(),
            basic: self.basic.clone(),
            api_keys: self.api_keys.clone(),
        })
    }
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Spec files or folders (their .yaml, .yml and .json files).
    #[arg(default_value = "specs")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    refs: RefArgs,
    // Boxed: three lists would make `Command::Serve` much larger than `Check`.
    #[command(flatten)]
    credentials: Box<CredentialArgs>,
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
    /// Close a connection whose request line and headers take longer than this.
    ///
    /// Timed from the request's first byte (from the accept, for a connection's first request).
    /// Durations read 30s, 1m, 500ms, or a bare number of seconds, here and in the other
    /// timeouts.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    header_timeout: Duration,
    /// Answer 408 and close when a request body takes longer than this after its headers.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    body_timeout: Duration,
    /// Close a kept-alive connection idle for longer than this.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_timeout)]
    idle_timeout: Duration,
    /// The most connections open at once; further ones wait, unaccepted [default: 10000].
    ///
    /// Fewer if the open-file limit, raised towards its hard limit as far as this needs, leaves
    /// no room for them: 64 files are kept for everything else.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,
    /// At shutdown, how long requests under way may finish before they are cut off.
    ///
    /// A second Ctrl-C or SIGTERM cuts them off at once. Either way the report is written and
    /// --strict decides the exit status.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    shutdown_timeout: Duration,
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
    /// Delay every answer: MS milliseconds, or MIN..MAX drawn per request (reproducible with
    /// --seed); at most 60000. A request's `Prefer: delay=MS` wins.
    #[arg(long, value_name = "MS|MIN..MAX")]
    delay: Option<understudy_engine::DelayRange>,
    /// Answer this share of valid requests (0 to 1, drawn per request, reproducible with --seed)
    /// with the operation's documented 5xx, else 503 with Retry-After.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    fail_rate: f64,
    /// Reload the specs when they or the files they `$ref` change.
    ///
    /// A change is loaded off the request path and served from the next request on; one that
    /// does not load leaves the last good version serving, and its problems are logged and shown
    /// by GET /__understudy/routes (`reload_error`). Records of collections whose operations did
    /// not change are kept.
    #[arg(long)]
    watch: bool,
    /// Where operations' callbacks are sent after a successful answer: loopback addresses only,
    /// any host, or off (none are made). Each has 5 s, at most 64 are in flight, no retries.
    #[arg(long, value_enum, default_value_t = CallbacksToArg::Loopback)]
    callbacks_to: CallbacksToArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CallbacksToArg {
    Loopback,
    Any,
    Off,
}

/// `understudy proxy`: `serve`'s options, and where and how to forward.
#[derive(Debug, clap::Args)]
struct ProxyArgs {
    /// The backend to forward to: http://host:port, with an optional path prefix put before
    /// every forwarded path.
    #[arg(long, value_name = "URL", value_parser = Upstream::parse)]
    upstream: Upstream,
    /// A request that breaks the contract is forwarded and reported, or answered locally as
    /// `serve` answers it and never forwarded.
    #[arg(long, value_enum, default_value_t = ProxyInvalid::Forward)]
    proxy_invalid: ProxyInvalid,
    /// How long the backend may take to answer, body included; past it the client gets 504.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    upstream_timeout: Duration,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProxyInvalid {
    Forward,
    Reject,
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

/// A duration: `30s`, `1m`, `500ms`, `1h 30m` (humantime's forms), or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text)
            .map_err(|error| format!("not a duration ({error}), e.g. 30s, 1m or 500ms")),
    }
}

/// A duration more than zero: a timeout of nothing would close every connection at once.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        Duration::ZERO => Err("a timeout must be more than zero".to_owned()),
        duration => Ok(duration),
    }
}

/// A share from 0 to 1.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err("a share from 0 to 1, e.g. 0.1".to_owned()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths, refs } => check(&paths, &refs),
        Command::Serve(args) => serve(*args, None),
        Command::Proxy(args) => {
            let ProxyArgs {
                upstream,
                proxy_invalid,
                upstream_timeout,
                serve: args,
            } = *args;
            let invalid = match proxy_invalid {
                ProxyInvalid::Forward => InvalidRequests::Forward,
                ProxyInvalid::Reject => InvalidRequests::Reject,
            };
            let proxy = ProxyOptions {
                upstream,
                invalid,
                timeout: upstream_timeout,
            };
            serve(args, Some(proxy))
        }
    }
}

fn check(paths: &[PathBuf], refs: &RefArgs) -> ExitCode {
    let options = EngineOptions {
        allow_ref_outside: refs.allow_ref_outside,
        ..EngineOptions::default()
    };
    match Engine::load(paths, options) {
        Ok(engine) => {
            for spec in engine.specs() {
                println!(
                    "{}: {}, {} operation{}",
                    spec.file.display(),
                    spec.version,
                    spec.operations.len(),
                    plural(spec.operations.len())
                );
            }
            for warning in engine.warnings() {
                eprintln!("warning: {warning}");
            }
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

/// Serves the specs, as a mock or, with `proxy`, as a validation proxy in front of a backend.
fn serve(args: ServeArgs, proxy: Option<ProxyOptions>) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&args.log_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let valid_credentials = match args.credentials.valid() {
        Ok(valid) => valid,
        Err(reason) => {
            eprintln!("error: {reason}");
            return ExitCode::from(2);
        }
    };
    let options = EngineOptions {
        seed: args.seed,
        now: args.now,
        stateless: args.stateless,
        max_records: args.max_records,
        strict_resources: args.strict_resources,
        report: args.report.is_some() || args.strict,
        allow_ref_outside: args.refs.allow_ref_outside,
        delay: args.delay,
        fail_rate: args.fail_rate,
        valid_credentials,
        // The real backend makes its own callbacks behind a proxy.
        callbacks: args.callbacks_to != CallbacksToArg::Off && proxy.is_none(),
        check_responses: proxy.is_some(),
        ..EngineOptions::default()
    };
    let proxy = match proxy.map(Proxy::new).transpose() {
        Ok(proxy) => proxy,
        Err(reason) => {
            eprintln!("error: --upstream: {reason}");
            return ExitCode::from(2);
        }
    };
    let engine = match Engine::load(&args.paths, options) {
        Ok(engine) => Arc::new(engine),
        Err(report) => {
            print_report(&report);
            return ExitCode::FAILURE;
        }
    };
    understudy_server::watch::log_warnings(&engine);
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
        allowed_hosts: args.allowed_hosts.clone(),
        connections: connection_limits(&args),
        callbacks: CallbackOptions {
            to: match args.callbacks_to {
                CallbacksToArg::Loopback => CallbacksTo::Loopback,
                CallbacksToArg::Any => CallbacksTo::Any,
                CallbacksToArg::Off => CallbacksTo::Off,
            },
            ..CallbackOptions::default()
        },
    };
    let watch = args.watch.then(|| args.paths.clone());
    let served = runtime.block_on(run(
        Arc::clone(&engine),
        server_options,
        &args.host,
        args.port,
        workers,
        watch,
        proxy,
    ));
    if served != ExitCode::SUCCESS {
        return served;
    }
    finish(&engine, args.report.as_deref(), args.strict)
}

/// The connection options, with `--max-connections` fitted under the open-file limit (raised
/// towards the hard limit first, as far as the bound needs).
fn connection_limits(args: &ServeArgs) -> ConnectionLimits {
    let wanted = args
        .max_connections
        .map_or(serve::MAX_CONNECTIONS, |asked| asked as usize);
    let max_connections = serve::raise_file_limit_for(wanted);
    if max_connections < wanted {
        tracing::warn!(
            max_connections,
            wanted,
            "the open-file limit leaves room for fewer connections than wanted"
        );
    }
    ConnectionLimits {
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        idle_timeout: args.idle_timeout,
        max_connections,
        shutdown_timeout: args.shutdown_timeout,
    }
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
    watch: Option<Vec<PathBuf>>,
    proxy: Option<Proxy>,
) -> ExitCode {
    // Listened for before the server listens: a SIGTERM that comes right after start-up must
    // stop it cleanly (and write the report), not kill it with the default action.
    let mut signals = Signals::install();
    let listener = match serve::bind(host, port).await {
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
        max_connections = options.connections.max_connections,
        "understudy listening on http://{address}"
    );
    let live = Arc::new(LiveEngine::new(Arc::clone(&engine)));
    // Watching stops when this is dropped, at the end of the run.
    let _watching = match watch {
        Some(paths) => match understudy_server::watch::watch(Arc::clone(&live), paths) {
            Ok(watching) => {
                tracing::info!("watching the specs: a change is served once it loads");
                Some(watching)
            }
            Err(error) => {
                eprintln!("error: cannot watch the specs: {error}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let router = match proxy {
        Some(proxy) => {
            tracing::info!("forwarding to {}", proxy.upstream().url());
            live_proxy_app(live, &options, proxy)
        }
        None => live_app(live, &options),
    };
    let mut draining =
        serve::accept_until(listener, router, &options.connections, signals.next()).await;
    tracing::info!(
        open = draining.open(),
        "shutting down: requests under way get {} (--shutdown-timeout); a second Ctrl-C or \
         SIGTERM stops at once",
        humantime::format_duration(draining.timeout())
    );
    match draining.finish(signals.next()).await {
        Drained::Finished => tracing::info!("stopped"),
        Drained::TimedOut(closed) => {
            tracing::warn!(closed, "stopped: closed the connections still under way");
        }
        Drained::Cut(closed) => {
            tracing::warn!(closed, "stopped at once on a second signal");
        }
    }
    // However the drain ended, the report is written and the exit status is decided as after
    // a clean stop: a connection cut short was never answered, so it is not in the report.
    ExitCode::SUCCESS
}

/// Ctrl-C and SIGTERM. The handlers are installed when this is made, not when it is first
/// awaited, so make it before announcing that the server listens; once installed, a signal
/// never meets the default action (which would kill the process before the report is written).
struct Signals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                terminate: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// Resolves on the next Ctrl-C or SIGTERM.
    async fn next(&mut self) {
        #[cfg(unix)]
        {
            async fn received(stream: &mut Option<tokio::signal::unix::Signal>) {
                match stream {
                    Some(stream) => {
                        stream.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = received(&mut self.terminate) => {},
                () = received(&mut self.interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
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
