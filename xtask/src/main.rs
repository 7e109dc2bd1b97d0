//! `cargo xtask`: the project's own tasks, one module per task (rust-analyzer's xtask style).
//!
//! `cargo xtask` with no arguments lists the tasks; `cargo xtask TASK [ARGS...]` runs one. A new
//! task is a module with an `ABOUT` line and a `run(&[String]) -> Result<(), String>` function, and
//! one entry in [`TASKS`].

use std::process::ExitCode;

mod bench;
mod fixtures;

/// One task: its name on the command line, a one-line description and its entry point.
#[derive(Debug)]
struct Task {
    /// The name typed after `cargo xtask`.
    name: &'static str,
    /// What the task does, in one line.
    about: &'static str,
    /// Runs the task with the arguments that follow its name.
    run: fn(&[String]) -> Result<(), String>,
}

/// Every task, in the order they are listed.
const TASKS: &[Task] = &[
    Task {
        name: "fixtures",
        about: fixtures::ABOUT,
        run: fixtures::run,
    },
    Task {
        name: "bench",
        about: bench::ABOUT,
        run: bench::run,
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        print!("{}", task_list());
        return ExitCode::SUCCESS;
    };
    if matches!(name.as_str(), "help" | "--help" | "-h") {
        print!("{}", task_list());
        return ExitCode::SUCCESS;
    }
    let Some(task) = TASKS.iter().find(|task| task.name == name) else {
        eprint!("xtask: no task named {name:?}\n\n{}", task_list());
        return ExitCode::from(2);
    };
    match (task.run)(&args[1..]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {}: {message}", task.name);
            ExitCode::FAILURE
        }
    }
}

/// The usage text that lists every task.
fn task_list() -> String {
    let width = TASKS.iter().map(|task| task.name.len()).max().unwrap_or(0);
    let mut text = String::from("usage: cargo xtask TASK [ARGS...]\n\ntasks:\n");
    for task in TASKS {
        text.push_str(&format!("  {:width$}  {}\n", task.name, task.about));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_list_names_every_task_once() {
        let list = task_list();
        for task in TASKS {
            assert_eq!(
                list.lines()
                    .filter(|line| line.trim_start().starts_with(task.name))
                    .count(),
                1,
                "{} is listed once in:\n{list}",
                task.name
            );
            assert!(list.contains(task.about));
        }
    }
}
