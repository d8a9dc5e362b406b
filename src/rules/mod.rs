//! Sample fetches, converters, matchers, conditions and actions, and their
//! evaluation against a connection or request.

pub mod expr;
pub mod message;

/// The rule lists of one proxy. Filled by `compile`.
#[derive(Debug, Default)]
pub struct ProxyRules {}
