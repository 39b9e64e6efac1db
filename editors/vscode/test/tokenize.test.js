// The TextMate grammar through the real engine (vscode-textmate + vscode-oniguruma, the ones
// VS Code uses), on every example, every ok fixture and every `mesh` block of the README:
//
// - every keyword of grammar/mesh.pest (read here, so a new keyword without highlighting fails)
//   has a keyword scope where the language uses it as one, and a name after a keyword that
//   takes a name (`service NAME`, `port PROTOCOL`, `-> TARGET`, ...) is not a keyword;
// - strings and comments are exactly where an independent lexer (the pest rules: `"` to the
//   next unescaped `"`, `#` outside strings to the end of the line) puts them;
// - no word is left without a scope; escapes, `${VAR}`, durations, percentages, numbers and
//   addresses carry theirs.
//
// Run: `npm ci && node --test test/` in editors/vscode.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const EXT = path.join(__dirname, "..");
const ROOT = path.join(EXT, "..", "..");
const GRAMMAR = path.join(EXT, "syntaxes", "mesh.tmLanguage.json");

// ------------------------------------------------------------------ the keywords, from pest

const PEST = fs.readFileSync(path.join(ROOT, "grammar", "mesh.pest"), "utf8");

/** Rule name -> body, from `name = { ... }` / `name = @{ ... }` / `name = _{ ... }`. */
function pestRules(text) {
  const noComments = text.replace(/\/\/.*$/gm, "");
  const rules = new Map();
  const re = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*[_@$!]?\{([\s\S]*?)\n?\}\s*$/gm;
  let m;
  while ((m = re.exec(noComments)) !== null) rules.set(m[1], m[2]);
  return rules;
}
const RULES = pestRules(PEST);

/** Every word literal of the grammar except the units inside `duration`. */
const KEYWORDS = (() => {
  const words = new Set();
  for (const [rule, body] of RULES) {
    if (rule === "duration") continue;
    for (const m of body.matchAll(/"([a-z][a-z-]*)"/g)) words.add(m[1]);
  }
  return words;
})();

/** The literals of one rule (`policy_key`, `external_key`). */
const literals = (rule) => new Set([...RULES.get(rule).matchAll(/"([a-z-]+)"/g)].map((m) => m[1]));
const POLICY_KEYS = literals("policy_key");
const EXTERNAL_KEYS = literals("external_key");

/** Keywords (and `->`) the grammar follows with a name, label key or target. */
const TAKES_NAME = (() => {
  const out = new Set();
  for (const body of RULES.values()) {
    for (const m of body.matchAll(/"([^"\s]+)"\s*~\s*(name|label_key|target)\b/g)) out.add(m[1]);
  }
  // Rules that are only a choice of literals (`runtime = { "pod" | "vm" }`) used before a name.
  for (const [rule, body] of RULES) {
    if (!/^\s*"[a-z-]+"(\s*\|\s*"[a-z-]+")*\s*$/.test(body)) continue;
    const used = new RegExp(`\\b${rule}\\s*~\\s*(name|label_key|target)\\b`);
    if ([...RULES.values()].some((b) => used.test(b))) {
      for (const m of body.matchAll(/"([a-z-]+)"/g)) out.add(m[1]);
    }
  }
  return out;
})();

// ------------------------------------------------------------------ the engine

let onigLib;
/** A grammar from the text of a .tmLanguage.json (the repository's by default). */
function loadGrammar(raw = fs.readFileSync(GRAMMAR, "utf8")) {
  if (!onigLib) {
    const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
    onigLib = oniguruma.loadWASM(wasm).then(() => ({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }));
  }
  const registry = new vsctm.Registry({
    onigLib,
    loadGrammar: async (scopeName) => (scopeName === "source.mesh" ? vsctm.parseRawGrammar(raw, GRAMMAR) : null),
  });
  return registry.loadGrammar("source.mesh");
}
const MESH = loadGrammar();

