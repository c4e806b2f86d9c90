//! Reports: the company report (owners, admins, managers) or "My report" (everyone
//! else), with its chart by day, and the CSV download of the same entries.

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use askama::Template;
use futures_util::StreamExt;
use jiff::civil::Date;

use crate::auth::CurrentUser;
use crate::connectors::ProviderKind;
use crate::db::Pool;
use crate::error::AppResult;
use crate::services::reports::{self, Preset, ReportQuery, ReportView, Total};
use crate::services::time::{duration, Person};
use crate::urls;
use crate::web::render;
use crate::web::shell::{Nav, Page, Shell};

/// One option of a filter's `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A totals table: by person, tool, project or task.
pub struct TotalsTable {
    pub title: &'static str,
    pub column: &'static str,
    pub rows: Vec<Total>,
}

/// A day of the range, for the chart's companion table.
pub struct DayRow {
    pub label: String,
    pub hm: String,
    pub hours: String,
    pub any: bool,
}

/// A bar of the chart, in the SVG's coordinates.
pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub title: String,
}

/// A label under the bars or beside a grid line.
pub struct Label {
    pub x: String,
    pub y: String,
    pub text: String,
}

/// The bar chart of time by day, drawn on the server as inline SVG.
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub aria_label: String,
    pub bars: Vec<Bar>,
    pub day_labels: Vec<Label>,
    /// Horizontal grid lines: y, and the time they mark.
    pub grid: Vec<Label>,
    pub plot_left: u32,
    pub plot_right: u32,
}

const WIDTH: u32 = 720;
const HEIGHT: u32 = 220;
const LEFT: u32 = 44;
const RIGHT: u32 = 8;
const TOP: u32 = 12;
const BOTTOM: u32 = 26;

fn day_label(day: Date) -> String {
    day.strftime("%a %-d %b").to_string()
}

impl Chart {
    fn new(by_day: &[(Date, i64)], total: i64) -> Self {
        let n = by_day.len().max(1) as f64;
        let plot_w = f64::from(WIDTH - LEFT - RIGHT);
        let plot_h = f64::from(HEIGHT - TOP - BOTTOM);
        let most = by_day.iter().map(|(_, s)| *s).max().unwrap_or(0);
        // The scale tops out at a whole number of hours (two at least, so the middle
        // grid line is a whole hour too).
        let top_hours = ((most + 3599) / 3600).max(2);
        let top_hours = top_hours + top_hours % 2;
        let scale = plot_h / (top_hours * 3600) as f64;
        let slot = plot_w / n;
        let base = f64::from(TOP) + plot_h;
        let (bars, day_labels) = bars_and_labels(by_day, slot, scale, base);
        let grid = [0, top_hours / 2, top_hours]
            .into_iter()
            .map(|hours| Label {
                x: (LEFT - 6).to_string(),
                y: format!("{:.1}", base - (hours * 3600) as f64 * scale),
                text: format!("{hours}h"),
            })
            .collect();
        let aria_label = describe(by_day, total);
        Chart {
            width: WIDTH,
            height: HEIGHT,
            aria_label,
            bars,
            day_labels,
            grid,
            plot_left: LEFT,
            plot_right: WIDTH - RIGHT,
        }
    }
}

/// One bar per day with time, and the day labels under the axis (every day for a
/// week or a month, the months for longer).
fn bars_and_labels(
    by_day: &[(Date, i64)],
    slot: f64,
    scale: f64,
    base: f64,
) -> (Vec<Bar>, Vec<Label>) {
    let bar_w = (slot * 0.7).max(1.0);
    let mut bars = Vec::new();
    let mut day_labels = Vec::new();
    for (i, (day, secs)) in by_day.iter().enumerate() {
        let x = f64::from(LEFT) + slot * i as f64;
        if *secs > 0 {
            let h = (*secs as f64 * scale).max(1.0);
            bars.push(Bar {
                x: format!("{:.1}", x + (slot - bar_w) / 2.0),
                y: format!("{:.1}", base - h),
                width: format!("{bar_w:.1}"),
                height: format!("{h:.1}"),
                title: format!("{}: {}", day_label(*day), duration::hm(*secs)),
            });
        }
        let text = if by_day.len() <= 7 {
            Some(day.strftime("%a %-d").to_string())
        } else if by_day.len() <= 31 {
            Some(day.day().to_string())
        } else {
            (day.day() == 1 || i == 0).then(|| day.strftime("%b").to_string())
        };
        if let Some(text) = text {
            day_labels.push(Label {
                x: format!("{:.1}", x + slot / 2.0),
                y: (HEIGHT - 8).to_string(),
                text,
            });
        }
    }
    (bars, day_labels)
}

/// The chart in words, for screen readers.
fn describe(by_day: &[(Date, i64)], total: i64) -> String {
    let busiest = by_day
        .iter()
        .filter(|(_, s)| *s > 0)
        .max_by_key(|(_, s)| *s)
        .map(|(d, s)| format!("; most on {} ({})", day_label(*d), duration::hm(*s)))
        .unwrap_or_default();
    match (by_day.first(), by_day.last()) {
        (Some((first, _)), Some((last, _))) => format!(
            "Bar chart of time by day, {} to {}: {} in all{busiest}. The table beside it has each day.",
            day_label(*first),
            day_label(*last),
            duration::hm(total)
        ),
        _ => "Bar chart of time by day".into(),
    }
}

