//! The one registry every planned object passes through, whichever target planned it: it
//! keeps each namespace's documents in canonical order and reports two objects of one kind,
//! namespace and name (M2006), pointing at both declarations.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::options::ApiVersion;
use crate::source::Span;

/// The kinds meshc writes, in canonical document order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ObjectKind {
    Namespace,
    ServiceAccount,
    Service,
    Deployment,
    WorkloadEntry,
    WorkloadGroup,
    ServiceEntry,
    DestinationRule,
    /// `networking.istio.io` Gateway.
    IstioGateway,
    VirtualService,
    /// `gateway.networking.k8s.io` Gateway (`--routes gateway-api`).
    KubeGateway,
    HttpRoute,
    GrpcRoute,
    ReferenceGrant,
    Sidecar,
    PeerAuthentication,
    RequestAuthentication,
    AuthorizationPolicy,
}

impl ObjectKind {
    /// How many kinds there are (`AuthorizationPolicy` is the last).
    const COUNT: usize = ObjectKind::AuthorizationPolicy as usize + 1;

    /// Every kind, in canonical order.
    const ALL: [ObjectKind; ObjectKind::COUNT] = [
        ObjectKind::Namespace,
        ObjectKind::ServiceAccount,
        ObjectKind::Service,
        ObjectKind::Deployment,
        ObjectKind::WorkloadEntry,
        ObjectKind::WorkloadGroup,
        ObjectKind::ServiceEntry,
        ObjectKind::DestinationRule,
        ObjectKind::IstioGateway,
        ObjectKind::VirtualService,
        ObjectKind::KubeGateway,
        ObjectKind::HttpRoute,
        ObjectKind::GrpcRoute,
        ObjectKind::ReferenceGrant,
        ObjectKind::Sidecar,
        ObjectKind::PeerAuthentication,
        ObjectKind::RequestAuthentication,
        ObjectKind::AuthorizationPolicy,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            ObjectKind::Namespace => "Namespace",
            ObjectKind::ServiceAccount => "ServiceAccount",
            ObjectKind::Service => "Service",
            ObjectKind::Deployment => "Deployment",
            ObjectKind::WorkloadEntry => "WorkloadEntry",
            ObjectKind::WorkloadGroup => "WorkloadGroup",
            ObjectKind::ServiceEntry => "ServiceEntry",
            ObjectKind::DestinationRule => "DestinationRule",
            ObjectKind::IstioGateway | ObjectKind::KubeGateway => "Gateway",
            ObjectKind::VirtualService => "VirtualService",
            ObjectKind::HttpRoute => "HTTPRoute",
            ObjectKind::GrpcRoute => "GRPCRoute",
            ObjectKind::ReferenceGrant => "ReferenceGrant",
            ObjectKind::Sidecar => "Sidecar",
            ObjectKind::PeerAuthentication => "PeerAuthentication",
            ObjectKind::RequestAuthentication => "RequestAuthentication",
            ObjectKind::AuthorizationPolicy => "AuthorizationPolicy",
        }
    }

    pub(crate) fn api_version(self, api: ApiVersion) -> &'static str {
        match self {
            ObjectKind::Namespace | ObjectKind::ServiceAccount | ObjectKind::Service => "v1",
            ObjectKind::Deployment => "apps/v1",
            ObjectKind::KubeGateway | ObjectKind::HttpRoute | ObjectKind::GrpcRoute => "gateway.networking.k8s.io/v1",
            ObjectKind::ReferenceGrant => "gateway.networking.k8s.io/v1beta1",
            ObjectKind::WorkloadEntry
            | ObjectKind::WorkloadGroup
            | ObjectKind::ServiceEntry
            | ObjectKind::DestinationRule
            | ObjectKind::IstioGateway
            | ObjectKind::VirtualService
            | ObjectKind::Sidecar => api.networking(),
            ObjectKind::PeerAuthentication | ObjectKind::RequestAuthentication | ObjectKind::AuthorizationPolicy => {
                api.security()
            }
        }
    }
}

/// The declaration an object is generated from, for collision messages; the words are only
/// put together when there is something to report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Owner<'m> {
    /// Objects of the namespace itself (the Namespace, ServiceAccounts), unique by
    /// construction.
    Namespace,
    Service(&'m str, Span),
    Version(&'m str, &'m str, Span),
    Gateway(&'m str, Span),
}

impl Owner<'_> {
    pub(crate) fn span(self) -> Option<Span> {
        match self {
            Owner::Namespace => None,
            Owner::Service(_, span) | Owner::Version(_, _, span) | Owner::Gateway(_, span) => Some(span),
        }
    }
}

impl std::fmt::Display for Owner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Namespace => write!(f, "the namespace"),
            Owner::Service(name, _) => write!(f, "service `{name}`"),
            Owner::Version(version, service, _) => write!(f, "version `{version}` of `{service}`"),
            Owner::Gateway(name, _) => write!(f, "gateway `{name}`"),
        }
    }
}

