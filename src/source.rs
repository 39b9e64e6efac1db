//! Source texts and the spans that point into them.

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

/// Where each line of a text starts, for finding lines of many offsets quickly, and marks
/// for counting characters on long lines.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// For a text with a line longer than [`STRIDE`]: about every [`STRIDE`] bytes (at a
    /// character boundary), how many characters and UTF-16 code units come before. A column
    /// far into a long line is then counted from the mark before it, not from the line's
    /// start: many diagnostics on a megabyte line stay linear.
    marks: Vec<Mark>,
}

/// How far apart [`LineIndex`] marks are, in bytes.
const STRIDE: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Mark {
    at: usize,
    width: Width,
}

/// How wide a piece of text is: in characters (columns for people) and in UTF-16 code units
/// (columns for the language server protocol).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Width {
    pub chars: usize,
    pub utf16: usize,
}

impl Width {
    fn of(text: &str) -> Width {
        if text.is_ascii() {
            return Width {
                chars: text.len(),
                utf16: text.len(),
            };
        }
        text.chars().fold(Width::default(), |w, c| Width {
            chars: w.chars + 1,
            utf16: w.utf16 + c.len_utf16(),
        })
    }

    fn plus(self, other: Width) -> Width {
        Width {
            chars: self.chars + other.chars,
            utf16: self.utf16 + other.utf16,
        }
    }
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
        let long_line = starts
            .iter()
            .zip(starts.iter().skip(1).chain([&(text.len() + 1)]))
            .any(|(start, next)| next - start > STRIDE);
        let mut marks = Vec::new();
        if long_line {
            let mut mark = Mark {
                at: 0,
                width: Width::default(),
            };
            marks.push(mark);
            while mark.at + STRIDE < text.len() {
                let mut next = mark.at + STRIDE;
                while !text.is_char_boundary(next) {
                    next += 1;
                }
                mark = Mark {
                    at: next,
                    width: mark.width.plus(Width::of(&text[mark.at..next])),
                };
                marks.push(mark);
            }
        }
        LineIndex { starts, marks }
    }

    /// 0-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// Byte offset where a 0-based line starts (the text's end past the last line).
    pub fn start(&self, line: usize, text: &str) -> usize {
        self.starts.get(line).copied().unwrap_or(text.len())
    }

    /// The width of `text[from..to]`, both character boundaries of the indexed text.
    pub fn width(&self, text: &str, from: usize, to: usize) -> Width {
        let Some(piece) = text.get(from..to) else {
            return Width::default();
        };
        if piece.len() <= 2 * STRIDE || self.marks.is_empty() {
            return Width::of(piece);
        }
        let before = |offset: usize| {
            let mark = self.marks[self.marks.partition_point(|m| m.at <= offset).saturating_sub(1)];
            mark.width.plus(Width::of(&text[mark.at..offset]))
        };
        let (start, end) = (before(from), before(to));
        Width {
            chars: end.chars - start.chars,
            utf16: end.utf16 - start.utf16,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line(offset);
        let start = self.start(line, text);
        (line + 1, self.width(text, start, offset).chars + 1)
    }
}

/// Finds file, lines and columns of spans in a set of sources, indexing each text once, so
/// that many diagnostics in a large file stay cheap.
pub struct Locator<'a> {
    sources: &'a [Source],
    indexes: Vec<LineIndex>,
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
        let (line, column) = index.line_col(&source.text, span.start);
        let (end_line, end_column) = index.line_col(&source.text, span.end.max(span.start));
        Some(Location {
            file: &source.name,
            line,
            column,
            end_line,
            end_column,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{lone_cr_to_lf, LineIndex, Source, Width, STRIDE};

    #[test]
    fn columns_on_long_lines_match_counting_from_the_line_start() {
        // Lines longer than the marks' stride, with one-, two-, three- and four-byte
        // characters (a surrogate pair in UTF-16) on both sides of every mark.
        let line: String = "aé€𝄞 ".repeat(STRIDE / 3);
        let text = format!("short\n{line}\n{line}x\n\nend é");
        let index = LineIndex::new(&text);
        let naive = |offset: usize| {
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let piece = &text[start..offset];
            Width {
                chars: piece.chars().count(),
                utf16: piece.encode_utf16().count(),
            }
        };
        let boundaries: Vec<usize> = (0..=text.len()).filter(|&o| text.is_char_boundary(o)).collect();
        for &offset in boundaries.iter().step_by(7).chain([text.len()].iter()) {
            let (line, column) = index.line_col(&text, offset);
            let start = index.start(line - 1, &text);
            assert_eq!(column - 1, naive(offset).chars, "offset {offset}");
            assert_eq!(index.width(&text, start, offset), naive(offset), "offset {offset}");
        }
        // From one place to another on a long line, not from its start.
        let from = text.char_indices().nth(20).unwrap().0;
        let to = text.char_indices().rev().nth(40).unwrap().0;
        let piece = &text[from..to];
        assert_eq!(
            index.width(&text, from, to),
            Width {
                chars: piece.chars().count(),
                utf16: piece.encode_utf16().count()
            }
        );
    }

    #[test]
    fn lone_carriage_returns_become_line_feeds_in_place() {
        assert_eq!(lone_cr_to_lf("a\rb\r\nc\r".to_string()), "a\nb\r\nc\n");
        assert_eq!(lone_cr_to_lf("é\r€".to_string()), "é\n€");
        let source = Source::new("x.mesh", "# c\rnamespace a {}");
        assert_eq!(source.text.len(), "# c\rnamespace a {}".len());
        assert_eq!(source.text, "# c\nnamespace a {}");
    }
}
