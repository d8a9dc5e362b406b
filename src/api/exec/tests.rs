use super::*;

#[test]
fn weights_parse_as_haproxy_does() {
    assert_eq!(parse_weight("50", 10, true), Ok(50));
    assert_eq!(parse_weight("50%", 10, true), Ok(5));
    assert_eq!(parse_weight("1000%", 10, true), Ok(100));
    assert_eq!(parse_weight("25%", 10, true), Ok(2));
    assert_eq!(parse_weight("1000000%", 10, true), Ok(256));
    assert_eq!(parse_weight(" +7", 10, true), Ok(7));
    assert_eq!(parse_weight("", 10, true), Err(messages::REQUIRE_WEIGHT));
    assert_eq!(parse_weight("abc", 10, true), Err(messages::WEIGHT_EMPTY));
    assert_eq!(
        parse_weight("10abc", 10, true),
        Err(messages::WEIGHT_TRAILING)
    );
    assert_eq!(
        parse_weight("257", 10, true),
        Err(messages::WEIGHT_ABSOLUTE_RANGE)
    );
    assert_eq!(
        parse_weight("-1", 10, true),
        Err(messages::WEIGHT_ABSOLUTE_RANGE)
    );
    assert_eq!(
        parse_weight("-5%", 10, true),
        Err(messages::WEIGHT_RELATIVE_NEGATIVE)
    );
    assert_eq!(
        parse_weight("99999999999999999999", 10, true),
        Err(messages::WEIGHT_ABSOLUTE_RANGE)
    );
}

#[test]
fn static_algorithms_only_take_zero_or_the_initial_weight() {
    assert_eq!(parse_weight("0", 10, false), Ok(0));
    assert_eq!(parse_weight("100%", 10, false), Ok(10));
    assert_eq!(
        parse_weight("5", 10, false),
        Err(messages::WEIGHT_STATIC_ALGO)
    );
    let map = HashMethod::MapBased;
    assert!(!is_dynamic(&Balance::StaticRr, map));
    assert!(is_dynamic(&Balance::LeastConn, map));
    assert!(!is_dynamic(&Balance::Source, map));
    assert!(is_dynamic(&Balance::Source, HashMethod::Consistent));
}
