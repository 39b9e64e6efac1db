//! Variables: definitions from vars sources, and `${NAME}` substitution in every value.

use std::collections::{BTreeMap, HashMap};

use super::suggest;
use crate::ast::{self, Action, Condition, PropertyKind, Setting, Str, Value};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};

/// One definition, with where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Definition {
    pub value: String,
    pub span: Span,
}

/// Reads `NAME=VALUE` definitions the way a POSIX shell reads them, without running
/// anything: blank lines and `#` comments are skipped, `export ` may lead, and the value
/// is one shell word: `'single quotes'` keep everything, `"double quotes"` decode `\"`,
/// `\\`, `\$` and `` \` ``, a backslash outside quotes keeps the next character, and a
/// `# comment` may follow the value after white space. What a shell would expand or run
/// (`$NAME`, `$(...)`, backquotes, `;`, `|`, `&`, `<`, `>`, parentheses, a second word)
/// is refused with M1004 rather than read differently from the shell.
pub(crate) fn parse(source: SourceId, text: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<(String, Definition)> {
    let mut out: Vec<(String, Definition)> = Vec::new();
    let mut first: HashMap<String, Span> = HashMap::new();
    let mut reader = Reader { text, source, at: 0 };
    loop {
        reader.skip(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        let Some(c) = reader.peek() else { break };
        if c == '#' {
            reader.skip_line();
            continue;
        }
        let line_start = reader.at;
        if let Some(rest) = text[reader.at..].strip_prefix("export") {
            if rest.starts_with([' ', '\t']) {
                reader.at += "export".len();
                reader.skip(|c| c == ' ' || c == '\t');
            }
        }
        let name_start = reader.at;
        reader.skip(|c| c.is_ascii_alphanumeric() || c == '_');
        if reader.peek() != Some('=') {
            let line_end = text[line_start..].find('\n').map_or(text.len(), |n| line_start + n);
            let line = text[line_start..line_end].trim_end_matches('\r');
            diagnostics.push(match text[name_start..line_end].find('=') {
                Some(eq) => {
                    let name = text[name_start..name_start + eq].trim_end();
                    Diagnostic::error(
                        Code::BadVariable,
                        Span::new(source, name_start, name_start + name.len()),
                        format!("`{name}` is not a variable name"),
                    )
                    .label("invalid name")
                    .help("variable names are letters, digits and `_`, not starting with a digit, right before `=`")
                }
                None => Diagnostic::error(
                    Code::BadVariable,
                    Span::new(source, line_start, line_start + line.len()),
                    "a vars line must read `NAME=VALUE`",
                )
                .label("no `=` on this line")
                .help("write one definition per line, such as `VM_PRI_2=192.168.0.171`"),
            });
            reader.at = line_end;
            continue;
        }
        let name = &text[name_start..reader.at];
        let name_span = Span::new(source, name_start, reader.at);
        reader.at += 1;
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            diagnostics.push(
                Diagnostic::error(Code::BadVariable, name_span, format!("`{name}` is not a variable name"))
                    .label("invalid name")
                    .help("variable names are letters, digits and `_`, not starting with a digit"),
            );
            reader.skip_line();
            continue;
        }
        let value = match reader
            .word()
            .and_then(|value| reader.end_of_definition().map(|()| value))
        {
            Ok(value) => value,
            Err(d) => {
                diagnostics.push(*d);
                reader.skip_line();
                continue;
            }
        };
        if let Some(first) = first.get(name) {
            diagnostics.push(
                Diagnostic::error(
                    Code::Duplicate,
                    name_span,
                    format!("variable `{name}` is defined twice"),
                )
                .label("defined again here")
                .note(*first, "first defined here")
                .help("keep one definition"),
            );
            continue;
        }
        first.insert(name.to_string(), name_span);
        out.push((name.to_string(), Definition { value, span: name_span }));
    }
    out
}

/// A cursor over a vars text.
struct Reader<'a> {
    text: &'a str,
    source: SourceId,
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn skip(&mut self, keep: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
    }

    fn skip_line(&mut self) {
        self.at = self.text[self.at..].find('\n').map_or(self.text.len(), |n| self.at + n);
    }

    fn error(&self, at: usize, len: usize, message: &str, label: &str, help: &str) -> Box<Diagnostic> {
        Box::new(
            Diagnostic::error(Code::BadVariable, Span::new(self.source, at, at + len), message)
                .label(label)
                .help(help),
        )
    }

    /// One shell word: the value of a definition.
    fn word(&mut self) -> Result<String, Box<Diagnostic>> {
        const QUOTE_IT: &str = "put the value in single quotes, such as `NAME='a value'`, to keep it as written";
        let mut value = String::new();
        loop {
            let at = self.at;
            let Some(c) = self.bump() else { break };
            match c {
                ' ' | '\t' | '\n' | '\r' => {
                    self.at = at;
                    break;
                }
                '\'' => match self.text[self.at..].find('\'') {
                    Some(close) => {
                        value.push_str(&self.text[self.at..self.at + close]);
                        self.at += close + 1;
                    }
                    None => {
                        return Err(self.error(
                            at,
                            1,
                            "this quote is never closed",
                            "opened here",
                            "end the value with `'`",
                        ))
                    }
                },
                '"' => loop {
                    let inner = self.at;
                    match self.bump() {
                        None => {
                            return Err(self.error(
                                at,
                                1,
                                "this quote is never closed",
                                "opened here",
                                "end the value with `\"`",
                            ))
                        }
                        Some('"') => break,
                        Some('\\') => match self.bump() {
                            Some('\n') => {}
                            Some(e @ ('"' | '\\' | '$' | '`')) => value.push(e),
                            Some(other) => {
                                value.push('\\');
                                value.push(other);
                            }
                            None => {}
                        },
                        Some(c @ ('$' | '`')) => return Err(self.expansion(inner, c)),
                        Some(c) => value.push(c),
                    }
                },
                '\\' => match self.bump() {
                    Some('\n') | None => {}
                    Some(next) => value.push(next),
                },
                '$' | '`' => return Err(self.expansion(at, c)),
                ';' | '&' | '|' | '<' | '>' | '(' | ')' => {
                    return Err(self.error(
                        at,
                        1,
                        &format!("`{c}` is a shell operator, not part of a value"),
                        "a shell would not read this as a value",
                        QUOTE_IT,
                    ))
                }
                c => value.push(c),
            }
        }
        Ok(value)
    }

    fn expansion(&self, at: usize, c: char) -> Box<Diagnostic> {
        self.error(
            at,
            1,
            &format!("`{c}` would make a shell expand or run something, which vars files do not do"),
            "expansion",
            "write the value itself; to keep a `$` or `` ` `` as written, put the value in single quotes or write `\\$`",
        )
    }

    /// After a value: white space, then a comment or the end of the line.
    fn end_of_definition(&mut self) -> Result<(), Box<Diagnostic>> {
        self.skip(|c| c == ' ' || c == '\t' || c == '\r');
        match self.peek() {
            None | Some('\n') => Ok(()),
            Some('#') => {
                self.skip_line();
                Ok(())
            }
            Some(_) => {
                let end = self.text[self.at..].find('\n').map_or(self.text.len(), |n| self.at + n);
                let len = self.text[self.at..end].trim_end().len();
                Err(self.error(
                    self.at,
                    len.max(1),
                    "a vars line holds one definition, and its value is one word",
                    "a shell would read this as another word",
                    "quote a value with spaces, such as `NAME='a value'`; put a comment after `#`",
                ))
            }
        }
    }
}

