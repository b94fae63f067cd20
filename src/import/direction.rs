//! Direction words: arrows, `受信/送信`, `受信`, `送信`, `双方向`, `one-way`, `both`.

use super::cells::fold_width;

/// What a direction cell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From → to, as the columns say.
    Forward,
    /// To → from (`←`).
    Reverse,
    /// Both sides initiate.
    Both,
    /// The table's subject receives (`受信`, `inbound`).
    In,
    /// The table's subject sends (`送信`, `outbound`).
    Out,
    /// The subject receives and sends (`受信/送信`).
    InOut,
}

impl Direction {
    /// Whether the word is relative to the table's subject.
    pub fn relative(self) -> bool {
        matches!(self, Direction::In | Direction::Out | Direction::InOut)
    }
}

/// Read a direction cell; `None` when it is not a direction.
pub fn parse(text: &str) -> Option<Direction> {
    let s: String = fold_width(text)
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let s = s.trim_end_matches(['。', '.']);
    Some(match s {
        "→" | "->" | "=>" | "⇒" | "one-way" | "oneway" | "片方向" | "forward" | "out→in" => {
            Direction::Forward
        }
        "←" | "<-" | "<=" | "⇐" | "reverse" => Direction::Reverse,
        "<->" | "↔" | "⇔" | "<=>" | "双方向" | "both" | "bidirectional" | "two-way"
        | "both-ways" | "bothways" | "in/out-both" => Direction::Both,
        "受信/送信"
        | "送信/受信"
        | "送受信"
        | "受/送信"
        | "送/受信"
        | "in/out"
        | "out/in"
        | "inbound/outbound"
        | "inbound/outbound-both" => Direction::InOut,
        "受信" | "着信" | "in" | "inbound" | "incoming" | "ingress" => Direction::In,
        "送信" | "発信" | "out" | "outbound" | "outgoing" | "egress" => Direction::Out,
        _ => return None,
    })
}

/// Direction words safe to recognise at the start of a flattened line (no English `in`/`out`,
/// which also start sentences).
pub fn parse_strict(token: &str) -> Option<Direction> {
    let t = fold_width(token).to_lowercase();
    if matches!(t.as_str(), "in" | "out" | "both" | "forward" | "reverse") {
        return None;
    }
    parse(token)
}

/// A note that gives a direction per protocol (`TCP は双方向`, `UDP: inbound only`).
pub fn per_protocol_in_note(note: &str) -> bool {
    let s = fold_width(note).to_lowercase();
    for proto in ["tcp", "udp"] {
        let mut from = 0;
        while let Some(i) = s[from..].find(proto) {
            let at = from + i + proto.len();
            let window: String = s[at..].chars().take(12).collect();
            if [
                "双方向",
                "受信",
                "送信",
                "inbound",
                "outbound",
                "both",
                "one-way",
                "→",
                "←",
                "->",
                "<-",
            ]
            .iter()
            .any(|w| window.contains(w))
            {
                return true;
            }
            from = at;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_direction_words() {
        assert_eq!(parse("→"), Some(Direction::Forward));
        assert_eq!(parse(" <- "), Some(Direction::Reverse));
        assert_eq!(parse("<->"), Some(Direction::Both));
        assert_eq!(parse("->"), Some(Direction::Forward));
        assert_eq!(parse("受信/送信"), Some(Direction::InOut));
        assert_eq!(parse("受信"), Some(Direction::In));
        assert_eq!(parse("送信"), Some(Direction::Out));
        assert_eq!(parse("双方向"), Some(Direction::Both));
        assert_eq!(parse("One-way"), Some(Direction::Forward));
        assert_eq!(parse("both"), Some(Direction::Both));
        assert_eq!(parse("TCP"), None);
        assert_eq!(parse_strict("in"), None);
        assert!(per_protocol_in_note("TCPは双方向、UDPは受信のみ"));
        assert!(!per_protocol_in_note("LDAP通信です"));
    }
}
