//! Traffic tests: expectations about where requests go, in a `.traffic` file next to the
//! mesh, checked against the engine.
//!
//! ```text
//! # comments start with #
//! mesh "hybrid-hello.mesh"      # optional: the mesh, relative to this file (default: same stem)
//! GET /hello/eric from hello1 reaches hello2 v1 30%, v2 60%, v3 10%
//! GET /hello/eric via hybrid-gateway reaches hello2 v2 on 192.168.0.171 60%
//! GET /productpage via bookinfo-gateway port 443 host bookinfo.example.com header end-user=jason reaches reviews v2
//! GET /health via bookinfo-gateway port 443 host bookinfo.example.com answers respond 200
//! TCP from reporting port 27017 reaches mongo v2
//! TLS via public sni reports.db.example.com answers external reports.db.example.com
//! ```
//!
//! `TCP` and `TLS` in place of the method and path send a connection through the `tcp` or
//! `tls` routes instead, with `sni NAME` (default: `host`) and `address IP` (the
//! destination, for `destinationSubnets`).
//!
//! A line is `METHOD PATH`, where the request starts (`via GATEWAY` or `from
//! SERVICE[/VERSION]`), then any of `host H`, `port N`, `header NAME=VALUE`, and the
//! expectation: `reaches SERVICE VERSION [on ENDPOINT] [PERCENT], ...` (the versions of that
//! service the request reaches, exactly those, with their share of the requests sent; a
//! version without a percentage gets all of them), or `answers OUTCOME` (`respond 200`,
//! `redirect to /x`, `404 (no route)`, `redirect to https`). A value with spaces is written
//! in double quotes.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};

use super::{Protocol, Request, Start, Table, Trace};

/// One line of a traffic test file.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The whole line.
    pub span: Span,
    pub start: Start,
    pub request: Request,
    pub expect: Expect,
    /// Where the request starts (the gateway or service named).
    pub origin: Span,
    /// The expectation's clause (`reaches ...`, `answers ...`).
    pub clause: Span,
}

#[derive(Debug, Clone)]
pub enum Expect {
    Reaches { service: String, versions: Vec<Share> },
    Answers(String),
}

#[derive(Debug, Clone)]
pub struct Share {
    pub version: String,
    pub endpoint: Option<String>,
    pub percent: f64,
}

/// A traffic test file: the mesh it names, if any, and its expectations.
#[derive(Debug, Clone, Default)]
pub struct TestFile {
    pub mesh: Option<(String, Span)>,
    pub expectations: Vec<Expectation>,
}

/// Share differences smaller than this (in percent) are rounding.
const TOLERANCE: f64 = 0.01;

struct Token<'t> {
    text: String,
    raw: &'t str,
    start: usize,
}

fn tokens(line: &str, offset: usize) -> Result<Vec<Token<'_>>, (usize, usize, String)> {
    let mut out = Vec::new();
    let bytes: Vec<(usize, char)> = line.char_indices().collect();
    let mut i = 0;
    while i < bytes.len() {
        let (at, c) = bytes[i];
        if c.is_whitespace() || c == ',' {
            i += 1;
            continue;
        }
        if c == '#' {
            break;
        }
        if c == '"' {
            let mut text = String::new();
            let mut j = i + 1;
            let mut closed = None;
            while j < bytes.len() {
                match bytes[j].1 {
                    '"' => {
                        closed = Some(j);
                        break;
                    }
                    '\\' if j + 1 < bytes.len() => {
                        text.push(bytes[j + 1].1);
                        j += 2;
                    }
                    c => {
                        text.push(c);
                        j += 1;
                    }
                }
            }
            let Some(end) = closed else {
                return Err((
                    offset + at,
                    offset + line.len(),
                    "this string has no closing `\"`".into(),
                ));
            };
            let stop = bytes[end].0 + 1;
            out.push(Token {
                text,
                raw: &line[at..stop],
                start: offset + at,
            });
            i = end + 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && !bytes[j].1.is_whitespace() && bytes[j].1 != ',' {
            j += 1;
        }
        let stop = bytes.get(j).map_or(line.len(), |b| b.0);
        out.push(Token {
            text: line[at..stop].to_string(),
            raw: &line[at..stop],
            start: offset + at,
        });
        i = j;
    }
    Ok(out)
}

