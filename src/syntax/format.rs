//! The canonical layout of a `.mesh` file (`meshc fmt`).
//!
//! Blocks (`namespace`, `naming`, `service`, `gateway`, a version written with braces) put
//! their header on one line, each declaration on its own line indented by two spaces, and
//! the closing brace alone. A declaration is written on one line with single spaces between
//! tokens (none before `,`). Comments are kept: a comment on its own line stays on its own
//! line before what follows it, a comment at the end of a line stays there, and a comment
//! inside a declaration moves to its own line just above it. One blank line between
//! declarations is kept where the file had at least one. Only white space and comment
//! placement change, so formatting never changes meaning.

use pest::iterators::Pair;

use super::{syntax_error, Rule};
use crate::diagnostic::Diagnostic;
use crate::source::SourceId;

const INDENT: &str = "  ";

/// Formats `text`, or returns its syntax error.
pub fn format(source: SourceId, text: &str) -> Result<String, Box<Diagnostic>> {
    // Read as a `Source` reads it: a lone CR ends a line (and so a comment).
    let text = crate::source::lone_cr_to_lf(text.to_string());
    let text = text.as_str();
    let mut pairs = super::parse_tree(text).map_err(|e| Box::new(syntax_error(&e, source, text)))?;
    let mut out = Printer {
        text,
        out: String::with_capacity(text.len() + 64),
    };
    if let Some(file) = pairs.next() {
        let items: Vec<Pair<'_, Rule>> = file
            .into_inner()
            .filter(|p| !matches!(p.as_rule(), Rule::EOI | Rule::byte_order_mark))
            .collect();
        out.items(&items, 0, 0, text.len(), 0);
    }
    let mut result = out.out;
    while result.ends_with("\n\n") {
        result.pop();
    }
    if result.trim().is_empty() {
        result.clear();
    }
    Ok(result)
}

struct Printer<'t> {
    text: &'t str,
    out: String,
}

/// What lies between two items: comments, and whether a blank line separates them.
struct Gap<'t> {
    /// A comment on the same line as the previous item's end.
    trailing: Option<&'t str>,
    /// Comments on their own lines, each with whether a blank line preceded it.
    leading: Vec<(bool, &'t str)>,
    /// Whether a blank line precedes the next item (after the last comment).
    blank_before_next: bool,
}

