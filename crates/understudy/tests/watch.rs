//! `understudy serve --watch`, the real binary on a socket: a spec edited on disk is served, a
//! broken edit is logged and shown by `/__understudy/routes` while the last good version serves,
//! and the fix is served.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn spec(version: &str, more: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo: {{title: Watched, version: \"1\"}}\npaths:\n  /version:\n    get:\n      \
         responses:\n        \"200\":\n          description: The version\n          content:\n            \
         application/json:\n              schema:\n                type: object\n                \
         required: [version]\n                properties:\n                  version: {{type: string, \
         enum: [{version}]}}\n{more}"
    )
}

const HEALTH: &str = "  /health:\n    get:\n      responses:\n        \"204\": {description: Up}\n";

/// An operation whose answer names a schema that is not there.
const BROKEN: &str = "  /broken:\n    get:\n      responses:\n        \"200\":\n          \
     description: Broken\n          content:\n            application/json:\n              \
     schema: {$ref: \"#/components/schemas/Missing\"}\n";

const BROKEN_AT: &str = "/paths/~1broken/get/responses/200/content/application~1json/schema/$ref";

/// `understudy serve --watch` on a free port, its log gathered as it is written.
struct Watching {
    child: Child,
    address: String,
    log: Arc<Mutex<String>>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_watching(spec: &Path) -> Watching {
    let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(["serve", "--port", "0", "--watch"])
        .arg(spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let log = Arc::new(Mutex::new(String::new()));
    let address = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the server exited before listening: {}",
            log.lock().unwrap()
        );
        log.lock().unwrap().push_str(&line);
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Read on, so that the server never waits on a full pipe.
    let gathered = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut line = String::new();
        while stdout.read_line(&mut line).is_ok_and(|read| read > 0) {
            gathered.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    Watching {
        child,
        address,
        log,
    }
}

impl Watching {
    fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
        let body = answer.split_once("\r\n\r\n").unwrap().1.to_owned();
        (status, body)
    }

    /// Asks `GET path` until `done` holds of the answer, for at most ten seconds.
    fn until(&self, path: &str, what: &str, done: impl Fn(u16, &str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self.get(path);
            if done(status, &body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: still {status} {body} after 10 s; log:\n{}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("understudy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn serve_watch_serves_edits_keeps_the_last_good_version_and_shows_the_error() {
    let folder = scratch("bin-watch");
    let file = folder.join("api.yaml");
    std::fs::write(&file, spec("one", "")).unwrap();
    let server = serve_watching(&file);
    assert!(server.get("/version").1.contains("\"one\""));

    std::fs::write(&file, spec("two", HEALTH)).unwrap();
    server.until("/health", "the added operation", |status, _| status == 204);
    assert!(server.get("/version").1.contains("\"two\""));

    std::fs::write(&file, spec("three", BROKEN)).unwrap();
    let routes = server.until("/__understudy/routes", "the reload error", |_, body| {
        body.contains(BROKEN_AT)
    });
    assert!(routes.contains("points at nothing"), "{routes}");
    assert!(server.get("/version").1.contains("\"two\""));
    assert_eq!(server.get("/health").0, 204);
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("cannot be served"), "{log}");
    assert!(log.contains(BROKEN_AT), "{log}");

    std::fs::write(&file, spec("four", HEALTH)).unwrap();
    server.until("/version", "the fix", |_, body| body.contains("\"four\""));
    let routes = server.get("/__understudy/routes").1;
    assert!(routes.contains("\"reload_error\":null"), "{routes}");
    drop(server);
    std::fs::remove_dir_all(&folder).unwrap();
}
