//! A session's tracked entries (`sc0`..`sc2`) and the conversion of samples
//! to table keys.

use std::net::IpAddr;

use super::sample::Sample;
use crate::clock;
use crate::stick::{DataType, EntryRef, Key, KeyType, TableId, Tracker};

/// Where a `track-scN` rule runs, which decides what it counts and how long
/// it lasts. Every tracker counts the connection when it starts
/// (`conn_cnt` +1, a `conn_rate` event, `conn_cur` +1, as HAProxy's
/// `stream_start_counters`) and gives `conn_cur` back when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackCount {
    /// `tcp-request connection`: lasts as long as the connection.
    Connection,
    /// `tcp-request content`: lasts one stream (one HTTP request):
    /// haproxy-cli.md §5.2, a backend's content tracker counts every request
    /// of a keep-alive connection.
    Content,
    /// `http-request` / `http-response`: lasts one stream, and also counts
    /// the current request (`http_req_cnt`, `http_req_rate`) since the data
    /// plane counted requests before this tracker existed.
    HttpRequest,
}

/// One tracking slot's entry. Dropping it ends the tracking: `conn_cur` is
/// decremented, then the entry is unpinned.
#[derive(Debug)]
pub struct SessionTracker {
    table: TableId,
    stream_level: bool,
    tracker: Tracker,
}

impl SessionTracker {
    /// Starts tracking and counts what `count` says.
    pub fn start(
        table: TableId,
        tracker: Tracker,
        count: TrackCount,
        now_ms: u64,
    ) -> SessionTracker {
        let entry = tracker.entry();
        entry.count_connection(now_ms);
        if count == TrackCount::HttpRequest {
            let _stored: bool = entry.add(DataType::HttpReqCnt, 1, now_ms);
            let _stored: bool = entry.add(DataType::HttpReqRate, 1, now_ms);
        }
        SessionTracker {
            table,
            stream_level: count != TrackCount::Connection,
            tracker,
        }
    }

    pub fn table(&self) -> TableId {
        self.table
    }

    pub fn entry(&self) -> EntryRef<'_> {
        self.tracker.entry()
    }

    /// Whether the tracker ends with the stream (content and HTTP rules)
    /// rather than with the connection.
    pub fn is_stream_level(&self) -> bool {
        self.stream_level
    }
}

impl Drop for SessionTracker {
    fn drop(&mut self) {
        // `None` only when the table does not store conn_cur.
        let _new_value: Option<u64> = self.tracker.entry().dec_conn_cur(clock::now_ms());
    }
}

/// The three tracking slots of a session. At most one tracker per slot: a
/// `track-scN` rule on a taken slot does nothing.
pub type Trackers = [Option<SessionTracker>; 3];

/// Number of tracking slots (HAProxy's default `MAX_SESS_STKCTR`).
pub const TRACKER_SLOTS: usize = 3;

/// Converts a sample to a key of a table of type `key_type`; `None` when it
/// does not fit (an IPv6 address in an `ip` table: HAProxy tracks nothing).
pub fn sample_key(sample: &Sample<'_>, key_type: KeyType) -> Option<Key> {
    match (sample, key_type) {
        (Sample::Ip(ip), _) => Key::from_ip(key_type, *ip),
        (Sample::Int(i), _) => Key::from_int(key_type, *i),
        (Sample::Bool(b), _) => Key::from_int(key_type, i64::from(*b)),
        (Sample::Str(s), KeyType::Ip | KeyType::Ipv6) => {
            let ip: IpAddr = std::str::from_utf8(s).ok()?.trim().parse().ok()?;
            Key::from_ip(key_type, ip)
        }
        (Sample::Str(_), KeyType::Integer) => Key::from_int(key_type, sample.as_int()?),
        (Sample::Str(s), _) => Key::from_bytes(key_type, s),
    }
}