/// One planned object: its key, who generated it and where, and when it was planned.
pub(crate) struct Entry {
    kind: ObjectKind,
    /// Index into the registry's `owners`: the declaration and the object's namespace.
    owner: u32,
    /// Its place in the namespace's planning order: a target writes its objects in that
    /// order, one kind at a time.
    seq: u32,
    name: String,
}

impl Entry {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

/// No namespace: a cluster-scoped object (the Namespace).
const CLUSTER: u32 = u32::MAX;

/// The objects planned for the namespace at hand (and the objects it places in other
/// namespaces, such as a gateway's policies in the gateway's). Kept small: a large namespace
/// plans hundreds of thousands of objects, and each owner (a service, version or gateway,
/// which plans its objects one after the other) with the namespace of its objects is kept
/// once, as are the namespaces' names.
#[derive(Default)]
pub(crate) struct Registry<'m> {
    entries: Vec<Entry>,
    /// Each owner, with the index of its objects' namespace in `namespaces` (or [`CLUSTER`]).
    owners: Vec<(Owner<'m>, u32)>,
    namespaces: Vec<String>,
}

impl<'m> Registry<'m> {
    pub(crate) fn add(&mut self, kind: ObjectKind, namespace: Option<&str>, name: String, owner: Owner<'m>) {
        let namespace = match namespace {
            None => CLUSTER,
            Some(ns) => match self.namespaces.iter().position(|known| known == ns) {
                Some(i) => i as u32,
                None => {
                    self.namespaces.push(ns.to_string());
                    (self.namespaces.len() - 1) as u32
                }
            },
        };
        if self.owners.last() != Some(&(owner, namespace)) {
            self.owners.push((owner, namespace));
        }
        self.entries.push(Entry {
            kind,
            owner: (self.owners.len() - 1) as u32,
            seq: self.entries.len() as u32,
            name,
        });
    }

    /// Closes the namespace at hand: its objects in canonical order (kind, then name); two
    /// objects with one kind and name are reported, once per later owner.
    pub(crate) fn finish(&mut self, api: ApiVersion, diagnostics: &mut Vec<Diagnostic>) -> Closed {
        let mut entries = std::mem::take(&mut self.entries);
        let owners = std::mem::take(&mut self.owners);
        let owner = |entry: &Entry| owners[entry.owner as usize].0;
        // Indices are sorted first: by kind (a counting sort), then each kind by name with a
        // stable sort, which finds the runs a target's planning order leaves (one service
        // after the other) instead of comparing every pair. Among objects with one key, the
        // one planned first comes first.
        let mut starts = [0u32; ObjectKind::COUNT + 1];
        for entry in &entries {
            starts[entry.kind as usize + 1] += 1;
        }
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        let mut order = vec![0u32; entries.len()];
        let mut next = starts;
        for (i, entry) in entries.iter().enumerate() {
            let slot = &mut next[entry.kind as usize];
            order[*slot as usize] = i as u32;
            *slot += 1;
        }
        for k in 0..ObjectKind::COUNT {
            order[starts[k] as usize..starts[k + 1] as usize]
                .sort_by(|&i, &j| entries[i as usize].name.cmp(&entries[j as usize].name));
        }
        let mut first = 0;
        for i in 1..order.len() {
            let (earlier, entry) = (&entries[order[first] as usize], &entries[order[i] as usize]);
            if (earlier.kind, &earlier.name) != (entry.kind, &entry.name) {
                first = i;
                continue;
            }
            // One declaration generating one name twice is reported where it happens.
            let (Some(first_span), Some(span)) = (owner(earlier).span(), owner(entry).span()) else {
                continue;
            };
            if first_span == span {
                continue;
            }
            diagnostics.push(collision(
                entry.kind.name(),
                &entry.name,
                owner(entry),
                span,
                owner(earlier),
                first_span,
            ));
        }
        // Then the entries themselves, in place, each swapped straight to where it belongs:
        // the closed namespace keeps them as they are, with no second copy.
        let mut place = vec![0u32; order.len()];
        for (at, &i) in order.iter().enumerate() {
            place[i as usize] = at as u32;
        }
        drop(order);
        for i in 0..entries.len() {
            while place[i] as usize != i {
                let j = place[i] as usize;
                entries.swap(i, j);
                place.swap(i, j);
            }
        }
        Closed {
            namespaces: std::mem::take(&mut self.namespaces),
            owner_namespaces: owners.iter().map(|&(_, ns)| ns).collect(),
            api,
            starts,
            entries,
        }
    }
}

/// A namespace's planned objects in canonical order: what the writing passes write, one
/// kind at a time.
pub(crate) struct Closed {
    namespaces: Vec<String>,
    /// The namespace of each owner's objects (an index into `namespaces`, or [`CLUSTER`]).
    owner_namespaces: Vec<u32>,
    api: ApiVersion,
    /// Where each kind's entries start (the kind's index), and end (the next one's).
    starts: [u32; ObjectKind::COUNT + 1],
    entries: Vec<Entry>,
}

impl Closed {
    /// The kinds the namespace has objects of, in canonical order.
    pub(crate) fn kinds(&self) -> impl Iterator<Item = ObjectKind> + '_ {
        ObjectKind::ALL
            .iter()
            .copied()
            .filter(|&kind| self.starts[kind as usize] < self.starts[kind as usize + 1])
    }

