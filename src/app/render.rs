//! `render`: one enforcement point's openings as firewall configuration.
//!
//! The request names the target (default: the point's own), the mode (default: merge for a
//! network firewall, replace for a host firewall), where a merge goes (`into`: an nft table
//! and base chain(s), iptables chain(s) or a firewalld zone; `acls` and `seq` for Cisco), and
//! whether to write the removal instead. A target that cannot express everything the point
//! needs is refused, naming what it lacks, unless `allow_partial`.

use crate::app::{Context, Loaded};
use crate::diag::{Error, Result};
use crate::i18n::Text;
use crate::plan::PointPlan;
use crate::render::{Acl, Into, Mode, Options, Rendered, RuleSet};
use crate::site::{EnforcementPoint, PointKind, Target};
use crate::tr;

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderRequest {
    /// The target; `None` is the enforcement point's own.
    pub target: Option<Target>,
    /// `None`: merge for network firewalls, replace for host firewalls.
    pub mode: Option<Mode>,
    /// Write what takes the mode's rules out again.
    pub remove: bool,
    /// Merge: where (`inet filter forward`, `FORWARD`, a firewalld zone).
    pub into: Option<String>,
    /// Cisco merge: `NAME` (every side) or `ZONE=NAME` / `INTERFACE=NAME`.
    pub acls: Vec<String>,
    /// Cisco merge: the first sequence number (default 1).
    pub seq: Option<u32>,
    /// Write what the target can express even when it cannot express everything.
    pub allow_partial: bool,
    /// Only the rule IR is wanted: the target's limits do not matter.
    pub ir_only: bool,
    /// The language of the comments in the files.
    pub lang: crate::i18n::Lang,
}

/// A point's rules, as the typed IR and as the target's files.
#[derive(Debug)]
pub struct Rendering {
    /// The rule IR.
    pub rules: RuleSet,
    /// The configuration: files by suffix, and what the target could not express.
    pub rendered: Rendered,
    /// The options it was rendered with (mode and placement resolved).
    pub options: Options,
}

fn usage(en: String, ja: String) -> Error {
    Error::usage(Text::new(en, ja), None)
}

