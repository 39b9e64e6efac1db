//! A Deployment's pod template as the properties of a `pod` version: image, replicas,
//! labels, annotations, resources, probes and how far its hardening is relaxed.

use super::read::{Obj, Places};
use super::text::{is_label_key, quote};
use crate::manifests::yaml::Node;
use crate::source::Span;

/// What a pod version says, and what the caller decides (environment variables may be
/// `calls`; the account may follow the naming).
#[derive(Debug, Default)]
pub(super) struct Pod {
    pub(super) props: Vec<String>,
    pub(super) lost: Vec<String>,
    pub(super) env: Vec<(String, String, Span)>,
    pub(super) account: Option<String>,
    /// Written without any security context: meshc hardens it.
    pub(super) unhardened: bool,
}

/// The ports a default probe uses: the first TCP port's target.
pub(super) fn pod(obj: &Obj<'_>, skip_labels: &[&str], tcp_target: Option<i64>, places: &Places<'_>) -> Pod {
    let mut pod = Pod::default();
    let template = obj.spec(&["template"]);
    let spec = template.and_then(|t| t.get("spec"));
    let containers = spec
        .and_then(|s| s.get("containers"))
        .map(Node::items)
        .unwrap_or_default();
    let Some(container) = containers.first() else {
        pod.lost
            .push(places.lost("a Deployment without containers", obj.node.span));
        return pod;
    };
    for extra in &containers[1..] {
        pod.lost.push(places.lost("a second container", extra.span));
    }
    match container.get("image").and_then(Node::as_str) {
        Some(image) => pod.props.push(format!("image {}", quote(image))),
        None => pod.lost.push(places.lost("a container without image", container.span)),
    }
    if let Some(replicas) = obj.spec(&["replicas"]) {
        match replicas.as_int() {
            Some(1) => {}
            Some(n) if n >= 0 => pod.props.push(format!("replicas {n}")),
            _ => pod.lost.push(places.lost("replicas", replicas.span)),
        }
    }
    let metadata = template.and_then(|t| t.get("metadata"));
    for (word, key) in [("label", "labels"), ("annotation", "annotations")] {
        for (k, v) in metadata.and_then(|m| m.get(key)).map(Node::entries).unwrap_or_default() {
            let name = k.as_str().unwrap_or_default();
            if word == "label" && skip_labels.contains(&name) {
                continue;
            }
            match v.as_str() {
                Some(value) if is_label_key(name) => pod.props.push(format!("{word} {name} {}", quote(value))),
                _ => pod.lost.push(places.lost(&format!("{word} `{name}`"), k.span)),
            }
        }
    }
    for item in container.get("env").map(Node::items).unwrap_or_default() {
        match (
            item.get("name").and_then(Node::as_str),
            item.get("value").and_then(Node::as_str),
        ) {
            (Some(name), Some(value)) if super::text::is_name(name) && item.entries().len() == 2 => {
                pod.env.push((name.to_string(), value.to_string(), item.span));
            }
            _ => pod
                .lost
                .push(places.lost("an environment variable not given as a value", item.span)),
        }
    }
    pod.account = spec
        .and_then(|s| s.get("serviceAccountName"))
        .and_then(Node::as_str)
        .map(str::to_string);
    resources(container, &mut pod, places);
    for kind in ["startup", "readiness", "liveness"] {
        if let Some(probe) = container.get(&format!("{kind}Probe")) {
            if !is_default_probe(kind, probe, tcp_target) {
                match probe_text(kind, probe) {
                    Some(text) => pod.props.push(text),
                    None => pod.lost.push(places.lost(&format!("the {kind} probe"), probe.span)),
                }
            }
        }
    }
    hardening(container, spec, &mut pod);
    for volume in spec.and_then(|s| s.get("volumes")).map(Node::items).unwrap_or_default() {
        let tmp = volume.get("name").and_then(Node::as_str) == Some("tmp") && volume.get("emptyDir").is_some();
        if !tmp {
            pod.lost.push(places.lost("a volume", volume.span));
        }
    }
    for field in ["command", "args", "volumeMounts"] {
        if let Some(node) = container.get(field) {
            let only_tmp = field == "volumeMounts"
                && node
                    .items()
                    .iter()
                    .all(|m| m.get("mountPath").and_then(Node::as_str) == Some("/tmp"));
            if !only_tmp {
                pod.lost
                    .push(places.lost(&format!("the container's `{field}`"), node.span));
            }
        }
    }
    pod
}

