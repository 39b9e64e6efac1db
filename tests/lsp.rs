//! `meshc lsp` driven by a real client: the test starts the binary, speaks JSON-RPC over
//! its stdin and stdout (Content-Length framing written by hand), and checks the answers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for responses.
    notifications: Vec<Value>,
}

impl Client {
    fn start(args: &[&str]) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_meshc"))
            .arg("lsp")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("meshc lsp starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, incoming) = channel();
        std::thread::spawn(move || loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    length = n.parse::<usize>().ok();
                }
            }
            let mut body = vec![0; length.expect("a Content-Length header")];
            stdout.read_exact(&mut body).unwrap();
            if send.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        Client {
            child,
            stdin,
            incoming,
            next_id: 1,
            notifications: Vec::new(),
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Value {
        self.incoming
            .recv_timeout(Duration::from_secs(60))
            .expect("meshc lsp answers within a minute")
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The whole response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message;
            }
            self.notifications.push(message);
        }
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let message = match self
                .notifications
                .iter()
                .position(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri)
            {
                Some(i) => self.notifications.remove(i),
                None => self.receive(),
            };
            if message["method"] == "textDocument/publishDiagnostics" && message["params"]["uri"] == uri {
                return message["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
            if message["method"] != "textDocument/publishDiagnostics" {
                self.notifications.push(message);
            }
        }
    }

