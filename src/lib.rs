//! meshc compiles a `.mesh` topology — namespaces, services, ports, versions on pods or
//! VMs, weighted routes, gateways — into the Kubernetes and Istio manifests of the mesh,
//! and refuses, at the `.mesh` line, the mistakes that schemas miss.
//!
//! # Stages
//!
//! | stage | module | input → output | raises |
//! |---|---|---|---|
//! | read | [`syntax`] | text → [`ast::File`] (spans on every node) | M1xxx |
//! | check | `check` | AST → [`model::Mesh`] (names resolved and generated, defaults applied; target-neutral; each service's syntax tree freed once its model is made) | M2xxx, M3xxx |
//! | plan | `emit::istio`, `emit::gateway_api`, `emit::security`, `emit::vm` | model → the kind, namespace and name of every object of the output target, and its refusals | M3024, M3026 |
//! | register | `emit::registry` | every planned object → canonical order, one collision check | M2006 |
//! | write | the same targets, then [`emit::yaml`] | model → typed objects → YAML [`Document`]s (and the VMs' files), one kind of a namespace at a time, each handed over when its place in the canonical order comes | — |
//!
//! Beside the pipeline, over the model: [`traffic`] (where requests go, hop by hop, and the
//! `.traffic` tests `meshc test` checks; M41xx) and [`graph`] (the mesh as Mermaid or DOT).
//! For editors, [`lsp`]: what `meshc lsp` answers (hover, definitions and references,
//! completion, rename), as pure functions over the sources.
//!
//! Shared types: [`Options`] (with [`ApiVersion`] and [`RouteApi`]) in `options`, and
//! [`Document`], [`GeneratedFile`], [`Output`] and [`Failure`] in `output`.
//!
//! The library does no I/O of its own: [`compile`] takes the sources' text and returns
//! documents or diagnostics ([`compile_to`] writes the documents into a writer the caller
//! gives instead); the `meshc` binary reads files, writes output and picks exit codes.

pub mod ast;
mod check;
pub mod codes;
pub mod diagnostic;
pub mod emit;
pub mod graph;
pub mod import;
pub mod lsp;
pub mod manifests;
pub mod model;
mod options;
mod output;
mod route_index;
pub mod source;
pub mod suppress;
pub mod syntax;
pub mod traffic;

pub use codes::Code;
pub use diagnostic::{Diagnostic, Fix, Severity};
pub use options::{ApiVersion, Options, RouteApi};
pub use output::{Document, Failure, GeneratedFile, Output};
pub use source::{Source, SourceKind, Span};

/// Parses and checks every source, plans the output target's objects, then writes the
/// manifests. All semantic problems are reported together; a file the grammar rejects
/// reports its first syntax error.
pub fn compile(sources: &[Source], options: &Options) -> Result<Output, Failure> {
    let (mesh, plan, warnings) = plan(sources, options)?;
    let mut documents = Vec::new();
    let files = emit::write(&mesh, options, &plan, &mut |out| {
        documents.push(Document {
            api_version: out.api_version,
            kind: out.kind,
            namespace: out.namespace.map(str::to_string),
            name: out.name.to_string(),
            yaml: std::mem::take(out.yaml),
        });
    })
    .map_err(|message| internal_error(warnings.clone(), &message))?;
    Ok(Output {
        documents,
        files,
        warnings,
    })
}

/// [`compile`], with the documents written to `out` as one multi-document YAML stream
/// (what [`Output::to_yaml`] gives) instead of being returned: each document goes out as it
/// is written and none is kept, so a large mesh needs far less memory. Nothing is written
/// unless checking and planning succeed; then the warnings come back with what writing to
/// `out` returned. The VMs' files are not written. An internal error of meshc's writer (a
/// bug) can still stop the stream part-way; it is reported as the failure.
pub fn compile_to(
    sources: &[Source],
    options: &Options,
    out: &mut dyn std::io::Write,
) -> Result<(Vec<Diagnostic>, std::io::Result<()>), Failure> {
    let (mesh, plan, warnings) = plan(sources, options)?;
    let mut result = Ok(());
    emit::write(&mesh, options, &plan, &mut |document| {
        if result.is_ok() {
            result = write_document(out, document.yaml);
        }
    })
    .map_err(|message| internal_error(warnings.clone(), &message))?;
    Ok((warnings, result.and_then(|()| out.flush())))
}

