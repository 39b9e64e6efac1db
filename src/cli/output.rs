//! Writing `meshc build -o` output, and comparing it with what is on disk (`--check`).
//!
//! Rules, for a folder DIR:
//! - the files to write are planned in full before anything is touched (`layout.rs`);
//! - ownership is explicit: `DIR/.meshc-owned` records exactly the files the last build of
//!   DIR wrote, each with the hash of its contents ([`layout::record`]). Only those are
//!   replaced or removed, and a stale one only while its contents still have the recorded
//!   hash: one edited by hand is kept (a warning names it) and leaves the record. A file
//!   that merely starts with the generated header is not meshc's;
//! - a folder with no record (new, or written by a meshc before records) is migrated: a
//!   planned file holding the header is replaced as before, but nothing is removed; the
//!   header-bearing files the build no longer produces are named in warnings;
//! - a subfolder with its own `.meshc-owned` is another output folder: it and everything
//!   under it are left alone, and a plan that would write into it is refused;
//! - only regular files are ever opened: a FIFO, socket or device is never read, so
//!   nothing can hang on one; a file that cannot be read is named in the error;
//! - nothing is followed through a symbolic link under DIR;
//! - runs on one folder are serialised by a lock on DIR itself (see [`lock`]);
//! - the order of writes keeps DIR usable by kustomize at every moment (see [`write_dir`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::layout::{self, PathMap, PathSet, Recorded, Stat};
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

    /// The folder the header names sources relative to: DIR, or the folder of FILE.yaml.
    pub(crate) fn folder(&self) -> PathBuf {
        match self {
            Destination::Dir(dir) => dir.clone(),
            Destination::File(file) => match file.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            },
        }
    }
}

/// The header's names of `sources` (as loaded) for output in `folder`: see
/// [`layout::source_name`]. A name that is no file (`--var`) is kept; one that cannot be
/// resolved is named by its file name.
pub(crate) fn source_names(sources: &[&str], folder: &Path) -> Vec<String> {
    let folder = resolve(folder);
    sources
        .iter()
        .map(|name| match fs::canonicalize(name) {
            Ok(path) => layout::source_name(&path, &folder),
            Err(_) if Path::new(name).is_absolute() => Path::new(name)
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            Err(_) => (*name).to_string(),
        })
        .collect()
}

/// `path` made absolute with every symbolic link resolved, for a path that may not exist
/// yet: the longest existing ancestor is resolved, the rest appended (`..` undone by hand).
fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = fs::canonicalize(existing) {
            let mut out = real;
            for part in rest.iter().rev() {
                if *part == std::ffi::OsStr::new("..") {
                    out.pop();
                } else if *part != std::ffi::OsStr::new(".") {
                    out.push(part);
                }
            }
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// What is on disk under DIR, found without following links or opening any file.
#[derive(Debug, Default)]
struct Existing {
    /// Relative path (with `/`) of every entry that is not a folder.
    files: PathMap<String, Entry>,
    /// Relative paths of the folders walked.
    folders: PathSet<String>,
    /// Subfolders with their own record: other output folders, never entered.
    nested: BTreeSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    File,
    /// A symbolic link, never followed.
    Link,
    /// A FIFO, socket or device: never opened.
    Special,
}

impl Existing {
    /// The nested output folder `rel` lies in, if any.
    fn nested_folder_of(&self, rel: &str) -> Option<&str> {
        self.nested
            .iter()
            .find(|folder| rel.strip_prefix(folder.as_str()).is_some_and(|r| r.starts_with('/')))
            .map(String::as_str)
    }
}

/// Reads DIR, recursively, without following links. A missing DIR is empty.
fn scan(dir: &Path) -> Result<Existing, String> {
    let mut existing = Existing::default();
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(existing),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
        Ok(m) if !m.is_dir() && !dir.is_dir() => {
            return Err(format!("{} exists and is not a directory", dir.display()))
        }
        Ok(_) => {}
    }
    walk(dir, "", &mut existing)?;
    Ok(existing)
}