/// Replaces every `${NAME}` in the files, reports undefined names, and warns about
/// definitions nobody used.
pub(crate) fn substitute(
    files: &mut [ast::File],
    definitions: &BTreeMap<String, Definition>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut used: BTreeMap<&str, bool> = definitions.keys().map(|k| (k.as_str(), false)).collect();
    let mut names = suggest::Index::new(definitions.keys().map(String::as_str));
    for file in files.iter_mut() {
        for s in strings(file) {
            if s.vars.is_empty() {
                continue;
            }
            let mut value = String::with_capacity(s.value.len());
            let mut last = 0;
            let mut unresolved = Vec::new();
            for var in &s.vars {
                value.push_str(&s.value[last..var.start]);
                last = var.end;
                match definitions.get(&var.name) {
                    Some(def) => {
                        value.push_str(&def.value);
                        if let Some(u) = used.get_mut(var.name.as_str()) {
                            *u = true;
                        }
                    }
                    None => {
                        let mut d = Diagnostic::error(
                            Code::UndefinedVariable,
                            var.span,
                            format!("variable `{}` is not defined", var.name),
                        )
                        .label("undefined");
                        d = d.help(match names.closest(&var.name) {
                            Some(best) => format!("did you mean `{best}`?"),
                            None => format!(
                                "define it with `--var {}=VALUE` or in a `--vars` file (`{}=VALUE` lines)",
                                var.name, var.name
                            ),
                        });
                        diagnostics.push(d);
                        let start = value.len();
                        value.push_str(&s.value[var.start..var.end]);
                        unresolved.push(ast::VarRef {
                            start,
                            end: value.len(),
                            ..var.clone()
                        });
                    }
                }
            }
            value.push_str(&s.value[last..]);
            s.value = value;
            // References left are undefined and already reported; checks skip such values
            // rather than report the same mistake again.
            s.vars = unresolved;
        }
    }
    for (name, was_used) in used {
        if !was_used {
            if let Some(def) = definitions.get(name) {
                diagnostics.push(
                    Diagnostic::warning(
                        Code::UnusedVariable,
                        def.span,
                        format!("variable `{name}` is never used"),
                    )
                    .label("unused")
                    .help(format!("use it as `${{{name}}}` in a value, or remove the definition")),
                );
            }
        }
    }
}

