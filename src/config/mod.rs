//! Configuration text → AST. Knows syntax only: sections, lines, words,
//! quoting, escapes, environment variables and comments.

pub mod ast;
pub mod diag;
pub mod source;
