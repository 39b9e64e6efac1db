//! Diagnostics on stderr, in the format `--message-format` picks:
//!
//! - `human`: miette's annotated excerpts and a one-line summary;
//! - `json`: a JSON array of diagnostics (see [`meshc::diagnostic::to_json`]);
//! - `github`: GitHub Actions workflow commands (`::error file=…,line=…::message`), which
//!   the runner turns into annotations on the pull request;
//! - `sarif`: one SARIF 2.1.0 log, for code-scanning tools (`2> meshc.sarif`).
//!
//! Each command reports once, at its end, so that `sarif` prints a single document.
//! Notices are messages of the CLI itself rather than of the compiler: a file that cannot
//! be read, an output folder that is locked or refused (errors), a file left untouched in
//! an output folder (a warning), a file of an output folder that is out of date (a
//! finding). In `human` they are `meshc: …` lines; in `json` objects of the same array as
//! the diagnostics (with `"code": null`); in `github` workflow commands; in `sarif`
//! `toolExecutionNotifications`, except out-of-date files, which are results of the rule
//! `out-of-date`. Text from the input is escaped for a terminal (see [`meshc::diagnostic::printable`]).

use std::io::Write as _;
use std::sync::OnceLock;

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

/// How diagnostics are printed (`--message-format`), and whether warnings fail the run
/// (`--deny-warnings`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reporting {
    pub(crate) format: MessageFormat,
    pub(crate) deny_warnings: bool,
}

impl From<MessageFormat> for Reporting {
    fn from(format: MessageFormat) -> Self {
        Reporting {
            format,
            deny_warnings: false,
        }
    }
}

/// How serious a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Error,
    Warning,
    Note,
}

/// A message of the CLI itself, about a file (or about the run, `path` empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    pub(crate) level: Level,
    /// The file it is about; empty when it is about the run.
    pub(crate) path: String,
    /// In `human`, the whole line after `meshc: ` for errors and notes (which name their
    /// file themselves) and after `meshc: warning: PATH: ` for warnings.
    pub(crate) message: String,
    /// A file of an output folder that is out of date: a finding (a SARIF result) rather
    /// than a message about the run.
    pub(crate) out_of_date: bool,
}

impl Notice {
    pub(crate) fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Notice {
            level: Level::Warning,
            path: path.into(),
            message: message.into(),
            out_of_date: false,
        }
    }

    pub(crate) fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Notice {
            level: Level::Error,
            ..Notice::warning(path, message)
        }
    }

    pub(crate) fn note(path: impl Into<String>, message: impl Into<String>) -> Self {
        Notice {
            level: Level::Note,
            ..Notice::warning(path, message)
        }
    }

    fn command(&self) -> &'static str {
        match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        }
    }
}

/// The message format of this run, for messages printed while it works ([`progress`]).
static FORMAT: OnceLock<MessageFormat> = OnceLock::new();

/// Sets the format [`progress`] uses (once, when the arguments are read).
pub(crate) fn set_format(format: MessageFormat) {
    let _ = FORMAT.set(format);
}

/// A message printed at once, while the run goes on (`meshc: waiting for …`): a line in
/// `human`, a `::notice` in `github`; nothing in `json` and `sarif`, whose single document
/// comes at the end.
pub(crate) fn progress(message: &str) {
    let line = match FORMAT.get().copied().unwrap_or(MessageFormat::Human) {
        MessageFormat::Human => format!("meshc: {}\n", printable(message)),
        MessageFormat::Github => format!("::notice::{}\n", escape_data(&printable(message))),
        MessageFormat::Json | MessageFormat::Sarif => return,
    };
    write_stderr(&line);
}

/// Reports a run that stops with one error of the CLI (a file that cannot be read, an
/// output folder that cannot be written) before any diagnostic: in the run's format.
pub(crate) fn fail(path: &str, message: &str, format: MessageFormat) -> super::Status {
    report(&[], &[Notice::error(path, message)], &[], format);
    super::Status::Trouble
}

