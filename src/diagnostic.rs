//! Diagnostics: what the checker found, where, and how to fix it; rendered through miette
//! for people and as JSON for tools.

use std::borrow::Cow;
use std::cell::OnceCell;
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

/// How [`render_styled`] draws: ANSI colours or none, Unicode box drawing or ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub color: bool,
    /// ASCII only: no box drawing, and every other character escaped (a terminal whose
    /// locale is not UTF-8).
    pub ascii: bool,
}

/// Renders diagnostics for a terminal or a log: miette's graphical report, without colour
/// and at a fixed width so the text is stable.
pub fn render(diagnostics: &[Diagnostic], sources: &[Source], width: usize) -> String {
    render_styled(diagnostics, sources, width, Style::default())
}

/// [`render`] in a [`Style`]. Text from the input (messages, labels, source lines, file
/// names) is shown through [`printable`].
pub fn render_styled(diagnostics: &[Diagnostic], sources: &[Source], width: usize, style: Style) -> String {
    let theme = miette::GraphicalTheme {
        characters: if style.ascii {
            miette::ThemeCharacters::ascii()
        } else {
            miette::ThemeCharacters::unicode()
        },
        styles: if style.color {
            miette::ThemeStyles::ansi()
        } else {
            miette::ThemeStyles::none()
        },
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    let locator = Locator::new(sources);
    let shown: Vec<OnceCell<Option<Shown>>> = sources.iter().map(|_| OnceCell::new()).collect();
    let view = View {
        locator: &locator,
        shown: &shown,
        ascii: style.ascii,
    };
    for d in diagnostics {
        let report = Report::new(d, &view);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!(
                "{}[{}]: {}\n",
                d.severity.as_str(),
                d.code.id(),
                printable(&d.message, style.ascii)
            ));
        }
        out.push('\n');
    }
    out
}

/// Whether a character must not reach a terminal as it is: a C0 or C1 control character
/// (but tab and line feed), or a character that reorders or hides text (bidirectional
/// overrides and isolates, zero-width characters, line and paragraph separators, the
/// byte-order mark). With `ascii`, every character outside ASCII.
fn troublesome(c: char, ascii: bool) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
        )
        || (ascii && !c.is_ascii())
}

/// Text from the input as it may be shown on a terminal: every troublesome character (see
/// above; a carriage return too unless a line feed follows) is written `\u{1b}`, Rust's
/// escape, so that an ESC sequence, a bidirectional override or an invisible character in
/// a name, a string, a comment or a file name is seen rather than obeyed.
pub fn printable(text: &str, ascii: bool) -> Cow<'_, str> {
    escaped(text, ascii, |_, _| {})
}

