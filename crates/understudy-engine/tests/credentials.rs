//! Credentials that behave, over `tests/specs/credentials`: a bearer token that is a JWT is
//! refused when it has expired or is not valid yet (401, `error="invalid_token"`), or when it lacks
//! a scope an `oauth2` or `openIdConnect` requirement names (403, `error="insufficient_scope"`);
//! `--valid-token`, `--valid-basic` and `--valid-api-key` refuse every other credential of their
//! kind; an opaque token passes as before; and no credential reaches an answer, the request log
//! or the report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, TimeZone, Utc};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use understudy_engine::compile::compile_spec;
use understudy_engine::{Engine, EngineOptions, MockRequest, ValidCredentials};

/// The clock every engine here runs at (but the one that reads the real clock).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0)
        .single()
        .unwrap()
}

fn specs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs/credentials")
}

/// The engine at the fixed clock, taking `valid`, keeping a report.
fn engine_with(valid: ValidCredentials) -> Engine {
    let options = EngineOptions {
        now: Some(now()),
        report: true,
        valid_credentials: valid,
        ..EngineOptions::default()
    };
    Engine::load(&[specs()], options).unwrap()
}

fn engine() -> Engine {
    engine_with(ValidCredentials::default())
}

/// A JWT with `payload` (signed with nothing the mock could check).
fn jwt(payload: &Value) -> String {
    format!(
        "{}.{}.bm90LWNoZWNrZWQ",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

/// Seconds since 1970 of the test clock moved by `seconds`.
fn at(seconds: i64) -> i64 {
    (now() + Duration::seconds(seconds)).timestamp()
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

fn basic(pair: &str) -> (&'static str, String) {
    ("authorization", format!("Basic {}", STANDARD.encode(pair)))
}

/// What the engine answered.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }
}

fn send(engine: &Engine, method: &str, uri: &str, extra: &[(&'static str, String)]) -> Answer {
    let mut headers = HeaderMap::new();
    for (name, value) in extra {
        headers.insert(*name, value.parse().unwrap());
    }
    let body: &[u8] = if method == "POST" {
        headers.insert("content-type", "application/json".parse().unwrap());
        br#"{"text": "Buy milk"}"#
    } else {
        b""
    };
    let (path, query) = match uri.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (uri, None),
    };
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let outcome = engine.handle(&MockRequest {
        method: &method,
        path,
        query,
        headers: &headers,
        body,
    });
    Answer {
        status: outcome.response.status,
        headers: outcome.response.headers,
        text: String::from_utf8(outcome.response.body.to_vec()).unwrap(),
    }
}

fn get(engine: &Engine, uri: &str, extra: &[(&'static str, String)]) -> Answer {
    send(engine, "GET", uri, extra)
}

#[test]
fn an_expired_jwt_is_401_in_the_documented_shape_with_an_invalid_token_challenge() {
    let engine = engine();
    let expired = jwt(&json!({"sub": "1", "exp": at(-60)}));
    let answer = get(&engine, "/v1/session", &[bearer(&expired)]);
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    let challenge = answer.header("www-authenticate").unwrap();
    assert_eq!(
        challenge,
        "Bearer error=\"invalid_token\", error_description=\"the `Bearer` token expired at \
         2026-12-06T11:59:00Z (the mock's clock says 2026-12-06T12:00:00Z)\""
    );
    // The documented 401: `{"error": {"code", "message"}}`, with the code that names it.
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let body = answer.json();
    assert_eq!(body["error"]["code"], "unauthenticated", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("expired at 2026-12-06T11:59:00Z"),
        "{message}"
    );
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    // `exp` is the first moment the token is refused; a second later it would still pass.
    let now = jwt(&json!({"exp": at(0)}));
    assert_eq!(get(&engine, "/v1/session", &[bearer(&now)]).status, 401);
    let fresh = jwt(&json!({"exp": at(1)}));
    assert_eq!(get(&engine, "/v1/session", &[bearer(&fresh)]).status, 200);
}

#[test]
fn a_jwt_not_valid_yet_is_401_and_one_whose_time_has_come_passes() {
    let engine = engine();
    let early = jwt(&json!({"nbf": at(3600), "exp": at(7200)}));
    let answer = get(&engine, "/v1/session", &[bearer(&early)]);
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    let challenge = answer.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\", error_description=\"the `Bearer` token is not valid before 2026-12-06T13:00:00Z"),
        "{challenge}"
    );
    assert_eq!(answer.json()["error"]["code"], "unauthenticated");
    let due = jwt(&json!({"nbf": at(0), "exp": at(7200)}));
    assert_eq!(get(&engine, "/v1/session", &[bearer(&due)]).status, 200);
}

#[test]
fn a_valid_jwt_passes_and_a_token_that_is_no_jwt_is_taken_as_before() {
    let engine = engine();
    for token in [
        jwt(&json!({"sub": "1", "exp": at(3600), "iat": at(-60)})),
        jwt(&json!({"sub": "1"})),
        "sk_test_123".to_owned(),
        // Three parts, but no JSON inside: an opaque token.
        "abc.def.ghi".to_owned(),
    ] {
        let answer = get(&engine, "/v1/session", &[bearer(&token)]);
        assert_eq!(answer.status, StatusCode::OK, "{token}: {}", answer.text);
    }
    // A JWT's `exp` must be a number: a string is refused, with the reason.
    let answer = get(
        &engine,
        "/v1/session",
        &[bearer(&jwt(&json!({"exp": "tomorrow"})))],
    );
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`exp` claim is not a number")
    );
    // Without a token, the answer is today's.
    let missing = get(&engine, "/v1/session", &[]);
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    assert!(
        missing.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("credentials are missing; send Authorization: Bearer <credentials>")
    );
}

#[test]
fn without_a_fixed_clock_the_real_one_decides() {
    let engine = Engine::load(&[specs()], EngineOptions::default()).unwrap();
    let real_now = Utc::now().timestamp();
    let past = jwt(&json!({"exp": real_now - 3600}));
    assert_eq!(get(&engine, "/v1/session", &[bearer(&past)]).status, 401);
    let future = jwt(&json!({"exp": real_now + 3600}));
    assert_eq!(get(&engine, "/v1/session", &[bearer(&future)]).status, 200);
    // Past for the real clock, future for a seeded engine's fixed one (2025-01-01T12:00:00Z).
    let seeded = EngineOptions {
        seed: Some(1),
        ..EngineOptions::default()
    };
    let seeded = Engine::load(&[specs()], seeded).unwrap();
    let in_2025 =
        jwt(&json!({"exp": Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap().timestamp()}));
    assert_eq!(get(&seeded, "/v1/session", &[bearer(&in_2025)]).status, 200);
    assert_eq!(get(&engine, "/v1/session", &[bearer(&in_2025)]).status, 401);
}

#[test]
fn a_token_without_a_required_scope_is_403_in_the_documented_shape() {
    let engine = engine();
    let reader = jwt(&json!({"exp": at(3600), "scope": "notes:read profile"}));
    assert_eq!(get(&engine, "/v1/notes", &[bearer(&reader)]).status, 200);
    let listed = jwt(&json!({"scp": ["notes:read"]}));
    assert_eq!(get(&engine, "/v1/notes", &[bearer(&listed)]).status, 200);
    for lacking in [
        jwt(&json!({"exp": at(3600), "scope": "notes:write"})),
        jwt(&json!({"exp": at(3600)})),
    ] {
        let answer = get(&engine, "/v1/notes", &[bearer(&lacking)]);
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
        assert_eq!(
            answer.header("www-authenticate"),
            Some("Bearer error=\"insufficient_scope\", scope=\"notes:read\"")
        );
        let body = answer.json();
        assert_eq!(body["error"]["code"], "permission_denied", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("lacks the scope `notes:read`"),
            "{message}"
        );
    }
    // An expired token is 401 whatever its scopes.
    let expired = jwt(&json!({"exp": at(-1), "scope": "notes:read"}));
    assert_eq!(get(&engine, "/v1/notes", &[bearer(&expired)]).status, 401);
    // A token that is no JWT has no claims to read: it passes, as before.
    assert_eq!(get(&engine, "/v1/notes", &[bearer("opaque")]).status, 200);
}

#[test]
fn an_undocumented_403_is_problem_details_naming_every_required_scope() {
    let engine = engine();
    let reader = jwt(&json!({"scope": "notes:read"}));
    let answer = send(&engine, "POST", "/v1/notes", &[bearer(&reader)]);
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\", scope=\"notes:read notes:write\"")
    );
    let body = answer.json();
    assert_eq!(body["status"], 403);
    assert_eq!(body["title"], "Forbidden");
    let violation = &body["violations"][0];
    assert_eq!(violation["keyword"], "scope");
    assert_eq!(violation["field"], "Authorization");
    assert_eq!(violation["limit"], json!(["notes:read", "notes:write"]));
    assert!(
        violation["message"]
            .as_str()
            .unwrap()
            .contains("lacks the scope `notes:write`")
    );
    let writer = jwt(&json!({"scp": "notes:write notes:read"}));
    let created = send(&engine, "POST", "/v1/notes", &[bearer(&writer)]);
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    // openIdConnect requirements name scopes the same way.
    let profile = jwt(&json!({"scope": "openid profile"}));
    assert_eq!(get(&engine, "/v1/profile", &[bearer(&profile)]).status, 200);
    let openid = jwt(&json!({"scope": "openid"}));
    let refused = get(&engine, "/v1/profile", &[bearer(&openid)]);
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\", scope=\"profile\"")
    );
}

