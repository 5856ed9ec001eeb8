/**
 * `switchyard completion bash|zsh`: a script that completes the command
 * words, each command's options and --output's formats. It is made from the
 * commands themselves, their words and the options their --help lists, so a
 * new command or option completes without a second list to keep.
 */
import assert from "node:assert/strict";
import type { Command } from "../command.js";
import { outputFormats } from "../output.js";
import { parse, positional, UsageError } from "../usage.js";

export const completionShells = ["bash", "zsh"] as const;
export type CompletionShell = (typeof completionShells)[number];

/** What completes after a command's words: its options, and those that take a value (completed as files). */
export interface CompletionEntry {
  readonly words: string;
  readonly options: readonly string[];
  readonly valued: readonly string[];
}

/** An option line of a --help "Options:" list: "  --to LU   the LU…", "  --output FORMAT, -o   …", "  --watch   follow…". */
const optionLine = /^ {2,}(--[a-z][a-z-]*)( [^\s,]+)?(?:, (-[a-z]))? {2,}\S/;
/** The key the scripts use for "no command word typed yet": bash refuses an empty array subscript. */
const topLevelKey = "_";

export function completionEntry(command: Command): CompletionEntry {
  const options = ["--help"];
  const valued: string[] = [];
  for (const line of command.help.split("\n")) {
    const match = optionLine.exec(line);
    if (match?.[1] === undefined) continue;
    const names = match[3] === undefined ? [match[1]] : [match[1], match[3]];
    options.push(...names);
    if (match[2] !== undefined) valued.push(...names);
  }
  return { words: command.words.join(" "), options: [...new Set(options)], valued: [...new Set(valued)] };
}

/** For each run of words typed (topLevelKey for none), the words that may come next. */
function nextWords(commands: readonly Command[]): Map<string, string[]> {
  const next = new Map<string, string[]>();
  for (const command of commands) {
    command.words.forEach((word, index) => {
      const key = index === 0 ? topLevelKey : command.words.slice(0, index).join(" ");
      const words = next.get(key) ?? [];
      if (!words.includes(word)) words.push(word);
      next.set(key, words);
    });
  }
  return next;
}

/** `[key]='value' …` lines of an associative array; nothing in them needs quoting beyond single quotes. */
function arrayEntries(entries: readonly (readonly [string, string])[], style: "bash" | "zsh"): string {
  for (const [key, value] of entries) assert.ok(!key.includes("'") && !value.includes("'"), `a quote in completion word ${key}`);
  return entries.map(([key, value]) => (style === "bash" ? `  ['${key}']='${value}'` : `  '${key}' '${value}'`)).join("\n");
}

interface Tables {
  readonly commands: string;
  readonly options: readonly (readonly [string, string])[];
  readonly valued: readonly (readonly [string, string])[];
  readonly next: readonly (readonly [string, string])[];
}

function tables(commands: readonly Command[]): Tables {
  const entries = commands.map(completionEntry);
  return {
    commands: entries.map((entry) => `'${entry.words}'`).join(" "),
    options: entries.map((entry) => [entry.words, entry.options.join(" ")] as const),
    valued: entries.map((entry) => [entry.words, entry.valued.join(" ")] as const),
    next: [...nextWords(commands)].map(([key, words]) => [key, words.join(" ")] as const),
  };
}