/** Per line: an array of scope lists, one per character. */
async function scopesOf(text, grammar = MESH) {
  const g = await grammar;
  let stack = vsctm.INITIAL;
  return text.split("\n").map((line) => {
    const r = g.tokenizeLine(line, stack);
    stack = r.ruleStack;
    const perChar = new Array(line.length);
    for (const t of r.tokens) {
      for (let i = t.startIndex; i < Math.min(t.endIndex, line.length); i++) perChar[i] = t.scopes;
    }
    return perChar;
  });
}

// ------------------------------------------------------------------ an independent lexer

const IDENT = /[A-Za-z0-9_.%/]|-(?!>)/y;

/**
 * The pest lexical rules, per line: strings (`"` to the next unescaped `"`, or the end of the
 * line when unterminated), comments (`#` outside strings), words (runs of identifier
 * characters, `/` included for label keys and targets), variables outside strings (`${NAME}`, as
 * pest's `var_ref`), and the punctuation `->`, `{`, `}`, `,`, `:`, `$`.
 */
function lex(text) {
  return text.split("\n").map((line) => {
    const tokens = [];
    let i = 0;
    while (i < line.length) {
      const c = line[i];
      if (c === " " || c === "\t" || c === "\r") {
        i++;
      } else if (c === "#") {
        tokens.push({ kind: "comment", start: i, end: line.length });
        i = line.length;
      } else if (c === '"') {
        const start = i;
        const escapes = [];
        const vars = [];
        i++;
        let closed = false;
        while (i < line.length) {
          if (line[i] === "\\") {
            escapes.push({ start: i, end: Math.min(i + 2, line.length) });
            const u = /^\\u\{[0-9A-Fa-f]{1,6}\}/.exec(line.slice(i));
            if (u) escapes[escapes.length - 1].end = i + u[0].length;
            i = escapes[escapes.length - 1].end;
          } else if (line[i] === '"') {
            i++;
            closed = true;
            break;
          } else {
            const v = /^\$\{[A-Za-z0-9_]+\}/.exec(line.slice(i));
            if (v) {
              vars.push({ start: i, end: i + v[0].length });
              i += v[0].length;
            } else {
              i++;
            }
          }
        }
        tokens.push({ kind: "string", start, end: i, closed, escapes, vars });
      } else if (/^\$\{[A-Za-z0-9_]*\}/.test(line.slice(i))) {
        const end = i + /^\$\{[A-Za-z0-9_]*\}/.exec(line.slice(i))[0].length;
        tokens.push({ kind: "var", start: i, end, text: line.slice(i, end) });
        i = end;
      } else if (line.startsWith("->", i)) {
        tokens.push({ kind: "punct", start: i, end: i + 2, text: "->" });
        i += 2;
      } else {
        IDENT.lastIndex = i;
        let j = i;
        while (IDENT.lastIndex === j && IDENT.test(line)) j = IDENT.lastIndex;
        if (j > i) {
          tokens.push({ kind: "word", start: i, end: j, text: line.slice(i, j) });
          i = j;
        } else {
          tokens.push({ kind: "punct", start: i, end: i + 1, text: c });
          i++;
        }
      }
    }
    return tokens;
  });
}

// ------------------------------------------------------------------ the checks

