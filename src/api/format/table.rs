//! `show table` without a name: one header line per table, in reverse
//! declaration order. (Entry lines come from `stick::Table::dump`.)

use crate::stick::Tables;

pub fn list(tables: &Tables, now_ms: u64) -> String {
    let mut out = String::new();
    for (_, t) in tables.iter().rev() {
        t.show_header(&mut out, now_ms);
    }
    out
}
