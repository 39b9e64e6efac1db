//! The picture of a mesh: services with their versions and where they run (pod Deployment or
//! VM addresses), gateways, external services, `calls` edges and the routes' weights on the
//! edges, written as a Mermaid flowchart or a Graphviz DOT digraph.
//!
//! Node ids are generated (`s0`, `s0v1`, `g0`, `x0`), so no name reaches an identifier; every
//! name reaches a label only through the target's escaping ([`mermaid_text`], [`dot_text`]).

use std::fmt::Write as _;

use crate::model::{self, Action, Workload};
use crate::traffic::describe_conditions;

/// A mesh as nodes, edges and one cluster per namespace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    pub clusters: Vec<Cluster>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: String,
    pub label: String,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Gateway,
    Service,
    Version,
    External,
    /// What answers a route itself: a redirect or a direct response.
    Answer,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    pub shape: Shape,
    /// Lines of text.
    pub label: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// A route sends requests there.
    Route,
    /// A workload calls that service.
    Calls,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// Lines of text (one per route), possibly none.
    pub label: Vec<String>,
}

impl Graph {
    pub fn from_mesh(mesh: &model::Mesh) -> Graph {
        let mut graph = Graph::default();
        // Host → node id, for edges to services, versions and external hosts.
        let mut hosts: Vec<(String, String)> = Vec::new();
        let mut versions: Vec<(String, String, String)> = Vec::new();
        let mut services = 0;
        let mut externals = 0;
        for (n, ns) in mesh.namespaces.iter().enumerate() {
            let mut cluster = Cluster {
                id: format!("ns{n}"),
                label: format!("namespace {}", ns.name),
                nodes: Vec::new(),
            };
            for s in &ns.services {
                let id = format!("s{services}");
                services += 1;
                let ports = ports_label(&s.ports);
                cluster.nodes.push(Node {
                    id: id.clone(),
                    shape: Shape::Service,
                    label: vec![s.name.clone(), ports],
                });
                hosts.push((s.fqdn.clone(), id.clone()));
                hosts.push((format!("{}/{}", ns.name, s.host), id.clone()));
                for (j, v) in s.versions.iter().enumerate() {
                    let vid = format!("{id}v{j}");
                    let place = match &v.workload {
                        Workload::Pod(p) => format!("pod {}", p.deployment),
                        Workload::Vm(vm) => {
                            let mut places: Vec<String> = vm.entries.iter().map(|e| e.address.clone()).collect();
                            if vm.auto_register {
                                places.push(format!("auto-register {}", vm.group));
                            }
                            format!("vm {}", places.join(", "))
                        }
                    };
                    cluster.nodes.push(Node {
                        id: vid.clone(),
                        shape: Shape::Version,
                        label: vec![v.name.clone(), place],
                    });
                    versions.push((s.fqdn.clone(), v.name.clone(), vid));
                }
            }
            for e in &ns.externals {
                let id = format!("x{externals}");
                externals += 1;
                let ports = ports_label(&e.ports);
                let mut label = vec![format!("external {}", e.name), e.hosts.join(", ")];
                if !ports.is_empty() {
                    label.push(ports);
                }
                cluster.nodes.push(Node {
                    id: id.clone(),
                    shape: Shape::External,
                    label,
                });
                for h in &e.hosts {
                    hosts.push((h.clone(), id.clone()));
                    hosts.push((format!("{}/{h}", ns.name), id.clone()));
                }
            }
            graph.clusters.push(cluster);
        }
        let mut gateways = 0;
        for (n, ns) in mesh.namespaces.iter().enumerate() {
            for g in &ns.gateways {
                let id = format!("g{gateways}");
                gateways += 1;
                let listeners: Vec<String> = g
                    .servers
                    .iter()
                    .map(|s| format!("{} {} {}", s.protocol.word(), s.number, s.hosts.join(",")))
                    .collect();
                let mut label = vec![format!("gateway {}", g.name)];
                label.extend(listeners);
                graph.clusters[n].nodes.push(Node {
                    id: id.clone(),
                    shape: Shape::Gateway,
                    label,
                });
                let own = g.host_routes.iter().flat_map(|(_, r)| r);
                for route in own.chain(&g.routes) {
                    route_edges(
                        &mut graph.clusters[n].nodes,
                        &mut graph.edges,
                        &id,
                        None,
                        route,
                        (&hosts, &versions),
                    );
                }
            }
            for s in &ns.services {
                let Some(id) = lookup(&hosts, &s.fqdn) else { continue };
                for route in &s.routes {
                    route_edges(
                        &mut graph.clusters[n].nodes,
                        &mut graph.edges,
                        &id,
                        Some(&s.fqdn),
                        route,
                        (&hosts, &versions),
                    );
                }
                if !s.routes.iter().any(|r| r.kind == model::RouteKind::Http) {
                    // No VirtualService: every version takes its share of the endpoints.
                    for (_, _, vid) in versions.iter().filter(|(h, _, _)| *h == s.fqdn) {
                        push_edge(&mut graph.edges, &id, vid, EdgeKind::Route, None);
                    }
                }
                for (namespace, host) in &s.calls {
                    let target = lookup(&hosts, &format!("{namespace}/{host}")).or_else(|| lookup(&hosts, host));
                    if let Some(target) = target {
                        push_edge(&mut graph.edges, &id, &target, EdgeKind::Calls, Some("calls".into()));
                    }
                }
            }
            for e in &ns.externals {
                let Some(id) = e.hosts.first().and_then(|h| lookup(&hosts, h)) else {
                    continue;
                };
                for route in &e.routes {
                    route_edges(
                        &mut graph.clusters[n].nodes,
                        &mut graph.edges,
                        &id,
                        None,
                        route,
                        (&hosts, &versions),
                    );
                }
            }
        }
        graph
    }

