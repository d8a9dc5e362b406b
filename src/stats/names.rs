//! HAProxy's names for the statistics columns and `show info` keys, in one
//! place: `show stat`, the stats page and the Prometheus exporter read them.

/// The `show stat` CSV columns, in HAProxy 2.6's order (index = column).
pub const STAT_FIELDS: [&str; 128] = [
    "pxname",                           // 0
    "svname",                           // 1
    "qcur",                             // 2
    "qmax",                             // 3
    "scur",                             // 4
    "smax",                             // 5
    "slim",                             // 6
    "stot",                             // 7
    "bin",                              // 8
    "bout",                             // 9
    "dreq",                             // 10
    "dresp",                            // 11
    "ereq",                             // 12
    "econ",                             // 13
    "eresp",                            // 14
    "wretr",                            // 15
    "wredis",                           // 16
    "status",                           // 17
    "weight",                           // 18
    "act",                              // 19
    "bck",                              // 20
    "chkfail",                          // 21
    "chkdown",                          // 22
    "lastchg",                          // 23
    "downtime",                         // 24
    "qlimit",                           // 25
    "pid",                              // 26
    "iid",                              // 27
    "sid",                              // 28
    "throttle",                         // 29
    "lbtot",                            // 30
    "tracked",                          // 31
    "type",                             // 32
    "rate",                             // 33
    "rate_lim",                         // 34
    "rate_max",                         // 35
    "check_status",                     // 36
    "check_code",                       // 37
    "check_duration",                   // 38
    "hrsp_1xx",                         // 39
    "hrsp_2xx",                         // 40
    "hrsp_3xx",                         // 41
    "hrsp_4xx",                         // 42
    "hrsp_5xx",                         // 43
    "hrsp_other",                       // 44
    "hanafail",                         // 45
    "req_rate",                         // 46
    "req_rate_max",                     // 47
    "req_tot",                          // 48
    "cli_abrt",                         // 49
    "srv_abrt",                         // 50
    "comp_in",                          // 51
    "comp_out",                         // 52
    "comp_byp",                         // 53
    "comp_rsp",                         // 54
    "lastsess",                         // 55
    "last_chk",                         // 56
    "last_agt",                         // 57
    "qtime",                            // 58
    "ctime",                            // 59
    "rtime",                            // 60
    "ttime",                            // 61
    "agent_status",                     // 62
    "agent_code",                       // 63
    "agent_duration",                   // 64
    "check_desc",                       // 65
    "agent_desc",                       // 66
    "check_rise",                       // 67
    "check_fall",                       // 68
    "check_health",                     // 69
    "agent_rise",                       // 70
    "agent_fall",                       // 71
    "agent_health",                     // 72
    "addr",                             // 73
    "cookie",                           // 74
    "mode",                             // 75
    "algo",                             // 76
    "conn_rate",                        // 77
    "conn_rate_max",                    // 78
    "conn_tot",                         // 79
    "intercepted",                      // 80
    "dcon",                             // 81
    "dses",                             // 82
    "wrew",                             // 83
    "connect",                          // 84
    "reuse",                            // 85
    "cache_lookups",                    // 86
    "cache_hits",                       // 87
    "srv_icur",                         // 88
    "src_ilim",                         // 89
    "qtime_max",                        // 90
    "ctime_max",                        // 91
    "rtime_max",                        // 92
    "ttime_max",                        // 93
    "eint",                             // 94
    "idle_conn_cur",                    // 95
    "safe_conn_cur",                    // 96
    "used_conn_cur",                    // 97
    "need_conn_est",                    // 98
    "uweight",                          // 99
    "agg_server_status",                // 100
    "agg_server_check_status",          // 101
    "agg_check_status",                 // 102
    "-",                                // 103
    "ssl_sess",                         // 104
    "ssl_reused_sess",                  // 105
    "ssl_failed_handshake",             // 106
    "h2_headers_rcvd",                  // 107
    "h2_data_rcvd",                     // 108
    "h2_settings_rcvd",                 // 109
    "h2_rst_stream_rcvd",               // 110
    "h2_goaway_rcvd",                   // 111
    "h2_detected_conn_protocol_errors", // 112
    "h2_detected_strm_protocol_errors", // 113
    "h2_rst_stream_resp",               // 114
    "h2_goaway_resp",                   // 115
    "h2_open_connections",              // 116
    "h2_backend_open_streams",          // 117
    "h2_total_connections",             // 118
    "h2_backend_total_streams",         // 119
    "h1_open_connections",              // 120
    "h1_open_streams",                  // 121
    "h1_total_connections",             // 122
    "h1_total_streams",                 // 123
    "h1_bytes_in",                      // 124
    "h1_bytes_out",                     // 125
    "h1_spliced_bytes_in",              // 126
    "h1_spliced_bytes_out",             // 127
];

