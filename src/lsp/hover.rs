//! Hover: what a name generates, computed from the checked mesh and the planned objects;
//! one line on a keyword.

use std::fmt::Write as _;

use super::{Analysis, Symbol};
use crate::model::{self, Action, Route, Workload};
use crate::source::{SourceId, Span};

/// The text (Markdown) shown over `offset`, and the span it is about; under it, what the
/// codes of the diagnostics there mean.
pub fn hover(analysis: &Analysis, source: SourceId, offset: usize) -> Option<(Span, String)> {
    let about = about(analysis, source, offset);
    let codes: Vec<String> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.primary.span.source == source && d.primary.span.start <= offset && offset <= d.primary.span.end)
        .map(|d| {
            let code = d.code;
            format!(
                "`{}` ({}): {} (`meshc explain {}`)",
                code.id(),
                code.name(),
                code.summary(),
                code.id()
            )
        })
        .collect();
    match (about, codes.is_empty()) {
        (about, true) => about,
        (Some((span, text)), false) => Some((span, format!("{text}\n\n---\n\n{}", codes.join("\n\n")))),
        (None, false) => {
            let (start, end) = word_at(&analysis.sources.get(source)?.text, offset).unwrap_or((offset, offset));
            Some((Span::new(source, start, end), codes.join("\n\n")))
        }
    }
}

fn about(analysis: &Analysis, source: SourceId, offset: usize) -> Option<(Span, String)> {
    if let Some(at) = analysis.at(source, offset) {
        let text = match &at.symbol {
            Symbol::Service { namespace, name } => service(analysis, namespace, name),
            Symbol::Version {
                namespace,
                service,
                name,
            } => version(analysis, namespace, service, name),
            Symbol::Variable(name) => variable(analysis, name),
        }?;
        return Some((at.span, text));
    }
    let text = &analysis.sources.get(source)?.text;
    let (start, end) = word_at(text, offset)?;
    let line = keyword(&text[start..end])?;
    Some((
        Span::new(source, start, end),
        format!("`{}`: {line}", &text[start..end]),
    ))
}

/// The word (letters, digits, `-`) around `offset`.
pub(crate) fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .find(|(_, c)| !is_word(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = text[offset..]
        .find(|c: char| !is_word(c))
        .map_or(text.len(), |i| offset + i);
    (start < end).then_some((start, end))
}

fn namespace<'m>(analysis: &'m Analysis, name: &str) -> Option<&'m model::Namespace> {
    analysis.mesh.as_ref()?.namespaces.iter().find(|n| n.name == name)
}

fn objects(analysis: &Analysis, owners: &[Span], out: &mut String) {
    let planned: Vec<_> = analysis.planned.iter().filter(|p| owners.contains(&p.owner)).collect();
    if planned.is_empty() {
        return;
    }
    out.push_str("\n\ngenerates:\n");
    for p in planned {
        let _ = writeln!(out, "- {} `{}`", p.kind, p.name);
    }
}

fn service(analysis: &Analysis, ns: &str, name: &str) -> Option<String> {
    let namespace = namespace(analysis, ns)?;
    if let Some(s) = namespace.services.iter().find(|s| s.name == name) {
        let mut out = format!("**service `{name}`** in namespace `{ns}`: `{}`", s.fqdn);
        let ports: Vec<String> = s
            .ports
            .iter()
            .map(|p| format!("{} {}", p.protocol.word(), p.number))
            .collect();
        if !ports.is_empty() {
            let _ = write!(out, ", ports {}", ports.join(", "));
        }
        let versions: Vec<String> = s
            .versions
            .iter()
            .map(|v| format!("`{}` ({})", v.name, runs_on(v)))
            .collect();
        if !versions.is_empty() {
            let _ = write!(out, "\n\nversions: {}", versions.join(", "));
        }
        let mut owners = vec![s.span];
        owners.extend(s.versions.iter().map(|v| v.span));
        objects(analysis, &owners, &mut out);
        return Some(out);
    }
    let e = namespace.externals.iter().find(|e| e.name == name)?;
    let mut out = format!(
        "**external service `{name}`** in namespace `{ns}`: {}",
        e.hosts.join(", ")
    );
    objects(analysis, &[e.span], &mut out);
    Some(out)
}

