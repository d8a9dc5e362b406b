//! Compile errors and warnings: exact message and where they point.

use super::harness::{compile, compile_in, one_diag};
use crate::compile::program::Mode;
use crate::config::diag::Severity;

#[test]
fn valid_rules_compile_without_diagnostics() {
    let c = compile(
        "acl is_api path_beg -i /api\n\
         acl is_api hdr_sub(host) api.\n\
         acl abuse sc2_conn_rate gt 3\n\
         acl wl src 10.0.0.0/8 192.168.1.1\n\
         acl marked src_get_gpc0(http) gt 0\n\
         tcp-request inspect-delay 5s\n\
         tcp-request connection track-sc0 src\n\
         tcp-request content track-sc2 src table test1\n\
         tcp-request content reject if abuse !wl || marked\n\
         http-request deny deny_status 429 if { sc_http_req_rate(0) gt 10 }\n\
         http-request set-header X-Client %[src]:%cp\n\
         http-request redirect scheme https code 301 if !{ ssl_fc }\n\
         http-request set-var(txn.host) req.hdr(host,1),lower\n\
         http-request return status 200 content-type text/plain string ok if { path /health }\n\
         http-request auth realm admin if !{ http_auth(L) }\n\
         http-request use-service prometheus-exporter if { path /metrics }\n\
         http-response set-header X-Served-By lbd\n\
         use_backend app if is_api\n\
         use_backend ease-up if marked METH_GET",
    );
    assert_eq!(c.diags, vec![]);
    assert_eq!(c.rules.tcp_connection.len(), 1);
    assert_eq!(c.rules.tcp_content.len(), 2);
    assert_eq!(c.rules.inspect_delay_ms, Some(5000));
    assert_eq!(c.rules.http_request.len(), 7);
    assert_eq!(c.rules.http_response.len(), 1);
    assert_eq!(c.use_backend.len(), 2);
}

#[test]
fn unknown_fetch_suggests_the_closest() {
    let c = compile("acl a hdr_sbu(host) x");
    assert_eq!(c.diags.len(), 1);
    let d = &c.diags[0];
    assert_eq!(d.message, "unknown fetch 'hdr_sbu'");
    assert_eq!(d.help.as_deref(), Some("did you mean 'hdr_sub'?"));
    assert_eq!(d.span.map(|s| s.col), Some(7));
}

#[test]
fn derived_acl_names_follow_haproxy() {
    assert_eq!(compile("acl a hdr_ip(x-forwarded-for) 10.0.0.0/8\nacl b urlp_val(id) gt 3\nacl c cook_len(sid) 32").diags, vec![]);
    assert_eq!(
        one_diag("acl a path_ip 10.0.0.1").2,
        "unknown fetch 'path_ip'"
    );
}

#[test]
fn unknown_and_unsupported_converters() {
    let c = compile("http-request deny if { hdr(host),lowr -i x }");
    assert_eq!(c.diags[0].message, "unknown converter 'lowr' after 'hdr'");
    assert_eq!(c.diags[0].help.as_deref(), Some("did you mean 'lower'?"));
    assert_eq!(c.diags[0].span.map(|s| s.col), Some(24));
    assert_eq!(
        one_diag("acl a src,ipmask(24) 10.0.0.0").2,
        "converter 'ipmask' is not supported by lbd"
    );
}

#[test]
fn pattern_errors_point_at_the_pattern() {
    assert_eq!(
        one_diag("acl a3 sc2_conn_rate gt 3x"),
        (
            1,
            25,
            "'3x' is neither a number nor a supported operator".into()
        )
    );
    assert_eq!(
        one_diag("acl a4 src 10.0.0.0/33"),
        (
            1,
            12,
            "'10.0.0.0/33' is not a valid IPv4 or IPv6 address".into()
        )
    );
    assert_eq!(
        one_diag("acl a2 hdr(host) -m foo x"),
        (1, 21, "unknown matching method 'foo', expected one of found, bool, int, ip, str, beg, end, sub, reg, dir, dom, len".into())
    );
    let (_, col, msg) = one_diag("acl a7 path -m reg (");
    assert_eq!(col, 20);
    assert!(msg.starts_with("regex '(' is invalid ("), "{msg}");
    assert_eq!(
        one_diag("acl a src -m sub -m ip x"),
        (1, 24, "'x' is not a valid IPv4 or IPv6 address".into())
    );
    assert_eq!(
        one_diag("acl a sc0_conn_rate -m ip 1.2.3.4"),
        (
            1,
            24,
            "matching method 'ip' cannot be used with 'sc0_conn_rate', which returns an integer"
                .into()
        )
    );
}

