//! OpenAPI's integer formats, `int32` and `int64`, as a keyword of the server's validators
//! (`x-understudy-integer`, written by `json_schema.rs` beside the `format`). JSON Schema's
//! `format` looks at strings only, and bounds compared as `f64` cannot tell
//! `-9223372036854775809` from `i64::MIN`; this check reads the number's own digits, which
//! serde_json keeps (its `arbitrary_precision` feature), so the range holds exactly, and
//! `validate.rs` reports a failure as the `format` it is.

use jsonschema::{Keyword, ValidationError};
use serde_json::{Number, Value};

/// The keyword the translator writes beside an integer `format`; its value is the format's name.
pub(crate) const KEYWORD: &str = "x-understudy-integer";

/// An integer format: its name and the range of integers it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntegerFormat {
    /// The format's name, as a schema writes it.
    pub name: &'static str,
    /// The least integer it holds (below zero).
    pub min: i64,
    /// The greatest integer it holds (above zero).
    pub max: i64,
}

impl IntegerFormat {
    /// The integer format called `name`, if it is one.
    pub(crate) fn named(name: &str) -> Option<IntegerFormat> {
        match name {
            "int32" => Some(IntegerFormat {
                name: "int32",
                min: i32::MIN.into(),
                max: i32::MAX.into(),
            }),
            "int64" => Some(IntegerFormat {
                name: "int64",
                min: i64::MIN,
                max: i64::MAX,
            }),
            _ => None,
        }
    }

    /// Whether `number` lies within the format's range, exactly. A fraction within it is left
    /// to `type: integer` to refuse.
    pub(crate) fn holds(self, number: &Number) -> bool {
        if let Some(integer) = number.as_i64() {
            return (self.min..=self.max).contains(&integer);
        }
        within(number.as_str(), self.min, self.max)
    }

    /// The sentence for a number `shown` outside the range.
    pub(crate) fn refusal(self, shown: &str) -> String {
        format!(
            "{shown} is not an {}: the format holds {} to {}",
            self.name, self.min, self.max
        )
    }

    /// The keyword's validator for a schema that says `x-understudy-integer: <name>`, for
    /// [`jsonschema::ValidationOptions::with_keyword`].
    pub(crate) fn keyword(
        value: &Value,
    ) -> Result<Box<dyn for<'v> Keyword<'v>>, ValidationError<'_>> {
        value
            .as_str()
            .and_then(IntegerFormat::named)
            .map(|format| Box::new(format) as Box<dyn for<'v> Keyword<'v>>)
            .ok_or_else(|| ValidationError::custom("an integer format: int32 or int64"))
    }
}

impl<'i> Keyword<'i> for IntegerFormat {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if Keyword::is_valid(self, instance) {
            Ok(())
        } else {
            // The format's name: `validate.rs` reads it back to name the format.
            Err(ValidationError::custom(self.name))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        // Like every format, it says nothing of what is not a number.
        match instance {
            Value::Number(number) => self.holds(number),
            _ => true,
        }
    }
}

/// Whether the number written `text` (JSON's grammar: a sign, digits, a fraction, an exponent)
/// lies within `min..=max`, where `min < 0 < max`, exactly: its whole part is found digit by
/// digit, however the exponent moves the point, and compared as a `u128`.
fn within(text: &str, min: i64, max: i64) -> bool {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent_of(exponent)),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let written = whole.len() + fraction.len();
    // The point sits after this many of the written digits (past them, or before them).
    let point = i64::try_from(whole.len())
        .unwrap_or(i64::MAX)
        .saturating_add(exponent);
    let mut magnitude: u128 = 0;
    let mut fraction_is_zero = true;
    for (index, byte) in whole.bytes().chain(fraction.bytes()).enumerate() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return false;
        }
        if i64::try_from(index).is_ok_and(|index| index < point) {
            let Some(more) = magnitude
                .checked_mul(10)
                .and_then(|magnitude| magnitude.checked_add(u128::from(digit)))
            else {
                return false;
            };
            magnitude = more;
        } else if digit != 0 {
            fraction_is_zero = false;
        }
    }
    // Zeros the exponent adds after the written digits; a magnitude past `u128` is out of range
    // within 39 of them, and zero stays zero however many there are.
    let mut added = point.saturating_sub(i64::try_from(written).unwrap_or(i64::MAX));
    while added > 0 && magnitude != 0 {
        let Some(more) = magnitude.checked_mul(10) else {
            return false;
        };
        magnitude = more;
        added -= 1;
    }
    let limit = if negative {
        u128::from(min.unsigned_abs())
    } else {
        u128::from(max.unsigned_abs())
    };
    magnitude < limit || (magnitude == limit && fraction_is_zero)
}

/// An exponent's value (`+5`, `-12`, `400`), saturated far past any that matters here.
fn exponent_of(text: &str) -> i64 {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = digits.bytes().fold(0_i64, |value, byte| {
        value
            .saturating_mul(10)
            .saturating_add(i64::from(byte.wrapping_sub(b'0').min(9)))
    });
    if negative { -magnitude } else { magnitude }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn holds(format: &str, text: &str) -> bool {
        let format = IntegerFormat::named(format).expect("a format");
        format.holds(&Number::from_str(text).expect("a JSON number"))
    }

    #[test]
    fn int64_holds_exactly_its_range() {
        for text in [
            "0",
            "-0",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775807.0",
            "-9223372036854775808.000",
            "9.223372036854775807e18",
            "-92233720368547758.08E2",
            "922337203685477580700000e-5",
            "9223372036854775806.5",
            "1e2",
            "0e999999999999999999999",
            "5e-999999",
        ] {
            assert!(holds("int64", text), "{text} is an int64");
        }
        for text in [
            "9223372036854775808",
            "-9223372036854775809",
            "9223372036854775807.5",
            "-9223372036854775808.0000000000000000001",
            "9.223372036854775808e18",
            "18446744073709551616",
            "12345678901234567890123",
            "1e19",
            "1e999",
            "-1e999999999999999999999",
        ] {
            assert!(!holds("int64", text), "{text} is no int64");
        }
    }

    #[test]
    fn int32_holds_exactly_its_range() {
        assert!(holds("int32", "2147483647"));
        assert!(holds("int32", "-2147483648"));
        assert!(holds("int32", "2147483647.0"));
        assert!(!holds("int32", "2147483648"));
        assert!(!holds("int32", "-2147483649"));
        assert!(!holds("int32", "2147483647.0000000001"));
        assert!(!holds("int32", "9223372036854775807"));
        assert!(!holds("int32", "18446744073709551615"));
    }

    #[test]
    fn only_integer_formats_are_named_and_only_numbers_are_checked() {
        assert_eq!(IntegerFormat::named("int16"), None);
        let int32 = IntegerFormat::named("int32").expect("a format");
        assert!(Keyword::is_valid(
            &int32,
            &Value::String("9999999999".into())
        ));
        assert!(!Keyword::is_valid(&int32, &Value::from(9_999_999_999_i64)));
    }
}
