//! What compilation produces: documents, or the diagnostics that stopped it.

use crate::diagnostic::Diagnostic;

/// One generated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// `None` for cluster-scoped kinds (Namespace).
    pub namespace: Option<String>,
    pub name: String,
    /// The document's YAML, ending with a newline, without a `---` line.
    pub yaml: String,
}

/// A file generated beside the manifests that is not a Kubernetes object: the files each
/// VM needs (`vm/<namespace>/<service>-<version>/<address or group>/...`). `build -o DIR`
/// writes them under DIR, outside `kustomization.yaml`; stdout never carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative, with `/` separators; every component a valid Kubernetes name or address.
    pub path: String,
    pub contents: String,
}

/// What a successful compilation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub documents: Vec<Document>,
    /// The VMs' files, sorted by path.
    pub files: Vec<GeneratedFile>,
    /// Findings that do not stop compilation.
    pub warnings: Vec<Diagnostic>,
}

impl Output {
    /// All documents as one multi-document YAML stream, each preceded by `---`.
    pub fn to_yaml(&self) -> String {
        let mut out = String::with_capacity(self.documents.iter().map(|d| d.yaml.len() + 4).sum());
        for doc in &self.documents {
            out.push_str("---\n");
            out.push_str(&doc.yaml);
        }
        out
    }
}

/// Why compilation failed: every problem found, sorted by file and position (warnings
/// included).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub diagnostics: Vec<Diagnostic>,
}
