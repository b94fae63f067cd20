//! portplan: which ports must I open for this product, and why?
//!
//! The pipeline (see ARCHITECTURE.md): [`catalog`] (vendor facts) → [`flows`] (role-level
//! requirements for the chosen options) → plan → render | audit | verify | report.
//! Each stage is a module with typed input and output; [`app`] holds the application rules
//! that front ends share, and [`cli`] is a thin shell over it.

#![warn(missing_docs)]

pub mod addr;
pub mod app;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod condition;
pub mod diag;
pub mod diff;
pub mod escape;
pub mod explain;
pub mod fleet;
pub mod flows;
pub mod fsutil;
pub mod i18n;
pub mod iana;
pub mod import;
pub mod options;
pub mod output;
pub mod packet;
pub mod plan;
pub mod portset;
pub mod render;
pub mod report;
pub mod site;
pub mod suggest;
pub mod text;
pub mod verify;
pub mod web;
