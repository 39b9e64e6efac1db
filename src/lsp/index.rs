//! Where every service, version and variable is named, from the syntax tree's spans: the
//! declarations (`service`, `external`, `pod`/`vm`, `NAME=` in a vars file) and the uses
//! (`calls`, route destinations and splits, `from` conditions, `allow from`, gateway
//! routes, `${NAME}`).

use crate::ast::{self, Action, Condition, Route, Value};
use crate::check::vars;
use crate::source::{Source, SourceId, SourceKind, Span};

/// What a name stands for. Services and versions are keyed by namespace, the way the
/// checker resolves them, so one name in two namespaces is two symbols.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Symbol {
    Service {
        namespace: String,
        name: String,
    },
    Version {
        namespace: String,
        service: String,
        name: String,
    },
    Variable(String),
}

/// One place a symbol is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub symbol: Symbol,
    pub span: Span,
    pub declaration: bool,
}

/// Every occurrence in the sources, in source order, given the syntax trees of those that
/// could be read.
pub(crate) fn index(sources: &[Source], files: &[ast::File]) -> Vec<Occurrence> {
    let mut out = Vec::new();
    for file in files {
        file_occurrences(file, &mut out);
    }
    for (id, source) in sources.iter().enumerate() {
        match source.kind {
            SourceKind::Mesh => variable_uses(id, &source.text, &mut out),
            SourceKind::Vars => {
                for (name, definition) in vars::parse(id, &source.text, &mut Vec::new()) {
                    let span = Span::new(id, definition.span.start, definition.span.start + name.len());
                    let span = if source.text.get(span.start..span.end) == Some(name.as_str()) {
                        span
                    } else {
                        definition.span
                    };
                    out.push(Occurrence {
                        symbol: Symbol::Variable(name),
                        span,
                        declaration: true,
                    });
                }
            }
        }
    }
    out.sort_by_key(|o| o.span);
    out
}

fn file_occurrences(file: &ast::File, out: &mut Vec<Occurrence>) {
    for ns in &file.namespaces {
        let namespace = ns.name.text.as_str();
        let mut add = |symbol: Symbol, span: Span, declaration: bool| {
            out.push(Occurrence {
                symbol,
                span,
                declaration,
            });
        };
        for service in &ns.services {
            add(service_symbol(namespace, &service.name.text), service.name.span, true);
            let versions: Vec<&str> = service.versions.iter().map(|v| v.name.text.as_str()).collect();
            for version in &service.versions {
                add(
                    version_symbol(namespace, &service.name.text, &version.name.text),
                    version.name.span,
                    true,
                );
            }
            for call in &service.calls {
                service_reference(namespace, &call.service, &mut add);
            }
            let own = Some((service.name.text.as_str(), versions.as_slice()));
            for route in &service.routes {
                route_occurrences(namespace, own, route, &mut add);
            }
            for setting in service.security.iter().filter(|s| s.key.text == "allow") {
                let mut callers = false;
                for value in &setting.values {
                    let Value::Word(word) = value else { continue };
                    match word.text.as_str() {
                        "from" => callers = true,
                        "methods" | "paths" => callers = false,
                        _ if callers => service_reference(namespace, word, &mut add),
                        _ => {}
                    }
                }
            }
        }
        for external in &ns.externals {
            add(service_symbol(namespace, &external.name.text), external.name.span, true);
        }
        for gateway in &ns.gateways {
            for route in &gateway.routes {
                route_occurrences(namespace, None, route, &mut add);
            }
        }
    }
}

fn service_symbol(namespace: &str, name: &str) -> Symbol {
    Symbol::Service {
        namespace: namespace.to_string(),
        name: name.to_string(),
    }
}

fn version_symbol(namespace: &str, service: &str, name: &str) -> Symbol {
    Symbol::Version {
        namespace: namespace.to_string(),
        service: service.to_string(),
        name: name.to_string(),
    }
}

/// `name` or `name.namespace`: the service, at its name only.
fn service_reference(namespace: &str, reference: &ast::Name, add: &mut impl FnMut(Symbol, Span, bool)) {
    let (name, ns) = match reference.text.split_once('.') {
        Some((name, ns)) => (name, ns),
        None => (reference.text.as_str(), namespace),
    };
    let span = Span::new(
        reference.span.source,
        reference.span.start,
        reference.span.start + name.len(),
    );
    add(service_symbol(ns, name), span, false);
}

