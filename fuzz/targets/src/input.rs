//! Reading fuzz input as a stream of small numbers: each read takes what
//! is left, zero-padded, so every input is a valid (if short) program.

pub(crate) struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// The next `n` bytes (fewer at the end).
    pub(crate) fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    pub(crate) fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn word<const N: usize>(&mut self) -> [u8; N] {
        let mut w = [0u8; N];
        let b = self.bytes(N);
        w[..b.len()].copy_from_slice(b);
        w
    }

    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.word())
    }

    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.word())
    }

    pub(crate) fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.word())
    }
}
