//! Time and size values with HAProxy's suffixes (`parse_time_err()` and
//! `parse_size_err()` in HAProxy's `src/tools.c`), checked with `haproxy -c`.

use std::fmt;

use nom::Parser;
use nom::character::complete::digit1;

/// HAProxy's largest time: timers are signed 32-bit milliseconds.
pub const MAX_TIME_MS: u64 = i32::MAX as u64;

/// HAProxy's largest size: sizes are unsigned 32-bit.
pub const MAX_SIZE: u64 = u32::MAX as u64;

/// Why a time or size value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitError {
    /// The value does not start with a digit (`s`, `-1`, empty).
    MissingNumber,
    /// A character that is not a known unit (`1x`, `1S`, `1msx`).
    UnexpectedChar(char),
    /// Above [`MAX_TIME_MS`] or [`MAX_SIZE`].
    Overflow { max: u64 },
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitError::MissingNumber => write!(f, "expected a number"),
            UnitError::UnexpectedChar(c) => write!(f, "unexpected character '{c}'"),
            UnitError::Overflow { max } => write!(f, "value too large (maximum is {max})"),
        }
    }
}

impl std::error::Error for UnitError {}

/// Parses a time in milliseconds: a decimal number with an optional unit
/// among `us`, `ms`, `s`, `m`, `h`, `d` (lower case only); no unit means
/// milliseconds. Microseconds round up (`1us` is 1 ms; `0us` is 0), as
/// HAProxy does.
pub fn parse_time_ms(text: &str) -> Result<u64, UnitError> {
    let (number, unit) = split_number(text, MAX_TIME_MS)?;
    let (mul, div): (u64, u64) = match unit {
        "" | "ms" => (1, 1),
        "us" => (1, 1000),
        "s" => (1000, 1),
        "m" => (60_000, 1),
        "h" => (3_600_000, 1),
        "d" => (86_400_000, 1),
        other => return Err(unexpected(time_unit_error_at(other))),
    };
    let overflow = UnitError::Overflow { max: MAX_TIME_MS };
    let value = number
        .checked_mul(mul)
        .map(|v| v.div_ceil(div))
        .ok_or(overflow.clone())?;
    if value > MAX_TIME_MS {
        return Err(overflow);
    }
    Ok(value)
}

/// Parses a size in bytes: a decimal number with an optional `k`, `m` or
/// `g` suffix (either case), each a power of 1024 (`200k` is 204800).
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let (number, unit) = split_number(text, MAX_SIZE)?;
    let shift = match unit {
        "" => 0,
        "k" | "K" => 10,
        "m" | "M" => 20,
        "g" | "G" => 30,
        other => return Err(unexpected(size_unit_error_at(other))),
    };
    let overflow = UnitError::Overflow { max: MAX_SIZE };
    let value = number.checked_mul(1u64 << shift).ok_or(overflow.clone())?;
    if value > MAX_SIZE {
        return Err(overflow);
    }
    Ok(value)
}

/// The leading decimal number and what follows it.
fn split_number(text: &str, max: u64) -> Result<(u64, &str), UnitError> {
    let parsed: nom::IResult<&str, &str> = digit1.parse(text);
    let (unit, digits) = parsed.map_err(|_| match text.chars().next() {
        Some(c) => UnitError::UnexpectedChar(c),
        None => UnitError::MissingNumber,
    })?;
    // digit1 only lets digits through, so the only failure is too many.
    let number = digits
        .parse::<u64>()
        .map_err(|_| UnitError::Overflow { max })?;
    Ok((number, unit))
}

/// In a bad time unit, the first character that cannot belong to a unit:
/// `msx` → `x`, `S` → `S`.
fn time_unit_error_at(unit: &str) -> &str {
    ["us", "ms", "s", "m", "h", "d"]
        .iter()
        .filter_map(|u| unit.strip_prefix(u))
        .min_by_key(|rest| rest.len())
        .unwrap_or(unit)
}

/// In a bad size unit, the first character after a valid suffix, if any.
fn size_unit_error_at(unit: &str) -> &str {
    let mut chars = unit.chars();
    match chars.next() {
        Some('k' | 'K' | 'm' | 'M' | 'g' | 'G') => chars.as_str(),
        _ => unit,
    }
}

fn unexpected(rest: &str) -> UnitError {
    rest.chars()
        .next()
        .map_or(UnitError::MissingNumber, UnitError::UnexpectedChar)
}

#[cfg(test)]
mod tests;
