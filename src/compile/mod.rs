//! AST → `Program`: resolves names, type-checks ACLs, builds pattern sets.

pub mod program;
