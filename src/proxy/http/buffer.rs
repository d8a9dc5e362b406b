//! A fixed-capacity read buffer of one connection side. Bytes are read in at
//! the end and consumed from the front; the buffer compacts itself when the
//! free room at the end runs out. It is allocated once per connection.

use tokio::io::{AsyncRead, AsyncReadExt};

#[derive(Debug)]
pub struct Buf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buf {
    pub fn new(capacity: usize) -> Buf {
        Buf {
            data: vec![0; capacity.max(256)],
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
}
