//! YAML with positions: a small tree of the documents of one source, every node with the
//! [`Span`] of its text, read from `saphyr-parser`'s events.
//!
//! Hostile input is bounded: nesting deeper than [`MAX_DEPTH`] is refused, and aliases are
//! not expanded (a Kubernetes manifest has no use for them; expanding them is how a few
//! lines become gigabytes), so the tree never holds more nodes than the text has bytes.

use saphyr_parser::{Event, Marker, Parser, ScalarStyle};

use crate::source::{LineIndex, SourceId, Span};

/// The deepest nesting of mappings and sequences read.
pub const MAX_DEPTH: usize = 128;

/// One YAML node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

/// A node's value. Scalars stay text: the reader of a field decides what it must be.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A plain empty scalar, `~` or `null`, and an alias (not expanded).
    Null,
    /// A scalar; `plain` when it was written without quotes.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The entry (key node and value node) of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Follows `path` through mappings.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A whole number written without quotes.
    pub fn as_int(&self) -> Option<i64> {
        match &self.value {
            Value::Scalar { text, plain: true } => text.parse().ok(),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }
}

/// Why a source could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub span: Span,
    pub message: String,
}

/// Reads every document of a source (empty documents are skipped).
pub fn parse(source: SourceId, text: &str) -> Result<Vec<Node>, Error> {
    let index = LineIndex::new(text);
    let mut cursor = Cursor::default();
    let ascii = text.is_ascii();
    let mut offset = |m: &Marker| {
        if ascii {
            m.index().min(text.len())
        } else {
            cursor.byte_offset(&index, text, m)
        }
    };
    let mut documents = Vec::new();
    // Open collections: the span start, and the items (sequence) or the pending key (map).
    enum Open {
        Seq(usize, Vec<Node>),
        Map(usize, Vec<(Node, Node)>, Option<Node>),
    }
    let mut stack: Vec<Open> = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let at = offset(e.marker());
            Error {
                span: Span::new(source, at, at),
                message: e.info().to_string(),
            }
        })?;
        let start = offset(&span.start);
        let end = offset(&span.end).max(start);
        let done = match event {
            Event::Scalar(text, style, _, _) => {
                let plain = style == ScalarStyle::Plain;
                let value = if plain && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL") {
                    Value::Null
                } else {
                    Value::Scalar {
                        text: text.into_owned(),
                        plain,
                    }
                };
                Node {
                    span: Span::new(source, start, end),
                    value,
                }
            }
            Event::Alias(_) => Node {
                span: Span::new(source, start, end),
                value: Value::Null,
            },
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Error {
                        span: Span::new(source, start, start),
                        message: format!("it is nested deeper than {MAX_DEPTH} levels"),
                    });
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Open::Seq(start, Vec::new())
                } else {
                    Open::Map(start, Vec::new(), None)
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq(from, items)) => {
                    let to = items.last().map_or(end, |n| n.span.end).max(from);
                    Node {
                        span: Span::new(source, from, to),
                        value: Value::Seq(items),
                    }
                }
                Some(Open::Map(from, entries, _)) => {
                    let to = entries
                        .last()
                        .map_or(end, |(_, v)| v.span.end.max(v.span.start))
                        .max(from);
                    Node {
                        span: Span::new(source, from, to),
                        value: Value::Map(entries),
                    }
                }
                None => continue,
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => {
                if done.value != Value::Null {
                    documents.push(done);
                }
            }
            Some(Open::Seq(_, items)) => items.push(done),
            Some(Open::Map(_, entries, key)) => match key.take() {
                None => *key = Some(done),
                Some(k) => entries.push((k, done)),
            },
        }
    }
    Ok(documents)
}

/// Turns the character offsets of markers into byte offsets. Markers come nearly in
/// order, so the walk resumes where the last one ended; one behind it starts again from
/// its line (its line is 1-based, its column counts characters).
#[derive(Default)]
struct Cursor {
    char: usize,
    byte: usize,
}

impl Cursor {
    fn byte_offset(&mut self, index: &LineIndex, text: &str, marker: &Marker) -> usize {
        let (from_char, from_byte) = if marker.index() >= self.char {
            (self.char, self.byte)
        } else {
            let line_start = index.start(marker.line().saturating_sub(1), text);
            (marker.index().saturating_sub(marker.col()), line_start)
        };
        let rest = text.get(from_byte..).unwrap_or("");
        let byte = rest
            .char_indices()
            .nth(marker.index() - from_char.min(marker.index()))
            .map_or(text.len(), |(i, _)| from_byte + i);
        self.char = marker.index();
        self.byte = byte;
        byte
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_the_text() {
        let text = "a: 1\nb:\n  - x\n  - \"y é\"\n---\nc: {d: e}\n";
        let docs = parse(0, text).expect("reads");
        assert_eq!(docs.len(), 2);
        let x = &docs[0].at(&["b"]).expect("b").items()[0];
        assert_eq!(&text[x.span.start..x.span.end], "x");
        let d = docs[1].at(&["c", "d"]).expect("d");
        assert_eq!(&text[d.span.start..d.span.end], "e");
        assert_eq!(docs[0].at(&["a"]).and_then(Node::as_int), Some(1));
    }

    #[test]
    fn spans_hold_with_crlf_and_wide_characters() {
        let text = "name: \"héllo – ünïcode\"\r\nnext:\r\n  - [é, z]\r\n";
        let docs = parse(0, text).expect("reads");
        let z = &docs[0].at(&["next"]).expect("next").items()[0].items()[1];
        assert_eq!(&text[z.span.start..z.span.end], "z");
        let name = docs[0].at(&["name"]).expect("name");
        assert_eq!(name.as_str(), Some("héllo – ünïcode"));
        assert!(text[name.span.start..].starts_with('"'));
    }

    #[test]
    fn deep_nesting_and_bad_yaml_are_errors() {
        assert!(parse(0, &"[".repeat(10_000)).is_err());
        assert!(parse(0, "a: [b\n").is_err());
        let bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n";
        assert!(parse(0, bomb).is_ok());
    }
}
