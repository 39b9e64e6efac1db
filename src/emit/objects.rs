//! Typed Kubernetes and Istio objects, with the fields meshc writes, in the order they are
//! written (`apiVersion`, `kind`, `metadata`, `spec`). Empty fields are left out.

use std::collections::BTreeMap;

use serde::Serialize;

pub(crate) type Map = BTreeMap<String, String>;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Object<S: Serialize> {
    pub(crate) api_version: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) metadata: Metadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) spec: Option<S>,
}

#[derive(Serialize, Default)]
pub(crate) struct Metadata {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) namespace: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) labels: Map,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
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
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) annotations: Map,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodSpec {
    pub(crate) service_account_name: String,
    pub(crate) containers: Vec<Container>,
}

#[derive(Serialize)]
pub(crate) struct Container {
    pub(crate) name: String,
    pub(crate) image: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) ports: Vec<ContainerPort>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) env: Vec<EnvVar>,
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
    pub(crate) service_account: String,
}

#[derive(Serialize)]
pub(crate) struct DestinationRuleSpec {
    pub(crate) host: String,
    pub(crate) subsets: Vec<Subset>,
}

#[derive(Serialize)]
pub(crate) struct Subset {
    pub(crate) name: String,
    pub(crate) labels: Map,
}

#[derive(Serialize)]
pub(crate) struct VirtualServiceSpec {
    pub(crate) hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) gateways: Vec<String>,
    pub(crate) http: Vec<HttpRoute>,
}

#[derive(Serialize)]
pub(crate) struct HttpRoute {
    #[serde(rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub(crate) matches: Vec<HttpMatch>,
    pub(crate) route: Vec<RouteDestination>,
}

#[derive(Serialize, Default)]
pub(crate) struct HttpMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uri: Option<StringMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
}

/// Exactly one field is set.
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
pub(crate) struct GatewaySpec {
    pub(crate) selector: Map,
    pub(crate) servers: Vec<GatewayServer>,
}

#[derive(Serialize)]
pub(crate) struct GatewayServer {
    pub(crate) port: GatewayPort,
    pub(crate) hosts: Vec<String>,
}

#[derive(Serialize)]
pub(crate) struct GatewayPort {
    pub(crate) number: u16,
    pub(crate) name: String,
    pub(crate) protocol: &'static str,
}
