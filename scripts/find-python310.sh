#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter, or explains why there is none.
# Order: python3.10 on PATH, else the newest 3.10.* under $(pyenv root)/versions.
set -euo pipefail

is_310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

if candidate=$(command -v python3.10 2>/dev/null) && is_310 "$candidate"; then
  echo "$candidate"; exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for dir in $(ls -d "$root"/versions/3.10.* 2>/dev/null | sort -V -r); do
    if [ -x "$dir/bin/python" ] && is_310 "$dir/bin/python"; then
      echo "$dir/bin/python"; exit 0
    fi
  done
fi
echo "Python 3.10 bulunamadı / not found: Rasa 3.6 needs Python 3.8–3.10." >&2
echo "Install it (e.g. 'pyenv install 3.10') or put python3.10 on PATH, then run make again." >&2
exit 1
