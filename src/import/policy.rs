//! A DestinationRule's `trafficPolicy` as the settings of a `policy { ... }` block.

use super::read::Places;
use super::text::quote;
use crate::manifests::yaml::Node;

/// The settings, and a comment for each field that has no `.mesh` form.
pub(super) fn policy(node: &Node, places: &Places<'_>) -> (Vec<String>, Vec<String>) {
    let mut settings = Vec::new();
    let mut lost = Vec::new();
    for (key, value) in node.entries() {
        let field = key.as_str().unwrap_or_default();
        let done = match field {
            "loadBalancer" => load_balancer(value).map(|s| settings.push(s)),
            "connectionPool" => connection_pool(value).map(|s| settings.extend(s)),
            "outlierDetection" => outlier(value).map(|s| settings.push(s)),
            "tls" => tls(value).map(|s| settings.push(s)),
            _ => None,
        };
        if done.is_none() {
            lost.push(places.lost(&format!("traffic policy `{field}`"), key.span));
        }
    }
    (settings, lost)
}

fn scalar(node: &Node) -> Option<&str> {
    node.as_str()
}

/// The fields of a mapping, each converted by `each`; `None` when one has no form.
fn fields(node: &Node, mut each: impl FnMut(&str, &Node) -> Option<String>) -> Option<Vec<String>> {
    node.entries().iter().map(|(k, v)| each(k.as_str()?, v)).collect()
}

fn load_balancer(node: &Node) -> Option<String> {
    if let [(key, value)] = node.entries() {
        match key.as_str()? {
            "simple" => {
                let kind = match value.as_str()? {
                    "ROUND_ROBIN" => "round-robin",
                    "LEAST_REQUEST" => "least-request",
                    "RANDOM" => "random",
                    "PASSTHROUGH" => "passthrough",
                    _ => return None,
                };
                return Some(format!("lb {kind}"));
            }
            "consistentHash" => {
                if let [(k, v)] = value.entries() {
                    return match k.as_str()? {
                        "httpHeaderName" => Some(format!("lb hash header {}", quote(v.as_str()?))),
                        "httpQueryParameterName" => Some(format!("lb hash query {}", quote(v.as_str()?))),
                        "useSourceIp" if v.as_str() == Some("true") => Some("lb hash source-ip".to_string()),
                        "httpCookie" => {
                            let mut out = format!("lb hash cookie {}", quote(v.get("name")?.as_str()?));
                            if let Some(ttl) = v.get("ttl") {
                                out.push_str(&format!(" ttl {}", ttl.as_str()?));
                            }
                            (v.entries().len() == 1 + usize::from(v.get("ttl").is_some())).then_some(out)
                        }
                        _ => None,
                    };
                }
            }
            _ => {}
        }
    }
    None
}

fn connection_pool(node: &Node) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for (key, value) in node.entries() {
        match key.as_str()? {
            "tcp" => {
                let parts = fields(value, |k, v| match k {
                    "maxConnections" => Some(format!("max {}", v.as_int()?)),
                    "connectTimeout" => Some(format!("connect-timeout {}", scalar(v)?)),
                    _ => None,
                })?;
                out.push(format!("connections {}", parts.join(" ")));
            }
            "http" => {
                let parts = fields(value, |k, v| {
                    let word = match k {
                        "http1MaxPendingRequests" => "max-pending",
                        "http2MaxRequests" => "max-requests",
                        "maxRequestsPerConnection" => "per-connection",
                        "maxRetries" => "max-retries",
                        "idleTimeout" => return Some(format!("idle-timeout {}", scalar(v)?)),
                        _ => return None,
                    };
                    Some(format!("{word} {}", v.as_int()?))
                })?;
                out.push(format!("http {}", parts.join(" ")));
            }
            _ => return None,
        }
    }
    Some(out)
}

fn outlier(node: &Node) -> Option<String> {
    let parts = fields(node, |k, v| match k {
        "consecutive5xxErrors" => Some(format!("consecutive-errors {}", v.as_int()?)),
        "consecutiveGatewayErrors" => Some(format!("gateway-errors {}", v.as_int()?)),
        "interval" => Some(format!("interval {}", scalar(v)?)),
        "baseEjectionTime" => Some(format!("base-ejection {}", scalar(v)?)),
        "maxEjectionPercent" => Some(format!("max-ejection {}%", v.as_int()?)),
        "minHealthPercent" => Some(format!("min-health {}%", v.as_int()?)),
        _ => None,
    })?;
    Some(format!("outlier {}", parts.join(" ")))
}

fn tls(node: &Node) -> Option<String> {
    let mode = node.get("mode")?.as_str()?;
    let mut out = match mode {
        "ISTIO_MUTUAL" => "tls istio-mutual".to_string(),
        "DISABLE" => "tls disable".to_string(),
        "SIMPLE" => "tls simple".to_string(),
        "MUTUAL" => format!("tls mutual credential {}", quote(node.get("credentialName")?.as_str()?)),
        _ => return None,
    };
    for (key, value) in node.entries() {
        match key.as_str()? {
            "mode" => {}
            "credentialName" if mode == "MUTUAL" => {}
            "sni" if mode == "SIMPLE" || mode == "MUTUAL" => out.push_str(&format!(" sni {}", quote(value.as_str()?))),
            _ => return None,
        }
    }
    Some(out)
}