fn span_of(source: SourceId, t: &Token<'_>) -> Span {
    Span::new(source, t.start, t.start + t.raw.len())
}

fn syntax(span: Span, message: impl Into<String>) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(Code::TrafficTest, span, message)
        .help("a line is `METHOD PATH via GATEWAY|from SERVICE [host H] [port N] [header K=V] reaches SERVICE VERSION [PERCENT], ...` or `... answers OUTCOME`"))
}

/// Reads a traffic test file; every line that cannot be read is one diagnostic.
pub fn parse(source: SourceId, text: &str) -> (TestFile, Vec<Diagnostic>) {
    let mut file = TestFile::default();
    let mut problems = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let at = offset;
        offset += line.len();
        let toks = match tokens(body, at) {
            Ok(t) => t,
            Err((s, e, why)) => {
                problems.push(*syntax(Span::new(source, s, e), why));
                continue;
            }
        };
        if toks.is_empty() {
            continue;
        }
        let whole = Span::new(
            source,
            toks[0].start,
            toks[toks.len() - 1].start + toks[toks.len() - 1].raw.len(),
        );
        if toks[0].text == "mesh" {
            match toks.get(1) {
                Some(t) if toks.len() == 2 => file.mesh = Some((t.text.clone(), span_of(source, t))),
                _ => problems.push(*syntax(whole, "write `mesh \"FILE.mesh\"`")),
            }
            continue;
        }
        match expectation(source, &toks, whole) {
            Ok(e) => file.expectations.push(e),
            Err(d) => problems.push(*d),
        }
    }
    (file, problems)
}

