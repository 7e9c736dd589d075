//! Budget windows in UTC civil time: the day ("2026-11-26"), the month ("2026-11") and the
//! never-ending total ("total"), with when each resets. Pure date math (days from civil).

use super::types::Period;
use std::time::{Duration, SystemTime};

const DAY_SECS: u64 = 86_400;

/// The window of `period` that `now` falls in, as its id ("2026-11-26", "2026-11", "total"),
/// and when it ends (`None` for the total budget).
pub fn period_window(period: Period, now: SystemTime) -> (String, Option<SystemTime>) {
    let key = window_key(period, WindowIds::at(now));
    (window_label(period, key), window_end(period, key))
}

/// Compact ids of the daily and monthly windows (`20261126`, `202611`), fixed at reserve time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WindowIds {
    pub day: u32,
    pub month: u32,
}

impl WindowIds {
    pub(crate) fn at(now: SystemTime) -> WindowIds {
        let days = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() / DAY_SECS)
            .unwrap_or(0);
        let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
        let month = u32::try_from(y.clamp(0, 9999)).unwrap_or(0) * 100 + m;
        WindowIds {
            day: month * 100 + d,
            month,
        }
    }
}

/// The compact id of one period's window (0 for total).
pub(crate) fn window_key(period: Period, ids: WindowIds) -> u32 {
    match period {
        Period::Daily => ids.day,
        Period::Monthly => ids.month,
        Period::Total => 0,
    }
}

/// The public id of a window: "2026-11-26", "2026-11" or "total".
pub(crate) fn window_label(period: Period, key: u32) -> String {
    match period {
        Period::Daily => format!(
            "{:04}-{:02}-{:02}",
            key / 10_000,
            key / 100 % 100,
            key % 100
        ),
        Period::Monthly => format!("{:04}-{:02}", key / 100, key % 100),
        Period::Total => "total".to_string(),
    }
}

/// Parses a public window id back to its compact id.
pub(crate) fn parse_window(period: Period, window: &str) -> Result<u32, String> {
    let bad = || format!("'{window}' is not a {} budget window", period.as_str());
    let num = |s: &str| -> Result<u32, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u32>().map_err(|_| bad())
    };
    let parts: Vec<&str> = window.split('-').collect();
    match (period, parts.as_slice()) {
        (Period::Total, ["total"]) => Ok(0),
        (Period::Monthly, [y, m]) if y.len() == 4 && m.len() == 2 => {
            let (y, m) = (num(y)?, num(m)?);
            if !(1..=12).contains(&m) {
                return Err(bad());
            }
            Ok(y * 100 + m)
        }
        (Period::Daily, [y, m, d]) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            let (y, m, d) = (num(y)?, num(m)?, num(d)?);
            if !(1..=12).contains(&m) || d < 1 || d > days_in_month(i64::from(y), m) {
                return Err(bad());
            }
            Ok((y * 100 + m) * 100 + d)
        }
        _ => Err(bad()),
    }
}

/// When a window ends (00:00 UTC of the next day / of the 1st of the next month).
pub(crate) fn window_end(period: Period, key: u32) -> Option<SystemTime> {
    let days = match period {
        Period::Daily => days_from_civil(i64::from(key / 10_000), key / 100 % 100, key % 100) + 1,
        Period::Monthly => {
            let (y, m) = (i64::from(key / 100), key % 100);
            if m >= 12 {
                days_from_civil(y + 1, 1, 1)
            } else {
                days_from_civil(y, m + 1, 1)
            }
        }
        Period::Total => return None,
    };
    let secs = u64::try_from(days).unwrap_or(0) * DAY_SECS;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(y: i64, m: u32, d: u32, secs_into_day: u64) -> SystemTime {
        let days = u64::try_from(days_from_civil(y, m, d)).unwrap();
        SystemTime::UNIX_EPOCH + Duration::from_secs(days * DAY_SECS + secs_into_day)
    }

    #[test]
    fn civil_round_trips_over_four_centuries() {
        for z in (-1000..200_000).step_by(7) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn daily_window_and_reset() {
        let now = at(2026, 11, 26, 14 * 3600);
        let (w, reset) = period_window(Period::Daily, now);
        assert_eq!(w, "2026-11-26");
        assert_eq!(reset, Some(at(2026, 11, 27, 0)));
        // The last second of a day is still that day; midnight is the next one.
        let (w, _) = period_window(Period::Daily, at(2026, 11, 26, DAY_SECS - 1));
        assert_eq!(w, "2026-11-26");
        let (w, _) = period_window(Period::Daily, at(2026, 11, 27, 0));
        assert_eq!(w, "2026-11-27");
    }

    #[test]
    fn december_rolls_into_january() {
        let now = at(2026, 12, 31, 23 * 3600);
        assert_eq!(
            period_window(Period::Daily, now),
            ("2026-12-31".to_string(), Some(at(2027, 1, 1, 0)))
        );
        assert_eq!(
            period_window(Period::Monthly, now),
            ("2026-12".to_string(), Some(at(2027, 1, 1, 0)))
        );
        assert_eq!(
            period_window(Period::Monthly, at(2027, 1, 1, 0)).0,
            "2027-01"
        );
    }

    #[test]
    fn february_in_leap_and_common_years() {
        assert_eq!(
            period_window(Period::Daily, at(2028, 2, 28, 10)),
            ("2028-02-28".to_string(), Some(at(2028, 2, 29, 0)))
        );
        assert_eq!(
            period_window(Period::Daily, at(2028, 2, 29, 10)),
            ("2028-02-29".to_string(), Some(at(2028, 3, 1, 0)))
        );
        assert_eq!(
            period_window(Period::Daily, at(2027, 2, 28, 10)).1,
            Some(at(2027, 3, 1, 0))
        );
        assert_eq!(at(2028, 3, 1, 0), at(2028, 2, 28, 2 * DAY_SECS));
        assert_eq!(at(2100, 3, 1, 0), at(2100, 2, 28, DAY_SECS)); // 2100 is not leap
        assert_eq!(
            period_window(Period::Monthly, at(2028, 2, 10, 0)).1,
            Some(at(2028, 3, 1, 0))
        );
        assert_eq!(period_window(Period::Total, at(2028, 2, 10, 0)).1, None);
    }

    #[test]
    fn window_ids_parse_back() {
        assert_eq!(parse_window(Period::Daily, "2026-11-26"), Ok(20_261_126));
        assert_eq!(parse_window(Period::Monthly, "2026-11"), Ok(202_611));
        assert_eq!(parse_window(Period::Total, "total"), Ok(0));
        assert_eq!(parse_window(Period::Daily, "2028-02-29"), Ok(20_280_229));
        for bad in [
            "2027-02-29",
            "2026-13-01",
            "2026-11",
            "26-11-26",
            "2026-1-26",
            "x",
        ] {
            assert!(parse_window(Period::Daily, bad).is_err(), "{bad}");
        }
        assert!(parse_window(Period::Monthly, "2026-11-26").is_err());
        assert!(parse_window(Period::Total, "2026").is_err());
        assert_eq!(window_label(Period::Daily, 20_261_126), "2026-11-26");
        assert_eq!(window_label(Period::Monthly, 202_601), "2026-01");
    }
}
