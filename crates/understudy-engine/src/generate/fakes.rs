//! Believable leaf values: names, e-mails, addresses, time zones, URLs, texts and timestamps from
//! the `fake` crate, chosen by hint and format (`like_example` makes values after an example).

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Duration, Months, Timelike, Utc};
use fake::Fake;
use fake::faker::address::en::{
    BuildingNumber, CityName, CountryCode, CountryName, StateName, StreetName, TimeZone,
};
use fake::faker::company::en::{CatchPhrase, CompanyName};
use fake::faker::currency::en::CurrencyCode;
use fake::faker::filesystem::en::{MimeType, Semver};
use fake::faker::internet::en::{DomainSuffix, FreeEmailProvider, IPv4, IPv6, Password};
use fake::faker::job::en::Title as JobTitle;
use fake::faker::lorem::en::Word;
use fake::faker::name::en::{FirstName, LastName};
use fake::faker::number::en::NumberWithFormat;
use fake::faker::phone_number::en::PhoneNumber;
use fake::locales::{Data, EN};
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::IndexedRandom;
use rand::{Rng as _, RngExt};
use std::sync::LazyLock;

use super::echo::EchoScope;
use super::hint::Hint;

const LOCALES: &[&str] = &[
    "en-US", "en-GB", "fr-FR", "de-DE", "es-ES", "it-IT", "nl-NL", "pt-BR", "ja-JP", "zh-CN",
    "sv-SE", "pl-PL",
];
const LANGUAGES: &[&str] = &[
    "en", "fr", "de", "es", "it", "nl", "pt", "ja", "zh", "sv", "pl",
];

/// A person the values of one object agree on (name, e-mail, username).
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) first: String,
    pub(crate) last: String,
}

impl Person {
    pub(crate) fn random(rng: &mut Xoshiro256PlusPlus) -> Person {
        Person {
            first: FirstName().fake_with_rng(rng),
            last: LastName().fake_with_rng(rng),
        }
    }

    #[cfg(test)]
    pub(crate) fn full(&self) -> String {
        let mut full = String::new();
        self.push_full(&mut full);
        full
    }

    /// Writes the first and last names, a space between.
    fn push_full(&self, out: &mut String) {
        out.push_str(&self.first);
        out.push(' ');
        out.push_str(&self.last);
    }

    #[cfg(test)]
    pub(crate) fn email(&self, rng: &mut Xoshiro256PlusPlus) -> String {
        let mut out = String::with_capacity(self.first.len() + self.last.len() + 24);
        self.push_email(&mut out, rng);
        out
    }

    /// Writes an address made of the names, at `example.com` or a free provider.
    pub(crate) fn push_email(&self, out: &mut String, rng: &mut Xoshiro256PlusPlus) {
        let provider: &str = if rng.random_ratio(2, 3) {
            "example.com"
        } else {
            FreeEmailProvider().fake_with_rng(rng)
        };
        self.push_username(out, '.');
        out.push('@');
        out.push_str(provider);
    }

    #[cfg(test)]
    pub(crate) fn username(&self, separator: char) -> String {
        let mut out = String::with_capacity(self.first.len() + self.last.len() + 1);
        self.push_username(&mut out, separator);
        out
    }

    /// The first and last names as ASCII slugs joined by `separator`, or whichever is not
    /// empty, or `user`.
    fn push_username(&self, out: &mut String, separator: char) {
        let start = out.len();
        push_ascii_slug(out, &self.first);
        let first_end = out.len();
        push_ascii_slug(out, &self.last);
        match (first_end == start, out.len() == first_end) {
            (false, false) => out.insert(first_end, separator),
            (true, true) => out.push_str("user"),
            _ => {}
        }
    }
}

/// Who one object is about: a person drawn once, keeping the names the request gave.
#[derive(Debug, Clone, Default)]
pub(crate) struct Who<'s> {
    /// The request object the names come from, read only when the person is drawn (most objects
    /// draw no one).
    scope: Option<&'s EchoScope<'s>>,
    person: Option<Person>,
}

impl<'s> Who<'s> {
    /// Someone who keeps the first and last names `scope` gives, if any.
    pub(crate) fn new(scope: Option<&'s EchoScope<'s>>) -> Who<'s> {
        Who {
            scope,
            person: None,
        }
    }

    /// The person, drawn on first use.
    pub(crate) fn person(&mut self, rng: &mut Xoshiro256PlusPlus) -> &Person {
        let scope = self.scope;
        self.person.get_or_insert_with(|| {
            let mut person = Person::random(rng);
            let (first, last) = scope.map(EchoScope::person_names).unwrap_or_default();
            if let Some(first) = first {
                first.clone_into(&mut person.first);
            }
            if let Some(last) = last {
                last.clone_into(&mut person.last);
            }
            person
        })
    }
}

/// The moments one object's timestamps agree on: created first, then updates up to now. The
/// creation is kept as an age in seconds and made a date only when a timestamp asks for it: most
/// objects have no timestamp, and the date arithmetic costs more than the draw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub(crate) now: DateTime<Utc>,
    /// How many seconds before `now` the record was created.
    age: i64,
}

