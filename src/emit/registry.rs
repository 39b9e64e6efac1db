//! The one registry every planned object passes through, whichever target planned it: it
//! keeps each namespace's documents in canonical order and reports two objects of one kind,
//! namespace and name (M2006), pointing at both declarations.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::options::ApiVersion;
use crate::output::Document;
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

/// One planned object: its key, who generated it and where, and (when writing) its YAML.
struct Entry {
    kind: ObjectKind,
    /// Index into the registry's `owners`: the declaration and the object's namespace.
    owner: u32,
    name: String,
    yaml: Option<String>,
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
    pub(crate) fn add(
        &mut self,
        kind: ObjectKind,
        namespace: Option<&str>,
        name: String,
        owner: Owner<'m>,
        yaml: Option<String>,
    ) {
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
            name,
            yaml,
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
            entries,
        }
    }
}

/// A namespace's objects in canonical order, with their YAML when they were written.
pub(crate) struct Closed {
    namespaces: Vec<String>,
    /// The namespace of each owner's objects (an index into `namespaces`, or [`CLUSTER`]).
    owner_namespaces: Vec<u32>,
    api: ApiVersion,
    entries: Vec<Entry>,
}

impl Closed {
    /// The written documents, in order.
    pub(crate) fn into_documents(self) -> impl Iterator<Item = Document> {
        let Closed {
            namespaces,
            owner_namespaces,
            api,
            entries,
        } = self;
        entries.into_iter().filter_map(move |entry| {
            let yaml = entry.yaml?;
            let namespace = owner_namespaces.get(entry.owner as usize).copied().unwrap_or(CLUSTER);
            Some(Document {
                api_version: entry.kind.api_version(api),
                kind: entry.kind.name(),
                namespace: namespaces.get(namespace as usize).cloned(),
                name: entry.name,
                yaml,
            })
        })
    }

    /// The written documents' YAML, in order.
    pub(crate) fn yaml(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|entry| entry.yaml.as_deref())
    }
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
        registry.add(ObjectKind::VirtualService, Some("ns"), "x".into(), a, None);
        registry.add(ObjectKind::Service, Some("ns"), "x".into(), b, None);
        registry.add(ObjectKind::VirtualService, Some("ns"), "x".into(), b, None);
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
        registry.add(ObjectKind::WorkloadEntry, Some("ns"), "e".into(), owner, None);
        registry.add(ObjectKind::WorkloadEntry, Some("ns"), "e".into(), owner, None);
        registry.add(
            ObjectKind::IstioGateway,
            Some("ns"),
            "gw".into(),
            Owner::Gateway("gw", span(5)),
            None,
        );
        registry.add(
            ObjectKind::KubeGateway,
            Some("ns"),
            "gw".into(),
            Owner::Gateway("other", span(7)),
            None,
        );
        assert!(finish(&mut registry).is_empty());
    }
}
