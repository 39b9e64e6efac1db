//! `meshc lsp`: the language server, over stdio (`lsp-server`, synchronous). It keeps the
//! open documents, analyses each open file with the files it imports (read from disk
//! unless open) as `meshc build` would, publishes the diagnostics per file, and answers
//! from `meshc::lsp`: hover, definition, references, completion, formatting, rename and
//! the quick fixes of "did you mean".

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lt;
use meshc::lsp::{Analysis, CompletionKind, Encoding, Position};
use meshc::{Diagnostic, Options, Severity, Source, Span};
use serde_json::Value;

use super::load::{self, Loaded, Reach};
use super::Status;

/// The variables of `lsp --vars FILE --var NAME=VALUE`.
struct Variables {
    files: Vec<PathBuf>,
    definitions: Vec<String>,
}

impl Variables {
    /// The vars sources, read as `meshc build --vars ... --var ...` reads them.
    fn read(&self) -> Result<Vec<Source>, String> {
        load::load(&[], &self.files, &self.definitions, &Reach::Anywhere).map(|loaded| loaded.sources)
    }
}

/// Serves until the client says `exit`. A vars file that cannot be read at the start is
/// trouble; later, when files change, the last good reading stays.
pub(crate) fn run(options: Options, vars_files: &[PathBuf], vars: &[String]) -> Status {
    let variables = Variables {
        files: vars_files.to_vec(),
        definitions: vars.to_vec(),
    };
    let vars = match variables.read() {
        Ok(sources) => sources,
        Err(why) => {
            eprintln!("meshc: {why}");
            return Status::Trouble;
        }
    };
    let (connection, io) = Connection::stdio();
    let served = serve(&connection, options, variables, vars);
    drop(connection);
    let joined = io.join();
    match served.and(joined.map_err(|e| e.to_string())) {
        Ok(()) => Status::Ok,
        Err(why) => {
            eprintln!("meshc: lsp: {why}");
            Status::Trouble
        }
    }
}

fn serve(connection: &Connection, options: Options, variables: Variables, vars: Vec<Source>) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: lt::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let utf8 = params
        .capabilities
        .general
        .and_then(|g| g.position_encodings)
        .is_some_and(|e| e.contains(&lt::PositionEncodingKind::UTF8));
    let encoding = if utf8 { Encoding::Utf8 } else { Encoding::Utf16 };
    let capabilities = lt::ServerCapabilities {
        position_encoding: Some(if utf8 {
            lt::PositionEncodingKind::UTF8
        } else {
            lt::PositionEncodingKind::UTF16
        }),
        text_document_sync: Some(lt::TextDocumentSyncCapability::Kind(lt::TextDocumentSyncKind::FULL)),
        hover_provider: Some(lt::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lt::OneOf::Left(true)),
        references_provider: Some(lt::OneOf::Left(true)),
        completion_provider: Some(lt::CompletionOptions {
            trigger_characters: Some(vec![" ".to_string(), ">".to_string()]),
            ..lt::CompletionOptions::default()
        }),
        document_formatting_provider: Some(lt::OneOf::Left(true)),
        rename_provider: Some(lt::OneOf::Left(true)),
        code_action_provider: Some(lt::CodeActionProviderCapability::Options(lt::CodeActionOptions {
            code_action_kinds: Some(vec![lt::CodeActionKind::QUICKFIX]),
            ..lt::CodeActionOptions::default()
        })),
        ..lt::ServerCapabilities::default()
    };
    let result = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": { "name": "meshc", "version": env!("CARGO_PKG_VERSION") },
    });
    connection.initialize_finish(id, result).map_err(|e| e.to_string())?;
    let mut server = Server {
        connection,
        encoding,
        options,
        variables,
        vars,
        open: BTreeMap::new(),
        roots: Vec::new(),
        published: BTreeSet::new(),
        spellings: BTreeMap::new(),
    };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request).map_err(|e| e.to_string())? {
                    return Ok(());
                }
                let id = request.id.clone();
                let response = catch_unwind(AssertUnwindSafe(|| server.request(request))).unwrap_or_else(|_| {
                    Response::new_err(
                        id,
                        ErrorCode::InternalError as i32,
                        "meshc failed on this request".to_string(),
                    )
                });
                server.send(Message::Response(response));
            }
            // `exit` without `shutdown` first: stop all the same.
            Message::Notification(notification) if notification.method == "exit" => return Ok(()),
            Message::Notification(notification) => {
                // A failure leaves the previous state: the next change tries again.
                let _ = catch_unwind(AssertUnwindSafe(|| server.notification(notification)));
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// One open file analysed with everything it imports: the analysis, and the URI of each
/// source (none for `--var` definitions).
struct Root {
    analysis: Analysis,
    uris: Vec<Option<String>>,
}

impl Root {
    fn source(&self, uri: &str) -> Option<usize> {
        self.uris.iter().position(|u| u.as_deref() == Some(uri))
    }
}

struct Server<'c> {
    connection: &'c Connection,
    encoding: Encoding,
    options: Options,
    variables: Variables,
    /// The vars sources, as last read.
    vars: Vec<Source>,
    /// Open documents by URI.
    open: BTreeMap<String, String>,
    /// The analyses of the open files that no other open file imports.
    roots: Vec<Root>,
    /// URIs that have diagnostics on the client.
    published: BTreeSet<String>,
    /// How the client spells the URIs of the documents it opened, by their canonical
    /// form (see [`canonical`]).
    spellings: BTreeMap<String, String>,
}

