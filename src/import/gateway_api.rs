//! Kubernetes Gateway API objects (what `meshc build --routes gateway-api` writes): an
//! HTTPRoute's or GRPCRoute's rules as `route` declarations, a Gateway's listeners as
//! `listen` lines. A rule with a field that has no `.mesh` form is not written: the caller
//! comments it, with the field this names.

use super::text::{is_label_key, is_name, quote};
use crate::manifests::yaml::Node;

/// How backends are named in the `.mesh`.
pub(super) trait Backends {
    /// A `backendRef` (a Service, or a version's own Service) as a target.
    fn backend(&self, reference: &Node) -> Option<String>;
}

type Lost = String;

/// One rule; `condition` is written before its own conditions (a gateway's `host`).
pub(super) fn rule(rule: &Node, backends: &dyn Backends, condition: Option<&str>) -> Result<String, Lost> {
    let mut out = String::from("route");
    let mut alternatives = Vec::new();
    for alternative in rule.get("matches").map(Node::items).unwrap_or_default() {
        let mut conditions = Vec::new();
        for (key, value) in alternative.entries() {
            let field = key.as_str().unwrap_or_default();
            let converted = match field {
                "path" => path(value).map(|c| vec![c]),
                "headers" | "queryParams" => {
                    let word = if field == "headers" { "header" } else { "query" };
                    value.items().iter().map(|m| named_match(word, m)).collect()
                }
                "method" => value
                    .as_str()
                    .filter(|m| is_name(m))
                    .map(|m| vec![format!("method {m}")]),
                _ => None,
            };
            conditions.extend(converted.ok_or_else(|| format!("match field `{field}`"))?);
        }
        alternatives.push(conditions);
    }
    super::routes::push_conditions(&mut out, condition, &alternatives);
    let mut action = None;
    let mut options = Vec::new();
    for (key, value) in rule.entries() {
        let field = key.as_str().unwrap_or_default();
        let done = match field {
            "matches" => Some(()),
            "backendRefs" => targets(value, backends).map(|a| action = Some(a)),
            "filters" => value.items().iter().try_for_each(|f| {
                let (redirect, more) = filter(f, backends)?;
                if let Some(r) = redirect {
                    action = Some(r);
                }
                options.extend(more);
                Some(())
            }),
            "timeouts" => match value.entries() {
                [(k, v)] if k.as_str() == Some("request") => v.as_str().map(|d| options.push(format!("timeout {d}"))),
                _ => None,
            },
            _ => None,
        };
        if done.is_none() {
            return Err(format!("route rule field `{field}`"));
        }
    }
    let action = action.ok_or_else(|| "a rule without backends or redirect".to_string())?;
    Ok(super::routes::finish(out, &action, &options))
}

fn path(node: &Node) -> Option<String> {
    let value = node.get("value")?.as_str()?;
    let kind = match node.get("type").and_then(Node::as_str).unwrap_or("PathPrefix") {
        "PathPrefix" => "prefix",
        "Exact" => "exact",
        "RegularExpression" => "regex",
        _ => return None,
    };
    Some(format!("{kind} {}", quote(value)))
}

fn named_match(word: &str, node: &Node) -> Option<String> {
    let name = node.get("name")?.as_str().filter(|n| is_name(n))?;
    let value = node.get("value")?.as_str()?;
    let kind = match node.get("type").and_then(Node::as_str).unwrap_or("Exact") {
        "Exact" => "",
        "RegularExpression" => "regex ",
        _ => return None,
    };
    Some(format!("{word} {name} {kind}{}", quote(value)))
}

fn targets(node: &Node, backends: &dyn Backends) -> Option<String> {
    let mut parts = Vec::new();
    for reference in node.items() {
        for (key, _) in reference.entries() {
            if !matches!(
                key.as_str(),
                Some("name" | "port" | "weight" | "kind" | "group" | "namespace")
            ) {
                return None;
            }
        }
        parts.push((backends.backend(reference)?, reference.get("weight").map(Node::as_int)));
    }
    match parts.as_slice() {
        [] => None,
        [(target, None)] => Some(format!("-> {target}")),
        _ => {
            let split = parts
                .iter()
                .map(|(t, w)| Some(format!("{t} {}%", (*w)??)))
                .collect::<Option<Vec<_>>>()?;
            Some(format!("{{ {} }}", split.join(" ")))
        }
    }
}

