//! The `security.istio.io` objects, typed: fields in the order Istio documents them, and
//! empty lists left out.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::istio::objects::Map;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Selector {
    pub(crate) match_labels: Map,
}

#[derive(Serialize)]
pub(crate) struct Mtls {
    pub(crate) mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PeerAuthenticationSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) selector: Option<Selector>,
    pub(crate) mtls: Mtls,
    /// By target port, written as a string key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) port_level_mtls: BTreeMap<String, Mtls>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestAuthenticationSpec {
    pub(crate) selector: Selector,
    pub(crate) jwt_rules: Vec<JwtRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JwtRule {
    pub(crate) issuer: String,
    pub(crate) jwks_uri: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) audiences: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) from_headers: Vec<JwtHeader>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) from_params: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) forward_original_token: bool,
}

#[derive(Serialize)]
pub(crate) struct JwtHeader {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) prefix: Option<String>,
}

/// An empty spec is the ALLOW policy with no rule: it allows nothing.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthorizationPolicySpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) selector: Option<Selector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) action: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) rules: Vec<Rule>,
}

/// A rule matches when one of `from`, one of `to` and every `when` match; an empty rule
/// matches every request.
#[derive(Serialize, Default)]
pub(crate) struct Rule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) from: Vec<From>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) to: Vec<To>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) when: Vec<Condition>,
}

#[derive(Serialize)]
pub(crate) struct From {
    pub(crate) source: Source,
}

/// Fields that are set must all match.
#[derive(Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Source {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) principals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) request_principals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) not_request_principals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) ip_blocks: Vec<String>,
}

#[derive(Serialize)]
pub(crate) struct To {
    pub(crate) operation: Operation,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Operation {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) methods: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) paths: Vec<String>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Condition {
    pub(crate) key: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) values: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) not_values: Vec<String>,
}