/// Where a version runs, in a few words.
fn runs_on(version: &model::Version) -> String {
    match &version.workload {
        Workload::Pod(pod) => format!(
            "pod{}, {} replica{}",
            if pod.image.is_empty() {
                String::new()
            } else {
                format!(" `{}`", pod.image)
            },
            pod.replicas,
            if pod.replicas == 1 { "" } else { "s" }
        ),
        Workload::Vm(vm) => {
            let mut where_: Vec<String> = vm.entries.iter().map(|e| e.address.clone()).collect();
            if vm.auto_register {
                where_.push("auto-registering VMs".to_string());
            }
            format!("VM {}", where_.join(", "))
        }
    }
}

fn version(analysis: &Analysis, ns: &str, service: &str, name: &str) -> Option<String> {
    let namespace = namespace(analysis, ns)?;
    let s = namespace.services.iter().find(|s| s.name == service)?;
    let v = s.versions.iter().find(|v| v.name == name)?;
    let mut out = format!("**version `{name}` of `{service}`**: {}", runs_on(v));
    let mut shares = Vec::new();
    for route in &s.routes {
        if let Some(share) = share(route, &s.fqdn, name) {
            shares.push(format!("- {share} of {}", describe(analysis, route, "")));
        }
    }
    for gateway in analysis
        .mesh
        .iter()
        .flat_map(|m| &m.namespaces)
        .flat_map(|n| &n.gateways)
    {
        let host_routes = gateway.host_routes.iter().flat_map(|(_, r)| r);
        for route in gateway.routes.iter().chain(host_routes) {
            if let Some(share) = share(route, &s.fqdn, name) {
                let via = format!(" through gateway `{}`", gateway.name);
                shares.push(format!("- {share} of {}", describe(analysis, route, &via)));
            }
        }
    }
    if shares.is_empty() {
        out.push_str("\n\nno route sends requests to it");
    } else {
        out.push_str("\n\nreceives:\n");
        out.push_str(&shares.join("\n"));
    }
    objects(analysis, &[v.span], &mut out);
    Some(out)
}

/// The percentage of a route's requests that go to `version` of the service at `fqdn`.
fn share(route: &Route, fqdn: &str, version: &str) -> Option<String> {
    let Action::Forward(destinations) = &route.action else {
        return None;
    };
    let weight: u32 = destinations
        .iter()
        .filter(|d| d.host == fqdn && d.subset.as_deref() == Some(version))
        .map(|d| d.weight.unwrap_or(100))
        .sum();
    (weight > 0).then(|| format!("{weight} %"))
}

/// A route in words: its conditions as written, or what a default route matches.
fn describe(analysis: &Analysis, route: &Route, via: &str) -> String {
    if route.synthesised {
        return format!("every other request{via} (the default route meshc adds)");
    }
    let text = analysis
        .sources
        .get(route.span.source)
        .and_then(|s| s.text.get(route.span.start..))
        .unwrap_or("");
    let line = text.lines().next().unwrap_or("");
    let conditions = line
        .split(['{', '#'])
        .next()
        .unwrap_or("")
        .split("->")
        .next()
        .unwrap_or("")
        .trim()
        .trim_start_matches("route")
        .trim();
    if conditions.is_empty() {
        format!("every other request{via}")
    } else {
        format!("`{conditions}`{via}")
    }
}

fn variable(analysis: &Analysis, name: &str) -> Option<String> {
    let mut definitions = crate::check::Definitions::new();
    for (id, source) in analysis.sources.iter().enumerate() {
        if source.kind == crate::source::SourceKind::Vars {
            crate::check::read_vars(id, &source.text, &mut definitions);
        }
    }
    Some(match definitions.get(name) {
        Some(d) => format!("**variable `{name}`** = `{}`", d.value),
        None => format!("**variable `{name}`**: not defined (give it with `--var {name}=VALUE` or a `--vars` file)"),
    })
}

