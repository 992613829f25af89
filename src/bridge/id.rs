//! The message ids of the outbound bridge: what JetStream's deduplication knows a message
//! by (`Nats-Msg-Id`).

use core::fmt;
use core::str::FromStr;

/// The id under which the outbound bridge publishes a ring's message: the ring's
/// incarnation and the message's position in it (see the read grants' `position`), as
/// `IIIIIIIIIIIIIIII-PPPPPPPPPPPPPPPP` (16 hex digits each).
///
/// The position alone names a message of one ring for as long as the ring lives: a message
/// delivered again (after a bridge died before the acknowledgement) has the same one. A
/// ring removed and created again starts its positions again, and the incarnation, drawn
/// at random at each creation, keeps the new messages from passing for the old ones.
///
/// ```
/// use ipcring::bridge::MessageId;
/// let id = MessageId { incarnation: 0x1234, position: 64 };
/// assert_eq!(id.to_string(), "0000000000001234-0000000000000040");
/// assert_eq!(id.to_string().parse::<MessageId>(), Ok(id));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageId {
    /// The ring's incarnation.
    pub incarnation: u64,
    /// The message's position in the ring.
    pub position: u64,
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}-{:016x}", self.incarnation, self.position)
    }
}

/// A string that is not a [`MessageId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ipcring message id (16 hex digits, '-', 16 hex digits)")]
pub struct BadMessageId;

impl FromStr for MessageId {
    type Err = BadMessageId;

    fn from_str(s: &str) -> Result<MessageId, BadMessageId> {
        let word = |w: &str| {
            let hex = w.len() == 16 && w.bytes().all(|b| b.is_ascii_hexdigit());
            hex.then(|| u64::from_str_radix(w, 16).ok()).flatten()
        };
        let (i, p) = s.split_once('-').ok_or(BadMessageId)?;
        Ok(MessageId {
            incarnation: word(i).ok_or(BadMessageId)?,
            position: word(p).ok_or(BadMessageId)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::MessageId;

    #[test]
    fn ids_of_two_incarnations_differ_at_the_same_position() {
        let a = MessageId {
            incarnation: 1,
            position: 0,
        };
        let b = MessageId {
            incarnation: 2,
            ..a
        };
        assert_ne!(a.to_string(), b.to_string());
    }

    #[test]
    fn ids_at_the_edges_of_the_position_space_read_back() {
        for position in [0, 1, u64::MAX - 1, u64::MAX] {
            let id = MessageId {
                incarnation: u64::MAX,
                position,
            };
            let text = id.to_string();
            assert_eq!(text.len(), 33);
            assert_eq!(text.parse(), Ok(id));
        }
    }

    #[test]
    fn other_strings_are_no_ids() {
        for s in [
            "",
            "-",
            "12-34",
            "000000000000000g-0000000000000000",
            "+000000000000001-0000000000000000",
        ] {
            assert!(s.parse::<MessageId>().is_err(), "{s}");
        }
    }
}