impl Clock {
    /// A clock whose record was created in the past year or so, and not before `since` seconds
    /// ago (the age of the record it belongs to) when that is given.
    pub(crate) fn new(
        rng: &mut Xoshiro256PlusPlus,
        now: DateTime<Utc>,
        since: Option<i64>,
    ) -> Clock {
        let age = match since {
            Some(since) if since > 0 => since - rng.random_range(0..=since / 2),
            _ => rng.random_range(3_600..=400 * 86_400),
        };
        Clock { now, age }
    }

    /// How many seconds before `now` the record was created.
    pub(crate) fn age(&self) -> i64 {
        self.age
    }

    /// When the record was created.
    pub(crate) fn created(&self) -> DateTime<Utc> {
        self.now - Duration::seconds(self.age)
    }

    /// The moment a time hint stands for.
    pub(crate) fn moment(&self, rng: &mut Xoshiro256PlusPlus, hint: Option<Hint>) -> DateTime<Utc> {
        match hint {
            Some(Hint::Created) => self.created(),
            Some(Hint::Future) => {
                self.now + Duration::seconds(rng.random_range(3_600..=365 * 86_400))
            }
            Some(Hint::Past) => self.now - Duration::seconds(rng.random_range(60..=365 * 86_400)),
            Some(Hint::BirthDate) => {
                // Between 18 and 80 years old today, counted in calendar years: 18 × 365 days
                // ago is a few days short of an 18th birthday.
                let today = self.now.date_naive();
                let youngest = today
                    .checked_sub_months(Months::new(18 * 12))
                    .unwrap_or(today);
                let oldest = youngest
                    .checked_sub_months(Months::new(62 * 12))
                    .unwrap_or(youngest);
                let span = (youngest - oldest).num_days().max(0);
                let day = youngest - Duration::days(rng.random_range(0..=span));
                day.and_hms_opt(0, 0, 0)
                    .map_or(self.now, |midnight| midnight.and_utc())
            }
            _ => {
                let span = self.age.max(0);
                // The creation and then the time since, in one step of date arithmetic.
                let since_created = rng.random_range(0..=span);
                self.now - Duration::seconds(self.age - since_created)
            }
        }
    }
}

/// [`push_date_time`] into a string of its own.
#[cfg(test)]
pub(crate) fn date_time(moment: DateTime<Utc>) -> String {
    let mut out = String::new();
    push_date_time(&mut out, moment);
    out
}

/// Writes `moment` in RFC 3339 with seconds and `Z`, as most APIs write it.
pub(crate) fn push_date_time(out: &mut String, moment: DateTime<Utc>) {
    let start = out.len();
    if !push_date(out, moment) || !has_plain_seconds(moment) {
        out.truncate(start);
        let _ = write!(out, "{}", moment.format("%Y-%m-%dT%H:%M:%SZ"));
        return;
    }
    out.push('T');
    push_time(out, moment);
}

/// [`push_day`] into a string of its own.
#[cfg(test)]
pub(crate) fn date(moment: DateTime<Utc>) -> String {
    let mut out = String::new();
    push_day(&mut out, moment);
    out
}

/// Writes `moment`'s day, `YYYY-MM-DD` (chrono's `%Y-%m-%d`).
pub(crate) fn push_day(out: &mut String, moment: DateTime<Utc>) {
    if !push_date(out, moment) {
        let _ = write!(out, "{}", moment.format("%Y-%m-%d"));
    }
}

/// [`push_time_of_day`] into a string of its own.
#[cfg(test)]
pub(crate) fn time(moment: DateTime<Utc>) -> String {
    let mut out = String::new();
    push_time_of_day(&mut out, moment);
    out
}

/// Writes `moment`'s time of day, `HH:MM:SSZ` (chrono's `%H:%M:%SZ`).
pub(crate) fn push_time_of_day(out: &mut String, moment: DateTime<Utc>) {
    if !has_plain_seconds(moment) {
        let _ = write!(out, "{}", moment.format("%H:%M:%SZ"));
        return;
    }
    push_time(out, moment);
}

/// Writes `YYYY-MM-DD` as chrono's `%Y-%m-%d` does, without parsing a format string each time
/// (large responses hold many timestamps); false, writing nothing, for a year chrono would sign.
fn push_date(out: &mut String, moment: DateTime<Utc>) -> bool {
    // The naive day, taken once: each of `DateTime`'s own getters adds the (zero) offset first.
    let day = moment.naive_utc().date();
    let Ok(year) = u32::try_from(day.year()) else {
        return false;
    };
    if year > 9999 {
        return false;
    }
    push_digits(out, year, 4);
    out.push('-');
    push_digits(out, day.month(), 2);
    out.push('-');
    push_digits(out, day.day(), 2);
    true
}

