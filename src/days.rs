//! Days are the person's days: a time zone (IANA, from jiff's bundled database) and
//! a week start. Entries are stored in UTC seconds and cut into local days here, so
//! an entry across midnight counts on both days and a week with a daylight-saving
//! change adds up (its days are 23 or 25 hours long).

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

#[derive(Debug, Clone)]
pub struct Days {
    pub tz: TimeZone,
    pub week_start: Weekday,
}

/// The week starts a company can choose.
pub const WEEK_STARTS: [(&str, &str); 3] = [
    ("monday", "Monday"),
    ("sunday", "Sunday"),
    ("saturday", "Saturday"),
];

pub fn parse_week_start(raw: &str) -> Option<Weekday> {
    match raw {
        "monday" => Some(Weekday::Monday),
        "sunday" => Some(Weekday::Sunday),
        "saturday" => Some(Weekday::Saturday),
        _ => None,
    }
}

/// A time zone by its IANA name ("Europe/Berlin"); `None` for an unknown name.
pub fn parse_zone(name: &str) -> Option<TimeZone> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return None;
    }
    TimeZone::get(name).ok()
}

/// Every IANA zone name the bundled database knows, sorted.
pub fn zone_names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_owned())
        .filter(|n| n.contains('/') || n == "UTC")
        .collect();
    names.sort();
    names
}

impl Days {
    /// The zone and week start named, falling back to UTC and Monday for values that
    /// no longer parse (they were checked when saved).
    pub fn new(zone: &str, week_start: &str) -> Self {
        Self {
            tz: parse_zone(zone).unwrap_or(TimeZone::UTC),
            week_start: parse_week_start(week_start).unwrap_or(Weekday::Monday),
        }
    }

    pub fn zoned(&self, secs: i64) -> Zoned {
        Timestamp::from_second(secs)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.tz.clone())
    }

    pub fn date_of(&self, secs: i64) -> Date {
        self.zoned(secs).date()
    }

    /// The first second of a local day (midnight, or the first instant after a gap).
    pub fn start_of(&self, date: Date) -> i64 {
        date.to_zoned(self.tz.clone())
            .map(|z| z.timestamp().as_second())
            .unwrap_or(0)
    }

    /// A local date and time as UTC seconds. In a daylight-saving gap the later
    /// reading is taken; in an overlap, the earlier.
    pub fn at(&self, date: Date, time: Time) -> i64 {
        date.to_datetime(time)
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp().as_second())
            .unwrap_or(0)
    }

    /// The first day of the week holding `date`.
    pub fn week_of(&self, date: Date) -> Date {
        let back = date.weekday().since(self.week_start);
        date.checked_sub(jiff::Span::new().days(back))
            .unwrap_or(date)
    }

    /// Seven local days from `first`.
    pub fn week(&self, first: Date) -> [Date; 7] {
        let mut days = [first; 7];
        for (i, day) in days.iter_mut().enumerate() {
            *day = first
                .checked_add(jiff::Span::new().days(i as i64))
                .unwrap_or(first);
        }
        days
    }

    /// `[start, end)` of a run of local days, in UTC seconds.
    pub fn range(&self, first: Date, days: i64) -> (i64, i64) {
        let after = first
            .checked_add(jiff::Span::new().days(days))
            .unwrap_or(first);
        (self.start_of(first), self.start_of(after))
    }

    /// The seconds of `[start, end)` that fall on each local day, in order.
    pub fn split(&self, start: i64, end: i64) -> Vec<(Date, i64)> {
        let mut out = Vec::new();
        let mut day = self.date_of(start);
        let mut from = start;
        while from < end {
            let next_day = day.tomorrow().unwrap_or(day);
            let day_end = self.start_of(next_day).min(end);
            if day_end <= from {
                break;
            }
            out.push((day, day_end - from));
            from = day_end;
            day = next_day;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn berlin() -> Days {
        Days::new("Europe/Berlin", "monday")
    }

    #[test]
    fn an_entry_across_midnight_counts_on_both_days() {
        let days = berlin();
        let start = days.at(date(2026, 12, 1), Time::constant(23, 0, 0, 0));
        let end = days.at(date(2026, 12, 2), Time::constant(1, 30, 0, 0));
        assert_eq!(
            days.split(start, end),
            vec![(date(2026, 12, 1), 3600), (date(2026, 12, 2), 5400)]
        );
    }

    #[test]
    fn a_daylight_saving_week_adds_up() {
        // Europe/Berlin leaves summer time on Sunday 25 October 2026: that day has 25 hours.
        let days = berlin();
        let first = days.week_of(date(2026, 10, 21));
        assert_eq!(first, date(2026, 10, 19));
        let (from, to) = days.range(first, 7);
        assert_eq!(to - from, 7 * 86_400 + 3600);
        let split = days.split(from, to);
        assert_eq!(split.len(), 7);
        assert_eq!(split[6], (date(2026, 10, 25), 25 * 3600));
        assert_eq!(split.iter().map(|(_, s)| s).sum::<i64>(), to - from);
    }

    #[test]
    fn weeks_start_on_the_chosen_day() {
        let sunday = Days::new("UTC", "sunday");
        assert_eq!(sunday.week_of(date(2026, 12, 2)), date(2026, 11, 29));
        let monday = Days::new("UTC", "monday");
        assert_eq!(monday.week_of(date(2026, 12, 2)), date(2026, 11, 30));
        assert_eq!(monday.week_of(date(2026, 11, 30)), date(2026, 11, 30));
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert!(parse_zone("Mars/Olympus").is_none());
        assert!(parse_zone("America/New_York").is_some());
        assert!(zone_names().iter().any(|n| n == "Asia/Kolkata"));
    }
}
