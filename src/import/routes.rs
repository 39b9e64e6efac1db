//! A VirtualService's routes as `route` declarations. A route with a field that has no
//! `.mesh` form is not written: the caller comments it, with the field this names.

use super::text::{is_label_key, is_name, quote};
use crate::manifests::yaml::{Node, Value};

/// How the destinations and callers of routes are named in the `.mesh`.
pub(super) trait Names {
    /// A route destination (`destination: {host, subset, port}`) as a target.
    fn target(&self, destination: &Node) -> Option<String>;
    /// A match's `sourceLabels` (and `sourceNamespace`) as the operand of `from`.
    fn source(&self, labels: &Node, namespace: Option<&Node>) -> Option<String>;
}

type Lost = String;

/// An HTTP route; `condition` is written before its own conditions (a gateway's `host`).
pub(super) fn http(route: &Node, names: &dyn Names, condition: Option<&str>) -> Result<String, Lost> {
    let mut out = String::from("route");
    let alternatives = alternatives(route.get("match"), names, http_condition)?;
    push_conditions(&mut out, condition, &alternatives);
    let mut options = Vec::new();
    let mut action = None;
    for (key, value) in route.entries() {
        let field = key.as_str().unwrap_or_default();
        let done = match field {
            "match" => Some(()),
            "route" => destinations(value, names, &mut options).map(|a| action = Some(a)),
            "redirect" => redirect(value).map(|a| action = Some(a)),
            "directResponse" => respond(value).map(|a| action = Some(a)),
            "name" => value.as_str().map(|n| options.push(format!("name {}", quote(n)))),
            "timeout" => value.as_str().map(|d| options.push(format!("timeout {d}"))),
            "retries" => retries(value).map(|o| options.push(o)),
            "fault" => fault(value).map(|o| options.extend(o)),
            "rewrite" => rewrite(value).map(|o| options.extend(o)),
            "mirror" => names.target(value).map(|t| {
                let percent = route
                    .at(&["mirrorPercentage", "value"])
                    .and_then(percent)
                    .map(|p| format!(" {p}"))
                    .unwrap_or_default();
                options.push(format!("mirror {t}{percent}"));
            }),
            "mirrorPercentage" => route.get("mirror").map(|_| ()),
            "headers" => headers(value, "").map(|o| options.extend(o)),
            "corsPolicy" => cors(value).map(|o| options.push(o)),
            _ => None,
        };
        if done.is_none() {
            return Err(format!("route field `{field}`"));
        }
    }
    let Some(action) = action else {
        return Err("a route without destination, redirect or response".to_string());
    };
    Ok(finish(out, &action, &options))
}

/// The route's conditions, then its action, then its options.
pub(super) fn finish(mut out: String, action: &str, options: &[String]) -> String {
    for word in std::iter::once(action).chain(options.iter().map(String::as_str)) {
        out.push(' ');
        out.push_str(word);
    }
    out
}

/// A TCP or TLS route (`kind` is `tcp` or `tls`).
pub(super) fn l4(route: &Node, names: &dyn Names, kind: &str) -> Result<String, Lost> {
    let mut out = format!("route {kind}");
    let alternatives = alternatives(route.get("match"), names, l4_condition)?;
    push_conditions(&mut out, None, &alternatives);
    for (key, _) in route.entries() {
        let field = key.as_str().unwrap_or_default();
        if field != "match" && field != "route" {
            return Err(format!("{kind} route field `{field}`"));
        }
    }
    let mut options = Vec::new();
    let action = route
        .get("route")
        .and_then(|r| destinations(r, names, &mut options))
        .ok_or_else(|| format!("a {kind} route's destinations"))?;
    if !options.is_empty() {
        return Err(format!("a {kind} route's destination headers"));
    }
    out.push(' ');
    out.push_str(&action);
    Ok(out)
}

type Condition = fn(&str, &Node, &dyn Names, &Node) -> Option<Vec<String>>;

fn alternatives(node: Option<&Node>, names: &dyn Names, each: Condition) -> Result<Vec<Vec<String>>, Lost> {
    let mut out = Vec::new();
    for alternative in node.map(Node::items).unwrap_or_default() {
        let mut conditions = Vec::new();
        for (key, value) in alternative.entries() {
            let field = key.as_str().unwrap_or_default();
            if field == "sourceNamespace" && alternative.get("sourceLabels").is_some() {
                continue;
            }
            match each(field, value, names, alternative) {
                Some(c) => conditions.extend(c),
                None => return Err(format!("match field `{field}`")),
            }
        }
        out.push(conditions);
    }
    Ok(out)
}