const has = (scopes, prefix) => (scopes || []).some((s) => s === prefix || s.startsWith(prefix + ".") || s.startsWith(prefix));
const keywordScope = (scopes) => (scopes || []).find((s) => s.startsWith("keyword.") && !s.startsWith("keyword.other.unit."));
const VALID_ESCAPE = /^\\(?:[\\"ntr$]|u\{[0-9A-Fa-f]{1,6}\})$/;

/** All problems of one file's highlighting, as readable strings (empty when it is right). */
async function problems(text, { full = true, grammar = MESH } = {}) {
  const scopes = await scopesOf(text, grammar);
  const lines = lex(text);
  const out = [];
  const at = (l, i) => `${l + 1}:${i + 1}`;
  let block = null; // "naming" or "policy" inside those blocks
  let pending = null;
  let prev = null; // the previous code token (across lines)

  for (let l = 0; l < lines.length; l++) {
    const line = text.split("\n")[l];
    const sc = scopes[l];
    const inString = new Array(line.length).fill(false);
    const inComment = new Array(line.length).fill(false);
    for (const t of lines[l]) {
      for (let i = t.start; i < t.end; i++) {
        if (t.kind === "string") inString[i] = true;
        if (t.kind === "comment") inComment[i] = true;
      }
    }
    // Strings and comments exactly where the lexer puts them.
    for (let i = 0; i < line.length; i++) {
      const s = has(sc[i], "string.quoted.double.mesh");
      const c = has(sc[i], "comment.line.number-sign.mesh");
      if (s !== inString[i]) {
        out.push(`${at(l, i)} ${JSON.stringify(line[i])} is ${s ? "" : "not "}scoped as a string: ${line}`);
        break;
      }
      if (c !== inComment[i]) {
        out.push(`${at(l, i)} ${JSON.stringify(line[i])} is ${c ? "" : "not "}scoped as a comment: ${line}`);
        break;
      }
    }
    for (const t of lines[l]) {
      if (t.kind === "comment") continue;
      if (t.kind === "string") {
        for (const e of t.escapes) {
          const want = VALID_ESCAPE.test(line.slice(e.start, e.end))
            ? "constant.character.escape.mesh"
            : "invalid.illegal.escape.mesh";
          for (let i = e.start; i < e.end; i++) {
            if (!has(sc[i], want)) out.push(`${at(l, i)} escape ${line.slice(e.start, e.end)} is not ${want}`);
          }
        }
        for (const v of t.vars) {
          if (!has(sc[v.start + 2], "variable.other.readwrite.mesh")) {
            out.push(`${at(l, v.start)} ${line.slice(v.start, v.end)} in a string is not a variable`);
          }
        }
        prev = t;
        continue;
      }
      if (!full) continue;
      const own = sc[t.start] || [];
      if (own.length < 2) out.push(`${at(l, t.start)} ${JSON.stringify(line.slice(t.start, t.end))} has no scope: ${line}`);

      if (t.kind === "word") {
        // A keyword scope covers whole words (`route` is not highlighted inside `route-x`).
        const kw = keywordScope(own);
        for (let i = t.start; i < t.end; i++) {
          if (keywordScope(sc[i]) !== kw) {
            out.push(`${at(l, i)} the word ${t.text} is only partly a keyword (${kw || keywordScope(sc[i])})`);
            break;
          }
        }
        // A keyword word is a keyword unless it sits where the grammar takes a name or a value:
        // after a keyword that takes a name (`service port-api`, `port http`), after an external
        // setting (`location external`), as a key of a naming block, as a value in a policy.
        const nameSlot = prev && TAKES_NAME.has(prev.text) && (prev.kind === "punct" || keywordScope(prev.scopes));
        const valueSlot = prev && prev.kind === "word" && EXTERNAL_KEYS.has(prev.text);
        const policyValue = block === "policy" && !POLICY_KEYS.has(t.text);
        if (KEYWORDS.has(t.text) && !kw && !nameSlot && !valueSlot && block !== "naming" && !policyValue) {
          out.push(`${at(l, t.start)} the keyword ${t.text} is scoped ${own.join(" ")}: ${line}`);
        }
        if (prev && TAKES_NAME.has(prev.text) && /^[A-Za-z_]/.test(t.text)) {
          const prevKw = prev.kind === "punct" ? prev.text === "->" : keywordScope(prev.scopes);
          if (prevKw && kw) out.push(`${at(l, t.start)} ${t.text} after ${prev.text} is a name, not the keyword ${kw}`);
        }
        if (/^\d+(\.\d+)?(ms|s|m|h)$/.test(t.text) && !has(own, "constant.numeric.duration.mesh")) {
          out.push(`${at(l, t.start)} the duration ${t.text} is scoped ${own.join(" ")}`);
        }
        if (/^-?\d+(\.\d+)?%$/.test(t.text) && !has(own, "constant.numeric.percentage.mesh")) {
          out.push(`${at(l, t.start)} the percentage ${t.text} is scoped ${own.join(" ")}`);
        }
        if (/^-?\d+(\.\d+)?$/.test(t.text) && !has(own, "constant.numeric")) {
          out.push(`${at(l, t.start)} the number ${t.text} is scoped ${own.join(" ")}`);
        }
        if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t.text) && !has(own, "constant.numeric.address.mesh")) {
          out.push(`${at(l, t.start)} the address ${t.text} is scoped ${own.join(" ")}`);
        }
      }
      // naming { KEY "TEMPLATE" ... } and policy { KEY VALUE... }
      const opens = t.kind === "punct" && t.text === "{" && pending;
      if (opens) block = pending;
      pending = t.kind === "word" && (t.text === "naming" || t.text === "policy") ? t.text : null;
      if (t.kind === "punct" && t.text === "->" && !has(own, "keyword.operator.arrow.mesh")) {
        out.push(`${at(l, t.start)} -> is scoped ${own.join(" ")}`);
      }
      if (t.kind === "punct" && t.text === "{") {
        if (!has(own, "punctuation.section.block.begin.mesh")) out.push(`${at(l, t.start)} { is scoped ${own.join(" ")}`);
      }
      if (t.kind === "punct" && t.text === "}") {
        if (!has(own, "punctuation.section.block.end.mesh")) out.push(`${at(l, t.start)} } is scoped ${own.join(" ")}`);
        block = null;
      }
      t.scopes = own;
      prev = t;
    }
  }
  return out;
}

