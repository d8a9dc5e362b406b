use super::*;
use crate::stick::spec::{DataSpec, KeyType};

fn spec(store: &[(DataType, u32)]) -> TableSpec {
    TableSpec {
        name: "t".into(),
        key_type: KeyType::Ip,
        size: 10,
        expire_ms: 0,
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

fn fresh(layout: &Layout) -> Vec<u32> {
    let mut w = vec![0; layout.words()];
    layout.init(&mut w, 0);
    w
}

#[test]
fn only_stored_types_take_words() {
    let l = Layout::new(&spec(&[
        (DataType::ConnRate, 100_000),
        (DataType::BytesOutRate, 60_000),
    ]));
    assert_eq!(l.words(), 6);
    assert!(l.field(DataType::Gpc0).is_none());
    let l = Layout::new(&spec(&[
        (DataType::Gpc0, 0),
        (DataType::BytesOutCnt, 0),
        (DataType::ServerId, 0),
    ]));
    assert_eq!(l.words(), 4);
    let order: Vec<_> = l.fields().iter().map(|f| f.data_type).collect();
    assert_eq!(
        order,
        [DataType::ServerId, DataType::Gpc0, DataType::BytesOutCnt]
    );
}

#[test]
fn values_truncate_to_the_type_width() {
    let l = Layout::new(&spec(&[
        (DataType::Gpc0, 0),
        (DataType::BytesInCnt, 0),
        (DataType::ServerId, 0),
    ]));
    let mut w = fresh(&l);
    let gpc0 = l.field(DataType::Gpc0).unwrap();
    write(&gpc0, &mut w, -1i64 as u64, 0);
    assert_eq!(read(&gpc0, &w, 0), 4_294_967_295);
    write(&gpc0, &mut w, 4_294_967_296, 0);
    assert_eq!(read(&gpc0, &w, 0), 0);
    let bytes = l.field(DataType::BytesInCnt).unwrap();
    write(&bytes, &mut w, 5_000_000_000, 0);
    add(&bytes, &mut w, 7, 0);
    assert_eq!(read(&bytes, &w, 0), 5_000_000_007);
    let sid = l.field(DataType::ServerId).unwrap();
    write(&sid, &mut w, -1i64 as u64, 0);
    assert_eq!(read_signed(&sid, &w, 0), -1);
    assert_eq!(read_signed(&gpc0, &w, 0), 0);
}

#[test]
fn counters_wrap_and_conn_cur_stops_at_zero() {
    let l = Layout::new(&spec(&[(DataType::Gpc0, 0), (DataType::ConnCur, 0)]));
    let mut w = fresh(&l);
    let gpc0 = l.field(DataType::Gpc0).unwrap();
    write(&gpc0, &mut w, u64::from(u32::MAX), 0);
    add(&gpc0, &mut w, 1, 0);
    assert_eq!(read(&gpc0, &w, 0), 0);
    let cur = l.field(DataType::ConnCur).unwrap();
    sub_saturating(&cur, &mut w, 1);
    assert_eq!(read(&cur, &w, 0), 0);
}

#[test]
fn rates_count_events_in_their_period() {
    let l = Layout::new(&spec(&[(DataType::ConnRate, 10_000)]));
    let mut w = vec![0; l.words()];
    l.init(&mut w, 5_000);
    let f = l.field(DataType::ConnRate).unwrap();
    add(&f, &mut w, 3, 5_000);
    add(&f, &mut w, 2, 17_080);
    assert_eq!(read(&f, &w, 17_080), 4);
    write(&f, &mut w, 7, 20_000);
    assert_eq!(read(&f, &w, 20_001), 7);
}

#[test]
fn fields_print_in_haproxy_order_with_periods() {
    let l = Layout::new(&spec(&[
        (DataType::BytesOutRate, 60_000),
        (DataType::ConnRate, 100_000),
        (DataType::ServerId, 0),
    ]));
    let mut w = fresh(&l);
    add(&l.field(DataType::ConnRate).unwrap(), &mut w, 4, 0);
    add(&l.field(DataType::BytesOutRate).unwrap(), &mut w, 489, 0);
    write(
        &l.field(DataType::ServerId).unwrap(),
        &mut w,
        -3i64 as u64,
        0,
    );
    let mut out = String::new();
    format_fields(&l, &w, 1, &mut out);
    assert_eq!(
        out,
        " server_id=-3 conn_rate(100000)=4 bytes_out_rate(60000)=489"
    );
}
