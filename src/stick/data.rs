//! Per-entry storage of the stored data types, packed into `u32` words.
//!
//! A table computes a [`Layout`] once from its `store` list: each stored type
//! gets an offset, and only stored types take space. Widths follow HAProxy
//! 2.6: `bytes_in_cnt`/`bytes_out_cnt` are 64-bit (two words), `server_id` is
//! a signed 32-bit value, the other counters are unsigned 32-bit and wrap on
//! overflow, and each rate is a three-word [`FreqState`]. So `set ... data.gpc0
//! -1` stores 4294967295 and `4294967296` stores 0: values are truncated to
//! the type's width.
//!
//! The functions here work on one entry's word slice and are called with the
//! owning shard locked; they never allocate.

use std::fmt::Write as _;

use super::freq::{self, FreqState};
use super::spec::{DataType, TableSpec};

/// How a data type is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Unsigned 32-bit counter, wrapping.
    U32,
    /// Signed 32-bit value (`server_id`).
    I32,
    /// Unsigned 64-bit counter (two words, low first).
    U64,
    /// Rate over `period_ms` (three words: start, curr, prev).
    Rate { period_ms: u32 },
}

impl Kind {
    fn words(self) -> usize {
        match self {
            Kind::U32 | Kind::I32 => 1,
            Kind::U64 => 2,
            Kind::Rate { .. } => 3,
        }
    }
}

/// HAProxy's storage type for each data type.
fn kind_of(data_type: DataType, period_ms: u32) -> Kind {
    match data_type {
        DataType::ServerId => Kind::I32,
        DataType::BytesInCnt | DataType::BytesOutCnt => Kind::U64,
        d if d.is_rate() => Kind::Rate {
            period_ms: freq::clamp_period(period_ms),
        },
        _ => Kind::U32,
    }
}

/// Where one stored type lives in an entry's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub data_type: DataType,
    pub kind: Kind,
    offset: u16,
}

/// The word layout of a table's entries, computed once per table.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Indexed by `DataType as usize`.
    by_type: [Option<Field>; DataType::ALL.len()],
    /// Stored fields in HAProxy's print order.
    fields: Vec<Field>,
    words: usize,
}

impl Layout {
    pub fn new(spec: &TableSpec) -> Layout {
        let mut by_type = [None; DataType::ALL.len()];
        let mut fields = Vec::new();
        let mut words = 0usize;
        for data_type in DataType::ALL {
            let Some(stored) = spec.stored(data_type) else {
                continue;
            };
            let kind = kind_of(data_type, stored.period_ms);
            // At most 19 types of at most 3 words: offsets fit a u16.
            let field = Field {
                data_type,
                kind,
                offset: words as u16,
            };
            words += kind.words();
            by_type[data_type as usize] = Some(field);
            fields.push(field);
        }
        Layout {
            by_type,
            fields,
            words,
        }
    }

    /// Words per entry.
    pub fn words(&self) -> usize {
        self.words
    }

    /// The stored field of a type, if stored.
    #[inline]
    pub fn field(&self, data_type: DataType) -> Option<Field> {
        self.by_type[data_type as usize]
    }

    /// Stored fields in print order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Fresh words for an entry created at `now_ms`: counters 0, rates empty.
    pub fn init(&self, words: &mut [u32], now_ms: u64) {
        words.fill(0);
        for f in &self.fields {
            if let Kind::Rate { period_ms } = f.kind {
                store_freq(f, words, FreqState::new(period_ms, freq::tick(now_ms)));
            }
        }
    }
}

#[inline]
fn load_freq(f: &Field, w: &[u32]) -> FreqState {
    let o = f.offset as usize;
    FreqState {
        start: w[o],
        curr: w[o + 1],
        prev: w[o + 2],
    }
}

#[inline]
fn store_freq(f: &Field, w: &mut [u32], s: FreqState) {
    let o = f.offset as usize;
    w[o] = s.start;
    w[o + 1] = s.curr;
    w[o + 2] = s.prev;
}

fn load_u64(o: usize, w: &[u32]) -> u64 {
    u64::from(w[o]) | (u64::from(w[o + 1]) << 32)
}

fn store_u64(o: usize, w: &mut [u32], v: u64) {
    w[o] = v as u32;
    w[o + 1] = (v >> 32) as u32;
}

/// The field's value at `now_ms` as an unsigned number (`server_id` as its
/// 32-bit pattern; see [`read_signed`] for comparisons).
pub fn read(f: &Field, w: &[u32], now_ms: u64) -> u64 {
    let o = f.offset as usize;
    match f.kind {
        Kind::U32 | Kind::I32 => u64::from(w[o]),
        Kind::U64 => load_u64(o, w),
        Kind::Rate { period_ms } => freq::value(load_freq(f, w), period_ms, freq::tick(now_ms)),
    }
}

/// The value as HAProxy compares it in `data.<type> <op> <value>` filters:
/// a signed 64-bit integer.
pub fn read_signed(f: &Field, w: &[u32], now_ms: u64) -> i64 {
    match f.kind {
        Kind::I32 => i64::from(w[f.offset as usize] as i32),
        _ => read(f, w, now_ms) as i64,
    }
}

/// Adds `n` (events for a rate), wrapping at the type's width.
#[inline]
pub fn add(f: &Field, w: &mut [u32], n: u64, now_ms: u64) {
    let o = f.offset as usize;
    match f.kind {
        Kind::U32 | Kind::I32 => w[o] = w[o].wrapping_add(n as u32),
        Kind::U64 => store_u64(o, w, load_u64(o, w).wrapping_add(n)),
        Kind::Rate { period_ms } => {
            let s = freq::add(load_freq(f, w), period_ms, freq::tick(now_ms), n as u32);
            store_freq(f, w, s);
        }
    }
}

/// Stores `v` truncated to the type's width (for a rate, as the current
/// period's count starting now).
pub fn write(f: &Field, w: &mut [u32], v: u64, now_ms: u64) {
    let o = f.offset as usize;
    match f.kind {
        Kind::U32 | Kind::I32 => w[o] = v as u32,
        Kind::U64 => store_u64(o, w, v),
        Kind::Rate { .. } => store_freq(f, w, freq::set(freq::tick(now_ms), v as u32)),
    }
}

/// Decrements a counter, stopping at 0 (HAProxy checks before `conn_cur--`).
pub fn sub_saturating(f: &Field, w: &mut [u32], n: u64) {
    let o = f.offset as usize;
    match f.kind {
        Kind::U32 | Kind::I32 => w[o] = w[o].saturating_sub(n as u32),
        Kind::U64 => store_u64(o, w, load_u64(o, w).saturating_sub(n)),
        Kind::Rate { .. } => {}
    }
}

/// Appends ` <name>=<v>` or ` <name>(<period>)=<v>` for every stored type,
/// in HAProxy's order, as `show table` prints them.
pub fn format_fields(layout: &Layout, w: &[u32], now_ms: u64, out: &mut String) {
    for f in layout.fields() {
        let name = f.data_type.as_keyword();
        let written = match f.kind {
            Kind::I32 => write!(out, " {name}={}", w[f.offset as usize] as i32),
            Kind::Rate { period_ms } => write!(out, " {name}({period_ms})={}", read(f, w, now_ms)),
            _ => write!(out, " {name}={}", read(f, w, now_ms)),
        };
        debug_assert!(written.is_ok(), "writing to a String cannot fail");
    }
}

#[cfg(test)]
mod tests;
