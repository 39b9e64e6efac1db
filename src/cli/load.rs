//! Finding and reading the sources of a mesh: files named on the command line, `.mesh`
//! files under named directories, the files they `import`, and variables.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use meshc::codes::Code;
use meshc::{Diagnostic, Source, Span};

/// The sources of one run and the problems met while reading them.
pub(crate) struct Loaded {
    pub(crate) sources: Vec<Source>,
    pub(crate) problems: Vec<Diagnostic>,
}

/// Where files may be read from. The command line reads what it is told to; the KRM
/// function and the kustomize plugin read only `.mesh` files inside the kustomization's
/// folder, the way kustomize's own load restrictor confines a kustomization: every path,
/// with `..` and symlinks resolved, must stay under the root.
#[derive(Debug, Clone)]
pub(crate) enum Reach {
    Anywhere,
    Under(PathBuf),
}

impl Reach {
    /// Why `path` may not be read, if it may not.
    fn refuse(&self, path: &Path) -> Option<String> {
        let Reach::Under(root) = self else { return None };
        if path.extension().is_none_or(|e| e != "mesh") {
            return Some("only .mesh files are read from a kustomization".to_string());
        }
        match std::fs::canonicalize(path) {
            Ok(real) if real.starts_with(root) => None,
            Ok(_) => Some(format!(
                "it is outside the kustomization's folder {} (symlinks and `..` resolved)",
                root.display()
            )),
            Err(e) => Some(reason(&e)),
        }
    }
}

/// Reads the mesh named by `paths` (files, or directories searched for `*.mesh` files at
/// any depth, in name order), then every file they import, transitively, each once. Vars
/// files come next, then `--var` definitions as one more vars source named `--var`, so
/// that later definitions override earlier ones. A file named here that cannot be read is
/// an error in words (naming the path); an import that cannot be read is a diagnostic at
/// the import.
pub(crate) fn load(
    paths: &[PathBuf],
    vars_files: &[PathBuf],
    vars: &[String],
    reach: &Reach,
) -> Result<Loaded, String> {
    let mut loaded = Loaded {
        sources: Vec::new(),
        problems: Vec::new(),
    };
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut queue: Vec<PathBuf> = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            mesh_files(path, &mut found, reach)
                .map_err(|e| format!("cannot read directory {}: {}", path.display(), reason(&e)))?;
            if found.is_empty() {
                return Err(format!("no .mesh file under {}", path.display()));
            }
            queue.extend(found);
        } else {
            queue.push(path.clone());
        }
    }
    // Files named on the command line must exist; imported ones are reported at the import.
    for path in queue {
        if seen.insert(identity(&path)) {
            if let Some(why) = reach.refuse(&path) {
                return Err(format!("cannot read {}: {why}", path.display()));
            }
            let text = read_regular(&path).map_err(|why| format!("cannot read {}: {why}", path.display()))?;
            loaded.push_bytes(&path, text);
        }
    }
    loaded.follow_imports(0, &mut seen, reach, &mut read_regular);
    for path in vars_files {
        let text = read_regular(path).map_err(|why| format!("cannot read {}: {why}", path.display()))?;
        match String::from_utf8(text) {
            Ok(text) => loaded.sources.push(Source::vars(display(path), text)),
            Err(_) => return Err(format!("{} is not UTF-8", path.display())),
        }
    }
    if !vars.is_empty() {
        let mut text = String::new();
        // The shell has already removed its quotes from `--var NAME=VALUE`: a value with
        // anything but plain characters is quoted again, so that the vars reader takes it
        // exactly as given.
        for var in vars {
            match var.split_once('=') {
                Some((name, value)) => {
                    text.push_str(name);
                    text.push('=');
                    let plain = value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+,=".contains(c));
                    if plain {
                        text.push_str(value);
                    } else {
                        text.push('\'');
                        text.push_str(&value.replace('\'', "'\\''"));
                        text.push('\'');
                    }
                }
                None => text.push_str(var),
            }
            text.push('\n');
        }
        loaded.sources.push(Source::vars("--var", text));
    }
    Ok(loaded)
}

impl Loaded {
    /// Reads every file the sources from `first` on import, transitively, breadth first,
    /// each once (`seen` holds the files already read), resolved against the importing
    /// file's directory; `read` gives a file's bytes. An import that cannot be read is a
    /// diagnostic at the import.
    pub(crate) fn follow_imports(
        &mut self,
        first: usize,
        seen: &mut BTreeSet<PathBuf>,
        reach: &Reach,
        read: &mut dyn FnMut(&Path) -> Result<Vec<u8>, String>,
    ) {
        let mut next = first;
        while next < self.sources.len() {
            let id = next;
            next += 1;
            let (imports, problems) = meshc::syntax::imports(id, &self.sources[id].text);
            self.problems.extend(problems);
            let base = Path::new(&self.sources[id].name)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            for import in imports {
                if import.value.contains('\0') || import.value.is_empty() {
                    self.problems.push(
                        Diagnostic::error(Code::ImportNotFound, import.span, "this import names no file")
                            .label(if import.value.is_empty() {
                                "empty path"
                            } else {
                                "a path cannot contain a NUL character"
                            })
                            .help("write the path of a .mesh file, relative to this file"),
                    );
                    continue;
                }
                let path = base.join(&import.value);
                if !seen.insert(identity(&path)) {
                    continue;
                }
                // Only .mesh files are imported, so that no other file's text is ever shown in
                // a diagnostic.
                let refused = if path.extension().is_none_or(|e| e != "mesh") {
                    Some("an import must name a .mesh file".to_string())
                } else {
                    reach.refuse(&path)
                };
                match refused.map_or_else(|| read(&path), Err) {
                    Ok(bytes) => self.push_bytes(&path, bytes),
                    Err(why) => self.problems.push(
                        Diagnostic::error(
                            Code::ImportNotFound,
                            import.span,
                            format!("cannot read the imported file `{}`: {why}", path.display()),
                        )
                        .label("imported here")
                        .help("import paths are relative to the importing file"),
                    ),
                }
            }
        }
    }

