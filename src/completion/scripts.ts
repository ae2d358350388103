// The scripts `mirrorctl completion bash|zsh|fish` prints. Each hands the words typed
// so far to `mirrorctl __complete` and offers what it prints: candidates one a line, or
// @files / @dirs for the shell's own file-name completion. Nothing typed is eval'ed.
import { DIRS, FILES } from './complete.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const bash = `# mirrorctl completion for bash.
# Load it now:    source <(mirrorctl completion bash)
# For good:       mirrorctl completion bash > ~/.local/share/bash-completion/completions/mirrorctl
_mirrorctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} out IFS=$'\\n'
  out=$(mirrorctl __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  case $out in
    ${FILES}) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    ${DIRS}) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "$out" -- "$cur")) ;;
  esac
}
complete -F _mirrorctl mirrorctl
`;

const zsh = `#compdef mirrorctl
# mirrorctl completion for zsh.
# Load it now:    source <(mirrorctl completion zsh)
# For good:       mirrorctl completion zsh > "\${fpath[1]}/_mirrorctl"   (then: compinit)
_mirrorctl() {
  local out
  local -a candidates
  out=$(mirrorctl __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  case $out in
    ${FILES}) _files ;;
    ${DIRS}) _files -/ ;;
    *) candidates=("\${(@f)out}"); compadd -a candidates ;;
  esac
}
if [[ "\${funcstack[1]}" = _mirrorctl ]]; then
  _mirrorctl "$@"
else
  compdef _mirrorctl mirrorctl
fi
`;

const fish = `# mirrorctl completion for fish.
# Load it now:    mirrorctl completion fish | source
# For good:       mirrorctl completion fish > ~/.config/fish/completions/mirrorctl.fish
function __mirrorctl_complete
    set -l before (commandline -opc)
    set -l current (commandline -ct)
    set -l out (mirrorctl __complete -- $before[2..-1] "$current" 2>/dev/null)
    switch "$out[1]"
        case ${FILES}
            __fish_complete_path "$current"
        case ${DIRS}
            __fish_complete_directories "$current"
        case '*'
            printf '%s\\n' $out
    end
end
complete -c mirrorctl -f -a '(__mirrorctl_complete)'
`;

export function completionScript(shell: Shell): string {
  return { bash, zsh, fish }[shell];
}
