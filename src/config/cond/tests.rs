use super::*;

fn eval(text: &str) -> Result<bool, CondError> {
    eval_condition(text, &|name| (name == "FOO").then(|| "foo".to_owned()))
}

#[test]
fn constants_and_operators() {
    assert_eq!(eval("1"), Ok(true));
    assert_eq!(eval("0"), Ok(false));
    assert_eq!(eval("2"), Ok(true));
    assert_eq!(eval(""), Ok(false));
    assert_eq!(eval("!0"), Ok(true));
    assert_eq!(eval("1 && 0 || 1"), Ok(true));
    assert_eq!(eval("1 && (0 || 0)"), Ok(false));
    assert_eq!(eval("defined(FOO)&&!defined(BAR)"), Ok(true));
}

#[test]
fn predicates() {
    assert_eq!(eval("streq(foo,foo)"), Ok(true));
    assert_eq!(eval("strneq(foo,foo)"), Ok(false));
    assert_eq!(eval("feature(OPENSSL)"), Ok(true));
    assert_eq!(eval("feature(QUIC)"), Ok(false));
    assert_eq!(
        eval("version_atleast(2.6) && version_before(2.7)"),
        Ok(true)
    );
    assert_eq!(eval("version_atleast(2.6-dev3)"), Ok(true));
    assert_eq!(eval("version_before(2.6.12)"), Ok(false));
    assert_eq!(eval("version_atleast(2.6.13-rc1)"), Ok(false));
}

#[test]
fn errors_say_where() {
    // As `haproxy -c`: the whole expression is parsed before evaluation.
    let e = eval("!defined(NOPE) || bogus(x)");
    assert_eq!(
        e,
        Err(CondError {
            offset: 18,
            message: "unparsable conditional expression 'bogus(x)'".into()
        })
    );
    assert_eq!(eval("streq(a)").map_err(|e| e.offset), Err(0));
    assert_eq!(eval("(1").map_err(|e| e.offset), Err(2));
    assert_eq!(eval("1 2").map_err(|e| e.offset), Err(2));
    assert!(eval(&"(".repeat(10_000)).is_err());
}