impl Server<'_> {
    /// The canonical form of a document's URI, remembering how the client spells it.
    fn known(&mut self, uri: &lt::Uri) -> String {
        let key = canonical(uri.as_str());
        self.spellings.insert(key.clone(), uri.as_str().to_string());
        key
    }

    /// A URI as the client spells it.
    fn spelled<'u>(&'u self, uri: &'u str) -> &'u str {
        self.spellings.get(uri).map_or(uri, String::as_str)
    }

    fn send(&self, message: Message) {
        // The client has gone when this fails; the loop then ends.
        let _ = self.connection.sender.send(message);
    }

    fn notification(&mut self, notification: Notification) {
        let params = notification.params;
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<lt::DidOpenTextDocumentParams>(params) {
                    let key = self.known(&p.text_document.uri);
                    self.open.insert(key, p.text_document.text);
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeTextDocumentParams>(params) {
                    if let Some(change) = p.content_changes.into_iter().last() {
                        let key = self.known(&p.text_document.uri);
                        self.open.insert(key, change.text);
                    }
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<lt::DidCloseTextDocumentParams>(params) {
                    self.open.remove(&canonical(p.text_document.uri.as_str()));
                }
            }
            // A file on disk changed (an import, a vars file): read again, analyse again.
            "textDocument/didSave" | "workspace/didChangeWatchedFiles" => {
                if let Ok(vars) = self.variables.read() {
                    self.vars = vars;
                }
            }
            _ => return,
        }
        self.analyse();
    }

    /// Analyses every open file and publishes the diagnostics of every file they read,
    /// clearing those of files that have none left.
    fn analyse(&mut self) {
        let mut roots: Vec<Root> = self.open.keys().map(|uri| self.root(uri)).collect();
        // A file that another open file imports is analysed as part of that one (of files
        // that import each other, the first is kept).
        let imports = |importer: &Root, imported: &Root| {
            let uri = imported.uris.first().cloned().flatten().unwrap_or_default();
            importer.source(&uri).is_some_and(|s| s > 0)
        };
        let keep: Vec<bool> = (0..roots.len())
            .map(|i| {
                !(0..roots.len())
                    .any(|j| j != i && imports(&roots[j], &roots[i]) && !(i < j && imports(&roots[i], &roots[j])))
            })
            .collect();
        let mut kept = keep.into_iter();
        roots.retain(|_| kept.next().unwrap_or(true));
        let mut diagnostics: BTreeMap<String, Vec<lt::Diagnostic>> = BTreeMap::new();
        for root in &roots {
            for d in &root.analysis.diagnostics {
                let Some(Some(uri)) = root.uris.get(d.primary.span.source) else {
                    continue;
                };
                let converted = self.diagnostic(root, d);
                let list = diagnostics.entry(uri.clone()).or_default();
                // A file read by several analyses reports once (each analysis has no repeats).
                if roots.len() == 1 || !list.contains(&converted) {
                    list.push(converted);
                }
            }
        }
        let mut uris: BTreeSet<String> = std::mem::take(&mut self.published);
        uris.extend(self.open.keys().cloned());
        uris.extend(diagnostics.keys().cloned());
        for uri in uris {
            let list = diagnostics.remove(&uri).unwrap_or_default();
            if !list.is_empty() {
                self.published.insert(uri.clone());
            }
            let Ok(uri) = self.spelled(&uri).parse::<lt::Uri>() else {
                continue;
            };
            let params = lt::PublishDiagnosticsParams {
                uri,
                diagnostics: list,
                version: None,
            };
            self.send(Message::Notification(Notification::new(
                "textDocument/publishDiagnostics".to_string(),
                params,
            )));
        }
        self.roots = roots;
    }

    /// The open file at `uri` with every file it imports, and the variables, analysed.
    fn root(&self, uri: &str) -> Root {
        let text = self.open.get(uri).cloned().unwrap_or_default();
        let path = file_path(uri);
        let name = path
            .as_ref()
            .map_or_else(|| uri.to_string(), |p| p.to_string_lossy().into_owned());
        let mut loaded = Loaded {
            sources: vec![Source::new(name, text)],
            problems: Vec::new(),
        };
        let mut seen = BTreeSet::new();
        if let Some(path) = &path {
            seen.insert(load::identity(path));
        }
        let open = &self.open;
        let mut read = |path: &Path| match open.get(&file_uri(path)) {
            Some(text) => Ok(text.clone().into_bytes()),
            None => load::read_regular(path),
        };
        loaded.follow_imports(0, &mut seen, &Reach::Anywhere, &mut read);
        let mut uris: Vec<Option<String>> = loaded
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Some(if i == 0 {
                    uri.to_string()
                } else {
                    file_uri(Path::new(&s.name))
                })
            })
            .collect();
        for source in &self.vars {
            uris.push((source.name != "--var").then(|| file_uri(Path::new(&source.name))));
            loaded.sources.push(source.clone());
        }
        Root {
            analysis: Analysis::new(loaded.sources, loaded.problems, &self.options),
            uris,
        }
    }

    fn range(&self, root: &Root, span: Span) -> lt::Range {
        let at = |offset| {
            let p = root.analysis.position(span.source, offset, self.encoding);
            lt::Position {
                line: p.line,
                character: p.character,
            }
        };
        lt::Range {
            start: at(span.start),
            end: at(span.end.max(span.start)),
        }
    }

    fn location(&self, root: &Root, span: Span) -> Option<lt::Location> {
        let uri = self.spelled(root.uris.get(span.source)?.as_ref()?).parse().ok()?;
        Some(lt::Location {
            uri,
            range: self.range(root, span),
        })
    }

    fn diagnostic(&self, root: &Root, d: &Diagnostic) -> lt::Diagnostic {
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let related: Vec<lt::DiagnosticRelatedInformation> = d
            .secondary
            .iter()
            .filter_map(|label| {
                Some(lt::DiagnosticRelatedInformation {
                    location: self.location(root, label.span)?,
                    message: label.text.clone(),
                })
            })
            .collect();
        lt::Diagnostic {
            range: self.range(root, d.primary.span),
            severity: Some(match d.severity {
                Severity::Error => lt::DiagnosticSeverity::ERROR,
                Severity::Warning => lt::DiagnosticSeverity::WARNING,
            }),
            code: Some(lt::NumberOrString::String(d.code.id().to_string())),
            source: Some("meshc".to_string()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..lt::Diagnostic::default()
        }
    }

    /// The analysis that holds the document at `uri`, the source's index in it, and the
    /// byte offset of `position`.
    fn find(&self, uri: &lt::Uri, position: lt::Position) -> Option<(&Root, usize, usize)> {
        let uri = &canonical(uri.as_str());
        let root = self.roots.iter().find(|r| r.source(uri).is_some())?;
        let source = root.source(uri)?;
        let text = &root.analysis.sources.get(source)?.text;
        let offset = self.encoding.offset(
            text,
            Position {
                line: position.line,
                character: position.character,
            },
        );
        Some((root, source, offset))
    }

    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        match self.answer(&request.method, request.params) {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    fn answer(&self, method: &str, params: Value) -> Result<Value, (ErrorCode, String)> {
        fn parse<P: serde::de::DeserializeOwned>(params: Value) -> Result<P, (ErrorCode, String)> {
            serde_json::from_value(params).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
        }
        let json = |v: Result<Value, serde_json::Error>| v.map_err(|e| (ErrorCode::InternalError, e.to_string()));
        match method {
            "textDocument/hover" => {
                let p: lt::HoverParams = parse(params)?;
                let at = &p.text_document_position_params;
                let hover = self
                    .find(&at.text_document.uri, at.position)
                    .and_then(|(root, source, offset)| {
                        let (span, text) = meshc::lsp::hover(&root.analysis, source, offset)?;
                        Some(lt::Hover {
                            contents: lt::HoverContents::Markup(lt::MarkupContent {
                                kind: lt::MarkupKind::Markdown,
                                value: text,
                            }),
                            range: Some(self.range(root, span)),
                        })
                    });
                json(serde_json::to_value(hover))
            }
            "textDocument/definition" => {
                let p: lt::GotoDefinitionParams = parse(params)?;
                let at = &p.text_document_position_params;
                let mut locations = Vec::new();
                if let Some((root, source, offset)) = self.find(&at.text_document.uri, at.position) {
                    match self.import_at(root, source, offset) {
                        Some(location) => locations.push(location),
                        None => locations.extend(
                            root.analysis
                                .definition(source, offset)
                                .into_iter()
                                .filter_map(|span| self.location(root, span)),
                        ),
                    }
                }
                json(serde_json::to_value(locations))
            }
            "textDocument/references" => {
                let p: lt::ReferenceParams = parse(params)?;
                let at = &p.text_document_position;
                let spans = self.everywhere(&at.text_document.uri, at.position, p.context.include_declaration);
                let locations: Vec<lt::Location> = spans.into_iter().map(|(_, l)| l).collect();
                json(serde_json::to_value(locations))
            }
            "textDocument/completion" => {
                let p: lt::CompletionParams = parse(params)?;
                let at = &p.text_document_position;
                let items: Vec<lt::CompletionItem> = self
                    .find(&at.text_document.uri, at.position)
                    .map(|(root, source, offset)| meshc::lsp::complete(&root.analysis, source, offset))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| lt::CompletionItem {
                        label: c.label,
                        kind: Some(match c.kind {
                            CompletionKind::Keyword => lt::CompletionItemKind::KEYWORD,
                            CompletionKind::Service => lt::CompletionItemKind::MODULE,
                            CompletionKind::Version => lt::CompletionItemKind::ENUM_MEMBER,
                            CompletionKind::Port => lt::CompletionItemKind::VALUE,
                        }),
                        detail: Some(c.detail),
                        ..lt::CompletionItem::default()
                    })
                    .collect();
                json(serde_json::to_value(items))
            }
            "textDocument/formatting" => {
                let p: lt::DocumentFormattingParams = parse(params)?;
                let Some(text) = self.open.get(&canonical(p.text_document.uri.as_str())) else {
                    return Ok(Value::Null);
                };
                let edits = match meshc::syntax::format(0, text) {
                    Ok(formatted) if formatted == *text => Some(Vec::new()),
                    Ok(formatted) => Some(vec![lt::TextEdit {
                        range: whole(self.encoding, text),
                        new_text: formatted,
                    }]),
                    Err(_) => None,
                };
                json(serde_json::to_value(edits))
            }
            "textDocument/rename" => {
                let p: lt::RenameParams = parse(params)?;
                let at = &p.text_document_position;
                let (root, source, offset) = self
                    .find(&at.text_document.uri, at.position)
                    .ok_or((ErrorCode::InvalidParams, "the document is not open".to_string()))?;
                root.analysis
                    .rename(source, offset, &p.new_name)
                    .map_err(|why| (ErrorCode::InvalidParams, why))?;
                // `lt::Uri` keeps a parse cache in a `Cell`; its hash and equality are those of
                // its text, which never changes.
                #[allow(clippy::mutable_key_type)]
                let mut changes: HashMap<lt::Uri, Vec<lt::TextEdit>> = HashMap::new();
                for (_, location) in self.everywhere(&at.text_document.uri, at.position, true) {
                    changes.entry(location.uri).or_default().push(lt::TextEdit {
                        range: location.range,
                        new_text: p.new_name.clone(),
                    });
                }
                json(serde_json::to_value(lt::WorkspaceEdit {
                    changes: Some(changes),
                    ..lt::WorkspaceEdit::default()
                }))
            }
            "textDocument/codeAction" => {
                let p: lt::CodeActionParams = parse(params)?;
                json(serde_json::to_value(self.quick_fixes(&p.text_document.uri, p.range)))
            }
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("meshc lsp does not handle `{method}`"),
            )),
        }
    }

    /// The file an `import` under `offset` names.
    fn import_at(&self, root: &Root, source: usize, offset: usize) -> Option<lt::Location> {
        let text = &root.analysis.sources.get(source)?.text;
        let (imports, _) = meshc::syntax::imports(source, text);
        let import = imports
            .iter()
            .find(|i| i.span.start <= offset && offset <= i.span.end)?;
        let base = Path::new(&root.analysis.sources[source].name).parent()?.to_path_buf();
        let path = base.join(&import.value);
        Some(lt::Location {
            uri: file_uri(&path).parse().ok()?,
            range: lt::Range::default(),
        })
    }

    /// Every occurrence, in every analysis, of the symbol at `position`: sorted by file
    /// and position, each once.
    fn everywhere(
        &self,
        uri: &lt::Uri,
        position: lt::Position,
        declarations: bool,
    ) -> Vec<((String, u32, u32), lt::Location)> {
        let Some((root, source, offset)) = self.find(uri, position) else {
            return Vec::new();
        };
        let Some(symbol) = root.analysis.at(source, offset).map(|o| o.symbol.clone()) else {
            return Vec::new();
        };
        let mut found = BTreeMap::new();
        for root in &self.roots {
            for o in root.analysis.occurrences_of(&symbol) {
                if !declarations && o.declaration {
                    continue;
                }
                if let Some(location) = self.location(root, o.span) {
                    let key = (
                        location.uri.as_str().to_string(),
                        location.range.start.line,
                        location.range.start.character,
                    );
                    found.insert(key, location);
                }
            }
        }
        found.into_iter().collect()
    }

    /// A quick fix for each diagnostic of the document in `range` that carries one.
    fn quick_fixes(&self, uri: &lt::Uri, wanted: lt::Range) -> Vec<lt::CodeAction> {
        let mut actions = Vec::new();
        for root in &self.roots {
            let Some(source) = root.source(&canonical(uri.as_str())) else {
                continue;
            };
            for d in &root.analysis.diagnostics {
                let Some(fix) = d.fix.as_ref().filter(|_| d.primary.span.source == source) else {
                    continue;
                };
                let at = self.range(root, d.primary.span);
                if at.end < wanted.start || wanted.end < at.start {
                    continue;
                }
                let edit = lt::TextEdit {
                    range: self.range(root, fix.span),
                    new_text: fix.replacement.clone(),
                };
                let action = lt::CodeAction {
                    title: format!("replace with `{}`", fix.replacement),
                    kind: Some(lt::CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![self.diagnostic(root, d)]),
                    edit: Some(lt::WorkspaceEdit {
                        changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                        ..lt::WorkspaceEdit::default()
                    }),
                    is_preferred: Some(true),
                    ..lt::CodeAction::default()
                };
                if !actions.contains(&action) {
                    actions.push(action);
                }
            }
        }
        actions
    }
}

