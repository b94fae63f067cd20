//! `portplan completions SHELL` and `portplan man`: shell completion scripts and the man page,
//! generated from the same clap definitions as `--help` (clap_complete, clap_mangen), so they
//! never fall out of step with the commands.

use clap::CommandFactory;

use crate::cli::{Cli, Global};
use crate::diag::{EXIT_OK, Error, Result};
use crate::i18n::Lang;
use crate::tr;

/// A shell clap_complete writes completions for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// PowerShell.
    Powershell,
    /// Elvish.
    Elvish,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell: bash, zsh, fish, powershell or elvish / 対象のシェル
    shell: Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {}

fn write_err(e: std::io::Error) -> Error {
    Error::usage(
        tr!(
            "cannot write to stdout: {e}",
            "標準出力に書き込めません: {e}"
        ),
        None,
    )
}

pub fn run(args: Args, _g: &Global, _lang: Lang) -> Result<u8> {
    use clap_complete::shells;
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    match args.shell {
        Shell::Bash => clap_complete::generate(shells::Bash, &mut cmd, "portplan", &mut out),
        Shell::Zsh => clap_complete::generate(shells::Zsh, &mut cmd, "portplan", &mut out),
        Shell::Fish => clap_complete::generate(shells::Fish, &mut cmd, "portplan", &mut out),
        Shell::Powershell => {
            clap_complete::generate(shells::PowerShell, &mut cmd, "portplan", &mut out)
        }
        Shell::Elvish => clap_complete::generate(shells::Elvish, &mut cmd, "portplan", &mut out),
    }
    use std::io::Write;
    std::io::stdout().write_all(&out).map_err(write_err)?;
    Ok(EXIT_OK)
}

/// The man page (roff) on stdout: `portplan man > portplan.1`.
pub fn run_man(_args: ManArgs, _g: &Global, lang: Lang) -> Result<u8> {
    let man = clap_mangen::Man::new(crate::cli::command(lang));
    let mut out = Vec::new();
    man.render(&mut out).map_err(write_err)?;
    if lang == Lang::Ja {
        // The section names of Japanese man pages (clap_mangen writes them in English).
        let text = String::from_utf8_lossy(&out).into_owned();
        let text = [
            (".SH NAME", ".SH 名前"),
            (".SH SYNOPSIS", ".SH 書式"),
            (".SH DESCRIPTION", ".SH 説明"),
            (".SH OPTIONS", ".SH オプション"),
            (".SH SUBCOMMANDS", ".SH サブコマンド"),
            (".SH VERSION", ".SH バージョン"),
            (".SH EXTRA", ".SH 補足"),
            (".SH AUTHORS", ".SH 作者"),
        ]
        .iter()
        .fold(text, |t, (en, ja)| t.replace(en, ja));
        out = crate::cli::localize::help_text(&text, lang).into_bytes();
    }
    use std::io::Write;
    std::io::stdout().write_all(&out).map_err(write_err)?;
    Ok(EXIT_OK)
}
