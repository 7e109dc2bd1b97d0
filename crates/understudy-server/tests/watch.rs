//! `serve --watch` through a real socket: a spec edited on disk is served once it loads, a broken
//! edit leaves the last good version serving and is shown by `/__understudy/routes`, a fix is
//! served, and the records of collections whose operations did not change are kept.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use support::raw_request;
use tokio::sync::oneshot;
use tokio::time::Instant;
use understudy_engine::{Engine, EngineOptions};
use understudy_server::watch::{Watching, watch};
use understudy_server::{LiveEngine, ServerOptions, live_app, serve};

/// The spec: a to-do resource, notes whose schemas are in `shared/parts.yaml` (a folder that
/// only the reference names, so only it being followed gets it watched), a `/version` that
/// answers `version`, and whatever `more` adds under `paths`.
fn api(version: &str, more: &str) -> String {
    format!(
        r##"openapi: 3.0.3
info: {{title: Watched, version: "1"}}
paths:
  /todos:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {{$ref: "#/components/schemas/Todo"}}
      responses:
        "201":
          description: Created
          content:
            application/json:
              schema: {{$ref: "#/components/schemas/Todo"}}
  /todos/{{todo_id}}:
    get:
      parameters:
        - {{name: todo_id, in: path, required: true, schema: {{type: integer}}}}
      responses:
        "200":
          description: The to-do
          content:
            application/json:
              schema: {{$ref: "#/components/schemas/Todo"}}
        "404": {{description: No such to-do}}
  /notes:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {{$ref: "shared/parts.yaml#/Note"}}
      responses:
        "201":
          description: Created
          content:
            application/json:
              schema: {{$ref: "shared/parts.yaml#/Note"}}
  /notes/{{note_id}}:
    get:
      parameters:
        - {{name: note_id, in: path, required: true, schema: {{type: integer}}}}
      responses:
        "200":
          description: The note
          content:
            application/json:
              schema: {{$ref: "shared/parts.yaml#/Note"}}
        "404": {{description: No such note}}
  /version:
    get:
      responses:
        "200":
          description: The version
          content:
            application/json:
              schema:
                type: object
                required: [version]
                properties:
                  version: {{type: string, enum: [{version}]}}
{more}components:
  schemas:
    Todo:
      type: object
      required: [id, title]
      properties:
        id: {{type: integer, readOnly: true}}
        title: {{type: string}}
"##
    )
}

/// The notes' schema, in a file of its own that the spec references.
fn parts(extra_property: &str) -> String {
    format!(
        "Note:\n  type: object\n  required: [id, text]\n  properties:\n    id: {{type: integer, \
         readOnly: true}}\n    text: {{type: string}}\n{extra_property}"
    )
}

const HEALTH: &str = "  /health:\n    get:\n      responses:\n        \"204\": {description: Up}\n";

/// An operation whose answer names a schema that is not there.
const BROKEN: &str = "  /broken:\n    get:\n      responses:\n        \"200\":\n          \
     description: Broken\n          content:\n            application/json:\n              \
     schema: {$ref: \"#/components/schemas/Missing\"}\n";

/// The pointer of the dangling reference in [`BROKEN`].
const BROKEN_AT: &str = "/paths/~1broken/get/responses/200/content/application~1json/schema/$ref";

/// A folder of its own under the system's temporary folder, made empty.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("understudy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` to `path` as editors save: a new file renamed over the old one.
fn save(path: &Path, text: &str) {
    let temporary = path.with_extension("swp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// A server on a real socket that watches `folder`, as `serve --watch` runs it.
struct Watched {
    address: SocketAddr,
    _watching: Watching,
    _stop: oneshot::Sender<()>,
}

async fn start(folder: &Path) -> Watched {
    let paths = vec![folder.to_owned()];
    let options = EngineOptions {
        strict_resources: true,
        ..EngineOptions::default()
    };
    let engine = Arc::new(Engine::load(&paths, options).unwrap());
    let live = Arc::new(LiveEngine::new(engine));
    let watching = watch(Arc::clone(&live), paths).unwrap();
    let options = ServerOptions::default();
    let app = live_app(live, &options);
    let listener = serve::bind("127.0.0.1", 0).await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let stopped = async {
            let _ = stopped.await;
        };
        serve::accept_until(listener, app, &options.connections, stopped).await;
    });
    Watched {
        address,
        _watching: watching,
        _stop: stop,
    }
}

impl Watched {
    async fn get(&self, path: &str) -> (u16, String) {
        raw_request(self.address, "GET", path, &[], "").await
    }

    async fn create(&self, path: &str, body: &str) -> Value {
        let (status, answer) = raw_request(
            self.address,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body,
        )
        .await;
        assert_eq!(status, 201, "{answer}");
        serde_json::from_str(&answer).unwrap()
    }

