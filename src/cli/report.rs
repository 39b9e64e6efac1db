//! Diagnostics on stderr, in the format `--message-format` picks:
//!
//! - `human`: miette's annotated excerpts and a one-line summary;
//! - `json`: a JSON array of diagnostics (see [`meshc::diagnostic::to_json`]);
//! - `github`: GitHub Actions workflow commands (`::error file=…,line=…::message`), which
//!   the runner turns into annotations on the pull request;
//! - `sarif`: one SARIF 2.1.0 log, for code-scanning tools (`2> meshc.sarif`).
//!
//! Each command reports once, at its end, so that `sarif` prints a single document.
//! Notices are file-level warnings of the CLI itself (a file left untouched in an output
//! folder): plain `meshc: warning:` lines in `human` and `json`, `::warning` commands in
//! `github`, and `toolExecutionNotifications` in `sarif`.

use std::io::Write as _;

use clap::ValueEnum;
use meshc::codes::Code;
use meshc::diagnostic::{self, Label};
use meshc::source::Locator;
use meshc::{Diagnostic, Severity, Source};
use serde_json::{json, Value};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MessageFormat {
    /// Annotated source excerpts
    Human,
    /// A JSON array of diagnostics
    Json,
    /// GitHub Actions workflow commands (annotations)
    Github,
    /// A SARIF 2.1.0 log
    Sarif,
}

/// A warning about a file, from the CLI rather than the compiler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// Writes the diagnostics and notices of one run to stderr.
pub(crate) fn report(diagnostics: &[Diagnostic], notices: &[Notice], sources: &[Source], format: MessageFormat) {
    let text = render(diagnostics, notices, sources, format);
    if !text.is_empty() {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        let _ = stderr.flush();
    }
}

/// The text [`report`] writes.
pub(crate) fn render(
    diagnostics: &[Diagnostic],
    notices: &[Notice],
    sources: &[Source],
    format: MessageFormat,
) -> String {
    match format {
        MessageFormat::Human => {
            let mut text = String::new();
            if !diagnostics.is_empty() {
                text = diagnostic::render(diagnostics, sources, 100);
                let summary = diagnostic::summary(diagnostics);
                if !summary.is_empty() {
                    text.push_str(&format!("meshc: {summary}\n"));
                }
            }
            text.push_str(&plain_notices(notices));
            text
        }
        MessageFormat::Json => diagnostic::to_json(diagnostics, sources) + &plain_notices(notices),
        MessageFormat::Github => github(diagnostics, notices, sources),
        MessageFormat::Sarif => sarif(diagnostics, notices, sources),
    }
}

fn plain_notices(notices: &[Notice]) -> String {
    notices
        .iter()
        .map(|n| format!("meshc: warning: {}: {}\n", n.path, n.message))
        .collect()
}

/// The text of a diagnostic without its location: the message, the label, other places
/// and the help line, one per line.
fn message_text(d: &Diagnostic, locator: &Locator<'_>) -> String {
    let mut text = d.message.clone();
    if !d.primary.text.is_empty() {
        text.push_str(&format!(" ({})", d.primary.text));
    }
    for label in &d.secondary {
        if let Some(p) = locator.locate(label.span) {
            text.push_str(&format!("\n{}:{}:{}: {}", p.file, p.line, p.column, label.text));
        }
    }
    if let Some(help) = &d.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    text
}

/// Escapes the message part of a workflow command (after `::`).
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value of a workflow command (`file=…,title=…`).
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github(diagnostics: &[Diagnostic], notices: &[Notice], sources: &[Source]) -> String {
    let locator = Locator::new(sources);
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = Vec::new();
        if let Some(p) = locator.locate(d.primary.span) {
            properties.push(format!("file={}", escape_property(p.file)));
            properties.push(format!("line={}", p.line));
            properties.push(format!("col={}", p.column));
            properties.push(format!("endLine={}", p.end_line));
            properties.push(format!("endColumn={}", p.end_column));
        }
        properties.push(format!(
            "title={}",
            escape_property(&format!("{} {}", d.code.id(), d.code.name()))
        ));
        out.push_str(&format!(
            "::{command} {}::{}\n",
            properties.join(","),
            escape_data(&message_text(d, &locator))
        ));
    }
    for n in notices {
        out.push_str(&format!(
            "::warning file={},title=meshc::{}\n",
            escape_property(&n.path),
            escape_data(&n.message)
        ));
    }
    out
}

/// The first paragraph of a code's documentation page, below its `# title`.
fn first_paragraph(doc: &str) -> String {
    doc.split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
        .unwrap_or("")
        .replace('\n', " ")
}

/// A file name as a SARIF `uri`: relative paths stay relative (percent-encoded), absolute
/// ones become `file://` URIs.
pub(crate) fn uri(name: &str) -> String {
    let mut out = String::new();
    let path = name.replace('\\', "/");
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sarif_location(label: &Label, locator: &Locator<'_>) -> Option<Value> {
    let p = locator.locate(label.span)?;
    Some(json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(p.file) },
            "region": {
                "startLine": p.line,
                "startColumn": p.column,
                "endLine": p.end_line,
                "endColumn": p.end_column,
            }
        },
        "message": { "text": label.text },
    }))
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The SARIF 2.1.0 log of a run.
pub(crate) fn sarif(diagnostics: &[Diagnostic], notices: &[Notice], sources: &[Source]) -> String {
    let locator = Locator::new(sources);
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.id(),
                "name": c.name(),
                "shortDescription": { "text": c.summary() },
                "fullDescription": { "text": first_paragraph(c.doc()) },
                "help": { "text": c.doc(), "markdown": c.doc() },
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut result = json!({
                "ruleId": d.code.id(),
                "ruleIndex": Code::ALL.iter().position(|c| *c == d.code),
                "level": level(d.severity),
                "message": { "text": message_text(d, &locator) },
                "locations": sarif_location(&d.primary, &locator).into_iter().collect::<Vec<_>>(),
            });
            let related: Vec<Value> = d
                .secondary
                .iter()
                .filter_map(|l| sarif_location(l, &locator))
                .enumerate()
                .map(|(i, mut location)| {
                    location["id"] = json!(i);
                    location
                })
                .collect();
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = notices
        .iter()
        .map(|n| {
            json!({
                "level": "warning",
                "message": { "text": n.message },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri(&n.path) } } }],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "meshc",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".to_string()) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escapes() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn uris() {
        assert_eq!(uri("examples/a b.mesh"), "examples/a%20b.mesh");
        assert_eq!(uri("/tmp/x.mesh"), "file:///tmp/x.mesh");
    }

    #[test]
    fn full_description_is_the_first_paragraph() {
        assert_eq!(first_paragraph("# M1 x\n\nOne\ntwo.\n\n## More\n"), "One two.");
    }
}
