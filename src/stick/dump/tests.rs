//! Lines are compared with those captured from HAProxy 2.6 in
//! `haproxy-cli.md` §2.4-2.6, minus the pointer (ours is an id).

use std::sync::Arc;

use super::*;
use crate::stick::spec::{DataSpec, KeyType, TableSpec};

fn table(
    name: &str,
    key_type: KeyType,
    size: u32,
    expire_ms: u32,
    store: &[(DataType, u32)],
) -> Table {
    Table::new(TableSpec {
        name: name.into(),
        key_type,
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
    })
}

fn key(t: &Table, text: &str) -> Key {
    Key::parse(t.spec().key_type, text).unwrap()
}

/// The dump's lines with `0x<id>: ` cut off, after checking its shape.
fn lines(t: &Table, filter: Filter, now_ms: u64) -> Vec<String> {
    let mut out = String::new();
    let mut dump = t.dump(filter, now_ms);
    while dump.next_batch(&mut out, 2, now_ms) {}
    out.lines()
        .map(|l| {
            let (id, rest) = l.split_once(": ").unwrap();
            assert!(
                id.starts_with("0x") && u64::from_str_radix(&id[2..], 16).is_ok(),
                "{l}"
            );
            rest.to_owned()
        })
        .collect()
}

/// The `http` table of ratelimit.cfg, entries created at 0, 7, 10 and 11 ms.
fn http() -> Table {
    let t = table(
        "http",
        KeyType::Ip,
        204_800,
        600_000,
        &[(DataType::Gpc0, 0)],
    );
    for (ip, at) in [
        ("127.0.0.3", 10),
        ("127.0.0.1", 0),
        ("127.0.0.4", 11),
        ("127.0.0.2", 7),
    ] {
        t.touch(&key(&t, ip), at).unwrap();
    }
    t.lookup(&key(&t, "127.0.0.1"), 0).unwrap().inc_gpc0(0);
    t
}

#[test]
fn header_line() {
    let mut out = String::new();
    http().show_header(&mut out, 115);
    assert_eq!(out, "# table: http, type: ip, size:204800, used:4\n");
}

#[test]
fn http_table_lines_in_key_order_exp_counting_down() {
    let t = http();
    let expected = [
        "key=127.0.0.1 use=0 exp=599885 gpc0=1",
        "key=127.0.0.2 use=0 exp=599892 gpc0=0",
        "key=127.0.0.3 use=0 exp=599895 gpc0=0",
        "key=127.0.0.4 use=0 exp=599896 gpc0=0",
    ];
    assert_eq!(lines(&t, Filter::All, 115), expected);
    let later = lines(&t, Filter::All, 2_117);
    assert_eq!(later[0], "key=127.0.0.1 use=0 exp=597883 gpc0=1");
}

#[test]
fn filters_by_data_and_by_key() {
    let t = http();
    let gt0 = DataFilter {
        data_type: DataType::Gpc0,
        op: FilterOp::Gt,
        value: 0,
    };
    assert_eq!(
        lines(&t, Filter::Data(vec![gt0]), 116),
        ["key=127.0.0.1 use=0 exp=599884 gpc0=1"]
    );
    assert_eq!(
        lines(&t, Filter::Key(key(&t, "127.0.0.1")), 116),
        ["key=127.0.0.1 use=0 exp=599884 gpc0=1"]
    );
    let missing = t.dump(Filter::Key(key(&t, "127.0.0.99")), 116);
    assert!(missing.is_empty());
}

fn test1() -> Table {
    let store = [
        (DataType::ConnRate, 100_000),
        (DataType::BytesOutRate, 60_000),
    ];
    let t = table("test1", KeyType::Ip, 204_800, 30_000, &store);
    for (ip, conns, bytes) in [
        ("127.0.0.1", 4, 489),
        ("127.0.0.2", 5, 815),
        ("127.0.0.4", 1, 3_000_155),
    ] {
        let e = t.touch(&key(&t, ip), 0).unwrap();
        (0..conns).for_each(|_| assert!(e.add(DataType::ConnRate, 1, 0)));
        e.add(DataType::BytesOutRate, bytes, 0);
    }
    t
}

