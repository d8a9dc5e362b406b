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
