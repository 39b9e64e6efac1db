//! The Gateway API's value rules (GEP-2257 durations, paths, header names, hostnames, gRPC
//! names) and limits, and how meshc's values become its values.

/// Rules per HTTPRoute or GRPCRoute.
pub(super) const MAX_RULES: usize = 16;
/// Matches per HTTPRoute rule.
pub(super) const MAX_MATCHES: usize = 64;
/// Matches per GRPCRoute rule (8 before Gateway API v1.3).
pub(super) const MAX_GRPC_MATCHES: usize = 8;
/// Matches across the rules of one route.
pub(super) const MAX_ROUTE_MATCHES: usize = 128;
/// Backends per rule; header and query matches per match; entries per header operation.
pub(super) const MAX_LIST: usize = 16;
/// Hostnames per route.
pub(super) const MAX_HOSTNAMES: usize = 16;
/// Listeners per Gateway.
pub(super) const MAX_LISTENERS: usize = 64;
/// Path and rewrite values, regular expressions, gRPC service and method names.
pub(super) const MAX_PATH: usize = 1024;
pub(super) const MAX_HEADER_VALUE: usize = 4096;
pub(super) const MAX_QUERY_VALUE: usize = 1024;
pub(super) const MAX_HEADER_NAME: usize = 256;

use crate::check::rules;
use crate::model::StringMatch;

/// A duration in the Gateway API's format (GEP-2257: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`):
/// the text itself when it fits, else the same time in whole units (`1.5s` → `1s500ms`).
pub(super) fn duration(text: &str) -> Option<String> {
    if gateway_duration_ok(text) {
        return Some(text.to_string());
    }
    let (number, unit) = split_duration(text)?;
    let scale: f64 = match unit {
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    let ms = number.parse::<f64>().ok()? * scale;
    if !ms.is_finite() || ms < 0.0 || ms.fract() != 0.0 || ms > 1e15 {
        return None;
    }
    let mut rest = ms as u64;
    let mut out = String::new();
    for (unit, size) in [("h", 3_600_000u64), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        let count = rest / size;
        rest %= size;
        if count > 0 {
            out.push_str(&format!("{count}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    gateway_duration_ok(&out).then_some(out)
}

pub(super) fn split_duration(text: &str) -> Option<(&str, &str)> {
    let at = text.find(|c: char| c.is_ascii_alphabetic())?;
    Some((&text[..at], &text[at..]))
}

pub(super) fn gateway_duration_ok(text: &str) -> bool {
    let mut parts = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if !(1..=5).contains(&digits) {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "h", "m", "s"].into_iter().find(|u| rest.starts_with(u));
        let Some(unit) = unit else { return false };
        rest = &rest[unit.len()..];
        parts += 1;
    }
    (1..=4).contains(&parts)
}

/// How much of the traffic a mirror copies: a whole percentage, or a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Share {
    Percent(i32),
    Fraction(i32, i32),
}

pub(super) fn mirror_share(percent: f64) -> Option<Share> {
    if !(0.0..=100.0).contains(&percent) {
        return None;
    }
    if percent.fract() == 0.0 {
        return Some(Share::Percent(percent as i32));
    }
    for digits in 1..=4 {
        let scale = 10f64.powi(digits);
        let numerator = (percent * scale).round();
        if (numerator - percent * scale).abs() < 1e-6 {
            return Some(Share::Fraction(numerator as i32, (100.0 * scale) as i32));
        }
    }
    None
}

/// `HeaderName`: `^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$`, 1 to 256 characters.
pub(super) fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_HEADER_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// `PreciseHostname`: lowercase RFC 1123 labels separated by dots, not an IP address.
pub(super) fn precise_hostname_ok(host: &str) -> bool {
    host.len() <= 253
        && host.parse::<std::net::IpAddr>().is_err()
        && host.split('.').all(|label| rules::dns_label(label).is_ok())
}

/// `Hostname`: a precise hostname, optionally with a `*.` first label.
pub(super) fn hostname_ok(host: &str) -> bool {
    precise_hostname_ok(host.strip_prefix("*.").unwrap_or(host))
}

/// Why an `Exact` or `PathPrefix` path value is not one the Gateway API accepts.
pub(super) fn path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some("it must start with `/`".into());
    }
    if path.len() > MAX_PATH {
        return Some(format!("it must be at most {MAX_PATH} characters"));
    }
    for bad in ["//", "/./", "/../", "%2f", "%2F", "#"] {
        if path.contains(bad) {
            return Some(format!("it must not contain `{bad}`"));
        }
    }
    if path.ends_with("/..") || path.ends_with("/.") {
        return Some("it must not end with `/.` or `/..`".into());
    }
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return Some("`%` must start a percent-encoded byte such as `%20`".into());
            }
            i += 3;
            continue;
        }
        if !(c.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&c)) {
            return Some(format!("`{}` must be percent-encoded", char::from(c)));
        }
        i += 1;
    }
    None
}

/// Whether a Gateway API `PathPrefix` of `prefix` matches `path` (whole path elements).
pub(super) fn prefix_matches(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    prefix.is_empty() || path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// How a path rewrite applies to one alternative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathRewrite {
    /// `ReplaceFullPath`: Istio replaces the whole path of exact and regex matches.
    Full,
    /// `ReplacePrefixMatch`: Istio replaces the matched prefix.
    Prefix,
}

