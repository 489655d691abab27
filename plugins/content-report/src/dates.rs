//! Timestamps to seconds since 1970 (UTC): RFC 3339 (`2024-05-01T12:00:00Z`, offsets,
//! fractions, a bare date) and HTTP-date / RFC 2822 (`Wed, 01 May 2024 12:00:00 GMT`,
//! `1 May 2024 12:00 +0200`).

pub fn parse(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.as_bytes().first().is_some_and(u8::is_ascii_digit) && s.as_bytes().get(4) == Some(&b'-') {
        rfc3339(s)
    } else {
        rfc2822(s)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn valid(y: i64, m: i64, d: i64, h: i64, mi: i64, s: i64) -> bool {
    (1..=9999).contains(&y)
        && (1..=12).contains(&m)
        && (1..=31).contains(&d)
        && (0..=23).contains(&h)
        && (0..=59).contains(&mi)
        && (0..=60).contains(&s)
}

fn rfc3339(s: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let b = s.as_bytes();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(7) != Some(&b'-') {
        return None;
    }
    let (mut h, mut mi, mut sec, mut offset) = (0, 0, 0, 0);
    if s.len() > 10 {
        if !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        h = num(11..13)?;
        mi = num(14..16)?;
        let mut rest = &s[16..];
        if let Some(r) = rest.strip_prefix(':') {
            sec = num(17..19)?;
            rest = &r[2..];
        }
        let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        match rest.chars().next() {
            None | Some('Z') | Some('z') => {}
            Some(sign @ ('+' | '-')) => {
                let digits: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
                let oh: i64 = digits.get(0..2)?.parse().ok()?;
                let om: i64 = digits.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
                offset = (oh * 3600 + om * 60) * if sign == '-' { -1 } else { 1 };
            }
            _ => return None,
        }
    }
    valid(y, mo, d, h, mi, sec)
        .then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

fn rfc2822(s: &str) -> Option<i64> {
    let mut parts: Vec<&str> = s.split_whitespace().collect();
    // An optional day name: "Wed," (or "Wednesday," in RFC 850 dates).
    if parts
        .first()
        .is_some_and(|p| p.ends_with(',') || p.chars().all(|c| c.is_ascii_alphabetic()))
    {
        parts.remove(0);
    }
    // RFC 850: "01-May-24 12:00:00 GMT" is not supported (obsolete).
    if parts.len() < 4 {
        return None;
    }
    let d: i64 = parts[0].parse().ok()?;
    let m = month(parts[1])?;
    let mut y: i64 = parts[2].parse().ok()?;
    if parts[2].len() == 2 {
        y += if y < 50 { 2000 } else { 1900 };
    }
    let t: Vec<&str> = parts[3].split(':').collect();
    let h: i64 = t.first()?.parse().ok()?;
    let mi: i64 = t.get(1)?.parse().ok()?;
    let sec: i64 = t.get(2).map_or(Some(0), |v| v.parse().ok())?;
    let offset = match parts.get(4).copied() {
        None => 0,
        Some(z) => zone(z)?,
    };
    valid(y, m, d, h, mi, sec)
        .then(|| days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

fn month(name: &str) -> Option<i64> {
    let n = name.get(..3)?.to_ascii_lowercase();
    let i = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| *m == n)?;
    Some(i as i64 + 1)
}

/// A zone as an offset east of UTC, in seconds.
fn zone(z: &str) -> Option<i64> {
    let up = z.to_ascii_uppercase();
    let hours = match up.as_str() {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        _ => {
            let sign = match up.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits = &up[1..];
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            return Some(sign * (h * 3600 + m * 60));
        }
    };
    Some(hours * 3600)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn formats() {
        let t = 1_714_564_800; // 2024-05-01T12:00:00Z
        assert_eq!(parse("2024-05-01T12:00:00Z"), Some(t));
        assert_eq!(parse("2024-05-01T12:00:00.123456+00:00"), Some(t));
        assert_eq!(parse("2024-05-01T14:00:00+02:00"), Some(t));
        assert_eq!(parse("2024-05-01 12:00:00Z"), Some(t));
        assert_eq!(parse("2024-05-01"), Some(t - 12 * 3600));
        assert_eq!(parse("Wed, 01 May 2024 12:00:00 GMT"), Some(t));
        assert_eq!(parse("Wed, 1 May 2024 14:00:00 +0200"), Some(t));
        assert_eq!(parse("1 May 2024 12:00 UT"), Some(t));
        assert_eq!(parse("Wed, 01 May 2024 08:00:00 EDT"), Some(t));
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "Wed, 01 Foo 2024 12:00:00 GMT",
            "2024-05-01X12",
            "Wed, 01 May 2024 12:00:00 +2",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