/// Lists `dir` (`prefix`: its path under DIR with a trailing `/`, empty for DIR itself)
/// into `existing`. Returns whether it is another output folder (below DIR, a folder
/// whose listing holds a record): then nothing of it is kept. One listing per folder, no
/// stat of any entry (the listing gives each entry's type).
fn walk(dir: &Path, prefix: &str, existing: &mut Existing) -> Result<bool, String> {
    let trouble = |e: io::Error| format!("cannot read {}: {e}", dir.display());
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(trouble)? {
        let entry = entry.map_err(trouble)?;
        let name = entry.file_name();
        if !prefix.is_empty() && name == layout::RECORD {
            return Ok(true);
        }
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
        entries.push((name, kind));
    }
    for (name, kind) in entries {
        let name = name.to_string_lossy();
        if prefix.is_empty() && is_own(&name) {
            continue;
        }
        let mut rel = String::with_capacity(prefix.len() + name.len() + 1);
        rel.push_str(prefix);
        rel.push_str(&name);
        if kind.is_symlink() {
            existing.files.insert(rel, Entry::Link);
        } else if kind.is_dir() {
            rel.push('/');
            let nested = walk(&dir.join(&*name), &rel, existing)?;
            rel.pop();
            if nested {
                existing.nested.insert(rel);
            } else {
                existing.folders.insert(rel);
            }
        } else if kind.is_file() {
            existing.files.insert(rel, Entry::File);
        } else {
            existing.files.insert(rel, Entry::Special);
        }
    }
    Ok(false)
}

/// meshc's own files at the top of DIR: the record and its temporary file.
fn is_own(name: &str) -> bool {
    name == layout::RECORD || name == record_temp_name()
}

fn record_temp_name() -> &'static str {
    ".meshc-owned.tmp"
}

/// Reads a regular file, never blocking: it is opened without following a link and with
/// `O_NONBLOCK` (so a FIFO swapped in since the scan cannot hang the run), and anything but
/// a regular file is refused. Errors name `path`.
fn read_regular(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    read_regular_into(path, &mut bytes)?;
    Ok(bytes)
}

/// [`read_regular`] into a buffer the caller reuses (tens of thousands of files are read
/// in one run: one allocation instead of one per file).
fn read_regular_into(path: &Path, bytes: &mut Vec<u8>) -> Result<(), String> {
    read_regular_meta(path, bytes).map(|_| ()).map_err(|e| e.0)
}

/// [`read_regular_into`], returning the file's metadata (as read before its contents), or
/// the error with its kind when the open failed for a reason the caller may tell apart.
fn read_regular_meta(path: &Path, bytes: &mut Vec<u8>) -> Result<fs::Metadata, (String, Option<io::ErrorKind>)> {
    let trouble = |e: io::Error| (format!("cannot read {}: {e}", path.display()), None);
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let mut file = options
        .open(path)
        .map_err(|e| (format!("cannot read {}: {e}", path.display()), Some(e.kind())))?;
    let meta = file.metadata().map_err(trouble)?;
    if !meta.is_file() {
        return Err((format!("cannot read {}: not a regular file", path.display()), None));
    }
    // The size is known: one `read` fills the buffer (std's `read_to_end` would ask the
    // size again and read once more to meet the end).
    bytes.clear();
    bytes.resize(
        usize::try_from(meta.len()).map_err(|e| trouble(io::Error::other(e)))?,
        0,
    );
    let mut filled = 0;
    while filled < bytes.len() {
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(trouble(e)),
        }
    }
    bytes.truncate(filled);
    Ok(meta)
}

/// Joins a relative `/` path (made of checked components) onto DIR: one join where `/` is
/// the separator (once per file of the folder, tens of thousands of times in one run), one
/// per component elsewhere.
fn under(dir: &Path, rel: &str) -> PathBuf {
    if cfg!(unix) {
        return dir.join(rel);
    }
    let mut path = PathBuf::with_capacity(dir.as_os_str().len() + rel.len() + 1);
    path.push(dir);
    for part in rel.split('/') {
        path.push(part);
    }
    path
}

