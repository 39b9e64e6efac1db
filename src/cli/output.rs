//! Writing `meshc build -o` output, and comparing it with what is on disk (`--check`).
//!
//! Rules, for a folder DIR:
//! - the files to write are planned in full before anything is touched (`layout.rs`);
//! - a file meshc wrote earlier is recognised by its header ([`layout::is_generated`]);
//! - each file is replaced atomically: written to a hidden temporary file in the same
//!   directory, flushed to disk, then renamed over the old one; an unchanged file is not
//!   rewritten;
//! - generated files that are no longer produced are removed, and so are the folders they
//!   leave empty;
//! - any other file is never touched (a notice names it), and a planned file whose path is
//!   taken by such a file, a folder or a symbolic link stops the run before any write;
//! - nothing is followed through a symbolic link under DIR.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use super::layout;
use super::report::Notice;

/// Where `-o` sends the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// One file per object (and `kustomization.yaml`).
    Dir(PathBuf),
    /// One multi-document stream.
    File(PathBuf),
}

impl Destination {
    /// A path ending in `.yaml` or `.yml` that is not an existing directory is a file;
    /// anything else is a directory.
    pub(crate) fn of(path: &Path) -> Destination {
        let yaml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if yaml && !path.is_dir() {
            Destination::File(path.to_path_buf())
        } else {
            Destination::Dir(path.to_path_buf())
        }
    }
}

/// What is on disk under DIR: every file or symbolic link, by path relative to DIR.
#[derive(Debug, Default)]
struct Existing {
    /// Relative path (with `/`) → whether meshc generated it.
    files: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Generated,
    Foreign,
    /// A symbolic link, never followed.
    Link,
}

/// Reads DIR, recursively, without following links. A missing DIR is empty.
fn scan(dir: &Path) -> io::Result<Existing> {
    let mut existing = Existing::default();
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(existing),
        Err(e) => return Err(e),
        Ok(m) if !m.is_dir() && !dir.is_dir() => {
            return Err(io::Error::other(format!(
                "{} exists and is not a directory",
                dir.display()
            )))
        }
        Ok(_) => {}
    }
    walk(dir, "", &mut existing)?;
    Ok(existing)
}

fn walk(dir: &Path, prefix: &str, existing: &mut Existing) -> io::Result<()> {
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            existing.files.insert(rel, Entry::Link);
        } else if kind.is_dir() {
            walk(&entry.path(), &format!("{rel}/"), existing)?;
        } else {
            let generated = layout::is_generated(&read_start(&entry.path())?);
            existing
                .files
                .insert(rel, if generated { Entry::Generated } else { Entry::Foreign });
        }
    }
    Ok(())
}

/// The first bytes of a file, enough to recognise the header.
fn read_start(path: &Path) -> io::Result<Vec<u8>> {
    let mut start = Vec::with_capacity(64);
    fs::File::open(path)?
        .take(layout::HEADER_MARK.len() as u64 + 3)
        .read_to_end(&mut start)?;
    Ok(start)
}

fn read_text(path: &Path) -> io::Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Joins a relative `/` path (made of checked components) onto DIR.
fn under(dir: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(dir.to_path_buf(), |path, part| path.join(part))
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory,
/// synced, then renamed over `path`. The temporary file is removed on failure.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other(format!("{} names no file", path.display())))?
        .to_string_lossy()
        .into_owned();
    for attempt in 0..100u32 {
        let temp = dir.join(format!(".{name}.meshc-{}-{attempt}.tmp", std::process::id()));
        let mut file = match fs::OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let written = file.write_all(contents).and_then(|()| file.sync_all()).and_then(|()| {
            drop(file);
            fs::rename(&temp, path)
        });
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        sync_dir(&dir);
        return written;
    }
    Err(io::Error::other(format!(
        "cannot create a temporary file in {}",
        dir.display()
    )))
}

/// Flushes a directory's entries (the renames) to disk, where the platform allows it.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// What a build changed.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub(crate) written: usize,
    pub(crate) unchanged: usize,
    pub(crate) removed: usize,
}

/// Notices for the files under DIR that meshc leaves alone.
fn foreign_notices(dir: &Path, existing: &Existing, planned: &BTreeSet<&str>) -> Vec<Notice> {
    existing
        .files
        .iter()
        .filter(|(rel, entry)| **entry != Entry::Generated && !planned.contains(rel.as_str()))
        .map(|(rel, entry)| Notice {
            path: under(dir, rel).display().to_string(),
            message: match entry {
                Entry::Link => "a symbolic link meshc did not make; left untouched".to_string(),
                _ => "not generated by meshc (no header); left untouched".to_string(),
            },
        })
        .collect()
}

