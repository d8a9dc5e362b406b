//! Compiled ACLs and conditions (`if`/`unless` expressions over ACLs), and
//! their evaluation: left to right with short-circuit, because some fetches
//! (`sc1_inc_gpc0`) change counters.

use std::sync::Arc;

use super::conv::Conv;
use super::ctx::Ctx;
use super::eval::each_sample;
use super::fetch::Fetch;
use super::pattern::PatternSet;

/// A fetch followed by converters (`hdr(host),lower`).
#[derive(Debug, Clone)]
pub struct SampleExpr {
    pub fetch: Fetch,
    pub convs: Box<[Conv]>,
}

impl SampleExpr {
    pub fn new(fetch: Fetch) -> SampleExpr {
        SampleExpr {
            fetch,
            convs: Box::default(),
        }
    }
}

/// One `acl` line (or an anonymous `{ ... }`): an expression and patterns.
#[derive(Debug)]
pub struct AclTerm {
    pub expr: SampleExpr,
    pub patterns: PatternSet,
}

/// A named ACL: every line with its name, OR-ed in declaration order.
#[derive(Debug)]
pub struct Acl {
    /// Empty for an anonymous ACL.
    pub name: Box<str>,
    pub terms: Vec<AclTerm>,
}

/// An ACL reference in a condition, possibly negated (`!name`).
#[derive(Debug, Clone)]
pub struct CondAtom {
    pub negate: bool,
    pub acl: Arc<Acl>,
}

/// A compiled `if|unless <expression>`: an OR of AND-ed atoms.
#[derive(Debug, Clone)]
pub struct Cond {
    pub unless: bool,
    pub alternatives: Vec<Vec<CondAtom>>,
}

impl Acl {
    /// Whether any term matches; terms run in order and stop at the first
    /// match.
    pub fn matches(&self, ctx: &Ctx<'_>) -> bool {
        self.terms.iter().any(|t| {
            let patterns = &t.patterns;
            each_sample(&t.expr, ctx, &mut |s| patterns.matches(s))
        })
    }
}

/// Evaluates a condition. Atoms run left to right; an AND stops at the first
/// false atom, the OR at the first true alternative.
pub fn eval_cond(cond: &Cond, ctx: &Ctx<'_>) -> bool {
    let hit = cond
        .alternatives
        .iter()
        .any(|and| and.iter().all(|atom| atom.acl.matches(ctx) != atom.negate));
    hit != cond.unless
}

/// Whether an optional rule condition lets the rule run.
pub fn cond_holds(cond: Option<&Cond>, ctx: &Ctx<'_>) -> bool {
    cond.is_none_or(|c| eval_cond(c, ctx))
}

/// The target of the first rule whose condition holds, else `default`:
/// `use_backend` selection, written without the compiler's types so the data
/// plane can call it:
/// `select(fe.use_backend.iter().map(|r| (r.backend, r.cond.as_ref())), fe.default_backend, &ctx)`.
pub fn select<'c, T>(
    rules: impl IntoIterator<Item = (T, Option<&'c Cond>)>,
    default: Option<T>,
    ctx: &Ctx<'_>,
) -> Option<T> {
    rules
        .into_iter()
        .find(|(_, cond)| cond_holds(*cond, ctx))
        .map(|(target, _)| target)
        .or(default)
}

/// Index of the first item whose condition holds (`use_backend` rules).
pub fn first_match<'c>(
    conds: impl IntoIterator<Item = Option<&'c Cond>>,
    ctx: &Ctx<'_>,
) -> Option<usize> {
    conds.into_iter().position(|c| cond_holds(c, ctx))
}
