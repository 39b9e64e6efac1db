//! How to compile: the options every stage reads.

/// The Istio API version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiVersion {
    /// `networking.istio.io/v1`, `security.istio.io/v1`: Istio 1.22 and later.
    #[default]
    V1,
    /// `networking.istio.io/v1beta1`, `security.istio.io/v1beta1`: Istio 1.5 to 1.21.
    V1beta1,
    /// `networking.istio.io/v1alpha3`, `security.istio.io/v1beta1`: the oldest meshes,
    /// such as Alibaba Cloud ASM of the seed article's era.
    V1alpha3,
}

impl ApiVersion {
    pub fn networking(self) -> &'static str {
        match self {
            ApiVersion::V1 => "networking.istio.io/v1",
            ApiVersion::V1beta1 => "networking.istio.io/v1beta1",
            ApiVersion::V1alpha3 => "networking.istio.io/v1alpha3",
        }
    }

    /// The security group has no v1alpha3: older targets use v1beta1.
    pub fn security(self) -> &'static str {
        match self {
            ApiVersion::V1 => "security.istio.io/v1",
            ApiVersion::V1beta1 | ApiVersion::V1alpha3 => "security.istio.io/v1beta1",
        }
    }
}

/// How to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub api: ApiVersion,
    /// The cluster's DNS domain, for service addresses (`cluster.local`).
    pub cluster_domain: String,
    /// The mesh's trust domain, the first part of every workload identity in
    /// AuthorizationPolicies (`cluster.local/ns/<namespace>/sa/<account>`).
    pub trust_domain: String,
    /// Also write a Sidecar per service that limits its proxy's outbound configuration to
    /// the services it `calls` (and the control plane's namespace).
    pub sidecars: bool,
    /// Which API the routes are written in: Istio VirtualServices (the default) or the
    /// Kubernetes Gateway API.
    pub routes: RouteApi,
    /// Also plan each VM's files ([`crate::Output::files`]). Off where only the manifests are
    /// wanted (a stream on stdout), which then costs nothing for them.
    pub vm_files: bool,
}

/// The API routes are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouteApi {
    /// Istio VirtualServices for mesh and ingress routes, and Istio Gateways for ingress.
    #[default]
    Istio,
    /// The Kubernetes Gateway API, standard channel (v1.4): an HTTPRoute (a GRPCRoute on
    /// gRPC ports) per routed service with the Service as its parent (GAMMA), a Gateway
    /// (`gatewayClassName: istio`) and HTTPRoutes per gateway, and a Service per version
    /// that a route sends to by weight. What the Gateway API cannot express (fault
    /// injection, retries, CORS, `from` conditions, direct responses, TCP and TLS routes,
    /// ...) is reported as M3024 at the route. DestinationRules, workloads and Services are
    /// written as in Istio mode; VirtualServices and Istio Gateways are not.
    GatewayApi,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            api: ApiVersion::V1,
            cluster_domain: "cluster.local".to_string(),
            trust_domain: "cluster.local".to_string(),
            sidecars: false,
            routes: RouteApi::Istio,
            vm_files: true,
        }
    }
}
