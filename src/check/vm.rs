//! What VMs need beyond their addresses: the namespace's `cluster` block (the cluster's
//! network, the east-west gateway, the istiod revision) and a VM version's network,
//! locality and weight.

use std::net::IpAddr;

use super::{rules, suggest, Checker};
use crate::ast;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model;
use crate::source::Span;

pub(crate) const CLUSTER_SETTINGS: &[&str] = &["network", "eastwest", "revision"];

impl Checker<'_> {
    /// The `cluster` settings of a namespace, from all its blocks; wrong ones are reported
    /// and left unset.
    pub(super) fn cluster(&mut self, blocks: &[&ast::Namespace]) -> model::Cluster {
        let mut cluster = model::Cluster::default();
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for (key, value) in blocks.iter().flat_map(|b| &b.clusters).flat_map(|c| &c.settings) {
            let word = key.text.as_str();
            if !CLUSTER_SETTINGS.contains(&word) {
                let mut d = Diagnostic::error(
                    Code::UnknownKeyword,
                    key.span,
                    format!("unknown cluster setting `{word}`"),
                )
                .label("unknown setting");
                if let Some(suggestion) = suggest::did_you_mean(word, CLUSTER_SETTINGS, "cluster settings") {
                    d = suggestion.on(d, key.span);
                }
                self.error(d);
                continue;
            }
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == word) {
                self.duplicate("cluster setting", word, key.span, *first);
                continue;
            }
            seen.push((word, key.span));
            if !value.vars.is_empty() {
                continue;
            }
            let text = value.value.clone();
            match word {
                "network" => {
                    if self.network_value(value) {
                        cluster.network = Some(text);
                    }
                }
                "eastwest" => match text.parse::<IpAddr>() {
                    Ok(ip) => cluster.eastwest = Some(ip.to_string()),
                    Err(_) => self.error(
                        Diagnostic::error(
                            Code::InvalidAddress,
                            value.span,
                            format!("`{text}` is not an IP address"),
                        )
                        .label("not an IP address")
                        .help("give the east-west gateway's external IP address, as `kubectl -n istio-system get svc istio-eastwestgateway` shows it"),
                    ),
                },
                _ => match rules::dns_label(&text) {
                    Ok(()) => cluster.revision = Some(text),
                    Err(why) => self.error(
                        Diagnostic::error(
                            Code::InvalidValue,
                            value.span,
                            format!("`{text}` is not a valid istiod revision: {why}"),
                        )
                        .label("invalid revision")
                        .help("a revision is a DNS label, such as `canary` or `1-24`"),
                    ),
                },
            }
        }
        cluster
    }

    /// A network name, a label value in Istio (`topology.istio.io/network`).
    pub(super) fn network_value(&mut self, value: &ast::Str) -> bool {
        match rules::label_value(&value.value) {
            Ok(()) if !value.value.is_empty() => true,
            result => {
                let why = result.err().unwrap_or_else(|| "it is empty".to_string());
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        value.span,
                        format!("`{}` is not a valid network name: {why}", value.value),
                    )
                    .label("invalid network name")
                    .help("Istio reads the network as a label value: up to 63 letters, digits, `-`, `_` or `.`, such as `vm-net`"),
                );
                false
            }
        }
    }

    /// `locality "region/zone/subzone"`: one to three non-empty parts.
    pub(super) fn locality_value(&mut self, value: &ast::Str) -> bool {
        let text = value.value.as_str();
        let parts: Vec<&str> = text.split('/').collect();
        let bad = parts.len() > 3
            || parts
                .iter()
                .any(|p| p.is_empty() || p.chars().any(|c| c.is_whitespace() || c.is_control()));
        if bad {
            self.error(
                Diagnostic::error(Code::InvalidValue, value.span, format!("`{text}` is not a locality"))
                    .label("not `region/zone/subzone`")
                    .help("write one to three non-empty parts separated by `/`, such as `us-east1/us-east1-b`"),
            );
        }
        !bad
    }

    /// `weight N`: Istio's load-balancing weight, a whole number from 1 to 4294967295
    /// (0 means unset).
    pub(super) fn weight_value(&mut self, n: &ast::Number) -> Option<u32> {
        if n.too_large() {
            return None;
        }
        match n.whole() {
            Some(w) if !n.percent && w >= 1 => u32::try_from(w).ok().or_else(|| {
                self.weight_error(n);
                None
            }),
            _ => {
                self.weight_error(n);
                None
            }
        }
    }

    fn weight_error(&mut self, n: &ast::Number) {
        self.error(
            Diagnostic::error(
                Code::InvalidValue,
                n.span,
                "a VM's weight must be a whole number from 1 to 4294967295",
            )
            .label("not a weight")
            .help("the weight is relative to the service's other endpoints, such as `weight 10`; leave it out for Istio's default"),
        );
    }

    /// A VM on another network than the cluster's reaches the mesh only through an
    /// east-west gateway (M3040).
    pub(super) fn eastwest(&mut self, cluster: &model::Cluster, network: &ast::Str, version: &ast::Version) {
        if cluster.network.as_deref() == Some(network.value.as_str()) || cluster.eastwest.is_some() {
            return;
        }
        let cluster_network = match &cluster.network {
            Some(n) => format!("the cluster's network `{n}`"),
            None => "the cluster, which declares no network".to_string(),
        };
        self.error(
            Diagnostic::error(
                Code::EastWestRequired,
                network.span,
                format!(
                    "VM version `{}` is on network `{}`, not on {cluster_network}, and no east-west gateway is declared",
                    version.name.text, network.value
                ),
            )
            .label("another network")
            .help("declare the gateway that joins the networks in the namespace: `cluster { network kube-net  eastwest 203.0.113.10 }`"),
        );
    }
}
