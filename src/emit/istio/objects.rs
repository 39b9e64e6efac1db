//! Typed Kubernetes and Istio objects, with the fields meshc writes, in the order they are
//! written (`apiVersion`, `kind`, `metadata`, `spec`). Empty fields are left out.

use std::collections::BTreeMap;

use serde::Serialize;

pub(crate) type Map = crate::model::Labels;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Object<S: Serialize> {
    pub(crate) api_version: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) metadata: Metadata,
    /// ServiceAccounts only: `false`, so pods get the API token only when they ask.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) automount_service_account_token: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) spec: Option<S>,
}

#[derive(Serialize, Default)]
pub(crate) struct Metadata {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) namespace: Option<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) labels: Map,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) annotations: Map,
}

/// Kinds without a spec (Namespace, ServiceAccount).
#[derive(Serialize)]
pub(crate) struct NoSpec {}

// ------------------------------------------------------------------ Kubernetes

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeploymentSpec {
    pub(crate) replicas: i32,
    pub(crate) selector: LabelSelector,
    pub(crate) template: PodTemplate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LabelSelector {
    pub(crate) match_labels: Map,
}

#[derive(Serialize)]
pub(crate) struct PodTemplate {
    pub(crate) metadata: TemplateMetadata,
    pub(crate) spec: PodSpec,
}

#[derive(Serialize)]
pub(crate) struct TemplateMetadata {
    pub(crate) labels: Map,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) annotations: Map,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodSpec {
    pub(crate) automount_service_account_token: bool,
    pub(crate) containers: Vec<Container>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) security_context: Option<PodSecurityContext>,
    pub(crate) service_account_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) volumes: Vec<Volume>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodSecurityContext {
    pub(crate) run_as_non_root: bool,
    pub(crate) seccomp_profile: SeccompProfile,
}

#[derive(Serialize)]
pub(crate) struct SeccompProfile {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Volume {
    pub(crate) name: &'static str,
    pub(crate) empty_dir: EmptyDir,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EmptyDir {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Container {
    pub(crate) name: String,
    pub(crate) image: String,
    pub(crate) image_pull_policy: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) ports: Vec<ContainerPort>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) env: Vec<EnvVar>,
    pub(crate) resources: Resources,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) startup_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) liveness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) security_context: Option<ContainerSecurityContext>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) volume_mounts: Vec<VolumeMount>,
}

#[derive(Serialize)]
pub(crate) struct Resources {
    pub(crate) limits: Map,
    pub(crate) requests: Map,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Probe {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exec: Option<ExecAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http_get: Option<HttpGetAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tcp_socket: Option<TcpSocketAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) initial_delay_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) period_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) timeout_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) failure_threshold: Option<u32>,
}

#[derive(Serialize)]
pub(crate) struct ExecAction {
    pub(crate) command: Vec<String>,
}

#[derive(Serialize)]
pub(crate) struct HttpGetAction {
    pub(crate) path: String,
    pub(crate) port: u16,
}

#[derive(Serialize)]
pub(crate) struct TcpSocketAction {
    pub(crate) port: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerSecurityContext {
    pub(crate) allow_privilege_escalation: bool,
    pub(crate) capabilities: Capabilities,
    pub(crate) privileged: bool,
    pub(crate) read_only_root_filesystem: bool,
    pub(crate) run_as_non_root: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) run_as_user: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) run_as_group: Option<i64>,
    pub(crate) seccomp_profile: SeccompProfile,
}

#[derive(Serialize)]
pub(crate) struct Capabilities {
    pub(crate) drop: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VolumeMount {
    pub(crate) name: &'static str,
    pub(crate) mount_path: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerPort {
    pub(crate) container_port: u16,
    pub(crate) protocol: &'static str,
}

#[derive(Serialize)]
pub(crate) struct EnvVar {
    pub(crate) name: String,
    pub(crate) value: String,
}

#[derive(Serialize)]
pub(crate) struct ServiceSpec {
    pub(crate) selector: Map,
    pub(crate) ports: Vec<ServicePort>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServicePort {
    pub(crate) name: String,
    pub(crate) port: u16,
    pub(crate) target_port: u16,
    pub(crate) protocol: &'static str,
}

// ------------------------------------------------------------------ Istio

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkloadEntrySpec {
    pub(crate) address: String,
    pub(crate) labels: Map,
    pub(crate) ports: BTreeMap<String, u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) network: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) locality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) weight: Option<u32>,
    pub(crate) service_account: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DestinationRuleSpec {
    pub(crate) host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) traffic_policy: Option<TrafficPolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) subsets: Vec<Subset>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Subset {
    pub(crate) name: String,
    pub(crate) labels: Map,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) traffic_policy: Option<TrafficPolicy>,
}

#[derive(Serialize)]
pub(crate) struct VirtualServiceSpec {
    pub(crate) hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) gateways: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) http: Vec<HttpRoute>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tls: Vec<TlsRoute>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tcp: Vec<TcpRoute>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HttpRoute {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub(crate) matches: Vec<HttpMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) route: Vec<RouteDestination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) redirect: Option<HttpRedirect>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) direct_response: Option<DirectResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rewrite: Option<Rewrite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retries: Option<Retries>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fault: Option<Fault>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mirror: Option<Destination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mirror_percentage: Option<Percent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cors_policy: Option<CorsPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) headers: Option<Headers>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HttpMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uri: Option<StringMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) method: Option<StringMatch>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) headers: BTreeMap<String, StringMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) source_labels: Map,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) query_params: BTreeMap<String, StringMatch>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) without_headers: BTreeMap<String, StringMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) source_namespace: Option<String>,
}

