//! Strings that YAML readers misread when they are written plain (YAML 1.1 readers such as
//! sigs.k8s.io/yaml, PyYAML or older kustomize turn `on` into `true`, `2021-01-01` into a
//! date, `0777` into 511 …) go through the whole compiler and come out double-quoted, and
//! read back as the very same strings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use common::{at, compile_ok, mesh_string, parse_yaml, str_at};
use meshc::{Options, Output};
use serde_yaml::Value;

/// Values that must be written double-quoted: booleans, nulls, numbers, dates and times
/// under YAML 1.1 or 1.2, YAML indicators, templates, and whitespace or control characters
/// that a plain scalar would lose.
const MUST_QUOTE: &[&str] = &[
    // the brief's list
    "on",
    "yes",
    "no",
    "y",
    "n",
    "2021-01-01",
    "12:30",
    "0777",
    "1e3",
    "null",
    "~",
    "*",
    "{{ x }}",
    " leading space",
    "a\nnewline",
    "true",
    "0x1F",
    "a\ttab",
    // more of the same families
    "On",
    "ON",
    "off",
    "Off",
    "Yes",
    "NO",
    "Y",
    "N",
    "True",
    "FALSE",
    "false",
    "Null",
    "NULL",
    "2021-01-01T10:00:00Z",
    "12:30:45",
    "1:20",
    "0o17",
    "0b101",
    "1_000",
    "-1",
    "+1",
    "3.14",
    ".5",
    "1e-3",
    ".inf",
    "-.Inf",
    ".NaN",
    "",
    "trailing space ",
    "   ",
    "-",
    "- item",
    "?",
    "? key",
    ":",
    "key: value",
    "a #comment",
    "#comment",
    "&anchor",
    "*alias",
    "!tag",
    "!!str",
    "%directive",
    "@at",
    "`tick`",
    "|",
    ">",
    "[a, b]",
    "{a: 1}",
    "\"double\"",
    "'single'",
    "=",
    "<<",
    "---",
    "...",
    "carriage\rreturn",
    "bell\u{7}",
    "nel\u{85}line",
    "line\u{2028}separator",
    "\u{feff}bom",
    "${NOT_A_VARIABLE}",
];

/// Values that may be written either way but must survive.
const ROUND_TRIP: &[&str] = &[
    "plain",
    "/path/to/thing",
    "back\\slash",
    "é",
    "naïve – text",
    "a/b:c",
    "x=y",
];

fn all_values() -> impl Iterator<Item = &'static str> {
    MUST_QUOTE.iter().chain(ROUND_TRIP).copied()
}

fn must_quote(value: &str) -> bool {
    MUST_QUOTE.contains(&value)
}

fn compile(text: &str) -> Output {
    compile_ok(text, &Options::default())
}

/// The text after `key: ` on the first line, at or after line `from`, whose trimmed text
/// starts with `key: `; with the line's index.
fn line_value<'t>(lines: &[&'t str], from: usize, key: &str) -> (usize, &'t str) {
    let prefix = format!("{key}: ");
    lines
        .iter()
        .enumerate()
        .skip(from)
        .find_map(|(i, l)| {
            let t = l.trim_start().trim_start_matches("- ");
            t.strip_prefix(prefix.as_str()).map(|rest| (i, rest))
        })
        .unwrap_or_else(|| panic!("no `{prefix}` line after line {from}"))
}

/// A scalar as written must be double-quoted when the value is hostile.
fn assert_written_safely(written: &str, value: &str, context: &str) {
    if must_quote(value) {
        assert!(
            written.starts_with('"') && written.ends_with('"') && written.len() >= 2,
            "{context}: {value:?} must be double-quoted, is written as `{written}`"
        );
    }
}

/// Fields that are booleans in the Kubernetes schema, which meshc writes as plain `true` and
/// `false` on purpose.
const BOOLEAN_FIELDS: &[&str] = &[
    "automountServiceAccountToken",
    "allowPrivilegeEscalation",
    "privileged",
    "readOnlyRootFilesystem",
    "runAsNonRoot",
];

/// No line carries a hostile value as a plain scalar, whatever its key (but the boolean
/// fields).
fn assert_no_plain_hostile(yaml: &str) {
    for line in yaml.lines().filter(|l| *l != "---") {
        let body = line.trim_start().trim_start_matches("- ");
        let value = match body.split_once(": ") {
            Some((_, v)) => v,
            None => body,
        };
        let key = body.split_once(':').map(|(k, _)| k).unwrap_or("");
        if BOOLEAN_FIELDS.contains(&key) && matches!(value, "true" | "false") {
            continue;
        }
        for hostile in MUST_QUOTE.iter().filter(|h| !h.is_empty() && !h.contains(['\n', '\r'])) {
            assert_ne!(value, *hostile, "plain hostile value in line `{line}`");
            assert_ne!(key, *hostile, "plain hostile key in line `{line}`");
        }
    }
}

fn deployment<'a>(docs: &'a [Value], name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some("Deployment") && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no Deployment {name}"))
}