fn resources(container: &Node, pod: &mut Pod, places: &Places<'_>) {
    let Some(resources) = container.get("resources") else {
        return;
    };
    let requests = resources.get("requests");
    let limits = resources.get("limits");
    let mut names: Vec<&str> = [requests, limits]
        .iter()
        .flatten()
        .flat_map(|n| n.entries().iter().filter_map(|(k, _)| k.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut parts = Vec::new();
    for name in names {
        let request = requests.and_then(|r| r.get(name)).and_then(Node::as_str);
        let limit = limits.and_then(|r| r.get(name)).and_then(Node::as_str);
        let default = match name {
            "cpu" => Some(("100m", "1")),
            "memory" => Some(("128Mi", "512Mi")),
            _ => None,
        };
        match (request, limit) {
            (Some(r), Some(l)) if default == Some((r, l)) => {}
            (Some(r), Some(l)) if r == l => parts.push(format!("{name} {r}")),
            (Some(r), Some(l)) => parts.push(format!("{name} {r}..{l}")),
            _ => pod.lost.push(places.lost(
                &format!("resource `{name}` without both request and limit"),
                resources.span,
            )),
        }
    }
    if !parts.is_empty() {
        pod.props.push(format!("resources {}", parts.join(" ")));
    }
}

fn is_default_probe(kind: &str, probe: &Node, tcp_target: Option<i64>) -> bool {
    let port = probe.at(&["tcpSocket", "port"]).and_then(Node::as_int);
    let extra: Vec<(&str, Option<i64>)> = probe
        .entries()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v.as_int())))
        .filter(|(k, _)| *k != "tcpSocket")
        .collect();
    let expected: &[(&str, Option<i64>)] = if kind == "startup" {
        &[("periodSeconds", Some(5)), ("failureThreshold", Some(60))]
    } else {
        &[]
    };
    port.is_some() && port == tcp_target && extra == expected
}

fn probe_text(kind: &str, probe: &Node) -> Option<String> {
    let mut out = format!("probe {kind}");
    let mut settings = String::new();
    for (key, value) in probe.entries() {
        match key.as_str()? {
            "httpGet" => {
                out.push_str(&format!(" http {}", quote(value.get("path")?.as_str()?)));
                out.push_str(&format!(" port {}", value.get("port")?.as_int()?));
                if value.entries().len() != 2 {
                    return None;
                }
            }
            "tcpSocket" => {
                out.push_str(&format!(" tcp port {}", value.get("port")?.as_int()?));
                if value.entries().len() != 1 {
                    return None;
                }
            }
            "exec" => {
                out.push_str(" exec");
                for word in value.get("command")?.items() {
                    out.push_str(&format!(" {}", quote(word.as_str()?)));
                }
            }
            setting => {
                let (word, unit) = match setting {
                    "initialDelaySeconds" => ("delay", "s"),
                    "periodSeconds" => ("period", "s"),
                    "timeoutSeconds" => ("timeout", "s"),
                    "failureThreshold" => ("failures", ""),
                    _ => return None,
                };
                settings.push_str(&format!(" {word} {}{unit}", value.as_int()?));
            }
        }
    }
    out.push_str(&settings);
    Some(out)
}

/// `relax` words, or `hardening off`, for a pod that is not hardened as meshc hardens it.
/// A pod without any security context (written by hand) is hardened by meshc: nothing is
/// said.
fn hardening(container: &Node, spec: Option<&Node>, pod: &mut Pod) {
    let token = spec
        .and_then(|s| s.get("automountServiceAccountToken"))
        .and_then(Node::as_str)
        == Some("true");
    let Some(context) = container.get("securityContext") else {
        if spec.and_then(|s| s.get("securityContext")).is_none() {
            if token {
                pod.props.push("hardening off".to_string());
            } else {
                pod.unhardened = true;
            }
        }
        return;
    };
    let mut relax = Vec::new();
    let field = |k: &str| context.get(k).and_then(Node::as_str);
    if field("readOnlyRootFilesystem") == Some("false") {
        relax.push("writable-root");
    }
    if field("runAsNonRoot") == Some("false") {
        relax.push("root");
    } else if context.get("runAsUser").is_none() {
        relax.push("image-user");
    }
    if token {
        relax.push("token");
    }
    if !relax.is_empty() {
        pod.props.push(format!("relax {}", relax.join(" ")));
    }
}
