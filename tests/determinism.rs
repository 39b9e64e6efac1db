//! The output depends on what the mesh says, not on how the file is arranged: compiling
//! twice gives the same bytes, and so does compiling with the declarations shuffled —
//! namespace blocks, the items of each namespace, naming entries, the ports, calls,
//! versions and policy of each service, the listeners of each gateway and the declarations
//! of each external service — or with each namespace split over two blocks. Routes are
//! never reordered: their order is their meaning.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeMap;

use common::{cases, read, root, Case, CaseKind, Lcg};
use meshc::{diagnostic, Options, Source, SourceKind};

const SEEDS: [u64; 8] = [1, 2, 3, 5, 8, 13, 21, 34];

// ------------------------------------------------------------------ a small .mesh splitter

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Word,
    Str,
    Comment,
    Open,
    Close,
    Comma,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

/// Splits `.mesh` text into tokens: words (anything up to whitespace or punctuation,
/// `${NAME}` included), strings with their escapes, comments, braces and commas.
fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                Tok::Comment
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                Tok::Str
            }
            b'{' => {
                i += 1;
                Tok::Open
            }
            b'}' => {
                i += 1;
                Tok::Close
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            _ => {
                while i < bytes.len() {
                    let b = bytes[i];
                    if b == b'$' && bytes.get(i + 1) == Some(&b'{') {
                        while i < bytes.len() && bytes[i] != b'}' {
                            i += 1;
                        }
                        i = (i + 1).min(bytes.len());
                        continue;
                    }
                    if matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'#' | b'"' | b'{' | b'}' | b',') {
                        break;
                    }
                    i += 1;
                }
                Tok::Word
            }
        };
        out.push(Token { kind, start, end: i });
    }
    out
}

/// How the items of a block body are told apart.
#[derive(Clone, Copy)]
enum Body {
    /// The file: `import "..."` lines and `namespace NAME { ... }` blocks.
    File,
    /// A namespace: `naming { }`, `service NAME { }` and `gateway NAME { }` blocks.
    Namespace,
    /// A naming block: `key "template"` pairs.
    Naming,
    /// A service: declarations starting with `port`, `calls`, `pod`, `vm`, `policy` or
    /// `route`.
    Service,
    /// A gateway: declarations starting with `listen`, `selector` or `route`.
    Gateway,
    /// An external service: declarations starting with `hosts`, `port`, `resolution`,
    /// `policy` or `route`.
    External,
    /// A block this splitter does not know: left as written.
    Verbatim,
}

impl Body {
    fn starters(self) -> &'static [&'static str] {
        match self {
            Body::Service => &["port", "calls", "pod", "vm", "policy", "route"],
            Body::Gateway => &["listen", "selector", "route"],
            Body::External => &["hosts", "port", "resolution", "policy", "route"],
            _ => &[],
        }
    }

    /// Bodies whose items start with one of a few words.
    fn by_starters(self) -> bool {
        matches!(self, Body::Service | Body::Gateway | Body::External)
    }
}

struct Shuffler<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    rng: Lcg,
    /// Also split every namespace over two blocks.
    split_namespaces: bool,
}

