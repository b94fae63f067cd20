//! `portplan probe`: run the checks of a [`ProbePlan`] with bounded concurrency, rate and time.
//!
//! TCP: connect from the host's own address and send a nonce; a portplan listener echoes it.
//! UDP: a datagram with a nonce (sent twice within the timeout), expecting its echo; an ICMP
//! port-unreachable is `refused`, silence is `blocked`. A connect refused by the kernel's own
//! output filter (EPERM) or answered by an ICMP unreachable counts as blocked, with the reason.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Check, Dest, Expect, ProbePlan, wire};
use crate::catalog::Protocol;
use crate::diag::{Error, Result};
use crate::tr;

/// Limits of a probe run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ProbeOptions {
    /// Per probe.
    #[serde(serialize_with = "ser_ms")]
    pub timeout: Duration,
    /// Probes in flight at once.
    pub concurrency: usize,
    /// New probes per second.
    pub rate: u32,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl ProbeOptions {
    /// Upper bounds: a probe is never slower than a minute, never more than 1024 in flight,
    /// never more than 20,000 new ones a second.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);
    /// See [`ProbeOptions::MAX_TIMEOUT`].
    pub const MAX_CONCURRENCY: usize = 1024;
    /// A probe waits at least a millisecond (`--timeout 500us` is refused, as help says).
    pub const MIN_TIMEOUT: Duration = Duration::from_millis(1);
    /// See [`ProbeOptions::MAX_TIMEOUT`].
    pub const MAX_RATE: u32 = 20_000;

    /// Check the limits.
    pub fn check(&self) -> Result<()> {
        let bad = |what: &str| {
            Err(Error::usage(
                tr!("{what} is out of bounds", "{what} が範囲外です"),
                Some(tr!(
                    "timeout 1ms..60s, concurrency 1..1024, rate 1..20000 per second",
                    "timeout は 1ms〜60s、concurrency は 1〜1024、rate は毎秒 1〜20000"
                )),
            ))
        };
        if self.timeout < Self::MIN_TIMEOUT || self.timeout > Self::MAX_TIMEOUT {
            return bad("--timeout");
        }
        if self.concurrency == 0 || self.concurrency > Self::MAX_CONCURRENCY {
            return bad("--concurrency");
        }
        if self.rate == 0 || self.rate > Self::MAX_RATE {
            return bad("--rate");
        }
        Ok(())
    }
}

/// What the network did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "detail")]
pub enum Observed {
    /// Connected (TCP) or answered (UDP); `token` when a portplan listener echoed our nonce.
    Open {
        /// The nonce came back.
        token: bool,
    },
    /// No answer within the timeout.
    Silent,
    /// TCP reset / ICMP port unreachable: the host (or a rejecting firewall) answered.
    Refused,
    /// ICMP unreachable or this host's own firewall: rejected on the way.
    Rejected(String),
    /// Could not probe.
    Error(String),
}

/// The verdict on one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// As the plan says: a required flow got through, or a must-be-closed port was blocked.
    Pass,
    /// A required flow timed out or was rejected on the way.
    Blocked,
    /// Reached the destination (or a rejecting firewall) but nothing listens.
    Refused,
    /// A must-be-closed port answered.
    UnexpectedOpen,
    /// The probe itself failed.
    Error,
}

impl Outcome {
    /// The name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Blocked => "blocked",
            Outcome::Refused => "refused",
            Outcome::UnexpectedOpen => "unexpected-open",
            Outcome::Error => "error",
        }
    }
}

/// The verdict for what was observed, given what was expected.
pub fn judge(expect: Expect, seen: &Observed) -> Outcome {
    match (expect, seen) {
        (_, Observed::Error(_)) => Outcome::Error,
        (Expect::Open, Observed::Open { .. }) => Outcome::Pass,
        (Expect::Open, Observed::Silent | Observed::Rejected(_)) => Outcome::Blocked,
        (_, Observed::Refused) => Outcome::Refused,
        (Expect::Closed, Observed::Open { .. }) => Outcome::UnexpectedOpen,
        (Expect::Closed, Observed::Silent | Observed::Rejected(_)) => Outcome::Pass,
    }
}

