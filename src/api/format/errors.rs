//! `show errors [<proxy>]`: lbd does not capture faulty requests yet, so
//! it reports the total HAProxy prints first, with no capture after it.

use super::super::{Ctx, messages};
use crate::stats::Counters;

pub fn show(ctx: &Ctx, proxy: Option<&str>) -> String {
    let p = &ctx.program;
    let total: u64 = match proxy {
        Some(name) if !name.is_empty() && name != "request" && name != "response" => {
            match p.find_proxy(name) {
                Some(px) => {
                    Counters::read(&px.frontend_counters.errors_req)
                        + Counters::read(&px.backend_counters.errors_resp)
                }
                None => return messages::NO_SUCH_PROXY.into(),
            }
        }
        _ => p
            .proxies
            .iter()
            .map(|px| {
                Counters::read(&px.frontend_counters.errors_req)
                    + Counters::read(&px.backend_counters.errors_resp)
            })
            .sum(),
    };
    format!("Total events captured on [{}] : {total}\n", now_stamp())
}

/// `25/Nov/2026:18:28:42.702` in UTC.
pub fn now_stamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{d:02}/{}/{y}:{:02}:{:02}:{:02}.{:03}",
        MONTHS[(m - 1) as usize % 12],
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 → (year, month 1..12, day 1..31).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn days_become_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_417), (2025, 11, 25));
    }
}