pub(super) fn push_conditions(out: &mut String, first: Option<&str>, alternatives: &[Vec<String>]) {
    if alternatives.is_empty() {
        if let Some(first) = first {
            out.push(' ');
            out.push_str(first);
        }
    }
    for (i, alternative) in alternatives.iter().enumerate() {
        if i > 0 {
            out.push_str(" or");
        }
        if let Some(first) = first {
            out.push(' ');
            out.push_str(first);
        }
        for condition in alternative {
            out.push(' ');
            out.push_str(condition);
        }
    }
}

fn http_condition(field: &str, value: &Node, names: &dyn Names, alternative: &Node) -> Option<Vec<String>> {
    Some(match field {
        "uri" => {
            let (kind, text) = string_match(value)?;
            vec![format!("{kind} {}", quote(text))]
        }
        "headers" | "queryParams" => {
            let word = if field == "headers" { "header" } else { "query" };
            value
                .entries()
                .iter()
                .map(|(name, test)| {
                    let name = name.as_str().filter(|n| is_name(n))?;
                    let (kind, text) = string_match(test)?;
                    let kind = if kind == "exact" {
                        String::new()
                    } else {
                        format!("{kind} ")
                    };
                    Some(format!("{word} {name} {kind}{}", quote(text)))
                })
                .collect::<Option<Vec<_>>>()?
        }
        "withoutHeaders" => value
            .entries()
            .iter()
            .map(|(name, test)| {
                let name = name.as_str().filter(|n| is_name(n))?;
                test.entries().is_empty().then(|| format!("header {name} absent"))
            })
            .collect::<Option<Vec<_>>>()?,
        "method" => {
            let (kind, text) = string_match(value)?;
            (kind == "exact" && is_name(text)).then(|| vec![format!("method {text}")])?
        }
        _ => l4_condition(field, value, names, alternative)?,
    })
}

fn l4_condition(field: &str, value: &Node, names: &dyn Names, alternative: &Node) -> Option<Vec<String>> {
    Some(match field {
        "port" => vec![format!("port {}", value.as_int()?)],
        "sourceLabels" => vec![format!(
            "from {}",
            names.source(value, alternative.get("sourceNamespace"))?
        )],
        "sniHosts" => value
            .items()
            .iter()
            .map(|h| Some(format!("sni {}", quote(h.as_str()?))))
            .collect::<Option<Vec<_>>>()
            .filter(|v| v.len() == 1)?,
        _ => return None,
    })
}

fn string_match(node: &Node) -> Option<(&str, &str)> {
    match node.entries() {
        [(kind, value)] => {
            let kind = kind.as_str()?;
            matches!(kind, "exact" | "prefix" | "regex").then_some(())?;
            Some((kind, value.as_str()?))
        }
        _ => None,
    }
}

/// `-> TARGET` or a split; per-destination header changes go to `options` with `for`.
fn destinations(node: &Node, names: &dyn Names, options: &mut Vec<String>) -> Option<String> {
    let items = node.items();
    let mut targets = Vec::new();
    for item in items {
        let mut weight = None;
        let mut target = None;
        for (key, value) in item.entries() {
            match key.as_str()? {
                "destination" => target = Some(names.target(value)?),
                "weight" => weight = Some(value.as_int()?),
                "headers" => {}
                _ => return None,
            }
        }
        let target = target?;
        if let Some(h) = item.get("headers") {
            options.extend(headers(h, &format!(" for {target}"))?);
        }
        targets.push((target, weight));
    }
    match targets.as_slice() {
        [] => None,
        [(target, None | Some(100))] => Some(format!("-> {target}")),
        _ => {
            let parts = targets
                .iter()
                .map(|(t, w)| Some(format!("{t} {}%", (*w)?)))
                .collect::<Option<Vec<_>>>()?;
            Some(format!("{{ {} }}", parts.join(" ")))
        }
    }
}

fn redirect(node: &Node) -> Option<String> {
    redirect_with(node, node.get("uri")?, ["uri", "redirectCode", "authority", "scheme"])
}

/// `redirect "PATH" [code N] [authority "A"] [scheme "S"]` from a mapping whose keys for
/// the path, code, authority and scheme are `keys`; `path` is the path's node.
pub(super) fn redirect_with(node: &Node, path: &Node, keys: [&str; 4]) -> Option<String> {
    let mut out = format!("redirect {}", quote(path.as_str()?));
    for (key, value) in node.entries() {
        match key.as_str()? {
            k if k == keys[0] => {}
            k if k == keys[1] => out.push_str(&format!(" code {}", value.as_int()?)),
            k if k == keys[2] => out.push_str(&format!(" authority {}", quote(value.as_str()?))),
            k if k == keys[3] => out.push_str(&format!(" scheme {}", quote(value.as_str()?))),
            _ => return None,
        }
    }
    Some(out)
}

