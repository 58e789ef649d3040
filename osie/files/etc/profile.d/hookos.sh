export PS1="hookos:\w# "
[ -n "$HOOK_MOTD_SHOWN" ] || { export HOOK_MOTD_SHOWN=1; cat /etc/motd 2>/dev/null; }