#[test]
fn tables_are_resolved_and_checked() {
    assert_eq!(
        one_diag("acl a5 src_get_gpc0(nosuch) gt 0"),
        (
            1,
            8,
            "unable to find table 'nosuch' referenced by 'src_get_gpc0' in frontend 'f'".into()
        )
    );
    assert_eq!(
        one_diag("tcp-request connection track-sc0 src table nosuch"),
        (
            1,
            44,
            "unable to find table 'nosuch' referenced by 'track-sc0' in frontend 'f'".into()
        )
    );
    // HAProxy accepts a data type the table does not store; lbd warns.
    let c = compile("acl a src_get_gpc0(test1) gt 0");
    assert_eq!(c.diags.len(), 1);
    assert_eq!(c.diags[0].severity, Severity::Warning);
    assert_eq!(
        c.diags[0].message,
        "table 'test1' does not store 'gpc0', so 'src_get_gpc0' never returns a value"
    );
    assert_eq!(
        one_diag("acl a src_conn_rate(str) gt 0").2,
        "'src_conn_rate' needs a table of type ip or ipv6, table 'str' is of type string"
    );
    assert_eq!(
        one_diag("tcp-request content track-sc1 src table str"),
        (
            1,
            31,
            "converting 'src' (ip) to a key of a table of type string is not supported by lbd"
                .into()
        )
    );
}

#[test]
fn fetch_availability_follows_the_rule_context() {
    let c = compile("tcp-request connection reject if { hdr(host) -i x }");
    assert_eq!(c.diags.len(), 1);
    assert_eq!(c.diags[0].severity, Severity::Warning);
    assert_eq!(
        c.diags[0].message,
        "anonymous acl will never match in 'tcp-request connection' because it uses 'hdr', which is not available there"
    );
    let c = compile("acl h hdr(host) x\ntcp-request connection reject if h");
    assert_eq!(
        c.diags[0].message,
        "acl 'h' will never match in 'tcp-request connection' because it uses 'hdr', which is not available there"
    );
    assert_eq!(c.diags[0].span.map(|s| (s.line, s.col)), Some((2, 34)));
    assert_eq!(
        one_diag("tcp-request connection track-sc0 hdr(x)"),
        (
            1,
            34,
            "fetch 'hdr' is not available in 'tcp-request connection'".into()
        )
    );
    assert_eq!(
        one_diag("http-response set-header X %[req.hdr(host)]"),
        (
            1,
            28,
            "fetch 'req.hdr' is not available in 'http-response'".into()
        )
    );
    assert_eq!(
        one_diag("http-response deny if { path_beg /x }").2,
        "anonymous acl will never match in 'http-response' because it uses 'path_beg', which is not available there"
    );
    assert_eq!(compile("http-response deny if { hdr(x) y }").diags, vec![]);
    assert_eq!(
        one_diag("tcp-request connection reject if { status 200 }").2,
        "anonymous acl will never match in 'tcp-request connection' because it uses 'status', which is not available there"
    );
}

#[test]
fn condition_errors() {
    let c = compile("acl conn_rate_abuse sc0_conn_rate gt 3\nhttp-request deny if con_rate_abuse");
    assert_eq!(c.diags.len(), 1);
    assert_eq!(
        c.diags[0].message,
        "unknown acl 'con_rate_abuse' in frontend 'f'"
    );
    assert_eq!(
        c.diags[0].help.as_deref(),
        Some("did you mean 'conn_rate_abuse'?")
    );
    assert_eq!(
        one_diag("http-request deny if { src 1.2.3.4"),
        (1, 22, "missing '}' to close this anonymous acl".into())
    );
    assert_eq!(
        one_diag("http-request deny if"),
        (1, 19, "'if' expects a condition".into())
    );
    assert_eq!(
        one_diag("http-request deny if TRUE or"),
        (1, 27, "'or' expects a condition on each side".into())
    );
    let (_, col, msg) = one_diag("http-request deny if { nosuchfetch }");
    assert_eq!((col, msg.as_str()), (24, "unknown fetch 'nosuchfetch'"));
}

#[test]
fn a_broken_acl_is_reported_once() {
    let c = compile("acl bad src 10.0.0.0/33\nhttp-request deny if bad\nuse_backend app if !bad");
    assert_eq!(c.diags.len(), 1, "{:#?}", c.diags);
}

#[test]
fn acl_without_patterns_warns_like_haproxy() {
    let c =
        compile("acl a6 path_beg\nacl a7 path_beg --\nacl a8 path -m found\nacl a9 sc0_tracked");
    assert_eq!(c.diags.len(), 1, "{:#?}", c.diags);
    assert_eq!(c.diags[0].severity, Severity::Warning);
    assert_eq!(
        c.diags[0].message,
        "'path_beg' has no pattern to match against, so it never matches (add '--' to silence this, or use '-m found' or '-m bool')"
    );
}

