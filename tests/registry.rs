//! Every object meshc writes is unique by API group, kind, namespace and name, in every
//! output mode: for every example (with its `.vars` file) and every ok fixture, compiled for
//! Istio, `--routes gateway-api` and `--sidecars` (each alone and together) and every
//! `--api`. The keys come from the emitted YAML, not from meshc's own registry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{parse_yaml, root, CaseKind};
use meshc::{ApiVersion, Options, RouteApi, Source};

/// Every output mode.
fn modes() -> Vec<(String, Options)> {
    let mut out = Vec::new();
    for api in [ApiVersion::V1, ApiVersion::V1beta1, ApiVersion::V1alpha3] {
        for routes in [RouteApi::Istio, RouteApi::GatewayApi] {
            for sidecars in [false, true] {
                let options = Options {
                    api,
                    routes,
                    sidecars,
                    ..Options::default()
                };
                out.push((format!("{api:?} {routes:?} sidecars={sidecars}"), options));
            }
        }
    }
    out
}

/// The examples, each with its vars file when there is one.
fn examples() -> Vec<(String, Vec<Source>)> {
    let paths = common::example_paths();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().expect("a file").to_string_lossy().to_string();
            let mut sources = vec![Source::new(name.clone(), common::read(&path))];
            let vars = path.with_extension("vars");
            if vars.exists() {
                sources.push(Source::vars(vars.display().to_string(), common::read(&vars)));
            }
            (format!("examples/{name}"), sources)
        })
        .collect()
}

/// `(group, kind, namespace, name)` of every document, and the first duplicate, if any.
fn duplicate(yaml: &str) -> Option<(String, String, String, String)> {
    let mut seen: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    for doc in parse_yaml(yaml) {
        let text = |path: &str| {
            let mut value = &doc;
            for part in path.split('.') {
                match value.get(part) {
                    Some(v) => value = v,
                    None => return String::new(),
                }
            }
            value.as_str().unwrap_or_default().to_string()
        };
        let api_version = text("apiVersion");
        assert!(!api_version.is_empty(), "a document without apiVersion:\n{yaml}");
        let group = match api_version.rsplit_once('/') {
            Some((group, _)) => group.to_string(),
            None => String::new(),
        };
        let key = (group, text("kind"), text("metadata.namespace"), text("metadata.name"));
        assert!(
            !key.1.is_empty() && !key.3.is_empty(),
            "a document without kind or name"
        );
        if !seen.insert(key.clone()) {
            return Some(key);
        }
    }
    None
}

#[test]
fn every_object_is_unique_in_every_mode() {
    let mut inputs = examples();
    assert!(!inputs.is_empty(), "no examples/*.mesh");
    for case in common::cases(CaseKind::Ok) {
        inputs.push((format!("tests/cases/ok/{}", case.name), case.sources.clone()));
    }
    let mut compiled = BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    for (name, sources) in &inputs {
        for (mode, options) in modes() {
            // A mode may refuse an input (M3024 for what the Gateway API cannot say);
            // what it does write must be unique.
            let Ok(output) = meshc::compile(sources, &options) else {
                continue;
            };
            *compiled.entry(mode.clone()).or_default() += 1;
            if let Some((group, kind, namespace, object)) = duplicate(&output.to_yaml()) {
                failures.push(format!(
                    "{name} ({mode}): two {kind} ({group}) `{object}` in `{namespace}`"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "duplicate objects:\n{}", failures.join("\n"));
    // Every mode compiled something: the test looked at each.
    for (mode, _) in modes() {
        let n = compiled.get(&mode).copied().unwrap_or(0);
        assert!(n >= 3, "only {n} inputs compiled in mode {mode}");
    }
}

/// What the registry says of each document (its apiVersion, kind, namespace and name, from
/// which `-o DIR` lays out the files) is what the document's YAML says, for every input in
/// every mode: a gateway's policies, for one, live in the gateway's namespace, not in the
/// namespace whose routes made them.
#[test]
fn every_document_is_filed_under_what_its_yaml_says() {
    let mut inputs = examples();
    for case in common::cases(CaseKind::Ok) {
        inputs.push((format!("tests/cases/ok/{}", case.name), case.sources.clone()));
    }
    let mut failures = Vec::new();
    for (name, sources) in &inputs {
        for (mode, options) in modes() {
            let Ok(output) = meshc::compile(sources, &options) else {
                continue;
            };
            for doc in &output.documents {
                let value = &parse_yaml(&doc.yaml)[0];
                let text = |v: Option<&serde_yaml::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
                let metadata = value.get("metadata");
                let said = (
                    text(value.get("apiVersion")),
                    text(value.get("kind")),
                    text(metadata.and_then(|m| m.get("namespace"))),
                    text(metadata.and_then(|m| m.get("name"))),
                );
                let filed = (
                    Some(doc.api_version.to_string()),
                    Some(doc.kind.to_string()),
                    doc.namespace.clone(),
                    Some(doc.name.clone()),
                );
                if said != filed {
                    failures.push(format!("{name} ({mode}): filed as {filed:?}, the YAML says {said:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_duplicate_finder_finds_duplicates() {
    let doc = "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: a\n  namespace: n\n";
    assert_eq!(duplicate(doc), None);
    let twice = format!("{doc}{doc}");
    assert_eq!(
        duplicate(&twice),
        Some((
            "networking.istio.io".into(),
            "VirtualService".into(),
            "n".into(),
            "a".into()
        ))
    );
    // The same name in another group is another object.
    let other = doc.replace("networking.istio.io/v1", "gateway.networking.k8s.io/v1");
    assert_eq!(duplicate(&format!("{doc}{other}")), None);
}

/// The collision that Istio mode once let through: a service's VirtualService and a
/// gateway's per-host VirtualService of the same name.
#[test]
fn a_virtual_service_name_taken_twice_is_an_error_in_every_mode() {
    let text = common::read(&root().join("tests/cases/err/m2006-virtualservice-collision/input.mesh"));
    let sources = [Source::new("input.mesh", text)];
    for (mode, options) in modes().into_iter().filter(|(_, o)| o.routes == RouteApi::Istio) {
        let failure = meshc::compile(&sources, &options).expect_err(&mode);
        assert!(
            failure.diagnostics.iter().any(|d| d.code == meshc::Code::NameCollision),
            "{mode}: no M2006"
        );
    }
}
