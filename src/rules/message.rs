//! HTTP/1.1 message heads as the data plane parses them and the rules read
//! and edit them.
//!
//! A head keeps its bytes in buffers that are cleared, not freed, between
//! requests of a connection, so a steady keep-alive connection parses and
//! edits heads without allocating.

/// A list of header fields in one byte buffer, each stored as it goes on
/// the wire (`name: value\r\n`), so that writing an unedited block is one
/// copy. Names are stored lowercased; lookups ignore case. Removing or replacing a field leaves its old bytes in the
/// buffer until the block is cleared.
#[derive(Debug, Clone, Default)]
pub struct HeaderBlock {
    buf: Vec<u8>,
    fields: Vec<Field>,
}

/// One field: `buf[start..name_end]` is the name, the value runs from
/// `name_end + 2` (after `": "`) to `value_end`, and `\r\n` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field {
    start: u32,
    name_end: u32,
    value_end: u32,
}

impl Field {
    /// Where the field's line ends, after its `\r\n`.
    fn line_end(self) -> usize {
        self.value_end as usize + 2
    }
}

impl PartialEq for HeaderBlock {
    /// Equal when the fields are, whatever dead bytes the buffers hold.
    fn eq(&self, other: &HeaderBlock) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for HeaderBlock {}

impl HeaderBlock {
    pub fn new() -> HeaderBlock {
        HeaderBlock::default()
    }

    /// Empties the block, keeping its capacity.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.fields.clear();
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Appends `name: value\r\n` to the buffer; returns where the name starts.
    fn append_line(&mut self, name: &[u8], value: &[u8]) -> Field {
        let start = self.buf.len();
        self.buf.reserve(name.len() + value.len() + 4);
        self.buf.extend_from_slice(name);
        let name_end = self.buf.len();
        self.buf.extend_from_slice(b": ");
        self.buf.extend_from_slice(value);
        let value_end = self.buf.len();
        self.buf.extend_from_slice(b"\r\n");
        Field {
            start: start as u32,
            name_end: name_end as u32,
            value_end: value_end as u32,
        }
    }

    /// Appends a field at the end, its name lowercased (as HAProxy stores
    /// and forwards every header name, those added by rules too).
    pub fn push(&mut self, name: &[u8], value: &[u8]) {
        self.push_lowercase(name, value);
    }

    /// Appends a field with its name lowercased in place; returns that name.
    pub fn push_lowercase(&mut self, name: &[u8], value: &[u8]) -> &[u8] {
        let field = self.append_line(name, value);
        self.fields.push(field);
        let name = &mut self.buf[field.start as usize..field.name_end as usize];
        lowercase_ascii(name);
        name
    }

    /// Appends fields already in wire form: `lines` holds `name: value\r\n`
    /// lines, and `fields` gives each one's (start, name end, value end)
    /// within it. Names are lowercased in place. A range that does not fit
    /// that shape is skipped.
    pub fn append_wire(
        &mut self,
        lines: &[u8],
        fields: impl Iterator<Item = (usize, usize, usize)>,
    ) {
        let base = self.buf.len();
        self.buf.extend_from_slice(lines);
        for (start, name_end, value_end) in fields {
            let fits = start <= name_end
                && name_end + 2 <= value_end
                && lines.get(value_end..value_end + 2) == Some(b"\r\n");
            if !fits {
                continue;
            }
            lowercase_ascii(&mut self.buf[base + start..base + name_end]);
            self.fields.push(Field {
                start: (base + start) as u32,
                name_end: (base + name_end) as u32,
                value_end: (base + value_end) as u32,
            });
        }
    }

    /// The bytes of every name and value, without separators or line ends.
    pub fn content_len(&self) -> usize {
        self.fields
            .iter()
            .map(|f| (f.value_end - f.start) as usize - 2)
            .sum()
    }

    /// The field at `index` as (name, value).
    pub fn field(&self, index: usize) -> Option<(&[u8], &[u8])> {
        let f = self.fields.get(index)?;
        Some(self.split(*f))
    }

    /// Every field in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.fields.iter().map(|f| self.split(*f))
    }