/// Whether [`push_date_time`], [`push_day`] and [`push_time_of_day`] write `moment` in their plain RFC 3339 forms
/// (`YYYY-MM-DDTHH:MM:SSZ` and its parts): a year of four digits and no leap second. Such a text
/// is a real date and time, which the server's format checks accept.
pub(crate) fn has_plain_form(moment: DateTime<Utc>) -> bool {
    (0..=9999).contains(&moment.naive_utc().year()) && has_plain_seconds(moment)
}

/// Whether `moment` is not within a leap second (which chrono writes as second 60).
fn has_plain_seconds(moment: DateTime<Utc>) -> bool {
    moment.naive_utc().nanosecond() < 1_000_000_000
}

/// Writes `HH:MM:SSZ` as chrono's `%H:%M:%SZ` does, for a moment with plain seconds.
fn push_time(out: &mut String, moment: DateTime<Utc>) {
    let time = moment.naive_utc().time();
    push_digits(out, time.hour(), 2);
    out.push(':');
    push_digits(out, time.minute(), 2);
    out.push(':');
    push_digits(out, time.second(), 2);
    out.push('Z');
}

/// Writes the last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u32.pow(place)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// The lower-case hexadecimal digits.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes `byte` as two lower-case hexadecimal digits.
fn push_hex(out: &mut String, byte: u8) {
    out.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
    out.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
}

/// [`push_uuid`] into a string of its own.
#[cfg(test)]
pub(crate) fn uuid(rng: &mut Xoshiro256PlusPlus) -> String {
    let mut text = String::with_capacity(36);
    push_uuid(&mut text, rng);
    text
}

/// Writes a random version-4 UUID.
pub(crate) fn push_uuid(out: &mut String, rng: &mut Xoshiro256PlusPlus) {
    // Two draws of 64 bits rather than sixteen of a byte, and the text made on the stack and
    // copied once: a large body holds dozens of UUIDs.
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut text = [b'-'; 36];
    let mut at = 0;
    for (index, byte) in bytes.into_iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            at += 1;
        }
        text[at] = HEX_DIGITS[usize::from(byte >> 4)];
        text[at + 1] = HEX_DIGITS[usize::from(byte & 0x0f)];
        at += 2;
    }
    // Hexadecimal digits and dashes: always ASCII.
    if let Ok(text) = std::str::from_utf8(&text) {
        out.push_str(text);
    }
}

/// [`push_text`] into a string of its own (`None` for hints that are not texts).
#[cfg(test)]
pub(crate) fn text(
    hint: Hint,
    rng: &mut Xoshiro256PlusPlus,
    who: &mut Who<'_>,
    clock: &Clock,
) -> Option<String> {
    let mut out = String::new();
    push_text(&mut out, hint, rng, who, clock).then_some(out)
}

