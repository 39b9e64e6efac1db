//! Match precedence: how the Gateway API ranks rules by how specific their match is, and
//! whether two matches may take the same request.

use super::plan::RouteObjectKind;
use super::values::{grpc_method, prefix_matches, GrpcMethod};
use crate::model::{Conditions, HeaderMatch, StringMatch};

/// How the Gateway API ranks a match (higher first), as Istio implements it: path type
/// (exact, then prefix, then regular expression), path length, method, number of header
/// matches, number of query matches. A match without a path is a prefix match on `/`.
pub(super) type Rank = (u8, usize, bool, usize, usize);

pub(super) fn rank(c: Option<&Conditions>, kind: RouteObjectKind) -> Rank {
    let any = Conditions::default();
    let c = c.unwrap_or(&any);
    let (kind, len) = match kind {
        RouteObjectKind::Http => match &c.uri {
            None => (2, 1),
            Some(StringMatch::Exact(e)) => (3, e.len()),
            Some(StringMatch::Prefix(p)) => (2, p.trim_end_matches('/').len().max(1)),
            Some(StringMatch::Regex(r)) => (1, r.len()),
        },
        // Service characters, then method characters (GRPCRoute precedence).
        RouteObjectKind::Grpc => match grpc_method(c.uri.as_ref()) {
            Ok(GrpcMethod::Method(s, m)) => (2, s.len() * 4096 + m.len()),
            Ok(GrpcMethod::Service(s)) => (2, s.len() * 4096),
            _ => (2, 0),
        },
    };
    (kind, len, c.method.is_some(), c.headers.len(), c.query.len())
}

/// Why `later` ranks before `earlier`, in words.
pub(super) fn rank_reason(earlier: Rank, later: Rank) -> &'static str {
    if later.0 != earlier.0 {
        match (later.0, earlier.0) {
            (3, _) => "an exact path outranks any other path match",
            (2, 1) => "a path prefix (a match without a path is the prefix `/`) outranks a regular expression",
            _ => "its path match is of a stronger kind",
        }
    } else if later.1 != earlier.1 {
        "a longer path outranks a shorter one"
    } else if later.2 != earlier.2 {
        "a method match outranks no method match"
    } else if later.3 != earlier.3 {
        "more header matches outrank fewer"
    } else {
        "more query parameter matches outrank fewer"
    }
}

/// Whether one request could satisfy both conditions (`None`: any request). Errs towards
/// yes: regular expressions are taken to overlap everything.
pub(super) fn may_overlap(a: Option<&Conditions>, b: Option<&Conditions>) -> bool {
    let (Some(a), Some(b)) = (a, b) else { return true };
    let paths = match (&a.uri, &b.uri) {
        (Some(StringMatch::Exact(x)), Some(StringMatch::Exact(y))) => x == y,
        (Some(StringMatch::Exact(e)), Some(StringMatch::Prefix(p)))
        | (Some(StringMatch::Prefix(p)), Some(StringMatch::Exact(e))) => prefix_matches(p, e),
        (Some(StringMatch::Prefix(p)), Some(StringMatch::Prefix(q))) => prefix_matches(p, q) || prefix_matches(q, p),
        _ => true,
    };
    let exact_clash = |x: &[(String, StringMatch)], y: &[(String, StringMatch)]| {
        x.iter().any(|(n, m)| {
            y.iter()
                .any(|(o, v)| n == o && matches!((m, v), (StringMatch::Exact(p), StringMatch::Exact(q)) if p != q))
        })
    };
    let headers = |c: &Conditions| -> Vec<(String, StringMatch)> {
        c.headers
            .iter()
            .filter_map(|(n, h)| match h {
                HeaderMatch::Is(m) => Some((n.clone(), m.clone())),
                HeaderMatch::Absent => None,
            })
            .collect()
    };
    let differ = |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(p), Some(q)) if p != q);
    paths
        && !differ(&a.method, &b.method)
        && !matches!((a.port, b.port), (Some(p), Some(q)) if p != q)
        && !exact_clash(&headers(a), &headers(b))
        && !exact_clash(&a.query, &b.query)
}

/// The requests both conditions match, as one set of conditions, when it can be told.
pub(super) fn intersection(a: Option<&Conditions>, b: Option<&Conditions>) -> Option<Conditions> {
    let (a, b) = match (a, b) {
        (None, None) => return Some(Conditions::default()),
        (Some(x), None) | (None, Some(x)) => return Some(x.clone()),
        (Some(a), Some(b)) => (a, b),
    };
    let mut both = a.clone();
    both.uri = match (&a.uri, &b.uri) {
        (None, uri) | (uri, None) => uri.clone(),
        (Some(x), Some(y)) if x == y => Some(x.clone()),
        (Some(StringMatch::Prefix(p)), Some(inner @ (StringMatch::Prefix(q) | StringMatch::Exact(q))))
        | (Some(inner @ (StringMatch::Prefix(q) | StringMatch::Exact(q))), Some(StringMatch::Prefix(p)))
            if prefix_matches(p, q) =>
        {
            Some(inner.clone())
        }
        _ => return None,
    };
    both.method = match (&a.method, &b.method) {
        (Some(x), Some(y)) if x != y => return None,
        (x, y) => x.clone().or_else(|| y.clone()),
    };
    both.port = a.port.or(b.port);
    for (name, m) in &b.headers {
        match both.headers.iter().find(|(n, _)| n == name) {
            Some((_, other)) if other != m => return None,
            Some(_) => {}
            None => both.headers.push((name.clone(), m.clone())),
        }
    }
    for (name, m) in &b.query {
        match both.query.iter().find(|(n, _)| n == name) {
            Some((_, other)) if other != m => return None,
            Some(_) => {}
            None => both.query.push((name.clone(), m.clone())),
        }
    }
    Some(both)
}

/// Whether every request `inner` matches is matched by `outer`, with the Gateway API's
/// path prefixes (whole segments).
pub(super) fn gateway_covered(inner: &Conditions, outer: &Conditions) -> bool {
    let uri = match (&outer.uri, &inner.uri) {
        (None, _) => true,
        (Some(StringMatch::Prefix(p)), _) if p == "/" => true,
        (Some(StringMatch::Prefix(p)), Some(StringMatch::Prefix(q) | StringMatch::Exact(q))) => prefix_matches(p, q),
        (Some(x), Some(y)) => x == y,
        (Some(_), None) => false,
    };
    let same = |x: &Option<String>, y: &Option<String>| x.is_none() || x == y;
    uri && same(&outer.method, &inner.method)
        && (outer.port.is_none() || outer.port == inner.port)
        && (outer.source.is_none() || outer.source == inner.source)
        && outer.headers.iter().all(|h| inner.headers.contains(h))
        && outer.query.iter().all(|q| inner.query.contains(q))
}
