//! Responses consistent with their request: echoed by name through a request wrapper and a
//! response wrapper, across snake_case and camelCase, into arrays of objects, with the request
//! schema's defaults, and never at the cost of validity.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::{Value, json};
use understudy_engine::generate::{Defaults, GenerateContext, Generated, Generator};
use understudy_engine::json_schema::response_validator;

mod support;
use support::now;

fn people() -> Value {
    support::spec("people")
}

fn schema(pointer: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{pointer}") })
}

/// Generates a response for `request` after applying the request schema's defaults.
fn respond(
    document: &Value,
    request_schema: &Value,
    response_schema: &Value,
    request: Value,
    seed: u64,
) -> (Value, Value) {
    let (request, generated) =
        respond_vouched(document, request_schema, response_schema, request, seed);
    (request, generated.body)
}

/// [`respond`], with whether the generator vouches for the body.
///
/// The server reads the request schema's defaults through the request instead of filling them
/// in: every response here is made both ways, built and written, and must be the same.
fn respond_vouched(
    document: &Value,
    request_schema: &Value,
    response_schema: &Value,
    request: Value,
    seed: u64,
) -> (Value, Generated) {
    let defaults = Defaults::compile(document, request_schema);
    let filled = defaults.filled(&request);
    let generator = Generator::compile(document, response_schema).expect("a generator");
    fn context<'a>(
        rng: &'a mut Xoshiro256PlusPlus,
        body: &'a Value,
        defaults: Option<&'a Defaults>,
    ) -> GenerateContext<'a> {
        GenerateContext::plain(rng, now()).echoing(Some(body), defaults)
    }
    let generated = generator.generate_vouched(&mut context(
        &mut Xoshiro256PlusPlus::seed_from_u64(seed),
        &filled,
        None,
    ));
    let read_through = generator.generate_vouched(&mut context(
        &mut Xoshiro256PlusPlus::seed_from_u64(seed),
        &request,
        Some(&defaults),
    ));
    assert_eq!(
        read_through.body, generated.body,
        "read through, seed {seed}"
    );
    assert_eq!(read_through.vouched, generated.vouched, "seed {seed}");
    let mut written = Vec::new();
    let written_vouched = generator.write_vouched(
        &mut context(
            &mut Xoshiro256PlusPlus::seed_from_u64(seed),
            &request,
            Some(&defaults),
        ),
        &mut written,
    );
    assert_eq!(
        written,
        serde_json::to_vec(&generated.body).expect("a body serializes"),
        "written through, seed {seed}"
    );
    assert_eq!(written_vouched, generated.vouched, "seed {seed}");
    (filled, generated)
}

#[test]
fn a_wrapped_request_is_echoed_into_an_unwrapped_response_with_its_defaults() {
    let document = people();
    let request = json!({"user": {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email_address": "ada@example.com",
        "password": "correct horse",
        "can_create_projects": true
    }});
    for seed in 0..50 {
        let (_, body) = respond(
            &document,
            &schema("CreateUser"),
            &schema("User"),
            request.clone(),
            seed,
        );
        assert_eq!(body["first_name"], "Ada");
        assert_eq!(body["last_name"], "Lovelace");
        assert_eq!(body["email_address"], "ada@example.com");
        assert_eq!(body["can_create_projects"], true, "given");
        assert_eq!(body["administrator"], false, "defaulted");
        assert_eq!(body["can_view_servers"], false, "defaulted");
        assert_eq!(body["time_zone"], "London", "defaulted");
        assert!(body.get("password").is_none());
        let validator = response_validator(&document, &schema("User")).expect("a validator");
        assert!(validator.is_valid(&body), "{body}");
    }
}

#[test]
fn arrays_of_objects_keep_what_the_request_gave_and_gain_ids_and_timestamps() {
    let document = people();
    let request = json!({
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "actorRoles": [
            {"roleId": "us_rl_abcd1234", "resourceId": "us_env_1"},
            {"roleId": "us_rl_wxyz9876", "resourceId": "us_acc_2"},
            {"roleId": "us_rl_zzzz0000", "resourceId": "us_acc_3"}
        ]
    });
    let response = &document["paths"]["/v1/users/invite"]["post"]["responses"]["201"]["content"]["application/json"]
        ["schema"];
    let validator = response_validator(&document, response).expect("a validator");
    for seed in 0..50 {
        let (_, body) = respond(
            &document,
            &schema("Invite"),
            response,
            request.clone(),
            seed,
        );
        assert!(validator.is_valid(&body), "{body}");
        let data = &body["data"];
        assert_eq!(data["email"], "ada@example.com");
        assert_eq!(data["name"], "Ada Lovelace");
        let roles = data["actorRoles"].as_array().expect("an array");
        assert_eq!(roles.len(), 3);
        for (role, asked) in roles
            .iter()
            .zip(request["actorRoles"].as_array().into_iter().flatten())
        {
            assert_eq!(role["roleId"], asked["roleId"]);
            assert_eq!(role["resourceId"], asked["resourceId"]);
            let id = role["id"].as_str().expect("a generated id");
            assert!(id.starts_with("us_acr_") && id.len() == 15, "{id}");
            let created = role["createdAt"].as_str().expect("a timestamp");
            let updated = role["updatedAt"].as_str().expect("a timestamp");
            assert!(created <= updated, "{created} then {updated}");
        }
        let user_id = data["id"].as_str().expect("an id");
        assert!(user_id.starts_with("us_usr_"), "{user_id}");
    }
}

