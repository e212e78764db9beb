//! A credential's usage as its detail page shows it: a stacked bar chart of the last 30 days,
//! drawn as SVG on the server (numbers computed here, markup in `partials/usage.html`, every
//! text escaped by askama), the same figures as a table, and the last addresses it came from.

use chrono::{NaiveDate, NaiveDateTime};

use crate::services::usage::{Outcome, UsageReport, CHART_DAYS};
use crate::web::views::When;

pub const CHART_WIDTH: u32 = 600;
pub const CHART_HEIGHT: u32 = 160;
/// Room below the bars for the first and last day's labels.
const AXIS: u32 = 18;

/// The chart's series, bottom to top: what each outcome is called and drawn with.
const SERIES: [(Outcome, &str); 4] = [
    (Outcome::Success, "#2e7d32"),
    (Outcome::ClientError, "#e0a100"),
    (Outcome::RateLimited, "#c62828"),
    (Outcome::ServerError, "#6a1b9a"),
];

pub struct Segment {
    pub y: u32,
    pub height: u32,
    pub fill: &'static str,
    pub outcome: &'static str,
}

pub struct Bar {
    pub x: u32,
    pub width: u32,
    /// "2026-12-01: 5 × 2xx, 1 × 4xx, 0 × 429, 0 × 5xx"
    pub title: String,
    pub segments: Vec<Segment>,
}

/// One day in the table: its date and its requests per outcome (2xx, 4xx, 429, 5xx).
pub struct DayRow {
    pub day: String,
    pub success: i64,
    pub client_error: i64,
    pub rate_limited: i64,
    pub server_error: i64,
}

impl DayRow {
    pub fn total(&self) -> i64 {
        self.success + self.client_error + self.rate_limited + self.server_error
    }
}

pub struct IpRow {
    pub ip: String,
    pub first_seen: When,
    pub last_seen: When,
}

pub struct UsageView {
    pub width: u32,
    pub height: u32,
    pub axis_y: u32,
    pub first_day: String,
    pub last_day: String,
    pub bars: Vec<Bar>,
    /// Every day of the period, oldest first (the table shows those with requests).
    pub days: Vec<DayRow>,
    pub totals: DayRow,
    /// "42 requests in the last 30 days: 40 × 2xx, 1 × 4xx, 1 × 429, 0 × 5xx."
    pub summary: String,
    pub legend: Vec<(&'static str, &'static str)>,
    pub ips: Vec<IpRow>,
}

impl UsageView {
    pub fn is_empty(&self) -> bool {
        self.totals.total() == 0 && self.ips.is_empty()
    }

    pub fn build(report: UsageReport, now: NaiveDateTime) -> Self {
        let today = now.date();
        let first = today - chrono::Duration::days(CHART_DAYS - 1);
        let days: Vec<DayRow> = (0..CHART_DAYS)
            .map(|i| first + chrono::Duration::days(i))
            .map(|day| row(&report, day))
            .collect();
        let mut totals = DayRow {
            day: "Total".into(),
            success: 0,
            client_error: 0,
            rate_limited: 0,
            server_error: 0,
        };
        for d in &days {
            totals.success += d.success;
            totals.client_error += d.client_error;
            totals.rate_limited += d.rate_limited;
            totals.server_error += d.server_error;
        }
        let max = days.iter().map(DayRow::total).max().unwrap_or(0).max(1);
        let plot = CHART_HEIGHT - AXIS;
        let slot = CHART_WIDTH / CHART_DAYS as u32;
        let bars = days
            .iter()
            .zip(0u32..)
            .map(|(d, i)| {
                // Each segment ends where the running total ends, so rounding never makes
                // a stack taller or shorter than its day's total.
                let scale = |n: i64| ((n as f64 / max as f64) * f64::from(plot)).round() as u32;
                let (mut top, mut below) = (plot, 0);
                let segments = SERIES
                    .iter()
                    .filter_map(|&(outcome, fill)| {
                        let n = count_of(d, outcome);
                        if n == 0 {
                            return None;
                        }
                        below += n;
                        let end = plot.saturating_sub(scale(below));
                        // Any request at all gets at least a pixel.
                        let y = end.min(top.saturating_sub(1));
                        let segment = Segment {
                            y,
                            height: top - y,
                            fill,
                            outcome: outcome.label(),
                        };
                        top = y;
                        Some(segment)
                    })
                    .collect();
                Bar {
                    x: i * slot + 1,
                    width: slot.saturating_sub(2).max(1),
                    title: format!(
                        "{}: {} × 2xx, {} × 4xx, {} × 429, {} × 5xx",
                        d.day, d.success, d.client_error, d.rate_limited, d.server_error
                    ),
                    segments,
                }
            })
            .collect();
        let summary = format!(
            "{} requests in the last {CHART_DAYS} days: {} × 2xx, {} × 4xx, {} × 429, {} × 5xx.",
            totals.total(),
            totals.success,
            totals.client_error,
            totals.rate_limited,
            totals.server_error
        );
        Self {
            width: CHART_WIDTH,
            height: CHART_HEIGHT,
            axis_y: CHART_HEIGHT - 4,
            first_day: first.to_string(),
            last_day: today.to_string(),
            bars,
            days,
            totals,
            summary,
            legend: SERIES.iter().map(|&(o, fill)| (o.label(), fill)).collect(),
            ips: report
                .ips
                .into_iter()
                .map(|ip| IpRow {
                    ip: ip.ip,
                    first_seen: When::at(ip.first_seen, now),
                    last_seen: When::at(ip.last_seen, now),
                })
                .collect(),
        }
    }
}

fn row(report: &UsageReport, day: NaiveDate) -> DayRow {
    let n = |outcome: Outcome| {
        report
            .daily
            .iter()
            .filter(|(d, o, _)| *d == day && *o == outcome)
            .map(|(_, _, n)| *n)
            .sum()
    };
    DayRow {
        day: day.to_string(),
        success: n(Outcome::Success),
        client_error: n(Outcome::ClientError),
        rate_limited: n(Outcome::RateLimited),
        server_error: n(Outcome::ServerError),
    }
}

fn count_of(d: &DayRow, outcome: Outcome) -> i64 {
    match outcome {
        Outcome::Success => d.success,
        Outcome::ClientError => d.client_error,
        Outcome::RateLimited => d.rate_limited,
        Outcome::ServerError => d.server_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_within_the_plot_and_the_tallest_day_fills_it() {
        let now = NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap_or_default();
        let today = now.date();
        let report = UsageReport {
            daily: vec![
                (today, Outcome::Success, 6),
                (today, Outcome::ClientError, 2),
                (today, Outcome::RateLimited, 2),
                (today - chrono::Duration::days(3), Outcome::Success, 1),
                (today - chrono::Duration::days(40), Outcome::Success, 99),
            ],
            ips: Vec::new(),
        };
        let view = UsageView::build(report, now);
        assert_eq!(view.bars.len(), CHART_DAYS as usize);
        assert_eq!(view.totals.total(), 11);
        let last = view.bars.last().map(|b| &b.segments);
        let heights: Vec<u32> = last
            .map(|s| s.iter().map(|s| s.height).collect())
            .unwrap_or_default();
        assert_eq!(heights.iter().sum::<u32>(), CHART_HEIGHT - AXIS);
        assert!(view.bars.iter().all(|b| b
            .segments
            .iter()
            .all(|s| s.y + s.height <= CHART_HEIGHT - AXIS)));
        assert!(view.summary.starts_with("11 requests"));
    }
}
