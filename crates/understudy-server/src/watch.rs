//! `serve --watch`: the spec files and the files their `$ref`s name are watched, and a change is
//! loaded and compiled on tokio's blocking pool, off the request path, then swapped into the
//! [`LiveEngine`] whole. A change that does not load leaves the last good engine serving; its
//! problems are logged and kept for `GET /__understudy/routes`.
//!
//! The folders that hold those files are watched rather than the files (an editor that saves by
//! writing a new file and renaming it over the old one would end a watch on the file), and a
//! change there counts if it is to a file the engine was loaded from or to a `.yaml`, `.yml` or
//! `.json` file (a new spec in a served folder, or a referenced file that was missing).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use understudy_engine::load::is_spec_file;

use crate::live_engine::LiveEngine;

/// How long the files must stay unchanged before they are loaded: an editor's save, or a
/// `git checkout` of several files, is a burst of events.
pub const QUIET: Duration = Duration::from_millis(100);

/// The longest a burst of changes delays a reload.
pub const MOST_WAIT: Duration = Duration::from_millis(500);

/// Watches the specs in `paths` (as `serve` was given them) and the files the live engine was
/// loaded from, reloading into `live` on every change until the [`Watching`] is dropped. Call it
/// from inside a tokio runtime.
pub fn watch(live: Arc<LiveEngine>, paths: Vec<PathBuf>) -> notify::Result<Watching> {
    let interest = Arc::new(Mutex::new(Interest::default()));
    let (changed, mut changes) = mpsc::channel::<()>(1);
    let noticed = Arc::clone(&interest);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
        let concerns = match &event {
            Ok(event) => counts(&event.kind) && lock(&noticed).concerns(&event.paths),
            // The watch itself failed (an overflowing queue): loading again loses nothing.
            Err(_) => true,
        };
        if concerns {
            // Full: a reload is already due, which will read this change too.
            let _ = changed.try_send(());
        }
    })?;
    let mut watched = HashSet::new();
    for path in &paths {
        let folder = if path.is_dir() {
            Some(path.as_path())
        } else {
            path.parent()
        };
        let folder = folder.filter(|folder| !folder.as_os_str().is_empty());
        add_folder(&mut watcher, &mut watched, folder.unwrap_or(Path::new(".")))?;
    }
    let sources = live.current().sources().to_vec();
    follow(&mut watcher, &mut watched, &interest, &sources);
    let task = tokio::spawn(async move {
        // Owned by the task: watching stops when it ends.
        let mut watcher = watcher;
        while changes.recv().await.is_some() {
            let deadline = Instant::now() + MOST_WAIT;
            loop {
                let until = (Instant::now() + QUIET).min(deadline);
                match tokio::time::timeout_at(until, changes.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            if let Some(sources) = reload(&live, &paths).await {
                follow(&mut watcher, &mut watched, &interest, &sources);
            }
        }
    });
    Ok(Watching { task })
}

/// The watch under way; dropping it stops watching.
#[derive(Debug)]
pub struct Watching {
    task: JoinHandle<()>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Loads `paths` again from the live engine, off the request path, and swaps the result in, or
/// keeps the problem; logs either. The new engine's sources, if it loaded.
async fn reload(live: &Arc<LiveEngine>, paths: &[PathBuf]) -> Option<Vec<PathBuf>> {
    let current = live.current();
    let paths_owned = paths.to_vec();
    let started = std::time::Instant::now();
    let reloaded = tokio::task::spawn_blocking(move || current.reload(&paths_owned)).await;
    match reloaded {
        Ok(Ok(reloaded)) => {
            let engine = Arc::new(reloaded.engine);
            log_warnings(&engine);
            tracing::info!(
                specs = engine.specs().len(),
                operations = engine.routes().len(),
                kept = ?reloaded.kept,
                emptied = ?reloaded.emptied,
                took = ?started.elapsed(),
                "reloaded the specs"
            );
            let sources = engine.sources().to_vec();
            let previous = live.replace(engine);
            // A large engine takes a while to free: not on a worker that answers requests.
            drop(tokio::task::spawn_blocking(move || drop(previous)));
            Some(sources)
        }
        Ok(Err(report)) => {
            for error in &report.errors {
                tracing::warn!(
                    file = %error.file.display(),
                    at = %error.location,
                    "{}",
                    error.reason
                );
            }
            tracing::warn!(
                problems = report.errors.len(),
                "the specs changed but cannot be served; the last good version is served until \
                 they are fixed"
            );
            live.reload_failed(report);
            None
        }
        Err(error) => {
            tracing::warn!(%error, "reloading the specs failed; the last good version is served");
            None
        }
    }
}

/// Whether an event can change what loads: a file created, written, moved or removed, not one
/// read (loading opens the files too) or its metadata changed.
fn counts(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

/// The files and folders a change is looked for in, canonical.
#[derive(Debug, Default)]
struct Interest {
    files: HashSet<PathBuf>,
    folders: HashSet<PathBuf>,
}

impl Interest {
    /// Whether a change to `paths` concerns the specs.
    fn concerns(&self, paths: &[PathBuf]) -> bool {
        paths.iter().any(|path| {
            self.files.contains(path)
                || (is_spec_file(path)
                    && path
                        .parent()
                        .is_some_and(|folder| self.folders.contains(folder)))
        })
    }
}

fn lock(interest: &Mutex<Interest>) -> std::sync::MutexGuard<'_, Interest> {
    match interest.lock() {
        Ok(interest) => interest,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Watches the folder of each of `sources` too, and counts a change to any of them.
fn follow(
    watcher: &mut RecommendedWatcher,
    watched: &mut HashSet<PathBuf>,
    interest: &Mutex<Interest>,
    sources: &[PathBuf],
) {
    for source in sources {
        if let Some(folder) = source.parent()
            && let Err(error) = add_folder(watcher, watched, folder)
        {
            tracing::warn!(
                folder = %folder.display(),
                %error,
                "cannot watch a folder the specs are read from"
            );
        }
    }
    let mut interest = lock(interest);
    interest.files.extend(sources.iter().cloned());
    interest.folders.extend(watched.iter().cloned());
}

/// Watches `folder` (not its subfolders) unless it already is.
fn add_folder(
    watcher: &mut RecommendedWatcher,
    watched: &mut HashSet<PathBuf>,
    folder: &Path,
) -> notify::Result<()> {
    let folder = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_owned());
    if watched.contains(&folder) {
        return Ok(());
    }
    watcher.watch(&folder, RecursiveMode::NonRecursive)?;
    watched.insert(folder);
    Ok(())
}

/// Logs what the specs load with but is not served as written (a pattern no engine reads, a
/// Swagger 2.0 part with no 3.0 form), one warning line each: at start and after each reload.
pub fn log_warnings(engine: &understudy_engine::Engine) {
    for warning in engine.warnings() {
        tracing::warn!(
            file = %warning.file.display(),
            at = %warning.location,
            "{}",
            warning.reason
        );
    }
}
