// The meshc extension: the .mesh language (grammar and language configuration come from
// package.json) and `meshc lsp`, started over stdio as the language server. Plain CommonJS,
// no build step.
"use strict";

const path = require("path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

/** The command line of the server: `meshc.path` (default `meshc`), `lsp`, `meshc.args`. */
function serverCommand(config, workspaceFolders) {
  let command = (config.get("path") || "meshc").trim() || "meshc";
  if (command.startsWith("~/") && process.env.HOME) {
    command = path.join(process.env.HOME, command.slice(2));
  }
  // A bare name is looked up on PATH; a relative path is relative to the first workspace folder.
  if (!path.isAbsolute(command) && command.includes("/") && workspaceFolders && workspaceFolders.length > 0) {
    command = path.join(workspaceFolders[0].uri.fsPath, command);
  }
  const extra = config.get("args") || [];
  return { command, args: ["lsp", ...extra] };
}

function createClient() {
  const config = vscode.workspace.getConfiguration("meshc");
  const { command, args } = serverCommand(config, vscode.workspace.workspaceFolders);
  const run = { command, args, transport: TransportKind.stdio };
  const serverOptions = { run, debug: run };
  const clientOptions = {
    documentSelector: [{ language: "mesh" }],
    synchronize: {
      // Imports and --vars files: the server hears of changes to them on disk.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{mesh,vars}"),
    },
  };
  return new LanguageClient("meshc", "meshc", serverOptions, clientOptions);
}

async function start() {
  client = createClient();
  try {
    await client.start();
  } catch (err) {
    const { command } = serverCommand(vscode.workspace.getConfiguration("meshc"), vscode.workspace.workspaceFolders);
    vscode.window.showErrorMessage(
      `meshc: could not start \`${command} lsp\` (${err && err.message ? err.message : err}). ` +
        "Install meshc or set `meshc.path` to the executable."
    );
  }
}

async function stop() {
  if (client) {
    const old = client;
    client = undefined;
    if (old.isRunning()) {
      await old.stop();
    }
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("meshc.restartServer", async () => {
      await stop();
      await start();
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("meshc.path") || event.affectsConfiguration("meshc.args")) {
        await stop();
        await start();
      }
    })
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate, serverCommand };