#[test]
fn env_values() {
    let mut mesh = String::from("namespace hostile {\n  service env {\n    port http 8080\n    pod v1 {\n      image \"registry.example.com/env:1\"\n");
    let values: Vec<&str> = all_values().collect();
    for (i, v) in values.iter().enumerate() {
        mesh.push_str(&format!("      env HOSTILE_{i:03} {}\n", mesh_string(v)));
    }
    mesh.push_str("    }\n  }\n}\n");
    let output = compile(&mesh);
    let yaml = output.to_yaml();
    assert_no_plain_hostile(&yaml);
    let docs = parse_yaml(&yaml);
    let env = at(deployment(&docs, "env-v1"), "spec.template.spec.containers.0.env")
        .as_sequence()
        .expect("env list");
    assert_eq!(env.len(), values.len());
    let lines: Vec<&str> = yaml.lines().collect();
    for (i, v) in values.iter().enumerate() {
        let name = format!("HOSTILE_{i:03}");
        let item = env
            .iter()
            .find(|e| e["name"].as_str() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("no env {name}"));
        assert_eq!(item["value"].as_str(), Some(*v), "env {name} read back");
        let name_line = lines
            .iter()
            .position(|l| l.trim_start().trim_start_matches("- ") == format!("name: {name}"))
            .unwrap_or_else(|| panic!("no line `- name: {name}`"));
        let (_, written) = line_value(&lines, name_line + 1, "value");
        assert_written_safely(written, v, &format!("env {name}"));
    }
}

#[test]
fn annotation_values_and_keys() {
    let keys = ["on", "off", "yes", "no", "y", "n", "true", "false", "null", "Y", "NO"];
    let values: Vec<&str> = all_values().collect();
    let mut mesh = String::from("namespace hostile {\n  service notes {\n    port http 8080\n    pod v1 {\n      image \"registry.example.com/notes:1\"\n");
    for (i, v) in values.iter().enumerate() {
        mesh.push_str(&format!(
            "      annotation example.com/hostile-{i:03} {}\n",
            mesh_string(v)
        ));
    }
    for k in keys {
        mesh.push_str(&format!("      annotation {k} \"value-of-{k}\"\n"));
    }
    mesh.push_str("    }\n    vm v2 at 10.0.0.2 annotation example.com/on \"on\" annotation yes \"no\"\n  }\n}\n");
    let output = compile(&mesh);
    let yaml = output.to_yaml();
    assert_no_plain_hostile(&yaml);
    let docs = parse_yaml(&yaml);
    let annotations = at(deployment(&docs, "notes-v1"), "spec.template.metadata.annotations");
    let lines: Vec<&str> = yaml.lines().collect();
    for (i, v) in values.iter().enumerate() {
        let key = format!("example.com/hostile-{i:03}");
        assert_eq!(
            annotations[key.as_str()].as_str(),
            Some(*v),
            "annotation {key} read back"
        );
        let (_, written) = line_value(&lines, 0, &key);
        assert_written_safely(written, v, &format!("annotation {key}"));
    }
    for k in keys {
        let mapping = annotations.as_mapping().expect("annotations");
        let found = mapping
            .iter()
            .find(|(key, _)| key.as_str() == Some(k))
            .unwrap_or_else(|| panic!("annotation key {k:?} did not read back as a string"));
        assert_eq!(found.1.as_str(), Some(format!("value-of-{k}").as_str()));
        assert!(
            yaml.contains(&format!("\"{k}\": value-of-{k}")),
            "key {k:?} must be double-quoted"
        );
    }
    let entry = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("WorkloadEntry"))
        .expect("a WorkloadEntry");
    assert_eq!(entry["metadata"]["annotations"]["example.com/on"].as_str(), Some("on"));
    let vm_annotations = at(entry, "metadata.annotations").as_mapping().expect("annotations");
    assert!(vm_annotations
        .iter()
        .any(|(k, v)| k.as_str() == Some("yes") && v.as_str() == Some("no")));
}

#[test]
fn images() {
    // An image that is only whitespace is refused (M3005), so those values are left out.
    let values: Vec<&str> = all_values().filter(|v| !v.trim().is_empty()).collect();
    let mut mesh = String::from("namespace hostile {\n  service img {\n    port http 8080\n");
    for (i, v) in values.iter().enumerate() {
        mesh.push_str(&format!("    pod v{i} image {}\n", mesh_string(v)));
    }
    mesh.push_str("  }\n}\n");
    let output = compile(&mesh);
    let yaml = output.to_yaml();
    assert_no_plain_hostile(&yaml);
    let docs = parse_yaml(&yaml);
    for (i, v) in values.iter().enumerate() {
        let name = format!("img-v{i}");
        let doc = output
            .documents
            .iter()
            .find(|d| d.kind == "Deployment" && d.name == name)
            .unwrap_or_else(|| panic!("no Deployment {name}"));
        let lines: Vec<&str> = doc.yaml.lines().collect();
        let (_, written) = line_value(&lines, 0, "image");
        assert_written_safely(written, v, &format!("image of {name}"));
        assert_eq!(
            str_at(deployment(&docs, &name), "spec.template.spec.containers.0.image"),
            *v
        );
    }
}

