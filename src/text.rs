//! Wording shared by the CLI's output and the report model: sides (roles and addresses),
//! conditions and severities. Plain functions of typed values and a [`Lang`]; no terminal, no
//! format.

use std::fmt::Write as _;

use crate::addr::AddrSet;
use crate::catalog::Catalogs;
use crate::i18n::Lang;
use crate::site::Site;

/// Human label of a side: role names, then up to `max` CIDRs; the internet zone's addresses
/// (the complement of the site's zones, dozens of prefixes) are shown as one word.
pub fn side_text(
    site: &Site,
    catalogs: &Catalogs,
    roles: &std::collections::BTreeSet<String>,
    set: &AddrSet,
    lang: Lang,
    max: usize,
) -> String {
    let names: Vec<String> = roles
        .iter()
        .map(|r| match r.split_once('.') {
            Some((p, role)) => catalogs
                .get(p)
                .map_or(r.clone(), |c| c.role_name(role).get(lang).to_string()),
            None => r.clone(),
        })
        .collect();
    let mut names_dedup: Vec<String> = Vec::new();
    for n in names {
        if !names_dedup.contains(&n) {
            names_dedup.push(n);
        }
    }
    let mut cidrs = Vec::new();
    let mut rest = set.clone();
    if let Some(inet) = site.zone(crate::site::INTERNET) {
        for part in [inet.set.only_v4(), inet.set.only_v6()] {
            if part.has_addresses() && set.is_superset(&part) {
                let fam = if part.v4.is_empty() { "IPv6" } else { "IPv4" };
                cidrs.push(
                    lang.pick(
                        &format!("internet ({fam}, outside all zones)"),
                        &format!("インターネット ({fam}、全ゾーン外)"),
                    )
                    .to_string(),
                );
                rest = rest.difference(&part);
            }
        }
    }
    cidrs.extend(rest.cidrs());
    let shown: Vec<&str> = cidrs.iter().take(max).map(String::as_str).collect();
    let more = cidrs.len().saturating_sub(max);
    let mut s = names_dedup.join(lang.pick(", ", "、"));
    s.push('\n');
    s.push_str(&shown.join("\n"));
    if more > 0 {
        let _ = write!(
            s,
            "\n{}",
            lang.pick(&format!("… and {more} more"), &format!("… ほか {more} 件"))
        );
    }
    s
}

/// `Always`/`常に` for the trivial condition, else the conditions joined with `and`.
pub fn because_text(because: &[String], lang: Lang) -> String {
    if because.len() == 1 && because[0] == "always" {
        lang.pick("always", "常に").to_string()
    } else {
        because.join(" and ")
    }
}

/// Severity label.
pub fn severity_text(s: crate::catalog::Severity, lang: Lang) -> &'static str {
    use crate::catalog::Severity::*;
    match s {
        Info => lang.pick("info", "情報"),
        Warning => lang.pick("WARNING", "警告"),
        Critical => lang.pick("CRITICAL", "重大"),
    }
}
