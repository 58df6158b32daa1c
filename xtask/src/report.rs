//! The bench's table: one row per measurement, as Markdown.

use std::fmt::Write as _;

/// What a row's ratio must satisfy.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Ratio at least this.
    AtLeast(f64),
    /// Ratio at most this.
    AtMost(f64),
    /// The hallmark value itself below this.
    HallmarkBelow(f64),
    /// Reported for context, no target.
    Info,
}

/// One measurement.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured, with its unit.
    pub name: String,
    pub hallmark: Option<f64>,
    pub distribution: Option<f64>,
    /// The ceiling's value and what it is (`trivial`, `nginx`, `dd`, ...).
    pub ceiling: Option<(f64, &'static str)>,
    /// The compared ratio, and how it was formed (`h/ceiling`, `h/dist`, ...).
    pub ratio: Option<(f64, &'static str)>,
    pub target: Target,
}

impl Row {
    fn verdict(&self) -> &'static str {
        match (self.ratio, self.target) {
            (_, Target::Info) => "",
            (_, Target::HallmarkBelow(t)) if self.hallmark.is_some_and(|v| v < t) => "pass",
            (_, Target::HallmarkBelow(_)) => "FAIL",
            (None, _) => "n/a",
            (Some((r, _)), Target::AtLeast(t)) if r >= t => "pass",
            (Some((r, _)), Target::AtMost(t)) if r <= t => "pass",
            _ => "FAIL",
        }
    }
}

fn number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn cell(v: Option<f64>) -> String {
    v.map(number).unwrap_or_else(|| "–".to_owned())
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| measurement | hallmark | distribution | ceiling | ratio | target | result |\n\
         |---|---:|---:|---:|---:|---|---|\n",
    );
    for r in rows {
        let ceiling = match r.ceiling {
            Some((v, what)) => format!("{} ({what})", number(v)),
            None => "–".to_owned(),
        };
        let ratio = match r.ratio {
            Some((v, how)) => format!("{v:.2} ({how})"),
            None => "–".to_owned(),
        };
        let target = match r.target {
            Target::AtLeast(t) => format!("≥ {t}"),
            Target::AtMost(t) => format!("≤ {t}"),
            Target::HallmarkBelow(t) => format!("hallmark < {t}"),
            Target::Info => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {ceiling} | {ratio} | {target} | {} |",
            r.name,
            cell(r.hallmark),
            cell(r.distribution),
            r.verdict()
        );
    }
    out
}
