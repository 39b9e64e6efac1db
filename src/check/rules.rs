//! Span-less validity rules for the names and values Kubernetes and Istio accept. Each
//! returns the rule that was broken, in words; the caller attaches the span.

const MAX_LABEL: usize = 63;
const MAX_SUBDOMAIN: usize = 253;

fn alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// RFC 1123 label: namespaces, subset names, gateway names, Service port names.
pub(crate) fn dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it must not be empty".into());
    }
    if s.len() > MAX_LABEL {
        return Err(format!(
            "it must be at most {MAX_LABEL} characters (it has {})",
            s.len()
        ));
    }
    if let Some(c) = s.chars().find(|&c| !(alnum_lower(c) || c == '-')) {
        return Err(if c.is_ascii_uppercase() {
            "it must be lowercase".into()
        } else {
            format!("it may contain only lowercase letters, digits and `-`, not `{c}`")
        });
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

/// RFC 1035 label: Kubernetes Service names, which must also start with a letter.
pub(crate) fn dns1035_label(s: &str) -> Result<(), String> {
    dns_label(s)?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("it must start with a letter".into());
    }
    Ok(())
}

/// RFC 1123 subdomain: names of Deployments, ServiceAccounts and Istio objects.
pub(crate) fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.len() > MAX_SUBDOMAIN {
        return Err(format!(
            "it must be at most {MAX_SUBDOMAIN} characters (it has {})",
            s.len()
        ));
    }
    for part in s.split('.') {
        dns_label(part).map_err(|why| {
            if part.is_empty() {
                "it must not be empty, start or end with `.`, or contain `..`".to_string()
            } else {
                why
            }
        })?;
    }
    Ok(())
}

fn label_name_part(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the name part must not be empty".into());
    }
    if s.len() > MAX_LABEL {
        return Err(format!("the name part must be at most {MAX_LABEL} characters"));
    }
    if let Some(c) = s
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "it may contain only letters, digits, `-`, `_` and `.`, not `{c}`"
        ));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) || !s.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A label or annotation key: an optional DNS subdomain prefix and `/`, then a name.
pub(crate) fn qualified_name(s: &str) -> Result<(), String> {
    match s.split_once('/') {
        Some((prefix, name)) => {
            dns_subdomain(prefix).map_err(|why| format!("its prefix `{prefix}` is not a DNS subdomain: {why}"))?;
            label_name_part(name)
        }
        None => label_name_part(s),
    }
}

/// A label value: empty, or up to 63 letters, digits, `-`, `_`, `.`, alphanumeric at both ends.
pub(crate) fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    label_name_part(s).map_err(|why| why.replace("the name part", "it"))
}

/// An environment variable name as Kubernetes accepts it.
pub(crate) fn env_name(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    match chars.next() {
        None => Err("it must not be empty".into()),
        Some(c) if c.is_ascii_digit() => Err("it must not start with a digit".into()),
        _ => match s
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            Some(c) => Err(format!(
                "it may contain only letters, digits, `_`, `-` and `.`, not `{c}`"
            )),
            None => Ok(()),
        },
    }
}

/// A gateway host as Istio accepts it: `*`, or a DNS name with a dot, whose first label may
/// be `*` or start with `*`.
pub(crate) fn gateway_host(s: &str) -> Result<(), String> {
    if s == "*" {
        return Ok(());
    }
    if s.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    if s.is_empty() || s.len() > 255 {
        return Err("it must be 1 to 255 characters".into());
    }
    if !s.contains('.') {
        return Err("a gateway host must be `*` or a fully qualified name containing a dot".into());
    }
    let mut labels = s.split('.');
    let first = labels.next().unwrap_or("");
    // `*` may lead the first label (`*.a.com`, `*-shop.a.com`).
    let (wild, rest) = match first.strip_prefix('*') {
        Some(rest) => (true, rest),
        None => (false, first),
    };
    if rest.contains('*') {
        return Err("a wildcard must lead the first label, as in `*.example.com`".into());
    }
    if wild {
        if let Some(c) = rest.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
            return Err(format!("it may contain only letters, digits and `-`, not `{c}`"));
        }
    } else {
        host_label(first)?;
    }
    for label in labels {
        host_label(label)?;
    }
    Ok(())
}

/// An AuthorizationPolicy path: exact (`/a`), a prefix (`/api/*`), a suffix (`*.png`) or
/// `*`; Istio has no other wildcard.
pub(crate) fn authorization_path(s: &str) -> Result<(), String> {
    if s == "*" {
        return Ok(());
    }
    let inner = s.strip_prefix('*').unwrap_or(s);
    let inner = inner.strip_suffix('*').unwrap_or(inner);
    if s.starts_with('*') && s.ends_with('*') {
        return Err("a `*` goes at the start or the end, not both".into());
    }
    if inner.contains('*') {
        return Err("a `*` may only stand at the start or the end".into());
    }
    if inner.is_empty() {
        return Err("it must not be empty".into());
    }
    if !s.starts_with('*') && !s.starts_with('/') {
        return Err("it must start with `/`".into());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it must not contain white space".into());
    }
    Ok(())
}

