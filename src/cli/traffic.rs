//! `traffic`: where one request goes, hop by hop, with the share per version and endpoint,
//! over a `.mesh` model or over existing manifests (`--manifests`, or inputs that are all
//! `.yaml`/`.yml` files: read as `meshc lint` reads them, with folders and `-` for stdin).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clap::ValueEnum;
use meshc::source::Locator;
use meshc::traffic::{Note, Protocol, Request, Start, Table, Trace};
use meshc::{diagnostic, Diagnostic, Source};

use super::args::{Input, Target};
use super::{report, Status};

#[derive(clap::Args, Debug)]
pub(crate) struct RequestArgs {
    /// The request enters this gateway
    #[arg(long, value_name = "NAME", conflicts_with = "from", required_unless_present = "from")]
    pub(crate) gateway: Option<String>,
    /// The request is sent by this service's workloads (every version alike, or VERSION's)
    #[arg(long, value_name = "SERVICE[/VERSION]")]
    pub(crate) from: Option<String>,
    /// The Host header at a gateway; with --from, the service called (default: every service
    /// it calls)
    #[arg(long)]
    pub(crate) host: Option<String>,
    /// The port addressed at the first hop (default: the first HTTP listener or port)
    #[arg(long)]
    pub(crate) port: Option<u16>,
    /// The request path, with an optional ?query
    #[arg(long, default_value = "/")]
    pub(crate) path: String,
    /// A request header (repeatable)
    #[arg(long = "header", value_name = "K=V")]
    pub(crate) headers: Vec<String>,
    /// The request method
    #[arg(long, default_value = "GET")]
    pub(crate) method: String,
    /// Which routes take the request: `http`, `tcp` or `tls` (passed through, by SNI)
    #[arg(long, value_enum, default_value = "http")]
    pub(crate) protocol: ProtocolArg,
    /// The SNI host of a TLS connection (default: --host)
    #[arg(long, value_name = "HOST")]
    pub(crate) sni: Option<String>,
    /// The destination IP address, for TCP routes' destinationSubnets
    #[arg(long, value_name = "IP")]
    pub(crate) address: Option<String>,
    /// Read the inputs as Kubernetes and Istio YAML (files, folders, `-`), as `meshc lint`
    /// does; implied when every input is a .yaml or .yml file, or a folder of them without
    /// .mesh files
    #[arg(long)]
    pub(crate) manifests: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProtocolArg {
    Http,
    Tcp,
    Tls,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TrafficFormat {
    /// A table per hop
    Human,
    /// The trace as JSON
    Json,
}

/// Loads and checks the mesh; reports and fails on errors.
pub(crate) fn load_mesh(input: &Input, target: &Target) -> Result<(Vec<Source>, meshc::model::Mesh), Status> {
    let sources = super::load(input)?;
    let (mesh, mut diagnostics) = meshc::analyze(&sources, &target.options());
    diagnostic::sort(&mut diagnostics);
    match mesh {
        Some(mesh) if !diagnostics.iter().any(Diagnostic::is_error) => {
            match report::report(&diagnostics, &[], &sources, input.reporting()) {
                Status::Ok => Ok((sources, mesh)),
                denied => Err(denied),
            }
        }
        _ => {
            report::report(&diagnostics, &[], &sources, input.reporting());
            Err(Status::InputErrors)
        }
    }
}

pub(crate) fn run(input: &Input, target: &Target, request: &RequestArgs, format: TrafficFormat) -> Status {
    let (start, req) = match request.to_request() {
        Ok(r) => r,
        Err(why) => return report::fail("", &why, input.message_format),
    };
    let (sources, table) = if request.manifests || input.files.iter().all(|p| is_yaml(p)) {
        match load_manifests(&input.files, input.message_format) {
            Ok(loaded) => loaded,
            Err(status) => return status,
        }
    } else {
        match load_mesh(input, target) {
            Ok((sources, mesh)) => (sources, Table::from_mesh(&mesh)),
            Err(status) => return status,
        }
    };
    let trace = match table.trace(&start, &req) {
        Ok(trace) => trace,
        Err(why) => return report::fail("", &why.to_string(), input.message_format),
    };
    let text = match format {
        TrafficFormat::Human => human(&trace, &Locator::new(&sources)),
        TrafficFormat::Json => format!("{}\n", serde_json::to_string_pretty(&trace).unwrap_or_default()),
    };
    super::finish(std::io::Write::write_all(
        &mut std::io::stdout().lock(),
        text.as_bytes(),
    ))
}

/// Whether an input is YAML: a `.yaml` or `.yml` file, or a folder with such files and no
/// `.mesh` file under it.
fn is_yaml(path: &std::path::Path) -> bool {
    use super::load::{files_under, Reach};
    if path.is_dir() {
        let (mut mesh, mut yaml) = (Vec::new(), Vec::new());
        return files_under(path, &["mesh"], &mut mesh, &Reach::Anywhere).is_ok()
            && mesh.is_empty()
            && files_under(path, &["yaml", "yml"], &mut yaml, &Reach::Anywhere).is_ok()
            && !yaml.is_empty();
    }
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// Reads manifests as `meshc lint` does; reports and fails when one is not YAML.
pub(crate) fn load_manifests(
    paths: &[std::path::PathBuf],
    format: report::MessageFormat,
) -> Result<(Vec<Source>, Table), Status> {
    let sources = super::lint::read(paths).map_err(|(path, why)| report::fail(&path, &why, format))?;
    let (manifests, diagnostics) = meshc::manifests::read(&sources);
    if !diagnostics.is_empty() {
        report::report(&diagnostics, &[], &sources, format);
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(Status::InputErrors);
    }
    Ok((sources, Table::from_manifests(&manifests)))
}

impl RequestArgs {
    fn to_request(&self) -> Result<(Start, Request), String> {
        let start = match (&self.gateway, &self.from) {
            (Some(g), _) => Start::Gateway(g.clone()),
            (None, Some(from)) => {
                let (name, version) = match from.split_once('/') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (from.clone(), None),
                };
                Start::Service {
                    name,
                    version,
                    to: self.host.clone(),
                }
            }
            (None, None) => return Err("say where the request starts: --gateway NAME or --from SERVICE".into()),
        };
        let pairs = self
            .headers
            .iter()
            .map(|h| {
                h.split_once('=')
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                    .ok_or_else(|| format!("--header `{h}`: write NAME=VALUE"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut req = request(&self.method, &self.path, self.host.clone(), self.port, pairs);
        req.protocol = match self.protocol {
            ProtocolArg::Http => Protocol::Http,
            ProtocolArg::Tcp => Protocol::Tcp,
            ProtocolArg::Tls => Protocol::Tls,
        };
        req.sni = self
            .sni
            .clone()
            .or_else(|| (req.protocol == Protocol::Tls).then(|| self.host.clone()).flatten());
        req.address = self.address.clone();
        Ok((start, req))
    }
}

/// A request: `path` may carry a `?query` (`a=1&b=2`).
pub(crate) fn request(
    method: &str,
    path: &str,
    host: Option<String>,
    port: Option<u16>,
    headers: Vec<(String, String)>,
) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let query: BTreeMap<String, String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    Request {
        method: method.to_ascii_uppercase(),
        path: path.to_string(),
        host,
        port,
        headers: headers.into_iter().collect(),
        query,
        ..Request::default()
    }
}

/// `30 %`, `33.33 %`.
pub(crate) fn percent(share: f64) -> String {
    let text = format!("{share:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} %")
}

/// ` at FILE:LINE`, when the note says where.
fn at(span: Option<meshc::Span>, locator: &Locator<'_>) -> String {
    span.and_then(|s| locator.locate(s))
        .map(|l| format!(" at {}:{}", l.file, l.line))
        .unwrap_or_default()
}

fn note_line(out: &mut String, indent: &str, note: &Note, locator: &Locator<'_>) {
    let _ = writeln!(out, "{indent}note: {}{}", note.message, at(note.span, locator));
}

/// One block per hop: the route taken (per caller, with where it is written), then the
/// versions and endpoints reached (and why a version has none), then the notes.
pub(crate) fn human(trace: &Trace, locator: &Locator<'_>) -> String {
    let mut out = String::new();
    for hop in &trace.hops {
        let ns = if hop.namespace.is_empty() {
            String::new()
        } else {
            format!(" ({})", hop.namespace)
        };
        let _ = writeln!(out, "{}{ns}: {} of the requests", hop.place, percent(hop.share));
        for d in &hop.decisions {
            let caller = d.caller.as_ref().map(|c| format!("from {c}: ")).unwrap_or_default();
            let route = d.route.map(|i| format!("route {}: ", i + 1)).unwrap_or_default();
            let at = at(d.span, locator);
            let _ = writeln!(out, "  {caller}{route}{}{at} ({})", d.matched, percent(d.share));
        }
        for v in &hop.versions {
            let _ = writeln!(out, "  -> {}/{}  {}", v.service, v.version, percent(v.share));
            let vms = v.endpoints.iter().filter(|e| e.vm).count();
            for e in &v.endpoints {
                let kind = if e.vm { "vm" } else { "pod" };
                let even = if e.vm && vms > 1 {
                    format!(" (split evenly over {vms} VM addresses)")
                } else {
                    String::new()
                };
                let _ = writeln!(out, "       {kind} {}  {}{even}", e.endpoint, percent(e.share));
            }
            if v.endpoints.is_empty() {
                let _ = writeln!(out, "       no endpoint: these requests fail (503)");
            }
            for note in &v.notes {
                note_line(&mut out, "       ", note, locator);
            }
        }
        for (what, share) in &hop.answered {
            let _ = writeln!(out, "  -> {what}  {}", percent(*share));
        }
    }
    for note in &trace.notes {
        note_line(&mut out, "", note, locator);
    }
    out
}
