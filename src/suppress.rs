//! Suppression comments: a finding is allowed, with a reason, by a comment on its line or
//! on the line above it.
//!
//! ```text
//! # meshc: allow M3018 -- the gateway is for the smoke tests, which must reach every version
//! route prefix "/shop" -> web   # meshc: allow ingress-split -- same, on the line itself
//! ```
//!
//! The form is `# meshc: allow CODE[, CODE...] -- REASON`: each CODE is a code (`M3018`) or
//! its name (`ingress-split`), and the reason is required. A comment alone on its line
//! applies to the next line that is neither blank nor only a comment; a comment after code
//! applies to its own line. A finding is on a line when its offending token starts there.
//! Only warnings can be allowed: an error must be fixed. A suppression comment that cannot be
//! read (no code, an unknown code, no reason) or, in a run where every check ran (no
//! errors), suppresses nothing, is itself a warning: M1010 `suppression`.
//!
//! Comments are found in the source text (the grammar skips them), line by line: in `.mesh`
//! files a `#` outside a string starts one (a `.mesh` string never spans lines, and `\"`
//! does not end it); vars files are not read. The manifests of `meshc lint` take the same
//! comments ([`apply_yaml`]): there a `#` at the start of a line or after a space starts
//! one, except inside a quoted scalar (which may span lines) or a block scalar (`|`, `>`).

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{Source, SourceKind, Span};

/// One `# meshc: allow` comment that could be read.
struct Allow {
    source: usize,
    /// The 0-based line it applies to.
    line: usize,
    codes: Vec<Code>,
    /// The comment, for the warning when it suppresses nothing.
    span: Span,
    used: bool,
}

/// Removes the warnings that a suppression comment of a `.mesh` source allows, and adds
/// M1010 warnings for the comments that are malformed or (when no error was found) allow
/// nothing.
pub fn apply(sources: &[Source], diagnostics: &mut Vec<Diagnostic>) {
    apply_with(sources, diagnostics, |s| {
        (s.kind == SourceKind::Mesh).then_some(mesh_comments as Finder)
    });
}

/// [`apply`] for YAML manifests (`meshc lint`): every source is read as YAML.
pub fn apply_yaml(sources: &[Source], diagnostics: &mut Vec<Diagnostic>) {
    apply_with(sources, diagnostics, |_| Some(yaml_comments as Finder));
}

/// Where each line's comment starts (byte offset in the line), for one source text.
type Finder = fn(&str) -> Vec<Option<usize>>;

fn apply_with(sources: &[Source], diagnostics: &mut Vec<Diagnostic>, finder: impl Fn(&Source) -> Option<Finder>) {
    let mut allows = Vec::new();
    let mut problems = Vec::new();
    for (id, source) in sources.iter().enumerate() {
        if !source.text.contains("meshc:") {
            continue;
        }
        if let Some(comments) = finder(source) {
            read(id, &source.text, &comments(&source.text), &mut allows, &mut problems);
        }
    }
    if allows.is_empty() && problems.is_empty() {
        return;
    }
    let lines: Vec<Option<crate::source::LineIndex>> = sources
        .iter()
        .enumerate()
        .map(|(id, s)| {
            allows
                .iter()
                .any(|a| a.source == id)
                .then(|| crate::source::LineIndex::new(&s.text))
        })
        .collect();
    let complete = !diagnostics.iter().any(Diagnostic::is_error);
    diagnostics.retain(|d| {
        let span = d.primary.span;
        let Some(Some(index)) = lines.get(span.source) else {
            return true;
        };
        let line = index.line(span.start);
        let mut allowed = false;
        for allow in allows.iter_mut() {
            if allow.source == span.source && allow.line == line && allow.codes.contains(&d.code) {
                allow.used = true;
                allowed |= !d.is_error();
            }
        }
        !allowed
    });
    if complete {
        for allow in allows.iter().filter(|a| !a.used) {
            let codes: Vec<&str> = allow.codes.iter().map(|c| c.id()).collect();
            problems.push(
                Diagnostic::warning(
                    Code::Suppression,
                    allow.span,
                    format!(
                        "this suppression allows nothing: no {} warning on line {}",
                        codes.join(" or "),
                        allow.line + 1
                    ),
                )
                .label("allows nothing")
                .help("remove the comment, or move it onto the finding's line or the line above it"),
            );
        }
    } else {
        // An error stops some checks: a finding may be missing for that reason alone. But
        // a suppression never allows an error.
        for allow in allows.iter().filter(|a| a.used) {
            let errors = diagnostics
                .iter()
                .any(|d| d.is_error() && d.primary.span.source == allow.source && allow.codes.contains(&d.code));
            if errors {
                problems.push(
                    Diagnostic::warning(Code::Suppression, allow.span, "an error cannot be allowed")
                        .label("allows only warnings")
                        .help("fix the error; a suppression comment allows warnings only"),
                );
            }
        }
    }
    diagnostics.append(&mut problems);
}