#[test]
fn snake_case_and_camel_case_names_match_both_ways() {
    let document = json!({});
    let camel = json!({"type": "object", "required": ["firstName", "emailAddress"], "properties": {
        "firstName": {"type": "string"},
        "emailAddress": {"type": "string", "format": "email"}
    }});
    let snake = json!({"type": "object", "required": ["first_name", "email_address"], "properties": {
        "first_name": {"type": "string"},
        "email_address": {"type": "string", "format": "email"}
    }});
    let (_, body) = respond(
        &document,
        &camel,
        &snake,
        json!({"firstName": "Grace", "emailAddress": "grace@example.org"}),
        1,
    );
    assert_eq!(
        body,
        json!({"first_name": "Grace", "email_address": "grace@example.org"})
    );
    let (_, body) = respond(
        &document,
        &snake,
        &camel,
        json!({"first_name": "Grace", "email_address": "grace@example.org"}),
        1,
    );
    assert_eq!(
        body,
        json!({"firstName": "Grace", "emailAddress": "grace@example.org"})
    );
}

#[test]
fn a_request_value_that_does_not_fit_the_response_is_generated_instead() {
    let document = json!({});
    let response = json!({"type": "object", "required": ["email", "name", "age", "code"], "properties": {
        "email": {"type": "string", "format": "email"},
        "name": {"type": "string", "maxLength": 5},
        "age": {"type": "integer", "minimum": 0},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"}
    }});
    let request =
        json!({"email": "not an e-mail", "name": "Bartholomew", "age": "old", "code": "abc"});
    let validator = response_validator(&document, &response).expect("a validator");
    for seed in 0..50 {
        let (_, body) = respond(&document, &json!({}), &response, request.clone(), seed);
        assert!(validator.is_valid(&body), "{body}");
        assert_ne!(body["email"], request["email"]);
        assert_ne!(body["name"], request["name"]);
        assert!(body["age"].is_i64());
        assert_ne!(body["code"], request["code"]);
    }
}

#[test]
fn without_echo_the_request_is_ignored() {
    let document = people();
    let generator = Generator::compile(&document, &schema("User")).expect("a generator");
    let request = json!({"user": {"first_name": "Ada", "last_name": "Lovelace"}});
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let mut context = GenerateContext::plain(&mut rng, now());
    // A request body without `echo` (a fallback's context) is not read.
    context.request_body = Some(&request);
    let body = generator.generate(&mut context);
    assert_ne!(body["first_name"], "Ada");
}

#[test]
fn the_identity_goes_where_the_slot_says() {
    let document = people();
    let response = &document["paths"]["/v1/users/invite"]["post"]["responses"]["201"]["content"]["application/json"]
        ["schema"];
    let generator = Generator::compile(&document, response).expect("a generator");
    let slot = generator.identity().expect("an identity slot");
    assert_eq!(slot.pointer, "/data/id");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let first = slot.make(&mut rng, 1);
    let second = slot.make(&mut rng, 2);
    assert_ne!(first, second);
    let body = generator
        .generate(&mut GenerateContext::plain(&mut rng, now()).with_identity(Some(first.clone())));
    assert_eq!(body.pointer("/data/id"), Some(&first));

    let users = Generator::compile(&document, &schema("User")).expect("a generator");
    let slot = users.identity().expect("an identity slot");
    assert_eq!(slot.pointer, "/id");
    assert_eq!(slot.make(&mut rng, 1), json!(1));
    assert_eq!(slot.make(&mut rng, 7), json!(7));
}

#[test]
fn a_marked_property_is_the_identity() {
    let schema = json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "key": {"type": "string", "format": "uuid", "x-understudy-identity": true}
    }});
    let generator = Generator::compile(&json!({}), &schema).expect("a generator");
    let slot = generator.identity().expect("an identity slot");
    assert_eq!(slot.pointer, "/key");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let id = slot.make(&mut rng, 1);
    assert_eq!(id.as_str().map(str::len), Some(36));
}