/// One line about a keyword.
pub(crate) fn keyword(word: &str) -> Option<&'static str> {
    Some(match word {
        "import" => "reads another `.mesh` file, relative to this one, into the same mesh",
        "namespace" => "a Kubernetes namespace and everything declared in it",
        "naming" => "templates for the names of generated objects (`{service}`, `{version}`)",
        "cluster" => "facts about the cluster: its network and east-west gateway",
        "service" => "a service of the mesh: a Kubernetes Service, its versions, routes and policies",
        "external" => "a service outside the mesh, written as a ServiceEntry",
        "gateway" => "an ingress gateway: its listeners and the routes of incoming requests",
        "port" => "a port the service exposes (`port PROTOCOL NUMBER [-> TARGET]`), or a port condition",
        "calls" => "a service this one calls: allowed by its policies, its address given in an env variable",
        "via" | "env" => "the environment variable that carries the called service's address, or a container variable",
        "pod" => "a version that runs as a Deployment's pods",
        "vm" => "a version that runs on virtual machines, as WorkloadEntries of a WorkloadGroup",
        "image" => "the container image of a version",
        "replicas" => "how many pods the version's Deployment runs",
        "at" => "the addresses of the VMs of a version",
        "route" => "a routing rule: conditions, then where matching requests go",
        "policy" => "a DestinationRule traffic policy: load balancing, connection pools, outlier detection, TLS",
        "listen" => "a gateway listener: protocol, port and hosts",
        "prefix" | "exact" | "regex" => "how a path or string condition matches",
        "header" => "a condition on a request header",
        "query" => "a condition on a query parameter",
        "method" => "a condition on the HTTP method",
        "from" => "a condition on the calling service (and version)",
        "redirect" => "answers matching requests with an HTTP redirect",
        "respond" => "answers matching requests directly, with a status and body",
        "mtls" => "the mutual-TLS mode, written as a PeerAuthentication",
        "allow" => "who may call the service, written as an AuthorizationPolicy",
        "jwt" => "the tokens the service or gateway requires, written as a RequestAuthentication",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Options, Source};

    #[test]
    fn a_version_shows_where_it_runs_and_its_weights() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hybrid-hello.mesh")).unwrap();
        let analysis = Analysis::new(
            vec![Source::new("h.mesh", text.clone())],
            Vec::new(),
            &Options::default(),
        );
        let at = text.find("vm v2").unwrap() + 3;
        let (_, shown) = hover(&analysis, 0, at).unwrap();
        assert!(shown.contains("VM 192.168.0.171"), "{shown}");
        assert!(shown.contains("- 60 % of `prefix \"/hello\"`"), "{shown}");
        assert!(shown.contains("- 5 % of `exact \"/bye\"`"), "{shown}");
        assert!(shown.contains("WorkloadEntry"), "{shown}");
        let at = text.find("service hello2").unwrap() + 9;
        let (_, shown) = hover(&analysis, 0, at).unwrap();
        assert!(shown.contains("Service `hello2-svc`"), "{shown}");
        assert!(shown.contains("VirtualService `hello2"), "{shown}");
        let (_, shown) = hover(&analysis, 0, text.find("calls").unwrap() + 1).unwrap();
        assert!(shown.starts_with("`calls`"), "{shown}");
        // Over a diagnostic: what its code means.
        let text = text.replace("calls hello3", "calls hello9");
        let analysis = Analysis::new(
            vec![Source::new("h.mesh", text.clone())],
            Vec::new(),
            &Options::default(),
        );
        let (_, shown) = hover(&analysis, 0, text.find("hello9").unwrap() + 2).unwrap();
        assert!(shown.contains("`M2001` (unknown-service): "), "{shown}");
        assert!(shown.contains("`meshc explain M2001`"), "{shown}");
    }
}
