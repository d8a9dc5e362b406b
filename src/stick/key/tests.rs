use super::*;

const STR32: KeyType = KeyType::String { len: 32 };
const BIN8: KeyType = KeyType::Binary { len: 8 };

fn shown(k: &Key) -> String {
    k.to_string()
}

#[test]
fn ipv4_keys_from_samples() {
    let v4: IpAddr = "127.0.0.1".parse().unwrap();
    assert_eq!(
        Key::from_ip(KeyType::Ip, v4),
        Some(Key::Ip(Ipv4Addr::LOCALHOST))
    );
    let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
    assert_eq!(
        Key::from_ip(KeyType::Ip, mapped).map(|k| shown(&k)),
        Some("10.0.0.1".into())
    );
    // An IPv6 client is not tracked in an `ip` table (§7).
    assert_eq!(Key::from_ip(KeyType::Ip, "::1".parse().unwrap()), None);
    assert_eq!(Key::from_ip(KeyType::Integer, v4), None);
}

#[test]
fn ipv6_keys_store_ipv4_mapped() {
    let k = Key::from_ip(KeyType::Ipv6, "127.0.0.1".parse().unwrap()).unwrap();
    assert_eq!(shown(&k), "::ffff:127.0.0.1");
    assert_eq!(k, Key::parse(KeyType::Ipv6, "::ffff:127.0.0.1").unwrap());
}

#[test]
fn ipv6_prints_like_inet_ntop() {
    for (text, expected) in [
        ("::1", "::1"),
        ("::", "::"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("::102:304", "::1.2.3.4"),
        ("fe80::ABCD", "fe80::abcd"),
    ] {
        assert_eq!(
            shown(&Key::parse(KeyType::Ipv6, text).unwrap()),
            expected,
            "{text}"
        );
    }
}

#[test]
fn strict_and_lenient_ipv4_text() {
    assert_eq!(
        Key::parse(KeyType::Ip, "127.0.0.1"),
        Ok(Key::Ip(Ipv4Addr::LOCALHOST))
    );
    for bad in ["notanip", "localhost", "10.1", "::1", ""] {
        assert_eq!(
            Key::parse(KeyType::Ip, bad),
            Err(KeyError::Invalid),
            "{bad}"
        );
    }
    let lenient = |t| shown(&Key::parse_lenient(KeyType::Ip, t).unwrap());
    assert_eq!(lenient("notanip"), "0.0.0.0");
    assert_eq!(lenient("localhost"), "0.0.0.0");
    assert_eq!(lenient("::1"), "0.0.0.0");
    assert_eq!(lenient("10.1"), "10.1.0.0");
    assert_eq!(lenient("127.0.0.2"), "127.0.0.2");
}

#[test]
fn text_rejected_as_haproxy_does() {
    for bad in ["-7", "abc", "4294967296", "", "+1"] {
        assert_eq!(
            Key::parse(KeyType::Integer, bad),
            Err(KeyError::Invalid),
            "{bad}"
        );
    }
    assert_eq!(Key::parse(KeyType::Integer, "42"), Ok(Key::Integer(42)));
    assert_eq!(
        Key::parse(KeyType::Integer, "4294967295"),
        Ok(Key::Integer(u32::MAX))
    );
    assert_eq!(
        Key::parse(KeyType::Ipv6, "127.0.0.1"),
        Err(KeyError::Invalid)
    );
    assert_eq!(Key::parse(BIN8, "0102"), Err(KeyError::UnsupportedType));
    assert_eq!(
        Key::parse_lenient(KeyType::Integer, "-7"),
        Err(KeyError::Invalid)
    );
}

#[test]
fn integer_samples_truncate_to_32_bits() {
    assert_eq!(
        Key::from_int(KeyType::Integer, -1),
        Some(Key::Integer(u32::MAX))
    );
    assert_eq!(
        Key::from_int(KeyType::Integer, 1 << 32),
        Some(Key::Integer(0))
    );
    assert_eq!(
        Key::from_int(STR32, -5).map(|k| shown(&k)),
        Some("-5".into())
    );
}

#[test]
fn strings_truncate_and_escape() {
    let long = Key::from_bytes(STR32, b"a-very-long-user-name-exceeding-the-length").unwrap();
    assert_eq!(shown(&long), "a-very-long-user-name-exceeding-");
    assert_eq!(
        shown(&Key::parse(STR32, "bob smith").unwrap()),
        "bob\\ smith"
    );
    let odd = Key::from_bytes(STR32, b"a=b\\c\td\x01\x1b\xff").unwrap();
    assert_eq!(shown(&odd), "a\\=b\\\\c\\td\\x01\\e\\xFF");
}

#[test]
fn binary_keys_pad_and_print_full_length_hex() {
    let k = Key::from_bytes(BIN8, b"YWI=").unwrap();
    assert_eq!(shown(&k), "5957493D00000000");
    let long = Key::from_bytes(BIN8, &[0xab; 12]).unwrap();
    assert_eq!(shown(&long), "ABABABABABABABAB");
    assert_eq!(k, Key::from_bytes(BIN8, b"YWI=\0").unwrap());
}

#[test]
fn keys_order_as_show_table_lists_them() {
    let mut ips: Vec<Key> = ["127.0.0.50", "127.0.0.4", "10.0.0.1", "127.0.0.1"]
        .iter()
        .map(|t| Key::parse(KeyType::Ip, t).unwrap())
        .collect();
    ips.sort();
    let shown_ips: Vec<_> = ips.iter().map(shown).collect();
    assert_eq!(
        shown_ips,
        ["10.0.0.1", "127.0.0.1", "127.0.0.4", "127.0.0.50"]
    );
    let mut names: Vec<Key> = ["bob smith", "alice", "a-very"]
        .iter()
        .map(|t| Key::parse(STR32, t).unwrap())
        .collect();
    names.sort();
    let shown_names: Vec<_> = names.iter().map(shown).collect();
    assert_eq!(shown_names, ["a-very", "alice", "bob\\ smith"]);
    let mut ints = [Key::Integer(300), Key::Integer(42), Key::Integer(7)];
    ints.sort();
    assert_eq!(ints, [Key::Integer(7), Key::Integer(42), Key::Integer(300)]);
}

#[test]
fn address_tables_take_address_text_samples() {
    assert_eq!(
        Key::from_bytes(KeyType::Ip, b"10.0.0.7"),
        Key::parse(KeyType::Ip, "10.0.0.7").ok()
    );
    assert_eq!(Key::from_bytes(KeyType::Ip, b"nope"), None);
    assert_eq!(
        Key::from_bytes(KeyType::Ipv6, b"10.0.0.7").map(|k| shown(&k)),
        Some("::ffff:10.0.0.7".into())
    );
    assert_eq!(Key::from_bytes(KeyType::Integer, b"7"), None);
}
