//! Date literals, date offsets and the date functions (`now()`, `startOfDay()`, …), all in
//! UTC.

use chrono::{
    DateTime, Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
};

/// The unit of a date offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
}

/// A calendar period of the `startOf…` / `endOf…` functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Period {
    Day,
    Week,
    Month,
    Year,
}

impl Period {
    fn unit(self) -> Unit {
        match self {
            Period::Day => Unit::Day,
            Period::Week => Unit::Week,
            Period::Month => Unit::Month,
            Period::Year => Unit::Year,
        }
    }
}

/// A date function of CQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateFn {
    Now,
    StartOf(Period),
    EndOf(Period),
}

impl DateFn {
    /// Looks a date function up by name, case-insensitively.
    pub(crate) fn from_name(name: &str) -> Option<DateFn> {
        let f = match name.to_ascii_lowercase().as_str() {
            "now" => DateFn::Now,
            "startofday" => DateFn::StartOf(Period::Day),
            "startofweek" => DateFn::StartOf(Period::Week),
            "startofmonth" => DateFn::StartOf(Period::Month),
            "startofyear" => DateFn::StartOf(Period::Year),
            "endofday" => DateFn::EndOf(Period::Day),
            "endofweek" => DateFn::EndOf(Period::Week),
            "endofmonth" => DateFn::EndOf(Period::Month),
            "endofyear" => DateFn::EndOf(Period::Year),
            _ => return None,
        };
        Some(f)
    }

    /// Evaluates the function at `now` with an optional offset such as `"-1d"`.
    ///
    /// `now(off)` is `now + off` (the unit is required). `startOfX(off)` is the start of the
    /// current X plus `off`; `endOfX(off)` is the last millisecond of the X-long period that
    /// starts there, i.e. `start + off + 1 X - 1 ms`, so `endOfMonth("-1M")` is the end of the
    /// previous month whatever its length. An offset without a unit counts Xs.
    ///
    /// Returns a lower-case message on a malformed offset or an out-of-range result.
    pub(crate) fn eval(
        self,
        now: DateTime<Utc>,
        offset: Option<&str>,
    ) -> Result<DateTime<Utc>, String> {
        let default_unit = match self {
            DateFn::Now => None,
            DateFn::StartOf(p) | DateFn::EndOf(p) => Some(p.unit()),
        };
        let offset = offset.map(|o| parse_offset(o, default_unit)).transpose()?;
        let shifted = |t: DateTime<Utc>| match offset {
            Some((n, unit)) => add(t, n, unit),
            None => Ok(t),
        };
        match self {
            DateFn::Now => shifted(now),
            DateFn::StartOf(p) => shifted(start_of(now, p)),
            DateFn::EndOf(p) => {
                let start = shifted(start_of(now, p))?;
                add(start, 1, p.unit())?
                    .checked_sub_signed(TimeDelta::milliseconds(1))
                    .ok_or_else(|| "date offset out of range".to_string())
            }
        }
    }
}

const OFFSET_HELP: &str = "expected e.g. \"-1d\", \"+2w\", \"-3M\" (units y, M, w, d, h, m)";

/// Parses `[+-]digits[unit]`; `default_unit` is used when the unit is missing (an error
/// when `None`).
fn parse_offset(text: &str, default_unit: Option<Unit>) -> Result<(i64, Unit), String> {
    let bad = |why: &str| format!("invalid date offset \"{text}\": {why}");
    let t = text.trim();
    let (negative, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, unit) = rest.split_at(digits_end);
    if digits.is_empty() {
        return Err(bad(OFFSET_HELP));
    }
    let unit = match unit {
        "y" | "Y" => Unit::Year,
        "M" => Unit::Month,
        "w" | "W" => Unit::Week,
        "d" | "D" => Unit::Day,
        "h" | "H" => Unit::Hour,
        "m" => Unit::Minute,
        "" => match default_unit {
            Some(u) => u,
            None => return Err(bad("missing unit (y, M, w, d, h or m)")),
        },
        _ => return Err(bad(OFFSET_HELP)),
    };
    let n: i64 = digits.parse().map_err(|_| bad("number too large"))?;
    Ok((if negative { -n } else { n }, unit))
}

/// `t + n units`; months and years keep the day of month, clamped to the month's end.
fn add(t: DateTime<Utc>, n: i64, unit: Unit) -> Result<DateTime<Utc>, String> {
    let out_of_range = || "date offset out of range".to_string();
    let months = |m: i64| -> Result<DateTime<Utc>, String> {
        let abs = u32::try_from(m.unsigned_abs()).map_err(|_| out_of_range())?;
        if m >= 0 {
            t.checked_add_months(Months::new(abs))
        } else {
            t.checked_sub_months(Months::new(abs))
        }
        .ok_or_else(out_of_range)
    };
    let delta = match unit {
        Unit::Year => return months(n.checked_mul(12).ok_or_else(out_of_range)?),
        Unit::Month => return months(n),
        Unit::Week => TimeDelta::try_weeks(n),
        Unit::Day => TimeDelta::try_days(n),
        Unit::Hour => TimeDelta::try_hours(n),
        Unit::Minute => TimeDelta::try_minutes(n),
    };
    delta
        .and_then(|d| t.checked_add_signed(d))
        .ok_or_else(out_of_range)
}

/// Midnight (UTC) starting the period that contains `now`; weeks start on Monday.
fn start_of(now: DateTime<Utc>, period: Period) -> DateTime<Utc> {
    let d = now.date_naive();
    let first = match period {
        Period::Day => Some(d),
        Period::Week => d.checked_sub_days(chrono::Days::new(u64::from(
            d.weekday().num_days_from_monday(),
        ))),
        Period::Month => d.with_day(1),
        Period::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1),
    }
    // Only fails at the very edge of chrono's range, where the day itself is the best answer.
    .unwrap_or(d);
    Utc.from_utc_datetime(&first.and_time(NaiveTime::MIN))
}

/// Parses a date literal: `yyyy-MM-dd`, `yyyy/MM/dd`, optionally followed by ` HH:mm`, as
/// UTC.
pub(crate) fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    for fmt in ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(Utc.from_utc_datetime(&dt));
        }
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, fmt) {
            return Some(Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)));
        }
    }
    None
}
