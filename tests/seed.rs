//! The facts that make the seed example (`examples/hybrid-hello.mesh`, the article's hybrid
//! pod + VM mesh) work, asserted on the parsed output rather than on its text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;

use common::{at, compile_ok, parse_yaml, read, root, str_at};
use meshc::{ApiVersion, Options};
use serde_yaml::Value;

const NS: &str = "hybrid-hello";
const HELLO1: &str = "hello1-svc.hybrid-hello.svc.cluster.local";
const HELLO2: &str = "hello2-svc.hybrid-hello.svc.cluster.local";
const HELLO3: &str = "hello3-svc.hybrid-hello.svc.cluster.local";

fn seed_text() -> String {
    read(&root().join("examples/hybrid-hello.mesh"))
}

fn seed(api: ApiVersion) -> Vec<Value> {
    let options = Options {
        api,
        ..Options::default()
    };
    parse_yaml(&compile_ok(&seed_text(), &options).to_yaml())
}

fn kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"].as_str() == Some(kind)).collect()
}

fn namespace_of(doc: &Value) -> &str {
    doc["metadata"]["namespace"].as_str().unwrap_or_default()
}

/// A mapping of strings as a sorted map (an absent value is an empty map).
fn string_map(value: &Value) -> BTreeMap<String, String> {
    let Some(mapping) = value.as_mapping() else {
        assert!(value.is_null(), "not a mapping: {value:?}");
        return BTreeMap::new();
    };
    mapping
        .iter()
        .map(|(k, v)| {
            let k = k.as_str().unwrap_or_else(|| panic!("non-string key {k:?}"));
            let v = v.as_str().unwrap_or_else(|| panic!("non-string value for {k}: {v:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn contains_all(labels: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> bool {
    wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The Service whose in-cluster address is `fqdn`.
fn service_by_fqdn<'a>(docs: &'a [Value], fqdn: &str) -> &'a Value {
    kind(docs, "Service")
        .into_iter()
        .find(|s| format!("{}.{}.svc.cluster.local", str_at(s, "metadata.name"), namespace_of(s)) == fqdn)
        .unwrap_or_else(|| panic!("no Service for {fqdn}"))
}

/// Every workload's labels in a namespace: Deployment pod templates and WorkloadEntries.
fn workloads(docs: &[Value], namespace: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    for d in kind(docs, "Deployment")
        .into_iter()
        .filter(|d| namespace_of(d) == namespace)
    {
        out.push((
            format!("Deployment {}", str_at(d, "metadata.name")),
            string_map(at(d, "spec.template.metadata.labels")),
        ));
    }
    for w in kind(docs, "WorkloadEntry")
        .into_iter()
        .filter(|d| namespace_of(d) == namespace)
    {
        // Istio reads WorkloadEntry labels from the spec (and merges metadata labels over them).
        let mut labels = string_map(at(w, "spec.labels"));
        labels.extend(string_map(&w["metadata"]["labels"]));
        out.push((format!("WorkloadEntry {}", str_at(w, "metadata.name")), labels));
    }
    out
}

/// `(subset, weight)` of each destination of an HTTP route, checking the host.
fn split(route: &Value, host: &str) -> Vec<(String, u64)> {
    at(route, "route")
        .as_sequence()
        .expect("route is a list")
        .iter()
        .map(|d| {
            assert_eq!(str_at(d, "destination.host"), host);
            (
                str_at(d, "destination.subset").to_string(),
                d["weight"].as_u64().unwrap_or_else(|| panic!("no weight in {d:?}")),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, u64)]) -> Vec<(String, u64)> {
    items.iter().map(|(s, w)| (s.to_string(), *w)).collect()
}

#[test]
fn the_seed_fixtures_are_copies_of_the_example() {
    // `ok/seed` and its variants (`ok/seed-v1beta1`, …) compile the example with other options.
    let dir = root().join("tests/cases/ok");
    let mut copies = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/cases/ok") {
        let path = entry.expect("readable").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name == "seed" || name.starts_with("seed-") {
            let fixture = read(&path.join("input.mesh"));
            assert_eq!(
                fixture,
                seed_text(),
                "tests/cases/ok/{name}/input.mesh must be a copy of examples/hybrid-hello.mesh"
            );
            copies += 1;
        }
    }
    assert!(copies >= 3, "the seed and its API-version variants");
}

#[test]
fn hello2_splits_hello_and_bye_then_falls_through() {
    let docs = seed(ApiVersion::V1);
    let vs = kind(&docs, "VirtualService")
        .into_iter()
        .find(|v| {
            at(v, "spec.hosts")
                .as_sequence()
                .is_some_and(|h| h.iter().any(|h| h.as_str() == Some(HELLO2)))
        })
        .expect("a VirtualService for hello2");
    assert_eq!(namespace_of(vs), NS);
    assert!(
        vs["spec"].get("gateways").is_none(),
        "hello2's routes are for mesh traffic only"
    );
    let http = at(vs, "spec.http").as_sequence().expect("http routes");
    assert_eq!(http.len(), 3, "/hello, /bye and the catch-all, in that order: {http:?}");

    assert_eq!(str_at(&http[0], "match.0.uri.prefix"), "/hello");
    assert_eq!(at(&http[0], "match").as_sequence().map(Vec::len), Some(1));
    assert_eq!(split(&http[0], HELLO2), pairs(&[("v1", 30), ("v2", 60), ("v3", 10)]));

    assert_eq!(str_at(&http[1], "match.0.uri.exact"), "/bye");
    assert_eq!(split(&http[1], HELLO2), pairs(&[("v1", 90), ("v2", 5), ("v3", 5)]));

    let last = &http[2];
    assert!(
        last.get("match").is_none(),
        "the last route matches everything: {last:?}"
    );
    let destinations = at(last, "route").as_sequence().expect("a route");
    assert_eq!(destinations.len(), 1);
    assert_eq!(str_at(&destinations[0], "destination.host"), HELLO2);
    assert!(
        destinations[0].get("weight").is_none(),
        "a lone destination has no weight"
    );
}

#[test]
fn only_hello2_has_mesh_routes() {
    let docs = seed(ApiVersion::V1);
    let mesh_hosts: Vec<String> = kind(&docs, "VirtualService")
        .into_iter()
        .filter(|v| v["spec"].get("gateways").is_none())
        .flat_map(|v| at(v, "spec.hosts").as_sequence().cloned().unwrap_or_default())
        .map(|h| h.as_str().unwrap_or("(not a string)").to_string())
        .collect();
    assert_eq!(
        mesh_hosts,
        vec![HELLO2],
        "hello1 and hello3 have no routes, so no VirtualService"
    );
}

#[test]
fn workload_entries_join_their_service() {
    let docs = seed(ApiVersion::V1);
    let entries = kind(&docs, "WorkloadEntry");
    assert_eq!(entries.len(), 2, "v2 and v3 of hello2 run on one VM each");
    let mut addresses = Vec::new();
    for entry in entries {
        let name = str_at(entry, "metadata.name");
        let address = str_at(entry, "spec.address");
        assert!(
            address.parse::<IpAddr>().is_ok(),
            "{name}: `{address}` is not an IP address"
        );
        addresses.push(address.to_string());
        let labels = string_map(at(entry, "spec.labels"));
        let namespace = namespace_of(entry);
        let owners: Vec<&Value> = kind(&docs, "Service")
            .into_iter()
            .filter(|s| namespace_of(s) == namespace && contains_all(&labels, &string_map(at(s, "spec.selector"))))
            .collect();
        assert_eq!(
            owners.len(),
            1,
            "{name} must be selected by exactly one Service of its namespace"
        );
        let service = owners[0];
        assert_eq!(
            str_at(service, "metadata.name"),
            "hello2-svc",
            "{name} belongs to hello2"
        );
        assert_eq!(namespace, NS);
        // Each Service port is reachable on the VM: port names map to the target ports.
        let wanted: BTreeMap<String, u64> = at(service, "spec.ports")
            .as_sequence()
            .expect("ports")
            .iter()
            .map(|p| {
                (
                    str_at(p, "name").to_string(),
                    p["targetPort"].as_u64().expect("numeric targetPort"),
                )
            })
            .collect();
        let ports: BTreeMap<String, u64> = at(entry, "spec.ports")
            .as_mapping()
            .expect("WorkloadEntry ports")
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().expect("port name").to_string(),
                    v.as_u64().expect("port number"),
                )
            })
            .collect();
        assert_eq!(ports, wanted, "{name}: ports by Service port name");
        assert_eq!(str_at(entry, "spec.serviceAccount"), "hello2");
    }
    addresses.sort();
    assert_eq!(addresses, ["192.168.0.171", "192.168.0.172"]);
}