/// The `# meshc:` comments of one source, whose lines' comments start at `comments`.
fn read(id: usize, text: &str, comments: &[Option<usize>], allows: &mut Vec<Allow>, problems: &mut Vec<Diagnostic>) {
    let mut offset = 0;
    // Standalone comments waiting for the line they apply to.
    let mut pending: Vec<Allow> = Vec::new();
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let comment = comments.get(number).copied().flatten().filter(|at| *at < body.len());
        let code_before = body[..comment.unwrap_or(body.len())].trim();
        if !code_before.is_empty() {
            for mut allow in pending.drain(..) {
                allow.line = number;
                allows.push(allow);
            }
        }
        let Some(at) = comment else { continue };
        let Some(allow) = parse(id, start + at, &body[at..], problems) else {
            continue;
        };
        if code_before.is_empty() {
            pending.push(Allow { line: number, ..allow });
        } else {
            allows.push(Allow { line: number, ..allow });
        }
    }
    // A comment with no line after it allows nothing: it stays at its own line.
    allows.append(&mut pending);
}

/// The comment of each line of a `.mesh` text.
fn mesh_comments(text: &str) -> Vec<Option<usize>> {
    text.split_inclusive('\n').map(comment_start).collect()
}

/// The comment of each line of a YAML text: a `#` at the start of the line or after white
/// space, outside quoted scalars (single- or double-quoted, across lines) and block scalars.
fn yaml_comments(text: &str) -> Vec<Option<usize>> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut quote = Quote::None;
    // The indentation of the line that opened a block scalar, while in one.
    let mut block: Option<usize> = None;
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        if let Some(opener) = block {
            if body.trim().is_empty() || indent > opener {
                out.push(None);
                continue;
            }
            block = None;
        }
        let mut comment = None;
        let mut previous = ' ';
        let mut escaped = false;
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match quote {
                Quote::Double if escaped => escaped = false,
                Quote::Double if c == '\\' => escaped = true,
                Quote::Double if c == '"' => quote = Quote::None,
                Quote::Single if c == '\'' && chars.peek().map(|(_, n)| *n) == Some('\'') => {
                    chars.next();
                }
                Quote::Single if c == '\'' => quote = Quote::None,
                Quote::Double | Quote::Single => {}
                Quote::None if c == '#' && previous.is_whitespace() => {
                    comment = Some(i);
                    break;
                }
                // A quote opens a scalar only where a value or key starts.
                Quote::None if (c == '"' || c == '\'') && (previous.is_whitespace() || "[{,:-?".contains(previous)) => {
                    let before = body[..i].trim_end();
                    if before.is_empty() || before.ends_with([':', '-', '[', '{', ',', '?']) {
                        quote = if c == '"' { Quote::Double } else { Quote::Single };
                    }
                }
                Quote::None => {}
            }
            previous = c;
        }
        if quote == Quote::None {
            let code = body[..comment.unwrap_or(body.len())].trim_end();
            let indicator = code.trim_end_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit());
            if (indicator.ends_with('|') || indicator.ends_with('>')) && {
                let before = &indicator[..indicator.len() - 1];
                before.is_empty() || before.ends_with([' ', '\t'])
            } {
                block = Some(indent);
            }
        }
        out.push(comment);
    }
    out
}

/// Where a line's comment starts: the first `#` outside a string.
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