/// [`printable`], calling `shifted(at, extra)` for each escape: the byte offset of the
/// character in `text` and how many bytes longer the escape is.
fn escaped(text: &str, ascii: bool, mut shifted: impl FnMut(usize, usize)) -> Cow<'_, str> {
    let needs =
        |(i, c): (usize, char)| troublesome(c, ascii) && !(c == '\r' && text.as_bytes().get(i + 1) == Some(&b'\n'));
    if !text.char_indices().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, c) in text.char_indices() {
        if needs((i, c)) {
            let escape = format!("\\u{{{:x}}}", u32::from(c));
            shifted(i, escape.len() - c.len_utf8());
            out.push_str(&escape);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The sources as miette shows them: escaped when they need it, each at most once.
struct View<'a> {
    locator: &'a Locator<'a>,
    shown: &'a [OnceCell<Option<Shown>>],
    ascii: bool,
}

/// A source's text with its troublesome characters escaped, and how offsets move.
struct Shown {
    text: String,
    lines: LineIndex,
    /// (byte offset in the original, total extra bytes of the escapes up to and including
    /// the one there), in order.
    shifts: Vec<(usize, usize)>,
}

impl Shown {
    /// `None` when the text needs no escape.
    fn of(text: &str, ascii: bool) -> Option<Shown> {
        let mut shifts = Vec::new();
        let mut total = 0;
        let shown = escaped(text, ascii, |at, extra| {
            total += extra;
            shifts.push((at, total));
        });
        match shown {
            Cow::Borrowed(_) => None,
            Cow::Owned(text) => Some(Shown {
                lines: LineIndex::new(&text),
                text,
                shifts,
            }),
        }
    }

    /// Where an original offset is in the shown text.
    fn map(&self, offset: usize) -> usize {
        let before = self.shifts.partition_point(|(at, _)| *at < offset);
        offset
            + before
                .checked_sub(1)
                .and_then(|i| self.shifts.get(i))
                .map_or(0, |s| s.1)
    }
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
    message: Cow<'a, str>,
    help: Option<Cow<'a, str>>,
}

impl<'a> Report<'a> {
    fn new(diagnostic: &'a Diagnostic, view: &'a View<'a>) -> Self {
        let primary = diagnostic.primary.span.source;
        let elsewhere = diagnostic
            .secondary
            .iter()
            .filter(|l| l.span.source != primary)
            .map(|label| Elsewhere {
                label,
                text: printable(&label.text, view.ascii),
                source: NamedText::of(view, label.span.source, std::slice::from_ref(label)),
            })
            .collect();
        let here: Vec<Label> = std::iter::once(&diagnostic.primary)
            .chain(diagnostic.secondary.iter().filter(|l| l.span.source == primary))
            .cloned()
            .collect();
        Report {
            diagnostic,
            source: NamedText::of(view, primary, &here),
            elsewhere,
            message: printable(&diagnostic.message, view.ascii),
            help: diagnostic.help.as_deref().map(|h| printable(h, view.ascii)),
        }
    }
}

fn miette_label(label: &Label, text: &NamedText<'_>, primary: bool, ascii: bool) -> miette::LabeledSpan {
    let (start, end) = text.shown_span(label.span);
    let body = if label.text.is_empty() {
        None
    } else {
        Some(printable(&label.text, ascii).into_owned())
    };
    if primary {
        miette::LabeledSpan::new_primary_with_span(body, (start, end - start))
    } else {
        miette::LabeledSpan::new_with_span(body, (start, end - start))
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
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
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let text = self.source.as_ref()?;
        let primary = self.diagnostic.primary.span.source;
        let ascii = text.ascii;
        let labels = std::iter::once(miette_label(&self.diagnostic.primary, text, true, ascii)).chain(
            self.diagnostic
                .secondary
                .iter()
                .filter(move |l| l.span.source == primary)
                .map(move |l| miette_label(l, text, false, ascii)),
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
    text: Cow<'a, str>,
    source: Option<NamedText<'a>>,
}

impl fmt::Debug for Elsewhere<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Elsewhere<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
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
        let text = self.source.as_ref()?;
        let mut label = self.label.clone();
        label.text = String::new();
        Some(Box::new(std::iter::once(miette_label(&label, text, true, text.ascii))))
    }
}

/// A line longer than this (in bytes, as shown) is not shown whole: a diagnostic shows a
/// window of it around each label, cut with `...` (see [`Cut`]), so that what a
/// diagnostic prints does not grow with the line.
const LONG_LINE: usize = 240;
/// Bytes of a long line shown on each side of a label.
const MARGIN: usize = 40;
/// Bytes of a label on a long line that are underlined (a longer token is cut there).
const LONG_LABEL: usize = 80;
/// What marks a cut.
const ELLIPSIS: &str = "...";

/// A window of a long line around a label: the text shown, and where it is.
struct Cut {
    /// `...`, the window, `...` (either mark left out at the line's start or end).
    text: String,
    /// Offset in the shown text where `text` would start (the window's start, less the
    /// mark before it), so that offsets inside the window keep their place.
    offset: usize,
    /// The window, in the shown text.
    lo: usize,
    hi: usize,
    /// 0-based line, and where it starts in the shown text.
    line: usize,
    line_start: usize,
}

/// A source's text with its name, as miette reads it: escaped (see [`Shown`]) when needed,
/// long lines cut around the labels of the diagnostic at hand (see [`Cut`]).
struct NamedText<'a> {
    name: String,
    text: &'a str,
    lines: &'a LineIndex,
    shown: Option<&'a Shown>,
    ascii: bool,
    cuts: Vec<Cut>,
}

