//! Property tests over random valid meshes: they always compile, the output is deterministic
//! and reads back as YAML, every subset selects a workload, and `fmt` is idempotent and
//! never changes meaning (also when the input's white space and comments are scrambled).
//!
//! With `MESHC_SAMPLE_DIR` set, a sample of the generated meshes' output is written there,
//! for CI to run `validate-manifests` on it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use meshc::{compile, syntax, Options, Source};
use proptest::prelude::*;
use serde_yaml::Value;

/// Choices drawn from a list of random numbers, so proptest can generate and shrink meshes.
struct Draw<'a> {
    numbers: &'a [u32],
    next: usize,
}

impl Draw<'_> {
    fn below(&mut self, n: u32) -> u32 {
        let value = self
            .numbers
            .get(self.next % self.numbers.len().max(1))
            .copied()
            .unwrap_or(0);
        self.next += 1;
        value % n.max(1)
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }
}

/// A valid `.mesh` text built from the numbers.
fn mesh(numbers: &[u32]) -> String {
    let mut d = Draw { numbers, next: 0 };
    let mut out = String::new();
    let namespaces = 1 + d.below(2);
    for ns in 0..namespaces {
        let _ = writeln!(out, "# namespace {ns}\nnamespace ns{ns} {{");
        if d.chance(30) {
            out.push_str("  naming { service \"{service}-svc\" workload \"{service}-app\" deployment \"{service}-{version}-deploy\" }\n");
        }
        let services = 1 + d.below(4);
        let mut first_http = 0;
        for s in 0..services {
            let _ = writeln!(out, "  service s{s} {{");
            let http = 8000 + d.below(100) as u16;
            if s == 0 {
                first_http = http;
            }
            let _ = writeln!(
                out,
                "    port http {http}{}",
                if d.chance(30) { " -> 9090" } else { "" }
            );
            let second = d.below(3);
            if second == 1 {
                let _ = writeln!(out, "    port grpc {}", 7000 + d.below(100));
            } else if second == 2 {
                let _ = writeln!(out, "    port tcp {}", 6000 + d.below(100));
            }
            if s + 1 < services && d.chance(60) {
                let _ = writeln!(out, "    calls s{} via env CALL_{}", s + 1, s + 1);
            }
            let versions = 1 + d.below(3);
            for v in 0..versions {
                if d.chance(50) {
                    let _ = write!(out, "    pod v{v} image \"registry.example.com/s{s}:{}\"", d.below(9));
                    if d.chance(30) {
                        let _ = write!(out, " replicas {}", d.below(4));
                    }
                    if d.chance(30) {
                        let _ = write!(
                            out,
                            " env MODE \"{}\"",
                            ["on", "yes", "2021-01-01", "12:30", "fast"][d.below(5) as usize]
                        );
                    }
                    out.push('\n');
                } else {
                    let _ = write!(out, "    vm v{v} at 10.{ns}.{s}.{}", v * 10 + 1);
                    if d.chance(40) {
                        let _ = write!(out, ", 10.{ns}.{s}.{}", v * 10 + 2);
                    }
                    out.push('\n');
                }
            }
            if d.chance(30) {
                out.push_str(
                    [
                        "    policy { lb least-request }\n",
                        "    policy { outlier consecutive-errors 5 interval 10s }\n",
                        "    policy { connections max 10 http max-pending 5 }\n",
                    ][d.below(3) as usize],
                );
            }
            let routes = d.below(4);
            for r in 0..routes {
                let condition = match d.below(4) {
                    0 => format!("prefix \"/p{r}/\""),
                    1 => format!("exact \"/e{r}\""),
                    2 => format!("header x-r{r} \"yes\""),
                    _ => format!("prefix \"/a{r}/\" or header x-o{r} prefix \"b\""),
                };
                let target = if versions > 1 && d.chance(50) {
                    let w = d.below(101);
                    format!("{{ v0 {w}% v{} {}% }}", versions - 1, 100 - w)
                } else {
                    format!("-> v{}", d.below(versions))
                };
                let option = ["", " timeout 2s", " retries 2 per-try 1s", " fault abort 503 10%"][d.below(4) as usize];
                let _ = writeln!(out, "    route {condition} {target}{option}");
            }
            if routes > 0 && d.chance(50) {
                let _ = writeln!(out, "    route -> v0");
            }
            out.push_str("  }\n");
        }
        if ns == 0 && d.chance(50) {
            let _ = writeln!(
                out,
                "  gateway edge {{\n    listen http 80 hosts \"*\"\n    route -> s0:{first_http}\n  }}"
            );
        }
        out.push_str("}\n");
    }
    out
}