    /// The values of every field named `name` (case-insensitive), in order.
    pub fn values<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The first value of the field named `name`.
    pub fn first(&self, name: &[u8]) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    pub fn contains(&self, name: &[u8]) -> bool {
        self.first(name).is_some()
    }

    /// Removes every field named `name`; returns how many were removed.
    pub fn remove(&mut self, name: &[u8]) -> usize {
        let before = self.fields.len();
        self.retain(|n, _| !n.eq_ignore_ascii_case(name));
        before - self.fields.len()
    }

    /// Keeps only the fields for which `keep(name, value)` holds, in order:
    /// one pass, however many names are tested.
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8], &[u8]) -> bool) {
        let buf = &self.buf;
        self.fields.retain(|f| {
            keep(
                &buf[f.start as usize..f.name_end as usize],
                &buf[f.name_end as usize + 2..f.value_end as usize],
            )
        });
    }

    /// Removes the field at `index`.
    pub fn remove_at(&mut self, index: usize) {
        if index < self.fields.len() {
            self.fields.remove(index);
        }
    }

    /// Replaces every field named `name` by one field with `value`.
    pub fn set(&mut self, name: &[u8], value: &[u8]) {
        self.remove(name);
        self.push(name, value);
    }

    /// Replaces the value of the field at `index`, keeping its place.
    pub fn set_value_at(&mut self, index: usize, value: &[u8]) {
        let Some(old) = self.fields.get(index).copied() else {
            return;
        };
        let start = self.buf.len();
        self.buf
            .extend_from_within(old.start as usize..old.name_end as usize);
        let name_end = self.buf.len();
        self.buf.extend_from_slice(b": ");
        self.buf.extend_from_slice(value);
        let value_end = self.buf.len();
        self.buf.extend_from_slice(b"\r\n");
        self.fields[index] = Field {
            start: start as u32,
            name_end: name_end as u32,
            value_end: value_end as u32,
        };
    }

    /// Writes every field as `name: value\r\n`: one copy per run of fields
    /// that still lie side by side in the buffer (one in all, unedited).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut run: Option<(usize, usize)> = None;
        for f in &self.fields {
            let (start, end) = (f.start as usize, f.line_end());
            run = match run {
                Some((from, to)) if to == start => Some((from, end)),
                Some((from, to)) => {
                    out.extend_from_slice(&self.buf[from..to]);
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        if let Some((from, to)) = run {
            out.extend_from_slice(&self.buf[from..to]);
        }
    }

    fn split(&self, f: Field) -> (&[u8], &[u8]) {
        (
            &self.buf[f.start as usize..f.name_end as usize],
            &self.buf[f.name_end as usize + 2..f.value_end as usize],
        )
    }
}

/// Lowercases ASCII letters in place, eight bytes at a time: every header
/// name of every message goes through here.
fn lowercase_ascii(bytes: &mut [u8]) {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut words = bytes.chunks_exact_mut(8);
    for word in &mut words {
        let Ok(array) = <[u8; 8]>::try_from(&*word) else {
            continue;
        };
        let w = u64::from_le_bytes(array);
        let low = w & LOW7;
        // Per byte, the high bit of `from_a` says >= 'A' and that of
        // `past_z` says > 'Z'; bytes >= 0x80 are left alone.
        let from_a = low.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
        let past_z = low.wrapping_add(0x2525_2525_2525_2525);
        let upper = from_a & !past_z & !w & HIGH;
        word.copy_from_slice(&(w | (upper >> 2)).to_le_bytes());
    }
    for b in words.into_remainder() {
        b.make_ascii_lowercase();
    }
}

/// HTTP version of a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Version {
    Http10,
    #[default]
    Http11,
}

impl Version {
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Version::Http10 => b"HTTP/1.0",
            Version::Http11 => b"HTTP/1.1",
        }
    }
}

/// A request head: request line and header fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    line: Vec<u8>,
    method_end: u32,
    pub version: Version,
    pub headers: HeaderBlock,
}

impl RequestHead {
    pub fn new() -> RequestHead {
        RequestHead::default()
    }

    /// Empties the head, keeping its capacity.
    pub fn clear(&mut self) {
        self.line.clear();
        self.method_end = 0;
        self.version = Version::Http11;
        self.headers.clear();
    }

