use std::sync::Arc;

use super::*;
use crate::stick::spec::{DataSpec, KeyType};

pub(crate) fn spec(size: u32, expire_ms: u32, store: &[(DataType, u32)]) -> TableSpec {
    TableSpec {
        name: "t".into(),
        key_type: KeyType::Ip,
        size,
        expire_ms,
        nopurge: false,
        peers: None,
        store: store
            .iter()
            .map(|&(data_type, period_ms)| DataSpec {
                data_type,
                period_ms,
            })
            .collect(),
    }
}

fn ip(n: u32) -> Key {
    Key::Ip(n.into())
}

const GPC0: &[(DataType, u32)] = &[(DataType::Gpc0, 0)];

#[test]
fn touch_creates_and_rearms_lookup_does_neither() {
    let t = Table::new(spec(100, 600_000, GPC0));
    assert!(t.lookup(&ip(1), 0).is_none());
    assert_eq!(t.len(), 0);
    let e = t.touch(&ip(1), 1_000).unwrap();
    assert_eq!(e.expires_in(1_000), Some(600_000));
    assert_eq!(
        t.lookup(&ip(1), 3_000).unwrap().expires_in(3_000),
        Some(598_000)
    );
    assert_eq!(
        t.lookup(&ip(1), 3_000)
            .and_then(|e| e.get(DataType::Gpc0, 3_000)),
        Some(0)
    );
    assert_eq!(
        t.touch(&ip(1), 5_000).unwrap().expires_in(5_000),
        Some(600_000)
    );
    assert_eq!((t.len(), t.size(), t.avail()), (1, 100, 99));
}

#[test]
fn writes_rearm_reads_do_not() {
    let t = Table::new(spec(
        100,
        30_000,
        &[(DataType::Gpc0, 0), (DataType::ConnRate, 100_000)],
    ));
    let e = t.touch(&ip(1), 0).unwrap();
    assert_eq!(e.get(DataType::ConnRate, 10_000), Some(0));
    assert_eq!(e.expires_in(10_000), Some(20_000));
    assert!(e.add(DataType::ConnRate, 1, 10_000));
    assert_eq!(e.expires_in(10_000), Some(30_000));
    assert_eq!(e.inc_gpc0(20_000), Some(1));
    assert_eq!(e.expires_in(20_000), Some(30_000));
    // Not stored: no change, no re-arm.
    assert!(!e.add(DataType::Gpc1, 1, 25_000));
    assert_eq!(e.get(DataType::Gpc1, 25_000), None);
    assert_eq!(e.expires_in(25_000), Some(25_000));
}

#[test]
fn gpc_and_conn_cur_operations() {
    let store = [
        (DataType::Gpc0, 0),
        (DataType::Gpc0Rate, 10_000),
        (DataType::ConnCur, 0),
        (DataType::Gpc1Rate, 1_000),
    ];
    let t = Table::new(spec(10, 0, &store));
    let e = t.touch(&ip(1), 0).unwrap();
    assert_eq!(e.inc_gpc0(0), Some(1));
    assert_eq!(e.inc_gpc0(1), Some(2));
    assert_eq!(e.get(DataType::Gpc0Rate, 2), Some(2));
    assert_eq!(e.clr_gpc0(3), Some(2));
    assert_eq!(e.get(DataType::Gpc0, 3), Some(0));
    // Only the rate of gpc1 is stored: bumped, and 0 returned.
    assert_eq!(e.inc_gpc1(4), Some(0));
    assert_eq!(e.get(DataType::Gpc1Rate, 4), Some(1));
    assert_eq!(e.clr_gpc1(4), None);
    assert_eq!(e.inc_conn_cur(5), Some(1));
    assert_eq!(e.dec_conn_cur(5), Some(0));
    assert_eq!(e.dec_conn_cur(5), Some(0));
}

#[test]
fn count_connection_updates_the_three_connection_counters() {
    let store = [
        (DataType::ConnCnt, 0),
        (DataType::ConnRate, 10_000),
        (DataType::ConnCur, 0),
    ];
    let t = Arc::new(Table::new(spec(10, 0, &store)));
    let tr = t.track(&ip(1), 0).unwrap();
    tr.entry().count_connection(0);
    tr.entry().count_connection(1);
    let e = tr.entry();
    let got = [DataType::ConnCnt, DataType::ConnRate, DataType::ConnCur].map(|d| e.get(d, 2));
    assert_eq!(got, [Some(2), Some(2), Some(2)]);
}

#[test]
fn expired_entries_vanish_unless_tracked() {
    let t = Arc::new(Table::new(spec(100, 1_000, GPC0)));
    t.touch(&ip(1), 0);
    let tracker = t.track(&ip(2), 0).unwrap();
    assert_eq!(tracker.entry().use_count(), Some(1));
    assert!(t.lookup(&ip(1), 999).is_some());
    assert!(t.lookup(&ip(1), 1_000).is_none());
    assert_eq!(
        t.purge_expired(5_000),
        0,
        "ip 1 went on lookup, ip 2 is in use"
    );
    assert_eq!(t.len(), 1);
    let e = t.lookup(&ip(2), 5_000).unwrap();
    assert_eq!(e.expires_in(5_000), Some(0));
    drop(tracker);
    assert!(t.lookup(&ip(2), 5_000).is_none());
    assert_eq!(t.len(), 0);
}

#[test]
fn purge_removes_expired_and_requeues_rearmed() {
    let t = Table::new(spec(100, 1_000, GPC0));
    for n in 0..10 {
        t.touch(&ip(n), u64::from(n) * 100);
    }
    t.touch(&ip(0), 950);
    assert_eq!(t.purge_expired(1_450), 4, "ip 1..=4 expired, ip 0 re-armed");
    assert_eq!(t.len(), 6);
    assert_eq!(t.purge_expired(1_900), 5);
    assert_eq!(t.purge_expired(1_900), 0);
    assert_eq!(t.purge_expired(1_949), 0);
    assert_eq!(t.purge_expired(1_950), 1);
    assert!(t.is_empty());
}

