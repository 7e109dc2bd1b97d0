//! Strings made after a documented example. The example is read once, when the plan is made,
//! into what a request keeps and what it redraws, so that making a value only copies and draws.
//!
//! A recognised format is regenerated (UUIDs, timestamps, e-mail addresses). A URL keeps its
//! scheme and host, since an API's links point at the API, and its path is redrawn as tokens.
//! Anything else keeps its prefixes, separators and plain words, and redraws its digits and the
//! letters of tokens that mix letters and digits, in the same case: `us_usr_8f3k2j1d` gives
//! `us_usr_` and eight fresh characters.

use rand::Rng as _;
use rand::rngs::Xoshiro256PlusPlus;

use super::fakes::{Clock, Who, push_date_time, push_uuid};

/// A documented example string, read into what [`LikeExample::push`] keeps and redraws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LikeExample {
    shape: ExampleShape,
    /// Whether the example is a structured value rather than words ([`is_structured`]).
    structured: bool,
    /// For a URL or tokens, the example without its surrounding quotes; empty for a shape that
    /// is made afresh.
    text: Box<str>,
    /// For a URL or tokens, the example from start to end as kept runs and redrawn characters.
    pieces: Box<[Piece]>,
    /// Whether no value made after the example has a character JSON escapes.
    plain: bool,
}

/// What a documented example string is, as [`LikeExample::push`] remakes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExampleShape {
    /// A UUID, in upper case if the example has any upper-case letter.
    Uuid { upper: bool },
    /// An RFC 3339 timestamp.
    DateTime,
    /// An e-mail address.
    Email,
    /// An `http` or `https` URL: its scheme and host are kept, its path is redrawn as tokens.
    Url,
    /// Anything else: runs of letters and digits between separators.
    Tokens,
}

/// A run of the example kept as it is, or characters drawn afresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// The example's bytes `start..end`.
    Keep { start: u32, end: u32 },
    /// `count` characters of one class, each drawn afresh.
    Draw { class: Class, count: u32 },
}

/// The characters a redrawn one is drawn from: a digit, or a letter of the first `top` of the
/// alphabet (6 in a hexadecimal token, 26 otherwise) in lower or upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Digit,
    Lower { top: u8 },
    Upper { top: u8 },
}

impl LikeExample {
    /// Reads `example` (its surrounding quotes aside): its shape, checked in this order (a UUID,
    /// a timestamp, an e-mail address, a URL, tokens), and what a value made after it keeps.
    pub(crate) fn new(example: &str) -> LikeExample {
        let text = example.trim_matches('"');
        let shape = shape_of(text);
        let pieces = match shape {
            ExampleShape::Url => {
                let kept = authority_end(text);
                let mut pieces = Pieces::default();
                pieces.keep(0, kept);
                pieces.tokens(text, kept);
                pieces.0
            }
            ExampleShape::Tokens => {
                let mut pieces = Pieces::default();
                pieces.tokens(text, 0);
                pieces.0
            }
            _ => Vec::new(),
        };
        LikeExample {
            shape,
            structured: is_structured(text),
            // A fresh UUID, timestamp or e-mail address is plain ASCII; redrawn characters are
            // letters and digits, so a copy is plain if the example is.
            plain: pieces.is_empty() || super::write::plain(text),
            text: if pieces.is_empty() {
                Box::default()
            } else {
                text.into()
            },
            pieces: pieces.into_boxed_slice(),
        }
    }

    /// What [`LikeExample::push_redrawn`] writes first as it is, for a URL or tokens: the kept
    /// run the example starts with (`https://api.github.com/repos/octocat/Hello-World/issues/`
    /// for `…/issues/1347`; empty when it starts with a redrawn character), and whether that is
    /// the whole example (`https://api.github.com/users/octocat/followers`, nothing redrawn).
    pub(crate) fn lead(&self) -> Option<(&str, bool)> {
        match self.pieces.first()? {
            Piece::Keep { start, end } => Some((
                self.text.get(*start as usize..*end as usize)?,
                self.pieces.len() == 1,
            )),
            Piece::Draw { .. } => Some(("", false)),
        }
    }

