//! A grammar failure, explained: one diagnostic (M1001) at the token at fault, saying what
//! was expected and what was found, and what was most likely meant when that can be told:
//! a misspelled keyword (the candidates are the keywords pest tried at that position, and a
//! suggestion is made only when the file, with it in place, reads further), a keyword
//! written in the wrong block, a block left open, a value that needs quotes, a weight
//! without `%`, a trailing comma, a byte-order mark out of place.

use std::collections::BTreeSet;

use pest::error::{ErrorVariant, InputLocation};
use pest::Parser as _;

use super::{describe, join_or, skip_trivia, MeshParser, Rule, BOM};
use crate::check::suggest;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};

/// How `describe` names the weight of a split, to recognise a failure inside one.
pub(super) const WEIGHT: &str = "a weight such as `90%`";
/// How `describe` names a string.
const STRING: &str = "a string in double quotes";

/// Where the words that start a declaration belong, for "`route` does not go in a
/// namespace". Every word is a keyword of `grammar/mesh.pest` (a test checks it).
pub(super) const PLACES: &[(&str, &str)] = &[
    ("import", "imports come first in a file, before its first `namespace`"),
    (
        "namespace",
        "namespaces are declared at the top level of a file, each closed by its own `}`",
    ),
    (
        "service",
        "services are declared in a namespace: `namespace shop { service web { ... } }`",
    ),
    (
        "gateway",
        "gateways are declared in a namespace: `namespace shop { gateway front { ... } }`",
    ),
    (
        "external",
        "external services are declared in a namespace: `namespace shop { external api { ... } }`",
    ),
    ("naming", "a `naming` block goes in a namespace"),
    ("cluster", "a `cluster` block goes in a namespace"),
    (
        "route",
        "routes belong in a service (or an external service, or a gateway): `service web { route -> v1 }`",
    ),
    (
        "port",
        "ports belong in a service or an external service; a gateway has `listen`",
    ),
    ("calls", "`calls` belongs in a service: `service web { calls api }`"),
    (
        "pod",
        "versions belong in a service: `service web { pod v1 image \"...\" }`",
    ),
    (
        "vm",
        "versions belong in a service: `service web { vm v1 at 10.0.0.10 }`",
    ),
    ("listen", "`listen` belongs in a gateway; a service has `port`"),
    ("selector", "`selector` belongs in a gateway"),
    (
        "policy",
        "a `policy` block goes in a service, an external service or a version",
    ),
    (
        "image",
        "`image` is a property of a version: `pod v1 image \"registry.example.com/app:1.0\"`",
    ),
    (
        "replicas",
        "`replicas` is a property of a version: `pod v1 image \"...\" replicas 2`",
    ),
    (
        "env",
        "`env` is a property of a version: `pod v1 image \"...\" env MODE \"fast\"`",
    ),
    ("at", "`at` is a property of a VM version: `vm v1 at 10.0.0.10`"),
];

/// What pest says of a failure.
struct Failure {
    /// Where the parse stopped: the furthest position any rule reached.
    position: usize,
    /// What could have stood there, in words.
    expected: BTreeSet<String>,
    /// The keywords that could have stood there (`service`, `timeout`, ...).
    keywords: BTreeSet<String>,
}

