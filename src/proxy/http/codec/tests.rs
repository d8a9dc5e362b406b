use super::*;

fn req(raw: &[u8]) -> Result<Option<RequestInfo>, ProxyError> {
    let mut head = RequestHead::new();
    parse_request(raw, 16_384, &mut head)
}

fn bad(raw: &[u8]) -> ProxyError {
    match req(raw) {
        Err(e) => e,
        other => panic!("accepted {:?}: {other:?}", String::from_utf8_lossy(raw)),
    }
}

#[test]
fn parses_a_simple_request_and_lowercases_names() {
    let mut head = RequestHead::new();
    let raw = b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Thing: V\r\n\r\nrest";
    let info = parse_request(raw, 16_384, &mut head);
    let Ok(Some(info)) = info else {
        panic!("{info:?}")
    };
    assert_eq!(info.head_len, raw.len() - 4);
    assert_eq!(info.body, Body::None);
    assert_eq!(head.method(), b"GET");
    assert_eq!(head.uri(), b"/a?b=1");
    assert_eq!(head.headers.field(1), Some((&b"x-thing"[..], &b"V"[..])));
}

#[test]
fn incomplete_heads_ask_for_more() {
    assert_eq!(req(b"GET / HTTP/1.1\r\nHost: x\r\n"), Ok(None));
}