    /// [`LikeExample::push_redrawn`] after its [`LikeExample::lead`], which the caller wrote.
    pub(crate) fn push_after_lead(&self, out: &mut impl AsciiOut, rng: &mut Xoshiro256PlusPlus) {
        let skip = usize::from(matches!(self.pieces.first(), Some(Piece::Keep { .. })));
        self.push_pieces(self.pieces.get(skip..).unwrap_or_default(), out, rng);
    }

    /// Whether the example is a structured value (an id, a code, a URL), whose shape says more
    /// than a property name does.
    pub(crate) fn structured(&self) -> bool {
        self.structured
    }

    /// What the example is.
    pub(crate) fn shape(&self) -> ExampleShape {
        self.shape
    }

    /// Whether no value made after the example has a character JSON escapes, so that the writer
    /// can copy it without looking.
    pub(crate) fn plain(&self) -> bool {
        self.plain
    }

    /// Writes a value that looks like the example: a fresh UUID, timestamp or e-mail address, or
    /// the example with its drawn characters drawn again.
    pub(crate) fn push(
        &self,
        out: &mut String,
        rng: &mut Xoshiro256PlusPlus,
        who: &mut Who<'_>,
        clock: &Clock,
    ) {
        match self.shape {
            ExampleShape::Uuid { upper } => {
                let start = out.len();
                push_uuid(out, rng);
                if upper && let Some(fresh) = out.get_mut(start..) {
                    fresh.make_ascii_uppercase();
                }
            }
            ExampleShape::DateTime => push_date_time(out, clock.moment(rng, None)),
            ExampleShape::Email => who.person(rng).push_email(out, rng),
            ExampleShape::Url | ExampleShape::Tokens => self.push_redrawn(out, rng),
        }
    }

    /// Writes the example with its drawn characters drawn again: what [`LikeExample::push`]
    /// writes for a URL or tokens, without a clock or a person to make. `out` is a string of its
    /// own, or the JSON body itself when the value is [`LikeExample::plain`].
    pub(crate) fn push_redrawn(&self, out: &mut impl AsciiOut, rng: &mut Xoshiro256PlusPlus) {
        self.push_pieces(&self.pieces, out, rng);
    }

    /// Writes `pieces`, some of the example's, kept or drawn again.
    fn push_pieces(&self, pieces: &[Piece], out: &mut impl AsciiOut, rng: &mut Xoshiro256PlusPlus) {
        out.reserve_for(self.text.len());
        let mut draws = Draws::default();
        for piece in pieces {
            match *piece {
                Piece::Keep { start, end } => {
                    // Runs are cut at ASCII bytes, so `get` always finds them; it keeps a
                    // bad cut from panicking on the request path.
                    out.push_text(
                        self.text
                            .get(start as usize..end as usize)
                            .unwrap_or_default(),
                    );
                }
                Piece::Draw { class, count } => {
                    out.push_drawn(count as usize, || class.draw(draws.next(rng)));
                }
            }
        }
    }
}

/// Where a value made after an example is written: text, and ASCII bytes one by one. A
/// `String` is one; so is the `Vec<u8>` of a JSON body, which stays UTF-8 as text and ASCII are
/// all that is pushed.
pub(crate) trait AsciiOut {
    fn reserve_for(&mut self, additional: usize);
    fn push_text(&mut self, text: &str);
    /// Pushes `count` bytes that `draw` gives, each ASCII.
    fn push_drawn(&mut self, count: usize, draw: impl FnMut() -> u8);
}

impl AsciiOut for String {
    fn reserve_for(&mut self, additional: usize) {
        self.reserve(additional);
    }

    fn push_text(&mut self, text: &str) {
        self.push_str(text);
    }

    fn push_drawn(&mut self, count: usize, mut draw: impl FnMut() -> u8) {
        self.extend((0..count).map(|_| char::from(draw())));
    }
}