    fn exit(mut self) {
        assert_eq!(self.result("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

fn folder(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lsp").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn uri(path: &Path) -> String {
    // The temporary folder's path is plain ASCII without spaces.
    format!("file://{}", path.display())
}

const BACKEND: &str = "namespace shop {\n  service api {\n    port http 8080\n    pod v1 image \"api:1\"\n    vm v2 at 10.0.0.2 image \"api:2\"\n    route prefix \"/new\" { v1 70% v2 30% }\n  }\n}\n";

const MAIN: &str = "import \"backend.mesh\"\n# café ☕: the web tier\nnamespace shop {\n  service web {\n    port http 80\n    calls apj\n    pod v1 image \"web:1\"\n    route header x-user exact \"zoë☕\" -> v1\n  }\n  gateway edge {\n    listen http 80 hosts \"*\"\n    route -> web\n  }\n}\n";

/// The protocol position of the `nth` byte offset of `needle` plus `shift`, in UTF-16.
fn at(text: &str, needle: &str, shift: usize) -> Value {
    let offset = text.find(needle).unwrap() + shift;
    let line = text[..offset].matches('\n').count();
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": text[start..offset].encode_utf16().count() })
}

fn position(uri: &str, position: Value) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position })
}

#[test]
fn a_session_from_initialize_to_exit() {
    let dir = folder("session");
    std::fs::write(dir.join("backend.mesh"), BACKEND).unwrap();
    let main = uri(&dir.join("main.mesh"));
    let backend = uri(&dir.join("backend.mesh"));
    let mut client = Client::start(&[]);
    let init = client.result(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    let capabilities = &init["capabilities"];
    assert_eq!(capabilities["positionEncoding"], "utf-16");
    for provider in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "documentFormattingProvider",
        "renameProvider",
    ] {
        assert_eq!(capabilities[provider], true, "{provider}");
    }
    client.notify("initialized", json!({}));

    // Diagnostics as the CLI reports them, with the "did you mean" as a quick fix.
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": main, "languageId": "mesh", "version": 1, "text": MAIN } }),
    );
    let found = client.diagnostics(&main);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["code"], "M2001");
    assert_eq!(found[0]["source"], "meshc");
    assert_eq!(
        found[0]["message"],
        "there is no service `apj` in this namespace\nhelp: did you mean `api`?"
    );
    assert_eq!(found[0]["range"]["start"], at(MAIN, "apj", 0));
    assert_eq!(found[0]["range"]["end"], at(MAIN, "apj", 3));
    let actions = client.result(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": main }, "range": found[0]["range"], "context": { "diagnostics": found } }),
    );
    assert_eq!(actions.as_array().unwrap().len(), 1, "{actions}");
    assert_eq!(actions[0]["kind"], "quickfix");
    let edit = &actions[0]["edit"]["changes"][&main][0];
    assert_eq!(edit["newText"], "api");
    assert_eq!(edit["range"], found[0]["range"]);

    // Fixed: the file's diagnostics are cleared.
    let fixed = MAIN.replace("apj", "api");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": main, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    assert_eq!(client.diagnostics(&main), Vec::<Value>::new());

    // Hover: what a service generates; where a version runs and its share of each route.
    let hover = client.result("textDocument/hover", position(&main, at(&fixed, "calls api", 7)));
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(shown.contains("**service `api`** in namespace `shop`"), "{shown}");
    assert!(
        shown.contains("- Service `api`") && shown.contains("- VirtualService `api`"),
        "{shown}"
    );
    assert!(shown.contains("- WorkloadEntry `"), "{shown}");
    let hover = client.result("textDocument/hover", position(&backend, at(BACKEND, "vm v2", 3)));
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(shown.contains("VM 10.0.0.2"), "{shown}");
    assert!(shown.contains("- 30 % of `prefix \"/new\"`"), "{shown}");
    assert!(!shown.contains("70 %"), "{shown}");

    // Definition: a service across files, a version after non-ASCII text on its line,
    // an import.
    let definition = client.result("textDocument/definition", position(&main, at(&fixed, "calls api", 7)));
    assert_eq!(
        definition,
        json!([{ "uri": backend, "range": { "start": at(BACKEND, "api", 0), "end": at(BACKEND, "api", 3) } }])
    );
    let definition = client.result("textDocument/definition", position(&main, at(&fixed, "-> v1", 4)));
    assert_eq!(definition[0]["range"]["start"], at(&fixed, "v1 image", 0));
    let on_v1 = at(&fixed, "-> v1", 3);
    assert_eq!(
        on_v1["character"], 40,
        "UTF-16 units: `ë` and `☕` are one each (43 bytes)"
    );
    let definition = client.result(
        "textDocument/definition",
        position(&main, at(&fixed, "backend.mesh", 2)),
    );
    assert_eq!(definition[0]["uri"], backend);

    // References across files.
    let references = client.result(
        "textDocument/references",
        json!({ "textDocument": { "uri": backend }, "position": at(BACKEND, "api", 1), "context": { "includeDeclaration": true } }),
    );
    let places: Vec<(String, Value)> = references
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["uri"].as_str().unwrap().to_string(), l["range"]["start"].clone()))
        .collect();
    assert_eq!(
        places,
        [
            (backend.clone(), at(BACKEND, "api", 0)),
            (main.clone(), at(&fixed, "calls api", 6))
        ]
    );

    // Completion: service names after `calls`, versions in a split, keywords by block.
    let labels = |items: &Value| -> Vec<String> {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect()
    };
    let items = client.result("textDocument/completion", position(&main, at(&fixed, "calls api", 6)));
    assert_eq!(labels(&items), ["api", "web"]);
    let items = client.result("textDocument/completion", position(&backend, at(BACKEND, "{ v1", 2)));
    assert_eq!(labels(&items), ["api", "v1", "v2", "web"]);
    let items = client.result("textDocument/completion", position(&main, at(&fixed, "    pod v1", 4)));
    let words = labels(&items);
    assert!(
        words.contains(&"calls".to_string()) && words.contains(&"route".to_string()),
        "{words:?}"
    );
    assert!(!words.contains(&"image".to_string()), "{words:?}");

    // Formatting: the `meshc fmt` layout, as one edit.
    let messy = fixed.replace("    port http 80", "port   http 80");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": main, "version": 3 }, "contentChanges": [{ "text": messy }] }),
    );
    assert_eq!(client.diagnostics(&main), Vec::<Value>::new());
    let edits = client.result(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": main }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits.as_array().unwrap().len(), 1, "{edits}");
    assert_eq!(
        edits[0]["newText"].as_str().unwrap(),
        meshc::syntax::format(0, &messy).unwrap()
    );
    assert_eq!(edits[0]["newText"].as_str().unwrap(), fixed);

    // Rename of a service: its declaration and the gateway's route; a bad name is refused.
    let renamed = client.result(
        "textDocument/rename",
        json!({ "textDocument": { "uri": main }, "position": at(&messy, "service web", 9), "newName": "frontend" }),
    );
    let edits = renamed["changes"][&main].as_array().unwrap();
    let starts: Vec<&Value> = edits.iter().map(|e| &e["range"]["start"]).collect();
    assert_eq!(starts, [&at(&messy, "web {", 0), &at(&messy, "-> web", 3)]);
    assert!(edits.iter().all(|e| e["newText"] == "frontend"));
    let refused = client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": main }, "position": at(&messy, "service web", 9), "newName": "Front_End" }),
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a valid name"),
        "{refused}"
    );

    // A document that does not parse still gets its syntax diagnostic, and no formatting.
    let broken = fixed.replace("port http 80", "port http");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": main, "version": 4 }, "contentChanges": [{ "text": broken }] }),
    );
    let found = client.diagnostics(&main);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0]["code"].as_str().unwrap().starts_with("M1"), "{found:?}");
    let edits = client.result(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": main }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits, Value::Null);
    // Requests on the broken document are answered, not failed.
    client.result("textDocument/hover", position(&main, at(&broken, "web", 0)));
    client.result(
        "textDocument/completion",
        position(&main, json!({ "line": 999, "character": 999 })),
    );

    let unknown = client.request(
        "textDocument/prepareTypeHierarchy",
        position(&main, at(&broken, "web", 0)),
    );
    assert_eq!(unknown["error"]["code"], -32601);
    client.exit();
}

