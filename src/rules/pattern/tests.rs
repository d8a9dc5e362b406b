use super::*;

fn set(method: MatchMethod, icase: bool, pats: &[&str]) -> PatternSet {
    let mut s = PatternSet::new(method, icase);
    for p in pats {
        assert_eq!(s.add(p), Ok(()));
    }
    s.finish();
    s
}

fn ip(text: &str) -> Sample<'static> {
    Sample::Ip(text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])))
}

#[test]
fn exact_strings_with_and_without_case() {
    let s = set(MatchMethod::Str, true, &["Example.COM", "b"]);
    assert!(s.matches(&Sample::borrowed(b"example.com")));
    assert!(s.matches(&Sample::borrowed(b"EXAMPLE.com")));
    assert!(!s.matches(&Sample::borrowed(b"example.co")));
    let s = set(MatchMethod::Str, false, &["Example.COM"]);
    assert!(!s.matches(&Sample::borrowed(b"example.com")));
}

#[test]
fn prefix_suffix_sub_dir_dom() {
    let s = set(MatchMethod::Beg, false, &["/api"]);
    assert!(s.matches(&Sample::borrowed(b"/api/v1")));
    assert!(!s.matches(&Sample::borrowed(b"/ap")));
    assert!(set(MatchMethod::End, true, &[".JPG"]).matches(&Sample::borrowed(b"/a.jpg")));
    assert!(set(MatchMethod::Sub, false, &["test1"]).matches(&Sample::borrowed(b"a.test1.com")));
    let dir = set(MatchMethod::Dir, false, &["img"]);
    assert!(dir.matches(&Sample::borrowed(b"/static/img/a.png")));
    assert!(!dir.matches(&Sample::borrowed(b"/static/imgs/a.png")));
    let dom = set(MatchMethod::Dom, false, &["example"]);
    assert!(dom.matches(&Sample::borrowed(b"www.example.com")));
    assert!(!dom.matches(&Sample::borrowed(b"www.examples.com")));
}

#[test]
fn integer_ranges_and_operators() {
    let mut s = PatternSet::new(MatchMethod::Int, false);
    assert_eq!(s.add_int_op(IntOp::Gt, "3"), Ok(()));
    assert!(!s.matches(&Sample::Int(3)));
    assert!(s.matches(&Sample::Int(4)));
    let r = set(MatchMethod::Int, false, &["1:10", "20"]);
    assert!(
        r.matches(&Sample::Int(1)) && r.matches(&Sample::Int(10)) && r.matches(&Sample::Int(20))
    );
    assert!(!r.matches(&Sample::Int(11)));
    assert!(r.matches(&Sample::borrowed(b"5")));
    let mut bad = PatternSet::new(MatchMethod::Int, false);
    assert_eq!(
        bad.add("3x"),
        Err("'3x' is neither a number nor a supported operator".into())
    );
    let len = set(MatchMethod::Len, false, &["3"]);
    assert!(len.matches(&Sample::borrowed(b"abc")));
}

#[test]
fn addresses_and_networks() {
    let s = set(
        MatchMethod::Ip,
        false,
        &["10.0.0.0/8", "192.168.1.1", "10.1.0.0/16", "::1"],
    );
    assert!(s.matches(&ip("10.200.3.4")));
    assert!(s.matches(&ip("192.168.1.1")));
    assert!(!s.matches(&ip("192.168.1.2")));
    assert!(s.matches(&ip("::ffff:10.0.0.1")));
    assert!(s.matches(&ip("::1")));
    assert!(s.matches(&Sample::borrowed(b"10.9.9.9")));
    let m = set(MatchMethod::Ip, false, &["172.16.0.0/255.240.0.0"]);
    assert!(m.matches(&ip("172.31.255.255")) && !m.matches(&ip("172.32.0.0")));
    let mut bad = PatternSet::new(MatchMethod::Ip, false);
    assert_eq!(
        bad.add("10.0.0.0/33"),
        Err("'10.0.0.0/33' is not a valid IPv4 or IPv6 address".into())
    );
}

#[test]
fn regexes_found_bool() {
    let s = set(MatchMethod::Reg, true, &["^/API/[0-9]+$"]);
    assert!(s.matches(&Sample::borrowed(b"/api/12")));
    assert!(!s.matches(&Sample::borrowed(b"/api/x")));
    let mut bad = PatternSet::new(MatchMethod::Reg, false);
    assert!(
        bad.add("(")
            .is_err_and(|e| e.starts_with("regex '(' is invalid"))
    );
    assert!(set(MatchMethod::Found, false, &[]).matches(&Sample::borrowed(b"")));
    let b = set(MatchMethod::Bool, false, &[]);
    assert!(b.matches(&Sample::Int(2)) && !b.matches(&Sample::Int(0)));
}