/// Writes the diagnostics and notices of one run to stderr; `InputErrors` when the run
/// fails because of them (an error, or a warning under `--deny-warnings`).
pub(crate) fn report(
    diagnostics: &[Diagnostic],
    notices: &[Notice],
    sources: &[Source],
    reporting: impl Into<Reporting>,
) -> super::Status {
    let reporting = reporting.into();
    write_stderr(&render(diagnostics, notices, sources, reporting));
    let errors = diagnostics.iter().any(Diagnostic::is_error);
    if errors || (reporting.deny_warnings && !diagnostics.is_empty()) {
        super::Status::InputErrors
    } else {
        super::Status::Ok
    }
}

/// Writes `meshc: MESSAGE` to stderr, the message escaped for the terminal (the `say!`
/// macro of the commands without a message format).
pub(crate) fn say(message: &str) {
    write_stderr(&format!("meshc: {}\n", printable(message)));
}

fn write_stderr(text: &str) {
    if !text.is_empty() {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        let _ = stderr.flush();
    }
}

/// The sentence `--deny-warnings` adds when it fails a run.
fn denied(diagnostics: &[Diagnostic], reporting: Reporting) -> Option<String> {
    let warnings = diagnostics.iter().filter(|d| !d.is_error()).count();
    (reporting.deny_warnings && warnings > 0).then(|| {
        format!(
            "{warnings} warning{} denied by --deny-warnings: exit status 1",
            if warnings == 1 { "" } else { "s" }
        )
    })
}

/// The text [`report`] writes.
pub(crate) fn render(
    diagnostics: &[Diagnostic],
    notices: &[Notice],
    sources: &[Source],
    reporting: Reporting,
) -> String {
    let denied = denied(diagnostics, reporting);
    let mut notices = notices.to_vec();
    match reporting.format {
        MessageFormat::Human => human(diagnostics, &notices, sources, denied.is_some(), style()),
        format => {
            // The run itself went well unless the CLI met an error (warnings denied are the
            // input's failure, as errors are).
            let successful = !notices.iter().any(|n| n.level == Level::Error && !n.out_of_date);
            notices.extend(denied.map(|d| Notice::error("", d)));
            match format {
                MessageFormat::Json => json(diagnostics, &notices, sources),
                MessageFormat::Github => github(diagnostics, &notices, sources),
                _ => sarif(diagnostics, &notices, sources, successful),
            }
        }
    }
}

/// Diagnostics as `human` text for another channel than the terminal (a KRM function's
/// results): no colour, whatever stderr is.
pub(crate) fn plain(diagnostics: &[Diagnostic], sources: &[Source]) -> String {
    human(diagnostics, &[], sources, false, diagnostic::Style::default())
}

fn human(
    diagnostics: &[Diagnostic],
    notices: &[Notice],
    sources: &[Source],
    denied: bool,
    style: diagnostic::Style,
) -> String {
    let mut text = String::new();
    if !diagnostics.is_empty() {
        text = diagnostic::render_styled(diagnostics, sources, 100, style);
        let summary = diagnostic::summary(diagnostics);
        if denied {
            text.push_str(&format!("meshc: {summary} (--deny-warnings: exit status 1)\n"));
        } else if !summary.is_empty() {
            text.push_str(&format!("meshc: {summary}\n"));
        }
    }
    text.push_str(&plain_notices(notices, style.ascii));
    text
}

/// The look of `human` output on this terminal, worked out once (see [`super::color`]).
fn style() -> diagnostic::Style {
    super::color::style()
}

/// Text from the input, escaped for the terminal (GitHub shows workflow commands in a
/// terminal-like log too).
fn printable(text: &str) -> String {
    diagnostic::printable(text, style().ascii).into_owned()
}

fn plain_notices(notices: &[Notice], ascii: bool) -> String {
    let show = |text: &str| diagnostic::printable(text, ascii).into_owned();
    notices
        .iter()
        .map(|n| match (n.level, n.path.is_empty()) {
            (Level::Warning, false) => format!("meshc: warning: {}: {}\n", show(&n.path), show(&n.message)),
            (Level::Warning, true) => format!("meshc: warning: {}\n", show(&n.message)),
            (_, _) => format!("meshc: {}\n", show(&n.message)),
        })
        .collect()
}