/// At most one field is set (none: "present", for `withoutHeaders`).
#[derive(Serialize, Default)]
pub(crate) struct StringMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) regex: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct RouteDestination {
    pub(crate) destination: Destination,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) weight: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) headers: Option<Headers>,
}

#[derive(Serialize)]
pub(crate) struct Destination {
    pub(crate) host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<PortSelector>,
}

#[derive(Serialize)]
pub(crate) struct PortSelector {
    pub(crate) number: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HttpRedirect {
    pub(crate) uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) authority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) redirect_code: Option<u16>,
}

#[derive(Serialize)]
pub(crate) struct DirectResponse {
    pub(crate) status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<Body>,
}

#[derive(Serialize)]
pub(crate) struct Body {
    pub(crate) string: String,
}

#[derive(Serialize)]
pub(crate) struct Rewrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) authority: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Retries {
    pub(crate) attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) per_try_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retry_on: Option<String>,
}

#[derive(Serialize, Default)]
pub(crate) struct Fault {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) delay: Option<Delay>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) abort: Option<Abort>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Delay {
    pub(crate) fixed_delay: String,
    pub(crate) percentage: Percent,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Abort {
    pub(crate) http_status: u16,
    pub(crate) percentage: Percent,
}

#[derive(Serialize)]
pub(crate) struct Percent {
    pub(crate) value: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CorsPolicy {
    pub(crate) allow_origins: Vec<StringMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) allow_methods: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) allow_headers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) expose_headers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_age: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) allow_credentials: Option<bool>,
}

#[derive(Serialize)]
pub(crate) struct Headers {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request: Option<HeaderOperations>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) response: Option<HeaderOperations>,
}

#[derive(Serialize)]
pub(crate) struct HeaderOperations {
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) set: Map,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) add: Map,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) remove: Vec<String>,
}

#[derive(Serialize)]
pub(crate) struct TcpRoute {
    #[serde(rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub(crate) matches: Vec<L4Match>,
    pub(crate) route: Vec<RouteDestination>,
}

#[derive(Serialize)]
pub(crate) struct TlsRoute {
    #[serde(rename = "match")]
    pub(crate) matches: Vec<L4Match>,
    pub(crate) route: Vec<RouteDestination>,
}

/// TCP and TLS match attributes (`sniHosts` for TLS only).
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct L4Match {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) sni_hosts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) source_labels: Map,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) source_namespace: Option<String>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TrafficPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) load_balancer: Option<LoadBalancer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) connection_pool: Option<ConnectionPool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) outlier_detection: Option<OutlierDetection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tls: Option<ClientTls>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LoadBalancer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) simple: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) consistent_hash: Option<ConsistentHash>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConsistentHash {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http_header_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http_cookie: Option<HttpCookie>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) use_source_ip: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http_query_parameter_name: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct HttpCookie {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ttl: Option<String>,
}

#[derive(Serialize, Default)]
pub(crate) struct ConnectionPool {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tcp: Option<TcpSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http: Option<HttpSettings>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TcpSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_connections: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) connect_timeout: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HttpSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http1_max_pending_requests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http2_max_requests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_requests_per_connection: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_retries: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) idle_timeout: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutlierDetection {
    #[serde(rename = "consecutive5xxErrors", skip_serializing_if = "Option::is_none")]
    pub(crate) consecutive_5xx_errors: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) consecutive_gateway_errors: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) base_ejection_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_ejection_percent: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) min_health_percent: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClientTls {
    pub(crate) mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) credential_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sni: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct ServiceEntrySpec {
    pub(crate) hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) addresses: Vec<String>,
    pub(crate) ports: Vec<ServiceEntryPort>,
    pub(crate) location: &'static str,
    pub(crate) resolution: &'static str,
}

#[derive(Serialize)]
pub(crate) struct ServiceEntryPort {
    pub(crate) number: u16,
    pub(crate) protocol: &'static str,
    pub(crate) name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SidecarSpec {
    pub(crate) workload_selector: WorkloadSelector,
    pub(crate) egress: Vec<EgressListener>,
}

#[derive(Serialize)]
pub(crate) struct WorkloadSelector {
    pub(crate) labels: Map,
}

#[derive(Serialize)]
pub(crate) struct EgressListener {
    pub(crate) hosts: Vec<String>,
}

#[derive(Serialize)]
pub(crate) struct GatewaySpec {
    pub(crate) selector: Map,
    pub(crate) servers: Vec<GatewayServer>,
}

#[derive(Serialize)]
pub(crate) struct GatewayServer {
    pub(crate) port: GatewayPort,
    pub(crate) hosts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tls: Option<ServerTls>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServerTls {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) https_redirect: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) credential_name: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct GatewayPort {
    pub(crate) number: u16,
    pub(crate) name: String,
    pub(crate) protocol: &'static str,
}
