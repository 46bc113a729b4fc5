//! Deadlines of several clients, of which the earliest is programmed.

use crate::error::Error;

/// At most one deadline per client, for up to `N` clients (`N <= 64`, so
/// expired clients fit in a `u64` bitmask: bit `i` is client `i`).
///
/// Fixed capacity, no allocation; every operation is `O(N)`.
#[derive(Clone, Debug)]
pub struct DeadlineQueue<const N: usize> {
    deadlines: [Option<u64>; N],
}

impl<const N: usize> Default for DeadlineQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> DeadlineQueue<N> {
    const FITS_MASK: () = assert!(N <= 64, "a DeadlineQueue holds at most 64 clients");

    /// An empty queue.
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::FITS_MASK;
        Self {
            deadlines: [None; N],
        }
    }

    /// Number of clients the queue holds.
    pub const fn capacity(&self) -> usize {
        N
    }

    fn check(client: usize) -> Result<(), Error> {
        if client < N {
            Ok(())
        } else {
            Err(Error::NoSuchClient {
                client,
                capacity: N,
            })
        }
    }

    /// Set `client`'s deadline, replacing its previous one. `u64::MAX`
    /// ("never") and unknown clients are refused.
    pub fn set(&mut self, client: usize, deadline_ns: u64) -> Result<(), Error> {
        Self::check(client)?;
        if deadline_ns == u64::MAX {
            return Err(Error::InvalidDeadline { ns: deadline_ns });
        }
        self.deadlines[client] = Some(deadline_ns);
        Ok(())
    }

    /// Remove `client`'s deadline, returning it.
    pub fn cancel(&mut self, client: usize) -> Result<Option<u64>, Error> {
        Self::check(client)?;
        Ok(self.deadlines[client].take())
    }

    /// `client`'s deadline.
    pub fn get(&self, client: usize) -> Result<Option<u64>, Error> {
        Self::check(client)?;
        Ok(self.deadlines[client])
    }

    /// The earliest deadline of any client: the one to program.
    pub fn earliest(&self) -> Option<u64> {
        self.deadlines.iter().flatten().copied().min()
    }

    /// Remove every deadline at or before `now_ns`; bit `i` of the result
    /// is set if client `i`'s deadline was among them.
    pub fn expire(&mut self, now_ns: u64) -> u64 {
        let mut mask = 0;
        for (i, slot) in self.deadlines.iter_mut().enumerate() {
            if slot.is_some_and(|d| d <= now_ns) {
                *slot = None;
                mask |= 1 << i;
            }
        }
        mask
    }
}