#[test]
fn the_generator_vouches_for_an_echoed_body_only_when_every_check_was_exact() {
    let document = people();
    let request = json!({"user": {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email_address": "ada@example.com",
        "password": "correct horse",
        "can_create_projects": true
    }});
    let validator = response_validator(&document, &schema("User")).expect("a validator");
    for seed in 0..20 {
        let (_, generated) = respond_vouched(
            &document,
            &schema("CreateUser"),
            &schema("User"),
            request.clone(),
            seed,
        );
        assert!(generated.vouched, "seed {seed}: {}", generated.body);
        assert!(validator.is_valid(&generated.body), "{}", generated.body);
        assert_eq!(generated.body["email_address"], json!("ada@example.com"));
    }

    // A property whose `$ref` leads nowhere is read as `{}`, which is looser than any validator:
    // the generator can no longer vouch for what it echoes there.
    let mut loose = document.clone();
    loose["components"]["schemas"]["Loose"] = json!({
        "type": "object",
        "properties": {
            "email_address": {"$ref": "#/components/schemas/Missing"},
            "first_name": {"type": "string"}
        }
    });
    let (_, generated) =
        respond_vouched(&loose, &schema("CreateUser"), &schema("Loose"), request, 1);
    assert!(!generated.vouched, "{}", generated.body);
}

/// Defaults in nested objects, in array items, as whole objects (with and without defaults of
/// their own inside), and inside an object echoed as it is: read through the request, they give
/// what filling them in gives (`respond_vouched` compares the two).
#[test]
fn defaults_read_through_the_request_give_what_filling_them_in_gives() {
    let document = json!({"components": {"schemas": {
        "Settings": {"type": "object", "properties": {
            "theme": {"type": "string", "default": "light"},
            "digest": {"type": "boolean", "default": true}
        }},
        "Member": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"},
            "role": {"type": "string", "default": "member"}
        }},
        "Request": {"type": "object", "properties": {"team": {"type": "object", "properties": {
            "name": {"type": "string"},
            "plan": {"type": "string", "default": "free"},
            "settings": {"$ref": "#/components/schemas/Settings"},
            "members": {"type": "array", "items": {"$ref": "#/components/schemas/Member"}},
            "labels": {"type": "object", "default": {"color": "blue"}},
            "extra": {"type": "object", "additionalProperties": true,
                "properties": {"note": {"type": "string", "default": "none"}}}
        }}}},
        "Filled": {"type": "object", "properties": {"team": {"type": "object", "properties": {
            "settings": {"$ref": "#/components/schemas/Settings",
                "default": {"theme": "dark"}}
        }}}},
        "Team": {"type": "object", "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "plan": {"type": "string"},
            "settings": {"type": "object", "properties": {
                "theme": {"type": "string"}, "digest": {"type": "boolean"}}},
            "members": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "role": {"type": "string"}}}},
            "labels": {"type": "object", "properties": {"color": {"type": "string"}}},
            "extra": {"type": "object"}
        }}
    }}});
    let request = json!({"team": {
        "name": "Core",
        "settings": {"theme": "dark"},
        "members": [{"name": "Ada"}, {"name": "Alan", "role": "owner"}],
        "extra": {"mood": "calm"}
    }});
    for seed in 0..40 {
        let (_, body) = respond(
            &document,
            &schema("Request"),
            &schema("Team"),
            request.clone(),
            seed,
        );
        assert_eq!(body["plan"], "free", "a default beside given values");
        assert_eq!(body["settings"]["theme"], "dark", "given");
        assert_eq!(
            body["settings"]["digest"], true,
            "a default inside a given object"
        );
        assert_eq!(
            body["members"][0]["role"], "member",
            "a default in array items"
        );
        assert_eq!(body["members"][1]["role"], "owner");
        assert_eq!(body["labels"]["color"], "blue", "an object default");
        assert_eq!(
            body["extra"],
            json!({"mood": "calm", "note": "none"}),
            "an object echoed as it is, its default filled in"
        );
    }
    // A default that is an object with defaults of its own inside is filled into a copy.
    let filled = Defaults::compile(&document, &schema("Filled"));
    assert!(!filled.readable_through());
    assert!(Defaults::compile(&document, &schema("Request")).readable_through());
    for seed in 0..10 {
        let (_, body) = respond(
            &document,
            &schema("Filled"),
            &schema("Team"),
            json!({"team": {"name": "Ops"}}),
            seed,
        );
        assert_eq!(body["settings"], json!({"theme": "dark", "digest": true}));
    }
}