#[test]
fn rates_print_with_their_period() {
    let t = test1();
    let expected = [
        "key=127.0.0.1 use=0 exp=29885 conn_rate(100000)=4 bytes_out_rate(60000)=489",
        "key=127.0.0.2 use=0 exp=29885 conn_rate(100000)=5 bytes_out_rate(60000)=815",
        "key=127.0.0.4 use=0 exp=29885 conn_rate(100000)=1 bytes_out_rate(60000)=3000155",
    ];
    assert_eq!(lines(&t, Filter::All, 115), expected);
    let both = vec![
        DataFilter {
            data_type: DataType::ConnRate,
            op: FilterOp::Gt,
            value: 1,
        },
        DataFilter {
            data_type: DataType::BytesOutRate,
            op: FilterOp::Lt,
            value: 1000,
        },
    ];
    assert_eq!(lines(&t, Filter::Data(both), 115), expected[..2]);
}

#[test]
fn every_classic_type_in_haproxy_order() {
    use DataType::*;
    let p = 10_000;
    let store = [
        (BytesOutRate, p),
        (BytesOutCnt, 0),
        (HttpReqRate, p),
        (Gpc1, 0),
        (ServerId, 0),
        (Gpc0, 0),
        (Gpc0Rate, p),
        (ConnCnt, 0),
        (ConnRate, p),
        (ConnCur, 0),
        (SessCnt, 0),
        (SessRate, p),
        (HttpReqCnt, 0),
        (HttpErrCnt, 0),
        (HttpErrRate, p),
        (BytesInCnt, 0),
        (BytesInRate, p),
    ];
    let mut sorted = store;
    sorted.sort();
    let t = table("meter_ip", KeyType::Ip, 1_024, 600_000, &sorted);
    let e = t.touch(&key(&t, "127.0.0.1"), 0).unwrap();
    for (d, n) in [
        (ConnCnt, 5),
        (SessCnt, 5),
        (HttpReqCnt, 7),
        (BytesInCnt, 652),
        (BytesOutCnt, 1155),
    ] {
        e.add(d, n, 0);
    }
    for (d, n) in [
        (ConnRate, 5),
        (SessRate, 5),
        (HttpReqRate, 7),
        (BytesInRate, 652),
        (BytesOutRate, 1155),
    ] {
        e.add(d, n, 0);
    }
    let expected = "key=127.0.0.1 use=0 exp=599998 server_id=0 gpc0=0 gpc0_rate(10000)=0 conn_cnt=5 \
        conn_rate(10000)=5 conn_cur=0 sess_cnt=5 sess_rate(10000)=5 http_req_cnt=7 http_req_rate(10000)=7 \
        http_err_cnt=0 http_err_rate(10000)=0 bytes_in_cnt=652 bytes_in_rate(10000)=652 bytes_out_cnt=1155 \
        bytes_out_rate(10000)=1155 gpc1=0";
    assert_eq!(lines(&t, Filter::All, 2), [expected]);
}

