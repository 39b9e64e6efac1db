//! Diagnostics: what the checker found, where, and how to fix it; rendered through miette
//! for people and as JSON for tools.

use std::fmt;

use crate::codes::Code;
use crate::source::{LineIndex, Locator, Source, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span with a short text shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A machine-applicable edit: replace the text at `span` with `replacement` (the "did you
/// mean" of a misspelled name or keyword). Editors offer it as a quick fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
}

/// One finding: a stable code, a message, the offending token and, when the user can act,
/// a help line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The offending token.
    pub primary: Label,
    /// Other places that explain the finding (the first definition of a duplicate, …).
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    /// An edit that resolves the finding, when there is exactly one obvious one.
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: Label {
                span,
                text: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            fix: None,
        }
    }

    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    /// Text shown at the offending token.
    pub fn label(mut self, text: impl Into<String>) -> Self {
        self.primary.text = text.into();
        self
    }

    /// Another place worth showing.
    pub fn note(mut self, span: Span, text: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }

    /// The edit that resolves the finding: replace `span` with `replacement`.
    pub fn fix(mut self, span: Span, replacement: impl Into<String>) -> Self {
        self.fix = Some(Fix {
            span,
            replacement: replacement.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    fn sort_key(&self) -> (usize, usize, usize, Code, &str) {
        let s = self.primary.span;
        (s.source, s.start, s.end, self.code, &self.message)
    }
}

/// Sorts by file and position, then drops exact repeats.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diagnostics.dedup();
}

/// Renders diagnostics for a terminal or a log: miette's graphical report, without colour
/// and at a fixed width so the text is stable.
pub fn render(diagnostics: &[Diagnostic], sources: &[Source], width: usize) -> String {
    let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    let locator = Locator::new(sources);
    for d in diagnostics {
        let report = Report::new(d, &locator);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{}[{}]: {}\n", d.severity.as_str(), d.code.id(), d.message));
        }
        out.push('\n');
    }
    out
}

/// The one-line summary printed after a run's diagnostics.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => String::new(),
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

/// Diagnostics as a JSON array, one object per finding, with 1-based lines and columns.
pub fn to_json(diagnostics: &[Diagnostic], sources: &[Source]) -> String {
    let locator = Locator::new(sources);
    let location = |label: &Label| {
        let at = locator.locate(label.span);
        serde_json::json!({
            "file": at.map_or("", |l| l.file),
            "line": at.map_or(1, |l| l.line),
            "column": at.map_or(1, |l| l.column),
            "end_line": at.map_or(1, |l| l.end_line),
            "end_column": at.map_or(1, |l| l.end_column),
            "byte_start": label.span.start,
            "byte_end": label.span.end,
            "label": label.text,
        })
    };
    let items: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            let mut item = serde_json::json!({
                "code": d.code.id(),
                "name": d.code.name(),
                "severity": d.severity.as_str(),
                "message": d.message,
                "location": location(&d.primary),
                "related": d.secondary.iter().map(location).collect::<Vec<_>>(),
                "help": d.help,
            });
            if let (Some(fix), Some(object)) = (&d.fix, item.as_object_mut()) {
                let at = Label {
                    span: fix.span,
                    text: String::new(),
                };
                object.insert(
                    "fix".to_string(),
                    serde_json::json!({ "location": location(&at), "replacement": fix.replacement }),
                );
            }
            item
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_string()) + "\n"
}

/// A diagnostic joined with the text it points into, in the shape miette renders.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<NamedText<'a>>,
    /// Secondary labels in another file than the primary one, shown as related reports.
    elsewhere: Vec<Elsewhere<'a>>,
}

impl<'a> Report<'a> {
    fn new(diagnostic: &'a Diagnostic, locator: &'a Locator<'a>) -> Self {
        let primary = diagnostic.primary.span.source;
        let elsewhere = diagnostic
            .secondary
            .iter()
            .filter(|l| l.span.source != primary)
            .map(|label| Elsewhere {
                label,
                source: NamedText::of(locator, label.span.source),
            })
            .collect();
        Report {
            diagnostic,
            source: NamedText::of(locator, primary),
            elsewhere,
        }
    }
}

fn miette_label(label: &Label, text: &str, primary: bool) -> miette::LabeledSpan {
    let start = label.span.start.min(text.len());
    let end = label.span.end.min(text.len()).max(start);
    let body = if label.text.is_empty() {
        None
    } else {
        Some(label.text.clone())
    };
    if primary {
        miette::LabeledSpan::new_primary_with_span(body, (start, end - start))
    } else {
        miette::LabeledSpan::new_with_span(body, (start, end - start))
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code.id()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let text = self.source.as_ref()?.text;
        let primary = self.diagnostic.primary.span.source;
        let labels = std::iter::once(miette_label(&self.diagnostic.primary, text, true)).chain(
            self.diagnostic
                .secondary
                .iter()
                .filter(move |l| l.span.source == primary)
                .map(move |l| miette_label(l, text, false)),
        );
        Some(Box::new(labels))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.elsewhere.is_empty() {
            return None;
        }
        Some(Box::new(self.elsewhere.iter().map(|e| e as &dyn miette::Diagnostic)))
    }
}

/// A secondary label that lives in another file.
struct Elsewhere<'a> {
    label: &'a Label,
    source: Option<NamedText<'a>>,
}

impl fmt::Debug for Elsewhere<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label.text)
    }
}

impl fmt::Display for Elsewhere<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label.text)
    }
}

impl std::error::Error for Elsewhere<'_> {}

impl miette::Diagnostic for Elsewhere<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let text = self.source.as_ref()?.text;
        let mut label = self.label.clone();
        label.text = String::new();
        Some(Box::new(std::iter::once(miette_label(&label, text, true))))
    }
}

/// A source's text with its name, borrowed, as miette reads it.
struct NamedText<'a> {
    name: &'a str,
    text: &'a str,
    lines: &'a LineIndex,
}

impl<'a> NamedText<'a> {
    fn of(locator: &'a Locator<'a>, id: usize) -> Option<Self> {
        let source = locator.sources().get(id)?;
        Some(NamedText {
            name: &source.name,
            text: &source.text,
            lines: locator.index(id)?,
        })
    }
}

impl miette::SourceCode for NamedText<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, miette::MietteError> {
        // miette finds lines by scanning from the start of the text; hand it only the lines
        // around the span, so that many diagnostics in a large file stay cheap.
        let offset = span.offset().min(self.text.len());
        let end = (offset + span.len()).min(self.text.len());
        let first = self.lines.line(offset).saturating_sub(context_lines_before + 1);
        let last = self.lines.line(end) + context_lines_after + 2;
        let lo = self.lines.start(first, self.text);
        let hi = self.lines.start(last, self.text).max(end);
        let window = self.text.get(lo..hi).unwrap_or(self.text);
        let local = miette::SourceSpan::new((offset - lo).into(), span.len().min(hi - offset));
        let contents = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.to_string(),
            contents.data(),
            miette::SourceSpan::new((contents.span().offset() + lo).into(), contents.span().len()),
            contents.line() + first,
            contents.column(),
            contents.line_count() + first,
        )))
    }
}