    /// Sets the method and the request target (URI as received).
    pub fn set_line(&mut self, method: &[u8], uri: &[u8], version: Version) {
        self.line.clear();
        self.line.extend_from_slice(method);
        self.method_end = self.line.len() as u32;
        self.line.extend_from_slice(uri);
        self.version = version;
    }

    pub fn method(&self) -> &[u8] {
        &self.line[..self.method_end as usize]
    }

    /// The request target as received (origin form `/p?q`, or absolute form).
    pub fn uri(&self) -> &[u8] {
        &self.line[self.method_end as usize..]
    }

    /// The path of the URI: from the first `/` after any scheme and
    /// authority, up to `?`.
    pub fn path(&self) -> &[u8] {
        let uri = self.uri();
        let without_authority = strip_scheme_authority(uri);
        let end = without_authority
            .iter()
            .position(|&b| b == b'?')
            .unwrap_or(without_authority.len());
        &without_authority[..end]
    }

    /// The query string after `?`, without it; `None` when there is no `?`.
    pub fn query(&self) -> Option<&[u8]> {
        let uri = self.uri();
        let q = uri.iter().position(|&b| b == b'?')?;
        Some(&uri[q + 1..])
    }

    /// Replaces the URI.
    pub fn set_uri(&mut self, uri: &[u8]) {
        self.line.truncate(self.method_end as usize);
        self.line.extend_from_slice(uri);
    }

    /// Replaces the path, keeping any scheme, authority and query.
    pub fn set_path(&mut self, path: &[u8]) {
        let uri = self.uri();
        let prefix_len = uri.len() - strip_scheme_authority(uri).len();
        let rest = &uri[prefix_len..];
        let query_at = rest.iter().position(|&b| b == b'?').unwrap_or(rest.len());
        let mut new_uri = Vec::with_capacity(uri.len() + path.len());
        new_uri.extend_from_slice(&uri[..prefix_len]);
        new_uri.extend_from_slice(path);
        new_uri.extend_from_slice(&rest[query_at..]);
        self.set_uri(&new_uri);
    }

    /// Writes the request line and headers, ending with the blank line.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.method());
        out.push(b' ');
        out.extend_from_slice(self.uri());
        out.push(b' ');
        out.extend_from_slice(self.version.as_bytes());
        out.extend_from_slice(b"\r\n");
        self.headers.write_to(out);
        out.extend_from_slice(b"\r\n");
    }
}

/// A response head: status line and header fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHead {
    pub version: Version,
    pub status: u16,
    reason: Vec<u8>,
    pub headers: HeaderBlock,
}

impl ResponseHead {
    pub fn new() -> ResponseHead {
        ResponseHead::default()
    }

    pub fn clear(&mut self) {
        self.version = Version::Http11;
        self.status = 0;
        self.reason.clear();
        self.headers.clear();
    }

    pub fn set_status(&mut self, version: Version, status: u16, reason: &[u8]) {
        self.version = version;
        self.status = status;
        self.reason.clear();
        self.reason.extend_from_slice(reason);
    }

    pub fn reason(&self) -> &[u8] {
        &self.reason
    }

    /// Writes the status line and headers, ending with the blank line.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.version.as_bytes());
        out.push(b' ');
        let mut code = [b'0'; 3];
        let mut s = self.status.min(999);
        for digit in code.iter_mut().rev() {
            *digit = b'0' + (s % 10) as u8;
            s /= 10;
        }
        out.extend_from_slice(&code);
        out.push(b' ');
        out.extend_from_slice(&self.reason);
        out.extend_from_slice(b"\r\n");
        self.headers.write_to(out);
        out.extend_from_slice(b"\r\n");
    }
}