    /// The objects of one kind, in canonical order (by name).
    pub(crate) fn of_kind(&self, kind: ObjectKind) -> &[Entry] {
        &self.entries[self.starts[kind as usize] as usize..self.starts[kind as usize + 1] as usize]
    }

    /// The objects of one kind in the order their target plans and writes them: for each,
    /// its place in [`Closed::of_kind`]. `None` when that is the canonical order already.
    pub(crate) fn arrival(&self, kind: ObjectKind) -> Option<Vec<u32>> {
        let entries = self.of_kind(kind);
        if entries.windows(2).all(|pair| pair[0].seq < pair[1].seq) {
            return None;
        }
        let mut places: Vec<u32> = (0..entries.len() as u32).collect();
        places.sort_unstable_by_key(|&place| entries[place as usize].seq);
        Some(places)
    }

    /// The document an entry stands for, its YAML given.
    pub(crate) fn document<'c>(&'c self, entry: &'c Entry, yaml: &'c mut String) -> Out<'c> {
        let namespace = self
            .owner_namespaces
            .get(entry.owner as usize)
            .copied()
            .unwrap_or(CLUSTER);
        Out {
            api_version: entry.kind.api_version(self.api),
            kind: entry.kind.name(),
            namespace: self.namespaces.get(namespace as usize).map(String::as_str),
            name: &entry.name,
            yaml,
        }
    }
}

/// One written document, as the writing passes hand it over.
pub(crate) struct Out<'w> {
    pub(crate) api_version: &'static str,
    pub(crate) kind: &'static str,
    /// `None` for cluster-scoped kinds (Namespace).
    pub(crate) namespace: Option<&'w str>,
    pub(crate) name: &'w str,
    /// The document's YAML, ending with a newline, without a `---` line. The receiver may
    /// take it; what it leaves is cleared before the next document.
    pub(crate) yaml: &'w mut String,
}

/// M2006: two declarations generate one object.
pub(crate) fn collision(
    kind: &str,
    name: &str,
    owner: Owner<'_>,
    span: Span,
    first_owner: Owner<'_>,
    first_span: Span,
) -> Diagnostic {
    Diagnostic::error(
        Code::NameCollision,
        span,
        format!("{owner} and {first_owner} both generate the {kind} `{name}`"),
    )
    .label(format!("generates {kind} `{name}`"))
    .note(first_span, format!("{first_owner} generates it too"))
    .help("include `{service}` (and `{version}`) in the naming templates, or rename one")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize) -> Span {
        Span::new(0, start, start + 1)
    }

    fn finish(registry: &mut Registry<'_>) -> Vec<Diagnostic> {
        let mut diagnostics = Vec::new();
        registry.finish(ApiVersion::default(), &mut diagnostics);
        diagnostics
    }

    #[test]
    fn one_kind_and_name_twice_is_a_collision_at_the_later_owner() {
        let mut registry = Registry::default();
        let (a, b) = (Owner::Service("a", span(1)), Owner::Gateway("gw", span(9)));
        registry.add(ObjectKind::VirtualService, Some("ns"), "x".into(), a);
        registry.add(ObjectKind::Service, Some("ns"), "x".into(), b);
        registry.add(ObjectKind::VirtualService, Some("ns"), "x".into(), b);
        let found = finish(&mut registry);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::NameCollision);
        assert_eq!(found[0].primary.span, span(9));
        assert_eq!(
            found[0].message,
            "gateway `gw` and service `a` both generate the VirtualService `x`"
        );
    }

    #[test]
    fn one_declaration_twice_and_kinds_of_one_name_are_not_collisions() {
        let mut registry = Registry::default();
        let owner = Owner::Version("v1", "web", span(3));
        registry.add(ObjectKind::WorkloadEntry, Some("ns"), "e".into(), owner);
        registry.add(ObjectKind::WorkloadEntry, Some("ns"), "e".into(), owner);
        registry.add(
            ObjectKind::IstioGateway,
            Some("ns"),
            "gw".into(),
            Owner::Gateway("gw", span(5)),
        );
        registry.add(
            ObjectKind::KubeGateway,
            Some("ns"),
            "gw".into(),
            Owner::Gateway("other", span(7)),
        );
        assert!(finish(&mut registry).is_empty());
    }
}