#[test]
fn a_refused_token_among_other_schemes_keeps_their_challenges() {
    let engine = engine();
    let expired = jwt(&json!({"exp": at(-3600)}));
    let answer = get(&engine, "/v1/basic", &[bearer(&expired)]);
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let challenge = answer.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with(
            "Basic realm=\"credentials\", Bearer error=\"invalid_token\", error_description=\"the `Bearer` token expired at 2026-12-06T11:00:00Z"
        ),
        "{challenge}"
    );
    assert_eq!(get(&engine, "/v1/basic", &[basic("any:thing")]).status, 200);
}

#[test]
fn valid_token_takes_only_the_tokens_it_names() {
    let listed_jwt = jwt(&json!({"exp": at(3600), "scope": "notes:read"}));
    let engine = engine_with(ValidCredentials {
        tokens: vec!["good-token".into(), listed_jwt.clone()],
        ..ValidCredentials::default()
    });
    assert_eq!(
        get(&engine, "/v1/session", &[bearer("good-token")]).status,
        200
    );
    assert_eq!(
        get(&engine, "/v1/notes", &[bearer(&listed_jwt)]).status,
        200
    );
    for other in [
        "bad-token".to_owned(),
        jwt(&json!({"exp": at(3600), "scope": "notes:read"})).replace("bm90", "BM90"),
    ] {
        let answer = get(&engine, "/v1/session", &[bearer(&other)]);
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{other}");
        assert_eq!(
            answer.header("www-authenticate"),
            Some(
                "Bearer error=\"invalid_token\", error_description=\"the `Bearer` token is not \
                 one the mock takes (--valid-token); it is not shown\""
            )
        );
        assert_eq!(answer.json()["error"]["code"], "unauthenticated");
    }
    // The list is for tokens: Basic still takes anything.
    assert_eq!(get(&engine, "/v1/basic", &[basic("any:thing")]).status, 200);
}