/// Column indexes of [`STAT_FIELDS`] by name (`-` is `SEP`).
pub mod col {
    pub const PXNAME: usize = 0;
    pub const SVNAME: usize = 1;
    pub const QCUR: usize = 2;
    pub const QMAX: usize = 3;
    pub const SCUR: usize = 4;
    pub const SMAX: usize = 5;
    pub const SLIM: usize = 6;
    pub const STOT: usize = 7;
    pub const BIN: usize = 8;
    pub const BOUT: usize = 9;
    pub const DREQ: usize = 10;
    pub const DRESP: usize = 11;
    pub const EREQ: usize = 12;
    pub const ECON: usize = 13;
    pub const ERESP: usize = 14;
    pub const WRETR: usize = 15;
    pub const WREDIS: usize = 16;
    pub const STATUS: usize = 17;
    pub const WEIGHT: usize = 18;
    pub const ACT: usize = 19;
    pub const BCK: usize = 20;
    pub const CHKFAIL: usize = 21;
    pub const CHKDOWN: usize = 22;
    pub const LASTCHG: usize = 23;
    pub const DOWNTIME: usize = 24;
    pub const QLIMIT: usize = 25;
    pub const PID: usize = 26;
    pub const IID: usize = 27;
    pub const SID: usize = 28;
    pub const THROTTLE: usize = 29;
    pub const LBTOT: usize = 30;
    pub const TRACKED: usize = 31;
    pub const TYPE: usize = 32;
    pub const RATE: usize = 33;
    pub const RATE_LIM: usize = 34;
    pub const RATE_MAX: usize = 35;
    pub const CHECK_STATUS: usize = 36;
    pub const CHECK_CODE: usize = 37;
    pub const CHECK_DURATION: usize = 38;
    pub const HRSP_1XX: usize = 39;
    pub const HRSP_2XX: usize = 40;
    pub const HRSP_3XX: usize = 41;
    pub const HRSP_4XX: usize = 42;
    pub const HRSP_5XX: usize = 43;
    pub const HRSP_OTHER: usize = 44;
    pub const HANAFAIL: usize = 45;
    pub const REQ_RATE: usize = 46;
    pub const REQ_RATE_MAX: usize = 47;
    pub const REQ_TOT: usize = 48;
    pub const CLI_ABRT: usize = 49;
    pub const SRV_ABRT: usize = 50;
    pub const COMP_IN: usize = 51;
    pub const COMP_OUT: usize = 52;
    pub const COMP_BYP: usize = 53;
    pub const COMP_RSP: usize = 54;
    pub const LASTSESS: usize = 55;
    pub const LAST_CHK: usize = 56;
    pub const LAST_AGT: usize = 57;
    pub const QTIME: usize = 58;
    pub const CTIME: usize = 59;
    pub const RTIME: usize = 60;
    pub const TTIME: usize = 61;
    pub const AGENT_STATUS: usize = 62;
    pub const AGENT_CODE: usize = 63;
    pub const AGENT_DURATION: usize = 64;
    pub const CHECK_DESC: usize = 65;
    pub const AGENT_DESC: usize = 66;
    pub const CHECK_RISE: usize = 67;
    pub const CHECK_FALL: usize = 68;
    pub const CHECK_HEALTH: usize = 69;
    pub const AGENT_RISE: usize = 70;
    pub const AGENT_FALL: usize = 71;
    pub const AGENT_HEALTH: usize = 72;
    pub const ADDR: usize = 73;
    pub const COOKIE: usize = 74;
    pub const MODE: usize = 75;
    pub const ALGO: usize = 76;
    pub const CONN_RATE: usize = 77;
    pub const CONN_RATE_MAX: usize = 78;
    pub const CONN_TOT: usize = 79;
    pub const INTERCEPTED: usize = 80;
    pub const DCON: usize = 81;
    pub const DSES: usize = 82;
    pub const WREW: usize = 83;
    pub const CONNECT: usize = 84;
    pub const REUSE: usize = 85;
    pub const CACHE_LOOKUPS: usize = 86;
    pub const CACHE_HITS: usize = 87;
    pub const SRV_ICUR: usize = 88;
    pub const SRC_ILIM: usize = 89;
    pub const QTIME_MAX: usize = 90;
    pub const CTIME_MAX: usize = 91;
    pub const RTIME_MAX: usize = 92;
    pub const TTIME_MAX: usize = 93;
    pub const EINT: usize = 94;
    pub const IDLE_CONN_CUR: usize = 95;
    pub const SAFE_CONN_CUR: usize = 96;
    pub const USED_CONN_CUR: usize = 97;
    pub const NEED_CONN_EST: usize = 98;
    pub const UWEIGHT: usize = 99;
    pub const AGG_SERVER_STATUS: usize = 100;
    pub const AGG_SERVER_CHECK_STATUS: usize = 101;
    pub const AGG_CHECK_STATUS: usize = 102;
    pub const SEP: usize = 103;
    pub const SSL_SESS: usize = 104;
    pub const SSL_REUSED_SESS: usize = 105;
    pub const SSL_FAILED_HANDSHAKE: usize = 106;
    pub const H2_HEADERS_RCVD: usize = 107;
    pub const H2_DATA_RCVD: usize = 108;
    pub const H2_SETTINGS_RCVD: usize = 109;
    pub const H2_RST_STREAM_RCVD: usize = 110;
    pub const H2_GOAWAY_RCVD: usize = 111;
    pub const H2_DETECTED_CONN_PROTOCOL_ERRORS: usize = 112;
    pub const H2_DETECTED_STRM_PROTOCOL_ERRORS: usize = 113;
    pub const H2_RST_STREAM_RESP: usize = 114;
    pub const H2_GOAWAY_RESP: usize = 115;
    pub const H2_OPEN_CONNECTIONS: usize = 116;
    pub const H2_BACKEND_OPEN_STREAMS: usize = 117;
    pub const H2_TOTAL_CONNECTIONS: usize = 118;
    pub const H2_BACKEND_TOTAL_STREAMS: usize = 119;
    pub const H1_OPEN_CONNECTIONS: usize = 120;
    pub const H1_OPEN_STREAMS: usize = 121;
    pub const H1_TOTAL_CONNECTIONS: usize = 122;
    pub const H1_TOTAL_STREAMS: usize = 123;
    pub const H1_BYTES_IN: usize = 124;
    pub const H1_BYTES_OUT: usize = 125;
    pub const H1_SPLICED_BYTES_IN: usize = 126;
    pub const H1_SPLICED_BYTES_OUT: usize = 127;
}