impl<'t> Shuffler<'t> {
    fn word(&self, t: usize) -> &'t str {
        let tok = self.tokens[t];
        &self.text[tok.start..tok.end]
    }

    /// The index of the token closing the brace opened at `open`.
    fn matching(&self, open: usize) -> usize {
        let mut depth = 0;
        for t in open..self.tokens.len() {
            match self.tokens[t].kind {
                Tok::Open => depth += 1,
                Tok::Close => {
                    depth -= 1;
                    if depth == 0 {
                        return t;
                    }
                }
                _ => {}
            }
        }
        panic!("unbalanced braces in:\n{}", self.text)
    }

    /// The items of the body made of tokens `from..to`: `(first token, last token)` each.
    /// Comments between items travel with the item after them.
    fn items(&self, body: Body, from: usize, to: usize) -> Vec<(usize, usize)> {
        let mut items = Vec::new();
        let mut t = from;
        let code = |t: usize| self.tokens[t].kind != Tok::Comment;
        while t < to {
            let first = t;
            // Skip leading comments to the item's first real token.
            let mut k = t;
            while k < to && !code(k) {
                k += 1;
            }
            if k == to {
                // Trailing comments: part of the previous item (or a lone item).
                match items.last_mut() {
                    Some((_, last)) => *last = to - 1,
                    None => items.push((first, to - 1)),
                }
                break;
            }
            let end = match body {
                Body::File if self.word(k) == "import" => k + 1,
                Body::File | Body::Namespace => {
                    let open = (k..to).find(|&i| self.tokens[i].kind == Tok::Open).expect("a block");
                    self.matching(open)
                }
                Body::Naming => k + 1,
                Body::Verbatim => to - 1,
                Body::Service | Body::Gateway | Body::External => {
                    let mut i = k + 1;
                    let mut depth = 0;
                    while i < to {
                        match self.tokens[i].kind {
                            Tok::Open => depth += 1,
                            Tok::Close => depth -= 1,
                            Tok::Word if depth == 0 && self.starts_item(body, i, to) => break,
                            _ => {}
                        }
                        i += 1;
                    }
                    // Comments on their own lines just before the next item belong to it; a
                    // comment at the end of a line stays with that line.
                    let mut end = i - 1;
                    while end > k
                        && !code(end)
                        && self.text[self.tokens[end - 1].end..self.tokens[end].start].contains('\n')
                    {
                        end -= 1;
                    }
                    end
                }
            };
            items.push((first, end));
            t = end + 1;
        }
        items
    }

    /// Whether the word at `t` starts a declaration. `port 8443` inside a route is a
    /// condition, not a `port http 8443` declaration: a declaration names a protocol first.
    fn starts_item(&self, body: Body, t: usize, to: usize) -> bool {
        let word = self.word(t);
        if !body.starters().contains(&word) {
            return false;
        }
        if word == "port" {
            let next = (t + 1 < to).then(|| self.word(t + 1));
            return next.is_some_and(|n| !n.starts_with(|c: char| c.is_ascii_digit()));
        }
        true
    }

    fn slice(&self, first: usize, last: usize) -> &'t str {
        &self.text[self.tokens[first].start..self.tokens[last].end]
    }

    /// Rewrites the tokens `first..=last` of one item, shuffling what is inside its braces.
    fn item(&mut self, body: Body, first: usize, last: usize) -> String {
        let inner = match body {
            Body::File => Some(Body::Namespace),
            Body::Namespace => (first..=last)
                .find(|&t| self.tokens[t].kind == Tok::Word)
                .map(|t| match self.word(t) {
                    "naming" => Body::Naming,
                    "service" => Body::Service,
                    "gateway" => Body::Gateway,
                    "external" => Body::External,
                    _ => Body::Verbatim,
                }),
            _ => None,
        };
        let open = (first..=last).find(|&t| self.tokens[t].kind == Tok::Open);
        match (inner, open) {
            (Some(inner), Some(open)) => {
                let close = self.matching(open);
                let head = &self.text[self.tokens[first].start..self.tokens[open].end];
                let tail = &self.text[self.tokens[close].start..self.tokens[last].end];
                let bodies = self.body(inner, open + 1, close);
                bodies
                    .into_iter()
                    .map(|b| format!("{head}\n{b}{tail}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            _ => self.slice(first, last).to_string(),
        }
    }

    /// The body's items, shuffled; usually one body, two when a namespace is split.
    fn body(&mut self, body: Body, from: usize, to: usize) -> Vec<String> {
        let items = self.items(body, from, to);
        let is_route: Vec<bool> = items
            .iter()
            .map(|&(first, last)| {
                let k = (first..=last).find(|&t| self.tokens[t].kind != Tok::Comment);
                body.by_starters() && k.is_some_and(|k| self.word(k) == "route")
            })
            .collect();
        let rewritten: Vec<String> = items.iter().map(|&(f, l)| self.item(body, f, l)).collect();
        // Shuffle every item, then put the routes back in their own order in the slots
        // that routes landed in.
        let mut order: Vec<usize> = (0..items.len()).collect();
        let imports = matches!(body, Body::File) && rewritten.iter().any(|r| r.starts_with("import"));
        if !imports && !matches!(body, Body::Verbatim) {
            self.rng.shuffle(&mut order);
        }
        let mut routes = (0..items.len()).filter(|&i| is_route[i]);
        let order: Vec<usize> = order
            .into_iter()
            .map(|i| if is_route[i] { routes.next().unwrap_or(i) } else { i })
            .collect();
        let texts: Vec<String> = order.iter().map(|&i| format!("{}\n", rewritten[i].trim())).collect();
        if matches!(body, Body::Namespace) && self.split_namespaces && texts.len() > 1 {
            let cut = 1 + self.rng.below(texts.len() - 1);
            return vec![texts[..cut].concat(), texts[cut..].concat()];
        }
        vec![texts.concat()]
    }
}

/// The text with its declarations shuffled (see the module documentation).
fn shuffle(text: &str, seed: u64, split_namespaces: bool) -> String {
    let tokens = tokenize(text);
    let count = tokens.len();
    let mut shuffler = Shuffler {
        text,
        tokens,
        rng: Lcg::new(seed),
        split_namespaces,
    };
    shuffler.body(Body::File, 0, count).concat()
}

/// The non-comment tokens of a text, sorted: shuffling must keep them all.
fn token_bag(text: &str) -> Vec<String> {
    let mut bag: Vec<String> = tokenize(text)
        .into_iter()
        .filter(|t| t.kind != Tok::Comment)
        .map(|t| text[t.start..t.end].to_string())
        .collect();
    bag.sort();
    bag
}

// ------------------------------------------------------------------ inputs

/// Every ok and warn fixture and every example, with their sources and options.
fn inputs() -> Vec<(String, Vec<Source>, Options)> {
    let mut out: Vec<(String, Vec<Source>, Options)> = Vec::new();
    for kind in [CaseKind::Ok, CaseKind::Warn] {
        for case in cases(kind) {
            let Case { sources, options, .. } = case.clone();
            out.push((case.id(), sources, options));
        }
    }
    let mut examples: Vec<_> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "mesh"))
        .collect();
    examples.sort();
    for path in examples {
        let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
        out.push((
            format!("examples/{name}"),
            vec![Source::new(name, read(&path))],
            Options::default(),
        ));
    }
    assert!(out.len() > 10, "too few inputs to be meaningful");
    out
}

