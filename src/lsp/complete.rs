//! Completion: the keywords that may start a line in the enclosing block, and the names
//! the mesh declares where a name is expected: services after `calls` and `->` in a
//! gateway, versions (and services) in a route's destinations and splits, ports in a
//! `port` condition.

use super::grammar;
use super::{Analysis, Symbol};
use crate::check::{Key, CLUSTER_SETTINGS, LISTENER_PROTOCOLS, POD_PROPERTIES, VM_PROPERTIES};
use crate::model::Protocol;
use crate::source::SourceId;

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Keyword,
    Service,
    Version,
    Port,
}

/// The blocks of the grammar, by the keyword that opens them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Top,
    Namespace,
    Naming,
    Cluster,
    Service,
    Pod,
    Vm,
    Policy,
    Split,
    External,
    Gateway,
    Other,
}

impl Block {
    fn opened_by(word: &str) -> Block {
        match word {
            "namespace" => Block::Namespace,
            "naming" => Block::Naming,
            "cluster" => Block::Cluster,
            "service" => Block::Service,
            "pod" => Block::Pod,
            "vm" => Block::Vm,
            "policy" => Block::Policy,
            "route" => Block::Split,
            "external" => Block::External,
            "gateway" => Block::Gateway,
            _ => Block::Other,
        }
    }

    /// The words that start a line here: those the grammar's rule of the block can begin
    /// with (see `grammar.rs`); in a version, those the checker accepts for its runtime;
    /// in `naming` and `cluster` blocks, whose entries are names to the grammar, the
    /// checker's keys.
    fn keywords(self) -> Vec<String> {
        let rule = match self {
            Block::Top => "file",
            Block::Namespace => "namespace_decl",
            Block::Service => "service_decl",
            Block::Pod | Block::Vm => "version_decl",
            Block::Policy => "policy_block",
            Block::External => "external_decl",
            Block::Gateway => "gateway_decl",
            Block::Naming => return Key::ALL.iter().map(|k| k.word().to_string()).collect(),
            Block::Cluster => return CLUSTER_SETTINGS.iter().map(|w| (*w).to_string()).collect(),
            Block::Split | Block::Other => return Vec::new(),
        };
        let (own, other) = match self {
            Block::Pod => (POD_PROPERTIES, VM_PROPERTIES),
            Block::Vm => (VM_PROPERTIES, POD_PROPERTIES),
            _ => (&[][..], &[][..]),
        };
        let mut words = grammar::block_keywords(rule);
        words.retain(|w| own.contains(&w.as_str()) || !other.contains(&w.as_str()));
        words
    }
}

/// What may be written at `offset`.
pub fn complete(analysis: &Analysis, source: SourceId, offset: usize) -> Vec<Completion> {
    let Some(text) = analysis.sources.get(source).map(|s| s.text.as_str()) else {
        return Vec::new();
    };
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let (blocks, statement) = context(&text[..offset]);
    let block = blocks.last().map_or(Block::Top, |(b, _)| *b);
    let owner = |kind: Block| {
        blocks
            .iter()
            .rev()
            .find(|(b, _)| *b == kind)
            .map(|(_, name)| name.clone())
    };
    let namespace = owner(Block::Namespace).unwrap_or_default();
    let service = owner(Block::Service);
    // The words of the statement before the cursor, the one being typed left out.
    let mut words: Vec<&str> = statement.split_whitespace().collect();
    if !statement.ends_with(char::is_whitespace) && !statement.ends_with("->") {
        words.pop();
    }
    let services = || {
        names(
            analysis,
            |s| matches!(s, Symbol::Service { namespace: n, .. } if *n == namespace),
        )
    };
    let versions = |of: &str| {
        names(
            analysis,
            |s| matches!(s, Symbol::Version { namespace: n, service, .. } if *n == namespace && service == of),
        )
    };
    let mut out = Vec::new();
    let last = words.last().copied();
    if block == Block::Split {
        if let Some(own) = &service {
            out.extend(versions(own));
        }
        out.extend(services());
    } else if last == Some("calls") {
        out.extend(services());
    } else if last == Some("->") {
        if let Some(own) = service.as_deref().filter(|_| block == Block::Service) {
            out.extend(versions(own));
        }
        out.extend(services());
    } else if last == Some("port") && words.first() == Some(&"route") {
        out.extend(ports(analysis, &namespace, service.as_deref()));
    } else if words == ["port"] && matches!(block, Block::Service | Block::External) {
        out.extend(protocols(Protocol::ALL));
    } else if words == ["listen"] && block == Block::Gateway {
        out.extend(protocols(LISTENER_PROTOCOLS));
    } else if words.is_empty() {
        out.extend(block.keywords().into_iter().map(|k| Completion {
            detail: super::hover::keyword(&k).unwrap_or("keyword").to_string(),
            label: k,
            kind: CompletionKind::Keyword,
        }));
    }
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out.dedup_by(|a, b| a.label == b.label);
    out
}

