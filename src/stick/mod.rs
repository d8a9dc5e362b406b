//! Stick tables: named, typed, bounded tables of counters shared by every
//! worker and every proxy that names them.
//!
//! * [`Tables`] (registry.rs): the program's tables by [`TableId`] and name,
//!   as `Arc<Table>`.
//! * [`Table`] (table.rs): `new(spec)`, `len/size/avail`, `lookup` (read-only,
//!   no re-arm), `touch` (get-or-create, re-arm), `track` (touch + pin until
//!   the [`Tracker`] drops), `set_data`, `purge_expired`; and for the runtime
//!   API (dump.rs) `show_header`, `dump(Filter)` → [`Dump::next_batch`],
//!   `clear(Filter)`.
//! * [`EntryMut`] (entry.rs), reached through [`EntryRef`] (from `lookup`,
//!   `touch`), [`Tracker::entry`], or in one lock with `Table::touch_with` /
//!   `lookup_with` / `EntryRef::with_locked`: `get`, `add`, `set`,
//!   `inc_gpc0/1`, `clr_gpc0/1`, `inc_conn_cur`, `dec_conn_cur`,
//!   `count_connection`, `use_count`, `expires_in`; every write re-arms the
//!   entry's expiry.
//! * [`Key`] (key.rs): keys from samples (`from_ip`, `from_int`,
//!   `from_bytes`) or text (`parse`, `parse_lenient`), printed as `show
//!   table` does and ordered as it lists them.
//! * freq.rs: the rate counter's pure math; data.rs: per-entry storage;
//!   expiry.rs: expiry and eviction order; shard.rs: one locked shard, an
//!   open-addressing table whose buckets are the entries; rowkey.rs: keys
//!   inside rows.
//!
//! Time is always passed in as `now_ms` (`crate::clock::now_ms()` in the
//! workers), so tests never sleep.

pub mod data;
pub mod dump;
pub mod entry;
mod expiry;
pub mod freq;
pub mod key;
pub mod registry;
mod rowkey;
mod shard;
pub mod spec;
pub mod table;

pub use dump::{ClearError, DataFilter, Dump, Filter, FilterOp, MAX_DATA_FILTERS};
pub use entry::{EntryMut, EntryRef, Tracker};
pub use key::{Key, KeyError};
pub use registry::Tables;
pub use spec::{DataSpec, DataType, KeyType, TableId, TableSpec};
pub use table::{SetError, Table};
