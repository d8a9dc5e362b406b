//! Matching methods (`-m str|beg|...`) and the pattern sets they test,
//! built once at compile time.

use std::net::IpAddr;

use ahash::AHashSet;
use regex::bytes::{Regex, RegexBuilder};

use super::sample::{Sample, SampleType, parse_leading_int};

/// How a sample is compared with the patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMethod {
    Found,
    Bool,
    Int,
    Ip,
    Str,
    Beg,
    End,
    Sub,
    Reg,
    Dir,
    Dom,
    Len,
}

impl MatchMethod {
    pub const ALL: [MatchMethod; 12] = [
        MatchMethod::Found,
        MatchMethod::Bool,
        MatchMethod::Int,
        MatchMethod::Ip,
        MatchMethod::Str,
        MatchMethod::Beg,
        MatchMethod::End,
        MatchMethod::Sub,
        MatchMethod::Reg,
        MatchMethod::Dir,
        MatchMethod::Dom,
        MatchMethod::Len,
    ];

    pub fn as_keyword(self) -> &'static str {
        match self {
            MatchMethod::Found => "found",
            MatchMethod::Bool => "bool",
            MatchMethod::Int => "int",
            MatchMethod::Ip => "ip",
            MatchMethod::Str => "str",
            MatchMethod::Beg => "beg",
            MatchMethod::End => "end",
            MatchMethod::Sub => "sub",
            MatchMethod::Reg => "reg",
            MatchMethod::Dir => "dir",
            MatchMethod::Dom => "dom",
            MatchMethod::Len => "len",
        }
    }

    pub fn from_keyword(word: &str) -> Option<MatchMethod> {
        MatchMethod::ALL
            .into_iter()
            .find(|m| m.as_keyword() == word)
    }

    /// The method an ACL uses by default on a fetch of this output type.
    pub fn default_for(out: SampleType) -> MatchMethod {
        match out {
            SampleType::Bool => MatchMethod::Bool,
            SampleType::Int => MatchMethod::Int,
            SampleType::Ip => MatchMethod::Ip,
            SampleType::Str => MatchMethod::Str,
        }
    }

    /// Whether a fetch producing `out` can be matched this way. Every type
    /// casts to a string; strings may hold numbers and addresses.
    pub fn accepts(self, out: SampleType) -> bool {
        match self {
            MatchMethod::Found | MatchMethod::Str | MatchMethod::Beg | MatchMethod::End => true,
            MatchMethod::Sub | MatchMethod::Reg | MatchMethod::Dir | MatchMethod::Dom => true,
            MatchMethod::Len => out == SampleType::Str,
            MatchMethod::Bool | MatchMethod::Int => out != SampleType::Ip,
            MatchMethod::Ip => matches!(out, SampleType::Ip | SampleType::Str),
        }
    }

    /// Whether the method takes patterns at all.
    pub fn takes_patterns(self) -> bool {
        !matches!(self, MatchMethod::Found | MatchMethod::Bool)
    }
}

/// An integer comparison operator (`eq ge gt le lt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOp {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

impl IntOp {
    pub fn from_keyword(word: &str) -> Option<IntOp> {
        Some(match word {
            "eq" => IntOp::Eq,
            "ge" => IntOp::Ge,
            "gt" => IntOp::Gt,
            "le" => IntOp::Le,
            "lt" => IntOp::Lt,
            _ => return None,
        })
    }
}

#[derive(Debug)]
enum Patterns {
    Nothing,
    Exact(AHashSet<Box<[u8]>>),
    List(Vec<Box<[u8]>>),
    Regexes(Vec<Regex>),
    /// Inclusive ranges.
    Ints(Vec<(i64, i64)>),
    Ips {
        v4: Vec<(u32, u32)>,
        v6: Vec<(u128, u128)>,
    },
}

/// The compiled patterns of one ACL line.
#[derive(Debug)]
pub struct PatternSet {
    method: MatchMethod,
    icase: bool,
    patterns: Patterns,
}

fn parse_int(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .map_err(|_| format!("'{text}' is neither a number nor a supported operator"))
}

fn parse_range(text: &str) -> Result<(i64, i64), String> {
    match text.split_once(':') {
        Some((lo, hi)) => {
            let lo = if lo.is_empty() {
                i64::MIN
            } else {
                parse_int(lo)?
            };
            let hi = if hi.is_empty() {
                i64::MAX
            } else {
                parse_int(hi)?
            };
            Ok((lo, hi))
        }
        None => parse_int(text).map(|v| (v, v)),
    }
}