impl AsciiOut for Vec<u8> {
    fn reserve_for(&mut self, additional: usize) {
        self.reserve(additional);
    }

    fn push_text(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }

    fn push_drawn(&mut self, count: usize, mut draw: impl FnMut() -> u8) {
        // A range mapped is of known length: room is made once, and no byte checks for it.
        self.extend((0..count).map(|_| {
            let byte = draw();
            debug_assert!(byte.is_ascii(), "{byte:#x} is not ASCII");
            byte
        }));
    }
}

/// [`LikeExample::push`] into a string of its own.
#[cfg(test)]
pub(crate) fn like_example(
    example: &str,
    rng: &mut Xoshiro256PlusPlus,
    who: &mut Who<'_>,
    clock: &Clock,
) -> String {
    let mut out = String::new();
    LikeExample::new(example).push(&mut out, rng, who, clock);
    out
}

/// Whether an example string is a structured value (an id, a code, a format) rather than words,
/// in which case its shape says more than a property name does.
fn is_structured(example: &str) -> bool {
    example.chars().any(|c| c.is_ascii_digit())
        || example.contains('@')
        || example.contains("://")
        || (example.contains('_') && !example.contains(' '))
}

fn shape_of(example: &str) -> ExampleShape {
    if looks_like_uuid(example) {
        ExampleShape::Uuid {
            upper: example.chars().any(|c| c.is_ascii_uppercase()),
        }
    } else if chrono::DateTime::parse_from_rfc3339(example).is_ok() {
        ExampleShape::DateTime
    } else if example.contains('@') && !example.contains(' ') && example.contains('.') {
        ExampleShape::Email
    } else if example.starts_with("http://") || example.starts_with("https://") {
        ExampleShape::Url
    } else {
        ExampleShape::Tokens
    }
}

fn looks_like_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Where a URL's scheme and authority (`https://api.github.com:443`) end: at the first `/`, `?`
/// or `#` after `://`, or at the end.
fn authority_end(url: &str) -> usize {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| after_scheme + at)
}

impl Class {
    /// The character `chunk`, 16 random bits, stands for: `chunk` scaled to the class's size,
    /// so that each character's chance is off an equal share by at most 1 part in 2 500 (26
    /// letters share 65 536 values as 2 520 or 2 521 each).
    fn draw(self, chunk: u16) -> u8 {
        let scaled = |size: u8| ((u32::from(chunk) * u32::from(size)) >> 16) as u8;
        match self {
            Class::Digit => b'0' + scaled(10),
            Class::Lower { top } => b'a' + scaled(top),
            Class::Upper { top } => b'A' + scaled(top),
        }
    }
}

/// Random bits for redrawn characters, 16 to a character and four characters to a draw of
/// 64 bits: an id or a hash in an example has dozens of characters, and a draw each cost more
/// than the rest of making the value.
#[derive(Default)]
struct Draws {
    bits: u64,
    left: u8,
}

impl Draws {
    fn next(&mut self, rng: &mut Xoshiro256PlusPlus) -> u16 {
        if self.left == 0 {
            self.bits = rng.next_u64();
            self.left = 4;
        }
        let chunk = self.bits as u16;
        self.bits >>= 16;
        self.left -= 1;
        chunk
    }
}

/// Pieces being read, neighbouring kept runs and draws of one class merged.
#[derive(Default)]
struct Pieces(Vec<Piece>);

impl Pieces {
    fn keep(&mut self, start: usize, end: usize) {
        if start == end {
            return;
        }
        let (start, end) = (offset(start), offset(end));
        if let Some(Piece::Keep { end: last, .. }) = self.0.last_mut()
            && *last == start
        {
            *last = end;
            return;
        }
        self.0.push(Piece::Keep { start, end });
    }

    fn draw(&mut self, class: Class) {
        if let Some(Piece::Draw { class: last, count }) = self.0.last_mut()
            && *last == class
        {
            *count += 1;
            return;
        }
        self.0.push(Piece::Draw { class, count: 1 });
    }