/// Writes the value a hint stands for; false, writing nothing, for hints that are not texts. Generated strings are written into one buffer that is used again for
/// the next (a large body holds hundreds of them), so most hints push their parts rather than
/// making strings of their own.
pub(crate) fn push_text(
    out: &mut String,
    hint: Hint,
    rng: &mut Xoshiro256PlusPlus,
    who: &mut Who<'_>,
    clock: &Clock,
) -> bool {
    match hint {
        Hint::FirstName => out.push_str(&who.person(rng).first),
        Hint::LastName => out.push_str(&who.person(rng).last),
        Hint::FullName => who.person(rng).push_full(out),
        Hint::Username => {
            let person = who.person(rng);
            if rng.random_bool(0.5) {
                person.push_username(out, '_');
            } else {
                push_ascii_slug(out, &person.first);
                let _ = write!(out, "{}", rng.random_range(1..100));
            }
        }
        Hint::Email => who.person(rng).push_email(out, rng),
        Hint::Phone => out.push_str(&PhoneNumber().fake_with_rng::<String, _>(rng)),
        Hint::Company => out.push_str(&CompanyName().fake_with_rng::<String, _>(rng)),
        Hint::JobTitle => out.push_str(&JobTitle().fake_with_rng::<String, _>(rng)),
        Hint::Street => {
            let number: String = BuildingNumber().fake_with_rng(rng);
            let street: String = StreetName().fake_with_rng(rng);
            out.push_str(&number);
            out.push(' ');
            out.push_str(&street);
        }
        Hint::City => out.push_str(&CityName().fake_with_rng::<String, _>(rng)),
        Hint::State => out.push_str(&StateName().fake_with_rng::<String, _>(rng)),
        Hint::Country => out.push_str(&CountryName().fake_with_rng::<String, _>(rng)),
        Hint::CountryCode => out.push_str(&CountryCode().fake_with_rng::<String, _>(rng)),
        Hint::PostCode => out.push_str(&NumberWithFormat("#####").fake_with_rng::<String, _>(rng)),
        Hint::TimeZone => out.push_str(&TimeZone().fake_with_rng::<String, _>(rng)),
        Hint::Locale => out.push_str(pick(rng, LOCALES)),
        Hint::Language => out.push_str(pick(rng, LANGUAGES)),
        Hint::Currency => out.push_str(&CurrencyCode().fake_with_rng::<String, _>(rng)),
        Hint::Url => push_url(out, rng),
        Hint::Domain => push_domain(out, rng),
        Hint::Hostname => {
            out.push_str(pick(rng, &["api", "app", "www", "mail", "cdn"]));
            out.push('.');
            push_domain(out, rng);
        }
        Hint::Avatar => {
            out.push_str("https://i.pravatar.cc/300?u=");
            push_uuid(out, rng);
        }
        Hint::Image => {
            let seed: &str = Word().fake_with_rng(rng);
            let width = rng.random_range(2..=8) * 100;
            let height = rng.random_range(2..=8) * 100;
            let _ = write!(out, "https://picsum.photos/seed/{seed}/{width}/{height}");
        }
        Hint::Title => {
            let phrase: String = CatchPhrase().fake_with_rng(rng);
            push_capitalized(out, &phrase);
        }
        Hint::Label => {
            // As fake's `Words(1..3)`: how many, then each word.
            let start = out.len();
            push_words(out, rng, 1..3, ' ');
            capitalize_from(out, start);
        }
        Hint::Description => push_sentence(out, rng, 6..14),
        Hint::Paragraph => {
            // As fake's `Sentences(2..4)`: how many, then each sentence of 4 to 9 words.
            let count: usize = (2..4).fake_with_rng(rng);
            for index in 0..count {
                if index > 0 {
                    out.push(' ');
                }
                push_sentence(out, rng, 4..10);
            }
        }
        Hint::Word => out.push_str(Word().fake_with_rng::<&str, _>(rng)),
        Hint::Slug => push_words(out, rng, 2..4, '-'),
        Hint::Password => out.push_str(&Password(12..20).fake_with_rng::<String, _>(rng)),
        Hint::Token => {
            let bytes: [u8; 20] = rng.random();
            for byte in bytes {
                push_hex(out, byte);
            }
        }
        Hint::Uuid | Hint::Id => push_uuid(out, rng),
        Hint::Ip => out.push_str(&IPv4().fake_with_rng::<String, _>(rng)),
        Hint::Ipv6 => out.push_str(&IPv6().fake_with_rng::<String, _>(rng)),
        Hint::Color => {
            let _ = write!(out, "#{:06x}", rng.random_range(0..0x0100_0000));
        }
        Hint::MimeType => out.push_str(&MimeType().fake_with_rng::<String, _>(rng)),
        Hint::Version => out.push_str(&Semver().fake_with_rng::<String, _>(rng)),
        Hint::Created | Hint::Recent | Hint::Past | Hint::Future => {
            push_date_time(out, clock.moment(rng, Some(hint)));
        }
        Hint::BirthDate => push_day(out, clock.moment(rng, Some(hint))),
        Hint::Age
        | Hint::Year
        | Hint::Count
        | Hint::Amount
        | Hint::Percent
        | Hint::Latitude
        | Hint::Longitude
        | Hint::Port
        | Hint::Number
        | Hint::Boolean
        | Hint::Active
        | Hint::Inactive => return false,
    }
    true
}

/// The range a numeric hint prefers and how many decimals its values have.
pub(crate) fn numeric_range(hint: Option<Hint>, now: DateTime<Utc>) -> (f64, f64, u32) {
    match hint {
        Some(Hint::Age) => (18.0, 80.0, 0),
        Some(Hint::Year) => (f64::from(now.year() - 10), f64::from(now.year()), 0),
        Some(Hint::Count) => (1.0, 100.0, 0),
        Some(Hint::Amount) => (1.0, 2_000.0, 2),
        Some(Hint::Percent) => (0.0, 100.0, 1),
        Some(Hint::Latitude) => (-90.0, 90.0, 6),
        Some(Hint::Longitude) => (-180.0, 180.0, 6),
        Some(Hint::Port) => (1_024.0, 65_535.0, 0),
        Some(Hint::Id) => (1.0, 99_999.0, 0),
        Some(Hint::Version) => (1.0, 20.0, 0),
        _ => (1.0, 1_000.0, 2),
    }
}

/// [`push_url`] into a string of its own.
#[cfg(test)]
pub(crate) fn url(rng: &mut Xoshiro256PlusPlus) -> String {
    let mut out = String::new();
    push_url(&mut out, rng);
    out
}

/// Writes a URL on a believable domain (large responses hold hundreds of URLs). The random draws
/// are those of [`push_domain`], then the choice, then the path words.
pub(crate) fn push_url(out: &mut String, rng: &mut Xoshiro256PlusPlus) {
    out.push_str("https://");
    let host_at = out.len();
    push_domain(out, rng);
    if rng.random_bool(0.5) {
        out.insert_str(host_at, "www.");
    } else {
        out.push('/');
        push_words(out, rng, 1..3, '/');
    }
}