// ------------------------------------------------------------------ the corpus

function meshFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return meshFiles(p);
    return e.name.endsWith(".mesh") ? [p] : [];
  });
}
function markdownBlocks(file, lang) {
  const text = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, ""); // editors drop a leading BOM on load
  const re = new RegExp("^```" + lang + "\\s*\\n([\\s\\S]*?)^```", "gm");
  return [...text.matchAll(re)].map((m, i) => ({ name: `${path.relative(ROOT, file)} block ${i + 1}`, text: m[1] }));
}
const rel = (p) => path.relative(ROOT, p);
const VALID = [
  ...meshFiles(path.join(ROOT, "examples")),
  ...meshFiles(path.join(ROOT, "tests", "cases", "ok")),
].map((p) => ({ name: rel(p), text: fs.readFileSync(p, "utf8").replace(/^\uFEFF/, "") }))
  .concat(markdownBlocks(path.join(ROOT, "README.md"), "mesh"));
const INVALID = meshFiles(path.join(ROOT, "tests", "cases", "err"))
  .concat(meshFiles(path.join(ROOT, "tests", "cases", "warn")))
  .map((p) => ({ name: rel(p), text: fs.readFileSync(p, "utf8").replace(/^\uFEFF/, "") }));

// ------------------------------------------------------------------ tests

test("the keyword list comes from grammar/mesh.pest", () => {
  for (const k of ["namespace", "service", "route", "policy", "https-redirect", "or", "absent", "via", "external"]) {
    assert.ok(KEYWORDS.has(k), `${k} in ${[...KEYWORDS].join(" ")}`);
  }
  for (const unit of ["ms", "s", "m", "h"]) assert.ok(!KEYWORDS.has(unit), unit);
  for (const k of ["namespace", "service", "pod", "vm", "port", "calls", "label", "from", "->"]) {
    assert.ok(TAKES_NAME.has(k), `${k} takes a name: ${[...TAKES_NAME].join(" ")}`);
  }
});

