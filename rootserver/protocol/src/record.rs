//! The root task's record: a second console that only the root task can
//! write, so that its verdicts cannot be forged by a component.
//!
//! Every line the root task prints on the console goes to the record too
//! (except the boot dump's, which precede every component's start and
//! would only slow the boot), one byte per `out` to [`PORT`], where QEMU
//! places a debug console (`isa-debugcon`) whose output the host keeps
//! apart from COM1's. Validation refuses to give any component an IO port
//! range that covers [`PORT`], so the kernel's IO port confinement is what
//! keeps components out of the record: a component can print anything on
//! the shared console (a debug kernel's `seL4_DebugPutChar` is open to all),
//! but not here.
//!
//! A component can put a line in the record only through the root task:
//! a [witness report](WITNESS), sent on its fault endpoint cap, which the
//! kernel stamps with the sender's badge, so the root task names the
//! component that sent it and nobody can report for another.

/// The IO port of the record's debug console. Nothing on QEMU's pc and
/// q35 machines decodes it (SeaBIOS prints its own debug output on
/// 0x402, and components log on 0xE9 on release kernels).
pub const PORT: u16 = 0xEA;

/// The label of a witness report (its words: [`encode_witness`]). The
/// kernel's fault messages carry labels below 16 (`seL4_Fault_*`); the
/// root task checks this one is none of them.
pub const WITNESS: u64 = 0x717e;

/// Message words of a witness report's text.
pub const WITNESS_WORDS: usize = 3;

/// Bytes of text a witness report carries (longer text is cut).
pub const WITNESS_BYTES: usize = WITNESS_WORDS * 8;

/// Prefix of the line the root task prints for a witness report; the
/// component's name (in backquotes), a colon and the text follow.
pub const WITNESS_PREFIX: &str = "paddock: witness";

/// A witness report's message words: the text (cut to
/// [`WITNESS_BYTES`]) in words 0..3, its length in bytes in word 3.
pub fn encode_witness(text: &str) -> [u64; 4] {
    let bytes = text.as_bytes();
    let len = bytes.len().min(WITNESS_BYTES);
    let mut words = [0u64; 4];
    for (i, b) in bytes[..len].iter().enumerate() {
        words[i / 8] |= u64::from(*b) << (8 * (i % 8));
    }
    words[WITNESS_WORDS] = len as u64;
    words
}

/// The text of a witness report's message words, as bytes: at most
/// [`WITNESS_BYTES`], however long the sender claims it is.
pub fn decode_witness(words: &[u64; 4], out: &mut [u8; WITNESS_BYTES]) -> usize {
    let len = usize::try_from(words[WITNESS_WORDS])
        .unwrap_or(WITNESS_BYTES)
        .min(WITNESS_BYTES);
    for (i, b) in out.iter_mut().enumerate().take(len) {
        *b = (words[i / 8] >> (8 * (i % 8))) as u8;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_is_cut() {
        let mut out = [0; WITNESS_BYTES];
        let n = decode_witness(&encode_witness("canary intact"), &mut out);
        assert_eq!(&out[..n], b"canary intact");
        let long = "x".repeat(40);
        let n = decode_witness(&encode_witness(&long), &mut out);
        assert_eq!(n, WITNESS_BYTES);
        // A sender claiming more than fits gets what fits.
        let n = decode_witness(&[u64::MAX; 4], &mut out);
        assert_eq!(n, WITNESS_BYTES);
    }
}
