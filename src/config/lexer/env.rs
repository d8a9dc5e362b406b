//! `$NAME`, `${NAME}`, `${NAME-default}` and `${NAME[*]}` inside double
//! quotes.

use super::{Diagnostic, Lexer, is_blank};

impl Lexer<'_> {
    /// Expands the variable whose `$` is at `self.at`.
    pub(super) fn variable(&mut self) -> Result<(), Diagnostic> {
        self.current();
        let mut j = self.at + 1;
        let brace = (self.bytes.get(j) == Some(&b'{')).then_some(j);
        if brace.is_some() {
            j += 1;
        }
        let name_start = j;
        match self.bytes.get(j) {
            Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {}
            _ => {
                return Err(self.fail(
                    j,
                    j + 1,
                    "forbidden first char in environment variable name",
                ));
            }
        }
        while self
            .bytes
            .get(j)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            j += 1;
        }
        // The name is ASCII, so this slice is on character boundaries.
        let name = String::from_utf8_lossy(&self.bytes[name_start..j]).into_owned();
        let mut value = (self.env)(&name).map(String::into_bytes);
        let mut split = false;
        if let Some(open) = brace {
            split = self.bytes.get(j) == Some(&b'[');
            if split {
                j = self.word_expansion(j)?;
            }
            j = self.close_brace(open, j, &mut value)?;
        }
        self.at = j;
        self.emit_value(value.unwrap_or_default(), split);
        Ok(())
    }

    /// Checks the `[*]` at `j` and returns the offset after it.
    fn word_expansion(&self, j: usize) -> Result<usize, Diagnostic> {
        if self.bytes.get(j + 1..j + 3) == Some(b"*]".as_slice()) {
            Ok(j + 3)
        } else {
            Err(self.fail(j, j + 1, "truncated or invalid word expansion sequence"))
        }
    }

    /// Reads an optional `-default` then the `}` at or after `j`; returns the
    /// offset after the brace. The default is taken raw (no escapes) and only
    /// replaces an unset variable, not an empty one.
    fn close_brace(
        &self,
        open: usize,
        mut j: usize,
        value: &mut Option<Vec<u8>>,
    ) -> Result<usize, Diagnostic> {
        let unmatched = || {
            self.fail(
                open,
                open + 1,
                "unmatched brace in environment variable name",
            )
        };
        if self.bytes.get(j) == Some(&b'-') {
            let rest = self.bytes.get(j + 1..).unwrap_or_default();
            let len = rest.iter().position(|&b| b == b'}').ok_or_else(unmatched)?;
            if value.is_none() {
                *value = Some(rest[..len].to_vec());
            }
            j += 1 + len;
        }
        if self.bytes.get(j) != Some(&b'}') {
            return Err(unmatched());
        }
        Ok(j + 1)
    }

    /// Appends an expanded value to the current word; with `split`, each run
    /// of blanks in it starts a new word (as HAProxy does, even a leading one).
    fn emit_value(&mut self, value: Vec<u8>, split: bool) {
        let mut bytes = value.into_iter().peekable();
        while let Some(b) = bytes.next() {
            if split && is_blank(b) {
                while bytes.next_if(|&b| is_blank(b)).is_some() {}
                self.current().push(Vec::new());
            } else if let Some(part) = self.current().last_mut() {
                part.push(b);
            }
        }
    }
}