/// One check and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    /// The check (names resolved: `src`/`dst` as probed).
    #[serde(flatten)]
    pub check: Check,
    /// The address a name resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<IpAddr>,
    /// Verdict.
    pub result: Outcome,
    /// What the network did.
    pub observed: Observed,
    /// Connect time (TCP) or round trip (UDP), when something answered.
    pub rtt_ms: Option<f64>,
}

impl ProbeResult {
    /// Whether this result fails the run: a required check that did not pass, a must-be-closed
    /// port that answered, or a probe that could not run.
    pub fn fails(&self) -> bool {
        match self.check.expect {
            Expect::Open => self.result != Outcome::Pass,
            Expect::Closed => matches!(self.result, Outcome::UnexpectedOpen | Outcome::Error),
        }
    }
}

/// A whole probe run.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// The plan that was run (checks moved into `results`).
    #[serde(flatten)]
    pub plan: ProbePlan,
    /// Limits.
    pub options: ProbeOptions,
    /// Per check, in plan order.
    pub results: Vec<ProbeResult>,
    /// Wall time of the run.
    pub elapsed_ms: f64,
}

impl ProbeReport {
    /// True when nothing fails.
    pub fn ok(&self) -> bool {
        !self.results.iter().any(ProbeResult::fails)
    }

    /// How many results have `o`, per expectation.
    pub fn count(&self, expect: Expect, o: Outcome) -> usize {
        self.results
            .iter()
            .filter(|r| r.check.expect == expect && r.result == o)
            .count()
    }
}

