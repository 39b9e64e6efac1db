//! What the language server (`meshc lsp`) knows about a mesh, as pure functions over its
//! sources: the analysis of one set of sources (the same diagnostics as `meshc build`, the
//! planned objects, a symbol index), positions in the editor's encoding, hover,
//! definitions and references, completion and rename. The binary's `cli/lsp.rs` speaks
//! the protocol, reads files and keeps the open documents.

mod complete;
mod grammar;
mod hover;
mod index;
mod position;

use crate::diagnostic::{self, Diagnostic};
use crate::emit::{self, Planned};
use crate::model::Mesh;
use crate::options::Options;
use crate::source::{LineIndex, Source, SourceId, Span};

pub use complete::{complete, Completion, CompletionKind};
pub use hover::hover;
pub use index::{Occurrence, Symbol};
pub use position::{Encoding, Position};

/// One mesh as `meshc build` would compile it: its sources, every diagnostic, the mesh and
/// its planned objects (when the files could be read), and where every name occurs.
#[derive(Debug)]
pub struct Analysis {
    pub sources: Vec<Source>,
    /// Sorted by file and position, as the command line reports them.
    pub diagnostics: Vec<Diagnostic>,
    pub mesh: Option<Mesh>,
    pub planned: Vec<Planned>,
    pub occurrences: Vec<Occurrence>,
    /// The line index of each source, for positions.
    lines: Vec<LineIndex>,
}

impl Analysis {
    /// Checks and plans `sources` (`problems`: what was found while reading them, such as
    /// an import that cannot be read), and indexes their names.
    pub fn new(sources: Vec<Source>, problems: Vec<Diagnostic>, options: &Options) -> Self {
        // As `crate::analyze`, planning once for both the diagnostics and the objects.
        let (mesh, mut diagnostics, files) = crate::parse_and_check(&sources, options, crate::check::Trees::Keep);
        let planned = match &mesh {
            Some(mesh) => {
                let (planned, found) = emit::plan(mesh, options);
                diagnostics.extend(found);
                planned
            }
            None => Vec::new(),
        };
        diagnostics.extend(problems);
        diagnostic::sort(&mut diagnostics);
        let occurrences = index::index(&sources, &files);
        let lines = sources.iter().map(|s| LineIndex::new(&s.text)).collect();
        Analysis {
            lines,
            sources,
            diagnostics,
            mesh,
            planned,
            occurrences,
        }
    }

    /// The protocol position of a byte offset in a source.
    pub fn position(&self, source: SourceId, offset: usize, encoding: Encoding) -> Position {
        match (self.sources.get(source), self.lines.get(source)) {
            (Some(s), Some(lines)) => encoding.position_in(&s.text, lines, offset),
            _ => Position { line: 0, character: 0 },
        }
    }

    /// The name under `offset` in a source, and what it stands for.
    pub fn at(&self, source: SourceId, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .find(|o| o.span.source == source && o.span.start <= offset && offset <= o.span.end)
    }

    /// Where the symbol under `offset` is declared.
    pub fn definition(&self, source: SourceId, offset: usize) -> Vec<Span> {
        let Some(at) = self.at(source, offset) else {
            return Vec::new();
        };
        self.occurrences
            .iter()
            .filter(|o| o.declaration && o.symbol == at.symbol)
            .map(|o| o.span)
            .collect()
    }

    /// Every occurrence of the symbol under `offset`, its declarations included when asked.
    pub fn references(&self, source: SourceId, offset: usize, declarations: bool) -> Vec<Span> {
        let Some(at) = self.at(source, offset) else {
            return Vec::new();
        };
        self.occurrences_of(&at.symbol)
            .filter(|o| declarations || !o.declaration)
            .map(|o| o.span)
            .collect()
    }

    pub fn occurrences_of<'a>(&'a self, symbol: &'a Symbol) -> impl Iterator<Item = &'a Occurrence> + 'a {
        self.occurrences.iter().filter(move |o| o.symbol == *symbol)
    }

    /// The edits that rename the service or version under `offset` everywhere in these
    /// sources; an error in words when there is nothing to rename there or `new_name` is
    /// not a valid name.
    pub fn rename(&self, source: SourceId, offset: usize, new_name: &str) -> Result<(Symbol, Vec<Span>), String> {
        let Some(at) = self.at(source, offset) else {
            return Err("there is no service or version here to rename".to_string());
        };
        if !matches!(at.symbol, Symbol::Service { .. } | Symbol::Version { .. }) {
            return Err("only services and versions can be renamed".to_string());
        }
        valid_name(new_name)?;
        let taken = match &at.symbol {
            Symbol::Service { namespace, .. } => Symbol::Service {
                namespace: namespace.clone(),
                name: new_name.to_string(),
            },
            Symbol::Version { namespace, service, .. } => Symbol::Version {
                namespace: namespace.clone(),
                service: service.clone(),
                name: new_name.to_string(),
            },
            Symbol::Variable(_) => at.symbol.clone(),
        };
        if taken != at.symbol && self.occurrences_of(&taken).any(|o| o.declaration) {
            return Err(format!("`{new_name}` is already declared there"));
        }
        let spans = self.occurrences_of(&at.symbol).map(|o| o.span).collect();
        Ok((at.symbol.clone(), spans))
    }
}

