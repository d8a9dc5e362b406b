//! Converters (`,lower`, `,upper`, `,base64`, ...) applied after a fetch.

use std::borrow::Cow;

use super::auth::base64_encode;
use super::sample::{Sample, SampleType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    Lower,
    Upper,
    Base64,
    Hex,
    Length,
}

/// One row of the converter table: name, input type, output type.
pub const CONVERTERS: &[(&str, Conv, SampleType, SampleType)] = &[
    ("lower", Conv::Lower, SampleType::Str, SampleType::Str),
    ("upper", Conv::Upper, SampleType::Str, SampleType::Str),
    ("base64", Conv::Base64, SampleType::Str, SampleType::Str),
    ("hex", Conv::Hex, SampleType::Str, SampleType::Str),
    ("length", Conv::Length, SampleType::Str, SampleType::Int),
];

/// Converters HAProxy 2.6 has that lbd does not.
pub const UNSUPPORTED_CONVERTERS: &[&str] = &[
    "51d.single",
    "da-csv-conv",
    "map",
    "map_str",
    "map_beg",
    "map_sub",
    "map_ip",
    "map_reg",
    "regsub",
    "ipmask",
    "json",
    "url_dec",
    "field",
    "word",
    "bytes",
    "crc32",
    "djb2",
    "sdbm",
    "wt6",
    "xxh32",
    "xxh64",
    "sha1",
    "sha2",
    "hmac",
    "digest",
    "debug",
    "concat",
    "strcmp",
    "secure_memcmp",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "neg",
    "and",
    "or",
    "xor",
    "cpl",
    "bool",
    "not",
    "odd",
    "even",
    "b64dec",
    "ub64enc",
    "ub64dec",
    "in_table",
    "table_gpc0",
    "table_conn_rate",
    "table_http_req_rate",
    "set-var",
    "unset-var",
    "ltime",
    "utime",
    "http_date",
    "language",
    "iif",
    "host_only",
    "port_only",
    "url_enc",
    "lua",
    "protobuf",
    "ungrpc",
    "ltrim",
    "rtrim",
    "capture-req",
    "capture-res",
    "be2dec",
    "be2hex",
    "json_query",
    "cut_crlf",
    "htonl",
    "fix_is_valid",
    "fix_tag_value",
    "mqtt_is_valid",
    "mqtt_field_value",
    "aes_gcm_dec",
];

pub fn find(name: &str) -> Option<(Conv, SampleType, SampleType)> {
    CONVERTERS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, c, i, o)| (*c, *i, *o))
}

impl Conv {
    pub fn as_keyword(self) -> &'static str {
        CONVERTERS
            .iter()
            .find(|(_, c, ..)| *c == self)
            .map_or("?", |(n, ..)| n)
    }

    /// Applies the converter. Strings already in the wanted case are passed
    /// through without copying.
    pub fn apply<'a>(self, input: Sample<'a>) -> Option<Sample<'a>> {
        let bytes = match input {
            Sample::Str(s) => s,
            other => Cow::Owned(other.as_bytes().into_owned()),
        };
        Some(match self {
            Conv::Lower => Sample::Str(map_case(bytes, false)),
            Conv::Upper => Sample::Str(map_case(bytes, true)),
            Conv::Base64 => {
                let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
                base64_encode(&bytes, &mut out);
                Sample::Str(Cow::Owned(out))
            }
            Conv::Hex => {
                let mut out = Vec::with_capacity(bytes.len() * 2);
                for b in bytes.iter() {
                    out.extend_from_slice(format!("{b:02X}").as_bytes());
                }
                Sample::Str(Cow::Owned(out))
            }
            Conv::Length => Sample::Int(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        })
    }
}

fn map_case(bytes: Cow<'_, [u8]>, upper: bool) -> Cow<'_, [u8]> {
    let needs = |b: &u8| {
        if upper {
            b.is_ascii_lowercase()
        } else {
            b.is_ascii_uppercase()
        }
    };
    if !bytes.iter().any(needs) {
        return bytes;
    }
    let mut owned = bytes.into_owned();
    if upper {
        owned.make_ascii_uppercase();
    } else {
        owned.make_ascii_lowercase();
    }
    Cow::Owned(owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_case_and_encodes() {
        let lower = Conv::Lower.apply(Sample::borrowed(b"WwW.Ex"));
        assert_eq!(lower, Some(Sample::borrowed(b"www.ex")));
        let kept = Conv::Lower.apply(Sample::borrowed(b"abc"));
        assert!(matches!(kept, Some(Sample::Str(Cow::Borrowed(_)))));
        assert_eq!(
            Conv::Upper.apply(Sample::borrowed(b"ab")),
            Some(Sample::borrowed(b"AB"))
        );
        assert_eq!(
            Conv::Base64.apply(Sample::borrowed(b"abc")),
            Some(Sample::borrowed(b"YWJj"))
        );
        assert_eq!(
            Conv::Hex.apply(Sample::borrowed(b"\x01z")),
            Some(Sample::borrowed(b"017A"))
        );
        assert_eq!(
            Conv::Length.apply(Sample::borrowed(b"abcd")),
            Some(Sample::Int(4))
        );
        assert_eq!(
            Conv::Lower.apply(Sample::Int(12)),
            Some(Sample::borrowed(b"12"))
        );
    }
}