/// Run every check of `plan`. `progress` is called once per finished check.
pub fn run(
    mut plan: ProbePlan,
    opts: ProbeOptions,
    progress: &(dyn Fn(&ProbeResult) + Sync),
) -> Result<ProbeReport> {
    opts.check()?;
    let limit = super::listen::raise_open_files_limit();
    if (opts.concurrency as u64) + 64 > limit {
        let c = opts.concurrency;
        return Err(Error::usage(
            tr!(
                "--concurrency {c} needs more open files than the limit allows ({limit})",
                "--concurrency {c} にはファイル数の上限 ({limit}) が足りません"
            ),
            None,
        ));
    }
    for &a in &plan.host.addrs {
        if let Err(e) = std::net::UdpSocket::bind(SocketAddr::new(a, 0))
            && e.kind() == std::io::ErrorKind::AddrNotAvailable
        {
            return Err(Error::usage(
                tr!(
                    "this machine does not have the address {a}",
                    "このマシンにはアドレス {a} がありません"
                ),
                Some(tr!(
                    "run probe on the host the site gives {a} to, or pass this host's own address with --from",
                    "サイトで {a} を持つホスト上で実行するか、--from にこのホストのアドレスを指定してください"
                )),
            ));
        }
    }
    let checks = std::mem::take(&mut plan.checks);
    let t0 = Instant::now();
    let resolved = runtime()?.block_on(resolve_names(&checks, &plan.host.addrs, &plan.names));
    // The run is bound by the kernel's work per packet, done on the CPU of the sending thread
    // (through the veth pairs of a lab, the router's and the server's part too). Large runs
    // are split into one independent single-threaded runtime per CPU (at most 2 here), each
    // with its share of the concurrency and rate bounds, so both CPUs carry packets; a shared
    // multi-threaded runtime measured slower (cross-thread wake-ups).
    let shards = if checks.len() >= 256 && opts.concurrency >= 2 && opts.rate >= 2 {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
    } else {
        1
    };
    let mut parts: Vec<Vec<(usize, Check)>> = vec![Vec::new(); shards];
    for (i, c) in checks.into_iter().enumerate() {
        parts[i % shards].push((i, c));
    }
    let share = ProbeOptions {
        timeout: opts.timeout,
        concurrency: opts.concurrency / shards,
        rate: opts.rate / shards as u32,
    };
    let resolved = &resolved;
    let mut results: Vec<(usize, ProbeResult)> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                scope.spawn(move || -> Result<Vec<(usize, ProbeResult)>> {
                    Ok(runtime()?.block_on(run_shard(part, resolved, share, progress)))
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            match h.join() {
                Ok(r) => all.extend(r?),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        Ok::<_, Error>(all)
    })?;
    results.sort_by_key(|(i, _)| *i);
    Ok(ProbeReport {
        plan,
        options: opts,
        results: results.into_iter().map(|(_, r)| r).collect(),
        elapsed_ms: t0.elapsed().as_secs_f64() * 1000.0,
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(tr!("cannot start: {e}", "開始できません: {e}"), None))
}

type Resolved = Vec<(String, std::result::Result<(IpAddr, IpAddr), String>)>;

/// Run `checks` (with their indexes) within `opts`' bounds.
async fn run_shard(
    checks: Vec<(usize, Check)>,
    resolved: &Resolved,
    opts: ProbeOptions,
    progress: &(dyn Fn(&ProbeResult) + Sync),
) -> Vec<(usize, ProbeResult)> {
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.concurrency));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(opts.rate)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut set = tokio::task::JoinSet::new();
    let mut out = Vec::with_capacity(checks.len());
    for (i, c) in checks {
        tick.tick().await;
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        let target = match &c.dst {
            Dest::Addr(a) => c
                .src
                .map(|s| (s, *a))
                .ok_or_else(|| "no source".to_string()),
            Dest::Name(n) => resolved
                .iter()
                .find(|(name, _)| name == n)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| Err(format!("{n}: not resolved"))),
        };
        set.spawn(async move {
            let (observed, rtt, resolved) = match target {
                Ok((src, dst)) => {
                    let (o, rtt) = match c.protocol {
                        Protocol::Tcp => tcp(src, SocketAddr::new(dst, c.port), opts.timeout).await,
                        Protocol::Udp => udp(src, SocketAddr::new(dst, c.port), opts.timeout).await,
                    };
                    let name = matches!(c.dst, Dest::Name(_)).then_some(dst);
                    (o, rtt, name.map(|d| (src, d)))
                }
                Err(e) => (Observed::Error(e), None, None),
            };
            drop(permit);
            let mut check = c;
            if let Some((src, _)) = resolved {
                check.src = Some(src);
            }
            let result = judge(check.expect, &observed);
            (
                i,
                ProbeResult {
                    check,
                    resolved: resolved.map(|(_, d)| d),
                    result,
                    observed,
                    rtt_ms: rtt.map(|d| d.as_secs_f64() * 1000.0),
                },
            )
        });
        while let Some(Ok(r)) = set.try_join_next() {
            progress(&r.1);
            out.push(r);
        }
    }
    while let Some(j) = set.join_next().await {
        if let Ok(r) = j {
            progress(&r.1);
            out.push(r);
        }
    }
    out
}

/// Resolve every name once: (name, Ok((source, address)) or Err(why)). Only an address of the
/// name's zone that can be a host's is used: a name that resolves elsewhere (DNS changed, or a
/// sinkhole answering 0.0.0.0) is not probed.
async fn resolve_names(
    checks: &[Check],
    host: &[IpAddr],
    scopes: &std::collections::BTreeMap<String, super::NameScope>,
) -> Resolved {
    let mut names: Vec<&str> = checks
        .iter()
        .filter_map(|c| match &c.dst {
            Dest::Name(n) => Some(n.as_str()),
            Dest::Addr(_) => None,
        })
        .collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for n in names {
        let r = match tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((n, 0)))
            .await
        {
            Ok(Ok(addrs)) => {
                let addrs: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
                let mine: Vec<(IpAddr, IpAddr)> = addrs
                    .iter()
                    .filter_map(|d| {
                        host.iter()
                            .find(|s| s.is_ipv4() == d.is_ipv4())
                            .map(|s| (*s, *d))
                    })
                    .collect();
                let allowed = |d: IpAddr| {
                    crate::site::not_unicast(d).is_none()
                        && scopes.get(n).is_none_or(|z| z.addrs.contains(d))
                };
                match mine.iter().find(|(_, d)| allowed(*d)) {
                    Some(pair) => Ok(*pair),
                    None => match (mine.first(), scopes.get(n)) {
                        (None, _) => Err(format!("{n}: no address of this host's family")),
                        (Some((_, d)), Some(z)) => Err(format!(
                            "{n} resolves to {d}, which is not a host of its zone `{}`: not probed",
                            z.zone
                        )),
                        (Some((_, d)), None) => Err(format!(
                            "{n} resolves to {d}, which is not a host: not probed"
                        )),
                    },
                }
            }
            Ok(Err(e)) => Err(format!("{n}: {e}")),
            Err(_) => Err(format!("{n}: name resolution timed out")),
        };
        out.push((n.to_string(), r));
    }
    out
}

