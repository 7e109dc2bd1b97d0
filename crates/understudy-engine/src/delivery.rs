//! How an answer is delivered: when, and whether at all. A request asks for a delay or a fault
//! (`Prefer: delay=250`, `Prefer: fault=reset`, or `?__delay=250`, `?__fault=reset`), its
//! operation may say a delay (`x-understudy-delay`), and `--delay MS` or `--delay MIN..MAX` draws
//! one for every request. The engine decides; the server waits without blocking a worker and
//! carries the fault out on the connection.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use http::HeaderMap;
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

/// The longest delay a request, an operation or the options can ask for.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// How long a `fault=hang` answer waits for the client to give up before closing.
pub const HANG_FOR: Duration = MAX_DELAY;

/// How an answer is delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Wait this long before answering (at most [`MAX_DELAY`]).
    pub delay: Option<Duration>,
    /// Do not answer as HTTP at all.
    pub fault: Option<Fault>,
}

/// A way of not answering, for testing a client's error paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection with no answer.
    Reset,
    /// Answer nothing until the client gives up (at most [`HANG_FOR`]), then close.
    Hang,
    /// Write bytes that are not HTTP, then close.
    Garbage,
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Fault, String> {
        match text {
            "reset" => Ok(Fault::Reset),
            "hang" => Ok(Fault::Hang),
            "garbage" => Ok(Fault::Garbage),
            other => Err(format!("`{other}` is no fault: reset, hang or garbage")),
        }
    }
}

/// `--delay`: a fixed delay (`250`) or a range drawn from per request (`100..500`), in
/// milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayRange {
    /// The shortest delay.
    pub min: Duration,
    /// The longest delay (equal to `min` for a fixed one).
    pub max: Duration,
}

impl FromStr for DelayRange {
    type Err = String;

    fn from_str(text: &str) -> Result<DelayRange, String> {
        let milliseconds = |part: &str| {
            part.trim()
                .parse::<u64>()
                .map(|ms| Duration::from_millis(ms).min(MAX_DELAY))
                .map_err(|_| format!("`{part}` is not a whole number of milliseconds"))
        };
        let (min, max) = match text.split_once("..") {
            Some((min, max)) => (milliseconds(min)?, milliseconds(max)?),
            None => {
                let fixed = milliseconds(text)?;
                (fixed, fixed)
            }
        };
        if min > max {
            return Err(format!("the range {text} ends before it starts"));
        }
        Ok(DelayRange { min, max })
    }
}

impl fmt::Display for DelayRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}ms", self.min.as_millis())
        } else {
            write!(f, "{}..{}ms", self.min.as_millis(), self.max.as_millis())
        }
    }
}

impl DelayRange {
    /// A delay in the range, in whole milliseconds.
    pub fn draw(&self, rng: &mut Xoshiro256PlusPlus) -> Duration {
        let (min, max) = (self.min.as_millis(), self.max.as_millis());
        let min = u64::try_from(min).unwrap_or(u64::MAX);
        let max = u64::try_from(max).unwrap_or(u64::MAX);
        if min >= max {
            return Duration::from_millis(min);
        }
        Duration::from_millis(rng.random_range(min..=max))
    }
}

/// What the request itself asks for: `Prefer: delay=MS, fault=KIND` over `?__delay=MS`,
/// `?__fault=KIND`. What cannot be read is ignored, as other preferences are.
pub fn asked(headers: &HeaderMap, query: Option<&str>) -> Delivery {
    let mut asked = Delivery::default();
    if let Some(query) = query.filter(|query| query.contains("__")) {
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            asked.take(&key, &value);
        }
    }
    for value in headers
        .get_all("prefer")
        .iter()
        .filter_map(|value| value.to_str().ok())
    {
        for part in value.split([',', ';']) {
            if let Some((key, value)) = part.trim().split_once('=') {
                asked.take(key.trim(), value.trim().trim_matches('"'));
            }
        }
    }
    asked
}

impl Delivery {
    fn take(&mut self, key: &str, value: &str) {
        match key.strip_prefix("__").unwrap_or(key) {
            "delay" => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.delay = Some(Duration::from_millis(ms).min(MAX_DELAY));
                }
            }
            "fault" => {
                if let Ok(fault) = value.parse() {
                    self.fault = Some(fault);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn a_request_asks_by_prefer_over_the_query_and_is_capped() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "prefer",
            "code=200, delay=250"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        let asked = asked(&headers, Some("__delay=10&__fault=reset&a=1"));
        assert_eq!(asked.delay, Some(Duration::from_millis(250)));
        assert_eq!(asked.fault, Some(Fault::Reset));
        let capped = super::asked(&HeaderMap::new(), Some("__delay=999999999"));
        assert_eq!(capped.delay, Some(MAX_DELAY));
        let nothing = super::asked(&HeaderMap::new(), Some("__delay=soon&__fault=fire"));
        assert_eq!(nothing, Delivery::default());
    }

    #[test]
    fn delay_ranges_parse_draw_within_and_repeat_under_a_seed() {
        assert_eq!(
            "250".parse::<DelayRange>(),
            Ok(DelayRange {
                min: Duration::from_millis(250),
                max: Duration::from_millis(250)
            })
        );
        assert!("500..100".parse::<DelayRange>().is_err());
        assert!("fast".parse::<DelayRange>().is_err());
        let range: DelayRange = "100..500".parse().unwrap_or_else(|error| panic!("{error}"));
        let draws = |seed| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            (0..200).map(|_| range.draw(&mut rng)).collect::<Vec<_>>()
        };
        let first = draws(1);
        assert_eq!(first, draws(1));
        assert!(
            first
                .iter()
                .all(|delay| (range.min..=range.max).contains(delay))
        );
        assert!(first.iter().any(|delay| *delay != first[0]));
    }
}