impl<'t> Printer<'t> {
    fn line(&mut self, depth: usize, content: &str) {
        for _ in 0..depth {
            self.out.push_str(INDENT);
        }
        self.out.push_str(content);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Prints `items` (each on its own line or block) with the comments between them, from
    /// byte `start` to byte `end` of the text.
    fn items(&mut self, items: &[Pair<'t, Rule>], depth: usize, start: usize, end: usize, first_index: usize) {
        let mut cursor = start;
        for (i, item) in items.iter().enumerate() {
            let gap = gap(&self.text[cursor..item.as_span().start()]);
            self.gap_before(&gap, depth, i + first_index == 0);
            // A declaration's span can run over white space and comments after its last
            // token; those belong to the gap that follows.
            let item_end = content_end(self.text, item.as_span().start(), item.as_span().end());
            self.item(item.clone(), depth, item_end);
            cursor = item_end;
        }
        let gap = gap(&self.text[cursor..end]);
        self.attach_trailing(gap.trailing, depth);
        for (blank, comment) in gap.leading {
            if blank {
                self.blank();
            }
            self.line(depth, comment);
        }
    }

    fn gap_before(&mut self, gap: &Gap<'t>, depth: usize, first: bool) {
        self.attach_trailing(gap.trailing, depth);
        for (blank, comment) in &gap.leading {
            if *blank && !first {
                self.blank();
            }
            self.line(depth, comment);
        }
        if gap.blank_before_next && !first {
            self.blank();
        }
    }

    /// Puts a same-line comment at the end of the line just written (or on a line of its
    /// own at the very start of the file).
    fn attach_trailing(&mut self, comment: Option<&str>, depth: usize) {
        let Some(comment) = comment else { return };
        if self.out.ends_with('\n') && !self.out.ends_with("\n\n") {
            self.out.pop();
            self.out.push(' ');
            self.out.push_str(comment);
            self.out.push('\n');
        } else {
            self.line(depth, comment);
        }
    }

    fn item(&mut self, pair: Pair<'t, Rule>, depth: usize, end: usize) {
        let rule = pair.as_rule();
        let block = match rule {
            Rule::namespace_decl | Rule::service_decl | Rule::gateway_decl | Rule::external_decl => Some(1),
            Rule::naming_block | Rule::policy_block | Rule::cluster_block => Some(0),
            Rule::version_decl if is_braced_version(&pair) => Some(2),
            _ => None,
        };
        match block {
            Some(head_children) => self.block(pair, depth, head_children),
            None => self.statement(&self.text[pair.as_span().start()..end], depth),
        }
    }

    /// `header {`, the items, `}`. The first `head_children` children belong to the header.
    fn block(&mut self, pair: Pair<'t, Rule>, depth: usize, head_children: usize) {
        let span = pair.as_span();
        let children: Vec<Pair<'t, Rule>> = pair.into_inner().collect();
        let head_end = children
            .get(..head_children)
            .and_then(|h| h.last())
            .map_or(span.start(), |p| p.as_span().end());
        let brace = find_open_brace(self.text, head_end, span.end());
        let (header, comments) = tokens(&self.text[span.start()..brace + 1]);
        for comment in comments {
            self.line(depth, comment);
        }
        self.line(depth, &header);
        let items = children.get(head_children..).unwrap_or(&[]);
        let close = span.end().saturating_sub(1);
        self.items(items, depth + 1, brace + 1, close, 0);
        self.line(depth, "}");
    }

    fn statement(&mut self, source: &str, depth: usize) {
        let (line, comments) = tokens(source);
        for comment in comments {
            self.line(depth, comment);
        }
        self.line(depth, &line);
    }
}

/// A version written `pod v1 { ... }` rather than with inline properties.
fn is_braced_version(pair: &Pair<'_, Rule>) -> bool {
    let mut inner = pair.clone().into_inner();
    let (Some(_runtime), Some(name)) = (inner.next(), inner.next()) else {
        return false;
    };
    let rest = &pair.as_str()[name.as_span().end() - pair.as_span().start()..];
    let (tokens, _) = tokens(rest);
    tokens.starts_with('{')
}

/// Where the last token (not comment, not white space) of `text[start..end]` ends.
pub(super) fn content_end(text: &str, start: usize, end: usize) -> usize {
    let slice = &text[start..end];
    let mut last = 0;
    scan(slice, |token_start, token_end, is_comment| {
        let _ = token_start;
        if !is_comment {
            last = token_end;
        }
    });
    start + last
}

/// The `{` that opens a block, after its header (skipping comments).
fn find_open_brace(text: &str, from: usize, limit: usize) -> usize {
    let mut i = from;
    let bytes = text.as_bytes();
    while i < limit {
        match bytes[i] {
            b'{' => return i,
            b'#' => {
                while i < limit && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    from
}

/// Splits the text between two items into comments and blank lines.
fn gap(text: &str) -> Gap<'_> {
    let mut result = Gap {
        trailing: None,
        leading: Vec::new(),
        blank_before_next: false,
    };
    let mut newlines = 0;
    let mut blank_pending = false;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                newlines += 1;
                if newlines >= 2 {
                    blank_pending = true;
                }
                i += 1;
            }
            b'#' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                let comment = text[i..end].trim_end();
                if result.leading.is_empty() && result.trailing.is_none() && newlines == 0 {
                    // Still on the line where the previous item ended.
                    result.trailing = Some(comment);
                } else {
                    result.leading.push((blank_pending, comment));
                }
                blank_pending = false;
                newlines = 0;
                i = end;
            }
            _ => i += 1,
        }
    }
    result.blank_before_next = blank_pending;
    result
}