/// The folder part of a relative path (`""` at the top).
fn parent_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// The temporary file a replacement is written to before its rename: hidden, next to it.
fn temp_of(rel: &str) -> String {
    match rel.rsplit_once('/') {
        Some((folder, name)) => format!("{folder}/.{name}.meshc.tmp"),
        None => format!(".{rel}.meshc.tmp"),
    }
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory,
/// synced, then renamed over `path`, and the directory synced. The temporary file is
/// removed on failure.
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

/// Replaces `path` by a temporary file of a fixed name (the record lists it as pending
/// beforehand, and the folder is locked), synced, renamed, and the folder synced.
fn replace_with(dir: &Path, rel: &str, temp: &str, contents: &[u8]) -> Result<(), String> {
    let (path, temp_path) = (under(dir, rel), under(dir, temp));
    let written = fs::File::create(&temp_path)
        .and_then(|mut file| file.write_all(contents).and_then(|()| file.sync_all()))
        .and_then(|()| fs::rename(&temp_path, &path));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp_path);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    sync_dir(&under(dir, parent_of(rel)));
    Ok(())
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

/// Flushes every file written under `dir` so far in one call: `syncfs` on Linux, which
/// costs one flush of the file system instead of one per file. Elsewhere the files are
/// synced one by one (`files`).
fn sync_all_files(dir: &Path, files: &[PathBuf]) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        let _ = files;
        let handle = fs::File::open(dir).map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
        rustix::fs::syncfs(&handle).map_err(|e| format!("cannot flush {}: {e}", dir.display()))?;
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        for path in files {
            fs::File::open(path)
                .and_then(|f| f.sync_all())
                .map_err(|e| format!("cannot flush {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// How long a run waits for another one holding the folder's lock, unless the
/// environment variable `MESHC_LOCK_WAIT` gives another number of seconds (0: do not wait).
const LOCK_WAIT: Duration = Duration::from_secs(10);

fn lock_wait() -> Duration {
    std::env::var("MESHC_LOCK_WAIT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(LOCK_WAIT, Duration::from_secs)
}

/// A held lock on an output folder; released when dropped (or when the process dies, so a
/// lock can never be left stale).
struct Lock(#[allow(dead_code)] fs::File);

/// Locks DIR itself (an advisory `flock` on the directory, so no lock file is left in the
/// folder): exclusively to write, shared to compare. Another run holding it is waited for
/// up to [`lock_wait`], with a message; then the run stops with an error naming DIR.
fn lock(dir: &Path, exclusive: bool) -> Result<Lock, String> {
    let handle = fs::File::open(dir).map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
    let started = Instant::now();
    let wait = lock_wait();
    let mut told = false;
    loop {
        let attempt = if exclusive {
            handle.try_lock()
        } else {
            handle.try_lock_shared()
        };
        match attempt {
            Ok(()) => return Ok(Lock(handle)),
            Err(fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                if !told {
                    super::report::progress(&format!(
                        "waiting for another meshc run that is writing {}",
                        dir.display()
                    ));
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "{} is locked by another meshc run (still held after {} s); try again when it has finished",
                    dir.display(),
                    wait.as_secs()
                ))
            }
            Err(fs::TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", dir.display())),
        }
    }
}

/// The record of DIR as read.
struct OldRecord {
    text: String,
    record: Record,
    /// The record's own modification time (ns): a file whose change time is not strictly
    /// older is racy (see [`Stat::racy`]).
    mtime: i64,
}

/// The record of DIR: `None` when there is none (a new folder, or one written by a meshc
/// before records).
fn read_record(dir: &Path) -> Result<Option<OldRecord>, String> {
    let path = dir.join(layout::RECORD);
    let mut bytes = Vec::new();
    let meta = match read_regular_meta(&path, &mut bytes) {
        Err(e) if e.1 == Some(io::ErrorKind::NotFound) => return Ok(None),
        Err(e) => return Err(e.0),
        Ok(meta) => meta,
    };
    // Unknown (no stat): every file counts as racy, and is read.
    let mtime = stat_of(&meta).map_or(i64::MIN, |stat| stat.mtime);
    let text = String::from_utf8(bytes).map_err(|_| format!("{} is damaged: it is not UTF-8", path.display()))?;
    let record = layout::parse_record(&text).map_err(|why| {
        format!(
            "{} is damaged ({why}); delete it to start over (meshc then removes nothing it finds)",
            path.display()
        )
    })?;
    Ok(Some(OldRecord { text, record, mtime }))
}

/// A parsed record: path → what it says of it.
type Record = PathMap<String, Recorded>;

/// The stat the record keeps of a file (`None` where the platform has no inode numbers).
fn stat_of(meta: &fs::Metadata) -> Option<Stat> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let ns = |seconds: i64, nanos: i64| seconds.checked_mul(1_000_000_000)?.checked_add(nanos);
        Some(Stat {
            size: meta.size(),
            inode: meta.ino(),
            ctime: ns(meta.ctime(), meta.ctime_nsec())?,
            mtime: ns(meta.mtime(), meta.mtime_nsec())?,
        })
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// The stat of the regular file `rel` under `dir` (not following a link), if it is one;
/// on Linux looked up from `handle`, DIR opened.
fn stat_in(handle: Option<&fs::File>, dir: &Path, rel: &str) -> Option<Stat> {
    #[cfg(target_os = "linux")]
    if let Some(handle) = handle {
        use rustix::fs::{statat, AtFlags, FileType};
        let st = statat(handle, rel, AtFlags::SYMLINK_NOFOLLOW).ok()?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return None;
        }
        // As `MetadataExt` gives them (the record's stats of written files come from it).
        let ns = |seconds: i64, nanos: i64| seconds.checked_mul(1_000_000_000)?.checked_add(nanos);
        return Some(Stat {
            size: u64::try_from(st.st_size).ok()?,
            inode: st.st_ino,
            ctime: ns(st.st_ctime, i64::try_from(st.st_ctime_nsec).ok()?)?,
            mtime: ns(st.st_mtime, i64::try_from(st.st_mtime_nsec).ok()?)?,
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = handle;
    stat_path(&under(dir, rel))
}

/// The stat of the regular file at `path` (not following a link), if it is one.
fn stat_path(path: &Path) -> Option<Stat> {
    fs::symlink_metadata(path)
        .ok()
        .filter(fs::Metadata::is_file)
        .and_then(|meta| stat_of(&meta))
}

/// Whether the record makes the file at `rel`, holding `bytes`, meshc's.
fn owns(record: &Record, rel: &str, bytes: &[u8]) -> bool {
    record.get(rel).is_some_and(|recorded| recorded.owns(bytes))
}

/// What a build changed.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub(crate) written: usize,
    pub(crate) unchanged: usize,
    /// The files removed, as paths under DIR.
    pub(crate) removed: Vec<PathBuf>,
}

/// What to do with one planned file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Unchanged,
    /// No file there yet: written in place (`create_new`).
    New,
    /// Replaced through a temporary file and a rename.
    Replace,
}

/// What one run finds: each planned file's step, the stale files it may remove, and the
/// trouble that stops it. Shared by `build` and `--check`.
struct Survey {
    steps: Vec<Step>,
    /// Stale files meshc owns (unplanned, in the record, contents as recorded or pending).
    stale: Vec<String>,
    /// Why the plan cannot be carried out (nothing is written then).
    conflicts: Vec<String>,
    /// The current text of each changed planned file, for `--check`'s diffs.
    current: BTreeMap<String, Vec<u8>>,
    /// A stat of each planned file that is there (for the next record).
    stats: Vec<Option<Stat>>,
}

/// Compares DIR with the plan (`hashes`: of each planned file's contents), reading each
/// file at most once, and none whose stat is still the one the record keeps, unless it is
/// racy ([`Stat::racy`]). `keep_text` keeps the text of differing files (for diffs).
fn survey(
    dir: &Path,
    files: &[(String, String)],
    hashes: &[u64],
    existing: &Existing,
    old: Option<&OldRecord>,
    notices: &mut Vec<Notice>,
    keep_text: bool,
) -> Result<Survey, String> {
    let record = old.map(|old| &old.record);
    let mut survey = Survey {
        steps: Vec::with_capacity(files.len()),
        stale: Vec::new(),
        conflicts: Vec::new(),
        current: BTreeMap::new(),
        stats: Vec::with_capacity(files.len()),
    };
    let planned: PathSet<&str> = files.iter().map(|(rel, _)| rel.as_str()).collect();
    let mut folders_checked = PathSet::default();
    let mut found = Vec::new();
    let mut bytes = Vec::new();
    // Files are looked up from DIR's own handle: no path to build, less of one to walk.
    let handle = fs::File::open(dir).ok();
    for ((rel, contents), &hash) in files.iter().zip(hashes) {
        let mut stat = None;
        let path = || under(dir, rel);
        // Every folder on the way must be a real folder of DIR's own.
        let mut folder = parent_of(rel);
        while !folder.is_empty() && folders_checked.insert(folder) {
            if existing.nested.contains(folder) {
                survey.conflicts.push(format!(
                    "{} is another output folder (it has its own {}); meshc does not write into it",
                    under(dir, folder).display(),
                    layout::RECORD
                ));
            } else if existing.files.contains_key(folder) {
                survey.conflicts.push(format!(
                    "{} is not a directory (meshc writes only inside {} and follows no link)",
                    under(dir, folder).display(),
                    dir.display()
                ));
            }
            folder = parent_of(folder);
        }
        let step = match existing.files.get(rel.as_str()) {
            None if existing.folders.contains(rel.as_str()) || existing.nested.contains(rel.as_str()) => {
                survey.conflicts.push(format!("{} is a directory", path().display()));
                Step::New
            }
            None => Step::New,
            Some(Entry::Link) => {
                survey.conflicts.push(format!(
                    "{} is a symbolic link; meshc writes only regular files inside {}",
                    path().display(),
                    dir.display()
                ));
                Step::Replace
            }
            Some(Entry::Special) => {
                survey.conflicts.push(format!(
                    "{} is not a regular file (a FIFO, socket or device); move it away",
                    path().display()
                ));
                Step::Replace
            }
            Some(Entry::File) => {
                stat = stat_in(handle.as_ref(), dir, rel);
                let recorded = record.and_then(|r| r.get(rel.as_str()));
                let as_recorded = match (recorded, stat, old) {
                    (Some(recorded), Some(now), Some(old)) => {
                        !recorded.pending
                            && recorded.hash == Some(hash)
                            && recorded.stat == Some(now)
                            && !now.racy(old.mtime)
                    }
                    _ => false,
                };
                if !as_recorded {
                    read_regular_into(&path(), &mut bytes)?;
                }
                if as_recorded || bytes == contents.as_bytes() {
                    Step::Unchanged
                } else {
                    match record {
                        Some(record) if owns(record, rel, &bytes) => {}
                        Some(record) if record.contains_key(rel.as_str()) => found.push(Notice::warning(
                            path().display().to_string(),
                            "edited since meshc wrote it; replaced with the generated file \
                             (put the change in the .mesh file)",
                        )),
                        None if layout::is_generated(&bytes) => {}
                        _ => survey.conflicts.push(format!(
                            "{} exists and was not generated by meshc for this folder; move it away or choose another folder",
                            path().display()
                        )),
                    }
                    if keep_text {
                        survey.current.insert(rel.clone(), bytes.clone());
                    }
                    Step::Replace
                }
            }
        };
        if step != Step::Unchanged {
            let temp = temp_of(rel);
            let ours = record.is_some_and(|r| r.get(&temp).is_some_and(|o| o.pending));
            if existing.files.contains_key(&temp) && !ours {
                survey.conflicts.push(format!(
                    "{} is in the way of meshc's temporary file; move it away",
                    under(dir, &temp).display()
                ));
            }
        }
        // An unchanged file keeps the stat its record line has, when it has one: a record
        // committed from another copy of the folder (where every inode and time differ) then
        // changes only in the lines of the files a build rewrites, as its hashes do.
        if step == Step::Unchanged {
            if let Some(recorded) = record.and_then(|r| r.get(rel.as_str())).and_then(|r| r.stat) {
                stat = Some(recorded);
            }
        }
        survey.steps.push(step);
        survey.stats.push(stat);
    }
    // Stale files: in the record, no longer planned (nor a temporary file this run uses).
    let temps: PathSet<String> = files
        .iter()
        .zip(&survey.steps)
        .filter(|(_, step)| **step != Step::Unchanged)
        .map(|((rel, _), _)| temp_of(rel))
        .collect();
    if let Some(record) = record {
        for (rel, recorded) in record {
            if planned.contains(rel.as_str()) || temps.contains(rel) || existing.files.get(rel) != Some(&Entry::File) {
                continue;
            }
            if existing.nested_folder_of(rel).is_some() {
                continue;
            }
            let path = under(dir, rel);
            let ours = recorded.pending || recorded.owns(&read_regular(&path)?);
            if ours {
                survey.stale.push(rel.clone());
            } else {
                found.push(Notice::warning(
                    path.display().to_string(),
                    "edited since meshc wrote it, and no longer generated; kept (delete it if it is not needed)",
                ));
            }
        }
    }
    // Everything else under DIR is left alone, with a notice.
    survey.stale.sort_unstable();
    let stale: PathSet<&str> = survey.stale.iter().map(String::as_str).collect();
    for (rel, entry) in &existing.files {
        let rel = rel.as_str();
        if planned.contains(rel)
            || stale.contains(rel)
            || temps.contains(rel)
            || record.is_some_and(|r| r.contains_key(rel))
        {
            continue;
        }
        let path = under(dir, rel);
        let message = match entry {
            Entry::Link => "a symbolic link meshc did not make; left untouched",
            Entry::Special => "not a regular file; left untouched",
            Entry::File if record.is_none() && read_start(&path).is_some_and(|s| layout::is_generated(&s)) => {
                "has the generated header but this folder has no record of meshc's files \
                 (written by an earlier meshc?); not removed: delete it if it is stale"
            }
            Entry::File => "not generated by meshc for this folder; left untouched",
        };
        found.push(Notice::warning(path.display().to_string(), message));
    }
    for folder in &existing.nested {
        found.push(Notice::warning(
            under(dir, folder).display().to_string(),
            format!("another output folder (it has its own {}); left alone", layout::RECORD),
        ));
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    notices.extend(found);
    Ok(survey)
}

/// The first bytes of a regular file, enough to recognise the header; `None` if it
/// cannot be read.
fn read_start(path: &Path) -> Option<Vec<u8>> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = options.open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut start = Vec::with_capacity(64);
    file.take(layout::HEADER_MARK.len() as u64 + 3)
        .read_to_end(&mut start)
        .ok()?;
    Some(start)
}

/// The record after a successful build: exactly the planned files.
/// The record after a successful build: exactly the planned files, with the hashes of
/// their contents (`hashes`) and, where known, their stats.
fn final_record(files: &[(String, String)], hashes: &[u64], stats: &[Option<Stat>]) -> String {
    layout::record(files.iter().zip(hashes).enumerate().map(|(i, ((rel, _), &hash))| {
        (
            rel.as_str(),
            Recorded {
                stat: stats.get(i).copied().flatten(),
                ..Recorded::hash(hash)
            },
        )
    }))
}

/// The hash of each planned file's contents.
fn hashes_of(files: &[(String, String)]) -> Vec<u64> {
    files
        .iter()
        .map(|(_, contents)| layout::content_hash(contents.as_bytes()))
        .collect()
}

/// Writes the planned files under DIR and removes the stale ones meshc owns. Any error
/// message is for `meshc: …` and exit status 2; nothing is written when the plan
/// conflicts with what is there.
///
/// The order keeps DIR consistent for kustomize through any interruption (a write error,
/// a full disk, SIGKILL, a power cut), and lets the next run repair it:
/// 1. the record is rewritten to also list, as `pending`, every path about to be written
///    (and the temporary files), so whatever an interruption leaves there is known to be
///    meshc's and is replaced or removed by the next run;
/// 2. new files are written in place (no index lists them yet), replacements to hidden
///    temporary files; then one `syncfs` makes all their data, and the new entries, durable
///    at once;
/// 3. the temporary files are renamed over the old ones (each an atomic swap of a file the
///    old index may list), and each folder renamed in is synced once;
/// 4. only then `kustomization.yaml`, the index, is swapped in the same way: before this
///    point kustomize sees the old file list, all of which still exists; after it, the new
///    one, all of which is on disk. (A file both lists share may already hold its new
///    contents before the swap: kustomize still builds.);
/// 5. stale files are removed (each named), and emptied folders;
/// 6. the record is rewritten to list exactly the planned files.
pub(crate) fn write_dir(dir: &Path, files: &[(String, String)], notices: &mut Vec<Notice>) -> Result<Changes, String> {
    if let Ok(meta) = fs::symlink_metadata(dir) {
        if !meta.is_dir() && !dir.is_dir() {
            return Err(format!("{} exists and is not a directory", dir.display()));
        }
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let _lock = lock(dir, true)?;
    let existing = scan(dir)?;
    let old = read_record(dir)?;
    let hashes = hashes_of(files);
    let mut survey = survey(dir, files, &hashes, &existing, old.as_ref(), notices, false)?;
    if !survey.conflicts.is_empty() {
        return Err(survey.conflicts.join("\n"));
    }
    let record = old.as_ref().map(|old| &old.record);
    let old_text = old.as_ref().map(|old| old.text.as_str());
    let mut changes = Changes {
        unchanged: survey.steps.iter().filter(|s| **s == Step::Unchanged).count(),
        ..Changes::default()
    };
    let nothing_to_do = survey.stale.is_empty() && changes.unchanged == files.len();
    if !nothing_to_do {
        // 1. The intent record.
        let mut intent: BTreeMap<&str, Recorded> = BTreeMap::new();
        if let Some(record) = record {
            intent.extend(record.iter().map(|(rel, recorded)| (rel.as_str(), *recorded)));
        }
        let temps: Vec<String> = files.iter().map(|(rel, _)| temp_of(rel)).collect();
        for (((rel, _), step), temp) in files.iter().zip(&survey.steps).zip(&temps) {
            let paths: &[&str] = match step {
                Step::Unchanged => &[],
                // The index always goes through its temporary file (step 4).
                Step::New if rel != layout::KUSTOMIZATION => &[rel],
                _ => &[rel, temp],
            };
            for path in paths {
                intent.entry(path).or_default().pending = true;
            }
        }
        write_record(dir, &layout::record(intent))?;

        // 2. New files in place, replacements to temporary files; one flush for all.
        let created = create_folders(dir, files, &survey.steps, &existing)?;
        let mut written_paths = Vec::new();
        let mut index = None;
        for (i, (((rel, contents), step), temp)) in files.iter().zip(&survey.steps).zip(&temps).enumerate() {
            if *step == Step::Unchanged {
                continue;
            }
            if rel == layout::KUSTOMIZATION {
                index = Some(contents);
                continue;
            }
            let (target, fresh) = match step {
                Step::New => (under(dir, rel), true),
                _ => (under(dir, temp), false),
            };
            let mut options = fs::OpenOptions::new();
            options.write(true);
            if fresh {
                options.create_new(true);
            } else {
                options.create(true).truncate(true);
            }
            let file = options
                .open(&target)
                .and_then(|mut file| file.write_all(contents.as_bytes()).map(|()| file))
                .map_err(|e| format!("cannot write {}: {e}", under(dir, rel).display()))?;
            // A new file stays where it is written: its stat is final now (a replacement's
            // is taken after its rename).
            survey.stats[i] = if fresh {
                file.metadata().ok().and_then(|meta| stat_of(&meta))
            } else {
                None
            };
            written_paths.push(target);
            changes.written += 1;
        }
        sync_all_files(dir, &written_paths)?;

        // 3. The swaps, then one flush per folder renamed in. (New files and folders were
        // made before the flush of step 2, which made their entries durable too: `syncfs`
        // writes the file system's metadata as well.)
        // Elsewhere the files were flushed one by one, and every folder written to is.
        let every_folder = !cfg!(target_os = "linux");
        let mut touched: BTreeSet<&str> = BTreeSet::new();
        if every_folder {
            touched.extend(created.iter().map(|f| parent_of(f)));
        }
        for (i, (((rel, _), step), temp)) in files.iter().zip(&survey.steps).zip(&temps).enumerate() {
            if *step == Step::Unchanged || rel == layout::KUSTOMIZATION {
                continue;
            }
            if every_folder {
                touched.insert(parent_of(rel));
            }
            if *step == Step::Replace {
                touched.insert(parent_of(rel));
                let path = under(dir, rel);
                fs::rename(under(dir, temp), &path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                survey.stats[i] = stat_path(&path);
            }
        }
        for folder in &touched {
            sync_dir(&under(dir, folder));
        }

        // 4. The index.
        if let Some(contents) = index {
            replace_with(
                dir,
                layout::KUSTOMIZATION,
                &temp_of(layout::KUSTOMIZATION),
                contents.as_bytes(),
            )?;
            changes.written += 1;
            if let Some(i) = files.iter().position(|(rel, _)| rel == layout::KUSTOMIZATION) {
                survey.stats[i] = stat_path(&under(dir, layout::KUSTOMIZATION));
            }
        }

        // 5. Stale files, then the folders they leave empty (deepest first; `remove_dir`
        // fails, harmlessly, on a folder that still holds anything).
        let mut emptied = BTreeSet::new();
        for rel in &survey.stale {
            let path = under(dir, rel);
            fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            changes.removed.push(path);
            let mut folder = rel.as_str();
            while let Some((parent, _)) = folder.rsplit_once('/') {
                emptied.insert(parent.to_string());
                folder = parent;
            }
        }
        for folder in emptied.iter().rev() {
            let _ = fs::remove_dir(under(dir, folder));
        }
    }
    // 6. The record of exactly what this build wrote, with each file's stat. A build that
    // changes nothing leaves the record as it is when only the stats would change (a copy
    // of the folder on another disk, or checked out anew): its files are then read on
    // each run, as before stats, but a committed folder stays as committed.
    let stale_hashes = || old_text.is_none_or(|text| layout::without_stats(text) != final_record(files, &hashes, &[]));
    if !nothing_to_do || stale_hashes() {
        write_record(dir, &final_record(files, &hashes, &survey.stats))?;
    }
    Ok(changes)
}

/// Creates the missing folders of new files; returns them (relative), parents first.
fn create_folders(
    dir: &Path,
    files: &[(String, String)],
    steps: &[Step],
    existing: &Existing,
) -> Result<Vec<String>, String> {
    let mut created = Vec::new();
    let mut seen = BTreeSet::new();
    for ((rel, _), step) in files.iter().zip(steps) {
        if *step != Step::New {
            continue;
        }
        let mut chain = Vec::new();
        let mut folder = parent_of(rel);
        while !folder.is_empty() && !existing.folders.contains(folder) && seen.insert(folder) {
            chain.push(folder);
            folder = parent_of(folder);
        }
        for folder in chain.into_iter().rev() {
            let path = under(dir, folder);
            match fs::create_dir(&path) {
                Ok(()) => created.push(folder.to_string()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
                Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
            }
        }
    }
    Ok(created)
}

/// Replaces the record atomically.
fn write_record(dir: &Path, text: &str) -> Result<(), String> {
    replace_with(dir, layout::RECORD, record_temp_name(), text.as_bytes())
}

/// The text of `-o FILE.yaml` if it exists; a FIFO, socket or device there is refused
/// without being opened.
fn read_text(path: &Path) -> Result<Option<String>, String> {
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        Ok(meta) if !meta.is_file() => Err(format!(
            "{} is not a regular file; meshc writes only regular files",
            path.display()
        )),
        Ok(_) => {
            let bytes = read_regular_following(path)?;
            Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
        }
    }
}

/// [`read_regular`] for a path given on the command line, which may be a link.
fn read_regular_following(path: &Path) -> Result<Vec<u8>, String> {
    let real = fs::canonicalize(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    read_regular(&real).map_err(|e| e.replace(&real.display().to_string(), &path.display().to_string()))
}

/// Writes the single stream of `-o FILE.yaml`. Returns whether the file changed.
pub(crate) fn write_file(path: &Path, contents: &str) -> Result<bool, String> {
    let current = read_text(path)?;
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
    /// The file, relative to DIR (or as given, for FILE.yaml).
    pub(crate) path: String,
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
/// (paths relative to DIR), and the record. Errors are I/O trouble. Each file is read
/// once; the folder's lock is held, shared, so a build in progress is waited for.
pub(crate) fn check_dir(
    dir: &Path,
    files: &[(String, String)],
    notices: &mut Vec<Notice>,
) -> Result<Vec<Difference>, String> {
    // Locked first, so a build in progress is not seen half-way.
    let _lock = if dir.is_dir() { Some(lock(dir, false)?) } else { None };
    let existing = scan(dir)?;
    let old = if dir.is_dir() { read_record(dir)? } else { None };
    let hashes = hashes_of(files);
    let survey = survey(dir, files, &hashes, &existing, old.as_ref(), notices, true)?;
    let mut differences = Vec::new();
    for ((rel, contents), step) in files.iter().zip(&survey.steps) {
        let current = match (step, existing.files.get(rel.as_str())) {
            (Step::Unchanged, _) => continue,
            (_, Some(Entry::Link)) => Some(format!("(a symbolic link to {})\n", link_target(&under(dir, rel)))),
            (_, Some(Entry::Special)) => Some("(a FIFO, socket or device)\n".to_string()),
            (_, None) if existing.folders.contains(rel.as_str()) => Some("(a directory)\n".to_string()),
            (_, _) => survey
                .current
                .get(rel)
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned()),
        };
        differences.push(drift_of(rel, current.as_deref(), contents));
    }
    // The record as the mesh makes it: its stats belong to one copy on one disk.
    let old_text = old.as_ref().map(|old| layout::without_stats(&old.text));
    differences.extend(drift_of_record(old_text.as_deref(), &final_record(files, &hashes, &[])));
    for rel in &survey.stale {
        let text = String::from_utf8_lossy(&read_regular(&under(dir, rel))?).into_owned();
        differences.push(Difference {
            path: rel.clone(),
            drift: Drift::Stale,
            diff: unified(rel, Some(&text), None),
        });
    }
    Ok(differences)
}

/// The difference of one planned file, `current` being what is there (`None`: nothing).
fn drift_of(rel: &str, current: Option<&str>, contents: &str) -> Difference {
    Difference {
        path: rel.to_string(),
        drift: if current.is_some() {
            Drift::Changed
        } else {
            Drift::Missing
        },
        diff: unified(rel, current, Some(contents)),
    }
}

/// The difference of the record, if any.
fn drift_of_record(current: Option<&str>, planned: &str) -> Option<Difference> {
    (current != Some(planned)).then(|| drift_of(layout::RECORD, current, planned))
}

fn link_target(path: &Path) -> String {
    fs::read_link(path).map_or_else(|_| "?".to_string(), |t| t.display().to_string())
}

/// Compares the file of `-o FILE.yaml` with what meshc produces.
pub(crate) fn check_file(path: &Path, contents: &str) -> Result<Option<Difference>, String> {
    let current = read_text(path)?;
    let name = path.display().to_string();
    Ok((current.as_deref() != Some(contents)).then(|| drift_of(&name, current.as_deref(), contents)))
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
