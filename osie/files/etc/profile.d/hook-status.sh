# HookOS: the status (hook-status.service) above the prompt of every console shell.
# Before each prompt the shell prints /run/hook/status when it changed since this shell last
# showed it, and records what hook-status needs to write it itself while the shell sits at an
# empty prompt (osie/status/consoles.ts): its terminal, its prompt, and how many read(2) calls
# it had made when it printed that prompt. Builtins only: no process is started per prompt.
case $- in *i*) ;; *) return 0 ;; esac
__hook_tty=$(tty 2>/dev/null) || return 0
case $__hook_tty in /dev/pts/* | '') return 0 ;; esac

# This shell's own read(2) count (its task's io file: the process's also adds the children it
# reaps): the whole file in one read(2) (where the value is taken), then one that finds its end.
__hook_io() {
  local io
  IFS= read -r -d '' io < "/proc/$$/task/$$/io"
  io=${io#*syscr: }
  __hook_syscr=${io%%$'\n'*}
}
# The reads one __hook_io makes from the one that took the value on (2 with bash 5.2):
# hook-status adds them to what the shell recorded.
__hook_io
__hook_before=$__hook_syscr
__hook_io
__hook_io_delta=$((__hook_syscr - __hook_before))
unset __hook_before
# Readline reads its inputrc files before its first prompt; have it do that now, so that after
# every prompt, the first one included, the next read(2) is a key typed.
bind -v > /dev/null 2>&1
# So the first prompt registers, even when hook-status has not started yet (one process, at login).
[[ -d /run/hook/console ]] || mkdir -p /run/hook/console 2>/dev/null

__hook_status_prompt() {
  [[ -d /run/hook/console ]] || return 0
  local me=/run/hook/console/$$ gen='' seen='' line
  [[ -e $me ]] || printf '%s\n%s\n' "$__hook_tty" "$__hook_io_delta" > "$me"
  [[ -r /run/hook/status.gen ]] && read -r gen < /run/hook/status.gen
  [[ -r $me.seen ]] && read -r seen < "$me.seen"
  if [[ -n $gen && $gen != "$seen" && -r /run/hook/status ]]; then
    while IFS= read -r line; do printf '%s\n' "$line"; done < /run/hook/status
    printf '%s\n' "$gen" > "$me.seen"
  fi
  # The last read before the prompt: nothing may be read after it.
  __hook_io
  printf '%s\n%s' "$__hook_syscr" "${PS1@P}" > "$me.prompt"
}
PROMPT_COMMAND=__hook_status_prompt