/// The services and versions a route sends to or matches callers of. `own` is the
/// service whose route it is, with its versions (none for a gateway).
fn route_occurrences(
    namespace: &str,
    own: Option<(&str, &[&str])>,
    route: &Route,
    add: &mut impl FnMut(Symbol, Span, bool),
) {
    for condition in route.alternatives.iter().flat_map(|a| &a.conditions) {
        if let Condition::From { service, version, .. } = condition {
            let (name, ns) = match service.text.split_once('.') {
                Some((name, ns)) => (name, ns),
                None => (service.text.as_str(), namespace),
            };
            let name = name.split('/').next().unwrap_or(name);
            target(namespace, None, service, add);
            if let Some(version) = version {
                add(version_symbol(ns, name, &version.text), version.span, false);
            }
        }
    }
    match &route.action {
        Action::Split { entries, .. } => {
            for entry in entries {
                target(namespace, own, &entry.name, add);
            }
        }
        Action::Single(name) => target(namespace, own, name, add),
        Action::Redirect { .. } | Action::Respond { .. } => {}
    }
}

/// A destination as written: `v1` (a version of the route's own service), `ratings`,
/// `ratings.other`, `reviews/v2`, each with an optional `:port`.
fn target(namespace: &str, own: Option<(&str, &[&str])>, name: &ast::Name, add: &mut impl FnMut(Symbol, Span, bool)) {
    let text = name.text.split(':').next().unwrap_or(&name.text);
    let at = |start: usize, length: usize| {
        Span::new(
            name.span.source,
            name.span.start + start,
            name.span.start + start + length,
        )
    };
    if let Some((service, version)) = text.split_once('/') {
        let (short, ns) = service.split_once('.').unwrap_or((service, namespace));
        add(service_symbol(ns, short), at(0, short.len()), false);
        add(
            version_symbol(ns, short, version),
            at(service.len() + 1, version.len()),
            false,
        );
        return;
    }
    if let Some((service, versions)) = own {
        if versions.contains(&text) {
            add(version_symbol(namespace, service, text), at(0, text.len()), false);
            return;
        }
    }
    let (short, ns) = text.split_once('.').unwrap_or((text, namespace));
    add(service_symbol(ns, short), at(0, short.len()), false);
}

/// `${NAME}` outside comments: in strings and as bare values.
fn variable_uses(source: SourceId, text: &str, out: &mut Vec<Occurrence>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'\n' => in_string = false,
            b'#' if !in_string => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                let start = i + 2;
                let mut end = start;
                while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                    end += 1;
                }
                if end > start && bytes.get(end) == Some(&b'}') {
                    out.push(Occurrence {
                        symbol: Symbol::Variable(text[start..end].to_string()),
                        span: Span::new(source, start, end),
                        declaration: false,
                    });
                    i = end;
                }
            }
            _ => {}
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_in_strings_and_values_not_in_comments() {
        let text =
            "# ${NOT}\nnamespace n {\n  service s {\n    pod v1 image \"${IMG}:1\"\n    vm v2 at ${ADDR}\n  }\n}\n";
        let sources = [
            Source::new("a.mesh", text),
            Source::vars("v.env", "IMG=x\nexport ADDR=1.2.3.4\n"),
        ];
        let found: Vec<(String, bool)> = index(&sources, &[])
            .into_iter()
            .filter_map(|o| match o.symbol {
                Symbol::Variable(name) => Some((name, o.declaration)),
                _ => None,
            })
            .collect();
        assert_eq!(
            found,
            [
                ("IMG".into(), false),
                ("ADDR".into(), false),
                ("IMG".into(), true),
                ("ADDR".into(), true)
            ]
        );
    }

    #[test]
    fn qualified_targets_and_from_conditions() {
        let text = "namespace n {\n  service s {\n    port http 80\n    pod v1 image \"a\"\n    route from t.m v2 -> r.m/v3:80\n  }\n}\n";
        let file = crate::syntax::parse(0, text).0.unwrap();
        let symbols: Vec<Symbol> = index(&[Source::new("a.mesh", text)], &[file])
            .into_iter()
            .map(|o| o.symbol)
            .collect();
        assert!(symbols.contains(&version_symbol("m", "t", "v2")));
        assert!(symbols.contains(&service_symbol("m", "t")));
        assert!(symbols.contains(&service_symbol("m", "r")));
        assert!(symbols.contains(&version_symbol("m", "r", "v3")));
    }
}