    /// A file that is not UTF-8 becomes a diagnostic at its first bad byte.
    pub(crate) fn push_bytes(&mut self, path: &Path, bytes: Vec<u8>) {
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

/// The largest file meshc reads: 256 MiB. Larger files, and files that grow past it while
/// they are read, are refused.
pub(crate) const MAX_FILE_BYTES: u64 = 256 << 20;

/// Reads a regular file (a symlink to one is followed) of at most [`MAX_FILE_BYTES`].
/// Devices, FIFOs, sockets and directories are refused before anything is read from
/// them, so `/dev/zero` or a FIFO with no writer cannot exhaust memory or block. The error
/// is in words, for a message naming the path.
pub(crate) fn read_regular(path: &Path) -> Result<Vec<u8>, String> {
    let metadata = std::fs::metadata(path).map_err(|e| reason(&e))?;
    regular(&metadata)?;
    let file = std::fs::File::open(path).map_err(|e| reason(&e))?;
    // The file may have been replaced between the two looks: check what was opened.
    let metadata = file.metadata().map_err(|e| reason(&e))?;
    regular(&metadata)?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len().min(MAX_FILE_BYTES)).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| reason(&e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("it is {}", too_large()));
    }
    Ok(bytes)
}

/// Reads stdin, up to [`MAX_FILE_BYTES`]: an endless stream (`< /dev/zero`) is cut there
/// and refused. The error is a message naming `what` was being read.
pub(crate) fn read_stdin(what: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{what} is {}", too_large()));
    }
    Ok(bytes)
}

fn too_large() -> String {
    format!("larger than the limit of {} MiB", MAX_FILE_BYTES >> 20)
}

/// Refuses what is not a regular file of an acceptable size.
fn regular(metadata: &std::fs::Metadata) -> Result<(), String> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return if metadata.len() > MAX_FILE_BYTES {
            Err(format!("it is {}", too_large()))
        } else {
            Ok(())
        };
    }
    let what = if kind.is_dir() {
        "a directory"
    } else {
        special_kind(&kind)
    };
    Err(format!("it is {what}, not a regular file"))
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// `.mesh` files under `dir`, sorted by path, depth first. Symlinks to folders inside it
/// are not followed (as `find` and `git` do not), so a link to `..` or `/` cannot make the
/// walk loop or wander; symlinks to files are kept, and read like any file. No folder is
/// entered twice (bind mounts can loop too), and the walk keeps its own stack, so depth
/// costs no recursion. Under [`Reach::Under`], a folder outside the root is an error.
pub(crate) fn mesh_files(dir: &Path, out: &mut Vec<PathBuf>, reach: &Reach) -> std::io::Result<()> {
    files_under(dir, &["mesh"], out, reach)
}

/// Files with one of `extensions` under `dir`, walked as [`mesh_files`] walks.
pub(crate) fn files_under(
    dir: &Path,
    extensions: &[&str],
    out: &mut Vec<PathBuf>,
    reach: &Reach,
) -> std::io::Result<()> {
    let mut visited: BTreeSet<PathBuf> = BTreeSet::new();
    // Each level holds the entries of one folder still to visit, last first.
    let mut levels: Vec<Vec<PathBuf>> = vec![vec![dir.to_path_buf()]];
    while let Some(level) = levels.last_mut() {
        let Some(path) = level.pop() else {
            levels.pop();
            continue;
        };
        // The folder named by the caller is followed if it is a link; those inside it not.
        let folder = if levels.len() == 1 {
            path.is_dir()
        } else {
            std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir())
        };
        if folder {
            let real = std::fs::canonicalize(&path)?;
            if let Reach::Under(root) = reach {
                if !real.starts_with(root) {
                    return Err(std::io::Error::other(format!(
                        "{} leads outside the kustomization's folder {}",
                        path.display(),
                        root.display()
                    )));
                }
            }
            if visited.insert(real) {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(&path)?
                    .map(|e| e.map(|e| e.path()))
                    .collect::<Result<_, _>>()?;
                entries.sort_by(|a, b| b.cmp(a));
                levels.push(entries);
            }
        } else if path.extension().is_some_and(|e| extensions.iter().any(|x| e == *x)) {
            out.push(path);
        }
    }
    Ok(())
}

/// The same file reached by two spellings is read once.
pub(crate) fn identity(path: &Path) -> PathBuf {
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
        std::io::ErrorKind::Other => e.to_string(),
        kind => kind.to_string(),
    }
}
