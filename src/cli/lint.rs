//! `meshc lint PATH...`: the checks that apply to existing Kubernetes and Istio manifests.
//!
//! Reads files, folders (every `*.yaml` and `*.yml` under them, in name order) and `-`
//! (stdin, e.g. `kubectl kustomize . | meshc lint -`), each as a stream of YAML documents,
//! and reports with the compiler's codes at the file, line and column of the offending
//! node. Exit status: 0 clean (warnings allowed), 1 errors, 2 usage or I/O trouble.

use std::path::{Path, PathBuf};

use meshc::Source;

use super::load::{self, Reach};
use super::report::{self, MessageFormat};
use super::Status;

pub(crate) fn run(paths: &[PathBuf], format: MessageFormat) -> Status {
    let sources = match read(paths) {
        Ok(sources) => sources,
        Err(message) => {
            eprintln!("meshc: {message}");
            return Status::Trouble;
        }
    };
    let (_, diagnostics) = meshc::manifests::lint(&sources);
    report::report(&diagnostics, &[], &sources, format);
    if diagnostics.iter().any(meshc::Diagnostic::is_error) {
        Status::InputErrors
    } else {
        Status::Ok
    }
}

/// Every file named, or found under a folder named, as one source; stdin once, as `-`.
pub(super) fn read(paths: &[PathBuf]) -> Result<Vec<Source>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
        } else if path.is_dir() {
            let before = files.len();
            load::files_under(path, &["yaml", "yml"], &mut files, &Reach::Anywhere)
                .map_err(|e| format!("cannot read directory {}: {e}", path.display()))?;
            if files.len() == before {
                return Err(format!("no .yaml or .yml file under {}", path.display()));
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut sources = Vec::new();
    let mut stdin_read = false;
    for path in files {
        let (name, bytes) = if path.as_os_str() == "-" {
            if std::mem::replace(&mut stdin_read, true) {
                continue;
            }
            ("-".to_string(), load::read_stdin("stdin")?)
        } else {
            let bytes = load::read_regular(&path).map_err(|why| format!("cannot read {}: {why}", path.display()))?;
            (display(&path), bytes)
        };
        let text = String::from_utf8(bytes).map_err(|_| format!("{name} is not UTF-8"))?;
        sources.push(Source::new(name, text));
    }
    Ok(sources)
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
