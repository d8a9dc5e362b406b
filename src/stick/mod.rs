//! Stick tables: named, typed, bounded tables of counters shared by every
//! worker and every proxy that names them.

pub mod spec;

pub use spec::{DataSpec, DataType, KeyType, TableId, TableSpec};
