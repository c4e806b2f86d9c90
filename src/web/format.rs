//! How times read on the page.

use time::OffsetDateTime;

/// "23 Nov 2026, 14:05 UTC".
pub fn timestamp(secs: i64) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "—".into())
}

/// How long ago `then` was, seen at `now`: "just now", "5 min ago", "3 h ago", then the
/// date and time.
pub fn ago(then: i64, now: i64) -> String {
    match now.saturating_sub(then) {
        ..=59 => "just now".into(),
        secs @ 60..=3599 => format!("{} min ago", secs / 60),
        secs @ 3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => timestamp(then),
    }
}

/// How long until `then`, seen at `now`: "in under a minute", "in 5 min", "in 3 h".
pub fn until(then: i64, now: i64) -> String {
    match then.saturating_sub(now) {
        ..=59 => "in under a minute".into(),
        secs @ 60..=3599 => format!("in {} min", (secs + 59) / 60),
        secs => format!("in {} h", (secs + 3599) / 3600),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(super::timestamp(1_795_442_700), "23 Nov 2026, 14:05 UTC");
    }

    #[test]
    fn says_how_long_until() {
        let now = 1_795_442_700;
        assert_eq!(super::until(now + 20, now), "in under a minute");
        assert_eq!(super::until(now + 61, now), "in 2 min");
        assert_eq!(super::until(now + 7200, now), "in 2 h");
    }

    #[test]
    fn says_how_long_ago() {
        let now = 1_795_442_700;
        assert_eq!(super::ago(now - 5, now), "just now");
        assert_eq!(
            super::ago(now + 5, now),
            "just now",
            "a clock a little ahead"
        );
        assert_eq!(super::ago(now - 300, now), "5 min ago");
        assert_eq!(super::ago(now - 7300, now), "2 h ago");
        assert_eq!(super::ago(now - 86_400, now), "22 Nov 2026, 14:05 UTC");
    }
}