/// The string values of a version or service property.
fn property_strings<'a>(kind: &'a mut PropertyKind, out: &mut Vec<&'a mut Str>) {
    match kind {
        PropertyKind::Image(s) => out.push(s),
        PropertyKind::Env { value, .. }
        | PropertyKind::Label { value, .. }
        | PropertyKind::Annotation { value, .. } => out.push(value),
        PropertyKind::At(list) => out.extend(list.iter_mut()),
        PropertyKind::Network(s) | PropertyKind::Locality(s) => out.push(s),
        PropertyKind::Probe(probe) => out.extend(probe.args.iter_mut()),
        PropertyKind::Other(literals) => out.extend(literals.iter_mut().filter_map(|l| match l {
            ast::Literal::Str(s) => Some(s),
            ast::Literal::Number(_) => None,
        })),
        PropertyKind::Replicas(_)
        | PropertyKind::Account(_)
        | PropertyKind::Resources(_)
        | PropertyKind::Relax(_)
        | PropertyKind::Hardening(_)
        | PropertyKind::Weight(_)
        | PropertyKind::AutoRegister
        | PropertyKind::Agent(_) => {}
    }
}

/// Every string value of a file, for substitution.
fn strings(file: &mut ast::File) -> Vec<&mut Str> {
    let mut out: Vec<&mut Str> = Vec::new();
    for ns in &mut file.namespaces {
        for block in &mut ns.naming {
            out.extend(block.entries.iter_mut().map(|e| &mut e.template));
        }
        for block in &mut ns.clusters {
            out.extend(block.settings.iter_mut().map(|(_, value)| value));
        }
        for service in &mut ns.services {
            for version in &mut service.versions {
                for property in &mut version.properties {
                    property_strings(&mut property.kind, &mut out);
                }
                for block in &mut version.policies {
                    settings(&mut block.settings, &mut out);
                }
            }
            for property in &mut service.settings {
                property_strings(&mut property.kind, &mut out);
            }
            for block in &mut service.policies {
                settings(&mut block.settings, &mut out);
            }
            for route in &mut service.routes {
                route_strings(route, &mut out);
            }
            settings(&mut service.security, &mut out);
        }
        for external in &mut ns.externals {
            settings(&mut external.settings, &mut out);
            for block in &mut external.policies {
                settings(&mut block.settings, &mut out);
            }
            for route in &mut external.routes {
                route_strings(route, &mut out);
            }
        }
        for gateway in &mut ns.gateways {
            for listener in &mut gateway.listeners {
                out.extend(listener.hosts.iter_mut());
                settings(&mut listener.options, &mut out);
            }
            for (_, value) in &mut gateway.selector {
                out.push(value);
            }
            for route in &mut gateway.routes {
                route_strings(route, &mut out);
            }
            settings(&mut gateway.security, &mut out);
        }
    }
    out
}

