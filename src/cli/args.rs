//! Arguments shared by several commands, and the clap mirrors of the stages' enums.
//!
//! The stages do not depend on clap: each enum a flag takes has a mirror here with the same
//! variants and the same doc comments (clap shows them in `--help`), converted with `From`.
//! The reverse `From` is there so that a variant added to a stage enum fails to compile until
//! its mirror has it too.

/// A clap mirror of a stage enum: the same variants in the same order, with their docs.
macro_rules! mirror {
    (
        $(#[$meta:meta])*
        enum $name:ident => $stage:ty {
            $( $(#[$vmeta:meta])* $variant:ident, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl From<$name> for $stage {
            fn from(v: $name) -> $stage {
                match v {
                    $( $name::$variant => <$stage>::$variant, )*
                }
            }
        }

        impl From<$stage> for $name {
            fn from(v: $stage) -> $name {
                match v {
                    $( <$stage>::$variant => $name::$variant, )*
                }
            }
        }
    };
}

mirror! {
    /// Output language ([`crate::i18n::Lang`]).
    enum Lang => crate::i18n::Lang {
        /// English.
        En,
        /// 日本語.
        Ja,
    }
}

mirror! {
    /// Output format of data-printing commands ([`crate::output::Format`]).
    #[derive(Default)]
    enum Format => crate::output::Format {
        /// Human-readable table.
        #[default]
        Table,
        /// JSON (stable schema, see README).
        Json,
        /// CSV, one row per port range.
        Csv,
        /// Markdown, for tickets and wikis.
        Md,
    }
}

mirror! {
    /// How listen and probe results are printed ([`crate::output::verify::VerifyFormat`]).
    #[derive(Default)]
    enum VerifyFormat => crate::output::verify::VerifyFormat {
        /// Human-readable.
        #[default]
        Table,
        /// JSON (listen: one JSON object per line, `ready` then `done`).
        Json,
        /// JUnit XML, for CI pipelines (probe only).
        Junit,
    }
}

mirror! {
    /// Output format of `portplan report` ([`crate::report::ReportFormat`]).
    enum ReportFormat => crate::report::ReportFormat {
        /// Excel workbook: a summary, the options, one sheet per enforcement point.
        Xlsx,
        /// Markdown.
        Md,
        /// Self-contained HTML (inline CSS and SVG diagram).
        Html,
        /// The diagram as SVG.
        Svg,
        /// The diagram as Graphviz DOT.
        Dot,
    }
}

mirror! {
    /// Render target ([`crate::site::Target`]).
    enum Target => crate::site::Target {
        /// nftables (`nft -f`).
        Nftables,
        /// iptables-restore / ip6tables-restore.
        Iptables,
        /// Windows Defender Firewall (PowerShell).
        Windows,
        /// Cisco IOS extended ACLs.
        CiscoIos,
        /// firewalld.
        Firewalld,
    }
}

mirror! {
    /// Input format of `portplan audit` ([`crate::audit::Kind`]).
    enum Kind => crate::audit::Kind {
        /// `nft -j list ruleset`.
        NftJson,
        /// `iptables-save`.
        IptablesSave,
        /// `ip6tables-save`.
        Ip6tablesSave,
    }
}

mirror! {
    /// A transport protocol ([`crate::catalog::Protocol`]).
    enum Protocol => crate::catalog::Protocol {
        Tcp,
        Udp,
    }
}