/// The part of a URI from its path on: `http://h:1/p?q` → `/p?q`.
fn strip_scheme_authority(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') {
        return uri;
    }
    let Some(scheme_end) = uri.windows(3).position(|w| w == b"://") else {
        return uri;
    };
    let after = &uri[scheme_end + 3..];
    match after.iter().position(|&b| b == b'/' || b == b'?') {
        Some(p) => &after[p..],
        None => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_ignores_case_and_keeps_order() {
        let mut h = HeaderBlock::new();
        h.push(b"Host", b"a");
        h.push(b"X-A", b"1");
        h.push(b"x-a", b"2");
        assert_eq!(h.first(b"host"), Some(&b"a"[..]));
        assert_eq!(h.values(b"X-a").collect::<Vec<_>>(), vec![b"1", b"2"]);
        assert_eq!(h.remove(b"X-A"), 2);
        assert_eq!(h.len(), 1);
        h.set(b"host", b"b");
        assert_eq!(h.first(b"Host"), Some(&b"b"[..]));
    }

    #[test]
    fn set_value_at_keeps_position() {
        let mut h = HeaderBlock::new();
        h.push(b"A", b"1");
        h.push(b"B", b"2");
        h.set_value_at(0, b"one");
        assert_eq!(h.field(0), Some((&b"a"[..], &b"one"[..])));
        assert_eq!(h.field(1), Some((&b"b"[..], &b"2"[..])));
    }

    #[test]
    fn edited_blocks_write_only_their_live_fields_in_order() {
        let mut h = HeaderBlock::new();
        let wire = |h: &HeaderBlock| {
            let mut out = Vec::new();
            h.write_to(&mut out);
            String::from_utf8(out).unwrap_or_default()
        };
        assert_eq!(wire(&h), "");
        h.push_lowercase(b"Host", b"a");
        h.push(b"x-one", b"1");
        h.push(b"x-two", b"2");
        h.push(b"x-three", b"3");
        assert_eq!(
            wire(&h),
            "host: a\r\nx-one: 1\r\nx-two: 2\r\nx-three: 3\r\n"
        );
        h.remove(b"X-Two");
        assert_eq!(wire(&h), "host: a\r\nx-one: 1\r\nx-three: 3\r\n");
        h.set_value_at(1, b"one");
        h.push(b"x-four", b"4");
        assert_eq!(
            wire(&h),
            "host: a\r\nx-one: one\r\nx-three: 3\r\nx-four: 4\r\n"
        );
        h.remove_at(0);
        h.set(b"x-three", b"three");
        assert_eq!(wire(&h), "x-one: one\r\nx-four: 4\r\nx-three: three\r\n");
        let mut same = HeaderBlock::new();
        same.push(b"x-one", b"one");
        same.push(b"x-four", b"4");
        same.push(b"x-three", b"three");
        assert_eq!(h, same, "dead bytes do not count");
    }

    #[test]
    fn lowercases_like_the_standard_library_for_every_byte() {
        let all: Vec<u8> = (0..=255u8)
            .chain(b"Content-Type X-FORWARDED-FOR".iter().copied())
            .collect();
        for len in [0, 1, 7, 8, 9, 16, 31, all.len()] {
            for start in [0, 3, 64, 0x3d, 0x58, 0xc0] {
                let Some(slice) = all.get(start..(start + len).min(all.len())) else {
                    continue;
                };
                let mut ours = slice.to_vec();
                lowercase_ascii(&mut ours);
                assert_eq!(ours, slice.to_ascii_lowercase(), "{start} {len}");
            }
        }
    }

    #[test]
    fn request_path_and_query() {
        let mut r = RequestHead::new();
        r.set_line(b"GET", b"/a/b?x=1&y=2", Version::Http11);
        assert_eq!(r.path(), b"/a/b");
        assert_eq!(r.query(), Some(&b"x=1&y=2"[..]));
        r.set_line(b"GET", b"http://example.com:8080/p?q", Version::Http11);
        assert_eq!(r.path(), b"/p");
        r.set_path(b"/new");
        assert_eq!(r.uri(), b"http://example.com:8080/new?q");
    }

    #[test]
    fn heads_serialize_as_http11() {
        let mut r = RequestHead::new();
        r.set_line(b"GET", b"/", Version::Http11);
        r.headers.push(b"Host", b"x");
        let mut out = Vec::new();
        r.write_to(&mut out);
        assert_eq!(out, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n");
        let mut s = ResponseHead::new();
        s.set_status(Version::Http10, 503, b"Service Unavailable");
        out.clear();
        s.write_to(&mut out);
        assert_eq!(out, b"HTTP/1.0 503 Service Unavailable\r\n\r\n");
    }
}
