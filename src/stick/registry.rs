//! The tables of a program: indexed by [`TableId`] (declaration order) and
//! findable by name. Workers and the runtime API share them as `Arc<Table>`.

use std::sync::Arc;

use ahash::AHashMap;

use super::spec::{TableId, TableSpec};
use super::table::Table;

#[derive(Debug, Default)]
pub struct Tables {
    tables: Vec<Arc<Table>>,
    by_name: AHashMap<String, TableId>,
}

impl Tables {
    /// One table per spec, `TableId(i)` for the i-th. A later spec with an
    /// already used name is still indexed but not findable by that name
    /// (`compile` rejects duplicate names before this point).
    pub fn new(specs: Vec<TableSpec>) -> Tables {
        let mut by_name = AHashMap::with_capacity(specs.len());
        let tables = specs
            .into_iter()
            .enumerate()
            .map(|(i, spec)| {
                // Programs have far fewer than 2^32 tables.
                by_name
                    .entry(spec.name.clone())
                    .or_insert(TableId(i as u32));
                Arc::new(Table::new(spec))
            })
            .collect();
        Tables { tables, by_name }
    }

    /// The tables of a reloaded program: a table declared again with the
    /// same spec keeps its `Arc<Table>` and so its entries; a changed or new
    /// one starts empty; a table no longer declared is dropped once the
    /// last worker and tracker let go of it.
    pub fn reload(&self, specs: Vec<TableSpec>) -> Tables {
        let mut next = Tables::new(Vec::new());
        for (i, spec) in specs.into_iter().enumerate() {
            let kept = self
                .by_name(&spec.name)
                .filter(|t| *t.spec() == spec)
                .cloned();
            next.by_name
                .entry(spec.name.clone())
                .or_insert(TableId(i as u32));
            next.tables
                .push(kept.unwrap_or_else(|| Arc::new(Table::new(spec))));
        }
        next
    }

    pub fn get(&self, id: TableId) -> Option<&Arc<Table>> {
        self.tables.get(id.0 as usize)
    }

    pub fn id_of(&self, name: &str) -> Option<TableId> {
        self.by_name.get(name).copied()
    }

    pub fn by_name(&self, name: &str) -> Option<&Arc<Table>> {
        self.id_of(name).and_then(|id| self.get(id))
    }

    /// Tables in declaration order (`show table` lists them reversed).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (TableId, &Arc<Table>)> {
        self.tables
            .iter()
            .enumerate()
            .map(|(i, t)| (TableId(i as u32), t))
    }

    pub fn len(&self) -> usize {
        self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Purges expired entries of every table; returns how many went.
    pub fn purge_expired(&self, now_ms: u64) -> usize {
        self.tables.iter().map(|t| t.purge_expired(now_ms)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stick::spec::KeyType;

    fn spec(name: &str) -> TableSpec {
        TableSpec {
            name: name.into(),
            key_type: KeyType::Ip,
            size: 10,
            expire_ms: 0,
            nopurge: false,
            peers: None,
            store: vec![],
        }
    }

    #[test]
    fn tables_are_found_by_id_and_name() {
        let t = Tables::new(vec![spec("http"), spec("test1")]);
        assert_eq!(t.len(), 2);
        assert_eq!(t.id_of("test1"), Some(TableId(1)));
        assert_eq!(t.by_name("http").map(|t| t.name()), Some("http"));
        assert!(t.by_name("nosuch").is_none());
        let reversed: Vec<_> = t.iter().rev().map(|(_, t)| t.name().to_owned()).collect();
        assert_eq!(reversed, ["test1", "http"]);
    }

    #[test]
    fn reload_keeps_unchanged_tables_by_name() {
        let old = Tables::new(vec![spec("http"), spec("test1")]);
        let key = crate::stick::Key::Ip([127, 0, 0, 1].into());
        for t in ["http", "test1"] {
            old.by_name(t).map(|t| t.touch(&key, 0));
        }
        let mut bigger = spec("test1");
        bigger.size = 20;
        let new = old.reload(vec![bigger, spec("http"), spec("extra")]);
        assert_eq!(new.id_of("http"), Some(TableId(1)));
        assert_eq!(new.by_name("http").map(|t| t.len()), Some(1));
        assert_eq!(
            new.by_name("test1").map(|t| (t.len(), t.size())),
            Some((0, 20))
        );
        assert_eq!(new.by_name("extra").map(|t| t.len()), Some(0));
    }
}
