//! An in-memory stand-in for the stick tables, for unit tests: counters are
//! plain numbers and rates count events without decay.

use std::net::IpAddr;
use std::sync::Arc;

use ahash::AHashMap;
use parking_lot::Mutex;

use super::track::{StickEntry, StickKey, StickTables};
use crate::stick::{DataType, TableId, TableSpec};

#[derive(Debug)]
pub struct MemEntry {
    stored: Vec<DataType>,
    values: Mutex<AHashMap<DataType, u64>>,
    pub tracked: Mutex<u32>,
}

impl MemEntry {
    fn new(stored: Vec<DataType>) -> MemEntry {
        MemEntry {
            stored,
            values: Mutex::new(AHashMap::new()),
            tracked: Mutex::new(0),
        }
    }

    pub fn set(&self, d: DataType, v: u64) {
        self.values.lock().insert(d, v);
    }

    fn bump(&self, d: DataType, by: i64) -> Option<u64> {
        if !self.stored.contains(&d) {
            return None;
        }
        let mut values = self.values.lock();
        let v = values.entry(d).or_insert(0);
        *v = v.saturating_add_signed(by);
        Some(*v)
    }
}

impl StickEntry for MemEntry {
    fn read(&self, data: DataType, _now_ms: u64) -> Option<u64> {
        self.stored
            .contains(&data)
            .then(|| self.values.lock().get(&data).copied().unwrap_or(0))
    }
    fn inc_gpc(&self, idx: u8, _now_ms: u64) -> Option<u64> {
        let (gpc, rate) = if idx == 0 {
            (DataType::Gpc0, DataType::Gpc0Rate)
        } else {
            (DataType::Gpc1, DataType::Gpc1Rate)
        };
        let r = self.bump(rate, 1);
        self.bump(gpc, 1).or(r)
    }
    fn clr_gpc(&self, idx: u8, _now_ms: u64) -> Option<u64> {
        let gpc = if idx == 0 {
            DataType::Gpc0
        } else {
            DataType::Gpc1
        };
        let old = self.read(gpc, 0)?;
        self.set(gpc, 0);
        Some(old)
    }
    fn set_gpt0(&self, value: u32, _now_ms: u64) -> bool {
        let stored = self.stored.contains(&DataType::Gpt0);
        if stored {
            self.set(DataType::Gpt0, u64::from(value));
        }
        stored
    }
    fn start_tracking(&self, _now_ms: u64) {
        for d in [DataType::ConnCnt, DataType::ConnRate, DataType::ConnCur] {
            let _stored: Option<u64> = self.bump(d, 1);
        }
        *self.tracked.lock() += 1;
    }
    fn stop_tracking(&self, _now_ms: u64) {
        let _stored: Option<u64> = self.bump(DataType::ConnCur, -1);
        *self.tracked.lock() -= 1;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum OwnedKey {
    Ip(IpAddr),
    Int(i64),
    Bytes(Vec<u8>),
}

#[derive(Debug, Default)]
pub struct MemTables {
    pub specs: Vec<TableSpec>,
    entries: Mutex<AHashMap<(u32, OwnedKey), Arc<MemEntry>>>,
}

impl MemTables {
    pub fn new(specs: Vec<TableSpec>) -> MemTables {
        MemTables {
            specs,
            entries: Mutex::new(AHashMap::new()),
        }
    }

    fn owned(key: StickKey<'_>) -> OwnedKey {
        match key {
            StickKey::Ip(ip) => OwnedKey::Ip(ip),
            StickKey::Integer(i) => OwnedKey::Int(i),
            StickKey::Bytes(b) => OwnedKey::Bytes(b.to_vec()),
        }
    }

    /// The entry of an IP key, created if missing (to preset counters).
    pub fn entry(&self, table: TableId, ip: &str) -> Arc<MemEntry> {
        let ip: IpAddr = ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.create(table, StickKey::Ip(ip))
    }

    fn create(&self, table: TableId, key: StickKey<'_>) -> Arc<MemEntry> {
        let stored = self.specs[table.0 as usize]
            .store
            .iter()
            .map(|d| d.data_type)
            .collect();
        self.entries
            .lock()
            .entry((table.0, Self::owned(key)))
            .or_insert_with(|| Arc::new(MemEntry::new(stored)))
            .clone()
    }
}

impl StickTables for MemTables {
    fn lookup(
        &self,
        table: TableId,
        key: StickKey<'_>,
        _now_ms: u64,
    ) -> Option<Arc<dyn StickEntry>> {
        let e = self
            .entries
            .lock()
            .get(&(table.0, Self::owned(key)))
            .cloned()?;
        Some(e)
    }
    fn get_or_create(
        &self,
        table: TableId,
        key: StickKey<'_>,
        _now_ms: u64,
    ) -> Option<Arc<dyn StickEntry>> {
        Some(self.create(table, key))
    }
    fn used(&self, table: TableId) -> u64 {
        self.entries
            .lock()
            .keys()
            .filter(|(t, _)| *t == table.0)
            .count() as u64
    }
    fn size(&self, table: TableId) -> u64 {
        u64::from(self.specs[table.0 as usize].size)
    }
}

impl MemEntry {
    pub fn read_u64(&self, d: DataType) -> u64 {
        self.values.lock().get(&d).copied().unwrap_or(0)
    }

    pub fn read_gpc0(&self) -> u64 {
        self.read_u64(DataType::Gpc0)
    }
}