impl<'a> NamedText<'a> {
    /// The text of source `id` for a diagnostic whose labels there are `labels`.
    fn of(view: &'a View<'a>, id: usize, labels: &[Label]) -> Option<Self> {
        let source = view.locator.sources().get(id)?;
        let shown = view
            .shown
            .get(id)?
            .get_or_init(|| Shown::of(&source.text, view.ascii))
            .as_ref();
        let (text, lines) = match shown {
            Some(shown) => (shown.text.as_str(), &shown.lines),
            None => (source.text.as_str(), view.locator.index(id)?),
        };
        let mut named = NamedText {
            name: printable(&source.name, view.ascii).into_owned(),
            text,
            lines,
            shown,
            ascii: view.ascii,
            cuts: Vec::new(),
        };
        let spans: Vec<(usize, usize)> = labels.iter().map(|l| named.shown_span(l.span)).collect();
        for &(start, end) in &spans {
            named.cut(start, end, &spans);
        }
        Some(named)
    }

    /// Where an offset of the source is in the text shown.
    fn map(&self, offset: usize) -> usize {
        self.shown.map_or(offset, |s| s.map(offset))
    }

    /// The (start, end) of the line at `line`, in the text shown, without its line end.
    fn line_bounds(&self, line: usize) -> (usize, usize) {
        let start = self.lines.start(line, self.text);
        let next = self.lines.start(line + 1, self.text);
        let end = if next > start && self.text.as_bytes().get(next - 1) == Some(&b'\n') {
            next - 1
        } else {
            next
        };
        (start, end.max(start))
    }

    fn long(&self, line: usize) -> bool {
        let (start, end) = self.line_bounds(line);
        end - start > LONG_LINE
    }

    /// A label's span in the text shown: clamped to the text and, on a long line, to its
    /// line and [`LONG_LABEL`] bytes.
    fn shown_span(&self, span: Span) -> (usize, usize) {
        let len = self.text.len();
        let start = self.map(span.start).min(len);
        let mut end = self.map(span.end).min(len).max(start);
        let line = self.lines.line(start);
        if self.long(line) {
            let (_, line_end) = self.line_bounds(line);
            end = self.boundary(end.min(line_end).min(start + LONG_LABEL)).max(start);
        } else if self.any_long(line, self.lines.line(end)) {
            // A label over many lines, or over a long one, is shown on its first line.
            end = self.line_bounds(line).1.max(start);
        }
        (start, end)
    }

    /// Whether a line from `first` to `last` is long, or there are too many of them to
    /// look (more than [`LONG_LABEL`]).
    fn any_long(&self, first: usize, last: usize) -> bool {
        last.saturating_sub(first) > LONG_LABEL || (first..=last).any(|l| self.long(l))
    }

    /// The char boundary at or before `at`.
    fn boundary(&self, mut at: usize) -> usize {
        at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    /// Adds the window of a label from `start` to `end` when its line is long: [`MARGIN`]
    /// bytes on each side, widened so that no label of the diagnostic (`spans`) lies under a
    /// `...` or across a cut.
    fn cut(&mut self, start: usize, end: usize, spans: &[(usize, usize)]) {
        let line = self.lines.line(start);
        if !self.long(line) || self.cuts.iter().any(|c| c.lo <= start && end <= c.hi) {
            return;
        }
        let (line_start, line_end) = self.line_bounds(line);
        let mut lo = self.boundary(start.saturating_sub(MARGIN).max(line_start));
        let mut hi = self.boundary((end + MARGIN).min(line_end));
        let mark = ELLIPSIS.len();
        // Each pass widens the window to a label that touches a mark; labels are few.
        for _ in 0..=spans.len() {
            let mut widened = false;
            for &(s, e) in spans {
                let (s, e) = (s.max(line_start), e.min(line_end));
                if lo > line_start && s < lo && e + mark > lo {
                    lo = self.boundary(s);
                    widened = true;
                }
                if hi < line_end && e > hi && s < hi + mark {
                    hi = self.boundary(e);
                    widened = true;
                }
            }
            if !widened {
                break;
            }
        }
        // A mark must stand on offsets of the text (its start at 0 or after).
        if lo < line_start + mark {
            lo = line_start;
        }
        let before = if lo > line_start { ELLIPSIS } else { "" };
        let after = if hi < line_end { ELLIPSIS } else { "" };
        let text = format!("{before}{}{after}", self.text.get(lo..hi).unwrap_or(""));
        self.cuts.push(Cut {
            text,
            offset: lo - before.len(),
            lo,
            hi,
            line,
            line_start,
        });
    }
}

/// A window of a long line, as miette reads it.
struct CutContents<'b> {
    name: &'b str,
    data: &'b [u8],
    span: miette::SourceSpan,
    line: usize,
    column: usize,
}