/// Parses `a.b.c.d[/len]`, `a.b.c.d/mask` or an IPv6 address with a prefix
/// into an inclusive range.
fn parse_net(text: &str) -> Option<(IpAddr, IpAddr)> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(ip) => {
            let bits = match len {
                None => 32,
                Some(l) => match l.parse::<u32>() {
                    Ok(b) if b <= 32 => b,
                    Ok(_) => return None,
                    Err(_) => u32::from(l.parse::<std::net::Ipv4Addr>().ok()?).count_ones(),
                },
            };
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            let lo = u32::from(ip) & mask;
            Some((
                IpAddr::from(lo.to_be_bytes()),
                IpAddr::from((lo | !mask).to_be_bytes()),
            ))
        }
        IpAddr::V6(ip) => {
            let bits: u32 = len.map_or(Ok(128), str::parse).ok().filter(|b| *b <= 128)?;
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            let lo = u128::from(ip) & mask;
            Some((
                IpAddr::from(lo.to_be_bytes()),
                IpAddr::from((lo | !mask).to_be_bytes()),
            ))
        }
    }
}

impl PatternSet {
    pub fn new(method: MatchMethod, icase: bool) -> PatternSet {
        let patterns = match method {
            MatchMethod::Found | MatchMethod::Bool => Patterns::Nothing,
            MatchMethod::Str => Patterns::Exact(AHashSet::new()),
            MatchMethod::Reg => Patterns::Regexes(Vec::new()),
            MatchMethod::Int | MatchMethod::Len => Patterns::Ints(Vec::new()),
            MatchMethod::Ip => Patterns::Ips {
                v4: Vec::new(),
                v6: Vec::new(),
            },
            _ => Patterns::List(Vec::new()),
        };
        PatternSet {
            method,
            icase,
            patterns,
        }
    }

    pub fn method(&self) -> MatchMethod {
        self.method
    }

