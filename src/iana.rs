//! Embedded IANA port registry.
//!
//! This module answers "which service is registered for this port?" from a
//! compact copy of the IANA *Service Name and Transport Protocol Port Number
//! Registry* (<https://www.iana.org/assignments/service-names-port-numbers/>),
//! which IANA publishes under CC0. The copy is compiled into the binary, so
//! lookups need no network or file access.
//!
//! # Data
//!
//! The table lives in `data/iana-ports.tsv` and is embedded with
//! [`include_str!`]. It holds one line per TCP or UDP registration,
//! `proto<TAB>lo<TAB>hi<TAB>name<TAB>description`, sorted by protocol and port.
//! Rows without a service name (Reserved, Unassigned), rows without a port and
//! rows for other protocols (SCTP, DCCP) are left out. Where several names are
//! registered for the same port, only the first one in registry order is kept,
//! so 514/tcp is `shell` and 514/udp is `syslog`. Descriptions are trimmed to
//! 80 characters.
//!
//! # Regenerating
//!
//! The table is generated, not hand-edited. From the repository root run:
//!
//! ```text
//! python3 scripts/gen-iana.py ../shared/data/iana/service-names-port-numbers.csv data/iana-ports.tsv
//! ```
//!
//! (both arguments are the defaults). The script only needs the Python 3
//! standard library, and gives the same bytes every time it runs. When you
//! take a new registry snapshot, update the date in both the script and
//! [`REGISTRY_DATE`]. A unit test regenerates the table and fails if
//! the committed file is stale. It runs when `python3` and the CSV are present,
//! and always runs when `CI=true`.
//!
//! # Lookup
//!
//! The table is parsed once, on first use, into sorted per-protocol vectors.
//! [`lookup`] then needs only a binary search (O(log n)). Malformed lines are
//! skipped rather than causing a panic.

use std::sync::LazyLock;

/// One IANA registry entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// Service name, e.g. `microsoft-ds`.
    pub name: &'static str,
    /// IANA's description, at most 80 characters.
    pub description: &'static str,
}

/// Registry date of the embedded data, e.g. "2025-02-17".
pub const REGISTRY_DATE: &str = "2025-02-17";

/// The generated table (see the module docs).
const TABLE: &str = include_str!("../data/iana-ports.tsv");

/// Parsed form of [`TABLE`], built on first use.
static TABLES: LazyLock<Tables> = LazyLock::new(|| Tables::parse(TABLE));

/// The registered service for `port` over `proto` ("tcp" or "udp", case-insensitive); None for other protocols or unregistered ports.
/// Single-port registrations win over range registrations covering the port.
pub fn lookup(proto: &str, port: u16) -> Option<Service> {
    TABLES.lookup(proto, port)
}

/// Lookup tables for both protocols.
#[derive(Debug, Default)]
struct Tables {
    tcp: ProtoTable,
    udp: ProtoTable,
}

/// Lookup table for one protocol.
#[derive(Debug, Default)]
struct ProtoTable {
    /// Single-port registrations, sorted by port, one per port.
    singles: Vec<(u16, Service)>,
    /// Range registrations as disjoint segments, sorted by `lo`.
    ranges: Vec<Segment>,
}

/// A run of ports `lo..=hi` that all resolve to `service`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    lo: u16,
    hi: u16,
    service: Service,
}

impl Tables {
    /// Parses the TSV text. Comment lines (`#`), blank lines and malformed
    /// lines are skipped.
    fn parse(text: &'static str) -> Self {
        let mut tcp = Vec::new();
        let mut udp = Vec::new();
        for line in text.lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((proto, lo, hi, service)) = parse_line(line) else {
                continue;
            };
            if proto.eq_ignore_ascii_case("tcp") {
                tcp.push((lo, hi, service));
            } else if proto.eq_ignore_ascii_case("udp") {
                udp.push((lo, hi, service));
            }
        }
        Tables {
            tcp: ProtoTable::build(tcp),
            udp: ProtoTable::build(udp),
        }
    }

    fn lookup(&self, proto: &str, port: u16) -> Option<Service> {
        let table = if proto.eq_ignore_ascii_case("tcp") {
            &self.tcp
        } else if proto.eq_ignore_ascii_case("udp") {
            &self.udp
        } else {
            return None;
        };
        table.lookup(port)
    }
}