fn classify(e: &std::io::Error) -> Observed {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => Observed::Refused,
        K::HostUnreachable | K::NetworkUnreachable => {
            Observed::Rejected(format!("ICMP unreachable ({e})"))
        }
        K::PermissionDenied => Observed::Rejected(format!("this host's firewall ({e})")),
        _ => Observed::Error(e.to_string()),
    }
}

async fn tcp(src: IpAddr, dst: SocketAddr, timeout: Duration) -> (Observed, Option<Duration>) {
    let sock = match if dst.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    } {
        Ok(s) => s,
        Err(e) => return (Observed::Error(e.to_string()), None),
    };
    if let Err(e) = sock.bind(SocketAddr::new(src, 0)) {
        return (Observed::Error(e.to_string()), None);
    }
    delay_handshake_ack(&sock);
    let t0 = Instant::now();
    let mut s = match tokio::time::timeout(timeout, sock.connect(dst)).await {
        Err(_) => return (Observed::Silent, None),
        Ok(Err(e)) => return (classify(&e), None),
        Ok(Ok(s)) => s,
    };
    let rtt = t0.elapsed();
    // Close with a reset once done: no FIN exchange, no TIME_WAIT left behind per probe.
    let _ = s.set_zero_linger();
    // The reset that closes the probe acknowledges the echo; no separate ACK.
    let _ = s.set_quickack(false);
    // The nonce goes out at once (no waiting for a greeting: one round trip less); a portplan
    // listener answers with its echo, a real service with its own banner or nothing.
    let nonce = wire::nonce(u64::from(dst.port()));
    if s.write_all(wire::probe(nonce).as_bytes()).await.is_err() {
        return (Observed::Open { token: false }, Some(rtt));
    }
    let mut buf = [0u8; wire::MAX_LINE];
    let n = read_line(&mut s, &mut buf, timeout.min(Duration::from_millis(500))).await;
    (
        Observed::Open {
            token: wire::is_echo(&buf[..n], nonce),
        },
        Some(rtt),
    )
}

/// Let the ACK that completes the handshake ride on the probe written right after connect:
/// with TCP_DEFER_ACCEPT set on a connecting socket, Linux delays that ACK (by up to 200 ms,
/// `tcp_rcv_synsent_state_process`), and the probe goes out first. One packet less per TCP
/// probe; failure only loses that.
fn delay_handshake_ack(sock: &tokio::net::TcpSocket) {
    use std::os::fd::AsRawFd;
    super::set_int_option(
        sock.as_raw_fd(),
        libc::IPPROTO_TCP,
        libc::TCP_DEFER_ACCEPT,
        1,
    );
}