/// A filter: a redirect (the rule's action) or options.
fn filter(node: &Node, backends: &dyn Backends) -> Option<(Option<String>, Vec<String>)> {
    let kind = node.get("type")?.as_str()?;
    if node.entries().len() != 2 {
        return None;
    }
    match kind {
        "RequestRedirect" => {
            let body = node.get("requestRedirect")?;
            let path = body.get("path")?;
            if path.get("type")?.as_str()? != "ReplaceFullPath" {
                return None;
            }
            let out = super::routes::redirect_with(
                body,
                path.get("replaceFullPath")?,
                ["path", "statusCode", "hostname", "scheme"],
            )?;
            Some((Some(out), Vec::new()))
        }
        "URLRewrite" => {
            let body = node.get("urlRewrite")?;
            let mut out = Vec::new();
            for (key, value) in body.entries() {
                match key.as_str()? {
                    "path" => {
                        if value.get("type")?.as_str()? != "ReplacePrefixMatch" {
                            return None;
                        }
                        out.push(format!("rewrite {}", quote(value.get("replacePrefixMatch")?.as_str()?)));
                    }
                    "hostname" => out.push(format!("rewrite authority {}", quote(value.as_str()?))),
                    _ => return None,
                }
            }
            Some((None, out))
        }
        "RequestHeaderModifier" | "ResponseHeaderModifier" => {
            let (side, field) = if kind == "RequestHeaderModifier" {
                ("request", "requestHeaderModifier")
            } else {
                ("response", "responseHeaderModifier")
            };
            let mut out = Vec::new();
            for (op, value) in node.get(field)?.entries() {
                match op.as_str()? {
                    op @ ("set" | "add") => {
                        for header in value.items() {
                            let name = header.get("name")?.as_str().filter(|n| is_label_key(n))?;
                            out.push(format!("{side} {op} {name} {}", quote(header.get("value")?.as_str()?)));
                        }
                    }
                    "remove" => {
                        for name in value.items() {
                            let name = name.as_str().filter(|n| is_label_key(n))?;
                            out.push(format!("{side} remove {name}"));
                        }
                    }
                    _ => return None,
                }
            }
            Some((None, out))
        }
        "RequestMirror" => {
            let body = node.get("requestMirror")?;
            let target = backends.backend(body.get("backendRef")?)?;
            let percent = match body.get("percent") {
                Some(p) => format!(" {}%", p.as_int()?),
                None => String::new(),
            };
            if body.entries().len() > 1 + usize::from(body.get("percent").is_some()) {
                return None;
            }
            Some((None, vec![format!("mirror {target}{percent}")]))
        }
        _ => None,
    }
}

/// `listen PROTOCOL PORT [hosts "h"] [tls simple credential "c"]`, from a listener.
pub(super) fn listener(node: &Node) -> Option<String> {
    let port = node.get("port")?.as_int()?;
    let protocol = node.get("protocol")?.as_str()?.to_ascii_lowercase();
    if !is_name(&protocol) && protocol != "http" {
        return None;
    }
    let mut out = format!("listen {protocol} {port}");
    for (key, value) in node.entries() {
        match key.as_str()? {
            "name" | "port" | "protocol" => {}
            "hostname" => out.push_str(&format!(" hosts {}", quote(value.as_str()?))),
            "tls" => {
                let mode = match value.get("mode").and_then(Node::as_str) {
                    Some("Terminate") | None => "simple",
                    Some("Passthrough") => "passthrough",
                    _ => return None,
                };
                out.push_str(&format!(" tls {mode}"));
                if let Some(refs) = value.get("certificateRefs") {
                    let [reference] = refs.items() else { return None };
                    out.push_str(&format!(" credential {}", quote(reference.get("name")?.as_str()?)));
                }
            }
            _ => return None,
        }
    }
    Some(out)
}