#[test]
fn every_subset_selects_a_workload() {
    let docs = seed(ApiVersion::V1);
    let rules = kind(&docs, "DestinationRule");
    assert_eq!(rules.len(), 3, "one DestinationRule per service");
    for rule in rules {
        let host = str_at(rule, "spec.host");
        let service = service_by_fqdn(&docs, host);
        assert_eq!(namespace_of(service), namespace_of(rule));
        let selector = string_map(at(service, "spec.selector"));
        assert!(!selector.is_empty(), "the Service for {host} selects nothing");
        let subsets = at(rule, "spec.subsets").as_sequence().expect("subsets");
        assert!(!subsets.is_empty(), "{host} has no subset");
        for subset in subsets {
            let mut wanted = selector.clone();
            wanted.extend(string_map(at(subset, "labels")));
            let selected: Vec<String> = workloads(&docs, namespace_of(rule))
                .into_iter()
                .filter(|(_, labels)| contains_all(labels, &wanted))
                .map(|(name, _)| name)
                .collect();
            assert!(
                !selected.is_empty(),
                "subset {} of {host} selects no workload",
                str_at(subset, "name")
            );
        }
    }
}

#[test]
fn hello2_subsets_are_one_pod_and_two_vms() {
    let docs = seed(ApiVersion::V1);
    let rule = kind(&docs, "DestinationRule")
        .into_iter()
        .find(|r| str_at(r, "spec.host") == HELLO2)
        .expect("hello2's DestinationRule");
    let selector = string_map(at(service_by_fqdn(&docs, HELLO2), "spec.selector"));
    let mut found = BTreeMap::new();
    for subset in at(rule, "spec.subsets").as_sequence().expect("subsets") {
        let mut wanted = selector.clone();
        wanted.extend(string_map(at(subset, "labels")));
        let selected: Vec<String> = workloads(&docs, NS)
            .into_iter()
            .filter(|(_, labels)| contains_all(labels, &wanted))
            .map(|(name, _)| name.split(' ').next().unwrap_or_default().to_string())
            .collect();
        found.insert(str_at(subset, "name").to_string(), selected);
    }
    let expected: BTreeMap<String, Vec<String>> = [
        ("v1", vec!["Deployment"]),
        ("v2", vec!["WorkloadEntry"]),
        ("v3", vec!["WorkloadEntry"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
    .collect();
    assert_eq!(found, expected);
}

#[test]
fn deployments_select_their_own_pods_and_call_the_next_hop() {
    let docs = seed(ApiVersion::V1);
    let deployments = kind(&docs, "Deployment");
    assert_eq!(deployments.len(), 3, "v1 of each service runs on a pod");
    let mut backends = BTreeMap::new();
    for d in deployments {
        let match_labels = string_map(at(d, "spec.selector.matchLabels"));
        let template = string_map(at(d, "spec.template.metadata.labels"));
        assert!(
            contains_all(&template, &match_labels),
            "a Deployment must select its own pods"
        );
        let container = at(d, "spec.template.spec.containers.0");
        assert_eq!(
            str_at(container, "image"),
            "registry.cn-beijing.aliyuncs.com/asm_repo/http_springboot_v1:1.0.1"
        );
        let env = container["env"].as_sequence().cloned().unwrap_or_default();
        let backend = env
            .iter()
            .find(|e| e["name"].as_str() == Some("HTTP_HELLO_BACKEND"))
            .map(|e| str_at(e, "value").to_string());
        backends.insert(str_at(container, "name").to_string(), backend);
    }
    let expected: BTreeMap<String, Option<String>> = [
        ("hello1", Some(HELLO2.to_string())),
        ("hello2", Some(HELLO3.to_string())),
        ("hello3", None),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(
        backends, expected,
        "`calls X via env HTTP_HELLO_BACKEND` gives X's address"
    );
}

#[test]
fn the_gateway_binds_port_8003_to_hello1() {
    let docs = seed(ApiVersion::V1);
    let gateways = kind(&docs, "Gateway");
    assert_eq!(gateways.len(), 1);
    let gateway = gateways[0];
    let gateway_name = str_at(gateway, "metadata.name");
    assert_eq!(gateway_name, "hybrid-gateway");
    assert_eq!(namespace_of(gateway), NS);
    let selector = string_map(at(gateway, "spec.selector"));
    assert_eq!(
        selector,
        BTreeMap::from([("istio".to_string(), "ingressgateway".to_string())])
    );
    let servers = at(gateway, "spec.servers").as_sequence().expect("servers");
    assert_eq!(servers.len(), 1);
    assert_eq!(at(&servers[0], "port.number").as_u64(), Some(8003));
    assert_eq!(str_at(&servers[0], "port.protocol"), "HTTP");
    assert_eq!(at(&servers[0], "hosts").as_sequence().map(|h| h.len()), Some(1));
    assert_eq!(str_at(&servers[0], "hosts.0"), "*");

    let bound: Vec<&Value> = kind(&docs, "VirtualService")
        .into_iter()
        .filter(|v| {
            v["spec"]["gateways"]
                .as_sequence()
                .is_some_and(|g| g.iter().any(|g| g.as_str() == Some(gateway_name)))
        })
        .collect();
    assert_eq!(bound.len(), 1, "one VirtualService is bound to the gateway");
    let vs = bound[0];
    assert_eq!(namespace_of(vs), NS);
    assert_eq!(str_at(vs, "spec.hosts.0"), "*");
    let http = at(vs, "spec.http").as_sequence().expect("http routes");
    assert!(!http.is_empty());
    for route in http {
        for d in at(route, "route").as_sequence().expect("destinations") {
            assert_eq!(str_at(d, "destination.host"), HELLO1);
            assert_eq!(at(d, "destination.port.number").as_u64(), Some(8003));
        }
    }

    // hello1's Service listens on 8003 and forwards to the pod's 8001.
    let hello1 = service_by_fqdn(&docs, HELLO1);
    let ports = at(hello1, "spec.ports").as_sequence().expect("ports");
    assert_eq!(ports.len(), 1);
    assert_eq!(at(&ports[0], "port").as_u64(), Some(8003));
    assert_eq!(at(&ports[0], "targetPort").as_u64(), Some(8001));
    assert!(
        str_at(&ports[0], "name").starts_with("http"),
        "Istio picks the protocol from the port name"
    );
}

#[test]
fn the_namespace_gets_sidecars() {
    let docs = seed(ApiVersion::V1);
    let namespaces = kind(&docs, "Namespace");
    assert_eq!(namespaces.len(), 1);
    assert_eq!(str_at(namespaces[0], "metadata.name"), NS);
    assert_eq!(str_at(namespaces[0], "metadata.labels.istio-injection"), "enabled");
    assert!(
        namespaces[0]["metadata"].get("namespace").is_none(),
        "Namespace is cluster-scoped"
    );
    for doc in &docs {
        if doc["kind"].as_str() != Some("Namespace") {
            assert_eq!(namespace_of(doc), NS, "{doc:?}");
        }
    }
}

#[test]
fn the_api_version_changes_istio_kinds_only() {
    let expected = [
        (ApiVersion::V1, "networking.istio.io/v1"),
        (ApiVersion::V1beta1, "networking.istio.io/v1beta1"),
        (ApiVersion::V1alpha3, "networking.istio.io/v1alpha3"),
    ];
    let baseline = seed(ApiVersion::V1);
    let istio_kinds = [
        "WorkloadEntry",
        "WorkloadGroup",
        "DestinationRule",
        "Gateway",
        "VirtualService",
    ];
    for (api, networking) in expected {
        let docs = seed(api);
        assert_eq!(docs.len(), baseline.len());
        let mut seen_istio = 0;
        for (doc, base) in docs.iter().zip(&baseline) {
            let kind = str_at(doc, "kind");
            assert_eq!(kind, str_at(base, "kind"));
            let version = str_at(doc, "apiVersion");
            if istio_kinds.contains(&kind) {
                seen_istio += 1;
                assert_eq!(version, networking, "{kind} with {api:?}");
            } else if matches!(kind, "PeerAuthentication" | "AuthorizationPolicy") {
                // The security group has no v1alpha3.
                assert_eq!(version, api.security(), "{kind} with {api:?}");
            } else {
                let fixed = match kind {
                    "Deployment" => "apps/v1",
                    _ => "v1",
                };
                assert_eq!(version, fixed, "{kind} does not depend on the Istio API version");
            }
            // Nothing else changes.
            let mut a = doc.clone();
            let mut b = base.clone();
            a["apiVersion"] = Value::Null;
            b["apiVersion"] = Value::Null;
            assert_eq!(a, b, "{kind} differs beyond its apiVersion with {api:?}");
        }
        assert_eq!(
            seen_istio,
            2 + 2 + 3 + 1 + 2,
            "2 WorkloadEntries, 2 WorkloadGroups, 3 DestinationRules, 1 Gateway, 2 VirtualServices"
        );
    }
}