fn expectation(source: SourceId, toks: &[Token<'_>], whole: Span) -> Result<Expectation, Box<Diagnostic>> {
    let method = &toks[0];
    if method.text.is_empty() || !method.text.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(syntax(
            span_of(source, method),
            format!("`{}` is not an HTTP method", method.raw),
        ));
    }
    let protocol = match method.text.as_str() {
        "TCP" => Protocol::Tcp,
        "TLS" => Protocol::Tls,
        _ => Protocol::Http,
    };
    let mut request = Request {
        method: method.text.to_ascii_uppercase(),
        protocol,
        ..Request::default()
    };
    let mut i = 1;
    if protocol == Protocol::Http {
        let Some(path) = toks.get(1).filter(|t| t.text.starts_with('/')) else {
            let span = toks.get(1).map_or(whole, |t| span_of(source, t));
            return Err(syntax(span, "a path starting with `/` follows the method"));
        };
        let (p, query) = path.text.split_once('?').unwrap_or((&path.text, ""));
        request.path = p.to_string();
        for pair in query.split('&').filter(|q| !q.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            request.query.insert(k.to_string(), v.to_string());
        }
        i = 2;
    }
    let mut start = None;
    let mut origin = whole;
    let value = |i: usize, word: &Token<'_>| -> Result<&Token<'_>, Box<Diagnostic>> {
        toks.get(i)
            .ok_or_else(|| syntax(span_of(source, word), format!("`{}` needs a value", word.text)))
    };
    while i < toks.len() {
        let word = &toks[i];
        match word.text.as_str() {
            "via" => {
                let v = value(i + 1, word)?;
                origin = span_of(source, v);
                start = Some(Start::Gateway(v.text.clone()));
            }
            "from" => {
                let token = value(i + 1, word)?;
                origin = span_of(source, token);
                let v = &token.text;
                let (name, version) = match v.split_once('/') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (v.clone(), None),
                };
                start = Some(Start::Service {
                    name,
                    version,
                    to: None,
                });
            }
            "host" => request.host = Some(value(i + 1, word)?.text.clone()),
            "sni" => request.sni = Some(value(i + 1, word)?.text.clone()),
            "address" => request.address = Some(value(i + 1, word)?.text.clone()),
            "port" => {
                let v = value(i + 1, word)?;
                request.port = Some(
                    v.text
                        .parse()
                        .map_err(|_| syntax(span_of(source, v), format!("`{}` is not a port", v.raw)))?,
                );
            }
            "header" => {
                let v = value(i + 1, word)?;
                let (k, val) = v
                    .text
                    .split_once('=')
                    .ok_or_else(|| syntax(span_of(source, v), "write the header as NAME=VALUE"))?;
                request.headers.insert(k.to_ascii_lowercase(), val.to_string());
            }
            "reaches" | "answers" => break,
            _ => return Err(syntax(span_of(source, word), format!("unexpected `{}`", word.raw))),
        }
        i += 2;
    }
    if request.protocol == Protocol::Tls && request.sni.is_none() {
        request.sni.clone_from(&request.host);
    }
    let Some(mut start) = start else {
        return Err(syntax(
            whole,
            "say where the request starts: `via GATEWAY` or `from SERVICE`",
        ));
    };
    let Some(keyword) = toks.get(i) else {
        return Err(syntax(
            whole,
            "say what to expect: `reaches SERVICE VERSION ...` or `answers OUTCOME`",
        ));
    };
    let last = &toks[toks.len() - 1];
    let clause = Span::new(source, keyword.start, last.start + last.raw.len());
    let expect = if keyword.text == "answers" {
        let words: Vec<&str> = toks[i + 1..].iter().map(|t| t.text.as_str()).collect();
        if words.is_empty() {
            return Err(syntax(
                clause,
                "say the answer: `respond 200`, `redirect to /x`, `404 (no route)`",
            ));
        }
        Expect::Answers(words.join(" "))
    } else {
        let Some(service) = toks.get(i + 1) else {
            return Err(syntax(clause, "name the service the request reaches"));
        };
        // `from hello1 ... reaches hello2`: hello1 calls hello2 (it may call others too).
        if let Start::Service { to, .. } = &mut start {
            *to = Some(service.text.clone());
        }
        let mut versions = Vec::new();
        let mut j = i + 2;
        while j < toks.len() {
            let version = toks[j].text.clone();
            j += 1;
            let mut endpoint = None;
            if toks.get(j).is_some_and(|t| t.text == "on") {
                endpoint = Some(value(j + 1, &toks[j])?.text.clone());
                j += 2;
            }
            let mut percent = 100.0;
            if let Some(t) = toks.get(j).filter(|t| t.text.ends_with('%')) {
                percent = t
                    .text
                    .trim_end_matches('%')
                    .parse::<f64>()
                    .ok()
                    .filter(|p| (0.0..=100.0).contains(p))
                    .ok_or_else(|| syntax(span_of(source, t), format!("`{}` is not a percentage", t.raw)))?;
                j += 1;
            }
            versions.push(Share {
                version,
                endpoint,
                percent,
            });
        }
        if versions.is_empty() {
            return Err(syntax(
                clause,
                "name the versions it reaches: `reaches reviews v2` or `v1 30%, v2 70%`",
            ));
        }
        Expect::Reaches {
            service: service.text.clone(),
            versions,
        }
    };
    Ok(Expectation {
        span: whole,
        start,
        request,
        expect,
        origin,
        clause,
    })
}

