//! `meshc fmt`: rewrite .mesh files in the canonical layout, or with `--check` report the
//! files that are not, with a diff.

use std::path::PathBuf;

use meshc::{diagnostic, Source};

use super::output::{unified, write_atomic};
use super::Status;

/// Formats every file. With `check`, writes nothing: exit 1 and a unified diff per file
/// that is not formatted. A file that does not parse is reported and left alone (exit 1).
pub(crate) fn run(files: &[PathBuf], check: bool) -> Status {
    let mut status = Status::Ok;
    for path in files {
        let text = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    eprintln!("meshc: {} is not UTF-8", path.display());
                    status = Status::InputErrors;
                    continue;
                }
            },
            Err(e) => {
                eprintln!("meshc: cannot read {}: {e}", path.display());
                return Status::Trouble;
            }
        };
        let name = path.to_string_lossy().into_owned();
        let formatted = match meshc::syntax::format(0, &text) {
            Ok(formatted) => formatted,
            Err(d) => {
                let sources = [Source::new(name, text)];
                eprint!("{}", diagnostic::render(&[*d], &sources, 100));
                status = Status::InputErrors;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        if check {
            print!("{}", unified(&name, Some(&text), Some(&formatted)));
            status = Status::InputErrors;
        } else if let Err(e) = write_atomic(path, formatted.as_bytes()) {
            eprintln!("meshc: cannot write {}: {e}", path.display());
            return Status::Trouble;
        }
    }
    status
}
