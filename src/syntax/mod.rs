//! Reading `.mesh` text: the pest grammar (`grammar/mesh.pest`) and its conversion into the
//! [`ast`](crate::ast). This is the only module that sees pest.

mod describe;
mod error;
mod format;
mod lower;
#[cfg(test)]
mod tests;

use pest::Parser as _;

use crate::ast;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};

pub(crate) use describe::describe;
use error::syntax_error;
pub use format::format;

/// The UTF-8 byte-order mark some editors write at the start of a file: accepted there (the
/// grammar skips it, `fmt` drops it), refused anywhere else.
const BOM: char = '\u{feff}';

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/mesh.pest"]
pub(crate) struct MeshParser;

/// Parses one source. Returns the tree (absent when the grammar rejects the text) and the
/// problems found while reading it: at most one grammar error, which stops reading, and any
/// number of bad escapes or numbers.
///
/// The cascade rule: a grammar error comes alone. The file has no tree, and `compile`
/// checks no file of the mesh then (their references into it would all fail), so nothing
/// the error causes is reported. What the grammar keeps for the checker to name (an
/// unknown property of a version, an unknown condition) is reported there, with the
/// file's other problems, and the checker does not also report what it may stand for (a
/// version with an unknown property is not said to lack its image or address). Bad escapes
/// and numbers leave their value out of the tree, so they cause nothing either.
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
    let mut position = skip_trivia(text, text.strip_prefix(BOM).map_or(0, |_| BOM.len_utf8()));
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

/// `a`, `a or b`, `a, b or c`
pub(crate) fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