/// `json`: the diagnostics' array, with one more object per notice.
fn json(diagnostics: &[Diagnostic], notices: &[Notice], sources: &[Source]) -> String {
    let text = diagnostic::to_json(diagnostics, sources);
    if notices.is_empty() {
        return text;
    }
    let mut items: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
    items.extend(notices.iter().map(|n| {
        json!({
            "code": null,
            "name": if n.out_of_date { Some(OUT_OF_DATE) } else { None },
            "severity": match n.level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Note => "note",
            },
            "message": n.message,
            "location": { "file": n.path },
            "related": [],
            "help": null,
        })
    }));
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_string()) + "\n"
}

/// The rule of out-of-date output files in `sarif` (and their `name` in `json`).
const OUT_OF_DATE: &str = "out-of-date";

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
            properties.push(format!("file={}", escape_property(&printable(p.file))));
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
            escape_data(&printable(&message_text(d, &locator)))
        ));
    }
    for n in notices {
        let file = if n.path.is_empty() {
            String::new()
        } else {
            format!("file={},", escape_property(&printable(&n.path)))
        };
        let title = if n.out_of_date { OUT_OF_DATE } else { "meshc" };
        out.push_str(&format!(
            "::{} {file}title={title}::{}\n",
            n.command(),
            escape_data(&printable(&n.message))
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

/// The repository, whose `docs/codes/` holds the code pages SARIF rules link to.
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The web page of a code's documentation.
fn help_uri(code: Code) -> String {
    format!("{REPOSITORY}/blob/main/docs/codes/{}.md", code.id())
}

/// The level a code is reported at unless the finding says otherwise: the warnings of
/// docs/checks.md (M3004 is one only in `meshc lint`), `error` for the others.
fn default_level(code: Code) -> &'static str {
    match code {
        Code::Suppression
        | Code::UnusedVariable
        | Code::IngressSplit
        | Code::IneffectiveMatch
        | Code::BypassedRoutes
        | Code::OptionalToken
        | Code::RunsAsRoot => "warning",
        _ => "error",
    }
}

/// The SARIF 2.1.0 log of a run.
pub(crate) fn sarif(diagnostics: &[Diagnostic], notices: &[Notice], sources: &[Source], successful: bool) -> String {
    let locator = Locator::new(sources);
    let mut rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.id(),
                "name": c.name(),
                "shortDescription": { "text": c.summary() },
                "fullDescription": { "text": first_paragraph(c.doc()) },
                "help": { "text": c.doc(), "markdown": c.doc() },
                "helpUri": help_uri(*c),
                "defaultConfiguration": { "level": default_level(*c) },
            })
        })
        .collect();
    rules.push(json!({
        "id": OUT_OF_DATE,
        "name": OUT_OF_DATE,
        "shortDescription": { "text": "a file of an output folder differs from what the mesh produces" },
        "fullDescription": { "text": "`meshc build --check` or `meshc diff` found a file of the output folder changed, missing or stale: run `meshc build -o` to update the folder." },
        "helpUri": format!("{REPOSITORY}#output"),
        "defaultConfiguration": { "level": "error" },
    }));
    let mut results: Vec<Value> = diagnostics
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
    let file_location = |path: &str| {
        if path.is_empty() {
            Vec::new()
        } else {
            vec![json!({ "physicalLocation": { "artifactLocation": { "uri": uri(path) } } })]
        }
    };
    let sarif_level = |level: Level| match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    };
    results.extend(notices.iter().filter(|n| n.out_of_date).map(|n| {
        json!({
            "ruleId": OUT_OF_DATE,
            "ruleIndex": Code::ALL.len(),
            "level": sarif_level(n.level),
            "message": { "text": n.message },
            "locations": file_location(&n.path),
        })
    }));
    let notifications: Vec<Value> = notices
        .iter()
        .filter(|n| !n.out_of_date)
        .map(|n| {
            json!({
                "level": sarif_level(n.level),
                "message": { "text": n.message },
                "locations": file_location(&n.path),
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
                    "informationUri": REPOSITORY,
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": successful,
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
