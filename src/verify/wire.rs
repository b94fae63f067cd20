//! The token protocol between `probe` and `listen`: short ASCII lines, so a capture reads.
//!
//! TCP: the prober connects and sends [`probe`] with a fresh nonce at once; the listener replies
//! [`echo`] of the same nonce and closes. UDP: the prober sends [`probe`], the listener answers
//! [`echo`]. A reply is never longer than the request that caused it, and only well-formed
//! probes are answered, so a listener cannot be used as a reflector.

/// Protocol tag.
pub const TAG: &str = "PORTPLAN/1";
/// Longest line either side reads.
pub const MAX_LINE: usize = 128;

/// A probe carrying `nonce`.
pub fn probe(nonce: u64) -> String {
    format!("{TAG} PROBE {nonce:016x}\n")
}

/// The nonce of a well-formed probe.
pub fn parse_probe(msg: &[u8]) -> Option<&str> {
    if msg.len() > MAX_LINE {
        return None;
    }
    let s = std::str::from_utf8(msg).ok()?;
    let nonce = s.strip_prefix(TAG)?.strip_prefix(" PROBE ")?.trim_end();
    (nonce.len() == 16 && nonce.bytes().all(|b| b.is_ascii_hexdigit())).then_some(nonce)
}

/// The echo of a nonce. Shorter than the probe it answers.
pub fn echo(nonce: &str) -> String {
    format!("{TAG} ECHO {nonce}\n")
}

/// Whether `msg` is the echo of `nonce`.
pub fn is_echo(msg: &[u8], nonce: u64) -> bool {
    msg.trim_ascii_end() == echo(&format!("{nonce:016x}")).trim_end().as_bytes()
}

/// A nonce nobody else can guess within a run: time, process and a counter, mixed.
pub fn nonce(counter: u64) -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x =
        t ^ (u64::from(std::process::id()) << 32) ^ counter.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64 finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let n = nonce(7);
        let p = probe(n);
        let got = parse_probe(p.as_bytes()).unwrap();
        assert!(is_echo(echo(got).as_bytes(), n));
        assert!(!is_echo(echo(got).as_bytes(), n ^ 1));
        assert!(echo(got).len() <= p.len());
    }

    #[test]
    fn rejects_malformed_probes() {
        for bad in [
            &b""[..],
            b"PORTPLAN/1 PROBE",
            b"PORTPLAN/1 PROBE xyz",
            b"PORTPLAN/1 PROBE 0123456789abcdefg",
            b"PORTPLAN/2 PROBE 0123456789abcdef",
            &[b'a'; 500],
        ] {
            assert!(parse_probe(bad).is_none(), "{bad:?}");
        }
        assert!(parse_probe(b"PORTPLAN/1 PROBE 0123456789abcdef\n").is_some());
    }

    #[test]
    fn nonces_differ() {
        let a: std::collections::BTreeSet<u64> = (0..1000).map(nonce).collect();
        assert_eq!(a.len(), 1000);
    }
}
