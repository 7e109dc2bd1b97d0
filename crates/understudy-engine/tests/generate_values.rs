//! Believable values: chosen by property name (snake_case and camelCase), `x-faker`, format and
//! example, and consistent within one object (one person, created before updated).

use chrono::{DateTime, NaiveDate, Utc};
use fake::locales::{Data, EN};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use serde_json::{Value, json};
use understudy_engine::generate::Generator;

mod support;
use support::{now, plain_context};

const IANA_AREAS: &[&str] = &[
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "Etc",
];

fn people() -> Value {
    support::spec("people")
}

fn profiles(count: u64) -> Vec<Value> {
    let document = people();
    let schema = json!({"$ref": "#/components/schemas/Profile"});
    let generator = Generator::compile(&document, &schema).expect("a generator");
    (0..count)
        .map(|seed| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            generator.generate(&mut plain_context(&mut rng))
        })
        .collect()
}

fn text<'a>(profile: &'a Value, name: &str) -> &'a str {
    profile[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is a string in {profile}"))
}

fn time(profile: &Value, name: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text(profile, name))
        .unwrap_or_else(|error| panic!("{name}: {error}"))
        .with_timezone(&Utc)
}

#[test]
fn names_are_real_names_and_belong_together() {
    for profile in profiles(200) {
        let first = text(&profile, "first_name");
        let last = text(&profile, "lastName");
        assert!(EN::NAME_FIRST_NAME.contains(&first), "{first}");
        assert!(EN::NAME_LAST_NAME.contains(&last), "{last}");
        assert_eq!(text(&profile, "full_name"), format!("{first} {last}"));
        let email = text(&profile, "email");
        let (local, domain) = email.split_once('@').expect("an @");
        assert!(domain.contains('.'), "{email}");
        let first_ascii: String = first
            .to_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        assert!(local.starts_with(&first_ascii), "{email} for {first}");
        let username = text(&profile, "username");
        assert!(username.starts_with(&first_ascii), "{username} for {first}");
    }
}

#[test]
fn places_zones_and_languages_look_real() {
    for profile in profiles(200) {
        for name in ["time_zone", "timezone"] {
            let zone = text(&profile, name);
            let (area, place) = zone.split_once('/').expect("Area/Location");
            assert!(IANA_AREAS.contains(&area), "{zone}");
            assert!(
                !place.is_empty() && !place.contains(' ') && place.starts_with(char::is_uppercase),
                "{zone}"
            );
        }
        let locale = text(&profile, "locale");
        let (language, region) = locale.split_once('-').expect("ll-RR");
        assert!(language.len() == 2 && language.chars().all(|c| c.is_ascii_lowercase()));
        assert!(region.len() == 2 && region.chars().all(|c| c.is_ascii_uppercase()));
        let language = text(&profile, "language");
        assert!(language.len() == 2 && language.chars().all(|c| c.is_ascii_lowercase()));
        let postal = text(&profile, "postal_code");
        assert!(
            postal.len() == 5 && postal.chars().all(|c| c.is_ascii_digit()),
            "{postal}"
        );
        let phone = text(&profile, "phone_number");
        assert!(
            phone.chars().filter(char::is_ascii_digit).count() >= 10,
            "{phone}"
        );
        let street = text(&profile, "street");
        assert!(street.starts_with(|c: char| c.is_ascii_digit()), "{street}");
        for name in ["city", "country", "company"] {
            let value = text(&profile, name);
            assert!(value.starts_with(char::is_uppercase), "{name}: {value}");
        }
    }
}

#[test]
fn links_pictures_and_texts_fit_their_names() {
    for profile in profiles(100) {
        for name in ["website", "avatar_url", "picture"] {
            let url = text(&profile, name);
            assert!(url.starts_with("https://"), "{name}: {url}");
        }
        let title = text(&profile, "title");
        assert!(
            title.starts_with(char::is_uppercase) && !title.ends_with('.'),
            "{title}"
        );
        let description = text(&profile, "description");
        assert!(
            description.starts_with(char::is_uppercase) && description.ends_with('.'),
            "{description}"
        );
        assert!(description.split(' ').count() >= 5, "{description}");
    }
}

#[test]
fn timestamps_follow_each_other_and_the_clock() {
    for profile in profiles(200) {
        let created = time(&profile, "createdAt");
        let updated = time(&profile, "updatedAt");
        let joined = time(&profile, "date_joined");
        let login = time(&profile, "last_login");
        let expires = time(&profile, "expires_at");
        assert!(created <= updated, "{profile}");
        assert!(updated <= now());
        assert!(joined <= login && login <= now(), "{profile}");
        assert!(expires > now());
        let born =
            NaiveDate::parse_from_str(text(&profile, "birth_date"), "%Y-%m-%d").expect("a date");
        let age = now()
            .date_naive()
            .years_since(born)
            .expect("born in the past");
        assert!((18..=80).contains(&age), "{age}");
    }
}

