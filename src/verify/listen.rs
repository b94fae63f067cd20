//! `portplan listen`: open the responders of a [`ListenPlan`], answer probes for a while, stop.
//!
//! [`bind`] opens every socket first (synchronously, so the caller can report what is bound,
//! occupied or refused before anything is served); [`serve`] answers until the duration ends
//! or the process gets Ctrl-C / SIGTERM, and returns who came by.

use std::collections::{BTreeMap, BTreeSet};
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{ListenKind, ListenPlan, ListenPort, wire};
use crate::catalog::Protocol;
use crate::diag::{Error, Result};
use crate::tr;

/// What became of one responder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status", content = "detail")]
pub enum PortStatus {
    /// Listening.
    Bound,
    /// Another program has the port: for TCP that program proves reachability just as well.
    Occupied,
    /// Not allowed (ports below 1024 need root or CAP_NET_BIND_SERVICE).
    Denied,
    /// Anything else.
    Failed(String),
}

/// The outcome of [`bind`]: every planned responder and its status.
#[derive(Debug, Clone, Serialize)]
pub struct BindReport {
    /// The plan.
    #[serde(flatten)]
    pub plan: ListenPlan,
    /// Per responder (same order as `plan.ports`).
    pub status: Vec<PortStatus>,
    /// The limit on open files after raising it.
    pub open_files_limit: u64,
}

impl BindReport {
    /// Responders with this status.
    pub fn with<'a>(
        &'a self,
        f: impl Fn(&PortStatus) -> bool + 'a,
    ) -> impl Iterator<Item = &'a ListenPort> + 'a {
        self.plan
            .ports
            .iter()
            .zip(&self.status)
            .filter(move |(_, s)| f(s))
            .map(|(p, _)| p)
    }
}

/// Sockets ready to serve.
pub struct Bound {
    tcp: Vec<(ListenPort, std::net::TcpListener)>,
    udp: Vec<(ListenPort, std::net::UdpSocket)>,
}

/// Raise the soft limit on open files to the hard one; returns the limit now in force.
pub fn raise_open_files_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 1024;
        }
        if r.rlim_cur < r.rlim_max {
            let want = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                return want.rlim_cur;
            }
        }
        r.rlim_cur
    }
}

/// Open every responder of `plan`. A port in use is `occupied`, a privileged port without the
/// privilege `denied`; an address this machine does not have is an error (wrong `--as`).
pub fn bind(plan: &ListenPlan) -> Result<(BindReport, Bound)> {
    let limit = raise_open_files_limit();
    let need = plan.ports.len() as u64 + 64;
    if need > limit {
        let n = plan.ports.len();
        return Err(Error::usage(
            tr!(
                "{n} responders need more open files than the limit allows ({limit})",
                "{n} 個の応答ソケットにはファイル数の上限 ({limit}) が足りません"
            ),
            Some(tr!(
                "raise it with `ulimit -n {need}` (or narrow the site)",
                "`ulimit -n {need}` で上限を上げてください"
            )),
        ));
    }
    let mut status = Vec::with_capacity(plan.ports.len());
    let mut bound = Bound {
        tcp: vec![],
        udp: vec![],
    };
    for p in &plan.ports {
        let sa = SocketAddr::new(p.addr, p.port);
        let r = match p.protocol {
            Protocol::Tcp => std::net::TcpListener::bind(sa).and_then(|l| {
                l.set_nonblocking(true)?;
                delay_acks(&l);
                bound.tcp.push((p.clone(), l));
                Ok(())
            }),
            Protocol::Udp => std::net::UdpSocket::bind(sa).and_then(|s| {
                s.set_nonblocking(true)?;
                bound.udp.push((p.clone(), s));
                Ok(())
            }),
        };
        status.push(match r {
            Ok(()) => PortStatus::Bound,
            Err(e) if e.kind() == ErrorKind::AddrInUse => PortStatus::Occupied,
            Err(e) if e.kind() == ErrorKind::PermissionDenied => PortStatus::Denied,
            Err(e) if e.kind() == ErrorKind::AddrNotAvailable => {
                let a = p.addr;
                return Err(Error::usage(
                    tr!(
                        "this machine does not have the address {a}",
                        "このマシンにはアドレス {a} がありません"
                    ),
                    Some(tr!(
                        "run listen on the host the site gives {a} to, or pass that host's own address with --as",
                        "サイトで {a} を持つホスト上で実行するか、--as にこのホストのアドレスを指定してください"
                    )),
                ));
            }
            Err(e) => PortStatus::Failed(e.to_string()),
        });
    }
    Ok((
        BindReport {
            plan: plan.clone(),
            status,
            open_files_limit: limit,
        },
        bound,
    ))
}

