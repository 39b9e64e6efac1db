//! The naming block: templates for every generated name and the label scheme.

use std::collections::BTreeMap;

use super::suggest;
use crate::ast;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// What a naming key names, its default, and the placeholders it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    Service,
    Workload,
    Deployment,
    Account,
    Entry,
    DestinationRule,
    VirtualService,
    GatewayRoutes,
    AppLabel,
    VersionLabel,
}

impl Key {
    pub(crate) const ALL: &'static [Key] = &[
        Key::Service,
        Key::Workload,
        Key::Deployment,
        Key::Account,
        Key::Entry,
        Key::DestinationRule,
        Key::VirtualService,
        Key::GatewayRoutes,
        Key::AppLabel,
        Key::VersionLabel,
    ];

    pub(crate) fn word(self) -> &'static str {
        match self {
            Key::Service => "service",
            Key::Workload => "workload",
            Key::Deployment => "deployment",
            Key::Account => "account",
            Key::Entry => "entry",
            Key::DestinationRule => "destinationrule",
            Key::VirtualService => "virtualservice",
            Key::GatewayRoutes => "gateway-routes",
            Key::AppLabel => "app-label",
            Key::VersionLabel => "version-label",
        }
    }

    pub(crate) fn default_template(self) -> &'static str {
        match self {
            Key::Service | Key::Workload | Key::Account | Key::DestinationRule | Key::VirtualService => "{service}",
            Key::Deployment => "{service}-{version}",
            Key::Entry => "{service}-{version}-{address}",
            Key::GatewayRoutes => "{gateway}",
            Key::AppLabel => "app",
            Key::VersionLabel => "version",
        }
    }

    fn placeholders(self) -> &'static [&'static str] {
        match self {
            Key::Service | Key::Workload | Key::Account | Key::DestinationRule | Key::VirtualService => {
                &["service", "namespace"]
            }
            Key::Deployment => &["service", "version", "namespace"],
            Key::Entry => &["service", "version", "namespace", "address", "index"],
            Key::GatewayRoutes => &["gateway", "namespace"],
            Key::AppLabel | Key::VersionLabel => &[],
        }
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Placeholder(String),
}

/// One template, split into text and placeholders.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
    /// Where it was written; `None` for a default.
    pub(crate) span: Option<Span>,
    pub(crate) text: String,
}

impl Template {
    /// Fills the placeholders; every placeholder was checked to be one of `vars`' keys.
    pub(crate) fn expand(&self, vars: &[(&str, &str)]) -> String {
        fn value<'a>(piece: &'a Piece, vars: &[(&str, &'a str)]) -> &'a str {
            match piece {
                Piece::Text(t) => t,
                Piece::Placeholder(p) => vars.iter().find(|(k, _)| k == p).map_or("", |(_, v)| v),
            }
        }
        // At its size at once: names are made for every object of every service.
        let mut out = String::with_capacity(self.pieces.iter().map(|p| value(p, vars).len()).sum());
        for piece in &self.pieces {
            out.push_str(value(piece, vars));
        }
        out
    }
}

/// Splits `{service}-svc` into pieces, or says what is wrong with it.
fn parse_template(text: &str, allowed: &[&str]) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("it has a `}` without a matching `{`".into());
        }
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("it has a `{` without a matching `}`".into());
        };
        let name = &after[..close];
        if !allowed.contains(&name) {
            let list: Vec<String> = allowed.iter().map(|a| format!("`{{{a}}}`")).collect();
            let hint = suggest::closest(name, allowed.iter().copied())
                .map(|c| format!("did you mean `{{{c}}}`? "))
                .unwrap_or_default();
            return Err(if allowed.is_empty() {
                format!("`{{{name}}}` cannot be used here: this key takes a fixed text")
            } else {
                format!(
                    "`{{{name}}}` is not a placeholder of this key; {hint}it may use {}",
                    list.join(", ")
                )
            });
        }
        pieces.push(Piece::Placeholder(name.to_string()));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Ok(pieces)
}

/// The naming scheme of one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Naming {
    templates: BTreeMap<Key, Template>,
}

impl Naming {
    /// Merges the namespace's naming blocks (from every file) over the defaults.
    pub(crate) fn resolve(blocks: &[&ast::NamingBlock], diagnostics: &mut Vec<Diagnostic>) -> Naming {
        let mut templates: BTreeMap<Key, Template> = Key::ALL
            .iter()
            .map(|&key| {
                let text = key.default_template();
                let pieces =
                    parse_template(text, key.placeholders()).unwrap_or_else(|_| vec![Piece::Text(text.into())]);
                let template = Template {
                    pieces,
                    span: None,
                    text: text.to_string(),
                };
                (key, template)
            })
            .collect();
        let mut seen: BTreeMap<Key, Span> = BTreeMap::new();
        for entry in blocks.iter().flat_map(|b| &b.entries) {
            let Some(key) = Key::ALL.iter().copied().find(|k| k.word() == entry.key.text) else {
                let words: Vec<&str> = Key::ALL.iter().map(|k| k.word()).collect();
                let mut d = Diagnostic::error(
                    Code::UnknownKeyword,
                    entry.key.span,
                    format!("unknown naming key `{}`", entry.key.text),
                )
                .label("not a naming key");
                if let Some(suggestion) = suggest::did_you_mean(&entry.key.text, &words, "naming keys") {
                    d = suggestion.on(d, entry.key.span);
                }
                diagnostics.push(d);
                continue;
            };
            if !entry.template.vars.is_empty() {
                // An undefined variable, already reported.
                continue;
            }
            if let Some(first) = seen.insert(key, entry.key.span) {
                diagnostics.push(
                    Diagnostic::error(
                        Code::Duplicate,
                        entry.key.span,
                        format!("naming key `{}` is set twice", key.word()),
                    )
                    .label("set again here")
                    .note(first, "first set here")
                    .help("keep one of them"),
                );
                continue;
            }
            match parse_template(&entry.template.value, key.placeholders()) {
                Ok(pieces) => {
                    templates.insert(
                        key,
                        Template {
                            pieces,
                            span: Some(entry.template.span),
                            text: entry.template.value.clone(),
                        },
                    );
                }
                Err(why) => diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidTemplate,
                        entry.template.span,
                        format!(
                            "the `{}` template `{}` is not valid: {why}",
                            key.word(),
                            entry.template.value
                        ),
                    )
                    .label("this template"),
                ),
            }
        }
        Naming { templates }
    }

    pub(crate) fn template(&self, key: Key) -> &Template {
        // `resolve` starts from a default for every key, so the key is always present.
        &self.templates[&key]
    }
}