#[test]
fn full_table_evicts_least_recently_armed_unused() {
    let t = Arc::new(Table::new(spec(3, 0, GPC0)));
    t.touch(&ip(1), 10);
    let pinned = t.track(&ip(2), 20).unwrap();
    t.touch(&ip(3), 30);
    t.touch(&ip(1), 40);
    t.touch(&ip(4), 50);
    assert!(t.lookup(&ip(3), 60).is_none(), "oldest unused goes");
    assert!(t.lookup(&ip(2), 60).is_some(), "in use stays");
    assert_eq!(t.len(), 3);
    t.touch(&ip(5), 70);
    assert!(t.lookup(&ip(1), 80).is_none());
    drop(pinned);
}

#[test]
fn nopurge_refuses_new_keys_when_full() {
    let mut s = spec(2, 0, GPC0);
    s.nopurge = true;
    let t = Arc::new(Table::new(s));
    assert!(t.touch(&ip(1), 0).is_some());
    assert!(t.touch(&ip(2), 0).is_some());
    assert!(t.touch(&ip(3), 0).is_none());
    assert!(t.track(&ip(3), 0).is_none());
    assert_eq!(
        t.set_data(&ip(3), DataType::Gpc0, 1, 0),
        Err(SetError::Full)
    );
    assert_eq!(t.set_data(&ip(1), DataType::Gpc0, 1, 0), Ok(()));
    assert_eq!(
        t.set_data(&ip(1), DataType::ConnCnt, 1, 0),
        Err(SetError::NotStored)
    );
    assert_eq!(t.len(), 2);
}

#[test]
fn size_bound_holds_across_shards() {
    let t = Table::new(spec(4_096, 0, GPC0));
    assert!(t.shard_count() > 1);
    for n in 0..20_000 {
        assert!(t.touch(&ip(n), u64::from(n)).is_some());
        assert!(t.len() <= 4_096);
    }
    assert_eq!(t.len(), 4_096);
    assert!(t.lookup(&ip(19_999), 20_000).is_some());
}

#[test]
fn stale_handles_read_nothing() {
    let t = Table::new(spec(10, 0, GPC0));
    let e = t.touch(&ip(1), 0).unwrap();
    assert_eq!(t.clear(&crate::stick::Filter::All, 0), Ok(1));
    t.touch(&ip(2), 0);
    assert_eq!(e.get(DataType::Gpc0, 0), None);
    assert!(!e.add(DataType::Gpc0, 1, 0));
    assert_eq!(
        t.lookup(&ip(2), 0).and_then(|e| e.get(DataType::Gpc0, 0)),
        Some(0)
    );
}

#[test]
fn set_data_creates_and_truncates() {
    let t = Table::new(spec(
        10,
        600_000,
        &[(DataType::Gpc0, 0), (DataType::ConnRate, 100_000)],
    ));
    t.set_data(&ip(1), DataType::Gpc0, -1i64 as u64, 0).unwrap();
    t.set_data(&ip(1), DataType::ConnRate, 7, 0).unwrap();
    let e = t.lookup(&ip(1), 10).unwrap();
    assert_eq!(e.get(DataType::Gpc0, 10), Some(4_294_967_295));
    assert_eq!(e.get(DataType::ConnRate, 10), Some(7));
}

#[test]
fn two_threads_hammering_the_same_keys_lose_nothing() {
    let store = [
        (DataType::Gpc0, 0),
        (DataType::ConnCnt, 0),
        (DataType::ConnRate, 1_000_000),
    ];
    let t = Arc::new(Table::new(spec(1_000, 0, &store)));
    let work = |t: Arc<Table>| {
        move || {
            for i in 0..20_000u32 {
                let tracker = t.track(&ip(i % 16), 1).unwrap();
                tracker.entry().count_connection(1);
                tracker.entry().inc_gpc0(1);
            }
        }
    };
    let a = std::thread::spawn(work(Arc::clone(&t)));
    let b = std::thread::spawn(work(Arc::clone(&t)));
    a.join().unwrap();
    b.join().unwrap();
    for k in 0..16 {
        let e = t.lookup(&ip(k), 2).unwrap();
        assert_eq!(e.get(DataType::Gpc0, 2), Some(2_500));
        assert_eq!(e.get(DataType::ConnCnt, 2), Some(2_500));
        assert_eq!(e.get(DataType::ConnRate, 2), Some(2_500));
        assert_eq!(e.use_count(), Some(0));
    }
}

#[test]
fn one_lock_access_reads_and_writes_like_handles() {
    let store = [
        (DataType::Gpc0, 0),
        (DataType::ConnRate, 10_000),
        (DataType::ConnCur, 0),
    ];
    let t = Table::new(spec(10, 1_000, &store));
    assert_eq!(t.lookup_with(&ip(1), 0, |e| e.use_count()), None);
    let got = t.touch_with(&ip(1), 0, |e| {
        e.count_connection(0);
        (e.inc_gpc0(0), e.get(DataType::ConnRate, 0), e.expires_in(0))
    });
    assert_eq!(got, Some((Some(1), Some(1), 1_000)));
    // A read-only closure does not re-arm.
    assert_eq!(t.lookup_with(&ip(1), 400, |e| e.expires_in(400)), Some(600));
    let e = t.lookup(&ip(1), 500).unwrap();
    assert_eq!(e.with_locked(|e| e.dec_conn_cur(500)), Some(Some(0)));
    assert_eq!(e.expires_in(500), Some(1_000));
}

mod model;