#[test]
fn valid_basic_takes_only_the_pairs_it_names() {
    let engine = engine_with(ValidCredentials {
        basic: vec!["me:secret".into(), "you:pass:with:colons".into()],
        ..ValidCredentials::default()
    });
    assert_eq!(get(&engine, "/v1/basic", &[basic("me:secret")]).status, 200);
    assert_eq!(
        get(&engine, "/v1/basic", &[basic("you:pass:with:colons")]).status,
        200
    );
    for refused in [
        basic("me:wrong"),
        basic("you:secret"),
        ("authorization", "Basic not base64!".to_owned()),
    ] {
        let answer = get(&engine, "/v1/basic", std::slice::from_ref(&refused));
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{refused:?}");
        assert_eq!(
            answer.header("www-authenticate"),
            Some("Basic realm=\"credentials\", Bearer")
        );
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("--valid-basic"), "{message}");
    }
    // The list is for Basic: the bearer alternative still takes any token.
    assert_eq!(get(&engine, "/v1/basic", &[bearer("anything")]).status, 200);
}

#[test]
fn valid_api_key_takes_only_the_keys_it_names_wherever_they_are_sent() {
    let engine = engine_with(ValidCredentials {
        api_keys: vec!["k-1".into()],
        ..ValidCredentials::default()
    });
    let header = |key: &str| ("x-api-key", key.to_owned());
    assert_eq!(get(&engine, "/v1/keys", &[header("k-1")]).status, 200);
    assert_eq!(get(&engine, "/v1/keys?api_key=k-1", &[]).status, 200);
    let answer = get(&engine, "/v1/keys", &[header("k-2")]);
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("header `X-Api-Key` is not a key the mock takes"),
        "{message}"
    );
    assert_eq!(get(&engine, "/v1/keys?api_key=k-2", &[]).status, 401);
    // One good key among the alternatives is enough.
    assert_eq!(
        get(&engine, "/v1/keys?api_key=k-1", &[header("k-2")]).status,
        200
    );
    // Without a list any key passes.
    assert_eq!(
        get(&self::engine(), "/v1/keys", &[header("k-2")]).status,
        200
    );
}

