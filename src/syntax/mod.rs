//! Reading `.mesh` text: the pest grammar (`grammar/mesh.pest`) and its conversion into the
//! [`ast`](crate::ast). This is the only module that sees pest.

mod describe;
mod format;
mod lower;

use pest::Parser as _;

use crate::ast;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};

pub(crate) use describe::describe;
pub use format::format;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/mesh.pest"]
pub(crate) struct MeshParser;

/// Parses one source. Returns the tree (absent when the grammar rejects the text) and the
/// problems found while reading it: at most one grammar error, which stops reading, and any
/// number of bad escapes or numbers.
pub fn parse(source: SourceId, text: &str) -> (Option<ast::File>, Vec<Diagnostic>) {
    match parse_tree(text) {
        Ok(mut pairs) => {
            let mut lower = lower::Lower::new(source);
            let file = pairs.next().map(|pair| lower.file(pair)).unwrap_or_default();
            (Some(file), lower.diagnostics)
        }
        Err(error) => (None, vec![syntax_error(&error, source, text)]),
    }
}

/// Runs the grammar. Tracking what was expected where costs time on every parse, so it is
/// switched on only to explain a failure, by parsing the text a second time.
fn parse_tree(text: &str) -> Result<pest::iterators::Pairs<'_, Rule>, Box<pest::error::Error<Rule>>> {
    pest::set_error_detail(false);
    match MeshParser::parse(Rule::file, text) {
        Ok(pairs) => Ok(pairs),
        Err(first) => {
            pest::set_error_detail(true);
            let detailed = MeshParser::parse(Rule::file, text);
            pest::set_error_detail(false);
            Err(Box::new(detailed.err().unwrap_or(first)))
        }
    }
}

/// The `import "..."` lines at the head of a file, found without parsing the rest (the
/// command line uses them to find every file of a mesh), with their escapes decoded as
/// `parse` decodes them. Stops at the first other token; a malformed import is left for
/// `parse` to report. The problems are those of the strings' escapes and variables: an
/// import that has one is not in the list, and the problem says why.
pub fn imports(source: SourceId, text: &str) -> (Vec<crate::ast::Str>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut lower = lower::Lower::new(source);
    let mut position = skip_trivia(text, 0);
    while let Some(rest) = text.get(position..).and_then(|r| r.strip_prefix("import")) {
        let start = skip_trivia(text, text.len() - rest.len());
        let Some(body) = text.get(start..).and_then(|r| r.strip_prefix('"')) else {
            break;
        };
        // The closing quote: the first `"` not escaped by a backslash, on the same line.
        let bytes = body.as_bytes();
        let mut close = None;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => {
                    close = Some(i);
                    break;
                }
                b'\n' => break,
                _ => i += 1,
            }
        }
        let Some(close) = close else {
            break;
        };
        let before = lower.diagnostics.len();
        let (value, vars) = lower.unescape(&body[..close], start + 1);
        let span = Span::new(source, start, start + close + 2);
        if !vars.is_empty() {
            lower.diagnostics.push(
                Diagnostic::error(Code::BadVariable, span, "an import path cannot use variables")
                    .label("variables are not read until every file is loaded")
                    .help("write the path itself, relative to this file"),
            );
        }
        if lower.diagnostics.len() == before {
            out.push(crate::ast::Str {
                value,
                span,
                vars: Vec::new(),
            });
        }
        position = skip_trivia(text, start + close + 2);
    }
    (out, lower.diagnostics)
}

