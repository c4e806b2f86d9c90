//! Durations as people type them: `1:30`, `1h30m`, `90m`, `1.5` (hours), `2`.

/// Seconds, or a message saying what was not understood.
pub fn parse(raw: &str) -> Result<i64, String> {
    let text = raw.trim().to_lowercase().replace(' ', "");
    let refused = || {
        format!(
            "\"{}\" is not a duration. Write it like 1:30, 1h30m, 90m or 1.5.",
            raw.trim()
        )
    };
    if text.is_empty() {
        return Err(refused());
    }
    let secs = if let Some((h, m)) = text.split_once(':') {
        let hours: i64 = h.parse().map_err(|_| refused())?;
        let minutes: i64 = m.parse().map_err(|_| refused())?;
        if m.len() != 2 || minutes >= 60 {
            return Err(refused());
        }
        hours * 3600 + minutes * 60
    } else if text.ends_with('h') || text.ends_with('m') {
        units(&text).ok_or_else(refused)?
    } else {
        let hours: f64 = text.replace(',', ".").parse().map_err(|_| refused())?;
        if !hours.is_finite() {
            return Err(refused());
        }
        (hours * 3600.0).round() as i64
    };
    if secs <= 0 {
        return Err("A duration must be more than zero.".into());
    }
    Ok(secs)
}

/// `1h30m`, `2h`, `45m`.
fn units(text: &str) -> Option<i64> {
    let (hours, rest) = match text.split_once('h') {
        Some((h, rest)) => (h.parse::<i64>().ok()?, rest),
        None => (0, text),
    };
    let minutes = match rest.strip_suffix('m') {
        Some(m) => m.parse::<i64>().ok()?,
        None if rest.is_empty() => 0,
        None => return None,
    };
    (minutes < 60 || hours == 0).then_some(hours * 3600 + minutes * 60)
}

/// `1:05` (hours and minutes), as the Timesheet and reports show time.
pub fn hm(secs: i64) -> String {
    let minutes = secs.max(0) / 60;
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

/// `1:05:09`, for a running timer.
pub fn hms(secs: i64) -> String {
    let secs = secs.max(0);
    format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_ways_people_write_durations() {
        for (raw, secs) in [
            ("1:30", 5400),
            ("0:45", 2700),
            ("1h30m", 5400),
            ("1h 30m", 5400),
            ("2h", 7200),
            ("90m", 5400),
            ("1.5", 5400),
            ("1,25", 4500),
            ("2", 7200),
        ] {
            assert_eq!(parse(raw), Ok(secs), "{raw}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for raw in ["", "abc", "1:75", "1:5", "-1", "0", "1h75m", "NaN", "inf"] {
            assert!(parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn shows_hours_and_minutes() {
        assert_eq!(hm(5400), "1:30");
        assert_eq!(hm(59), "0:00");
        assert_eq!(hm(36_000 + 300), "10:05");
        assert_eq!(hms(3725), "1:02:05");
    }
}
