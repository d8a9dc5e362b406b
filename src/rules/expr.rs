//! Compiled conditions (`if`/`unless` expressions over ACLs).

/// A compiled `if|unless <expression>`.
#[derive(Debug)]
pub struct Cond {}
