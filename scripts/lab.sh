#!/usr/bin/env bash
# `make lab`: JupyterLab on the whole repository, so that both the notebooks (nbs/) and the
# executed runs with their plots (runs/) are in its file browser. Works as root (adds
# --allow-root only then) and as any other user, and prints the URL to open.
#   PORT=8888 (the first free one from there), IP=127.0.0.1 (IP=0.0.0.0 to reach it from
#   another machine); extra arguments go to jupyter lab.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ip=${IP:-127.0.0.1}
port=${PORT:-8888}
port=$(.venv/bin/python - "$ip" "$port" <<'EOF'
import socket, sys
ip, port = sys.argv[1], int(sys.argv[2])
for p in range(port, port + 50):
    with socket.socket() as s:
        try: s.bind((ip, p)); print(p); break
        except OSError: continue
else: sys.exit(f"lab: no free port from {port} to {port + 49} on {ip}")
EOF
)
token=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(24))')
args=(--no-browser --ip="$ip" --port="$port" --ServerApp.port_retries=0 --ServerApp.root_dir="$root"
      --IdentityProvider.token="$token" --ServerApp.default_url=/lab/tree/nbs)
[ "$(id -u)" = 0 ] && args+=(--allow-root)
host=$ip; [ "$ip" = 0.0.0.0 ] && host=$(hostname)
echo "lab: serving $root (nbs/ and runs/) at"
echo "lab:   http://$host:$port/lab/tree/nbs?token=$token"
echo "lab: Ctrl-C stops it"
exec .venv/bin/jupyter lab "${args[@]}" "$@"