    async fn admin(&self, what: &str) -> Value {
        let (status, body) = self.get(&format!("/__understudy/{what}")).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The records the store holds in `collection`.
    async fn records(&self, collection: &str) -> u64 {
        let state = self.admin("state").await;
        state["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|held| held["name"] == collection)
            .map_or(0, |held| held["records"].as_u64().unwrap())
    }

    /// Asks `GET path` until `done` holds of the answer, for at most ten seconds (a reload takes
    /// well under one; the bound is for a loaded machine).
    async fn until(&self, path: &str, what: &str, done: impl Fn(u16, &str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self.get(path).await;
            if done(status, &body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: still {status} {body} after 10 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn version_of(body: &str) -> Value {
    serde_json::from_str::<Value>(body).map_or(Value::Null, |answer| answer["version"].clone())
}

#[tokio::test]
async fn an_edit_is_served_a_broken_one_is_shown_and_its_fix_is_served() {
    let folder = scratch("watch-edits");
    let spec = folder.join("api.yaml");
    save(&spec, &api("one", ""));
    std::fs::create_dir(folder.join("shared")).unwrap();
    save(&folder.join("shared/parts.yaml"), &parts(""));
    let server = start(&folder).await;
    assert_eq!(server.get("/health").await.0, 404);
    let routes = server.admin("routes").await;
    assert_eq!(routes["reload_error"], Value::Null, "{routes}");

    // An operation added and a response changed.
    save(&spec, &api("two", HEALTH));
    server
        .until("/health", "the added operation", |status, _| status == 204)
        .await;
    let (status, body) = server.get("/version").await;
    assert_eq!((status, version_of(&body)), (200, "two".into()), "{body}");

    // A broken edit: the last good version serves on, and the routes say what is wrong, where.
    save(&spec, &api("broken", BROKEN));
    let routes = server
        .until("/__understudy/routes", "the reload error", |_, body| {
            body.contains(BROKEN_AT)
        })
        .await;
    let routes: Value = serde_json::from_str(&routes).unwrap();
    let errors = routes["reload_error"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{routes}");
    assert!(
        errors[0]["file"].as_str().unwrap().ends_with("api.yaml"),
        "{routes}"
    );
    assert_eq!(errors[0]["location"], BROKEN_AT);
    assert!(
        errors[0]["reason"]
            .as_str()
            .unwrap()
            .contains("`#/components/schemas/Missing` points at nothing"),
        "{routes}"
    );
    assert!(
        routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|route| route["path"] == "/health"),
        "the routes are the served ones: {routes}"
    );
    assert_eq!(server.get("/health").await.0, 204);
    assert_eq!(version_of(&server.get("/version").await.1), "two");
    assert_eq!(server.get("/broken").await.0, 404);

    // The fix is served, and the error is gone.
    save(&spec, &api("three", HEALTH));
    server
        .until("/version", "the fixed spec", |_, body| {
            version_of(body) == "three"
        })
        .await;
    let routes = server.admin("routes").await;
    assert_eq!(routes["reload_error"], Value::Null, "{routes}");
    std::fs::remove_dir_all(&folder).unwrap();
}

#[tokio::test]
async fn records_of_unchanged_collections_survive_a_reload_and_changed_ones_start_empty() {
    let folder = scratch("watch-records");
    let spec = folder.join("api.yaml");
    let shared = folder.join("shared/parts.yaml");
    std::fs::create_dir(folder.join("shared")).unwrap();
    save(&spec, &api("one", ""));
    save(&shared, &parts(""));
    let server = start(&folder).await;
    let todo = server.create("/todos", r#"{"title": "Keep me"}"#).await;
    let note = server.create("/notes", r#"{"text": "Mine"}"#).await;
    let todo_uri = format!("/todos/{}", todo["id"]);
    let note_uri = format!("/notes/{}", note["id"]);

    // Another operation and another answer: neither collection's operations changed.
    save(&spec, &api("two", HEALTH));
    server
        .until("/health", "the added operation", |status, _| status == 204)
        .await;
    let (status, body) = server.get(&todo_uri).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), todo);
    let (status, body) = server.get(&note_uri).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), note);
    // A kept collection goes on numbering and refusing as before.
    let next = server.create("/todos", r#"{"title": "Next"}"#).await;
    assert_ne!(next["id"], todo["id"]);

    // The notes' schema changes in the file the spec references, written in place: the notes
    // start empty, the to-dos are kept.
    std::fs::write(&shared, parts("    pinned: {type: boolean}\n")).unwrap();
    server
        .until(&note_uri, "the notes emptied", |status, _| status == 404)
        .await;
    assert_eq!(server.records("/notes").await, 0);
    assert_eq!(server.records("/todos").await, 2);
    assert_eq!(server.get(&todo_uri).await.0, 200);

    // The request log goes on across reloads: the first create is still in it.
    let log = server.admin("requests?limit=1000").await;
    let first = &log["requests"].as_array().unwrap()[0];
    assert_eq!(
        (&first["method"], &first["path"]),
        (&"POST".into(), &"/todos".into()),
        "{log}"
    );
    std::fs::remove_dir_all(&folder).unwrap();
}
