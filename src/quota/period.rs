//! Budget windows in UTC civil time: the day ("2026-11-26"), the month ("2026-11") and the
//! never-ending total ("total"), with when each resets. The calendar itself is
//! [`crate::calendar`]'s; this module only names windows and packs them into compact ids.

use super::types::Period;
use crate::calendar;
use chrono::{Datelike, NaiveDate};
use std::time::SystemTime;

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
        let date = calendar::date_of(now);
        let year = u32::try_from(date.year().clamp(0, 9999)).unwrap_or(0);
        let month = year * 100 + date.month();
        WindowIds {
            day: month * 100 + date.day(),
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
            date(y, m, 1).ok_or_else(bad)?;
            Ok(y * 100 + m)
        }
        (Period::Daily, [y, m, d]) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            let (y, m, d) = (num(y)?, num(m)?, num(d)?);
            date(y, m, d).ok_or_else(bad)?;
            Ok((y * 100 + m) * 100 + d)
        }
        _ => Err(bad()),
    }
}

/// When a window ends (00:00 UTC of the next day / of the 1st of the next month). An id no
/// [`WindowIds`] or [`parse_window`] made counts as 1970-01-01.
pub(crate) fn window_end(period: Period, key: u32) -> Option<SystemTime> {
    let next = match period {
        Period::Daily => calendar::next_day(key_date(key / 10_000, key / 100 % 100, key % 100)),
        Period::Monthly => calendar::first_of_next_month(key_date(key / 100, key % 100, 1)),
        Period::Total => return None,
    };
    Some(calendar::date_start(next))
}

fn date(y: u32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

fn key_date(y: u32, m: u32, d: u32) -> NaiveDate {
    date(y, m, d).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    const DAY_SECS: u64 = 86_400;

    fn at(y: i32, m: u32, d: u32, secs_into_day: u64) -> SystemTime {
        calendar::date_start(NaiveDate::from_ymd_opt(y, m, d).unwrap())
            + Duration::from_secs(secs_into_day)
    }

    #[test]
    fn window_ids_follow_the_calendar_over_four_centuries() {
        let mut date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2400, 1, 1).unwrap();
        while date < last {
            let noon = calendar::date_start(date) + Duration::from_secs(DAY_SECS / 2);
            let ids = WindowIds::at(noon);
            assert_eq!(window_label(Period::Daily, ids.day), date.to_string());
            assert_eq!(
                window_label(Period::Monthly, ids.month),
                date.format("%Y-%m").to_string()
            );
            assert_eq!(
                window_end(Period::Daily, ids.day),
                Some(calendar::next_day_start(noon))
            );
            date = calendar::next_day(date);
        }
        assert_eq!(
            WindowIds::at(SystemTime::UNIX_EPOCH),
            WindowIds {
                day: 19_700_101,
                month: 197_001
            }
        );
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
    fn month_ends_roll_into_the_next_month() {
        for (now, day_end, month_end) in [
            (at(2026, 1, 31, 100), at(2026, 2, 1, 0), at(2026, 2, 1, 0)),
            (at(2026, 4, 30, 100), at(2026, 5, 1, 0), at(2026, 5, 1, 0)),
            (at(2026, 4, 29, 100), at(2026, 4, 30, 0), at(2026, 5, 1, 0)),
        ] {
            assert_eq!(period_window(Period::Daily, now).1, Some(day_end));
            assert_eq!(period_window(Period::Monthly, now).1, Some(month_end));
        }
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
        assert_eq!(
            period_window(Period::Daily, at(2100, 2, 28, 10)).1,
            Some(at(2100, 3, 1, 0)),
            "2100 is not leap"
        );
        assert_eq!(
            period_window(Period::Daily, at(2000, 2, 28, 10)).1,
            Some(at(2000, 2, 29, 0)),
            "2000 is"
        );
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
        assert_eq!(parse_window(Period::Daily, "2000-02-29"), Ok(20_000_229));
        for bad in [
            "2027-02-29",
            "2100-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-11-00",
            "2026-11",
            "26-11-26",
            "2026-1-26",
            "x",
        ] {
            assert!(parse_window(Period::Daily, bad).is_err(), "{bad}");
        }
        assert!(parse_window(Period::Monthly, "2026-11-26").is_err());
        assert!(parse_window(Period::Monthly, "2026-13").is_err());
        assert!(parse_window(Period::Monthly, "2026-00").is_err());
        assert!(parse_window(Period::Total, "2026").is_err());
        assert_eq!(window_label(Period::Daily, 20_261_126), "2026-11-26");
        assert_eq!(window_label(Period::Monthly, 202_601), "2026-01");
        for w in ["2026-11-26", "2028-02-29", "2026-12-31"] {
            let key = parse_window(Period::Daily, w).unwrap();
            assert_eq!(window_label(Period::Daily, key), w);
        }
    }
}