impl<'b> miette::SpanContents<'b> for CutContents<'b> {
    fn data(&self) -> &'b [u8] {
        self.data
    }

    fn span(&self) -> &miette::SourceSpan {
        &self.span
    }

    fn name(&self) -> Option<&str> {
        Some(self.name)
    }

    fn line(&self) -> usize {
        self.line
    }

    fn column(&self) -> usize {
        self.column
    }

    fn line_count(&self) -> usize {
        1
    }
}

impl miette::SourceCode for NamedText<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, miette::MietteError> {
        let offset = span.offset().min(self.text.len());
        let end = (offset + span.len()).min(self.text.len());
        let line = self.lines.line(offset);
        if self.long(line) {
            // Only the window of a label; a span across two windows (miette joining two
            // labels into one excerpt) is refused, and the windows are shown one by one.
            let cut = self
                .cuts
                .iter()
                .find(|c| c.line == line && c.lo <= offset && end <= c.hi)
                .ok_or(miette::MietteError::OutOfBounds)?;
            let column = if context_lines_before == 0 {
                offset - cut.line_start
            } else {
                0
            };
            return Ok(Box::new(CutContents {
                name: &self.name,
                data: cut.text.as_bytes(),
                span: miette::SourceSpan::new(cut.offset.into(), cut.text.len()),
                line,
                column,
            }));
        }
        // miette finds lines by scanning from the start of the text; hand it only the lines
        // around the span, so that many diagnostics in a large file stay cheap. Long lines
        // around it are left out, and a span over one is refused (miette joining labels
        // on lines around a long one: they are shown one by one).
        let end_line = self.lines.line(end);
        if end_line > line && self.any_long(line, end_line) {
            return Err(miette::MietteError::OutOfBounds);
        }
        let mut first = line;
        while first + context_lines_before + 1 > line && first > 0 && !self.long(first - 1) {
            first -= 1;
        }
        let mut last = end_line;
        while last < end_line + context_lines_after + 1 && !self.long(last + 1) {
            last += 1;
        }
        let lo = self.lines.start(first, self.text);
        let hi = self.lines.start(last + 1, self.text).max(end);
        let window = self.text.get(lo..hi).unwrap_or(self.text);
        let local = miette::SourceSpan::new((offset - lo).into(), span.len().min(hi - offset));
        let contents = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            miette::SourceSpan::new((contents.span().offset() + lo).into(), contents.span().len()),
            contents.line() + first,
            contents.column(),
            contents.line_count() + first,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_what_a_terminal_would_obey() {
        assert_eq!(printable("a\u{1b}[31mb", false), "a\\u{1b}[31mb");
        assert_eq!(
            printable("x\u{202e}y\u{200b}z\u{85}", false),
            "x\\u{202e}y\\u{200b}z\\u{85}"
        );
        assert_eq!(printable("tab\tline\r\nlone\rcr", false), "tab\tline\r\nlone\\u{d}cr");
        assert!(matches!(printable("caf\u{e9}", false), Cow::Borrowed(_)));
        assert_eq!(printable("caf\u{e9}", true), "caf\\u{e9}");
    }

    #[test]
    fn escaped_sources_keep_labels_on_their_token() {
        let text = "# \u{1b}[2J\nnamespace x { service \u{202e}y { } }\n";
        let sources = [Source::new("a\u{1b}.mesh", text)];
        let start = text.find("y {").unwrap_or(0);
        let d = Diagnostic::error(Code::Syntax, Span::new(0, start, start + 1), "bad \u{7}").label("here");
        let out = render(&[d], &sources, 100);
        assert!(!out.chars().any(|c| troublesome(c, false)), "{out:?}");
        assert!(
            out.contains("a\\u{1b}.mesh") && out.contains("\\u{202e}y") && out.contains("bad \\u{7}"),
            "{out}"
        );
        let ascii = render_styled(
            &[],
            &sources,
            100,
            Style {
                color: false,
                ascii: true,
            },
        );
        assert!(ascii.is_ascii());
    }
}