    /// A Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for c in &self.clusters {
            let _ = writeln!(out, "  subgraph {}[\"{}\"]", c.id, mermaid_text(&c.label));
            for n in &c.nodes {
                let text = lines(&n.label, mermaid_text, "<br/>");
                let (open, close) = match n.shape {
                    Shape::Gateway => ("{{", "}}"),
                    Shape::Service => ("[", "]"),
                    Shape::Version => ("([", "])"),
                    Shape::External => ("[/", "/]"),
                    Shape::Answer => (">", "]"),
                };
                let _ = writeln!(out, "    {}{open}\"{text}\"{close}", n.id);
            }
            out.push_str("  end\n");
        }
        for e in &self.edges {
            let arrow = match e.kind {
                EdgeKind::Route => "-->",
                EdgeKind::Calls => "-.->",
            };
            if e.label.is_empty() {
                let _ = writeln!(out, "  {} {arrow} {}", e.from, e.to);
            } else {
                let text = lines(&e.label, mermaid_text, "<br/>");
                let _ = writeln!(out, "  {} {arrow}|\"{text}\"| {}", e.from, e.to);
            }
        }
        out
    }

    /// A Graphviz digraph.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph mesh {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
        for c in &self.clusters {
            let _ = writeln!(
                out,
                "  subgraph cluster_{} {{\n    label=\"{}\";",
                c.id,
                dot_text(&c.label)
            );
            for n in &c.nodes {
                let text = lines(&n.label, dot_text, "\\n");
                let shape = match n.shape {
                    Shape::Gateway => "hexagon",
                    Shape::Service => "box",
                    Shape::Version => "ellipse",
                    Shape::External => "parallelogram",
                    Shape::Answer => "note",
                };
                let _ = writeln!(out, "    {} [shape={shape}, label=\"{text}\"];", n.id);
            }
            out.push_str("  }\n");
        }
        for e in &self.edges {
            let style = match e.kind {
                EdgeKind::Route => "",
                EdgeKind::Calls => ", style=dashed",
            };
            let text = lines(&e.label, dot_text, "\\n");
            let _ = writeln!(out, "  {} -> {} [label=\"{text}\"{style}];", e.from, e.to);
        }
        out.push_str("}\n");
        out
    }
}

/// `http 8080, grpc 9090`.
fn ports_label(ports: &[model::Port]) -> String {
    let words: Vec<String> = ports
        .iter()
        .map(|p| format!("{} {}", p.protocol.word(), p.number))
        .collect();
    words.join(", ")
}

