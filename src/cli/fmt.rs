//! `meshc fmt`: rewrite .mesh files in the canonical layout, or with `--check` report the
//! files that are not, with a diff.
//!
//! Editors and hooks rely on three things: `meshc fmt -` formats stdin to stdout; a folder
//! stands for every `.mesh` file under it; a file is replaced the way an editor saves it,
//! through a symlink (the link stays, its target is formatted) and with its permissions
//! kept. Only regular files are formatted: a device, FIFO or socket (`/dev/stdin`
//! included) is refused, never replaced.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use meshc::{diagnostic, Source};

use super::load::{self, Reach};
use super::output::unified;
use super::Status;

/// Formats every file (`-` is stdin, a folder every `.mesh` file under it). With `check`,
/// writes nothing: exit 1 and a unified diff per file that is not formatted. A file that
/// does not parse is reported and left alone (exit 1); one that cannot be read or written
/// is trouble (exit 2).
pub(crate) fn run(paths: &[PathBuf], check: bool) -> Status {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" || !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let before = files.len();
        if let Err(e) = load::mesh_files(path, &mut files, &Reach::Anywhere) {
            say!("cannot read directory {}: {e}", path.display());
            return Status::Trouble;
        }
        if files.len() == before {
            say!("no .mesh file under {}", path.display());
            return Status::Trouble;
        }
    }
    let mut status = Status::Ok;
    for path in &files {
        let outcome = if path.as_os_str() == "-" {
            stdin(check)
        } else {
            file(path, check)
        };
        match outcome {
            Status::Ok => {}
            Status::InputErrors => status = Status::InputErrors,
            Status::Trouble => return Status::Trouble,
        }
    }
    status
}

/// `meshc fmt -`: stdin formatted on stdout (with `--check`, the diff if it is not).
fn stdin(check: bool) -> Status {
    let bytes = match load::read_stdin("stdin") {
        Ok(bytes) => bytes,
        Err(why) => {
            say!("{why}");
            return Status::Trouble;
        }
    };
    let Some(text) = utf8(bytes, "stdin") else {
        return Status::InputErrors;
    };
    let Some(formatted) = format("<stdin>", &text) else {
        return Status::InputErrors;
    };
    let out = if !check {
        formatted.clone()
    } else if formatted != text {
        unified("<stdin>", Some(&text), Some(&formatted))
    } else {
        String::new()
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()) {
        say!("cannot write the output: {e}");
        return Status::Trouble;
    }
    if check && formatted != text {
        Status::InputErrors
    } else {
        Status::Ok
    }
}

fn file(path: &Path, check: bool) -> Status {
    let bytes = match load::read_regular(path) {
        Ok(bytes) => bytes,
        Err(why) => {
            say!("cannot read {}: {why}", path.display());
            return Status::Trouble;
        }
    };
    let name = path.to_string_lossy().into_owned();
    let Some(text) = utf8(bytes, &name) else {
        return Status::InputErrors;
    };
    let Some(formatted) = format(&name, &text) else {
        return Status::InputErrors;
    };
    if formatted == text {
        return Status::Ok;
    }
    if check {
        print!("{}", unified(&name, Some(&text), Some(&formatted)));
        return Status::InputErrors;
    }
    match replace(path, formatted.as_bytes()) {
        Ok(()) => Status::Ok,
        Err(e) => {
            say!("cannot write {}: {e}", path.display());
            Status::Trouble
        }
    }
}

fn utf8(bytes: Vec<u8>, name: &str) -> Option<String> {
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(_) => {
            say!("{name} is not UTF-8");
            None
        }
    }
}

/// The canonical layout, or the syntax error reported. Classic Mac line ends become LF.
fn format(name: &str, text: &str) -> Option<String> {
    let source = Source::new(name, text);
    match meshc::syntax::format(0, &source.text) {
        Ok(formatted) => Some(formatted),
        Err(d) => {
            eprint!("{}", diagnostic::render(&[*d], &[source], 100));
            None
        }
    }
}

/// Replaces the file `path` leads to (through any symlinks) with `contents`, atomically
/// and with the file's permissions: a temporary file in the target's folder, readable by
/// its owner only until it has the original mode, synced, then renamed over the target.
fn replace(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let permissions = std::fs::metadata(&target)?.permissions();
    let dir = target.parent().unwrap_or(Path::new("/"));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for attempt in 0..100u32 {
        let temp = dir.join(format!(".{name}.meshc-{}-{attempt}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = match options.open(&temp) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let written = file
            .write_all(contents)
            .and_then(|()| file.set_permissions(permissions.clone()))
            .and_then(|()| file.sync_all())
            .and_then(|()| {
                drop(file);
                std::fs::rename(&temp, &target)
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        return written;
    }
    Err(std::io::Error::other(format!(
        "cannot create a temporary file in {}",
        dir.display()
    )))
}