/// The distinct declared names of the symbols `wanted` picks.
fn names(analysis: &Analysis, wanted: impl Fn(&Symbol) -> bool) -> Vec<Completion> {
    analysis
        .occurrences
        .iter()
        .filter(|o| o.declaration && wanted(&o.symbol))
        .filter_map(|o| match &o.symbol {
            Symbol::Service { name, .. } => Some(Completion {
                label: name.clone(),
                kind: CompletionKind::Service,
                detail: "service".to_string(),
            }),
            Symbol::Version { name, service, .. } => Some(Completion {
                label: name.clone(),
                kind: CompletionKind::Version,
                detail: format!("version of `{service}`"),
            }),
            Symbol::Variable(_) => None,
        })
        .collect()
}

/// The protocols a port or listener may name.
fn protocols(protocols: &[Protocol]) -> Vec<Completion> {
    protocols
        .iter()
        .map(|p| Completion {
            label: p.word().to_string(),
            kind: CompletionKind::Port,
            detail: "protocol".to_string(),
        })
        .collect()
}

/// The ports of the service, for a `port` condition.
fn ports(analysis: &Analysis, namespace: &str, service: Option<&str>) -> Vec<Completion> {
    let Some(service) = service else { return Vec::new() };
    analysis
        .mesh
        .iter()
        .flat_map(|m| &m.namespaces)
        .filter(|n| n.name == namespace)
        .flat_map(|n| &n.services)
        .filter(|s| s.name == service)
        .flat_map(|s| &s.ports)
        .map(|p| Completion {
            label: p.number.to_string(),
            kind: CompletionKind::Port,
            detail: format!("port `{}` ({})", p.name, p.protocol.word()),
        })
        .collect()
}

/// The blocks open at the end of `before` (each with the name that follows its keyword)
/// and the text of the statement being written: strings and comments skipped.
fn context(before: &str) -> (Vec<(Block, String)>, &str) {
    let mut blocks: Vec<(Block, String)> = Vec::new();
    let mut statement_start = 0;
    let mut in_string = false;
    let mut chars = before.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            '\n' => {
                in_string = false;
                statement_start = i + 1;
            }
            '#' if !in_string => {
                while chars.peek().is_some_and(|(_, c)| *c != '\n') {
                    chars.next();
                }
            }
            '{' if !in_string => {
                if before[i..].starts_with("${") || before[..i].ends_with('$') {
                    continue;
                }
                let mut words = before[statement_start..i].split_whitespace();
                let first = words.next().unwrap_or("");
                blocks.push((Block::opened_by(first), words.next().unwrap_or("").to_string()));
                statement_start = i + 1;
            }
            '}' if !in_string => {
                blocks.pop();
                statement_start = i + 1;
            }
            _ => {}
        }
    }
    (blocks, &before[statement_start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Options, Source};

    fn labels(text: &str, at: &str) -> Vec<String> {
        let offset = text.find(at).unwrap() + at.len();
        let analysis = Analysis::new(vec![Source::new("a.mesh", text)], Vec::new(), &Options::default());
        complete(&analysis, 0, offset).into_iter().map(|c| c.label).collect()
    }

    const MESH: &str = "namespace n {\n  service web {\n    port http 80\n    calls api\n    pod v1 image \"w\"\n  }\n  service api {\n    port http 8080\n    pod v1 { image \"a\" }\n    pod v2 image \"b\"\n    route prefix \"/x\" { v1 30% v2 70% }\n    route port 8080 -> v1\n  }\n}\n";

    #[test]
    fn keywords_by_block() {
        assert_eq!(labels(MESH, ""), ["import", "namespace"]);
        let service = labels(MESH, "    port http 80\n    ");
        assert!(service.contains(&"calls".to_string()) && !service.contains(&"image".to_string()));
        let version = labels(MESH, "pod v1 { ");
        assert!(version.contains(&"image".to_string()) && !version.contains(&"calls".to_string()));
    }

    #[test]
    fn names_where_names_go() {
        assert_eq!(labels(MESH, "calls "), ["api", "web"]);
        assert_eq!(labels(MESH, "calls a"), ["api", "web"]);
        assert_eq!(labels(MESH, "{ v1 30% "), ["api", "v1", "v2", "web"]);
        assert_eq!(labels(MESH, "route port "), ["8080"]);
        assert_eq!(labels(MESH, "8080 ->"), ["api", "v1", "v2", "web"]);
        let protocols = labels(MESH, "    port ");
        assert!(protocols.contains(&"http".to_string()) && protocols.contains(&"grpc".to_string()));
        let gateway = "namespace n {\n  gateway g {\n    listen \n  }\n}\n";
        let listeners = labels(gateway, "listen ");
        assert!(listeners.contains(&"https".to_string()) && !listeners.contains(&"udp".to_string()));
    }
}
