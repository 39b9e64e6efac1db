//! Variables: definitions from vars sources, and `${NAME}` substitution in every value.

use std::collections::BTreeMap;

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

/// Reads `NAME=VALUE` lines. Blank lines and `#` comments are skipped; `export ` may lead;
/// a value wrapped in matching single or double quotes loses them.
pub(crate) fn parse(source: SourceId, text: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<(String, Definition)> {
    let mut out: Vec<(String, Definition)> = Vec::new();
    let mut offset = 0;
    for raw_line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let lead = line.len() - trimmed.len();
        let (body, body_at) = match trimmed.strip_prefix("export ") {
            Some(rest) => (rest.trim_start(), line_start + line.len() - rest.trim_start().len()),
            None => (trimmed, line_start + lead),
        };
        let whole = Span::new(source, line_start + lead, line_start + line.len());
        let Some((name, value)) = body.split_once('=') else {
            diagnostics.push(
                Diagnostic::error(Code::BadVariable, whole, "a vars line must read `NAME=VALUE`")
                    .label("no `=` on this line")
                    .help("write one definition per line, such as `VM_PRI_2=192.168.0.171`"),
            );
            continue;
        };
        let name_span = Span::new(source, body_at, body_at + name.len());
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            diagnostics.push(
                Diagnostic::error(Code::BadVariable, name_span, format!("`{name}` is not a variable name"))
                    .label("invalid name")
                    .help("variable names are letters, digits and `_`, not starting with a digit"),
            );
            continue;
        }
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        if let Some((_, first)) = out.iter().find(|(n, _)| n == name) {
            diagnostics.push(
                Diagnostic::error(
                    Code::Duplicate,
                    name_span,
                    format!("variable `{name}` is defined twice"),
                )
                .label("defined again here")
                .note(first.span, "first defined here")
                .help("keep one definition"),
            );
            continue;
        }
        out.push((
            name.to_string(),
            Definition {
                value: unquoted.to_string(),
                span: name_span,
            },
        ));
    }
    out
}

/// Replaces every `${NAME}` in the files, reports undefined names, and warns about
/// definitions nobody used.
pub(crate) fn substitute(
    files: &mut [ast::File],
    definitions: &BTreeMap<String, Definition>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut used: BTreeMap<&str, bool> = definitions.keys().map(|k| (k.as_str(), false)).collect();
    let names: Vec<&str> = definitions.keys().map(String::as_str).collect();
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
                        d = d.help(match suggest::closest(&var.name, names.iter().copied()) {
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

/// Every string value of a file, for substitution.
fn strings(file: &mut ast::File) -> Vec<&mut Str> {
    let mut out: Vec<&mut Str> = Vec::new();
    for ns in &mut file.namespaces {
        for block in &mut ns.naming {
            out.extend(block.entries.iter_mut().map(|e| &mut e.template));
        }
        for service in &mut ns.services {
            for version in &mut service.versions {
                for property in &mut version.properties {
                    match &mut property.kind {
                        PropertyKind::Image(s) => out.push(s),
                        PropertyKind::Env { value, .. }
                        | PropertyKind::Label { value, .. }
                        | PropertyKind::Annotation { value, .. } => out.push(value),
                        PropertyKind::At(list) => out.extend(list.iter_mut()),
                        PropertyKind::Other(literals) => out.extend(literals.iter_mut().filter_map(|l| match l {
                            ast::Literal::Str(s) => Some(s),
                            ast::Literal::Number(_) => None,
                        })),
                        PropertyKind::Replicas(_) | PropertyKind::Account(_) | PropertyKind::Agent(_) => {}
                    }
                }
                for block in &mut version.policies {
                    settings(&mut block.settings, &mut out);
                }
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
