//! HTTP basic authentication against a userlist (`http_auth(<userlist>)`),
//! and the base64 codec it and the `base64` converter need.

/// The users of a userlist, as `http_auth` checks them. Only plain
/// (`insecure-password`) passwords: the compiler rejects crypt hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTable {
    pub name: String,
    users: Vec<(String, String)>,
}

impl UserTable {
    pub fn new(name: impl Into<String>, users: Vec<(String, String)>) -> UserTable {
        UserTable {
            name: name.into(),
            users,
        }
    }

    /// Whether an `Authorization` header value holds valid basic credentials.
    pub fn check_header(&self, value: &[u8]) -> bool {
        let Some(encoded) = strip_basic(value) else {
            return false;
        };
        let mut buf = [0u8; 256];
        let Some(len) = base64_decode(encoded, &mut buf) else {
            return false;
        };
        let creds = &buf[..len];
        let Some(colon) = creds.iter().position(|&b| b == b':') else {
            return false;
        };
        let (user, pass) = (&creds[..colon], &creds[colon + 1..]);
        self.users
            .iter()
            .any(|(u, p)| u.as_bytes() == user && p.as_bytes() == pass)
    }
}

fn strip_basic(value: &[u8]) -> Option<&[u8]> {
    let value = value.trim_ascii();
    let (scheme, rest) = value.split_at_checked(6)?;
    scheme
        .eq_ignore_ascii_case(b"basic ")
        .then(|| rest.trim_ascii())
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the standard, padded base64 form of `input` to `out`.
pub fn base64_encode(input: &[u8], out: &mut Vec<u8>) {
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
}

fn sextet(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes padded base64 into `out`; `None` when invalid or too long.
pub fn base64_decode(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let trimmed = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    let mut acc = 0u32;
    let mut bits = 0;
    let mut len = 0;
    for &c in trimmed {
        acc = acc << 6 | sextet(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(len)? = (acc >> bits) as u8;
            len += 1;
        }
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for input in [&b""[..], b"a", b"ab", b"abc", b"user:pass"] {
            let mut enc = Vec::new();
            base64_encode(input, &mut enc);
            let mut dec = [0u8; 32];
            let len = base64_decode(&enc, &mut dec);
            assert_eq!(len.map(|l| &dec[..l]), Some(input));
        }
        let mut enc = Vec::new();
        base64_encode(b"user:pass", &mut enc);
        assert_eq!(enc, b"dXNlcjpwYXNz");
    }

    #[test]
    fn checks_basic_credentials() {
        let table = UserTable::new("L", vec![("user".into(), "pass".into())]);
        assert!(table.check_header(b"Basic dXNlcjpwYXNz"));
        assert!(table.check_header(b"basic  dXNlcjpwYXNz "));
        assert!(!table.check_header(b"Basic dXNlcjpwYXN6"));
        assert!(!table.check_header(b"Bearer dXNlcjpwYXNz"));
        assert!(!table.check_header(b"Basic !!"));
    }
}