/// Writes lorem words drawn as fake's `Words(range)` draws them (how many, then each word),
/// joined by `separator`.
fn push_words(
    out: &mut String,
    rng: &mut Xoshiro256PlusPlus,
    range: std::ops::Range<usize>,
    separator: char,
) {
    let count: usize = range.fake_with_rng(rng);
    for index in 0..count {
        if index > 0 {
            out.push(separator);
        }
        out.push_str(Word().fake_with_rng::<&str, _>(rng));
    }
}

/// [`push_domain`] into a string of its own.
#[cfg(test)]
pub(crate) fn domain(rng: &mut Xoshiro256PlusPlus) -> String {
    let mut out = String::new();
    push_domain(&mut out, rng);
    out
}

/// Writes a registrable domain name such as `schmidt.io`.
fn push_domain(out: &mut String, rng: &mut Xoshiro256PlusPlus) {
    // The same draw as `LastName()`: a choice among as many entries.
    let label = last_name_slugs()
        .choose(rng)
        .map_or("example", String::as_str);
    let suffix: &str = DomainSuffix().fake_with_rng(rng);
    out.push_str(label);
    out.push('.');
    out.push_str(suffix);
}

/// The host label made of each last name fake draws from, in its order: the name's ASCII slug,
/// or `example` when nothing of it is left. Made once; hundreds of URLs in a large body each
/// draw one.
fn last_name_slugs() -> &'static [String] {
    static SLUGS: LazyLock<Vec<String>> = LazyLock::new(|| {
        EN::NAME_LAST_NAME
            .iter()
            .map(|name| {
                let slug = ascii_slug(name);
                if slug.is_empty() {
                    "example".to_owned()
                } else {
                    slug
                }
            })
            .collect()
    });
    &SLUGS
}

/// Lorem words joined by spaces, at least `min` characters long when possible.
pub(crate) fn words(rng: &mut Xoshiro256PlusPlus, min: usize) -> String {
    let mut text: String = Word().fake_with_rng(rng);
    while text.chars().count() < min {
        let word: String = Word().fake_with_rng(rng);
        text.push(' ');
        text.push_str(&word);
    }
    text
}

/// Base64 of a few random bytes.
pub(crate) fn base64(rng: &mut Xoshiro256PlusPlus, length: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = (0..length).map(|_| rng.random()).collect();
    let mut out = String::with_capacity(length.div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (index, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if index <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Lowercase ASCII letters and digits of a name (accents dropped), for e-mails and usernames.
pub(crate) fn ascii_slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    push_ascii_slug(&mut out, name);
    out
}

fn push_ascii_slug(out: &mut String, name: &str) {
    // Most names are plain ASCII letters already: copied, then lower-cased in place.
    if name.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        let start = out.len();
        out.push_str(name);
        if let Some(pushed) = out.get_mut(start..) {
            pushed.make_ascii_lowercase();
        }
        return;
    }
    push_slug_by_chars(out, name);
}

/// [`push_ascii_slug`] char by char: accents dropped from the letters that have a plain form,
/// every other character that is not an ASCII letter or digit left out.
fn push_slug_by_chars(out: &mut String, name: &str) {
    out.extend(name.chars().filter_map(|c| {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        };
        c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase())
    }));
}

/// A capitalized lorem sentence of `words` words, drawn as fake's `Sentence` draws it (the count,
/// then each word) but written straight into `out`: the lorem words are lower-case ASCII, so the
/// first byte is upper-cased in place.
fn push_sentence(out: &mut String, rng: &mut Xoshiro256PlusPlus, words: std::ops::Range<usize>) {
    let start = out.len();
    let count: usize = words.fake_with_rng(rng);
    for index in 0..count {
        if index > 0 {
            out.push(' ');
        }
        out.push_str(Word().fake_with_rng::<&str, _>(rng));
    }
    out.push('.');
    if let Some(first) = out.get_mut(start..=start) {
        first.make_ascii_uppercase();
    }
}

/// Writes `text` with its first character in upper case.
fn push_capitalized(out: &mut String, text: &str) {
    let mut chars = text.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
}

/// Puts the first character written from `start` on in upper case, as [`push_capitalized`]
/// writes it.
fn capitalize_from(out: &mut String, start: usize) {
    let Some(rest) = out.get(start..) else {
        return;
    };
    let Some(first) = rest.chars().next() else {
        return;
    };
    if first.is_ascii() {
        if let Some(first) = out.get_mut(start..=start) {
            first.make_ascii_uppercase();
        }
    } else {
        let upper: String = first.to_uppercase().collect();
        out.replace_range(start..start + first.len_utf8(), &upper);
    }
}