#[test]
fn examples_give_the_shape_and_x_faker_the_kind() {
    for profile in profiles(100) {
        let id = text(&profile, "id");
        assert!(
            id.starts_with("us_usr_") && id.len() == "us_usr_8f3k2j1d".len(),
            "{id}"
        );
        let code = text(&profile, "referenceCode");
        let digits: Vec<&str> = code.split('-').collect();
        assert_eq!(digits[0], "ORD");
        assert!(digits[1].len() == 4 && digits[2].len() == 6, "{code}");
        assert!(
            code[4..].chars().all(|c| c.is_ascii_digit() || c == '-'),
            "{code}"
        );
        let city = text(&profile, "favourite");
        assert!(city.starts_with(char::is_uppercase), "{city}");
        assert!(
            !text(&profile, "nickname").is_empty(),
            "an unknown x-faker falls back"
        );
        assert!(profile["is_active"].is_boolean());
    }
}

#[test]
fn urls_with_an_example_keep_its_host_unless_a_picture_or_a_pattern_says_otherwise() {
    let schema = json!({"type": "object", "properties": {
        "url": {"type": "string", "format": "uri",
            "example": "https://api.github.com/repos/octocat/Hello-World/issues/1347"},
        "followers_url": {"type": "string",
            "example": "https://api.github.com/users/octocat/followers"},
        "avatar_url": {"type": "string", "format": "uri",
            "example": "https://github.com/images/error/octocat_happy.gif"},
        "home": {"type": "string", "format": "uri", "pattern": "^https://www[.]",
            "example": "https://api.github.com/"},
        "site": {"type": "string", "format": "uri"}
    }});
    let generator = Generator::compile(&json!({}), &schema).expect("a generator");
    let mut issues = std::collections::HashSet::new();
    for seed in 0..50 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let body = generator.generate(&mut plain_context(&mut rng));
        let url = text(&body, "url");
        let number = url
            .strip_prefix("https://api.github.com/repos/octocat/Hello-World/issues/")
            .unwrap_or_else(|| panic!("the example's host and path: {url}"));
        assert!(
            number.len() == 4 && number.bytes().all(|byte| byte.is_ascii_digit()),
            "{url}"
        );
        issues.insert(url.to_owned());
        // Without a format, a URL example is made after too.
        assert_eq!(
            text(&body, "followers_url"),
            "https://api.github.com/users/octocat/followers"
        );
        // A picture's hint still gives a picture of its own.
        let avatar = text(&body, "avatar_url");
        assert!(!avatar.starts_with("https://github.com/"), "{avatar}");
        assert!(avatar.starts_with("https://"), "{avatar}");
        // A pattern the example does not meet: drawn, and meeting the pattern.
        let home = text(&body, "home");
        assert!(home.starts_with("https://www."), "{home}");
        assert!(text(&body, "site").starts_with("https://"));
    }
    assert!(issues.len() > 40, "{issues:?}");
}

#[test]
fn integer_and_string_ids_are_believable() {
    let schema = json!({"type": "object", "required": ["id", "user_id", "uuid", "count"], "properties": {
        "id": {"type": "integer", "format": "int64", "minimum": 1},
        "user_id": {"type": "string"},
        "uuid": {"type": "string", "format": "uuid"},
        "count": {"type": "integer", "minimum": 0}
    }});
    let generator = Generator::compile(&json!({}), &schema).expect("a generator");
    for seed in 0..100 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let body = generator.generate(&mut plain_context(&mut rng));
        assert!(body["id"].as_i64().is_some_and(|id| id >= 1));
        assert_eq!(body["user_id"].as_str().map(str::len), Some(36), "{body}");
        assert_eq!(body["uuid"].as_str().map(str::len), Some(36), "{body}");
        assert!(
            body["count"]
                .as_i64()
                .is_some_and(|count| (0..=100).contains(&count))
        );
    }
}

#[test]
fn the_next_buffer_is_sized_from_the_last_body_within_bounds() {
    let schema = json!({"type": "array", "minItems": 400, "maxItems": 400,
        "items": {"type": "string", "minLength": 20, "maxLength": 20}});
    let generator = Generator::compile(&json!({}), &schema).expect("a generator");
    assert_eq!(generator.body_capacity(), 512, "nothing written yet");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut context = plain_context(&mut rng);
    let mut body = Vec::new();
    generator.write_vouched(&mut context, &mut body);
    let capacity = generator.body_capacity();
    assert!(body.len() > 8_000, "{}", body.len());
    assert!(
        capacity >= body.len() && capacity <= body.len() + body.len() / 8,
        "{capacity} for {}",
        body.len()
    );
    assert_eq!(
        generator.clone().body_capacity(),
        capacity,
        "clones share the size"
    );
    let huge = json!({"type": "string", "enum": ["x".repeat((1 << 20) + 1)]});
    let generator = Generator::compile(&json!({}), &huge).expect("a generator");
    let mut body = Vec::new();
    generator.write_vouched(&mut context, &mut body);
    assert!(body.len() > 1 << 20);
    assert_eq!(generator.body_capacity(), 1 << 20, "bounded");
}