#[test]
fn other_key_types_print_as_haproxy() {
    let store = [(DataType::Gpc0, 0), (DataType::HttpReqCnt, 0)];
    let s = table(
        "st_str",
        KeyType::String { len: 32 },
        1_024,
        600_000,
        &store,
    );
    for name in [
        "bob smith",
        "alice",
        "a-very-long-user-name-exceeding-the-len",
    ] {
        s.touch(&key(&s, name), 0)
            .unwrap()
            .add(DataType::HttpReqCnt, 1, 0);
    }
    let got = lines(&s, Filter::All, 0);
    assert_eq!(
        got[0],
        "key=a-very-long-user-name-exceeding- use=0 exp=600000 gpc0=0 http_req_cnt=1"
    );
    assert_eq!(
        got[2],
        "key=bob\\ smith use=0 exp=600000 gpc0=0 http_req_cnt=1"
    );
    let b = table("st_bin", KeyType::Binary { len: 8 }, 1_024, 600_000, &store);
    b.touch(&Key::from_bytes(b.spec().key_type, b"YWI=").unwrap(), 0);
    assert_eq!(
        lines(&b, Filter::All, 0),
        ["key=5957493D00000000 use=0 exp=600000 gpc0=0 http_req_cnt=0"]
    );
    let i = table(
        "st_int",
        KeyType::Integer,
        1_024,
        600_000,
        &[(DataType::Gpc0, 0)],
    );
    i.set_data(&key(&i, "42"), DataType::Gpc0, 3, 0).unwrap();
    assert_eq!(
        lines(&i, Filter::All, 0),
        ["key=42 use=0 exp=600000 gpc0=3"]
    );
    let v6 = table("st_ipv6", KeyType::Ipv6, 1_024, 600_000, &store);
    v6.set_data(&key(&v6, "2001:db8::1"), DataType::Gpc0, 9, 0)
        .unwrap();
    v6.touch(&key(&v6, "::1"), 0)
        .unwrap()
        .add(DataType::HttpReqCnt, 1, 0);
    let expected = [
        "key=::1 use=0 exp=600000 gpc0=0 http_req_cnt=1",
        "key=2001:db8::1 use=0 exp=600000 gpc0=9 http_req_cnt=0",
    ];
    assert_eq!(lines(&v6, Filter::All, 0), expected);
}

#[test]
fn tracked_entries_show_use_and_resist_clear() {
    let t = Arc::new(http());
    let k9 = key(&t, "127.0.0.9");
    let tracker = t.track(&k9, 791).unwrap();
    assert_eq!(
        lines(&t, Filter::Key(k9.clone()), 1_582),
        ["key=127.0.0.9 use=1 exp=599209 gpc0=0"]
    );
    assert_eq!(
        t.clear(&Filter::Key(k9.clone()), 1_600),
        Err(ClearError::InUse)
    );
    assert_eq!(t.clear(&Filter::All, 1_600), Ok(4));
    assert_eq!(t.len(), 1);
    drop(tracker);
    assert_eq!(t.clear(&Filter::All, 1_600), Ok(1));
    assert_eq!(
        t.clear(&Filter::Key(k9), 1_600),
        Ok(0),
        "a missing key is fine"
    );
}

#[test]
fn clear_by_key_and_by_data() {
    let t = http();
    t.set_data(&key(&t, "127.0.0.50"), DataType::Gpc0, 2, 0)
        .unwrap();
    assert_eq!(t.clear(&Filter::Key(key(&t, "127.0.0.50")), 1), Ok(1));
    let gt0 = DataFilter {
        data_type: DataType::Gpc0,
        op: FilterOp::Gt,
        value: 0,
    };
    assert_eq!(t.clear(&Filter::Data(vec![gt0]), 1), Ok(1));
    let left: Vec<_> = lines(&t, Filter::All, 1)
        .iter()
        .map(|l| l[4..13].to_owned())
        .collect();
    assert_eq!(left, ["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
}

#[test]
fn expired_entries_leave_dump_and_used_at_once() {
    let t = table("test1", KeyType::Ip, 100, 30_000, &[(DataType::Gpc0, 0)]);
    t.touch(&key(&t, "127.0.0.1"), 0);
    t.touch(&key(&t, "127.0.0.2"), 5_000);
    assert_eq!(
        lines(&t, Filter::All, 30_000),
        ["key=127.0.0.2 use=0 exp=5000 gpc0=0"]
    );
    let mut out = String::new();
    t.show_header(&mut out, 30_000);
    assert_eq!(out, "# table: test1, type: ip, size:100, used:1\n");
}

#[test]
fn ops_parse_from_keywords() {
    let ops = ["eq", "ne", "le", "ge", "lt", "gt"].map(FilterOp::from_keyword);
    assert!(ops.iter().all(Option::is_some));
    assert_eq!(FilterOp::from_keyword("xx"), None);
    assert!(FilterOp::Le.holds(-1, 0) && !FilterOp::Ne.holds(3, 3));
}