/// Quick-ACK off on the listening socket (accepted sockets inherit it): the ACK of a probe then
/// rides on the echo instead of going out alone. Failure only loses that.
fn delay_acks(l: &std::net::TcpListener) {
    use std::os::fd::AsRawFd;
    super::set_int_option(l.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_QUICKACK, 0);
}

/// Who reached one responder.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// Address.
    pub addr: IpAddr,
    /// Protocol.
    pub protocol: Protocol,
    /// Port.
    pub port: u16,
    /// Whether the port is a must-be-closed canary (a hit there is a firewall letting too much in).
    pub canary: bool,
    /// Connections or datagrams.
    pub count: u64,
    /// Of which completed the token exchange.
    pub tokens: u64,
    /// Sources seen (at most 32).
    pub from: BTreeSet<IpAddr>,
}

type Hits = Arc<Mutex<BTreeMap<(IpAddr, Protocol, u16), Hit>>>;

fn record(hits: &Hits, p: &ListenPort, from: IpAddr, token: bool) {
    let Ok(mut h) = hits.lock() else { return };
    let e = h
        .entry((p.addr, p.protocol, p.port))
        .or_insert_with(|| Hit {
            addr: p.addr,
            protocol: p.protocol,
            port: p.port,
            canary: p.kind == ListenKind::Canary,
            count: 0,
            tokens: 0,
            from: BTreeSet::new(),
        });
    e.count += 1;
    e.tokens += u64::from(token);
    if e.from.len() < 32 {
        e.from.insert(from);
    }
}

/// Why serving ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// The duration ran out.
    Duration,
    /// Ctrl-C or SIGTERM.
    Signal,
}

/// Answer probes on `bound` for `duration` (or until a signal); every responder, sorted, with
/// its hits (only those reached).
pub fn serve(bound: Bound, duration: Duration) -> Result<(Stop, Vec<Hit>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(tr!("cannot start: {e}", "開始できません: {e}"), None))?;
    let hits: Hits = Arc::default();
    let stop = rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        // At most this many TCP exchanges at once; beyond it, connections are accepted and closed.
        let slots = Arc::new(tokio::sync::Semaphore::new(1024));
        for (p, l) in bound.tcp {
            let Ok(l) = tokio::net::TcpListener::from_std(l) else {
                continue;
            };
            let (hits, slots) = (hits.clone(), slots.clone());
            tasks.spawn(async move {
                loop {
                    let Ok((s, peer)) = l.accept().await else {
                        // Out of descriptors or similar: back off instead of spinning.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    let Ok(permit) = slots.clone().try_acquire_owned() else {
                        record(&hits, &p, peer.ip(), false);
                        continue;
                    };
                    let (hits, p) = (hits.clone(), p.clone());
                    tokio::spawn(async move {
                        let token = tcp_exchange(s).await;
                        record(&hits, &p, peer.ip(), token);
                        drop(permit);
                    });
                }
            });
        }
        for (p, s) in bound.udp {
            let Ok(s) = tokio::net::UdpSocket::from_std(s) else {
                continue;
            };
            let hits = hits.clone();
            tasks.spawn(async move {
                let mut buf = [0u8; 512];
                loop {
                    let Ok((n, peer)) = s.recv_from(&mut buf).await else {
                        // An ICMP error for an earlier reply, or similar: nothing to answer.
                        continue;
                    };
                    let token = match wire::parse_probe(&buf[..n]) {
                        Some(nonce) => s.send_to(wire::echo(nonce).as_bytes(), peer).await.is_ok(),
                        None => false,
                    };
                    record(&hits, &p, peer.ip(), token);
                }
            });
        }
        let stop = tokio::select! {
            _ = tokio::time::sleep(duration) => Stop::Duration,
            _ = tokio::signal::ctrl_c() => Stop::Signal,
            _ = sigterm() => Stop::Signal,
        };
        tasks.abort_all();
        stop
    });
    let hits = hits
        .lock()
        .map(|h| h.values().cloned().collect())
        .unwrap_or_default();
    Ok((stop, hits))
}

async fn sigterm() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

/// Read one line within 5 s, echo its nonce. True when the exchange completed.
async fn tcp_exchange(mut s: tokio::net::TcpStream) -> bool {
    // Delay the ACK of the probe so it rides on the echo.
    let _ = s.set_quickack(false);
    let run = async {
        let mut buf = [0u8; wire::MAX_LINE];
        let mut n = 0;
        while n < buf.len() && !buf[..n].contains(&b'\n') {
            let k = s.read(&mut buf[n..]).await.ok()?;
            if k == 0 {
                break;
            }
            n += k;
        }
        let nonce = wire::parse_probe(&buf[..n])?;
        s.write_all(wire::echo(nonce).as_bytes()).await.ok()?;
        // Let the prober close first (it resets): closing here too would add a FIN and its ACK
        // per probe, and the run is limited by packets.
        let _ = s.read(&mut buf).await;
        Some(())
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(5), run).await,
        Ok(Some(()))
    )
}
