//! Configuration text → AST. Knows syntax only: sections, lines, words,
//! quoting, escapes, environment variables and comments.
//!
//! Entry points: [`load`] (files and directories from the command line),
//! [`parse_str`] (text, for tests and fuzzing), [`diag::render`] and the
//! [`units`] parsers that `compile` applies to words.

pub mod ast;
mod blocks;
pub mod cond;
pub mod diag;
pub mod lexer;
mod load;
pub mod parser;
pub mod source;
pub mod units;

pub use load::{Loaded, load, load_with_env, parse_bytes, parse_str};