function bashScript(commands: readonly Command[]): string {
  const table = tables(commands);
  return `# bash completion for switchyard. Load it with:
#   source <(switchyard completion bash)
# or save it as ~/.local/share/bash-completion/completions/switchyard
_switchyard_commands=(${table.commands})
declare -gA _switchyard_options=(
${arrayEntries(table.options, "bash")}
)
declare -gA _switchyard_valued=(
${arrayEntries(table.valued, "bash")}
)
declare -gA _switchyard_next=(
${arrayEntries(table.next, "bash")}
)

_switchyard() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local typed="\${COMP_WORDS[*]:1:COMP_CWORD-1}"
  local command="" candidate
  # The longest command whose words were typed first.
  for candidate in "\${_switchyard_commands[@]}"; do
    if [[ " $typed " == " $candidate "* && \${#candidate} -gt \${#command} ]]; then command="$candidate"; fi
  done
  COMPREPLY=()
  if [[ -n "$command" ]]; then
    if [[ "$prev" == "--output" || "$prev" == "-o" ]]; then
      COMPREPLY=($(compgen -W "${outputFormats.join(" ")}" -- "$cur"))
      return
    fi
    # An option's value: files and folders (complete -o default).
    [[ " \${_switchyard_valued[$command]} " == *" $prev "* ]] && return
    if [[ "$cur" == -* ]]; then
      COMPREPLY=($(compgen -W "\${_switchyard_options[$command]}" -- "$cur"))
      return
    fi
  fi
  COMPREPLY=($(compgen -W "\${_switchyard_next[\${typed:-${topLevelKey}}]}" -- "$cur"))
}
complete -o default -F _switchyard switchyard
`;
}

function zshScript(commands: readonly Command[]): string {
  const table = tables(commands);
  return `#compdef switchyard
# zsh completion for switchyard. Load it, after compinit, with:
#   source <(switchyard completion zsh)
# or save it as _switchyard in a folder of $fpath
typeset -ga _switchyard_commands
_switchyard_commands=(${table.commands})
typeset -gA _switchyard_options _switchyard_valued _switchyard_next
_switchyard_options=(
${arrayEntries(table.options, "zsh")}
)
_switchyard_valued=(
${arrayEntries(table.valued, "zsh")}
)
_switchyard_next=(
${arrayEntries(table.next, "zsh")}
)

_switchyard() {
  local cur=$words[CURRENT] prev=$words[CURRENT-1]
  local typed=\${(j: :)words[2,CURRENT-1]}
  local command= candidate
  # The longest command whose words were typed first.
  for candidate in $_switchyard_commands; do
    if [[ " $typed " == " $candidate "* && \${#candidate} -gt \${#command} ]]; then command=$candidate; fi
  done
  if [[ -n $command ]]; then
    if [[ $prev == --output || $prev == -o ]]; then compadd -- ${outputFormats.join(" ")}; return; fi
    if [[ " \${_switchyard_valued[$command]} " == *" $prev "* ]]; then _files; return; fi
    if [[ $cur == -* ]]; then compadd -- \${=_switchyard_options[$command]}; return; fi
  fi
  local next=\${_switchyard_next[\${typed:-${topLevelKey}}]}
  if [[ -n $next ]]; then compadd -- \${=next}; else _files; fi
}

if (( $+functions[compdef] )); then
  compdef _switchyard switchyard
else
  print -u2 "switchyard completion: run 'autoload -Uz compinit && compinit' before loading it"
fi
`;
}

function isShell(text: string): text is CompletionShell {
  return (completionShells as readonly string[]).includes(text);
}

export function completionScript(shell: CompletionShell, commands: readonly Command[]): string {
  return shell === "bash" ? bashScript(commands) : zshScript(commands);
}

/** `switchyard completion`, completing `commands()` (the list it is itself part of, hence a function). */
export function completionCommand(commands: () => readonly Command[]): Command {
  return {
    words: ["completion"],
    summary: "print a shell completion script for bash or zsh",
    help: `Usage: switchyard completion bash|zsh

Prints a script that completes switchyard's commands, their options, and
--output's formats; an option's value completes as a file name.

Example:
  switchyard completion bash > ~/.local/share/bash-completion/completions/switchyard
  source <(switchyard completion bash)          # or this, in ~/.bashrc
  source <(switchyard completion zsh)           # in ~/.zshrc, after compinit`,
    run(argv, io) {
      const parsed = parse(argv, {}, 1);
      const shell = positional(parsed, 0, `shell (${completionShells.join(" or ")})`);
      if (!isShell(shell)) throw new UsageError(`no completion for ${JSON.stringify(shell)}: give ${completionShells.join(" or ")}`);
      io.stdout.write(completionScript(shell, commands()));
      return Promise.resolve(0);
    },
  };
}