/// Reads `# meshc: allow CODES -- REASON` at `at` (the comment, from its `#`); `None`, with
/// a problem when it is meant as one and cannot be read, or when it is not one.
fn parse(id: usize, at: usize, comment: &str, problems: &mut Vec<Diagnostic>) -> Option<Allow> {
    let rest = comment.strip_prefix('#')?.trim_start();
    let rest = rest.strip_prefix("meshc:")?;
    let span = Span::new(id, at, at + comment.len());
    let bad = |message: &str, help: &str| {
        Diagnostic::warning(Code::Suppression, span, message)
            .label("not a suppression")
            .help(help)
    };
    let form = "write `# meshc: allow CODE -- REASON`, e.g. `# meshc: allow M3018 -- smoke tests reach every version`";
    let Some(list) = rest.trim_start().strip_prefix("allow") else {
        problems.push(bad("a `# meshc:` comment that is not `allow`", form));
        return None;
    };
    let (list, reason) = match list.split_once("--") {
        Some((list, reason)) => (list, reason.trim()),
        None => (list, ""),
    };
    if reason.is_empty() {
        problems.push(bad("a suppression without a reason", form));
        return None;
    }
    let list_start = at + (comment.len() - rest.len()) + (rest.len() - rest.trim_start().len()) + "allow".len();
    let mut codes = Vec::new();
    let mut word_at = list_start;
    for word in list.split([',', ' ', '\t']) {
        let here = word_at;
        word_at += word.len() + 1;
        if word.is_empty() {
            continue;
        }
        match word.parse::<Code>() {
            Ok(code) => codes.push(code),
            Err(()) => problems.push(
                Diagnostic::warning(
                    Code::Suppression,
                    Span::new(id, here, here + word.len()),
                    format!("`{word}` is not a diagnostic code"),
                )
                .label("unknown code")
                .help("`meshc explain` lists the codes; write one such as M3018 or its name, ingress-split"),
            ),
        }
    }
    if codes.is_empty() {
        if !problems
            .iter()
            .any(|p| p.primary.span.start >= at && p.primary.span.end <= span.end)
        {
            problems.push(bad("a suppression that names no code", form));
        }
        return None;
    }
    Some(Allow {
        source: id,
        line: 0,
        codes,
        span,
        used: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, found: Vec<Diagnostic>) -> Vec<Diagnostic> {
        let mut diagnostics = found;
        apply(&[Source::new("a.mesh", text)], &mut diagnostics);
        diagnostics
    }

    fn warning_at(text: &str, needle: &str, code: Code) -> Diagnostic {
        let start = text.find(needle).unwrap_or(0);
        Diagnostic::warning(code, Span::new(0, start, start + needle.len()), "w")
    }

    #[test]
    fn allows_on_the_line_and_the_line_above() {
        let text = "a\n# meshc: allow M3018 -- because\n\n# other comment\nroute x\nroute y # meshc: allow ingress-split -- too\n";
        let found = vec![
            warning_at(text, "route x", Code::IngressSplit),
            warning_at(text, "route y", Code::IngressSplit),
        ];
        assert!(run(text, found).is_empty());
    }

    #[test]
    fn a_hash_in_a_string_is_not_a_comment() {
        let text = "image \"x # meshc: allow M3018 -- no\" \"\\\"#\"\n";
        let found = vec![warning_at(text, "image", Code::IngressSplit)];
        assert_eq!(run(text, found.clone()), found);
        assert_eq!(comment_start("a \"\\\"#\" # c"), Some(8));
    }

    #[test]
    fn bad_and_unused_suppressions_are_warnings() {
        let text = "# meshc: allow M3018\nx\n# meshc: allow M9999 -- r\ny\n# meshc: allow M3010 -- r\nz\n# meshc: deny M3010 -- r\n";
        let codes: Vec<(Code, String)> = run(text, Vec::new())
            .into_iter()
            .map(|d| (d.code, text[d.primary.span.start..d.primary.span.end].to_string()))
            .collect();
        assert_eq!(codes.len(), 4, "{codes:?}");
        assert!(codes.iter().all(|(c, _)| *c == Code::Suppression));
        assert!(
            codes.iter().any(|(_, t)| t == "M9999"),
            "the unknown code is the label: {codes:?}"
        );
    }

    #[test]
    fn yaml_comments_skip_quoted_and_block_scalars() {
        let text = "a: 1 # one\nb: \"x # no\n  # still no\"\nc: it's # yes\nd: |\n  # content\n  more\ne: 'a''#b' # yes\n# top\nf: x#y\n";
        let found = yaml_comments(text);
        let lines: Vec<&str> = text.lines().collect();
        let shown: Vec<Option<&str>> = found.iter().zip(&lines).map(|(at, l)| at.map(|a| &l[a..])).collect();
        assert_eq!(
            shown,
            [
                Some("# one"),
                None,
                None,
                Some("# yes"),
                None,
                None,
                None,
                Some("# yes"),
                Some("# top"),
                None
            ]
        );
    }

    #[test]
    fn any_cut_of_a_tricky_text_reads_without_panic() {
        let text = "a: \"x\\\" # y\" # meshc: allow M3018, ingress-split -- r\u{e9}ason \u{1b}\n\
                    b: |+2 # c\n  # meshc: allow\n'it''s' # meshc:allow M9 --\n\u{202e}# meshc: allow  , -- x\n# meshc:";
        for (cut, _) in text.char_indices() {
            let part = &text[..cut];
            let found = vec![warning_at(part, "a", Code::IngressSplit)];
            let mut diagnostics = found.clone();
            apply(&[Source::new("a.mesh", part)], &mut diagnostics);
            apply_yaml(&[Source::new("a.yaml", part)], &mut diagnostics);
            for d in diagnostics.iter().filter(|d| d.code == Code::Suppression) {
                assert!(d.primary.span.end <= part.len() && part.is_char_boundary(d.primary.span.start));
            }
        }
    }

    #[test]
    fn errors_are_never_allowed() {
        let text = "# meshc: allow M3002 -- r\nport http 99999\n";
        let start = text.find("99999").unwrap_or(0);
        let error = Diagnostic::error(Code::PortRange, Span::new(0, start, start + 5), "e");
        let out = run(text, vec![error.clone()]);
        assert!(out.contains(&error));
        assert!(out.iter().any(|d| d.code == Code::Suppression));
    }
}
