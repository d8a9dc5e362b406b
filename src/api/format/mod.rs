//! One file per `show`, plus the stats page and the Prometheus text that
//! the data plane serves with the same numbers.

pub mod errors;
pub mod html;
pub mod info;
pub mod prometheus;
pub mod servers_state;
pub mod sess;
pub mod stat;
pub mod table;

pub use html::stats_html;
pub use prometheus::prometheus;
pub use stat::stat_csv;

use crate::compile::program::Program;
use crate::stick::Tables;

/// What the data plane serves from the live numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `stats uri`: the HTML page, refreshed every `refresh_s` seconds.
    Html { refresh_s: Option<u64> },
    /// `stats uri` + `;csv`: the `show stat` CSV.
    Csv,
    /// `http-request use-service prometheus-exporter`.
    Prometheus,
}

/// The `Content-Type` and body of `page`, for the data plane's callback.
pub fn page(program: &Program, tables: &Tables, page: Page) -> (&'static str, String) {
    match page {
        Page::Html { refresh_s } => ("text/html", stats_html(program, refresh_s)),
        Page::Csv => ("text/plain", stat_csv(program)),
        Page::Prometheus => ("text/plain; version=0.0.4", prometheus(program, tables)),
    }
}