/// Splits `proto<TAB>lo<TAB>hi<TAB>name<TAB>description` into its parts.
/// Returns `None` for lines that do not match this format.
fn parse_line(line: &'static str) -> Option<(&'static str, u16, u16, Service)> {
    let mut fields = line.split('\t');
    let proto = fields.next()?;
    let lo: u16 = fields.next()?.parse().ok()?;
    let hi: u16 = fields.next()?.parse().ok()?;
    let name = fields.next()?;
    let description = fields.next()?;
    if fields.next().is_some() || lo > hi || name.is_empty() {
        return None;
    }
    Some((proto, lo, hi, Service { name, description }))
}

impl ProtoTable {
    /// Builds the lookup structures from entries in table order. If two
    /// single-port entries share a port, the first one wins.
    fn build(entries: Vec<(u16, u16, Service)>) -> Self {
        let mut singles = Vec::new();
        let mut ranges = Vec::new();
        for (lo, hi, service) in entries {
            if lo == hi {
                singles.push((lo, service));
            } else {
                ranges.push(Segment { lo, hi, service });
            }
        }
        // Stable sort, so the first of several entries for the same port
        // comes first and is the one `dedup_by_key` keeps.
        singles.sort_by_key(|&(port, _)| port);
        singles.dedup_by_key(|&mut (port, _)| port);
        ProtoTable {
            singles,
            ranges: flatten(&ranges),
        }
    }

    fn lookup(&self, port: u16) -> Option<Service> {
        if let Ok(i) = self.singles.binary_search_by_key(&port, |&(p, _)| p) {
            return Some(self.singles[i].1);
        }
        // Segments are disjoint and sorted, so only the last one starting at
        // or before `port` can cover it.
        let i = self.ranges.partition_point(|s| s.lo <= port);
        let segment = self.ranges.get(i.checked_sub(1)?)?;
        (port <= segment.hi).then_some(segment.service)
    }
}

