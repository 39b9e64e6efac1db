//! YAML text: the only place that calls the YAML library.
//!
//! Objects are serialised with serde into a small ordered tree ([`super::tree`]), then written
//! here in block style. Writing is meshc's own rather than `serde_yaml::to_string` because
//! serde_yaml (0.9) follows YAML 1.2 and writes `on`, `yes`, `y`, `2021-01-01` or `12:30`
//! unquoted, which YAML 1.1 readers (Kubernetes' sigs.k8s.io/yaml, kustomize's older paths,
//! PyYAML) turn into booleans, timestamps or numbers. Here a string is written plain only
//! when it cannot be read as anything else under YAML 1.1 or 1.2 (see [`plain_is_safe`]);
//! every other string is double-quoted. serde_yaml reads YAML back ([`parse_documents`]).

use std::fmt::Write as _;

use serde::Serialize;
/// A YAML value as read back (tests and the KRM function's ResourceList).
pub use serde_yaml::Value;

use super::tree::{to_node, Node};

/// Serialises one object as one YAML document (without the `---` separator).
pub(crate) fn document<T: Serialize>(object: &T) -> Result<String, String> {
    let node = to_node(object).map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(1024);
    match &node {
        Node::Map(map) if !map.is_empty() => write_mapping(&mut out, map, 0),
        other => {
            write_inline(&mut out, other);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Reads one YAML document.
pub fn parse_one(text: &str) -> Result<Value, String> {
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

/// Reads YAML text back into values (tests and tooling compare output through it).
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).map_err(|e| e.to_string()))
        .filter(|v| !matches!(v, Ok(Value::Null)))
        .collect()
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_mapping(out: &mut String, map: &[(Node, Node)], level: usize) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || level > 0 {
            indent(out, level);
        }
        write_entry(out, key, value, level);
    }
}

/// `key: value`, the cursor already indented; ends with a newline.
fn write_entry(out: &mut String, key: &Node, value: &Node, level: usize) {
    write_inline(out, key);
    out.push(':');
    match value {
        Node::Map(m) if !m.is_empty() => {
            out.push('\n');
            indent(out, level + 2);
            write_mapping_first_inline(out, m, level + 2);
        }
        Node::Seq(s) if !s.is_empty() => {
            out.push('\n');
            write_sequence(out, s, level + 2);
        }
        scalar => {
            out.push(' ');
            write_inline(out, scalar);
            out.push('\n');
        }
    }
}

/// A mapping whose first key is written where the cursor is (after `- ` or an indent).
fn write_mapping_first_inline(out: &mut String, map: &[(Node, Node)], level: usize) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            indent(out, level);
        }
        write_entry(out, key, value, level);
    }
}

fn write_sequence(out: &mut String, items: &[Node], level: usize) {
    for item in items {
        indent(out, level);
        out.push_str("- ");
        match item {
            Node::Map(m) if !m.is_empty() => write_mapping_first_inline(out, m, level + 2),
            Node::Seq(s) if !s.is_empty() => {
                out.push('\n');
                write_sequence(out, s, level + 2);
            }
            scalar => {
                write_inline(out, scalar);
                out.push('\n');
            }
        }
    }
}

/// A scalar, or an empty collection, on the current line.
fn write_inline(out: &mut String, value: &Node) {
    match value {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Node::UInt(n) => {
            let _ = write!(out, "{n}");
        }
        Node::Float(f) => write_float(out, *f),
        Node::Str(s) => write_string(out, s),
        Node::Key(k) => write_string(out, k),
        Node::Seq(_) => out.push_str("[]"),
        Node::Map(_) => out.push_str("{}"),
    }
}

/// A float as YAML writes it: the shortest text that reads back the same, with `.0` on
/// whole numbers so that it stays a float.
fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str(".nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { ".inf" } else { "-.inf" });
    } else if f.fract() == 0.0 && f.abs() < 1e16 {
        let _ = write!(out, "{f:.1}");
    } else {
        let _ = write!(out, "{f}");
    }
}

/// Words that some YAML reader takes for a boolean or null when unquoted.
const RESERVED: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// Whether `s` may be written unquoted and still be read back as the same string by YAML
/// 1.1 and 1.2 readers alike: it starts with a letter or `/`, holds only letters, digits,
/// `-`, `_`, `.` and `/`, and is none of the reserved words in any letter case. Numbers,
/// dates, times, octals (`0777`), `~`, `*`, `{{ x }}`, spaces and line breaks therefore
/// always end up quoted.
pub(crate) fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    (first.is_ascii_alphabetic() || first == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

fn write_string(out: &mut String, s: &str) {
    if plain_is_safe(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // Control characters, and the characters YAML readers treat as line breaks or
            // byte-order marks, are escaped so they survive any reader.
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}') => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) -> String {
        let mut text = String::from("v: ");
        write_string(&mut text, s);
        let values = parse_documents(&text).unwrap_or_default();
        values
            .first()
            .and_then(|v| v.get("v"))
            .and_then(Value::as_str)
            .unwrap_or("<not a string>")
            .to_string()
    }

    #[test]
    fn hostile_strings_are_quoted_and_survive() {
        let hostile = [
            "on",
            "On",
            "ON",
            "off",
            "yes",
            "Yes",
            "no",
            "NO",
            "y",
            "Y",
            "n",
            "true",
            "False",
            "null",
            "Null",
            "~",
            "2021-01-01",
            "12:30",
            "0777",
            "0x1F",
            "1e3",
            "1_000",
            ".inf",
            "-.inf",
            ".NaN",
            "*",
            "&a",
            "!tag",
            "{{ x }}",
            "[a]",
            "a: b",
            "a #b",
            " leading",
            "trailing ",
            "two\nlines",
            "tab\there",
            "",
            "-",
            "- x",
            "?",
            "%",
            "@x",
            "`x`",
            "\"q\"",
            "'q'",
            "back\\slash",
            "nel\u{85}",
            "ls\u{2028}",
            "bom\u{feff}",
            "bell\u{7}",
            "=",
            "<<",
            "3",
            "-3",
            "+3",
            "3.0",
            "0o17",
            "0b101",
            "é",
        ];
        for s in hostile {
            assert_eq!(round_trip(s), s, "value {s:?} did not survive");
            if !s.is_empty() && s != "é" {
                assert!(
                    !plain_is_safe(s) || s.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{s:?}"
                );
            }
        }
        for s in [
            "on",
            "yes",
            "y",
            "no",
            "2021-01-01",
            "12:30",
            "0777",
            "1e3",
            "null",
            "~",
            "*",
            "{{ x }}",
            " a",
        ] {
            assert!(!plain_is_safe(s), "{s:?} must be quoted");
        }
    }

    #[test]
    fn ordinary_names_stay_plain() {
        for s in [
            "hello2",
            "app.kubernetes.io/name",
            "/hello",
            "istio-injection",
            "v1",
            "HTTP",
            "networking.istio.io/v1",
        ] {
            assert!(plain_is_safe(s), "{s:?}");
        }
    }

    #[test]
    fn block_layout() {
        #[derive(Serialize)]
        struct Doc {
            name: &'static str,
            list: Vec<std::collections::BTreeMap<&'static str, u32>>,
            empty: Vec<u32>,
        }
        let doc = Doc {
            name: "x",
            list: vec![[("a", 1), ("b", 2)].into_iter().collect()],
            empty: vec![],
        };
        assert_eq!(
            document(&doc).unwrap_or_default(),
            "name: x\nlist:\n  - a: 1\n    b: 2\nempty: []\n"
        );
    }
}
