//! What the runtime API needs: `show table` (header, filtered entry lines in
//! key order) and `clear table`.
//!
//! A dump never holds a shard lock while the caller writes: [`Table::dump`]
//! snapshots the live keys (one shard locked at a time) and sorts them; each
//! [`Dump::next_batch`] then copies a bounded number of entries, one short
//! lock each, and formats them after unlocking. Entries removed in between
//! are skipped; entries created after the snapshot are not listed.
//!
//! Line format (`haproxy-cli.md` §2.4):
//! `0x<id>: key=<key> use=<n> exp=<ms> <type>=<v> <rate>(<period>)=<v>...`
//! where `<id>` is a hex number unique among live entries (HAProxy prints a
//! pointer) and fields follow HAProxy's data-type order.

use std::fmt::Write as _;

use super::data::{self, Layout};
use super::key::Key;
use super::shard::Shard;
use super::spec::DataType;
use super::table::Table;

/// At most this many `data.<type> <op> <value>` filters (HAProxy's limit).
pub const MAX_DATA_FILTERS: usize = 4;

/// A comparison of a `data.<type>` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Ne,
    Le,
    Ge,
    Lt,
    Gt,
}

impl FilterOp {
    pub fn from_keyword(word: &str) -> Option<FilterOp> {
        Some(match word {
            "eq" => FilterOp::Eq,
            "ne" => FilterOp::Ne,
            "le" => FilterOp::Le,
            "ge" => FilterOp::Ge,
            "lt" => FilterOp::Lt,
            "gt" => FilterOp::Gt,
            _ => return None,
        })
    }

    fn holds(self, data: i64, value: i64) -> bool {
        match self {
            FilterOp::Eq => data == value,
            FilterOp::Ne => data != value,
            FilterOp::Le => data <= value,
            FilterOp::Ge => data >= value,
            FilterOp::Lt => data < value,
            FilterOp::Gt => data > value,
        }
    }
}

/// `data.<type> <op> <value>`; the type must be stored in the table (the
/// API reports `Data type not stored in this table` otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFilter {
    pub data_type: DataType,
    pub op: FilterOp,
    pub value: i64,
}

/// Which entries `show table` / `clear table` address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Filter {
    /// Every entry.
    #[default]
    All,
    /// One key.
    Key(Key),
    /// Entries matching all (ANDed, up to [`MAX_DATA_FILTERS`]) filters.
    Data(Vec<DataFilter>),
}

/// Why `clear table` refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearError {
    /// `Entry currently in use, cannot remove` (only with `key`).
    InUse,
}

/// A `show table` in progress.
pub struct Dump<'t> {
    table: &'t Table,
    filter: Filter,
    keys: Vec<(u32, Key)>,
    next: usize,
    words: Vec<u32>,
}

/// What a batch copies of one entry under the lock.
struct Row {
    id: u64,
    use_cnt: u32,
    exp: u64,
}

impl Table {
    /// Appends `# table: <name>, type: <type>, size:<size>, used:<n>\n`,
    /// purging expired entries first so `used:` is exact.
    pub fn show_header(&self, out: &mut String, now_ms: u64) {
        self.purge_expired(now_ms);
        let s = self.spec();
        let line = writeln!(
            out,
            "# table: {}, type: {}, size:{}, used:{}",
            s.name,
            s.key_type.as_keyword(),
            s.size,
            self.len()
        );
        debug_assert!(line.is_ok(), "writing to a String cannot fail");
    }

