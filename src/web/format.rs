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

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(super::timestamp(1_795_442_700), "23 Nov 2026, 14:05 UTC");
    }
}