#[test]
fn body_framing() {
    let r = req(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(r.ok().flatten().map(|i| i.body), Some(Body::Length(5)));
    let r = req(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(r.ok().flatten().map(|i| i.body), Some(Body::Length(5)));
    let r = req(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n");
    assert_eq!(r.ok().flatten().map(|i| i.body), Some(Body::Chunked));
}

#[test]
fn ambiguous_or_malformed_requests_are_400() {
    let cases: &[&[u8]] = &[
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \"chunked\"\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad(name): v\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        b"GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
        b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    ];
    for raw in cases {
        let e = bad(raw);
        assert_eq!(
            e.status(),
            Some(400),
            "{:?} → {e:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn unsupported_coding_is_501_and_oversize_is_414_or_431() {
    assert_eq!(
        bad(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"),
        ProxyError::NotImplemented
    );
    assert_eq!(
        bad(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
        ProxyError::NotImplemented
    );
    let mut head = RequestHead::new();
    let long_line = [b'a'; 100];
    assert_eq!(
        parse_request(&long_line, 100, &mut head),
        Err(ProxyError::UriTooLong)
    );
    let mut big = b"GET / HTTP/1.1\r\nHost: x\r\nX: ".to_vec();
    big.resize(100, b'a');
    assert_eq!(
        parse_request(&big, 100, &mut head),
        Err(ProxyError::HeadersTooLarge)
    );
}

fn resp(raw: &[u8], head_req: bool) -> Result<Option<ResponseInfo>, ProxyError> {
    let mut head = ResponseHead::new();
    parse_response(raw, 16_384, head_req, &mut head)
}

#[test]
fn response_framing() {
    let body = |raw: &[u8], h| resp(raw, h).ok().flatten().map(|i| i.body);
    assert_eq!(
        body(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", false),
        Some(Body::Length(3))
    );
    assert_eq!(
        body(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", true),
        Some(Body::None)
    );
    assert_eq!(
        body(b"HTTP/1.1 204 No Content\r\n\r\n", false),
        Some(Body::None)
    );
    assert_eq!(
        body(
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
            false
        ),
        Some(Body::None)
    );
    assert_eq!(
        body(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            false
        ),
        Some(Body::Chunked)
    );
    assert_eq!(
        body(b"HTTP/1.0 200 OK\r\n\r\n", false),
        Some(Body::UntilClose)
    );
    assert!(
        resp(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            false
        )
        .is_err()
    );
    assert!(resp(b"garbage\n", false).is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn framing_header() -> impl Strategy<Value = (String, String)> {
        prop_oneof![
            (0u64..20).prop_map(|n| ("Content-Length".to_string(), n.to_string())),
            Just(("Content-Length".to_string(), "5, 5".to_string())),
            Just(("Content-Length".to_string(), " 7".to_string())),
            Just(("Transfer-Encoding".to_string(), "chunked".to_string())),
            Just(("transfer-encoding".to_string(), "gzip".to_string())),
            Just(("Transfer-Encoding".to_string(), "gzip, chunked".to_string())),
            Just(("Transfer-Encoding".to_string(), "chunked, gzip".to_string())),
            Just(("Transfer-Encoding".to_string(), "identity".to_string())),
            Just(("X-Other".to_string(), "1".to_string())),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut head = RequestHead::new();
            if let Ok(Some(info)) = parse_request(&data, 512, &mut head) {
                prop_assert!(info.head_len <= data.len());
            }
            let mut resp = ResponseHead::new();
            if let Ok(Some(info)) = parse_response(&data, 512, false, &mut resp) {
                prop_assert!(info.head_len <= data.len());
            }
        }

        #[test]
        fn accepted_framing_is_never_ambiguous(fields in proptest::collection::vec(framing_header(), 0..4)) {
            let mut raw = b"POST / HTTP/1.1\r\nHost: x\r\n".to_vec();
            for (n, v) in &fields {
                raw.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
            }
            raw.extend_from_slice(b"\r\n");
            let mut head = RequestHead::new();
            let lengths: Vec<u64> = fields
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .flat_map(|(_, v)| v.split(',').map(|p| p.trim().parse::<u64>().unwrap_or(u64::MAX)).collect::<Vec<_>>())
                .collect();
            let codings: Vec<&str> = fields
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
                .map(|(_, v)| v.as_str())
                .collect();
            match parse_request(&raw, 16_384, &mut head) {
                Ok(Some(info)) => match info.body {
                    Body::Length(n) => {
                        prop_assert!(codings.is_empty());
                        prop_assert!(lengths.iter().all(|&l| l == n));
                    }
                    Body::Chunked => {
                        prop_assert!(lengths.is_empty());
                        prop_assert_eq!(codings, vec!["chunked"]);
                    }
                    Body::None => {
                        prop_assert!(codings.is_empty());
                        prop_assert!(lengths.iter().all(|&l| l == 0));
                    }
                    Body::UntilClose => prop_assert!(false, "a request never reads to close"),
                },
                Ok(None) => prop_assert!(false, "complete head reported incomplete"),
                Err(e) => prop_assert!(matches!(e.status(), Some(400 | 501))),
            }
        }
    }
}

#[test]
fn heads_are_forwarded_normalized_however_their_fields_were_written() {
    let wire = |raw: &[u8]| {
        let mut head = RequestHead::new();
        let info = parse_request(raw, 16_384, &mut head);
        assert!(matches!(info, Ok(Some(_))), "{info:?}");
        let mut out = Vec::new();
        head.write_to(&mut out);
        String::from_utf8(out).unwrap_or_default()
    };
    let want = "GET / HTTP/1.1\r\nhost: x\r\nx-a: 1 2\r\nx-empty: \r\ncontent-length: 0\r\n\r\n";
    // Written the usual way: copied in one piece.
    assert_eq!(
        wire(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1 2\r\nX-Empty: \r\nContent-Length: 0\r\n\r\n"),
        want
    );
    // Odd spacing anywhere: copied field by field, same result.
    for raw in [
        &b"GET / HTTP/1.1\r\nHost:x\r\nX-A: 1 2\r\nX-Empty: \r\nContent-Length: 0\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A:\t1 2 \r\nX-Empty:\r\nContent-Length: 0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\nX-A: 1 2\nX-Empty: \nContent-Length:  0\n\n",
    ] {
        assert_eq!(wire(raw), want, "{}", String::from_utf8_lossy(raw));
    }
}