/// `None` when no Gateway API rewrite does what Istio does: without a path match Istio
/// replaces the leading `/` alone (`rewrite "/v2"` turns `/a` into `/v2a`), which a
/// `ReplacePrefixMatch` does only for a value ending in `/`.
pub(super) fn path_rewrite(uri: Option<&StringMatch>, value: &str) -> Option<PathRewrite> {
    match uri {
        Some(StringMatch::Exact(_) | StringMatch::Regex(_)) => Some(PathRewrite::Full),
        Some(StringMatch::Prefix(p)) if p != "/" => Some(PathRewrite::Prefix),
        _ => value.ends_with('/').then_some(PathRewrite::Prefix),
    }
}

/// A GRPCRoute method match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum GrpcMethod {
    Any,
    Service(String),
    Method(String, String),
}

pub(super) fn grpc_service_ok(s: &str) -> bool {
    let s = s.strip_prefix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= MAX_PATH
        && s.split('.').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

pub(super) fn grpc_name_ok(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.len() <= MAX_PATH
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A path condition as a gRPC method match: `exact "/pkg.Service/Method"`, `prefix
/// "/pkg.Service/"` or `prefix "/"`.
pub(super) fn grpc_method(uri: Option<&StringMatch>) -> Result<GrpcMethod, String> {
    let usage = "on a gRPC port, match `exact \"/package.Service/Method\"` or `prefix \"/package.Service/\"`";
    match uri {
        None => Ok(GrpcMethod::Any),
        Some(StringMatch::Prefix(p)) if p == "/" => Ok(GrpcMethod::Any),
        Some(StringMatch::Prefix(p)) => match p.strip_prefix('/').and_then(|s| s.strip_suffix('/')) {
            Some(service) if grpc_service_ok(service) => Ok(GrpcMethod::Service(service.to_string())),
            _ => Err(usage.into()),
        },
        Some(StringMatch::Exact(e)) => match e.strip_prefix('/').and_then(|s| s.split_once('/')) {
            Some((service, method)) if grpc_service_ok(service) && grpc_name_ok(method) => {
                Ok(GrpcMethod::Method(service.to_string(), method.to_string()))
            }
            _ => Err(usage.into()),
        },
        Some(StringMatch::Regex(_)) => Err(format!(
            "a GRPCRoute cannot match the path by regular expression; {usage}"
        )),
    }
}

/// A redirect authority as hostname and port.
pub(super) fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().ok().filter(|p| *p > 0)?)),
        None => (authority, None),
    };
    let host = host.to_ascii_lowercase();
    precise_hostname_ok(&host).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fit_gep_2257() {
        assert_eq!(duration("5s").as_deref(), Some("5s"));
        assert_eq!(duration("250ms").as_deref(), Some("250ms"));
        assert_eq!(duration("1.5s").as_deref(), Some("1s500ms"));
        assert_eq!(duration("0.5m").as_deref(), Some("30s"));
        assert_eq!(duration("1.25h").as_deref(), Some("1h15m"));
        assert_eq!(duration("123456s").as_deref(), Some("34h17m36s"));
        assert!(gateway_duration_ok("1h2m3s4ms"));
        assert!(!gateway_duration_ok("1.5s"));
        assert!(!gateway_duration_ok("123456s"));
        assert!(!gateway_duration_ok(""));
    }

    #[test]
    fn mirror_shares() {
        assert_eq!(mirror_share(10.0), Some(Share::Percent(10)));
        assert_eq!(mirror_share(12.5), Some(Share::Fraction(125, 1000)));
        assert_eq!(mirror_share(0.01), Some(Share::Fraction(1, 10000)));
        assert_eq!(mirror_share(101.0), None);
    }

    #[test]
    fn paths_and_prefixes() {
        assert!(path_problem("/hello").is_none());
        assert!(path_problem("hello").is_some());
        assert!(path_problem("/a//b").is_some());
        assert!(path_problem("/a b").is_some());
        assert!(path_problem("/a%20b").is_none());
        assert!(prefix_matches("/api", "/api/v1"));
        assert!(prefix_matches("/api/", "/api"));
        assert!(!prefix_matches("/api", "/apis"));
        assert!(prefix_matches("/", "/anything"));
    }

    #[test]
    fn grpc_methods() {
        let exact = StringMatch::Exact("/shop.Cart/Add".into());
        assert_eq!(
            grpc_method(Some(&exact)),
            Ok(GrpcMethod::Method("shop.Cart".into(), "Add".into()))
        );
        let service = StringMatch::Prefix("/shop.Cart/".into());
        assert_eq!(grpc_method(Some(&service)), Ok(GrpcMethod::Service("shop.Cart".into())));
        assert!(grpc_method(Some(&StringMatch::Prefix("/shop".into()))).is_err());
        assert!(grpc_method(Some(&StringMatch::Regex("/.*".into()))).is_err());
    }

    #[test]
    fn hosts() {
        assert!(hostname_ok("*.example.com"));
        assert!(hostname_ok("shop.example.com"));
        assert!(!hostname_ok("*shop.example.com"));
        assert!(!hostname_ok("10.0.0.1"));
        assert_eq!(
            split_authority("a.example.com:8080"),
            Some(("a.example.com".into(), Some(8080)))
        );
        assert_eq!(split_authority("a.example.com"), Some(("a.example.com".into(), None)));
        assert_eq!(split_authority("a.example.com:x"), None);
    }
}
