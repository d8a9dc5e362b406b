//! What a stick table is declared to be: key type, size, expiry, stored data.
//! Built by `compile` from `stick-table` lines; read by the table itself, the
//! rules and the runtime API.

/// Index of a table in the program (declaration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(pub u32);

/// The type of a table's keys, with HAProxy's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// IPv4 addresses.
    Ip,
    /// IPv6 addresses (IPv4 keys are stored mapped, `::ffff:a.b.c.d`).
    Ipv6,
    /// 32-bit signed integers.
    Integer,
    /// Strings, truncated to `len` bytes (32 by default).
    String { len: u32 },
    /// Binary blobs, zero-padded or truncated to `len` bytes (32 by default).
    Binary { len: u32 },
}

impl KeyType {
    /// The name `show table` prints and `stick-table type` takes.
    pub fn as_keyword(self) -> &'static str {
        match self {
            KeyType::Ip => "ip",
            KeyType::Ipv6 => "ipv6",
            KeyType::Integer => "integer",
            KeyType::String { .. } => "string",
            KeyType::Binary { .. } => "binary",
        }
    }
}

/// A data type a table can store, in HAProxy's internal order (the order in
/// which `show table` prints them, whatever the order of `store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    ServerId,
    Gpt0,
    Gpc0,
    Gpc0Rate,
    ConnCnt,
    ConnRate,
    ConnCur,
    SessCnt,
    SessRate,
    HttpReqCnt,
    HttpReqRate,
    HttpErrCnt,
    HttpErrRate,
    BytesInCnt,
    BytesInRate,
    BytesOutCnt,
    BytesOutRate,
    Gpc1,
    Gpc1Rate,
}

impl DataType {
    /// Every data type, in HAProxy's order.
    pub const ALL: [DataType; 19] = [
        DataType::ServerId,
        DataType::Gpt0,
        DataType::Gpc0,
        DataType::Gpc0Rate,
        DataType::ConnCnt,
        DataType::ConnRate,
        DataType::ConnCur,
        DataType::SessCnt,
        DataType::SessRate,
        DataType::HttpReqCnt,
        DataType::HttpReqRate,
        DataType::HttpErrCnt,
        DataType::HttpErrRate,
        DataType::BytesInCnt,
        DataType::BytesInRate,
        DataType::BytesOutCnt,
        DataType::BytesOutRate,
        DataType::Gpc1,
        DataType::Gpc1Rate,
    ];

    /// The name used by `store`, `data.<name>` filters and `show table`.
    pub fn as_keyword(self) -> &'static str {
        match self {
            DataType::ServerId => "server_id",
            DataType::Gpt0 => "gpt0",
            DataType::Gpc0 => "gpc0",
            DataType::Gpc0Rate => "gpc0_rate",
            DataType::ConnCnt => "conn_cnt",
            DataType::ConnRate => "conn_rate",
            DataType::ConnCur => "conn_cur",
            DataType::SessCnt => "sess_cnt",
            DataType::SessRate => "sess_rate",
            DataType::HttpReqCnt => "http_req_cnt",
            DataType::HttpReqRate => "http_req_rate",
            DataType::HttpErrCnt => "http_err_cnt",
            DataType::HttpErrRate => "http_err_rate",
            DataType::BytesInCnt => "bytes_in_cnt",
            DataType::BytesInRate => "bytes_in_rate",
            DataType::BytesOutCnt => "bytes_out_cnt",
            DataType::BytesOutRate => "bytes_out_rate",
            DataType::Gpc1 => "gpc1",
            DataType::Gpc1Rate => "gpc1_rate",
        }
    }

    pub fn from_keyword(word: &str) -> Option<DataType> {
        DataType::ALL.into_iter().find(|d| d.as_keyword() == word)
    }

    /// Whether the type is a sliding-window rate and so needs a period.
    pub fn is_rate(self) -> bool {
        matches!(
            self,
            DataType::Gpc0Rate
                | DataType::ConnRate
                | DataType::SessRate
                | DataType::HttpReqRate
                | DataType::HttpErrRate
                | DataType::BytesInRate
                | DataType::BytesOutRate
                | DataType::Gpc1Rate
        )
    }
}

/// One stored data type; `period_ms` is the window of a rate type, 0 otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataSpec {
    pub data_type: DataType,
    pub period_ms: u32,
}

/// A declared table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    /// The table's name: the name of the proxy that declares it.
    pub name: String,
    pub key_type: KeyType,
    /// Maximum number of entries.
    pub size: u32,
    /// Idle time after which an untracked entry is removed; 0 = never.
    pub expire_ms: u32,
    /// When full, refuse new keys instead of evicting the least recently used.
    pub nopurge: bool,
    /// The `peers` section named by the table, kept for later use.
    pub peers: Option<String>,
    /// Stored data types, sorted in HAProxy's order, no duplicates.
    pub store: Vec<DataSpec>,
}

impl TableSpec {
    /// The stored spec of a data type, if the table stores it.
    pub fn stored(&self, data_type: DataType) -> Option<DataSpec> {
        self.store
            .iter()
            .copied()
            .find(|d| d.data_type == data_type)
    }
}