/// A JWT claim name as an AuthorizationPolicy condition key takes it:
/// `request.auth.claims[NAME]`.
pub(crate) fn claim_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it must not be empty".into());
    }
    match s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')))
    {
        Some(c) => Err(format!(
            "it may contain letters, digits, `_`, `-`, `.`, `:` and `/`, not `{c}`"
        )),
        None => Ok(()),
    }
}

fn host_label(label: &str) -> Result<(), String> {
    if label.contains('*') {
        return Err("a wildcard must lead the first label, as in `*.example.com`".into());
    }
    dns_label(&label.to_ascii_lowercase())
}

/// The largest count Istio accepts (connections, requests, retries, errors): its API holds
/// them as `int32` or `UInt32Value`, so the common bound is `int32`'s largest value.
pub(crate) const MAX_COUNT: u32 = i32::MAX as u32;

/// The longest duration Istio accepts. Its CRDs validate every duration with CEL
/// (`duration(self) >= duration('1ms')`), which reads it as a Go `time.Duration`: 2^63-1
/// nanoseconds at most, so a longer duration fails validation. In whole milliseconds, as
/// Istio wants them.
pub(crate) const MAX_DURATION_MS: f64 = 9_223_372_036_854.0;

/// [`MAX_DURATION_MS`] as a user writes it.
pub(crate) const MAX_DURATION: &str = "2562047h";

/// Why Istio cannot route to a VM at this address, if it cannot: a WorkloadEntry's address
/// must be one the VM is reached at from other workloads, which rules out the unspecified
/// address, loopback (the pod's own proxy), multicast, link-local and broadcast addresses.
pub(crate) fn vm_address(ip: std::net::IpAddr) -> Result<(), &'static str> {
    use std::net::IpAddr;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let why = match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => "it is the unspecified address (it means any address)",
        IpAddr::V4(v4) if v4.is_loopback() => "it is a loopback address (each workload would reach itself)",
        IpAddr::V4(v4) if v4.is_multicast() => "it is a multicast address",
        IpAddr::V4(v4) if v4.is_link_local() => "it is a link-local address, not routable beyond one link",
        IpAddr::V4(v4) if v4.is_broadcast() => "it is the broadcast address",
        IpAddr::V4(v4) if v4.octets()[0] == 0 => "addresses in 0.0.0.0/8 mean this host on this network",
        IpAddr::V6(v6) if v6.is_unspecified() => "it is the unspecified address (it means any address)",
        IpAddr::V6(v6) if v6.is_loopback() => "it is a loopback address (each workload would reach itself)",
        IpAddr::V6(v6) if v6.is_multicast() => "it is a multicast address",
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => {
            "it is a link-local address, not routable beyond one link"
        }
        _ => return Ok(()),
    };
    Err(why)
}

/// Ports the Istio sidecar binds inside every workload (istio.io "Application requirements").
pub(crate) const PROXY_PORTS: &[u16] = &[15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(dns_label("hello-2").is_ok());
        assert!(dns_label("Hello").unwrap_err().contains("lowercase"));
        assert!(dns_label("a_b").unwrap_err().contains("`_`"));
        assert!(dns_label("-a").is_err());
        assert!(dns_label(&"a".repeat(64)).unwrap_err().contains("63"));
        assert!(dns1035_label("1abc").unwrap_err().contains("letter"));
        assert!(dns_subdomain("a.b-c.d").is_ok());
        assert!(dns_subdomain("a..b").is_err());
    }

    #[test]
    fn keys_and_values() {
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("a/b/c").is_err());
        assert!(qualified_name("-x").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("v1.0_x").is_ok());
        assert!(label_value("a b").is_err());
        assert!(env_name("HTTP_HELLO_BACKEND").is_ok());
        assert!(env_name("1X").is_err());
    }

    #[test]
    fn vm_addresses() {
        let check = |s: &str| vm_address(s.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])));
        for bad in [
            "0.0.0.0",
            "127.0.0.1",
            "127.255.0.9",
            "224.0.0.1",
            "169.254.1.1",
            "255.255.255.255",
            "0.1.2.3",
            "::",
            "::1",
            "ff02::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        for good in ["10.0.0.5", "192.168.0.171", "8.8.8.8", "2001:db8::1", "fd00::5"] {
            assert!(check(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn hosts() {
        assert!(gateway_host("*").is_ok());
        assert!(gateway_host("*.example.com").is_ok());
        assert!(gateway_host("shop.example.com").is_ok());
        assert!(gateway_host("shop").is_err());
        assert!(gateway_host("a*.example.com").is_err());
        assert!(gateway_host("*-shop.example.com").is_ok());
        assert!(gateway_host("x.*.com").is_err());
    }
}