fn pick<'a>(rng: &mut Xoshiro256PlusPlus, options: &[&'a str]) -> &'a str {
    options[rng.random_range(0..options.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::pattern::format_check;
    use fake::faker::lorem::en::{Sentence, Sentences, Words};
    use rand::SeedableRng;

    /// The generator skips the server's `uri`, `iri` and `uuid` checks for what it draws in those
    /// formats (`FormatKind::made_by_construction` in `run.rs`): every draw must pass them.
    #[test]
    fn formats_made_by_construction_pass_the_servers_check() {
        // URLs are built from these lists only: every entry is a safe host or path part, so
        // every combination is, beyond the draws below.
        let lower = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase());
        assert!(EN::LOREM_WORD.iter().all(|word| lower(word)));
        assert!(
            EN::INTERNET_DOMAIN_SUFFIX
                .iter()
                .all(|suffix| lower(suffix))
        );
        for name in EN::NAME_LAST_NAME {
            let mut slug = String::new();
            push_ascii_slug(&mut slug, name);
            assert!(
                slug.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{name} gives {slug}"
            );
        }
        let uri = format_check("uri").unwrap();
        let iri = format_check("iri").unwrap();
        let uuid_check = format_check("uuid").unwrap();
        let mut who = Who::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let clock = Clock::new(&mut rng, DateTime::<Utc>::UNIX_EPOCH, None);
        for _ in 0..3_000 {
            let mut drawn = vec![url(&mut rng)];
            for hint in [Hint::Url, Hint::Avatar, Hint::Image] {
                drawn.extend(text(hint, &mut rng, &mut who, &clock));
            }
            for text in &drawn {
                assert!(uri.accepts(text), "{text}");
                assert!(iri.accepts(text), "{text}");
            }
            let id = uuid(&mut rng);
            assert!(uuid_check.accepts(&id), "{id}");
        }
        assert!(!uri.accepts("not a uri"), "the check itself still rejects");
    }

    /// The writer copies what `Runner::formatted` draws in these formats without looking for
    /// characters to escape (`FormatKind::plain_by_construction` in `run.rs`): timestamps,
    /// e-mail addresses, UUIDs and URLs. None of them may ever hold one.
    #[test]
    fn formats_plain_by_construction_need_no_escaping() {
        let plain = |text: &str| {
            text.bytes()
                .all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\')
        };
        assert!(
            EN::INTERNET_FREE_EMAIL_PROVIDER
                .iter()
                .all(|provider| plain(provider))
        );
        let mut who = Who::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
        let clock = Clock::new(&mut rng, DateTime::<Utc>::UNIX_EPOCH, None);
        // Names as a request may give them, which an address slugs.
        let awkward = Person {
            first: "Zoë \"Q\"\\\u{7}".to_owned(),
            last: "O'Brien\n".to_owned(),
        };
        let mut out = String::new();
        awkward.push_email(&mut out, &mut rng);
        assert!(plain(&out), "{out}");
        for _ in 0..3_000 {
            let mut drawn = vec![url(&mut rng), uuid(&mut rng)];
            drawn.push(Person::random(&mut rng).email(&mut rng));
            for hint in [Hint::Url, Hint::Avatar, Hint::Image] {
                drawn.extend(text(hint, &mut rng, &mut who, &clock));
            }
            let moment = clock.moment(&mut rng, None);
            drawn.extend([date_time(moment), date(moment), time(moment)]);
            for text in &drawn {
                assert!(plain(text), "{text}");
            }
        }
        // Moments chrono writes itself: years beyond four digits, and a leap second.
        let far = chrono::NaiveDate::from_ymd_opt(12_345, 6, 7)
            .and_then(|day| day.and_hms_opt(8, 9, 10))
            .map(|moment| moment.and_utc())
            .unwrap();
        let before = chrono::NaiveDate::from_ymd_opt(-44, 3, 15)
            .and_then(|day| day.and_hms_opt(12, 0, 0))
            .map(|moment| moment.and_utc())
            .unwrap();
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|day| day.and_hms_milli_opt(23, 59, 59, 1_500))
            .map(|moment| moment.and_utc())
            .unwrap();
        for moment in [far, before, leap] {
            assert!(!has_plain_form(moment));
            for text in [date_time(moment), date(moment), time(moment)] {
                assert!(plain(&text), "{text}");
            }
        }
    }

    #[test]
    fn birth_dates_are_of_people_between_18_and_80() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        for (year, month, day) in [(2025, 6, 1), (2024, 2, 29), (2025, 3, 1), (2026, 12, 31)] {
            let now = chrono::NaiveDate::from_ymd_opt(year, month, day)
                .and_then(|date| date.and_hms_opt(10, 0, 0))
                .map(|moment| moment.and_utc())
                .expect("a date");
            let clock = Clock::new(&mut rng, now, None);
            let mut ages = std::collections::BTreeSet::new();
            for _ in 0..5_000 {
                let born = clock.moment(&mut rng, Some(Hint::BirthDate)).date_naive();
                let age = now
                    .date_naive()
                    .years_since(born)
                    .expect("born in the past");
                assert!((18..=80).contains(&age), "{now}: born {born}, {age}");
                ages.insert(age);
            }
            // 80 only on the 80th birthday itself.
            assert_eq!(ages.first(), Some(&18));
            assert!(ages.last() >= Some(&79), "{ages:?}");
        }
    }

    #[test]
    fn timestamps_in_their_plain_form_pass_the_servers_check() {
        let checks = ["date-time", "date", "time"].map(|name| format_check(name).unwrap());
        let written: [fn(DateTime<Utc>) -> String; 3] = [date_time, date, time];
        let at = |year, month, day, hour, minute, second| {
            chrono::NaiveDate::from_ymd_opt(year, month, day)
                .and_then(|date| date.and_hms_opt(hour, minute, second))
                .map(|moment| moment.and_utc())
                .unwrap()
        };
        // The edges of the years written with four digits, leap days, and moments drawn around
        // an ordinary clock.
        let mut moments = vec![
            at(0, 1, 1, 0, 0, 0),
            at(0, 2, 29, 12, 0, 0),
            at(1, 1, 1, 0, 0, 0),
            at(1969, 12, 31, 23, 59, 59),
            at(2000, 2, 29, 0, 0, 0),
            at(2024, 2, 29, 23, 59, 59),
            at(9999, 12, 31, 23, 59, 59),
        ];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let clock = Clock::new(&mut rng, at(2025, 6, 1, 12, 0, 0), None);
        for _ in 0..2_000 {
            for hint in [
                None,
                Some(Hint::Past),
                Some(Hint::Future),
                Some(Hint::BirthDate),
            ] {
                moments.push(clock.moment(&mut rng, hint));
            }
        }
        for moment in moments {
            assert!(has_plain_form(moment), "{moment}");
            for (check, write) in checks.iter().zip(written) {
                let text = write(moment);
                assert!(check.accepts(&text), "{} rejects {text}", check.name());
            }
        }
        // Out of the plain form: years of five digits or below zero, and a leap second.
        let leap = at(2016, 12, 31, 23, 59, 59)
            .with_nanosecond(1_500_000_000)
            .unwrap();
        for moment in [at(10_000, 1, 1, 0, 0, 0), at(-1, 12, 31, 0, 0, 0), leap] {
            assert!(!has_plain_form(moment), "{moment}");
        }
        assert!(!checks[0].accepts(&date_time(at(10_000, 1, 1, 0, 0, 0))));
    }
    /// The slug of `name` made char by char, with no shortcut: what `push_ascii_slug` must give.
    fn slug_by_chars(name: &str) -> String {
        let mut slug = String::new();
        push_slug_by_chars(&mut slug, name);
        slug
    }

    #[test]
    fn slugs_and_usernames_are_those_made_char_by_char() {
        let tricky = [
            "",
            "O'Keefe",
            "Zoé",
            "ÉLODIE",
            "Nuñez",
            "Anne-Marie",
            "42",
            "Ünal",
            "李",
            "Mc Lean",
        ];
        let names: Vec<&str> = EN::NAME_FIRST_NAME
            .iter()
            .chain(EN::NAME_LAST_NAME)
            .copied()
            .chain(tricky)
            .collect();
        for name in &names {
            let mut slug = String::from("kept:");
            push_ascii_slug(&mut slug, name);
            assert_eq!(slug, format!("kept:{}", slug_by_chars(name)), "{name}");
        }
        for first in tricky {
            for last in tricky {
                let person = Person {
                    first: first.to_owned(),
                    last: last.to_owned(),
                };
                let (a, b) = (slug_by_chars(first), slug_by_chars(last));
                let expected = match (a.is_empty(), b.is_empty()) {
                    (false, false) => format!("{a}_{b}"),
                    (false, true) => a,
                    (true, false) => b,
                    (true, true) => "user".to_owned(),
                };
                assert_eq!(person.username('_'), expected, "{first} {last}");
                assert_eq!(person.full(), format!("{first} {last}"));
                let email = person.email(&mut Xoshiro256PlusPlus::seed_from_u64(3));
                let (user, provider) = email.split_once('@').expect("an @");
                assert_eq!(user, expected.replace('_', "."), "{email}");
                assert!(provider.contains('.'), "{email}");
            }
        }
    }

    /// The texts of `first`, then `second`, drawn from `seed` for no one in particular, and the
    /// next number the generator would give after them.
    fn two_texts(seed: u64, first: Hint, second: Hint) -> (Option<String>, Option<String>, u64) {
        let clock = Clock::new(
            &mut Xoshiro256PlusPlus::seed_from_u64(1),
            DateTime::<Utc>::UNIX_EPOCH,
            None,
        );
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let first = text(first, &mut rng, &mut Who::default(), &clock);
        let second = text(second, &mut rng, &mut Who::default(), &clock);
        (first, second, rng.random::<u64>())
    }

    #[test]
    fn sentences_are_those_fake_draws_capitalized() {
        let capitalize = |text: &str| {
            let mut out = String::new();
            push_capitalized(&mut out, text);
            out
        };
        for seed in 0..500 {
            let (description, paragraph, after) =
                two_texts(seed, Hint::Description, Hint::Paragraph);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let sentence: String = Sentence(6..14).fake_with_rng(&mut rng);
            let sentences: Vec<String> = Sentences(2..4).fake_with_rng(&mut rng);
            let sentences: Vec<String> = sentences.iter().map(|s| capitalize(s)).collect();
            assert_eq!(description, Some(capitalize(&sentence)), "seed {seed}");
            assert_eq!(paragraph, Some(sentences.join(" ")), "seed {seed}");
            assert_eq!(after, rng.random::<u64>(), "the same draws, seed {seed}");
        }
    }

    /// Labels and slugs are written word by word, but drawn as fake's `Words` draws them.
    #[test]
    fn labels_and_slugs_are_fakes_words() {
        for seed in 0..500 {
            let (label, slug, after) = two_texts(seed, Hint::Label, Hint::Slug);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let label_words: Vec<String> = Words(1..3).fake_with_rng(&mut rng);
            let slug_words: Vec<String> = Words(2..4).fake_with_rng(&mut rng);
            let mut expected = label_words.join(" ");
            if let Some(first) = expected.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            assert_eq!(label, Some(expected), "seed {seed}");
            assert_eq!(slug, Some(slug_words.join("-")), "seed {seed}");
            assert_eq!(after, rng.random::<u64>(), "the same draws, seed {seed}");
        }
        let mut out = String::from("kept ");
        out.push_str("élan vital");
        capitalize_from(&mut out, 5);
        assert_eq!(out, "kept Élan vital");
    }

    #[test]
    fn domains_draw_and_slug_last_names_as_fake_does() {
        for seed in 0..2_000 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let drawn = domain(&mut rng);
            let after = rng.random::<u64>();
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let name: &str = LastName().fake_with_rng(&mut rng);
            let suffix: &str = DomainSuffix().fake_with_rng(&mut rng);
            let label = slug_by_chars(name);
            let label = if label.is_empty() { "example" } else { &label };
            assert_eq!(drawn, format!("{label}.{suffix}"), "seed {seed}");
            assert_eq!(after, rng.random::<u64>(), "the same draws, seed {seed}");
        }
    }

    #[test]
    fn urls_are_https_on_a_slug_domain_with_www_or_a_short_path() {
        let mut shapes = [0; 3];
        for seed in 0..500 {
            let url = url(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
            let rest = url.strip_prefix("https://").expect("https");
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = host.strip_prefix("www.").unwrap_or(host);
            let (label, suffix) = host.split_once('.').expect("a suffix");
            assert!(!label.is_empty() && !suffix.is_empty(), "{url}");
            assert!(
                label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{url}"
            );
            let segments = if path.is_empty() {
                0
            } else {
                path.split('/').count()
            };
            assert!(!url.contains("//www.") || segments == 0, "{url}");
            assert!(
                segments <= 2 && path.split('/').all(|s| !s.contains(' ')),
                "{url}"
            );
            shapes[segments] += 1;
        }
        assert!(
            shapes.iter().all(|&count| count > 50),
            "every shape is drawn: {shapes:?}"
        );
        assert_eq!(
            url(&mut Xoshiro256PlusPlus::seed_from_u64(9)),
            url(&mut Xoshiro256PlusPlus::seed_from_u64(9))
        );
    }

    #[test]
    fn timestamps_are_written_as_chrono_formats_them() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut moments: Vec<DateTime<Utc>> = (0..2_000)
            .map(|_| {
                let seconds = rng.random_range(-70_000_000_000_i64..=300_000_000_000);
                DateTime::from_timestamp(seconds, 0).expect("in range")
            })
            .collect();
        moments.extend(
            [
                0,
                -62_167_219_200,
                253_402_300_799,
                253_402_300_800,
                951_782_400,
            ]
            .map(|seconds| DateTime::from_timestamp(seconds, 0).expect("in range")),
        );
        moments
            .push(DateTime::from_timestamp(1_483_228_799, 1_500_000_000).expect("a leap second"));
        for moment in moments {
            assert_eq!(
                date_time(moment),
                moment.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
            assert_eq!(date(moment), moment.format("%Y-%m-%d").to_string());
            assert_eq!(time(moment), moment.format("%H:%M:%SZ").to_string());
        }
    }

    #[test]
    fn slugs_fold_accents_and_drop_what_is_not_alphanumeric() {
        assert_eq!(ascii_slug("O'Conner-Müller"), "oconnermuller");
        assert_eq!(
            domain(&mut Xoshiro256PlusPlus::seed_from_u64(1))
                .matches('.')
                .count(),
            1
        );
    }

    #[test]
    fn base64_pads_like_the_standard() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        assert_eq!(base64(&mut rng, 4).len(), 8);
        assert!(base64(&mut rng, 4).ends_with("=="));
    }

    #[test]
    fn uuids_are_version_four() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let id = uuid(&mut rng);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        let dashes: Vec<usize> = id.match_indices('-').map(|(at, _)| at).collect();
        assert_eq!(dashes, [8, 13, 18, 23]);
        assert!(
            id.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
}