    /// Starts a dump of the entries `filter` selects, in key order.
    pub fn dump(&self, filter: Filter, now_ms: u64) -> Dump<'_> {
        let keys = match &filter {
            Filter::Key(k) => self
                .lookup(k, now_ms)
                .and(self.locate(k))
                .map(|(si, _, _)| (si as u32, k.clone()))
                .into_iter()
                .collect(),
            _ => self.snapshot_keys(now_ms),
        };
        let words = vec![0; self.layout().words()];
        Dump {
            table: self,
            filter,
            keys,
            next: 0,
            words,
        }
    }

    /// `clear table`: removes the unused entries `filter` selects and returns
    /// how many. With a key, an entry in use is an error; otherwise in-use
    /// entries are skipped silently and a missing key is fine.
    pub fn clear(&self, filter: &Filter, now_ms: u64) -> Result<usize, ClearError> {
        if let Filter::Key(k) = filter {
            return self.clear_key(k, now_ms);
        }
        let mut removed = 0;
        for si in 0..self.shard_count() {
            let mut shard = self.lock(si);
            // Removal moves rows: collect handles, then find each again.
            let doomed: Vec<_> = (0..shard.capacity())
                .filter(|&b| self.clearable(&shard, b, filter, now_ms))
                .map(|b| shard.meta(b).handle())
                .collect();
            for h in doomed {
                if let Some(b) = shard.find_handle(h) {
                    self.remove_locked(&mut shard, b);
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    fn clear_key(&self, key: &Key, now_ms: u64) -> Result<usize, ClearError> {
        let Some((si, hash, probe)) = self.locate(key) else {
            return Ok(0);
        };
        let mut shard = self.lock(si);
        let Some(b) = shard.find(hash, &probe) else {
            return Ok(0);
        };
        let meta = shard.meta(b);
        if meta.use_cnt() > 0 {
            return Err(ClearError::InUse);
        }
        // An expired entry was already gone for everyone: not counted.
        let expired = self.is_expired(meta, now_ms);
        self.remove_locked(&mut shard, b);
        Ok(usize::from(!expired))
    }

    fn clearable(&self, shard: &Shard, b: usize, filter: &Filter, now_ms: u64) -> bool {
        let (meta, words) = shard.entry(b);
        meta.live() && meta.use_cnt() == 0 && matches(self.layout(), filter, words, now_ms)
    }

    /// Live, unexpired keys of every shard, sorted, with their shard.
    fn snapshot_keys(&self, now_ms: u64) -> Vec<(u32, Key)> {
        let mut keys = Vec::with_capacity(self.len());
        for si in 0..self.shard_count() {
            let shard = self.lock(si);
            let live = (0..shard.capacity()).filter(|&b| {
                let meta = shard.meta(b);
                meta.live() && !self.is_expired(meta, now_ms)
            });
            keys.extend(live.map(|b| (si as u32, shard.key(b))));
        }
        keys.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        keys
    }
}

impl Dump<'_> {
    /// Formats up to `max` more entry lines into `out`; returns whether
    /// entries remain. Each entry is copied under its shard's lock, which is
    /// released before formatting.
    pub fn next_batch(&mut self, out: &mut String, max: usize, now_ms: u64) -> bool {
        let end = (self.next + max).min(self.keys.len());
        let Dump {
            table,
            filter,
            keys,
            words,
            ..
        } = self;
        for (si, key) in &keys[self.next..end] {
            if let Some(row) = copy_entry(table, filter, *si, key, words, now_ms) {
                format_line(out, table.layout(), &row, key, words, now_ms);
            }
        }
        self.next = end;
        end < self.keys.len()
    }

    /// Whether the dump selects no entry at all (`show table t key k` of a
    /// missing key prints no header).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Copies one entry's line data into `words` under its shard lock, if it is
/// still there, unexpired and selected by `filter`.
fn copy_entry(
    table: &Table,
    filter: &Filter,
    si: u32,
    key: &Key,
    words: &mut [u32],
    now_ms: u64,
) -> Option<Row> {
    let (_, hash, probe) = table.locate(key)?;
    let shard = table.lock(si as usize);
    let b = shard.find(hash, &probe)?;
    let (meta, data) = shard.entry(b);
    if table.is_expired(meta, now_ms) || !matches(table.layout(), filter, data, now_ms) {
        return None;
    }
    words.copy_from_slice(data);
    // Unique among live entries: ids are unique in a shard (until one
    // wraps around after 2^32 creations there).
    let id = (u64::from(si) << 32) | u64::from(meta.id());
    Some(Row {
        id,
        use_cnt: meta.use_cnt(),
        exp: table.remaining(meta, now_ms),
    })
}

/// Whether an entry's data passes the data filters (key filters were
/// applied when the keys were chosen).
fn matches(layout: &Layout, filter: &Filter, words: &[u32], now_ms: u64) -> bool {
    let Filter::Data(filters) = filter else {
        return true;
    };
    filters.iter().all(|df| {
        layout
            .field(df.data_type)
            .is_some_and(|f| df.op.holds(data::read_signed(&f, words, now_ms), df.value))
    })
}

fn format_line(
    out: &mut String,
    layout: &Layout,
    row: &Row,
    key: &Key,
    words: &[u32],
    now_ms: u64,
) {
    let head = write!(
        out,
        "0x{:x}: key={} use={} exp={}",
        row.id, key, row.use_cnt, row.exp
    );
    debug_assert!(head.is_ok(), "writing to a String cannot fail");
    data::format_fields(layout, words, now_ms, out);
    out.push('\n');
}

#[cfg(test)]
mod tests;