#[test]
fn no_credential_reaches_an_answer_the_request_log_or_the_report() {
    let expired = jwt(&json!({"exp": at(-60), "sub": "jwt-marker"}));
    let engine = engine_with(ValidCredentials {
        tokens: vec!["listed-token-marker".into(), expired.clone()],
        basic: vec!["me:listed-pass-marker".into()],
        api_keys: vec!["listed-key-marker".into()],
    });
    let sent: Vec<(&str, Vec<(&'static str, String)>)> = vec![
        ("/v1/session", vec![bearer(&expired)]),
        ("/v1/session", vec![bearer("wrong-token-marker")]),
        ("/v1/notes", vec![bearer("wrong-token-marker")]),
        ("/v1/basic", vec![basic("me:wrong-pass-marker")]),
        (
            "/v1/keys",
            vec![("x-api-key", "wrong-key-marker".to_owned())],
        ),
        ("/v1/keys?api_key=wrong-key-marker", vec![]),
    ];
    let mut seen = String::new();
    for (uri, headers) in &sent {
        let answer = get(&engine, uri, headers);
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{uri}: {}",
            answer.text
        );
        seen.push_str(&answer.text);
        for (name, value) in &answer.headers {
            seen.push_str(&format!("{name}: {}\n", value.to_str().unwrap()));
        }
    }
    let scoped = jwt(&json!({"scope": "none", "sub": "jwt-marker"}));
    let answer = get(
        &engine_with(ValidCredentials::default()),
        "/v1/notes",
        &[bearer(&scoped)],
    );
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    seen.push_str(&answer.text);
    let log: Value = serde_json::from_slice(&engine.request_log().answer(100, usize::MAX)).unwrap();
    assert_eq!(log["requests"].as_array().unwrap().len(), sent.len());
    let report = engine.contract_report().unwrap();
    seen.push_str(&format!(
        "{log}\n{}\n{}",
        report.to_json(),
        report.to_junit()
    ));
    seen.push_str(&format!("{:?}", engine.options()));
    for secret in [
        expired.as_str(),
        "bm90LWNoZWNrZWQ",
        "jwt-marker",
        "wrong-token-marker",
        "wrong-pass-marker",
        &STANDARD.encode("me:wrong-pass-marker"),
        "wrong-key-marker",
        "listed-token-marker",
        "listed-pass-marker",
        "listed-key-marker",
    ] {
        assert!(!seen.contains(secret), "`{secret}` was shown:\n{seen}");
    }
    // What was refused is still said.
    assert!(seen.contains("expired at 2026-12-06T11:59:00Z"));
    assert!(seen.contains("--valid-api-key"));
}

#[test]
fn scopes_of_an_oauth2_requirement_must_be_a_list_of_names() {
    let document = json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {}}}},
        "paths": {"/a": {"get": {
            "security": [{"oauth": "read"}],
            "responses": {"200": {"description": "ok"}}}}}
    });
    let errors = compile_spec(Path::new("t.yaml"), document).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = errors[0].to_string();
    assert!(error.contains("/paths/~1a/get/security/0/oauth"), "{error}");
    assert!(error.contains("must be an array of strings"), "{error}");
}