test("every keyword of the grammar is highlighted in some context", async () => {
  const contexts = (k) => [k, `policy { ${k} }`, `route -> v1 ${k}`, `listen http 80 ${k}`];
  const missing = [];
  for (const k of KEYWORDS) {
    let ok = false;
    for (const ctx of contexts(k)) {
      const sc = await scopesOf(ctx);
      if (keywordScope(sc[0][ctx.lastIndexOf(k)])) ok = true;
    }
    if (!ok) missing.push(k);
  }
  assert.deepEqual(missing, [], "keywords of grammar/mesh.pest the TextMate grammar never highlights");
});

test("the corpus is there", () => {
  assert.ok(VALID.filter((f) => f.name.startsWith("examples")).length >= 5, "examples");
  assert.ok(VALID.filter((f) => f.name.startsWith("tests")).length >= 20, "ok fixtures");
  assert.ok(VALID.filter((f) => f.name.startsWith("README")).length >= 3, "README blocks");
  assert.ok(INVALID.length >= 20, "err fixtures");
});

for (const file of VALID) {
  test(`highlights ${file.name}`, async () => {
    assert.deepEqual(await problems(file.text), []);
  });
}

test("strings and comments in the err and warn fixtures", async () => {
  const all = [];
  for (const file of INVALID) {
    for (const p of await problems(file.text, { full: false })) all.push(`${file.name}:${p}`);
  }
  assert.deepEqual(all, []);
});

// ------------------------------------------------------------------ focused cases

/** The scopes of the `n`th occurrence (from 0) of `needle` on the line it is on. */
async function scopeAt(text, needle, n = 0) {
  const sc = await scopesOf(text);
  const lines = text.split("\n");
  let seen = 0;
  for (let l = 0; l < lines.length; l++) {
    let from = 0;
    for (;;) {
      const i = lines[l].indexOf(needle, from);
      if (i < 0) break;
      if (seen++ === n) return sc[l][i];
      from = i + 1;
    }
  }
  throw new Error(`${needle} #${n} not in ${text}`);
}

test("a # inside a string is not a comment; an escaped quote does not end the string", async () => {
  const text = 'env A "x # y \\"q\\" # z" # real\nenv B "C:\\\\" # after a backslash';
  assert.deepEqual(await problems(text), []);
  assert.ok(has(await scopeAt(text, "# y"), "string.quoted.double.mesh"));
  assert.ok(!has(await scopeAt(text, "# y"), "comment"));
  assert.ok(has(await scopeAt(text, "# z"), "string.quoted.double.mesh"));
  assert.ok(has(await scopeAt(text, "# real"), "comment.line.number-sign.mesh"));
  assert.ok(has(await scopeAt(text, '\\"q'), "constant.character.escape.mesh"));
  assert.ok(has(await scopeAt(text, "# after"), "comment.line.number-sign.mesh"));
});

test("escapes, variables and naming placeholders in strings", async () => {
  const text = 'env A "${HOST}:80 \\${NOT} \\u{1F600} \\q {service}-{version}"';
  assert.ok(has(await scopeAt(text, "HOST"), "variable.other.readwrite.mesh"));
  assert.ok(has(await scopeAt(text, "\\$"), "constant.character.escape.mesh"));
  assert.ok(!has(await scopeAt(text, "NOT"), "variable.other.readwrite.mesh"), "\\${ is a literal $");
  assert.ok(has(await scopeAt(text, "\\u{1F600}"), "constant.character.escape.mesh"));
  assert.ok(has(await scopeAt(text, "\\q"), "invalid.illegal.escape.mesh"));
  assert.ok(has(await scopeAt(text, "{service}"), "constant.other.placeholder.mesh"));
  const outside = "vm v2 at ${VM_PRI_2}, 10.0.0.2";
  assert.ok(has(await scopeAt(outside, "VM_PRI_2"), "variable.other.readwrite.mesh"));
  assert.ok(has(await scopeAt(outside, "10.0.0.2"), "constant.numeric.address.mesh"));
});