/// One document after a `---` line. Never inlined, so that profiles show the writing apart
/// (`bench/measure.py` reads it).
#[inline(never)]
fn write_document(out: &mut dyn std::io::Write, yaml: &str) -> std::io::Result<()> {
    out.write_all(b"---\n")?;
    out.write_all(yaml.as_bytes())
}

/// Checks and plans: the mesh, the plan and the warnings, or every error.
fn plan(sources: &[Source], options: &Options) -> Result<(model::Mesh, emit::Plan, Vec<Diagnostic>), Failure> {
    let (mesh, mut diagnostics) = check_sources(sources, options);
    let Some(mesh) = mesh else {
        suppress::apply(sources, &mut diagnostics);
        diagnostic::sort(&mut diagnostics);
        return Err(Failure { diagnostics });
    };
    let mut plan = emit::plan_objects(&mesh, options);
    diagnostics.append(&mut plan.diagnostics);
    suppress::apply(sources, &mut diagnostics);
    diagnostic::sort(&mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(Failure { diagnostics });
    }
    match plan.error.take() {
        None => Ok((mesh, plan, diagnostics)),
        Some(message) => Err(internal_error(diagnostics, &message)),
    }
}

/// A failure for an internal error of the writer (a bug), after the warnings found so far.
fn internal_error(mut diagnostics: Vec<Diagnostic>, message: &str) -> Failure {
    diagnostics.push(
        Diagnostic::error(
            Code::Syntax,
            Span::default(),
            format!("internal error while writing YAML: {message}"),
        )
        .help("this is a bug in meshc; please report it with the input that caused it"),
    );
    Failure { diagnostics }
}

/// Parses and checks, and plans the output target's objects without writing them: the
/// mesh (absent when a file could not be read) and every diagnostic, unsorted.
pub fn analyze(sources: &[Source], options: &Options) -> (Option<model::Mesh>, Vec<Diagnostic>) {
    let (mesh, mut diagnostics) = check_sources(sources, options);
    if let Some(mesh) = &mesh {
        diagnostics.extend(emit::plan_objects(mesh, options).diagnostics);
    }
    suppress::apply(sources, &mut diagnostics);
    (mesh, diagnostics)
}

/// Parses and checks: the mesh (absent when a file could not be read) and the read and
/// check stages' diagnostics.
fn check_sources(sources: &[Source], options: &Options) -> (Option<model::Mesh>, Vec<Diagnostic>) {
    let (mesh, diagnostics, _) = parse_and_check(sources, options, check::Trees::Free);
    (mesh, diagnostics)
}

/// [`check_sources`], and the syntax trees of the files that could be read (variables
/// substituted in their strings when all could) if `trees` says to keep them.
fn parse_and_check(
    sources: &[Source],
    options: &Options,
    trees: check::Trees,
) -> (Option<model::Mesh>, Vec<Diagnostic>, Vec<ast::File>) {
    let mut diagnostics = Vec::new();
    let mut files = Vec::with_capacity(sources.len());
    let mut definitions = check::Definitions::new();
    let mut readable = true;
    for (id, source) in sources.iter().enumerate() {
        match source.kind {
            SourceKind::Mesh => {
                let (file, mut found) = syntax::parse(id, &source.text);
                diagnostics.append(&mut found);
                match file {
                    Some(file) => files.push(file),
                    None => readable = false,
                }
            }
            SourceKind::Vars => diagnostics.extend(check::read_vars(id, &source.text, &mut definitions)),
        }
    }
    if !readable {
        return (None, diagnostics, files);
    }
    let (mesh, mut found) = check::check(&mut files, &definitions, options, trees);
    diagnostics.append(&mut found);
    (Some(mesh), diagnostics, files)
}
