//! `post-render`: meshc as a Helm 3 post-renderer.

use std::io::{Read as _, Write as _};

use super::args::{Input, Target};
use super::{compile, finish, report, Status};

/// `post-render`: stdin, then the mesh's manifests, to stdout.
pub(crate) fn run(input: &Input, target: &Target) -> Status {
    // Helm writes every manifest before it reads: take them all first, so that it never
    // meets a closed pipe, even when the mesh has errors.
    let mut rendered = String::new();
    let limit = super::load::MAX_FILE_BYTES;
    if let Err(e) = std::io::stdin().take(limit + 1).read_to_string(&mut rendered) {
        eprintln!("meshc: cannot read the manifests on stdin: {e}");
        return Status::Trouble;
    }
    if rendered.len() as u64 > limit {
        eprintln!(
            "meshc: the manifests on stdin are larger than the limit of {} MiB",
            limit >> 20
        );
        return Status::Trouble;
    }
    let (sources, compiled) = match compile(input, target) {
        Ok(compiled) => compiled,
        Err(status) => return status,
    };
    if !rendered.is_empty() && !rendered.ends_with('\n') {
        rendered.push('\n');
    }
    rendered.push_str(&compiled.to_yaml());
    report::report(&compiled.warnings, &[], &sources, input.message_format);
    let mut stdout = std::io::stdout().lock();
    finish(stdout.write_all(rendered.as_bytes()).and_then(|()| stdout.flush()))
}