    /// Reads `text` from `from` on: a token is a run of ASCII letters and digits; its digits are
    /// drawn, and so are its letters if it has a digit (from `a`-`f` if it is all hexadecimal);
    /// everything else is kept. A percent-encoded byte (`%2F`) is kept whole, so that a URL
    /// stays one.
    fn tokens(&mut self, text: &str, from: usize) {
        let bytes = text.as_bytes();
        let mut at = from;
        while at < bytes.len() {
            if bytes[at] == b'%'
                && bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit)
            {
                self.keep(at, at + 3);
                at += 3;
                continue;
            }
            if !bytes[at].is_ascii_alphanumeric() {
                // Every byte up to the next ASCII letter, digit or `%`: a char boundary.
                let end = bytes[at..]
                    .iter()
                    .position(|byte| byte.is_ascii_alphanumeric() || *byte == b'%')
                    .map_or(bytes.len(), |length| at + length);
                let end = if end == at { at + 1 } else { end };
                self.keep(at, end);
                at = end;
                continue;
            }
            let end = bytes[at..]
                .iter()
                .position(|byte| !byte.is_ascii_alphanumeric())
                .map_or(bytes.len(), |length| at + length);
            let token = &bytes[at..end];
            let mixed = token.iter().any(u8::is_ascii_digit);
            let top = if token.iter().all(u8::is_ascii_hexdigit) {
                6
            } else {
                26
            };
            for (index, byte) in token.iter().enumerate() {
                if byte.is_ascii_digit() {
                    self.draw(Class::Digit);
                } else if mixed && byte.is_ascii_lowercase() {
                    self.draw(Class::Lower { top });
                } else if mixed && byte.is_ascii_uppercase() {
                    self.draw(Class::Upper { top });
                } else {
                    self.keep(at + index, at + index + 1);
                }
            }
            at = end;
        }
    }
}