/// `v1 30 %, v2 on 192.168.0.171 60 %`.
fn shares_text(shares: &[(String, Option<String>, f64)]) -> String {
    if shares.is_empty() {
        return "nothing".to_string();
    }
    shares
        .iter()
        .map(|(v, e, p)| {
            let on = e.as_ref().map(|e| format!(" on {e}")).unwrap_or_default();
            format!("{v}{on} {}", percent(*p))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn percent(p: f64) -> String {
    let text = format!("{p:.2}");
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

/// A version reached: its name, share, and its endpoints' shares.
type Reached = (String, f64, Vec<(String, f64)>);

/// Checks one expectation: `None` when it holds.
pub fn check(table: &Table, e: &Expectation) -> Option<Diagnostic> {
    let trace = match table.trace(&e.start, &e.request) {
        Ok(trace) => trace,
        Err(why) => {
            let span = match why {
                super::TraceError::NothingCalled(_) => e.span,
                _ => e.origin,
            };
            return Some(Diagnostic::error(Code::TrafficTest, span, why.to_string()).label("not in the mesh"));
        }
    };
    match &e.expect {
        Expect::Answers(want) => {
            let got = answers(&trace);
            let holds = got.len() == 1 && got[0].0 == *want && (got[0].1 - 100.0).abs() < TOLERANCE;
            (!holds).then(|| {
                let got_text = if got.is_empty() {
                    "every request reaches a workload".to_string()
                } else {
                    got.iter()
                        .map(|(w, p)| format!("{w} {}", percent(*p)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                Diagnostic::error(
                    Code::TrafficExpectation,
                    e.clause,
                    format!("expected every request to be answered `{want}`; got {got_text}"),
                )
                .label(format!("actually: {got_text}"))
                .help("`meshc traffic` with the same request shows the route taken at each hop")
            })
        }
        Expect::Reaches { service, versions } => {
            if table.service(service).is_none() {
                return Some(
                    Diagnostic::error(
                        Code::TrafficTest,
                        e.clause,
                        format!("no service `{service}` in the mesh"),
                    )
                    .label("not a service of the mesh"),
                );
            }
            let name = table.services[table.service(service).unwrap_or_default()].name.clone();
            let reached: Vec<&super::VersionShare> = trace
                .hops
                .iter()
                .flat_map(|h| &h.versions)
                .filter(|v| v.service == name)
                .collect();
            let mut got: Vec<Reached> = Vec::new();
            for v in reached {
                let eps: Vec<(String, f64)> = v.endpoints.iter().map(|x| (x.endpoint.clone(), x.share)).collect();
                match got.iter_mut().find(|g| g.0 == v.version) {
                    Some(g) => {
                        g.1 += v.share;
                        for (have, add) in g.2.iter_mut().zip(eps) {
                            have.1 += add.1;
                        }
                    }
                    None => got.push((v.version.clone(), v.share, eps)),
                }
            }
            got.retain(|g| g.1 > TOLERANCE);
            got.sort_by(|a, b| a.0.cmp(&b.0));
            let share_of = |s: &Share| -> Option<f64> {
                let g = got.iter().find(|g| g.0 == s.version)?;
                match &s.endpoint {
                    None => Some(g.1),
                    Some(ep) => g.2.iter().find(|x| x.0 == *ep).map(|x| x.1),
                }
            };
            let named_all = got.iter().all(|g| versions.iter().any(|s| s.version == g.0));
            let each = versions
                .iter()
                .all(|s| share_of(s).is_some_and(|p| (p - s.percent).abs() < TOLERANCE));
            if named_all && each {
                return None;
            }
            let want: Vec<(String, Option<String>, f64)> = versions
                .iter()
                .map(|s| (s.version.clone(), s.endpoint.clone(), s.percent))
                .collect();
            let actual: Vec<(String, Option<String>, f64)> = got
                .iter()
                .flat_map(|g| {
                    let named_eps: Vec<&Share> = versions
                        .iter()
                        .filter(|s| s.version == g.0 && s.endpoint.is_some())
                        .collect();
                    if named_eps.is_empty() {
                        vec![(g.0.clone(), None, g.1)]
                    } else {
                        g.2.iter().map(|x| (g.0.clone(), Some(x.0.clone()), x.1)).collect()
                    }
                })
                .collect();
            let actual_text = shares_text(&actual);
            Some(
                Diagnostic::error(
                    Code::TrafficExpectation,
                    e.clause,
                    format!(
                        "expected `{service}` to receive {}; it receives {actual_text}",
                        shares_text(&want)
                    ),
                )
                .label(format!("actually: {actual_text}"))
                .help("`meshc traffic` with the same request shows the route taken at each hop"),
            )
        }
    }
}

fn answers(trace: &Trace) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for (what, share) in trace.hops.iter().flat_map(|h| &h.answered) {
        match out.iter_mut().find(|(w, _)| w == what) {
            Some((_, s)) => *s += share,
            None => out.push((what.clone(), *share)),
        }
    }
    out
}
