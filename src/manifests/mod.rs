//! Existing manifests: Kubernetes and Istio YAML read with positions ([`yaml`]), a typed
//! view of what routing depends on ([`model::Manifests`]), and the checks of the catalogue
//! that apply to them (`meshc lint`), reported with the compiler's codes at the file, line
//! and column of the offending node.

mod check;
pub mod model;
pub mod yaml;

use crate::codes::Code;
use crate::diagnostic::{self, Diagnostic};
use crate::source::{Source, Span};

pub use model::Manifests;

/// Reads every source as a stream of YAML documents and builds the manifests' model; a
/// source that is not YAML is an error at the place it stops being YAML.
pub fn read(sources: &[Source]) -> (Manifests, Vec<Diagnostic>) {
    let mut manifests = Manifests::default();
    let mut diagnostics = Vec::new();
    for (id, source) in sources.iter().enumerate() {
        match yaml::parse(id, &source.text) {
            Ok(documents) => documents.iter().for_each(|d| manifests.read(d)),
            Err(e) => diagnostics.push(
                Diagnostic::error(
                    Code::ManifestSyntax,
                    e.span,
                    format!("this is not valid YAML: {}", e.message),
                )
                .label("here")
                .help("fix the YAML: no object of this file was read"),
            ),
        }
    }
    (manifests, diagnostics)
}

/// Reads the sources and runs every check: the model and the diagnostics, sorted.
pub fn lint(sources: &[Source]) -> (Manifests, Vec<Diagnostic>) {
    let (manifests, mut diagnostics) = read(sources);
    diagnostics.extend(check::check(&manifests));
    diagnostic::sort(&mut diagnostics);
    (manifests, diagnostics)
}

/// A span for a whole source (a file that could not be read at all).
pub fn whole(source: usize) -> Span {
    Span::new(source, 0, 0)
}
