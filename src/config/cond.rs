//! Conditions of `.if` / `.elif` (HAProxy's `cfgcond.c`, section 2.4 of
//! the manual): `0`, `1`, `!x`, `(x)`, `a && b`, `a || b` and the
//! predicates `defined`, `feature`, `streq`, `strneq`, `version_atleast`,
//! `version_before`. The whole expression is parsed before it is evaluated,
//! so an unknown predicate is an error even where it would not be reached.

/// The HAProxy version lbd answers `version_atleast`/`version_before` for.
pub const COMPAT_VERSION: &str = "2.6.12";

/// What `feature(<name>)` is true for: the build features lbd provides
/// with HAProxy's names (TLS comes from rustls but configurations guard
/// `ssl` lines with `feature(OPENSSL)`).
pub const FEATURES: &[&str] = &["OPENSSL", "LINUX_SPLICE", "TPROXY", "REGPARM"];

/// A condition that could not be parsed: why, and the byte offset in the
/// condition text where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondError {
    pub offset: usize,
    pub message: String,
}

/// Parses and evaluates a condition; `env` answers `defined()`.
pub fn eval_condition(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<bool, CondError> {
    let mut parser = CondParser {
        text,
        at: 0,
        depth: 0,
    };
    let expr = parser.or()?;
    parser.skip_blanks();
    if parser.at < text.len() {
        return Err(parser.error("unparsable conditional expression"));
    }
    Ok(expr.eval(env))
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cond {
    Const(bool),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Defined(String),
    Feature(String),
    StrEq(String, String, bool),
    Version { at_least: bool, version: Version },
}

impl Cond {
    fn eval(&self, env: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Cond::Const(b) => *b,
            Cond::Not(c) => !c.eval(env),
            Cond::And(all) => all.iter().all(|c| c.eval(env)),
            Cond::Or(any) => any.iter().any(|c| c.eval(env)),
            Cond::Defined(name) => env(name).is_some(),
            Cond::Feature(name) => FEATURES.contains(&name.as_str()),
            Cond::StrEq(a, b, equal) => (a == b) == *equal,
            Cond::Version { at_least, version } => {
                let ours = Version::parse(COMPAT_VERSION).unwrap_or_default();
                (ours >= *version) == *at_least
            }
        }
    }
}

/// Deeper nesting than this is refused, so that no input can exhaust the
/// stack.
const MAX_DEPTH: usize = 64;

struct CondParser<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl CondParser<'_> {
    fn error(&self, what: &str) -> CondError {
        let rest = self.text.get(self.at..).unwrap_or_default();
        CondError {
            offset: self.at,
            message: format!("{what} '{rest}'"),
        }
    }

    fn skip_blanks(&mut self) {
        let rest = self.text.get(self.at..).unwrap_or_default();
        self.at += rest.len() - rest.trim_start_matches([' ', '\t']).len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_blanks();
        let found = self
            .text
            .get(self.at..)
            .is_some_and(|r| r.starts_with(token));
        if found {
            self.at += token.len();
        }
        found
    }

    fn or(&mut self) -> Result<Cond, CondError> {
        let mut terms = vec![self.and()?];
        while self.eat("||") {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Cond::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Cond, CondError> {
        let mut terms = vec![self.term()?];
        while self.eat("&&") {
            terms.push(self.term()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Cond::And(terms)
        })
    }

    fn term(&mut self) -> Result<Cond, CondError> {
        self.skip_blanks();
        if self.at >= self.text.len() {
            // An empty condition is false, as in HAProxy.
            return Ok(Cond::Const(false));
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("too deeply nested conditional expression"));
        }
        let cond = if self.eat("!") {
            Cond::Not(Box::new(self.term()?))
        } else if self.eat("(") {
            let inner = self.or()?;
            if !self.eat(")") {
                return Err(self.error("expected ')' in conditional expression"));
            }
            inner
        } else {
            self.atom()?
        };
        self.depth -= 1;
        Ok(cond)
    }

    /// A number or `predicate(args)`.
    fn atom(&mut self) -> Result<Cond, CondError> {
        let rest = self.text.get(self.at..).unwrap_or_default();
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            self.at += digits;
            return Ok(Cond::Const(rest[..digits].bytes().any(|b| b != b'0')));
        }
        let name_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_')
                .len();
        let start = self.at;
        let name = &rest[..name_len];
        self.at += name_len;
        let args = self.args().map_err(|mut e| {
            e.offset = start;
            e
        })?;
        predicate(name, args).ok_or_else(|| {
            self.at = start;
            self.error("unparsable conditional expression")
        })
    }

    /// `(a,b,...)` right after a predicate name; arguments are raw text.
    fn args(&mut self) -> Result<Vec<String>, CondError> {
        let rest = self.text.get(self.at..).unwrap_or_default();
        let inner = rest
            .strip_prefix('(')
            .and_then(|r| r.find(')').map(|end| &r[..end]))
            .ok_or_else(|| self.error("unparsable conditional expression"))?;
        self.at += inner.len() + 2;
        Ok(inner.split(',').map(str::to_owned).collect())
    }
}

/// Builds a predicate from its name and arguments; `None` when the name is
/// unknown or the argument count is wrong.
fn predicate(name: &str, args: Vec<String>) -> Option<Cond> {
    let mut args = args.into_iter();
    let (first, second, extra) = (args.next(), args.next(), args.next());
    let one = |a: Option<String>| if second.is_none() { a } else { None };
    match (name, extra) {
        ("defined", None) => one(first).map(Cond::Defined),
        ("feature", None) => one(first).map(Cond::Feature),
        ("streq" | "strneq", None) => Some(Cond::StrEq(first?, second?, name == "streq")),
        ("version_atleast" | "version_before", None) => Some(Cond::Version {
            at_least: name == "version_atleast",
            version: Version::parse(&one(first)?)?,
        }),
        _ => None,
    }
}

/// A version as `haproxy -v` prints it: numbers, then an optional `-devN`,
/// `-preN` or `-rcN` that comes before the release.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Version {
    numbers: [u32; 4],
    /// dev < pre < rc < release, then its number.
    stage: (u8, u32),
}

impl Version {
    fn parse(text: &str) -> Option<Version> {
        let (numbers_text, suffix) = text.split_once('-').unwrap_or((text, ""));
        let mut numbers = [0u32; 4];
        for (slot, part) in numbers.iter_mut().zip(numbers_text.split('.')) {
            *slot = part.parse().ok()?;
        }
        let stage = match suffix {
            "" => (3, 0),
            s => {
                let digits = s.trim_start_matches(|c: char| c.is_ascii_alphabetic());
                let rank = match &s[..s.len() - digits.len()] {
                    "dev" => 0,
                    "pre" => 1,
                    "rc" => 2,
                    _ => return None,
                };
                (rank, digits.parse().unwrap_or(0))
            }
        };
        Some(Version { numbers, stage })
    }
}

#[cfg(test)]
mod tests;
