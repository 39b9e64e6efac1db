//! Finding and reading the sources of a mesh: files named on the command line, `.mesh`
//! files under named directories, the files they `import`, and variables.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use meshc::codes::Code;
use meshc::{Diagnostic, Source, Span};

use super::Status;

/// The sources of one run and the problems met while reading them.
pub(crate) struct Loaded {
    pub(crate) sources: Vec<Source>,
    pub(crate) problems: Vec<Diagnostic>,
}

/// Reads the mesh named by `paths` (files, or directories searched for `*.mesh` files at
/// any depth, in name order), then every file they import, transitively, each once. Vars
/// files come next, then `--var` definitions as one more vars source named `--var`, so
/// that later definitions override earlier ones.
pub(crate) fn load(paths: &[PathBuf], vars_files: &[PathBuf], vars: &[String]) -> Result<Loaded, Status> {
    let mut loaded = Loaded {
        sources: Vec::new(),
        problems: Vec::new(),
    };
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut queue: Vec<PathBuf> = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = mesh_files(path, &mut found) {
                eprintln!("meshc: cannot read directory {}: {e}", path.display());
                return Err(Status::Trouble);
            }
            if found.is_empty() {
                eprintln!("meshc: no .mesh file under {}", path.display());
                return Err(Status::Trouble);
            }
            queue.extend(found);
        } else {
            queue.push(path.clone());
        }
    }
    // Files named on the command line must exist; imported ones are reported at the import.
    for path in queue {
        if seen.insert(identity(&path)) {
            let text = read(&path)?;
            loaded.push_mesh(&path, text);
        }
    }
    // Imports, breadth first, resolved against the importing file's directory.
    let mut next = 0;
    while next < loaded.sources.len() {
        let id = next;
        next += 1;
        let imports = meshc::syntax::imports(id, &loaded.sources[id].text);
        let base = Path::new(&loaded.sources[id].name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for import in imports {
            let path = base.join(&import.value);
            if !seen.insert(identity(&path)) {
                continue;
            }
            match std::fs::read(&path) {
                Ok(bytes) => loaded.push_bytes(&path, bytes),
                Err(e) => loaded.problems.push(
                    Diagnostic::error(
                        Code::ImportNotFound,
                        import.span,
                        format!("cannot read the imported file `{}`: {}", path.display(), reason(&e)),
                    )
                    .label("imported here")
                    .help("import paths are relative to the importing file"),
                ),
            }
        }
    }
    for path in vars_files {
        let text = read(path)?;
        match String::from_utf8(text) {
            Ok(text) => loaded.sources.push(Source::vars(display(path), text)),
            Err(_) => {
                eprintln!("meshc: {} is not UTF-8", path.display());
                return Err(Status::Trouble);
            }
        }
    }
    if !vars.is_empty() {
        let mut text = String::new();
        for var in vars {
            text.push_str(var);
            text.push('\n');
        }
        loaded.sources.push(Source::vars("--var", text));
    }
    Ok(loaded)
}

impl Loaded {
    fn push_mesh(&mut self, path: &Path, bytes: Vec<u8>) {
        self.push_bytes(path, bytes);
    }

    /// A file that is not UTF-8 becomes a diagnostic at its first bad byte.
    fn push_bytes(&mut self, path: &Path, bytes: Vec<u8>) {
        let name = display(path);
        match String::from_utf8(bytes) {
            Ok(text) => self.sources.push(Source::new(name, text)),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let id = self.sources.len();
                self.problems.push(
                    Diagnostic::error(Code::Syntax, Span::new(id, at, at + 1), "the file is not valid UTF-8")
                        .label("invalid byte")
                        .help("save the file as UTF-8"),
                );
                // Kept for rendering only: an empty mesh source stands in for it.
                self.sources.push(Source::new(name, text));
            }
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Status> {
    std::fs::read(path).map_err(|e| {
        eprintln!("meshc: cannot read {}: {e}", path.display());
        Status::Trouble
    })
}

/// `.mesh` files under `dir`, sorted by path.
fn mesh_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            mesh_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "mesh") {
            out.push(path);
        }
    }
    Ok(())
}

/// The same file reached by two spellings is read once.
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// An I/O error in words that do not depend on the operating system.
fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "it does not exist".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        kind => kind.to_string(),
    }
}