test("an unterminated string ends at the end of its line", async () => {
  const text = 'pod v1 image "registry.example.com/a:1\n    route -> v1';
  assert.ok(has(await scopeAt(text, "route"), "keyword.control.route.mesh"));
  assert.ok(!has(await scopeAt(text, "route"), "string"));
});

test("keywords in context: a protocol, a policy key, a naming key, a service named like a keyword", async () => {
  const text = [
    "namespace n {",
    '  naming { service "{service}-svc" }',
    "  service port-api {",
    "    port http 80",
    "    port tls 443",
    "    calls route-db",
    "    policy { http max-pending 1 tls simple }",
    "    route tcp port 27017 from reviews v2 -> v2",
    "  }",
    "  external db {",
    "    location external",
    "  }",
    "}",
  ].join("\n");
  assert.deepEqual(await problems(text), []);
  assert.ok(has(await scopeAt(text, "service", 0), "entity.other.attribute-name.naming.mesh"));
  assert.ok(has(await scopeAt(text, "service", 2), "keyword.declaration.service.mesh"));
  assert.ok(has(await scopeAt(text, "port-api"), "entity.name.type.service.mesh"));
  assert.ok(has(await scopeAt(text, "http 80"), "support.type.protocol.mesh"));
  assert.ok(has(await scopeAt(text, "tls 443"), "support.type.protocol.mesh"));
  assert.ok(has(await scopeAt(text, "route-db"), "variable.other.service.mesh"));
  assert.ok(!keywordScope(await scopeAt(text, "route-db")));
  assert.ok(has(await scopeAt(text, "http max"), "keyword.other.policy.mesh"));
  assert.ok(has(await scopeAt(text, "tls simple"), "keyword.other.policy.mesh"));
  assert.ok(has(await scopeAt(text, "max-pending"), "support.constant.setting.mesh"));
  assert.ok(has(await scopeAt(text, "port 27017"), "keyword.other.condition.mesh"));
  assert.ok(has(await scopeAt(text, "tcp"), "keyword.other.route-kind.mesh"));
  assert.ok(has(await scopeAt(text, "reviews"), "variable.other.target.mesh"));
  assert.ok(has(await scopeAt(text, "external", 1), "support.constant.setting.mesh"));
});

test("numbers, percentages, durations, ports and targets", async () => {
  const text = "route { v1 90% v2 10% } timeout 0.5s retries 3 per-try 250ms fault abort 500 49.5% mirror reviews/v2:9080 10%";
  assert.deepEqual(await problems(text), []);
  assert.ok(has(await scopeAt(text, "90"), "constant.numeric.percentage.mesh"));
  assert.ok(has(await scopeAt(text, "%"), "keyword.other.unit.percent.mesh"));
  assert.ok(has(await scopeAt(text, "0.5s"), "constant.numeric.duration.mesh"));
  assert.ok(has(await scopeAt(text, "ms"), "keyword.other.unit.mesh"));
  assert.ok(has(await scopeAt(text, "500"), "constant.numeric.mesh"));
  assert.ok(has(await scopeAt(text, "per-try"), "support.constant.parameter.mesh"));
  assert.ok(has(await scopeAt(text, "reviews/v2"), "variable.other.target.mesh"));
  assert.ok(has(await scopeAt(text, "9080"), "constant.numeric.port.mesh"));
  assert.ok(has(await scopeAt(text, "{"), "punctuation.section.block.begin.mesh"));
  const arrow = "port http 8003 -> 8001\nroute prefix \"/a\" -> hello1";
  assert.ok(has(await scopeAt(arrow, "->"), "keyword.operator.arrow.mesh"));
  assert.ok(has(await scopeAt(arrow, "8001"), "constant.numeric.mesh"));
  assert.ok(has(await scopeAt(arrow, "hello1"), "variable.other.target.mesh"));
  const v6 = "vm v2 at fd00::1, 10.0.0.2";
  assert.ok(has(await scopeAt(v6, "fd00::1"), "constant.numeric.address.mesh"));
});