impl Failure {
    fn read(error: &pest::error::Error<Rule>) -> Failure {
        let mut position = match error.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((start, _)) => start,
        };
        let mut expected = BTreeSet::new();
        let mut keywords = BTreeSet::new();
        if let Some(attempts) = error.parse_attempts() {
            position = position.max(attempts.max_position);
            for token in attempts.expected_tokens() {
                // Literal tokens display as themselves; ranges and built-in rules are better
                // described by the rules that contain them. Punctuation inside names and
                // comments (`-`, `_`, `#`) is noise here.
                let token = token.to_string();
                if is_keyword(&token) {
                    expected.insert(format!("`{token}`"));
                    keywords.insert(token);
                } else if matches!(token.as_str(), "{" | "}" | "->" | ",") {
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
        Failure {
            position,
            expected,
            keywords,
        }
    }
}

/// A literal of the grammar that is a word: `service`, `auto-register`.
fn is_keyword(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_lowercase()) && token.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

/// Turns pest's error into one diagnostic in human words: what was expected, what was found.
pub(super) fn syntax_error(error: &pest::error::Error<Rule>, source: SourceId, text: &str) -> Diagnostic {
    let failure = Failure::read(error);
    if let Some(diagnostic) = unterminated_string(text, failure.position, source) {
        return diagnostic;
    }
    // Point at the next token rather than at the white space before it.
    let position = skip_trivia(text, failure.position);
    let at = Tokens { text, source };
    at.misplaced_bom(position)
        .or_else(|| at.unclosed_block(position))
        .or_else(|| at.stray_close(position))
        .or_else(|| at.weight(&failure))
        .or_else(|| at.keyword(position, &failure))
        .unwrap_or_else(|| at.unexpected(position, failure))
}

/// The text being explained, and its source.
struct Tokens<'t> {
    text: &'t str,
    source: SourceId,
}

impl Tokens<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.source, start, end)
    }

    /// "expected ..., found ...", with a hint for the mistakes people make most.
    fn unexpected(&self, position: usize, failure: Failure) -> Diagnostic {
        let (mut found, mut length) = found_at(self.text, position);
        if let Some(quoted) = single_quoted(&self.text[position..]) {
            found = format!("`{quoted}`");
            length = quoted.len();
        }
        // Long lists are easier to read as the kinds of thing expected.
        let quoted = failure.expected.contains(STRING) && failure.keywords.is_empty();
        let mut expected: Vec<String> = failure.expected.into_iter().collect();
        if expected.len() > 10 && expected.iter().any(|e| !e.starts_with('`')) {
            const KEEP: &[&str] = &["`}`", "`->`", "`or`", "`redirect`", "`respond`"];
            expected.retain(|e| (!e.starts_with('`') && e != "a name") || KEEP.contains(&e.as_str()));
        }
        let before = self.text[..position].trim_end();
        if let Some(comma) = before.strip_suffix(',').map(str::len) {
            let span = self.span(comma, comma + 1);
            let message = match expected.is_empty() {
                true => "a trailing `,`".to_string(),
                false => format!("a trailing `,`: expected {} after it", join_or(&expected)),
            };
            return Diagnostic::error(Code::Syntax, span, message)
                .label("nothing follows this `,`")
                .help("a list ends with its last item: remove the trailing `,`")
                .fix(span, "");
        }
        if quoted {
            if let Some(diagnostic) = self.unquoted(position, &expected) {
                return diagnostic;
            }
        }
        let message = if expected.is_empty() {
            format!("unexpected {found}")
        } else {
            format!("expected {}, found {found}", join_or(&expected))
        };
        let diagnostic =
            Diagnostic::error(Code::Syntax, self.span(position, position + length), message).label("not expected here");
        self.hint(diagnostic, position)
    }

    /// A help line (and a fix, when it is certain) for the mistakes people make most.
    fn hint(&self, diagnostic: Diagnostic, position: usize) -> Diagnostic {
        let text = self.text;
        let rest = &text[position..];
        let before = text[..position].trim_end();
        if rest.starts_with('\'') {
            let help = "strings are written in double quotes: \"...\"";
            return match single_quoted(rest) {
                Some(quoted) => diagnostic.help(help).fix(
                    self.span(position, position + quoted.len()),
                    format!("\"{}\"", &quoted[1..quoted.len() - 1]),
                ),
                None => diagnostic.help(help),
            };
        }
        if rest.starts_with(',') {
            return diagnostic
                .help("no `,` here: the items of a split or a block are separated by spaces, `{ v1 50% v2 50% }`")
                .fix(self.span(position, position + 1), "");
        }
        if let Some(sign) = before.strip_suffix([':', '=']).map(str::len) {
            return diagnostic
                .help("properties take their value after a space, without `=` or `:`: `replicas 2`")
                .fix(self.span(sign, sign + 1), "");
        }
        let words: Vec<&str> = before
            .rsplit(['\n', '{', '}'])
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if let ["route", target] = words.as_slice() {
            if !target.starts_with(|c: char| c.is_ascii_alphabetic()) || PLACES.iter().any(|(k, _)| k == target) {
                return diagnostic;
            }
            let at = self.span(before.len() - target.len(), before.len());
            let mut diagnostic = diagnostic
                .help(format!("the target of a route follows `->`: `route -> {target}`"))
                .fix(at, format!("-> {target}"));
            diagnostic.primary = crate::diagnostic::Label {
                span: at,
                text: "a target without `->`".to_string(),
            };
            diagnostic.message = format!("expected `->` before the target `{target}`");
            return diagnostic;
        }
        if rest.starts_with('=') || rest.starts_with(':') {
            return diagnostic
                .help("properties take their value after a space, without `=` or `:`: `replicas 2`")
                .fix(self.span(position, position + 1), " ");
        }
        if rest.starts_with(';') {
            return diagnostic
                .help("declarations are not separated by `;`; put them on their own lines")
                .fix(self.span(position, position + 1), "");
        }
        if rest.starts_with('%') && before.len() < position && before.ends_with(|c: char| c.is_ascii_digit()) {
            let start = before.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.').len();
            let number = &before[start..];
            return diagnostic
                .help(format!("write the `%` right after the number: `{number}%`"))
                .fix(self.span(start, position + 1), format!("{number}%"));
        }
        // The line the parse stopped after: `port http` with no number.
        if matches!(words.as_slice(), ["port"] | ["port", _]) {
            return diagnostic.help("a port is its protocol and its number: `port http 8080`");
        }
        diagnostic
    }

    /// A bare word or value where a string is expected: `image nginx:1.25`.
    fn unquoted(&self, position: usize, expected: &[String]) -> Option<Diagnostic> {
        // From the start of the number the parse stopped inside (`10.0` of `10.0.0.10`).
        let position = self.text[..position]
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
            .len();
        let rest = &self.text[position..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '{' | '}' | '"' | '\'' | '#' | ','))
            .unwrap_or(rest.len());
        let bare = &rest[..end];
        let plausible = |c: char| c.is_alphanumeric() || matches!(c, '/' | '.' | '_' | '~' | '*');
        if !bare.starts_with(plausible) || bare.chars().any(char::is_control) {
            return None;
        }
        let span = self.span(position, position + end);
        Some(
            Diagnostic::error(
                Code::Syntax,
                span,
                format!("expected {}, found `{bare}`", join_or(expected)),
            )
            .label("not quoted")
            .help(format!("write it in double quotes: `\"{bare}\"`"))
            .fix(span, format!("\"{bare}\"")),
        )
    }

    /// A byte-order mark anywhere but at the very start.
    fn misplaced_bom(&self, position: usize) -> Option<Diagnostic> {
        self.text[position..].starts_with(BOM).then(|| {
            let span = self.span(position, position + BOM.len_utf8());
            Diagnostic::error(Code::Syntax, span, "a byte-order mark (U+FEFF) inside the file")
                .label("an invisible U+FEFF")
                .help("remove it: a byte-order mark may only start a file, where it is ignored")
                .fix(span, "")
        })
    }

    /// A word where a keyword goes: misspelled (`servcie`), written in the wrong block
    /// (`route` in a namespace), or unknown; or a misspelled keyword just before where the
    /// parse stopped, taken for something else (`services web {` reads as a service `s`).
    fn keyword(&self, position: usize, failure: &Failure) -> Option<Diagnostic> {
        if let Some(diagnostic) = self.keyword_at(word_start(self.text, position), failure, true) {
            return Some(diagnostic);
        }
        let mut before = &self.text[..failure.position.min(position)];
        // Leave out the token the parse stopped inside (`-` of `rout ->`).
        let tail = before.trim_end_matches(|c: char| !c.is_whitespace()).len();
        if !before[tail..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            before = &before[..tail];
        }
        let before = before.trim_end();
        // The word just before, and the word that starts the line the parse stopped on: a
        // keyword may have been taken for something else (a property, a name) up to there.
        let previous = word_start(before, before.len());
        let line = self.text[..position].rfind('\n').map_or(0, |i| i + 1);
        let first = skip_trivia(self.text, line);
        for start in [previous, first] {
            if start >= position || !self.text[start..].starts_with(|c: char| c.is_ascii_alphabetic()) {
                continue;
            }
            // What could stand there: make the word unreadable and ask again.
            let masked = format!("{}\u{1}{}", &self.text[..start], &self.text[start + 1..]);
            let Some(there) = detailed(&masked) else {
                continue;
            };
            if skip_trivia(&masked, there.position) != start {
                continue;
            }
            if let Some(diagnostic) = self.keyword_at(start, &there, start == first) {
                return Some(diagnostic);
            }
        }
        None
    }

    fn misspelled(&self, start: usize, end: usize, best: &str) -> Diagnostic {
        let word = &self.text[start..end];
        let span = self.span(start, end);
        Diagnostic::error(
            Code::Syntax,
            span,
            format!("unknown keyword `{word}` {}", self.place(start)),
        )
        .label("not a keyword here")
        .help(format!("did you mean `{best}`?"))
        .fix(span, best)
    }

    /// The word at `start` where `failure` expected keywords; `listing`: say which when the
    /// word is near none of them.
    fn keyword_at(&self, start: usize, failure: &Failure, listing: bool) -> Option<Diagnostic> {
        if failure.keywords.is_empty() {
            return None;
        }
        let text = self.text;
        let end = text[start..]
            .find(|c: char| !is_word_char(c))
            .map_or(text.len(), |i| start + i);
        let word = &text[start..end];
        if !word.starts_with(|c: char| c.is_ascii_alphabetic()) || failure.keywords.contains(word) {
            return None;
        }
        let span = self.span(start, end);
        let place = self.place(start);
        let candidates: Vec<&str> = failure.keywords.iter().map(String::as_str).collect();
        if let Some(best) = self.respelling(start, end, word, &candidates) {
            return Some(self.misspelled(start, end, best));
        }
        if let Some((_, belongs)) = PLACES.iter().find(|(keyword, _)| *keyword == word) {
            return Some(
                Diagnostic::error(Code::Syntax, span, format!("`{word}` is not allowed {place}"))
                    .label("not allowed here")
                    .help(*belongs),
            );
        }
        if !listing || failure.expected.contains(STRING) {
            return None;
        }
        let list: Vec<String> = candidates.iter().map(|k| format!("`{k}`")).collect();
        let mut help = format!("the keywords here: {}", list.join(", "));
        if (word == "version" || suggest::closest(word, ["version"]).is_some()) && candidates.contains(&"pod") {
            help = "a version is declared by where it runs: `pod v1 image \"...\"` or `vm v1 at 10.0.0.10`".to_string();
        }
        Some(
            Diagnostic::error(Code::Syntax, span, format!("unknown keyword `{word}` {place}"))
                .label("not a keyword here")
                .help(help),
        )
    }

    /// The keyword closest to `word` among `candidates` that makes the file read past it.
    fn respelling<'k>(&self, start: usize, end: usize, word: &str, candidates: &[&'k str]) -> Option<&'k str> {
        let mut left: Vec<&str> = candidates.to_vec();
        for _ in 0..4 {
            let best = suggest::closest(word, left.iter().copied())?;
            let respelled = format!("{}{best}{}", &self.text[..start], &self.text[end..]);
            if reach(&respelled) > start + best.len() {
                return Some(best);
            }
            left.retain(|k| *k != best);
        }
        None
    }

    /// "in a service", from the innermost block open at `position`.
    fn place(&self, position: usize) -> String {
        let Some(open) = open_blocks(&self.text[..position]).pop() else {
            return "at the top level of the file".to_string();
        };
        let what = match header(self.text, open).first().copied().unwrap_or("") {
            "namespace" => "in a namespace",
            "service" => "in a service",
            "external" => "in an external service",
            "gateway" => "in a gateway",
            "pod" | "vm" => "in a version",
            "naming" => "in a `naming` block",
            "cluster" => "in a `cluster` block",
            "policy" => "in a `policy` block",
            "route" => "in a split",
            _ => "here",
        };
        what.to_string()
    }

    /// A split's weight without its `%`, or with a space before it: the parse stops right
    /// after the number.
    fn weight(&self, failure: &Failure) -> Option<Diagnostic> {
        if !failure.expected.contains(WEIGHT) {
            return None;
        }
        let end = failure.position;
        let start = self.text[..end]
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-')
            .len();
        let number = &self.text[start..end];
        if !number.ends_with(|c: char| c.is_ascii_digit()) || start == end {
            return None;
        }
        let after = &self.text[end..];
        let spaced = after.trim_start_matches([' ', '\t']);
        let (end, help, label) = if spaced.starts_with('%') {
            let end = self.text.len() - spaced.len() + 1;
            (
                end,
                format!("write the `%` right after the number: `{number}%`"),
                "a space before `%`",
            )
        } else if after.starts_with(|c: char| c.is_whitespace() || c == '}') || after.is_empty() {
            let help = format!("a weight is a percentage of the requests: `{number}%`");
            (end, help, "no `%`")
        } else {
            return None;
        };
        let span = self.span(start, end);
        Some(
            Diagnostic::error(
                Code::Syntax,
                span,
                format!("expected {WEIGHT}, found `{}`", &self.text[start..end]),
            )
            .label(label)
            .help(help)
            .fix(span, format!("{number}%")),
        )
    }

    /// A `}` too many, when the parse stopped at a `}` that closes nothing: the first `}`
    /// indented deeper than the block it closes, if any comes before, is the likely one.
    fn stray_close(&self, position: usize) -> Option<Diagnostic> {
        let (blocks, stray) = braces(self.text);
        if !stray.contains(&position) {
            return None;
        }
        let deeper = blocks.iter().filter_map(|(open, close)| {
            let close = (*close)?;
            (starts_line(self.text, close) && indentation(self.text, close) > indentation(self.text, *open))
                .then_some(close)
        });
        let (at, label) = match deeper.min().filter(|c| *c < position) {
            Some(close) => (
                close,
                "probably this one: it is indented deeper than the block it closes",
            ),
            None => (position, "no block is open here"),
        };
        let mut diagnostic = Diagnostic::error(Code::Syntax, self.span(at, at + 1), "a `}` too many")
            .label(label)
            .help("remove the `}` that closes nothing");
        if at != position {
            diagnostic = diagnostic.note(
                self.span(position, position + 1),
                "reading stops here, with every block closed",
            );
        }
        Some(diagnostic)
    }

    /// A block whose `}` is missing, found by the file's braces and indentation (see
    /// [`unclosed`]), reported at its `{` when the parse stopped at or after the first
    /// line that shows it.
    fn unclosed_block(&self, position: usize) -> Option<Diagnostic> {
        let (open, evidence) = unclosed(self.text)?;
        match evidence {
            // The parse stopped before the block shows it is open: something else is wrong.
            Some(at) if at > position => return None,
            None if position < self.text.len() => return None,
            _ => {}
        }
        let head = header(self.text, open).join(" ");
        let message = if head.is_empty() {
            "this block is never closed".to_string()
        } else {
            format!("the block of `{head}` is never closed")
        };
        let mut diagnostic =
            Diagnostic::error(Code::Syntax, self.span(open, open + 1), message).label("this `{` is never closed");
        if let Some(at) = evidence {
            let (_, length) = found_at(self.text, at);
            diagnostic = diagnostic.note(
                self.span(at, at + length),
                "this line is indented as if the block had ended",
            );
            let line = self.text[..at].matches('\n').count() + 1;
            diagnostic = diagnostic.help(format!("close the block with `}}` before line {line}"));
        } else {
            diagnostic = diagnostic.help("add the missing `}`");
        }
        // The end of the file, shown at its last character.
        let last = self.text.trim_end();
        let at = last.char_indices().next_back().map_or(0, |(i, _)| i);
        Some(diagnostic.note(self.span(at, last.len()), "the file ends here, inside the block"))
    }
}

