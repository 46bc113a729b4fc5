//! Line settings a user asks for, checked before any register is touched.

use crate::regs::{Lcr, BASE_BAUD};

/// Parity bit of each character.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Parity {
    /// No parity bit.
    None,
    /// Parity bit makes the number of ones odd.
    Odd,
    /// Parity bit makes the number of ones even.
    Even,
}

/// Frame format and speed. [`Config::default`] is 115200 8N1.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Config {
    /// Bits per second; must divide [`BASE_BAUD`] (115200) exactly.
    pub baud: u32,
    /// Data bits per character, 5..=8.
    pub data_bits: u8,
    /// Parity bit.
    pub parity: Parity,
    /// Stop bits, 1 or 2.
    pub stop_bits: u8,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            baud: 115_200,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1,
        }
    }
}

/// What is wrong with a [`Config`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConfigError {
    /// A baud rate of zero.
    ZeroBaud,
    /// Faster than the UART's 115200 maximum.
    BaudTooHigh {
        /// The rate asked for.
        baud: u32,
    },
    /// 115200 is not a multiple of this rate, so no divisor gives it;
    /// `nearest` is the closest rate that does (ties go to the faster).
    BaudNotDivisor {
        /// The rate asked for.
        baud: u32,
        /// The closest rate that divides 115200.
        nearest: u32,
    },
    /// Needs a divisor above 65535 (rates below 2 baud).
    BaudTooLow {
        /// The rate asked for.
        baud: u32,
    },
    /// Data bits outside 5..=8.
    DataBits {
        /// The number asked for.
        data_bits: u8,
    },
    /// Stop bits other than 1 or 2.
    StopBits {
        /// The number asked for.
        stop_bits: u8,
    },
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::ZeroBaud => write!(f, "baud rate 0: use a rate that divides {BASE_BAUD}"),
            Self::BaudTooHigh { baud } => {
                write!(
                    f,
                    "baud rate {baud} is above the UART's maximum of {BASE_BAUD}"
                )
            }
            Self::BaudNotDivisor { baud, nearest } => write!(
                f,
                "baud rate {baud} does not divide {BASE_BAUD}; the nearest usable rate is {nearest}"
            ),
            Self::BaudTooLow { baud } => {
                write!(
                    f,
                    "baud rate {baud} needs a divisor above 65535; use 2 baud or more"
                )
            }
            Self::DataBits { data_bits } => {
                write!(f, "{data_bits} data bits: the UART sends 5, 6, 7 or 8")
            }
            Self::StopBits { stop_bits } => write!(f, "{stop_bits} stop bits: use 1 or 2"),
        }
    }
}

/// A checked [`Config`]: the register values that realise it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LineSettings {
    /// Baud divisor for DLL/DLM.
    pub divisor: u16,
    /// LCR value, DLAB clear.
    pub lcr: Lcr,
}

impl Config {
    /// Check every field and compute the register values.
    pub fn validate(&self) -> Result<LineSettings, ConfigError> {
        let divisor = divisor_for(self.baud)?;
        let Some(word) = Lcr::word_length(self.data_bits) else {
            return Err(ConfigError::DataBits {
                data_bits: self.data_bits,
            });
        };
        let stop = match self.stop_bits {
            1 => 0,
            2 => Lcr::TWO_STOP_BITS,
            stop_bits => return Err(ConfigError::StopBits { stop_bits }),
        };
        let parity = match self.parity {
            Parity::None => 0,
            Parity::Odd => Lcr::PARITY_ENABLE,
            Parity::Even => Lcr::PARITY_ENABLE | Lcr::EVEN_PARITY,
        };
        Ok(LineSettings {
            divisor,
            lcr: Lcr(word | stop | parity),
        })
    }
}

fn divisor_for(baud: u32) -> Result<u16, ConfigError> {
    if baud == 0 {
        return Err(ConfigError::ZeroBaud);
    }
    if baud > BASE_BAUD {
        return Err(ConfigError::BaudTooHigh { baud });
    }
    if !BASE_BAUD.is_multiple_of(baud) {
        // The closest rate this check accepts: one that divides 115200
        // (the rates of the divisors either side of the quotient need not).
        let nearest = (1..=BASE_BAUD)
            .filter(|r| BASE_BAUD.is_multiple_of(*r))
            .min_by_key(|r| (r.abs_diff(baud), u32::MAX - r))
            .unwrap_or(BASE_BAUD);
        return Err(ConfigError::BaudNotDivisor { baud, nearest });
    }
    u16::try_from(BASE_BAUD / baud).map_err(|_| ConfigError::BaudTooLow { baud })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_baud(baud: u32) -> Config {
        Config {
            baud,
            ..Config::default()
        }
    }

    #[test]
    fn common_rates() {
        assert_eq!(with_baud(115_200).validate().unwrap().divisor, 1);
        assert_eq!(with_baud(9600).validate().unwrap().divisor, 12);
        assert_eq!(with_baud(2).validate().unwrap().divisor, 57_600);
    }

    #[test]
    fn default_is_8n1() {
        assert_eq!(Config::default().validate().unwrap().lcr, Lcr(0x03));
    }

    #[test]
    fn frame_formats() {
        let cfg = Config {
            baud: 9600,
            data_bits: 7,
            parity: Parity::Even,
            stop_bits: 2,
        };
        assert_eq!(cfg.validate().unwrap().lcr, Lcr(0b0001_1110));
        let cfg = Config {
            parity: Parity::Odd,
            data_bits: 5,
            ..Config::default()
        };
        assert_eq!(cfg.validate().unwrap().lcr, Lcr(0b0000_1000));
    }

    #[test]
    fn rejected_rates() {
        assert_eq!(with_baud(0).validate(), Err(ConfigError::ZeroBaud));
        assert_eq!(
            with_baud(230_400).validate(),
            Err(ConfigError::BaudTooHigh { baud: 230_400 })
        );
        assert_eq!(
            with_baud(100_000).validate(),
            Err(ConfigError::BaudNotDivisor {
                baud: 100_000,
                nearest: 115_200
            })
        );
        assert_eq!(
            with_baud(10_000).validate(),
            Err(ConfigError::BaudNotDivisor {
                baud: 10_000,
                nearest: 9600
            })
        );
        // The suggestion itself divides 115200 (115200 / 115 would not).
        assert_eq!(
            with_baud(1000).validate(),
            Err(ConfigError::BaudNotDivisor {
                baud: 1000,
                nearest: 960
            })
        );
        assert_eq!(
            with_baud(1).validate(),
            Err(ConfigError::BaudTooLow { baud: 1 })
        );
    }

    #[test]
    fn rejected_frames() {
        let cfg = Config {
            data_bits: 9,
            ..Config::default()
        };
        assert_eq!(cfg.validate(), Err(ConfigError::DataBits { data_bits: 9 }));
        let cfg = Config {
            stop_bits: 0,
            ..Config::default()
        };
        assert_eq!(cfg.validate(), Err(ConfigError::StopBits { stop_bits: 0 }));
    }

    #[test]
    fn messages_say_what_to_do() {
        let msg = std::format!(
            "{}",
            ConfigError::BaudNotDivisor {
                baud: 100_000,
                nearest: 115_200
            }
        );
        assert!(msg.contains("nearest usable rate is 115200"), "{msg}");
    }
}
