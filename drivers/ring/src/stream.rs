//! Byte streams over a buffer channel, for serial-style devices: the writer
//! packs bytes into buffers, the reader unpacks them. Batching is the
//! caller's: write as much as is at hand, then [`flush`](ByteWriter::flush)
//! once and signal if told to.

use crate::channel::{Receiver, Sender};
use crate::error::PeerError;
use crate::queue::{Idle, Notify};
use crate::region::Buf;

/// Writes bytes into a [`Sender`]'s buffers.
pub struct ByteWriter<'a> {
    tx: Sender<'a>,
    /// The buffer being filled.
    cur: Option<Buf>,
}

impl<'a> ByteWriter<'a> {
    /// A writer over `tx`.
    pub fn new(tx: Sender<'a>) -> Self {
        Self { tx, cur: None }
    }

    /// Copies as much of `src` as there are buffers for; full buffers are
    /// sent (visible at the next [`flush`](Self::flush)). Returns the bytes
    /// taken; fewer than `src.len()` means out of buffers: flush, then
    /// [`request_signal`](Self::request_signal) and wait.
    pub fn write(&mut self, src: &[u8]) -> Result<usize, PeerError> {
        let mut done = 0;
        while done < src.len() {
            let buf = match &mut self.cur {
                Some(buf) => buf,
                None => match self.tx.alloc()? {
                    Some(buf) => self.cur.insert(buf),
                    None => break,
                },
            };
            done += self.tx.append(buf, &src[done..]);
            if buf.is_full() {
                if let Some(full) = self.cur.take() {
                    self.tx.send(full)?;
                }
            }
        }
        Ok(done)
    }

    /// Sends the partly filled buffer, if any, and publishes. Signal the
    /// reader on [`Notify::Yes`].
    pub fn flush(&mut self) -> Result<Notify, PeerError> {
        if let Some(buf) = self.cur.take_if(|b| !b.is_empty()) {
            self.tx.send(buf)?;
        }
        Ok(self.tx.publish())
    }

    /// Out of buffers: asks the reader to signal when it gives some back.
    pub fn request_signal(&mut self) -> Result<Idle, PeerError> {
        self.tx.request_signal()
    }
}

/// Reads bytes out of a [`Receiver`]'s buffers.
pub struct ByteReader<'a> {
    rx: Receiver<'a>,
    /// The buffer being read, and how far.
    cur: Option<(Buf, u32)>,
}

impl<'a> ByteReader<'a> {
    /// A reader over `rx`.
    pub fn new(rx: Receiver<'a>) -> Self {
        Self { rx, cur: None }
    }

    /// Copies available bytes into `dst`; buffers read to the end are given
    /// back (visible at the next [`publish`](Self::publish)). Returns the
    /// bytes copied; zero means nothing is available: publish, then
    /// [`request_signal`](Self::request_signal) and wait.
    pub fn read(&mut self, dst: &mut [u8]) -> Result<usize, PeerError> {
        let mut done = 0;
        while done < dst.len() {
            let (buf, pos) = match &mut self.cur {
                Some(cur) => cur,
                None => match self.rx.recv()? {
                    Some(buf) => self.cur.insert((buf, 0)),
                    None => break,
                },
            };
            let n = self.rx.read(buf, *pos, &mut dst[done..]);
            done += n;
            // `n` is at most the buffer length, a `u32`.
            *pos += n as u32;
            if *pos >= buf.len() {
                if let Some((buf, _)) = self.cur.take() {
                    self.rx.give_back(buf)?;
                }
            }
        }
        Ok(done)
    }

    /// Whether the writer holds no buffer: every one waits here, sent and
    /// unread (the one being read counts as waiting).
    pub fn is_full(&mut self) -> Result<bool, PeerError> {
        let held = u32::from(self.cur.is_some());
        Ok(self.rx.waiting()?.saturating_add(held) >= self.rx.buffers())
    }

    /// Gives back the buffers read and releases their slots. Signal the
    /// writer on [`Notify::Yes`].
    pub fn publish(&mut self) -> Notify {
        self.rx.publish()
    }

    /// Nothing to read: asks the writer to signal when it sends.
    pub fn request_signal(&mut self) -> Result<Idle, PeerError> {
        self.rx.request_signal()
    }
}
