//! Which earlier routes can take the requests of a route's alternative, found by lookup
//! rather than by comparing it with every earlier route.

use std::borrow::Cow;
use std::collections::HashMap;

#[cfg(test)]
use crate::model::RouteKind;
use crate::model::{self, Conditions, HeaderMatch};

/// The routes of one kind before the one at hand (each given by its alternatives, none for a
/// route that matches every request), indexed so that finding the routes that may take a
/// request does not look at every earlier route: for the checker's reachability checks, and
/// for a gateway's routes for every host in each host's VirtualService.
///
/// An earlier alternative takes a request only if each of its conditions holds for it. Some
/// conditions hold only under the very same condition: a host, an exact or regex path,
/// header or query parameter, a header's absence, a method, a source. An alternative with
/// one is filed under it (the first, in that order), and is looked at only for alternatives
/// that have it. One with none of them but a path prefix is filed under the prefix, and looked at
/// only for paths that start with it. Routes with an alternative with none of these, or
/// none at all, are looked at for every one. A thousand routes on distinct header values
/// then cost a thousand lookups, not half a million comparisons.
#[derive(Default)]
pub(crate) struct Earlier<'r> {
    /// Each route's alternatives: borrowed from the routes being checked, or owned when the
    /// routes are still being made (see [`Earlier::push_owned`]).
    routes: Vec<Cow<'r, [Conditions]>>,
    /// The routes looked at for every alternative, in order.
    open: Vec<usize>,
    /// The other routes, in order, under the hash of each condition they are filed under
    /// (a collision only costs a comparison).
    filed: HashMap<u64, Vec<usize>>,
    /// The lengths of the path prefixes routes are filed under.
    prefixes: std::collections::BTreeSet<usize>,
    /// Whether the routes are filed: only once there are more than [`FEW`] (fewer are
    /// simply each looked at).
    indexed: bool,
}

/// Up to how many earlier routes are each looked at without an index.
const FEW: usize = 16;

impl<'r> Earlier<'r> {
    /// The routes of `kind` among `routes`, in order.
    #[cfg(test)]
    pub(crate) fn of(routes: impl IntoIterator<Item = (RouteKind, &'r [Conditions])>, kind: RouteKind) -> Self {
        let mut earlier = Earlier::default();
        for (k, alternatives) in routes {
            if k == kind {
                earlier.push(alternatives);
            }
        }
        earlier
    }

    /// Adds the next route.
    pub(crate) fn push(&mut self, alternatives: &'r [Conditions]) {
        self.push_cow(Cow::Borrowed(alternatives));
    }

    /// Adds the next route, a copy of its alternatives kept: for a list of routes that grows
    /// while it is checked (a gateway's, as services' routes are carried over).
    pub(crate) fn push_owned(&mut self, alternatives: Vec<Conditions>) {
        self.push_cow(Cow::Owned(alternatives));
    }

    fn push_cow(&mut self, alternatives: Cow<'r, [Conditions]>) {
        self.routes.push(alternatives);
        if self.indexed {
            self.file(self.routes.len() - 1);
        } else if self.routes.len() > FEW {
            self.indexed = true;
            for i in 0..self.routes.len() {
                self.file(i);
            }
        }
    }

    /// Files route `i`: under each alternative's first pin, or its path prefix; among the
    /// open routes when an alternative has neither, or it has none.
    fn file(&mut self, i: usize) {
        let alternatives: &[Conditions] = &self.routes[i];
        let filings: Option<Vec<(u64, Option<usize>)>> = alternatives
            .iter()
            .map(|a| {
                let prefix = || filed_prefix(a).map(|p| (hash(&Pin::Prefix(p)), Some(p.len())));
                pins(a).next().map(|pin| (pin, None)).or_else(prefix)
            })
            .collect();
        match filings {
            Some(filings) if !alternatives.is_empty() => {
                for (pin, prefix) in filings {
                    self.prefixes.extend(prefix);
                    let filed = self.filed.entry(pin).or_default();
                    if filed.last() != Some(&i) {
                        filed.push(i);
                    }
                }
            }
            _ => self.open.push(i),
        }
    }

    /// The alternatives of route `i`.
    pub(crate) fn route(&self, i: usize) -> &[Conditions] {
        &self.routes[i]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The routes that may take some of the requests `alternative` matches: in order, each
    /// once.
    pub(crate) fn candidates(&self, alternative: &Conditions) -> Vec<usize> {
        if !self.indexed {
            return (0..self.routes.len()).collect();
        }
        let mut out = self.open.clone();
        // A path prefix takes the paths that start with it: look up each filed length.
        let path = match &alternative.uri {
            Some(model::StringMatch::Prefix(q) | model::StringMatch::Exact(q)) => q.as_str(),
            _ => "",
        };
        let prefixes = self
            .prefixes
            .range(..=path.len())
            .filter(|n| path.is_char_boundary(**n))
            .map(|n| hash(&Pin::Prefix(&path[..*n])));
        for pin in pins(alternative).chain(prefixes) {
            if let Some(filed) = self.filed.get(&pin) {
                out.extend_from_slice(filed);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The conditions of `c` that hold only under the very same condition (see [`Earlier`]), as
/// hashes: first the host, then the path, headers, query parameters, method and source. A
/// route is filed under its first: the host first, since a gateway's routes for a thousand
/// hosts often share their other conditions (each carries the same service routes over).
fn pins(c: &Conditions) -> impl Iterator<Item = u64> + '_ {
    let exact = |m: &model::StringMatch| !matches!(m, model::StringMatch::Prefix(_));
    let uri = c.uri.as_ref().filter(|m| exact(m)).map(Pin::Uri);
    let headers = c
        .headers
        .iter()
        .filter(move |(_, m)| !matches!(m, HeaderMatch::Is(m) if !exact(m)))
        .map(|(name, m)| Pin::Header(name, m));
    let query = c
        .query
        .iter()
        .filter(move |(_, m)| exact(m))
        .map(|(name, m)| Pin::Query(name, m));
    let host = c.host.as_deref().map(Pin::Host);
    let rest = [c.method.as_deref().map(Pin::Method), c.source.as_ref().map(Pin::Source)];
    host.into_iter()
        .chain(uri)
        .chain(headers)
        .chain(query)
        .chain(rest.into_iter().flatten())
        .map(|pin| hash(&pin))
}

/// A condition an earlier alternative is filed under in [`Earlier`].
#[derive(Hash)]
enum Pin<'a> {
    Uri(&'a model::StringMatch),
    Header(&'a str, &'a HeaderMatch),
    Query(&'a str, &'a model::StringMatch),
    Method(&'a str),
    Host(&'a str),
    Source(&'a model::SourceMatch),
    /// A path prefix other than `/` (which every path has).
    Prefix(&'a str),
}

fn hash(pin: &Pin<'_>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    pin.hash(&mut hasher);
    hasher.finish()
}

/// The path prefix `a` is filed under when it has no condition of [`pins`]: only paths that
/// start with it fall under it.
fn filed_prefix(a: &Conditions) -> Option<&str> {
    match &a.uri {
        Some(model::StringMatch::Prefix(p)) if p != "/" => Some(p),
        _ => None,
    }
}