/// nft names portplan writes into shell scripts and `nft` commands.
fn nft_word(w: &str) -> bool {
    w.len() <= 63
        && w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn parse_into(text: &str, target: Target, host: bool) -> Result<Into> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let bad = |why: Text| {
        Error::usage(
            Text::new(
                format!("--into `{text}`: {}", why.en),
                format!("--into `{text}`: {}", why.ja),
            ),
            Some(match target {
                Target::Nftables => tr!(
                    "e.g. --into 'inet filter forward' (network) or --into 'inet filter input output' (host)",
                    "例: --into 'inet filter forward' (ネットワーク) または --into 'inet filter input output' (ホスト)"
                ),
                Target::Iptables => tr!(
                    "e.g. --into FORWARD (network) or --into 'INPUT OUTPUT' (host)",
                    "例: --into FORWARD (ネットワーク) または --into 'INPUT OUTPUT' (ホスト)"
                ),
                _ => tr!("e.g. --into public", "例: --into public"),
            }),
        )
    };
    let need = if host { 2 } else { 1 };
    match target {
        Target::Nftables => {
            let [family, table, chains @ ..] = words.as_slice() else {
                return Err(bad(tr!(
                    "name the table's family and name, then the base chain(s)",
                    "テーブルのファミリと名前、続けてベースチェーンを指定してください"
                )));
            };
            if !matches!(*family, "inet" | "ip" | "ip6") {
                return Err(bad(tr!(
                    "the table's family must be inet, ip or ip6",
                    "テーブルのファミリは inet、ip、ip6 のいずれかです"
                )));
            }
            let chains: Vec<String> = if chains.is_empty() {
                if host {
                    vec!["input".into(), "output".into()]
                } else {
                    vec!["forward".into()]
                }
            } else {
                chains.iter().map(|c| c.to_string()).collect()
            };
            if chains.len() != need {
                return Err(bad(if host {
                    tr!(
                        "a host firewall needs two base chains: input, then output",
                        "ホストファイアウォールにはベースチェーンが 2 つ必要です: input、output の順"
                    )
                } else {
                    tr!(
                        "a network firewall needs one base chain (its forward hook)",
                        "ネットワークファイアウォールにはベースチェーンが 1 つ必要です (forward フック)"
                    )
                }));
            }
            if !std::iter::once(*table)
                .chain(chains.iter().map(String::as_str))
                .all(nft_word)
            {
                return Err(bad(tr!(
                    "names are letters, digits, `_`, `-` and `.`, starting with a letter",
                    "名前は英字で始まる英数字・`_`・`-`・`.` です"
                )));
            }
            Ok(Into::Nft {
                family: family.to_string(),
                table: table.to_string(),
                chains,
            })
        }
        Target::Iptables => {
            if words.len() != need {
                return Err(bad(if host {
                    tr!(
                        "a host firewall needs two chains: INPUT's, then OUTPUT's",
                        "ホストファイアウォールにはチェーンが 2 つ必要です: INPUT 側、OUTPUT 側の順"
                    )
                } else {
                    tr!(
                        "a network firewall needs one chain (FORWARD's)",
                        "ネットワークファイアウォールにはチェーンが 1 つ必要です (FORWARD 側)"
                    )
                }));
            }
            if !words.iter().all(|w| w.len() <= 28 && nft_word(w)) {
                return Err(bad(tr!(
                    "chain names are at most 28 letters, digits, `_`, `-` or `.`",
                    "チェーン名は 28 文字以内の英数字・`_`・`-`・`.` です"
                )));
            }
            Ok(Into::Chains(words.iter().map(|w| w.to_string()).collect()))
        }
        Target::Firewalld => match words.as_slice() {
            [zone] if nft_word(zone) => Ok(Into::Zone(zone.to_string())),
            _ => Err(bad(tr!(
                "name one firewalld zone",
                "firewalld のゾーンを 1 つ指定してください"
            ))),
        },
        Target::CiscoIos => Err(bad(tr!(
            "cisco-ios merges into access lists: give them with --acl",
            "cisco-ios はアクセスリストにマージします: --acl で指定してください"
        ))),
        Target::Windows => Err(bad(tr!(
            "windows keeps portplan's rules apart by group: there is nothing to merge into",
            "windows は portplan のルールをグループで分けるため、マージ先はありません"
        ))),
    }
}

fn parse_acls(acls: &[String], pt: &EnforcementPoint) -> Result<Vec<Acl>> {
    let (zones, ifaces): (Vec<&String>, Vec<&String>) = match &pt.kind {
        PointKind::Network { sides, interfaces } => (
            sides.iter().flatten().collect(),
            interfaces.iter().map(|(i, _)| i).collect(),
        ),
        PointKind::Host { .. } => (vec![], vec![]),
    };
    let mut out = Vec::new();
    for a in acls {
        let (side, name) = match a.split_once('=') {
            Some((s, n)) => (Some(s.to_string()), n.to_string()),
            None => (None, a.clone()),
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            return Err(usage(
                format!(
                    "--acl `{a}`: `{name}` is not an IOS access-list name (letters, digits, `_`, `-`, `.`)"
                ),
                format!(
                    "--acl `{a}`: `{name}` は IOS のアクセスリスト名ではありません (英数字・`_`・`-`・`.`)"
                ),
            ));
        }
        if let Some(s) = &side
            && !zones.contains(&s)
            && !ifaces.contains(&s)
        {
            let list = zones
                .iter()
                .chain(&ifaces)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::usage(
                tr!(
                    "--acl `{a}`: `{s}` is neither a zone nor an interface of {}",
                    "--acl `{a}`: `{s}` は {} のゾーンでもインターフェースでもありません",
                    pt.id
                ),
                Some(tr!(
                    "zones and interfaces: {list}",
                    "ゾーンとインターフェース: {list}"
                )),
            ));
        }
        out.push(Acl { side, name });
    }
    Ok(out)
}