/// The words before a `{` that say what the block is: `service web`, `naming`.
fn header(text: &str, open: usize) -> Vec<&str> {
    let mut words: Vec<&str> = text[..open].split_whitespace().rev().take(2).collect();
    if words
        .first()
        .is_some_and(|w| matches!(*w, "naming" | "cluster" | "policy"))
    {
        words.truncate(1);
    }
    words.reverse();
    if words.len() == 2 && !is_keyword(words[0]) {
        words.clear();
    }
    words
}

/// Where the word holding `position` starts (`position` itself when none does).
fn word_start(text: &str, position: usize) -> usize {
    text[..position].trim_end_matches(is_word_char).len().min(position)
}

/// The failure of `text`, with what was expected (`None` when it reads).
fn detailed(text: &str) -> Option<Failure> {
    pest::set_error_detail(true);
    let result = MeshParser::parse(Rule::file, text);
    pest::set_error_detail(false);
    result.err().map(|e| Failure::read(&e))
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `'...'` at the start of `rest`, closed on its line, with no `"` inside.
fn single_quoted(rest: &str) -> Option<&str> {
    let line = rest.strip_prefix('\'')?.split('\n').next()?;
    let close = line.find('\'')?;
    (!line[..close].contains('"')).then(|| &rest[..close + 2])
}

/// How far the grammar reads `text`: the position where it stops, or past the end.
fn reach(text: &str) -> usize {
    match MeshParser::parse(Rule::file, text) {
        Ok(_) => usize::MAX,
        Err(error) => match error.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((start, _)) => start,
        },
    }
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

/// The blocks of `text`, by its braces (skipping strings, comments and `${NAME}`): each `{`
/// with its matching `}`, if any, in the order of the `{`; and the `}` that close nothing.
fn braces(text: &str) -> (Vec<(usize, Option<usize>)>, Vec<usize>) {
    let mut out = Vec::new();
    let mut stray = Vec::new();
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
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                // A variable: its braces are not a block's.
                let name = bytes[i + 2..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                if bytes.get(i + 2 + name) == Some(&b'}') {
                    i += 2 + name;
                }
            }
            b'{' => {
                stack.push(out.len());
                out.push((i, None));
            }
            b'}' => match stack.pop() {
                Some(index) => out[index].1 = Some(i),
                None => stray.push(i),
            },
            _ => {}
        }
        i += 1;
    }
    (out, stray)
}

