//! `post-render`: meshc as a Helm 3 post-renderer.

use std::io::{Read as _, Write as _};

use super::args::{Input, Target};
use super::{compile, finish, report, Status};

/// `post-render`: stdin, then the mesh's manifests, to stdout. Stdin is read to its end
/// before the mesh is compiled, so that helm never writes into a closed pipe when the mesh
/// has errors.
pub(crate) fn run(input: &Input, target: &Target) -> Status {
    let mut rendered = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut rendered) {
        eprintln!("meshc: cannot read the manifests on stdin: {e}");
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
