//! AST → `Program`: resolves names, type-checks ACLs, builds pattern sets.

pub mod acl;
pub mod action;
pub mod counter;
pub mod logformat;
pub mod program;
pub mod redirect;
pub mod rules;
pub mod sample;
pub mod term;
