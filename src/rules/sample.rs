//! Samples: the typed values fetches produce, converters transform and
//! matchers test.

use std::borrow::Cow;
use std::net::IpAddr;

/// The type of a sample, as HAProxy names them in its manual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleType {
    Bool,
    Int,
    Ip,
    Str,
}

impl SampleType {
    pub fn as_keyword(self) -> &'static str {
        match self {
            SampleType::Bool => "boolean",
            SampleType::Int => "integer",
            SampleType::Ip => "ip",
            SampleType::Str => "string",
        }
    }
}

/// One value. Strings borrow from the request when they can, so fetching a
/// header or the path does not allocate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sample<'a> {
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    Str(Cow<'a, [u8]>),
}

impl<'a> Sample<'a> {
    pub fn borrowed(bytes: &'a [u8]) -> Sample<'a> {
        Sample::Str(Cow::Borrowed(bytes))
    }

    pub fn sample_type(&self) -> SampleType {
        match self {
            Sample::Bool(_) => SampleType::Bool,
            Sample::Int(_) => SampleType::Int,
            Sample::Ip(_) => SampleType::Ip,
            Sample::Str(_) => SampleType::Str,
        }
    }

    /// The value as an integer: booleans are 0/1, strings are parsed as a
    /// leading decimal number (HAProxy's cast), addresses do not convert.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Sample::Bool(b) => Some(i64::from(*b)),
            Sample::Int(i) => Some(*i),
            Sample::Ip(_) => None,
            Sample::Str(s) => parse_leading_int(s),
        }
    }

    /// The value as a boolean (an integer is true when not zero).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Sample::Bool(b) => Some(*b),
            Sample::Int(i) => Some(*i != 0),
            Sample::Ip(_) => None,
            Sample::Str(s) => parse_leading_int(s).map(|i| i != 0),
        }
    }

    /// The value as an address: strings holding an address are parsed.
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Sample::Ip(ip) => Some(*ip),
            Sample::Str(s) => std::str::from_utf8(s).ok()?.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as bytes; numbers and addresses are formatted (allocates).
    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Sample::Str(s) => Cow::Borrowed(s.as_ref()),
            Sample::Bool(b) => Cow::Borrowed(if *b { b"1" } else { b"0" }),
            Sample::Int(i) => Cow::Owned(i.to_string().into_bytes()),
            Sample::Ip(ip) => Cow::Owned(ip.to_string().into_bytes()),
        }
    }

    /// Appends the value's text form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        let written = match self {
            Sample::Str(s) => {
                out.extend_from_slice(s);
                Ok(())
            }
            Sample::Bool(b) => write!(out, "{}", u8::from(*b)),
            Sample::Int(i) => write!(out, "{i}"),
            Sample::Ip(ip) => write!(out, "{ip}"),
        };
        // Writing into a Vec cannot fail.
        debug_assert!(written.is_ok());
    }

    /// Detaches the sample from what it borrows.
    pub fn into_owned(self) -> Sample<'static> {
        match self {
            Sample::Bool(b) => Sample::Bool(b),
            Sample::Int(i) => Sample::Int(i),
            Sample::Ip(ip) => Sample::Ip(ip),
            Sample::Str(s) => Sample::Str(Cow::Owned(s.into_owned())),
        }
    }
}

/// Parses an optional sign and leading decimal digits, as HAProxy's string to
/// integer cast does; `None` when there is no digit.
pub fn parse_leading_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 {
        return None;
    }
    let mut value: i64 = 0;
    for &d in &digits[..len] {
        value = value.saturating_mul(10).saturating_add(i64::from(d - b'0'));
    }
    Some(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_haproxy() {
        assert_eq!(Sample::borrowed(b"12abc").as_int(), Some(12));
        assert_eq!(Sample::borrowed(b"-3").as_int(), Some(-3));
        assert_eq!(Sample::borrowed(b"x").as_int(), None);
        assert_eq!(Sample::Bool(true).as_int(), Some(1));
        let ip: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert_eq!(Sample::borrowed(b"10.0.0.1").as_ip(), Some(ip));
        let mut out = Vec::new();
        Sample::Int(42).write_to(&mut out);
        Sample::Ip(ip).write_to(&mut out);
        assert_eq!(out, b"4210.0.0.1");
    }
}