#[derive(Template)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    pub shell: Shell,
    pub heading: &'static str,
    pub company_wide: bool,
    pub range_label: String,
    pub presets: Vec<Choice>,
    pub from: String,
    pub to: String,
    pub people: Vec<Choice>,
    pub tools: Vec<Choice>,
    pub projects: Vec<Choice>,
    pub empty: bool,
    pub total_hm: String,
    pub total_hours: String,
    pub entries: usize,
    pub tables: Vec<TotalsTable>,
    pub chart: Chart,
    pub days: Vec<DayRow>,
    pub csv_href: String,
}

/// The filter bar's choices, with the criteria's own selected.
fn filter_choices(
    criteria: &reports::Criteria,
    people: Vec<(i64, String)>,
    projects: Vec<(String, String)>,
) -> (Vec<Choice>, Vec<Choice>, Vec<Choice>, Vec<Choice>) {
    let scope = &criteria.scope;
    let presets = Preset::ALL
        .into_iter()
        .map(|p| Choice {
            value: p.slug().into(),
            label: p.label().into(),
            selected: p == criteria.preset,
        })
        .collect();
    let people = people
        .into_iter()
        .map(|(id, name)| Choice {
            value: id.to_string(),
            label: name,
            selected: scope.person == Some(id),
        })
        .collect();
    let tools = ProviderKind::ALL
        .into_iter()
        .map(|k| Choice {
            value: k.slug().into(),
            label: k.name().into(),
            selected: scope.provider.as_deref() == Some(k.slug()),
        })
        .collect();
    let mut project_names: Vec<String> = projects.into_iter().map(|(_, p)| p).collect();
    if let Some(chosen) = &scope.project {
        project_names.push(chosen.clone());
    }
    project_names.sort();
    project_names.dedup();
    let projects = project_names
        .into_iter()
        .map(|p| Choice {
            selected: scope.project.as_deref() == Some(p.as_str()),
            label: p.clone(),
            value: p,
        })
        .collect();
    (presets, people, tools, projects)
}

/// The totals by person (company reports only), tool, project and task.
fn totals_tables(company_wide: bool, report: &reports::Report) -> Vec<TotalsTable> {
    let mut tables = Vec::new();
    if company_wide {
        tables.push(TotalsTable {
            title: "By person",
            column: "Person",
            rows: report.by_person.clone(),
        });
    }
    tables.push(TotalsTable {
        title: "By tool",
        column: "Tool",
        rows: report.by_tool.clone(),
    });
    tables.push(TotalsTable {
        title: "By project",
        column: "Project",
        rows: report.by_project.clone(),
    });
    tables.push(TotalsTable {
        title: "By task",
        column: "Task",
        rows: report.by_task.clone(),
    });
    tables
}

impl ReportsPage {
    fn new(shell: Shell, view: ReportView) -> Self {
        let ReportView {
            criteria,
            report,
            people,
            projects,
        } = view;
        let (presets, people, tools, projects) = filter_choices(&criteria, people, projects);
        let tables = totals_tables(criteria.company_wide, &report);
        let days = report
            .by_day
            .iter()
            .map(|(day, secs)| DayRow {
                label: day_label(*day),
                hm: duration::hm(*secs),
                hours: reports::hours(*secs),
                any: *secs > 0,
            })
            .collect();
        let csv_query = criteria.query().to_query_string();
        let range_label = format!(
            "{}: {} to {}",
            criteria.preset.label(),
            criteria.first.strftime("%a %-d %b %Y"),
            criteria.last.strftime("%a %-d %b %Y"),
        );
        ReportsPage {
            shell,
            heading: if criteria.company_wide {
                "Reports"
            } else {
                "My report"
            },
            company_wide: criteria.company_wide,
            range_label,
            presets,
            from: criteria.first.to_string(),
            to: criteria.last.to_string(),
            people,
            tools,
            projects,
            empty: report.entries == 0,
            total_hm: duration::hm(report.total),
            total_hours: reports::hours(report.total),
            entries: report.entries,
            tables,
            chart: Chart::new(&report.by_day, report.total),
            days,
            csv_href: format!("{}?{csv_query}", urls::REPORTS_CSV),
        }
    }
}

/// `GET /reports`: the company report for owners, admins and managers, the person's
/// own for everyone else.
pub async fn page(
    page: Page,
    pool: web::Data<Pool>,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let view = reports::report(&pool, &Person::of(&page.user), query.into_inner()).await?;
    render(&ReportsPage::new(page.shell(Nav::Reports), view))
}

/// `GET /reports.csv`: the report's entries, one a row, streamed chunk by chunk.
pub async fn csv(
    user: CurrentUser,
    pool: web::Data<Pool>,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let (name, body) = reports::export(&pool, &Person::of(&user), query.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(body.map(|chunk| chunk.map(Bytes::from))))
}
