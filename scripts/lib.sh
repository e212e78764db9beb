# Shared by scripts/run, scripts/test and scripts/cluster: install what is missing, as root on Debian.

# apt_install PKG...: installs the packages that are not installed yet.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# What the crate needs to build: OpenSSL, libpq for Diesel's PostgreSQL backend, and libxml2,
# libxmlsec1 and libclang for samael's xmlsec bindings (SAML signature checks).
BUILD_PACKAGES=(pkg-config libssl-dev libpq-dev libxml2-dev libxmlsec1-dev libclang-dev)

# python_venv VENV REQUIREMENTS EXECUTABLE CHECK...: a Python virtualenv at VENV with the pinned
# REQUIREMENTS installed, for a test peer. Prints the path of VENV/bin/EXECUTABLE as the last
# line of stdout (everything else goes to stderr). Idempotent and cheap when nothing changed: a
# stamp holds the requirements' sha256. Concurrent callers wait on a lock. After installing,
# CHECK (a command, run with the venv's bin first on PATH) must succeed, so an unusable install
# fails here rather than in the middle of a test.
python_venv() {
  local venv=$1 req=$2 exe=$3
  shift 3
  local stamp="$venv/.requirements.sha256" want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  _venv_ready() { [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/$exe" ]]; }
  if _venv_ready; then echo "$venv/bin/$exe"; return 0; fi
  mkdir -p "$(dirname "$venv")"
  (
    flock 9
    # Another caller may have finished while this one waited.
    if _venv_ready; then exit 0; fi
    rm -f "$stamp"
    if [[ ! -x "$venv/bin/python" ]]; then
      if ! "${PYTHON:-python3}" -m venv "$venv" >&2; then
        rm -rf "$venv"
        echo "python_venv: '${PYTHON:-python3} -m venv' failed; on Debian: apt-get install -y python3-venv" >&2
        exit 1
      fi
    fi
    # (errexit does not apply inside this `( … ) || return`: each step checks its own status.)
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req" >&2 || exit 1
    PATH="$venv/bin:$PATH" "$@" >&2 || { echo "python_venv: the check of $venv failed: $*" >&2; exit 1; }
    echo "$want" >"$stamp"
  ) 9>"$venv.lock" || return 1
  echo "$venv/bin/$exe"
}

# ensure_postgres: PostgreSQL answering on 127.0.0.1:5432, installed (trusting loopback) and
# started if it is not; exits when it does not come up.
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
    # A fresh cluster asks for passwords on TCP; the tests connect as postgres with trust.
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
      sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    done
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    sleep 1
  done
  echo "FAIL: PostgreSQL did not start on 127.0.0.1:5432"
  exit 1
}