/// A byte offset into an example: examples come from a spec, far below 4 GiB.
fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn example_shapes_are_decided_in_order() {
        for (example, shape) in [
            (
                "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                ExampleShape::Uuid { upper: false },
            ),
            (
                "3FA85F64-5717-4562-B3FC-2C963F66AFA6",
                ExampleShape::Uuid { upper: true },
            ),
            ("2011-01-26T19:01:12Z", ExampleShape::DateTime),
            ("jane@example.com", ExampleShape::Email),
            ("jane at example.com @home", ExampleShape::Tokens),
            ("https://api.github.com/users/octocat", ExampleShape::Url),
            ("us_usr_8f3k2j1d", ExampleShape::Tokens),
        ] {
            assert_eq!(LikeExample::new(example).shape(), shape, "{example}");
        }
    }

    #[test]
    fn examples_keep_their_prefix_and_shape() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let clock = Clock::new(&mut rng, Utc::now(), None);
        let mut who = Who::default();
        let id = "us_usr_8f3k2j1d";
        let fresh = like_example(id, &mut rng, &mut who, &clock);
        assert!(fresh.starts_with("us_usr_"), "{fresh}");
        assert_eq!(fresh.len(), "us_usr_8f3k2j1d".len());
        assert_ne!(fresh, id);
        let number = "+33 6 12 34 56 78";
        let phone = like_example(number, &mut rng, &mut who, &clock);
        assert!(phone.starts_with("+") && phone.len() == 17, "{phone}");
        assert_eq!(phone.matches(' ').count(), 5, "{phone}");
    }

    #[test]
    fn tokens_redraw_digits_and_the_letters_beside_them_in_case() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let clock = Clock::new(&mut rng, Utc::now(), None);
        let mut who = Who::default();
        for _ in 0..50 {
            let fresh = like_example("Ticket AB12cd-ffe9 é done", &mut rng, &mut who, &clock);
            let (ticket, rest) = fresh.split_at("Ticket ".len());
            assert_eq!(ticket, "Ticket ");
            let bytes = rest.as_bytes();
            assert!(bytes[..2].iter().all(u8::is_ascii_uppercase), "{fresh}");
            assert!(bytes[2..4].iter().all(u8::is_ascii_digit), "{fresh}");
            assert!(bytes[4..6].iter().all(u8::is_ascii_lowercase), "{fresh}");
            assert_eq!(bytes[6], b'-');
            // `ffe9` is hexadecimal: its letters stay hexadecimal.
            assert!(
                rest[7..11]
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
                "{fresh}"
            );
            assert_eq!(&rest[11..], " é done");
        }
    }

    #[test]
    fn urls_keep_their_host_and_redraw_their_path() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let clock = Clock::new(&mut rng, Utc::now(), None);
        let mut who = Who::default();
        let example =
            "https://s3.api.github.com:8443/repos/octocat/Hello-World/issues/1347?a=%2F9#c3";
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            let fresh = like_example(example, &mut rng, &mut who, &clock);
            let prefix = "https://s3.api.github.com:8443/repos/octocat/Hello-World/issues/";
            assert!(fresh.starts_with(prefix), "{fresh}");
            let rest = &fresh[prefix.len()..];
            assert!(
                rest[..4].bytes().all(|byte| byte.is_ascii_digit()),
                "{fresh}"
            );
            assert!(rest[4..].starts_with("?a=%2F"), "{fresh}");
            assert!(rest.ends_with(|c: char| c.is_ascii_digit()), "{fresh}");
            assert_eq!(fresh.len(), example.len());
            seen.insert(fresh);
        }
        assert!(seen.len() > 10, "{seen:?}");
        let plain = "https://github.com/images/error/octocat_happy.gif";
        assert_eq!(like_example(plain, &mut rng, &mut who, &clock), plain);
    }

    #[test]
    fn values_made_after_a_url_pass_the_servers_url_checks() {
        // `plan` skips the check for a value made after a URL the check accepts: held here.
        let checks = [
            crate::generate::pattern::format_check("uri").expect("a uri check"),
            crate::generate::pattern::format_check("iri").expect("an iri check"),
        ];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        for example in [
            "https://api.github.com/repos/octocat/Hello-World/issues/1347",
            "http://10.0.0.1:8080/a1/B2?q=x9&r=%7Ezz#frag3",
            "https://example.com/%2Fxyz/%41b1",
            "https://user:pa55@localhost/path;p=1/ä9",
            "https://example.com",
        ] {
            let like = LikeExample::new(example);
            assert_eq!(like.shape(), ExampleShape::Url, "{example}");
            for _ in 0..200 {
                let mut out = String::new();
                like.push_redrawn(&mut out, &mut rng);
                for check in &checks {
                    if check.accepts(example) {
                        assert!(check.accepts(&out), "{} {example} gave {out}", check.name());
                    }
                }
                assert_eq!(super::super::write::plain(&out), like.plain(), "{out}");
            }
        }
    }

    #[test]
    fn redrawn_characters_cover_their_class_evenly() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(13);
        let mut draws = Draws::default();
        for (class, first, size) in [
            (Class::Digit, b'0', 10),
            (Class::Lower { top: 6 }, b'a', 6),
            (Class::Upper { top: 26 }, b'A', 26),
        ] {
            let mut counts = vec![0u32; size];
            let total = 2_600 * size as u32;
            for _ in 0..total {
                let drawn = class.draw(draws.next(&mut rng));
                counts[usize::from(drawn - first)] += 1;
            }
            let expected = total / size as u32;
            for (index, count) in counts.iter().enumerate() {
                assert!(
                    count.abs_diff(expected) * 10 < expected,
                    "{class:?}: {} drawn {count} times of {total}",
                    char::from(first + index as u8)
                );
            }
        }
    }

    #[test]
    fn quotes_around_an_example_are_not_part_of_it() {
        let example = LikeExample::new("\"https://example.com/a\"");
        assert_eq!(example.shape(), ExampleShape::Url);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let clock = Clock::new(&mut rng, Utc::now(), None);
        let mut out = String::new();
        example.push(&mut out, &mut rng, &mut Who::default(), &clock);
        assert_eq!(out, "https://example.com/a");
    }
}