fn lookup(hosts: &[(String, String)], host: &str) -> Option<String> {
    hosts.iter().find(|(h, _)| h == host).map(|(_, id)| id.clone())
}

/// Adds a line to the edge between two nodes, or the edge.
fn push_edge(edges: &mut Vec<Edge>, from: &str, to: &str, kind: EdgeKind, line: Option<String>) {
    match edges
        .iter_mut()
        .find(|e| e.from == from && e.to == to && e.kind == kind)
    {
        Some(e) => e.label.extend(line),
        None => edges.push(Edge {
            from: from.to_string(),
            to: to.to_string(),
            kind,
            label: line.into_iter().collect(),
        }),
    }
}

/// Node ids by host (`fqdn` or `namespace/host`), and version node ids by host and version.
type Places<'a> = (&'a [(String, String)], &'a [(String, String, String)]);

/// The edges of one route: to each destination's version (or service), labelled with the
/// route's conditions and the destination's weight.
fn route_edges(
    nodes: &mut Vec<Node>,
    edges: &mut Vec<Edge>,
    from: &str,
    own: Option<&str>,
    route: &model::Route,
    (hosts, versions): Places<'_>,
) {
    let when = if route.synthesised {
        "other requests".to_string()
    } else if route.alternatives.is_empty() {
        "every request".to_string()
    } else {
        route
            .alternatives
            .iter()
            .map(describe_conditions)
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let kind = match route.kind {
        model::RouteKind::Http => String::new(),
        other => format!("{} ", other.word()),
    };
    let line = format!("{kind}{when}");
    match &route.action {
        Action::Forward(list) => {
            for d in list {
                let weight = d.weight.map(|w| format!(" {w}%")).unwrap_or_default();
                let line = format!("{kind}{when}{weight}");
                let version = d
                    .subset
                    .as_ref()
                    .and_then(|s| versions.iter().find(|(h, v, _)| *h == d.host && v == s));
                match (version, own == Some(d.host.as_str())) {
                    (Some((_, _, vid)), _) => push_edge(edges, from, vid, EdgeKind::Route, Some(line)),
                    // The service's own host without a version: every version's endpoints.
                    (None, true) => {
                        for (_, _, vid) in versions.iter().filter(|(h, _, _)| *h == d.host) {
                            push_edge(
                                edges,
                                from,
                                vid,
                                EdgeKind::Route,
                                Some(format!("{line} (endpoints alike)")),
                            );
                        }
                    }
                    (None, false) => {
                        if let Some(target) = lookup(hosts, &d.host) {
                            push_edge(edges, from, &target, EdgeKind::Route, Some(line));
                        }
                    }
                }
            }
        }
        Action::Redirect(r) => answer(nodes, edges, from, format!("redirect {}", r.uri), line),
        Action::Respond { status, .. } => answer(nodes, edges, from, format!("respond {status}"), line),
    }
}

/// A node for what answers the route, in the cluster of the place it belongs to.
fn answer(nodes: &mut Vec<Node>, edges: &mut Vec<Edge>, from: &str, what: String, line: String) {
    let id = format!("{from}a{}", nodes.iter().filter(|n| n.shape == Shape::Answer).count());
    nodes.push(Node {
        id: id.clone(),
        shape: Shape::Answer,
        label: vec![what],
    });
    push_edge(edges, from, &id, EdgeKind::Route, Some(line));
}

/// A label's lines, each escaped for the format, joined by its line break.
fn lines(label: &[String], escape: fn(&str) -> String, separator: &str) -> String {
    label.iter().map(|l| escape(l)).collect::<Vec<_>>().join(separator)
}

/// Text inside a Mermaid `"..."` label: everything but letters, digits, spaces and a few
/// harmless marks becomes an entity code (`#35;`), so quotes, `#`, `<`, `|`, brackets and
/// non-ASCII letters cannot end the label or be read as markup.
pub fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | ',' | '-' | '_' | '/' | ':' | '%' | '=' | '*' | '+') {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out
}

/// Text inside a DOT `"..."` label: backslashes and quotes escaped, control characters
/// dropped (a newline inside a name would end nothing but looks wrong).
pub fn dot_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
