//! A fixed-capacity read buffer of one connection side. Bytes are read in at
//! the end and consumed from the front; the buffer compacts itself when the
//! free room at the end runs out. Its memory is taken from a per-worker free
//! list and given back when the connection ends, so a new connection neither
//! allocates nor zeroes its buffers.

use std::cell::RefCell;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Spare buffers kept per worker thread (each size class separately).
const MAX_SPARE: usize = 256;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

#[derive(Debug)]
pub struct Buf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buf {
    pub fn new(capacity: usize) -> Buf {
        let capacity = capacity.max(256);
        let recycled = SPARE.with(|s| {
            let mut s = s.borrow_mut();
            let at = s.iter().rposition(|v| v.len() == capacity)?;
            Some(s.swap_remove(at))
        });
        Buf {
            data: recycled.unwrap_or_else(|| vec![0; capacity]),
            start: 0,
            end: 0,
        }
    }

    /// The bytes read and not yet consumed.
    pub fn filled(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether no more bytes fit even after compaction.
    pub fn is_full(&self) -> bool {
        self.len() == self.data.len()
    }

    pub fn capacity(&self) -> usize {
        self.data.len()
    }

    /// Appends bytes already read elsewhere, as much as fits.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.end + bytes.len() > self.data.len() && self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = bytes.len().min(self.data.len() - self.end);
        self.data[self.end..self.end + n].copy_from_slice(&bytes[..n]);
        self.end += n;
    }

    /// The whole storage as scratch space, for users that do their own
    /// bookkeeping (tunnels copying bytes straight through).
    pub fn storage(&mut self) -> &mut [u8] {
        self.clear();
        &mut self.data
    }

    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Reads once into the free room; returns the bytes read (0 at EOF, or
    /// when the buffer is full).
    pub async fn fill<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> std::io::Result<usize> {
        if self.end == self.data.len() && self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.data.len() {
            return Ok(0);
        }
        let n = r.read(&mut self.data[self.end..]).await?;
        self.end += n;
        Ok(n)
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        let data = std::mem::take(&mut self.data);
        SPARE.with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < MAX_SPARE {
                s.push(data);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn compacts_when_the_end_is_reached() {
        let mut b = Buf::new(256);
        let mut src: &[u8] = &[7u8; 300];
        assert_eq!(b.fill(&mut src).await.ok(), Some(256));
        assert!(b.is_full());
        assert_eq!(b.fill(&mut src).await.ok(), Some(0));
        b.consume(100);
        assert_eq!(b.fill(&mut src).await.ok(), Some(44));
        assert_eq!(b.len(), 200);
        b.consume(500);
        assert!(b.is_empty());
    }

    #[test]
    fn buffers_are_recycled_per_thread() {
        let b = Buf::new(1000);
        let ptr = b.data.as_ptr();
        drop(b);
        let again = Buf::new(1000);
        assert_eq!(again.data.as_ptr(), ptr);
        assert_eq!(again.capacity(), 1000);
        let other = Buf::new(2000);
        assert_eq!(other.capacity(), 2000);
    }
}