/// Whether `name` can name a service or a version: a DNS label (lowercase letters, digits
/// and `-`, starting and ending with a letter or digit, at most 63 characters).
pub fn valid_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid name: use lowercase letters, digits and `-` (at most 63 characters, not starting or ending with `-`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(text: &str) -> Analysis {
        Analysis::new(vec![Source::new("a.mesh", text)], Vec::new(), &Options::default())
    }

    const MESH: &str = "namespace n {\n  service web {\n    port http 80\n    calls api\n    pod v1 image \"w\"\n  }\n  service api {\n    port http 8080\n    pod v1 image \"a\"\n    pod v2 image \"b\"\n    route prefix \"/x\" { v1 30% v2 70% }\n  }\n  gateway gw {\n    listen http 80 hosts \"*\"\n    route -> web\n  }\n}\n";

    #[test]
    fn references_and_definitions_of_a_service() {
        let a = analysis(MESH);
        let decl = MESH.find("service api").unwrap() + "service ".len();
        let call = MESH.find("calls api").unwrap() + "calls ".len();
        assert_eq!(a.definition(0, call), vec![Span::new(0, decl, decl + 3)]);
        assert_eq!(a.references(0, decl, true).len(), 2);
        assert_eq!(a.references(0, decl, false), vec![Span::new(0, call, call + 3)]);
        let web = MESH.find("-> web").unwrap() + 3;
        assert_eq!(a.references(0, web, true).len(), 2);
    }

    #[test]
    fn versions_in_splits() {
        let a = analysis(MESH);
        let v2 = MESH.find("pod v2").unwrap() + 4;
        let refs = a.references(0, v2, true);
        assert_eq!(refs.len(), 2);
        let (_, spans) = a.rename(0, v2, "canary").unwrap();
        assert_eq!(spans.len(), 2);
        assert!(a.rename(0, v2, "Canary!").is_err());
        assert_eq!(a.rename(0, v2, "v1").unwrap_err(), "`v1` is already declared there");
        let api = MESH.find("calls api").unwrap() + 7;
        assert!(a.rename(0, api, "web").is_err());
        assert!(a.rename(0, api, "backend").is_ok());
        // `v1` of `web` is not `v1` of `api`.
        let web_v1 = MESH.find("pod v1").unwrap() + 4;
        assert_eq!(a.references(0, web_v1, true).len(), 1);
    }

    /// The fix of an unknown `name.namespace` rewrites the name only.
    #[test]
    fn fixes_of_qualified_references() {
        let text = MESH.replace("calls api", "calls apj.n");
        let a = analysis(&text);
        let fixes: Vec<_> = a.diagnostics.iter().filter_map(|d| d.fix.as_ref()).collect();
        assert_eq!(fixes.len(), 1, "{:?}", a.diagnostics);
        assert_eq!(&text[fixes[0].span.start..fixes[0].span.end], "apj");
        assert_eq!(fixes[0].replacement, "api");
    }

    /// Every request at every few offsets of every few prefixes of an example (most of
    /// them broken documents) answers without panicking.
    #[test]
    fn no_panic_on_broken_documents() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hybrid-hello.mesh")).unwrap();
        let text = format!("# é ☕ 𝄞\n{text}");
        let ends: Vec<usize> = (0..=text.len()).step_by(41).chain([text.len()]).collect();
        for end in ends {
            let mut end = end;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let a = analysis(&text[..end]);
            for offset in (0..=end + 2).step_by(4) {
                let _ = hover(&a, 0, offset);
                let _ = a.definition(0, offset);
                let _ = a.references(0, offset, true);
                let _ = complete(&a, 0, offset);
                let _ = a.rename(0, offset, "x");
                let _ = a.position(0, offset, Encoding::Utf16);
            }
        }
    }

    #[test]
    fn names() {
        assert!(valid_name("hello-2").is_ok());
        assert!(valid_name("-a").is_err());
        assert!(valid_name("A").is_err());
        assert!(valid_name("").is_err());
        assert!(valid_name(&"a".repeat(64)).is_err());
    }
}