    /// Adds one pattern; the error is the message to report.
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        let icase = self.icase;
        let bytes: Box<[u8]> = if icase {
            text.to_ascii_lowercase().into_bytes().into()
        } else {
            text.as_bytes().into()
        };
        match &mut self.patterns {
            Patterns::Nothing => {}
            Patterns::Exact(set) => {
                set.insert(bytes);
            }
            Patterns::List(list) => list.push(bytes),
            Patterns::Regexes(list) => {
                let re = RegexBuilder::new(text)
                    .case_insensitive(icase)
                    .build()
                    .map_err(|e| {
                        format!("regex '{text}' is invalid ({})", first_line(&e.to_string()))
                    })?;
                list.push(re);
            }
            Patterns::Ints(list) => list.push(parse_range(text)?),
            Patterns::Ips { v4, v6 } => {
                let err = || format!("'{text}' is not a valid IPv4 or IPv6 address");
                match parse_net(text).ok_or_else(err)? {
                    (IpAddr::V4(lo), IpAddr::V4(hi)) => v4.push((lo.into(), hi.into())),
                    (IpAddr::V6(lo), IpAddr::V6(hi)) => v6.push((lo.into(), hi.into())),
                    _ => return Err(err()),
                }
            }
        }
        Ok(())
    }

    /// Adds `<op> <value>` for integer methods.
    pub fn add_int_op(&mut self, op: IntOp, value: &str) -> Result<(), String> {
        let v = parse_int(value)?;
        let range = match op {
            IntOp::Eq => (v, v),
            IntOp::Ge => (v, i64::MAX),
            IntOp::Gt => (v.saturating_add(1), i64::MAX),
            IntOp::Le => (i64::MIN, v),
            IntOp::Lt => (i64::MIN, v.saturating_sub(1)),
        };
        match &mut self.patterns {
            Patterns::Ints(list) => list.push(range),
            _ => {
                return Err(format!(
                    "'{value}' follows an integer operator but the match is not '-m int'"
                ));
            }
        }
        Ok(())
    }

    /// Sorts and merges address ranges so lookups are a binary search.
    pub fn finish(&mut self) {
        if let Patterns::Ips { v4, v6 } = &mut self.patterns {
            merge(v4);
            merge(v6);
        }
    }

    /// Whether there are no patterns (such an ACL never matches, except
    /// `found` and `bool`).
    pub fn is_empty(&self) -> bool {
        match &self.patterns {
            Patterns::Nothing => false,
            Patterns::Exact(s) => s.is_empty(),
            Patterns::List(l) => l.is_empty(),
            Patterns::Regexes(l) => l.is_empty(),
            Patterns::Ints(l) => l.is_empty(),
            Patterns::Ips { v4, v6 } => v4.is_empty() && v6.is_empty(),
        }
    }

    /// Tests one sample against the set.
    pub fn matches(&self, sample: &Sample<'_>) -> bool {
        match (&self.patterns, self.method) {
            (_, MatchMethod::Found) => true,
            (_, MatchMethod::Bool) => sample.as_bool().unwrap_or(false),
            (Patterns::Ints(ranges), MatchMethod::Len) => {
                let len = i64::try_from(sample.as_bytes().len()).unwrap_or(i64::MAX);
                in_ranges(ranges, len)
            }
            (Patterns::Ints(ranges), _) => sample
                .as_int()
                .or_else(|| match sample {
                    Sample::Str(s) => parse_leading_int(s),
                    _ => None,
                })
                .is_some_and(|v| in_ranges(ranges, v)),
            (Patterns::Ips { v4, v6 }, _) => match sample.as_ip() {
                Some(IpAddr::V4(ip)) => in_sorted(v4, u32::from(ip)),
                Some(IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
                    Some(ip4) => in_sorted(v4, u32::from(ip4)),
                    None => in_sorted(v6, u128::from(ip)),
                },
                None => false,
            },
            (Patterns::Regexes(list), _) => {
                let text = sample.as_bytes();
                list.iter().any(|re| re.is_match(&text))
            }
            (Patterns::Exact(set), _) => {
                let text = sample.as_bytes();
                if !self.icase {
                    return set.contains(&*text);
                }
                let mut stack = [0u8; 256];
                match stack.get_mut(..text.len()) {
                    Some(buf) => {
                        buf.copy_from_slice(&text);
                        buf.make_ascii_lowercase();
                        set.contains(&*buf)
                    }
                    None => set.contains(&*text.to_ascii_lowercase()),
                }
            }
            (Patterns::List(list), m) => {
                let text = sample.as_bytes();
                list.iter().any(|p| match_one(m, self.icase, &text, p))
            }
            (Patterns::Nothing, _) => false,
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

fn merge<T: Ord + Copy + CheckedNext>(ranges: &mut Vec<(T, T)>) {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges.iter() {
        match out.last_mut() {
            Some(last) if last.1.next().is_none_or(|n| lo <= n) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    *ranges = out;
}

trait CheckedNext: Sized {
    fn next(self) -> Option<Self>;
}
impl CheckedNext for u32 {
    fn next(self) -> Option<u32> {
        self.checked_add(1)
    }
}
impl CheckedNext for u128 {
    fn next(self) -> Option<u128> {
        self.checked_add(1)
    }
}

fn in_sorted<T: Ord + Copy>(ranges: &[(T, T)], v: T) -> bool {
    let idx = ranges.partition_point(|r| r.0 <= v);
    idx > 0 && ranges[idx - 1].1 >= v
}

fn in_ranges(ranges: &[(i64, i64)], v: i64) -> bool {
    ranges.iter().any(|&(lo, hi)| lo <= v && v <= hi)
}

fn eq(a: &[u8], b: &[u8], icase: bool) -> bool {
    if icase {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn find_from(text: &[u8], pat: &[u8], icase: bool, from: usize) -> Option<usize> {
    if pat.is_empty() {
        return Some(from);
    }
    (from..=text.len().checked_sub(pat.len())?).find(|&i| eq(&text[i..i + pat.len()], pat, icase))
}

fn match_one(method: MatchMethod, icase: bool, text: &[u8], pat: &[u8]) -> bool {
    match method {
        MatchMethod::Beg => text.get(..pat.len()).is_some_and(|t| eq(t, pat, icase)),
        MatchMethod::End => text
            .len()
            .checked_sub(pat.len())
            .is_some_and(|start| eq(&text[start..], pat, icase)),
        MatchMethod::Sub => find_from(text, pat, icase, 0).is_some(),
        MatchMethod::Dir => match_word(text, pat, icase, b'/'),
        MatchMethod::Dom => match_word(text, pat, icase, b'.'),
        _ => false,
    }
}

/// Whether `pat` occurs in `text` delimited by `delim` (or the ends) on both
/// sides, as a run of whole path segments or domain labels.
fn match_word(text: &[u8], pat: &[u8], icase: bool, delim: u8) -> bool {
    let pat = pat.strip_prefix(&[delim]).unwrap_or(pat);
    let pat = pat.strip_suffix(&[delim]).unwrap_or(pat);
    let mut from = 0;
    while let Some(i) = find_from(text, pat, icase, from) {
        let before = i == 0 || text[i - 1] == delim;
        let end = i + pat.len();
        let after = end == text.len() || text[end] == delim;
        if before && after {
            return true;
        }
        from = i + 1;
    }
    false
}

#[cfg(test)]
mod tests;