fn respond(node: &Node) -> Option<String> {
    let mut out = format!("respond {}", node.get("status")?.as_int()?);
    for (key, value) in node.entries() {
        match key.as_str()? {
            "status" => {}
            "body" => match value.entries() {
                [(k, v)] if k.as_str() == Some("string") => out.push_str(&format!(" {}", quote(v.as_str()?))),
                _ => return None,
            },
            _ => return None,
        }
    }
    Some(out)
}

fn retries(node: &Node) -> Option<String> {
    let mut out = format!("retries {}", node.get("attempts")?.as_int()?);
    for (key, value) in node.entries() {
        match key.as_str()? {
            "attempts" => {}
            "perTryTimeout" => out.push_str(&format!(" per-try {}", value.as_str()?)),
            "retryOn" => out.push_str(&format!(" on {}", quote(value.as_str()?))),
            _ => return None,
        }
    }
    Some(out)
}

fn percent(node: &Node) -> Option<String> {
    let value: f64 = node.as_str()?.parse().ok()?;
    (value.is_finite() && (0.0..=100.0).contains(&value)).then(|| format!("{value}%"))
}

fn fault(node: &Node) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for (key, value) in node.entries() {
        let (word, amount) = match key.as_str()? {
            "delay" => ("delay", value.get("fixedDelay")?.as_str()?.to_string()),
            "abort" => ("abort", value.get("httpStatus")?.as_int()?.to_string()),
            _ => return None,
        };
        if value.entries().len() > 2 {
            return None;
        }
        let percentage = match value.get("percentage") {
            Some(p) => format!(" {}", percent(p.get("value")?)?),
            None if value.entries().len() == 1 => String::new(),
            None => return None,
        };
        out.push(format!("fault {word} {amount}{percentage}"));
    }
    Some(out)
}

fn rewrite(node: &Node) -> Option<Vec<String>> {
    node.entries()
        .iter()
        .map(|(key, value)| match key.as_str()? {
            "uri" => Some(format!("rewrite {}", quote(value.as_str()?))),
            "authority" => Some(format!("rewrite authority {}", quote(value.as_str()?))),
            _ => None,
        })
        .collect()
}

/// `headers: {request: {set, add, remove}, response: ...}` as options, each followed by
/// `suffix` (` for TARGET` on a destination's own).
fn headers(node: &Node, suffix: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for (side, operations) in node.entries() {
        let side = side.as_str().filter(|s| matches!(*s, "request" | "response"))?;
        for (op, value) in operations.entries() {
            match op.as_str()? {
                op @ ("set" | "add") => {
                    for (name, v) in value.entries() {
                        let name = name.as_str().filter(|n| is_label_key(n))?;
                        out.push(format!("{side} {op} {name} {}{suffix}", quote(v.as_str()?)));
                    }
                }
                "remove" => {
                    for name in value.items() {
                        let name = name.as_str().filter(|n| is_label_key(n))?;
                        out.push(format!("{side} remove {name}{suffix}"));
                    }
                }
                _ => return None,
            }
        }
    }
    Some(out)
}

fn cors(node: &Node) -> Option<String> {
    let origins = node.get("allowOrigins")?.items();
    let [origin] = origins else { return None };
    let (kind, origin) = string_match(origin)?;
    (kind == "exact").then_some(())?;
    let mut out = format!("cors origin {}", quote(origin));
    let list = |n: &Node| -> Option<String> {
        let items = n.items().iter().map(Node::as_str).collect::<Option<Vec<_>>>()?;
        Some(quote(&items.join(",")))
    };
    for (key, value) in node.entries() {
        match key.as_str()? {
            "allowOrigins" => {}
            "allowMethods" => out.push_str(&format!(" methods {}", list(value)?)),
            "allowHeaders" => out.push_str(&format!(" headers {}", list(value)?)),
            "exposeHeaders" => out.push_str(&format!(" expose {}", list(value)?)),
            "maxAge" => out.push_str(&format!(" max-age {}", value.as_str()?)),
            "allowCredentials" if matches!(value.value, Value::Scalar { ref text, .. } if text == "true") => {
                out.push_str(" credentials");
            }
            _ => return None,
        }
    }
    Some(out)
}
