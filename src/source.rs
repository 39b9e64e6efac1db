//! Source texts and the spans that point into them.

use std::cell::Cell;

/// One input: a display name (usually its path), its text, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub text: String,
    pub kind: SourceKind,
}

/// What a source holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A `.mesh` file.
    Mesh,
    /// Variable definitions, one `NAME=VALUE` per line (`#` comments, blank lines, an
    /// optional `export ` and quotes around the value allowed), as in a shell config
    /// file such as the seed's `hybrid.config`. Later sources override earlier ones.
    Vars,
}

impl Source {
    /// A `.mesh` source. Classic Mac line ends (a lone CR) become LF, byte for byte, so a
    /// comment ends at a CR line end and every offset into the text stays where it was.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            name: name.into(),
            text: lone_cr_to_lf(text.into()),
            kind: SourceKind::Mesh,
        }
    }

    /// A source of variable definitions.
    pub fn vars(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            kind: SourceKind::Vars,
            ..Source::new(name, text)
        }
    }
}

/// Replaces each CR not followed by LF with LF. Both are one byte, so the text keeps its
/// length and every span into it stays valid; CR LF pairs are left alone.
pub fn lone_cr_to_lf(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    // Only one ASCII byte was replaced by another, so the text is still UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Index of a [`Source`] in the slice given to [`crate::compile`].
pub type SourceId = usize;

/// A byte range in one source. Every AST node carries one, and the model keeps them on
/// names, so a diagnostic can point at the token that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct Span {
    pub source: SourceId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(source: SourceId, start: usize, end: usize) -> Self {
        Span { source, start, end }
    }

    /// The smallest span covering both (same source assumed).
    pub fn to(self, other: Span) -> Span {
        Span::new(self.source, self.start.min(other.start), self.end.max(other.end))
    }
}

/// Where each line of a text starts, for finding lines of many offsets quickly.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 0-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// Byte offset where a 0-based line starts (the text's end past the last line).
    pub fn start(&self, line: usize, text: &str) -> usize {
        self.starts.get(line).copied().unwrap_or(text.len())
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line(offset);
        let start = self.start(line, text);
        let column = text.get(start..offset).map_or(0, |s| s.chars().count()) + 1;
        (line + 1, column)
    }
}

/// Finds file, lines and columns of spans in a set of sources, indexing each text once, so
/// that many diagnostics in a large file stay cheap.
pub struct Locator<'a> {
    sources: &'a [Source],
    indexes: Vec<LineIndex>,
    /// The last offset located (source, offset, 1-based column): a column further on the
    /// same line is counted from there, so that many spans on one long line, located in
    /// order, cost the line's length once rather than once each.
    last: Cell<(SourceId, usize, usize)>,
}

/// Where a span is, for people and tools: 1-based lines and columns (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl<'a> Locator<'a> {
    pub fn new(sources: &'a [Source]) -> Self {
        Locator {
            sources,
            indexes: sources.iter().map(|s| LineIndex::new(&s.text)).collect(),
            last: Cell::new((usize::MAX, 0, 0)),
        }
    }

    pub fn sources(&self) -> &'a [Source] {
        self.sources
    }

    /// The line index of one source.
    pub fn index(&self, source: SourceId) -> Option<&LineIndex> {
        self.indexes.get(source)
    }

    pub fn locate(&self, span: Span) -> Option<Location<'a>> {
        let source = self.sources.get(span.source)?;
        let index = self.indexes.get(span.source)?;
        let (line, column) = self.line_col(span.source, &source.text, index, span.start);
        let (end_line, end_column) = self.line_col(span.source, &source.text, index, span.end.max(span.start));
        Some(Location {
            file: &source.name,
            line,
            column,
            end_line,
            end_column,
        })
    }

    /// [`LineIndex::line_col`], counting from the last offset located when it is on the
    /// same line, before this one.
    fn line_col(&self, id: SourceId, text: &str, index: &LineIndex, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = index.line(offset);
        let start = index.start(line, text);
        let (last_id, last_offset, last_column) = self.last.get();
        let column = match text.get(last_offset..offset) {
            Some(between) if last_id == id && start <= last_offset => last_column + between.chars().count(),
            _ => text.get(start..offset).map_or(0, |s| s.chars().count()) + 1,
        };
        if text.is_char_boundary(offset) {
            self.last.set((id, offset, column));
        }
        (line + 1, column)
    }
}

#[cfg(test)]
mod tests {
    use super::{lone_cr_to_lf, Source};

    #[test]
    fn lone_carriage_returns_become_line_feeds_in_place() {
        assert_eq!(lone_cr_to_lf("a\rb\r\nc\r".to_string()), "a\nb\r\nc\n");
        assert_eq!(lone_cr_to_lf("é\r€".to_string()), "é\n€");
        let source = Source::new("x.mesh", "# c\rnamespace a {}");
        assert_eq!(source.text.len(), "# c\rnamespace a {}".len());
        assert_eq!(source.text, "# c\nnamespace a {}");
    }
}