#[test]
fn exact_path_matches() {
    let values: Vec<&str> = all_values().collect();
    let mut mesh = String::from(
        "namespace hostile {\n  service paths {\n    port http 8080\n    pod v1 image \"registry.example.com/paths:1\"\n",
    );
    for v in &values {
        mesh.push_str(&format!("    route exact {} -> v1\n", mesh_string(v)));
    }
    mesh.push_str("  }\n}\n");
    let output = compile(&mesh);
    let yaml = output.to_yaml();
    assert_no_plain_hostile(&yaml);
    let docs = parse_yaml(&yaml);
    let vs = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("VirtualService"))
        .expect("a VirtualService");
    let http = at(vs, "spec.http").as_sequence().expect("http routes");
    assert_eq!(
        http.len(),
        values.len() + 1,
        "one route per value, then the default route"
    );
    let doc = output
        .documents
        .iter()
        .find(|d| d.kind == "VirtualService")
        .expect("VirtualService");
    let lines: Vec<&str> = doc.yaml.lines().collect();
    let mut from = 0;
    for (i, v) in values.iter().enumerate() {
        assert_eq!(str_at(&http[i], "match.0.uri.exact"), *v, "route {i}");
        let (line, written) = line_value(&lines, from, "exact");
        assert_written_safely(written, v, &format!("exact match of route {i}"));
        from = line + 1;
    }
}

#[test]
fn names_and_label_values() {
    // Kubernetes names and label values that YAML 1.1 reads as something else.
    let versions = [
        "no",
        "y",
        "n",
        "on",
        "off",
        "true",
        "null",
        "0777",
        "1e3",
        "0x1f",
        "2021-01-01",
        "123",
    ];
    let label_values = [
        "on",
        "yes",
        "no",
        "y",
        "n",
        "true",
        "false",
        "null",
        "0777",
        "1e3",
        "0x1F",
        "2021-01-01",
        "1_000",
        "3.14",
    ];
    let mut mesh = String::from("namespace on {\n  service yes {\n    port http 8080\n");
    for v in versions {
        mesh.push_str(&format!("    pod {v} image \"registry.example.com/yes:1\"\n"));
    }
    mesh.push_str("    vm vm1 {\n      at 10.0.0.1\n");
    for (i, v) in label_values.iter().enumerate() {
        mesh.push_str(&format!("      label example.com/l{i} \"{v}\"\n"));
    }
    mesh.push_str("      label y \"n\"\n    }\n    route {");
    for (i, v) in versions.iter().enumerate() {
        mesh.push_str(&format!(
            " {v} {}%",
            if i == 0 { 100 - (versions.len() - 1) } else { 1 }
        ));
    }
    mesh.push_str(" }\n  }\n}\n");
    let output = compile(&mesh);
    let yaml = output.to_yaml();
    assert_no_plain_hostile(&yaml);
    let docs = parse_yaml(&yaml);

    let namespace = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("Namespace"))
        .expect("Namespace");
    assert_eq!(str_at(namespace, "metadata.name"), "on");
    assert!(yaml.contains("name: \"on\"\n"), "the namespace name is quoted");
    let service = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("Service"))
        .expect("Service");
    assert_eq!(str_at(service, "metadata.name"), "yes");
    assert_eq!(str_at(service, "metadata.namespace"), "on");

    let rule = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("DestinationRule"))
        .expect("DestinationRule");
    let mut subsets: Vec<&str> = at(rule, "spec.subsets")
        .as_sequence()
        .expect("subsets")
        .iter()
        .map(|s| {
            let name = str_at(s, "name");
            assert_eq!(str_at(s, "labels.version"), name, "subset label value read back");
            name
        })
        .collect();
    subsets.sort();
    let mut expected: Vec<&str> = versions.iter().copied().chain(["vm1"]).collect();
    expected.sort();
    assert_eq!(subsets, expected);

    let vs = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("VirtualService"))
        .expect("VirtualService");
    let route: Vec<&str> = at(vs, "spec.http.0.route")
        .as_sequence()
        .expect("route")
        .iter()
        .map(|d| str_at(d, "destination.subset"))
        .collect();
    assert_eq!(route, versions);

    let entry = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("WorkloadEntry"))
        .expect("WorkloadEntry");
    for (i, v) in label_values.iter().enumerate() {
        assert_eq!(
            entry["spec"]["labels"][format!("example.com/l{i}").as_str()].as_str(),
            Some(*v)
        );
    }
    let labels = at(entry, "spec.labels").as_mapping().expect("labels");
    assert!(
        labels
            .iter()
            .any(|(k, v)| k.as_str() == Some("y") && v.as_str() == Some("n")),
        "label y: n read back as strings"
    );
}