/// The YAML and the warning codes (with their counts) of a compilation.
fn outcome(label: &str, sources: &[Source], options: &Options) -> (String, BTreeMap<String, usize>) {
    match meshc::compile(sources, options) {
        Ok(output) => {
            let mut codes = BTreeMap::new();
            for w in &output.warnings {
                *codes.entry(w.code.id().to_string()).or_default() += 1;
            }
            (output.to_yaml(), codes)
        }
        Err(failure) => panic!(
            "{label} does not compile:\n{}",
            diagnostic::render(&failure.diagnostics, sources, 100)
        ),
    }
}

fn shuffled_sources(sources: &[Source], seed: u64, split: bool) -> Vec<Source> {
    sources
        .iter()
        .map(|s| match s.kind {
            SourceKind::Mesh => Source {
                text: shuffle(&s.text, seed, split),
                ..s.clone()
            },
            _ => s.clone(),
        })
        .collect()
}

// ------------------------------------------------------------------ tests

#[test]
fn compiling_twice_gives_the_same_bytes() {
    for (label, sources, options) in inputs() {
        let first = outcome(&label, &sources, &options);
        let second = outcome(&label, &sources, &options);
        assert_eq!(first, second, "{label}");
    }
    // Failures too: the same diagnostics, rendered the same.
    for case in cases(CaseKind::Err) {
        let render = || match meshc::compile(&case.sources, &case.options) {
            Ok(_) => String::new(),
            Err(f) => diagnostic::render(&f.diagnostics, &case.sources, 100),
        };
        assert_eq!(render(), render(), "{}", case.id());
    }
}

/// `compile_to` (what `meshc build` to stdout uses) writes exactly the stream `compile`
/// returns, with the same warnings, in every case and example; for a failure it writes
/// nothing and returns the same diagnostics.
#[test]
fn writing_to_a_stream_gives_the_same_bytes_and_warnings() {
    for (label, sources, options) in inputs() {
        let output = meshc::compile(&sources, &options).expect(&label);
        let mut streamed = Vec::new();
        let (warnings, written) = meshc::compile_to(&sources, &options, &mut streamed).expect(&label);
        written.expect("a Vec takes every byte");
        assert_eq!(String::from_utf8(streamed).expect("UTF-8"), output.to_yaml(), "{label}");
        assert_eq!(warnings, output.warnings, "{label}");
    }
    // Error cases (some fail only when the command line reads their files).
    for case in cases(CaseKind::Err) {
        let mut streamed = Vec::new();
        let streaming = meshc::compile_to(&case.sources, &case.options, &mut streamed);
        match meshc::compile(&case.sources, &case.options) {
            Err(failure) => {
                assert!(streamed.is_empty(), "{} wrote output although it fails", case.id());
                assert_eq!(streaming.map(|_| ()), Err(failure), "{}", case.id());
            }
            Ok(output) => assert_eq!(String::from_utf8(streamed).expect("UTF-8"), output.to_yaml()),
        }
    }
}