/// Turns possibly overlapping range registrations into disjoint, sorted
/// segments. Where ranges overlap, the narrowest range covering a port wins.
/// If two ranges are equally narrow, the earlier one in table order wins.
///
/// The registry has only a handful of ranges, and none of them overlap. The
/// quadratic loop here runs once, at load time; it keeps [`ProtoTable::lookup`]
/// a single binary search even if future data has overlapping ranges.
fn flatten(ranges: &[Segment]) -> Vec<Segment> {
    // Segment boundaries as u32, so that `hi + 1` cannot overflow at 65535.
    let mut bounds: Vec<u32> = ranges
        .iter()
        .flat_map(|r| [u32::from(r.lo), u32::from(r.hi) + 1])
        .collect();
    bounds.sort_unstable();
    bounds.dedup();

    let mut out: Vec<Segment> = Vec::new();
    for pair in bounds.windows(2) {
        let (start, end) = (pair[0], pair[1] - 1);
        let (Ok(lo), Ok(hi)) = (u16::try_from(start), u16::try_from(end)) else {
            continue;
        };
        // Every range either covers all of [lo, hi] or none of it, because
        // no range starts or ends strictly inside an elementary interval.
        let best = ranges
            .iter()
            .filter(|r| r.lo <= lo && hi <= r.hi)
            .min_by_key(|r| r.hi - r.lo);
        let Some(best) = best else { continue };
        match out.last_mut() {
            Some(prev) if prev.service == best.service && u32::from(prev.hi) + 1 == start => {
                prev.hi = hi;
            }
            _ => out.push(Segment {
                lo,
                hi,
                service: best.service,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(proto: &str, port: u16) -> Option<&'static str> {
        lookup(proto, port).map(|s| s.name)
    }

    #[test]
    fn well_known_tcp_ports() {
        assert_eq!(name("tcp", 135), Some("epmap"));
        assert_eq!(name("tcp", 139), Some("netbios-ssn"));
        assert_eq!(name("tcp", 445), Some("microsoft-ds"));
        assert_eq!(name("tcp", 3268), Some("msft-gc"));
        assert_eq!(name("tcp", 3269), Some("msft-gc-ssl"));
    }

    #[test]
    fn well_known_udp_ports() {
        assert_eq!(name("udp", 53), Some("domain"));
        assert_eq!(name("udp", 123), Some("ntp"));
    }

    #[test]
    fn first_registration_wins_per_protocol() {
        assert_eq!(name("udp", 514), Some("syslog"));
        assert_eq!(name("tcp", 514), Some("shell"));
        // 80/tcp is registered as http, www and www-http, in that order.
        assert_eq!(name("tcp", 80), Some("http"));
    }

    #[test]
    fn description_is_included() {
        let svc = lookup("tcp", 3268).expect("3268/tcp is registered");
        assert_eq!(
            svc,
            Service {
                name: "msft-gc",
                description: "Microsoft Global Catalog",
            }
        );
    }

    #[test]
    fn protocol_is_case_insensitive() {
        assert_eq!(name("TCP", 445), Some("microsoft-ds"));
        assert_eq!(name("Udp", 53), Some("domain"));
    }

    #[test]
    fn unregistered_port_is_none() {
        // 9132 is in the unassigned block 9132-9159.
        assert_eq!(lookup("tcp", 9132), None);
        assert_eq!(lookup("tcp", 0), None);
    }

    #[test]
    fn other_protocols_are_none() {
        assert_eq!(lookup("sctp", 80), None);
        assert_eq!(lookup("dccp", 80), None);
        assert_eq!(lookup("", 80), None);
        assert_eq!(lookup("tcpx", 80), None);
    }

    #[test]
    fn port_inside_registered_range() {
        // x11 is registered as 6000-6063 for both tcp and udp; ircu as
        // 6665-6669 for tcp only.
        for port in [6000, 6001, 6010, 6063] {
            assert_eq!(name("tcp", port), Some("x11"), "{port}/tcp");
            assert_eq!(name("udp", port), Some("x11"), "{port}/udp");
        }
        assert_eq!(name("tcp", 6667), Some("ircu"));
        assert_ne!(name("tcp", 6064), Some("x11"));
        assert_ne!(name("udp", 6667), Some("ircu"));
    }

    #[test]
    fn extreme_ports_do_not_panic() {
        for proto in ["tcp", "udp", "sctp"] {
            let _ = lookup(proto, 0);
            let _ = lookup(proto, u16::MAX);
        }
    }

    #[test]
    fn embedded_table_is_sane() {
        let header = TABLE.lines().next().unwrap_or_default();
        assert!(
            header.starts_with("# generated by scripts/gen-iana.py"),
            "{header}"
        );
        assert!(
            header.contains(&format!("registry date {REGISTRY_DATE};")),
            "REGISTRY_DATE does not match the table header: {header}"
        );
        // Every data line must parse; the parser's tolerance of bad lines is
        // for robustness, not an excuse for a broken generator.
        for line in TABLE.lines().skip(1) {
            let Some((proto, ..)) = parse_line(line) else {
                panic!("malformed line: {line:?}");
            };
            assert!(proto == "tcp" || proto == "udp", "{line:?}");
        }
        assert!(TABLES.tcp.singles.len() > 5000);
        assert!(TABLES.udp.singles.len() > 5000);
    }

    #[test]
    fn singles_beat_ranges_and_malformed_lines_are_skipped() {
        let text = "# comment\n\
                    tcp\t100\t200\twide\tWide range\n\
                    tcp\t150\t150\tsingle\tSingle port\n\
                    tcp\t120\t130\tnarrow\tNarrow range\n\
                    tcp\t65530\t65535\ttop\tTop of the port space\n\
                    tcp\t150\t150\tlater\tDuplicate, ignored\n\
                    \n\
                    tcp\tx\t1\tbad\tnot a number\n\
                    tcp\t5\t4\tbad\tlo > hi\n\
                    tcp\t1\t70000\tbad\tout of range\n\
                    tcp\t7\t7\t\tempty name\n\
                    tcp\t8\t8\ttoo-few\n\
                    tcp\t9\t9\ttoo\tmany\tfields\n\
                    sctp\t10\t10\tsctp-only\tignored\n\
                    udp\t10\t10\tu\tudp entry\r\n";
        let t = Tables::parse(text);
        let n = |proto, port| t.lookup(proto, port).map(|s| s.name);
        assert_eq!(n("tcp", 99), None);
        assert_eq!(n("tcp", 100), Some("wide"));
        assert_eq!(n("tcp", 119), Some("wide"));
        assert_eq!(n("tcp", 120), Some("narrow"));
        assert_eq!(n("tcp", 130), Some("narrow"));
        assert_eq!(n("tcp", 131), Some("wide"));
        assert_eq!(n("tcp", 150), Some("single"));
        assert_eq!(n("tcp", 200), Some("wide"));
        assert_eq!(n("tcp", 201), None);
        assert_eq!(n("tcp", 65535), Some("top"));
        for port in [1, 4, 5, 7, 8, 9, 10] {
            assert_eq!(n("tcp", port), None, "{port}");
        }
        assert_eq!(n("sctp", 10), None);
        assert_eq!(
            t.lookup("udp", 10),
            Some(Service {
                name: "u",
                description: "udp entry"
            })
        );
        // Overlapping ranges collapse into disjoint, sorted segments.
        let segments: Vec<_> = t
            .tcp
            .ranges
            .iter()
            .map(|s| (s.lo, s.hi, s.service.name))
            .collect();
        assert_eq!(
            segments,
            [
                (100, 119, "wide"),
                (120, 130, "narrow"),
                (131, 200, "wide"),
                (65530, 65535, "top"),
            ]
        );
    }

    #[test]
    fn empty_table() {
        let t = Tables::parse("");
        assert_eq!(t.lookup("tcp", 80), None);
        assert_eq!(t.lookup("udp", 0), None);
    }

    /// Regenerates the table from the registry CSV and checks that the
    /// committed `data/iana-ports.tsv` matches byte for byte.
    #[test]
    fn embedded_table_is_up_to_date() {
        use std::path::Path;
        use std::process::Command;

        let csv = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/iana/service-names-port-numbers.csv"
        );
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gen-iana.py");
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        let skip = |why: &str| {
            assert!(
                !in_ci,
                "CI=true but the IANA freshness check cannot run: {why}"
            );
            eprintln!("skipping embedded_table_is_up_to_date: {why}");
        };

        if !Path::new(csv).is_file() {
            return skip(&format!("{csv} not found"));
        }
        let out = std::env::temp_dir().join(format!(
            "portplan-iana-ports-{}-{:?}.tsv",
            std::process::id(),
            std::thread::current().id()
        ));
        let run = Command::new("python3")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg(script)
            .arg(csv)
            .arg(&out)
            .output();
        let run = match run {
            Ok(run) => run,
            Err(err) => return skip(&format!("cannot run python3: {err}")),
        };
        assert!(
            run.status.success(),
            "{script} failed ({}):\n{}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        );
        let generated = std::fs::read(&out);
        let _ = std::fs::remove_file(&out);
        let generated = generated.unwrap_or_else(|err| panic!("reading {}: {err}", out.display()));
        assert!(
            generated == TABLE.as_bytes(),
            "data/iana-ports.tsv is out of date; regenerate it with \
             `python3 scripts/gen-iana.py` from the repository root"
        );
    }
}