/// The range of a whole text.
fn whole(encoding: Encoding, text: &str) -> lt::Range {
    let end = encoding.position(text, text.len());
    lt::Range {
        start: lt::Position::default(),
        end: lt::Position {
            line: end.line,
            character: end.character,
        },
    }
}

/// The path of a `file:` URI, percent-decoded.
fn file_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///path` or `file://localhost/path`.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

/// One spelling per file: a `file:` URI decoded and encoded again as [`file_uri`] writes
/// it; any other URI as it is.
fn canonical(uri: &str) -> String {
    file_path(uri).map_or_else(|| uri.to_string(), |path| file_uri(&path))
}

/// The `file:` URI of a path (made absolute against the working directory, `.` and `..`
/// resolved in the text), with every byte outside the unreserved characters and `/`
/// percent-encoded.
fn file_uri(path: &Path) -> String {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut normal = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    let mut out = String::from("file://");
    for b in normal.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{canonical, file_path, file_uri};
    use std::path::Path;

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/a dir/é #1.mesh");
        let uri = file_uri(path);
        assert_eq!(uri, "file:///tmp/a%20dir/%C3%A9%20%231.mesh");
        assert_eq!(file_path(&uri).as_deref(), Some(path));
        assert_eq!(file_path("untitled:1"), None);
        assert_eq!(file_uri(Path::new("/a/./b/../c.mesh")), "file:///a/c.mesh");
        assert_eq!(canonical("file:///a/b%2Dc.mesh"), "file:///a/b-c.mesh");
        assert_eq!(canonical("untitled:Untitled-1"), "untitled:Untitled-1");
    }
}