#[test]
fn utf8_positions_when_the_client_offers_them() {
    let dir = folder("utf8");
    let path = dir.join("a.mesh");
    let text = "namespace n {\n  service s {\n    port http 80\n    pod v1 image \"ü\"\n    route header x exact \"ü☕\" -> v9\n  }\n}\n";
    let main = uri(&path);
    let mut client = Client::start(&[]);
    let init = client.result(
        "initialize",
        json!({ "processId": null, "capabilities": { "general": { "positionEncodings": ["utf-8", "utf-16"] } } }),
    );
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    client.notify("initialized", json!({}));
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": main, "languageId": "mesh", "version": 1, "text": text } }),
    );
    let found = client.diagnostics(&main);
    assert_eq!(found.len(), 1, "{found:?}");
    let offset = text.find("v9").unwrap();
    let line_start = text[..offset].rfind('\n').unwrap() + 1;
    assert_eq!(
        found[0]["range"]["start"],
        json!({ "line": 4, "character": offset - line_start })
    );
    let actions = client.result(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": main }, "range": found[0]["range"], "context": { "diagnostics": found } }),
    );
    assert_eq!(actions[0]["edit"]["changes"][&main][0]["newText"], "v1");
    client.exit();
}

#[test]
fn variables_imports_on_disk_and_closing() {
    let dir = folder("vars");
    let vars = dir.join("site.env");
    std::fs::write(&vars, "# the site\nIMAGE=registry.example/web:2\n").unwrap();
    std::fs::write(dir.join("backend.mesh"), BACKEND).unwrap();
    let text = "import \"backend.mesh\"\nnamespace shop {\n  service web {\n    port http 80\n    calls api\n    pod v1 image \"${IMAGE}\"\n  }\n}\n";
    let main = uri(&dir.join("main.mesh"));
    let backend = uri(&dir.join("backend.mesh"));
    let mut client = Client::start(&["--vars", vars.to_str().unwrap()]);
    client.result("initialize", json!({ "processId": null, "capabilities": {} }));
    client.notify("initialized", json!({}));
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": main, "languageId": "mesh", "version": 1, "text": text } }),
    );
    assert_eq!(client.diagnostics(&main), Vec::<Value>::new());

    // A variable: its value, and its definition in the vars file.
    let hover = client.result("textDocument/hover", position(&main, at(text, "IMAGE}", 1)));
    assert_eq!(
        hover["contents"]["value"],
        "**variable `IMAGE`** = `registry.example/web:2`"
    );
    let definition = client.result("textDocument/definition", position(&main, at(text, "IMAGE}", 1)));
    assert_eq!(definition[0]["uri"], uri(&vars));
    assert_eq!(definition[0]["range"]["start"], json!({ "line": 1, "character": 0 }));

    // The vars file changes on disk.
    std::fs::write(&vars, "IMAGE=registry.example/web:3\n").unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri(&vars), "type": 2 }] }),
    );
    let hover = client.result("textDocument/hover", position(&main, at(text, "IMAGE}", 1)));
    assert_eq!(
        hover["contents"]["value"],
        "**variable `IMAGE`** = `registry.example/web:3`"
    );
    let definition = client.result("textDocument/definition", position(&main, at(text, "IMAGE}", 1)));
    assert_eq!(definition[0]["range"]["start"], json!({ "line": 0, "character": 0 }));

    // The imported file changes on disk: its diagnostics are published at its own URI.
    std::fs::write(dir.join("backend.mesh"), BACKEND.replace("v1 70%", "v7 70%")).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": backend, "type": 2 }] }),
    );
    let found = client.diagnostics(&backend);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["code"], "M2002");

    // Closed, the files' diagnostics are cleared.
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": main } }));
    assert_eq!(client.diagnostics(&backend), Vec::<Value>::new());
    client.exit();
}

#[test]
fn a_vars_file_that_cannot_be_read_stops_the_server() {
    let output = Command::new(env!("CARGO_BIN_EXE_meshc"))
        .args(["lsp", "--vars", "/nonexistent/site.env"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("meshc: cannot read /nonexistent/site.env"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn exit_without_shutdown_ends_the_server() {
    let mut client = Client::start(&[]);
    client.result("initialize", json!({ "processId": null, "capabilities": {} }));
    client.notify("initialized", json!({}));
    client.notify("exit", Value::Null);
    let status = client.child.wait().unwrap();
    assert!(status.code().is_some(), "{status}");
}