fn settings<'a>(list: &'a mut [Setting], out: &mut Vec<&'a mut Str>) {
    for setting in list {
        for value in &mut setting.values {
            if let Value::Str(s) = value {
                out.push(s);
            }
        }
    }
}

fn route_strings<'a>(route: &'a mut ast::Route, out: &mut Vec<&'a mut Str>) {
    for alternative in &mut route.alternatives {
        for condition in &mut alternative.conditions {
            match condition {
                Condition::Uri { value, .. }
                | Condition::Other { value, .. }
                | Condition::Method { value, .. }
                | Condition::Sni { value, .. }
                | Condition::Host { value, .. } => out.push(value),
                Condition::Header { matcher: Some(m), .. } | Condition::Query { matcher: m, .. } => {
                    out.push(&mut m.value)
                }
                Condition::Header { matcher: None, .. } | Condition::Port { .. } | Condition::From { .. } => {}
            }
        }
    }
    match &mut route.action {
        Action::Redirect { uri, .. } => out.push(uri),
        Action::Respond { body: Some(body), .. } => out.push(body),
        Action::Respond { body: None, .. } | Action::Split { .. } | Action::Single(_) => {}
    }
    settings(&mut route.options, out);
}

#[cfg(test)]
mod tests {
    use super::parse;

    /// A problem: its code and where its label starts and ends.
    type Problem = (&'static str, usize, usize);

    fn read(text: &str) -> (Vec<(String, String)>, Vec<Problem>) {
        let mut diagnostics = Vec::new();
        let defs = parse(0, text, &mut diagnostics);
        let values = defs.into_iter().map(|(n, d)| (n, d.value)).collect();
        let problems = diagnostics
            .iter()
            .map(|d| (d.code.id(), d.primary.span.start, d.primary.span.end))
            .collect();
        (values, problems)
    }

    #[test]
    fn values_read_as_a_shell_reads_them() {
        let (values, problems) = read(
            "IMAGE_TAG='1.0.1'  # pinned\nexport  A=\"x \\\"y\\\" \\$z\"\r\nB=a\\ b'c d'\"e\"\nC=\n\n  # note\nD=multi'\nline'\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let expected = [
            ("IMAGE_TAG", "1.0.1"),
            ("A", "x \"y\" $z"),
            ("B", "a bc de"),
            ("C", ""),
            ("D", "multi\nline"),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        assert_eq!(values, expected);
    }

    #[test]
    fn what_a_shell_would_run_is_refused_at_its_character() {
        // (text, where the label starts)
        for (text, at) in [
            ("A=$HOME\n", 2),
            ("A=x;y\n", 3),
            ("A=1 B=2\n", 4),
            ("A='open\n", 2),
            ("A=\"a`b\"\n", 4),
        ] {
            let (values, problems) = read(text);
            assert!(values.is_empty(), "{text:?}");
            assert_eq!(problems.len(), 1, "{text:?}");
            assert_eq!((problems[0].0, problems[0].1), ("M1004", at), "{text:?}");
        }
        // The next line is still read.
        let (values, problems) = read("A=$X\nB=2\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(values, [("B".to_string(), "2".to_string())]);
    }
}
