//! See the crate documentation for where this module sits in the flow.
