//! Reproducibility: the same seed, request and clock give byte-identical bodies (timestamps
//! included); another seed or another clock gives another body.

use chrono::{DateTime, Duration, Utc};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::{Value, json};
use understudy_engine::generate::{GenerateContext, Generator};

mod support;
use support::{now, spec};

fn bytes(generator: &Generator, seed: u64, now: DateTime<Utc>, request: Option<&Value>) -> Vec<u8> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let identity = generator.identity().map(|slot| slot.make(&mut rng, 1));
    let body = generator.generate(
        &mut GenerateContext::plain(&mut rng, now)
            .echoing(request, None)
            .with_identity(identity),
    );
    serde_json::to_vec(&body).expect("JSON")
}

fn generators() -> Vec<Generator> {
    let people = spec("people");
    let polymorphism = spec("polymorphism");
    let recursion = spec("recursion");
    let constraints = spec("constraints");
    let mut generators = Vec::new();
    for (document, names) in [
        (&people, &["Profile", "User", "InvitedUser"][..]),
        (&polymorphism, &["Pet", "Payment", "Values", "Contact"][..]),
        (&recursion, &["Category", "Expression", "Creature"][..]),
        (
            &constraints,
            &["Numbers", "Strings", "Arrays", "Objects"][..],
        ),
    ] {
        for name in names {
            let schema = json!({"$ref": format!("#/components/schemas/{name}")});
            generators.push(Generator::compile(document, &schema).expect("a generator"));
        }
    }
    generators
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    for generator in generators() {
        for seed in [0, 1, 42, 9_999] {
            assert_eq!(
                bytes(&generator, seed, now(), None),
                bytes(&generator, seed, now(), None)
            );
        }
    }
}

#[test]
fn the_same_request_gives_the_same_echo() {
    let people = spec("people");
    let generator = Generator::compile(
        &people,
        &json!({"$ref": "#/components/schemas/InvitedUser"}),
    )
    .expect("a generator");
    let request = json!({"email": "ada@example.com", "name": "Ada Lovelace",
        "actorRoles": [{"roleId": "us_rl_abcd1234", "resourceId": "us_env_1"}]});
    assert_eq!(
        bytes(&generator, 3, now(), Some(&request)),
        bytes(&generator, 3, now(), Some(&request))
    );
}

#[test]
fn different_seeds_give_different_bodies() {
    for generator in generators() {
        let first = bytes(&generator, 1, now(), None);
        let differing = (2..12)
            .filter(|seed| bytes(&generator, *seed, now(), None) != first)
            .count();
        assert!(differing >= 9, "only {differing} of 10 seeds differ");
    }
}

#[test]
fn timestamps_move_with_the_clock() {
    let people = spec("people");
    let generator = Generator::compile(&people, &json!({"$ref": "#/components/schemas/Profile"}))
        .expect("a generator");
    let earlier = now() - Duration::days(365);
    let later: Value = serde_json::from_slice(&bytes(&generator, 5, now(), None)).expect("JSON");
    let before: Value = serde_json::from_slice(&bytes(&generator, 5, earlier, None)).expect("JSON");
    assert_ne!(later["createdAt"], before["createdAt"]);
    let updated = DateTime::parse_from_rfc3339(before["updatedAt"].as_str().unwrap_or_default())
        .expect("a timestamp");
    assert!(updated <= earlier);
}