async fn read_line(s: &mut tokio::net::TcpStream, buf: &mut [u8], within: Duration) -> usize {
    let mut n = 0;
    let _ = tokio::time::timeout(within, async {
        while n < buf.len() && !buf[..n].contains(&b'\n') {
            match s.read(&mut buf[n..]).await {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
    })
    .await;
    n
}

async fn udp(src: IpAddr, dst: SocketAddr, timeout: Duration) -> (Observed, Option<Duration>) {
    let s = match tokio::net::UdpSocket::bind(SocketAddr::new(src, 0)).await {
        Ok(s) => s,
        Err(e) => return (Observed::Error(e.to_string()), None),
    };
    if let Err(e) = s.connect(dst).await {
        return (classify(&e), None);
    }
    let nonce = wire::nonce(u64::from(dst.port()) << 1 | 1);
    let msg = wire::probe(nonce);
    let t0 = Instant::now();
    let mut buf = [0u8; 512];
    // Two tries within the timeout: one lost datagram is not a blocked flow.
    for attempt in 0..2u32 {
        if let Err(e) = s.send(msg.as_bytes()).await {
            return (classify(&e), None);
        }
        let wait = timeout.saturating_sub(t0.elapsed()) / (2 - attempt);
        match tokio::time::timeout(wait, s.recv(&mut buf)).await {
            Ok(Ok(n)) => {
                return (
                    Observed::Open {
                        token: wire::is_echo(&buf[..n], nonce),
                    },
                    Some(t0.elapsed()),
                );
            }
            Ok(Err(e)) => return (classify(&e), Some(t0.elapsed())),
            Err(_) => {}
        }
    }
    (Observed::Silent, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        use Expect::*;
        use Outcome as O;
        let open = Observed::Open { token: true };
        let rej = Observed::Rejected("x".into());
        assert_eq!(judge(Open, &open), O::Pass);
        assert_eq!(judge(Open, &Observed::Silent), O::Blocked);
        assert_eq!(judge(Open, &rej), O::Blocked);
        assert_eq!(judge(Open, &Observed::Refused), O::Refused);
        assert_eq!(judge(Closed, &open), O::UnexpectedOpen);
        assert_eq!(judge(Closed, &Observed::Silent), O::Pass);
        assert_eq!(judge(Closed, &rej), O::Pass);
        assert_eq!(judge(Closed, &Observed::Refused), O::Refused);
        assert_eq!(judge(Closed, &Observed::Error("e".into())), O::Error);
    }

    #[test]
    fn names_are_only_probed_inside_their_zone() {
        use std::collections::BTreeMap;
        let check = |name: &str| Check {
            src: None,
            dst: Dest::Name(name.into()),
            protocol: Protocol::Tcp,
            port: 445,
            expect: Expect::Open,
            because: vec![],
        };
        let scope = |net: &str| super::super::NameScope {
            zone: "servers".into(),
            addrs: crate::addr::AddrSet::net(net.parse().unwrap()),
        };
        let host: Vec<IpAddr> = vec!["127.0.0.2".parse().unwrap()];
        let rt = runtime().unwrap();
        // `localhost` resolves to 127.0.0.1: outside a 10.10.0.0/24 zone, not probed.
        let scopes = BTreeMap::from([("localhost".to_string(), scope("10.10.0.0/24"))]);
        let r = rt.block_on(resolve_names(&[check("localhost")], &host, &scopes));
        let why = r[0].1.clone().unwrap_err();
        assert!(
            why.contains("resolves to 127.0.0.1, which is not a host of its zone `servers`"),
            "{why}"
        );
        // Inside its zone it is.
        let scopes = BTreeMap::from([("localhost".to_string(), scope("127.0.0.0/8"))]);
        let r = rt.block_on(resolve_names(&[check("localhost")], &host, &scopes));
        assert_eq!(
            r[0].1,
            Ok(("127.0.0.2".parse().unwrap(), "127.0.0.1".parse().unwrap()))
        );
    }

    #[test]
    fn limits_are_checked() {
        let ok = ProbeOptions {
            timeout: Duration::from_secs(1),
            concurrency: 10,
            rate: 100,
        };
        assert!(ok.check().is_ok());
        let one_ms = ProbeOptions {
            timeout: Duration::from_millis(1),
            ..ok
        };
        assert!(one_ms.check().is_ok());
        for bad in [
            ProbeOptions {
                timeout: Duration::ZERO,
                ..ok
            },
            ProbeOptions {
                timeout: Duration::from_micros(999),
                ..ok
            },
            ProbeOptions {
                timeout: Duration::from_secs(61),
                ..ok
            },
            ProbeOptions {
                concurrency: 0,
                ..ok
            },
            ProbeOptions {
                concurrency: 5000,
                ..ok
            },
            ProbeOptions { rate: 0, ..ok },
            ProbeOptions {
                rate: 1_000_000,
                ..ok
            },
        ] {
            assert!(bad.check().is_err());
        }
    }
}