test("the checks fail on a grammar with a mistake", async () => {
  const raw = JSON.parse(fs.readFileSync(GRAMMAR, "utf8"));
  const mutant = (change) => {
    const copy = JSON.parse(JSON.stringify(raw));
    change(copy.repository);
    return loadGrammar(JSON.stringify(copy));
  };
  const file = (name) => VALID.find((f) => f.name === name).text;

  // A keyword the grammar forgot.
  const noTimeout = mutant((r) => {
    const option = r.routes.patterns.find((p) => p.name === "keyword.other.option.mesh");
    option.match = option.match.replace("timeout|", "");
  });
  const forgot = await problems(file("examples/bookinfo.mesh"), { grammar: noTimeout });
  assert.ok(forgot.some((p) => p.includes("the keyword timeout")), forgot.join("\n"));

  // Escapes not recognised: `\"` ends the string.
  const noEscapes = mutant((r) => {
    r.string.patterns = r.string.patterns.filter((p) => !/escape/.test(p.name || ""));
  });
  const escapes = await problems(file("tests/cases/ok/string-escapes/input.mesh"), { grammar: noEscapes });
  assert.ok(escapes.some((p) => p.includes("scoped as a string")), escapes.join("\n"));

  // Comments inside strings.
  const commentInString = mutant((r) => r.string.patterns.unshift({ include: "#comment" }));
  const comment = await problems('env A "x # y" # z', { grammar: commentInString });
  assert.ok(comment.some((p) => p.includes("as a comment")), comment.join("\n"));
});

test("a keyword glued to more identifier characters is a name", async () => {
  assert.deepEqual(await problems('env A "route -> v1 # x"'), []);
  assert.ok(!keywordScope(await scopeAt("calls timeout-svc", "timeout-svc")));
  assert.ok(!keywordScope(await scopeAt("route -> route.other", "route.other")));
  assert.ok(!keywordScope(await scopeAt("route { v1 50% route-b 50% }", "route-b")));
  assert.ok(has(await scopeAt("route { v1 50% route-b 50% }", "route"), "keyword.control.route.mesh"));
});

test("```mesh blocks in Markdown are highlighted as mesh", async () => {
  // A stand-in for VS Code's Markdown grammar (the injection only needs its scope name).
  const host = { scopeName: "text.html.markdown", patterns: [] };
  const injection = path.join(EXT, "syntaxes", "mesh.markdown.tmLanguage.json");
  const registry = new vsctm.Registry({
    onigLib,
    loadGrammar: async (scopeName) => {
      if (scopeName === "source.mesh") return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, "utf8"), GRAMMAR);
      if (scopeName === "markdown.mesh.codeblock") return vsctm.parseRawGrammar(fs.readFileSync(injection, "utf8"), injection);
      if (scopeName === "text.html.markdown") return vsctm.parseRawGrammar(JSON.stringify(host), "markdown.json");
      return null;
    },
    getInjections: (scopeName) => (scopeName === "text.html.markdown" ? ["markdown.mesh.codeblock"] : undefined),
  });
  const md = await registry.loadGrammar("text.html.markdown");
  const lines = ["Some text with service in it.", "```mesh", 'service web { port http 80 } # done', "```", "service after"];
  let stack = vsctm.INITIAL;
  const scopes = lines.map((line) => {
    const r = md.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return (i) => r.tokens.find((t) => t.startIndex <= i && i < t.endIndex).scopes;
  });
  assert.ok(!keywordScope(scopes[0](15)), "prose is not mesh");
  assert.ok(has(scopes[2](0), "keyword.declaration.service.mesh"));
  assert.ok(has(scopes[2](0), "meta.embedded.block.mesh"));
  assert.ok(has(scopes[2](lines[2].indexOf("#")), "comment.line.number-sign.mesh"));
  assert.ok(!keywordScope(scopes[4](0)), "the block ended");
});