/// Lower `point` (as [`Loaded::point`] returns it) into rules and render them.
pub fn render(
    ctx: &Context,
    loaded: &Loaded,
    point: (&EnforcementPoint, &PointPlan),
    req: &RenderRequest,
) -> Result<Rendering> {
    let (pt, point_plan) = point;
    let target = req.target.unwrap_or(pt.target);
    let mode = req.mode.unwrap_or_else(|| Mode::default_for(&pt.kind));
    let host = matches!(pt.kind, PointKind::Host { .. });
    let t = target.as_str();
    let into = match &req.into {
        Some(_) if mode == Mode::Replace => {
            return Err(usage(
                "--into says where to merge: it needs --mode merge".into(),
                "--into はマージ先の指定です: --mode merge と一緒に使ってください".into(),
            ));
        }
        Some(text) => Some(parse_into(text, target, host)?),
        None => None,
    };
    let cisco_merge = target == Target::CiscoIos && mode == Mode::Merge;
    if !req.acls.is_empty() && !cisco_merge {
        return Err(usage(
            format!(
                "--acl names the existing access lists of a cisco-ios merge, not of {t} in mode {}",
                mode.as_str()
            ),
            format!(
                "--acl は cisco-ios のマージ先アクセスリストの指定です ({t}、モード {} では使えません)",
                mode.as_str()
            ),
        ));
    }
    if req.seq == Some(0) {
        return Err(usage(
            "--seq: IOS numbers entries from 1".into(),
            "--seq: IOS のエントリ番号は 1 からです".into(),
        ));
    }
    if req.seq.is_some() && !cisco_merge {
        return Err(usage(
            "--seq numbers the entries of a cisco-ios merge".into(),
            "--seq は cisco-ios のマージで追加するエントリの番号です".into(),
        ));
    }
    if cisco_merge && req.acls.is_empty() && !req.ir_only {
        return Err(Error::usage(
            tr!(
                "a cisco-ios merge adds entries to existing access lists: name them with --acl NAME (every side) or --acl ZONE=NAME",
                "cisco-ios のマージは既存のアクセスリストにエントリを追加します: --acl NAME (全側) または --acl ZONE=NAME で指定してください"
            ),
            Some(tr!(
                "or write whole ACLs with --mode replace",
                "ACL 全体を書くなら --mode replace を使ってください"
            )),
        ));
    }
    let options = Options {
        mode,
        remove: req.remove,
        into,
        acls: parse_acls(&req.acls, pt)?,
        seq: req.seq.unwrap_or(1),
        lang: req.lang,
    };
    let mut rules = crate::render::lower(&loaded.site, pt, point_plan);
    crate::render::name_services(&mut rules, &loaded.plan.flows);
    crate::render::cite_sources(&mut rules, &ctx.catalogs);
    let rendered = crate::render::render(&rules, target, &options);
    let lost: Vec<&str> = rendered
        .unexpressed()
        .map(|n| n.message.en.as_str())
        .collect();
    if !lost.is_empty() && !req.allow_partial && !req.remove && !req.ir_only {
        let lost_ja: Vec<&str> = rendered
            .unexpressed()
            .map(|n| n.message.ja.as_str())
            .collect();
        let (origin, id) = (&loaded.site.origin, &pt.id);
        return Err(Error::usage(
            Text::new(
                format!(
                    "{origin}: {t} cannot express all of enforcement point {id}: {}",
                    lost.join("; ")
                ),
                format!(
                    "{origin}: {t} では適用ポイント {id} をすべては表現できません: {}",
                    lost_ja.join("; ")
                ),
            ),
            Some(tr!(
                "nothing was written; --allow-partial writes the rest, each omission a comment in the file and a note",
                "何も書き出していません。--allow-partial を付けると残りを書き出します (省いた部分はファイル内のコメントと注意に示します)"
            )),
        ));
    }
    Ok(Rendering {
        rules,
        rendered,
        options,
    })
}
