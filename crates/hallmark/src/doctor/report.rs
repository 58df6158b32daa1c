//! What `doctor` found, and how it is printed: one finding per check, each with a status, what
//! was observed, and (where the user can act) the command or setting that fixes it. Text
//! output is one line per check with the hint indented below; `-o json` is one document with
//! the same findings.

use serde::Serialize;

use crate::target::{Output, print_json};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The server does what a client needs.
    Ok,
    /// It works, with a limitation the user should know about.
    Warn,
    /// A user would hit a failure here.
    Fail,
    /// A fact, neither good nor bad (or a check that was not made).
    Info,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Info => "info",
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The check's name, stable for scripts (`transport`, `referrers-api`, ...).
    pub check: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was observed, in plain words.
    pub detail: String,
    /// What to do about it, if anything.
    pub hint: Option<String>,
}

impl Finding {
    /// A finding without a hint.
    pub fn new(check: &'static str, status: Status, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            status,
            detail: detail.into(),
            hint: None,
        }
    }

    /// The same finding with `hint`.
    pub fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }
}

/// Everything found about one server.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The server as given (`host[:port]`).
    pub server: String,
    /// Whether anything answered at all.
    pub reachable: bool,
    /// The findings, in the order the checks ran.
    pub findings: Vec<Finding>,
}

impl Report {
    /// An empty report on `server`, reachable until a check says otherwise.
    pub fn new(server: &str) -> Report {
        Report {
            server: server.to_owned(),
            reachable: true,
            findings: Vec::new(),
        }
    }

    /// Adds a finding.
    pub fn push(&mut self, finding: Finding) {
        tracing::debug!(check = finding.check, status = finding.status.label(),
            detail = %finding.detail, "finding");
        self.findings.push(finding);
    }

    /// Prints the report on stdout.
    pub fn print(&self, output: Output) -> anyhow::Result<()> {
        match output {
            Output::Json => print_json(self),
            Output::Text => {
                print!("{}", self.text());
                Ok(())
            }
        }
    }

    /// The text form: a title line, then one line per check with its hint below.
    fn text(&self) -> String {
        let mut out = format!("{}\n", self.server);
        for f in &self.findings {
            out.push_str(&format!(
                "  {:<4}  {:<16}  {}\n",
                f.status.label(),
                f.check,
                f.detail
            ));
            if let Some(hint) = &f.hint {
                out.push_str(&format!("{:26}hint: {hint}\n", ""));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_puts_the_hint_under_its_check() {
        let mut report = Report::new("r.io");
        report.push(Finding::new("transport", Status::Ok, "TLS"));
        report.push(Finding::new("referrers-api", Status::Warn, "404").hint("use tags"));
        let text = report.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "r.io");
        assert!(lines[1].starts_with("  ok    transport"), "{text}");
        assert!(lines[2].starts_with("  warn  referrers-api"), "{text}");
        assert_eq!(lines[3].trim_start(), "hint: use tags");
    }

    #[test]
    fn json_names_status_in_lower_case() {
        let f = Finding::new("auth", Status::Info, "none");
        let v = serde_json::to_value(&f).expect("finding serializes");
        assert_eq!(v["status"], "info");
        assert_eq!(v["hint"], serde_json::Value::Null);
    }
}
