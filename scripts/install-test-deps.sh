#!/usr/bin/env bash
# Installs the Debian packages that provide the programs tests run, but only
# those whose program is missing. Arguments are program:package pairs; a
# program py.MODULE stands for a module of Debian's /usr/bin/python3.
set -euo pipefail

missing=()
for pair in "$@"; do
  prog=${pair%%:*}
  pkg=${pair#*:}
  case $prog in
    py.*) /usr/bin/python3 -c "import ${prog#py.}" >/dev/null 2>&1 && continue ;;
  esac
  if ! command -v "$prog" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$prog" ]; then
    case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing test dependencies: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Tests start these programs themselves on free ports; keep Debian from
# starting them as system services (mosquitto would take port 1883).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
