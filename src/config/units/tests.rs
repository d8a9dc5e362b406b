use super::*;

#[test]
fn times_in_every_unit() {
    assert_eq!(parse_time_ms("1500"), Ok(1500));
    assert_eq!(parse_time_ms("7ms"), Ok(7));
    assert_eq!(parse_time_ms("5s"), Ok(5000));
    assert_eq!(parse_time_ms("2m"), Ok(120_000));
    assert_eq!(parse_time_ms("1h"), Ok(3_600_000));
    assert_eq!(parse_time_ms("1d"), Ok(86_400_000));
}

#[test]
fn microseconds_round_up() {
    assert_eq!(parse_time_ms("0us"), Ok(0));
    assert_eq!(parse_time_ms("1us"), Ok(1));
    assert_eq!(parse_time_ms("1000us"), Ok(1));
    assert_eq!(parse_time_ms("1001us"), Ok(2));
}

#[test]
fn time_limits_match_haproxy() {
    // `haproxy -c` accepts 2147483647 and refuses 2147483647001us.
    assert_eq!(parse_time_ms("2147483647"), Ok(MAX_TIME_MS));
    let over = Err(UnitError::Overflow { max: MAX_TIME_MS });
    assert_eq!(parse_time_ms("2147483648"), over);
    assert_eq!(parse_time_ms("2147483647001us"), over);
    assert_eq!(parse_time_ms("25d"), over);
    assert_eq!(parse_time_ms("99999999999999999999999"), over);
}

#[test]
fn bad_times_name_the_character() {
    assert_eq!(parse_time_ms("1x"), Err(UnitError::UnexpectedChar('x')));
    assert_eq!(parse_time_ms("1S"), Err(UnitError::UnexpectedChar('S')));
    assert_eq!(parse_time_ms("1msx"), Err(UnitError::UnexpectedChar('x')));
    assert_eq!(parse_time_ms("s"), Err(UnitError::UnexpectedChar('s')));
    assert_eq!(parse_time_ms(""), Err(UnitError::MissingNumber));
    assert_eq!(parse_time_ms("-1"), Err(UnitError::UnexpectedChar('-')));
}

#[test]
fn sizes_are_powers_of_1024() {
    assert_eq!(parse_size("200k"), Ok(204_800));
    assert_eq!(parse_size("1M"), Ok(1_048_576));
    assert_eq!(parse_size("3g"), Ok(3 << 30));
    assert_eq!(parse_size("42"), Ok(42));
}

#[test]
fn size_limits_match_haproxy() {
    // `haproxy -c` accepts `size 3g` and 4294967295, refuses 4g.
    assert_eq!(parse_size("4294967295"), Ok(MAX_SIZE));
    let over = Err(UnitError::Overflow { max: MAX_SIZE });
    assert_eq!(parse_size("4294967296"), over);
    assert_eq!(parse_size("4g"), over);
    assert_eq!(parse_size("1kx"), Err(UnitError::UnexpectedChar('x')));
    assert_eq!(parse_size("5t"), Err(UnitError::UnexpectedChar('t')));
    assert_eq!(parse_size("k"), Err(UnitError::UnexpectedChar('k')));
}