fn blocks(text: &str) -> Vec<(usize, Option<usize>)> {
    braces(text).0
}

/// The `{` of the blocks still open at the end of `text`, outermost first.
fn open_blocks(text: &str) -> Vec<usize> {
    blocks(text)
        .into_iter()
        .filter(|(_, close)| close.is_none())
        .map(|(open, _)| open)
        .collect()
}

/// The `{` that is never closed, when the file has more `{` than `}`, and the first line
/// that shows it, if the indentation tells. A block laid out over lines (its first line
/// inside indented more than its header) shows it is left open when a line inside it, by
/// the braces, starts at or left of the header's indentation (a sibling declaration, or
/// the `}` of an outer block). Of several such blocks, the one shown first; without any,
/// the innermost block open at the end of the file.
fn unclosed(text: &str) -> Option<(usize, Option<usize>)> {
    let blocks = blocks(text);
    let innermost = blocks.iter().rev().find(|(_, close)| close.is_none())?.0;
    let mut best: Option<(usize, usize)> = None;
    for &(open, close) in &blocks {
        let indent = indentation(text, open);
        let header_end = text[open..].find('\n').map_or(text.len(), |i| open + i);
        let end = close.unwrap_or(text.len());
        if header_end >= end {
            // Opened and closed on one line.
            continue;
        }
        // The lines strictly inside the block, with where each starts.
        let mut lines = text[header_end..end]
            .split_inclusive('\n')
            .scan(header_end, |at, line| {
                let start = *at;
                *at += line.len();
                Some((start, line))
            })
            .filter_map(|(start, line)| {
                let trimmed = line.trim_start_matches([' ', '\t', '\n', '\r']);
                let first = start + line.len() - trimmed.len();
                (!trimmed.is_empty() && !trimmed.starts_with('#') && first < end).then_some((first, trimmed))
            });
        let Some((first, _)) = lines.next() else {
            continue;
        };
        if indentation(text, first) <= indent {
            continue;
        }
        // A `}` at the header's own indentation looks like this block's end: it shows an
        // inner block open, not this one.
        let mut evidence = lines
            .find(|(at, line)| {
                let column = indentation(text, *at);
                column < indent || column == indent && !line.starts_with('}')
            })
            .map(|(at, _)| at);
        if evidence.is_none() {
            // The `}` that closes it, by the braces, on its own line left of the header.
            evidence = close.filter(|c| starts_line(text, *c) && indentation(text, *c) < indent);
        }
        if let Some(at) = evidence {
            // On a tie, the inner block (later `{`) is the one left open.
            if best.is_none_or(|(_, shown)| at <= shown) {
                best = Some((open, at));
            }
        }
    }
    match best {
        Some((open, at)) => Some((open, Some(at))),
        None => Some((innermost, None)),
    }
}

/// Whether only white space precedes `at` on its line.
fn starts_line(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..at].chars().all(|c| c == ' ' || c == '\t')
}

/// The indentation of the line holding `at`, in columns (a tab counts as one).
fn indentation(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .count()
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