#[test]
fn shuffled_declarations_give_the_same_bytes() {
    let mut changed = 0;
    for (label, sources, options) in inputs() {
        let expected = outcome(&label, &sources, &options);
        for seed in SEEDS {
            let shuffled = shuffled_sources(&sources, seed, false);
            for (a, b) in sources.iter().zip(&shuffled) {
                assert_eq!(
                    token_bag(&a.text),
                    token_bag(&b.text),
                    "{label}, seed {seed}: the shuffle lost or added tokens"
                );
                changed += usize::from(a.text != b.text);
            }
            let got = outcome(&format!("{label} shuffled with seed {seed}"), &shuffled, &options);
            if got != expected {
                let text: String = shuffled.iter().map(|s| format!("# {}\n{}", s.name, s.text)).collect();
                assert_eq!(
                    got.0, expected.0,
                    "{label}: different YAML with seed {seed}; shuffled input:\n{text}"
                );
                assert_eq!(
                    got.1, expected.1,
                    "{label}: different warnings with seed {seed}; shuffled input:\n{text}"
                );
            }
        }
    }
    assert!(
        changed > 50,
        "the shuffle hardly changed anything ({changed} texts changed)"
    );
}

#[test]
fn namespaces_split_over_several_blocks_give_the_same_bytes() {
    for (label, sources, options) in inputs() {
        let expected = outcome(&label, &sources, &options);
        for seed in SEEDS {
            let split = shuffled_sources(&sources, seed, true);
            let got = outcome(&format!("{label} split with seed {seed}"), &split, &options);
            if got != expected {
                let text: String = split.iter().map(|s| s.text.clone()).collect();
                assert_eq!(
                    got.0, expected.0,
                    "{label}: different YAML with seed {seed}; input:\n{text}"
                );
                assert_eq!(
                    got.1, expected.1,
                    "{label}: different warnings with seed {seed}; input:\n{text}"
                );
            }
        }
    }
}

#[test]
fn the_shuffle_keeps_routes_in_order_and_moves_the_rest() {
    let text = "# head\nnamespace a {\n  service s {\n    route prefix \"/1\" port 80 -> v1\n    port http 80\n    pod v1 image \"x\" # one\n    route prefix \"/2\" { v1 50% v2 50% }\n    vm v2 { at 10.0.0.1, ${IP} }\n    calls t via env T\n    route -> v1\n  }\n  naming { service \"{service}-x\" deployment \"{service}-{version}\" }\n  gateway g { listen http 80 hosts \"*\" route -> s selector istio \"gw\" }\n}\nnamespace b { service t { port http 80 pod v1 image \"y\" } }\n";
    let mut moved = false;
    for seed in 0..20 {
        let shuffled = shuffle(text, seed, false);
        assert_eq!(token_bag(text), token_bag(&shuffled), "seed {seed}:\n{shuffled}");
        let p1 = shuffled.find("\"/1\"").expect("route 1");
        let p2 = shuffled.find("\"/2\"").expect("route 2");
        let p3 = shuffled.find("route -> v1").expect("route 3");
        assert!(p1 < p2 && p2 < p3, "seed {seed}: routes reordered:\n{shuffled}");
        assert!(
            shuffled.contains("vm v2 { at 10.0.0.1, ${IP} }"),
            "seed {seed}: a version was cut:\n{shuffled}"
        );
        assert!(
            shuffled.contains("pod v1 image \"x\" # one\n"),
            "seed {seed}: a comment lost its line end:\n{shuffled}"
        );
        moved |= shuffled.find("namespace b") < shuffled.find("namespace a");
    }
    assert!(moved, "namespaces never moved");
    let split = shuffle(text, 7, true);
    assert_eq!(
        split.matches("namespace a {").count(),
        2,
        "namespace a is split in two:\n{split}"
    );
}

#[test]
fn the_order_of_sources_does_not_matter() {
    // The same mesh cut into one file per namespace, given in every rotation.
    for (label, sources, options) in inputs() {
        if sources.len() != 1 || sources[0].kind != SourceKind::Mesh {
            continue;
        }
        let expected = outcome(&label, &sources, &options);
        let text = &sources[0].text;
        let tokens = tokenize(text);
        let count = tokens.len();
        let shuffler = Shuffler {
            text,
            tokens,
            rng: Lcg::new(0),
            split_namespaces: false,
        };
        let parts: Vec<String> = shuffler
            .items(Body::File, 0, count)
            .iter()
            .map(|&(f, l)| shuffler.slice(f, l).to_string())
            .collect();
        for rotation in 0..parts.len() {
            let files: Vec<Source> = (0..parts.len())
                .map(|i| {
                    let part = &parts[(i + rotation) % parts.len()];
                    Source::new(format!("part{i}.mesh"), part.clone())
                })
                .collect();
            let got = outcome(&format!("{label} in {} files", parts.len()), &files, &options);
            assert_eq!(
                got.0, expected.0,
                "{label}: different YAML with the namespaces in separate files (rotation {rotation})"
            );
        }
    }
}
