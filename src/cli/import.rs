//! `meshc import PATH... [-o FILE]`: existing manifests as a `.mesh`.
//!
//! Reads files, folders (every `*.yaml` and `*.yml` under them) and `-` (stdin) as
//! `meshc lint` does, and prints the `.mesh` (or writes it to FILE). What could not be
//! carried over is a comment in the output. Exit status: 0 imported, 1 the input is not
//! YAML, 2 usage or I/O trouble.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::report::{self, MessageFormat};
use super::{lint, output, Status};

pub(crate) fn run(paths: &[PathBuf], out: Option<&Path>) -> Status {
    let sources = match lint::read(paths) {
        Ok(sources) => sources,
        Err((path, message)) => return report::fail(&path, &message, MessageFormat::Human),
    };
    let imported = meshc::import::import(&sources);
    if !imported.diagnostics.is_empty() {
        report::report(&imported.diagnostics, &[], &sources, MessageFormat::Human);
        return Status::InputErrors;
    }
    let written = match out {
        Some(path) => output::write_atomic(path, imported.text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => std::io::stdout()
            .lock()
            .write_all(imported.text.as_bytes())
            .map_err(|e| format!("cannot write to stdout: {e}")),
    };
    match written {
        Ok(()) => Status::Ok,
        Err(message) => {
            eprintln!("meshc: {message}");
            Status::Trouble
        }
    }
}
