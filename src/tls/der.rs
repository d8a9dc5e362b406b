//! Just enough DER to read a certificate's subject name and DNS names.
//!
//! rustls hands out certificates as DER bytes and does not expose their
//! names. lbd needs the names for SNI selection and the subject for the
//! `ssl_c_s_dn` fetch, so this walks the structure by hand. Every read is
//! bounds-checked: malformed input yields `None` or an empty list, never a
//! panic.

/// `2.5.29.17`, subjectAltName.
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// `2.5.4.3`, commonName.
pub const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_OID: u8 = 0x06;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_BOOLEAN: u8 = 0x01;
/// `[0] EXPLICIT` version of a TBSCertificate.
const TAG_VERSION: u8 = 0xa0;
/// `[3] EXPLICIT` extensions of a TBSCertificate.
const TAG_EXTENSIONS: u8 = 0xa3;
/// `dNSName [2] IMPLICIT IA5String` in a GeneralName.
const TAG_DNS_NAME: u8 = 0x82;

/// One attribute of a distinguished name: its type OID and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameEntry {
    pub oid: Vec<u8>,
    pub value: String,
}

impl NameEntry {
    /// The short name OpenSSL prints for this attribute (`CN`, `O`, ...),
    /// or the dotted OID when it has none.
    pub fn short_name(&self) -> String {
        match short_name(&self.oid) {
            Some(name) => name.to_string(),
            None => dotted_oid(&self.oid),
        }
    }
}

/// The subject of a DER certificate, in the order it is written.
pub fn subject(cert: &[u8]) -> Option<Vec<NameEntry>> {
    let tbs = tbs_fields(cert)?;
    name_entries(tbs.subject)
}

/// The DNS names a certificate is for: every subjectAltName dNSName, then
/// the subject's common names, lower-cased and without duplicates.
pub fn dns_names(cert: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let Some(tbs) = tbs_fields(cert) else {
        return names;
    };
    if let Some(extensions) = tbs.extensions {
        names.extend(alt_dns_names(extensions));
    }
    if let Some(entries) = name_entries(tbs.subject) {
        names.extend(
            entries
                .into_iter()
                .filter(|e| e.oid == OID_COMMON_NAME)
                .map(|e| e.value),
        );
    }
    let mut unique: Vec<String> = Vec::new();
    for name in names {
        let name = name.to_ascii_lowercase();
        if !name.is_empty() && !unique.contains(&name) {
            unique.push(name);
        }
    }
    unique
}

/// The parts of a TBSCertificate lbd reads.
struct TbsFields<'a> {
    subject: &'a [u8],
    extensions: Option<&'a [u8]>,
}

fn tbs_fields(cert: &[u8]) -> Option<TbsFields<'_>> {
    let (certificate, _) = expect(cert, TAG_SEQUENCE)?;
    let (tbs, _) = expect(certificate, TAG_SEQUENCE)?;
    let mut rest = tbs;
    if rest.first() == Some(&TAG_VERSION) {
        rest = read(rest)?.2;
    }
    // serialNumber, signature, issuer, validity
    for _ in 0..4 {
        rest = read(rest)?.2;
    }
    let (subject, after_subject) = expect(rest, TAG_SEQUENCE)?;
    // subjectPublicKeyInfo, then optional unique ids and extensions
    let mut rest = read(after_subject)?.2;
    let mut extensions = None;
    while !rest.is_empty() {
        let (tag, body, next) = read(rest)?;
        if tag == TAG_EXTENSIONS {
            extensions = Some(expect(body, TAG_SEQUENCE)?.0);
        }
        rest = next;
    }
    Some(TbsFields {
        subject,
        extensions,
    })
}

fn name_entries(mut rdns: &[u8]) -> Option<Vec<NameEntry>> {
    let mut entries = Vec::new();
    while !rdns.is_empty() {
        let (set, next) = expect(rdns, TAG_SET)?;
        let mut attrs = set;
        while !attrs.is_empty() {
            let (attr, after) = expect(attrs, TAG_SEQUENCE)?;
            let (oid, value) = expect(attr, TAG_OID)?;
            let (tag, body, _) = read(value)?;
            entries.push(NameEntry {
                oid: oid.to_vec(),
                value: string_value(tag, body),
            });
            attrs = after;
        }
        rdns = next;
    }
    Some(entries)
}

fn alt_dns_names(mut extensions: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    while let Some((extension, next)) = expect(extensions, TAG_SEQUENCE) {
        extensions = next;
        let Some((oid, mut rest)) = expect(extension, TAG_OID) else {
            continue;
        };
        if oid != OID_SUBJECT_ALT_NAME {
            continue;
        }
        if rest.first() == Some(&TAG_BOOLEAN) {
            match read(rest) {
                Some((_, _, after)) => rest = after,
                None => continue,
            }
        }
        let Some((value, _)) = expect(rest, TAG_OCTET_STRING) else {
            continue;
        };
        let Some((mut general_names, _)) = expect(value, TAG_SEQUENCE) else {
            continue;
        };
        while let Some((tag, body, after)) = read(general_names) {
            if tag == TAG_DNS_NAME
                && let Ok(name) = std::str::from_utf8(body)
            {
                names.push(name.to_string());
            }
            general_names = after;
        }
    }
    names
}

/// Reads one element that must have `tag`: its body and what follows it.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, body, rest) = read(input)?;
    (found == tag).then_some((body, rest))
}

/// Reads one element: its tag, its body and what follows it.
fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        // High tag numbers do not occur in the fields lbd reads.
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let mut len = 0usize;
        for _ in 0..count {
            let (&b, after) = rest.split_first()?;
            len = (len << 8) | usize::from(b);
            rest = after;
        }
        len
    };
    if len > rest.len() {
        return None;
    }
    let (body, after) = rest.split_at(len);
    Some((tag, body, after))
}

/// The text of a directory string, whatever its ASN.1 string type.
fn string_value(tag: u8, body: &[u8]) -> String {
    match tag {
        // BMPString: UTF-16BE
        0x1e => {
            let units: Vec<u16> = body
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        // UniversalString: UTF-32BE
        0x1c => body
            .chunks_exact(4)
            .map(|c| {
                char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        _ => String::from_utf8_lossy(body).into_owned(),
    }
}

fn short_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x04] => "SN",
        [0x55, 0x04, 0x05] => "serialNumber",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "street",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x0c] => "title",
        [0x55, 0x04, 0x2a] => "GN",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        _ => return None,
    })
}

fn dotted_oid(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for &b in oid {
        value = value.saturating_mul(128) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_rejects_lengths_past_the_end() {
        assert_eq!(read(&[0x30, 0x05, 0x01]), None);
        assert_eq!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(read(&[0x30]), None);
        assert_eq!(
            read(&[0x30, 0x81, 0x01, 0xff]),
            Some((0x30, &[0xff][..], &[][..]))
        );
    }

    #[test]
    fn garbage_is_no_certificate() {
        for input in [
            &b""[..],
            b"\x30\x00",
            b"\x30\x03\x30\x01\x00",
            b"hello world",
        ] {
            assert_eq!(subject(input), None);
            assert!(dns_names(input).is_empty());
        }
    }

    #[test]
    fn dotted_oid_of_unknown_attribute() {
        assert_eq!(dotted_oid(&[0x55, 0x04, 0x61]), "2.5.4.97");
        assert_eq!(dotted_oid(&[0x2a, 0x86, 0x48]), "1.2.840");
    }
}
