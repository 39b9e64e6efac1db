//! The `.mesh` text the importer writes: blocks of declarations and comments, quoting of
//! strings, and which words may stand as names.

/// A block (`namespace`, `service`, ...) or the file: its header and its lines.
#[derive(Debug, Default)]
pub(super) struct Block {
    pub(super) header: String,
    pub(super) lines: Vec<Line>,
}

#[derive(Debug)]
pub(super) enum Line {
    Decl(String),
    Comment(String),
    Block(Block),
}

impl Block {
    pub(super) fn new(header: impl Into<String>) -> Self {
        Block {
            header: header.into(),
            lines: Vec::new(),
        }
    }

    pub(super) fn decl(&mut self, text: impl Into<String>) {
        self.lines.push(Line::Decl(text.into()));
    }

    pub(super) fn comment(&mut self, text: impl Into<String>) {
        self.lines.push(Line::Comment(text.into()));
    }

    pub(super) fn block(&mut self, block: Block) {
        self.lines.push(Line::Block(block));
    }

    pub(super) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The block as text (the formatter gives it its final layout).
    pub(super) fn write(&self, depth: usize, out: &mut String) {
        let indent = "  ".repeat(depth);
        out.push_str(&indent);
        out.push_str(&self.header);
        out.push_str(" {\n");
        self.write_lines(depth + 1, out);
        out.push_str(&indent);
        out.push_str("}\n");
    }

    pub(super) fn write_lines(&self, depth: usize, out: &mut String) {
        let indent = "  ".repeat(depth);
        for line in &self.lines {
            match line {
                Line::Decl(text) => {
                    out.push_str(&indent);
                    out.push_str(text);
                    out.push('\n');
                }
                Line::Comment(text) => {
                    for part in text.lines() {
                        out.push_str(&indent);
                        out.push_str("# ");
                        out.push_str(&one_line(part));
                        out.push('\n');
                    }
                }
                Line::Block(block) => {
                    if depth == 1 && !out.ends_with("{\n") {
                        out.push('\n');
                    }
                    block.write(depth, out);
                }
            }
        }
    }
}

/// Text safe inside a comment: control characters become spaces.
pub(super) fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A `.mesh` string literal.
pub(super) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' => out.push_str("\\$"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const KEYWORDS: &[&str] = &[
    "namespace",
    "naming",
    "service",
    "gateway",
    "import",
    "port",
    "calls",
    "pod",
    "vm",
    "route",
    "listen",
    "image",
    "replicas",
    "env",
    "label",
    "annotation",
    "account",
    "at",
    "selector",
    "policy",
    "hosts",
    "resolution",
    "location",
    "addresses",
    "resources",
    "probe",
    "relax",
    "hardening",
    "agent",
    "mtls",
    "allow",
    "jwt",
    "identity",
    "external",
    "cluster",
];

/// Whether `text` can stand as a name (service, version, namespace, variable): the
/// grammar's `name`, and not a word that starts a declaration.
pub(super) fn is_name(text: &str) -> bool {
    is_word(text, false) && !KEYWORDS.contains(&text)
}

/// Whether `text` can stand as a label or annotation key.
pub(super) fn is_label_key(text: &str) -> bool {
    is_word(text, true) && !KEYWORDS.contains(&text)
}

fn is_word(text: &str, slash: bool) -> bool {
    let bytes = text.as_bytes();
    let Some(first) = bytes.first() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || *first == b'_') {
        return false;
    }
    bytes.iter().enumerate().skip(1).all(|(i, b)| match b {
        b'-' => bytes.get(i + 1) != Some(&b'>'),
        b'/' => slash,
        b => b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.',
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_names() {
        assert_eq!(quote("a\"b\\c$d\n"), "\"a\\\"b\\\\c\\$d\\n\"");
        assert!(is_name("hello2-svc"));
        assert!(!is_name("route"));
        assert!(!is_name("-x"));
        assert!(!is_name("a b"));
        assert!(is_label_key("app.kubernetes.io/name"));
        assert!(!is_name("app.kubernetes.io/name"));
    }
}