/// The tokens of a declaration joined by single spaces, and the comments found inside it.
fn tokens(text: &str) -> (String, Vec<&str>) {
    let mut line = String::with_capacity(text.len());
    let mut comments = Vec::new();
    scan(text, |start, end, is_comment| {
        let token = &text[start..end];
        if is_comment {
            comments.push(token.trim_end());
            return;
        }
        if !line.is_empty() && token != "," {
            line.push(' ');
        }
        line.push_str(token);
    });
    (line, comments)
}

/// Calls `f(start, end, is_comment)` for every token of `text`: strings, `{`, `}`, `,`,
/// `->`, comments, and runs of other characters (words, numbers, addresses, `${NAME}`).
fn scan(text: &str, mut f: impl FnMut(usize, usize, bool)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                f(i, end, true);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(bytes.len());
                f(i, end, false);
                i = end;
            }
            b'{' | b'}' | b',' => {
                f(i, i + 1, false);
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'>') => {
                f(i, i + 2, false);
                i += 2;
            }
            _ => {
                let mut j = i;
                while j < bytes.len() {
                    match bytes[j] {
                        b' ' | b'\t' | b'\r' | b'\n' | b'#' | b'"' | b'{' | b'}' | b',' => break,
                        b'$' if bytes.get(j + 1) == Some(&b'{') => {
                            j = text[j..].find('}').map_or(bytes.len(), |n| j + n + 1);
                        }
                        b'-' if bytes.get(j + 1) == Some(&b'>') && j > i => break,
                        _ => j += 1,
                    }
                }
                // Stay on a character boundary whatever the input.
                let mut j = j.max(i + 1).min(bytes.len());
                while !text.is_char_boundary(j) {
                    j += 1;
                }
                f(i, j, false);
                i = j;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::format;

    fn fmt(text: &str) -> String {
        match format(0, text) {
            Ok(s) => s,
            Err(d) => panic!("{}", d.message),
        }
    }

    #[test]
    fn lays_out_blocks_and_keeps_comments() {
        let text = "# top\nnamespace   a{ # after brace\n service s {port http 80 # web\n\n\n  pod v1   image \"x\"\n  route prefix \"/a\" {v1 50% v2 50%}\n  vm v2 at 10.0.0.1 ,10.0.0.2 }\n# end\n}\n";
        let expected = "# top\nnamespace a { # after brace\n  service s {\n    port http 80 # web\n\n    pod v1 image \"x\"\n    route prefix \"/a\" { v1 50% v2 50% }\n    vm v2 at 10.0.0.1, 10.0.0.2\n  }\n  # end\n}\n";
        assert_eq!(fmt(text), expected);
        assert_eq!(fmt(expected), expected);
    }

    #[test]
    fn braced_versions_and_arrows() {
        let text = "namespace a { service s { port http 8003->8001 pod v1 { image \"x\" replicas 2 } route->v1 } }";
        let out = fmt(text);
        assert!(out.contains("    port http 8003 -> 8001\n"), "{out}");
        assert!(
            out.contains("    pod v1 {\n      image \"x\"\n      replicas 2\n    }\n"),
            "{out}"
        );
        assert!(out.contains("    route -> v1\n"), "{out}");
        assert_eq!(fmt(&out), out);
    }

    #[test]
    fn the_seed_keeps_its_meaning_and_is_stable() {
        let text = include_str!("../../examples/hybrid-hello.mesh");
        let once = fmt(text);
        assert_eq!(fmt(&once), once);
        let options = crate::Options::default();
        let before = crate::compile(&[crate::Source::new("a", text)], &options).map(|o| o.to_yaml());
        let after = crate::compile(&[crate::Source::new("a", once.as_str())], &options).map(|o| o.to_yaml());
        assert!(before.is_ok());
        assert_eq!(before, after);
    }

    #[test]
    fn comment_inside_a_declaration_moves_above_it() {
        let text = "namespace a {\n  service s {\n    pod v1 image \"x\" # why\n      replicas 2\n  }\n}\n";
        let out = fmt(text);
        assert!(out.contains("    # why\n    pod v1 image \"x\" replicas 2\n"), "{out}");
    }
}
