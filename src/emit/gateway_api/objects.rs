//! The Gateway API objects meshc writes, typed: field order is output order.

use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HttpRouteSpec {
    pub(super) parent_refs: Vec<ParentRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) hostnames: Vec<String>,
    pub(super) rules: Vec<HttpRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GrpcRouteSpec {
    pub(super) parent_refs: Vec<ParentRef>,
    pub(super) rules: Vec<GrpcRule>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct ParentRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) group: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) kind: Option<&'static str>,
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) section_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) port: Option<u16>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct HttpRule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) matches: Vec<HttpMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) filters: Vec<Filter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) backend_refs: Vec<BackendRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) timeouts: Option<Timeouts>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct GrpcRule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) matches: Vec<GrpcMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) filters: Vec<Filter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) backend_refs: Vec<BackendRef>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct HttpMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) path: Option<PathMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) headers: Vec<ValueMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) query_params: Vec<ValueMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) method: Option<String>,
}

#[derive(Serialize, Default)]
pub(super) struct GrpcMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) method: Option<MethodMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) headers: Vec<ValueMatch>,
}

#[derive(Serialize)]
pub(super) struct PathMatch {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) value: String,
}

#[derive(Serialize)]
pub(super) struct ValueMatch {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) name: String,
    pub(super) value: String,
}

#[derive(Serialize)]
pub(super) struct MethodMatch {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) method: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Filter {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) request_header_modifier: Option<HeaderModifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) response_header_modifier: Option<HeaderModifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) request_mirror: Option<Mirror>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) request_redirect: Option<Redirect>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) url_rewrite: Option<Rewrite>,
}

impl Filter {
    pub(super) fn of(kind: &'static str) -> Filter {
        Filter {
            kind,
            request_header_modifier: None,
            response_header_modifier: None,
            request_mirror: None,
            request_redirect: None,
            url_rewrite: None,
        }
    }
}

#[derive(Serialize)]
pub(super) struct HeaderModifier {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) set: Vec<Header>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) add: Vec<Header>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) remove: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct Header {
    pub(super) name: String,
    pub(super) value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Mirror {
    pub(super) backend_ref: BackendRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) percent: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) fraction: Option<Fraction>,
}

#[derive(Serialize)]
pub(super) struct Fraction {
    pub(super) numerator: i32,
    pub(super) denominator: i32,
}

/// A backendRef, or (without a weight) a mirror's backend: a Service (the default group
/// and kind) with its port.
#[derive(Serialize)]
pub(super) struct BackendRef {
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) namespace: Option<String>,
    pub(super) port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) weight: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Redirect {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) path: Option<PathModifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) port: Option<u16>,
    pub(super) status_code: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PathModifier {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) replace_full_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) replace_prefix_match: Option<String>,
}

#[derive(Serialize)]
pub(super) struct Rewrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) path: Option<PathModifier>,
}

#[derive(Serialize)]
pub(super) struct Timeouts {
    pub(super) request: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GatewaySpec {
    pub(super) gateway_class_name: &'static str,
    pub(super) listeners: Vec<Listener>,
}

#[derive(Serialize)]
pub(super) struct Listener {
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) hostname: Option<String>,
    pub(super) port: u16,
    pub(super) protocol: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tls: Option<ListenerTls>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListenerTls {
    pub(super) mode: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) certificate_refs: Vec<SecretRef>,
}

#[derive(Serialize)]
pub(super) struct SecretRef {
    pub(super) kind: &'static str,
    pub(super) name: String,
}

#[derive(Serialize)]
pub(super) struct ReferenceGrantSpec {
    pub(super) from: Vec<GrantFrom>,
    pub(super) to: Vec<GrantTo>,
}

#[derive(Serialize)]
pub(super) struct GrantFrom {
    pub(super) group: &'static str,
    pub(super) kind: &'static str,
    pub(super) namespace: String,
}

#[derive(Serialize)]
pub(super) struct GrantTo {
    pub(super) group: &'static str,
    pub(super) kind: &'static str,
}

pub(super) const GROUP: &str = "gateway.networking.k8s.io";
/// The Istio default, for redirects that name no code (the Gateway API's is 302).
pub(super) const REDIRECT_CODE: u16 = 301;
