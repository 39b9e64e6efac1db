// extension.js outside VS Code: `vscode` and the language client replaced by recorders, to
// check the command line it starts (`meshc lsp` from `meshc.path`), the restart on a settings
// change, and the message when the server cannot start.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const Module = require("module");
const path = require("path");

function load(settings, { folders = [], startFails = false } = {}) {
  const record = { clients: [], errors: [], commands: new Map(), configListeners: [] };
  const vscode = {
    workspace: {
      workspaceFolders: folders.map((f) => ({ uri: { fsPath: f } })),
      getConfiguration: (section) => {
        assert.equal(section, "meshc");
        return { get: (key) => settings[key] };
      },
      createFileSystemWatcher: (glob) => ({ glob }),
      onDidChangeConfiguration: (fn) => {
        record.configListeners.push(fn);
        return { dispose() {} };
      },
    },
    commands: {
      registerCommand: (name, fn) => {
        record.commands.set(name, fn);
        return { dispose() {} };
      },
    },
    window: { showErrorMessage: (m) => record.errors.push(m) },
  };
  class LanguageClient {
    constructor(id, name, serverOptions, clientOptions) {
      Object.assign(this, { id, name, serverOptions, clientOptions, running: false, stopped: false });
      record.clients.push(this);
    }
    async start() {
      if (startFails) throw new Error("spawn meshc ENOENT");
      this.running = true;
    }
    isRunning() {
      return this.running;
    }
    async stop() {
      this.running = false;
      this.stopped = true;
    }
  }
  const fakes = { vscode, "vscode-languageclient/node": { LanguageClient, TransportKind: { stdio: 0 } } };
  const original = Module._load;
  Module._load = function (request, ...rest) {
    return Object.prototype.hasOwnProperty.call(fakes, request) ? fakes[request] : original.call(this, request, ...rest);
  };
  const file = require.resolve("../extension.js");
  delete require.cache[file];
  try {
    return { extension: require(file), record };
  } finally {
    Module._load = original;
  }
}

test("starts `meshc lsp` over stdio for .mesh documents", async () => {
  const { extension, record } = load({ path: "meshc", args: [] });
  await extension.activate({ subscriptions: [] });
  assert.equal(record.clients.length, 1);
  const client = record.clients[0];
  assert.deepEqual(client.serverOptions.run, { command: "meshc", args: ["lsp"], transport: 0 });
  assert.deepEqual(client.clientOptions.documentSelector, [{ language: "mesh" }]);
  assert.ok(client.running);
  assert.deepEqual(record.errors, []);
});

test("meshc.path and meshc.args choose the executable and its arguments", async () => {
  const { extension, record } = load(
    { path: "./target/debug/meshc", args: ["--log", "debug"] },
    { folders: ["/work/repo"] }
  );
  await extension.activate({ subscriptions: [] });
  assert.equal(record.clients[0].serverOptions.run.command, path.join("/work/repo", "target/debug/meshc"));
  assert.deepEqual(record.clients[0].serverOptions.run.args, ["lsp", "--log", "debug"]);
  const abs = extension.serverCommand({ get: (k) => (k === "path" ? "/opt/meshc/bin/meshc" : undefined) }, []);
  assert.deepEqual(abs, { command: "/opt/meshc/bin/meshc", args: ["lsp"] });
});

test("a change of meshc.path restarts the server with the new one", async () => {
  const settings = { path: "meshc" };
  const { extension, record } = load(settings);
  await extension.activate({ subscriptions: [] });
  settings.path = "/usr/local/bin/meshc";
  await record.configListeners[0]({ affectsConfiguration: (s) => s === "meshc.path" });
  assert.equal(record.clients.length, 2);
  assert.ok(record.clients[0].stopped);
  assert.equal(record.clients[1].serverOptions.run.command, "/usr/local/bin/meshc");
  await record.commands.get("meshc.restartServer")();
  assert.equal(record.clients.length, 3);
  await extension.deactivate();
  assert.ok(record.clients[2].stopped);
});

test("says how to fix it when meshc cannot be started", async () => {
  const { extension, record } = load({ path: "meshc" }, { startFails: true });
  await extension.activate({ subscriptions: [] });
  assert.equal(record.errors.length, 1);
  assert.match(record.errors[0], /could not start `meshc lsp`.*ENOENT.*meshc\.path/);
});