/// Turns pest's error into one diagnostic in human words: what was expected, what was found.
fn syntax_error(error: &pest::error::Error<Rule>, source: SourceId, text: &str) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    use std::collections::BTreeSet;

    let mut position = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    };
    let mut expected: BTreeSet<String> = BTreeSet::new();
    if let Some(attempts) = error.parse_attempts() {
        position = position.max(attempts.max_position);
        for token in attempts.expected_tokens() {
            // Literal tokens display as themselves; ranges and built-in rules are better
            // described by the rules that contain them.
            // Punctuation inside names and comments (`-`, `_`, `#`) is noise here.
            let token = token.to_string();
            let word = token.chars().all(|c| c.is_ascii_lowercase());
            if (word && token != "BUILTIN_RULE") || matches!(token.as_str(), "{" | "}" | "->" | ",") {
                expected.insert(format!("`{token}`"));
            }
        }
    }
    if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for rule in positives {
            if let Some(words) = describe(*rule) {
                expected.insert(words.to_string());
            }
        }
    }
    if let Some(diagnostic) = unterminated_string(text, position, source) {
        return diagnostic;
    }
    // Point at the next token rather than at the white space before it.
    position = skip_trivia(text, position);
    let (found, length) = found_at(text, position);
    // Long lists are easier to read as the kinds of thing expected.
    let mut expected: Vec<String> = expected.into_iter().collect();
    if expected.len() > 10 && expected.iter().any(|e| !e.starts_with('`')) {
        const KEEP: &[&str] = &["`}`", "`->`", "`or`", "`redirect`", "`respond`"];
        expected.retain(|e| (!e.starts_with('`') && e != "a name") || KEEP.contains(&e.as_str()));
    }
    let message = if expected.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", join_or(&expected))
    };
    let mut diagnostic = Diagnostic::error(Code::Syntax, Span::new(source, position, position + length), message)
        .label("not expected here");
    if let Some(help) = syntax_help(text, position) {
        diagnostic = diagnostic.help(help);
    }
    if position >= text.len() {
        if let Some(open) = unclosed_brace(text) {
            diagnostic = diagnostic
                .note(Span::new(source, open, open + 1), "this block is never closed")
                .help("add the missing `}`");
        }
    }
    diagnostic
}

/// A string opened on the error's line and not closed before its end.
fn unterminated_string(text: &str, position: usize, source: SourceId) -> Option<Diagnostic> {
    let line_start = text.get(..position)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[position..].find('\n').map_or(text.len(), |i| position + i);
    let mut open = None;
    let mut chars = text[line_start..line_end].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if open.is_some() => {
                chars.next();
            }
            '"' => open = if open.is_some() { None } else { Some(line_start + i) },
            '#' if open.is_none() => break,
            _ => {}
        }
    }
    let open = open.filter(|o| *o <= position)?;
    // Up to the line break, without a `\r` before it.
    let end = if text[..line_end].ends_with('\r') {
        line_end - 1
    } else {
        line_end
    };
    Some(
        Diagnostic::error(Code::Syntax, Span::new(source, open, end), "this string is not closed")
            .label("the string starts here and runs to the end of the line")
            .help("close it with `\"` on the same line; write a line break inside a string as `\\n`"),
    )
}

/// The innermost `{` that is never closed, skipping strings and comments.
fn unclosed_brace(text: &str) -> Option<usize> {
    let mut stack = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => i = text[i..].find('\n').map_or(bytes.len(), |n| i + n),
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' if bytes.get(i.wrapping_sub(1)) != Some(&b'$') => stack.push(i),
            b'}' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    stack.pop()
}

/// A hint for the mistakes people make most.
fn syntax_help(text: &str, position: usize) -> Option<String> {
    let rest = text.get(position..)?;
    if rest.starts_with('\'') {
        return Some("strings are written in double quotes: \"...\"".to_string());
    }
    if rest.starts_with('=') || rest.starts_with(':') {
        return Some("properties take their value after a space, without `=` or `:`: `replicas 2`".to_string());
    }
    if rest.starts_with(';') {
        return Some("declarations are not separated by `;`; put them on their own lines".to_string());
    }
    None
}

/// The first position at or after `position` that is not white space or a comment.
fn skip_trivia(text: &str, mut position: usize) -> usize {
    let bytes = text.as_bytes();
    while position < bytes.len() {
        match bytes[position] {
            b' ' | b'\t' | b'\r' | b'\n' => position += 1,
            b'#' => {
                position = text[position..].find('\n').map_or(text.len(), |n| position + n);
            }
            _ => break,
        }
    }
    position
}

/// What stands at `position`, for "found ...", and its length in bytes.
fn found_at(text: &str, position: usize) -> (String, usize) {
    let rest = text.get(position..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return ("the end of the file".to_string(), 0);
    };
    if first == '\n' || first == '\r' {
        return ("the end of the line".to_string(), 0);
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(40)
        .collect();
    if word.is_empty() {
        let shown = if first.is_control() {
            format!("the control character U+{:04X}", first as u32)
        } else {
            format!("`{first}`")
        };
        (shown, first.len_utf8())
    } else {
        (format!("`{word}`"), word.len())
    }
}

/// `a`, `a or b`, `a, b or c`
pub(crate) fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
