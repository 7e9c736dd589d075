//! UTC calendar arithmetic, in one place: the day and month a moment falls in, when they start
//! and when the next one starts (budget resets), and the start of any date (ledger ranges).
//! Everything is UTC civil time on the proleptic Gregorian calendar (chrono's `NaiveDate`).
//!
//! Cheap and allocation-free: admission computes the current day and month on every request.
//! Moments before 1970 count as 1970-01-01 00:00 UTC (as `SystemTime`s are, nothing is earlier
//! than the epoch here); dates past chrono's range saturate at its last day.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, Utc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The UTC date `t` falls on.
pub fn date_of(t: SystemTime) -> NaiveDate {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs())
            .ok()
            .and_then(|secs| DateTime::<Utc>::from_timestamp(secs, 0))
            .map_or(NaiveDate::MAX, |dt| dt.date_naive()),
        Err(_) => NaiveDate::default(),
    }
}

/// Today in UTC.
pub fn today() -> NaiveDate {
    date_of(SystemTime::now())
}

/// 00:00 UTC of `date` (the epoch for earlier dates).
pub fn date_start(date: NaiveDate) -> SystemTime {
    let secs = date.and_time(NaiveTime::MIN).and_utc().timestamp();
    match u64::try_from(secs) {
        Ok(s) => UNIX_EPOCH + Duration::from_secs(s),
        Err(_) => UNIX_EPOCH,
    }
}

/// The day after `date` (the same date at the end of chrono's range).
pub fn next_day(date: NaiveDate) -> NaiveDate {
    date.checked_add_days(Days::new(1)).unwrap_or(date)
}

/// The 1st of the month `date` falls in.
pub fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The 1st of the month after the one `date` falls in.
pub fn first_of_next_month(date: NaiveDate) -> NaiveDate {
    let first = first_of_month(date);
    first.checked_add_months(Months::new(1)).unwrap_or(first)
}

/// Start of the UTC day containing `t`.
pub fn day_start(t: SystemTime) -> SystemTime {
    date_start(date_of(t))
}

/// Start of the UTC month containing `t`.
pub fn month_start(t: SystemTime) -> SystemTime {
    date_start(first_of_month(date_of(t)))
}

/// Start of the UTC day after the one containing `t`: when daily budgets reset.
pub fn next_day_start(t: SystemTime) -> SystemTime {
    date_start(next_day(date_of(t)))
}

/// 00:00 UTC on the 1st of the month after the one containing `t`: when monthly budgets reset.
pub fn next_month_start(t: SystemTime) -> SystemTime {
    date_start(first_of_next_month(date_of(t)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> SystemTime {
        humantime::parse_rfc3339(s).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_day_runs_from_midnight_to_the_last_second() {
        assert_eq!(date_of(at("2026-11-26T00:00:00Z")), d("2026-11-26"));
        assert_eq!(date_of(at("2026-11-26T23:59:59.999Z")), d("2026-11-26"));
        assert_eq!(date_of(at("2026-11-27T00:00:00Z")), d("2026-11-27"));
        assert_eq!(
            day_start(at("2026-11-26T14:30:00Z")),
            at("2026-11-26T00:00:00Z")
        );
        assert_eq!(
            next_day_start(at("2026-11-26T14:30:00Z")),
            at("2026-11-27T00:00:00Z")
        );
        assert_eq!(
            next_day_start(at("2026-11-27T00:00:00Z")),
            at("2026-11-28T00:00:00Z"),
            "exactly midnight resets at the next midnight"
        );
    }

    #[test]
    fn month_ends() {
        for (now, start, next) in [
            ("2026-01-31T12:00:00Z", "2026-01-01", "2026-02-01"),
            ("2026-04-30T23:59:59Z", "2026-04-01", "2026-05-01"),
            ("2026-05-31T23:59:59Z", "2026-05-01", "2026-06-01"),
            ("2026-06-01T00:00:00Z", "2026-06-01", "2026-07-01"),
            ("2026-11-15T08:00:00Z", "2026-11-01", "2026-12-01"),
        ] {
            assert_eq!(month_start(at(now)), date_start(d(start)), "{now}");
            assert_eq!(next_month_start(at(now)), date_start(d(next)), "{now}");
        }
        assert_eq!(next_day(d("2026-04-30")), d("2026-05-01"));
        assert_eq!(next_day(d("2026-01-31")), d("2026-02-01"));
    }

    #[test]
    fn leap_years() {
        // 2028 is leap, 2027 is not, 2100 is not (divisible by 100), 2000 is (by 400).
        assert_eq!(next_day(d("2028-02-28")), d("2028-02-29"));
        assert_eq!(next_day(d("2028-02-29")), d("2028-03-01"));
        assert_eq!(next_day(d("2027-02-28")), d("2027-03-01"));
        assert_eq!(next_day(d("2100-02-28")), d("2100-03-01"));
        assert_eq!(next_day(d("2000-02-28")), d("2000-02-29"));
        assert_eq!(
            next_month_start(at("2028-02-29T23:59:59Z")),
            at("2028-03-01T00:00:00Z")
        );
        assert_eq!(
            next_month_start(at("2028-01-31T10:00:00Z")),
            at("2028-02-01T00:00:00Z")
        );
        assert_eq!(
            month_start(at("2028-02-29T10:00:00Z")),
            at("2028-02-01T00:00:00Z")
        );
        assert_eq!(
            date_start(d("2028-03-01")),
            date_start(d("2028-02-28")) + Duration::from_secs(2 * 86_400)
        );
    }

    #[test]
    fn year_ends() {
        let eve = at("2026-12-31T23:59:59Z");
        assert_eq!(date_of(eve), d("2026-12-31"));
        assert_eq!(next_day_start(eve), at("2027-01-01T00:00:00Z"));
        assert_eq!(next_month_start(eve), at("2027-01-01T00:00:00Z"));
        assert_eq!(month_start(eve), at("2026-12-01T00:00:00Z"));
        assert_eq!(date_of(at("2027-01-01T00:00:00Z")), d("2027-01-01"));
        assert_eq!(
            next_month_start(at("2028-12-31T00:00:00Z")),
            at("2029-01-01T00:00:00Z")
        );
    }

    #[test]
    fn edges_of_the_range() {
        assert_eq!(date_of(UNIX_EPOCH), d("1970-01-01"));
        assert_eq!(
            date_of(UNIX_EPOCH - Duration::from_secs(10)),
            d("1970-01-01")
        );
        assert_eq!(date_start(d("1969-12-31")), UNIX_EPOCH);
        assert_eq!(next_day(NaiveDate::MAX), NaiveDate::MAX);
        assert_eq!(
            first_of_next_month(NaiveDate::MAX),
            first_of_month(NaiveDate::MAX)
        );
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        assert_eq!(date_of(far), NaiveDate::MAX);
    }

    #[test]
    fn every_day_of_four_centuries_starts_where_the_previous_ends() {
        let mut date = d("2000-01-01");
        let mut start = date_start(date);
        while date < d("2400-01-01") {
            let next = next_day(date);
            let next_start = date_start(next);
            assert_eq!(next_start.duration_since(start).unwrap().as_secs(), 86_400);
            assert_eq!(date_of(next_start - Duration::from_secs(1)), date);
            assert_eq!(date_of(next_start), next);
            (date, start) = (next, next_start);
        }
    }
}