#[test]
fn action_errors() {
    assert_eq!(
        one_diag("http-request set-uri /x").2,
        "'http-request set-uri' is not supported by lbd"
    );
    let c = compile("http-request frob");
    assert!(
        c.diags[0]
            .message
            .starts_with("'http-request' expects one of 'allow', 'reject', 'deny'")
    );
    assert!(c.diags[0].message.ends_with(", got 'frob'"));
    let c = compile("http-request alow");
    assert_eq!(c.diags[0].help.as_deref(), Some("did you mean 'allow'?"));
    assert_eq!(
        one_diag("http-request redirect location /x code 304"),
        (
            1,
            40,
            "unsupported redirect code '304', expected one of 301, 302, 303, 307 or 308".into()
        )
    );
    assert_eq!(
        one_diag("http-request set-var(foo.bar) src").2,
        "invalid variable name 'foo.bar': it must start with its scope, one of 'proc', 'sess', 'txn', 'req' or 'res', as in 'txn.name'"
    );
    assert_eq!(
        one_diag("http-request return string hi"),
        (
            1,
            21,
            "'return' with a non-empty body expects a 'content-type'".into()
        )
    );
    assert!(
        one_diag("http-request deny deny_status 999")
            .2
            .starts_with("unexpected status code '999', expected one of 200, 400")
    );
    assert_eq!(
        one_diag("http-request set-header X %[src]%Zz").2,
        "log-format variable '%Zz' is not supported by lbd (supported: %[fetch], %ci, %cp, %fi, %fp, %%)"
    );
    assert_eq!(
        one_diag("tcp-request content frob").2.split(", got").nth(1),
        Some(" 'frob'")
    );
    assert_eq!(
        one_diag("tcp-request connection track-sc5 src").2,
        "'track-sc5' expects a tracker number between 0 and 2"
    );
    assert_eq!(
        one_diag("tcp-request session accept").2,
        "'tcp-request session' is not supported by lbd"
    );
}

#[test]
fn use_backend_names_are_resolved() {
    assert_eq!(
        one_diag("use_backend nob"),
        (
            1,
            13,
            "unable to find backend 'nob' referenced by 'use_backend' in frontend 'f'".into()
        )
    );
    assert_eq!(
        one_diag("use_backend %[req.hdr(host)]"),
        (
            1,
            13,
            "dynamic backend names ('%[...]') are not supported by lbd".into()
        )
    );
}

#[test]
fn rules_after_a_final_action_warn() {
    let c = compile("http-request deny\nhttp-request allow");
    assert_eq!(c.diags.len(), 1);
    assert_eq!(c.diags[0].span.map(|s| s.line), Some(2));
    let c = compile_in("http-request deny", Mode::Tcp, std::path::Path::new("."));
    assert_eq!(
        c.diags[0].message,
        "'http-request' rules are ignored in frontend 'f' as they require 'mode http'"
    );
}

#[test]
fn pattern_files_are_read_relative_to_the_config() {
    let dir = std::env::temp_dir().join(format!("lbd-rules-test-{}", std::process::id()));
    assert!(std::fs::create_dir_all(&dir).is_ok());
    assert!(
        std::fs::write(
            dir.join("nets.lst"),
            "# blocked\n10.0.0.0/8\n\n  192.168.0.1  \n"
        )
        .is_ok()
    );
    assert!(std::fs::write(dir.join("bad.lst"), "10.0.0.0/8\nnope\n").is_ok());
    let c = compile_in("acl blocked src -f nets.lst", Mode::Http, &dir);
    assert_eq!(c.diags, vec![]);
    let c = compile_in(
        "acl blocked src -f bad.lst\nacl b2 src -f missing.lst",
        Mode::Http,
        &dir,
    );
    assert_eq!(c.diags.len(), 2);
    assert_eq!(
        c.diags[0].message,
        "in pattern file 'bad.lst' line 2: 'nope' is not a valid IPv4 or IPv6 address"
    );
    assert_eq!(c.diags[0].span.map(|s| s.col), Some(20));
    assert!(c.diags[1].message.starts_with("cannot read pattern file"));
    assert!(std::fs::remove_dir_all(&dir).is_ok());
}

#[test]
fn crypt_passwords_are_reported() {
    use super::harness::{TestNames, line};
    use super::{ProxyScope, RuleCompiler};
    use crate::compile::program::{Password, ProxyKind};
    let mut names = TestNames::classic();
    names.userlists[0].users[0].password = Password::Crypt("$5$abc".into());
    let scope = ProxyScope {
        kind: ProxyKind::Frontend,
        name: "f",
        mode: Mode::Http,
        own_table: None,
        base_dir: std::path::Path::new("."),
    };
    let mut diags = Vec::new();
    let mut c = RuleCompiler::new();
    assert!(c.line(&line("acl ok http_auth(L)", 1), &scope, &names, &mut diags));
    assert_eq!(
        diags[0].message,
        "user 'user' of userlist 'L' has an encrypted password: crypt(3) hashes are not supported by lbd, use 'insecure-password'"
    );
    assert!(!c.line(&line("bind :80", 2), &scope, &names, &mut diags));
    assert!(c.line(
        &line("acl x src_conn_rate gt 1", 3),
        &scope,
        &names,
        &mut diags
    ));
    assert_eq!(
        diags[1].message,
        "'src_conn_rate' needs a stick table: frontend 'f' has none, name one as argument"
    );
}
