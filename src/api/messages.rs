//! Every text the runtime API answers with, in one place. Clients parse some
//! of them, so they are HAProxy 2.6's texts to the byte (`haproxy-cli.md`),
//! including which ones end with a newline: most do, and the framing adds
//! the terminator after them; the two weight-parse errors do not.

pub const PERMISSION_DENIED: &str = "Permission denied\n";

pub const HELP_HEADER: &str = "The following commands are valid at this level:\n";
pub const UNKNOWN_EMPTY: &str =
    "Unknown command. Please enter one of the following commands only:\n";
pub const UNKNOWN_SIMILAR: &str =
    "Unknown command, but maybe one of the following ones is a better match:\n";

// ----- server lookup (`<backend>/<server>`) -----
pub const REQUIRE_BACKEND_SERVER: &str = "Require 'backend/server'.\n";
pub const NO_SUCH_BACKEND: &str = "No such backend.\n";
pub const NO_SUCH_SERVER: &str = "No such server.\n";

// ----- weights -----
pub const REQUIRE_WEIGHT: &str = "Require <weight> or <weight%>.\n";
pub const WEIGHT_EMPTY: &str = "Empty weight string empty or preceded by garbage";
pub const WEIGHT_TRAILING: &str = "Trailing garbage in weight string";
pub const WEIGHT_RELATIVE_NEGATIVE: &str = "Relative weight must be positive.\n";
pub const WEIGHT_ABSOLUTE_RANGE: &str =
    "Absolute weight can only be between 0 and 256 inclusive.\n";
pub const WEIGHT_STATIC_ALGO: &str =
    "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n";

// ----- set server -----
pub const SET_SERVER_USAGE: &str = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n";
pub const SET_SERVER_STATE: &str =
    "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n";
pub const SET_SERVER_ADDR_USAGE: &str =
    "set server <b>/<s> addr requires an address and optionally a port.\n";
/// Suffix of every `set server ... addr` report.
pub const BY_CLI: &str = " by 'stats socket command'\n";

// ----- frontends, backends, proxies -----
pub const FRONTEND_EXPECTED: &str = "A frontend name is expected.\n";
pub const NO_SUCH_FRONTEND: &str = "No such frontend.\n";
pub const ALREADY_ENABLED: &str = "All sockets are already enabled.\n";
pub const ALREADY_DISABLED: &str = "All sockets are already disabled.\n";
pub const CANT_FIND_BACKEND: &str = "Can't find backend.\n";
pub const NO_SUCH_PROXY: &str = "No such proxy.\n";

// ----- stick tables -----
pub const NO_SUCH_TABLE: &str = "No such table\n";
pub const KEY_EXPECTED: &str = "Key value expected\n";
pub const INVALID_KEY: &str = "Invalid key\n";
pub const SHOW_KEY_TYPE: &str =
    "Showing keys from tables of type other than ip, ipv6, string and integer is not supported\n";
pub const CLEAR_KEY_TYPE: &str =
    "Removing keys from tables of type other than ip, ipv6, string and integer is not supported\n";
pub const SET_KEY_TYPE: &str =
    "Inserting keys into tables of type other than ip, ipv6, string and integer is not supported\n";
pub const SHOW_TABLE_ARGS: &str =
    "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n";
pub const CLEAR_TABLE_ARGS: &str = "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>\n";
pub const SET_TABLE_ARGS: &str =
    "Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n";
pub const SET_TABLE_BY_CONTENT: &str =
    "content-based lookup is only supported with the \"show\" and \"clear\" actions\n";
pub const SET_TABLE_DATA_EXPECTED: &str = "\"data.<type>\" followed by a value expected\n";
pub const UNKNOWN_DATA_TYPE: &str = "Unknown data type\n";
pub const DATA_NOT_STORED: &str = "Data type not stored in this table\n";
pub const REQUIRE_VALUE_TO_STORE: &str = "Require a valid integer value to store\n";
pub const ENTRY_IN_USE: &str = "Entry currently in use, cannot remove\n";
pub const TABLE_FULL: &str = "Unable to allocate a new entry\n";

/// `Filter entry #<n>: <what>` texts.
pub const FILTER_UNKNOWN_TYPE: &str = "Unknown data type";
pub const FILTER_NOT_STORED: &str = "Data type not stored in this table";
pub const FILTER_BAD_OP: &str =
    "Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\"";
pub const FILTER_BAD_VALUE: &str = "Require a valid integer value to compare against";

/// `Filter entry #<n>: <what>\n`.
pub fn filter_error(n: usize, what: &str) -> String {
    format!("Filter entry #{n}: {what}\n")
}

/// Too many `data.` filters: `<pos>` is the 1-based position of the first
/// extra word, `<after>` the word before it.
pub fn filter_extra(pos: usize, after: &str) -> String {
    format!("Detected extra data in filter, {pos}th word of input, after '{after}'\n")
}

// ----- misc -----
pub const TIMEOUT_USAGE: &str = "'set timeout' only supports 'cli'.\n";
pub const TIMEOUT_EXPECTS: &str = "Expects an integer value.\n";
pub const TIMEOUT_INVALID: &str = "Invalid timeout value.\n";
/// An API command lbd lists (for HAProxy compatibility) but does not run.
pub const NOT_SUPPORTED: &str = "This command is not supported by lbd.\n";
/// A request line longer than the input buffer.
pub const LINE_TOO_LONG: &str = "Command line too long.\n";