/// Refuses a plan whose files or folders are taken by something meshc must not touch.
fn conflicts(dir: &Path, files: &[(String, String)], existing: &Existing) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut folders = BTreeSet::new();
    for (rel, _) in files {
        match existing.files.get(rel) {
            Some(Entry::Foreign) => problems.push(format!(
                "{} exists and was not generated by meshc; move it away or choose another folder",
                under(dir, rel).display()
            )),
            Some(Entry::Link) => problems.push(format!(
                "{} is a symbolic link; meshc writes only regular files inside {}",
                under(dir, rel).display(),
                dir.display()
            )),
            _ => {}
        }
        if let Some((folder, _)) = rel.rsplit_once('/') {
            folders.insert(folder);
        }
        if under(dir, rel).is_dir() {
            problems.push(format!("{} is a directory", under(dir, rel).display()));
        }
    }
    for folder in folders {
        let path = under(dir, folder);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => problems.push(format!(
                "{} is not a directory (meshc writes only inside {} and follows no link)",
                path.display(),
                dir.display()
            )),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => problems.push(format!("cannot read {}: {e}", path.display())),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Writes the planned files under DIR, removes stale generated ones. Any error message is
/// for `meshc: …` and exit status 2; nothing is written when the plan conflicts.
pub(crate) fn write_dir(dir: &Path, files: &[(String, String)], notices: &mut Vec<Notice>) -> Result<Changes, String> {
    let existing = scan(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    conflicts(dir, files, &existing)?;
    let planned: BTreeSet<&str> = files.iter().map(|(rel, _)| rel.as_str()).collect();
    notices.extend(foreign_notices(dir, &existing, &planned));
    let mut changes = Changes::default();
    for (rel, contents) in files {
        let path = under(dir, rel);
        let current = if existing.files.contains_key(rel) {
            read_text(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
        } else {
            None
        };
        if current.as_deref() == Some(contents.as_str()) {
            changes.unchanged += 1;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        write_atomic(&path, contents.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        changes.written += 1;
    }
    let mut emptied = BTreeSet::new();
    for (rel, entry) in &existing.files {
        if *entry == Entry::Generated && !planned.contains(rel.as_str()) {
            let path = under(dir, rel);
            fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            changes.removed += 1;
            let mut folder = rel.as_str();
            while let Some((parent, _)) = folder.rsplit_once('/') {
                emptied.insert(parent.to_string());
                folder = parent;
            }
        }
    }
    // Deepest first; `remove_dir` fails, harmlessly, on a folder that still holds anything.
    for folder in emptied.iter().rev() {
        let _ = fs::remove_dir(under(dir, folder));
    }
    Ok(changes)
}

/// Writes the single stream of `-o FILE.yaml`. Returns whether the file changed.
pub(crate) fn write_file(path: &Path, contents: &str) -> Result<bool, String> {
    let current = read_text(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match &current {
        Some(text) if text == contents => return Ok(false),
        Some(text) if !text.is_empty() && !layout::is_generated(text.as_bytes()) => {
            return Err(format!(
                "{} exists and was not generated by meshc; move it away or choose another file",
                path.display()
            ))
        }
        _ => {}
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    write_atomic(path, contents.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(true)
}

/// How one file differs from what meshc produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Drift {
    Changed,
    Missing,
    Stale,
}

/// One differing file with its unified diff.
#[derive(Debug, Clone)]
pub(crate) struct Difference {
    pub(crate) drift: Drift,
    pub(crate) diff: String,
}

/// A unified diff from `old` (on disk) to `new` (what meshc produces); `None` stands for
/// an absent file, shown as `/dev/null`.
pub(crate) fn unified(name: &str, old: Option<&str>, new: Option<&str>) -> String {
    let (a, b) = (
        if old.is_some() { name } else { "/dev/null" },
        if new.is_some() { name } else { "/dev/null" },
    );
    similar::TextDiff::from_lines(old.unwrap_or(""), new.unwrap_or(""))
        .unified_diff()
        .context_radius(3)
        .header(a, b)
        .to_string()
}

/// Compares DIR with the plan: changed, missing and stale files, each with its diff
/// (paths relative to DIR). Errors are I/O trouble.
pub(crate) fn check_dir(
    dir: &Path,
    files: &[(String, String)],
    notices: &mut Vec<Notice>,
) -> Result<Vec<Difference>, String> {
    let existing = scan(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let planned: BTreeSet<&str> = files.iter().map(|(rel, _)| rel.as_str()).collect();
    notices.extend(foreign_notices(dir, &existing, &planned));
    let mut differences = Vec::new();
    for (rel, contents) in files {
        let path = under(dir, rel);
        let current = match existing.files.get(rel) {
            None => None,
            Some(Entry::Link) => Some(format!("(a symbolic link to {})", link_target(&path))),
            Some(_) => read_text(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        };
        match current {
            None => differences.push(Difference {
                drift: Drift::Missing,
                diff: unified(rel, None, Some(contents)),
            }),
            Some(text) if text != *contents => differences.push(Difference {
                drift: Drift::Changed,
                diff: unified(rel, Some(&text), Some(contents)),
            }),
            Some(_) => {}
        }
    }
    for (rel, entry) in &existing.files {
        if *entry == Entry::Generated && !planned.contains(rel.as_str()) {
            let path = under(dir, rel);
            let text = read_text(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .unwrap_or_default();
            differences.push(Difference {
                drift: Drift::Stale,
                diff: unified(rel, Some(&text), None),
            });
        }
    }
    Ok(differences)
}

fn link_target(path: &Path) -> String {
    fs::read_link(path).map_or_else(|_| "?".to_string(), |t| t.display().to_string())
}

/// Compares the file of `-o FILE.yaml` with what meshc produces.
pub(crate) fn check_file(path: &Path, contents: &str) -> Result<Option<Difference>, String> {
    let current = read_text(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let name = path.display().to_string();
    Ok(match current {
        None => Some(Difference {
            drift: Drift::Missing,
            diff: unified(&name, None, Some(contents)),
        }),
        Some(text) if text != contents => Some(Difference {
            drift: Drift::Changed,
            diff: unified(&name, Some(&text), Some(contents)),
        }),
        Some(_) => None,
    })
}

/// Writes documents to stdout as one multi-document stream, one at a time through a buffer,
/// so a large output is never copied whole.
pub(crate) fn write_documents(documents: &[meshc::Document]) -> io::Result<()> {
    use std::io::Write as _;
    let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    for document in documents {
        stdout.write_all(b"---\n")?;
        stdout.write_all(document.yaml.as_bytes())?;
    }
    stdout.flush()
}
