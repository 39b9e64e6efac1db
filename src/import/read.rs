//! The objects of the manifests, read from the YAML tree: kind, API version, namespace,
//! name and the node, in an order that does not depend on the order of the files.

use crate::manifests::yaml::Node;
use crate::source::{LineIndex, Source, Span};

/// One Kubernetes object.
#[derive(Debug, Clone, Copy)]
pub(super) struct Obj<'a> {
    pub(super) kind: &'a str,
    pub(super) api: &'a str,
    pub(super) namespace: &'a str,
    pub(super) name: &'a str,
    pub(super) node: &'a Node,
}

impl<'a> Obj<'a> {
    pub(super) fn spec(&self, path: &[&str]) -> Option<&'a Node> {
        self.node.get("spec").and_then(|s| s.at(path))
    }

    pub(super) fn str(&self, path: &[&str]) -> Option<&'a str> {
        self.spec(path).and_then(Node::as_str)
    }

    pub(super) fn is_istio(&self) -> bool {
        self.api.ends_with(".istio.io/v1")
            || self.api.ends_with(".istio.io/v1beta1")
            || self.api.ends_with(".istio.io/v1alpha3")
            || self.api.ends_with(".istio.io/v1alpha1")
    }
}

/// Every object of the documents (a `List`'s items one by one), sorted by namespace, kind,
/// name and then place, so that the import never depends on the order of the files.
pub(super) fn objects<'a>(documents: &'a [Node], sources: &[Source]) -> (Vec<Obj<'a>>, Vec<&'a Node>) {
    let mut out = Vec::new();
    let mut nameless = Vec::new();
    for doc in documents {
        collect(doc, &mut out, &mut nameless, 0);
    }
    out.sort_by(|a, b| {
        (a.namespace, a.kind, a.name, a.api)
            .cmp(&(b.namespace, b.kind, b.name, b.api))
            .then_with(|| {
                let (x, y) = (a.node.span, b.node.span);
                let name = |i: usize| sources.get(i).map(|s| s.name.as_str());
                (name(x.source), x.start).cmp(&(name(y.source), y.start))
            })
    });
    (out, nameless)
}

fn collect<'a>(doc: &'a Node, out: &mut Vec<Obj<'a>>, nameless: &mut Vec<&'a Node>, depth: usize) {
    let kind = doc.get("kind").and_then(Node::as_str).unwrap_or_default();
    if kind == "List" && depth < 4 {
        for item in doc.get("items").map(Node::items).unwrap_or_default() {
            collect(item, out, nameless, depth + 1);
        }
        return;
    }
    match doc.at(&["metadata", "name"]).and_then(Node::as_str) {
        Some(name) if !kind.is_empty() => out.push(Obj {
            kind,
            api: doc.get("apiVersion").and_then(Node::as_str).unwrap_or_default(),
            // A Namespace belongs with the objects it holds.
            namespace: if kind == "Namespace" {
                name
            } else {
                doc.at(&["metadata", "namespace"])
                    .and_then(Node::as_str)
                    .unwrap_or("default")
            },
            name,
            node: doc,
        }),
        _ => nameless.push(doc),
    }
}

/// Where a node is, as `FILE:LINE` (the file as it was given, the line 1-based).
pub(super) struct Places<'a> {
    sources: &'a [Source],
    lines: Vec<LineIndex>,
}

impl<'a> Places<'a> {
    pub(super) fn new(sources: &'a [Source]) -> Self {
        Places {
            lines: sources.iter().map(|s| LineIndex::new(&s.text)).collect(),
            sources,
        }
    }

    pub(super) fn at(&self, span: Span) -> String {
        match (self.sources.get(span.source), self.lines.get(span.source)) {
            (Some(source), Some(index)) => {
                format!("{}:{}", source.name, index.line(span.start.min(source.text.len())) + 1)
            }
            _ => "?".to_string(),
        }
    }

    /// The comment for something not carried over.
    pub(super) fn lost(&self, what: &str, span: Span) -> String {
        format!("meshc import: not carried over: {what} ({})", self.at(span))
    }
}