/// The same text with its white space and comments moved around (meaning unchanged).
fn scramble(text: &str, numbers: &[u32]) -> String {
    let mut d = Draw { numbers, next: 7 };
    let mut out = String::new();
    let mut in_string = false;
    for c in text.chars() {
        if c == '"' {
            in_string = !in_string;
        }
        if !in_string && c == ' ' {
            out.push_str(["  ", " ", "\t", " "][d.below(4) as usize]);
        } else if !in_string && c == '\n' {
            out.push_str(["\n", "\n\n", "   # note\n", "\n"][d.below(4) as usize]);
        } else {
            out.push(c);
        }
    }
    out
}

fn build(text: &str) -> Result<String, String> {
    let sources = [Source::new("input.mesh", text)];
    compile(&sources, &Options::default())
        .map(|o| o.to_yaml())
        .map_err(|f| meshc::diagnostic::render(&f.diagnostics, &sources, 100))
}

fn map(value: &Value) -> BTreeMap<String, String> {
    common::string_map(value)
}

/// Every subset selects at least one pod template or WorkloadEntry of its Service.
fn subsets_select_workloads(docs: &[Value]) {
    let kind = |d: &Value| d.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
    let mut workloads: Vec<BTreeMap<String, String>> = Vec::new();
    for d in docs {
        match kind(d).as_str() {
            "Deployment" => workloads.push(map(common::at(d, "spec.template.metadata.labels"))),
            "WorkloadEntry" => workloads.push(map(common::at(d, "spec.labels"))),
            _ => {}
        }
    }
    for service in docs.iter().filter(|d| kind(d) == "Service") {
        let selector = map(common::at(service, "spec.selector"));
        let name = common::str_at(service, "metadata.name");
        let rule = docs
            .iter()
            .find(|d| kind(d) == "DestinationRule" && common::str_at(d, "spec.host").starts_with(&format!("{name}.")));
        let Some(rule) = rule else { continue };
        for subset in common::at(rule, "spec.subsets").as_sequence().into_iter().flatten() {
            let mut wanted = selector.clone();
            wanted.extend(map(common::at(subset, "labels")));
            assert!(
                workloads
                    .iter()
                    .any(|w| wanted.iter().all(|(k, v)| w.get(k) == Some(v))),
                "subset {wanted:?} of {name} selects nothing"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_meshes_compile_deterministically(numbers in prop::collection::vec(any::<u32>(), 8..96)) {
        let text = mesh(&numbers);
        let first = build(&text);
        prop_assert!(first.is_ok(), "{}\n{}", text, first.clone().err().unwrap_or_default());
        let yaml = first.clone().unwrap_or_default();
        prop_assert_eq!(&first, &build(&text));
        let docs = common::parse_yaml(&yaml);
        prop_assert_eq!(docs.len(), yaml.matches("---\n").count());
        subsets_select_workloads(&docs);
        if let Ok(dir) = std::env::var("MESHC_SAMPLE_DIR") {
            let name: u64 = numbers.iter().fold(7, |h, n| h.wrapping_mul(31).wrapping_add(u64::from(*n)));
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name:016x}.yaml")), &yaml);
        }
    }

    #[test]
    fn fmt_is_idempotent_and_keeps_meaning(numbers in prop::collection::vec(any::<u32>(), 8..96)) {
        let text = scramble(&mesh(&numbers), &numbers);
        let formatted = syntax::format(0, &text).map_err(|d| TestCaseError::fail(d.message.clone()))?;
        let again = syntax::format(0, &formatted).map_err(|d| TestCaseError::fail(d.message.clone()))?;
        prop_assert_eq!(&again, &formatted);
        let (before, after) = (build(&text), build(&formatted));
        prop_assert!(before.is_ok(), "{}", before.clone().err().unwrap_or_default());
        prop_assert_eq!(before, after);
    }
}
